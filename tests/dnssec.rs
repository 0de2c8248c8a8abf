//! The validating resolver against the signed lab: secure answers and
//! proofs, insecure delegations, and each kind of bogus zone refused with
//! its reason; which servers were asked for the chain of trust.

mod common;

use std::str::FromStr;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RecordType};
use rootwalk::resolve::{Checking, Failure, Outcome, ResolveError, Resolver};
use rootwalk::trace::NullObserver;
use rootwalk::validate::Security;

fn name(text: &str) -> Name {
    Name::from_str(text).unwrap()
}

async fn resolve(resolver: &Resolver, qname: &str, qtype: RecordType) -> Result<Outcome, Failure> {
    resolver.resolve(&name(qname), qtype, &NullObserver).await
}

#[tokio::test]
async fn signed_answers_and_their_denials_are_secure() {
    let lab = common::lab().await;
    let resolver = common::validating(&lab);
    for (qname, qtype, rcode) in [
        ("www.a.tld1.", RecordType::A, ResponseCode::NoError),
        ("nope.a.tld1.", RecordType::A, ResponseCode::NXDomain),
        ("www.a.tld1.", RecordType::AAAA, ResponseCode::NoError),
        // NSEC3, glueless: its server lives in the signed hosting.tld3.
        ("www.c.tld2.", RecordType::A, ResponseCode::NoError),
        ("nope.c.tld2.", RecordType::A, ResponseCode::NXDomain),
        // RSASHA256, with the lab's committed keys.
        ("www.rsa.tld1.", RecordType::A, ResponseCode::NoError),
        ("nope.rsa.tld1.", RecordType::A, ResponseCode::NXDomain),
    ] {
        let outcome = resolve(&resolver, qname, qtype)
            .await
            .unwrap_or_else(|f| panic!("{qname} {qtype}: {}", f.error));
        assert_eq!(outcome.rcode, rcode, "{qname} {qtype}");
        assert_eq!(outcome.security, Security::Secure, "{qname} {qtype}");
    }
    // The chain of trust was fetched where it lives: each zone's DNSKEY
    // from its own servers.
    let log = lab.query_log();
    let dnskey_from = |zone: &str| {
        log.iter()
            .filter(|q| q.qname == name(zone) && q.qtype == RecordType::DNSKEY)
            .map(|q| q.server_name.to_string())
            .collect::<Vec<_>>()
    };
    assert!(
        dnskey_from(".")
            .iter()
            .all(|s| s.ends_with("root-servers.lab."))
    );
    assert!(!dnskey_from(".").is_empty());
    assert!(
        dnskey_from("tld1.")
            .iter()
            .all(|s| s.ends_with("nic.tld1."))
    );
    assert!(
        dnskey_from("a.tld1.")
            .iter()
            .all(|s| s.ends_with("a.tld1."))
    );
    assert!(!dnskey_from("c.tld2.").is_empty());
    assert_eq!(dnskey_from("rsa.tld1."), ["ns.rsa.tld1."]);
    // Every query asked for DNSSEC records.
    assert!(log.iter().all(|q| q.edns));

    // From the cache: the verdict rides with the RRset.
    let again = resolve(&resolver, "www.a.tld1.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(again.stats.upstream_queries, 0);
    assert_eq!(again.security, Security::Secure);
}

#[tokio::test]
async fn an_unsigned_delegation_is_insecure_not_bogus() {
    let lab = common::lab().await;
    let resolver = common::validating(&lab);
    for qname in [
        "www.unsigned.tld1.",
        // A secure CNAME into the unsigned zone: the whole is insecure.
        "www.hop.tld1.",
        // NSEC3 opt-out span over an unsigned child.
        "www.insecure.optout.tld2.",
        // Not signed at all: b.tld1 has no DS at tld1.
        "www.b.tld1.",
    ] {
        let outcome = resolve(&resolver, qname, RecordType::A)
            .await
            .unwrap_or_else(|f| panic!("{qname}: {}", f.error));
        assert_eq!(outcome.security, Security::Insecure, "{qname}");
        assert!(!outcome.answers.is_empty(), "{qname}");
    }
}

#[tokio::test]
async fn bogus_zones_are_refused_with_their_reason() {
    let lab = common::lab().await;
    let resolver = common::validating(&lab);
    for (qname, ede) in [
        ("www.badsig.tld1.", 6),
        ("www.expired.tld1.", 7),
        ("www.dsmismatch.tld1.", 9),
        ("www.zskonly.tld1.", 10),
    ] {
        let failure = resolve(&resolver, qname, RecordType::A)
            .await
            .expect_err(qname);
        let ResolveError::Bogus(reason) = &failure.error else {
            panic!("{qname}: {}", failure.error);
        };
        assert_eq!(reason.ede_code(), ede, "{qname}: {reason}");
    }
}

/// RFC 4035 §3.2.2: with checking disabled the bogus data is given with
/// its verdict; it is kept for the bogus TTL, so the next question, with
/// checking or without, costs no upstream query; the resolver never uses
/// it without being told checking is off.
#[tokio::test]
async fn checking_disabled_gets_bogus_data_with_its_verdict_once() {
    let lab = common::lab().await;
    let resolver = common::validating(&lab);
    let qname = name("www.badsig.tld1.");
    let outcome = resolver
        .resolve_with(&qname, RecordType::A, &NullObserver, Checking::Disabled)
        .await
        .expect("checking disabled: the data");
    let Security::Bogus(reason) = &outcome.security else {
        panic!("not bogus: {:?}", outcome.security);
    };
    assert_eq!(reason.ede_code(), 6, "{reason}");
    assert_eq!(outcome.answers.len(), 1);
    assert!(outcome.answers[0].ttl <= 60, "the bogus TTL caps it");
    assert!(outcome.stats.upstream_queries > 0);
    let asked = lab.query_log().len();

    let failure = resolver
        .resolve(&qname, RecordType::A, &NullObserver)
        .await
        .expect_err("checking on: an error");
    assert!(matches!(failure.error, ResolveError::Bogus(_)));
    assert_eq!(failure.stats.upstream_queries, 0, "from the cache");
    // Not turned into a remembered failure: checking disabled still gets
    // the data.
    let again = resolver
        .resolve_with(&qname, RecordType::A, &NullObserver, Checking::Disabled)
        .await
        .expect("still the data");
    assert!(again.security.is_bogus());
    assert_eq!(again.stats.upstream_queries, 0);
    assert_eq!(lab.query_log().len(), asked, "no server asked again");
}

#[tokio::test]
async fn without_trust_anchors_nothing_is_validated_and_do_is_not_set() {
    let lab = common::lab().await;
    let resolver = common::resolver(&lab);
    let outcome = resolve(&resolver, "www.badsig.tld1.", RecordType::A)
        .await
        .expect("validation off: the data is served");
    assert_eq!(outcome.security, Security::Indeterminate);
    assert!(
        lab.query_log()
            .iter()
            .all(|q| q.qtype != RecordType::DNSKEY),
        "no DNSKEY fetched"
    );
}

/// A request that runs out of signature checks (KeyTrap defence) fails,
/// but that is its own limit, not the zone's fault: nothing is cached as
/// bogus, and a request with a budget to spare, over the same caches,
/// validates the same names as secure, and the unsigned zone as insecure.
#[tokio::test]
async fn a_spent_signature_budget_fails_only_its_own_request() {
    let lab = common::lab().await;
    let mut config = common::config(&lab);
    config.trust_anchors = Some(lab.trust_anchor());
    let full = config.limits.clone();
    config.limits.max_sig_verifications = 2;
    let starved = Resolver::new(config);
    for qname in ["www.a.tld1.", "www.unsigned.tld1."] {
        let failure = resolve(&starved, qname, RecordType::A)
            .await
            .expect_err("two signature checks are not enough");
        let ResolveError::Bogus(reason) = &failure.error else {
            panic!("{qname}: {}", failure.error);
        };
        assert!(reason.to_string().contains("budget"), "{qname}: {reason}");
    }
    let (rich, _) = starved.with_limits(full);
    let secure = resolve(&rich, "www.a.tld1.", RecordType::A)
        .await
        .expect("the zone is fine");
    assert_eq!(secure.security, Security::Secure);
    let insecure = resolve(&rich, "www.unsigned.tld1.", RecordType::A)
        .await
        .expect("the zone is fine");
    assert_eq!(insecure.security, Security::Insecure);
}

/// Bogus data a client with CD asked for stays in the cache, but the
/// resolver itself never acts on it: a bogus NS RRset is no zone cut, so
/// the next walk below it asks the parent for the delegation again.
#[tokio::test]
async fn a_bogus_ns_rrset_is_never_a_zone_cut() {
    let lab = common::lab().await;
    let resolver = common::validating(&lab);
    let ns = resolver
        .resolve_with(
            &name("badsig.tld1."),
            RecordType::NS,
            &NullObserver,
            Checking::Disabled,
        )
        .await
        .expect("with checking disabled: the NS RRset");
    assert!(ns.security.is_bogus(), "{:?}", ns.security);
    assert!(!ns.answers.is_empty());
    let before = lab.query_log().len();
    let failure = resolve(&resolver, "www.badsig.tld1.", RecordType::A)
        .await
        .expect_err("the zone is bogus");
    assert!(matches!(failure.error, ResolveError::Bogus(_)));
    let parent_asked = lab.query_log()[before..]
        .iter()
        .any(|q| q.server_name.to_string().ends_with("nic.tld1.") && q.qname.num_labels() >= 2);
    assert!(
        parent_asked,
        "the walk started above the bogus cut: {:?}",
        &lab.query_log()[before..]
    );
}

/// QNAME minimisation asks `ent.a.tld1. A` on the way to
/// `host.ent.a.tld1.`; that NODATA is never judged, so validating it is
/// not cached: the client's own question for it is asked and validated.
#[tokio::test]
async fn an_unjudged_minimised_reply_never_answers_a_client() {
    let lab = common::lab().await;
    let resolver = common::validating(&lab);
    let deep = resolve(&resolver, "host.ent.a.tld1.", RecordType::A)
        .await
        .expect("the name exists");
    assert_eq!(deep.security, Security::Secure);
    let ent = resolve(&resolver, "ent.a.tld1.", RecordType::A)
        .await
        .expect("an empty non-terminal: NODATA");
    assert_eq!(ent.rcode, ResponseCode::NoError);
    assert!(ent.answers.is_empty());
    assert_eq!(ent.security, Security::Secure, "judged, not taken unjudged");
}

/// An empty non-terminal learnt by a minimised question is remembered
/// (judged first when validating), so the next name below it costs one
/// upstream query, not two: `wild.a.tld1.` is asked once, whatever the
/// number of wildcard names asked under it.
#[tokio::test]
async fn a_known_empty_non_terminal_is_not_asked_again() {
    for validate in [true, false] {
        let lab = common::lab().await;
        let resolver = if validate {
            common::validating(&lab)
        } else {
            common::resolver(&lab)
        };
        let mut queries = Vec::new();
        for qname in ["x1.wild.a.tld1.", "x2.wild.a.tld1.", "x3.wild.a.tld1."] {
            let outcome = resolve(&resolver, qname, RecordType::A)
                .await
                .unwrap_or_else(|f| panic!("{qname}: {}", f.error));
            assert_eq!(outcome.answers.len(), 1, "{qname}");
            if validate {
                assert_eq!(outcome.security, Security::Secure, "{qname}");
            }
            queries.push(outcome.stats.upstream_queries);
        }
        let ent = name("wild.a.tld1.");
        let asked = lab.query_log().iter().filter(|q| q.qname == ent).count();
        assert_eq!(asked, 1, "validate {validate}: the ENT asked once");
        assert_eq!(queries[1..], [1, 1], "validate {validate}: {queries:?}");
    }
}
