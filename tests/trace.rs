//! `rootwalk trace` against the in-process lab: the hop sequence (zone per
//! hop, where each server address came from, side-resolution nesting), the
//! lab's own query log as a cross-check, and the JSON, DOT and text faces.

mod common;

use std::str::FromStr;

use hickory_proto::rr::{Name, RecordType};
use rootwalk::config::Limits;
use rootwalk::lab::Lab;
use rootwalk::operation::trace_question;
use rootwalk::resolve::Resolver;
use rootwalk::trace::NullObserver;
use rootwalk::trace::render::{self, RenderError};
use rootwalk::trace::tree::{
    AddressSource, DenialKind, DnssecNote, DnssecStatus, DsFact, Hop, HopResult, KeyRole,
    PurposeKind, Resolution, SigFact, Trace,
};
use rootwalk::validate::keys::{DsId, key_tag};
use rootwalk::validate::{as_dnskey, as_ds, date, day};

use AddressSource::{Cache, Glue, Hints, SideResolution};

use common::{lab, resolver};

async fn trace_of(lab: &Lab, name: &str) -> Trace {
    let name = Name::from_str(name).expect("valid name");
    trace_question(&resolver(lab), &name, RecordType::A).await
}

/// Hops in tree order (pre-order): (nesting depth, zone, address source).
fn steps(trace: &Trace) -> Vec<(usize, String, AddressSource)> {
    fn walk(r: &Resolution, depth: usize, out: &mut Vec<(usize, String, AddressSource)>) {
        for hop in &r.hops {
            out.push((depth, hop.zone.clone(), hop.address_source));
            for side in &hop.side_resolutions {
                walk(side, depth + 1, out);
            }
        }
    }
    let mut out = Vec::new();
    for r in &trace.resolutions {
        walk(r, 0, &mut out);
    }
    out
}

fn expect(list: &[(usize, &str, AddressSource)]) -> Vec<(usize, String, AddressSource)> {
    list.iter()
        .map(|(d, z, s)| (*d, (*z).to_string(), *s))
        .collect()
}

/// Every hop, depth-first.
fn all_hops(trace: &Trace) -> Vec<&Hop> {
    fn walk<'a>(r: &'a Resolution, out: &mut Vec<&'a Hop>) {
        for hop in &r.hops {
            out.push(hop);
            for side in &hop.side_resolutions {
                walk(side, out);
            }
        }
    }
    let mut out = Vec::new();
    for r in &trace.resolutions {
        walk(r, &mut out);
    }
    out
}

/// The hops that got a reply are exactly the queries the lab logged.
fn assert_matches_lab_log(trace: &Trace, lab: &Lab) {
    let mut from_trace: Vec<(String, String)> = all_hops(trace)
        .into_iter()
        .filter(|h| h.response.is_some())
        .map(|h| (h.address.clone(), h.qname.to_ascii_lowercase()))
        .collect();
    let mut from_lab: Vec<(String, String)> = lab
        .query_log()
        .into_iter()
        .map(|q| {
            (
                q.server.to_string(),
                q.qname.to_string().to_ascii_lowercase(),
            )
        })
        .collect();
    from_trace.sort();
    from_lab.sort();
    assert_eq!(from_trace, from_lab, "trace hops vs lab query log");
}

/// The priming exchange and the root referral every cold walk starts with,
/// both from the hints: priming runs beside the first root query (RFC 8109
/// off the critical path).
const START: [(usize, &str, AddressSource); 2] = [(0, ".", Hints), (0, ".", Hints)];

fn with_start(
    rest: &[(usize, &'static str, AddressSource)],
) -> Vec<(usize, String, AddressSource)> {
    let mut all = START.to_vec();
    all.extend_from_slice(rest);
    expect(&all)
}

fn answers(trace: &Trace) -> Vec<(String, String)> {
    trace
        .outcome
        .answers
        .iter()
        .map(|r| (r.rtype.clone(), r.data.clone()))
        .collect()
}

fn max_depth(trace: &Trace) -> usize {
    steps(trace).iter().map(|s| s.0).max().unwrap_or(0)
}

#[tokio::test]
async fn in_domain_glue() {
    let lab = lab().await;
    let trace = trace_of(&lab, "www.a.tld1.").await;
    assert_eq!(
        steps(&trace),
        with_start(&[(0, "tld1.", Glue), (0, "a.tld1.", Glue)])
    );
    let hops = &trace.resolutions[0].hops;
    let referral = hops[2].referral.as_ref().expect("tld1 referral");
    assert_eq!(referral.zone, "a.tld1.");
    assert!(referral.servers.iter().all(|s| !s.glue.is_empty()));
    assert_eq!(hops[3].result, HopResult::Answer);
    assert_eq!(answers(&trace), vec![("A".into(), "192.0.2.10".into())]);
    assert_eq!(trace.summary.side_resolutions, 0);
    assert_eq!(trace.summary.hops, 4);
    assert_eq!(trace.summary.upstream_queries, 4);
    // Priming ran beside the root referral: not on the critical path.
    assert_eq!(trace.summary.critical_path.len(), 3);
    assert!(trace.summary.bytes > 0);
    assert_matches_lab_log(&trace, &lab);
}

#[tokio::test]
async fn sibling_glue() {
    let lab = lab().await;
    let trace = trace_of(&lab, "www.b.tld1.").await;
    assert_eq!(
        steps(&trace),
        with_start(&[(0, "tld1.", Glue), (0, "b.tld1.", Glue)])
    );
    let hops = &trace.resolutions[0].hops;
    let referral = hops[2].referral.as_ref().expect("tld1 referral");
    // b.tld1 is served by ns1.a.tld1.: glue from a sibling zone, kept.
    assert_eq!(referral.servers.len(), 1);
    assert_eq!(referral.servers[0].name, "ns1.a.tld1.");
    assert!(!referral.servers[0].glue.is_empty());
    assert!(hops[2].dropped.is_empty());
    assert_eq!(hops[3].server_name, "ns1.a.tld1.");
    assert_eq!(answers(&trace), vec![("A".into(), "192.0.2.11".into())]);
    assert_matches_lab_log(&trace, &lab);
}

#[tokio::test]
async fn glueless_side_resolution_nests_under_the_tld2_hop() {
    let lab = lab().await;
    let trace = trace_of(&lab, "www.c.tld2.").await;
    assert_eq!(
        steps(&trace),
        with_start(&[
            (0, "tld2.", Glue),
            (1, ".", Cache),
            (1, "tld3.", Glue),
            (1, "hosting.tld3.", Glue),
            (0, "c.tld2.", SideResolution),
        ])
    );
    let client = &trace.resolutions[0];
    assert_eq!(client.purpose, PurposeKind::Client);
    let tld2 = &client.hops[2];
    let referral = tld2.referral.as_ref().expect("tld2 referral");
    assert_eq!(referral.servers[0].name, "ns.hosting.tld3.");
    assert!(referral.servers[0].glue.is_empty(), "glueless");
    assert_eq!(tld2.side_resolutions.len(), 1);
    let side = &tld2.side_resolutions[0];
    assert_eq!(side.purpose, PurposeKind::Target);
    assert_eq!(side.qname, "ns.hosting.tld3.");
    assert_eq!(side.for_zone.as_deref(), Some("c.tld2."));
    assert_eq!(side.parent_hop, Some(tld2.id));
    let last = &client.hops[3];
    assert_eq!(last.server_name, "ns.hosting.tld3.");
    assert_eq!(last.address_resolution, Some(side.id));
    assert_eq!(trace.summary.side_resolutions, 1);
    // The side resolution blocked the walk, so it is on the critical path.
    let depths: Vec<u32> = trace
        .summary
        .critical_path
        .iter()
        .map(|s| s.depth)
        .collect();
    assert_eq!(depths, vec![0, 0, 1, 1, 1, 0]);
    assert_eq!(answers(&trace), vec![("A".into(), "198.51.100.30".into())]);
    assert_matches_lab_log(&trace, &lab);
}

#[tokio::test]
async fn chained_glueless_nests_two_deep() {
    let lab = lab().await;
    let trace = trace_of(&lab, "www.d.tld1.").await;
    assert_eq!(
        steps(&trace),
        with_start(&[
            (0, "tld1.", Glue),
            (1, ".", Cache),
            (1, "tld2.", Glue),
            (2, ".", Cache),
            (2, "tld3.", Glue),
            (2, "hosting.tld3.", Glue),
            (1, "c.tld2.", SideResolution),
            (0, "d.tld1.", SideResolution),
        ])
    );
    assert_eq!(max_depth(&trace), 2);
    let outer = &trace.resolutions[0].hops[2].side_resolutions[0];
    assert_eq!(outer.qname, "ns.c.tld2.");
    let inner = &outer.hops[1].side_resolutions[0];
    assert_eq!(inner.qname, "ns.hosting.tld3.");
    assert_eq!(inner.parent_hop, Some(outer.hops[1].id));
    assert_eq!(trace.summary.side_resolutions, 2);
    assert_eq!(trace.summary.critical_path.len(), 9);
    assert_eq!(answers(&trace), vec![("A".into(), "192.0.2.41".into())]);
    assert_matches_lab_log(&trace, &lab);
}

#[tokio::test]
async fn cname_across_zones_restarts_from_the_root() {
    let lab = lab().await;
    let trace = trace_of(&lab, "far.a.tld1.").await;
    assert_eq!(
        steps(&trace),
        with_start(&[
            (0, "tld1.", Glue),
            (0, "a.tld1.", Glue),
            (0, ".", Cache),
            (0, "tld2.", Glue),
            (1, ".", Cache),
            (1, "tld3.", Glue),
            (1, "hosting.tld3.", Glue),
            (0, "c.tld2.", SideResolution),
        ])
    );
    let client = &trace.resolutions[0];
    assert_eq!(client.cnames.len(), 1);
    assert_eq!(client.cnames[0].from, "far.a.tld1.");
    assert_eq!(client.cnames[0].to, "www.c.tld2.");
    assert_eq!(client.hops[3].answer[0].rtype, "CNAME");
    // The restart from the root shows it only `tld2.` (QNAME minimisation);
    // the last hop asks the full new name.
    assert_eq!(client.hops[4].qname, "tld2.");
    assert_eq!(client.hops.last().unwrap().qname, "www.c.tld2.");
    assert_eq!(
        answers(&trace),
        vec![
            ("CNAME".into(), "www.c.tld2.".into()),
            ("A".into(), "198.51.100.30".into())
        ]
    );
    let text = render::text::render(&trace);
    assert!(
        text.contains(";; CNAME: restarting at www.c.tld2."),
        "{text}"
    );
    assert_matches_lab_log(&trace, &lab);
}

#[tokio::test]
async fn lame_server_fails_then_the_next_answers() {
    let lab = lab().await;
    let trace = trace_of(&lab, "www.lame.tld2.").await;
    assert_eq!(
        steps(&trace),
        with_start(&[
            (0, "tld2.", Glue),
            (0, "lame.tld2.", Glue),
            (0, "lame.tld2.", Glue)
        ])
    );
    let hops = &trace.resolutions[0].hops;
    assert_eq!(hops[3].server_name, "ns1.lame.tld2.");
    assert!(matches!(
        hops[3].result,
        HopResult::Error | HopResult::Timeout
    ));
    assert!(hops[3].response.is_none());
    assert!(hops[3].error.is_some());
    assert_eq!(hops[4].server_name, "ns2.lame.tld2.");
    assert_eq!(hops[4].result, HopResult::Answer);
    assert_eq!(trace.outcome.rcode, "NOERROR");
    let text = render::text::render(&trace);
    assert!(text.contains(";; WARNING: "), "{text}");
    assert!(text.contains("(ns1.lame.tld2.)"), "{text}");
    assert_matches_lab_log(&trace, &lab);
}

#[tokio::test]
async fn json_round_trips() {
    let lab = lab().await;
    for name in ["www.d.tld1.", "far.a.tld1.", "www.lame.tld2."] {
        let trace = trace_of(&lab, name).await;
        let text = render::json::render(&trace).expect("serializes");
        let back = render::json::parse(&text).expect("parses");
        assert_eq!(back, trace);
        assert_eq!(render::json::render(&back).expect("serializes"), text);
        // Field names are the documented schema.
        let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(value["schema"], 1);
        assert_eq!(value["question"]["name"], name);
        assert!(value["resolutions"][0]["hops"][0]["address_source"].is_string());
        assert!(value["summary"]["critical_path"].is_array());
    }
}

#[tokio::test]
async fn text_nests_side_resolutions_and_says_where_addresses_came_from() {
    let lab = lab().await;
    let trace = trace_of(&lab, "www.c.tld2.").await;
    let text = render::text::render(&trace);
    assert!(
        text.starts_with("; <<>> rootwalk trace <<>> www.c.tld2. A"),
        "{text}"
    );
    assert!(text.contains("\tIN\tNS\tns.hosting.tld3.\n"), "{text}");
    assert!(text.contains("; glue"), "{text}");
    assert!(
        text.contains("    ;; >>> side resolution #"),
        "indented side resolution:\n{text}"
    );
    assert!(
        text.contains(";; Server address from the root hints"),
        "{text}"
    );
    assert!(
        text.contains(";; Server address from side resolution #"),
        "{text}"
    );
    let received = text.matches(";; Received ").count();
    assert_eq!(received, 7, "{text}");
    assert!(text.contains(";; SUMMARY"), "{text}");
    // Priming runs beside the first root query, off the critical path.
    assert!(text.contains(";; Critical path: 6 exchanges"), "{text}");
}

#[tokio::test]
async fn dot_graph_styles_glue_and_side_resolution_edges() {
    let lab = lab().await;
    let trace = trace_of(&lab, "www.c.tld2.").await;
    let dot = render::dot::render(&trace);
    assert!(dot.starts_with("digraph trace {"), "{dot}");
    assert!(dot.trim_end().ends_with('}'), "{dot}");
    assert!(
        dot.contains("\"zone c.tld2.\" -> \"ns ns.hosting.tld3.\""),
        "{dot}"
    );
    assert!(dot.contains("label=\"glue\", color=blue"), "{dot}");
    let side_edge = dot
        .lines()
        .find(|l| l.contains("\"ns ns.hosting.tld3.\" -> \"addr ") && l.contains("style=dashed"))
        .expect("a dashed side-resolution edge");
    assert!(side_edge.contains("side resolution #"), "{side_edge}");
    assert!(dot.contains("referral"), "{dot}");
    assert!(dot.contains(" ms\""), "timings on edges: {dot}");
    // Balanced braces and quotes: what Graphviz would choke on first.
    assert_eq!(dot.matches('{').count(), dot.matches('}').count());
    assert!(
        dot.lines().all(|l| l.matches('"').count() % 2 == 0),
        "{dot}"
    );
    match render::dot::svg(&dot) {
        Ok(svg) => {
            let svg = String::from_utf8_lossy(&svg);
            assert!(svg.contains("<svg"), "{svg}");
        }
        Err(RenderError::DotMissing) => {
            assert!(
                which_dot().is_none(),
                "dot is on PATH but svg() says it is missing"
            );
        }
        Err(other) => panic!("dot -Tsvg failed: {other}"),
    }
}

fn which_dot() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("dot"))
        .find(|p| p.is_file())
}

#[tokio::test]
async fn warnings_dig_users_know() {
    let lab = lab().await;
    let resolver = resolver(&lab);
    let run = |name: &str, rtype: RecordType| {
        let name = Name::from_str(name).expect("valid name");
        let resolver = resolver.clone();
        async move { trace_question(&resolver, &name, rtype).await }
    };
    use rootwalk::trace::tree::LameKind;
    let lame_kind = |trace: &Trace| {
        all_hops(trace)
            .iter()
            .find_map(|h| h.lame.as_ref().map(|l| l.kind))
    };

    let upward = run("www.upward.tld2.", RecordType::A).await;
    assert_eq!(lame_kind(&upward), Some(LameKind::UpwardReferral));
    assert_eq!(upward.outcome.rcode, "SERVFAIL");
    assert!(render::text::render(&upward).contains(";; WARNING: bad (upward) referral"));

    let sideways = run("www.sideways.tld2.", RecordType::A).await;
    assert_eq!(lame_kind(&sideways), Some(LameKind::SidewaysReferral));
    assert!(render::text::render(&sideways).contains(";; WARNING: bad (sideways) referral"));

    let evil = run("www.sub.evil.tld3.", RecordType::A).await;
    let dropped: Vec<&str> = all_hops(&evil)
        .iter()
        .flat_map(|h| &h.dropped)
        .map(|d| d.record.as_str())
        .collect();
    assert_eq!(dropped.len(), 3, "{dropped:?}");
    assert!(dropped.iter().any(|r| r.starts_with("www.a.tld1.")));
    let text = render::text::render(&evil);
    assert!(text.contains(";; WARNING: dropped 3 records"), "{text}");
    assert!(text.contains("www.a.tld1. 300 IN A"), "{text}");

    let spoof = run("www.spoof.tld1.", RecordType::A).await;
    let ignored: u32 = all_hops(&spoof)
        .iter()
        .filter_map(|h| h.response.as_ref())
        .map(|r| r.ignored_replies)
        .sum();
    assert!(ignored > 0);
    assert_eq!(spoof.outcome.rcode, "NOERROR");
    assert!(render::text::render(&spoof).contains("did not match the query"));

    let big = run("big.a.tld1.", RecordType::TXT).await;
    let last = all_hops(&big).last().copied().expect("hops");
    let response = last.response.as_ref().expect("a reply");
    assert!(response.tcp_fallback);
    assert_eq!(response.transport, "tcp");
    assert!(render::text::render(&big).contains(";; Truncated, retrying in TCP mode."));
}

async fn surveyed(lab: &Lab, name: &str) -> Trace {
    use rootwalk::check::probe::Prober;
    use rootwalk::net::Transport;
    let resolver = resolver(lab);
    let name = Name::from_str(name).expect("valid name");
    let mut trace = trace_question(&resolver, &name, RecordType::A).await;
    let prober = Prober::new(Transport::new(common::TEST_QUERY_TIMEOUT, 1232), lab.port());
    rootwalk::check::all_servers::survey(&mut trace, &resolver, &prober).await;
    trace
}

#[tokio::test]
async fn all_servers_finds_disagreeing_servers() {
    let lab = lab().await;
    let trace = surveyed(&lab, "www.serial.tld1.").await;
    let zones: Vec<&str> = trace.all_servers.iter().map(|c| c.zone.as_str()).collect();
    assert_eq!(zones, [".", "tld1.", "serial.tld1."]);
    // Both roots and both tld1 servers asked, and they agree.
    for cut in &trace.all_servers[..2] {
        assert_eq!(cut.servers.len(), 2, "{}", cut.zone);
        assert!(!cut.disagreement, "{}", cut.zone);
        assert!(
            cut.servers
                .iter()
                .all(|s| s.reply.starts_with("referral to") && !s.lame)
        );
    }
    let serial = &trace.all_servers[2];
    assert!(serial.disagreement);
    let replies: Vec<&str> = serial.servers.iter().map(|s| s.reply.as_str()).collect();
    assert_eq!(replies.len(), 2);
    assert!(
        replies.contains(&"answer A 192.0.2.161") && replies.contains(&"answer A 192.0.2.162"),
        "{replies:?}"
    );

    let text = render::text::render(&trace);
    assert!(
        text.contains(";; WARNING: the servers of serial.tld1. disagree"),
        "{text}"
    );
    let json = render::json::render(&trace).unwrap();
    let back: Trace = serde_json::from_str(&json).unwrap();
    assert_eq!(back, trace);
}

#[tokio::test]
async fn all_servers_reports_lame_servers_and_glueless_cuts() {
    let lab = lab().await;
    let trace = surveyed(&lab, "www.lame.tld2.").await;
    let cut = trace
        .all_servers
        .iter()
        .find(|c| c.zone == "lame.tld2.")
        .unwrap();
    let lame: Vec<&str> = cut
        .servers
        .iter()
        .filter(|s| s.lame)
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(lame, ["ns1.lame.tld2."]);
    assert!(
        !cut.disagreement,
        "one server answered: nothing to disagree with"
    );
    assert!(render::text::render(&trace).contains(";; WARNING: lame server ns1.lame.tld2."));

    // A glueless cut's servers are found through the resolver, and the
    // cuts of the side resolution are surveyed too.
    let trace = surveyed(&lab, "www.c.tld2.").await;
    let cuts: Vec<(&str, &str)> = trace
        .all_servers
        .iter()
        .map(|c| (c.zone.as_str(), c.qname.as_str()))
        .collect();
    assert_eq!(
        cuts,
        [
            (".", "tld2."),
            ("tld2.", "c.tld2."),
            (".", "tld3."),
            ("tld3.", "hosting.tld3."),
            ("hosting.tld3.", "ns.hosting.tld3."),
            ("c.tld2.", "www.c.tld2."),
        ]
    );
    let cut = trace
        .all_servers
        .iter()
        .find(|c| c.zone == "c.tld2.")
        .unwrap();
    assert_eq!(cut.servers.len(), 1);
    assert_eq!(cut.servers[0].name, "ns.hosting.tld3.");
    assert!(cut.servers[0].reply.starts_with("answer A "));
    // Without --all-servers the JSON has no such field.
    let plain = trace_of(&lab, "www.a.tld1.").await;
    assert!(
        !render::json::render(&plain)
            .unwrap()
            .contains("all_servers")
    );
}

#[tokio::test]
async fn a_recent_failure_shows_as_a_cache_hit_without_hops() {
    let lab = lab().await;
    let resolver = resolver(&lab);
    let name = Name::from_str("www.x.tld2.").unwrap();
    let first = trace_question(&resolver, &name, RecordType::A).await;
    assert_eq!(first.outcome.rcode, "SERVFAIL");
    assert!(first.summary.hops > 0);

    let again = trace_question(&resolver, &name, RecordType::A).await;
    assert_eq!(again.outcome.rcode, "SERVFAIL");
    assert_eq!(
        again.summary.hops, 0,
        "nothing is sent for a recent failure"
    );
    let client = &again.resolutions[0];
    assert_eq!(client.purpose, PurposeKind::Client);
    assert!(
        client.cache_hits[0].what.contains("recent failure"),
        "{:?}",
        client.cache_hits
    );
    let text = render::text::render(&again);
    assert!(
        text.contains(";; from cache: recent failure of www.x.tld2. A"),
        "{text}"
    );
}

#[tokio::test]
async fn glueless_servers_over_the_limit_are_shown_as_skipped() {
    let lab = lab().await;
    let resolver = Resolver::new(common::config_with(
        &lab,
        Limits {
            max_glueless_per_delegation: 0,
            ..common::limits()
        },
    ));
    let name = Name::from_str("www.c.tld2.").unwrap();
    let trace = trace_question(&resolver, &name, RecordType::A).await;
    assert_eq!(trace.outcome.rcode, "SERVFAIL");
    assert_eq!(trace.summary.side_resolutions, 0);
    let referral = trace.resolutions[0]
        .hops
        .iter()
        .find(|h| h.referral.as_ref().is_some_and(|r| r.zone == "c.tld2."))
        .expect("tld2 referred to c.tld2");
    let skipped: Vec<(&str, &str)> = referral
        .skipped
        .iter()
        .map(|s| (s.name.as_str(), s.zone.as_str()))
        .collect();
    assert_eq!(skipped, [("ns.hosting.tld3.", "c.tld2.")]);
    let text = render::text::render(&trace);
    assert!(
        text.contains(";; WARNING: skipped ns.hosting.tld3. (server of c.tld2.)"),
        "{text}"
    );
}

#[tokio::test]
async fn txt_strings_are_quoted_one_by_one_as_dig_prints_them() {
    let lab = lab().await;
    let name = Name::from_str("big.a.tld1.").unwrap();
    let trace = trace_question(&resolver(&lab), &name, RecordType::TXT).await;
    let data = &trace.outcome.answers[0].data;
    assert!(
        data.starts_with(
            "\"string 01 of big.a.tld1, too large for one 1232-byte UDP reply\" \
             \"string 02 of big.a.tld1,"
        ),
        "{data}"
    );
    assert_eq!(data.matches("\" \"").count(), 39, "40 strings: {data}");
    let json = render::json::render(&trace).expect("serializes");
    assert!(
        json.contains(r#""data": "\"string 01 of big.a.tld1"#),
        "{json}"
    );
}

#[tokio::test]
async fn a_tcp_fallback_hop_shows_the_tcp_reply_and_costs_both_tries() {
    let lab = lab().await;
    let name = Name::from_str("big.a.tld1.").unwrap();
    let trace = trace_question(&resolver(&lab), &name, RecordType::TXT).await;
    let last = all_hops(&trace).last().copied().expect("hops");
    let response = last.response.as_ref().expect("a reply");
    assert!(response.tcp_fallback);
    // The TCP reply was not truncated: no `tc`.
    assert_eq!(response.flags, ["aa"]);
    let text = render::text::render(&trace);
    assert!(text.contains("TCP NOERROR aa]"), "{text}");
    // The critical path counts the truncated UDP try as well as the TCP
    // exchange whose RTT the hop reports.
    let step = trace
        .summary
        .critical_path
        .iter()
        .find(|s| s.hop == last.id)
        .expect("the last hop is on the path");
    assert!(step.duration_us > response.rtt_us, "{step:?} {response:?}");
}

#[tokio::test]
async fn negative_answers_print_their_soa_like_digs_authority_section() {
    let lab = lab().await;
    for (qname, qtype, rcode) in [
        ("nope.a.tld1.", RecordType::A, "NXDOMAIN"),
        ("www.a.tld1.", RecordType::AAAA, "NOERROR"),
    ] {
        let name = Name::from_str(qname).unwrap();
        let trace = trace_question(&resolver(&lab), &name, qtype).await;
        assert_eq!(trace.outcome.rcode, rcode);
        let last = trace.resolutions[0].hops.last().expect("hops");
        let soa: Vec<String> = last.authority.iter().map(|r| r.dig_line()).collect();
        assert_eq!(
            soa,
            ["a.tld1.\t300\tIN\tSOA\tns1.a.tld1. hostmaster.a.tld1. 1 3600 600 86400 300"],
            "{qname}"
        );
        let text = render::text::render(&trace);
        let at = text.find(&soa[0]).expect("SOA printed");
        let received = text[at..].find(";; Received ").expect("then the hop line");
        assert!(text[at..at + received].lines().count() == 1, "{text}");
    }
}

#[tokio::test]
async fn a_glueless_cycle_nests_where_it_happened_and_is_named() {
    let lab = lab().await;
    let trace = trace_of(&lab, "www.x.tld2.").await;
    assert_eq!(trace.outcome.rcode, "SERVFAIL");
    assert_eq!(trace.resolutions.len(), 1, "no orphan at the top level");
    // #1 ns.y.tld3 (for x.tld2) > #2 ns.x.tld2 (for y.tld3) > #3 ns.y.tld3 again.
    let first = &trace.resolutions[0].hops[2].side_resolutions[0];
    assert_eq!((first.id, first.qname.as_str()), (1, "ns.y.tld3."));
    let second = &first.hops[1].side_resolutions[0];
    assert_eq!((second.id, second.qname.as_str()), (2, "ns.x.tld2."));
    let third = &second.side_resolutions[0];
    assert_eq!((third.id, third.qname.as_str()), (3, "ns.y.tld3."));
    assert!(third.error.as_deref().unwrap_or("").contains("cycle"));
    assert_eq!(
        trace.glueless_cycle().expect("a cycle"),
        ["x.tld2.", "ns.y.tld3.", "y.tld3.", "ns.x.tld2.", "x.tld2."]
    );
    let text = render::text::render(&trace);
    assert!(
        text.contains("            ;; >>> side resolution #3: ns.y.tld3. A"),
        "nested two levels deep:\n{text}"
    );
    assert!(
        text.contains(
            "; glueless cycle: x.tld2. -> ns.y.tld3. -> y.tld3. -> ns.x.tld2. -> x.tld2.)"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn side_resolutions_count_from_one_and_numbers_agree() {
    let lab = lab().await;
    let trace = trace_of(&lab, "www.c.tld2.").await;
    let side = &trace.resolutions[0].hops[2].side_resolutions[0];
    assert_eq!(side.id, 1);
    let last = trace.resolutions[0].hops.last().expect("hops");
    assert_eq!(last.address_resolution, Some(1));
    let text = render::text::render(&trace);
    assert!(
        text.contains(";; >>> side resolution #1: ns.hosting.tld3. A"),
        "{text}"
    );
    assert!(
        text.contains("from side resolution #1 of ns.hosting.tld3."),
        "{text}"
    );
    // Singular where it is one.
    assert!(
        text.contains(";; Outcome: NOERROR, 1 answer record\n"),
        "{text}"
    );
    assert!(
        text.contains(" upstream queries, 1 side resolution, 0 timeouts, "),
        "{text}"
    );
}

/// The trace of `name` A by a resolver validating from the lab's anchor.
async fn validated_trace_of(lab: &Lab, name: &str) -> Trace {
    validated_trace(lab, name, RecordType::A).await
}

/// The trace of `name`/`rtype` by a resolver validating from the lab's
/// anchor.
async fn validated_trace(lab: &Lab, name: &str, rtype: RecordType) -> Trace {
    let mut config = common::config(lab);
    config.trust_anchors = Some(lab.trust_anchor());
    let name = Name::from_str(name).expect("valid name");
    trace_question(&Resolver::new(config), &name, rtype).await
}

/// Each DNSSEC note of the hops of `r` (not nested), as (hop zone,
/// subject, status).
fn notes(r: &Resolution) -> Vec<(String, String, DnssecStatus)> {
    r.hops
        .iter()
        .flat_map(|h| {
            h.dnssec
                .iter()
                .map(|n| (h.zone.clone(), n.subject.clone(), n.status))
        })
        .collect()
}

fn has_note(
    notes: &[(String, String, DnssecStatus)],
    zone: &str,
    subject: &str,
    status: DnssecStatus,
) -> bool {
    notes
        .iter()
        .any(|(z, s, st)| z == zone && s == subject && *st == status)
}

/// The note of `r`'s hops (not nested) about `subject` with `status`.
fn note<'a>(r: &'a Resolution, subject: &str, status: DnssecStatus) -> &'a DnssecNote {
    r.hops
        .iter()
        .flat_map(|h| &h.dnssec)
        .find(|n| n.subject == subject && n.status == status)
        .unwrap_or_else(|| panic!("no {status:?} note on {subject}: {:?}", notes(r)))
}

/// The key-signing and zone-signing key tags of `zone` as the lab serves
/// its DNSKEY set (asked by a resolver that does not validate). The lab
/// makes its keys at start-up, so tests compute tags rather than know them.
async fn lab_keys(lab: &Lab, zone: &str) -> (u16, u16) {
    let name = Name::from_str(zone).expect("valid name");
    let outcome = resolver(lab)
        .resolve(&name, RecordType::DNSKEY, &NullObserver)
        .await
        .expect("the zone serves its keys");
    let keys: Vec<_> = outcome.answers.iter().filter_map(as_dnskey).collect();
    let tags = |ksk: bool| -> Vec<u16> {
        keys.iter()
            .filter(|k| k.secure_entry_point() == ksk)
            .filter_map(|k| key_tag(k))
            .collect()
    };
    match (tags(true).as_slice(), tags(false).as_slice()) {
        ([ksk], [zsk]) => (*ksk, *zsk),
        other => panic!("{zone}: one KSK and one ZSK expected, got {other:?}"),
    }
}

/// The DS records of `zone` as its parent serves them.
async fn lab_ds(lab: &Lab, zone: &str) -> Vec<DsId> {
    let name = Name::from_str(zone).expect("valid name");
    let outcome = resolver(lab)
        .resolve(&name, RecordType::DS, &NullObserver)
        .await
        .expect("the parent serves the DS");
    outcome
        .answers
        .iter()
        .filter_map(as_ds)
        .map(DsId::of)
        .collect()
}

/// `SIG` as a note prints it, with its own dates.
fn shown(sig: &SigFact) -> String {
    format!(
        "RRSIG by key {} of {} alg {}, valid {} to {}",
        sig.key_tag,
        sig.signer,
        sig.algorithm,
        day(sig.inception),
        day(sig.expiration)
    )
}

/// The one signature of `note` that verified.
fn verified(note: &DnssecNote) -> &SigFact {
    let found: Vec<&SigFact> = note
        .facts
        .signatures
        .iter()
        .filter(|s| s.verified)
        .collect();
    match found.as_slice() {
        [one] => one,
        _ => panic!("one verified RRSIG expected: {note:?}"),
    }
}

fn unix_now() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as u32)
}

#[tokio::test]
async fn a_secure_trace_shows_the_chain_of_trust_at_each_cut() {
    let lab = lab().await;
    let trace = validated_trace_of(&lab, "www.a.tld1.").await;
    assert_eq!(trace.outcome.dnssec.as_deref(), Some("secure"));
    let client = notes(&trace.resolutions[0]);
    use DnssecStatus::{Pending, Secure};
    // At each cut: the zone's keys trusted, the child's DS, the verdict.
    for (zone, subject, status) in [
        (".", ".", Secure),
        (".", "tld1.", Pending),
        ("tld1.", "tld1.", Secure),
        ("tld1.", "a.tld1.", Pending),
        ("a.tld1.", "a.tld1.", Secure),
        ("a.tld1.", "www.a.tld1. A", Secure),
    ] {
        assert!(
            has_note(&client, zone, subject, status),
            "{zone} {subject} {status:?}: {client:?}"
        );
    }
    // The DNSKEY fetches are hops of the same resolution.
    let fetched: Vec<&str> = trace.resolutions[0]
        .hops
        .iter()
        .filter(|h| h.qtype == "DNSKEY")
        .map(|h| h.qname.as_str())
        .collect();
    for zone in [".", "tld1.", "a.tld1."] {
        assert!(fetched.contains(&zone), "{zone}: {fetched:?}");
    }

    let text = render::text::render(&trace);
    assert!(text.contains(";; DNSSEC: tld1.: DS "), "{text}");
    assert!(
        text.contains(";; DNSSEC: secure (validated from the trust anchor)\n"),
        "{text}"
    );
    assert_eq!(
        text.matches("RFC 4035 §2.2").count(),
        1,
        "said once: {text}"
    );
    let json = render::json::render(&trace).expect("serializes");
    assert!(json.contains(r#""dnssec": "secure""#), "{json}");
    assert!(json.contains(r#""status": "pending""#), "{json}");
    assert_eq!(render::json::parse(&json).expect("parses"), trace);
    let answer = render::answer::text(&trace);
    assert!(answer.trim_end().ends_with(" ms, secure"), "{answer}");

    // Without validation: no note, no verdict, the JSON as before.
    let plain = trace_of(&lab, "www.a.tld1.").await;
    assert_eq!(plain.outcome.dnssec, None);
    assert!(
        !render::json::render(&plain)
            .expect("serializes")
            .contains("dnssec")
    );
    assert!(!render::text::render(&plain).contains("DNSSEC"));
}

#[tokio::test]
async fn each_cut_says_which_ds_matched_which_key_and_which_key_signed() {
    let lab = lab().await;
    let trace = validated_trace_of(&lab, "www.a.tld1.").await;
    let client = &trace.resolutions[0];
    let text = render::text::render(&trace);
    let now = unix_now();
    let (tld1_ksk, tld1_zsk) = lab_keys(&lab, "tld1.").await;
    let (ksk, zsk) = lab_keys(&lab, "a.tld1.").await;
    let ds = lab_ds(&lab, "a.tld1.").await;
    assert_eq!(ds.iter().map(|d| d.key_tag).collect::<Vec<_>>(), [ksk]);
    let ds = ds[0];

    // The referral from tld1.: a.tld1.'s DS, proven by tld1.'s ZSK.
    let referral = note(client, "a.tld1.", DnssecStatus::Pending);
    assert_eq!(
        referral.facts.ds,
        [DsFact::new(ds, false)],
        "the DS as the parent serves it"
    );
    let ds_sig = verified(referral);
    assert_eq!(
        (
            ds_sig.key_tag,
            ds_sig.signer.as_str(),
            ds_sig.type_covered.as_str()
        ),
        (tld1_zsk, "tld1.", "DS")
    );
    assert!(text.contains(&format!(
        ";; DNSSEC: a.tld1.: DS {ds} -> DNSKEY to fetch (DS set: {})\n",
        shown(ds_sig)
    )));

    // The keys of a.tld1.: the DS matched the KSK, which signed the set.
    let keys = note(client, "a.tld1.", DnssecStatus::Secure);
    let mut matched = DsFact::new(ds, false);
    matched.matched = Some(true);
    assert_eq!(keys.facts.ds, [matched]);
    let roles: Vec<(u16, KeyRole, bool, bool)> = keys
        .facts
        .keys
        .iter()
        .map(|k| (k.key_tag, k.role, k.ds_matched, k.signed_key_set))
        .collect();
    assert!(
        roles.contains(&(ksk, KeyRole::Ksk, true, true)),
        "{roles:?}"
    );
    assert!(
        roles.contains(&(zsk, KeyRole::Zsk, false, false)),
        "{roles:?}"
    );
    let key_sig = verified(keys);
    assert_eq!(
        (
            key_sig.key_tag,
            key_sig.type_covered.as_str(),
            key_sig.algorithm
        ),
        (ksk, "DNSKEY", 13)
    );
    assert!(key_sig.inception <= now && now < key_sig.expiration);
    let line = format!(
        ";; DNSSEC: a.tld1.: secure (DS {ds} -> DNSKEY {ksk} KSK; DNSKEY set: {}; other keys: {zsk} ZSK)\n",
        shown(key_sig)
    );
    assert!(text.contains(&line), "{line}\n{text}");

    // The root's keys come from the trust anchor.
    let root = note(client, ".", DnssecStatus::Secure);
    assert!(
        root.facts
            .ds
            .iter()
            .all(|d| d.anchor && d.matched == Some(true)),
        "{root:?}"
    );
    assert!(
        root.text.starts_with(".: secure (trust anchor DS "),
        "{}",
        root.text
    );
    let tld1 = note(client, "tld1.", DnssecStatus::Secure);
    assert_eq!(verified(tld1).key_tag, tld1_ksk);

    // The answer: signed by the ZSK, which the DS never names.
    let answer = note(client, "www.a.tld1. A", DnssecStatus::Secure);
    let sig = verified(answer);
    assert_eq!(
        (
            sig.owner.as_str(),
            sig.type_covered.as_str(),
            sig.signer.as_str(),
            sig.key_tag
        ),
        ("www.a.tld1.", "A", "a.tld1.", zsk)
    );
    let line = format!(";; DNSSEC: www.a.tld1. A: secure ({})\n", shown(sig));
    assert!(text.contains(&line), "{line}\n{text}");

    // The JSON carries the same facts, field by field.
    let json = render::json::render(&trace).expect("serializes");
    for field in [
        format!(r#""key_tag": {ksk}"#),
        r#""role": "ksk""#.to_string(),
        r#""role": "zsk""#.to_string(),
        r#""signed_key_set": true"#.to_string(),
        r#""type_covered": "A""#.to_string(),
        format!(r#""expiration": {}"#, sig.expiration),
        r#""anchor": true"#.to_string(),
        r#""matched": true"#.to_string(),
    ] {
        assert!(json.contains(&field), "{field}: {json}");
    }
    assert_eq!(render::json::parse(&json).expect("parses"), trace);
}

#[tokio::test]
async fn negative_answers_name_their_nsec_and_nsec3_proofs() {
    let lab = lab().await;
    // NXDOMAIN in a.tld1. (NSEC), NODATA at a name that exists.
    for (qname, qtype, rcode, lead) in [
        (
            "nope.a.tld1.",
            RecordType::A,
            "NXDOMAIN",
            "NXDOMAIN proof: NSEC ",
        ),
        (
            "www.a.tld1.",
            RecordType::TXT,
            "NOERROR",
            "NODATA proof: NSEC ",
        ),
    ] {
        let trace = validated_trace(&lab, qname, qtype).await;
        assert_eq!(trace.outcome.rcode, rcode, "{qname}");
        assert_eq!(trace.outcome.dnssec.as_deref(), Some("secure"), "{qname}");
        let (_, zsk) = lab_keys(&lab, "a.tld1.").await;
        let subject = format!("{qname} {qtype}");
        let proof = note(&trace.resolutions[0], &subject, DnssecStatus::Secure);
        assert!(!proof.facts.denial.is_empty(), "{proof:?}");
        for record in &proof.facts.denial {
            assert_eq!(record.kind, DenialKind::Nsec);
            // Each NSEC verified with the zone's ZSK.
            let sig = proof
                .facts
                .signatures
                .iter()
                .find(|s| record.is(s))
                .unwrap_or_else(|| panic!("no RRSIG over {record:?}"));
            assert!(sig.verified && sig.key_tag == zsk, "{sig:?}");
            assert!(
                proof
                    .text
                    .contains(&format!("{record} with {}", shown(sig))),
                "{}",
                proof.text
            );
        }
        assert!(
            proof
                .text
                .starts_with(&format!("{subject}: secure ({lead}")),
            "{}",
            proof.text
        );
        if qtype == RecordType::TXT {
            // NODATA: the NSEC of the name itself, its bitmap without TXT.
            let own = &proof.facts.denial[0];
            assert_eq!(own.owner, "www.a.tld1.");
            assert!(
                own.types.contains(&"A".to_string()) && !own.types.contains(&"TXT".to_string())
            );
        }
    }

    // NXDOMAIN in c.tld2. (NSEC3): hashed owners, shown briefly.
    let trace = validated_trace_of(&lab, "nope.c.tld2.").await;
    assert_eq!(trace.outcome.rcode, "NXDOMAIN");
    assert_eq!(trace.outcome.dnssec.as_deref(), Some("secure"));
    let (_, zsk) = lab_keys(&lab, "c.tld2.").await;
    let proof = note(
        &trace.resolutions[0],
        "nope.c.tld2. A",
        DnssecStatus::Secure,
    );
    assert!(!proof.facts.denial.is_empty(), "{proof:?}");
    for record in &proof.facts.denial {
        assert_eq!(record.kind, DenialKind::Nsec3);
        assert_eq!(record.iterations, Some(0), "RFC 9276");
        let hash = record.owner.split('.').next().unwrap_or("");
        assert_eq!(hash.len(), 32, "base32hex SHA-1: {record:?}");
        assert!(record.next.ends_with(".c.tld2."), "{record:?}");
        assert!(
            proof.text.contains(&format!("NSEC3 {}.. -> ", &hash[..8])),
            "{}",
            proof.text
        );
        let sig = proof
            .facts
            .signatures
            .iter()
            .find(|s| record.is(s))
            .expect("signed");
        assert!(
            sig.verified && sig.key_tag == zsk && sig.signer == "c.tld2.",
            "{sig:?}"
        );
    }
    assert!(
        proof
            .text
            .starts_with("nope.c.tld2. A: secure (NXDOMAIN proof: NSEC3 "),
        "{}",
        proof.text
    );
}

#[tokio::test]
async fn a_glueless_signed_name_shows_both_chains() {
    let lab = lab().await;
    let trace = validated_trace_of(&lab, "www.c.tld2.").await;
    assert_eq!(trace.outcome.dnssec.as_deref(), Some("secure"));
    use DnssecStatus::{Pending, Secure};
    let client = notes(&trace.resolutions[0]);
    for (zone, subject, status) in [
        ("tld2.", "c.tld2.", Pending),
        ("c.tld2.", "c.tld2.", Secure),
        ("c.tld2.", "www.c.tld2. A", Secure),
    ] {
        assert!(
            has_note(&client, zone, subject, status),
            "{zone} {subject} {status:?}: {client:?}"
        );
    }
    // The side resolution of ns.hosting.tld3 walks its own chain.
    let side = trace.resolutions[0]
        .hops
        .iter()
        .find_map(|h| h.side_resolutions.first())
        .expect("a side resolution");
    assert_eq!(side.qname, "ns.hosting.tld3.");
    let side_notes = notes(side);
    for (zone, subject, status) in [
        (".", "tld3.", Pending),
        ("tld3.", "tld3.", Secure),
        ("tld3.", "hosting.tld3.", Pending),
        ("hosting.tld3.", "hosting.tld3.", Secure),
        ("hosting.tld3.", "ns.hosting.tld3. A", Secure),
    ] {
        assert!(
            has_note(&side_notes, zone, subject, status),
            "{zone} {subject} {status:?}: {side_notes:?}"
        );
    }
    // Each chain names its own keys: Ed25519 (15) in hosting.tld3., P-256
    // (13) in c.tld2.
    let (hosting_ksk, hosting_zsk) = lab_keys(&lab, "hosting.tld3.").await;
    let (c_ksk, c_zsk) = lab_keys(&lab, "c.tld2.").await;
    let hosting = note(side, "hosting.tld3.", Secure);
    assert_eq!(
        (verified(hosting).key_tag, verified(hosting).algorithm),
        (hosting_ksk, 15)
    );
    let ns = note(side, "ns.hosting.tld3. A", Secure);
    assert_eq!(verified(ns).key_tag, hosting_zsk);
    let c = note(&trace.resolutions[0], "c.tld2.", Secure);
    assert_eq!((verified(c).key_tag, verified(c).algorithm), (c_ksk, 13));
    let www = note(&trace.resolutions[0], "www.c.tld2. A", Secure);
    assert_eq!(verified(www).key_tag, c_zsk);
    let text = render::text::render(&trace);
    assert!(
        text.contains(&format!(
            "    ;; DNSSEC: ns.hosting.tld3. A: secure ({})\n",
            shown(verified(ns))
        )),
        "indented with its side resolution: {text}"
    );
    assert!(
        text.contains(&format!(
            "\n;; DNSSEC: c.tld2.: secure (DS {c_ksk}/13/2 -> DNSKEY {c_ksk} KSK; "
        )),
        "{text}"
    );
}

#[tokio::test]
async fn an_unsigned_delegation_is_insecure() {
    let lab = lab().await;
    let trace = validated_trace_of(&lab, "www.unsigned.tld1.").await;
    assert_eq!(trace.outcome.dnssec.as_deref(), Some("insecure"));
    let client = notes(&trace.resolutions[0]);
    use DnssecStatus::Insecure;
    assert!(
        has_note(&client, "tld1.", "unsigned.tld1.", Insecure),
        "{client:?}"
    );
    assert!(
        has_note(&client, "unsigned.tld1.", "www.unsigned.tld1. A", Insecure),
        "{client:?}"
    );
    let text = render::text::render(&trace);
    assert!(
        text.contains(";; DNSSEC: unsigned.tld1.: insecure (no DS at its cut"),
        "{text}"
    );
    assert!(
        text.contains(";; DNSSEC: insecure (unsigned.tld1. has no DS at its cut"),
        "{text}"
    );
    // The proof that there is no DS: tld1.'s NSEC at the cut, NS without
    // DS in its bitmap, verified with tld1.'s ZSK.
    let (_, tld1_zsk) = lab_keys(&lab, "tld1.").await;
    let cut = note(&trace.resolutions[0], "unsigned.tld1.", Insecure);
    let nsec = cut
        .facts
        .denial
        .iter()
        .find(|d| d.owner == "unsigned.tld1.")
        .unwrap_or_else(|| panic!("the NSEC of the cut: {cut:?}"));
    assert_eq!(nsec.kind, DenialKind::Nsec);
    assert!(nsec.types.contains(&"NS".to_string()) && !nsec.types.contains(&"DS".to_string()));
    let sig = cut
        .facts
        .signatures
        .iter()
        .find(|s| nsec.is(s))
        .expect("signed");
    assert!(sig.verified && sig.key_tag == tld1_zsk, "{sig:?}");
    assert!(
        cut.text.contains(&format!("; {nsec} with {})", shown(sig))),
        "{}",
        cut.text
    );
}

#[tokio::test]
async fn a_bad_signature_is_bogus_with_its_reason() {
    let lab = lab().await;
    let trace = validated_trace_of(&lab, "www.badsig.tld1.").await;
    assert_eq!(trace.outcome.rcode, "SERVFAIL");
    let verdict = trace.outcome.dnssec.as_deref().unwrap_or("");
    assert!(
        verdict.starts_with("bogus: RRSIG by key ") && verdict.ends_with(" does not verify"),
        "{verdict}"
    );
    let client = notes(&trace.resolutions[0]);
    assert!(
        has_note(
            &client,
            "badsig.tld1.",
            "www.badsig.tld1. A",
            DnssecStatus::Bogus
        ),
        "{client:?}"
    );
    let text = render::text::render(&trace);
    let reason = verdict.trim_start_matches("bogus: ");
    assert!(
        text.contains(&format!(";; DNSSEC: bogus ({reason})\n")),
        "{text}"
    );
    // The note says what failed, then which RRSIG it was.
    let (_, zsk) = lab_keys(&lab, "badsig.tld1.").await;
    let bogus = note(
        &trace.resolutions[0],
        "www.badsig.tld1. A",
        DnssecStatus::Bogus,
    );
    assert_eq!(bogus.facts.reason.as_deref(), Some(reason));
    assert_eq!(bogus.facts.ede, Some(6), "RFC 8914 DNSSEC Bogus");
    let sig = &bogus.facts.signatures[0];
    assert!(!sig.verified && sig.key_tag == zsk, "{sig:?}");
    assert!(
        text.contains(&format!(
            ";; DNSSEC: www.badsig.tld1. A: bogus ({reason}; {})\n",
            shown(sig)
        )),
        "{text}"
    );
    let json = render::json::render(&trace).expect("serializes");
    assert!(
        json.contains(&format!(r#""dnssec": "bogus: {reason}""#)),
        "{json}"
    );
    assert!(json.contains(r#""status": "bogus""#), "{json}");
    assert!(json.contains(r#""ede": 6"#), "{json}");
    assert!(
        render::answer::text(&trace).trim_end().ends_with(", bogus"),
        "{}",
        render::answer::text(&trace)
    );
}

#[tokio::test]
async fn broken_key_sets_say_what_failed_at_the_cut() {
    let lab = lab().await;
    let now = unix_now();

    // Expired signatures: the DNSKEY set's RRSIG by the KSK is past its
    // expiration, said as a date.
    let trace = validated_trace_of(&lab, "www.expired.tld1.").await;
    let (ksk, _) = lab_keys(&lab, "expired.tld1.").await;
    let keys = note(&trace.resolutions[0], "expired.tld1.", DnssecStatus::Bogus);
    assert_eq!(keys.facts.ede, Some(7), "Signature Expired: {keys:?}");
    let sig = keys
        .facts
        .signatures
        .iter()
        .find(|s| s.key_tag == ksk && s.type_covered == "DNSKEY")
        .expect("the KSK's RRSIG");
    assert!(!sig.verified && sig.expiration < now, "{sig:?}");
    let reason = keys.facts.reason.as_deref().unwrap_or("");
    let expired = format!("RRSIG by key {ksk} expired {} (now ", date(sig.expiration));
    assert!(
        reason.starts_with(&expired) && reason.ends_with(" UTC)"),
        "{reason}"
    );
    assert!(keys.text.contains(&shown(sig)), "{}", keys.text);

    // A DS that matches no key: the DS, "no key", and the keys served.
    let trace = validated_trace_of(&lab, "www.dsmismatch.tld1.").await;
    let (ksk, zsk) = lab_keys(&lab, "dsmismatch.tld1.").await;
    let ds = lab_ds(&lab, "dsmismatch.tld1.").await;
    assert!(ds.iter().all(|d| d.key_tag != ksk && d.key_tag != zsk));
    let keys = note(
        &trace.resolutions[0],
        "dsmismatch.tld1.",
        DnssecStatus::Bogus,
    );
    assert_eq!(keys.facts.ede, Some(9), "DNSKEY Missing: {keys:?}");
    assert_eq!(keys.facts.ds.len(), ds.len());
    assert!(
        keys.facts.ds.iter().all(|d| d.matched == Some(false)),
        "{keys:?}"
    );
    assert!(
        keys.facts
            .keys
            .iter()
            .all(|k| !k.ds_matched && !k.signed_key_set)
    );
    for piece in [
        format!("DS {} -> no key", ds[0]),
        format!("keys: {ksk} KSK, {zsk} ZSK"),
    ] {
        assert!(keys.text.contains(&piece), "{piece}: {}", keys.text);
    }

    // A DNSKEY set signed only by the ZSK: the DS matched the KSK, but the
    // only RRSIG over the set is the ZSK's.
    let trace = validated_trace_of(&lab, "www.zskonly.tld1.").await;
    let (ksk, zsk) = lab_keys(&lab, "zskonly.tld1.").await;
    let keys = note(&trace.resolutions[0], "zskonly.tld1.", DnssecStatus::Bogus);
    assert_eq!(keys.facts.ede, Some(10), "RRSIGs Missing: {keys:?}");
    assert!(
        keys.facts
            .ds
            .iter()
            .all(|d| d.matched == Some(true) && d.key_tag == ksk)
    );
    let signers: Vec<(u16, bool)> = keys
        .facts
        .signatures
        .iter()
        .map(|s| (s.key_tag, s.verified))
        .collect();
    assert_eq!(signers, [(zsk, false)]);
    for piece in [
        format!("DS {ksk}/13/2 -> DNSKEY {ksk} KSK"),
        format!("DNSKEY set: RRSIG by key {zsk} of zskonly.tld1."),
        format!("other keys: {zsk} ZSK"),
    ] {
        assert!(keys.text.contains(&piece), "{piece}: {}", keys.text);
    }
    // The answer of a zone whose keys failed says so.
    let answer = note(
        &trace.resolutions[0],
        "www.zskonly.tld1. A",
        DnssecStatus::Bogus,
    );
    assert!(
        answer
            .text
            .contains("the keys of zskonly.tld1. are not trusted"),
        "{}",
        answer.text
    );
}

#[tokio::test]
async fn a_cold_validating_resolver_fetches_each_zones_keys_once() {
    let lab = lab().await;
    let mut config = common::config(&lab);
    config.trust_anchors = Some(lab.trust_anchor());
    let dnskey_queries = |zone: &str| {
        lab.query_log()
            .iter()
            .filter(|q| q.qtype == RecordType::DNSKEY && q.qname.to_string() == zone)
            .count()
    };
    // Priming (. NS) runs beside the first walk, and both need the root's
    // keys: one fetch serves both.
    let name = Name::from_str("www.a.tld1.").unwrap();
    let trace = trace_question(&Resolver::new(config.clone()), &name, RecordType::A).await;
    assert_eq!(trace.outcome.dnssec.as_deref(), Some("secure"));
    assert_eq!(dnskey_queries("."), 1, "{:?}", lab.query_log());
    let root_fetches = all_hops(&trace)
        .iter()
        .filter(|h| h.qtype == "DNSKEY" && h.qname == ".")
        .count();
    assert_eq!(root_fetches, 1);
    // The keys are told once, at the hop that fetched them.
    assert_eq!(
        notes(&trace.resolutions[0])
            .iter()
            .filter(|(_, subject, _)| subject == ".")
            .count(),
        1
    );

    // Two cold questions at once under tld1. share the fetches of the
    // keys of the root and of tld1.
    lab.clear_log();
    let resolver = Resolver::new(config);
    let unsigned = Name::from_str("www.unsigned.tld1.").unwrap();
    let (a, b) = tokio::join!(
        resolver.resolve(&name, RecordType::A, &NullObserver),
        resolver.resolve(&unsigned, RecordType::A, &NullObserver),
    );
    assert!(a.is_ok() && b.is_ok(), "{a:?} {b:?}");
    assert_eq!(dnskey_queries("."), 1, "{:?}", lab.query_log());
    assert_eq!(dnskey_queries("tld1."), 1, "{:?}", lab.query_log());
}

#[tokio::test]
async fn dot_colours_zones_and_answers_by_their_dnssec_state() {
    let lab = lab().await;
    let dot = render::dot::render(&validated_trace_of(&lab, "www.a.tld1.").await);
    for zone in [".", "tld1.", "a.tld1."] {
        let line = format!(
            "\"zone {zone}\" [shape=box, style=bold, label=\"{zone}\\n(secure)\", color=green4, fontcolor=green4];"
        );
        assert!(dot.contains(&line), "{line}\n{dot}");
    }
    assert!(dot.contains("referral (secure)"), "{dot}");
    // The zone's DNSKEY fetch is a hop with its answer, like any other.
    assert!(dot.contains("\"answer a.tld1. DNSKEY (0)\""), "{dot}");
    assert!(
        dot.contains("label=\"www.a.tld1. A 192.0.2.10\\nDNSSEC: secure\"")
            && !dot.contains("no reply"),
        "{dot}"
    );

    let dot = render::dot::render(&validated_trace_of(&lab, "www.unsigned.tld1.").await);
    assert!(
        dot.contains("\"zone unsigned.tld1.\" [shape=box, style=bold, label=\"unsigned.tld1.\\n(insecure)\", color=gray40"),
        "{dot}"
    );
    assert!(dot.contains("referral (insecure)"), "{dot}");

    let bogus = validated_trace_of(&lab, "www.badsig.tld1.").await;
    let dot = render::dot::render(&bogus);
    // The failed node names the reason only (the RRSIGs are in the text).
    let reason = bogus.outcome.dnssec.as_deref().unwrap_or("");
    let reason = reason.trim_start_matches("bogus: ");
    assert!(
        dot.contains(&format!(
            "[shape=octagon, color=red, label=\"www.badsig.tld1. A: bogus ({reason})\"]"
        )),
        "{dot}"
    );
    // The edge to it: `hop N bogus T ms`, red.
    assert!(
        dot.lines()
            .any(|l| l.contains(" bogus ") && l.ends_with("color=red, fontcolor=red];")),
        "{dot}"
    );

    // Without validation, nothing is coloured for DNSSEC.
    let plain = render::dot::render(&trace_of(&lab, "www.a.tld1.").await);
    assert!(
        !plain.contains("green4") && !plain.contains("secure"),
        "{plain}"
    );
}

#[test]
fn the_command_validates_with_the_labs_anchor() {
    let out = common::daemon::rootwalk(&["trace", "www.a.tld1", "--lab"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(";; DNSSEC: www.a.tld1. A: secure (RRSIG by key "),
        "{text}"
    );
    assert!(
        text.contains(";; DNSSEC: secure (validated from the trust anchor)\n"),
        "{text}"
    );
    let out = common::daemon::rootwalk(&["trace", "www.a.tld1", "--lab", "--no-dnssec"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && !text.contains("DNSSEC"), "{text}");
    let out = common::daemon::rootwalk(&["resolve", "www.unsigned.tld1", "--lab"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.trim_end().ends_with(" ms, insecure"), "{text}");
}
