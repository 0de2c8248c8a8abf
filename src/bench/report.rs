//! The bench report: per-case figures, the ratio to the in-domain-glue
//! baseline, and its rendering as a terminal table or JSON.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

/// Median, 95th percentile and minimum of a set of samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Timing {
    /// Median: the sample at nearest rank ⌈n/2⌉ of the sorted samples
    /// (the lower of the two middle ones for an even count; no
    /// interpolation).
    #[serde(rename = "median_us", serialize_with = "micros")]
    pub median: Duration,
    /// 95th percentile (nearest rank ⌈0.95·n⌉).
    #[serde(rename = "p95_us", serialize_with = "micros")]
    pub p95: Duration,
    /// Fastest.
    #[serde(rename = "min_us", serialize_with = "micros")]
    pub min: Duration,
}

impl Timing {
    /// Summarises `samples` (sorted in place).
    pub fn from_samples(samples: &mut [Duration]) -> Self {
        samples.sort();
        let at = |q: f64| {
            let rank = ((samples.len() as f64) * q).ceil() as usize;
            samples
                .get(rank.saturating_sub(1))
                .copied()
                .unwrap_or_default()
        };
        Self {
            median: at(0.5),
            p95: at(0.95),
            min: samples.first().copied().unwrap_or_default(),
        }
    }
}

/// The figures of one case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseReport {
    /// The case's label.
    pub label: String,
    /// The name resolved.
    pub qname: String,
    /// Whether it resolved.
    pub answered: bool,
    /// Upstream queries of one cold resolution.
    pub upstream_queries: u32,
    /// Side resolutions of one cold resolution.
    pub side_resolutions: u32,
    /// Exchanges on the critical path.
    pub critical_path_rtts: u32,
    /// Cold wall time.
    pub cold: Timing,
    /// Slowest warm (cached) resolution.
    #[serde(rename = "warm_max_us", serialize_with = "micros")]
    pub warm_max: Duration,
    /// Lower bound: the lab latencies along the critical path.
    #[serde(rename = "bound_us", serialize_with = "micros")]
    pub bound: Duration,
    /// Cold median divided by the in-domain-glue case's.
    pub ratio: f64,
    /// Every cold wall time, in run order.
    #[serde(rename = "cold_samples_us", serialize_with = "micros_all")]
    pub samples: Vec<Duration>,
}

/// All cases.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// One entry per case, baseline first.
    pub cases: Vec<CaseReport>,
}

/// A duration in whole microseconds, saturating.
fn whole_micros(d: &Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Serialises a duration as whole microseconds (keys end in `_us`, as in
/// the trace's JSON).
pub(super) fn micros<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(whole_micros(d))
}

/// Serialises durations as a list of whole microseconds.
pub(super) fn micros_all<S: serde::Serializer>(d: &[Duration], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(d.iter().map(whole_micros))
}

/// Serialises an optional bound kept in milliseconds as whole
/// microseconds.
pub(super) fn ms_as_micros<S: serde::Serializer>(
    ms: &Option<f64>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match ms {
        Some(ms) => s.serialize_some(&whole_micros(&Duration::from_secs_f64(
            ms.max(0.0) / 1000.0,
        ))),
        None => s.serialize_none(),
    }
}

/// Milliseconds with one decimal, for tables.
pub(super) fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

impl Report {
    /// Builds the report, computing ratios against the first case.
    pub fn new(mut cases: Vec<CaseReport>) -> Self {
        let base = cases.first().map(|c| c.cold.median).unwrap_or_default();
        for case in &mut cases {
            case.ratio = if base.is_zero() {
                0.0
            } else {
                case.cold.median.as_secs_f64() / base.as_secs_f64()
            };
        }
        Self { cases }
    }

    /// The terminal table.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<26} {:>7} {:>5} {:>8} {:>9} {:>8} {:>8} {:>9} {:>9} {:>6} {:>8}",
            "case",
            "queries",
            "side",
            "rtts",
            "median",
            "p95",
            "min",
            "bound",
            "overhead",
            "ratio",
            "warm"
        );
        for c in &self.cases {
            let overhead = c.cold.median.saturating_sub(c.bound);
            let _ = writeln!(
                out,
                "{:<26} {:>7} {:>5} {:>8} {:>9} {:>8} {:>8} {:>9} {:>9} {:>5.2}x {:>8}{}",
                c.label,
                c.upstream_queries,
                c.side_resolutions,
                c.critical_path_rtts,
                ms(c.cold.median),
                ms(c.cold.p95),
                ms(c.cold.min),
                ms(c.bound),
                ms(overhead),
                c.ratio,
                ms(c.warm_max),
                if c.answered { "" } else { "  (failed)" }
            );
        }
        out.push_str(
            "times in ms; rtts = exchanges on the critical path; bound = lab latency along it;\n",
        );
        out.push_str("overhead = median - bound; ratio = median / in-domain-glue median; warm = slowest cached run\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let mut samples: Vec<Duration> = (1..=20).rev().map(Duration::from_millis).collect();
        let t = Timing::from_samples(&mut samples);
        assert_eq!(
            (t.median, t.p95, t.min),
            (
                Duration::from_millis(10),
                Duration::from_millis(19),
                Duration::from_millis(1)
            )
        );
        assert_eq!(Timing::from_samples(&mut []), Timing::default());
    }
}
