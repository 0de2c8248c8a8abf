//! A bounded memo of signatures that verified, so that the same RRset,
//! signed by the same RRSIG and checked with the same key, is not checked
//! again with cryptography while the memo holds it.
//!
//! Why: under a signed wildcard every miss brings the same NSEC RRset (the
//! gap the wildcard proof needs) with the same RRSIG, and the expanded
//! answer's signed data names the wildcard, not the query name (RFC 4035
//! §5.3.2), so it is the same on every miss too. Re-verifying them is most
//! of a validating miss's CPU. Unbound avoids it by keeping the security
//! status in its RRset cache; this memo does the same job at the one place
//! every verification passes through, and nothing else.
//!
//! What it may skip, and what never: a hit skips only the public-key
//! operation. Every check of RFC 4035 §5.3.1 (validity window against the
//! time now, signer, labels, type covered, key tag and algorithm, revoked
//! keys, the Zone Key bit) runs before the memo is asked, each time
//! ([`super::sig::check_rrsig`] and `verify_with`).
//!
//! Soundness: an entry holds the full bytes a verification depends on —
//! the key's algorithm and public key, the signature, and the signed data
//! (the RRSIG RDATA without its signature, then the canonical RRset, RFC
//! 4034 §3.1.8.1) — and a hit needs every byte to be equal. The hash only
//! finds the bucket: a hash collision can never turn a forged signature
//! into a valid one. Only successes are kept: failures are rare and cheap
//! to recompute, and remembering them would let an attacker pin a verdict.
//!
//! Bounded in bytes ([`SIG_MEMO_BYTES`] by default): every entry is
//! charged its heap cost as the caches charge theirs
//! ([`crate::cache::entry_charge`]), and the least recently used entries
//! are evicted to stay within the bound. One `Mutex`, held only for one
//! lookup or one store, never across the cryptography.

use std::collections::hash_map::RandomState;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use hickory_proto::dnssec::rdata::DNSKEY;
use hickory_proto::dnssec::{PublicKey, Verifier};
use lru::LruCache;

use crate::cache::{HeapSize, entry_charge};

/// Bytes the signature memo may hold by default: 4 MiB. An entry for a
/// P-256 or Ed25519 signature over a small RRset costs about 400 bytes,
/// so this holds some ten thousand distinct signatures: every NSEC gap
/// and wildcard a busy resolver keeps being sent, many times over. A
/// signature over a large RRset (a root DNSKEY set with RSA keys) costs
/// a few KB and is rare.
pub const SIG_MEMO_BYTES: usize = 4 << 20;

/// What the memo holds and has done, for tests and statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SigMemoStats {
    /// Verifications answered by the memo, with no cryptography.
    pub hits: u64,
    /// Verifications that ran the cryptography (successful or not).
    pub verifications: u64,
    /// Signatures held now.
    pub entries: usize,
    /// Bytes they are charged.
    pub bytes: usize,
}

/// The memo of verified signatures, shared by every resolution of a
/// resolver (`&self`, `Send + Sync`).
pub struct SigMemo {
    held: Mutex<Held>,
    hits: AtomicU64,
    verifications: AtomicU64,
}

/// The entries and the bytes they are charged, kept at most `budget`.
struct Held {
    map: LruCache<Box<[u8]>, Verified, RandomState>,
    bytes: usize,
    budget: usize,
}

/// The value of an entry: the key's bytes say everything, its presence
/// says the signature verified.
struct Verified;

impl HeapSize for Verified {
    fn heap_size(&self) -> usize {
        0
    }
}

impl Default for SigMemo {
    /// A memo of [`SIG_MEMO_BYTES`].
    fn default() -> Self {
        Self::new(SIG_MEMO_BYTES)
    }
}

impl SigMemo {
    /// A memo holding at most `budget` bytes of entries (0 holds nothing
    /// and verifies everything).
    pub fn new(budget: usize) -> Self {
        Self {
            held: Mutex::new(Held {
                map: LruCache::unbounded_with_hasher(RandomState::new()),
                bytes: 0,
                budget,
            }),
            hits: AtomicU64::new(0),
            verifications: AtomicU64::new(0),
        }
    }

    /// Whether `signature` over `signed` verifies with `key`: from the memo
    /// when these exact bytes verified before, else with cryptography,
    /// remembering a success. `signed` is the data the RRSIG signs (RFC
    /// 4034 §3.1.8.1), the caller having done every other check.
    pub fn verify(&self, key: &DNSKEY, signed: &[u8], signature: &[u8]) -> bool {
        let entry = entry(key, signed, signature);
        if let Some(entry) = &entry
            && self.lookup(entry)
        {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return true;
        }
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let valid = key.verify(signed, signature).is_ok();
        if valid && let Some(entry) = entry {
            self.store(entry);
        }
        valid
    }

    /// What the memo holds and has done.
    pub fn stats(&self) -> SigMemoStats {
        let held = self.lock();
        SigMemoStats {
            hits: self.hits.load(Ordering::Relaxed),
            verifications: self.verifications.load(Ordering::Relaxed),
            entries: held.map.len(),
            bytes: held.bytes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `entry` is held (comparing every byte), made the most
    /// recently used if so.
    fn lookup(&self, entry: &[u8]) -> bool {
        self.lock().map.get(entry).is_some()
    }

    /// Keeps `entry`, evicting the least recently used entries until it
    /// fits; an entry larger than the whole budget is not kept.
    fn store(&self, entry: Box<[u8]>) {
        let charge = entry_charge(&entry, &Verified);
        let mut held = self.lock();
        if charge > held.budget || held.map.contains(&entry) {
            return;
        }
        while held.bytes + charge > held.budget {
            let Some((old, value)) = held.map.pop_lru() else {
                break;
            };
            held.bytes -= entry_charge(&old, &value);
        }
        held.bytes += charge;
        held.map.push(entry, Verified);
    }
}

/// The bytes one verification depends on, laid out so that different
/// inputs can never give equal bytes: the algorithm (one byte), the public
/// key and the signature (each after its two-byte length), then the signed
/// data to the end. `None` when a length does not fit two bytes (no RDATA
/// can be that long); such a verification is not remembered.
fn entry(key: &DNSKEY, signed: &[u8], signature: &[u8]) -> Option<Box<[u8]>> {
    let public = key.public_key();
    let public_bytes = public.public_bytes();
    let key_len = u16::try_from(public_bytes.len()).ok()?;
    let sig_len = u16::try_from(signature.len()).ok()?;
    let mut bytes = Vec::with_capacity(5 + public_bytes.len() + signature.len() + signed.len());
    bytes.push(u8::from(public.algorithm()));
    bytes.extend_from_slice(&key_len.to_be_bytes());
    bytes.extend_from_slice(public_bytes);
    bytes.extend_from_slice(&sig_len.to_be_bytes());
    bytes.extend_from_slice(signature);
    bytes.extend_from_slice(signed);
    Some(bytes.into_boxed_slice())
}

#[cfg(test)]
mod tests {
    use hickory_proto::dnssec::rdata::{DNSSECRData, RRSIG};
    use hickory_proto::dnssec::{Algorithm, PublicKeyBuf};
    use hickory_proto::rr::rdata::A;
    use hickory_proto::rr::{RData, Record};

    use super::*;
    use crate::validate::keys::TrustedKeys;
    use crate::validate::sig::tests::{NOW, TestKey, key, name, sign};
    use crate::validate::sig::verify_rrset_memo;
    use crate::validate::{BogusReason, SigBudget, as_rrsig};

    fn a(owner: &str, last: u8) -> Vec<Record> {
        vec![Record::from_rdata(
            name(owner),
            300,
            RData::A(A::new(192, 0, 2, last)),
        )]
    }

    fn zsk() -> (TestKey, TrustedKeys) {
        let zsk = key("example.", 256, Algorithm::ECDSAP256SHA256);
        let keys = TrustedKeys::new(name("example."), vec![zsk.dnskey.clone()], 3600);
        (zsk, keys)
    }

    /// The signed data and signature of `rrsig` over `rrset`, as the
    /// verifier is given them.
    fn signed(rrset: &[Record], rrsig: &Record) -> (Vec<u8>, Vec<u8>) {
        let sig = as_rrsig(rrsig).unwrap();
        let tbs = hickory_proto::dnssec::TBS::from_input(
            &rrset[0].name,
            hickory_proto::rr::DNSClass::IN,
            sig.input(),
            rrset.iter(),
        )
        .unwrap();
        (tbs.as_ref().to_vec(), sig.sig().to_vec())
    }

    fn verify(
        memo: &SigMemo,
        rrset: &[Record],
        sig: &Record,
        keys: &TrustedKeys,
        now: u32,
    ) -> Result<(), BogusReason> {
        let sigs = std::slice::from_ref(sig);
        verify_rrset_memo(
            rrset,
            sigs,
            keys,
            now,
            &mut SigBudget::default(),
            Some(memo),
        )
        .map(|_| ())
    }

    #[test]
    fn a_verified_signature_is_served_from_the_memo_the_second_time() {
        let (zsk, keys) = zsk();
        let www = a("www.example.", 1);
        let sig = sign(&www, &zsk, NOW - 60);
        let memo = SigMemo::default();
        let mut budget = SigBudget::default();
        for _ in 0..3 {
            let sigs = std::slice::from_ref(&sig);
            verify_rrset_memo(&www, sigs, &keys, NOW, &mut budget, Some(&memo)).unwrap();
        }
        let stats = memo.stats();
        assert_eq!((stats.verifications, stats.hits), (1, 2));
        assert_eq!(stats.entries, 1);
        // Hits are paid from the budget like verifications.
        assert_eq!(
            budget.remaining(),
            crate::validate::MAX_SIG_VERIFICATIONS - 3
        );
    }

    #[test]
    fn other_data_another_signature_or_another_key_misses() {
        let (zsk, keys) = zsk();
        let www = a("www.example.", 1);
        let sig = sign(&www, &zsk, NOW - 60);
        let memo = SigMemo::default();
        verify(&memo, &www, &sig, &keys, NOW).unwrap();
        // One RDATA byte changed under the same signature: verified, and bogus.
        let other = a("www.example.", 2);
        let err = verify(&memo, &other, &sig, &keys, NOW).unwrap_err();
        assert!(matches!(err, BogusReason::SignatureInvalid { .. }), "{err}");
        assert_eq!(memo.stats().verifications, 2);
        // Another owner name: another signed data.
        let mut moved = www.clone();
        moved[0].name = name("ftp.example.");
        let mut moved_sig = sig.clone();
        moved_sig.name = name("ftp.example.");
        assert!(verify(&memo, &moved, &moved_sig, &keys, NOW).is_err());
        assert_eq!(memo.stats().verifications, 3);
        // A corrupted signature over the same data misses, and fails.
        let rrsig = as_rrsig(&sig).unwrap();
        let mut bytes = rrsig.sig().to_vec();
        bytes[10] ^= 0xff;
        let bad = Record::from_rdata(
            sig.name.clone(),
            sig.ttl,
            RData::DNSSEC(DNSSECRData::RRSIG(RRSIG::from_sig(
                rrsig.input().clone(),
                bytes,
            ))),
        );
        assert!(verify(&memo, &www, &bad, &keys, NOW).is_err());
        assert_eq!(memo.stats().verifications, 4);
        // Another valid RRSIG (another inception) is verified once itself.
        let fresh = sign(&www, &zsk, NOW - 30);
        verify(&memo, &www, &fresh, &keys, NOW).unwrap();
        verify(&memo, &www, &fresh, &keys, NOW).unwrap();
        assert_eq!(memo.stats().verifications, 5);
        // Another key, with the same bytes as the good one but another
        // algorithm, or other bytes: both verified, both refused.
        let (data, signature) = signed(&www, &sig);
        assert!(memo.verify(&zsk.dnskey, &data, &signature));
        let hits = memo.stats().hits;
        let bytes = zsk.dnskey.public_key().public_bytes().to_vec();
        let p384 = DNSKEY::new(
            true,
            false,
            false,
            PublicKeyBuf::new(bytes, Algorithm::ECDSAP384SHA384),
        );
        assert!(!memo.verify(&p384, &data, &signature));
        let (stranger, _) = self::zsk();
        assert!(!memo.verify(&stranger.dnskey, &data, &signature));
        let stats = memo.stats();
        assert_eq!((stats.hits, stats.verifications), (hits, 7));
        // Failures are not remembered.
        assert_eq!(stats.entries, 2);
    }

    #[test]
    fn a_remembered_signature_still_expires() {
        let (zsk, keys) = zsk();
        let www = a("www.example.", 1);
        // Valid for 7 days from now - 60 s.
        let sig = sign(&www, &zsk, NOW - 60);
        let memo = SigMemo::default();
        verify(&memo, &www, &sig, &keys, NOW).unwrap();
        let later = NOW + 8 * 86_400;
        let err = verify(&memo, &www, &sig, &keys, later).unwrap_err();
        assert!(matches!(err, BogusReason::SignatureExpired { .. }), "{err}");
        let earlier = NOW - 3600;
        let err = verify(&memo, &www, &sig, &keys, earlier).unwrap_err();
        assert!(
            matches!(err, BogusReason::SignatureNotYetValid { .. }),
            "{err}"
        );
        let stats = memo.stats();
        assert_eq!((stats.verifications, stats.hits), (1, 0));
    }

    #[test]
    fn the_memo_stays_within_its_bytes_and_forgets_the_least_recently_used() {
        let (zsk, keys) = zsk();
        let budget = 4096;
        let memo = SigMemo::new(budget);
        let sets: Vec<(Vec<Record>, Record)> = (0..64)
            .map(|i| {
                let rrset = a(&format!("h{i}.example."), 1);
                let sig = sign(&rrset, &zsk, NOW - 60);
                (rrset, sig)
            })
            .collect();
        for (rrset, sig) in &sets {
            verify(&memo, rrset, sig, &keys, NOW).unwrap();
            assert!(memo.stats().bytes <= budget);
        }
        let stats = memo.stats();
        assert!(stats.entries > 1 && stats.entries < sets.len(), "{stats:?}");
        // The last one is held, the first was evicted.
        let (last, last_sig) = &sets[sets.len() - 1];
        verify(&memo, last, last_sig, &keys, NOW).unwrap();
        assert_eq!(memo.stats().hits, 1);
        let (first, first_sig) = &sets[0];
        verify(&memo, first, first_sig, &keys, NOW).unwrap();
        assert_eq!(memo.stats().hits, 1);
        assert_eq!(memo.stats().verifications, 65);
        // A memo of no bytes keeps nothing and still verifies.
        let none = SigMemo::new(0);
        verify(&none, first, first_sig, &keys, NOW).unwrap();
        verify(&none, first, first_sig, &keys, NOW).unwrap();
        let stats = none.stats();
        assert_eq!((stats.entries, stats.bytes, stats.verifications), (0, 0, 2));
    }
}
