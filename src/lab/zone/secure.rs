//! What a signed lab zone adds to a reply when the query has DO=1
//! (RFC 4035 §3.1): the RRSIGs of every RRset in the answer and authority
//! sections, the DS set (or the NSEC/NSEC3 proof that there is none) with a
//! referral, and the NSEC or NSEC3 records that prove an NXDOMAIN, a NODATA
//! or a wildcard expansion (RFC 4035 §3.1.3, RFC 5155 §7.2). Pure: the
//! signatures were made at start-up by [`super::sign`].

use std::collections::BTreeMap;

use hickory_proto::rr::{Name, Record, RecordType};

use super::{Lookup, LookupKind, Zone};
use crate::validate::nsec3;

/// The signatures and denial chain of a signed zone.
#[derive(Debug, Clone, Default)]
pub struct Signatures {
    /// RRSIG records by (lowercase owner, type covered).
    pub(super) rrsigs: BTreeMap<(Name, u16), Vec<Record>>,
    /// NSEC records by lowercase owner (canonical order).
    pub(super) nsec: BTreeMap<Name, Record>,
    /// NSEC3 records by owner hash.
    pub(super) nsec3: BTreeMap<Vec<u8>, Record>,
}

/// Whether `rtype` is one of the DNSSEC types a DO=0 reply leaves out of
/// an ANY answer (RFC 4035 §3.2.1 in spirit: no DNSSEC data unasked).
pub fn is_dnssec_type(rtype: RecordType) -> bool {
    matches!(
        rtype,
        RecordType::DNSKEY
            | RecordType::RRSIG
            | RecordType::NSEC
            | RecordType::NSEC3
            | RecordType::NSEC3PARAM
            | RecordType::DS
    )
}

impl Zone {
    /// Whether the zone is signed.
    pub fn is_signed(&self) -> bool {
        self.dnssec.is_some()
    }

    /// The whole zone as served to DO=1 queries: every record, then the
    /// NSEC or NSEC3 chain, then every RRSIG (for zone dumps and
    /// `ldns-verify-zone`-style cross-checks).
    pub fn signed_records(&self) -> Vec<Record> {
        let mut out = self.records();
        if let Some(sigs) = self.dnssec.as_deref() {
            out.extend(sigs.nsec.values().cloned());
            out.extend(sigs.nsec3.values().cloned());
            out.extend(sigs.rrsigs.values().flatten().cloned());
        }
        out
    }

    /// Adds RRSIGs and denial proofs to `lookup`, the answer to a query
    /// for `qname` from this zone, for a query with DO=1. Unsigned zones
    /// add nothing.
    pub fn add_dnssec(&self, qname: &Name, lookup: &mut Lookup) {
        let Some(sigs) = self.dnssec.as_deref() else {
            return;
        };
        let mut proof: Vec<Record> = Vec::new();
        // RRSIGs of the answer RRsets; a wildcard expansion also needs the
        // proof that the name itself does not exist.
        let mut answer_sigs = Vec::new();
        for (owner, rtype) in rrsets(&lookup.answers) {
            let direct = self.rrsigs_of(sigs, &owner, rtype);
            if !direct.is_empty() {
                answer_sigs.extend(direct);
                continue;
            }
            if !self.records_at(&owner).is_empty() || !self.origin.zone_of(&owner) {
                continue; // DNAME-synthesised CNAME: unsigned
            }
            let Some(wildcard) = self.wildcard_for(&owner) else {
                continue;
            };
            for mut rrsig in self.rrsigs_of(sigs, &wildcard, rtype) {
                rrsig.name = owner.clone();
                answer_sigs.push(rrsig);
            }
            proof.extend(self.deny_closer(sigs, &owner));
        }
        lookup.answers.extend(answer_sigs);
        let final_name = lookup
            .answers
            .iter()
            .rev()
            .find_map(|r| match &r.data {
                hickory_proto::rr::RData::CNAME(target) => Some(target.0.clone()),
                _ => None,
            })
            .filter(|target| self.origin.zone_of(target))
            .unwrap_or_else(|| qname.clone());
        match lookup.kind {
            LookupKind::Referral => {
                let Some(cut) = lookup.authorities.first().map(|r| r.name.clone()) else {
                    return;
                };
                let ds: Vec<Record> = self
                    .records_at(&cut)
                    .iter()
                    .filter(|r| r.record_type() == RecordType::DS)
                    .cloned()
                    .collect();
                if ds.is_empty() {
                    proof.extend(self.deny_ds(sigs, &cut));
                } else {
                    lookup.authorities.extend(ds);
                    lookup
                        .authorities
                        .extend(self.rrsigs_of(sigs, &cut, RecordType::DS));
                }
            }
            LookupKind::NoData => {
                proof.extend(self.deny_type(sigs, &final_name));
            }
            LookupKind::NxDomain => {
                proof.extend(self.deny_name(sigs, &final_name));
            }
            LookupKind::Answer | LookupKind::YxDomain => {}
        }
        if matches!(lookup.kind, LookupKind::NoData | LookupKind::NxDomain) {
            let soa_sigs = self.rrsigs_of(sigs, &self.origin, RecordType::SOA);
            lookup.authorities.extend(soa_sigs);
        }
        let mut seen: Vec<Name> = Vec::new();
        for record in proof {
            if seen.contains(&record.name) {
                continue;
            }
            seen.push(record.name.clone());
            let rtype = record.record_type();
            let rrsigs = self.rrsigs_of(sigs, &record.name, rtype);
            lookup.authorities.push(record);
            lookup.authorities.extend(rrsigs);
        }
    }

    fn rrsigs_of(&self, sigs: &Signatures, owner: &Name, rtype: RecordType) -> Vec<Record> {
        sigs.rrsigs
            .get(&(owner.to_lowercase(), u16::from(rtype)))
            .cloned()
            .unwrap_or_default()
    }

    /// The wildcard `owner` was synthesised from, if it was.
    fn wildcard_for(&self, owner: &Name) -> Option<Name> {
        let encloser = self.closest_encloser(owner)?;
        let wildcard = encloser.prepend_label("*").ok()?;
        (!self.records_at(&wildcard).is_empty()).then_some(wildcard)
    }

    /// The NSEC whose owner sorts last before `name` (wrapping): the one
    /// that covers it, or matches it when `name` owns one.
    fn nsec_at_or_before(sigs: &Signatures, name: &Name) -> Option<Record> {
        let name = name.to_lowercase();
        sigs.nsec
            .range(..=name)
            .next_back()
            .or_else(|| sigs.nsec.iter().next_back())
            .map(|(_, r)| r.clone())
    }

    fn nsec3_matching(sigs: &Signatures, name: &Name) -> Option<Record> {
        let hash = nsec3::hash(name, &[], 0)?;
        sigs.nsec3.get(&hash).cloned()
    }

    fn nsec3_covering(sigs: &Signatures, name: &Name) -> Option<Record> {
        let hash = nsec3::hash(name, &[], 0)?;
        sigs.nsec3
            .range(..hash)
            .next_back()
            .or_else(|| sigs.nsec3.iter().next_back())
            .map(|(_, r)| r.clone())
    }

    /// NSEC3 closest encloser proof for `name` (RFC 5155 §7.2.1): the
    /// record matching the closest encloser in the chain and the one
    /// covering the next closer name; returns them and the encloser.
    fn nsec3_encloser_proof(&self, sigs: &Signatures, name: &Name) -> (Vec<Record>, Name) {
        let apex = self.origin.num_labels();
        for labels in (apex..name.num_labels()).rev() {
            let candidate = name.trim_to(usize::from(labels));
            if let Some(matching) = Self::nsec3_matching(sigs, &candidate) {
                let next_closer = name.trim_to(usize::from(labels) + 1);
                let covering = Self::nsec3_covering(sigs, &next_closer);
                return (
                    [Some(matching), covering].into_iter().flatten().collect(),
                    candidate,
                );
            }
        }
        (Vec::new(), self.origin.clone())
    }

    /// Proof that no name closer than the wildcard matches `owner`
    /// (RFC 4035 §3.1.3.3, RFC 5155 §7.2.6).
    fn deny_closer(&self, sigs: &Signatures, owner: &Name) -> Vec<Record> {
        if !sigs.nsec.is_empty() {
            return Self::nsec_at_or_before(sigs, owner).into_iter().collect();
        }
        let Some(encloser) = self.closest_encloser(owner) else {
            return Vec::new();
        };
        let next_closer = owner.trim_to(usize::from(encloser.num_labels()) + 1);
        Self::nsec3_covering(sigs, &next_closer)
            .into_iter()
            .collect()
    }

    /// Proof that the delegation `cut` has no DS (RFC 4035 §3.1.4.1,
    /// RFC 5155 §7.2.7).
    fn deny_ds(&self, sigs: &Signatures, cut: &Name) -> Vec<Record> {
        if !sigs.nsec.is_empty() {
            return Self::nsec_at_or_before(sigs, cut).into_iter().collect();
        }
        match Self::nsec3_matching(sigs, cut) {
            Some(matching) => vec![matching],
            None => self.nsec3_encloser_proof(sigs, cut).0,
        }
    }

    /// Proof that `name` exists without the asked type (RFC 4035
    /// §3.1.3.1–3.1.3.2, RFC 5155 §7.2.3–7.2.5).
    fn deny_type(&self, sigs: &Signatures, name: &Name) -> Vec<Record> {
        let exists = self.exists(name);
        if !sigs.nsec.is_empty() {
            let mut out: Vec<Record> = Self::nsec_at_or_before(sigs, name).into_iter().collect();
            if !exists {
                // Wildcard NODATA: the NSEC at the wildcard too.
                if let Some(wildcard) = self.wildcard_for(name) {
                    out.extend(Self::nsec_at_or_before(sigs, &wildcard));
                }
            }
            return out;
        }
        if let Some(matching) = Self::nsec3_matching(sigs, name) {
            return vec![matching];
        }
        let (mut out, encloser) = self.nsec3_encloser_proof(sigs, name);
        if let Ok(wildcard) = encloser.prepend_label("*") {
            out.extend(Self::nsec3_matching(sigs, &wildcard));
        }
        out
    }

    /// Proof that `name` does not exist (RFC 4035 §3.1.3.2, RFC 5155
    /// §7.2.2): it is covered, and so is the wildcard at its closest
    /// encloser.
    fn deny_name(&self, sigs: &Signatures, name: &Name) -> Vec<Record> {
        let encloser = self
            .closest_encloser(name)
            .unwrap_or_else(|| self.origin.clone());
        let wildcard = encloser.prepend_label("*").ok();
        if !sigs.nsec.is_empty() {
            let mut out: Vec<Record> = Self::nsec_at_or_before(sigs, name).into_iter().collect();
            if let Some(wildcard) = wildcard {
                out.extend(Self::nsec_at_or_before(sigs, &wildcard));
            }
            return out;
        }
        let (mut out, encloser) = self.nsec3_encloser_proof(sigs, name);
        if let Ok(wildcard) = encloser.prepend_label("*") {
            out.extend(Self::nsec3_covering(sigs, &wildcard));
        }
        out
    }
}

/// The distinct (owner, type) RRsets among `records`, in order.
fn rrsets(records: &[Record]) -> Vec<(Name, RecordType)> {
    let mut out: Vec<(Name, RecordType)> = Vec::new();
    for record in records {
        let key = (record.name.clone(), record.record_type());
        if !out.contains(&key) {
            out.push(key);
        }
    }
    out
}
