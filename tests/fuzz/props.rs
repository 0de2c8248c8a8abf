//! Property tests over structurally generated inputs (a seeded PRNG, not
//! byte mutation): the scrubber never keeps a record outside the asked
//! zone's bailiwick, whatever owners, types, classes and CNAME targets a
//! reply carries; and every reply `encode` produces parses whole, fits its
//! limit and keeps whole RRsets, whatever the answer set, huge ones
//! included. `ROOTWALK_PROP_CASES` sets the number of cases.
//!
//! No `proptest`: its shrinking would be welcome, but the generators here
//! are small and a failing case prints its seed and the full message, which
//! is enough to replay it; one dependency less to build in CI.

use std::net::{Ipv4Addr, Ipv6Addr};

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, NS, SOA, TXT};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rootwalk::resolve::classify::classify;
use rootwalk::resolve::scrub::scrub;
use rootwalk::resolve::{Outcome, Stats};
use rootwalk::server::packet::{self, Limit, UDP_PAYLOAD_MAX};

use crate::client::{Echo, check_reply};
use crate::upstream::{Kept, check};

/// Cases per property: `ROOTWALK_PROP_CASES`, else `default`.
fn cases(default: u64) -> u64 {
    std::env::var("ROOTWALK_PROP_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Labels names are made of; mixed case on purpose (names compare without
/// case, RFC 4343).
const LABELS: [&str; 12] = [
    "a", "b", "www", "ns1", "ns2", "example", "com", "net", "org", "sub", "EXAMPLE", "Www",
];

fn name(rng: &mut StdRng, max_labels: usize) -> Name {
    let count = rng.random_range(0..=max_labels);
    let labels: Vec<&str> = (0..count)
        .map(|_| LABELS[rng.random_range(0..LABELS.len())])
        .collect();
    let mut name =
        Name::from_labels(labels.iter().map(|l| l.as_bytes())).unwrap_or_else(|_| Name::root());
    name.set_fqdn(true);
    name
}

/// `base` with 1..=`more` random labels in front.
fn below(base: &Name, rng: &mut StdRng, more: usize) -> Name {
    let mut name = base.clone();
    for _ in 0..rng.random_range(1..=more) {
        name = name
            .prepend_label(LABELS[rng.random_range(0..LABELS.len())])
            .unwrap_or_else(|_| base.clone());
    }
    name
}

/// An owner for a record of the reply: the names that matter (question,
/// zone, their relatives) most of the time, anything some of the time.
fn owner(rng: &mut StdRng, zone: &Name, qname: &Name, extra: &[Name]) -> Name {
    match rng.random_range(0..8) {
        0 | 1 => qname.clone(),
        2 => zone.clone(),
        3 => below(zone, rng, 2),
        4 => qname.trim_to(rng.random_range(0..=usize::from(qname.num_labels()))),
        5 if !extra.is_empty() => extra[rng.random_range(0..extra.len())].clone(),
        _ => name(rng, 4),
    }
}

fn record(rng: &mut StdRng, owner: Name, zone: &Name, targets: &mut Vec<Name>) -> Record {
    let target = |rng: &mut StdRng| {
        if rng.random_bool(0.5) {
            below(zone, rng, 2)
        } else {
            name(rng, 4)
        }
    };
    let data = match rng.random_range(0..8) {
        0 | 1 => RData::A(A::from(Ipv4Addr::from(rng.random::<u32>()))),
        2 => RData::AAAA(AAAA::from(Ipv6Addr::from(rng.random::<u128>()))),
        3 => {
            let host = target(rng);
            targets.push(host.clone());
            RData::NS(NS(host))
        }
        4 => {
            let host = target(rng);
            targets.push(host.clone());
            RData::CNAME(CNAME(host))
        }
        5 => RData::SOA(SOA::new(target(rng), target(rng), 1, 2, 3, 4, 5)),
        6 => RData::MX(MX::new(10, target(rng))),
        _ => RData::TXT(TXT::new(vec!["t".repeat(rng.random_range(0..40))])),
    };
    let mut record = Record::from_rdata(owner, rng.random(), data);
    if rng.random_ratio(1, 20) {
        record.dns_class = DNSClass::CH;
    }
    record
}

const QTYPES: [RecordType; 8] = [
    RecordType::A,
    RecordType::AAAA,
    RecordType::NS,
    RecordType::CNAME,
    RecordType::ANY,
    RecordType::TXT,
    RecordType::MX,
    RecordType::SOA,
];

/// A random reply from a server asked as `zone` about `question`.
fn random_reply(rng: &mut StdRng) -> (Message, Name, Query) {
    let zone = name(rng, 3);
    let qname = if rng.random_bool(0.8) {
        below(&zone, rng, 3)
    } else {
        name(rng, 4)
    };
    let question = Query::query(qname.clone(), QTYPES[rng.random_range(0..QTYPES.len())]);
    let mut message = Message::new(rng.random(), MessageType::Response, OpCode::Query);
    message.metadata.authoritative = rng.random_bool(0.5);
    message.metadata.response_code = match rng.random_range(0..6) {
        0 => ResponseCode::NXDomain,
        1 => ResponseCode::Refused,
        _ => ResponseCode::NoError,
    };
    message.add_query(question.clone());
    let mut targets = Vec::new();
    for _ in 0..rng.random_range(0..8) {
        let owner = owner(rng, &zone, &qname, &targets.clone());
        message.add_answer(record(rng, owner, &zone, &mut targets));
    }
    for _ in 0..rng.random_range(0..6) {
        let owner = owner(rng, &zone, &qname, &targets.clone());
        message.add_authority(record(rng, owner, &zone, &mut targets));
    }
    for _ in 0..rng.random_range(0..8) {
        // Additional owners are mostly names of servers named above.
        let owner = owner(rng, &zone, &qname, &targets.clone());
        let owner = match targets.len() {
            0 => owner,
            len if rng.random_bool(0.7) => targets[rng.random_range(0..len)].clone(),
            _ => owner,
        };
        message.add_additional(record(rng, owner, &zone, &mut targets));
    }
    (message, zone, question)
}

#[test]
fn the_scrubber_keeps_nothing_outside_the_zone_asked() {
    let cases = cases(4000);
    let mut rng = StdRng::seed_from_u64(0x5c_4b);
    let mut kept_something = 0;
    for case in 0..cases {
        let (mut message, zone, question) = random_reply(&mut rng);
        // Half the cases go over the wire first: compression and case.
        if rng.random_bool(0.5)
            && let Ok(bytes) = message.to_vec()
            && let Ok(decoded) = Message::from_vec(&bytes)
        {
            message = decoded;
        }
        let total = message.answers.len() + message.authorities.len() + message.additionals.len();
        let shown = format!("{message:?}");
        let scrubbed = scrub(message, &zone, &question);
        let kind = classify(&scrubbed);
        let kept = Kept::of(&scrubbed);
        kept_something += usize::from(kept.dropped < total);
        if let Err(error) = check(&kept, total, &kind) {
            panic!("case {case}: zone {zone}, question {question}: {error}\n{shown}");
        }
    }
    // The generator must exercise the keeping side, not only drops.
    assert!(
        kept_something as u64 > cases / 4,
        "kept something in {kept_something}/{cases}"
    );
}

/// An RRset of `count` records of a random type at `owner`, some with big
/// TXT data and names that do not compress.
fn answer_rrset(rng: &mut StdRng, owner: &Name, count: usize) -> Vec<Record> {
    let kind = rng.random_range(0..5);
    (0..count)
        .map(|i| {
            let data = match kind {
                0 => RData::A(A::from(Ipv4Addr::from(rng.random::<u32>()))),
                1 => RData::AAAA(AAAA::from(Ipv6Addr::from(rng.random::<u128>()))),
                2 => RData::MX(MX::new(i as u16, name(rng, 4))),
                3 => {
                    let len = rng.random_range(0..255);
                    RData::TXT(TXT::new(vec![format!("{i}"), "x".repeat(len)]))
                }
                _ => {
                    let chunks = rng.random_range(1..40);
                    RData::TXT(TXT::new(vec!["y".repeat(250); chunks]))
                }
            };
            Record::from_rdata(owner.clone(), 300, data)
        })
        .collect()
}

/// (owner, type, data) of each record: what must survive encoding.
fn shape(records: &[Record]) -> Vec<(Name, RecordType, RData)> {
    records
        .iter()
        .map(|r| (r.name.clone(), r.record_type(), r.data.clone()))
        .collect()
}

#[test]
fn every_encoded_reply_parses_fits_and_keeps_whole_rrsets() {
    let cases = cases(150);
    let mut rng = StdRng::seed_from_u64(0xe4c0);
    let mut cut = [0u32; 2];
    for case in 0..cases {
        let qname = below(&name(&mut rng, 2), &mut rng, 2);
        let mut query = Message::new(rng.random(), MessageType::Query, OpCode::Query);
        query.metadata.recursion_desired = rng.random_bool(0.8);
        query.add_query(Query::query(qname.clone(), RecordType::TXT));
        if rng.random_bool(0.7) {
            let mut edns = Edns::new();
            edns.set_max_payload(rng.random());
            query.set_edns(edns);
        }
        let mut answers = Vec::new();
        for set in 0..rng.random_range(1..6) {
            let owner = if set == 0 {
                qname.clone()
            } else {
                below(&qname, &mut rng, 1)
            };
            let count = if rng.random_bool(0.3) {
                rng.random_range(100..2500)
            } else {
                rng.random_range(1..10)
            };
            answers.extend(answer_rrset(&mut rng, &owner, count));
        }
        let authorities = if rng.random_bool(0.3) {
            let count = rng.random_range(1..50);
            answer_rrset(&mut rng, &qname.base_name(), count)
        } else {
            Vec::new()
        };
        let outcome = Outcome {
            rcode: ResponseCode::NoError,
            answers,
            authorities,
            signatures: Vec::new(),
            proof: Vec::new(),
            stats: Stats::default(),
            security: rootwalk::validate::Security::Indeterminate,
            stale: false,
        };
        let reply = packet::answer_reply(&query, &Ok(outcome));
        let sent: Vec<Record> = reply
            .answers
            .iter()
            .chain(reply.authorities.iter())
            .cloned()
            .collect();
        let echo = Echo {
            id: query.metadata.id,
            opcode: 0,
            rd: query.metadata.recursion_desired,
        };
        let udp = packet::udp_limit(&query);
        assert!((512..=usize::from(UDP_PAYLOAD_MAX)).contains(&udp));
        for limit in [Limit::Datagram(udp), Limit::Stream] {
            let context = || format!("case {case}, {limit:?}, {} records", sent.len());
            let encoded = packet::encode(&reply, limit)
                .unwrap_or_else(|| panic!("{}: nothing encoded", context()));
            let decoded = check_reply(&encoded.bytes, limit.bytes(), echo)
                .unwrap_or_else(|e| panic!("{}: {e}", context()));
            assert_eq!(decoded.queries, query.queries, "{}", context());
            assert_eq!(
                decoded.edns.is_some(),
                query.edns.is_some(),
                "{}: OPT",
                context()
            );
            let got: Vec<Record> = decoded
                .answers
                .iter()
                .chain(decoded.authorities.iter())
                .cloned()
                .collect();
            let kept = got.len();
            assert!(kept <= sent.len(), "{}", context());
            assert_eq!(
                shape(&got),
                shape(&sent[..kept]),
                "{}: not a prefix",
                context()
            );
            if kept > 0 && kept < sent.len() {
                let (last, next) = (&sent[kept - 1], &sent[kept]);
                assert!(
                    last.name != next.name || last.record_type() != next.record_type(),
                    "{}: cut inside an RRset",
                    context()
                );
            }
            match limit {
                Limit::Datagram(_) if encoded.truncated => {
                    assert!(decoded.metadata.truncation && kept == 0, "{}", context());
                    cut[0] += 1;
                }
                Limit::Stream => {
                    assert!(!decoded.metadata.truncation, "{}: TC over TCP", context());
                    if encoded.truncated {
                        assert!(
                            !decoded.answers.is_empty(),
                            "{}: cut to no answer",
                            context()
                        );
                        cut[1] += 1;
                    }
                    if encoded.rcode == ResponseCode::ServFail {
                        assert!(decoded.answers.is_empty(), "{}", context());
                    }
                }
                _ => assert_eq!(kept, sent.len(), "{}: lost records uncut", context()),
            }
        }
    }
    // The generator reaches both kinds of cut.
    if cases >= 100 {
        assert!(cut[0] > 0 && cut[1] > 0, "cuts seen: {cut:?}");
    }
}
