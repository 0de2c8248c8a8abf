//! The engine against the real Internet's faults, modelled by the lab:
//! lost packets, slow servers, black holes, EDNS-intolerant servers,
//! servers that send a malformed OPT record, appliances that refuse minimised questions, IPv6-only name servers,
//! truncated TCP replies, dead first name servers and NXNS referrals.
//! Every test asserts the answer and which server got which query.

mod common;

use std::net::IpAddr;
use std::str::FromStr;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, RecordType};
use rootwalk::config::{AddressFamilies, Limits};
use rootwalk::lab::{Lab, LabTransport, LoggedQuery};
use rootwalk::resolve::{Failure, Outcome, ResolveError, Resolver};
use rootwalk::trace::recorder::TraceRecorder;
use rootwalk::trace::{Event, NullObserver};

fn name(text: &str) -> Name {
    Name::from_str(text).unwrap()
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
            RData::AAAA(a) => Some(a.0.to_string()),
            _ => None,
        })
        .collect()
}

/// The queries `server` (a lab server name) received for `qname`/`qtype`.
fn sent_to(lab: &Lab, server: &str, qname: &str, qtype: RecordType) -> Vec<LoggedQuery> {
    let addr = lab.address_of(server).unwrap();
    lab.query_log()
        .into_iter()
        .filter(|q| q.server == addr && q.qname == name(qname) && q.qtype == qtype)
        .collect()
}

/// The limits the lab tests use, with the default zone-cut timeout and
/// unknown-server RTO: the tests of timers run on the real timers.
fn real_timers() -> Limits {
    Limits {
        query_timeout: common::TEST_QUERY_TIMEOUT,
        ..Limits::default()
    }
}

#[tokio::test]
async fn a_lost_packet_is_resent_not_answered_with_servfail() {
    let lab = common::lab().await;
    let resolver = common::resolver(&lab);
    let outcome = resolve(&resolver, "www.lossy.tld1.", RecordType::A)
        .await
        .expect("answered after a resend");
    assert_eq!(addresses(&outcome), ["192.0.2.141"]);
    let asked = sent_to(&lab, "ns.lossy.tld1.", "www.lossy.tld1.", RecordType::A);
    assert_eq!(
        asked.len(),
        2,
        "the first query dropped, the resend answered"
    );
    assert!(asked.iter().all(|q| q.transport == LabTransport::Udp));
}

#[tokio::test]
async fn a_server_slower_than_a_second_still_answers() {
    let lab = common::lab().await;
    let resolver = Resolver::new(common::config_with(&lab, real_timers()));
    let outcome = resolve(&resolver, "www.slow.tld2.", RecordType::A)
        .await
        .expect("the slow server answers within the zone cut's timeout");
    assert_eq!(addresses(&outcome).len(), 1);
    let asked = sent_to(&lab, "ns.slow.tld2.", "www.slow.tld2.", RecordType::A);
    // It takes 1.5 s: resent after its RTO (376 ms, then doubled), and the
    // reply to the first try is still taken.
    assert!(
        (2..=3).contains(&asked.len()),
        "resends while waiting: {}",
        asked.len()
    );
}

#[tokio::test]
async fn the_good_server_is_asked_while_the_black_hole_is_still_awaited() {
    let lab = common::lab().await;
    let resolver = common::resolver(&lab);
    let recorder = TraceRecorder::new();
    let outcome = resolver
        .resolve(&name("www.halfdead.tld3."), RecordType::A, &recorder)
        .await
        .expect("answered by ns2");
    assert_eq!(addresses(&outcome), ["192.0.2.161"]);
    assert_eq!(
        sent_to(
            &lab,
            "ns1.halfdead.tld3.",
            "www.halfdead.tld3.",
            RecordType::A
        )
        .len(),
        1,
        "the black hole is asked once"
    );
    assert_eq!(
        sent_to(
            &lab,
            "ns2.halfdead.tld3.",
            "www.halfdead.tld3.",
            RecordType::A
        )
        .len(),
        1
    );
    // Racing: ns2 was asked while ns1's query was still out, and ns1's was
    // abandoned when ns2 answered, not waited out.
    let events: Vec<Event> = recorder.events().into_iter().map(|(_, e)| e).collect();
    let hop_to = |server: &str| {
        let addr = lab.address_of(server).unwrap();
        events.iter().find_map(|e| match e {
            Event::QuerySent { hop, server, .. } if server.ip() == addr => Some(*hop),
            _ => None,
        })
    };
    let (dead, good) = (
        hop_to("ns1.halfdead.tld3.").unwrap(),
        hop_to("ns2.halfdead.tld3.").unwrap(),
    );
    let position = |wanted: &dyn Fn(&Event) -> bool| events.iter().position(wanted).unwrap();
    let good_sent = position(&|e| matches!(e, Event::QuerySent { hop, .. } if *hop == good));
    let dead_ended = position(&|e| matches!(e, Event::QueryFailed { hop, .. } if *hop == dead));
    assert!(good_sent < dead_ended, "ns2 asked before ns1 was given up");
    assert!(events.iter().any(|e| matches!(
        e,
        Event::QueryFailed { hop, timed_out: false, error } if *hop == dead && error.contains("abandoned")
    )));

    // The next question goes to the server that answers.
    let again = resolve(&resolver, "www2.halfdead.tld3.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(addresses(&again), ["192.0.2.162"]);
    assert!(
        sent_to(
            &lab,
            "ns1.halfdead.tld3.",
            "www2.halfdead.tld3.",
            RecordType::A
        )
        .is_empty()
    );
}

#[tokio::test]
async fn black_holes_are_resent_to_then_held_down_for_the_next_question() {
    let lab = common::lab().await;
    let resolver = common::resolver(&lab);
    let failure = resolve(&resolver, "www.dead.tld3.", RecordType::A)
        .await
        .unwrap_err();
    assert_eq!(
        failure.error,
        ResolveError::NoUsableServer {
            zone: name("dead.tld3.")
        }
    );
    let tries = sent_to(&lab, "ns1.dead.tld3.", "www.dead.tld3.", RecordType::A).len();
    assert_eq!(tries, 3, "the first query and two resends with back-off");

    // Another question of the same zone (not the RFC 9520 short cut): the
    // black hole is held down and not asked again.
    let second = resolve(&resolver, "other.dead.tld3.", RecordType::A)
        .await
        .unwrap_err();
    assert!(matches!(second.error, ResolveError::NoUsableServer { .. }));
    assert!(sent_to(&lab, "ns1.dead.tld3.", "other.dead.tld3.", RecordType::A).is_empty());
}

#[tokio::test]
async fn an_edns_intolerant_server_is_asked_again_without_edns_and_remembered() {
    let lab = common::lab().await;
    let resolver = common::resolver(&lab);
    let outcome = resolve(&resolver, "www.oldedns.tld1.", RecordType::A)
        .await
        .expect("answered without EDNS");
    assert_eq!(addresses(&outcome), ["192.0.2.143"]);
    let asked = sent_to(&lab, "ns.oldedns.tld1.", "www.oldedns.tld1.", RecordType::A);
    let edns: Vec<bool> = asked.iter().map(|q| q.edns).collect();
    assert_eq!(edns, [true, false], "FORMERR to EDNS, then asked without");

    let negative = resolve(&resolver, "nope.oldedns.tld1.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(negative.rcode, ResponseCode::NXDomain);
    let asked = sent_to(
        &lab,
        "ns.oldedns.tld1.",
        "nope.oldedns.tld1.",
        RecordType::A,
    );
    let edns: Vec<bool> = asked.iter().map(|q| q.edns).collect();
    assert_eq!(edns, [false], "remembered: no EDNS try first");
}

#[tokio::test]
async fn a_server_sending_a_malformed_opt_is_asked_again_without_edns_and_remembered() {
    let lab = common::lab().await;
    let resolver = common::resolver(&lab);
    let outcome = resolve(&resolver, "www.badopt.tld1.", RecordType::A)
        .await
        .expect("answered without EDNS");
    assert_eq!(addresses(&outcome), ["192.0.2.147"]);
    let asked = sent_to(&lab, "ns.badopt.tld1.", "www.badopt.tld1.", RecordType::A);
    let edns: Vec<bool> = asked.iter().map(|q| q.edns).collect();
    assert_eq!(
        edns,
        [true, false],
        "malformed OPT to EDNS, then asked without"
    );

    let negative = resolve(&resolver, "nope.badopt.tld1.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(negative.rcode, ResponseCode::NXDomain);
    let asked = sent_to(&lab, "ns.badopt.tld1.", "nope.badopt.tld1.", RecordType::A);
    let edns: Vec<bool> = asked.iter().map(|q| q.edns).collect();
    assert_eq!(edns, [false], "remembered: no EDNS try first");
}

#[tokio::test]
async fn a_refused_minimised_question_falls_back_to_the_full_name() {
    let lab = common::lab().await;
    let resolver = common::resolver(&lab);
    let outcome = resolve(&resolver, "www.deep.appliance.tld2.", RecordType::A)
        .await
        .expect("answered once the full name is asked");
    assert_eq!(addresses(&outcome), ["198.51.100.145"]);
    let server = lab.address_of("ns.appliance.tld2.").unwrap();
    let asked: Vec<(String, RecordType)> = lab
        .query_log()
        .into_iter()
        .filter(|q| q.server == server)
        .map(|q| (q.qname.to_string(), q.qtype))
        .collect();
    assert_eq!(
        asked,
        [
            ("deep.appliance.tld2.".to_string(), RecordType::A),
            ("www.deep.appliance.tld2.".to_string(), RecordType::A),
        ],
        "the minimised question was refused, then the full name asked"
    );
    // Not marked lame for it: the zone's only server answers the next one.
    let next = resolve(&resolver, "www.appliance.tld2.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(addresses(&next), ["198.51.100.144"]);
}

#[tokio::test]
async fn a_truncated_tcp_reply_is_a_failure_of_that_server_not_nodata() {
    let lab = common::lab().await;
    let resolver = common::resolver(&lab);
    let outcome = resolve(&resolver, "www.truncated.tld2.", RecordType::A)
        .await
        .expect("ns2 answers");
    assert_eq!(addresses(&outcome), ["192.0.2.171"]);
    let transports: Vec<LabTransport> = sent_to(
        &lab,
        "ns1.truncated.tld2.",
        "www.truncated.tld2.",
        RecordType::A,
    )
    .iter()
    .map(|q| q.transport)
    .collect();
    assert_eq!(
        transports,
        [LabTransport::Udp, LabTransport::Tcp],
        "TC=1 over UDP retried over TCP, where TC=1 again fails the server"
    );
    assert_eq!(
        sent_to(
            &lab,
            "ns2.truncated.tld2.",
            "www.truncated.tld2.",
            RecordType::A
        )
        .len(),
        1
    );
}

#[tokio::test]
async fn an_ipv6_only_glueless_name_server_is_found_with_aaaa_and_used() {
    let lab = common::lab().await;
    if !lab.has_ipv6() {
        eprintln!("skipped: this host cannot bind ::1, so the lab has no IPv6 server");
        return;
    }
    let resolver = common::resolver(&lab);
    let outcome = resolve(&resolver, "www.v6only.tld3.", RecordType::A)
        .await
        .expect("answered by the IPv6-only server");
    assert_eq!(addresses(&outcome).len(), 1);
    assert_eq!(
        sent_to(&lab, "ns.v6host.tld1.", "www.v6only.tld3.", RecordType::A).len(),
        1,
        "the ::1 server was asked"
    );
    let log = lab.query_log();
    let aaaa = log
        .iter()
        .filter(|q| q.qname == name("ns.v6host.tld1.") && q.qtype == RecordType::AAAA)
        .count();
    assert!(aaaa >= 1, "the side resolution asked AAAA");

    // With IPv6 off (-4), the zone cannot be reached and ::1 is never asked.
    let lab = common::lab().await;
    let mut config = common::config(&lab);
    config.families = AddressFamilies {
        v4: true,
        v6: false,
    };
    let v4_only = Resolver::new(config);
    assert!(
        resolve(&v4_only, "www.v6only.tld3.", RecordType::A)
            .await
            .is_err()
    );
    let v6: IpAddr = "::1".parse().unwrap();
    assert!(lab.query_log().iter().all(|q| q.server != v6));
    assert!(
        lab.query_log()
            .iter()
            .all(|q| !(q.qname == name("ns.v6host.tld1.") && q.qtype == RecordType::AAAA)),
        "no AAAA side resolution with IPv6 off"
    );
}

#[tokio::test]
async fn six_glueless_name_servers_with_the_first_dead_still_answer() {
    let lab = common::lab().await;
    let resolver = common::resolver(&lab);
    let outcome = resolve(&resolver, "www.many.tld3.", RecordType::A)
        .await
        .expect("a later name server answers");
    assert_eq!(addresses(&outcome), ["203.0.113.150"]);
    let answered_by: Vec<IpAddr> = lab
        .query_log()
        .iter()
        .filter(|q| q.qname == name("www.many.tld3."))
        .map(|q| q.server)
        .collect();
    let dead = lab.address_of("ns1.pool.tld2.").unwrap();
    assert!(
        answered_by.contains(&dead),
        "the first name server was tried"
    );
    assert!(
        answered_by.iter().any(|a| *a != dead),
        "and another one answered"
    );
}

#[tokio::test]
async fn an_nxns_referral_costs_at_most_nine_upstream_queries() {
    let lab = common::lab().await;
    let resolver = common::resolver(&lab);
    let failure = resolve(&resolver, "www.nxns.tld3.", RecordType::A)
        .await
        .unwrap_err();
    assert!(
        matches!(failure.error, ResolveError::NoUsableServer { .. }),
        "{:?}",
        failure.error
    );
    assert!(
        failure.stats.upstream_queries <= 9,
        "{} upstream queries",
        failure.stats.upstream_queries
    );
    let void = lab.address_of("ns.void.tld2.").unwrap();
    let names_asked: std::collections::HashSet<Name> = lab
        .query_log()
        .into_iter()
        .filter(|q| q.server == void)
        .map(|q| q.qname)
        .collect();
    assert!(
        names_asked.len() <= 3,
        "MAX_TARGET_FAILURES names at most: {names_asked:?}"
    );
}

#[test]
fn ipv4_only_and_ipv6_only_flags_from_the_command_line() {
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_rootwalk"))
            .args(args)
            .output()
            .unwrap()
    };
    // The lab's root servers are IPv4: with -6 nothing can be asked.
    let v6 = run(&["resolve", "www.a.tld1", "--lab", "-6"]);
    assert_eq!(v6.status.code(), Some(1), "{v6:?}");
    let text = String::from_utf8_lossy(&v6.stdout);
    assert!(
        text.contains("SERVFAIL") && text.contains("0 upstream queries"),
        "{text}"
    );
    let v4 = run(&["resolve", "www.a.tld1", "--lab", "-4"]);
    assert_eq!(v4.status.code(), Some(0), "{v4:?}");
    let both = run(&["resolve", "www.a.tld1", "--lab", "-4", "-6"]);
    assert_eq!(both.status.code(), Some(2), "{both:?}");
    assert!(String::from_utf8_lossy(&both.stderr).contains("cannot be used with"));
}
