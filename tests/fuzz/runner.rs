//! The fuzz loop: seeds first, then mutated inputs, each run under
//! `catch_unwind`; a panic or a broken invariant saves the input under
//! `target/fuzz-crashes/` and is reported with the seed and input number.
//!
//! Stable Rust has no coverage instrumentation, so the only feedback is a
//! cheap one: each target returns a signature of what it did (verdict,
//! rcode, response kind, drop reasons), and an input that produced a
//! signature not seen before joins the live corpus, so mutations build on
//! inputs that reached new behaviour.

use std::cell::RefCell;
use std::collections::HashSet;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::mutate;

/// What a target reports for an input that kept every invariant.
pub type Signature = u64;

/// A target: the invariants for one input, `Err` naming the broken one.
pub type Target = fn(&[u8]) -> Result<Signature, String>;

/// The live corpus never grows past this many entries.
const LIVE_CORPUS_MAX: usize = 4096;

/// A run stops collecting after this many failures (they are usually one
/// bug found many times).
const FAILURES_MAX: usize = 10;

/// One failing input.
#[derive(Debug)]
pub struct Failure {
    /// Its number in the run (seeds first).
    pub index: u64,
    /// Where it was saved.
    pub path: PathBuf,
    /// The panic message and location, or the broken invariant.
    pub message: String,
}

/// What a run did.
#[derive(Debug)]
pub struct Report {
    /// The target's name.
    pub target: &'static str,
    /// The run's seed.
    pub seed: u64,
    /// Inputs run, seeds included.
    pub inputs: u64,
    /// Distinct signatures seen.
    pub signatures: usize,
    /// Wall time.
    pub elapsed: Duration,
    /// Failures, at most [`FAILURES_MAX`].
    pub failures: Vec<Failure>,
}

impl Report {
    /// One line for the log: inputs, rate, signatures, failures.
    pub fn summary(&self) -> String {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        format!(
            "fuzz {}: {} inputs in {:.1} s ({:.0}/s), seed {}, {} signatures, {} failures",
            self.target,
            self.inputs,
            secs,
            self.inputs as f64 / secs,
            self.seed,
            self.signatures,
            self.failures.len()
        )
    }
}

thread_local! {
    /// Set while a fuzz input runs: the panic hook records here instead of
    /// printing, so a run that finds a crash prints it once, with its path.
    static CAPTURE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs (once) a panic hook that records the message and location of
/// a panic inside [`run_one`] and leaves every other panic to the
/// default hook.
fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let captured = CAPTURE.with(|capture| {
                let mut capture = capture.borrow_mut();
                match capture.as_mut() {
                    Some(slot) => {
                        let location = info
                            .location()
                            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
                            .unwrap_or_default();
                        *slot = format!("panicked at {location}: {}", payload_text(info.payload()));
                        true
                    }
                    None => false,
                }
            });
            if !captured {
                default(info);
            }
        }));
    });
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "(non-string panic payload)".to_owned()
    }
}

/// Runs `target` on `input`, turning a panic into an `Err` with its
/// message and location.
pub fn run_one(target: Target, input: &[u8]) -> Result<Signature, String> {
    install_hook();
    CAPTURE.with(|capture| *capture.borrow_mut() = Some(String::new()));
    let result = panic::catch_unwind(AssertUnwindSafe(|| target(input)));
    let message = CAPTURE.with(|capture| capture.borrow_mut().take());
    match result {
        Ok(outcome) => outcome,
        Err(_) => Err(message.unwrap_or_else(|| "panicked".to_owned())),
    }
}

/// Where failing inputs are saved: `target/fuzz-crashes/`.
pub fn crash_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).join("fuzz-crashes")
}

/// Runs the seeds of `corpus` unmutated, then mutated inputs until
/// `inputs` have run in all; every input is derived from `seed` and its
/// number, so a run replays exactly.
pub fn run(
    name: &'static str,
    target: Target,
    corpus: &[Vec<u8>],
    seed: u64,
    inputs: u64,
    crashes: &Path,
) -> Report {
    let started = Instant::now();
    let mut live: Vec<Vec<u8>> = corpus.to_vec();
    let mut seen: HashSet<Signature> = HashSet::new();
    let mut failures = Vec::new();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut ran = 0;
    for index in 0..inputs {
        ran += 1;
        let input = match corpus.get(index as usize) {
            Some(entry) => entry.clone(),
            None => mutate::havoc(&live, &mut rng),
        };
        match run_one(target, &input) {
            Ok(signature) => {
                if seen.insert(signature) && live.len() < LIVE_CORPUS_MAX {
                    live.push(input);
                }
            }
            Err(message) => {
                let path = save(crashes, name, seed, index, &input);
                if !name.starts_with("selftest") {
                    eprintln!(
                        "fuzz {name}: FAILURE at input {index} (seed {seed}), saved to {}: {message}\n\
                     replay: ROOTWALK_FUZZ_REPLAY={} cargo test --test fuzz replay -- --nocapture",
                        path.display(),
                        path.display()
                    );
                }
                failures.push(Failure {
                    index,
                    path,
                    message,
                });
                if failures.len() >= FAILURES_MAX {
                    break;
                }
            }
        }
    }
    Report {
        target: name,
        seed,
        inputs: ran,
        signatures: seen.len(),
        elapsed: started.elapsed(),
        failures,
    }
}

/// Saves a failing input as `<target>-seed<seed>-input<index>.bin`.
fn save(dir: &Path, name: &str, seed: u64, index: u64, input: &[u8]) -> PathBuf {
    let path = dir.join(format!("{name}-seed{seed}-input{index}.bin"));
    let written = std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, input));
    if let Err(error) = written {
        eprintln!("fuzz {name}: could not save {}: {error}", path.display());
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panics_on_0x42(input: &[u8]) -> Result<Signature, String> {
        if input.contains(&0x42) {
            let empty: &[u8] = &[];
            // An index out of bounds, like a parser bug would be.
            return Ok(u64::from(empty[input.len()]));
        }
        Ok(input.len() as u64)
    }

    fn rejects_long(input: &[u8]) -> Result<Signature, String> {
        if input.len() > 20 {
            return Err(format!("{} bytes is too long", input.len()));
        }
        Ok(0)
    }

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fuzz-selftest-{tag}"));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_panic_is_caught_saved_and_located() {
        let dir = temp_dir("panic");
        let corpus = vec![vec![1, 2, 3], vec![0x42, 0, 0]];
        let report = run("selftest", panics_on_0x42, &corpus, 5, 50, &dir);
        let first = report.failures.first().expect("the 0x42 seed fails");
        assert_eq!(first.index, 1);
        assert!(
            first.message.contains("index out of bounds"),
            "{}",
            first.message
        );
        assert!(first.message.contains("runner.rs"), "{}", first.message);
        assert_eq!(std::fs::read(&first.path).ok(), Some(vec![0x42, 0, 0]));
        assert_eq!(
            run_one(panics_on_0x42, &[1]),
            Ok(1),
            "not every input panics"
        );
    }

    #[test]
    fn a_broken_invariant_is_a_failure_too() {
        let dir = temp_dir("invariant");
        let report = run("selftest", rejects_long, &[vec![0; 30]], 5, 10, &dir);
        assert!(!report.failures.is_empty());
        assert!(report.failures[0].message.contains("30 bytes"));
        let clean = run("selftest", rejects_long, &[vec![0; 3]], 5, 1, &dir);
        assert!(clean.failures.is_empty());
        assert_eq!(clean.inputs, 1);
    }
}
