//! Target A, the client query path: bytes from a client → `packet::judge`
//! → a reply (the judge's own, or for a `Resolve` verdict one built by
//! `answer_reply` from a synthetic outcome) → `encode` at the UDP and TCP
//! limits; and the same bytes through `Handler::answer_now`, as a
//! listener calls it, over UDP and TCP.
//!
//! The rules asserted are the ones `src/server/packet.rs` documents: no
//! reply for fewer than 12 bytes or QR=1; a reply for every other input
//! (FORMERR when the body does not parse); a resolution only for an
//! allowed client's single IN question with opcode QUERY and EDNS version
//! 0. Every reply parses whole, fits its limit, is a response, and echoes
//! the ID, opcode and RD bit (RFC 1035 §4.1.1); a resolved query's reply
//! also echoes the question and carries OPT exactly when the query did
//! (RFC 6891 §6.1.1); over UDP a cut reply has TC=1, over TCP never.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, OnceLock};

use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, SOA, TXT};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rootwalk::config::Limits;
use rootwalk::resolve::hints::RootHints;
use rootwalk::resolve::{Failure, Outcome, ResolveError, Resolver, ResolverConfig, Stats};
use rootwalk::server::handler::{Handler, Immediate, Transport};
use rootwalk::server::packet::{
    self, HEADER_LEN, Limit, TCP_MESSAGE_MAX, UDP_PAYLOAD_MAX, UDP_PAYLOAD_PLAIN, Verdict,
};
use rootwalk::server::policy::{Policy, PolicyCell};
use rootwalk::server::{Acl, Counters, ServeLimits};

use crate::mutate::fnv;
use crate::runner::Signature;

/// What a reply must echo from the query it answers.
#[derive(Debug, Clone, Copy)]
pub struct Echo {
    /// The query's ID.
    pub id: u16,
    /// The query's opcode (4 bits).
    pub opcode: u8,
    /// The query's RD bit.
    pub rd: bool,
}

impl Echo {
    /// What the header bytes of a query ask to be echoed.
    pub fn of_header(bytes: &[u8]) -> Option<Echo> {
        (bytes.len() >= HEADER_LEN).then(|| Echo {
            id: u16::from_be_bytes([bytes[0], bytes[1]]),
            opcode: (bytes[2] >> 3) & 0x0f,
            rd: bytes[2] & 0x01 != 0,
        })
    }
}

/// Checks one reply on the wire: at most `max` bytes, decodes with
/// nothing left over, is a response, and echoes `echo`.
pub fn check_reply(bytes: &[u8], max: usize, echo: Echo) -> Result<Message, String> {
    if bytes.len() > max {
        return Err(format!(
            "reply of {} bytes over its limit {max}",
            bytes.len()
        ));
    }
    let mut decoder = BinDecoder::new(bytes);
    let message = Message::read(&mut decoder).map_err(|e| format!("reply does not parse: {e}"))?;
    if !decoder.is_empty() {
        return Err(format!(
            "{} trailing bytes after the reply",
            bytes.len() - decoder.index()
        ));
    }
    let header = &message.metadata;
    if header.message_type != MessageType::Response {
        return Err("reply has QR=0".to_owned());
    }
    if header.id != echo.id {
        return Err(format!(
            "reply ID {:#06x}, query ID {:#06x}",
            header.id, echo.id
        ));
    }
    if u8::from(header.op_code) != echo.opcode {
        return Err(format!(
            "reply opcode {}, query opcode {}",
            u8::from(header.op_code),
            echo.opcode
        ));
    }
    if header.recursion_desired != echo.rd {
        return Err("reply does not echo RD".to_owned());
    }
    Ok(message)
}

/// A synthetic outcome for `question`, chosen by `seed`: a small answer,
/// a big one (up to far past 64 KB), a CNAME chain, NXDOMAIN with SOA, or
/// a failure.
pub fn synthetic(qname: &Name, qtype: RecordType, seed: u64) -> Result<Outcome, Failure> {
    let mut rng = StdRng::seed_from_u64(seed);
    let stats = Stats::default();
    let owner = qname.clone();
    let soa = || {
        let zone = owner.base_name();
        let data = SOA::new(zone.clone(), zone.clone(), 1, 3600, 600, 86400, 300);
        Record::from_rdata(zone, 300, RData::SOA(data))
    };
    let outcome = |rcode, answers, authorities| Outcome {
        rcode,
        answers,
        authorities,
        signatures: Vec::new(),
        proof: Vec::new(),
        stats,
        security: rootwalk::validate::Security::Indeterminate,
        stale: false,
    };
    Ok(match rng.random_range(0..6) {
        0 => {
            let failure = Failure {
                error: ResolveError::RecentFailure,
                stats,
            };
            return Err(failure);
        }
        1 => outcome(ResponseCode::NXDomain, Vec::new(), vec![soa()]),
        2 => outcome(ResponseCode::NoError, Vec::new(), vec![soa()]),
        3 => {
            let target = Name::from_ascii("target.example.net.").unwrap_or_else(|_| Name::root());
            let mut answers = vec![Record::from_rdata(
                owner.clone(),
                300,
                RData::CNAME(CNAME(target.clone())),
            )];
            answers.extend(rrset(&target, qtype, rng.random_range(1..4), &mut rng));
            outcome(ResponseCode::NoError, answers, Vec::new())
        }
        4 => {
            // Big: several RRsets of many records, often past 64 KB.
            let mut answers = Vec::new();
            for set in 0..rng.random_range(1..5) {
                let name = owner
                    .prepend_label(format!("s{set}"))
                    .unwrap_or_else(|_| owner.clone());
                let name = if set == 0 { owner.clone() } else { name };
                answers.extend(rrset(&name, qtype, rng.random_range(1..1500), &mut rng));
            }
            outcome(ResponseCode::NoError, answers, Vec::new())
        }
        _ => {
            let count = rng.random_range(1..8);
            outcome(
                ResponseCode::NoError,
                rrset(&owner, qtype, count, &mut rng),
                Vec::new(),
            )
        }
    })
}

/// `count` records at `owner`, of `qtype` when the harness can make data
/// for it and TXT otherwise.
pub fn rrset(owner: &Name, qtype: RecordType, count: usize, rng: &mut StdRng) -> Vec<Record> {
    (0..count)
        .map(|i| {
            let data = match qtype {
                RecordType::A => RData::A(A::from(std::net::Ipv4Addr::from(rng.random::<u32>()))),
                RecordType::AAAA => {
                    RData::AAAA(AAAA::from(std::net::Ipv6Addr::from(rng.random::<u128>())))
                }
                RecordType::MX => {
                    let host = Name::from_ascii(format!("mx{i}.example.net."))
                        .unwrap_or_else(|_| Name::root());
                    RData::MX(MX::new(rng.random(), host))
                }
                _ => {
                    let len = rng.random_range(0..300);
                    let text: String = (0..len)
                        .map(|k| char::from(b'a' + (k % 26) as u8))
                        .collect();
                    RData::TXT(TXT::new(vec![format!("{i}"), text]))
                }
            };
            Record::from_rdata(owner.clone(), rng.random_range(0..86400), data)
        })
        .collect()
}

/// Encodes `reply` at `limit` and checks it; for a resolved query also the
/// question, OPT and TC rules.
fn check_encoded(
    reply: &Message,
    limit: Limit,
    echo: Echo,
    query: Option<&Message>,
) -> Result<(), String> {
    let encoded = packet::encode(reply, limit)
        .ok_or_else(|| format!("no reply at all could be encoded for {limit:?}"))?;
    let decoded = check_reply(&encoded.bytes, limit.bytes(), echo)?;
    if u16::from(decoded.metadata.response_code) != u16::from(encoded.rcode) {
        return Err("the rcode sent is not the one reported".to_owned());
    }
    match limit {
        Limit::Stream if decoded.metadata.truncation => {
            return Err("TC=1 over TCP".to_owned());
        }
        Limit::Datagram(_) if encoded.truncated && !decoded.metadata.truncation => {
            return Err("a UDP reply cut without TC=1".to_owned());
        }
        _ => {}
    }
    if let Some(query) = query {
        if decoded.queries != query.queries {
            return Err("reply does not echo the question".to_owned());
        }
        if decoded.edns.is_some() != query.edns.is_some() {
            return Err(format!(
                "OPT in reply: {}, in query: {}",
                decoded.edns.is_some(),
                query.edns.is_some()
            ));
        }
        if !encoded.truncated && encoded.rcode == reply.metadata.response_code {
            let sent = (reply.answers.len(), reply.authorities.len());
            let got = (decoded.answers.len(), decoded.authorities.len());
            if sent != got {
                return Err(format!("records lost without a cut: {sent:?} → {got:?}"));
            }
        }
    }
    Ok(())
}

/// Target A: judge, reply and encode, then the handler.
pub fn target(bytes: &[u8]) -> Result<Signature, String> {
    let hash = fnv(bytes);
    let allowed = !hash.is_multiple_of(8);
    let echo = Echo::of_header(bytes);
    let answerable = echo.is_some() && bytes[2] & 0x80 == 0;
    let signature = match (packet::judge(bytes, allowed), echo) {
        (Verdict::Drop, _) if answerable => {
            return Err("a query with a readable header got no reply".to_owned());
        }
        (Verdict::Drop, _) => 1,
        (_, None) => return Err("a reply to fewer than 12 bytes".to_owned()),
        (_, Some(_)) if !answerable => return Err("a reply to a response (QR=1)".to_owned()),
        (Verdict::Reply(reply), Some(echo)) => {
            let rcode = reply.metadata.response_code;
            if rcode == ResponseCode::NoError {
                return Err("an immediate reply with NOERROR".to_owned());
            }
            if !allowed && !matches!(rcode, ResponseCode::Refused | ResponseCode::FormErr) {
                return Err(format!("a refused client got {rcode}"));
            }
            check_encoded(&reply, Limit::Datagram(UDP_PAYLOAD_PLAIN), echo, None)?;
            check_encoded(&reply, Limit::Stream, echo, None)?;
            2 | u64::from(u16::from(rcode)) << 4 | u64::from(echo.opcode) << 16
        }
        (Verdict::Resolve(query), Some(echo)) => {
            if !allowed {
                return Err("a refused client's query was resolved".to_owned());
            }
            let message = &query.message;
            let sane = message.queries.len() == 1
                && query.question.query_class() == DNSClass::IN
                && u8::from(message.metadata.op_code) == 0
                && message.edns.as_ref().is_none_or(|e| e.version() == 0);
            if !sane {
                return Err(format!("resolved a query judge should refuse: {message:?}"));
            }
            let udp = packet::udp_limit(message);
            if !(UDP_PAYLOAD_PLAIN..=usize::from(UDP_PAYLOAD_MAX)).contains(&udp) {
                return Err(format!("UDP limit {udp} out of range"));
            }
            let name = query.question.name();
            let qtype = query.question.query_type();
            let result = synthetic(name, qtype, hash);
            let reply = packet::answer_reply(message, &result);
            check_encoded(&reply, Limit::Datagram(udp), echo, Some(message))?;
            check_encoded(&reply, Limit::Stream, echo, Some(message))?;
            3 | u64::from(u16::from(reply.metadata.response_code)) << 4
                | u64::from(message.edns.is_some()) << 16
                | u64::from(u16::from(qtype)) << 20
        }
    };
    check_handler(bytes, allowed, answerable, echo)?;
    Ok(signature)
}

/// A handler over a resolver that is never asked anything: its cache is
/// empty, so `answer_now` settles or hands over without the network.
fn handler() -> &'static Handler {
    static HANDLER: OnceLock<Handler> = OnceLock::new();
    HANDLER.get_or_init(|| {
        let config = ResolverConfig::new(RootHints::iana(), 53, Limits::default());
        Handler::new(
            Resolver::new(config),
            Arc::new(PolicyCell::new(Policy::new(Acl::loopback()))),
            Arc::new(Counters::default()),
            ServeLimits::default(),
        )
    })
}

/// The same bytes as a listener hands them over, from an allowed or a
/// stranger's address, over UDP and TCP.
fn check_handler(
    bytes: &[u8],
    allowed: bool,
    answerable: bool,
    echo: Option<Echo>,
) -> Result<(), String> {
    let ip = if allowed {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))
    };
    let client = SocketAddr::new(ip, 5353);
    for (transport, max) in [
        (Transport::Udp, usize::from(UDP_PAYLOAD_MAX)),
        (Transport::Tcp, TCP_MESSAGE_MAX),
    ] {
        match handler().answer_now(bytes, client, transport) {
            Immediate::Done(None) if answerable => {
                return Err(format!("{transport:?}: answer_now sent nothing to a query"));
            }
            Immediate::Done(None) => {}
            Immediate::Done(Some(reply)) | Immediate::Cached(reply, _, _) => {
                let echo = echo.ok_or("answer_now replied to fewer than 12 bytes")?;
                if !answerable {
                    return Err("answer_now replied to a response".to_owned());
                }
                check_reply(&reply, max, echo).map_err(|e| format!("{transport:?}: {e}"))?;
            }
            Immediate::Resolve(_) if !allowed => {
                return Err("answer_now resolves for a stranger".to_owned());
            }
            Immediate::Resolve(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use hickory_proto::op::{OpCode, Query};

    use super::*;

    fn query_bytes() -> Vec<u8> {
        let mut message = Message::new(0x4242, MessageType::Query, OpCode::Query);
        message.metadata.recursion_desired = true;
        message.add_query(Query::query(
            Name::from_ascii("www.example.com.").expect("name"),
            RecordType::A,
        ));
        message.to_vec().expect("encode")
    }

    #[test]
    fn the_reply_check_catches_what_it_should() {
        let echo = Echo::of_header(&query_bytes()).expect("a header");
        let mut reply = Message::response(0x4242, OpCode::Query);
        reply.metadata.recursion_desired = true;
        let good = reply.to_vec().expect("encode");
        assert!(check_reply(&good, 512, echo).is_ok());

        let mut junk = good.clone();
        junk.extend_from_slice(&[0, 0, 0]);
        assert!(
            check_reply(&junk, 512, echo)
                .unwrap_err()
                .contains("trailing")
        );
        assert!(
            check_reply(&good, good.len() - 1, echo)
                .unwrap_err()
                .contains("limit")
        );
        let mut wrong_id = good.clone();
        wrong_id[1] ^= 1;
        assert!(
            check_reply(&wrong_id, 512, echo)
                .unwrap_err()
                .contains("ID")
        );
        let mut no_rd = good.clone();
        no_rd[2] &= !1;
        assert!(check_reply(&no_rd, 512, echo).unwrap_err().contains("RD"));
        let mut not_response = good.clone();
        not_response[2] &= 0x7f;
        assert!(
            check_reply(&not_response, 512, echo)
                .unwrap_err()
                .contains("QR")
        );
        let half = &good[..good.len() - 3];
        assert!(check_reply(half, 512, echo).is_err());
    }

    #[test]
    fn the_encoded_reply_check_flags_opt_question_and_tc_mistakes() {
        let mut query = Message::from_vec(&query_bytes()).expect("decode");
        query.set_edns(hickory_proto::op::Edns::new());
        let echo = Echo::of_header(&query_bytes()).expect("a header");
        let good = packet::error_reply(&query, ResponseCode::ServFail);
        assert_eq!(
            check_encoded(&good, Limit::Stream, echo, Some(&query)),
            Ok(())
        );

        let mut no_opt = good.clone();
        no_opt.edns = None;
        let error = check_encoded(&no_opt, Limit::Stream, echo, Some(&query)).unwrap_err();
        assert!(error.contains("OPT"), "{error}");

        let mut other_question = good.clone();
        other_question.queries[0].set_query_type(RecordType::MX);
        let error = check_encoded(&other_question, Limit::Stream, echo, Some(&query)).unwrap_err();
        assert!(error.contains("question"), "{error}");

        let mut tc = good.clone();
        tc.metadata.truncation = true;
        let error = check_encoded(&tc, Limit::Stream, echo, Some(&query)).unwrap_err();
        assert!(error.contains("TC=1 over TCP"), "{error}");
    }

    #[test]
    fn the_target_holds_for_a_good_query_and_its_seeds() {
        assert!(target(&query_bytes()).is_ok());
        assert!(target(&[]).is_ok());
        assert!(target(&[0; 11]).is_ok());
    }

    #[test]
    fn synthetic_outcomes_cover_every_kind() {
        let name = Name::from_ascii("www.example.com.").expect("name");
        let mut kinds = std::collections::HashSet::new();
        for seed in 0..200 {
            let kind = match synthetic(&name, RecordType::A, seed) {
                Err(_) => "failure".to_owned(),
                Ok(o) => format!("{}-{}", o.rcode, o.answers.len().min(9) / 9),
            };
            kinds.insert(kind);
        }
        assert!(kinds.len() >= 4, "{kinds:?}");
    }
}
