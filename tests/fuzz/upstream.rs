//! Target B, the upstream path: bytes as a server's reply →
//! `Message::from_vec` → `scrub(reply, zone, question)` → `classify` →
//! stored in the run's caches as the resolver stores it (`store.rs`, which
//! checks the caches' invariants after each reply).
//!
//! The zone asked is chosen from the input's hash among the question
//! name's ancestors (root included), an owner name from the reply, and an
//! unrelated zone, so one reply is judged both as the zone that should
//! answer it and as zones that may not. The invariants ([`check`]):
//!
//! - every kept record's owner (DS, NSEC, NSEC3 and RRSIG records
//!   included) is the asked zone or below it (for the root zone, every
//!   name), and its class is IN;
//! - the kept answer chain starts at the question name, each CNAME leads
//!   to the next record's owner, and the final RRset sits at the final
//!   name; the authority keeps NS of one owner and at most one SOA, at or
//!   above the final name; glue is A/AAAA for a kept name server's name;
//! - no record vanishes: kept plus dropped is everything the reply held;
//! - TTLs with the top bit set read as 0 (RFC 2181 §8);
//! - a referral is to a zone strictly below the one asked, a CNAME kind
//!   names the chain's last target.

use hickory_proto::op::{Message, Query};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use rootwalk::resolve::classify::{ResponseKind, classify};
use rootwalk::resolve::scrub::{Scrubbed, scrub};

use crate::mutate::fnv;
use crate::runner::Signature;
use crate::store;

/// What the scrubber kept, as plain data, so the checks can also be fed
/// deliberately broken cases.
#[derive(Debug, Clone)]
pub struct Kept {
    /// The zone asked.
    pub zone: Name,
    /// The question.
    pub qname: Name,
    /// The question type.
    pub qtype: RecordType,
    /// The answer chain.
    pub chain: Vec<Record>,
    /// The chain's last name.
    pub final_name: Name,
    /// The authority NS RRset.
    pub ns: Vec<Record>,
    /// The authority SOA.
    pub soa: Option<Record>,
    /// The glue.
    pub glue: Vec<Record>,
    /// DS records (DNSSEC), denial-of-existence records (NSEC, NSEC3) and
    /// signatures (RRSIG) kept beside the sections above.
    pub dnssec: Vec<Record>,
    /// How many records were dropped.
    pub dropped: usize,
}

impl Kept {
    /// Copies out what `scrubbed` kept.
    pub fn of(scrubbed: &Scrubbed) -> Kept {
        Kept {
            zone: scrubbed.zone().clone(),
            qname: scrubbed.qname().clone(),
            qtype: scrubbed.qtype(),
            chain: scrubbed.chain().to_vec(),
            final_name: scrubbed.final_name().clone(),
            ns: scrubbed.authority_ns().to_vec(),
            soa: scrubbed.soa().cloned(),
            glue: scrubbed.glue().to_vec(),
            dnssec: [scrubbed.ds(), scrubbed.denial(), scrubbed.signatures()].concat(),
            dropped: scrubbed.dropped().len(),
        }
    }

    fn all(&self) -> impl Iterator<Item = &Record> {
        self.chain
            .iter()
            .chain(self.ns.iter())
            .chain(self.soa.iter())
            .chain(self.glue.iter())
            .chain(self.dnssec.iter())
    }
}

/// The bailiwick rule alone: every kept record's owner is `zone` or below.
pub fn check_bailiwick(kept: &Kept) -> Result<(), String> {
    for record in kept.all() {
        if !kept.zone.zone_of(&record.name) {
            return Err(format!(
                "kept {} {} outside the bailiwick of {}",
                record.name,
                record.record_type(),
                kept.zone
            ));
        }
        if record.dns_class != DNSClass::IN {
            return Err(format!(
                "kept {} of class {}",
                record.name, record.dns_class
            ));
        }
        if record.ttl > i32::MAX as u32 {
            return Err(format!("kept {} with TTL {}", record.name, record.ttl));
        }
    }
    Ok(())
}

/// The answer chain: starts at the question name, linked by CNAMEs, the
/// final RRset at the final name.
pub fn check_chain(kept: &Kept) -> Result<(), String> {
    let mut name = kept.qname.clone();
    let mut following = true;
    for record in &kept.chain {
        if record.name != name {
            return Err(format!(
                "chain record {} where the chain is at {name} (question {})",
                record.name, kept.qname
            ));
        }
        match &record.data {
            RData::CNAME(target) if following && kept.qtype != RecordType::CNAME => {
                name = target.0.clone();
            }
            _ => following = false,
        }
    }
    if kept.final_name != name {
        return Err(format!(
            "final name {} but chain ends at {name}",
            kept.final_name
        ));
    }
    Ok(())
}

/// The authority and additional sections.
pub fn check_authority_and_glue(kept: &Kept) -> Result<(), String> {
    if let Some(first) = kept.ns.first() {
        for record in &kept.ns {
            if record.record_type() != RecordType::NS || record.name != first.name {
                return Err(format!(
                    "authority keeps {} {}",
                    record.name,
                    record.record_type()
                ));
            }
        }
    }
    for record in kept.ns.iter().chain(kept.soa.iter()) {
        if !record.name.zone_of(&kept.final_name) {
            return Err(format!(
                "authority {} not at or above {}",
                record.name, kept.final_name
            ));
        }
    }
    if kept
        .soa
        .as_ref()
        .is_some_and(|s| s.record_type() != RecordType::SOA)
    {
        return Err("the SOA slot holds another type".to_owned());
    }
    let servers: Vec<Name> = kept
        .ns
        .iter()
        .chain(kept.chain.iter())
        .filter_map(|r| match &r.data {
            RData::NS(ns) => Some(ns.0.clone()),
            _ => None,
        })
        .collect();
    for record in &kept.glue {
        if !matches!(record.record_type(), RecordType::A | RecordType::AAAA) {
            return Err(format!("glue of type {}", record.record_type()));
        }
        if !servers.contains(&record.name) {
            return Err(format!("glue for {} which no kept NS names", record.name));
        }
    }
    Ok(())
}

/// Every invariant of a scrub, and of its classification.
pub fn check(kept: &Kept, total: usize, kind: &ResponseKind) -> Result<(), String> {
    check_bailiwick(kept)?;
    check_chain(kept)?;
    check_authority_and_glue(kept)?;
    let count = kept.all().count() + kept.dropped;
    if count != total {
        return Err(format!("{total} records in, {count} kept or dropped"));
    }
    match kind {
        ResponseKind::Referral { zone } if *zone == kept.zone || !kept.zone.zone_of(zone) => {
            return Err(format!("referral to {zone}, not below {}", kept.zone));
        }
        ResponseKind::Cname { target } => {
            let last = kept.chain.last().map(|r| &r.data);
            if !matches!(last, Some(RData::CNAME(c)) if c.0 == *target) {
                return Err(format!(
                    "CNAME kind to {target} but the chain does not end there"
                ));
            }
        }
        ResponseKind::Answer if kept.chain.is_empty() => {
            return Err("an answer with an empty chain".to_owned());
        }
        _ => {}
    }
    Ok(())
}

/// The zones to ask as for `qname`, given a reply: its ancestors (root
/// included), then any owner name in the reply, then an unrelated zone.
pub fn zone_for(qname: &Name, message: &Message, pick: u64) -> Name {
    let mut zones: Vec<Name> = (0..=qname.num_labels())
        .map(|labels| qname.trim_to(usize::from(labels)))
        .collect();
    if let Some(owner) = message
        .answers
        .iter()
        .chain(message.authorities.iter())
        .chain(message.additionals.iter())
        .nth((pick / 7) as usize % 8)
    {
        zones.push(owner.name.clone());
    }
    zones.push(Name::from_ascii("unrelated.example.").unwrap_or_else(|_| Name::root()));
    let mut zone = zones[(pick % zones.len() as u64) as usize].clone();
    zone.set_fqdn(true);
    zone
}

/// Target B: parse, scrub as a zone, classify, check, store in the
/// caches and check them.
pub fn target(bytes: &[u8]) -> Result<Signature, String> {
    let Ok(message) = Message::from_vec(bytes) else {
        return Ok(0);
    };
    let hash = fnv(bytes);
    let question = message.queries.first().cloned().unwrap_or_else(|| {
        Query::query(
            Name::from_ascii("www.example.com.").unwrap_or_else(|_| Name::root()),
            RecordType::A,
        )
    });
    let zone = zone_for(question.name(), &message, hash);
    let total = message.answers.len() + message.authorities.len() + message.additionals.len();
    let scrubbed = scrub(message, &zone, &question);
    let kind = classify(&scrubbed);
    let kept = Kept::of(&scrubbed);
    let context = |e: String| format!("zone {zone}, question {question}: {e}");
    check(&kept, total, &kind).map_err(context)?;
    let stored = store::with_caches(|caches| caches.store(&scrubbed, &kind)).map_err(|e| {
        store::restart();
        context(e)
    })?;
    Ok(signature(&scrubbed, &kind) | stored.bits() << 24)
}

/// What the scrub did, in a few bits: the kind, which sections kept
/// something, and which drop reasons occurred.
pub fn signature(scrubbed: &Scrubbed, kind: &ResponseKind) -> Signature {
    let kind_bits: u64 = match kind {
        ResponseKind::Answer => 1,
        ResponseKind::Cname { .. } => 2,
        ResponseKind::Referral { .. } => 3,
        ResponseKind::NoData => 4,
        ResponseKind::NxDomain => 5,
        ResponseKind::Lame(_) => 6,
    };
    let sections = u64::from(!scrubbed.chain().is_empty())
        | u64::from(!scrubbed.authority_ns().is_empty()) << 1
        | u64::from(scrubbed.soa().is_some()) << 2
        | u64::from(!scrubbed.glue().is_empty()) << 3;
    let reasons = scrubbed.dropped().iter().fold(0u64, |bits, d| {
        bits | 1 << (fnv(d.reason.to_string().as_bytes()) % 16)
    });
    kind_bits | sections << 4 | reasons << 8
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use hickory_proto::op::{MessageType, OpCode};
    use hickory_proto::rr::rdata::{A, CNAME, NS};

    use super::*;

    fn n(name: &str) -> Name {
        Name::from_str(name).expect("a valid name")
    }

    fn a(owner: &str) -> Record {
        Record::from_rdata(n(owner), 300, RData::A(A::new(192, 0, 2, 1)))
    }

    /// A real scrub of a glued referral from `com.`, and what it kept.
    fn referral() -> (Kept, usize, ResponseKind) {
        let question = Query::query(n("www.example.com."), RecordType::A);
        let mut message = Message::new(1, MessageType::Response, OpCode::Query);
        message.add_query(question.clone());
        message.add_authority(Record::from_rdata(
            n("example.com."),
            300,
            RData::NS(NS(n("ns1.example.com."))),
        ));
        message.add_additional(a("ns1.example.com."));
        let scrubbed = scrub(message, &n("com."), &question);
        let kind = classify(&scrubbed);
        (Kept::of(&scrubbed), 2, kind)
    }

    #[test]
    fn a_real_scrub_passes() {
        let (kept, total, kind) = referral();
        assert_eq!(
            kind,
            ResponseKind::Referral {
                zone: n("example.com.")
            }
        );
        assert_eq!(check(&kept, total, &kind), Ok(()));
    }

    #[test]
    fn the_bailiwick_check_flags_an_out_of_zone_record() {
        let (mut kept, total, kind) = referral();
        kept.glue.push(a("www.victim.org."));
        let error = check(&kept, total + 1, &kind).unwrap_err();
        assert!(error.contains("outside the bailiwick"), "{error}");
        // At the root, every name is in bailiwick: only the glue rule fires.
        kept.zone = Name::root();
        let error = check_bailiwick(&kept);
        assert_eq!(error, Ok(()));
        assert!(
            check_authority_and_glue(&kept)
                .unwrap_err()
                .contains("no kept NS")
        );
    }

    #[test]
    fn the_chain_check_flags_a_chain_not_from_the_question() {
        let (mut kept, total, kind) = referral();
        kept.chain.push(a("other.example.com."));
        let error = check(&kept, total, &kind).unwrap_err();
        assert!(
            error.contains("where the chain is at www.example.com."),
            "{error}"
        );
        kept.chain = vec![
            Record::from_rdata(
                n("www.example.com."),
                300,
                RData::CNAME(CNAME(n("w1.example.com."))),
            ),
            a("w2.example.com."),
        ];
        assert!(check_chain(&kept).unwrap_err().contains("w2.example.com."));
    }

    #[test]
    fn the_other_checks_flag_what_they_should() {
        let (kept, total, kind) = referral();
        assert!(
            check(&kept, total + 1, &kind)
                .unwrap_err()
                .contains("records in")
        );
        let upward = ResponseKind::Referral { zone: Name::root() };
        assert!(
            check(&kept, total, &upward)
                .unwrap_err()
                .contains("not below")
        );
        let mut chaos = kept.clone();
        chaos.ns[0].dns_class = DNSClass::CH;
        assert!(check_bailiwick(&chaos).unwrap_err().contains("class"));
        let mut ttl = kept.clone();
        ttl.ns[0].ttl = 0x8000_0000;
        assert!(check_bailiwick(&ttl).unwrap_err().contains("TTL"));
        let mut second_owner = kept.clone();
        second_owner.ns.push(Record::from_rdata(
            n("other.com."),
            300,
            RData::NS(NS(n("ns.other.com."))),
        ));
        assert!(check_authority_and_glue(&second_owner).is_err());
    }

    #[test]
    fn zones_asked_include_the_root_and_the_right_one() {
        let message = Message::new(1, MessageType::Response, OpCode::Query);
        let qname = n("www.example.com.");
        let zones: std::collections::HashSet<Name> = (0..64)
            .map(|pick| zone_for(&qname, &message, pick))
            .collect();
        assert!(zones.contains(&Name::root()));
        assert!(zones.contains(&n("example.com.")));
        assert!(zones.contains(&n("unrelated.example.")));
    }
}
