//! `rootwalk bench` on the lab: the report's structure, the query counts
//! each case must cost given the lab's zones, and that no measurement beats
//! the latency lower bound.

use std::time::Duration;

use rootwalk::bench::{LAB_CASES, run_lab};
use rootwalk::lab::{Lab, LabConfig};

#[tokio::test]
async fn report_has_the_expected_costs_per_case() {
    let lab = Lab::start(LabConfig::for_tests()).await.unwrap();
    let report = run_lab(&lab, LAB_CASES, 2).await;
    let labels: Vec<_> = report.cases.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "in-domain glue",
            "sibling glue",
            "glueless",
            "glueless, NS cached",
            "chained glueless (2)",
            "chained glueless (3)"
        ]
    );
    let costs: Vec<_> = report
        .cases
        .iter()
        .map(|c| (c.upstream_queries, c.side_resolutions))
        .collect();
    // Cold: priming + root + TLD + zone = 4; each glueless level adds a side
    // resolution of root + TLD + the NS zone's server = 3 more.
    assert_eq!(costs, [(4, 0), (4, 0), (7, 1), (3, 0), (10, 2), (12, 3)]);
    for case in &report.cases {
        assert!(case.answered, "{}", case.label);
        // Every exchange here waits on the previous one.
        assert_eq!(
            case.critical_path_rtts, case.upstream_queries,
            "{}",
            case.label
        );
        // 10 ms per lab server: the bound is the sum along the path, and a
        // measurement can never beat it.
        assert_eq!(
            case.bound,
            Duration::from_millis(10) * case.critical_path_rtts
        );
        assert!(
            case.cold.min >= case.bound,
            "{}: {:?} < {:?}",
            case.label,
            case.cold.min,
            case.bound
        );
        assert!(case.cold.min <= case.cold.median && case.cold.median <= case.cold.p95);
    }
    assert_eq!(report.cases[0].ratio, 1.0);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["cases"][2]["side_resolutions"], 1);
    assert!(report.table().lines().count() > LAB_CASES.len());
}
