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

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hash};
use std::num::NonZeroUsize;
use std::sync::{Mutex, MutexGuard, PoisonError};

use lru::LruCache;

pub use infra::{INFRA_TTL, InfraCache, InfraTimers, LAME_TTL, MAX_RTO, MAX_RTT, UNKNOWN_RTO};
pub use negative::{CachedNegative, FailureCache, MAX_FAILURE_TTL, NegativeCache, NegativeKind};
pub use rrset::{CachedRrset, RrsetCache};
pub use versions::{NameVersions, Stamp};

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

/// Below `SHARDS * MIN_SHARD_CAPACITY` entries a cache uses a single shard:
/// small caches would otherwise evict early whenever keys hash unevenly, and
/// with one shard the capacity and the LRU order are exact.
pub const MIN_SHARD_CAPACITY: usize = 64;

/// An LRU map split into shards, each behind its own mutex; the shard is
/// chosen by a hash of the key. The building block of every cache here.
pub(crate) struct ShardedLru<K, V> {
    shards: Box<[Mutex<LruCache<K, V>>]>,
    hasher: RandomState,
}

impl<K: Hash + Eq, V> ShardedLru<K, V> {
    /// A map holding about `capacity` entries in total (at least one per
    /// shard, so capacity 0 still works and holds one entry).
    pub(crate) fn new(capacity: usize) -> Self {
        let count = if capacity < SHARDS * MIN_SHARD_CAPACITY {
            1
        } else {
            SHARDS
        };
        let per_shard = NonZeroUsize::new(capacity.div_ceil(count)).unwrap_or(NonZeroUsize::MIN);
        let shards = (0..count)
            .map(|_| Mutex::new(LruCache::new(per_shard)))
            .collect();
        Self {
            shards,
            hasher: RandomState::new(),
        }
    }

    /// Runs `f` on the shard that holds `key`, under that shard's lock only.
    pub(crate) fn with_shard<R>(&self, key: &K, f: impl FnOnce(&mut LruCache<K, V>) -> R) -> R {
        // The modulo keeps the index in range; the u64 -> usize cast only
        // drops high bits, which is fine for picking a shard.
        let index = (self.hasher.hash_one(key) as usize) % self.shards.len();
        f(&mut lock(&self.shards[index]))
    }

    /// Entries held, expired ones not yet evicted included.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len()).sum()
    }

    /// Drops every entry.
    pub(crate) fn clear(&self) {
        for shard in self.shards.iter() {
            lock(shard).clear();
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

    #[test]
    fn small_capacity_is_one_exact_shard() {
        let map: ShardedLru<u32, u32> = ShardedLru::new(3);
        for i in 0..10 {
            map.with_shard(&i, |s| s.put(i, i));
        }
        assert_eq!(map.len(), 3);
        assert_eq!(map.with_shard(&9, |s| s.peek(&9).copied()), Some(9));
        assert_eq!(map.with_shard(&0, |s| s.peek(&0).copied()), None);
    }

    #[test]
    fn zero_capacity_holds_one() {
        let map: ShardedLru<u32, u32> = ShardedLru::new(0);
        map.with_shard(&1, |s| s.put(1, 1));
        map.with_shard(&2, |s| s.put(2, 2));
        assert_eq!(map.len(), 1);
    }

    #[test]
    fn large_capacity_is_sharded_and_bounded() {
        let capacity = SHARDS * MIN_SHARD_CAPACITY * 2;
        let map: ShardedLru<usize, ()> = ShardedLru::new(capacity);
        assert_eq!(map.shards.len(), SHARDS);
        for i in 0..capacity * 3 {
            map.with_shard(&i, |s| s.put(i, ()));
        }
        // Each shard holds capacity / SHARDS; uneven hashing can only leave
        // some shards short, never let the total exceed the capacity.
        assert!(map.len() <= capacity);
        assert!(map.len() > capacity / 2);
        map.clear();
        assert_eq!(map.len(), 0);
    }

    #[test]
    fn poisoned_shard_is_recovered() {
        let map: std::sync::Arc<ShardedLru<u32, u32>> = std::sync::Arc::new(ShardedLru::new(4));
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
