//! The binary as a user runs it: `resolve` against the lab and against any
//! hierarchy given by hints and port, and clear errors with exit code 2.

use std::process::{Command, Output};

use rootwalk::lab::{Lab, LabConfig};

fn rootwalk(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rootwalk"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn resolve_with_lab_prints_answer_and_summary() {
    let out = rootwalk(&["resolve", "www.c.tld2", "A", "--lab"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = stdout(&out);
    assert!(text.contains(";; ANSWER SECTION:"), "{text}");
    assert!(
        text.contains("www.c.tld2.\t3600\tIN\tA\t198.51.100.30"),
        "{text}"
    );
    assert!(
        text.contains(";; NOERROR, 7 upstream queries, 1 side resolutions,"),
        "{text}"
    );
}

#[test]
fn resolve_servfail_exits_one_with_the_reason() {
    let out = rootwalk(&["resolve", "www.x.tld2", "--lab"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        stdout(&out).contains("SERVFAIL (no server of x.tld2."),
        "{out:?}"
    );
}

#[tokio::test]
async fn resolve_against_any_hierarchy_by_hints_file_and_port() {
    let lab = Lab::start(LabConfig {
        latency: false,
        ..LabConfig::for_tests()
    })
    .await
    .unwrap();
    let dir = std::env::temp_dir().join(format!("rootwalk-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let hints = dir.join("lab.hints");
    std::fs::write(&hints, lab.hints_file()).unwrap();
    let port = lab.port().to_string();
    let hints_arg = hints.to_string_lossy().into_owned();
    let out = tokio::task::spawn_blocking(move || {
        rootwalk(&[
            "resolve",
            "nope.a.tld1",
            "--root-hints",
            &hints_arg,
            "--upstream-port",
            &port,
        ])
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        stdout(&out).contains(";; NXDOMAIN, 4 upstream queries"),
        "{out:?}"
    );
    // The queries really went to this lab.
    assert_eq!(lab.query_log().len(), 4);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_input_names_the_problem_and_exits_two() {
    let out = rootwalk(&["resolve", "www.a.tld1", "NOTATYPE", "--lab"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown record type `NOTATYPE`"));

    let dir = std::env::temp_dir().join(format!("rootwalk-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let hints = dir.join("bad.hints");
    std::fs::write(&hints, ". NS a.root.lab.\na.root.lab. A 300.1.1.1\n").unwrap();
    let out = rootwalk(&["resolve", "x.", "--root-hints", &hints.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        err.contains("bad.hints:2") && err.contains("300.1.1.1"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(dir);

    let out = rootwalk(&["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("<ZONE>"));
}
