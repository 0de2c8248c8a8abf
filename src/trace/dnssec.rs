//! What a DNSSEC note of the trace rests on, as data: the DS records of a
//! cut and what they matched, the zone's keys and their roles, the RRSIGs
//! (signer, key tag, algorithm, validity window) and the NSEC or NSEC3
//! records of a denial. The engine fills a [`DnssecFacts`] beside each
//! note's line (`Event::Dnssec`); the tree keeps it with the note and the
//! JSON carries it field by field, so nobody parses the line for them.
//!
//! The pieces print the way the note's line shows them (`DS 2917/13/2`,
//! `DNSKEY 2917 KSK`, `RRSIG by key 34912 of a.tld1. alg 13, valid
//! 2026-11-20 to 2026-12-20`, `NSEC a.tld1. -> www.a.tld1. [NS SOA]`).

use std::fmt;

use hickory_proto::dnssec::Verifier;
use hickory_proto::dnssec::rdata::DNSKEY;
use hickory_proto::rr::{Name, Record};
use serde::{Deserialize, Serialize};

use crate::validate::keys::{DsId, key_tag};
use crate::validate::{as_nsec, as_nsec3, as_rrsig, day, nsec3};

/// Characters of an NSEC3 hash shown in a note's line: enough to tell the
/// hashes of a trace apart, short enough to read a range at a glance (the
/// JSON carries the whole hash).
pub const NSEC3_HASH_SHOWN: usize = 8;

/// The facts behind one DNSSEC note. Every field is optional: a note of a
/// referral has DS records and their RRSIG, a note of a zone's keys the DS
/// records, the keys and the RRSIGs over the DNSKEY set, a note of an
/// answer its RRSIGs and for a negative answer its NSEC or NSEC3 records.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnssecFacts {
    /// For a bogus verdict: why, in one sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For a bogus verdict: the Extended DNS Error code a daemon answers
    /// with (RFC 8914 §4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ede: Option<u16>,
    /// The DS records of the cut (the parent's, or the trust anchor's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ds: Vec<DsFact>,
    /// The zone's DNSKEY records.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<KeyFact>,
    /// The RRSIGs looked at: over the DS set, the DNSKEY set, each RRset of
    /// the answer, or each record of a denial.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signatures: Vec<SigFact>,
    /// The NSEC or NSEC3 records of a denial of existence (a negative
    /// answer, a delegation without DS, a wildcard answer).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub denial: Vec<DenialFact>,
}

/// One DS record of a cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DsFact {
    /// The key tag of the key it designates.
    pub key_tag: u16,
    /// The key's algorithm number.
    pub algorithm: u8,
    /// The digest type number.
    pub digest_type: u8,
    /// Whether it is a trust anchor rather than the parent's record.
    #[serde(default, skip_serializing_if = "is_false")]
    pub anchor: bool,
    /// Whether a DNSKEY of the zone matches it (absent until the zone's
    /// keys are fetched, and for a DS the validator does not use).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched: Option<bool>,
}

impl DsFact {
    /// The fact of a DS, not matched against keys yet.
    pub fn new(ds: DsId, anchor: bool) -> Self {
        Self {
            key_tag: ds.key_tag,
            algorithm: ds.algorithm,
            digest_type: ds.digest_type,
            anchor,
            matched: None,
        }
    }

    /// `key tag/algorithm/digest type`.
    pub fn id(&self) -> String {
        format!("{}/{}/{}", self.key_tag, self.algorithm, self.digest_type)
    }
}

/// A key's role, by its Secure Entry Point flag (RFC 4034 §2.1.1): the
/// key-signing key the parent's DS points at, or a zone-signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyRole {
    /// SEP flag set (flags 257).
    Ksk,
    /// SEP flag clear (flags 256).
    Zsk,
}

impl KeyRole {
    /// `KSK` or `ZSK`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyRole::Ksk => "KSK",
            KeyRole::Zsk => "ZSK",
        }
    }
}

/// One DNSKEY of a zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyFact {
    /// Its key tag (RFC 4034 Appendix B).
    pub key_tag: u16,
    /// Its algorithm number.
    pub algorithm: u8,
    /// Its flags field (256 ZSK, 257 KSK).
    pub flags: u16,
    /// KSK or ZSK, by the SEP flag.
    pub role: KeyRole,
    /// Whether a DS of the parent (or a trust anchor) designates it.
    #[serde(default)]
    pub ds_matched: bool,
    /// Whether its RRSIG over the DNSKEY set is the one that verified.
    #[serde(default)]
    pub signed_key_set: bool,
    /// Whether the REVOKE flag is set (RFC 5011 §2.1): never used.
    #[serde(default, skip_serializing_if = "is_false")]
    pub revoked: bool,
}

impl KeyFact {
    /// The fact of `key`; `None` if its key tag cannot be computed.
    pub fn of(key: &DNSKEY) -> Option<Self> {
        Some(Self {
            key_tag: key_tag(key)?,
            algorithm: u8::from(key.algorithm()),
            flags: key.flags(),
            role: if key.secure_entry_point() {
                KeyRole::Ksk
            } else {
                KeyRole::Zsk
            },
            ds_matched: false,
            signed_key_set: false,
            revoked: key.revoke(),
        })
    }
}

impl fmt::Display for KeyFact {
    /// `34912 ZSK` (`revoked` added when it is).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.key_tag, self.role.as_str())?;
        if self.revoked {
            f.write_str(" revoked")?;
        }
        Ok(())
    }
}

/// One RRSIG record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigFact {
    /// The owner of the RRset it covers.
    pub owner: String,
    /// The type it covers.
    pub type_covered: String,
    /// The signer's name (the zone).
    pub signer: String,
    /// The key tag of the key it names.
    pub key_tag: u16,
    /// The algorithm number.
    pub algorithm: u8,
    /// Inception, seconds since the epoch (RFC 4034 §3.1.5).
    pub inception: u32,
    /// Expiration, seconds since the epoch.
    pub expiration: u32,
    /// Whether this is the signature that verified its RRset.
    #[serde(default)]
    pub verified: bool,
}

impl SigFact {
    /// The fact of the RRSIG in `record`, if it is one.
    pub fn of(record: &Record, verified: bool) -> Option<Self> {
        let input = as_rrsig(record)?.input();
        Some(Self {
            owner: record.name.to_string(),
            type_covered: input.type_covered.to_string(),
            signer: input.signer_name.to_string(),
            key_tag: input.key_tag,
            algorithm: u8::from(input.algorithm),
            inception: input.sig_inception.get(),
            expiration: input.sig_expiration.get(),
            verified,
        })
    }

    /// Whether it covers `owner`/`rtype` (as a trace spells them).
    pub fn covers(&self, owner: &str, rtype: &str) -> bool {
        self.owner.eq_ignore_ascii_case(owner) && self.type_covered == rtype
    }
}

impl fmt::Display for SigFact {
    /// `RRSIG by key 34912 of a.tld1. alg 13, valid 2026-11-20 to
    /// 2026-12-20`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RRSIG by key {} of {} alg {}, valid {} to {}",
            self.key_tag,
            self.signer,
            self.algorithm,
            day(self.inception),
            day(self.expiration)
        )
    }
}

/// NSEC or NSEC3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DenialKind {
    /// RFC 4034 §4.
    Nsec,
    /// RFC 5155.
    Nsec3,
}

/// One NSEC or NSEC3 record of a denial of existence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DenialFact {
    /// NSEC or NSEC3.
    pub kind: DenialKind,
    /// Its owner (for NSEC3, the hashed owner name).
    pub owner: String,
    /// The next name of the chain (for NSEC3, the next hashed owner name,
    /// as a name in the zone).
    pub next: String,
    /// The types its bitmap says exist at the owner.
    pub types: Vec<String>,
    /// NSEC3: the opt-out flag (RFC 5155 §3.1.2.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_out: Option<bool>,
    /// NSEC3: the hash iterations (RFC 9276 asks for 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iterations: Option<u16>,
}

impl DenialFact {
    /// The fact of the NSEC or NSEC3 record in `record`, if it is one.
    pub fn of(record: &Record) -> Option<Self> {
        if let Some(nsec) = as_nsec(record) {
            return Some(Self {
                kind: DenialKind::Nsec,
                owner: record.name.to_string(),
                next: nsec.next_domain_name().to_string(),
                types: nsec.type_bit_maps().map(|t| t.to_string()).collect(),
                opt_out: None,
                iterations: None,
            });
        }
        let nsec3 = as_nsec3(record)?;
        let zone = record.name.base_name();
        let label = nsec3::to_label(nsec3.next_hashed_owner_name());
        let next = Name::from_ascii(&label)
            .and_then(|n| n.append_domain(&zone))
            .map_or(label, |n| n.to_string());
        Some(Self {
            kind: DenialKind::Nsec3,
            owner: record.name.to_string(),
            next,
            types: nsec3.type_bit_maps().map(|t| t.to_string()).collect(),
            opt_out: Some(nsec3.opt_out()),
            iterations: Some(nsec3.iterations()),
        })
    }

    /// Whether it is the record of `owner`/`rtype` (as a trace spells
    /// them) an RRSIG covers.
    pub fn is(&self, sig: &SigFact) -> bool {
        let rtype = match self.kind {
            DenialKind::Nsec => "NSEC",
            DenialKind::Nsec3 => "NSEC3",
        };
        sig.covers(&self.owner, rtype)
    }
}

impl fmt::Display for DenialFact {
    /// `NSEC a.tld1. -> www.a.tld1. [NS SOA RRSIG NSEC DNSKEY]`, or
    /// `NSEC3 0p9mhave.. -> 1avvqn74.. opt-out [NS]` (hashes cut to
    /// [`NSEC3_HASH_SHOWN`] characters).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            DenialKind::Nsec => write!(f, "NSEC {} -> {}", self.owner, self.next)?,
            DenialKind::Nsec3 => write!(
                f,
                "NSEC3 {} -> {}{}",
                short_hash(&self.owner),
                short_hash(&self.next),
                if self.opt_out == Some(true) {
                    " opt-out"
                } else {
                    ""
                }
            )?,
        }
        write!(f, " [{}]", self.types.join(" "))
    }
}

/// The first label of a hashed owner name, cut to [`NSEC3_HASH_SHOWN`]
/// characters.
fn short_hash(name: &str) -> String {
    let label = name.split('.').next().unwrap_or(name);
    match label.get(..NSEC3_HASH_SHOWN) {
        Some(head) if head.len() < label.len() => format!("{head}.."),
        _ => label.to_string(),
    }
}

fn is_false(value: &bool) -> bool {
    !*value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_print_as_the_notes_show_them() {
        let sig = SigFact {
            owner: "www.a.tld1.".into(),
            type_covered: "A".into(),
            signer: "a.tld1.".into(),
            key_tag: 34912,
            algorithm: 13,
            inception: 0,
            expiration: 86_400 * 31,
            verified: true,
        };
        assert_eq!(
            sig.to_string(),
            "RRSIG by key 34912 of a.tld1. alg 13, valid 1970-01-01 to 1970-02-01"
        );
        assert!(sig.covers("WWW.a.tld1.", "A") && !sig.covers("www.a.tld1.", "AAAA"));
        let nsec3 = DenialFact {
            kind: DenialKind::Nsec3,
            owner: "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.tld2.".into(),
            next: "1avvqn74sg75ukfvf25dgcethgq638ek.tld2.".into(),
            types: vec!["NS".into()],
            opt_out: Some(true),
            iterations: Some(0),
        };
        assert_eq!(
            nsec3.to_string(),
            "NSEC3 0p9mhave.. -> 1avvqn74.. opt-out [NS]"
        );
        let ds = DsFact::new(
            DsId {
                key_tag: 20326,
                algorithm: 8,
                digest_type: 2,
            },
            true,
        );
        assert_eq!(ds.id(), "20326/8/2");
    }

    #[test]
    fn facts_leave_out_what_they_do_not_have() {
        let json = serde_json::to_string(&DnssecFacts::default()).unwrap();
        assert_eq!(json, "{}");
        let back: DnssecFacts = serde_json::from_str("{}").unwrap();
        assert_eq!(back, DnssecFacts::default());
    }
}
