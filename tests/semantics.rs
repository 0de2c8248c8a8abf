//! Resolution semantics against the lab (issue 12): answers come from the
//! zone's own data, never from glue or a parent's NS set (RFC 2181
//! §5.4.1); a removed delegation disappears when the parent's TTL runs out
//! (CVE-2012-1033); DS is asked of the parent (RFC 4035 §3.1.4.1); DNAME
//! (RFC 6672); negative caching caps and RFC 8020; one reply cannot carry
//! unbounded work. Each test asserts the answer and, from the lab's query
//! log, which server was asked what.

mod common;

use std::str::FromStr;
use std::time::Duration;

use common::fake_root;
use hickory_proto::op::{Query, ResponseCode};
use hickory_proto::rr::rdata::{A, CNAME};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use rootwalk::config::Limits;
use rootwalk::lab::{Lab, LoggedQuery};
use rootwalk::resolve::{Failure, Outcome, ResolveError, Resolver};
use rootwalk::trace::NullObserver;

fn name(s: &str) -> Name {
    Name::from_str(s).unwrap()
}

async fn setup_with(limits: Limits) -> (Lab, Resolver) {
    let lab = common::lab().await;
    let resolver = Resolver::new(common::config_with(&lab, limits));
    (lab, resolver)
}

async fn setup() -> (Lab, Resolver) {
    setup_with(common::limits()).await
}

async fn resolve(resolver: &Resolver, qname: &str, qtype: RecordType) -> Result<Outcome, Failure> {
    resolver.resolve(&name(qname), qtype, &NullObserver).await
}

/// The queries for (`qname`, `qtype`) in `log`.
fn asked(log: &[LoggedQuery], qname: &str, qtype: RecordType) -> Vec<LoggedQuery> {
    log.iter()
        .filter(|q| q.qname == name(qname) && q.qtype == qtype)
        .cloned()
        .collect()
}

fn server_names(log: &[LoggedQuery]) -> Vec<String> {
    log.iter().map(|q| q.server_name.to_string()).collect()
}

fn rdata(outcome: &Outcome) -> Vec<String> {
    let mut data: Vec<String> = outcome.answers.iter().map(|r| r.data.to_string()).collect();
    data.sort();
    data
}

/// RFC 2181 §5.4.1: tld1's glue says ns1.stale.tld1 is at .241; the zone
/// says 1.243. After a referral cached that glue, a client asking for
/// ns1.stale.tld1 gets the zone's record, fetched from the zone.
#[tokio::test]
async fn a_server_name_is_answered_by_its_zone_not_by_stale_glue() {
    let (lab, resolver) = setup().await;
    resolve(&resolver, "www.stale.tld1.", RecordType::A)
        .await
        .unwrap();
    assert!(
        resolver
            .answer_from_cache(&name("ns1.stale.tld1."), RecordType::A)
            .is_none(),
        "glue is not an answer, not even on the daemon's fast path"
    );
    lab.clear_log();
    let outcome = resolve(&resolver, "ns1.stale.tld1.", RecordType::A)
        .await
        .unwrap();
    let zone_address = lab.address_of("ns1.stale.tld1.").unwrap().to_string();
    assert_eq!(rdata(&outcome), [zone_address]);
    assert!(
        outcome.answers[0].ttl <= 3600,
        "the zone's TTL, not the glue's"
    );
    let log = lab.query_log();
    let to_zone = asked(&log, "ns1.stale.tld1.", RecordType::A);
    assert!(!to_zone.is_empty(), "{log:?}");
    assert!(
        server_names(&to_zone)
            .iter()
            .all(|s| s.ends_with(".stale.tld1.")),
        "{log:?}"
    );
    // Now it is an answer, and served from the cache.
    let cached = resolver.answer_from_cache(&name("ns1.stale.tld1."), RecordType::A);
    assert_eq!(cached.map(|o| rdata(&o)), Some(rdata(&outcome)));
}

/// The parent lists ns1+ns2, the child ns1+ns3. With the parent's set
/// cached by a referral, `mismatch.tld1 NS` still comes from the child.
#[tokio::test]
async fn a_zones_ns_set_is_answered_by_the_zone_not_by_the_referral() {
    let (lab, resolver) = setup().await;
    resolve(&resolver, "www.mismatch.tld1.", RecordType::A)
        .await
        .unwrap();
    assert!(
        resolver
            .answer_from_cache(&name("mismatch.tld1."), RecordType::NS)
            .is_none()
    );
    lab.clear_log();
    let outcome = resolve(&resolver, "mismatch.tld1.", RecordType::NS)
        .await
        .unwrap();
    assert_eq!(
        rdata(&outcome),
        ["ns1.mismatch.tld1.", "ns3.mismatch.tld1."]
    );
    let log = lab.query_log();
    let to_zone = asked(&log, "mismatch.tld1.", RecordType::NS);
    assert_eq!(to_zone.len(), 1, "{log:?}");
    assert!(
        to_zone[0]
            .server_name
            .to_string()
            .ends_with(".mismatch.tld1.")
    );
}

/// CVE-2012-1033: tld1 delegates ghost.tld1 for 2 s; the delegation is
/// removed; the child, asked in between, repeats its NS set with a TTL of
/// a day. Once the parent's 2 s are over, the name is gone.
#[tokio::test]
async fn a_removed_delegation_disappears_when_the_parents_ttl_runs_out() {
    let (lab, resolver) = setup().await;
    let www = resolve(&resolver, "www.ghost.tld1.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(www.answers.len(), 1);
    lab.remove_delegation(&name("tld1."), &name("ghost.tld1."))
        .unwrap();

    // The child is still asked while the delegation is cached, and says
    // its NS set lives for a day.
    lab.clear_log();
    let child = resolve(&resolver, "ghost.tld1.", RecordType::NS)
        .await
        .unwrap();
    assert_eq!(rdata(&child), ["ns.ghost.tld1."]);
    let log = lab.query_log();
    assert_eq!(
        server_names(&asked(&log, "ghost.tld1.", RecordType::NS)),
        ["ns.ghost.tld1."]
    );
    let cached = resolver
        .answer_from_cache(&name("ghost.tld1."), RecordType::NS)
        .expect("the child's answer is cached");
    assert!(
        cached.answers[0].ttl <= 2,
        "the child's NS set lives no longer than the delegation: {}",
        cached.answers[0].ttl
    );

    // Past the parent's TTL (2 s; the cache rounds down).
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    lab.clear_log();
    let gone = resolve(&resolver, "ghost.tld1.", RecordType::NS)
        .await
        .unwrap();
    assert_eq!(gone.rcode, ResponseCode::NXDomain);
    let log = lab.query_log();
    let to_parent = asked(&log, "ghost.tld1.", RecordType::NS);
    assert!(!to_parent.is_empty(), "{log:?}");
    assert!(
        server_names(&to_parent)
            .iter()
            .all(|s| s.ends_with(".nic.tld1.")),
        "{log:?}"
    );
    assert!(
        log.iter().all(|q| q.server_name != name("ns.ghost.tld1.")),
        "{log:?}"
    );
}

/// RFC 4035 §3.1.4.1: with b.tld1's cut cached, `b.tld1 DS` still goes to
/// tld1's servers, whose NODATA carries tld1's SOA. (b.tld1, not a.tld1:
/// the lab signs a.tld1, so tld1 holds a DS for it.)
#[tokio::test]
async fn ds_is_asked_of_the_parent_even_with_the_child_cached() {
    let (lab, resolver) = setup().await;
    resolve(&resolver, "www.b.tld1.", RecordType::A)
        .await
        .unwrap();
    lab.clear_log();
    let outcome = resolve(&resolver, "b.tld1.", RecordType::DS).await.unwrap();
    assert_eq!(
        (outcome.rcode, outcome.answers.len()),
        (ResponseCode::NoError, 0)
    );
    assert_eq!(
        outcome.authorities.first().map(|soa| soa.name.clone()),
        Some(name("tld1."))
    );
    let log = lab.query_log();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(
        (log[0].qname.clone(), log[0].qtype),
        (name("b.tld1."), RecordType::DS)
    );
    assert!(
        ["ns1.nic.tld1.", "ns2.nic.tld1."].contains(&log[0].server_name.to_string().as_str()),
        "{log:?}"
    );
}

/// RFC 6672: alias.tld2 holds `old DNAME new.alias.tld2.` (chased inside
/// the zone) and `far DNAME b.tld1.` (leaving it). Answers carry the DNAME
/// and the synthesised CNAME, cold and from the cache.
#[tokio::test]
async fn dname_answers_carry_the_dname_and_the_synthesised_cname() {
    let (lab, resolver) = setup().await;
    let inside = resolve(&resolver, "www.old.alias.tld2.", RecordType::A)
        .await
        .unwrap();
    let types: Vec<RecordType> = inside.answers.iter().map(Record::record_type).collect();
    assert_eq!(types, [RecordType::DNAME, RecordType::CNAME, RecordType::A]);
    assert_eq!(
        inside.answers[1].data,
        RData::CNAME(CNAME(name("www.new.alias.tld2.")))
    );
    assert_eq!(inside.answers[2].data.to_string(), "198.51.100.153");

    lab.clear_log();
    let far = resolve(&resolver, "www.far.alias.tld2.", RecordType::A)
        .await
        .unwrap();
    let owners: Vec<String> = far.answers.iter().map(|r| r.name.to_string()).collect();
    assert_eq!(
        owners,
        ["far.alias.tld2.", "www.far.alias.tld2.", "www.b.tld1."]
    );
    assert_eq!(far.answers[2].data.to_string(), "192.0.2.11");
    let log = lab.query_log();
    // The target is resolved afresh, at b.tld1's server.
    let target = asked(&log, "www.b.tld1.", RecordType::A);
    assert_eq!(server_names(&target).len(), 1, "{log:?}");
    assert!(server_names(&target)[0].ends_with(".a.tld1."));

    // Another name under the DNAME: answered from the cached DNAME, with
    // its CNAME synthesised again; only the target goes upstream.
    lab.clear_log();
    let other = resolve(&resolver, "mail.old.alias.tld2.", RecordType::A)
        .await
        .unwrap();
    let types: Vec<RecordType> = other.answers.iter().map(Record::record_type).collect();
    assert_eq!(types[..2], [RecordType::DNAME, RecordType::CNAME]);
    assert_eq!(
        other.answers[1].data,
        RData::CNAME(CNAME(name("mail.new.alias.tld2.")))
    );
    let log = lab.query_log();
    assert!(
        asked(&log, "mail.old.alias.tld2.", RecordType::A).is_empty(),
        "{log:?}"
    );

    let warm = resolver
        .answer_from_cache(&name("www.old.alias.tld2."), RecordType::A)
        .expect("cached");
    assert_eq!(rdata(&warm), rdata(&inside));
}

/// RFC 8020: after `nope.a.tld1` NXDOMAIN, every name below it is answered
/// NXDOMAIN from the cache.
#[tokio::test]
async fn a_cached_nxdomain_answers_for_every_name_below_it() {
    let (lab, resolver) = setup().await;
    let nope = resolve(&resolver, "nope.a.tld1.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(nope.rcode, ResponseCode::NXDomain);
    lab.clear_log();
    let below = resolve(&resolver, "x.nope.a.tld1.", RecordType::AAAA)
        .await
        .unwrap();
    assert_eq!(below.rcode, ResponseCode::NXDomain);
    assert_eq!(below.authorities[0].name, name("a.tld1."));
    assert_eq!(below.stats.upstream_queries, 0);
    assert!(lab.query_log().is_empty());
    let fast = resolver.answer_from_cache(&name("deep.x.nope.a.tld1."), RecordType::MX);
    assert_eq!(fast.map(|o| o.rcode), Some(ResponseCode::NXDomain));
}

/// One reply adds at most `max_rrsets_per_reply` RRsets to the cache:
/// `a.tld1 ANY` carries SOA, NS and MX (and glue).
#[tokio::test]
async fn one_reply_adds_at_most_max_rrsets_per_reply_to_the_cache() {
    let cached_types = |resolver: &Resolver| {
        [RecordType::SOA, RecordType::NS, RecordType::MX]
            .into_iter()
            .filter(|t| resolver.answer_from_cache(&name("a.tld1."), *t).is_some())
            .count()
    };
    let (lab, resolver) = setup().await;
    let any = resolve(&resolver, "a.tld1.", RecordType::ANY)
        .await
        .unwrap();
    assert!(any.answers.len() >= 4, "{:?}", any.answers);
    assert_eq!(cached_types(&resolver), 3);
    // One reply from the zone carried it all (tld1 only referred).
    let log = lab.query_log();
    let to_zone: Vec<String> = server_names(&asked(&log, "a.tld1.", RecordType::ANY))
        .into_iter()
        .filter(|s| s.ends_with(".a.tld1."))
        .collect();
    assert_eq!(to_zone.len(), 1, "{log:?}");

    let (_lab, resolver) = setup_with(Limits {
        max_rrsets_per_reply: 2,
        ..common::limits()
    })
    .await;
    let any = resolve(&resolver, "a.tld1.", RecordType::ANY)
        .await
        .unwrap();
    assert!(any.answers.len() >= 4, "the client still gets all of it");
    assert_eq!(cached_types(&resolver), 2);
}

/// NXDOMAIN with an SOA that asks for a day of negative caching.
fn nxdomain_for_a_day(_: &Query) -> (ResponseCode, Vec<Record>, Vec<Record>) {
    fake_root::nxdomain(86400, 86400)
}

/// RFC 2308 §5: negative answers are cached at most MAX_NEGATIVE_TTL (an
/// hour), or `max-negative-ttl-s`, whatever the SOA says.
#[tokio::test]
async fn negative_ttls_are_capped_separately() {
    let cap = rootwalk::config::MAX_NEGATIVE_TTL.as_secs() as u32;
    assert_eq!(cap, 3600);
    for (limits, expected) in [
        (common::limits(), cap),
        (
            Limits {
                max_negative_ttl: Duration::from_secs(60),
                ..common::limits()
            },
            60,
        ),
    ] {
        let resolver = fake_root::resolver(limits, nxdomain_for_a_day).await;
        let cold = resolve(&resolver, "gone.example.", RecordType::A)
            .await
            .unwrap();
        assert_eq!(cold.rcode, ResponseCode::NXDomain);
        assert_eq!(cold.authorities[0].ttl, expected, "cold");
        let warm = resolver
            .answer_from_cache(&name("gone.example."), RecordType::A)
            .expect("cached");
        assert!(warm.authorities[0].ttl <= expected, "warm");
        assert!(warm.authorities[0].ttl + 1 >= expected, "warm");
    }
}

/// A thousand CNAMEs in one reply, all in the root's bailiwick.
fn a_thousand_cnames(question: &Query) -> (ResponseCode, Vec<Record>, Vec<Record>) {
    let link = |i: usize| name(&format!("c{i}.chain."));
    if question.name() != &link(0) {
        return nxdomain_for_a_day(question);
    }
    let mut answers: Vec<Record> = (0..1_000)
        .map(|i| Record::from_rdata(link(i), 300, RData::CNAME(CNAME(link(i + 1)))))
        .collect();
    let a = RData::A(A(std::net::Ipv4Addr::new(192, 0, 2, 1)));
    answers.push(Record::from_rdata(link(1_000), 300, a));
    (ResponseCode::NoError, answers, vec![])
}

/// A chain inside one reply counts against `max_cname_chain` as a chain
/// across replies does: SERVFAIL cold, and nothing served from the cache.
#[tokio::test]
async fn a_cname_chain_inside_one_reply_is_bounded_by_the_chain_limit() {
    let limits = Limits {
        max_minimise_steps: 0,
        ..common::limits()
    };
    let resolver = fake_root::resolver(limits, a_thousand_cnames).await;
    let failure = match resolve(&resolver, "c0.chain.", RecordType::A).await {
        Ok(outcome) => panic!("answered with {} records", outcome.answers.len()),
        Err(failure) => failure,
    };
    assert_eq!(
        failure.error,
        ResolveError::CnameChainTooLong(rootwalk::config::MAX_CNAME_CHAIN)
    );
    // Priming, then the one reply.
    assert_eq!(failure.stats.upstream_queries, 2);
    assert!(
        resolver
            .answer_from_cache(&name("c0.chain."), RecordType::A)
            .is_none()
    );
}
