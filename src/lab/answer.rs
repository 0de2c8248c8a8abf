//! Turns one query into the reply one lab server sends: header rules, the
//! choice of zone, the faults that change content, EDNS and the UDP size
//! limit, and for DO=1 queries to signed zones the RRSIGs and denial
//! proofs ([`super::zone::secure`]). Pure: no sockets, no clocks.

use std::net::Ipv4Addr;
use std::sync::Arc;

use hickory_proto::ProtoError;
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

use super::manifest::Faults;
use super::zone::secure::is_dnssec_type;
use super::zone::{LookupKind, ServedZone};

/// UDP payload limit without EDNS (RFC 1035 §4.2.1).
pub const UDP_LIMIT_PLAIN: usize = 512;

/// Largest UDP payload the lab sends even when the client offers more (DNS
/// Flag Day 2020), which makes big answers need TCP.
pub const UDP_LIMIT_EDNS: u16 = 1232;

/// The highest EDNS version the lab's servers implement (RFC 6891 §6.1.3:
/// 0, the only one defined).
pub const EDNS_VERSION: u8 = 0;

/// The address forged replies point at.
pub const BOGUS_ADDRESS: [u8; 4] = [127, 66, 6, 6];

/// The answering logic of one server: the zones it serves and its faults.
#[derive(Debug, Clone)]
pub struct Responder {
    zones: Vec<Arc<ServedZone>>,
    faults: Faults,
}

/// The outcome of reading a datagram or TCP frame.
#[derive(Debug)]
pub enum Decoded {
    /// A message with the query bit set.
    Query(Box<Message>),
    /// Not parsable, but the header was: reply with this FORMERR.
    Malformed(Box<Message>),
    /// Not worth a reply (a response, or shorter than a header).
    Ignore,
}

/// Reads a query off the wire.
pub fn decode(bytes: &[u8]) -> Decoded {
    if bytes.len() < 12 || bytes[2] & 0x80 != 0 {
        return Decoded::Ignore;
    }
    match Message::from_vec(bytes) {
        Ok(message) if message.metadata.message_type == MessageType::Query => {
            Decoded::Query(Box::new(message))
        }
        Ok(_) => Decoded::Ignore,
        Err(_) => {
            let id = u16::from_be_bytes([bytes[0], bytes[1]]);
            let op_code = OpCode::from_u8((bytes[2] >> 3) & 0x0f);
            let mut reply = Message::error_msg(id, op_code, ResponseCode::FormErr);
            reply.metadata.recursion_desired = bytes[2] & 0x01 != 0;
            Decoded::Malformed(Box::new(reply))
        }
    }
}

/// The UDP payload limit for replies to `query` (RFC 6891 §6.2.5): 512
/// without EDNS, else the client's size clamped to 512..=1232.
pub fn udp_limit(query: &Message) -> usize {
    match &query.edns {
        None => UDP_LIMIT_PLAIN,
        Some(edns) => usize::from(edns.max_payload().clamp(512, UDP_LIMIT_EDNS)),
    }
}

/// The malformed OPT record the `badopt` fault appends: owner `.`, type
/// OPT, payload 1232, then an RDLENGTH of 16 followed by only one 4-byte
/// option header (a COOKIE claiming 8 bytes), so the RDATA runs past the
/// end of the message.
const MALFORMED_OPT: [u8; 15] = [
    0x00, // owner: the root
    0x00, 0x29, // type OPT (41)
    0x04, 0xd0, // UDP payload 1232
    0x00, 0x00, 0x00, 0x00, // extended rcode, version, flags
    0x00, 0x10, // RDLENGTH 16: more than is left
    0x00, 0x0a, 0x00, 0x08, // option COOKIE, length 8, and no data
];

/// Appends `MALFORMED_OPT` to the encoded message `wire` as one more
/// additional record (ARCOUNT + 1): the `badopt` fault. A message shorter
/// than a header is left alone.
pub fn append_malformed_opt(wire: &mut Vec<u8>) {
    let Some(arcount) = wire.get_mut(10..12) else {
        return;
    };
    let count = u16::from_be_bytes([arcount[0], arcount[1]]).saturating_add(1);
    arcount.copy_from_slice(&count.to_be_bytes());
    wire.extend_from_slice(&MALFORMED_OPT);
}

/// Encodes `reply`; over `limit` bytes it is replaced by its truncated
/// form (TC=1, question and OPT only).
pub fn encode(reply: &Message, limit: Option<usize>) -> Result<Vec<u8>, ProtoError> {
    let bytes = reply.to_vec()?;
    match limit {
        Some(limit) if bytes.len() > limit => reply.truncate().to_vec(),
        _ => Ok(bytes),
    }
}

impl Responder {
    /// A responder for a server serving `zones` with `faults`.
    pub fn new(zones: Vec<Arc<ServedZone>>, faults: Faults) -> Self {
        Self { zones, faults }
    }

    /// The faults this responder plays.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// The full reply to `query`, before any size limit.
    pub fn respond(&self, query: &Message) -> Message {
        let mut reply = Message::response(query.metadata.id, query.metadata.op_code);
        reply.metadata.recursion_desired = query.metadata.recursion_desired;
        reply.add_queries(query.queries.iter().cloned());
        if self.faults.no_edns && query.edns.is_some() {
            // A server from before RFC 2671: the OPT record is a format
            // error; the question is echoed, no OPT is returned.
            reply.metadata.response_code = ResponseCode::FormErr;
            return reply;
        }
        if let Some(asked) = query.edns.as_ref().filter(|_| !self.faults.bad_opt) {
            let mut edns = Edns::new();
            edns.set_max_payload(UDP_LIMIT_EDNS);
            // The DO bit is echoed (RFC 3225 §3).
            edns.set_dnssec_ok(asked.flags().dnssec_ok);
            reply.set_edns(edns);
            if asked.version() > EDNS_VERSION {
                // RFC 6891 §6.1.3: an unknown version gets BADVERS and
                // an OPT of the highest version implemented, no answer.
                // Unknown options need nothing: they are ignored
                // (§6.1.2), never echoed.
                reply.metadata.response_code = ResponseCode::BADVERS;
                return reply;
            }
        }
        let rcode = self.fill(query, &mut reply);
        reply.metadata.response_code = rcode;
        if self.faults.truncate {
            reply.answers.clear();
            reply.authorities.clear();
            reply.additionals.clear();
            reply.metadata.truncation = true;
        }
        reply
    }

    /// Fills the sections of `reply` and returns its rcode.
    fn fill(&self, query: &Message, reply: &mut Message) -> ResponseCode {
        if query.metadata.op_code != OpCode::Query {
            return ResponseCode::NotImp;
        }
        let [question] = query.queries.as_slice() else {
            return ResponseCode::FormErr;
        };
        if question.query_class() != DNSClass::IN {
            return ResponseCode::Refused;
        }
        if self.faults.refused {
            return ResponseCode::Refused;
        }
        if self.faults.servfail {
            return ResponseCode::ServFail;
        }
        let qname = question.name();
        let Some(served) = self
            .zones
            .iter()
            .filter(|z| z.origin().zone_of(qname))
            .max_by_key(|z| z.origin().num_labels())
        else {
            return ResponseCode::Refused;
        };
        let zone = served.current();
        let rcode = match &self.faults.referral {
            Some(referral) => {
                reply.authorities.extend(referral.ns.iter().cloned());
                reply.additionals.extend(referral.glue.iter().cloned());
                ResponseCode::NoError
            }
            None if self.faults.empty_non_terminal.is_some()
                && zone.on_empty_non_terminal(qname) =>
            {
                let rcode = self
                    .faults
                    .empty_non_terminal
                    .unwrap_or(ResponseCode::Refused);
                if rcode == ResponseCode::NXDomain {
                    // A believable NXDOMAIN: authoritative, with the SOA.
                    reply.metadata.authoritative = true;
                    reply.authorities.push(zone.negative_soa());
                }
                rcode
            }
            None => {
                let qtype = question.query_type();
                let mut lookup = zone.lookup(qname, qtype);
                if dnssec_ok(query) {
                    zone.add_dnssec(qname, &mut lookup);
                } else if qtype == RecordType::ANY {
                    // DNSSEC records only when asked for (RFC 4035 §3.2.1).
                    lookup.answers.retain(|r| !is_dnssec_type(r.record_type()));
                }
                reply.metadata.authoritative = lookup.kind != LookupKind::Referral;
                reply.answers = lookup.answers;
                reply.authorities = lookup.authorities;
                reply.additionals = lookup.additionals;
                match lookup.kind {
                    LookupKind::NxDomain => ResponseCode::NXDomain,
                    LookupKind::YxDomain => ResponseCode::YXDomain,
                    _ => ResponseCode::NoError,
                }
            }
        };
        for record in &self.faults.poison {
            match record.record_type() {
                RecordType::NS => reply.authorities.push(record.clone()),
                _ => reply.additionals.push(record.clone()),
            }
        }
        rcode
    }
}

/// Whether `query` asks for DNSSEC records: EDNS with DO=1 (RFC 3225).
pub fn dnssec_ok(query: &Message) -> bool {
    query.edns.as_ref().is_some_and(|e| e.flags().dnssec_ok)
}

/// The two forged replies a `spoof` server sends before the real one: a
/// wrong ID, then the right ID with a different question name. Both answer
/// the query name with [`BOGUS_ADDRESS`].
pub fn spoofed_replies(query: &Message) -> Vec<Message> {
    let Some(question) = query.queries.first() else {
        return Vec::new();
    };
    let bogus = Record::from_rdata(
        question.name().clone(),
        300,
        RData::A(A(Ipv4Addr::from(BOGUS_ADDRESS))),
    );
    let forge = |id: u16, asked: Query| {
        let mut reply = Message::response(id, OpCode::Query);
        reply.metadata.authoritative = true;
        reply.metadata.recursion_desired = query.metadata.recursion_desired;
        reply.add_query(asked);
        reply.add_answer(bogus.clone());
        reply
    };
    let mut other = question.clone();
    let other_name = question
        .name()
        .prepend_label("spoofed")
        .unwrap_or_else(|_| Name::root());
    other.set_name(other_name);
    vec![
        forge(query.metadata.id.wrapping_add(1), question.clone()),
        forge(query.metadata.id, other),
    ]
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use hickory_proto::rr::rdata::opt::{EdnsCode, EdnsOption};
    use hickory_proto::rr::rdata::{NS, SOA};

    use super::*;
    use crate::lab::dname::target as dname_target;
    use crate::lab::manifest::ReferralFault;
    use crate::lab::zone::Zone;

    fn name(s: &str) -> Name {
        Name::from_str(s).unwrap()
    }

    fn zone() -> Arc<ServedZone> {
        let origin = name("a.test.");
        let soa = SOA::new(name("ns.a.test."), name("h.a.test."), 1, 1, 1, 1, 300);
        let records = vec![
            Record::from_rdata(origin.clone(), 3600, RData::SOA(soa)),
            Record::from_rdata(origin.clone(), 3600, RData::NS(NS(name("ns.a.test.")))),
            Record::from_rdata(name("www.a.test."), 60, RData::A(A::new(192, 0, 2, 1))),
            Record::from_rdata(name("sub.a.test."), 60, RData::NS(NS(name("ns.x.test.")))),
            Record::from_rdata(name("www.deep.a.test."), 60, RData::A(A::new(192, 0, 2, 2))),
            Record::from_rdata(
                name("old.a.test."),
                120,
                crate::lab::dname::rdata(&name("new.b.test.")).unwrap(),
            ),
            Record::from_rdata(
                name("grow.a.test."),
                120,
                crate::lab::dname::rdata(&name("a-much-longer-target.b.test.")).unwrap(),
            ),
        ];
        Arc::new(ServedZone::new(
            Zone::from_records(origin, records).unwrap(),
        ))
    }

    fn query(qname: &str, qtype: RecordType) -> Message {
        let mut q = Message::new(4242, MessageType::Query, OpCode::Query);
        q.metadata.recursion_desired = true;
        q.add_query(Query::query(name(qname), qtype));
        q
    }

    #[test]
    fn header_echoes_id_rd_question_and_sets_aa() {
        let r = Responder::new(vec![zone()], Faults::default());
        let reply = r.respond(&query("www.a.test.", RecordType::A));
        assert_eq!(reply.metadata.id, 4242);
        assert!(reply.metadata.recursion_desired);
        assert!(!reply.metadata.recursion_available);
        assert!(reply.metadata.authoritative);
        assert_eq!(reply.metadata.message_type, MessageType::Response);
        assert_eq!(reply.queries, query("www.a.test.", RecordType::A).queries);
        assert_eq!(reply.answers.len(), 1);
        assert!(reply.edns.is_none());
    }

    #[test]
    fn referral_is_not_authoritative() {
        let r = Responder::new(vec![zone()], Faults::default());
        let reply = r.respond(&query("www.sub.a.test.", RecordType::A));
        assert!(!reply.metadata.authoritative);
        assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
        assert_eq!(reply.authorities.len(), 1);
    }

    #[test]
    fn unserved_zone_other_class_and_opcode_are_refused_or_notimp() {
        let r = Responder::new(vec![zone()], Faults::default());
        let reply = r.respond(&query("www.b.test.", RecordType::A));
        assert_eq!(reply.metadata.response_code, ResponseCode::Refused);
        let mut q = query("www.a.test.", RecordType::A);
        q.queries[0].set_query_class(DNSClass::CH);
        assert_eq!(r.respond(&q).metadata.response_code, ResponseCode::Refused);
        let mut q = query("www.a.test.", RecordType::A);
        q.metadata.op_code = OpCode::Status;
        assert_eq!(r.respond(&q).metadata.response_code, ResponseCode::NotImp);
    }

    #[test]
    fn faults_change_the_reply() {
        let q = query("www.a.test.", RecordType::A);
        let servfail = Faults {
            servfail: true,
            ..Faults::default()
        };
        let reply = Responder::new(vec![zone()], servfail).respond(&q);
        assert_eq!(reply.metadata.response_code, ResponseCode::ServFail);

        let poison = Faults {
            poison: vec![
                Record::from_rdata(name("www.b.test."), 1, RData::A(A::new(127, 66, 6, 6))),
                Record::from_rdata(name("b.test."), 1, RData::NS(NS(name("ns.evil.")))),
            ],
            ..Faults::default()
        };
        let reply = Responder::new(vec![zone()], poison).respond(&q);
        assert_eq!(reply.additionals.len(), 1);
        assert_eq!(reply.authorities.len(), 1);

        let referral = Faults {
            referral: Some(ReferralFault {
                ns: vec![Record::from_rdata(
                    Name::root(),
                    1,
                    RData::NS(NS(name("r.lab."))),
                )],
                glue: Vec::new(),
            }),
            ..Faults::default()
        };
        let reply = Responder::new(vec![zone()], referral).respond(&q);
        assert!(!reply.metadata.authoritative);
        assert!(reply.answers.is_empty());
        assert_eq!(reply.authorities[0].name, Name::root());
    }

    #[test]
    fn udp_limit_follows_edns() {
        let mut q = query("www.a.test.", RecordType::A);
        assert_eq!(udp_limit(&q), 512);
        let mut edns = Edns::new();
        edns.set_max_payload(4096);
        q.set_edns(edns.clone());
        assert_eq!(udp_limit(&q), 1232);
        edns.set_max_payload(100);
        q.set_edns(edns);
        assert_eq!(udp_limit(&q), 512);
    }

    #[test]
    fn oversized_reply_is_truncated_to_the_question() {
        let r = Responder::new(vec![zone()], Faults::default());
        let reply = r.respond(&query("www.a.test.", RecordType::A));
        let small = encode(&reply, Some(20)).unwrap();
        let decoded = Message::from_vec(&small).unwrap();
        assert!(decoded.metadata.truncation);
        assert!(decoded.answers.is_empty());
        assert_eq!(decoded.queries.len(), 1);
        let full = Message::from_vec(&encode(&reply, None).unwrap()).unwrap();
        assert!(!full.metadata.truncation);
    }

    #[test]
    fn decode_sorts_queries_garbage_and_responses() {
        let q = query("www.a.test.", RecordType::A);
        let bytes = q.to_vec().unwrap();
        assert!(matches!(decode(&bytes), Decoded::Query(_)));
        let mut garbage = bytes[..14].to_vec();
        garbage[5] = 1;
        match decode(&garbage) {
            Decoded::Malformed(reply) => {
                assert_eq!(reply.metadata.id, 4242);
                assert_eq!(reply.metadata.response_code, ResponseCode::FormErr);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(decode(&bytes[..5]), Decoded::Ignore));
        let response = r_bytes();
        assert!(matches!(decode(&response), Decoded::Ignore));
    }

    fn r_bytes() -> Vec<u8> {
        Responder::new(vec![zone()], Faults::default())
            .respond(&query("www.a.test.", RecordType::A))
            .to_vec()
            .unwrap()
    }

    #[test]
    fn spoofed_replies_have_wrong_id_then_wrong_question() {
        let q = query("www.a.test.", RecordType::A);
        let forged = spoofed_replies(&q);
        assert_eq!(forged.len(), 2);
        assert_ne!(forged[0].metadata.id, 4242);
        assert_eq!(forged[0].queries, q.queries);
        assert_eq!(forged[1].metadata.id, 4242);
        assert_ne!(forged[1].queries[0].name(), q.queries[0].name());
        assert!(
            forged
                .iter()
                .all(|m| m.answers[0].name == name("www.a.test."))
        );
    }

    #[test]
    fn unknown_edns_versions_get_badvers_and_unknown_options_are_ignored() {
        let r = Responder::new(vec![zone()], Faults::default());
        let mut plain = query("www.a.test.", RecordType::A);
        let mut edns = Edns::new();
        edns.set_version(1);
        let mut v1 = plain.clone();
        v1.set_edns(edns);
        let reply = r.respond(&v1);
        assert!(reply.answers.is_empty());
        // On the wire: the high bits of BADVERS travel in the OPT record.
        let wire = Message::from_vec(&encode(&reply, None).unwrap()).unwrap();
        // RCODE 16 is BADVERS and BADSIG both; hickory reads it as BADSIG.
        assert_eq!(u16::from(wire.metadata.response_code), 16);
        assert_eq!(wire.edns.as_ref().map(Edns::version), Some(0));

        let mut edns = Edns::new();
        edns.options_mut()
            .insert(EdnsOption::Unknown(65001, vec![1, 2]));
        plain.set_edns(edns);
        let reply = r.respond(&plain);
        assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
        assert!(!reply.answers.is_empty());
        let opt = reply.edns.as_ref().unwrap();
        assert!(opt.option(EdnsCode::Unknown(65001)).is_none(), "not echoed");
    }

    #[test]
    fn noedns_server_formerrs_queries_with_opt_only() {
        let faults = Faults {
            no_edns: true,
            ..Faults::default()
        };
        let r = Responder::new(vec![zone()], faults);
        let plain = query("www.a.test.", RecordType::A);
        let reply = r.respond(&plain);
        assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
        assert_eq!(reply.answers.len(), 1);
        let mut with_opt = plain.clone();
        with_opt.set_edns(Edns::new());
        let reply = r.respond(&with_opt);
        assert_eq!(reply.metadata.response_code, ResponseCode::FormErr);
        assert!(reply.edns.is_none());
        assert_eq!(reply.queries, plain.queries);
        assert!(reply.answers.is_empty() && !reply.metadata.authoritative);
        // On the wire too: no OPT record in the additional section.
        let wire = Message::from_vec(&encode(&reply, Some(512)).unwrap()).unwrap();
        assert!(wire.edns.is_none());
        assert_eq!(wire.metadata.response_code, ResponseCode::FormErr);
    }

    #[test]
    fn badopt_gives_no_good_opt_and_the_appended_one_does_not_decode() {
        let faults = Faults {
            bad_opt: true,
            ..Faults::default()
        };
        let r = Responder::new(vec![zone()], faults);
        let mut with_opt = query("www.a.test.", RecordType::A);
        with_opt.set_edns(Edns::new());
        let reply = r.respond(&with_opt);
        assert!(reply.edns.is_none());
        assert_eq!(reply.answers.len(), 1);
        let mut wire = encode(&reply, Some(1232)).unwrap();
        let arcount = u16::from_be_bytes([wire[10], wire[11]]);
        append_malformed_opt(&mut wire);
        assert_eq!(u16::from_be_bytes([wire[10], wire[11]]), arcount + 1);
        assert!(Message::from_vec(&wire).is_err());
        wire[10] = 0;
        wire[11] = 0;
        assert_eq!(Message::from_vec(&wire).unwrap().answers.len(), 1);
        // A stub shorter than a header is left alone.
        let mut stub = vec![0u8; 4];
        append_malformed_opt(&mut stub);
        assert_eq!(stub, [0u8; 4]);
    }

    #[test]
    fn truncate_fault_sets_tc_on_every_reply() {
        let faults = Faults {
            truncate: true,
            ..Faults::default()
        };
        let r = Responder::new(vec![zone()], faults);
        let reply = r.respond(&query("www.a.test.", RecordType::A));
        assert!(reply.metadata.truncation);
        assert!(reply.answers.is_empty() && reply.additionals.is_empty());
        // Encoded without a size limit (as over TCP), it stays truncated.
        let wire = Message::from_vec(&encode(&reply, None).unwrap()).unwrap();
        assert!(wire.metadata.truncation);
    }

    #[test]
    fn ent_fault_hits_empty_non_terminals_and_names_below_them_only() {
        let refused = Faults {
            empty_non_terminal: Some(ResponseCode::Refused),
            ..Faults::default()
        };
        let r = Responder::new(vec![zone()], refused);
        for (qname, qtype) in [
            ("deep.a.test.", RecordType::NS),
            ("deep.a.test.", RecordType::A),
            ("_.deep.a.test.", RecordType::A),
        ] {
            let reply = r.respond(&query(qname, qtype));
            assert_eq!(
                reply.metadata.response_code,
                ResponseCode::Refused,
                "{qname}"
            );
            assert!(reply.answers.is_empty() && reply.authorities.is_empty());
        }
        for (qname, rcode, answers) in [
            ("www.deep.a.test.", ResponseCode::NoError, 1),
            ("www.a.test.", ResponseCode::NoError, 1),
            ("nope.a.test.", ResponseCode::NXDomain, 0),
            ("a.test.", ResponseCode::NoError, 0),
        ] {
            let reply = r.respond(&query(qname, RecordType::A));
            assert_eq!(reply.metadata.response_code, rcode, "{qname}");
            assert_eq!(reply.answers.len(), answers, "{qname}");
        }
        // Below a zone cut it is still a referral.
        let reply = r.respond(&query("x.sub.a.test.", RecordType::A));
        assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
        assert_eq!(reply.authorities.len(), 1);

        let nxdomain = Faults {
            empty_non_terminal: Some(ResponseCode::NXDomain),
            ..Faults::default()
        };
        let reply =
            Responder::new(vec![zone()], nxdomain).respond(&query("deep.a.test.", RecordType::A));
        assert_eq!(reply.metadata.response_code, ResponseCode::NXDomain);
        assert!(reply.metadata.authoritative);
        assert_eq!(reply.authorities[0].record_type(), RecordType::SOA);
    }

    #[test]
    fn dname_is_substituted_with_a_synthesised_cname() {
        let r = Responder::new(vec![zone()], Faults::default());
        let reply = r.respond(&query("www.old.a.test.", RecordType::A));
        assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
        assert!(reply.metadata.authoritative);
        assert_eq!(reply.answers.len(), 2, "{:?}", reply.answers);
        let dname = &reply.answers[0];
        assert_eq!(dname.record_type(), RecordType::DNAME);
        assert_eq!(dname.name, name("old.a.test."));
        assert_eq!(dname_target(dname), Some(name("new.b.test.")));
        let cname = &reply.answers[1];
        assert_eq!(cname.name, name("www.old.a.test."));
        assert_eq!(cname.ttl, 120);
        assert_eq!(
            cname.data,
            RData::CNAME(hickory_proto::rr::rdata::CNAME(name("www.new.b.test.")))
        );
        // The owner itself is not redirected: DNAME query answers it, A is NODATA.
        let reply = r.respond(&query("old.a.test.", RecordType::DNAME));
        assert_eq!(reply.answers.len(), 1);
        let reply = r.respond(&query("old.a.test.", RecordType::A));
        assert!(reply.answers.is_empty());
        assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
        // Through the wire and back, the DNAME keeps its target.
        let wire = Message::from_vec(&reply_bytes(&r, "www.old.a.test.")).unwrap();
        assert_eq!(dname_target(&wire.answers[0]), Some(name("new.b.test.")));
    }

    #[test]
    fn dname_substitution_too_long_is_yxdomain() {
        let r = Responder::new(vec![zone()], Faults::default());
        let label = "x".repeat(60);
        let short = "x".repeat(58);
        // 3 x 61 + 59 + 13 (`grow.a.test.`) = 255 octets; with the longer
        // target it would be 271.
        let long = format!("{label}.{label}.{label}.{short}.grow.a.test.");
        let reply = r.respond(&query(&long, RecordType::A));
        assert_eq!(reply.metadata.response_code, ResponseCode::YXDomain);
        assert_eq!(reply.answers.len(), 1);
    }

    fn reply_bytes(r: &Responder, qname: &str) -> Vec<u8> {
        r.respond(&query(qname, RecordType::A)).to_vec().unwrap()
    }
}
