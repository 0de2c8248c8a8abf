//! The engine against the lab: every scenario resolved cold and warm, with
//! the lab's per-server query log proving which servers were asked, whether
//! glue was used and whether side resolutions happened.

mod common;

use std::str::FromStr;

use common::fake_root;
use hickory_proto::op::{Query, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use rootwalk::config::Limits;
use rootwalk::lab::{Lab, LabTransport, LoggedQuery};
use rootwalk::resolve::ResolveError;
use rootwalk::resolve::{CacheMiss, Checking, Failure, Outcome, Resolver};
use rootwalk::trace::NullObserver;

fn name(s: &str) -> Name {
    Name::from_str(s).unwrap()
}

async fn setup() -> (Lab, Resolver) {
    setup_with(common::limits()).await
}

async fn setup_with(limits: Limits) -> (Lab, Resolver) {
    let lab = common::lab().await;
    let resolver = Resolver::new(common::config_with(&lab, limits));
    (lab, resolver)
}

async fn resolve(resolver: &Resolver, qname: &str, qtype: RecordType) -> Result<Outcome, Failure> {
    resolver.resolve(&name(qname), qtype, &NullObserver).await
}

fn addresses(outcome: &Outcome) -> Vec<String> {
    outcome
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(a.0.to_string()),
            _ => None,
        })
        .collect()
}

fn asked(log: &[LoggedQuery], qname: &str) -> Vec<LoggedQuery> {
    log.iter()
        .filter(|q| q.qname == name(qname))
        .cloned()
        .collect()
}

fn server_names(log: &[LoggedQuery]) -> Vec<String> {
    log.iter().map(|q| q.server_name.to_string()).collect()
}

#[tokio::test]
async fn in_domain_glue_walks_root_tld_zone_and_warm_cache_sends_nothing() {
    let (lab, resolver) = setup().await;
    let cold = resolve(&resolver, "www.a.tld1.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(cold.rcode, ResponseCode::NoError);
    assert_eq!(addresses(&cold), ["192.0.2.10"]);
    assert_eq!(cold.stats.side_resolutions, 0);
    let log = lab.query_log();
    // Priming (RFC 8109), sent beside the question's first query, so in
    // either order; and the question's path: root, tld1 and a.tld1 servers
    // once each, in that order.
    assert_eq!(log.len(), 4, "{log:?}");
    let (priming, path): (Vec<_>, Vec<_>) = log
        .iter()
        .cloned()
        .partition(|q| (&q.qname, q.qtype) == (&Name::root(), RecordType::NS));
    assert_eq!(priming.len(), 1, "{log:?}");
    assert!(server_names(&priming)[0].ends_with("root-servers.lab."));
    let path = server_names(&path);
    assert!(path[0].ends_with("root-servers.lab."), "{log:?}");
    assert!(path[1].ends_with(".nic.tld1."), "{log:?}");
    assert!(path[2].ends_with(".a.tld1."), "{log:?}");
    // The a.tld1 server was reached at its glue address without asking
    // anyone for ns1/ns2.a.tld1.
    assert!(asked(&log, "ns1.a.tld1.").is_empty() && asked(&log, "ns2.a.tld1.").is_empty());

    lab.clear_log();
    let warm = resolve(&resolver, "www.a.tld1.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(addresses(&warm), ["192.0.2.10"]);
    assert_eq!(warm.stats.upstream_queries, 0);
    assert!(lab.query_log().is_empty());
}

#[tokio::test]
async fn sibling_glue_needs_no_side_resolution() {
    let (lab, resolver) = setup().await;
    let outcome = resolve(&resolver, "www.b.tld1.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(addresses(&outcome), ["192.0.2.11"]);
    assert_eq!(outcome.stats.side_resolutions, 0);
    let log = lab.query_log();
    assert!(asked(&log, "ns1.a.tld1.").is_empty(), "{log:?}");
    let last = log.last().unwrap();
    assert_eq!(last.server, lab.address_of("ns1.a.tld1.").unwrap());
}

#[tokio::test]
async fn glueless_delegation_resolves_the_server_name_from_the_root() {
    let (lab, resolver) = setup().await;
    let outcome = resolve(&resolver, "www.c.tld2.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(addresses(&outcome), ["198.51.100.30"]);
    assert_eq!(outcome.stats.side_resolutions, 1);
    let log = lab.query_log();
    // root (tld3 referral) and tld3 (hosting.tld3 referral) see only the
    // minimised names; hosting.tld3 gets the full question.
    let to_root = asked(&log, "tld3.");
    assert_eq!(to_root.len(), 1, "{log:?}");
    assert!(
        to_root[0]
            .server_name
            .to_string()
            .ends_with(".root-servers.lab.")
    );
    assert_eq!(
        server_names(&asked(&log, "hosting.tld3.")),
        ["ns1.nic.tld3."]
    );
    let side = asked(&log, "ns.hosting.tld3.");
    assert_eq!(server_names(&side), ["ns.hosting.tld3."], "{log:?}");
    assert!(side.iter().all(|q| q.qtype == RecordType::A));
    let last = log.last().unwrap();
    assert_eq!(
        (last.qname.clone(), last.server),
        (name("www.c.tld2."), side[0].server)
    );

    lab.clear_log();
    let warm = resolve(&resolver, "www.c.tld2.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(
        (warm.stats.upstream_queries, warm.stats.side_resolutions),
        (0, 0)
    );
}

#[tokio::test]
async fn chained_glueless_zones_nest_side_resolutions() {
    let (lab, resolver) = setup().await;
    let two = resolve(&resolver, "www.d.tld1.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(addresses(&two), ["192.0.2.41"]);
    assert_eq!(two.stats.side_resolutions, 2);
    let log = lab.query_log();
    assert!(!asked(&log, "ns.c.tld2.").is_empty());
    assert!(!asked(&log, "ns.hosting.tld3.").is_empty());

    let (_lab, resolver) = setup().await;
    let three = resolve(&resolver, "www.e.tld3.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(addresses(&three), ["203.0.113.51"]);
    assert_eq!(three.stats.side_resolutions, 3);
}

#[tokio::test]
async fn glueless_server_already_cached_costs_no_side_resolution() {
    let (lab, resolver) = setup().await;
    resolve(&resolver, "www.hosting.tld3.", RecordType::A)
        .await
        .unwrap();
    resolve(&resolver, "ns.hosting.tld3.", RecordType::A)
        .await
        .unwrap();
    lab.clear_log();
    let outcome = resolve(&resolver, "www.c.tld2.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(addresses(&outcome), ["198.51.100.30"]);
    assert_eq!(outcome.stats.side_resolutions, 0);
    assert!(asked(&lab.query_log(), "ns.hosting.tld3.").is_empty());
}

#[tokio::test]
async fn three_level_delegation_with_glue_at_each_level() {
    let (lab, resolver) = setup().await;
    let outcome = resolve(&resolver, "www.leaf.sub.deep.tld3.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(outcome.rcode, ResponseCode::NoError);
    assert_eq!(outcome.answers.len(), 1);
    assert_eq!(outcome.stats.side_resolutions, 0);
    let names = server_names(&lab.query_log());
    let tail: Vec<&str> = names
        .iter()
        .rev()
        .take(3)
        .rev()
        .map(String::as_str)
        .collect();
    assert_eq!(
        tail,
        [
            "ns.deep.tld3.",
            "ns.sub.deep.tld3.",
            "ns.leaf.sub.deep.tld3."
        ]
    );
}

#[tokio::test]
async fn cname_chains_inside_and_across_zones() {
    let (_lab, resolver) = setup().await;
    let inside = resolve(&resolver, "chain.a.tld1.", RecordType::A)
        .await
        .unwrap();
    let types: Vec<_> = inside.answers.iter().map(|r| r.record_type()).collect();
    assert_eq!(types, [RecordType::CNAME, RecordType::CNAME, RecordType::A]);
    assert_eq!(addresses(&inside), ["192.0.2.10"]);

    let cross = resolve(&resolver, "cross.a.tld1.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(addresses(&cross), ["192.0.2.11"]);

    // Across TLDs, ending in a glueless zone: the target is resolved afresh.
    let far = resolve(&resolver, "tour.b.tld1.", RecordType::A)
        .await
        .unwrap();
    let owners: Vec<_> = far.answers.iter().map(|r| r.name.to_string()).collect();
    assert_eq!(owners, ["tour.b.tld1.", "far.a.tld1.", "www.c.tld2."]);
    assert_eq!(addresses(&far), ["198.51.100.30"]);
    assert_eq!(far.stats.side_resolutions, 1);
}

#[tokio::test]
async fn negative_answers_carry_the_soa_and_are_cached() {
    let (lab, resolver) = setup().await;
    let nx = resolve(&resolver, "nope.a.tld1.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(nx.rcode, ResponseCode::NXDomain);
    assert!(nx.answers.is_empty());
    assert_eq!(nx.authorities.len(), 1);
    assert_eq!(nx.authorities[0].record_type(), RecordType::SOA);
    assert_eq!(nx.authorities[0].name, name("a.tld1."));

    let nodata = resolve(&resolver, "www.a.tld1.", RecordType::AAAA)
        .await
        .unwrap();
    assert_eq!(
        (nodata.rcode, nodata.answers.len(), nodata.authorities.len()),
        (ResponseCode::NoError, 0, 1)
    );

    let ent = resolve(&resolver, "ent.a.tld1.", RecordType::A)
        .await
        .unwrap();
    assert_eq!((ent.rcode, ent.answers.len()), (ResponseCode::NoError, 0));

    lab.clear_log();
    // NXDOMAIN covers every type of the name; both come from the cache.
    let again = resolve(&resolver, "nope.a.tld1.", RecordType::TXT)
        .await
        .unwrap();
    assert_eq!(again.rcode, ResponseCode::NXDomain);
    let nodata_again = resolve(&resolver, "www.a.tld1.", RecordType::AAAA)
        .await
        .unwrap();
    assert_eq!(nodata_again.authorities.len(), 1);
    assert!(lab.query_log().is_empty());
}

#[tokio::test]
async fn wildcard_is_answered() {
    let (_lab, resolver) = setup().await;
    let outcome = resolve(&resolver, "anything.wild.a.tld1.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(addresses(&outcome), ["192.0.2.80"]);
    assert_eq!(outcome.answers[0].name, name("anything.wild.a.tld1."));
}

#[tokio::test]
async fn cname_loop_fails_without_spinning() {
    let (_lab, resolver) = setup().await;
    let failure = resolve(&resolver, "loop1.a.tld1.", RecordType::A)
        .await
        .unwrap_err();
    assert!(
        matches!(failure.error, ResolveError::CnameLoop(_)),
        "{failure}"
    );
    assert!(failure.stats.upstream_queries <= 5);
}

#[tokio::test]
async fn lame_and_refusing_servers_are_skipped() {
    let (lab, resolver) = setup().await;
    let lame = resolve(&resolver, "www.lame.tld2.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(lame.answers.len(), 1);
    let refused = resolve(&resolver, "www.refused.tld2.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(refused.answers.len(), 1);
    let log = lab.query_log();
    let good = lab.address_of("ns2.refused.tld2.").unwrap();
    assert!(
        asked(&log, "www.refused.tld2.")
            .iter()
            .any(|q| q.server == good)
    );
}

#[tokio::test]
async fn all_dead_zone_fails_within_budget() {
    let (lab, resolver) = setup().await;
    let failure = resolve(&resolver, "www.dead.tld3.", RecordType::A)
        .await
        .unwrap_err();
    assert_eq!(
        failure.error,
        ResolveError::NoUsableServer {
            zone: name("dead.tld3.")
        }
    );
    // prime, root, tld3; then the black hole ns1 gets its first query and
    // two resends (MAX_TRIES_PER_ADDRESS), each after a doubled RTO, and
    // ns2, whose closed port refuses at once, one query.
    let log = lab.query_log();
    let to = |server: &str| {
        let addr = lab.address_of(server).unwrap();
        asked(&log, "www.dead.tld3.")
            .iter()
            .filter(|q| q.server == addr)
            .count()
    };
    assert_eq!(to("ns1.dead.tld3."), 3);
    assert_eq!(failure.stats.upstream_queries, 3 + 3 + 1);
    // RFC 9520: the failure is remembered and not retried at once.
    let again = resolve(&resolver, "www.dead.tld3.", RecordType::A)
        .await
        .unwrap_err();
    assert_eq!(
        (again.error, again.stats.upstream_queries),
        (ResolveError::RecentFailure, 0)
    );
}

#[tokio::test]
async fn cyclic_glueless_pair_fails_fast() {
    let (lab, resolver) = setup().await;
    let failure = resolve(&resolver, "www.x.tld2.", RecordType::A)
        .await
        .unwrap_err();
    assert!(
        matches!(failure.error, ResolveError::NoUsableServer { .. }),
        "{failure}"
    );
    assert!(failure.stats.upstream_queries <= 8, "{:?}", failure.stats);
    assert!(failure.stats.side_resolutions <= 3, "{:?}", failure.stats);
    // Nothing was ever sent to a server of x.tld2 or y.tld3: none has an address.
    assert!(
        lab.query_log()
            .iter()
            .all(|q| !q.server_name.to_string().contains(".x.tld2"))
    );
}

#[tokio::test]
async fn poisoned_records_are_neither_used_nor_cached() {
    let (lab, resolver) = setup().await;
    let evil = resolve(&resolver, "www.evil.tld3.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(evil.answers.len(), 1);
    assert!(!addresses(&evil).contains(&"127.66.6.6".to_string()));
    // A referral from the poisoner carries the bogus records too.
    resolve(&resolver, "www.sub.evil.tld3.", RecordType::A)
        .await
        .unwrap();

    lab.clear_log();
    let victim = resolve(&resolver, "www.a.tld1.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(addresses(&victim), ["192.0.2.10"]);
    let log = lab.query_log();
    // The true data came from the network, from the real a.tld1 servers,
    // reached through the real tld1 servers (not ns.evil.tld3).
    let real = [
        lab.address_of("ns1.a.tld1.").unwrap(),
        lab.address_of("ns2.a.tld1.").unwrap(),
    ];
    let final_query = log.last().unwrap();
    assert_eq!(final_query.qname, name("www.a.tld1."));
    assert!(real.contains(&final_query.server));
    assert!(
        log.iter()
            .all(|q| q.server_name.to_string() != "ns.evil.tld3.")
    );
}

#[tokio::test]
async fn spoofed_replies_are_ignored() {
    let (_lab, resolver) = setup().await;
    let outcome = resolve(&resolver, "www.spoof.tld1.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(addresses(&outcome), ["192.0.2.211"]);
}

#[tokio::test]
async fn upward_and_sideways_referrals_make_the_server_lame() {
    let (_lab, resolver) = setup().await;
    for qname in ["www.upward.tld2.", "www.sideways.tld2."] {
        let failure = resolve(&resolver, qname, RecordType::A).await.unwrap_err();
        assert!(
            matches!(failure.error, ResolveError::NoUsableServer { .. }),
            "{qname}: {failure}"
        );
        assert!(
            failure.stats.upstream_queries <= 4,
            "{qname}: {:?}",
            failure.stats
        );
    }
}

#[tokio::test]
async fn big_rrset_arrives_over_tcp() {
    let (lab, resolver) = setup().await;
    let outcome = resolve(&resolver, "big.a.tld1.", RecordType::TXT)
        .await
        .unwrap();
    assert_eq!(outcome.answers.len(), 1);
    // Root and tld1 saw only minimised names; the a.tld1 server got the
    // full question, truncated it over UDP, then answered over TCP.
    let log = asked(&lab.query_log(), "big.a.tld1.");
    let transports: Vec<_> = log.iter().map(|q| q.transport).collect();
    assert_eq!(transports, [LabTransport::Udp, LabTransport::Tcp]);
    assert_eq!(log[1].server, log[0].server);
    let zone_servers = ["ns1.a.tld1.", "ns2.a.tld1."];
    assert!(
        zone_servers.contains(&log[0].server_name.to_string().as_str()),
        "{log:?}"
    );
}

#[tokio::test]
async fn authoritative_ns_replaces_the_parents_referral_ns() {
    let (_lab, resolver) = setup().await;
    // The parent lists ns1+ns2, the child apex ns1+ns3 (RFC 2181 §5.4.1:
    // the child's authoritative data wins).
    let outcome = resolve(&resolver, "mismatch.tld1.", RecordType::NS)
        .await
        .unwrap();
    let mut targets: Vec<_> = outcome.answers.iter().map(|r| r.data.to_string()).collect();
    targets.sort();
    assert_eq!(targets, ["ns1.mismatch.tld1.", "ns3.mismatch.tld1."]);
}

#[tokio::test]
async fn query_budget_bounds_a_resolution() {
    let (lab, resolver) = setup_with(Limits {
        max_upstream_queries: 5,
        ..common::limits()
    })
    .await;
    let failure = resolve(&resolver, "www.e.tld3.", RecordType::A)
        .await
        .unwrap_err();
    assert_eq!(failure.error, ResolveError::QueryBudget(5));
    assert_eq!(lab.query_log().len(), 5);
}

#[tokio::test]
async fn target_depth_limit_stops_deep_glueless_chains() {
    let (_lab, resolver) = setup_with(Limits {
        max_target_depth: 2,
        ..common::limits()
    })
    .await;
    // e.tld3 needs three nested side resolutions.
    assert!(
        resolve(&resolver, "www.e.tld3.", RecordType::A)
            .await
            .is_err()
    );
    // d.tld1 needs two: allowed.
    assert!(
        resolve(&resolver, "www.d.tld1.", RecordType::A)
            .await
            .is_ok()
    );
}

/// Every lab scenario, cold then warm: the same result both times, and the
/// warm one without a single upstream query.
#[tokio::test]
async fn every_scenario_cold_then_warm() {
    use ResponseCode::{NXDomain, NoError};
    let cases: &[(&str, RecordType, Option<ResponseCode>, usize)] = &[
        ("www.a.tld1.", RecordType::A, Some(NoError), 1),
        ("v6.a.tld1.", RecordType::AAAA, Some(NoError), 1),
        ("www.a.tld1.", RecordType::AAAA, Some(NoError), 0),
        ("nope.a.tld1.", RecordType::A, Some(NXDomain), 0),
        ("ent.a.tld1.", RecordType::A, Some(NoError), 0),
        ("x.wild.a.tld1.", RecordType::A, Some(NoError), 1),
        ("chain.a.tld1.", RecordType::A, Some(NoError), 3),
        ("cross.a.tld1.", RecordType::A, Some(NoError), 2),
        ("far.a.tld1.", RecordType::A, Some(NoError), 2),
        ("tour.b.tld1.", RecordType::A, Some(NoError), 3),
        ("big.a.tld1.", RecordType::TXT, Some(NoError), 1),
        ("www.b.tld1.", RecordType::A, Some(NoError), 1),
        ("www.c.tld2.", RecordType::A, Some(NoError), 1),
        ("www.d.tld1.", RecordType::A, Some(NoError), 1),
        ("www.e.tld3.", RecordType::A, Some(NoError), 1),
        ("www.leaf.sub.deep.tld3.", RecordType::A, Some(NoError), 1),
        ("www.lame.tld2.", RecordType::A, Some(NoError), 1),
        ("www.refused.tld2.", RecordType::A, Some(NoError), 1),
        ("www.mismatch.tld1.", RecordType::A, Some(NoError), 1),
        ("www.evil.tld3.", RecordType::A, Some(NoError), 1),
        ("www.sub.evil.tld3.", RecordType::A, Some(NoError), 1),
        ("www.spoof.tld1.", RecordType::A, Some(NoError), 1),
        ("loop1.a.tld1.", RecordType::A, None, 0),
        ("www.dead.tld3.", RecordType::A, None, 0),
        ("www.x.tld2.", RecordType::A, None, 0),
        ("www.upward.tld2.", RecordType::A, None, 0),
        ("www.sideways.tld2.", RecordType::A, None, 0),
    ];
    let (lab, resolver) = setup().await;
    for &(qname, qtype, rcode, answers) in cases {
        let cold = resolve(&resolver, qname, qtype).await;
        lab.clear_log();
        let warm = resolve(&resolver, qname, qtype).await;
        let summary =
            |r: &Result<Outcome, Failure>| r.as_ref().ok().map(|o| (o.rcode, o.answers.len()));
        assert_eq!(
            summary(&cold),
            rcode.map(|rc| (rc, answers)),
            "{qname} {qtype} cold"
        );
        assert_eq!(summary(&warm), summary(&cold), "{qname} {qtype} warm");
        assert!(
            lab.query_log().is_empty(),
            "{qname} {qtype}: warm query went upstream"
        );
    }
}

#[tokio::test]
async fn qname_minimisation_shows_each_server_one_label_below_its_zone() {
    let (lab, resolver) = setup().await;
    let outcome = resolve(&resolver, "host.ent.a.tld1.", RecordType::AAAA)
        .await
        .unwrap();
    assert!(
        outcome.answers.is_empty(),
        "host.ent.a.tld1 has only an A record"
    );
    let log = lab.query_log();
    let seen: Vec<(String, String, RecordType)> = log
        .iter()
        .map(|q| (q.server_name.to_string(), q.qname.to_string(), q.qtype))
        .collect();
    let zone_of = |server: &str| {
        if server.ends_with("root-servers.lab.") {
            "root"
        } else if server.ends_with("nic.tld1.") {
            "tld1"
        } else {
            "a.tld1"
        }
    };
    let asked: Vec<(&str, &str, RecordType)> = seen
        .iter()
        .filter(|(_, qname, _)| qname != ".")
        .map(|(server, qname, qtype)| (zone_of(server), qname.as_str(), *qtype))
        .collect();
    // The root learns only `tld1.`, tld1 only `a.tld1.`, both asked as A;
    // a.tld1 is asked `ent.a.tld1.` (an empty non-terminal: NODATA, so one
    // label deeper), then the real question.
    assert_eq!(
        asked,
        [
            ("root", "tld1.", RecordType::A),
            ("tld1", "a.tld1.", RecordType::A),
            ("a.tld1", "ent.a.tld1.", RecordType::A),
            ("a.tld1", "host.ent.a.tld1.", RecordType::AAAA),
        ]
    );

    // Minimisation off: the root sees the full name.
    let (lab, resolver) = setup_with(Limits {
        max_minimise_steps: 0,
        ..common::limits()
    })
    .await;
    resolve(&resolver, "www.a.tld1.", RecordType::A)
        .await
        .unwrap();
    let log = lab.query_log();
    assert!(
        log.iter()
            .filter(|q| q.qname != name("."))
            .all(|q| q.qname == name("www.a.tld1."))
    );
}

#[tokio::test]
async fn minimised_nxdomain_is_retried_with_the_full_name() {
    let (lab, resolver) = setup().await;
    let outcome = resolve(&resolver, "x.nope.a.tld1.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(outcome.rcode, ResponseCode::NXDomain);
    let log = lab.query_log();
    // Relaxed mode (RFC 9156 §2.3): NXDOMAIN for `nope.a.tld1.` is not
    // trusted, the full name is asked too.
    assert_eq!(asked(&log, "nope.a.tld1.").len(), 1, "{log:?}");
    assert_eq!(asked(&log, "x.nope.a.tld1.").len(), 1, "{log:?}");
}

/// Names the fake root answers with an unusual TTL: two days (over
/// MAX_TTL) and one with the top bit set (RFC 2181 §8).
fn odd_ttl(qname: &Name) -> Option<u32> {
    if qname == &name("long.example.") {
        Some(2 * 86_400)
    } else if qname == &name("msb.example.") {
        Some(0x8000_0010)
    } else {
        None
    }
}

/// The fake root's answer to every other question: an A record for the
/// names with an [`odd_ttl`], NXDOMAIN for the rest with an SOA whose TTL
/// (3600) is above its MINIMUM (300), as some servers still send it.
fn odd_ttls_or_nxdomain(question: &Query) -> (ResponseCode, Vec<Record>, Vec<Record>) {
    if let Some(ttl) = odd_ttl(question.name()) {
        let a = RData::A(A(std::net::Ipv4Addr::new(192, 0, 2, 1)));
        let answer = Record::from_rdata(question.name().clone(), ttl, a);
        return (ResponseCode::NoError, vec![answer], vec![]);
    }
    fake_root::nxdomain(3600, 300)
}

/// A resolver whose only root is a fake one answering as
/// [`odd_ttls_or_nxdomain`].
async fn fake_root_resolver() -> Resolver {
    fake_root::resolver(common::limits(), odd_ttls_or_nxdomain).await
}

/// RFC 2308 §5: the TTL of the SOA in a negative answer is the negative
/// TTL, min(SOA TTL, SOA MINIMUM), on the resolution that learns it as on
/// every later answer from the cache.
#[tokio::test]
async fn negative_answers_carry_the_soa_ttl_capped_at_its_minimum_cold_and_warm() {
    let resolver = fake_root_resolver().await;
    let soa_ttl = |outcome: &Outcome| {
        assert_eq!(outcome.rcode, ResponseCode::NXDomain);
        let [soa] = outcome.authorities.as_slice() else {
            panic!("one SOA: {:?}", outcome.authorities);
        };
        assert_eq!(soa.record_type(), RecordType::SOA);
        soa.ttl
    };
    let cold = resolve(&resolver, "nope.example.", RecordType::A)
        .await
        .unwrap();
    assert!(soa_ttl(&cold) <= 300, "cold: {}", soa_ttl(&cold));
    let warm = resolver
        .answer_from_cache(&name("nope.example."), RecordType::A)
        .expect("the NXDOMAIN is cached");
    assert!(soa_ttl(&warm) <= 300, "warm: {}", soa_ttl(&warm));
}

/// Answers keep the cache's TTL rules on the resolution that learns them:
/// capped at MAX_TTL, and a TTL with the top bit set is zero (RFC 2181 §8)
/// and not cached.
#[tokio::test]
async fn answer_ttls_are_capped_and_sane_cold_and_warm() {
    let resolver = fake_root_resolver().await;
    let max_ttl = rootwalk::config::MAX_TTL.as_secs() as u32;
    let long = resolve(&resolver, "long.example.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(long.answers[0].ttl, max_ttl, "cold");
    let warm = resolver
        .answer_from_cache(&name("long.example."), RecordType::A)
        .expect("cached");
    assert!(
        warm.answers[0].ttl <= max_ttl,
        "warm: {}",
        warm.answers[0].ttl
    );

    let msb = resolve(&resolver, "msb.example.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(msb.answers[0].ttl, 0);
    let warm = resolver.answer_from_cache(&name("msb.example."), RecordType::A);
    assert!(
        warm.as_ref()
            .is_none_or(|o| o.answers.iter().all(|r| r.ttl == 0)),
        "{warm:?}"
    );
}

/// After a cache-only look (the daemon's, before it starts a resolution)
/// the resolution skips its own first look when the first found nothing
/// for the question and nothing was written under the name since. Written
/// since (another client's resolution finished in between): it looks, and
/// answers from the cache with nothing upstream.
#[tokio::test]
async fn a_resolution_after_an_empty_look_looks_again_when_the_name_was_written_since() {
    let (lab, resolver) = setup().await;
    let www = name("www.a.tld1.");
    let Err(miss) = resolver.answer_from_cache_stamped(&www, RecordType::A) else {
        panic!("answered from an empty cache");
    };
    assert!(matches!(miss, CacheMiss::Empty(_)), "{miss:?}");

    // Nothing written since: the walk starts at once and gets the answer
    // from the zone's server.
    let first = resolver
        .resolve_after_miss(&www, RecordType::A, &NullObserver, Checking::Enabled, miss)
        .await
        .unwrap();
    assert_eq!(addresses(&first), vec!["192.0.2.10"]);
    let log = lab.query_log();
    let at_zone = server_names(&asked(&log, "www.a.tld1."));
    assert_eq!(at_zone.len(), 1, "{log:#?}");
    assert!(at_zone[0].ends_with(".a.tld1."), "{log:#?}");

    // The same stale look, now that the answer is cached: no query.
    lab.clear_log();
    let again = resolver
        .resolve_after_miss(&www, RecordType::A, &NullObserver, Checking::Enabled, miss)
        .await
        .unwrap();
    assert_eq!(addresses(&again), vec!["192.0.2.10"]);
    assert_eq!(again.stats.upstream_queries, 0);
    assert!(lab.query_log().is_empty(), "{:#?}", lab.query_log());
}

/// A look that found part of the answer (a cached CNAME whose target is
/// not cached for the type) is not a reason to skip: the resolution
/// follows the cached CNAME and asks upstream only for the target.
#[tokio::test]
async fn a_resolution_after_a_partial_look_follows_the_cached_cname() {
    let (lab, resolver) = setup().await;
    resolve(&resolver, "alias.a.tld1.", RecordType::A)
        .await
        .unwrap();
    let alias = name("alias.a.tld1.");
    let Err(miss) = resolver.answer_from_cache_stamped(&alias, RecordType::AAAA) else {
        panic!("AAAA answered before it was asked");
    };
    assert_eq!(miss, CacheMiss::Partial);
    lab.clear_log();
    let outcome = resolver
        .resolve_after_miss(
            &alias,
            RecordType::AAAA,
            &NullObserver,
            Checking::Enabled,
            miss,
        )
        .await
        .unwrap();
    assert!(
        outcome
            .answers
            .iter()
            .any(|r| r.record_type() == RecordType::CNAME && r.name == alias),
        "{outcome:?}"
    );
    let log = lab.query_log();
    assert!(asked(&log, "alias.a.tld1.").is_empty(), "{log:#?}");
    let target = asked(&log, "www.a.tld1.");
    assert_eq!(target.len(), 1, "{log:#?}");
    assert!(server_names(&target)[0].ends_with(".a.tld1."), "{log:#?}");
    assert_eq!(target[0].qtype, RecordType::AAAA);
}
