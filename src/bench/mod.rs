//! `rootwalk bench`: what glueless delegations cost compared with glued
//! ones, measured on the lab with its simulated per-server latency.
//!
//! Each case is a name at the same depth (root → TLD → zone) behind servers
//! of the same latency, differing only in how its delegation is glued. Each
//! is resolved cold `runs` times, with a fresh cache every time, then once
//! warm. Next to the measured time stands the lower bound: the sum of the
//! configured latencies of the exchanges on the critical path (the chain of
//! exchanges each of which could only start after the previous reply).

mod critical;
mod report;

use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use hickory_proto::rr::{Name, RecordType};
use tokio::time::Instant;

pub use critical::{Exchange, ExchangeRecorder, critical_path};
pub use report::{CaseReport, Report, Timing};

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
    let mut reports = Vec::new();
    for case in cases {
        reports.push(measure(lab, case, runs.max(1)).await);
    }
    Report::new(reports)
}

async fn measure(lab: &Lab, case: &Case, runs: usize) -> CaseReport {
    let qname = Name::from_str(case.qname).unwrap_or_else(|_| Name::root());
    let mut cold = Vec::with_capacity(runs);
    let mut last = None;
    let mut warm = Duration::ZERO;
    for _ in 0..runs {
        let resolver = fresh_resolver(lab);
        for name in case.warmup {
            if let Ok(name) = Name::from_str(name) {
                let _ = resolver.resolve(&name, RecordType::A, &NullObserver).await;
            }
        }
        let recorder = ExchangeRecorder::default();
        let started = Instant::now();
        let result = resolver.resolve(&qname, RecordType::A, &recorder).await;
        cold.push(started.elapsed());
        let started = Instant::now();
        let _ = resolver.resolve(&qname, RecordType::A, &NullObserver).await;
        warm = warm.max(started.elapsed());
        last = Some((result, recorder.exchanges()));
    }
    let (queries, side_resolutions, ok, exchanges) = match last {
        Some((Ok(o), ex)) => (o.stats.upstream_queries, o.stats.side_resolutions, true, ex),
        Some((Err(f), ex)) => (
            f.stats.upstream_queries,
            f.stats.side_resolutions,
            false,
            ex,
        ),
        None => (0, 0, false, Vec::new()),
    };
    let path = critical_path(&exchanges);
    let bound = path
        .iter()
        .map(|e| latency(lab, e.server.ip()))
        .sum::<Duration>();
    CaseReport {
        label: case.label.to_string(),
        qname: case.qname.to_string(),
        answered: ok,
        upstream_queries: queries,
        side_resolutions,
        critical_path_rtts: path.len() as u32,
        cold: Timing::from_samples(&mut cold),
        warm_max: warm,
        bound,
        ratio: 1.0,
    }
}

fn latency(lab: &Lab, addr: IpAddr) -> Duration {
    lab.latency_of(addr).unwrap_or_default()
}

fn fresh_resolver(lab: &Lab) -> Resolver {
    Resolver::new(ResolverConfig {
        hints: lab.hints(),
        upstream_port: lab.port(),
        limits: Limits::default(),
    })
}
