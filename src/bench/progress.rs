//! Progress of a bench run: the [`Progress`] the runner reports to, and
//! [`Bar`], an indicatif bar on stderr for runs that take a while.
//!
//! The bar stays hidden for its first [`SHOW_AFTER`], so short runs print
//! nothing, and indicatif's stderr draw target hides it for good when
//! stderr is not a terminal (piped or redirected output stays clean).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long a run goes before its bar appears: below a few seconds a bar
/// only flickers.
pub const SHOW_AFTER: Duration = Duration::from_secs(2);

/// What the runner tells about its progress; both methods default to
/// nothing.
pub trait Progress: Sync {
    /// A new case or name starts.
    fn case(&self, _label: &str) {}
    /// One cold run finished.
    fn run_done(&self) {}
}

/// Reports nowhere.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// A progress bar on stderr, counting cold runs.
#[derive(Debug)]
pub struct Bar {
    bar: ProgressBar,
    started: Instant,
    allowed: bool,
    shown: AtomicBool,
}

impl Bar {
    /// A bar for `total` runs; `allowed: false` keeps it hidden throughout
    /// (e.g. when machine-readable output goes to a pipe).
    pub fn new(total: u64, allowed: bool) -> Self {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
        if let Ok(style) =
            ProgressStyle::with_template("{bar:30} {pos}/{len} runs, {elapsed} {msg}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        Self {
            bar,
            started: Instant::now(),
            allowed,
            shown: AtomicBool::new(false),
        }
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    fn show_when_due(&self) {
        if self.allowed
            && self.started.elapsed() >= SHOW_AFTER
            && !self.shown.swap(true, Ordering::Relaxed)
        {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }
}

impl Progress for Bar {
    fn case(&self, label: &str) {
        self.bar.set_message(label.to_string());
        self.show_when_due();
    }

    fn run_done(&self) {
        self.bar.inc(1);
        self.show_when_due();
    }
}
