//! The negative caches: NXDOMAIN and NODATA answers (RFC 2308), and failed resolutions (RFC 9520).
//!
//! [`NegativeCache`] remembers that a name does not exist (NXDOMAIN, which
//! covers every type at that name) or that it has no data of one type
//! (NODATA), together with the SOA record that proves it, for the negative
//! TTL of RFC 2308 §5. [`FailureCache`] remembers for a few seconds that a
//! question could not be resolved at all, so a storm of retries does not
//! hammer a broken zone (RFC 9520 §3).
//!
//! An NXDOMAIN also answers for every name below the one it was cached for
//! (RFC 8020 §2: "there is nothing below"), so a walk for
//! `x.gone.example` after `gone.example` came back NXDOMAIN needs no
//! upstream query.
//!
//! As in the RRset cache, an expired negative answer is kept for up to the
//! cache's `max_stale` (RFC 8767) for [`NegativeCache::get_stale`], and
//! never given by [`NegativeCache::get`].

use std::time::Duration;

use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::NameEncoding;
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder, BinEncodable, BinEncoder};
use tokio::time::Instant;

use super::wire::{Ancestors, KeyBuf, owner_of};
use super::{HeapSize, NameScope, ShardedLru, Validation, remaining_secs};

/// Which negative answer a zone gave (RFC 2308 §1, §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NegativeKind {
    /// Name error: the name does not exist, so no type exists at it
    /// (RFC 2308 §2.1).
    NxDomain,
    /// The name exists but has no record of the asked type (RFC 2308 §2.2).
    NoData,
}

/// A negative answer read from the cache.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedNegative {
    /// NXDOMAIN or NODATA.
    pub kind: NegativeKind,
    /// The SOA record from the authority section that proved the answer,
    /// its TTL set to the seconds remaining, ready to be sent to a client
    /// (RFC 2308 §5); 0 when `expired`.
    pub soa: Record,
    /// What DNSSEC validation said of the answer.
    pub validation: Validation,
    /// The DNSSEC records that proved it (RFC 4035 §3.1.3): the SOA's
    /// RRSIGs, the NSEC or NSEC3 records and theirs, TTLs as the SOA's;
    /// empty for an unsigned zone. For clients that set DO.
    pub proof: Vec<Record>,
    /// Whether its TTL has run out (only [`NegativeCache::get_stale`]
    /// gives such an answer).
    pub expired: bool,
}

/// Cache key: owner lowercased in wire form, then the type for NODATA;
/// type 0 (never a question type) stands for NXDOMAIN, which covers every
/// type.
type Key = Box<[u8]>;

/// The type code a key carries for NXDOMAIN.
const NXDOMAIN_TYPE: u16 = 0;

/// One stored negative answer: the SOA, then its proof records, in wire
/// form one after the other (names uncompressed).
struct Entry {
    kind: NegativeKind,
    validation: Validation,
    records: Box<[u8]>,
    expires: Instant,
}

impl HeapSize for Entry {
    fn heap_size(&self) -> usize {
        self.records.heap_size()
    }
}

impl Entry {
    /// The SOA and the proof, each with `ttl`; `None` if the bytes do not
    /// decode.
    fn read(&self, ttl: u32, expired: bool) -> Option<CachedNegative> {
        let mut decoder = BinDecoder::new(&self.records);
        let mut soa = Record::read(&mut decoder).ok()?;
        soa.ttl = ttl;
        let mut proof = Vec::new();
        while !decoder.is_empty() {
            let mut record = Record::read(&mut decoder).ok()?;
            record.ttl = ttl;
            proof.push(record);
        }
        Some(CachedNegative {
            kind: self.kind,
            soa,
            validation: self.validation,
            proof,
            expired,
        })
    }
}

/// The key of the NXDOMAIN (`rtype` `None`) or NODATA of `name`.
fn key(name: &Name, rtype: Option<RecordType>) -> Option<KeyBuf> {
    let mut key = KeyBuf::default();
    key.push_name(name)?;
    let code = rtype.map_or(NXDOMAIN_TYPE, u16::from);
    key.push(&code.to_be_bytes())?;
    Some(key)
}

/// `records` in wire form one after the other, names uncompressed.
fn encode_records<'r>(records: impl IntoIterator<Item = &'r Record>) -> Option<Box<[u8]>> {
    let mut bytes = Vec::new();
    let mut encoder = BinEncoder::new(&mut bytes);
    encoder.set_name_encoding(NameEncoding::Uncompressed);
    for record in records {
        record.emit(&mut encoder).ok()?;
    }
    Some(bytes.into_boxed_slice())
}

/// NXDOMAIN per name and NODATA per (name, type), sharded LRU (RFC 2308).
///
/// Shareable across threads (`Send + Sync`); every method takes `&self`.
pub struct NegativeCache {
    entries: ShardedLru<Key, Entry>,
    max_ttl: Duration,
    max_stale: Duration,
}

impl NegativeCache {
    /// A cache holding at most `budget` bytes of negative answers (each
    /// charged its key, its SOA in wire form and a fixed overhead) whose
    /// TTLs are capped at `max_ttl` (RFC 2308 §5 suggests 1 to 3 hours at
    /// most; the resolver passes [`crate::config::MAX_NEGATIVE_TTL`], or
    /// `max_ttl` when that is lower).
    /// Expired answers are dropped as soon as a lookup finds them; see
    /// [`NegativeCache::keeping_stale`].
    pub fn new(budget: usize, max_ttl: Duration) -> Self {
        Self {
            entries: ShardedLru::new(budget),
            max_ttl,
            max_stale: Duration::ZERO,
        }
    }

    /// The same cache, keeping expired answers for up to `max_stale` past
    /// their expiry for [`NegativeCache::get_stale`] (RFC 8767 §4).
    pub fn keeping_stale(mut self, max_stale: Duration) -> Self {
        self.max_stale = max_stale;
        self
    }

    /// Stores a negative answer for `name` proved by `soa`.
    ///
    /// The TTL is min(SOA record TTL, SOA MINIMUM) (RFC 2308 §5), capped at
    /// `max_ttl`; a TTL of 0 is not stored. NXDOMAIN is stored per name
    /// (covers every type; `rtype` is ignored), NODATA per (name, type).
    /// Since a NODATA answer proves the name exists, it also drops a cached
    /// NXDOMAIN for the name. The `soa` must be an SOA record or nothing is
    /// stored. Returns whether it was stored (not when larger than the
    /// cache's budget slice).
    pub fn insert(
        &self,
        name: &Name,
        rtype: RecordType,
        kind: NegativeKind,
        soa: &Record,
        now: Instant,
    ) -> bool {
        self.insert_proved(name, rtype, kind, soa, &[], Validation::Unchecked, now)
    }

    /// [`NegativeCache::insert`] with what DNSSEC validation said of the
    /// answer and the records that proved it (`proof`: the SOA's RRSIGs,
    /// NSEC or NSEC3 records and theirs), kept for clients that set DO.
    #[allow(clippy::too_many_arguments)]
    pub fn insert_proved(
        &self,
        name: &Name,
        rtype: RecordType,
        kind: NegativeKind,
        soa: &Record,
        proof: &[Record],
        validation: Validation,
        now: Instant,
    ) -> bool {
        let Some(ttl) = self.negative_ttl(soa) else {
            return false;
        };
        let ttl = Duration::from_secs(u64::from(ttl));
        if ttl.is_zero() {
            return false;
        }
        let key = match kind {
            NegativeKind::NxDomain => key(name, None),
            NegativeKind::NoData => {
                if let Some(nxdomain) = key(name, None) {
                    let nxdomain = nxdomain.as_slice();
                    self.entries.with_shard(nxdomain, |s| s.pop(nxdomain));
                }
                key(name, Some(rtype))
            }
        };
        let (Some(key), Some(records)) = (key, encode_records(std::iter::once(soa).chain(proof)))
        else {
            return false;
        };
        let entry = Entry {
            kind,
            validation,
            records,
            expires: now + ttl,
        };
        self.entries
            .with_shard(key.as_slice(), |shard| shard.put(key.to_boxed(), entry))
    }

    /// The negative TTL `soa` proves: min(SOA TTL, SOA MINIMUM) (RFC 2308
    /// §5), capped at the cache's `max_ttl`; `None` when `soa` is not an
    /// SOA record.
    pub fn negative_ttl(&self, soa: &Record) -> Option<u32> {
        let RData::SOA(data) = &soa.data else {
            return None;
        };
        let cap = u32::try_from(self.max_ttl.as_secs()).unwrap_or(u32::MAX);
        Some(soa.ttl.min(data.minimum).min(cap))
    }

    /// `soa` as a client is told it in the negative answer that brought
    /// it: its TTL set to [`NegativeCache::negative_ttl`], as every later
    /// answer from the cache gives it (counting down from there).
    pub fn as_sent(&self, soa: &Record) -> Record {
        let mut sent = soa.clone();
        if let Some(ttl) = self.negative_ttl(soa) {
            sent.ttl = ttl;
        }
        sent
    }

    /// NXDOMAIN for `name` (whatever `rtype`), else NODATA for (`name`,
    /// `rtype`), else NXDOMAIN for an ancestor of `name` (RFC 8020 §2), if
    /// live. The SOA's TTL is set to the seconds remaining.
    pub fn get(&self, name: &Name, rtype: RecordType, now: Instant) -> Option<CachedNegative> {
        self.find(name, rtype, now, false)
    }

    /// As [`NegativeCache::get`], but an answer expired less than
    /// `max_stale` ago counts too (RFC 8767), given with `expired` set and
    /// the SOA's TTL 0. Does not change what [`NegativeCache::get`] sees.
    pub fn get_stale(
        &self,
        name: &Name,
        rtype: RecordType,
        now: Instant,
    ) -> Option<CachedNegative> {
        self.find(name, rtype, now, true)
    }

    /// Which negative answer [`NegativeCache::get`] would give for
    /// (`name`, `rtype`), and what validation said of it, without reading
    /// its SOA and proof: the same walk (NXDOMAIN at the name, NODATA for
    /// the pair, NXDOMAIN above), the same entries found, dropped and made
    /// recently used. For a caller that only needs to know whether the
    /// name exists, which is cheaper than decoding records it would drop.
    pub fn get_kind(
        &self,
        name: &Name,
        rtype: RecordType,
        now: Instant,
    ) -> Option<(NegativeKind, Validation)> {
        self.find_with(name, rtype, now, false, |entry, _| {
            Some((entry.kind, entry.validation))
        })
    }

    /// NXDOMAIN for `name`, NODATA for the pair, NXDOMAIN above: live, or
    /// also expired within `max_stale` when `stale`.
    fn find(
        &self,
        name: &Name,
        rtype: RecordType,
        now: Instant,
        stale: bool,
    ) -> Option<CachedNegative> {
        self.find_with(name, rtype, now, stale, |entry, ttl| {
            entry.read(ttl, ttl == 0)
        })
    }

    /// The walk of [`NegativeCache::find`], `read` making the answer of
    /// the entry found (given the entry and its seconds remaining; `None`
    /// when it cannot be read, and the entry is dropped). One key is built
    /// for the name; the ancestors are looked up by slices of it.
    fn find_with<T>(
        &self,
        name: &Name,
        rtype: RecordType,
        now: Instant,
        stale: bool,
        read: impl Fn(&Entry, u32) -> Option<T>,
    ) -> Option<T> {
        let mut walk = Ancestors::new(name)?;
        let labels = walk.labels();
        walk.set_tail(&NXDOMAIN_TYPE.to_be_bytes())?;
        if let Some(found) = self.lookup(walk.key(labels)?, now, stale, &read) {
            return Some(found);
        }
        walk.set_tail(&u16::from(rtype).to_be_bytes())?;
        if let Some(found) = self.lookup(walk.key(labels)?, now, stale, &read) {
            return Some(found);
        }
        walk.set_tail(&NXDOMAIN_TYPE.to_be_bytes())?;
        self.nxdomain_above(&walk, now, stale, &read)
    }

    /// An NXDOMAIN cached for a proper ancestor of the name `walk` was
    /// made for, the closest first (RFC 8020 §2: a name that does not
    /// exist has no descendants). The root never is one: it always exists.
    /// `walk`'s tail must be the NXDOMAIN type.
    fn nxdomain_above<T>(
        &self,
        walk: &Ancestors,
        now: Instant,
        stale: bool,
        read: &impl Fn(&Entry, u32) -> Option<T>,
    ) -> Option<T> {
        (1..walk.labels())
            .rev()
            .find_map(|labels| self.lookup(walk.key(labels)?, now, stale, read))
    }

    /// The entry under `key` (an NXDOMAIN or a NODATA) as `read` makes it:
    /// live, or also expired within `max_stale` when `stale`. One expired
    /// longer is dropped.
    fn lookup<T>(
        &self,
        key: &[u8],
        now: Instant,
        stale: bool,
        read: &impl Fn(&Entry, u32) -> Option<T>,
    ) -> Option<T> {
        self.entries.with_shard(key, |shard| {
            let expires = shard.peek(key)?.expires;
            let ttl = remaining_secs(expires, now);
            if ttl == 0 {
                if now.saturating_duration_since(expires) >= self.max_stale {
                    shard.pop(key);
                    return None;
                }
                if !stale {
                    return None;
                }
            }
            let entry = shard.get(key)?;
            match read(entry, ttl) {
                Some(found) => Some(found),
                None => {
                    // Encoded by `insert`, so this does not happen; were
                    // it to, the entry is useless and goes.
                    shard.pop(key);
                    None
                }
            }
        })
    }

    /// Drops what the cache says against (`name`, `rtype`): the NXDOMAIN for
    /// the name and the NODATA for the pair. For when positive data arrives.
    /// Returns whether anything was dropped.
    pub fn remove(&self, name: &Name, rtype: RecordType) -> bool {
        let mut dropped = false;
        for rtype in [None, Some(rtype)] {
            if let Some(key) = key(name, rtype) {
                let key = key.as_slice();
                dropped |= self.entries.with_shard(key, |s| s.pop(key).is_some());
            }
        }
        dropped
    }

    /// Drops every negative answer whose owner is in `scope`; how many.
    pub fn remove_scope(&self, scope: &NameScope) -> usize {
        let Some(scope) = scope.wire() else {
            return 0;
        };
        self.entries.retain(|key, _| !scope.covers(key))
    }

    /// Every live negative answer: the owner (lowercase), the type for a
    /// NODATA (`None` for an NXDOMAIN), and the answer with the SOA's TTL
    /// the seconds remaining. For `dump-cache`.
    pub fn dump(&self, now: Instant) -> Vec<(Name, Option<RecordType>, CachedNegative)> {
        let mut out = Vec::new();
        self.entries.for_each(|key, entry| {
            let ttl = remaining_secs(entry.expires, now);
            let Some(owner) = owner_of(key).filter(|_| ttl > 0) else {
                return;
            };
            let Ok(name) = Name::read(&mut BinDecoder::new(owner)) else {
                return;
            };
            let rtype = match key.get(owner.len()..owner.len() + 2) {
                Some(&[high, low]) if u16::from_be_bytes([high, low]) != NXDOMAIN_TYPE => {
                    Some(RecordType::from(u16::from_be_bytes([high, low])))
                }
                _ => None,
            };
            if let Some(found) = entry.read(ttl, false) {
                out.push((name, rtype, found));
            }
        });
        out
    }

    /// Negative answers held, expired ones not yet evicted included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache holds no entry at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes charged for the answers held: never more than the budget.
    pub fn bytes(&self) -> usize {
        self.entries.bytes()
    }

    /// The bytes the cache may hold.
    pub fn budget(&self) -> usize {
        self.entries.budget()
    }

    /// Drops every entry.
    pub fn clear(&self) {
        self.entries.clear();
    }

    /// Checks the byte accounting: the bytes counted are the sum of the
    /// answers' charges and within the budget. Walks the whole cache: for
    /// tests and fuzzing, not for the query path.
    pub fn audit(&self) -> Result<(), super::AccountingError> {
        self.entries.audit()
    }
}

/// Longest time a failure is remembered, whatever the caller asks: RFC 9520
/// §3.2 says failures SHOULD NOT be cached for longer than 5 minutes.
pub const MAX_FAILURE_TTL: Duration = Duration::from_secs(300);

/// RFC 9520: remembers (name, type) whose resolution failed, for a short
/// time, so retries do not hammer broken zones.
///
/// Shareable across threads (`Send + Sync`); every method takes `&self`.
pub struct FailureCache {
    /// Keyed by owner (lowercased wire form) and type.
    entries: ShardedLru<Box<[u8]>, Instant>,
}

impl FailureCache {
    /// A cache holding at most `budget` bytes of failed questions (each
    /// charged its key and a fixed overhead).
    pub fn new(budget: usize) -> Self {
        Self {
            entries: ShardedLru::new(budget),
        }
    }

    /// Remembers that (`name`, `rtype`) failed, for `ttl` capped at
    /// [`MAX_FAILURE_TTL`] (the resolver passes
    /// [`crate::config::FAILURE_TTL`]). A zero `ttl` stores nothing. A new
    /// failure restarts the clock.
    pub fn insert(&self, name: &Name, rtype: RecordType, ttl: Duration, now: Instant) {
        let ttl = ttl.min(MAX_FAILURE_TTL);
        if ttl.is_zero() {
            return;
        }
        if let Some(key) = key(name, Some(rtype)) {
            self.entries
                .with_shard(key.as_slice(), |shard| shard.put(key.to_boxed(), now + ttl));
        }
    }

    /// Whether (`name`, `rtype`) failed recently enough to be answered
    /// SERVFAIL at once (RFC 9520 §3.2). An expired entry is dropped.
    pub fn contains(&self, name: &Name, rtype: RecordType, now: Instant) -> bool {
        let Some(key) = key(name, Some(rtype)) else {
            return false;
        };
        let key = key.as_slice();
        self.entries.with_shard(key, |shard| match shard.get(key) {
            Some(expires) if *expires > now => true,
            Some(_) => {
                shard.pop(key);
                false
            }
            None => false,
        })
    }

    /// Forgets a failure, for when the question was answered after all.
    pub fn remove(&self, name: &Name, rtype: RecordType) {
        if let Some(key) = key(name, Some(rtype)) {
            let key = key.as_slice();
            self.entries.with_shard(key, |shard| shard.pop(key));
        }
    }

    /// Forgets every failure whose name is in `scope`; how many.
    pub fn remove_scope(&self, scope: &NameScope) -> usize {
        let Some(scope) = scope.wire() else {
            return 0;
        };
        self.entries.retain(|key, _| !scope.covers(key))
    }

    /// Failures held, expired ones not yet evicted included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no failure is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes charged for the failures held: never more than the budget.
    pub fn bytes(&self) -> usize {
        self.entries.bytes()
    }

    /// Drops every entry.
    pub fn clear(&self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::sync::Arc;

    use hickory_proto::rr::rdata::{A, SOA};

    use super::*;
    use crate::cache::entry_charge;

    const BUDGET: usize = 1 << 20;

    /// What an NXDOMAIN for `owner` proved by `soa` is charged.
    fn charge(owner: &str, soa: &Record) -> usize {
        let key = key(&name(owner), None).unwrap().to_boxed();
        let entry = Entry {
            kind: NegativeKind::NxDomain,
            validation: Validation::Unchecked,
            records: encode_records([soa]).unwrap(),
            expires: Instant::now(),
        };
        entry_charge(&key, &entry)
    }

    const DAY: Duration = Duration::from_secs(86_400);

    fn name(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    fn soa(zone: &str, ttl: u32, minimum: u32) -> Record {
        let data = SOA::new(
            name(&format!("ns.{zone}")),
            name(&format!("hostmaster.{zone}")),
            2024010101,
            7200,
            3600,
            1_209_600,
            minimum,
        );
        Record::from_rdata(name(zone), ttl, RData::SOA(data))
    }

    #[test]
    fn ttl_is_min_of_soa_ttl_and_minimum() {
        let cache = NegativeCache::new(BUDGET, DAY);
        let now = Instant::now();
        let qname = name("nope.example.");
        assert!(cache.insert(
            &qname,
            RecordType::A,
            NegativeKind::NxDomain,
            &soa("example.", 3600, 300),
            now
        ));
        let hit = cache.get(&qname, RecordType::A, now).unwrap();
        assert_eq!(hit.soa.ttl, 300);

        let other = name("gone.example.");
        assert!(cache.insert(
            &other,
            RecordType::A,
            NegativeKind::NxDomain,
            &soa("example.", 60, 900),
            now
        ));
        assert_eq!(cache.get(&other, RecordType::A, now).unwrap().soa.ttl, 60);
    }

    #[test]
    fn the_soa_as_sent_carries_the_negative_ttl() {
        let cache = NegativeCache::new(BUDGET, Duration::from_secs(120));
        assert_eq!(cache.as_sent(&soa("example.", 3600, 300)).ttl, 120);
        assert_eq!(cache.as_sent(&soa("example.", 60, 300)).ttl, 60);
        let cache = NegativeCache::new(BUDGET, DAY);
        assert_eq!(cache.as_sent(&soa("example.", 3600, 300)).ttl, 300);
        assert_eq!(cache.negative_ttl(&soa("example.", 0, 300)), Some(0));
    }

    #[test]
    fn ttl_is_capped_and_zero_not_stored() {
        let cache = NegativeCache::new(BUDGET, Duration::from_secs(120));
        let now = Instant::now();
        let qname = name("nope.example.");
        assert!(cache.insert(
            &qname,
            RecordType::A,
            NegativeKind::NxDomain,
            &soa("example.", 3600, 3600),
            now
        ));
        assert_eq!(cache.get(&qname, RecordType::A, now).unwrap().soa.ttl, 120);

        let zero = name("zero.example.");
        assert!(!cache.insert(
            &zero,
            RecordType::A,
            NegativeKind::NxDomain,
            &soa("example.", 3600, 0),
            now
        ));
        assert!(!cache.insert(
            &zero,
            RecordType::A,
            NegativeKind::NoData,
            &soa("example.", 0, 300),
            now
        ));
        assert!(cache.get(&zero, RecordType::A, now).is_none());
    }

    #[test]
    fn non_soa_is_not_stored() {
        let cache = NegativeCache::new(BUDGET, DAY);
        let now = Instant::now();
        let qname = name("nope.example.");
        let not_soa = Record::from_rdata(name("example."), 300, RData::A(A(Ipv4Addr::LOCALHOST)));
        assert!(!cache.insert(&qname, RecordType::A, NegativeKind::NxDomain, &not_soa, now));
        assert!(cache.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn counts_down_and_expires() {
        let cache = NegativeCache::new(BUDGET, DAY);
        let qname = name("nope.example.");
        let proof = soa("example.", 3600, 300);
        assert!(cache.insert(
            &qname,
            RecordType::A,
            NegativeKind::NxDomain,
            &proof,
            Instant::now()
        ));
        tokio::time::advance(Duration::from_secs(120)).await;
        let hit = cache.get(&qname, RecordType::A, Instant::now()).unwrap();
        assert_eq!((hit.kind, hit.soa.ttl), (NegativeKind::NxDomain, 180));
        assert_eq!(
            hit.soa.name,
            name("example."),
            "the SOA proof itself is returned"
        );
        tokio::time::advance(Duration::from_secs(180)).await;
        assert!(cache.get(&qname, RecordType::A, Instant::now()).is_none());
        assert!(cache.is_empty(), "expired entry dropped on lookup");
    }

    #[test]
    fn nxdomain_covers_every_type_nodata_does_not() {
        let cache = NegativeCache::new(BUDGET, DAY);
        let now = Instant::now();
        let proof = soa("example.", 3600, 300);
        let gone = name("gone.example.");
        assert!(cache.insert(&gone, RecordType::A, NegativeKind::NxDomain, &proof, now));
        for rtype in [
            RecordType::A,
            RecordType::AAAA,
            RecordType::MX,
            RecordType::NS,
        ] {
            let hit = cache.get(&gone, rtype, now);
            assert_eq!(hit.map(|h| h.kind), Some(NegativeKind::NxDomain), "{rtype}");
        }

        let www = name("www.example.");
        assert!(cache.insert(&www, RecordType::AAAA, NegativeKind::NoData, &proof, now));
        let hit = cache.get(&www, RecordType::AAAA, now);
        assert_eq!(hit.map(|h| h.kind), Some(NegativeKind::NoData));
        assert!(cache.get(&www, RecordType::A, now).is_none());
        assert!(cache.get(&www, RecordType::MX, now).is_none());
    }

    /// RFC 8020: an NXDOMAIN answers for every name below it, whatever the
    /// type; a NODATA does not (the name exists, its children may too).
    #[tokio::test(start_paused = true)]
    async fn nxdomain_covers_every_name_below() {
        let cache = NegativeCache::new(BUDGET, DAY);
        let proof = soa("example.", 3600, 300);
        let gone = name("gone.example.");
        assert!(cache.insert(
            &gone,
            RecordType::A,
            NegativeKind::NxDomain,
            &proof,
            Instant::now()
        ));
        for below in ["x.gone.example.", "a.b.c.GONE.example."] {
            let hit = cache.get(&name(below), RecordType::MX, Instant::now());
            assert_eq!(hit.map(|h| h.kind), Some(NegativeKind::NxDomain), "{below}");
        }
        assert!(
            cache
                .get(&name("example."), RecordType::A, Instant::now())
                .is_none()
        );
        assert!(
            cache
                .get(&name("notgone.example."), RecordType::A, Instant::now())
                .is_none()
        );

        let www = name("www.example.");
        assert!(cache.insert(
            &www,
            RecordType::AAAA,
            NegativeKind::NoData,
            &proof,
            Instant::now()
        ));
        assert!(
            cache
                .get(&name("x.www.example."), RecordType::AAAA, Instant::now())
                .is_none()
        );

        tokio::time::advance(Duration::from_secs(300)).await;
        assert!(
            cache
                .get(&name("x.gone.example."), RecordType::A, Instant::now())
                .is_none()
        );
    }

    /// The RFC 8020 walk looks each ancestor up by a slice of the name's
    /// key: an NXDOMAIN at any depth is found, the closest first, without
    /// regard to case; the name's own NODATA does not stand in for it; the
    /// root is never taken for an NXDOMAIN, even with one stored for it.
    #[test]
    fn nxdomain_above_is_found_at_every_depth() {
        let cache = NegativeCache::new(BUDGET, DAY);
        let now = Instant::now();
        let qname = name("a.B.c.D.e.example.");
        for (at, ttl) in [("e.EXAMPLE.", 100), ("C.d.e.example.", 200)] {
            let proof = soa("example.", ttl, ttl);
            assert!(cache.insert(
                &name(at),
                RecordType::A,
                NegativeKind::NxDomain,
                &proof,
                now
            ));
        }
        let hit = cache.get(&qname, RecordType::A, now).unwrap();
        assert_eq!(
            (hit.kind, hit.soa.ttl),
            (NegativeKind::NxDomain, 200),
            "closest first"
        );
        let hit = cache
            .get(&name("x.d.E.example."), RecordType::MX, now)
            .unwrap();
        assert_eq!(hit.soa.ttl, 100);
        assert!(
            cache
                .get(&name("d.e.exampl."), RecordType::A, now)
                .is_none()
        );
        assert!(cache.get(&name("example."), RecordType::A, now).is_none());
        assert!(
            cache
                .get(&name("xe.example."), RecordType::A, now)
                .is_none()
        );
        // A literal wildcard counts as a label: it is below the NXDOMAIN.
        assert!(
            cache
                .get(&name("*.e.example."), RecordType::A, now)
                .is_some()
        );

        let root = NegativeCache::new(BUDGET, DAY);
        let proof = soa("example.", 300, 300);
        assert!(root.insert(
            &Name::root(),
            RecordType::A,
            NegativeKind::NxDomain,
            &proof,
            now
        ));
        assert!(root.get(&name("example."), RecordType::A, now).is_none());
        assert!(
            root.get(&name("a.b.example."), RecordType::A, now)
                .is_none()
        );
        // A NODATA at an ancestor says nothing of the names below it.
        let nodata = NegativeCache::new(BUDGET, DAY);
        assert!(nodata.insert(
            &name("b.example."),
            RecordType::A,
            NegativeKind::NoData,
            &proof,
            now
        ));
        assert!(
            nodata
                .get(&name("a.b.example."), RecordType::A, now)
                .is_none()
        );
        assert!(
            nodata
                .get(&name("b.example."), RecordType::A, now)
                .is_some()
        );
    }

    #[test]
    fn lookup_ignores_case() {
        let cache = NegativeCache::new(BUDGET, DAY);
        let now = Instant::now();
        let proof = soa("example.", 3600, 300);
        assert!(cache.insert(
            &name("Gone.EXAMPLE."),
            RecordType::A,
            NegativeKind::NxDomain,
            &proof,
            now
        ));
        assert!(
            cache
                .get(&name("gone.example."), RecordType::TXT, now)
                .is_some()
        );
        assert!(
            cache
                .get(&name("gone.example.net."), RecordType::TXT, now)
                .is_none()
        );
    }

    /// `get_kind` walks as `get` does and says what it would: NXDOMAIN at
    /// the name before the NODATA for the pair, the NODATA only for its
    /// own type, an NXDOMAIN above (never the root's, never a NODATA
    /// above), the verdict carried, nothing once expired.
    #[tokio::test(start_paused = true)]
    async fn get_kind_answers_as_get_does() {
        let cache = NegativeCache::new(BUDGET, DAY);
        let proof = soa("example.", 300, 300);
        let stored = [
            (
                "gone.example.",
                RecordType::A,
                NegativeKind::NxDomain,
                Validation::Secure,
            ),
            (
                "both.example.",
                RecordType::A,
                NegativeKind::NoData,
                Validation::Insecure,
            ),
            (
                "both.example.",
                RecordType::MX,
                NegativeKind::NoData,
                Validation::Unchecked,
            ),
            (
                "ent.example.",
                RecordType::A,
                NegativeKind::NoData,
                Validation::Bogus(6),
            ),
            (
                ".",
                RecordType::A,
                NegativeKind::NxDomain,
                Validation::Unchecked,
            ),
        ];
        for (owner, rtype, kind, validation) in stored {
            let owner = if owner == "." {
                Name::root()
            } else {
                name(owner)
            };
            assert!(cache.insert_proved(
                &owner,
                rtype,
                kind,
                &proof,
                &[],
                validation,
                Instant::now()
            ));
        }
        // NODATA after NXDOMAIN ended it; an NXDOMAIN stored after a NODATA
        // at the same name is found first.
        assert!(cache.insert(
            &name("both.example."),
            RecordType::TXT,
            NegativeKind::NxDomain,
            &proof,
            Instant::now()
        ));
        let questions = [
            (
                "gone.example.",
                RecordType::A,
                Some((NegativeKind::NxDomain, Validation::Secure)),
            ),
            (
                "GONE.example.",
                RecordType::MX,
                Some((NegativeKind::NxDomain, Validation::Secure)),
            ),
            (
                "a.b.gone.example.",
                RecordType::AAAA,
                Some((NegativeKind::NxDomain, Validation::Secure)),
            ),
            (
                "both.example.",
                RecordType::A,
                Some((NegativeKind::NxDomain, Validation::Unchecked)),
            ),
            (
                "ent.example.",
                RecordType::A,
                Some((NegativeKind::NoData, Validation::Bogus(6))),
            ),
            ("ent.example.", RecordType::AAAA, None),
            ("x.ent.example.", RecordType::A, None),
            ("example.", RecordType::A, None),
            ("other.", RecordType::A, None),
        ];
        let now = Instant::now();
        for (qname, rtype, want) in questions {
            let qname = name(qname);
            let got = cache.get_kind(&qname, rtype, now);
            assert_eq!(got, want, "{qname} {rtype}");
            let full = cache
                .get(&qname, rtype, now)
                .map(|n| (n.kind, n.validation));
            assert_eq!(got, full, "as get: {qname} {rtype}");
        }
        tokio::time::advance(Duration::from_secs(300)).await;
        assert_eq!(
            cache.get_kind(&name("gone.example."), RecordType::A, Instant::now()),
            None
        );
        assert_eq!(
            cache.get_kind(&name("x.gone.example."), RecordType::A, Instant::now()),
            None
        );
    }

    #[test]
    fn nodata_ends_nxdomain_and_remove_clears() {
        let cache = NegativeCache::new(BUDGET, DAY);
        let now = Instant::now();
        let proof = soa("example.", 3600, 300);
        let host = name("new.example.");
        assert!(cache.insert(&host, RecordType::A, NegativeKind::NxDomain, &proof, now));
        assert!(cache.insert(&host, RecordType::MX, NegativeKind::NoData, &proof, now));
        assert!(
            cache.get(&host, RecordType::A, now).is_none(),
            "the name exists now"
        );
        assert_eq!(
            cache.get(&host, RecordType::MX, now).map(|h| h.kind),
            Some(NegativeKind::NoData)
        );

        assert!(cache.remove(&host, RecordType::MX));
        assert!(!cache.remove(&host, RecordType::MX));
        assert!(cache.get(&host, RecordType::MX, now).is_none());
    }

    #[test]
    fn evicts_least_recently_used_at_capacity() {
        let now = Instant::now();
        let proof = soa("example.", 3600, 300);
        let cache = NegativeCache::new(2 * charge("a.example.", &proof), DAY);
        for n in ["a.example.", "b.example."] {
            assert!(cache.insert(&name(n), RecordType::A, NegativeKind::NxDomain, &proof, now));
        }
        assert!(cache.get(&name("a.example."), RecordType::A, now).is_some());
        assert!(cache.insert(
            &name("c.example."),
            RecordType::A,
            NegativeKind::NxDomain,
            &proof,
            now
        ));
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&name("b.example."), RecordType::A, now).is_none());
        assert!(cache.get(&name("a.example."), RecordType::A, now).is_some());
        cache.clear();
        assert!(cache.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn failure_expires() {
        let failures = FailureCache::new(BUDGET);
        let qname = name("broken.example.");
        failures.insert(
            &qname,
            RecordType::A,
            Duration::from_secs(5),
            Instant::now(),
        );
        assert!(failures.contains(&name("BROKEN.example."), RecordType::A, Instant::now()));
        assert!(!failures.contains(&qname, RecordType::AAAA, Instant::now()));
        tokio::time::advance(Duration::from_millis(4_999)).await;
        assert!(failures.contains(&qname, RecordType::A, Instant::now()));
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(!failures.contains(&qname, RecordType::A, Instant::now()));
        assert!(failures.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn failure_ttl_capped_zero_ignored_and_removable() {
        let failures = FailureCache::new(BUDGET);
        let qname = name("broken.example.");
        failures.insert(&qname, RecordType::A, Duration::ZERO, Instant::now());
        assert!(failures.is_empty());

        failures.insert(
            &qname,
            RecordType::A,
            Duration::from_secs(3600),
            Instant::now(),
        );
        tokio::time::advance(MAX_FAILURE_TTL - Duration::from_secs(1)).await;
        assert!(failures.contains(&qname, RecordType::A, Instant::now()));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(!failures.contains(&qname, RecordType::A, Instant::now()));

        failures.insert(
            &qname,
            RecordType::A,
            Duration::from_secs(5),
            Instant::now(),
        );
        failures.remove(&qname, RecordType::A);
        assert!(!failures.contains(&qname, RecordType::A, Instant::now()));
    }

    #[test]
    fn shared_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<NegativeCache>();
        assert_send_sync::<FailureCache>();

        let negative = Arc::new(NegativeCache::new(BUDGET, DAY));
        let failures = Arc::new(FailureCache::new(BUDGET));
        let now = Instant::now();
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let (negative, failures) = (Arc::clone(&negative), Arc::clone(&failures));
                std::thread::spawn(move || {
                    let proof = soa("example.", 3600, 300);
                    for i in 0..100 {
                        let qname = name(&format!("n{i}.t{t}.example."));
                        assert!(negative.insert(
                            &qname,
                            RecordType::A,
                            NegativeKind::NoData,
                            &proof,
                            now
                        ));
                        assert!(negative.get(&qname, RecordType::A, now).is_some());
                        failures.insert(&qname, RecordType::AAAA, Duration::from_secs(5), now);
                        assert!(failures.contains(&qname, RecordType::AAAA, now));
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
        assert_eq!(negative.len(), 400);
        assert_eq!(failures.len(), 400);
    }

    /// RFC 8767: an expired negative answer is kept for `get_stale` (SOA
    /// TTL 0, marked expired), also above the name (RFC 8020), until
    /// `max_stale` past its expiry; `get` no longer gives it.
    #[tokio::test(start_paused = true)]
    async fn expired_answers_are_kept_for_get_stale_until_max_stale() {
        let cache = NegativeCache::new(BUDGET, DAY).keeping_stale(Duration::from_secs(60));
        let gone = name("gone.example.");
        assert!(cache.insert(
            &gone,
            RecordType::A,
            NegativeKind::NxDomain,
            &soa("example.", 30, 30),
            Instant::now()
        ));
        tokio::time::advance(Duration::from_secs(30)).await;
        assert!(cache.get(&gone, RecordType::A, Instant::now()).is_none());
        let stale = cache
            .get_stale(&gone, RecordType::A, Instant::now())
            .unwrap();
        assert_eq!(
            (stale.kind, stale.expired, stale.soa.ttl),
            (NegativeKind::NxDomain, true, 0)
        );
        let below = cache.get_stale(&name("x.gone.example."), RecordType::MX, Instant::now());
        assert!(below.is_some_and(|b| b.expired));
        tokio::time::advance(Duration::from_secs(60)).await;
        assert!(
            cache
                .get_stale(&gone, RecordType::A, Instant::now())
                .is_none()
        );
        assert_eq!(cache.len(), 0);
    }
}
