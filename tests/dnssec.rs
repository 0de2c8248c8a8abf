//! The validating resolver against the signed lab: secure answers and
//! proofs, insecure delegations, and each kind of bogus zone refused with
//! its reason; which servers were asked for the chain of trust.

mod common;

use std::str::FromStr;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RecordType};
use rootwalk::lab::Lab;
use rootwalk::resolve::{Failure, Outcome, ResolveError, Resolver};
use rootwalk::trace::NullObserver;
use rootwalk::validate::Security;

fn name(text: &str) -> Name {
    Name::from_str(text).unwrap()
}

/// A validating resolver trusting the lab's root key.
fn validating(lab: &Lab) -> Resolver {
    let mut config = common::config(lab);
    config.trust_anchors = Some(lab.trust_anchor());
    Resolver::new(config)
}

async fn resolve(resolver: &Resolver, qname: &str, qtype: RecordType) -> Result<Outcome, Failure> {
    resolver.resolve(&name(qname), qtype, &NullObserver).await
}

#[tokio::test]
async fn signed_answers_and_their_denials_are_secure() {
    let lab = common::lab().await;
    let resolver = validating(&lab);
    for (qname, qtype, rcode) in [
        ("www.a.tld1.", RecordType::A, ResponseCode::NoError),
        ("nope.a.tld1.", RecordType::A, ResponseCode::NXDomain),
        ("www.a.tld1.", RecordType::AAAA, ResponseCode::NoError),
        // NSEC3, glueless: its server lives in the signed hosting.tld3.
        ("www.c.tld2.", RecordType::A, ResponseCode::NoError),
        ("nope.c.tld2.", RecordType::A, ResponseCode::NXDomain),
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
    let resolver = validating(&lab);
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
    let resolver = validating(&lab);
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

/// The daemon in front of a validating resolver: AD for secure answers to
/// clients that ask with AD or DO (RFC 6840 §5.7-5.8), none for insecure
/// ones, SERVFAIL with the validator's Extended DNS Error for bogus ones.
#[tokio::test]
async fn the_daemon_sets_ad_for_secure_answers_and_refuses_bogus_ones() {
    use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
    use rootwalk::server::{self, ServeConfig, ede::Ede};
    use tokio::net::UdpSocket;

    let lab = common::lab().await;
    let mut resolver = common::config(&lab);
    resolver.trust_anchors = Some(lab.trust_anchor());
    let config = ServeConfig {
        listen: vec!["127.0.0.1:0".parse().unwrap()],
        listen_is_default: false,
        udp_sockets: Some(1),
        limits: common::limits(),
        ..ServeConfig::default()
    };
    let (daemon, listeners) = server::prepare(&config, resolver).await.unwrap();
    let addr = listeners.local_addrs()[0].1;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(daemon.run(listeners, async {
        let _ = stopped.await;
    }));
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let ask = |qname: &str, ad: bool, dnssec_ok: bool| {
        let mut query = Message::new(rand::random(), MessageType::Query, OpCode::Query);
        query.metadata.recursion_desired = true;
        query.metadata.authentic_data = ad;
        query.add_query(Query::query(name(qname), RecordType::A));
        let mut edns = Edns::new();
        edns.set_max_payload(1232);
        edns.set_dnssec_ok(dnssec_ok);
        query.set_edns(edns);
        query
    };
    let exchange = async |query: Message| {
        socket
            .send_to(&query.to_vec().unwrap(), addr)
            .await
            .unwrap();
        let mut buffer = vec![0u8; 4096];
        loop {
            let (len, _) = tokio::time::timeout(
                std::time::Duration::from_secs(10),
                socket.recv_from(&mut buffer),
            )
            .await
            .expect("a reply")
            .unwrap();
            let reply = Message::from_vec(&buffer[..len]).unwrap();
            if reply.metadata.id == query.metadata.id {
                return reply;
            }
        }
    };
    let secure_ad = exchange(ask("www.a.tld1.", true, false)).await;
    assert_eq!(secure_ad.metadata.response_code, ResponseCode::NoError);
    assert!(secure_ad.metadata.authentic_data, "AD asked: AD given");
    let secure_do = exchange(ask("www.a.tld1.", false, true)).await;
    assert!(secure_do.metadata.authentic_data, "DO set: AD given");
    let secure_plain = exchange(ask("www.a.tld1.", false, false)).await;
    assert!(!secure_plain.metadata.authentic_data, "neither: no AD");
    let insecure = exchange(ask("www.unsigned.tld1.", true, false)).await;
    assert_eq!(insecure.metadata.response_code, ResponseCode::NoError);
    assert!(!insecure.metadata.authentic_data, "insecure: no AD");
    let bogus = exchange(ask("www.expired.tld1.", true, false)).await;
    assert_eq!(bogus.metadata.response_code, ResponseCode::ServFail);
    assert!(bogus.answers.is_empty());
    let ede = bogus
        .edns
        .as_ref()
        .and_then(|e| {
            e.options()
                .as_ref()
                .iter()
                .find_map(|(_, o)| Ede::from_option(o))
        })
        .expect("an Extended DNS Error");
    assert_eq!(ede.code, 7, "Signature Expired: {}", ede.text);

    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}
