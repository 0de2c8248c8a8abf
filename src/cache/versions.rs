//! Change counters by owner name, so a copy of cached data kept elsewhere
//! (the daemon's encoded replies) can tell cheaply whether it is still
//! what the caches hold.
//!
//! Names hash into [`VERSION_BUCKETS`] buckets, each an atomic counter that
//! every write of data owned by a name in it increments. A reader takes a
//! [`Stamp`] of a name's bucket *before* it reads the caches, and later
//! compares: an unchanged counter means nothing owned by that name was
//! written since (a write to another name of the same bucket only costs a
//! needless rebuild). Lock-free: one atomic load per name to check.

use foldhash::fast::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};

use hickory_proto::rr::{LowerName, Name};

/// Counters per table. With a few names per checked answer, a write makes
/// an unrelated copy look stale with odds of about 1 in this.
pub const VERSION_BUCKETS: usize = 4096;

/// The version of one name's bucket at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    bucket: u32,
    version: u64,
}

/// Change counters by owner-name bucket. `Send + Sync`; every method takes
/// `&self`.
pub struct NameVersions {
    buckets: Box<[AtomicU64]>,
    hasher: RandomState,
}

impl Default for NameVersions {
    fn default() -> Self {
        Self {
            buckets: (0..VERSION_BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            hasher: RandomState::default(),
        }
    }
}

impl NameVersions {
    fn bucket(&self, name: &Name) -> usize {
        // The modulo keeps the index in range; the cast only drops high
        // bits, which is fine for picking a bucket.
        (self.hasher.hash_one(LowerName::new(name)) as usize) % self.buckets.len()
    }

    /// Records that data owned by `name` (any case) was written. Call it
    /// after the write.
    pub fn changed(&self, name: &Name) {
        self.buckets[self.bucket(name)].fetch_add(1, Ordering::Release);
    }

    /// Records that data of any name may have changed (a flush of a zone
    /// or of everything): every stamp taken before is stale.
    pub fn changed_all(&self) {
        for bucket in self.buckets.iter() {
            bucket.fetch_add(1, Ordering::Release);
        }
    }

    /// The current version of `name`'s bucket. Take it before reading.
    pub fn stamp(&self, name: &Name) -> Stamp {
        let bucket = self.bucket(name);
        Stamp {
            // VERSION_BUCKETS fits in u32.
            bucket: bucket as u32,
            version: self.buckets[bucket].load(Ordering::Acquire),
        }
    }

    /// Whether nothing was written under `stamp`'s bucket since it was taken.
    pub fn is_current(&self, stamp: &Stamp) -> bool {
        self.buckets
            .get(stamp.bucket as usize)
            .is_some_and(|b| b.load(Ordering::Acquire) == stamp.version)
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    #[test]
    fn a_write_to_the_name_makes_its_stamps_stale() {
        let versions = NameVersions::default();
        let www = Name::from_str("www.a.tld1.").unwrap();
        let stamp = versions.stamp(&www);
        assert!(versions.is_current(&stamp));
        versions.changed(&Name::from_ascii("WWW.A.TLD1.").unwrap());
        assert!(!versions.is_current(&stamp), "case does not matter");
        assert!(versions.is_current(&versions.stamp(&www)));
    }

    #[test]
    fn writes_to_other_names_rarely_matter() {
        let versions = NameVersions::default();
        let www = Name::from_str("www.a.tld1.").unwrap();
        let stamp = versions.stamp(&www);
        let mut stale = 0;
        for i in 0..100 {
            let other = Name::from_str(&format!("host{i}.b.tld1.")).unwrap();
            versions.changed(&other);
            if !versions.is_current(&stamp) {
                stale += 1;
            }
        }
        // 100 writes into 4096 buckets: hitting www's bucket is unlikely
        // (about 2.4 %), and once it is hit it stays stale.
        assert!(stale < 100, "{stale}");
    }
}
