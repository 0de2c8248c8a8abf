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
    // Without DNSSEC, to count the glueless walk alone.
    let out = rootwalk(&["resolve", "www.c.tld2", "A", "--lab", "--no-dnssec"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = stdout(&out);
    assert!(text.contains(";; ANSWER SECTION:"), "{text}");
    assert!(
        text.contains("www.c.tld2.\t3600\tIN\tA\t198.51.100.30"),
        "{text}"
    );
    assert!(
        text.contains(";; NOERROR, 7 upstream queries, 1 side resolution,"),
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
    let anchor = dir.join("lab.anchor");
    std::fs::write(&anchor, lab.trust_anchor().to_text()).unwrap();
    let port = lab.port().to_string();
    let hints_arg = hints.to_string_lossy().into_owned();
    let anchor_arg = anchor.to_string_lossy().into_owned();
    let run = move |dnssec: &[&str]| {
        let mut args = vec![
            "resolve",
            "nope.a.tld1",
            "--root-hints",
            &hints_arg,
            "--upstream-port",
            &port,
        ];
        args.extend(dnssec);
        rootwalk(&args)
    };
    let (plain, validated, wrong_anchor) = tokio::task::spawn_blocking(move || {
        (
            run(&["--no-dnssec"]),
            run(&["--trust-anchor", &anchor_arg]),
            // IANA's root keys do not sign this root.
            run(&[]),
        )
    })
    .await
    .unwrap();
    assert_eq!(plain.status.code(), Some(0), "{plain:?}");
    assert!(
        stdout(&plain).contains(";; NXDOMAIN, 4 upstream queries"),
        "{plain:?}"
    );
    assert_eq!(validated.status.code(), Some(0), "{validated:?}");
    assert!(
        stdout(&validated).contains(";; NXDOMAIN, "),
        "{validated:?}"
    );
    assert_eq!(wrong_anchor.status.code(), Some(1), "{wrong_anchor:?}");
    assert!(
        stdout(&wrong_anchor).contains("DNSSEC bogus: DNSKEY missing"),
        "{wrong_anchor:?}"
    );
    // The queries really went to this lab, the validated run's DNSKEY
    // questions to the zones' own servers.
    let log = lab.query_log();
    assert!(log.len() > 4);
    assert!(
        log.iter()
            .any(|q| q.qtype == hickory_proto::rr::RecordType::DNSKEY
                && q.qname.to_string() == "a.tld1.")
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_input_names_the_problem_and_exits_two() {
    let out = rootwalk(&["resolve", "www.a.tld1", "NOTATYPE", "--lab"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        err.contains("`NOTATYPE`") && err.contains("not one rootwalk knows"),
        "{err}"
    );

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

#[test]
fn trace_all_servers_flag_reports_disagreement() {
    let out = rootwalk(&["trace", "www.serial.tld1", "--lab", "--all-servers"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains(";; ALL SERVERS"), "{text}");
    assert!(
        text.contains(";; WARNING: the servers of serial.tld1. disagree"),
        "{text}"
    );
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"))
}

#[test]
fn resolve_reads_dig_words_in_any_order() {
    for args in [
        ["resolve", "A", "www.c.tld2", "--lab"],
        ["resolve", "www.c.tld2", "IN", "A"],
        ["resolve", "--lab", "in", "a"],
    ] {
        let mut args = args.to_vec();
        if !args.contains(&"--lab") {
            args.push("--lab");
        }
        if !args.contains(&"www.c.tld2") {
            args.push("www.c.tld2");
        }
        let out = rootwalk(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {out:?}");
        assert!(
            stdout(&out).contains("www.c.tld2.\t3600\tIN\tA\t198.51.100.30"),
            "{args:?}: {out:?}"
        );
    }
    // A type before the name, and MX: the NODATA answer's SOA is shown.
    let out = rootwalk(&["resolve", "MX", "www.a.tld1", "--lab"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = stdout(&out);
    assert!(
        text.contains(";; AUTHORITY SECTION:\na.tld1.\t300\tIN\tSOA\t"),
        "{text}"
    );
}

#[test]
fn resolve_short_prints_only_the_data() {
    let out = rootwalk(&["resolve", "+short", "www.c.tld2", "--lab"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(stdout(&out), "198.51.100.30\n");
    let out = rootwalk(&["trace", "www.c.tld2", "--lab", "+short"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(stdout(&out), "198.51.100.30\n");
}

#[test]
fn resolve_rfc3597_types_and_reverse_names() {
    let out = rootwalk(&[
        "resolve",
        "www.a.tld1",
        "TYPE65",
        "--lab",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let doc = json(&out);
    assert_eq!(doc["question"]["type"], "HTTPS");
    assert_eq!(doc["outcome"]["rcode"], "NOERROR");
    assert_eq!(doc["outcome"]["authority"][0]["type"], "SOA");

    let out = rootwalk(&["resolve", "-x", "192.0.2.1", "--lab", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let doc = json(&out);
    assert_eq!(doc["question"]["name"], "1.2.0.192.in-addr.arpa.");
    assert_eq!(doc["question"]["type"], "PTR");
    // The lab's root does not delegate in-addr.arpa.
    assert_eq!(doc["outcome"]["rcode"], "NXDOMAIN");

    let out = rootwalk(&["resolve", "--lab", "--format", "json", "-x", "2001:db8::1"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let name = json(&out)["question"]["name"].as_str().unwrap().to_string();
    assert!(
        name.starts_with("1.0.0.0.") && name.ends_with(".8.b.d.0.1.0.0.2.ip6.arpa."),
        "{name}"
    );
}

#[test]
fn resolve_json_has_the_trace_fields() {
    let out = rootwalk(&[
        "resolve",
        "www.c.tld2",
        "--lab",
        "--no-dnssec",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let doc = json(&out);
    assert_eq!(doc["schema"], 1);
    assert_eq!(doc["question"]["name"], "www.c.tld2.");
    let answer = &doc["outcome"]["answers"][0];
    assert_eq!(answer["type"], "A");
    assert_eq!(answer["data"], "198.51.100.30");
    assert_eq!(answer["ttl"], 3600);
    assert_eq!(doc["summary"]["upstream_queries"], 7);
    assert_eq!(doc["summary"]["side_resolutions"], 1);
    assert!(doc["summary"]["wall_time_us"].is_u64());
}

#[test]
fn dig_switches_rootwalk_cannot_honour_are_refused_by_name() {
    for (switch, says) in [
        ("+bogus", "unknown option `+bogus`"),
        ("+tcp", "`+tcp` is not supported"),
        ("CH", "class `CH` is not supported"),
    ] {
        for command in ["resolve", "trace"] {
            let out = rootwalk(&[command, "www.a.tld1", switch, "--lab"]);
            assert_eq!(out.status.code(), Some(2), "{command} {switch}: {out:?}");
            assert!(stderr(&out).contains(says), "{command} {switch}: {out:?}");
            assert!(stdout(&out).is_empty());
        }
    }
    let out = rootwalk(&["resolve", "--lab"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no name given"), "{out:?}");
}

#[test]
fn trace_starts_at_a_server_given_with_at() {
    // ns1.a.tld1 (127.53.0.101 in the built-in lab) serves a.tld1 only:
    // every hop goes to it, and the full name is asked.
    for start in [
        ["@127.53.0.101", ""],
        ["--server", "127.53.0.101"],
        ["@ns1.a.tld1", ""],
    ] {
        let mut args = vec!["trace", "www.a.tld1", "--lab", "--format", "json"];
        args.extend(start.iter().filter(|s| !s.is_empty()));
        let out = rootwalk(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {out:?}");
        let doc = json(&out);
        assert_eq!(
            doc["outcome"]["answers"][0]["data"], "192.0.2.10",
            "{args:?}"
        );
        let hops = doc["resolutions"][0]["hops"].as_array().unwrap();
        assert!(!hops.is_empty());
        for hop in hops {
            assert_eq!(hop["address"], "127.53.0.101", "{args:?}: {hop}");
        }
        // Priming (". NS", refused by this server) runs beside the walk, so
        // the answer hop need not be the last one listed.
        assert!(
            hops.iter()
                .any(|h| h["qname"] == "www.a.tld1." && h["result"] == "answer"),
            "{args:?}: {hops:?}"
        );
    }
}

#[test]
fn trace_from_a_zone_starts_at_its_servers() {
    let out = rootwalk(&[
        "trace",
        "www.c.tld2",
        "--from",
        "tld2",
        "--lab",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let doc = json(&out);
    let client = &doc["resolutions"][0];
    assert_eq!(client["hops"][0]["zone"], "tld2.");
    assert_eq!(client["cache_hits"][0]["what"], "zone cut tld2.");
    assert_eq!(doc["outcome"]["answers"][0]["data"], "198.51.100.30");

    let out = rootwalk(&["trace", "www.c.tld2", "--from", "tld1", "--lab"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("www.c.tld2. is not in tld1."),
        "{out:?}"
    );
}

#[test]
fn lab_with_its_own_hints_or_port_and_port_zero_are_refused() {
    for args in [
        ["resolve", "x.", "--lab", "--upstream-port", "5353"],
        ["resolve", "x.", "--lab", "--root-hints", "named.root"],
        ["trace", "x.", "--upstream-port", "5353", "--lab"],
    ] {
        let out = rootwalk(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let err = stderr(&out);
        let other = if args.contains(&"--root-hints") {
            "'--root-hints <FILE>'"
        } else {
            "'--upstream-port <PORT>'"
        };
        assert!(
            err.contains("cannot be used with") && err.contains("'--lab'") && err.contains(other),
            "{args:?}: {err}"
        );
    }
    let out = rootwalk(&["resolve", "x.", "--upstream-port", "0"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(stderr(&out).contains("--upstream-port"), "{out:?}");
    assert!(stderr(&out).contains("0 is not in 1..=65535"), "{out:?}");
}

#[test]
fn a_walk_that_reaches_nobody_says_so() {
    // A hints file naming a loopback address nobody listens on: every
    // query is refused at once (ICMP port unreachable).
    let dir = std::env::temp_dir().join(format!("rootwalk-cli-nobody-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let hints = dir.join("nobody.hints");
    std::fs::write(
        &hints,
        ". 3600000 NS a.root.\na.root. 3600000 A 127.53.3.250\n",
    )
    .unwrap();
    let hints_arg = hints.to_string_lossy().into_owned();
    let out = rootwalk(&[
        "resolve",
        "www.example.",
        "--root-hints",
        &hints_arg,
        "--upstream-port",
        "9",
    ]);
    let _ = std::fs::remove_dir_all(dir);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = stderr(&out);
    assert!(err.contains("no upstream server answered"), "{err}");
    assert!(err.contains("nothing upstream is reachable"), "{err}");
    // Hints of one's own: no advice to use the lab.
    assert!(!err.contains("--lab"), "{err}");
}

/// Runs the binary against `lab` (in-process) through a hints file, its
/// port and its trust anchor, so the test can ask the same lab for the
/// keys it made at start-up.
async fn against(lab: &Lab, args: &[&str]) -> Output {
    let dir = std::env::temp_dir().join(format!(
        "rootwalk-cli-dnssec-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let hints = dir.join("lab.hints");
    std::fs::write(&hints, lab.hints_file()).unwrap();
    let anchor = dir.join("lab.anchor");
    std::fs::write(&anchor, lab.trust_anchor().to_text()).unwrap();
    let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    all.extend([
        "--root-hints".to_string(),
        hints.to_string_lossy().into_owned(),
        "--upstream-port".to_string(),
        lab.port().to_string(),
        "--trust-anchor".to_string(),
        anchor.to_string_lossy().into_owned(),
    ]);
    let out = tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        rootwalk(&refs)
    })
    .await
    .unwrap();
    let _ = std::fs::remove_dir_all(dir);
    out
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The tag of `zone`'s zone-signing key as `lab` serves it.
async fn zsk_of(lab: &Lab, zone: &str) -> u16 {
    use hickory_proto::rr::{Name, RecordType};
    use rootwalk::resolve::{Resolver, ResolverConfig};
    use rootwalk::validate::{as_dnskey, keys::key_tag};
    let resolver = Resolver::new(ResolverConfig::new(
        lab.hints(),
        lab.port(),
        rootwalk::config::Limits::default(),
    ));
    let outcome = resolver
        .resolve(
            &zone.parse::<Name>().unwrap(),
            RecordType::DNSKEY,
            &rootwalk::trace::NullObserver,
        )
        .await
        .unwrap();
    let zsks: Vec<u16> = outcome
        .answers
        .iter()
        .filter_map(as_dnskey)
        .filter(|k| !k.secure_entry_point())
        .filter_map(key_tag)
        .collect();
    assert_eq!(zsks.len(), 1, "{zsks:?}");
    zsks[0]
}

/// The fields of an RRSIG line's data (RFC 4034 §3.2).
fn rrsig_fields(line: &str) -> Vec<String> {
    let data = line.split('\t').nth(4).unwrap_or("");
    data.split_whitespace().map(str::to_string).collect()
}

#[tokio::test]
async fn resolve_dnssec_prints_each_rrsets_rrsigs_and_the_negative_proof() {
    let lab = Lab::start(LabConfig {
        latency: false,
        ..LabConfig::for_tests()
    })
    .await
    .unwrap();
    let zsk = zsk_of(&lab, "a.tld1.").await.to_string();

    // An answer: the RRset, then its RRSIG by the zone's ZSK, as dig
    // prints it (algorithm number, times as YYYYMMDDHHmmSS).
    let out = against(&lab, &["resolve", "www.a.tld1", "+dnssec"]).await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == "www.a.tld1.\t3600\tIN\tA\t192.0.2.10")
        .unwrap_or_else(|| panic!("{text}"));
    let sig = lines[at + 1];
    assert!(sig.starts_with("www.a.tld1.\t3600\tIN\tRRSIG\t"), "{text}");
    let fields = rrsig_fields(sig);
    assert_eq!(fields[..4], ["A", "13", "3", "3600"], "{sig}");
    for time in &fields[4..6] {
        assert!(
            time.len() == 14 && time.bytes().all(|b| b.is_ascii_digit()),
            "{sig}"
        );
    }
    assert!(fields[4] > fields[5], "expiration after inception: {sig}");
    assert_eq!(fields[6..8], [zsk.as_str(), "a.tld1."], "{sig}");
    assert!(text.trim_end().ends_with(", secure"), "{text}");
    // Without the switch, no RRSIG.
    let plain = against(&lab, &["resolve", "www.a.tld1"]).await;
    assert!(!stdout(&plain).contains("RRSIG"), "{plain:?}");
    // +short +dnssec: the data of both.
    let out = against(&lab, &["resolve", "www.a.tld1", "+short", "+dnssec"]).await;
    let short = stdout(&out);
    let short: Vec<&str> = short.lines().collect();
    assert_eq!(short.len(), 2, "{short:?}");
    assert_eq!(short[0], "192.0.2.10");
    assert!(short[1].starts_with("A 13 3 3600 "), "{short:?}");

    // NXDOMAIN: the SOA, its RRSIG, then each NSEC with its RRSIG.
    let out = against(&lab, &["resolve", "nope.a.tld1", "+dnssec"]).await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = stdout(&out);
    let authority: Vec<&str> = text
        .split(";; AUTHORITY SECTION:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("{text}"))
        .lines()
        .take_while(|l| !l.is_empty())
        .collect();
    let types: Vec<&str> = authority
        .iter()
        .map(|l| l.split('\t').nth(3).unwrap_or(""))
        .collect();
    assert_eq!(types[..2], ["SOA", "RRSIG"], "{text}");
    assert_eq!(rrsig_fields(authority[1])[0], "SOA");
    let nsecs: Vec<usize> = (0..types.len()).filter(|&i| types[i] == "NSEC").collect();
    assert!(!nsecs.is_empty(), "{text}");
    for i in nsecs {
        // Each NSEC is followed by its RRSIG, same owner, by the ZSK.
        let owner = authority[i].split('\t').next();
        let sig = authority.get(i + 1).copied().unwrap_or("");
        assert_eq!(sig.split('\t').next(), owner, "{text}");
        assert_eq!(rrsig_fields(sig)[0], "NSEC", "{text}");
        assert_eq!(rrsig_fields(sig)[6], zsk, "{text}");
    }
    assert!(text.trim_end().ends_with(", secure"), "{text}");
    let plain = against(&lab, &["resolve", "nope.a.tld1"]).await;
    let plain = stdout(&plain);
    assert!(
        !plain.contains("RRSIG") && !plain.contains("NSEC"),
        "{plain}"
    );
}

#[test]
fn resolve_cd_prints_a_bogus_answer_with_its_verdict() {
    // Without CD: SERVFAIL, exit 1.
    let out = rootwalk(&["resolve", "www.badsig.tld1", "--lab"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        stdout(&out).starts_with(";; SERVFAIL (DNSSEC bogus: "),
        "{out:?}"
    );
    // With CD: the data, and the verdict with its reason.
    let out = rootwalk(&["resolve", "www.badsig.tld1", "+cd", "--lab"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = stdout(&out);
    assert!(
        text.contains(";; ANSWER SECTION:\nwww.badsig.tld1.\t"),
        "{text}"
    );
    assert!(text.contains("\tIN\tA\t192.0.2.101\n"), "{text}");
    let last = text.lines().last().unwrap_or("");
    assert!(
        last.starts_with(";; NOERROR, ")
            && last.contains(", bogus (RRSIG by key ")
            && last.ends_with(" does not verify)"),
        "{text}"
    );
    // +cdflag is dig's spelling; a secure answer stays secure.
    let out = rootwalk(&["resolve", "www.a.tld1", "+cdflag", "--lab"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(stdout(&out).trim_end().ends_with(", secure"), "{out:?}");
    // The trace too: the bogus answer is the outcome, the verdict last.
    let out = rootwalk(&["trace", "www.expired.tld1", "+cd", "+dnssec", "--lab"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = stdout(&out);
    assert!(
        text.contains(";; Outcome: NOERROR, 1 answer record\n"),
        "{text}"
    );
    assert!(text.contains("\tIN\tRRSIG\tA 13 3 "), "{text}");
    assert!(text.contains(";; DNSSEC: bogus (RRSIG by key "), "{text}");
    assert!(text.contains(" expired "), "{text}");
}
