//! `rootwalk check` against the lab: each zone built to show one
//! misconfiguration gets exactly its findings, the healthy zones none, and
//! names that are not zones a clear error and exit code 2.

mod common;

use std::process::Command;
use std::str::FromStr;

use hickory_proto::rr::Name;
use rootwalk::check::dnssec::DnssecStatus;
use rootwalk::check::findings::{Code, FixAt, Severity};
use rootwalk::check::report::{ChainStatus, Verdict};
use rootwalk::check::{self, CheckError, Report};
use rootwalk::lab::Lab;

use Code::*;
use Severity::*;

use common::lab;

async fn run(lab: &Lab, zone: &str) -> Result<Report, CheckError> {
    check::run(&Name::from_str(zone).unwrap(), common::config(lab)).await
}

/// `name (address)` for a lab address written as `127.53.K.X` in the
/// zone files.
fn at(lab: &Lab, name: &str, block: u8, last: u8) -> String {
    let [a, b, c] = lab.prefix();
    format!("{name} ({a}.{b}.{}.{last})", c + block)
}

/// The findings as (severity, code, servers), sorted.
fn found(report: &Report) -> Vec<(Severity, Code, Vec<String>)> {
    let mut all: Vec<_> = report
        .findings
        .iter()
        .map(|f| {
            let mut servers: Vec<String> = f.servers.iter().map(ToString::to_string).collect();
            servers.sort();
            (f.severity, f.code, servers)
        })
        .collect();
    all.sort();
    all
}

fn expect(list: &[(Severity, Code, &[&str])]) -> Vec<(Severity, Code, Vec<String>)> {
    let mut all: Vec<_> = list
        .iter()
        .map(|(s, c, servers)| {
            let mut servers: Vec<String> = servers.iter().map(|s| s.to_string()).collect();
            servers.sort();
            (*s, *c, servers)
        })
        .collect();
    all.sort();
    all
}

fn strings(list: &[String]) -> Vec<&str> {
    list.iter().map(String::as_str).collect()
}

#[tokio::test]
async fn healthy_zones_have_no_findings() {
    let lab = lab().await;
    let good = run(&lab, "good.tld1.").await.unwrap();
    // Unsigned, and told so; and, like every lab zone, an SOA expire of
    // one day (see `lab_soa_timers_are_a_notice_naming_the_values`).
    assert_eq!(
        found(&good),
        expect(&[(Notice, Unsigned, &[]), (Notice, SoaTimers, &[])]),
        "{}",
        good.to_text()
    );
    assert_eq!(good.parent, "tld1.");
    assert_eq!(good.parent_servers.len(), 2, "both tld1 servers asked");
    assert!(good.parent_servers.iter().all(|p| p.answer == "delegation"));
    assert_eq!(good.servers.len(), 2);
    assert!(
        good.servers
            .iter()
            .all(|s| s.serial == Some(2026112401) && s.lame.is_none())
    );
    assert!(good.servers.iter().all(|s| s.sources == ["glue", "zone"]));
    assert!(good.servers.iter().all(|s| s.tcp == Some(true)));
    assert_eq!(good.glueless_chain.status, ChainStatus::Glued);

    // Healthy but all in one /24: a notice only.
    let a = run(&lab, "a.tld1.").await.unwrap();
    let names = ["ns1.a.tld1.", "ns2.a.tld1."];
    assert_eq!(
        found(&a),
        expect(&[(Notice, SinglePrefix, &names), (Notice, SoaTimers, &[])])
    );
    assert_eq!(a.summary.errors + a.summary.warnings, 0);
}

#[tokio::test]
async fn stale_glue_wholly_and_partly() {
    let lab = lab().await;
    let report = run(&lab, "stale.tld1.").await.unwrap();
    let dead1 = at(&lab, "ns1.stale.tld1.", 0, 241);
    let dead2 = at(&lab, "ns2.stale.tld1.", 0, 244);
    // One cause, one finding: the lame addresses the stale glue sends
    // resolvers to are listed under it, not reported again.
    assert_eq!(
        found(&report),
        expect(&[
            (Notice, Unsigned, &[]),
            (Notice, SoaTimers, &[]),
            (Error, StaleGlue, &["ns1.stale.tld1."]),
            (Warning, StaleGlue, &["ns2.stale.tld1."]),
        ]),
        "{}",
        report.to_text()
    );
    let consequences: Vec<Vec<&str>> = report
        .findings
        .iter()
        .filter(|f| f.code == StaleGlue)
        .map(|f| f.consequences.iter().map(String::as_str).collect())
        .collect();
    assert_eq!(
        consequences,
        [
            [format!("{dead1} is lame: port closed (connection refused)").as_str()],
            [format!("{dead2} is lame: port closed (connection refused)").as_str()],
        ],
        "{}",
        report.to_text()
    );
    assert!(
        report
            .findings
            .iter()
            .filter(|f| f.code == StaleGlue)
            .all(|f| f.fix_at == FixAt::Registrar)
    );
    assert_eq!(report.verdict, Verdict::Degraded);
    // The moved server was found through the zone's own A record.
    let moved = report
        .servers
        .iter()
        .find(|s| s.name == "ns1.stale.tld1." && s.serial.is_some())
        .unwrap();
    assert_eq!(strings(&moved.sources), ["zone"]);
    assert_eq!(report.summary.errors, 1);
}

#[tokio::test]
async fn missing_glue_serial_mismatch_and_sibling_glue() {
    let lab = lab().await;
    let noglue = run(&lab, "noglue.tld1.").await.unwrap();
    assert_eq!(
        found(&noglue),
        expect(&[
            (Notice, Unsigned, &[]),
            (Notice, SoaTimers, &[]),
            (Error, MissingGlue, &["ns1.noglue.tld1."])
        ])
    );

    let serial = run(&lab, "serial.tld1.").await.unwrap();
    let both = [
        at(&lab, "ns1.serial.tld1.", 0, 236),
        at(&lab, "ns2.serial.tld1.", 1, 237),
    ];
    assert_eq!(
        found(&serial),
        expect(&[
            (Notice, Unsigned, &[]),
            (Notice, SoaTimers, &[]),
            (Warning, SerialMismatch, &strings(&both))
        ])
    );
    let message = &serial.findings[0].message;
    assert!(
        message.contains("2026112401") && message.contains("2026112402"),
        "{message}"
    );

    let moved = run(&lab, "moved.tld1.").await.unwrap();
    assert_eq!(
        found(&moved),
        expect(&[
            (Notice, Unsigned, &[]),
            (Notice, SoaTimers, &[]),
            (Warning, StaleSiblingGlue, &["ns3.good.tld1."])
        ])
    );
    let nosib = run(&lab, "nosib.tld1.").await.unwrap();
    assert_eq!(
        found(&nosib),
        expect(&[
            (Notice, Unsigned, &[]),
            (Notice, SoaTimers, &[]),
            (Notice, MissingSiblingGlue, &["ns5.good.tld1."])
        ])
    );
    assert_eq!(nosib.summary.errors + nosib.summary.warnings, 0);
}

#[tokio::test]
async fn ns_set_mismatch_and_lame_servers() {
    let lab = lab().await;
    let mismatch = run(&lab, "mismatch.tld1.").await.unwrap();
    let all = [
        "ns1.mismatch.tld1.",
        "ns2.mismatch.tld1.",
        "ns3.mismatch.tld1.",
    ];
    assert_eq!(
        found(&mismatch),
        expect(&[
            (Notice, Unsigned, &[]),
            (Notice, SoaTimers, &[]),
            (
                Warning,
                NsMismatch,
                &["ns2.mismatch.tld1.", "ns3.mismatch.tld1."]
            ),
            (Notice, SinglePrefix, &all),
        ])
    );

    let lame = run(&lab, "lame.tld2.").await.unwrap();
    let names = ["ns1.lame.tld2.", "ns2.lame.tld2."];
    assert_eq!(
        found(&lame),
        expect(&[
            (Notice, Unsigned, &[]),
            (Notice, SoaTimers, &[]),
            (Error, Lame, &[&at(&lab, "ns1.lame.tld2.", 0, 161)]),
            (Notice, SinglePrefix, &names),
        ])
    );

    let refused = run(&lab, "refused.tld2.").await.unwrap();
    let lame_one = refused.findings.iter().find(|f| f.code == Lame).unwrap();
    let servers: Vec<String> = lame_one.servers.iter().map(ToString::to_string).collect();
    assert_eq!(servers, [at(&lab, "ns1.refused.tld2.", 0, 171)]);
    assert!(lame_one.message.contains("REFUSED"), "{}", lame_one.message);

    let dead = run(&lab, "dead.tld3.").await.unwrap();
    let lame: Vec<_> = dead.findings.iter().filter(|f| f.code == Lame).collect();
    assert_eq!(lame.len(), 2, "{}", dead.to_text());
    assert!(dead.servers.iter().all(|s| s.lame.is_some()));
}

#[tokio::test]
async fn a_server_that_closes_tcp_is_reported() {
    let lab = lab().await;
    let report = run(&lab, "notcp.tld1.").await.unwrap();
    let ns1 = at(&lab, "ns1.notcp.tld1.", 0, 238);
    assert_eq!(
        found(&report),
        expect(&[
            (Notice, Unsigned, &[]),
            (Notice, SoaTimers, &[]),
            (Error, NoTcp, &[&ns1])
        ]),
        "{}",
        report.to_text()
    );
    let tcp: Vec<(&str, Option<bool>)> = report
        .servers
        .iter()
        .map(|s| (s.name.as_str(), s.tcp))
        .collect();
    assert_eq!(
        tcp,
        [
            ("ns1.notcp.tld1.", Some(false)),
            ("ns2.notcp.tld1.", Some(true))
        ]
    );
}

#[tokio::test]
async fn glueless_chains_and_cycles() {
    let lab = lab().await;
    for (zone, depth) in [("c.tld2.", 1), ("d.tld1.", 2), ("e.tld3.", 3)] {
        let report = run(&lab, zone).await.unwrap();
        assert_eq!(report.glueless_chain.depth, Some(depth), "{zone}");
        assert_eq!(
            report.glueless_chain.names.last().map(String::as_str),
            Some("ns.hosting.tld3.")
        );
        let chain_warning = report.findings.iter().any(|f| f.code == GluelessChain);
        assert_eq!(chain_warning, depth >= 2, "{zone}: {}", report.to_text());
        assert_eq!(report.summary.errors, 0, "{zone}: {}", report.to_text());
    }

    let cyclic = run(&lab, "x.tld2.").await.unwrap();
    // The name server left without an address is a consequence of the
    // cycle, not a finding of its own.
    assert_eq!(
        found(&cyclic),
        expect(&[
            (Notice, Unsigned, &[]),
            (Error, GluelessCycle, &["x.tld2.", "y.tld3."])
        ])
    );
    assert_eq!(
        cyclic.findings[0].consequences,
        ["no address found for name server ns.y.tld3."]
    );
    assert_eq!(cyclic.glueless_chain.status, ChainStatus::Cycle);
}

#[tokio::test]
async fn names_that_are_not_delegated_zones_are_errors_of_the_check() {
    let lab = lab().await;
    type Expected = fn(&CheckError) -> bool;
    let cases: [(&str, Expected); 4] = [
        (".", |e| matches!(e, CheckError::Root)),
        ("www.a.tld1.", |e| {
            matches!(e, CheckError::NotDelegated { .. })
        }),
        ("nope.nosuch.", |e| {
            matches!(e, CheckError::ParentDoesNotExist { .. })
        }),
        ("nope.tld1.", |e| matches!(e, CheckError::NoSuchZone { .. })),
    ];
    for (zone, expected) in cases {
        let err = run(&lab, zone).await.unwrap_err();
        assert!(expected(&err), "{zone}: {err}");
    }
}

fn rootwalk(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rootwalk"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn exit_codes_and_json() {
    let healthy = rootwalk(&["check", "good.tld1", "--lab", "--format", "json"]);
    assert_eq!(healthy.status.code(), Some(0));
    let report: Report = serde_json::from_slice(&healthy.stdout).unwrap();
    assert_eq!(report.zone, "good.tld1.");
    assert_eq!(report.summary.errors, 0);
    let value: serde_json::Value = serde_json::from_slice(&healthy.stdout).unwrap();
    for field in [
        "zone",
        "parent",
        "parent_servers",
        "delegation",
        "servers",
        "glueless_chain",
        "findings",
        "summary",
    ] {
        assert!(value.get(field).is_some(), "JSON lacks {field}");
    }

    let broken = rootwalk(&["check", "noglue.tld1", "--lab"]);
    assert_eq!(broken.status.code(), Some(1));
    let text = String::from_utf8_lossy(&broken.stdout);
    assert!(
        text.contains(";; ERRORS (1)") && text.contains("missing-glue"),
        "{text}"
    );

    let not_zone = rootwalk(&["check", "www.a.tld1", "--lab"]);
    assert_eq!(not_zone.status.code(), Some(2));
    let err = String::from_utf8_lossy(&not_zone.stderr);
    assert!(err.contains("www.a.tld1. is not a zone"), "{err}");
    let bad = rootwalk(&["check", "bad..name", "--lab"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[tokio::test]
async fn glue_for_a_name_the_zone_does_not_have() {
    let lab = lab().await;
    let report = run(&lab, "vanity.tld1.").await.unwrap();
    let names = ["ns1.vanity.tld1.", "ns2.vanity.tld1."];
    assert_eq!(
        found(&report),
        expect(&[
            (Notice, Unsigned, &[]),
            (Notice, SoaTimers, &[]),
            (Error, GlueNotInZone, &["ns2.vanity.tld1."]),
            (Notice, SinglePrefix, &names),
        ]),
        "{}",
        report.to_text()
    );
    let f = &report.findings[0];
    assert_eq!(f.fix_at, FixAt::ZoneFile);
    assert!(
        f.message.contains("vanity.tld1. has no address for it"),
        "{}",
        f.message
    );
    // Both servers answer; the zone still resolves without ns2.
    assert_eq!(report.verdict, Verdict::Degraded);
}

#[tokio::test]
async fn every_finding_says_where_it_is_fixed() {
    let lab = lab().await;
    let cases = [
        ("noglue.tld1.", MissingGlue, FixAt::Registrar),
        ("nosib.tld1.", MissingSiblingGlue, FixAt::Registrar),
        ("moved.tld1.", StaleSiblingGlue, FixAt::Registrar),
        ("mismatch.tld1.", NsMismatch, FixAt::Registrar),
        ("serial.tld1.", SerialMismatch, FixAt::Server),
        ("lame.tld2.", Lame, FixAt::Server),
        ("notcp.tld1.", NoTcp, FixAt::Server),
        ("d.tld1.", GluelessChain, FixAt::Registrar),
        ("x.tld2.", GluelessCycle, FixAt::Registrar),
        ("a.tld1.", SinglePrefix, FixAt::Server),
    ];
    for (zone, code, fix_at) in cases {
        let report = run(&lab, zone).await.unwrap();
        let f = report
            .findings
            .iter()
            .find(|f| f.code == code)
            .unwrap_or_else(|| panic!("{zone}: no {code:?}\n{}", report.to_text()));
        assert_eq!(f.fix_at, fix_at, "{zone} {code:?}");
        assert!(!f.fix.is_empty());
        let text = report.to_text();
        let line = format!("fix at the {fix_at}: {}", f.fix);
        assert!(text.contains(&line), "{zone}: {text}");
    }
}

#[tokio::test]
async fn verdicts_separate_degraded_broken_and_down() {
    let lab = lab().await;
    for (zone, verdict) in [
        ("good.tld1.", Verdict::Healthy),
        // Warnings only: it works.
        ("serial.tld1.", Verdict::Healthy),
        ("lame.tld2.", Verdict::Degraded),
        ("notcp.tld1.", Verdict::Degraded),
        ("dead.tld3.", Verdict::Down),
        ("x.tld2.", Verdict::Down),
    ] {
        let report = run(&lab, zone).await.unwrap();
        assert_eq!(report.verdict, verdict, "{zone}: {}", report.to_text());
        assert!(
            report
                .to_text()
                .contains(&format!(";; {zone}: {verdict}: ")),
            "{}",
            report.to_text()
        );
    }
}

#[test]
fn fail_on_warning_for_ci_and_servers_as_objects_in_json() {
    let serial = rootwalk(&["check", "serial.tld1", "--lab"]);
    assert_eq!(serial.status.code(), Some(0), "warnings only: {serial:?}");
    let serial = rootwalk(&["check", "serial.tld1", "--lab", "--fail-on", "warning"]);
    assert_eq!(serial.status.code(), Some(1), "{serial:?}");
    let good = rootwalk(&["check", "good.tld1", "--lab", "--fail-on", "warning"]);
    assert_eq!(good.status.code(), Some(0), "{good:?}");
    let bad = rootwalk(&["check", "good.tld1", "--lab", "--fail-on", "notice"]);
    assert_eq!(bad.status.code(), Some(2), "{bad:?}");

    let out = rootwalk(&["check", "stale.tld1", "--lab", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["verdict"], "degraded");
    for f in value["findings"].as_array().unwrap() {
        assert!(f["fix_at"].is_string() && f["fix"].is_string(), "{f}");
        for server in f["servers"].as_array().unwrap() {
            assert!(server["name"].is_string(), "{server}");
            assert!(server.get("address").is_some(), "{server}");
        }
    }
    assert_eq!(value["findings"][0]["fix_at"], "registrar");
    let lame = value["findings"][0]["consequences"][0].as_str().unwrap();
    assert!(lame.contains("is lame"), "{lame}");

    let serial = rootwalk(&["check", "serial.tld1", "--lab", "--format", "json"]);
    let value: serde_json::Value = serde_json::from_slice(&serial.stdout).unwrap();
    let servers = value["findings"][0]["servers"].as_array().unwrap();
    assert!(
        servers.iter().any(|s| s["name"] == "ns1.serial.tld1."
            && s["address"].as_str().is_some_and(|a| a.ends_with(".236"))),
        "{servers:?}"
    );
}

/// The findings of `report` whose code is `code`.
fn with_code(report: &Report, code: Code) -> Vec<&rootwalk::check::findings::Finding> {
    report.findings.iter().filter(|f| f.code == code).collect()
}

/// The DNSSEC codes that mean validating resolvers fail.
const DNSSEC_ERRORS: [Code; 4] = [
    DsMismatch,
    DnskeyNotSignedByDsKey,
    RrsigExpired,
    RrsigInvalid,
];

#[tokio::test]
async fn a_ds_left_at_the_registrar_is_a_broken_delegation() {
    let lab = lab().await;
    let report = run(&lab, "dsmismatch.tld1.").await.unwrap();
    let text = report.to_text();
    let f = with_code(&report, DsMismatch);
    assert_eq!(f.len(), 1, "{text}");
    assert_eq!((f[0].severity, f[0].fix_at), (Error, FixAt::Registrar));
    assert!(
        f[0].fix.contains("update the DS at the registrar"),
        "{}",
        f[0].fix
    );
    assert!(f[0].fix.contains("publish the key"), "{}", f[0].fix);
    assert_eq!(f[0].rfc.as_deref(), Some("RFC 4035 §5.2"));
    // The servers concerned are the parent's, which publish the DS.
    let mut servers: Vec<&str> = f[0].servers.iter().map(|s| s.name.as_str()).collect();
    servers.sort();
    assert_eq!(servers, ["ns1.nic.tld1.", "ns2.nic.tld1."]);
    assert_eq!(report.verdict, Verdict::Broken, "{text}");
    assert_eq!(report.dnssec.status, DnssecStatus::Broken);
    assert!(text.contains(";; DNSSEC: broken (DS "), "{text}");
    // Only the DS is wrong: the zone's own signatures are fine.
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.code == DsMismatch || !DNSSEC_ERRORS.contains(&f.code)),
        "{text}"
    );

    let out = rootwalk(&["check", "dsmismatch.tld1", "--lab", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["verdict"], "broken");
    assert_eq!(value["dnssec"]["status"], "broken");
    assert_eq!(value["findings"][0]["code"], "ds-mismatch");
    assert_eq!(value["findings"][0]["fix_at"], "registrar");
}

#[tokio::test]
async fn expired_signatures_and_a_key_set_signed_by_the_zsk_only() {
    let lab = lab().await;
    let expired = run(&lab, "expired.tld1.").await.unwrap();
    let text = expired.to_text();
    let f = with_code(&expired, RrsigExpired);
    assert_eq!(f.len(), 1, "{text}");
    assert_eq!((f[0].severity, f[0].fix_at), (Error, FixAt::ZoneFile));
    assert!(
        f[0].message.contains("expired.tld1. SOA") && f[0].message.contains("expired.tld1. DNSKEY"),
        "{}",
        f[0].message
    );
    assert_eq!(
        strings_of(&f[0].servers),
        [at(&lab, "ns.expired.tld1.", 5, 2)]
    );
    assert_eq!(expired.verdict, Verdict::Broken, "{text}");
    // Expired, not invalid: one cause, one finding.
    assert!(with_code(&expired, RrsigInvalid).is_empty(), "{text}");
    assert!(with_code(&expired, RrsigExpiring).is_empty(), "{text}");

    let zskonly = run(&lab, "zskonly.tld1.").await.unwrap();
    let text = zskonly.to_text();
    let f = with_code(&zskonly, DnskeyNotSignedByDsKey);
    assert_eq!(f.len(), 1, "{text}");
    assert_eq!(f[0].severity, Error);
    assert_eq!(f[0].fix_at, FixAt::ZoneFile);
    assert_eq!(f[0].rfc.as_deref(), Some("RFC 4035 §5.2"));
    // The DS matches the KSK the zone serves: no ds-mismatch; the SOA's
    // signature by the ZSK is good.
    let codes: Vec<Code> = zskonly.findings.iter().map(|f| f.code).collect();
    assert!(
        !codes.contains(&DsMismatch) && !codes.contains(&RrsigInvalid),
        "{text}"
    );
    assert_eq!(zskonly.verdict, Verdict::Broken);

    let badsig = run(&lab, "badsig.tld1.").await.unwrap();
    let f = with_code(&badsig, RrsigInvalid);
    assert_eq!(f.len(), 1, "{}", badsig.to_text());
    assert!(
        f[0].message.contains("badsig.tld1. SOA"),
        "{}",
        f[0].message
    );
}

fn strings_of(servers: &[rootwalk::check::findings::ServerRef]) -> Vec<String> {
    servers.iter().map(ToString::to_string).collect()
}

#[tokio::test]
async fn signed_zones_say_so_and_unsigned_ones_say_so_plainly() {
    let lab = lab().await;
    for zone in ["a.tld1.", "c.tld2.", "hosting.tld3."] {
        let report = run(&lab, zone).await.unwrap();
        let text = report.to_text();
        assert_eq!(report.dnssec.status, DnssecStatus::Signed, "{text}");
        assert_eq!(report.dnssec.ds.len(), 1, "{text}");
        assert!(
            report.dnssec.dnskeys.iter().any(|k| k.ends_with("KSK")),
            "{text}"
        );
        assert!(text.contains(";; DNSSEC: signed (DS "), "{text}");
        for f in &report.findings {
            assert!(
                !DNSSEC_ERRORS.contains(&f.code)
                    && !matches!(
                        f.code,
                        Unsigned | RrsigExpiring | DnskeyDisagree | DeprecatedAlgorithm
                    ),
                "{zone}: {text}"
            );
        }
        // The lab's NSEC3 (tld2's zones) uses 0 iterations and no salt,
        // as RFC 9276 asks: no notice.
        assert!(with_code(&report, Nsec3Iterations).is_empty(), "{text}");
    }

    let report = run(&lab, "unsigned.tld1.").await.unwrap();
    let text = report.to_text();
    let f = with_code(&report, Unsigned);
    assert_eq!(f.len(), 1, "{text}");
    assert_eq!(f[0].severity, Notice);
    assert!(
        f[0].message.contains("the zone is not signed")
            || f[0].message.contains("unsigned.tld1. is not signed"),
        "{}",
        f[0].message
    );
    assert!(
        f[0].message
            .contains("resolvers cannot tell forged answers from true ones"),
        "{}",
        f[0].message
    );
    assert_eq!(report.dnssec.status, DnssecStatus::Unsigned);
    assert!(text.contains(";; DNSSEC: unsigned"), "{text}");
    assert_eq!(report.verdict, Verdict::Healthy, "a notice only: {text}");
}

#[tokio::test]
async fn a_server_without_edns_is_reported_and_compliant_ones_are_not() {
    let lab = lab().await;
    let old = run(&lab, "oldedns.tld1.").await.unwrap();
    let ns = at(&lab, "ns.oldedns.tld1.", 2, 3);
    let edns = with_code(&old, EdnsUnsupported);
    assert_eq!(edns.len(), 1, "{}", old.to_text());
    let f = edns[0];
    assert_eq!(f.severity, Warning);
    assert_eq!(strings_of(&f.servers), [ns]);
    assert_eq!(f.rfc.as_deref(), Some("RFC 6891 §7"));
    assert_eq!(f.fix_at, FixAt::Server);
    assert!(f.message.contains("FORMERR without OPT"), "{}", f.message);
    // One cause, one finding: no version or option findings on top.
    assert!(with_code(&old, EdnsVersion).is_empty());
    assert!(with_code(&old, EdnsOption).is_empty());
    // The server still serves the zone (resolvers fall back to plain DNS).
    assert!(old.servers.iter().all(|s| s.lame.is_none()));
    let text = old.to_text();
    assert!(text.contains("edns-unsupported"), "{text}");

    // The lab's other servers answer BADVERS to version 1 and ignore an
    // unknown option: no EDNS finding.
    for zone in ["a.tld1.", "good.tld1."] {
        let report = run(&lab, zone).await.unwrap();
        let edns: Vec<_> = report
            .findings
            .iter()
            .filter(|f| matches!(f.code, EdnsUnsupported | EdnsVersion | EdnsOption))
            .collect();
        assert!(edns.is_empty(), "{zone}: {}", report.to_text());
    }
}

#[tokio::test]
async fn lab_soa_timers_are_a_notice_naming_the_values() {
    let lab = lab().await;
    let good = run(&lab, "good.tld1.").await.unwrap();
    let soa = with_code(&good, SoaTimers);
    assert_eq!(soa.len(), 1, "{}", good.to_text());
    let f = soa[0];
    assert_eq!(f.severity, Notice);
    assert_eq!(f.fix_at, FixAt::ZoneFile);
    assert_eq!(f.rfc.as_deref(), Some("RFC 1912 §2.2"));
    // The lab's SOA is ( serial 3600 600 86400 300 ): only expire is off.
    assert!(
        f.message
            .contains("refresh 3600 retry 600 expire 86400 minimum 300"),
        "{}",
        f.message
    );
    assert!(
        f.message.contains("expire 86400 is below a week"),
        "{}",
        f.message
    );
    assert!(!f.message.contains("refresh 3600 is"), "{}", f.message);
    // A notice: the verdict and the counts stay those of a healthy zone.
    assert_eq!(good.summary.errors + good.summary.warnings, 0);
}
