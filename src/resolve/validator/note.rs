//! The trace's DNSSEC notes: for each judgement of the walk, one line
//! (`SUBJECT: STATUS (DETAILS)`) and the same facts as data
//! ([`DnssecFacts`]). Built from what the judgement matched (the
//! [`KeyProof`] of a DNSKEY set, the [`Proven`] signatures of a reply) and
//! the records of the reply, only when an observer wants events.
//!
//! - A referral: the child's DS set and the RRSIG that proved it
//!   (`a.tld1.: DS 2917/13/2 -> DNSKEY to fetch (DS set: RRSIG by key ...)`),
//!   or the NSEC/NSEC3 proof that there is none.
//! - A zone's DNSKEY fetch: which DS matched which key and its role, the
//!   RRSIG that proved the set, the other keys
//!   (`a.tld1.: secure (DS 2917/13/2 -> DNSKEY 2917 KSK; DNSKEY set: RRSIG
//!   by key 2917 ...; other keys: 34912 ZSK)`).
//! - An answer: the RRSIGs of each RRset of the chain, and the denial
//!   proof of a negative or wildcard answer.

use hickory_proto::dnssec::Verifier;
use hickory_proto::dnssec::rdata::{DNSKEY, DS};
use hickory_proto::rr::{Name, Record, RecordType};

use super::{Proven, ZoneTrust, has_nsec3, signatures_for};
use crate::resolve::classify::ResponseKind;
use crate::resolve::iterator::rrsets;
use crate::resolve::scrub::Scrubbed;
use crate::trace::dnssec::{DenialFact, DnssecFacts, DsFact, KeyFact, SigFact};
use crate::validate::keys::{DsId, KeyProof, key_tag};
use crate::validate::{MAX_DENIAL_RECORDS, MAX_RRSIGS_PER_RRSET, Security, as_dnskey, as_ds};

/// The note of a referral from `child`'s parent (whose trust was
/// `parent`): the child's trust, with its DS set or its proof of no DS.
pub fn delegation_note(
    child: &Name,
    parent: &ZoneTrust,
    trust: &ZoneTrust,
    reply: &Scrubbed,
    proven: &Proven,
) -> (String, DnssecFacts) {
    let mut facts = DnssecFacts::default();
    let mut details = Vec::new();
    if matches!(parent, ZoneTrust::Keys(_)) {
        if reply.ds().is_empty() {
            details.extend(denial(reply, proven, &mut facts, None));
        } else {
            facts.ds = reply
                .ds()
                .iter()
                .filter_map(as_ds)
                .map(|ds| DsFact::new(DsId::of(ds), false))
                .collect();
            let sigs = signatures_for(reply, child, RecordType::DS);
            details.extend(signed(Some("DS set"), &sigs, proven, &mut facts));
        }
    }
    let text = match trust {
        ZoneTrust::Off => format!("{child}: no trust anchor, not validated"),
        ZoneTrust::Pending { .. } => {
            let ids: Vec<String> = facts.ds.iter().map(DsFact::id).collect();
            with_details(
                format!("{child}: DS {} -> DNSKEY to fetch", ids.join(" ")),
                &details,
            )
        }
        ZoneTrust::Insecure => {
            if matches!(parent, ZoneTrust::Keys(_)) {
                details.insert(0, "no DS at its cut: unsigned".to_string());
            } else {
                details.insert(0, "below an insecure zone".to_string());
            }
            line(child, &Security::Insecure, &details, &mut facts)
        }
        ZoneTrust::Keys(_) => line(child, &Security::Secure, &details, &mut facts),
        ZoneTrust::Bogus(reason) => {
            if !facts.ds.is_empty() {
                let ids: Vec<String> = facts.ds.iter().map(DsFact::id).collect();
                details.insert(0, format!("DS {}", ids.join(" ")));
            }
            line(
                child,
                &Security::Bogus(reason.clone()),
                &details,
                &mut facts,
            )
        }
    };
    (text, facts)
}

/// The note of `zone`'s DNSKEY fetch: `pending` is the trust it had (the
/// DS or anchor records), `reply` the DNSKEY answer if one came, `trust`
/// what it came to and `proof` what matched.
pub fn keys_note(
    zone: &Name,
    pending: &ZoneTrust,
    anchored: bool,
    reply: Option<&Scrubbed>,
    trust: &ZoneTrust,
    proof: &KeyProof,
) -> (String, DnssecFacts) {
    let mut facts = DnssecFacts {
        keys: reply.map(|r| key_facts(zone, r, proof)).unwrap_or_default(),
        ..DnssecFacts::default()
    };
    let mut details = Vec::new();
    if let ZoneTrust::Pending { ds, anchor_keys } = pending {
        let (ds, entries) = entry_points(ds, anchor_keys, anchored, proof, &facts.keys);
        facts.ds = ds;
        details = entries;
    }
    if let Some(reply) = reply {
        let sigs = signatures_for(reply, zone, RecordType::DNSKEY);
        let mut proven = Proven::default();
        if let Some(signature) = &proof.signature {
            proven.add(zone, RecordType::DNSKEY, signature);
        }
        details.extend(signed(Some("DNSKEY set"), &sigs, &proven, &mut facts));
        let others: Vec<String> = facts
            .keys
            .iter()
            .filter(|k| !k.ds_matched)
            .map(ToString::to_string)
            .collect();
        let any_matched = facts.keys.iter().any(|k| k.ds_matched);
        if facts.keys.is_empty() {
            details.push("no DNSKEY served".to_string());
        } else if !others.is_empty() {
            let which = if any_matched { "other keys" } else { "keys" };
            details.push(format!("{which}: {}", others.join(", ")));
        }
    }
    let security = match trust {
        ZoneTrust::Keys(_) => Security::Secure,
        ZoneTrust::Insecure => Security::Insecure,
        ZoneTrust::Bogus(reason) => Security::Bogus(reason.clone()),
        ZoneTrust::Off | ZoneTrust::Pending { .. } => Security::Indeterminate,
    };
    (line(zone, &security, &details, &mut facts), facts)
}

/// The keys of `zone`'s DNSKEY reply, each marked with whether a DS (or
/// anchor) designated it and whether its RRSIG proved the set.
fn key_facts(zone: &Name, reply: &Scrubbed, proof: &KeyProof) -> Vec<KeyFact> {
    let entry: Vec<u16> = proof.entry_keys().collect();
    reply
        .chain()
        .iter()
        .filter(|r| r.name == *zone)
        .filter_map(as_dnskey)
        .filter_map(KeyFact::of)
        .map(|mut key| {
            key.ds_matched = entry.contains(&key.key_tag);
            key.signed_key_set = proof.signature.as_ref().is_some_and(|s| {
                s.key_tag == key.key_tag && u8::from(s.algorithm) == key.algorithm
            });
            key
        })
        .collect()
}

/// The DS records (or trust-anchor keys) a zone's keys were checked
/// against, as facts and as details: `DS 2917/13/2 -> DNSKEY 2917 KSK`,
/// `-> no key`, or not used.
fn entry_points(
    ds: &[DS],
    anchor_keys: &[DNSKEY],
    anchored: bool,
    proof: &KeyProof,
    keys: &[KeyFact],
) -> (Vec<DsFact>, Vec<String>) {
    let role = |tag: u16| {
        keys.iter()
            .find(|k| k.key_tag == tag)
            .map_or_else(String::new, |k| format!(" {}", k.role.as_str()))
    };
    let from = if anchored { "trust anchor " } else { "" };
    let mut facts = Vec::new();
    let mut details = Vec::new();
    for record in ds {
        let id = DsId::of(record);
        let mut fact = DsFact::new(id, anchored);
        fact.matched = proof
            .ds
            .iter()
            .find(|(used, _)| *used == id)
            .map(|(_, matched)| *matched);
        details.push(match fact.matched {
            Some(true) => format!("{from}DS {id} -> DNSKEY {}{}", id.key_tag, role(id.key_tag)),
            Some(false) => format!("{from}DS {id} -> no key"),
            None => format!("{from}DS {id} not used (algorithm or digest not supported)"),
        });
        facts.push(fact);
    }
    for key in anchor_keys {
        let Some(tag) = key_tag(key) else {
            continue;
        };
        details.push(if proof.anchor_keys.contains(&tag) {
            format!("trust anchor DNSKEY {tag}{}", role(tag))
        } else if key.algorithm().is_supported() {
            format!("trust anchor DNSKEY {tag} -> not in the set")
        } else {
            format!("trust anchor DNSKEY {tag} not used (algorithm not supported)")
        });
    }
    (facts, details)
}

/// The note of the verdict `security` on `reply` (an answer, NODATA or
/// NXDOMAIN, classified as `kind`) of `zone`, whose trust was `trust`.
pub fn answer_note(
    zone: &Name,
    reply: &Scrubbed,
    kind: &ResponseKind,
    trust: &ZoneTrust,
    security: &Security,
    proven: &Proven,
) -> (String, DnssecFacts) {
    let subject = format!("{} {}", reply.qname(), reply.qtype());
    let mut facts = DnssecFacts::default();
    let mut details = Vec::new();
    match trust {
        ZoneTrust::Insecure => details.push(format!("{zone} is insecure: nothing to check")),
        ZoneTrust::Bogus(_) => details.push(format!("the keys of {zone} are not trusted")),
        ZoneTrust::Off | ZoneTrust::Pending { .. } | ZoneTrust::Keys(_) => {}
    }
    if matches!(trust, ZoneTrust::Keys(_) | ZoneTrust::Bogus(_)) {
        let chain = rrsets(reply.chain_to_cache());
        let alone = chain.len() == 1;
        for rrset in &chain {
            let Some(first) = rrset.first() else {
                continue;
            };
            let what = format!("{} {}", first.name, first.record_type());
            let sigs = signatures_for(reply, &first.name, first.record_type());
            let label = (!alone || what != subject).then_some(what.as_str());
            details.extend(signed(label, &sigs, proven, &mut facts));
        }
        let proof = match kind {
            ResponseKind::NxDomain => Some("NXDOMAIN proof"),
            ResponseKind::NoData => Some("NODATA proof"),
            _ if !reply.denial().is_empty() => Some("wildcard proof"),
            _ => None,
        };
        if proof.is_some() {
            details.extend(denial(reply, proven, &mut facts, proof));
        }
    }
    (line(&subject, security, &details, &mut facts), facts)
}

/// `SUBJECT: STATUS (DETAIL; DETAIL)`; a bogus reason comes first inside
/// the parentheses, and goes into `facts` with its EDE code.
fn line(
    subject: &impl std::fmt::Display,
    security: &Security,
    details: &[String],
    facts: &mut DnssecFacts,
) -> String {
    match security {
        Security::Bogus(reason) => {
            facts.reason = Some(reason.to_string());
            facts.ede = Some(reason.ede_code());
            let mut all = vec![reason.to_string()];
            all.extend(details.iter().cloned());
            format!("{subject}: bogus ({})", all.join("; "))
        }
        other => with_details(format!("{subject}: {other}"), details),
    }
}

fn with_details(head: String, details: &[String]) -> String {
    if details.is_empty() {
        head
    } else {
        format!("{head} ({})", details.join("; "))
    }
}

/// The RRSIGs `sigs` of one RRset as details, led by `label` if given
/// (`DS set: RRSIG by ...`): the one that verified if one did, else all of
/// them, or `no RRSIG`; each goes into `facts`.
fn signed(
    label: Option<&str>,
    sigs: &[Record],
    proven: &Proven,
    facts: &mut DnssecFacts,
) -> Vec<String> {
    let found: Vec<SigFact> = sigs
        .iter()
        .take(MAX_RRSIGS_PER_RRSET)
        .filter_map(|r| SigFact::of(r, proven.verified(r)))
        .collect();
    let led = |text: String| match label {
        Some(label) => format!("{label}: {text}"),
        None => text,
    };
    let shown: Vec<String> = if found.iter().any(|s| s.verified) {
        found
            .iter()
            .filter(|s| s.verified)
            .map(|s| led(s.to_string()))
            .collect()
    } else if found.is_empty() {
        vec![led("no RRSIG".to_string())]
    } else {
        found.iter().map(|s| led(s.to_string())).collect()
    };
    facts.signatures.extend(found);
    shown
}

/// The NSEC or NSEC3 records of `reply` with their RRSIGs, as details (the
/// first one led by `lead`, e.g. `NXDOMAIN proof`); each goes into `facts`.
fn denial(
    reply: &Scrubbed,
    proven: &Proven,
    facts: &mut DnssecFacts,
    lead: Option<&str>,
) -> Vec<String> {
    let mut details = Vec::new();
    for record in reply.denial().iter().take(MAX_DENIAL_RECORDS) {
        let Some(fact) = DenialFact::of(record) else {
            continue;
        };
        let sigs = signatures_for(reply, &record.name, record.record_type());
        let with = signed(None, &sigs, proven, facts);
        let head = match (details.is_empty(), lead) {
            (true, Some(lead)) => format!("{lead}: {fact}"),
            _ => fact.to_string(),
        };
        details.push(format!("{head} with {}", with.join(", ")));
        facts.denial.push(fact);
    }
    if details.is_empty() {
        let kind = if has_nsec3(reply) { "NSEC3" } else { "NSEC" };
        details.push(format!("no {kind} records in the reply"));
    }
    details
}
