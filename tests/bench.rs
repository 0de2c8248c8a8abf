//! `rootwalk bench` on the lab: the report's structure, the query counts
//! each case must cost given the lab's zones, that no measurement beats
//! the latency lower bound, the names-file mode's glue classes, and the
//! binary's CSV, SVG plot and error exits.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use rootwalk::bench::{
    GlueClass, LAB_CASES, NoProgress, lab_config, read_names, run_lab, run_names,
};
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
    // Every exchange waits on the previous one, except priming (RFC 8109),
    // which runs beside the first root query of a cold walk: one RTT less
    // than the queries sent. The warm "NS cached" case sends no priming.
    let critical: Vec<u32> = report.cases.iter().map(|c| c.critical_path_rtts).collect();
    assert_eq!(critical, [3, 3, 6, 3, 9, 11]);
    for case in &report.cases {
        assert!(case.answered, "{}", case.label);
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
    // Durations say their unit in the key: whole microseconds.
    let case = &report.cases[2];
    let at = &json["cases"][2];
    assert_eq!(at["bound_us"], 10_000 * u64::from(case.critical_path_rtts));
    assert_eq!(at["cold"]["median_us"], case.cold.median.as_micros() as u64);
    assert!(at["cold"]["p95_us"].is_u64() && at["cold"]["min_us"].is_u64());
    assert!(at["warm_max_us"].is_u64());
    assert_eq!(
        at["cold_samples_us"].as_array().unwrap().len(),
        case.samples.len()
    );
    assert!(at.get("median").is_none() && at["cold"].get("median").is_none());
    assert!(report.table().lines().count() > LAB_CASES.len());
}

/// A fresh scratch directory for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rootwalk-bench-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn rootwalk(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rootwalk"))
        .args(args)
        .output()
        .unwrap()
}

/// The names file shipped for the README's example, one name per glue
/// situation.
const LAB_NAMES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/bench/lab-names.txt");

#[tokio::test]
async fn names_are_classed_by_their_worst_zone_cut() {
    let lab = Lab::start(LabConfig::for_tests()).await.unwrap();
    let entries = read_names(std::path::Path::new(LAB_NAMES)).unwrap();
    let report = run_names(&lab_config(&lab), Some(&lab), &entries, 1, &NoProgress).await;
    let got: Vec<_> = report
        .names
        .iter()
        .map(|n| {
            (
                n.name.as_str(),
                n.qtype.as_str(),
                n.class,
                n.side_resolutions,
            )
        })
        .collect();
    use GlueClass::{Glueless, InDomain, Sibling};
    assert_eq!(
        got,
        [
            ("www.a.tld1.", "A", Some(InDomain), 0),
            ("www.b.tld1.", "A", Some(Sibling), 0),
            ("www.c.tld2.", "A", Some(Glueless), 1),
            ("www.d.tld1.", "A", Some(Glueless), 2),
            ("far.a.tld1.", "A", Some(Glueless), 1),
            ("www.leaf.sub.deep.tld3.", "A", Some(InDomain), 0),
            ("www.a.tld1.", "AAAA", Some(InDomain), 0),
        ]
    );
    // The cuts of the client's walk only: tld2 is glued by the root, c.tld2
    // is not; hosting.tld3, seen by the side resolution, is not listed.
    let cuts: Vec<_> = report.names[2]
        .cuts
        .iter()
        .map(|c| (c.zone.as_str(), c.class))
        .collect();
    assert_eq!(cuts, [("tld2.", InDomain), ("c.tld2.", Glueless)]);
    assert!(
        report
            .names
            .iter()
            .all(|n| n.answered && n.bound_ms.is_some())
    );
    let classes: Vec<_> = report
        .classes
        .iter()
        .map(|c| (c.class, c.names, c.failed))
        .collect();
    assert_eq!(
        classes,
        [(InDomain, 3, 0), (Sibling, 1, 0), (Glueless, 3, 0)]
    );
    assert_eq!(report.classes[0].ratio, Some(1.0));
    // Glueless names cost at least one side resolution each on average.
    assert!(report.classes[2].mean_side_resolutions >= 1.0);
}

#[test]
fn csv_and_plot_from_the_binary() {
    let svg = scratch("plot").join("bench.svg");
    let svg_arg = svg.to_string_lossy().into_owned();
    let out = rootwalk(&[
        "bench", "--lab", "--runs", "2", "--format", "csv", "--plot", &svg_arg,
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let csv = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("case,qname,answered,queries,side_resolutions,"),
        "{csv}"
    );
    assert_eq!(lines.len(), 1 + LAB_CASES.len(), "{csv}");
    assert!(
        lines[1].starts_with("in-domain glue,www.a.tld1.,true,4,0,3,"),
        "{csv}"
    );
    // The label with a comma is quoted.
    assert!(
        lines[4].starts_with("\"glueless, NS cached\",www.c.tld2.,true,3,0,"),
        "{csv}"
    );
    // No progress bar or other noise on stderr when it is not a terminal.
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg"), "{}", &text[..80]);
    assert!(text.trim_end().ends_with("</svg>"));
    assert_eq!(text.matches("<svg").count(), 1);
    let texts = svg_texts(&text);
    for case in LAB_CASES {
        let count = texts.iter().filter(|t| *t == case.label).count();
        assert_eq!(count, 1, "{}: {texts:?}", case.label);
    }
    assert!(
        texts.iter().any(|t| t == "cold resolution time (ms)"),
        "{texts:?}"
    );
    // One dot per cold run.
    assert_eq!(text.matches("<circle").count(), 2 * LAB_CASES.len() + 1);
}

/// The content of every `<text>` element, trimmed.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|part| {
            let body = &part[part.find('>')? + 1..];
            Some(body[..body.find("</text>")?].trim().to_string())
        })
        .collect()
}

#[test]
fn names_mode_from_the_binary_prints_runs_as_csv() {
    let file = scratch("runs").join("names.txt");
    std::fs::write(&file, "www.a.tld1\nwww.c.tld2 # glueless\n").unwrap();
    let file_arg = file.to_string_lossy().into_owned();
    let out = rootwalk(&[
        "bench",
        "--lab",
        "--names",
        &file_arg,
        "--runs",
        "2",
        "--csv-runs",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let csv = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows[0], ["name", "type", "class", "run", "cold_ms"]);
    let keys: Vec<_> = rows[1..].iter().map(|r| (r[0], r[2], r[3])).collect();
    assert_eq!(
        keys,
        [
            ("www.a.tld1.", "in-domain", "1"),
            ("www.a.tld1.", "in-domain", "2"),
            ("www.c.tld2.", "glueless", "1"),
            ("www.c.tld2.", "glueless", "2"),
        ]
    );
    assert!(rows[1..].iter().all(|r| r[4].parse::<f64>().unwrap() > 0.0));
}

#[test]
fn bad_input_is_named_and_exits_two() {
    let dir = scratch("errors");
    let bad = dir.join("bad.txt");
    std::fs::write(&bad, "www.a.tld1\n\nwww.b.tld1 BOGUS\n").unwrap();
    let bad_arg = bad.to_string_lossy().into_owned();
    let missing = dir.join("missing.txt").to_string_lossy().into_owned();
    let stderr = |out: &Output| String::from_utf8_lossy(&out.stderr).into_owned();

    let out = rootwalk(&["bench", "--lab", "--names", &bad_arg]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        stderr(&out).contains(&format!("{bad_arg}:3: unknown record type `BOGUS`")),
        "{out:?}"
    );
    let out = rootwalk(&["bench", "--names", &missing]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        stderr(&out).contains(&format!("cannot read names file {missing}")),
        "{out:?}"
    );
    let out = rootwalk(&["bench"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(stderr(&out).contains("give --lab"), "{out:?}");
    let no_dir = dir
        .join("no/such/dir/plot.svg")
        .to_string_lossy()
        .into_owned();
    let out = rootwalk(&["bench", "--lab", "--plot", &no_dir]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(stderr(&out).contains("cannot write the plot"), "{out:?}");
    for args in [
        ["--runs", "0"],
        ["--json", "--csv"],
        ["--format", "xml"],
        ["--format=json", "--csv"],
    ] {
        let out = rootwalk(&["bench", "--lab", args[0], args[1]]);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
    }
}

#[tokio::test]
async fn names_mode_without_the_lab_flag_uses_the_hints_given() {
    // Any hierarchy reached by hints file and port, as on the Internet;
    // here the lab without latency, started by the test.
    let lab = Lab::start(LabConfig {
        latency: false,
        ..LabConfig::for_tests()
    })
    .await
    .unwrap();
    let dir = scratch("hints");
    let hints = dir.join("lab.hints");
    std::fs::write(&hints, lab.hints_file()).unwrap();
    let names = dir.join("names.txt");
    std::fs::write(&names, "www.b.tld1\nwww.e.tld3 A\n").unwrap();
    let port = lab.port().to_string();
    let [hints, names] = [hints, names].map(|p| p.to_string_lossy().into_owned());
    let out = tokio::task::spawn_blocking(move || {
        rootwalk(&[
            "bench",
            "--names",
            &names,
            "--root-hints",
            &hints,
            "--upstream-port",
            &port,
            "--runs",
            "2",
            "--json",
        ])
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names = json["names"].as_array().unwrap();
    let got: Vec<_> = names
        .iter()
        .map(|n| {
            (
                n["name"].as_str(),
                n["class"].as_str(),
                n["side_resolutions"].as_u64(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (Some("www.b.tld1."), Some("sibling"), Some(0)),
            (Some("www.e.tld3."), Some("glueless"), Some(3)),
        ]
    );
    // No lab latency known here: no lower bound.
    assert!(names.iter().all(|n| n.get("bound_us").is_none()));
    assert_eq!(names[0]["cold_samples_us"].as_array().unwrap().len(), 2);
    assert!(names[0]["cold"]["median_us"].is_u64(), "{}", names[0]);
    assert_eq!(json["classes"][1]["class"], "glueless");
}
