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
//! | answer     | the CNAME chain from the question name and the final RRset, while the chain stays inside the zone; a DNAME above a name of the chain with the CNAME it synthesises (RFC 6672 §3.2) |
//! | authority  | one NS RRset and one SOA whose owner is inside the zone and at or above the final name of the chain |
//! | additional | A/AAAA for names of kept NS records (glue), inside the zone        |
//!
//! DNSSEC records ride along with what they belong to, so the validator
//! sees them (RFC 4035 §3.1): an RRSIG is kept when its owner and covered
//! type are those of a kept RRset (the answer chain, the SOA, a DS, an
//! NSEC or NSEC3); in the authority section a DS RRset is kept at the owner
//! of the kept referral NS set (the child's DS, served by the parent), and
//! NSEC and NSEC3 records inside the zone are kept as denial proofs. None
//! of them decides anything here: they are evidence for the validator.
//!
//! Everything else (a bogus A for a name in another TLD, an NS RRset for a
//! zone the server does not serve, an upward referral, records of other
//! classes) is dropped with a reason, never used and never cached. A CNAME
//! target outside the zone is resolved afresh, not taken from the packet.
//!
//! A DNAME in the zone whose owner is an ancestor of a name on the chain
//! redirects that name (RFC 6672 §2.2): the DNAME is kept, the server's
//! CNAME for the name is kept only if it says what the substitution says,
//! and is made here when missing or wrong. The chain then goes on at the
//! substituted name.
//!
//! The work is linear in the size of the reply: the answer section is
//! indexed by owner once, and the chain follows at most one link more than
//! a resolution may ([`crate::config::MAX_CNAME_CHAIN`], or the limit given
//! to [`scrub_with`]).

use std::fmt;

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

use super::dname;
use crate::config::MAX_CNAME_CHAIN;

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
    /// A CNAME that contradicts the DNAME above its owner (RFC 6672 §3.2);
    /// the substitution is synthesised instead.
    NotDnameSubstitution,
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
            DropReason::NotDnameSubstitution => "CNAME does not match the DNAME above it",
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
    synthesised: Vec<usize>,
    final_name: Name,
    referral_ns: Vec<Record>,
    soa: Option<Record>,
    glue: Vec<Record>,
    ds: Vec<Record>,
    denial: Vec<Record>,
    signatures: Vec<Record>,
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
    /// The records of [`Scrubbed::chain`] to cache: all but the CNAMEs that
    /// stand for a DNAME substitution, which the cache makes again from
    /// the DNAME (RFC 6672 §3.4) so a cached answer carries both.
    pub fn chain_to_cache(&self) -> impl Iterator<Item = &Record> {
        self.chain
            .iter()
            .enumerate()
            .filter(|(index, _)| !self.synthesised.contains(index))
            .map(|(_, record)| record)
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
    /// The DS RRset of a referral's child zone, from the authority section.
    pub fn ds(&self) -> &[Record] {
        &self.ds
    }
    /// NSEC and NSEC3 records from the authority section (denial proofs).
    pub fn denial(&self) -> &[Record] {
        &self.denial
    }
    /// RRSIGs covering kept RRsets, from the answer and authority sections.
    pub fn signatures(&self) -> &[Record] {
        &self.signatures
    }
    /// The RRSIGs over the RRset at `owner` of type `rtype` (RFC 4035
    /// §3.1.1: they go with it to a client that set DO).
    pub fn signatures_of<'s>(
        &'s self,
        owner: &'s Name,
        rtype: RecordType,
    ) -> impl Iterator<Item = &'s Record> + 's {
        self.signatures
            .iter()
            .filter(move |sig| &sig.name == owner && covered_type(sig) == Some(rtype))
    }
    /// The RRSIGs over the records of the answer chain, set by set.
    pub fn chain_signatures(&self) -> Vec<Record> {
        self.signatures_over(&self.chain)
    }
    /// What proves a negative answer to a client that set DO (RFC 4035
    /// §3.1.3): the SOA's RRSIGs, then the NSEC or NSEC3 records with
    /// theirs.
    pub fn proof(&self) -> Vec<Record> {
        let soa_sigs = self
            .soa
            .iter()
            .flat_map(|soa| self.signatures_of(&soa.name, RecordType::SOA));
        let mut proof: Vec<Record> = soa_sigs.cloned().collect();
        for record in &self.denial {
            proof.push(record.clone());
        }
        proof.extend(self.signatures_over(&self.denial));
        proof
    }
    /// The RRSIGs over the RRsets `records` form, in their order. Linear:
    /// one hash lookup per RRSIG (a hostile reply may carry many).
    fn signatures_over(&self, records: &[Record]) -> Vec<Record> {
        let sets: HashSet<(&Name, RecordType)> =
            records.iter().map(|r| (&r.name, r.record_type())).collect();
        self.signatures
            .iter()
            .filter(|sig| covered_type(sig).is_some_and(|t| sets.contains(&(&sig.name, t))))
            .cloned()
            .collect()
    }
    /// What was removed, with reasons.
    pub fn dropped(&self) -> &[Dropped] {
        &self.dropped
    }
}

pub use crate::validate::covered_type;

/// RFC 2181 §8: a TTL with the top bit set is treated as zero (it was
/// meant as a negative number, or it is an attack on the cache).
pub fn sane_ttl(ttl: u32) -> u32 {
    if ttl > i32::MAX as u32 { 0 } else { ttl }
}

/// Filters `reply` from a server asked as authority for `zone` about
/// `question`, following at most [`MAX_CNAME_CHAIN`] + 1 links of a chain.
pub fn scrub(reply: Message, zone: &Name, question: &Query) -> Scrubbed {
    scrub_with(reply, zone, question, MAX_CNAME_CHAIN)
}

/// [`scrub`] with the chain limit in force (`Limits::max_cname_chain`):
/// at most `max_links + 1` links of a chain are kept from one reply.
pub fn scrub_with(mut reply: Message, zone: &Name, question: &Query, max_links: u32) -> Scrubbed {
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

    // RRSIGs are judged after the RRsets they cover (unless RRSIG itself
    // was asked for).
    let mut rrsigs = Vec::new();
    let answers = if qtype == RecordType::RRSIG {
        reply.answers
    } else {
        let (sigs, rest) = reply
            .answers
            .into_iter()
            .partition(|r| r.record_type() == RecordType::RRSIG);
        rrsigs = sigs;
        rest
    };
    let Chain {
        records: chain,
        final_name,
        synthesised,
    } = answer_chain(answers, &qname, qtype, zone, max_links, &mut dropped);

    let mut referral_ns: Vec<Record> = Vec::new();
    let mut soa: Option<Record> = None;
    let mut ds_candidates = Vec::new();
    let mut denial = Vec::new();
    for record in reply.authorities {
        let dnssec = matches!(
            record.record_type(),
            RecordType::RRSIG | RecordType::DS | RecordType::NSEC | RecordType::NSEC3
        );
        if dnssec && record.dns_class == DNSClass::IN && in_zone(&record.name) {
            match record.record_type() {
                RecordType::RRSIG => rrsigs.push(record),
                RecordType::DS => ds_candidates.push(record),
                _ => denial.push(record),
            }
            continue;
        }
        let reason = if record.dns_class != DNSClass::IN {
            Some(DropReason::WrongClass)
        } else if dnssec {
            Some(DropReason::OutOfBailiwick)
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

    // A DS RRset belongs to the child of a referral (RFC 4035 §3.1.4),
    // strictly below the zone asked.
    let mut ds = Vec::new();
    for record in ds_candidates {
        let at_child = referral_ns
            .first()
            .is_some_and(|ns| ns.name == record.name && record.name != *zone);
        if at_child {
            ds.push(record);
        } else {
            dropped.push(Dropped {
                record,
                reason: DropReason::NotOnQueryPath,
            });
        }
    }
    // An RRSIG is kept with the kept RRset it covers: same owner (without
    // case), same type.
    let mut covered: HashSet<(Name, RecordType)> = HashSet::new();
    for record in chain.iter().chain(&soa).chain(&ds).chain(&denial) {
        covered.insert((record.name.clone(), record.record_type()));
    }
    let mut signatures = Vec::new();
    for record in rrsigs {
        let kept = record.dns_class == DNSClass::IN
            && in_zone(&record.name)
            && covered_type(&record).is_some_and(|t| covered.contains(&(record.name.clone(), t)));
        if kept {
            signatures.push(record);
        } else {
            dropped.push(Dropped {
                record,
                reason: DropReason::NotOnAnswerChain,
            });
        }
    }

    // `Name` hashes without case: one set lookup per additional record.
    let mut targets: HashSet<Name> = HashSet::new();
    for record in referral_ns.iter().chain(chain.iter()) {
        if let RData::NS(ns) = &record.data {
            targets.insert(ns.0.clone());
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
        } else if !targets.contains(&record.name) {
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
        synthesised,
        final_name,
        referral_ns,
        soa,
        glue,
        ds,
        denial,
        signatures,
        dropped,
    }
}

/// The answer chain the scrubber kept: records in order, the last name,
/// and which records are CNAMEs standing for a DNAME substitution.
struct Chain {
    records: Vec<Record>,
    final_name: Name,
    synthesised: Vec<usize>,
}

/// The answer section indexed by owner for the chain walk, so a reply of
/// n records costs O(n) however long its chain (`Name` hashes and compares
/// without case, RFC 4343). Each record is taken at most once.
struct Answers {
    slots: Vec<Option<Record>>,
    by_owner: HashMap<Name, Vec<usize>>,
    /// DNAMEs whose owner is inside the zone, by owner: the first one seen
    /// and its slot.
    dnames: HashMap<Name, (Record, usize)>,
}

impl Answers {
    fn new(answers: Vec<Record>, zone: &Name) -> Self {
        let mut by_owner: HashMap<Name, Vec<usize>> = HashMap::new();
        let mut dnames = HashMap::new();
        for (index, record) in answers.iter().enumerate() {
            if record.dns_class != DNSClass::IN {
                continue;
            }
            by_owner.entry(record.name.clone()).or_default().push(index);
            if record.record_type() == RecordType::DNAME && zone.zone_of(&record.name) {
                dnames
                    .entry(record.name.clone())
                    .or_insert_with(|| (record.clone(), index));
            }
        }
        Self {
            slots: answers.into_iter().map(Some).collect(),
            by_owner,
            dnames,
        }
    }

    /// Takes the first record at `name` of type `rtype` still there.
    fn take_one(&mut self, name: &Name, rtype: RecordType) -> Option<Record> {
        let slots = &mut self.slots;
        self.by_owner.get(name)?.iter().find_map(|&index| {
            let wanted = slots[index]
                .as_ref()
                .is_some_and(|r| r.record_type() == rtype);
            if wanted { slots[index].take() } else { None }
        })
    }

    /// Takes every record at `name` answering `qtype`.
    fn take_all(&mut self, name: &Name, qtype: RecordType) -> Vec<Record> {
        let Some(indices) = self.by_owner.get(name) else {
            return Vec::new();
        };
        indices
            .iter()
            .filter_map(|&index| {
                let slot = &mut self.slots[index];
                let wanted = slot
                    .as_ref()
                    .is_some_and(|r| qtype == RecordType::ANY || r.record_type() == qtype);
                if wanted { slot.take() } else { None }
            })
            .collect()
    }

    /// The DNAME that redirects `name`: the one with the highest owner
    /// that is a proper ancestor of `name` inside `zone` (a DNAME below
    /// another is occluded, RFC 6672 §2.4), with its slot.
    fn dname_above(&self, name: &Name, zone: &Name) -> Option<(Record, usize)> {
        if self.dnames.is_empty() {
            return None;
        }
        (zone.num_labels()..name.num_labels())
            .find_map(|labels| self.dnames.get(&name.trim_to(usize::from(labels))).cloned())
    }

    /// What is left, in section order.
    fn rest(self) -> impl Iterator<Item = Record> {
        self.slots.into_iter().flatten()
    }
}

/// Walks the answer section from `qname` along CNAMEs and DNAME
/// substitutions (RFC 6672 §3.2) while the names stay inside `zone`, for
/// at most `max_links + 1` links (one more than a chain may have, so the
/// resolver sees it is too long); returns the records on the chain.
fn answer_chain(
    answers: Vec<Record>,
    qname: &Name,
    qtype: RecordType,
    zone: &Name,
    max_links: u32,
    dropped: &mut Vec<Dropped>,
) -> Chain {
    let mut answers = Answers::new(answers, zone);
    let mut records = Vec::new();
    let mut synthesised = Vec::new();
    let mut name = qname.clone();
    let mut seen: HashSet<Name> = HashSet::new();
    let mut links: u32 = 0;
    // Each pass follows one link to a name not seen before, or stops.
    while zone.zone_of(&name) && seen.insert(name.clone()) && links <= max_links {
        if let Some((dname, slot)) = answers.dname_above(&name, zone) {
            // A DNAME that cannot be applied (its result is too long, or
            // its RDATA is not a name) ends the chain.
            let Some((made, to)) = dname::synthesise(&dname, &name) else {
                break;
            };
            if let Some(record) = answers.slots[slot].take() {
                records.push(record);
            }
            synthesised.push(records.len());
            match answers.take_one(&name, RecordType::CNAME) {
                Some(sent) if matches!(&sent.data, RData::CNAME(c) if c.0 == to) => {
                    records.push(sent)
                }
                Some(sent) => {
                    dropped.push(Dropped {
                        record: sent,
                        reason: DropReason::NotDnameSubstitution,
                    });
                    records.push(made);
                }
                None => records.push(made),
            }
            links += 1;
            if qtype == RecordType::CNAME {
                // The synthesised CNAME is the answer itself.
                break;
            }
            name = to;
            continue;
        }
        if qtype != RecordType::CNAME
            && let Some(record) = answers.take_one(&name, RecordType::CNAME)
        {
            let RData::CNAME(target) = &record.data else {
                break;
            };
            name = target.0.clone();
            records.push(record);
            links += 1;
            continue;
        }
        records.extend(answers.take_all(&name, qtype));
        break;
    }
    for record in answers.rest() {
        let reason = if record.dns_class != DNSClass::IN {
            DropReason::WrongClass
        } else if zone.zone_of(&record.name) {
            DropReason::NotOnAnswerChain
        } else {
            DropReason::OutOfBailiwick
        };
        dropped.push(Dropped { record, reason });
    }
    Chain {
        records,
        final_name: name,
        synthesised,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use hickory_proto::dnssec::rdata::DNSSECRData;

    use super::*;
    use crate::resolve::classify;
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

    /// An RRSIG over `covered` at `owner` signed by `signer` (the signature
    /// bytes are not checked here).
    pub(crate) fn rrsig(owner: &str, covered: RecordType, signer: &str) -> Record {
        use hickory_proto::dnssec::Algorithm;
        use hickory_proto::dnssec::rdata::RRSIG;
        use hickory_proto::dnssec::rdata::sig::SigInput;
        use hickory_proto::rr::SerialNumber;
        let input = SigInput {
            type_covered: covered,
            algorithm: Algorithm::ECDSAP256SHA256,
            num_labels: n(owner).num_labels(),
            original_ttl: 300,
            sig_expiration: SerialNumber::new(2_000_000_000),
            sig_inception: SerialNumber::new(1_000_000_000),
            key_tag: 4242,
            signer_name: n(signer),
        };
        let data = RRSIG::from_sig(input, vec![0; 64]);
        Record::from_rdata(n(owner), 300, RData::DNSSEC(DNSSECRData::RRSIG(data)))
    }

    #[test]
    fn dnssec_records_ride_with_what_they_belong_to() {
        use hickory_proto::dnssec::rdata::{DS, NSEC};
        use hickory_proto::dnssec::{Algorithm, DigestType};
        let ds = |owner: &str| {
            let data = DS::new(
                1,
                Algorithm::ECDSAP256SHA256,
                DigestType::SHA256,
                vec![7; 32],
            );
            Record::from_rdata(n(owner), 300, RData::DNSSEC(DNSSECRData::DS(data)))
        };
        let nsec = |owner: &str, next: &str| {
            let data = NSEC::new(n(next), [RecordType::NS, RecordType::DS]);
            Record::from_rdata(n(owner), 300, RData::DNSSEC(DNSSECRData::NSEC(data)))
        };
        // A signed referral from tld1 to a.tld1, with poison around it.
        let (m, q) = reply(
            "www.a.tld1.",
            false,
            vec![],
            vec![
                ns("a.tld1.", "ns1.a.tld1."),
                ds("a.tld1."),
                rrsig("a.tld1.", RecordType::DS, "tld1."),
                ds("b.tld1."),
                rrsig("b.tld1.", RecordType::DS, "tld1."),
                nsec("a.tld1.", "b.tld1."),
                rrsig("a.tld1.", RecordType::NSEC, "tld1."),
                nsec("evil.tld3.", "zz.tld3."),
                rrsig("a.tld1.", RecordType::NS, "tld1."),
            ],
            vec![a("ns1.a.tld1.", "192.0.2.1")],
        );
        let s = scrub(m, &n("tld1."), &q);
        assert_eq!(s.ds().len(), 1);
        assert_eq!(s.ds()[0].name, n("a.tld1."));
        assert_eq!(s.denial().len(), 1, "the out-of-zone NSEC is dropped");
        let covered: Vec<(Name, RecordType)> = s
            .signatures()
            .iter()
            .map(|r| (r.name.clone(), covered_type(r).unwrap()))
            .collect();
        assert_eq!(
            covered,
            [
                (n("a.tld1."), RecordType::DS),
                (n("a.tld1."), RecordType::NSEC)
            ],
            "RRSIGs over kept RRsets only: not over the dropped DS or the NS"
        );
        assert_eq!(s.glue().len(), 1);

        // An answer: its RRSIG kept, one over a type not answered dropped.
        let (m, q) = reply(
            "www.a.tld1.",
            true,
            vec![
                a("www.a.tld1.", "192.0.2.10"),
                rrsig("www.a.tld1.", RecordType::A, "a.tld1."),
                rrsig("www.a.tld1.", RecordType::AAAA, "a.tld1."),
                rrsig("other.a.tld1.", RecordType::A, "a.tld1."),
            ],
            vec![],
            vec![],
        );
        let s = scrub(m, &n("a.tld1."), &q);
        assert_eq!(s.chain().len(), 1);
        assert_eq!(s.signatures().len(), 1);
        assert_eq!(covered_type(&s.signatures()[0]), Some(RecordType::A));
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

    fn dname(owner: &str, target: &str) -> Record {
        dname::record(n(owner), 300, &n(target)).unwrap()
    }

    fn types(records: &[Record]) -> Vec<RecordType> {
        records.iter().map(Record::record_type).collect()
    }

    #[test]
    fn dname_and_its_cname_are_kept_and_the_chain_followed() {
        let (m, q) = reply(
            "www.old.alias.tld2.",
            true,
            vec![
                dname("old.alias.tld2.", "new.alias.tld2."),
                cname("www.old.alias.tld2.", "www.new.alias.tld2."),
                a("www.new.alias.tld2.", "198.51.100.153"),
            ],
            vec![],
            vec![],
        );
        let s = scrub(m, &n("alias.tld2."), &q);
        assert_eq!(
            types(s.chain()),
            [RecordType::DNAME, RecordType::CNAME, RecordType::A]
        );
        assert_eq!(s.final_name(), &n("www.new.alias.tld2."));
        assert!(s.dropped().is_empty(), "{:?}", s.dropped());
        // The CNAME stands for the DNAME: the cache keeps the DNAME only.
        let cached: Vec<RecordType> = s.chain_to_cache().map(Record::record_type).collect();
        assert_eq!(cached, [RecordType::DNAME, RecordType::A]);
    }

    #[test]
    fn a_missing_or_wrong_cname_is_synthesised_from_the_dname() {
        for sent in [vec![], vec![cname("www.far.alias.tld2.", "www.evil.tld3.")]] {
            let mut answers = vec![dname("far.alias.tld2.", "b.tld1.")];
            answers.extend(sent.clone());
            let (m, q) = reply("www.far.alias.tld2.", true, answers, vec![], vec![]);
            let s = scrub(m, &n("alias.tld2."), &q);
            assert_eq!(types(s.chain()), [RecordType::DNAME, RecordType::CNAME]);
            assert_eq!(
                s.chain()[1].data,
                RData::CNAME(CNAME(n("www.b.tld1."))),
                "the substitution, not what the server said"
            );
            assert_eq!(s.chain()[1].ttl, 300, "the DNAME's TTL");
            // The target is outside the zone: resolved afresh.
            assert_eq!(s.final_name(), &n("www.b.tld1."));
            assert_eq!(
                classify::classify(&s),
                classify::ResponseKind::Cname {
                    target: n("www.b.tld1.")
                }
            );
            let reasons: Vec<_> = s.dropped().iter().map(|d| d.reason.clone()).collect();
            let expected = if sent.is_empty() {
                vec![]
            } else {
                vec![DropReason::NotDnameSubstitution]
            };
            assert_eq!(reasons, expected);
        }
    }

    #[test]
    fn a_dname_applies_only_below_its_owner_and_inside_the_zone() {
        // Out of bailiwick: dropped, and the CNAME it would justify is a
        // plain CNAME again.
        let (m, q) = reply(
            "www.old.alias.tld2.",
            true,
            vec![
                dname("alias.tld2.", "evil.tld3."),
                a("www.old.alias.tld2.", "192.0.2.1"),
            ],
            vec![],
            vec![],
        );
        let s = scrub(m, &n("old.alias.tld2."), &q);
        assert_eq!(types(s.chain()), [RecordType::A]);
        assert_eq!(s.dropped()[0].reason, DropReason::OutOfBailiwick);
        // The owner itself is not redirected (RFC 6672 §2.3).
        let (m, q) = reply(
            "old.alias.tld2.",
            true,
            vec![
                dname("old.alias.tld2.", "new.alias.tld2."),
                a("old.alias.tld2.", "192.0.2.2"),
            ],
            vec![],
            vec![],
        );
        let s = scrub(m, &n("alias.tld2."), &q);
        assert_eq!(types(s.chain()), [RecordType::A]);
        assert_eq!(s.final_name(), &n("old.alias.tld2."));
    }

    /// A chain inside one reply is cut one link past the limit a whole
    /// resolution may follow, so the resolver sees it is too long.
    #[test]
    fn a_long_chain_in_one_reply_is_cut_past_the_limit() {
        let links = 1_000;
        let mut answers: Vec<Record> = (0..links)
            .map(|i| cname(&format!("c{i}.a.tld1."), &format!("c{}.a.tld1.", i + 1)))
            .collect();
        answers.push(a(&format!("c{links}.a.tld1."), "192.0.2.1"));
        let (m, q) = reply("c0.a.tld1.", true, answers, vec![], vec![]);
        let s = scrub_with(m, &n("a.tld1."), &q, 12);
        assert_eq!(s.chain().len(), 13);
        assert!(
            s.chain()
                .iter()
                .all(|r| r.record_type() == RecordType::CNAME)
        );
        assert_eq!(s.final_name(), &n("c13.a.tld1."));
        assert_eq!(s.dropped().len(), links + 1 - 13);
        assert!(
            s.dropped()
                .iter()
                .all(|d| d.reason == DropReason::NotOnAnswerChain)
        );
    }

    /// Thousands of records in every section, the answer chain listed
    /// backwards (the worst order for a scan): the result is exact. The
    /// walk is linear, so this runs in milliseconds even unoptimised.
    #[test]
    fn a_huge_reply_is_scrubbed_exactly() {
        let links = 3_000;
        let mut answers: Vec<Record> = (0..links)
            .rev()
            .map(|i| cname(&format!("c{i}.a.tld1."), &format!("c{}.a.tld1.", i + 1)))
            .collect();
        answers.push(a(&format!("c{links}.a.tld1."), "192.0.2.1"));
        let servers = 1_500;
        let auth: Vec<Record> = (0..servers)
            .map(|i| ns("a.tld1.", &format!("ns{i}.a.tld1.")))
            .collect();
        let add: Vec<Record> = (0..servers)
            .map(|i| a(&format!("NS{i}.a.tld1."), "127.0.0.1"))
            .chain((0..servers).map(|i| a(&format!("other{i}.a.tld1."), "127.0.0.2")))
            .collect();
        let (m, q) = reply("c0.a.tld1.", true, answers, auth, add);
        let s = scrub_with(m, &n("a.tld1."), &q, links as u32);
        assert_eq!(s.chain().len(), links + 1);
        assert_eq!(s.final_name(), &n(&format!("c{links}.a.tld1.")));
        assert_eq!(s.authority_ns().len(), servers);
        assert_eq!(s.glue().len(), servers);
        assert_eq!(s.dropped().len(), servers);
        assert!(s.dropped().iter().all(|d| d.reason == DropReason::NotGlue));
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
