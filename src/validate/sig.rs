//! One RRset against its RRSIGs with a trusted key set (RFC 4035 §5.3):
//! the checks of §5.3.1 that hickory's `Verifier::verify_rrsig` leaves to
//! us (type covered, signer name = the zone, labels, validity window, key
//! tag, algorithm, Zone Key bit), then the signature itself, then the TTL
//! of the validated data (§5.3.3). Unbound's `val_sigcrypt.c` does the
//! same job.
//!
//! Limits: at most [`MAX_RRSIGS_PER_RRSET`] RRSIGs and
//! [`MAX_KEYS_PER_TAG`] keys per RRSIG are tried, every verification is
//! paid from the request's [`SigBudget`]; revoked keys (RFC 5011 §2.1) are
//! never used; only class IN.
//!
//! With a [`SigMemo`] ([`verify_rrset_memo`]), a signature whose exact
//! bytes verified before is not verified again with cryptography; every
//! check above still runs, and the verification is still paid from the
//! budget, so what a request may do and what it concludes never depend on
//! what earlier requests left in the memo.

use hickory_proto::dnssec::rdata::{DNSKEY, RRSIG};
use hickory_proto::dnssec::{Algorithm, TBS, Verifier};
use hickory_proto::rr::{DNSClass, Name, Record, RecordType};

use super::keys::{TrustedKeys, key_tag};
use super::memo::SigMemo;
use super::{
    BogusReason, MAX_KEYS_PER_TAG, MAX_RRSIGS_PER_RRSET, SigBudget, as_rrsig, serial_before,
};

/// A validated RRset: which key proved it (the RRSIG's key tag, algorithm
/// and window: what a trace shows), until when, and whether it was
/// synthesised from a wildcard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The TTL the validated RRset may be kept for: the minimum of its
    /// TTLs, the RRSIG's TTL and original TTL, and the time left before
    /// the signature expires (RFC 4035 §5.3.3).
    pub ttl: u32,
    /// Key tag of the key whose signature verified.
    pub key_tag: u16,
    /// The RRSIG's algorithm (the key's).
    pub algorithm: Algorithm,
    /// The RRSIG's inception (seconds since the epoch).
    pub inception: u32,
    /// The RRSIG's expiration.
    pub expiration: u32,
    /// For an RRset expanded from a wildcard (RRSIG labels < owner labels,
    /// RFC 4035 §5.3.4): the wildcard it came from, e.g. `*.example.`.
    /// The caller must then prove that no closer name exists
    /// ([`super::nsec::prove_wildcard`], [`super::nsec3::prove_wildcard`]).
    pub wildcard: Option<Name>,
}

/// The checks of RFC 4035 §5.3.1 on one RRSIG for the RRset
/// `owner`/`rtype` in `zone`, at time `now`, before any cryptography.
pub fn check_rrsig(
    rrsig: &RRSIG,
    owner: &Name,
    rtype: RecordType,
    zone: &Name,
    now: u32,
) -> Result<(), BogusReason> {
    let input = rrsig.input();
    let key_tag = input.key_tag;
    let mismatch = |problem| BogusReason::RrsigMismatch { key_tag, problem };
    if input.type_covered != rtype {
        return Err(mismatch("type covered is not the RRset's type"));
    }
    if input.signer_name != *zone {
        return Err(mismatch("signer name is not the zone's name"));
    }
    if !zone.zone_of(owner) {
        return Err(mismatch("owner name is outside the signer's zone"));
    }
    if input.num_labels > owner.num_labels() {
        return Err(mismatch("labels field exceeds the owner's labels"));
    }
    let expiration = input.sig_expiration.get();
    let inception = input.sig_inception.get();
    if serial_before(expiration, now) {
        return Err(BogusReason::SignatureExpired {
            key_tag,
            expiration,
            now,
        });
    }
    if serial_before(now, inception) {
        return Err(BogusReason::SignatureNotYetValid {
            key_tag,
            inception,
            now,
        });
    }
    Ok(())
}

/// Validates the RRset `records` (one owner, one type; others are
/// ignored) with the RRSIG records `rrsigs` and the zone's trusted keys.
/// `Err` says why no RRSIG proved it: the most telling failure among
/// those tried (a bad signature over an expired one over a missing key).
pub fn verify_rrset(
    records: &[Record],
    rrsigs: &[Record],
    keys: &TrustedKeys,
    now: u32,
    budget: &mut SigBudget,
) -> Result<Verified, BogusReason> {
    verify_with(records, rrsigs, keys.zone(), keys.keys(), now, budget, None)
}

/// [`verify_rrset`], asking `memo` (when given) before verifying a
/// signature with cryptography and remembering the ones that verify. The
/// verdict is the same as without it.
pub fn verify_rrset_memo(
    records: &[Record],
    rrsigs: &[Record],
    keys: &TrustedKeys,
    now: u32,
    budget: &mut SigBudget,
    memo: Option<&SigMemo>,
) -> Result<Verified, BogusReason> {
    verify_with(records, rrsigs, keys.zone(), keys.keys(), now, budget, memo)
}

/// [`verify_rrset_memo`] with an explicit zone and key list (the DNSKEY
/// set's own check uses only the DS-matched keys).
pub(crate) fn verify_with(
    records: &[Record],
    rrsigs: &[Record],
    zone: &Name,
    keys: &[DNSKEY],
    now: u32,
    budget: &mut SigBudget,
    memo: Option<&SigMemo>,
) -> Result<Verified, BogusReason> {
    let Some(first) = records.first() else {
        return Err(BogusReason::RrsigsMissing {
            problem: "empty RRset".to_string(),
        });
    };
    let owner = &first.name;
    let rtype = first.record_type();
    let rrset: Vec<&Record> = records
        .iter()
        .filter(|r| r.name == *owner && r.record_type() == rtype && r.dns_class == DNSClass::IN)
        .collect();
    let candidates: Vec<(&Record, &RRSIG)> = rrsigs
        .iter()
        .filter(|r| r.name == *owner)
        .filter_map(|r| as_rrsig(r).map(|sig| (r, sig)))
        .filter(|(_, sig)| sig.input().type_covered == rtype)
        .take(MAX_RRSIGS_PER_RRSET)
        .collect();
    if candidates.is_empty() {
        return Err(BogusReason::RrsigsMissing {
            problem: format!("no RRSIG over {owner} {rtype}"),
        });
    }
    let mut worst: Option<(u8, BogusReason)> = None;
    let mut keep = |reason: BogusReason| {
        let rank = rank(&reason);
        if worst.as_ref().is_none_or(|(r, _)| rank > *r) {
            worst = Some((rank, reason));
        }
    };
    for (record, rrsig) in candidates {
        if let Err(reason) = check_rrsig(rrsig, owner, rtype, zone, now) {
            keep(reason);
            continue;
        }
        let input = rrsig.input();
        let tagged: Vec<&DNSKEY> = keys
            .iter()
            .filter(|k| k.algorithm() == input.algorithm && key_tag(k) == Some(input.key_tag))
            .filter(|k| !k.revoke())
            .take(MAX_KEYS_PER_TAG)
            .collect();
        if tagged.is_empty() {
            keep(BogusReason::DnskeyMissing {
                problem: format!(
                    "no trusted DNSKEY of {zone} with key tag {} and algorithm {}",
                    input.key_tag, input.algorithm
                ),
            });
            continue;
        }
        for key in tagged {
            if !key.zone_key() {
                keep(BogusReason::NoZoneKeyBit {
                    key_tag: input.key_tag,
                });
                continue;
            }
            // A memo hit is paid like a verification: the budget bounds
            // the lookups too, and a request's verdict cannot depend on
            // the memo's contents.
            budget.spend()?;
            if signature_verifies(key, owner, rrsig, &rrset, memo) {
                return Ok(verified(&rrset, record, rrsig, owner, now));
            }
            keep(BogusReason::SignatureInvalid {
                key_tag: input.key_tag,
            });
        }
    }
    Err(worst
        .map(|(_, reason)| reason)
        .unwrap_or(BogusReason::RrsigsMissing {
            problem: format!("no usable RRSIG over {owner} {rtype}"),
        }))
}

/// Whether `rrsig` over `rrset` verifies with `key`: the signed data is
/// built as RFC 4034 §3.1.8.1 says (as hickory's `verify_rrsig` builds
/// it), then checked by `memo` when there is one, else with cryptography.
fn signature_verifies(
    key: &DNSKEY,
    owner: &Name,
    rrsig: &RRSIG,
    rrset: &[&Record],
    memo: Option<&SigMemo>,
) -> bool {
    let Ok(signed) = TBS::from_input(owner, DNSClass::IN, rrsig.input(), rrset.iter().copied())
    else {
        return false;
    };
    match memo {
        Some(memo) => memo.verify(key, signed.as_ref(), rrsig.sig()),
        None => key.verify(signed.as_ref(), rrsig.sig()).is_ok(),
    }
}

/// How far an RRSIG got before failing: the furthest is reported.
fn rank(reason: &BogusReason) -> u8 {
    match reason {
        BogusReason::RrsigsMissing { .. }
        | BogusReason::NsecMissing { .. }
        | BogusReason::CachedBogus { .. } => 0,
        BogusReason::RrsigMismatch { .. } => 1,
        BogusReason::SignatureExpired { .. } | BogusReason::SignatureNotYetValid { .. } => 2,
        BogusReason::DnskeyMissing { .. } => 3,
        BogusReason::NoZoneKeyBit { .. } => 4,
        BogusReason::SignatureInvalid { .. } | BogusReason::BudgetSpent { .. } => 5,
    }
}

fn verified(rrset: &[&Record], record: &Record, rrsig: &RRSIG, owner: &Name, now: u32) -> Verified {
    let input = rrsig.input();
    let expiration = input.sig_expiration.get();
    let left = expiration.wrapping_sub(now);
    let ttl = rrset
        .iter()
        .map(|r| r.ttl)
        .chain([record.ttl, input.original_ttl, left])
        .min()
        .unwrap_or(0);
    let wildcard = (input.num_labels < owner.num_labels())
        .then(|| {
            owner
                .trim_to(usize::from(input.num_labels))
                .prepend_label("*")
                .ok()
        })
        .flatten();
    Verified {
        ttl,
        key_tag: input.key_tag,
        algorithm: input.algorithm,
        inception: input.sig_inception.get(),
        expiration,
        wildcard,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::str::FromStr;
    use std::time::Duration;

    use hickory_proto::dnssec::crypto::{EcdsaSigningKey, Ed25519SigningKey};
    use hickory_proto::dnssec::rdata::DS;
    use hickory_proto::dnssec::{Algorithm, DigestType, DnssecSigner, SigningKey};
    use hickory_proto::rr::rdata::A;
    use hickory_proto::rr::{RData, RecordSet};
    use time::OffsetDateTime;

    use super::*;
    use crate::validate::keys::{KeyVerdict, verify_dnskeys};

    pub(crate) const NOW: u32 = 1_750_000_000;

    pub(crate) fn name(s: &str) -> Name {
        Name::from_str(s).unwrap()
    }

    /// A zone's key: its DNSKEY and a signer.
    pub(crate) struct TestKey {
        pub dnskey: DNSKEY,
        pub signer: DnssecSigner,
    }

    pub(crate) fn key(zone: &str, flags: u16, algorithm: Algorithm) -> TestKey {
        let signing: Box<dyn SigningKey> = match algorithm {
            Algorithm::ED25519 => {
                let pkcs8 = Ed25519SigningKey::generate_pkcs8().unwrap();
                Box::new(Ed25519SigningKey::from_pkcs8(&pkcs8).unwrap())
            }
            _ => {
                let pkcs8 = EcdsaSigningKey::generate_pkcs8(algorithm).unwrap();
                Box::new(EcdsaSigningKey::from_pkcs8(&pkcs8, algorithm).unwrap())
            }
        };
        let dnskey = DNSKEY::with_flags(flags, signing.to_public_key().unwrap());
        let signer = DnssecSigner::new(
            dnskey.clone(),
            signing,
            name(zone),
            Duration::from_secs(7 * 86_400),
        );
        TestKey { dnskey, signer }
    }

    /// RRSIG records over `records` by `key`, incepted at `inception`.
    pub(crate) fn sign(records: &[Record], key: &TestKey, inception: u32) -> Record {
        let first = &records[0];
        let mut set = RecordSet::new(first.name.clone(), first.record_type(), 0);
        for r in records {
            set.insert(r.clone(), 0);
        }
        let at = OffsetDateTime::from_unix_timestamp(i64::from(inception)).unwrap();
        let rrsig = RRSIG::from_rrset(&set, DNSClass::IN, at, &key.signer).unwrap();
        Record::from_rdata(
            first.name.clone(),
            first.ttl,
            RData::DNSSEC(hickory_proto::dnssec::rdata::DNSSECRData::RRSIG(rrsig)),
        )
    }

    pub(crate) fn keyset(zone: &str, keys: &[&TestKey]) -> Vec<Record> {
        keys.iter()
            .map(|k| Record::from_rdata(name(zone), 3600, RData::from(k.dnskey.clone())))
            .collect()
    }

    fn www() -> Vec<Record> {
        vec![Record::from_rdata(
            name("www.example."),
            300,
            RData::A(A::new(192, 0, 2, 1)),
        )]
    }

    /// KSK and ZSK of `example.`, the DNSKEY set signed by the KSK, and
    /// the trusted key set it yields.
    fn zone(algorithm: Algorithm) -> (TestKey, TestKey, TrustedKeys) {
        let ksk = key("example.", 257, algorithm);
        let zsk = key("example.", 256, algorithm);
        let set = keyset("example.", &[&ksk, &zsk]);
        let sig = sign(&set, &ksk, NOW - 3600);
        let ds = DS::from_key(
            ksk.dnskey.public_key(),
            &name("example."),
            DigestType::SHA256,
        )
        .unwrap();
        let mut budget = SigBudget::default();
        let verdict = verify_dnskeys(
            &name("example."),
            &[ds],
            &[],
            &set,
            &[sig],
            NOW,
            &mut budget,
        );
        let KeyVerdict::Secure(keys) = verdict else {
            panic!("{verdict:?}");
        };
        (ksk, zsk, keys)
    }

    #[test]
    fn signed_rrset_is_secure_with_ecdsa_and_ed25519() {
        for algorithm in [Algorithm::ECDSAP256SHA256, Algorithm::ED25519] {
            let (_, zsk, keys) = zone(algorithm);
            let sig = sign(&www(), &zsk, NOW - 60);
            let mut budget = SigBudget::default();
            let ok = verify_rrset(&www(), &[sig], &keys, NOW, &mut budget).unwrap();
            assert_eq!(ok.key_tag, zsk.dnskey.calculate_key_tag().unwrap());
            assert_eq!(ok.ttl, 300);
            assert_eq!(ok.wildcard, None);
            assert_eq!(
                budget.remaining(),
                crate::validate::MAX_SIG_VERIFICATIONS - 1
            );
        }
    }

    #[test]
    fn ttl_is_clamped_to_the_time_before_expiry() {
        let (_, zsk, keys) = zone(Algorithm::ECDSAP256SHA256);
        // Signed 7 days minus 100 s ago, for 7 days: 100 s left.
        let sig = sign(&www(), &zsk, NOW - 7 * 86_400 + 100);
        let ok = verify_rrset(&www(), &[sig], &keys, NOW, &mut SigBudget::default()).unwrap();
        assert_eq!(ok.ttl, 100);
    }

    #[test]
    fn corrupted_signature_is_bogus() {
        let (_, zsk, keys) = zone(Algorithm::ECDSAP256SHA256);
        let sig = sign(&www(), &zsk, NOW - 60);
        let rrsig = as_rrsig(&sig).unwrap();
        let mut bytes = rrsig.sig().to_vec();
        bytes[10] ^= 0xff;
        let bad = RRSIG::from_sig(rrsig.input().clone(), bytes);
        let bad = Record::from_rdata(
            sig.name.clone(),
            sig.ttl,
            RData::DNSSEC(hickory_proto::dnssec::rdata::DNSSECRData::RRSIG(bad)),
        );
        let err = verify_rrset(&www(), &[bad], &keys, NOW, &mut SigBudget::default()).unwrap_err();
        assert!(matches!(err, BogusReason::SignatureInvalid { .. }), "{err}");
        assert_eq!(err.ede_code(), 6);
        // Other data under a good signature fails the same way.
        let mut other = www();
        other[0].data = RData::A(A::new(192, 0, 2, 66));
        let err = verify_rrset(&other, &[sig], &keys, NOW, &mut SigBudget::default()).unwrap_err();
        assert_eq!(err.ede_code(), 6);
    }

    #[test]
    fn validity_window_is_checked() {
        let (_, zsk, keys) = zone(Algorithm::ED25519);
        let old = sign(&www(), &zsk, NOW - 30 * 86_400);
        let err = verify_rrset(&www(), &[old], &keys, NOW, &mut SigBudget::default()).unwrap_err();
        assert!(matches!(err, BogusReason::SignatureExpired { .. }), "{err}");
        assert_eq!(err.ede_code(), 7);
        let future = sign(&www(), &zsk, NOW + 86_400);
        let err =
            verify_rrset(&www(), &[future], &keys, NOW, &mut SigBudget::default()).unwrap_err();
        assert_eq!(err.ede_code(), 8);
        // An expired and a good one: the good one wins.
        let old = sign(&www(), &zsk, NOW - 30 * 86_400);
        let good = sign(&www(), &zsk, NOW - 60);
        assert!(verify_rrset(&www(), &[old, good], &keys, NOW, &mut SigBudget::default()).is_ok());
    }

    #[test]
    fn wrong_key_tag_signer_or_type_is_bogus() {
        let (_, zsk, keys) = zone(Algorithm::ECDSAP256SHA256);
        let stranger = key("example.", 256, Algorithm::ECDSAP256SHA256);
        let sig = sign(&www(), &stranger, NOW - 60);
        let err = verify_rrset(&www(), &[sig], &keys, NOW, &mut SigBudget::default()).unwrap_err();
        assert_eq!(err.ede_code(), 9, "{err}");
        let other_zone = key("other.", 256, Algorithm::ECDSAP256SHA256);
        let sig = sign(&www(), &other_zone, NOW - 60);
        let err = verify_rrset(&www(), &[sig], &keys, NOW, &mut SigBudget::default()).unwrap_err();
        assert!(matches!(err, BogusReason::RrsigMismatch { .. }), "{err}");
        let err = verify_rrset(&www(), &[], &keys, NOW, &mut SigBudget::default()).unwrap_err();
        assert_eq!(err.ede_code(), 10);
        let sig = sign(&www(), &zsk, NOW - 60);
        let rrsig = as_rrsig(&sig).unwrap();
        assert!(
            check_rrsig(
                rrsig,
                &name("www.example."),
                RecordType::AAAA,
                &name("example."),
                NOW
            )
            .is_err()
        );
    }

    #[test]
    fn key_without_zone_bit_is_refused() {
        let ksk = key("example.", 257, Algorithm::ED25519);
        let plain = key("example.", 0, Algorithm::ED25519);
        let keys = TrustedKeys::new(
            name("example."),
            vec![ksk.dnskey.clone(), plain.dnskey.clone()],
            3600,
        );
        let sig = sign(&www(), &plain, NOW - 60);
        let err = verify_rrset(&www(), &[sig], &keys, NOW, &mut SigBudget::default()).unwrap_err();
        assert_eq!(err.ede_code(), 11, "{err}");
    }

    #[test]
    fn wildcard_expansion_is_reported() {
        let (_, zsk, keys) = zone(Algorithm::ECDSAP256SHA256);
        let source = vec![Record::from_rdata(
            name("*.wild.example."),
            300,
            RData::A(A::new(192, 0, 2, 80)),
        )];
        let sig = sign(&source, &zsk, NOW - 60);
        let mut expanded = source.clone();
        expanded[0].name = name("a.b.wild.example.");
        let mut sig = sig;
        sig.name = name("a.b.wild.example.");
        let ok = verify_rrset(&expanded, &[sig], &keys, NOW, &mut SigBudget::default()).unwrap();
        assert_eq!(ok.wildcard, Some(name("*.wild.example.")));
    }

    #[test]
    fn budget_stops_verification() {
        let (_, zsk, keys) = zone(Algorithm::ECDSAP256SHA256);
        let sig = sign(&www(), &zsk, NOW - 60);
        let mut budget = SigBudget::new(0);
        let err = verify_rrset(&www(), &[sig], &keys, NOW, &mut budget).unwrap_err();
        assert!(matches!(err, BogusReason::BudgetSpent { .. }));
    }
}
