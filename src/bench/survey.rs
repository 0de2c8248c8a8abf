//! `rootwalk bench --names FILE`: real names measured like the lab cases,
//! each classed by how its delegations were glued (its worst zone cut), and
//! the figures aggregated per class.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use super::class::{GlueClass, ZoneCut, worst};
use super::critical::critical_path;
use super::names::NameEntry;
use super::progress::Progress;
use super::report::{micros_all, ms, ms_as_micros};
use super::{Question, Timing, cold_runs, lab_bound};
use crate::lab::Lab;
use crate::resolve::ResolverConfig;

/// The figures of one name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NameReport {
    /// The name asked.
    pub name: String,
    /// The type asked.
    pub qtype: String,
    /// The worst glue class on its path; `None` when the walk saw no
    /// referral (it failed before the first one).
    pub class: Option<GlueClass>,
    /// Each zone cut the walk was referred to, with its class.
    pub cuts: Vec<ZoneCut>,
    /// Whether the last cold run resolved.
    pub answered: bool,
    /// Why it failed, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Upstream queries of one cold resolution.
    pub upstream_queries: u32,
    /// Side resolutions of one cold resolution.
    pub side_resolutions: u32,
    /// Cold wall time.
    pub cold: Timing,
    /// Lower bound from the lab's latencies (lab only).
    #[serde(
        rename = "bound_us",
        skip_serializing_if = "Option::is_none",
        serialize_with = "ms_as_micros"
    )]
    pub bound_ms: Option<f64>,
    /// Every cold wall time, in run order.
    #[serde(rename = "cold_samples_us", serialize_with = "micros_all")]
    pub samples: Vec<Duration>,
}

/// The names of one class taken together.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassReport {
    /// The class.
    pub class: GlueClass,
    /// Names in it.
    pub names: usize,
    /// Of those, names whose last cold run failed.
    pub failed: usize,
    /// Mean upstream queries per cold resolution of the names that
    /// resolved (as are the means and times below).
    pub mean_queries: f64,
    /// Mean side resolutions per cold resolution.
    pub mean_side_resolutions: f64,
    /// Over every cold sample of every name in the class.
    pub cold: Timing,
    /// Cold median against the in-domain class's (absent without one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio: Option<f64>,
}

/// Per name and per class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NamesReport {
    /// One entry per name, in file order.
    pub names: Vec<NameReport>,
    /// One entry per class that has names, best class first.
    pub classes: Vec<ClassReport>,
}

/// Measures each name of `entries` cold `runs` times on `config`; `lab`,
/// when the names are the lab's, gives the latency lower bound.
pub async fn run_names(
    config: &ResolverConfig,
    lab: Option<&Lab>,
    entries: &[NameEntry],
    runs: usize,
    progress: &dyn Progress,
) -> NamesReport {
    let mut names = Vec::new();
    for entry in entries {
        let label = entry.name.to_string();
        progress.case(&label);
        let question = Question {
            name: &entry.name,
            rtype: entry.rtype,
            warmup: &[],
        };
        let measured = cold_runs(config, &question, runs.max(1), progress).await;
        let bound = lab.map(|lab| lab_bound(lab, &critical_path(&measured.exchanges)));
        names.push(NameReport {
            name: label,
            qtype: entry.rtype.to_string(),
            class: worst(&measured.cuts),
            cuts: measured.cuts,
            answered: measured.answered,
            error: measured.error,
            upstream_queries: measured.queries,
            side_resolutions: measured.side_resolutions,
            cold: Timing::from_samples(&mut measured.samples.clone()),
            bound_ms: bound.map(|b| b.as_secs_f64() * 1000.0),
            samples: measured.samples,
        });
    }
    NamesReport::new(names)
}

impl NamesReport {
    /// Builds the per-class aggregates of `names`.
    pub fn new(names: Vec<NameReport>) -> Self {
        let mut classes: Vec<ClassReport> = GlueClass::ALL
            .iter()
            .filter_map(|&class| aggregate(class, &names))
            .collect();
        let base = classes
            .iter()
            .find(|c| c.class == GlueClass::InDomain)
            .map(|c| c.cold.median)
            .filter(|m| !m.is_zero());
        for class in &mut classes {
            class.ratio = base.map(|b| class.cold.median.as_secs_f64() / b.as_secs_f64());
        }
        Self { names, classes }
    }

    /// The terminal tables: one row per name, then one per class.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<30} {:<6} {:<10} {:>7} {:>5} {:>9} {:>8} {:>8} {:>8}",
            "name", "type", "class", "queries", "side", "median", "p95", "min", "bound"
        );
        for n in &self.names {
            let class = n.class.map_or("-", GlueClass::as_str);
            let bound = n.bound_ms.map_or("-".to_string(), |b| format!("{b:.1}"));
            let _ = writeln!(
                out,
                "{:<30} {:<6} {:<10} {:>7} {:>5} {:>9} {:>8} {:>8} {:>8}{}",
                n.name,
                n.qtype,
                class,
                n.upstream_queries,
                n.side_resolutions,
                ms(n.cold.median),
                ms(n.cold.p95),
                ms(n.cold.min),
                bound,
                n.error
                    .as_ref()
                    .map_or(String::new(), |e| format!("  (failed: {e})"))
            );
        }
        out.push('\n');
        let _ = writeln!(
            out,
            "{:<10} {:>5} {:>6} {:>7} {:>5} {:>9} {:>8} {:>6}",
            "class", "names", "failed", "queries", "side", "median", "p95", "ratio"
        );
        for c in &self.classes {
            let ratio = c.ratio.map_or("-".to_string(), |r| format!("{r:.2}x"));
            let _ = writeln!(
                out,
                "{:<10} {:>5} {:>6} {:>7.1} {:>5.1} {:>9} {:>8} {:>6}",
                c.class.as_str(),
                c.names,
                c.failed,
                c.mean_queries,
                c.mean_side_resolutions,
                ms(c.cold.median),
                ms(c.cold.p95),
                ratio
            );
        }
        out.push_str("times in ms; class = worst glue on the name's path (in-domain < sibling < glueless);\n");
        out.push_str("per class (names that resolved): queries and side = mean per cold resolution,\nmedian and p95 over all their runs\n");
        out
    }
}

/// The aggregate of the names in `class`; times and counts come from the
/// names that resolved (a failure's time says nothing about glue).
fn aggregate(class: GlueClass, names: &[NameReport]) -> Option<ClassReport> {
    let members: Vec<&NameReport> = names.iter().filter(|n| n.class == Some(class)).collect();
    if members.is_empty() {
        return None;
    }
    let answered: Vec<&NameReport> = members.iter().copied().filter(|n| n.answered).collect();
    let mean = |f: fn(&NameReport) -> u32| {
        let sum: f64 = answered.iter().map(|n| f64::from(f(n))).sum();
        sum / answered.len().max(1) as f64
    };
    let mut samples: Vec<Duration> = answered.iter().flat_map(|n| n.samples.clone()).collect();
    Some(ClassReport {
        class,
        names: members.len(),
        failed: members.len() - answered.len(),
        mean_queries: mean(|n| n.upstream_queries),
        mean_side_resolutions: mean(|n| n.side_resolutions),
        cold: Timing::from_samples(&mut samples),
        ratio: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(n: &str, class: Option<GlueClass>, queries: u32, samples: &[u64]) -> NameReport {
        let samples: Vec<Duration> = samples.iter().map(|&s| Duration::from_millis(s)).collect();
        NameReport {
            name: n.to_string(),
            qtype: "A".to_string(),
            class,
            cuts: Vec::new(),
            answered: true,
            error: None,
            upstream_queries: queries,
            side_resolutions: 0,
            cold: Timing::from_samples(&mut samples.clone()),
            bound_ms: None,
            samples,
        }
    }

    #[test]
    fn classes_aggregate_their_names_and_compare_to_in_domain() {
        let report = NamesReport::new(vec![
            name("a.", Some(GlueClass::InDomain), 4, &[42, 42]),
            name("b.", Some(GlueClass::Glueless), 7, &[80, 84]),
            name("c.", Some(GlueClass::Glueless), 10, &[100, 120]),
            name("d.", None, 1, &[5]),
        ]);
        let classes: Vec<_> = report
            .classes
            .iter()
            .map(|c| (c.class, c.names, c.mean_queries))
            .collect();
        assert_eq!(
            classes,
            [(GlueClass::InDomain, 1, 4.0), (GlueClass::Glueless, 2, 8.5)]
        );
        let glueless = &report.classes[1];
        assert_eq!(glueless.cold.median, Duration::from_millis(84));
        assert_eq!(glueless.ratio, Some(2.0));
        assert!(report.table().contains("glueless"));
    }
}
