//! A root server on loopback that is not the lab, for answers the lab's
//! zone files cannot give (odd TTLs, a thousand CNAMEs in one reply). It
//! knows its own NS (`a.fake.`) and address and answers every other
//! question as the test's handler says. It runs on the test's runtime and
//! ends with it.

use std::net::Ipv4Addr;
use std::str::FromStr;

use hickory_proto::op::{Message, MessageType, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, NS, SOA};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use rootwalk::config::Limits;
use rootwalk::resolve::hints::RootHints;
use rootwalk::resolve::{Resolver, ResolverConfig};

/// What the fake root answers for one question: rcode, answers,
/// authorities.
pub type Handler = fn(&Query) -> (ResponseCode, Vec<Record>, Vec<Record>);

/// Starts a fake root answering as `handler` says and returns a resolver
/// with `limits` whose only root it is.
pub async fn resolver(limits: Limits, handler: Handler) -> Resolver {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    let ns_name = Name::from_str("a.fake.").unwrap();
    tokio::spawn(async move {
        let mut buffer = vec![0u8; 4096];
        while let Ok((len, client)) = socket.recv_from(&mut buffer).await {
            let Ok(query) = Message::from_vec(&buffer[..len]) else {
                continue;
            };
            let Some(question) = query.queries.first() else {
                continue;
            };
            let mut reply = Message::response(query.metadata.id, query.metadata.op_code);
            reply.metadata.message_type = MessageType::Response;
            reply.metadata.authoritative = true;
            reply.add_query(question.clone());
            if question.name().is_root() && question.query_type() == RecordType::NS {
                let ns = RData::NS(NS(ns_name.clone()));
                reply
                    .answers
                    .push(Record::from_rdata(Name::root(), 3600, ns));
            } else if question.name() == &ns_name {
                let a = RData::A(A(Ipv4Addr::LOCALHOST));
                reply
                    .answers
                    .push(Record::from_rdata(ns_name.clone(), 3600, a));
            } else {
                let (rcode, answers, authorities) = handler(question);
                reply.metadata.response_code = rcode;
                reply.answers = answers;
                reply.authorities = authorities;
            }
            // Large replies go over TCP in real life; the tests keep them
            // under 64 KB and the client accepts what arrives over UDP.
            let _ = socket.send_to(&reply.to_vec().unwrap(), client).await;
        }
    });
    let hints = RootHints::parse(
        &format!(". 3600000 NS a.fake.\na.fake. 3600000 A {}\n", addr.ip()),
        "test",
    )
    .unwrap();
    Resolver::new(ResolverConfig::new(hints, addr.port(), limits))
}

/// NXDOMAIN with the fake root's SOA, owned by the root with `ttl` and
/// asking for `minimum` seconds of negative caching (RFC 2308 §5).
pub fn nxdomain(ttl: u32, minimum: u32) -> (ResponseCode, Vec<Record>, Vec<Record>) {
    let soa = SOA::new(
        Name::from_str("a.fake.").unwrap(),
        Name::from_str("hostmaster.fake.").unwrap(),
        1,
        3600,
        600,
        86400,
        minimum,
    );
    let soa = Record::from_rdata(Name::root(), ttl, RData::SOA(soa));
    (ResponseCode::NXDomain, vec![], vec![soa])
}
