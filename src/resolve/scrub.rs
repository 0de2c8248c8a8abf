//! The bailiwick filter. Every reply passes through [`scrub`] before the
//! resolver looks at it, and only [`scrub`] can make a [`Scrubbed`]: the
//! classifier, the cache writer and target fetches accept nothing else.
//!
//! Judged against the zone of the delegation point that was asked (never
//! against the query name), a reply may speak only for names inside that
//! zone. What survives:
//!
//! | section    | kept                                                              |
//! |------------|-------------------------------------------------------------------|
//! | answer     | the CNAME chain from the question name and the final RRset, while the chain stays inside the zone |
//! | authority  | one NS RRset and one SOA whose owner is inside the zone and at or above the final name of the chain |
//! | additional | A/AAAA for names of kept NS records (glue), inside the zone        |
//!
//! Everything else (a bogus A for a name in another TLD, an NS RRset for a
//! zone the server does not serve, an upward referral, records of other
//! classes) is dropped with a reason, never used and never cached. A CNAME
//! target outside the zone is resolved afresh, not taken from the packet.

use std::collections::HashSet;
use std::fmt;

use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

/// Why a record was dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DropReason {
    /// Owner outside the zone the server was asked as.
    OutOfBailiwick,
    /// In the answer section but not on the CNAME chain from the question.
    NotOnAnswerChain,
    /// An NS or SOA record for a name not on the path to the question name.
    NotOnQueryPath,
    /// A second NS owner or SOA when one is already kept.
    Duplicate,
    /// An additional record that is not the address of a kept name server.
    NotGlue,
    /// A record type the section may not carry here.
    UnexpectedType,
    /// A class other than IN.
    WrongClass,
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DropReason::OutOfBailiwick => "out of bailiwick",
            DropReason::NotOnAnswerChain => "not on the answer's CNAME chain",
            DropReason::NotOnQueryPath => "not on the path to the query name",
            DropReason::Duplicate => "conflicting second RRset",
            DropReason::NotGlue => "not an address of a name server in the reply",
            DropReason::UnexpectedType => "unexpected type in this section",
            DropReason::WrongClass => "class is not IN",
        })
    }
}

/// A record the scrubber removed, and why.
#[derive(Debug, Clone)]
pub struct Dropped {
    /// The record.
    pub record: Record,
    /// Why it was dropped.
    pub reason: DropReason,
}

/// A reply after the bailiwick filter. Fields are private so that only
/// [`scrub`] can build one.
#[derive(Debug, Clone)]
pub struct Scrubbed {
    zone: Name,
    qname: Name,
    qtype: RecordType,
    rcode: ResponseCode,
    authoritative: bool,
    chain: Vec<Record>,
    final_name: Name,
    referral_ns: Vec<Record>,
    soa: Option<Record>,
    glue: Vec<Record>,
    dropped: Vec<Dropped>,
}

impl Scrubbed {
    /// The zone the server was asked as.
    pub fn zone(&self) -> &Name {
        &self.zone
    }
    /// The question name.
    pub fn qname(&self) -> &Name {
        &self.qname
    }
    /// The question type.
    pub fn qtype(&self) -> RecordType {
        self.qtype
    }
    /// The reply's RCODE.
    pub fn rcode(&self) -> ResponseCode {
        self.rcode
    }
    /// The AA flag.
    pub fn authoritative(&self) -> bool {
        self.authoritative
    }
    /// The answer records kept: CNAMEs from the question name on, then the
    /// final RRset if the zone had it.
    pub fn chain(&self) -> &[Record] {
        &self.chain
    }
    /// The last name of the chain (the question name when no CNAME).
    pub fn final_name(&self) -> &Name {
        &self.final_name
    }
    /// The kept NS RRset from the authority section.
    pub fn authority_ns(&self) -> &[Record] {
        &self.referral_ns
    }
    /// The kept SOA from the authority section.
    pub fn soa(&self) -> Option<&Record> {
        self.soa.as_ref()
    }
    /// The kept A/AAAA records of name servers.
    pub fn glue(&self) -> &[Record] {
        &self.glue
    }
    /// What was removed, with reasons.
    pub fn dropped(&self) -> &[Dropped] {
        &self.dropped
    }
}

/// RFC 2181 §8: a TTL with the top bit set is treated as zero (it was
/// meant as a negative number, or it is an attack on the cache).
pub fn sane_ttl(ttl: u32) -> u32 {
    if ttl > i32::MAX as u32 { 0 } else { ttl }
}

/// Filters `reply` from a server asked as authority for `zone` about
/// `question`.
pub fn scrub(mut reply: Message, zone: &Name, question: &Query) -> Scrubbed {
    for record in reply
        .answers
        .iter_mut()
        .chain(reply.authorities.iter_mut())
        .chain(reply.additionals.iter_mut())
    {
        record.ttl = sane_ttl(record.ttl);
    }
    let qname = question.name().clone();
    let qtype = question.query_type();
    let mut dropped = Vec::new();
    let in_zone = |name: &Name| zone.zone_of(name);

    let (chain, final_name) = answer_chain(reply.answers, &qname, qtype, zone, &mut dropped);

    let mut referral_ns: Vec<Record> = Vec::new();
    let mut soa: Option<Record> = None;
    for record in reply.authorities {
        let reason = if record.dns_class != DNSClass::IN {
            Some(DropReason::WrongClass)
        } else if !matches!(record.record_type(), RecordType::NS | RecordType::SOA) {
            Some(DropReason::UnexpectedType)
        } else if !in_zone(&record.name) {
            Some(DropReason::OutOfBailiwick)
        } else if !record.name.zone_of(&final_name) {
            Some(DropReason::NotOnQueryPath)
        } else {
            None
        };
        if let Some(reason) = reason {
            dropped.push(Dropped { record, reason });
            continue;
        }
        if record.record_type() == RecordType::SOA {
            if soa.is_some() {
                dropped.push(Dropped {
                    record,
                    reason: DropReason::Duplicate,
                });
            } else {
                soa = Some(record);
            }
            continue;
        }
        // One NS owner only: the first seen wins, consistent with a referral
        // naming exactly one child zone.
        match referral_ns.first() {
            Some(first) if first.name != record.name => {
                dropped.push(Dropped {
                    record,
                    reason: DropReason::Duplicate,
                });
            }
            _ => referral_ns.push(record),
        }
    }

    let mut targets: HashSet<Name> = HashSet::new();
    for record in referral_ns.iter().chain(chain.iter()) {
        if let RData::NS(ns) = &record.data {
            targets.insert(ns.0.to_lowercase());
        }
    }
    let mut glue = Vec::new();
    for record in reply.additionals {
        let reason = if record.dns_class != DNSClass::IN {
            Some(DropReason::WrongClass)
        } else if !matches!(record.record_type(), RecordType::A | RecordType::AAAA) {
            Some(DropReason::UnexpectedType)
        } else if !in_zone(&record.name) {
            Some(DropReason::OutOfBailiwick)
        } else if !targets.contains(&record.name.to_lowercase()) {
            Some(DropReason::NotGlue)
        } else {
            None
        };
        match reason {
            Some(reason) => dropped.push(Dropped { record, reason }),
            None => glue.push(record),
        }
    }

    Scrubbed {
        zone: zone.clone(),
        qname,
        qtype,
        rcode: reply.metadata.response_code,
        authoritative: reply.metadata.authoritative,
        chain,
        final_name,
        referral_ns,
        soa,
        glue,
        dropped,
    }
}

/// Walks the answer section from `qname` along CNAMEs while the names stay
/// inside `zone`; returns the records on the chain and its last name.
fn answer_chain(
    answers: Vec<Record>,
    qname: &Name,
    qtype: RecordType,
    zone: &Name,
    dropped: &mut Vec<Dropped>,
) -> (Vec<Record>, Name) {
    let mut pending: Vec<Option<Record>> = answers.into_iter().map(Some).collect();
    let mut chain = Vec::new();
    let mut name = qname.clone();
    let mut seen: HashSet<Name> = HashSet::new();
    // Each pass takes at least one record or stops, so this is bounded by
    // the section's length.
    while zone.zone_of(&name) && seen.insert(name.to_lowercase()) {
        let at_name = |r: &Record| r.name == name && r.dns_class == DNSClass::IN;
        let cname_index = (qtype != RecordType::CNAME)
            .then(|| {
                pending.iter().position(|slot| {
                    slot.as_ref()
                        .is_some_and(|r| at_name(r) && r.record_type() == RecordType::CNAME)
                })
            })
            .flatten();
        if let Some(index) = cname_index {
            let Some(record) = pending[index].take() else {
                break;
            };
            let RData::CNAME(target) = &record.data else {
                break;
            };
            name = target.0.clone();
            chain.push(record);
            continue;
        }
        for slot in pending.iter_mut() {
            let wanted = slot.as_ref().is_some_and(|r| {
                at_name(r) && (qtype == RecordType::ANY || r.record_type() == qtype)
            });
            if wanted && let Some(record) = slot.take() {
                chain.push(record);
            }
        }
        break;
    }
    for record in pending.into_iter().flatten() {
        let reason = if record.dns_class != DNSClass::IN {
            DropReason::WrongClass
        } else if zone.zone_of(&record.name) {
            DropReason::NotOnAnswerChain
        } else {
            DropReason::OutOfBailiwick
        };
        dropped.push(Dropped { record, reason });
    }
    (chain, name)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use hickory_proto::op::{MessageType, OpCode};
    use hickory_proto::rr::rdata::{A, CNAME, NS, SOA};
    use std::str::FromStr;

    pub(crate) fn n(s: &str) -> Name {
        Name::from_str(s).unwrap()
    }
    pub(crate) fn a(owner: &str, ip: &str) -> Record {
        Record::from_rdata(n(owner), 300, RData::A(A(ip.parse().unwrap())))
    }
    pub(crate) fn ns(owner: &str, target: &str) -> Record {
        Record::from_rdata(n(owner), 300, RData::NS(NS(n(target))))
    }
    pub(crate) fn cname(owner: &str, target: &str) -> Record {
        Record::from_rdata(n(owner), 300, RData::CNAME(CNAME(n(target))))
    }
    pub(crate) fn soa(owner: &str) -> Record {
        let data = SOA::new(n("ns.x."), n("h.x."), 1, 3600, 600, 86400, 300);
        Record::from_rdata(n(owner), 300, RData::SOA(data))
    }
    pub(crate) fn reply(
        qname: &str,
        aa: bool,
        answers: Vec<Record>,
        auth: Vec<Record>,
        add: Vec<Record>,
    ) -> (Message, Query) {
        let q = Query::query(n(qname), RecordType::A);
        let mut m = Message::new(1, MessageType::Response, OpCode::Query);
        m.metadata.authoritative = aa;
        m.add_query(q.clone());
        m.answers = answers;
        m.authorities = auth;
        m.additionals = add;
        (m, q)
    }

    #[test]
    fn ttls_with_the_top_bit_set_count_as_zero() {
        assert_eq!(sane_ttl(300), 300);
        assert_eq!(sane_ttl(i32::MAX as u32), i32::MAX as u32);
        assert_eq!(sane_ttl(0x8000_0000), 0);
        assert_eq!(sane_ttl(u32::MAX), 0);
    }

    #[test]
    fn referral_keeps_in_domain_and_sibling_glue_only() {
        let (m, q) = reply(
            "www.b.tld1.",
            false,
            vec![],
            vec![
                ns("b.tld1.", "ns1.a.tld1."),
                ns("b.tld1.", "ns.hosting.tld3."),
            ],
            vec![
                a("ns1.a.tld1.", "127.0.0.1"),
                a("ns.hosting.tld3.", "127.0.0.2"),
            ],
        );
        let s = scrub(m, &n("tld1."), &q);
        assert_eq!(s.authority_ns().len(), 2);
        assert_eq!(s.glue().len(), 1);
        assert_eq!(s.glue()[0].name, n("ns1.a.tld1."));
        assert_eq!(s.dropped().len(), 1);
        assert_eq!(s.dropped()[0].reason, DropReason::OutOfBailiwick);
    }

    #[test]
    fn poison_in_every_section_is_dropped() {
        let (m, q) = reply(
            "www.evil.tld3.",
            true,
            vec![
                a("www.evil.tld3.", "192.0.2.1"),
                a("www.a.tld1.", "127.66.6.6"),
            ],
            vec![
                ns("tld1.", "ns.evil.tld3."),
                ns("evil.tld3.", "ns.evil.tld3."),
            ],
            vec![
                a("ns1.a.tld1.", "127.66.6.6"),
                a("ns.evil.tld3.", "127.0.0.9"),
            ],
        );
        let s = scrub(m, &n("evil.tld3."), &q);
        assert_eq!(s.chain().len(), 1);
        assert_eq!(s.authority_ns().len(), 1);
        assert_eq!(s.authority_ns()[0].name, n("evil.tld3."));
        assert_eq!(s.glue().len(), 1);
        let reasons: Vec<_> = s.dropped().iter().map(|d| d.reason.clone()).collect();
        assert_eq!(reasons, vec![DropReason::OutOfBailiwick; 3]);
    }

    #[test]
    fn upward_and_sideways_referrals_are_dropped() {
        let (m, q) = reply(
            "www.upward.tld2.",
            false,
            vec![],
            vec![ns(".", "a.root.")],
            vec![],
        );
        let s = scrub(m, &n("upward.tld2."), &q);
        assert!(s.authority_ns().is_empty());
        assert_eq!(s.dropped()[0].reason, DropReason::OutOfBailiwick);
        // Inside the zone but not above the question name: sideways.
        let (m, q) = reply(
            "www.a.tld1.",
            false,
            vec![],
            vec![ns("b.tld1.", "ns.b.tld1.")],
            vec![],
        );
        let s = scrub(m, &n("tld1."), &q);
        assert!(s.authority_ns().is_empty());
        assert_eq!(s.dropped()[0].reason, DropReason::NotOnQueryPath);
    }

    #[test]
    fn cname_chain_stops_at_the_zone_edge() {
        let (m, q) = reply(
            "far.a.tld1.",
            true,
            vec![
                cname("far.a.tld1.", "www.c.tld2."),
                a("www.c.tld2.", "127.66.6.6"),
            ],
            vec![],
            vec![],
        );
        let s = scrub(m, &n("a.tld1."), &q);
        assert_eq!(s.chain().len(), 1);
        assert_eq!(s.final_name(), &n("www.c.tld2."));
        assert_eq!(s.dropped()[0].reason, DropReason::OutOfBailiwick);
    }

    #[test]
    fn in_zone_chain_is_followed_and_stray_answers_dropped() {
        let (m, q) = reply(
            "chain.a.tld1.",
            true,
            vec![
                cname("chain.a.tld1.", "alias.a.tld1."),
                a("other.a.tld1.", "192.0.2.9"),
                cname("alias.a.tld1.", "www.a.tld1."),
                a("www.a.tld1.", "192.0.2.1"),
            ],
            vec![],
            vec![],
        );
        let s = scrub(m, &n("a.tld1."), &q);
        assert_eq!(s.chain().len(), 3);
        assert_eq!(s.final_name(), &n("www.a.tld1."));
        assert_eq!(s.dropped()[0].reason, DropReason::NotOnAnswerChain);
    }

    #[test]
    fn cname_loop_in_a_packet_terminates() {
        let (m, q) = reply(
            "loop1.a.tld1.",
            true,
            vec![
                cname("loop1.a.tld1.", "loop2.a.tld1."),
                cname("loop2.a.tld1.", "loop1.a.tld1."),
            ],
            vec![],
            vec![],
        );
        let s = scrub(m, &n("a.tld1."), &q);
        assert_eq!(s.chain().len(), 2);
    }

    #[test]
    fn negative_answer_keeps_the_zone_soa() {
        let (m, q) = reply(
            "nope.a.tld1.",
            true,
            vec![],
            vec![soa("a.tld1."), soa("tld1.")],
            vec![],
        );
        let s = scrub(m, &n("a.tld1."), &q);
        assert_eq!(s.soa().map(|r| r.name.clone()), Some(n("a.tld1.")));
        assert_eq!(s.dropped()[0].reason, DropReason::OutOfBailiwick);
    }

    #[test]
    fn root_zone_may_speak_for_everything() {
        let (m, q) = reply(
            "www.a.tld1.",
            false,
            vec![],
            vec![ns("tld1.", "ns1.nic.tld1.")],
            vec![a("ns1.nic.tld1.", "127.0.0.1")],
        );
        let s = scrub(m, &Name::root(), &q);
        assert_eq!(
            (s.authority_ns().len(), s.glue().len(), s.dropped().len()),
            (1, 1, 0)
        );
    }
}
