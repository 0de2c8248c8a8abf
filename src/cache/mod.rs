//! The resolver's caches: what was learned, how far to trust it, and for how long.
//!
//! # Layout
//!
//! - [`rrset`]: positive data, one RRset per (owner, type, class), ranked by
//!   credibility ([`Trust`], RFC 2181 §5.4.1) so that glue or a referral can
//!   never overwrite what an authoritative server said.
//! - [`negative`]: NXDOMAIN and NODATA answers (RFC 2308) and the short-lived
//!   memory of failed resolutions (RFC 9520).
//! - [`infra`]: what we know about each upstream server address: smoothed
//!   RTT, consecutive timeouts, and the zones it is lame for.
//! - [`versions`]: change counters by owner name, so copies of cached data
//!   kept elsewhere can tell whether they are still current.
//! - `wire`: keys as lowercased wire-format names, built on the stack.
//!
//! # Bounded in bytes
//!
//! Every cache is built on `ShardedLru`, which charges each entry its
//! heap cost ([`entry_charge`]: the LRU node, a worst-case hash-table
//! share, and every heap chunk the key and value own, rounded as glibc's
//! malloc rounds it) against a byte budget, and evicts the least recently
//! used entries until it fits. The count is always the sum of the charges.
//! Data is kept compact to make the budget go far: an RRset is one
//! allocation of wire-format bytes (see [`rrset`]), decoded on read; names
//! in keys are wire-format bytes, not hickory `Name`s. Measured with
//! `examples/cache_rss.rs`: 80,000 one-record A RRsets grow RSS by about
//! 141 bytes each (each is charged 152).
//!
//! Every cache takes `&self` and hides its own locks, so the resolver can
//! share one through an `Arc` across tokio tasks. Locks are `std::sync::Mutex`
//! held only for one lookup or one store, never across an `.await`; a
//! poisoned lock is recovered, never turned into a panic. All times are
//! [`tokio::time::Instant`], so tests run on paused virtual time.
//!
//! The caches store records and a trust rank of their own; they know nothing
//! of the resolver that fills them.

pub mod infra;
pub mod negative;
pub mod rrset;
pub mod versions;
mod wire;

use foldhash::fast::RandomState;
use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash};
use std::sync::{Mutex, MutexGuard, PoisonError};

use lru::LruCache;

pub use infra::{INFRA_TTL, InfraCache, InfraTimers, LAME_TTL, MAX_RTO, MAX_RTT, UNKNOWN_RTO};
pub use negative::{CachedNegative, FailureCache, MAX_FAILURE_TTL, NegativeCache, NegativeKind};
pub use rrset::{
    CachedAddresses, CachedRrset, Enclosing, Expiry, RrsetCache, Validation, rrset_charge,
    signed_rrset_charge,
};
pub use versions::{NameVersions, Stamp};

/// Which cached names a flush drops (the control socket's `flush`,
/// `flush-zone`, `flush-all`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameScope {
    /// Exactly this owner name (any case).
    Name(hickory_proto::rr::Name),
    /// This name and every name below it.
    Zone(hickory_proto::rr::Name),
    /// Everything.
    All,
}

impl NameScope {
    /// The scope in the wire form keys start with; `None` for a name too
    /// long to be a DNS name (it covers nothing).
    pub(crate) fn wire(&self) -> Option<wire::WireScope> {
        let name = |name: &hickory_proto::rr::Name| {
            let mut key = wire::KeyBuf::default();
            key.push_name(name).map(|()| key)
        };
        Some(match self {
            Self::Name(n) => wire::WireScope::Name(name(n)?),
            Self::Zone(z) => wire::WireScope::Zone(name(z)?),
            Self::All => wire::WireScope::All,
        })
    }
}

/// Credibility of cached data, lowest first (RFC 2181 §5.4.1).
///
/// The derived order is the ranking: data may replace a live cached RRset
/// only when its trust is at least the cached one's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Trust {
    /// From the additional section of any response (glue, RFC 2181 §5.4.1:
    /// "additional information").
    Glue,
    /// From the authority section of a non-authoritative answer, such as the
    /// NS RRset of a referral.
    Referral,
    /// From the answer section of a response without the AA bit.
    NonAuthAnswer,
    /// From the authority section of an authoritative (AA=1) answer.
    AuthAuthority,
    /// From the answer section of an authoritative (AA=1) answer.
    AuthAnswer,
}

impl Trust {
    /// Whether data of this rank may be given to a client as an answer.
    ///
    /// RFC 2181 §5.4.1: glue and the authority section of a
    /// non-authoritative answer (a referral's NS set) "should not be cached
    /// in such a way that they would ever be returned as answers to a
    /// received query"; they serve only to find the zone's servers, which
    /// are then asked for the real data.
    pub fn is_answer(self) -> bool {
        self >= Trust::NonAuthAnswer
    }
}

/// Number of shards a large cache is split into, so tasks on different
/// threads rarely wait for the same lock. A power of two near a few times
/// the core count of small servers.
pub const SHARDS: usize = 16;

/// Below `SHARDS * MIN_SHARD_BYTES` a cache uses a single shard: each shard
/// gets an equal slice of the budget, and a slice must hold several of the
/// largest entries (an RRset from one 64 KB message) with room to spare;
/// with one shard the budget and the LRU order are exact.
pub const MIN_SHARD_BYTES: usize = 256 * 1024;

/// What the hash table of an LRU map costs per entry, at worst: a bucket
/// holds a key pointer and a node pointer (16 bytes) and a control byte;
/// the table grows by doubling and stays at most 7/8 full, so just after a
/// doubling there are 16/7 buckets per entry: 17 × 16 / 7 ≈ 39 bytes.
pub const TABLE_BYTES_PER_ENTRY: usize = 40;

/// The size of the heap chunk glibc's malloc hands out for a request of
/// `bytes`: the request plus an 8-byte header, rounded up to 16, at least
/// 32. What a cache charges for each allocation it owns.
pub const fn malloc_size(bytes: usize) -> usize {
    let chunk = (bytes + 8 + 15) & !15;
    if chunk < 32 { 32 } else { chunk }
}

/// Heap memory a value owns beyond its own `size_of` (which the cache
/// charges as part of the LRU node holding it).
pub trait HeapSize {
    /// Bytes of heap chunks owned, as [`malloc_size`] counts them.
    fn heap_size(&self) -> usize;
}

impl HeapSize for Box<[u8]> {
    fn heap_size(&self) -> usize {
        if self.is_empty() {
            0
        } else {
            malloc_size(self.len())
        }
    }
}

impl HeapSize for tokio::time::Instant {
    fn heap_size(&self) -> usize {
        0
    }
}

impl HeapSize for std::net::IpAddr {
    fn heap_size(&self) -> usize {
        0
    }
}

/// What one entry of a cache's LRU map costs: its LRU node (key, value
/// and two list pointers, one allocation), its share of the hash table, and
/// whatever key and value own on the heap.
pub fn entry_charge<K: HeapSize, V: HeapSize>(key: &K, value: &V) -> usize {
    let node =
        std::mem::size_of::<K>() + std::mem::size_of::<V>() + 2 * std::mem::size_of::<usize>();
    malloc_size(node) + TABLE_BYTES_PER_ENTRY + key.heap_size() + value.heap_size()
}

/// A cache's byte count gone wrong: what [`RrsetCache::audit`] and
/// [`NegativeCache::audit`] report. Either is a bug in the cache, never
/// something its input may cause.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountingError {
    /// The bytes a shard counts differ from its entries' charges added up.
    #[error("shard {shard} counts {counted} bytes, its entries are charged {recounted}")]
    Miscounted {
        /// The shard's index.
        shard: usize,
        /// What the shard counts.
        counted: usize,
        /// What its entries' charges add up to.
        recounted: usize,
    },
    /// A shard holds more than its slice of the budget.
    #[error("shard {shard} holds {bytes} bytes, over its budget of {budget}")]
    OverBudget {
        /// The shard's index.
        shard: usize,
        /// The bytes it holds.
        bytes: usize,
        /// Its slice of the budget.
        budget: usize,
    },
}

/// One shard: an LRU map and the bytes its entries are charged, kept at
/// most `budget`. Every change goes through methods that keep the count.
pub(crate) struct Shard<K: Hash + Eq, V> {
    map: LruCache<K, V>,
    bytes: usize,
    budget: usize,
}

impl<K: Hash + Eq + HeapSize, V: HeapSize> Shard<K, V> {
    fn new(budget: usize) -> Self {
        Self {
            map: LruCache::unbounded(),
            bytes: 0,
            budget,
        }
    }

    /// The value under `key`, without touching the LRU order.
    pub(crate) fn peek<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.map.peek(key)
    }

    /// The value under `key`, made the most recently used.
    pub(crate) fn get<Q: Hash + Eq + ?Sized>(&mut self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.map.get(key)
    }

    /// The key and value under `key`, made the most recently used.
    pub(crate) fn get_key_value<Q: Hash + Eq + ?Sized>(&mut self, key: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
    {
        self.map.get_key_value(key)
    }

    /// Stores `value` under `key` (dropping any entry the key had), then
    /// evicts the least recently used entries until the shard fits its
    /// budget. An entry larger than the whole budget is not stored (the
    /// old one under its key is still dropped); returns whether it was.
    pub(crate) fn put(&mut self, key: K, value: V) -> bool {
        self.pop(&key);
        let charge = entry_charge(&key, &value);
        if charge > self.budget {
            return false;
        }
        while self.bytes + charge > self.budget {
            let Some((old_key, old_value)) = self.map.pop_lru() else {
                break;
            };
            self.bytes -= entry_charge(&old_key, &old_value);
        }
        self.bytes += charge;
        self.map.push(key, value);
        true
    }

    /// Removes the entry under `key`; its value if there was one.
    pub(crate) fn pop<Q: Hash + Eq + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        let (old_key, old_value) = self.map.pop_entry(key)?;
        self.bytes -= entry_charge(&old_key, &old_value);
        Some(old_value)
    }

    /// The value under `key`, made the most recently used, to change in
    /// place. Only for values that own no heap memory (`Copy`), so the
    /// entry's charge cannot change.
    pub(crate) fn get_mut<Q: Hash + Eq + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        V: Copy,
    {
        self.map.get_mut(key)
    }
}

/// An LRU map split into shards, each behind its own mutex; the shard is
/// chosen by a hash of the key. The building block of every cache here.
///
/// Bounded in bytes: every entry is charged [`entry_charge`] (node, hash
/// table share, heap the key and value own) against an equal slice of the
/// budget per shard, and a shard evicts its least recently used entries
/// until it fits. The bytes held are always the sum of the entries'
/// charges, and never more than the budget.
pub(crate) struct ShardedLru<K: Hash + Eq, V> {
    shards: Box<[Mutex<Shard<K, V>>]>,
    hasher: RandomState,
}

impl<K: Hash + Eq + HeapSize, V: HeapSize> ShardedLru<K, V> {
    /// A map holding at most `budget` bytes of entries in total.
    pub(crate) fn new(budget: usize) -> Self {
        let count = if budget < SHARDS * MIN_SHARD_BYTES {
            1
        } else {
            SHARDS
        };
        let per_shard = budget / count;
        let shards = (0..count)
            .map(|_| Mutex::new(Shard::new(per_shard)))
            .collect();
        Self {
            shards,
            hasher: RandomState::default(),
        }
    }

    /// Runs `f` on the shard that holds `key`, under that shard's lock only.
    pub(crate) fn with_shard<Q: Hash + ?Sized, R>(
        &self,
        key: &Q,
        f: impl FnOnce(&mut Shard<K, V>) -> R,
    ) -> R {
        // The modulo keeps the index in range; the u64 -> usize cast only
        // drops high bits, which is fine for picking a shard. Keys and
        // their borrowed forms hash alike (the `Borrow` contract).
        let index = (self.hasher.hash_one(key) as usize) % self.shards.len();
        f(&mut lock(&self.shards[index]))
    }

    /// Entries held, expired ones not yet evicted included.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).map.len()).sum()
    }

    /// Bytes charged for the entries held.
    pub(crate) fn bytes(&self) -> usize {
        self.shards.iter().map(|s| lock(s).bytes).sum()
    }

    /// The bytes the map may hold (the sum of its shards' slices).
    pub(crate) fn budget(&self) -> usize {
        self.shards.iter().map(|s| lock(s).budget).sum()
    }

    /// Checks the accounting, each shard under its lock: the bytes it
    /// counts are the sum of its entries' charges, and within its slice
    /// of the budget. Walks every entry: for tests and audits, not for
    /// the query path.
    pub(crate) fn audit(&self) -> Result<(), AccountingError> {
        for (shard, guard) in self.shards.iter().enumerate() {
            let guard = lock(guard);
            let recounted: usize = guard.map.iter().map(|(k, v)| entry_charge(k, v)).sum();
            if recounted != guard.bytes {
                return Err(AccountingError::Miscounted {
                    shard,
                    counted: guard.bytes,
                    recounted,
                });
            }
            if guard.bytes > guard.budget {
                return Err(AccountingError::OverBudget {
                    shard,
                    bytes: guard.bytes,
                    budget: guard.budget,
                });
            }
        }
        Ok(())
    }

    /// The charges of every entry held, added up one by one: what
    /// [`ShardedLru::bytes`] must equal.
    #[cfg(test)]
    pub(crate) fn recount(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                lock(s)
                    .map
                    .iter()
                    .map(|(k, v)| entry_charge(k, v))
                    .sum::<usize>()
            })
            .sum()
    }

    /// Drops the entries `keep` says no to, one shard at a time under its
    /// lock, keeping the LRU order of the rest; how many were dropped. Walks
    /// the whole map: for operator commands, not for the query path.
    pub(crate) fn retain(&self, mut keep: impl FnMut(&K, &V) -> bool) -> usize {
        let mut dropped = 0;
        for shard in self.shards.iter() {
            let mut shard = lock(shard);
            let mut kept = LruCache::unbounded();
            // Least recently used first, so pushing rebuilds the order.
            while let Some((key, value)) = shard.map.pop_lru() {
                if keep(&key, &value) {
                    kept.push(key, value);
                } else {
                    shard.bytes -= entry_charge(&key, &value);
                    dropped += 1;
                }
            }
            shard.map = kept;
        }
        dropped
    }

    /// Calls `f` with every entry, one shard at a time under its lock,
    /// without touching the LRU order.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&K, &V)) {
        for shard in self.shards.iter() {
            for (key, value) in lock(shard).map.iter() {
                f(key, value);
            }
        }
    }

    /// Drops every entry.
    pub(crate) fn clear(&self) {
        for shard in self.shards.iter() {
            let mut shard = lock(shard);
            shard.map.clear();
            shard.bytes = 0;
        }
    }
}

/// Locks a mutex, recovering the data if another thread panicked while
/// holding it: a cache entry is at worst stale, never worth a second panic.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whole seconds left before `expires`; 0 once it has passed.
///
/// Rounds down, so an entry is dropped up to a second early rather than
/// served past its TTL (RFC 1035 §3.2.1: the TTL is an upper bound).
pub(crate) fn remaining_secs(expires: tokio::time::Instant, now: tokio::time::Instant) -> u32 {
    let secs = expires.saturating_duration_since(now).as_secs();
    u32::try_from(secs).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_orders_as_rfc_2181() {
        assert!(Trust::Glue < Trust::Referral);
        assert!(Trust::Referral < Trust::NonAuthAnswer);
        assert!(Trust::NonAuthAnswer < Trust::AuthAuthority);
        assert!(Trust::AuthAuthority < Trust::AuthAnswer);
    }

    #[test]
    fn glue_and_referrals_are_not_answers() {
        assert!(!Trust::Glue.is_answer());
        assert!(!Trust::Referral.is_answer());
        assert!(Trust::NonAuthAnswer.is_answer());
        assert!(Trust::AuthAuthority.is_answer());
        assert!(Trust::AuthAnswer.is_answer());
    }

    /// A key owning heap memory, to exercise the charges.
    #[derive(Hash, PartialEq, Eq)]
    struct Bytes(Box<[u8]>);

    impl HeapSize for Bytes {
        fn heap_size(&self) -> usize {
            self.0.heap_size()
        }
    }

    impl HeapSize for u32 {
        fn heap_size(&self) -> usize {
            0
        }
    }

    fn key(i: u32, len: usize) -> Bytes {
        let mut bytes = vec![0u8; len.max(4)];
        bytes[..4].copy_from_slice(&i.to_be_bytes());
        Bytes(bytes.into())
    }

    #[test]
    fn malloc_sizes_are_glibc_chunks() {
        assert_eq!(malloc_size(0), 32);
        assert_eq!(malloc_size(24), 32);
        assert_eq!(malloc_size(25), 48);
        assert_eq!(malloc_size(40), 48);
        assert_eq!(malloc_size(56), 64);
        assert_eq!(malloc_size(1000), 1008);
    }

    #[test]
    fn small_budget_is_one_exact_shard() {
        let one = entry_charge(&0u32, &0u32);
        let map: ShardedLru<u32, u32> = ShardedLru::new(3 * one);
        assert_eq!(map.shards.len(), 1);
        for i in 0..10 {
            map.with_shard(&i, |s| s.put(i, i));
        }
        assert_eq!(map.len(), 3);
        assert_eq!(map.bytes(), 3 * one);
        assert_eq!(map.with_shard(&9, |s| s.peek(&9).copied()), Some(9));
        assert_eq!(map.with_shard(&0, |s| s.peek(&0).copied()), None);
    }

    #[test]
    fn retain_drops_what_it_is_told_keeps_the_count_and_the_lru_order() {
        let one = entry_charge(&0u32, &0u32);
        let map: ShardedLru<u32, u32> = ShardedLru::new(4 * one);
        for i in 0..4 {
            map.with_shard(&i, |s| s.put(i, i));
        }
        assert_eq!(map.retain(|k, _| k % 2 == 0), 2);
        assert_eq!(map.len(), 2);
        assert_eq!(map.bytes(), map.recount());
        let mut seen = Vec::new();
        map.for_each(|k, _| seen.push(*k));
        seen.sort_unstable();
        assert_eq!(seen, vec![0, 2]);
        // 0 is still the least recently used: two new entries evict it.
        map.with_shard(&4, |s| s.put(4, 4));
        map.with_shard(&5, |s| s.put(5, 5));
        map.with_shard(&6, |s| s.put(6, 6));
        assert_eq!(map.with_shard(&0, |s| s.peek(&0).copied()), None);
        assert_eq!(map.with_shard(&2, |s| s.peek(&2).copied()), Some(2));
    }

    #[test]
    fn an_entry_larger_than_the_budget_is_refused() {
        let map: ShardedLru<Bytes, u32> = ShardedLru::new(1000);
        assert!(map.with_shard(&key(1, 10), |s| s.put(key(1, 10), 1)));
        assert!(!map.with_shard(&key(2, 2000), |s| s.put(key(2, 2000), 2)));
        assert_eq!(map.len(), 1);
        assert_eq!(map.bytes(), map.recount());
        // A refused replacement takes the key's old entry with it: what it
        // held is outdated.
        let small: ShardedLru<u32, Bytes> = ShardedLru::new(1000);
        assert!(small.with_shard(&1, |s| s.put(1, key(1, 10))));
        assert!(!small.with_shard(&1, |s| s.put(1, key(1, 2000))));
        assert_eq!((small.len(), small.bytes()), (0, 0));
        let zero: ShardedLru<u32, u32> = ShardedLru::new(0);
        assert!(!zero.with_shard(&1, |s| s.put(1, 1)));
        assert_eq!(zero.len(), 0);
    }

    #[test]
    fn large_budget_is_sharded_and_bounded() {
        let budget = SHARDS * MIN_SHARD_BYTES;
        let map: ShardedLru<Bytes, u32> = ShardedLru::new(budget);
        assert_eq!(map.shards.len(), SHARDS);
        assert_eq!(map.budget(), budget);
        for i in 0..20_000u32 {
            let k = key(i, 100);
            map.with_shard(&k, |s| s.put(key(i, 100), i));
        }
        // Each shard holds at most its slice; uneven hashing can only leave
        // some shards short, never let the total exceed the budget.
        assert!(map.bytes() <= budget);
        assert!(map.bytes() > budget / 2);
        assert_eq!(map.bytes(), map.recount());
        map.clear();
        assert_eq!((map.len(), map.bytes()), (0, 0));
    }

    /// The byte count is the sum of the entries' charges after any mix of
    /// inserts, replacements (with keys of another size), removals and
    /// evictions.
    #[test]
    fn the_byte_count_is_the_sum_of_the_charges() {
        use rand::rngs::StdRng;
        use rand::{RngExt, SeedableRng};
        let mut rng = StdRng::seed_from_u64(7);
        let map: ShardedLru<Bytes, u32> = ShardedLru::new(40_000);
        for round in 0..20_000 {
            let i = rng.random_range(0..500u32);
            let k = key(i, rng.random_range(4..600));
            match rng.random_range(0..10) {
                0..=6 => {
                    map.with_shard(&k, |s| s.put(k_clone(&k), i));
                }
                7 | 8 => {
                    map.with_shard(&k, |s| s.pop(&k));
                }
                _ => {
                    map.with_shard(&k, |s| s.get(&k).copied());
                }
            }
            if round % 100 == 0 {
                assert_eq!(map.bytes(), map.recount(), "round {round}");
            }
            assert!(map.bytes() <= 40_000);
        }
        assert_eq!(map.bytes(), map.recount());
    }

    fn k_clone(k: &Bytes) -> Bytes {
        Bytes(k.0.clone())
    }

    /// The audit passes on a healthy map and names the shard whose count
    /// went wrong, or that holds more than its slice.
    #[test]
    fn the_audit_finds_a_wrong_count_and_an_overfull_shard() {
        let map: ShardedLru<Bytes, u32> = ShardedLru::new(SHARDS * MIN_SHARD_BYTES);
        for i in 0..1000u32 {
            let k = key(i, 50);
            map.with_shard(&k, |s| s.put(key(i, 50), i));
        }
        assert_eq!(map.audit(), Ok(()));
        let counted = lock(&map.shards[3]).bytes;
        lock(&map.shards[3]).bytes += 1;
        assert_eq!(
            map.audit(),
            Err(AccountingError::Miscounted {
                shard: 3,
                counted: counted + 1,
                recounted: counted,
            })
        );
        lock(&map.shards[3]).bytes = counted;
        lock(&map.shards[5]).budget = 0;
        assert!(matches!(
            map.audit(),
            Err(AccountingError::OverBudget {
                shard: 5,
                budget: 0,
                ..
            })
        ));
    }

    #[test]
    fn poisoned_shard_is_recovered() {
        let map: std::sync::Arc<ShardedLru<u32, u32>> =
            std::sync::Arc::new(ShardedLru::new(10_000));
        let clone = map.clone();
        let result = std::thread::spawn(move || {
            clone.with_shard(&1, |s| {
                s.put(1, 1);
                panic!("poison the shard");
            })
        })
        .join();
        assert!(result.is_err());
        assert_eq!(map.with_shard(&1, |s| s.get(&1).copied()), Some(1));
        assert_eq!(map.len(), 1);
    }
}
