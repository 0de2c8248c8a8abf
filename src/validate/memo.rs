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
