//! The step down one zone cut (RFC 4035 §5.2): the parent's DS set (or a
//! trust anchor) picks the child's key-signing keys, and a DNSKEY RRset
//! signed by one of them becomes the child's [`TrustedKeys`]. Unbound's
//! `val_verify_DNSKEY_with_DS` in `val_utils.c` does this job.
//!
//! Insecure, not bogus, when no DS uses an algorithm and digest this
//! validator implements (RFC 4035 §5.2, RFC 6840 §5.2, RFC 8624 §3).
//! Limits: the first [`MAX_DS_RECORDS`] DS records only;
//! [`MAX_KEYS_PER_TAG`] keys tried per DS; revoked keys
//! (RFC 5011 §2.1) never match; a DS with digest type SHA-1 is used only
//! when no other supported DS is present (RFC 4509 §3).
//!
//! [`check_dnskeys`] also says what it matched ([`KeyProof`]: which DS
//! designated which key, which RRSIG proved the set), for the trace.

use std::fmt;

use hickory_proto::dnssec::rdata::{DNSKEY, DS};
use hickory_proto::dnssec::{DigestType, Verifier};
use hickory_proto::rr::{Name, Record, RecordType};

use super::memo::SigMemo;
use super::sig::{Verified, verify_with};
use super::{
    BogusReason, MAX_DS_RECORDS, MAX_KEYS_PER_TAG, Security, SigBudget, as_dnskey, as_rrsig,
};

/// A zone's DNSKEY set, proven by the chain of trust: RRSIGs of the zone
/// are checked against these keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKeys {
    zone: Name,
    keys: Vec<DNSKEY>,
    ttl: u32,
}

impl TrustedKeys {
    /// Keys taken as trusted for `zone` (e.g. read back from a cache that
    /// validated them), kept for `ttl` seconds.
    pub fn new(zone: Name, keys: Vec<DNSKEY>, ttl: u32) -> Self {
        Self {
            zone: zone.to_lowercase(),
            keys,
            ttl,
        }
    }

    /// The zone (lowercase).
    pub fn zone(&self) -> &Name {
        &self.zone
    }

    /// Every key of the validated DNSKEY RRset.
    pub fn keys(&self) -> &[DNSKEY] {
        &self.keys
    }

    /// How long the set may be trusted: its validated TTL (RFC 4035
    /// §5.3.3).
    pub fn ttl(&self) -> u32 {
        self.ttl
    }
}

/// What a DS set (or anchor) and a DNSKEY RRset prove about a zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyVerdict {
    /// The DNSKEY set is signed by a key a DS matches.
    Secure(TrustedKeys),
    /// Only unsupported algorithms or digests: treat the zone as unsigned.
    Insecure,
    /// The chain breaks here.
    Bogus(BogusReason),
}

impl KeyVerdict {
    /// The verdict as a [`Security`].
    pub fn security(&self) -> Security {
        match self {
            KeyVerdict::Secure(_) => Security::Secure,
            KeyVerdict::Insecure => Security::Insecure,
            KeyVerdict::Bogus(reason) => Security::Bogus(reason.clone()),
        }
    }
}

/// The key tag of `key` (RFC 4034 Appendix B); `None` if it cannot be
/// encoded.
pub fn key_tag(key: &DNSKEY) -> Option<u16> {
    key.calculate_key_tag().ok()
}

/// Whether this validator can use `ds`: algorithm and digest both
/// implemented.
pub fn ds_supported(ds: &DS) -> bool {
    ds.algorithm().is_supported() && ds.digest_type().is_supported()
}

/// Whether `ds` at `zone` designates `key`: key tag, algorithm, Zone Key
/// bit and digest all match (RFC 4035 §5.2).
pub fn ds_matches(zone: &Name, ds: &DS, key: &DNSKEY) -> bool {
    ds.key_tag() == key_tag(key).unwrap_or(!ds.key_tag())
        && ds.algorithm() == key.algorithm()
        && !key.revoke()
        && ds.covers(zone, key).unwrap_or(false)
}

/// A DS record as users read it: `key tag/algorithm/digest type`
/// (`20326/8/2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DsId {
    /// The key tag of the key it designates.
    pub key_tag: u16,
    /// The key's algorithm number (RFC 8624 §3.1).
    pub algorithm: u8,
    /// The digest type number (RFC 8624 §3.3).
    pub digest_type: u8,
}

impl DsId {
    /// The identity of `ds`.
    pub fn of(ds: &DS) -> Self {
        Self {
            key_tag: ds.key_tag(),
            algorithm: u8::from(ds.algorithm()),
            digest_type: u8::from(ds.digest_type()),
        }
    }
}

impl fmt::Display for DsId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}",
            self.key_tag, self.algorithm, self.digest_type
        )
    }
}

/// What the step down a cut matched, whatever the verdict: which DS (or
/// anchor key) designated a key of the set, and which RRSIG proved the
/// set. A trace shows it; the verdict does not depend on it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyProof {
    /// The DS records used (supported, SHA-1 only when nothing better is
    /// there), in the parent's order, each with whether a key of the set
    /// matches it (the key has the DS's key tag).
    pub ds: Vec<(DsId, bool)>,
    /// Key tags of trust-anchor DNSKEYs found in the set.
    pub anchor_keys: Vec<u16>,
    /// The RRSIG over the DNSKEY set, by a DS-matched key, that verified.
    pub signature: Option<Verified>,
}

impl KeyProof {
    /// Key tags of the keys a DS or an anchor designated.
    pub fn entry_keys(&self) -> impl Iterator<Item = u16> + '_ {
        self.ds
            .iter()
            .filter(|(_, matched)| *matched)
            .map(|(ds, _)| ds.key_tag)
            .chain(self.anchor_keys.iter().copied())
    }
}

/// A verdict on a DNSKEY RRset and what led to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCheck {
    /// The verdict.
    pub verdict: KeyVerdict,
    /// What was matched on the way.
    pub proof: KeyProof,
}

/// Validates `zone`'s DNSKEY RRset (`dnskeys`, with their RRSIG records in
/// `rrsigs`) against the parent's DS set `ds_set` and/or DNSKEY trust
/// anchors `anchor_keys`, at time `now`: [`check_dnskeys`] without the
/// proof.
pub fn verify_dnskeys(
    zone: &Name,
    ds_set: &[DS],
    anchor_keys: &[DNSKEY],
    dnskeys: &[Record],
    rrsigs: &[Record],
    now: u32,
    budget: &mut SigBudget,
) -> KeyVerdict {
    check_dnskeys(
        zone,
        ds_set,
        anchor_keys,
        dnskeys,
        rrsigs,
        now,
        budget,
        None,
    )
    .verdict
}

/// Validates `zone`'s DNSKEY RRset (`dnskeys`, with their RRSIG records in
/// `rrsigs`) against the parent's DS set `ds_set` and/or DNSKEY trust
/// anchors `anchor_keys`, at time `now`, and says what matched. `memo`,
/// when given, spares verifying a signature that verified before
/// ([`SigMemo`]).
///
/// - [`KeyVerdict::Insecure`] when none of the DS (and anchors) uses an
///   algorithm and digest implemented here (RFC 6840 §5.2).
/// - Bogus [`BogusReason::DnskeyMissing`] when no DNSKEY matches a usable
///   DS; [`BogusReason::RrsigsMissing`] when no DS-matched key signed the
///   set (a set signed only by its ZSK); else the signature's failure.
#[allow(clippy::too_many_arguments)] // the DS/anchor inputs, the RRset, and the request's state
pub fn check_dnskeys(
    zone: &Name,
    ds_set: &[DS],
    anchor_keys: &[DNSKEY],
    dnskeys: &[Record],
    rrsigs: &[Record],
    now: u32,
    budget: &mut SigBudget,
    memo: Option<&SigMemo>,
) -> KeyCheck {
    let zone = zone.to_lowercase();
    let mut proof = KeyProof::default();
    let mut usable: Vec<&DS> = ds_set
        .iter()
        .take(MAX_DS_RECORDS)
        .filter(|ds| ds_supported(ds))
        .collect();
    if usable.iter().any(|ds| ds.digest_type() != DigestType::SHA1) {
        usable.retain(|ds| ds.digest_type() != DigestType::SHA1);
    }
    let usable_anchors: Vec<&DNSKEY> = anchor_keys
        .iter()
        .filter(|k| k.algorithm().is_supported())
        .collect();
    let done = |verdict, proof| KeyCheck { verdict, proof };
    if usable.is_empty() && usable_anchors.is_empty() {
        if ds_set.is_empty() && anchor_keys.is_empty() {
            return done(
                KeyVerdict::Bogus(BogusReason::DnskeyMissing {
                    problem: format!("no DS or trust anchor for {zone}"),
                }),
                proof,
            );
        }
        return done(KeyVerdict::Insecure, proof);
    }
    let keys: Vec<DNSKEY> = dnskeys
        .iter()
        .filter(|r| r.name == zone)
        .filter_map(as_dnskey)
        .cloned()
        .collect();
    let mut entry: Vec<DNSKEY> = Vec::new();
    for ds in &usable {
        let matching: Vec<&DNSKEY> = keys
            .iter()
            .filter(|k| k.algorithm() == ds.algorithm() && key_tag(k) == Some(ds.key_tag()))
            .take(MAX_KEYS_PER_TAG)
            .filter(|k| ds_matches(&zone, ds, k))
            .collect();
        proof.ds.push((DsId::of(ds), !matching.is_empty()));
        for key in matching {
            if !entry.contains(key) {
                entry.push(key.clone());
            }
        }
    }
    for anchor in usable_anchors {
        if keys.contains(anchor) && !entry.contains(anchor) {
            proof.anchor_keys.extend(key_tag(anchor));
            entry.push(anchor.clone());
        }
    }
    if entry.is_empty() {
        let wanted: Vec<String> = usable.iter().map(|ds| DsId::of(ds).to_string()).collect();
        let have: Vec<String> = keys
            .iter()
            .filter_map(key_tag)
            .map(|t| t.to_string())
            .collect();
        let verdict = KeyVerdict::Bogus(BogusReason::DnskeyMissing {
            problem: format!(
                "no DNSKEY of {zone} matches DS {} (keys served: {})",
                if wanted.is_empty() {
                    "or anchor".to_string()
                } else {
                    wanted.join(", ")
                },
                if have.is_empty() {
                    "none".to_string()
                } else {
                    have.join(", ")
                }
            ),
        });
        return done(verdict, proof);
    }
    let entry_tags: Vec<u16> = entry.iter().filter_map(key_tag).collect();
    let by_entry: Vec<Record> = rrsigs
        .iter()
        .filter(|r| as_rrsig(r).is_some_and(|s| entry_tags.contains(&s.input().key_tag)))
        .cloned()
        .collect();
    let signed = rrsigs
        .iter()
        .filter_map(as_rrsig)
        .filter(|s| s.input().type_covered == RecordType::DNSKEY)
        .map(|s| s.input().key_tag.to_string())
        .collect::<Vec<_>>();
    if !by_entry
        .iter()
        .filter_map(as_rrsig)
        .any(|s| s.input().type_covered == RecordType::DNSKEY)
    {
        let verdict = KeyVerdict::Bogus(BogusReason::RrsigsMissing {
            problem: format!(
                "no RRSIG over the DNSKEY set of {zone} by a DS-matched key {entry_tags:?} (signed by: {})",
                if signed.is_empty() {
                    "none".to_string()
                } else {
                    signed.join(", ")
                }
            ),
        });
        return done(verdict, proof);
    }
    match verify_with(dnskeys, &by_entry, &zone, &entry, now, budget, memo) {
        Ok(verified) => {
            let ttl = verified.ttl;
            proof.signature = Some(verified);
            done(KeyVerdict::Secure(TrustedKeys { zone, keys, ttl }), proof)
        }
        Err(reason) => done(KeyVerdict::Bogus(reason), proof),
    }
}

#[cfg(test)]
mod tests {
    use hickory_proto::dnssec::{Algorithm, PublicKeyBuf};

    use super::*;
    use crate::validate::anchor::TrustAnchors;
    use crate::validate::sig::tests::{NOW, key, keyset, name, sign};

    /// RFC 4034 §5.4: the DNSKEY of `dskey.example.com.` and its DS
    /// (key tag 60485, RSASHA1, SHA-1 digest).
    fn rfc4034_key() -> (Name, DNSKEY, DS) {
        let text = "dskey.example.com. 86400 IN DNSKEY 256 3 5 ( AQOeiiR0GOMYkDshWoSKz9Xz\n\
                fwJr1AYtsmx3TGkJaNXVbfi/\n\
                2pHm822aJ5iI9BMzNXxeYCmZ\n\
                DRD99WYwYqUSdjMmmAphXdvx\n\
                egXd/M5+X7OrzKBaMbCVdFLU\n\
                Uh6DhweJBjEVv5f2wwjM9Xzc\n\
                nOf+EPbtG9DMBmADjFDc2w/r\n\
                ljwvFw== )\n\
            dskey.example.com. 86400 IN DS 60485 5 1 ( 2BB183AF5F22588179A53B0A\n\
                98631FAD1A292118 )\n";
        let owner = name("dskey.example.com.");
        let anchors = TrustAnchors::parse(text, "rfc4034").unwrap();
        let dnskey = anchors.dnskeys_for(&owner).pop().unwrap();
        let ds = anchors.ds_for(&owner).pop().unwrap();
        (owner, dnskey, ds)
    }

    #[test]
    fn rfc4034_key_tag_and_ds_digest() {
        let (owner, key, ds) = rfc4034_key();
        assert_eq!(key_tag(&key), Some(60485));
        assert!(ds.covers(&owner, &key).unwrap());
        assert!(ds_matches(&owner, &ds, &key));
        // RSASHA1 with SHA-1: supported, but the DS's owner matters.
        assert!(ds_supported(&ds));
        assert!(!ds_matches(&name("other.example.com."), &ds, &key));
    }

    fn ds_of(zone: &str, key: &DNSKEY) -> DS {
        DS::from_key(key.public_key(), &name(zone), DigestType::SHA256).unwrap()
    }

    #[test]
    fn ds_matched_ksk_makes_the_set_trusted() {
        let ksk = key("example.", 257, Algorithm::ECDSAP256SHA256);
        let zsk = key("example.", 256, Algorithm::ECDSAP256SHA256);
        let set = keyset("example.", &[&ksk, &zsk]);
        let sig = sign(&set, &ksk, NOW - 60);
        let ds = ds_of("example.", &ksk.dnskey);
        let verdict = verify_dnskeys(
            &name("example."),
            &[ds],
            &[],
            &set,
            std::slice::from_ref(&sig),
            NOW,
            &mut SigBudget::default(),
        );
        let KeyVerdict::Secure(keys) = verdict else {
            panic!("{verdict:?}")
        };
        assert_eq!(keys.keys().len(), 2);
        assert_eq!(keys.zone(), &name("example."));
        // What matched: the DS to the KSK, whose RRSIG proved the set; a
        // DS left over from a retired key matches nothing.
        let ksk_tag = key_tag(&ksk.dnskey).unwrap();
        let retired = key("example.", 257, Algorithm::ECDSAP256SHA256);
        let check = check_dnskeys(
            &name("example."),
            &[
                ds_of("example.", &ksk.dnskey),
                ds_of("example.", &retired.dnskey),
            ],
            &[],
            &set,
            std::slice::from_ref(&sig),
            NOW,
            &mut SigBudget::default(),
            None,
        );
        assert!(matches!(check.verdict, KeyVerdict::Secure(_)));
        let ds: Vec<(u16, bool)> = check
            .proof
            .ds
            .iter()
            .map(|(d, m)| (d.key_tag, *m))
            .collect();
        assert_eq!(
            ds,
            [(ksk_tag, true), (key_tag(&retired.dnskey).unwrap(), false)]
        );
        assert_eq!(check.proof.ds[0].0.to_string(), format!("{ksk_tag}/13/2"));
        let signature = check.proof.signature.as_ref().unwrap();
        assert_eq!(signature.key_tag, ksk_tag);
        assert_eq!(signature.algorithm, Algorithm::ECDSAP256SHA256);
        // A DNSKEY anchor does the same job as a DS.
        let verdict = verify_dnskeys(
            &name("example."),
            &[],
            std::slice::from_ref(&ksk.dnskey),
            &set,
            &[sig],
            NOW,
            &mut SigBudget::default(),
        );
        assert!(matches!(verdict, KeyVerdict::Secure(_)));
    }

    #[test]
    fn ds_mismatch_is_dnskey_missing() {
        let ksk = key("example.", 257, Algorithm::ED25519);
        let zsk = key("example.", 256, Algorithm::ED25519);
        let other = key("example.", 257, Algorithm::ED25519);
        let set = keyset("example.", &[&ksk, &zsk]);
        let sig = sign(&set, &ksk, NOW - 60);
        let ds = ds_of("example.", &other.dnskey);
        let check = check_dnskeys(
            &name("example."),
            &[ds],
            &[],
            &set,
            &[sig],
            NOW,
            &mut SigBudget::default(),
            None,
        );
        let KeyVerdict::Bogus(reason) = check.verdict else {
            panic!("{:?}", check.verdict)
        };
        assert_eq!(reason.ede_code(), 9, "{reason}");
        // The DS was used and matched nothing; no signature proved the set.
        assert_eq!(check.proof.ds.len(), 1);
        assert!(!check.proof.ds[0].1);
        assert_eq!(check.proof.signature, None);
    }

    #[test]
    fn set_signed_only_by_the_zsk_is_rrsigs_missing() {
        let ksk = key("example.", 257, Algorithm::ECDSAP256SHA256);
        let zsk = key("example.", 256, Algorithm::ECDSAP256SHA256);
        let set = keyset("example.", &[&ksk, &zsk]);
        let sig = sign(&set, &zsk, NOW - 60);
        let ds = ds_of("example.", &ksk.dnskey);
        let verdict = verify_dnskeys(
            &name("example."),
            &[ds],
            &[],
            &set,
            &[sig],
            NOW,
            &mut SigBudget::default(),
        );
        let KeyVerdict::Bogus(reason) = verdict else {
            panic!("{verdict:?}")
        };
        assert_eq!(reason.ede_code(), 10, "{reason}");
    }

    #[test]
    fn unsupported_algorithm_or_digest_is_insecure() {
        let ksk = key("example.", 257, Algorithm::ECDSAP256SHA256);
        let set = keyset("example.", &[&ksk]);
        let sig = sign(&set, &ksk, NOW - 60);
        let good = ds_of("example.", &ksk.dnskey);
        let unknown_digest = DS::new(
            good.key_tag(),
            good.algorithm(),
            DigestType::Unknown(200),
            good.digest().to_vec(),
        );
        let ed448 = DS::new(1, Algorithm::Unknown(16), DigestType::SHA256, vec![0; 32]);
        for ds in [unknown_digest, ed448] {
            let verdict = verify_dnskeys(
                &name("example."),
                &[ds],
                &[],
                &set,
                std::slice::from_ref(&sig),
                NOW,
                &mut SigBudget::default(),
            );
            assert_eq!(verdict, KeyVerdict::Insecure);
        }
        let anchor = DNSKEY::with_flags(
            257,
            PublicKeyBuf::new(vec![1, 2, 3], Algorithm::Unknown(16)),
        );
        let verdict = verify_dnskeys(
            &name("example."),
            &[],
            &[anchor],
            &set,
            &[sig],
            NOW,
            &mut SigBudget::default(),
        );
        assert_eq!(verdict.security(), Security::Insecure);
    }
}
