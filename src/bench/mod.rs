//! `rootwalk bench`: what glueless delegations cost compared with glued
//! ones, measured on the lab with its simulated per-server latency, or on
//! the names of a file.
//!
//! Each lab case is a name at the same depth (root → TLD → zone) behind
//! servers of the same latency, differing only in how its delegation is
//! glued. Each is resolved cold `runs` times, with a fresh cache every
//! time, then once warm. Next to the measured time stands the lower bound:
//! the sum of the configured latencies of the exchanges on the critical
//! path (the chain of exchanges each of which could only start after the
//! previous reply).
//!
//! - [`critical`](critical_path): the critical path from exchange times.
//! - [`class`](GlueClass): each zone cut's glue class, from the referrals.
//! - [`names`](read_names): the `--names` file; [`survey`](run_names): its
//!   names measured and aggregated per glue class.
//! - [`report`](Report): the lab table and JSON; `csv`: both reports as
//!   CSV; [`plot`](plot_svg): the SVG strip plot; [`progress`](Bar): the
//!   bar on stderr.

mod class;
mod critical;
mod csv;
mod error;
mod names;
mod plot;
mod progress;
mod report;
mod survey;

use std::str::FromStr;
use std::time::Duration;

use hickory_proto::rr::{Name, RecordType};
use tokio::time::Instant;

pub use class::{Both, CutRecorder, GlueClass, ZoneCut, worst};
pub use critical::{Exchange, ExchangeRecorder, critical_path};
pub use error::BenchError;
pub use names::{NameEntry, parse as parse_names, read as read_names};
pub use plot::{Strip, svg as plot_svg, write as write_plot};
pub use progress::{Bar, NoProgress, Progress};
pub use report::{CaseReport, Report, Timing};
pub use survey::{ClassReport, NameReport, NamesReport, run_names};

use crate::config::Limits;
use crate::lab::Lab;
use crate::resolve::{Resolver, ResolverConfig};
use crate::trace::NullObserver;

/// One measured case.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// Short label.
    pub label: &'static str,
    /// The name resolved (type A).
    pub qname: &'static str,
    /// Names resolved first, untimed, into the fresh cache.
    pub warmup: &'static [&'static str],
}

/// The lab cases, in-domain glue first (the baseline of every ratio).
pub const LAB_CASES: &[Case] = &[
    Case {
        label: "in-domain glue",
        qname: "www.a.tld1.",
        warmup: &[],
    },
    Case {
        label: "sibling glue",
        qname: "www.b.tld1.",
        warmup: &[],
    },
    Case {
        label: "glueless",
        qname: "www.c.tld2.",
        warmup: &[],
    },
    // Resolving www.hosting.tld3 first caches the root (primed), tld3,
    // hosting.tld3 and ns.hosting.tld3's address: what a busy resolver has.
    Case {
        label: "glueless, NS cached",
        qname: "www.c.tld2.",
        warmup: &["www.hosting.tld3."],
    },
    Case {
        label: "chained glueless (2)",
        qname: "www.d.tld1.",
        warmup: &[],
    },
    Case {
        label: "chained glueless (3)",
        qname: "www.e.tld3.",
        warmup: &[],
    },
];

/// Cold runs per case unless `--runs` says otherwise.
pub const DEFAULT_RUNS: usize = 20;

/// Measures every case of `cases` on `lab`.
pub async fn run_lab(lab: &Lab, cases: &[Case], runs: usize) -> Report {
    run_lab_with(lab, cases, runs, &NoProgress).await
}

/// [`run_lab`], telling `progress` about each case and run.
pub async fn run_lab_with(
    lab: &Lab,
    cases: &[Case],
    runs: usize,
    progress: &dyn Progress,
) -> Report {
    let config = lab_config(lab);
    let mut reports = Vec::new();
    for case in cases {
        progress.case(case.label);
        let qname = Name::from_str(case.qname).unwrap_or_else(|_| Name::root());
        let question = Question {
            name: &qname,
            rtype: RecordType::A,
            warmup: case.warmup,
        };
        let measured = cold_runs(&config, &question, runs.max(1), progress).await;
        let path = critical_path(&measured.exchanges);
        reports.push(CaseReport {
            label: case.label.to_string(),
            qname: case.qname.to_string(),
            answered: measured.answered,
            upstream_queries: measured.queries,
            side_resolutions: measured.side_resolutions,
            critical_path_rtts: path.len() as u32,
            cold: Timing::from_samples(&mut measured.samples.clone()),
            warm_max: measured.warm_max,
            bound: lab_bound(lab, &path),
            ratio: 1.0,
            samples: measured.samples,
        });
    }
    Report::new(reports)
}

/// One question measured cold, with names resolved first into each fresh
/// cache.
pub struct Question<'a> {
    /// The name.
    pub name: &'a Name,
    /// The type.
    pub rtype: RecordType,
    /// Names (type A) resolved untimed into each fresh cache first.
    pub warmup: &'a [&'a str],
}

/// What the cold runs of one question gave.
#[derive(Debug, Clone, Default)]
pub struct Measured {
    /// Cold wall times, in run order.
    pub samples: Vec<Duration>,
    /// Slowest warm (cached) repeat.
    pub warm_max: Duration,
    /// Whether the last cold run resolved.
    pub answered: bool,
    /// Why the last cold run failed, if it did.
    pub error: Option<String>,
    /// Upstream queries of the last cold run.
    pub queries: u32,
    /// Side resolutions of the last cold run.
    pub side_resolutions: u32,
    /// The exchanges of the last cold run.
    pub exchanges: Vec<Exchange>,
    /// The zone cuts the last cold run's client resolution was referred to.
    pub cuts: Vec<ZoneCut>,
}

/// Resolves `question` `runs` times, each with a fresh resolver on
/// `config`, then once more warm; tells `progress` after each run.
pub async fn cold_runs(
    config: &ResolverConfig,
    question: &Question<'_>,
    runs: usize,
    progress: &dyn Progress,
) -> Measured {
    let mut measured = Measured::default();
    for _ in 0..runs {
        let resolver = Resolver::new(config.clone());
        for name in question.warmup {
            if let Ok(name) = Name::from_str(name) {
                let _ = resolver.resolve(&name, RecordType::A, &NullObserver).await;
            }
        }
        let exchanges = ExchangeRecorder::default();
        let cuts = CutRecorder::default();
        let started = Instant::now();
        let result = resolver
            .resolve(question.name, question.rtype, &Both(&exchanges, &cuts))
            .await;
        measured.samples.push(started.elapsed());
        let started = Instant::now();
        let _ = resolver
            .resolve(question.name, question.rtype, &NullObserver)
            .await;
        measured.warm_max = measured.warm_max.max(started.elapsed());
        let stats = match result {
            Ok(outcome) => {
                measured.error = None;
                outcome.stats
            }
            Err(failure) => {
                measured.error = Some(failure.error.to_string());
                failure.stats
            }
        };
        measured.answered = measured.error.is_none();
        measured.queries = stats.upstream_queries;
        measured.side_resolutions = stats.side_resolutions;
        measured.exchanges = exchanges.exchanges();
        measured.cuts = cuts.cuts();
        progress.run_done();
    }
    measured
}

/// The lab's configured latencies summed along `path`: no resolver can be
/// faster.
pub fn lab_bound(lab: &Lab, path: &[Exchange]) -> Duration {
    path.iter()
        .map(|e| lab.latency_of(e.server.ip()).unwrap_or_default())
        .sum()
}

/// A resolver configuration that asks `lab`.
pub fn lab_config(lab: &Lab) -> ResolverConfig {
    let mut limits = Limits::default();
    limits.infra.min_rto = crate::lab::RESOLVER_RTO_FLOOR;
    ResolverConfig::new(lab.hints(), lab.port(), limits)
}

/// How a report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The terminal table.
    Table,
    /// One JSON document.
    Json,
    /// CSV, one row per case or name.
    Csv,
    /// CSV, one row per cold run.
    CsvRuns,
}

impl Report {
    /// The report in `format`.
    pub fn render(&self, format: Format) -> Result<String, serde_json::Error> {
        Ok(match format {
            Format::Table => self.table(),
            Format::Json => serde_json::to_string_pretty(self)? + "\n",
            Format::Csv => self.csv(),
            Format::CsvRuns => self.csv_runs(),
        })
    }

    /// One plot strip per case.
    pub fn strips(&self) -> Vec<Strip> {
        self.cases.iter().map(Strip::from).collect()
    }
}

impl NamesReport {
    /// The report in `format`.
    pub fn render(&self, format: Format) -> Result<String, serde_json::Error> {
        Ok(match format {
            Format::Table => self.table(),
            Format::Json => serde_json::to_string_pretty(self)? + "\n",
            Format::Csv => self.csv(),
            Format::CsvRuns => self.csv_runs(),
        })
    }

    /// One plot strip per name.
    pub fn strips(&self) -> Vec<Strip> {
        self.names.iter().map(Strip::from).collect()
    }
}
