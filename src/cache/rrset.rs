//! The RRset cache: positive data by (owner, type, class), ranked by credibility.
//!
//! One entry is one RRset (RFC 2181 §5: records with the same owner, class
//! and type are handled as a set, never one by one). An entry carries the
//! [`Trust`] of the section it came from; a live entry is replaced only by
//! data at least as credible (RFC 2181 §5.4.1), so glue or a referral's NS
//! set cannot overwrite what the zone's own servers said. Expired entries
//! are replaced by anything.
//!
//! Two rules keep lower-ranked data in its place:
//!
//! - [`RrsetCache::get_answer`] gives only answer-ranked data
//!   ([`Trust::is_answer`]): glue and a referral's NS set locate servers,
//!   they are never an answer to a client (RFC 2181 §5.4.1).
//! - An NS RRset that replaces a live one never expires later than the one
//!   it replaces (ghost domains, CVE-2012-1033): a delegation lives as long
//!   as the parent's TTL says, however often the child repeats its own NS
//!   set with a longer TTL. Once the entry has expired the walk asks the
//!   parent again, and a delegation removed there is gone.
//!
//! # Expired data (RFC 8767)
//!
//! An entry whose TTL ran out is no longer given by [`RrsetCache::get`]
//! (nor used for delegations), but it is kept for up to the cache's
//! `max_stale` past its expiry (still charged against the byte budget and
//! LRU-evicted like any entry), so [`RrsetCache::get_stale`] can give it
//! to a client when the zone's servers cannot be reached (serve-stale).
//! Every entry also remembers the TTL it was stored with, so a hit can
//! tell how much of its life is left ([`RrsetCache::expiry`], for
//! prefetching).

use std::borrow::{Borrow, Cow};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::time::Duration;

use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::Restrict;
use hickory_proto::serialize::binary::{
    BinDecodable as _, BinDecoder, BinEncodable, BinEncoder, NameEncoding,
};
use tokio::time::Instant;

use super::wire::{Ancestors, KeyBuf, MAX_NAME_WIRE, owner_of};
use super::{HeapSize, NameScope, ShardedLru, Trust, remaining_secs};

/// What DNSSEC validation said of a cached RRset (RFC 4035 §4.3). Rides
/// with the RRset, as its trust and expiry do. A bogus RRset is kept only
/// so a client that set CD can have it (RFC 4035 §3.2.2) and the others
/// get SERVFAIL without the work being done again; the cache does not
/// judge, its readers do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Validation {
    /// Not validated (no validator ran, or it was not asked to).
    #[default]
    Unchecked,
    /// A chain of trust from an anchor proves it (RFC 4035 §4.3 "Secure").
    Secure,
    /// Proven to sit below an unsigned delegation ("Insecure").
    Insecure,
    /// Should be signed and the signatures fail ("Bogus"), with the
    /// Extended DNS Error code that says why (RFC 8914 §4: 6 DNSSEC Bogus,
    /// 7 Signature Expired, 9 DNSKEY Missing...), so an answer from the
    /// cache names the same breakage as the first. One byte (the codes
    /// defined so far are below 32), so an entry's metadata stays 24 bytes.
    Bogus(u8),
    /// Whether it should be signed could not be found out
    /// ("Indeterminate").
    Indeterminate,
}

impl Validation {
    /// Whether this is [`Validation::Bogus`].
    pub fn is_bogus(self) -> bool {
        matches!(self, Validation::Bogus(_))
    }
}

/// One stored RRset in one allocation, which is also the map key:
///
/// ```text
/// [owner length: u8][owner, wire form, lowercased][type: u16][class: u16]
/// [records: u16]
/// [rdlength: u16][rdata] ...     one per record, names uncompressed
/// [rdlength: u16][rdata] ...     one per RRSIG covering the set, if any
/// ```
///
/// The key part (owner, type, class) is what it hashes and compares by,
/// and what a lookup borrows it as (a `[u8]` built on the stack), so no
/// second copy of the owner is kept. The TTL is not here: it is the
/// entry's expiry ([`Meta`]), the same for every record of the set and
/// its signatures (RFC 4035 §5.3.3 caps the set's TTL by theirs).
struct Blob(Box<[u8]>);

impl Blob {
    /// The key part: owner, type, class.
    fn key(&self) -> &[u8] {
        let owner = usize::from(self.0.first().copied().unwrap_or(0));
        self.0.get(1..1 + owner + 4).unwrap_or(&[])
    }

    /// How many of the (rdlength, rdata) pairs are the set's records;
    /// the rest are its RRSIGs.
    fn record_count(&self) -> usize {
        let at = 1 + usize::from(self.0.first().copied().unwrap_or(0)) + 4;
        match self.0.get(at..at + 2) {
            Some(&[high, low]) => usize::from(u16::from_be_bytes([high, low])),
            _ => 0,
        }
    }

    /// The records part: (rdlength, rdata) pairs, the records' then the
    /// RRSIGs'.
    fn records(&self) -> &[u8] {
        let owner = usize::from(self.0.first().copied().unwrap_or(0));
        self.0.get(1 + owner + 4 + 2..).unwrap_or(&[])
    }
}

impl Hash for Blob {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // As `[u8]` hashes, so a borrowed key finds the blob.
        self.key().hash(state);
    }
}

impl PartialEq for Blob {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Blob {}

impl Borrow<[u8]> for Blob {
    fn borrow(&self) -> &[u8] {
        self.key()
    }
}

impl HeapSize for Blob {
    fn heap_size(&self) -> usize {
        self.0.heap_size()
    }
}

/// What rides with a stored RRset besides its records.
#[derive(Clone, Copy)]
struct Meta {
    expires: Instant,
    /// The TTL it was stored with, in seconds.
    ttl: u32,
    trust: Trust,
    validation: Validation,
}

impl HeapSize for Meta {
    fn heap_size(&self) -> usize {
        0
    }
}

/// An entry's metadata stays within 24 bytes: it is paid once per cached
/// RRset.
const _: () = assert!(std::mem::size_of::<Meta>() <= 24);

/// An RRset read from the cache.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedRrset {
    /// The records, each with its TTL set to the seconds remaining. The
    /// owner name is spelled as it was asked for (the cache compares names
    /// without case, RFC 4343, and keeps only the lowercased form).
    pub records: Vec<Record>,
    /// Credibility of the data when it was stored.
    pub trust: Trust,
    /// Seconds remaining before the entry expires (never 0 for a live entry).
    pub ttl: u32,
    /// What DNSSEC validation said of it.
    pub validation: Validation,
    /// The RRSIGs that covered it when it was stored (for clients that set
    /// DO, RFC 4035 §3.2.1), TTLs as the records'; empty for unsigned data.
    pub rrsigs: Vec<Record>,
    /// Whether its TTL has run out (only [`RrsetCache::get_stale`] gives
    /// such an entry; then `ttl` and the records' TTLs are 0).
    pub expired: bool,
}

/// The addresses of a cached A or AAAA RRset: see
/// [`RrsetCache::addresses`].
#[derive(Debug, Clone, PartialEq)]
pub struct CachedAddresses {
    /// One per record, in the RRset's order.
    pub addrs: Vec<IpAddr>,
    /// Credibility of the data when it was stored.
    pub trust: Trust,
    /// Seconds remaining before the entry expires (never 0).
    pub ttl: u32,
    /// What DNSSEC validation said of it.
    pub validation: Validation,
}

/// When a cached RRset expires and the TTL it was stored with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    /// When its TTL runs out.
    pub expires: Instant,
    /// The TTL it was stored with, in seconds (capped at `max_ttl`).
    pub ttl: u32,
}

/// RRsets keyed by (owner, type, class), sharded LRU bounded in bytes,
/// credibility-ranked.
///
/// Shareable across threads (`Send + Sync`); every method takes `&self`.
pub struct RrsetCache {
    entries: ShardedLru<Blob, Meta>,
    max_ttl: Duration,
    max_stale: Duration,
}

impl RrsetCache {
    /// A cache holding at most `budget` bytes (each RRset charged its wire
    /// form plus a fixed overhead, see [`super::entry_charge`]) that
    /// honours TTLs up to `max_ttl` (RFC 8767 §4 caps at 7 days; see
    /// [`crate::config::MAX_TTL`]).
    /// Expired entries are dropped as soon as a lookup finds them; see
    /// [`RrsetCache::keeping_stale`].
    pub fn new(budget: usize, max_ttl: Duration) -> Self {
        Self {
            entries: ShardedLru::new(budget),
            max_ttl,
            max_stale: Duration::ZERO,
        }
    }

    /// The same cache, keeping expired entries for up to `max_stale`
    /// past their expiry for [`RrsetCache::get_stale`] (RFC 8767 §4; the
    /// resolver passes [`crate::config::MAX_STALE_AGE`] or the limit set).
    pub fn keeping_stale(mut self, max_stale: Duration) -> Self {
        self.max_stale = max_stale;
        self
    }

    /// Stores one RRset (all records share name, type, class; owner compared
    /// case-insensitively, key lowercased), not validated.
    ///
    /// The TTL is the lowest TTL of the records (RFC 2181 §5.2 says the TTLs
    /// of an RRset must agree; a mixed set is treated as its minimum), capped
    /// at `max_ttl`; a TTL of 0 is not stored (RFC 1035 §3.2.1). Replaces a
    /// live entry only when `trust` is at least the old entry's (RFC 2181
    /// §5.4.1); an expired entry is always replaced. An NS RRset replacing a
    /// live one keeps the old expiry when that is earlier (see the module
    /// docs: ghost domains). Returns whether it was stored; an empty slice,
    /// records that do not form one RRset, or an RRset larger than the
    /// cache's budget slice are not.
    pub fn insert(&self, records: &[Record], trust: Trust, now: Instant) -> bool {
        self.insert_validated(records, trust, Validation::Unchecked, now)
    }

    /// [`RrsetCache::insert`] with what DNSSEC validation said of the set.
    pub fn insert_validated(
        &self,
        records: &[Record],
        trust: Trust,
        validation: Validation,
        now: Instant,
    ) -> bool {
        self.insert_signed(records, &[], trust, validation, now)
    }

    /// [`RrsetCache::insert_validated`] with the RRSIGs that cover the set
    /// (`rrsigs`: owner and covered type those of `records`; any other
    /// record in it makes the insert fail), kept beside it for clients
    /// that ask with DO. The TTL is the lowest of the records' and the
    /// RRSIGs' (RFC 4035 §5.3.3: the validator has already lowered the
    /// records' to what the signatures allow).
    pub fn insert_signed(
        &self,
        records: &[Record],
        rrsigs: &[Record],
        trust: Trust,
        validation: Validation,
        now: Instant,
    ) -> bool {
        let ttl = records
            .iter()
            .chain(rrsigs)
            .map(|r| r.ttl)
            .min()
            .unwrap_or(0);
        let ttl = Duration::from_secs(u64::from(ttl)).min(self.max_ttl);
        if ttl.as_secs() == 0 {
            return false;
        }
        let (Some(blob), Some(lookup)) = (
            encode(records, rrsigs),
            records
                .first()
                .and_then(|r| key(&r.name, r.record_type(), r.dns_class)),
        ) else {
            return false;
        };
        let lookup = lookup.as_slice();
        let mut meta = Meta {
            expires: now + ttl,
            ttl: u32::try_from(ttl.as_secs()).unwrap_or(u32::MAX),
            trust,
            validation,
        };
        let is_ns = records.first().map(Record::record_type) == Some(RecordType::NS);
        self.entries.with_shard(lookup, |shard| {
            if let Some(old) = shard.peek(lookup)
                && remaining_secs(old.expires, now) > 0
            {
                if old.trust > trust {
                    return false;
                }
                if is_ns {
                    meta.expires = meta.expires.min(old.expires);
                }
            }
            shard.put(blob, meta)
        })
    }

    /// The live RRset of class IN for (`name`, `rtype`), each record's TTL
    /// set to the seconds remaining. An expired entry is dropped.
    pub fn get(&self, name: &Name, rtype: RecordType, now: Instant) -> Option<CachedRrset> {
        self.get_class(name, rtype, DNSClass::IN, now)
    }

    /// Like [`RrsetCache::get`], but only answer-ranked data
    /// ([`Trust::is_answer`]): what may be given to a client (RFC 2181
    /// §5.4.1). Glue or a referral's NS set gives `None`, so the zone itself
    /// is asked.
    pub fn get_answer(&self, name: &Name, rtype: RecordType, now: Instant) -> Option<CachedRrset> {
        self.get(name, rtype, now)
            .filter(|cached| cached.trust.is_answer())
    }

    /// Like [`RrsetCache::get`] for a class other than IN.
    pub fn get_class(
        &self,
        name: &Name,
        rtype: RecordType,
        class: DNSClass,
        now: Instant,
    ) -> Option<CachedRrset> {
        self.read(name, rtype, class, now, false)
    }

    /// The RRset of class IN for (`name`, `rtype`), live or expired less
    /// than `max_stale` ago (RFC 8767): a live one as [`RrsetCache::get`]
    /// gives it, an expired one with `expired` set and TTLs 0 (the caller
    /// gives the client its own stale TTL). Any trust: the caller decides
    /// what may answer. Does not change what [`RrsetCache::get`] sees.
    pub fn get_stale(&self, name: &Name, rtype: RecordType, now: Instant) -> Option<CachedRrset> {
        self.read(name, rtype, DNSClass::IN, now, true)
    }

    /// When the entry for (`name`, `rtype`, IN) expires and the TTL it was
    /// stored with, live or not; a peek, no decoding, no change of the LRU
    /// order. For deciding whether a hit is due for a prefetch.
    pub fn expiry(&self, name: &Name, rtype: RecordType) -> Option<Expiry> {
        let key = key(name, rtype, DNSClass::IN)?;
        let key = key.as_slice();
        self.entries.with_shard(key, |shard| {
            shard.peek(key).map(|meta| Expiry {
                expires: meta.expires,
                ttl: meta.ttl,
            })
        })
    }

    /// Whether an entry that expired at `expires` is past keeping at `now`.
    fn past_stale(&self, expires: Instant, now: Instant) -> bool {
        now.saturating_duration_since(expires) >= self.max_stale
    }

    /// The live RRsets of class IN and type `rtype` at `name` and at
    /// each of its ancestors, from the root down ([`Iterator::rev`] for
    /// the deepest first), each with its owner (`name`'s last labels, in
    /// the case asked). Unlike a [`RrsetCache::get`] per ancestor, the key
    /// is built once and an ancestor with nothing cached costs no hickory
    /// `Name`. For the closest cached zone cut, and a DNAME above a name.
    pub fn enclosing<'a>(
        &'a self,
        name: &'a Name,
        rtype: RecordType,
        now: Instant,
    ) -> Enclosing<'a> {
        let walk = Ancestors::new(name).and_then(|mut walk| {
            let [t0, t1] = u16::from(rtype).to_be_bytes();
            let [c0, c1] = u16::from(DNSClass::IN).to_be_bytes();
            walk.set_tail(&[t0, t1, c0, c1])?;
            Some(walk)
        });
        let back = walk.as_ref().map_or(0, |walk| walk.labels() + 1);
        Enclosing {
            cache: self,
            name,
            rtype,
            now,
            walk,
            front: 0,
            back,
        }
    }

    /// The entry for (`name`, `rtype`, `class`): live only, or (`stale`)
    /// also expired within `max_stale`. An entry past keeping is dropped;
    /// an expired one not given is left as it is, its LRU place untouched.
    fn read(
        &self,
        name: &Name,
        rtype: RecordType,
        class: DNSClass,
        now: Instant,
        stale: bool,
    ) -> Option<CachedRrset> {
        let key = key(name, rtype, class)?;
        self.read_key(
            key.as_slice(),
            || Cow::Borrowed(name),
            rtype,
            class,
            now,
            stale,
        )
        .map(|(_, found)| found)
    }

    /// [`RrsetCache::read`] by key, with the owner: `owner` spells the
    /// key's name for the records read, and is called only on a hit.
    fn read_key<'n>(
        &self,
        key: &[u8],
        owner: impl FnOnce() -> Cow<'n, Name>,
        rtype: RecordType,
        class: DNSClass,
        now: Instant,
        stale: bool,
    ) -> Option<(Cow<'n, Name>, CachedRrset)> {
        self.read_entry(key, now, stale, |blob, meta, ttl| {
            let owner = owner();
            let (records, rrsigs) = decode(blob, &owner, rtype, class, ttl)?;
            let found = CachedRrset {
                records,
                trust: meta.trust,
                ttl,
                validation: meta.validation,
                rrsigs,
                expired: ttl == 0,
            };
            Some((owner, found))
        })
    }

    /// The entry under `key` as `read` makes it (given the blob, its
    /// metadata and the seconds remaining): live only, or (`stale`) also
    /// expired within `max_stale`. An entry past keeping is dropped; an
    /// expired one not given is left as it is, its LRU place untouched.
    /// One `read` cannot read is dropped too.
    fn read_entry<T>(
        &self,
        key: &[u8],
        now: Instant,
        stale: bool,
        read: impl FnOnce(&Blob, Meta, u32) -> Option<T>,
    ) -> Option<T> {
        self.entries.with_shard(key, |shard| {
            let expires = shard.peek(key)?.expires;
            let ttl = remaining_secs(expires, now);
            if ttl == 0 {
                if self.past_stale(expires, now) {
                    shard.pop(key);
                    return None;
                }
                if !stale {
                    return None;
                }
            }
            let (blob, meta) = shard.get_key_value(key)?;
            match read(blob, *meta, ttl) {
                Some(found) => Some(found),
                None => {
                    // Encoded by `insert`, so this does not happen; were it
                    // to, the entry is useless and goes.
                    shard.pop(key);
                    None
                }
            }
        })
    }

    /// The addresses in the live A or AAAA RRset (`rtype`) of class IN at
    /// `name`, with its trust and verdict: what [`RrsetCache::get`] gives,
    /// read straight from the stored rdata, with no `Record` built and no
    /// owner name copied for each. For finding a name server's addresses,
    /// which needs nothing else of the records. An A record with empty
    /// rdata (RFC 2136's "any", which `get` gives as such) has no address;
    /// any other type gives `None`.
    pub fn addresses(
        &self,
        name: &Name,
        rtype: RecordType,
        now: Instant,
    ) -> Option<CachedAddresses> {
        let width = match rtype {
            RecordType::A => 4,
            RecordType::AAAA => 16,
            _ => return None,
        };
        let key = key(name, rtype, DNSClass::IN)?;
        self.read_entry(key.as_slice(), now, false, |blob, meta, ttl| {
            let mut addrs = Vec::with_capacity(blob.record_count());
            let mut rest = blob.records();
            for _ in 0..blob.record_count() {
                let (length, tail) = rest.split_first_chunk::<2>()?;
                let length = usize::from(u16::from_be_bytes(*length));
                let (rdata, tail) = tail.split_at_checked(length)?;
                rest = tail;
                // An address is exactly 4 or 16 bytes, as `get`'s decoder
                // insists; empty rdata is no address, other lengths no
                // record of the type at all.
                let addr = match length {
                    0 => continue,
                    4 if width == 4 => IpAddr::from(<[u8; 4]>::try_from(rdata).ok()?),
                    16 if width == 16 => IpAddr::from(<[u8; 16]>::try_from(rdata).ok()?),
                    _ => return None,
                };
                addrs.push(addr);
            }
            Some(CachedAddresses {
                addrs,
                trust: meta.trust,
                ttl,
                validation: meta.validation,
            })
        })
    }

    /// Drops the entry for (`name`, `rtype`, IN), if any; returns whether one
    /// was there.
    pub fn remove(&self, name: &Name, rtype: RecordType) -> bool {
        let Some(key) = key(name, rtype, DNSClass::IN) else {
            return false;
        };
        let key = key.as_slice();
        self.entries
            .with_shard(key, |shard| shard.pop(key).is_some())
    }

    /// Drops every RRset whose owner is in `scope`; how many.
    pub fn remove_scope(&self, scope: &NameScope) -> usize {
        let Some(scope) = scope.wire() else {
            return 0;
        };
        self.entries.retain(|blob, _| !scope.covers(blob.key()))
    }

    /// Every live RRset, its records' TTLs the seconds remaining, in no
    /// particular order. Walks the whole cache (one shard locked at a
    /// time): for `dump-cache`, not for the query path.
    pub fn dump(&self, now: Instant) -> Vec<CachedRrset> {
        let mut out = Vec::new();
        self.entries.for_each(|blob, meta| {
            let ttl = remaining_secs(meta.expires, now);
            if ttl == 0 {
                return;
            }
            let Some((owner, rtype, class)) = parse_key(blob.key()) else {
                return;
            };
            if let Some((records, rrsigs)) = decode(blob, &owner, rtype, class, ttl) {
                out.push(CachedRrset {
                    records,
                    trust: meta.trust,
                    ttl,
                    validation: meta.validation,
                    rrsigs,
                    expired: false,
                });
            }
        });
        out
    }

    /// RRsets held, expired ones not yet evicted included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache holds no entry at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes charged for the RRsets held: never more than
    /// [`RrsetCache::budget`].
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
    /// RRsets' charges and within the budget. Walks the whole cache: for
    /// tests and fuzzing, not for the query path.
    pub fn audit(&self) -> Result<(), super::AccountingError> {
        self.entries.audit()
    }
}

/// The live RRsets of one type at a name and its ancestors: see
/// [`RrsetCache::enclosing`]. Each step is one lookup.
pub struct Enclosing<'a> {
    cache: &'a RrsetCache,
    name: &'a Name,
    rtype: RecordType,
    now: Instant,
    /// `None` for a name too long to be a DNS name: nothing to walk.
    walk: Option<Ancestors>,
    /// Label counts still to look at: `front..back` (0 is the root).
    front: usize,
    back: usize,
}

impl Enclosing<'_> {
    /// Without the name itself: its proper ancestors only.
    pub fn without_name(mut self) -> Self {
        let labels = self.walk.as_ref().map_or(0, Ancestors::labels);
        self.back = self.back.min(labels);
        self
    }

    /// Without the root.
    pub fn without_root(mut self) -> Self {
        self.front = self.front.max(1);
        self
    }

    /// The RRset at the ancestor with `labels` labels, with its owner.
    fn at(&self, labels: usize) -> Option<(Name, CachedRrset)> {
        let walk = self.walk.as_ref()?;
        let owner = || {
            if labels == walk.labels() {
                Cow::Borrowed(self.name)
            } else {
                Cow::Owned(self.name.trim_to(labels))
            }
        };
        let (owner, found) = self.cache.read_key(
            walk.key(labels)?,
            owner,
            self.rtype,
            DNSClass::IN,
            self.now,
            false,
        )?;
        Some((owner.into_owned(), found))
    }
}

impl Iterator for Enclosing<'_> {
    type Item = (Name, CachedRrset);

    fn next(&mut self) -> Option<Self::Item> {
        while self.front < self.back {
            let labels = self.front;
            self.front += 1;
            if let Some(found) = self.at(labels) {
                return Some(found);
            }
        }
        None
    }
}

impl DoubleEndedIterator for Enclosing<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        while self.front < self.back {
            self.back -= 1;
            if let Some(found) = self.at(self.back) {
                return Some(found);
            }
        }
        None
    }
}

/// The lookup key of (`name`, `rtype`, `class`), on the stack; `None` for
/// a name too long to be a DNS name.
fn key(name: &Name, rtype: RecordType, class: DNSClass) -> Option<KeyBuf> {
    let mut key = KeyBuf::default();
    key.push_name(name)?;
    key.push(&u16::from(rtype).to_be_bytes())?;
    key.push(&u16::from(class).to_be_bytes())?;
    Some(key)
}

/// The owner (lowercase), type and class of a stored key.
fn parse_key(key: &[u8]) -> Option<(Name, RecordType, DNSClass)> {
    let owner = owner_of(key)?;
    let name = Name::read(&mut BinDecoder::new(owner)).ok()?;
    let rest = key.get(owner.len()..owner.len() + 4)?;
    let rtype = RecordType::from(u16::from_be_bytes([rest[0], rest[1]]));
    let class = DNSClass::from(u16::from_be_bytes([rest[2], rest[3]]));
    Some((name, rtype, class))
}

/// `records` and the `rrsigs` covering them as one [`Blob`], if they form
/// one RRset: at least one record, all sharing owner (ignoring case), type
/// and class, each RRSIG of that owner and class covering that type, each
/// rdata encodable in 65535 bytes, at most 65535 records.
fn encode(records: &[Record], rrsigs: &[Record]) -> Option<Blob> {
    let first = records.first()?;
    let (rtype, class) = (first.record_type(), first.dns_class);
    if !records
        .iter()
        .all(|r| r.record_type() == rtype && r.dns_class == class && r.name == first.name)
    {
        return None;
    }
    if !rrsigs
        .iter()
        .all(|sig| sig.dns_class == class && sig.name == first.name && covered(sig) == Some(rtype))
    {
        return None;
    }
    let owner = key(&first.name, rtype, class)?;
    let owner = owner.as_slice();
    let owner_len = u8::try_from(owner.len() - 4).ok()?;
    let count = u16::try_from(records.len()).ok()?;
    let mut blob = Vec::with_capacity(1 + owner.len() + 2 + records.len() * 8);
    blob.push(owner_len);
    blob.extend_from_slice(owner);
    blob.extend_from_slice(&count.to_be_bytes());
    let mut rdata = Vec::new();
    for record in records.iter().chain(rrsigs) {
        rdata.clear();
        let mut encoder = BinEncoder::new(&mut rdata);
        // Uncompressed: a pointer would point into a message that is gone.
        encoder.set_name_encoding(NameEncoding::Uncompressed);
        record.data.emit(&mut encoder).ok()?;
        let length = u16::try_from(rdata.len()).ok()?;
        blob.extend_from_slice(&length.to_be_bytes());
        blob.extend_from_slice(&rdata);
    }
    Some(Blob(blob.into_boxed_slice()))
}

use crate::validate::covered_type as covered;

/// The records of `blob` and the RRSIGs stored with them, owned by `owner`
/// (its key's name, in the case asked), each with `ttl`; `None` if the
/// bytes do not decode.
fn decode(
    blob: &Blob,
    owner: &Name,
    rtype: RecordType,
    class: DNSClass,
    ttl: u32,
) -> Option<(Vec<Record>, Vec<Record>)> {
    let count = blob.record_count();
    let mut decoder = BinDecoder::new(blob.records());
    let mut records = Vec::with_capacity(count);
    let mut rrsigs = Vec::new();
    while !decoder.is_empty() {
        let rdtype = if records.len() < count {
            rtype
        } else {
            RecordType::RRSIG
        };
        let length = decoder.read_u16().ok()?.unverified();
        // As `Record::read` does: empty rdata is RFC 2136's "any".
        let data = if length == 0 {
            RData::Update0(rdtype)
        } else {
            RData::read(&mut decoder, rdtype, Restrict::new(length)).ok()?
        };
        let mut record = Record::from_rdata(owner.clone(), ttl, data);
        record.dns_class = class;
        if records.len() < count {
            records.push(record);
        } else {
            rrsigs.push(record);
        }
    }
    Some((records, rrsigs))
}

/// Bytes an RRset of `records` is charged in a cache (its blob, LRU node
/// and hash-table share); `None` when they do not form one RRset.
pub fn rrset_charge(records: &[Record]) -> Option<usize> {
    signed_rrset_charge(records, &[])
}

/// Bytes an RRset of `records` stored with the RRSIGs `rrsigs` is charged
/// (see [`RrsetCache::insert_signed`]); `None` when they do not form one
/// signed RRset.
pub fn signed_rrset_charge(records: &[Record], rrsigs: &[Record]) -> Option<usize> {
    let blob = encode(records, rrsigs)?;
    let meta = Meta {
        expires: Instant::now(),
        ttl: 0,
        trust: Trust::Glue,
        validation: Validation::Unchecked,
    };
    Some(super::entry_charge(&blob, &meta))
}

/// Longest key: owner, type and class.
const _: () = assert!(MAX_NAME_WIRE + 4 <= super::wire::KEY_CAPACITY);

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::sync::Arc;

    use hickory_proto::rr::RData;
    use hickory_proto::rr::rdata::{A, NS};

    use hickory_proto::dnssec::rdata::DNSSECRData;

    use super::*;

    const BUDGET: usize = 1 << 20;

    const DAY: Duration = Duration::from_secs(86_400);

    fn name(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    fn a(owner: &str, ttl: u32, last: u8) -> Record {
        Record::from_rdata(
            name(owner),
            ttl,
            RData::A(A(Ipv4Addr::new(192, 0, 2, last))),
        )
    }

    fn ns(owner: &str, ttl: u32, target: &str) -> Record {
        Record::from_rdata(name(owner), ttl, RData::NS(NS(name(target))))
    }

    fn addr(cached: &CachedRrset) -> Vec<u8> {
        cached
            .records
            .iter()
            .map(|r| match &r.data {
                RData::A(a) => a.0.octets()[3],
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    }

    /// An RRSIG at `owner` covering `covered` with `ttl` (signature bytes
    /// not meaningful: the cache does not check them).
    fn rrsig(owner: &str, covered: RecordType, ttl: u32) -> Record {
        use hickory_proto::dnssec::Algorithm;
        use hickory_proto::dnssec::rdata::RRSIG;
        use hickory_proto::dnssec::rdata::sig::SigInput;
        use hickory_proto::rr::SerialNumber;
        let input = SigInput {
            type_covered: covered,
            algorithm: Algorithm::ED25519,
            num_labels: name(owner).num_labels(),
            original_ttl: ttl,
            sig_expiration: SerialNumber::new(2_000_000_000),
            sig_inception: SerialNumber::new(1_000_000_000),
            key_tag: 4242,
            signer_name: name("example."),
        };
        let data = RRSIG::from_sig(input, vec![7; 64]);
        Record::from_rdata(name(owner), ttl, RData::DNSSEC(DNSSECRData::RRSIG(data)))
    }

    /// The RRsets at a name and its ancestors, each looked up by a slice
    /// of the name's key: the owners are the name's last labels in the
    /// case asked, root first (`rev` for the deepest first), the bounds
    /// drop the name and the root, other types and names are not seen.
    #[test]
    fn enclosing_walks_every_ancestor_by_suffix() {
        let cache = RrsetCache::new(BUDGET, DAY);
        let now = Instant::now();
        for owner in [".", "tld.", "a.tld.", "c.b.a.tld."] {
            assert!(cache.insert(&[ns(owner, 300, "ns.tld.")], Trust::Referral, now));
        }
        assert!(cache.insert(&[a("b.a.tld.", 300, 1)], Trust::AuthAnswer, now));
        assert!(cache.insert(&[ns("x.b.a.tld.", 300, "ns.tld.")], Trust::Referral, now));
        let qname = name("C.B.A.TLD.");
        let owners = |walk: Enclosing<'_>| {
            walk.map(|(owner, found)| {
                assert_eq!(found.records[0].name, owner);
                owner.to_string()
            })
            .collect::<Vec<_>>()
        };
        let walk = || cache.enclosing(&qname, RecordType::NS, now);
        assert_eq!(owners(walk()), [".", "TLD.", "A.TLD.", "C.B.A.TLD."]);
        assert_eq!(
            walk().next_back().map(|(owner, _)| owner.to_string()),
            Some("C.B.A.TLD.".to_string()),
            "the closest cut is the deepest"
        );
        assert_eq!(owners(walk().without_name()), [".", "TLD.", "A.TLD."]);
        assert_eq!(
            owners(walk().without_root().without_name()),
            ["TLD.", "A.TLD."]
        );
        let deeper = name("e.d.c.b.a.tld.");
        let below = cache.enclosing(&deeper, RecordType::NS, now).rev();
        assert_eq!(
            below
                .map(|(owner, _)| owner.to_string())
                .collect::<Vec<_>>(),
            ["c.b.a.tld.", "a.tld.", "tld.", "."]
        );
        let only_a = cache.enclosing(&qname, RecordType::A, now);
        assert_eq!(owners(only_a), ["B.A.TLD."]);
        let root = Name::root();
        assert_eq!(owners(cache.enclosing(&root, RecordType::NS, now)), ["."]);
        let none = cache.enclosing(&root, RecordType::NS, now).without_root();
        assert_eq!(owners(none), Vec::<String>::new());
        // Expired entries are not given.
        let later = now + Duration::from_secs(300);
        assert_eq!(cache.enclosing(&qname, RecordType::NS, later).count(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn signatures_ride_with_their_rrset() {
        let cache = RrsetCache::new(BUDGET, DAY);
        let now = Instant::now();
        let set = [a("www.example.", 300, 1), a("www.example.", 300, 2)];
        let sigs = [rrsig("www.example.", RecordType::A, 300)];
        assert!(cache.insert_signed(&set, &sigs, Trust::AuthAnswer, Validation::Secure, now));
        tokio::time::advance(Duration::from_secs(10)).await;
        let hit = cache
            .get(&name("WWW.example."), RecordType::A, Instant::now())
            .unwrap();
        assert_eq!(addr(&hit), [1, 2]);
        assert_eq!(hit.rrsigs.len(), 1);
        assert_eq!(hit.rrsigs[0].record_type(), RecordType::RRSIG);
        assert_eq!(hit.rrsigs[0].ttl, 290);
        assert_eq!(hit.rrsigs[0].name, name("WWW.example."));
        assert_eq!(covered(&hit.rrsigs[0]), Some(RecordType::A));
        assert_eq!(hit.validation, Validation::Secure);
        // Unsigned data has none.
        assert!(cache.insert(&[a("ftp.example.", 300, 3)], Trust::AuthAnswer, now));
        let hit = cache.get(&name("ftp.example."), RecordType::A, Instant::now());
        assert!(hit.unwrap().rrsigs.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_signature_lowers_the_ttl_and_a_stray_one_is_refused() {
        let cache = RrsetCache::new(BUDGET, DAY);
        let now = Instant::now();
        let set = [a("www.example.", 300, 1)];
        let short = [rrsig("www.example.", RecordType::A, 60)];
        assert!(cache.insert_signed(&set, &short, Trust::AuthAnswer, Validation::Secure, now));
        let hit = cache
            .get(&name("www.example."), RecordType::A, now)
            .unwrap();
        assert_eq!((hit.ttl, hit.records[0].ttl), (60, 60));
        // An RRSIG over another type, or at another owner, is not this
        // set's: nothing is stored.
        let wrong_type = [rrsig("ftp.example.", RecordType::AAAA, 300)];
        let wrong_owner = [rrsig("www2.example.", RecordType::A, 300)];
        let ftp = [a("ftp.example.", 300, 2)];
        assert!(!cache.insert_signed(
            &ftp,
            &wrong_type,
            Trust::AuthAnswer,
            Validation::Secure,
            now
        ));
        assert!(!cache.insert_signed(
            &ftp,
            &wrong_owner,
            Trust::AuthAnswer,
            Validation::Secure,
            now
        ));
        assert!(
            cache
                .get(&name("ftp.example."), RecordType::A, now)
                .is_none()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn ttl_counts_down_and_expires() {
        let cache = RrsetCache::new(BUDGET, DAY);
        let start = Instant::now();
        assert!(cache.insert(&[a("www.example.", 300, 1)], Trust::AuthAnswer, start));

        let hit = cache.get(&name("www.example."), RecordType::A, Instant::now());
        let hit = hit.unwrap();
        assert_eq!(hit.ttl, 300);
        assert_eq!(hit.records[0].ttl, 300);
        assert_eq!(hit.trust, Trust::AuthAnswer);

        tokio::time::advance(Duration::from_secs(100)).await;
        let hit = cache.get(&name("www.example."), RecordType::A, Instant::now());
        assert_eq!(hit.map(|h| (h.ttl, h.records[0].ttl)), Some((200, 200)));

        tokio::time::advance(Duration::from_millis(199_500)).await;
        // Half a second left rounds down to 0: dropped rather than served.
        assert!(
            cache
                .get(&name("www.example."), RecordType::A, Instant::now())
                .is_none()
        );
        assert_eq!(cache.len(), 0, "expired entry is dropped on lookup");
    }

    #[tokio::test(start_paused = true)]
    async fn last_second_still_served() {
        let cache = RrsetCache::new(BUDGET, DAY);
        assert!(cache.insert(&[a("x.example.", 2, 1)], Trust::AuthAnswer, Instant::now()));
        tokio::time::advance(Duration::from_secs(1)).await;
        let hit = cache.get(&name("x.example."), RecordType::A, Instant::now());
        assert_eq!(hit.map(|h| h.ttl), Some(1));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(
            cache
                .get(&name("x.example."), RecordType::A, Instant::now())
                .is_none()
        );
    }

    #[test]
    fn ttl_is_minimum_of_records_and_capped() {
        let cache = RrsetCache::new(BUDGET, Duration::from_secs(3600));
        let now = Instant::now();
        let set = [a("m.example.", 600, 1), a("m.example.", 60, 2)];
        assert!(cache.insert(&set, Trust::AuthAnswer, now));
        let hit = cache.get(&name("m.example."), RecordType::A, now).unwrap();
        assert_eq!(hit.ttl, 60);
        assert!(hit.records.iter().all(|r| r.ttl == 60));
        assert_eq!(addr(&hit), vec![1, 2]);

        assert!(cache.insert(&[a("long.example.", 604_800, 1)], Trust::AuthAnswer, now));
        let hit = cache
            .get(&name("long.example."), RecordType::A, now)
            .unwrap();
        assert_eq!(hit.ttl, 3600);
    }

    #[test]
    fn ttl_zero_is_not_stored() {
        let cache = RrsetCache::new(BUDGET, DAY);
        let now = Instant::now();
        assert!(!cache.insert(&[a("z.example.", 0, 1)], Trust::AuthAnswer, now));
        assert!(!cache.insert(
            &[a("z.example.", 30, 1), a("z.example.", 0, 2)],
            Trust::AuthAnswer,
            now
        ));
        assert!(cache.get(&name("z.example."), RecordType::A, now).is_none());
        assert!(cache.is_empty());

        let tiny = RrsetCache::new(BUDGET, Duration::from_millis(500));
        assert!(!tiny.insert(&[a("z.example.", 30, 1)], Trust::AuthAnswer, now));
    }

    #[test]
    fn rejects_what_is_not_one_rrset() {
        let cache = RrsetCache::new(BUDGET, DAY);
        let now = Instant::now();
        assert!(!cache.insert(&[], Trust::AuthAnswer, now));
        let mixed_names = [a("a.example.", 60, 1), a("b.example.", 60, 2)];
        assert!(!cache.insert(&mixed_names, Trust::AuthAnswer, now));
        let mixed_types = [a("a.example.", 60, 1), ns("a.example.", 60, "ns.example.")];
        assert!(!cache.insert(&mixed_types, Trust::AuthAnswer, now));
        assert!(cache.is_empty());
        // Case alone does not split a set (RFC 4343).
        let cased = [a("a.example.", 60, 1), a("A.Example.", 60, 2)];
        assert!(cache.insert(&cased, Trust::AuthAnswer, now));
    }

    #[test]
    fn glue_cannot_replace_auth_answer() {
        let cache = RrsetCache::new(BUDGET, DAY);
        let now = Instant::now();
        assert!(cache.insert(&[a("ns1.example.", 3600, 1)], Trust::AuthAnswer, now));
        assert!(!cache.insert(&[a("ns1.example.", 3600, 9)], Trust::Glue, now));
        assert!(!cache.insert(&[a("ns1.example.", 3600, 9)], Trust::Referral, now));
        assert!(!cache.insert(&[a("ns1.example.", 3600, 9)], Trust::AuthAuthority, now));
        let hit = cache
            .get(&name("ns1.example."), RecordType::A, now)
            .unwrap();
        assert_eq!(addr(&hit), vec![1]);
        assert_eq!(hit.trust, Trust::AuthAnswer);
    }

    #[test]
    fn auth_answer_replaces_glue_and_equal_trust_refreshes() {
        let cache = RrsetCache::new(BUDGET, DAY);
        let now = Instant::now();
        assert!(cache.insert(&[a("ns1.example.", 172_800, 1)], Trust::Glue, now));
        assert!(cache.insert(&[a("ns1.example.", 3600, 2)], Trust::AuthAnswer, now));
        let hit = cache
            .get(&name("ns1.example."), RecordType::A, now)
            .unwrap();
        assert_eq!(
            (addr(&hit), hit.trust, hit.ttl),
            (vec![2], Trust::AuthAnswer, 3600)
        );

        assert!(cache.insert(&[a("ns1.example.", 60, 3)], Trust::AuthAnswer, now));
        let hit = cache
            .get(&name("ns1.example."), RecordType::A, now)
            .unwrap();
        assert_eq!((addr(&hit), hit.ttl), (vec![3], 60));
    }

    #[test]
    fn glue_and_referral_ns_are_not_answers() {
        let cache = RrsetCache::new(BUDGET, DAY);
        let now = Instant::now();
        assert!(cache.insert(&[a("ns1.example.", 3600, 1)], Trust::Glue, now));
        assert!(cache.insert(
            &[ns("example.", 3600, "ns1.example.")],
            Trust::Referral,
            now
        ));
        // Still there for finding servers...
        assert!(
            cache
                .get(&name("ns1.example."), RecordType::A, now)
                .is_some()
        );
        assert!(cache.get(&name("example."), RecordType::NS, now).is_some());
        // ...but never an answer.
        assert!(
            cache
                .get_answer(&name("ns1.example."), RecordType::A, now)
                .is_none()
        );
        assert!(
            cache
                .get_answer(&name("example."), RecordType::NS, now)
                .is_none()
        );
        assert!(cache.insert(&[a("ns1.example.", 3600, 2)], Trust::AuthAnswer, now));
        let hit = cache.get_answer(&name("ns1.example."), RecordType::A, now);
        assert_eq!(hit.map(|h| addr(&h)), Some(vec![2]));
        assert!(cache.insert(
            &[ns("example.", 3600, "ns2.example.")],
            Trust::NonAuthAnswer,
            now
        ));
        assert!(
            cache
                .get_answer(&name("example."), RecordType::NS, now)
                .is_some()
        );
    }

    /// CVE-2012-1033: the child repeating its NS set with a long TTL (as an
    /// answer or in an authority section) never outlives the parent's
    /// delegation; after it expires the parent is asked again.
    #[tokio::test(start_paused = true)]
    async fn a_delegation_is_never_extended_by_a_replacing_ns_set() {
        let cache = RrsetCache::new(BUDGET, DAY);
        let zone = name("ghost.example.");
        let referral = [ns("ghost.example.", 2, "ns.ghost.example.")];
        assert!(cache.insert(&referral, Trust::Referral, Instant::now()));
        let child = [ns("ghost.example.", 86_400, "ns.ghost.example.")];
        for trust in [Trust::AuthAuthority, Trust::AuthAnswer] {
            assert!(cache.insert(&child, trust, Instant::now()));
            let hit = cache.get(&zone, RecordType::NS, Instant::now()).unwrap();
            assert_eq!((hit.trust, hit.ttl), (trust, 2));
        }
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(cache.insert(&child, Trust::AuthAnswer, Instant::now()));
        assert_eq!(
            cache
                .get(&zone, RecordType::NS, Instant::now())
                .map(|h| h.ttl),
            Some(1)
        );
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(cache.get(&zone, RecordType::NS, Instant::now()).is_none());

        // A shorter TTL is taken as it is; other types are not capped.
        assert!(cache.insert(&child, Trust::AuthAnswer, Instant::now()));
        let short = [ns("ghost.example.", 60, "ns.ghost.example.")];
        assert!(cache.insert(&short, Trust::AuthAnswer, Instant::now()));
        assert_eq!(
            cache
                .get(&zone, RecordType::NS, Instant::now())
                .map(|h| h.ttl),
            Some(60)
        );
        assert!(cache.insert(&[a("ns.ghost.example.", 2, 1)], Trust::Glue, Instant::now()));
        assert!(cache.insert(
            &[a("ns.ghost.example.", 3600, 2)],
            Trust::AuthAnswer,
            Instant::now()
        ));
        let hit = cache.get(&name("ns.ghost.example."), RecordType::A, Instant::now());
        assert_eq!(hit.map(|h| h.ttl), Some(3600));
    }

    #[tokio::test(start_paused = true)]
    async fn expired_entry_is_replaced_by_anything() {
        let cache = RrsetCache::new(BUDGET, DAY);
        assert!(cache.insert(
            &[a("ns1.example.", 10, 1)],
            Trust::AuthAnswer,
            Instant::now()
        ));
        tokio::time::advance(Duration::from_secs(9)).await;
        assert!(!cache.insert(&[a("ns1.example.", 100, 2)], Trust::Glue, Instant::now()));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(cache.insert(&[a("ns1.example.", 100, 2)], Trust::Glue, Instant::now()));
        let hit = cache
            .get(&name("ns1.example."), RecordType::A, Instant::now())
            .unwrap();
        assert_eq!((addr(&hit), hit.trust), (vec![2], Trust::Glue));
    }

    #[test]
    fn lookup_ignores_case() {
        let cache = RrsetCache::new(BUDGET, DAY);
        let now = Instant::now();
        assert!(cache.insert(
            &[ns("ExAmPle.COM.", 3600, "a.iana-servers.net.")],
            Trust::Referral,
            now
        ));
        assert!(
            cache
                .get(&name("example.com."), RecordType::NS, now)
                .is_some()
        );
        assert!(
            cache
                .get(&name("EXAMPLE.com."), RecordType::NS, now)
                .is_some()
        );
        assert!(
            cache
                .get(&name("example.com."), RecordType::A, now)
                .is_none()
        );
        assert!(
            cache
                .get(&name("example.net."), RecordType::NS, now)
                .is_none()
        );
        // Same set in another case replaces, not duplicates.
        assert!(cache.insert(
            &[ns("example.com.", 3600, "b.iana-servers.net.")],
            Trust::Referral,
            now
        ));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn other_class_is_separate() {
        let cache = RrsetCache::new(BUDGET, DAY);
        let now = Instant::now();
        let mut chaos = a("version.bind.", 60, 1);
        chaos.dns_class = DNSClass::CH;
        assert!(cache.insert(&[chaos], Trust::AuthAnswer, now));
        assert!(
            cache
                .get(&name("version.bind."), RecordType::A, now)
                .is_none()
        );
        let hit = cache.get_class(&name("version.bind."), RecordType::A, DNSClass::CH, now);
        assert!(hit.is_some());
    }

    #[test]
    fn evicts_least_recently_used_at_capacity() {
        let one = rrset_charge(&[a("three.", 60, 3)]).unwrap();
        let cache = RrsetCache::new(2 * one, DAY);
        let now = Instant::now();
        assert!(cache.insert(&[a("one.", 60, 1)], Trust::AuthAnswer, now));
        assert!(cache.insert(&[a("two.", 60, 2)], Trust::AuthAnswer, now));
        // Touch "one" so "two" becomes the least recently used.
        assert!(cache.get(&name("one."), RecordType::A, now).is_some());
        assert!(cache.insert(&[a("three.", 60, 3)], Trust::AuthAnswer, now));
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&name("two."), RecordType::A, now).is_none());
        assert!(cache.get(&name("one."), RecordType::A, now).is_some());
        assert!(cache.get(&name("three."), RecordType::A, now).is_some());
    }

    #[test]
    fn zero_budget_holds_nothing() {
        let cache = RrsetCache::new(0, DAY);
        let now = Instant::now();
        assert!(!cache.insert(&[a("one.", 60, 1)], Trust::AuthAnswer, now));
        assert_eq!((cache.len(), cache.bytes()), (0, 0));
    }

    #[test]
    fn remove_and_clear() {
        let cache = RrsetCache::new(BUDGET, DAY);
        let now = Instant::now();
        assert!(cache.insert(&[a("one.", 60, 1)], Trust::AuthAnswer, now));
        assert!(cache.insert(&[a("two.", 60, 2)], Trust::AuthAnswer, now));
        assert!(cache.remove(&name("ONE."), RecordType::A));
        assert!(!cache.remove(&name("one."), RecordType::A));
        assert_eq!(cache.len(), 1);
        cache.clear();
        assert!(cache.is_empty());
    }

    #[test]
    fn shared_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<RrsetCache>();

        let cache = Arc::new(RrsetCache::new(BUDGET, DAY));
        let now = Instant::now();
        let handles: Vec<_> = (0..4u8)
            .map(|t| {
                let cache = Arc::clone(&cache);
                std::thread::spawn(move || {
                    for i in 0..200u32 {
                        let owner = format!("h{i}.t{t}.example.");
                        assert!(cache.insert(&[a(&owner, 300, t)], Trust::AuthAnswer, now));
                        let hit = cache.get(&name(&owner), RecordType::A, now);
                        assert_eq!(hit.map(|h| addr(&h)), Some(vec![t]));
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
        assert_eq!(cache.len(), 800);
        // Every thread's data is visible from this one.
        for t in 0..4u8 {
            let hit = cache.get(&name(&format!("h199.t{t}.example.")), RecordType::A, now);
            assert_eq!(hit.map(|h| addr(&h)), Some(vec![t]));
        }
    }

    /// RRsets of most shapes come back as they went in: names in rdata
    /// keep their case and are not compressed against each other.
    #[test]
    fn records_round_trip_through_the_wire_form() {
        use hickory_proto::rr::rdata::{CNAME, MX, SOA, TXT};
        let cache = RrsetCache::new(BUDGET, DAY);
        let now = Instant::now();
        let soa = SOA::new(
            name("ns.Example."),
            name("hostmaster.example."),
            7,
            7200,
            3600,
            1_209_600,
            300,
        );
        let sets: Vec<Vec<Record>> = vec![
            vec![Record::from_rdata(name("example."), 60, RData::SOA(soa))],
            vec![
                Record::from_rdata(
                    name("example."),
                    60,
                    RData::MX(MX::new(10, name("mail.example."))),
                ),
                Record::from_rdata(
                    name("example."),
                    60,
                    RData::MX(MX::new(20, name("Mail2.example."))),
                ),
            ],
            vec![Record::from_rdata(
                name("w.example."),
                60,
                RData::CNAME(CNAME(name("Target.Example.net."))),
            )],
            vec![Record::from_rdata(
                name("t.example."),
                60,
                RData::TXT(TXT::new(vec!["a".into(), String::new(), "x".repeat(255)])),
            )],
            vec![
                ns("example.", 60, "ns1.example."),
                ns("example.", 60, "ns2.example."),
            ],
        ];
        for set in sets {
            assert!(cache.insert(&set, Trust::AuthAnswer, now));
            let hit = cache.get(&set[0].name, set[0].record_type(), now).unwrap();
            let data: Vec<&RData> = hit.records.iter().map(|r| &r.data).collect();
            let want: Vec<&RData> = set.iter().map(|r| &r.data).collect();
            assert_eq!(data, want);
            for (got, sent) in hit.records.iter().zip(&set) {
                assert_eq!(got.name, sent.name);
                assert_eq!(got.dns_class, DNSClass::IN);
            }
            if let RData::CNAME(target) = &hit.records[0].data {
                assert_eq!(target.0.to_string(), "Target.Example.net.", "case kept");
            }
        }
    }

    /// A small answer is charged 152 bytes: a 64-byte LRU node (key
    /// pointer, expiry, trust, validation, list links), a 40-byte
    /// hash-table share and a 48-byte blob (owner, type, class, one
    /// rdata). `examples/cache_rss.rs` measures about 141 bytes of RSS.
    #[test]
    fn a_small_rrset_is_charged_152_bytes() {
        assert_eq!(rrset_charge(&[a("host12345.wild.tld1.", 60, 1)]), Some(152));
        assert_eq!(std::mem::size_of::<Meta>(), 24);
    }

    #[test]
    fn validation_status_rides_with_the_rrset() {
        let cache = RrsetCache::new(BUDGET, DAY);
        let now = Instant::now();
        assert!(cache.insert(&[a("u.example.", 60, 1)], Trust::AuthAnswer, now));
        let hit = cache.get(&name("u.example."), RecordType::A, now).unwrap();
        assert_eq!(hit.validation, Validation::Unchecked);
        let set = [a("s.example.", 60, 2)];
        assert!(cache.insert_validated(&set, Trust::AuthAnswer, Validation::Secure, now));
        let hit = cache.get(&name("s.example."), RecordType::A, now).unwrap();
        assert_eq!(
            (hit.validation, hit.trust, hit.ttl),
            (Validation::Secure, Trust::AuthAnswer, 60)
        );
    }

    /// An RRset is charged about its wire form: 250 TXT records of 250
    /// bytes (a 64 KB answer) cost about 64 KB, not the several hundred
    /// bytes per record a `Record` takes.
    #[test]
    fn a_huge_rrset_costs_its_wire_size() {
        use hickory_proto::rr::rdata::TXT;
        let set: Vec<Record> = (0..250)
            .map(|i| {
                let text = format!("{i:03}{}", "x".repeat(247));
                Record::from_rdata(name("huge.example."), 60, RData::TXT(TXT::new(vec![text])))
            })
            .collect();
        let charge = rrset_charge(&set).unwrap();
        let wire = 250 * (2 + 1 + 250);
        assert!(
            charge >= wire && charge < wire + 256,
            "{charge} for {wire} bytes of rdata"
        );

        // Fits a 1 MiB cache 16 times at most, whatever the number of names.
        let cache = RrsetCache::new(BUDGET, DAY);
        let now = Instant::now();
        for n in 0..40 {
            let owner = name(&format!("h{n}.example."));
            let set: Vec<Record> = set
                .iter()
                .map(|r| {
                    let mut r = r.clone();
                    r.name = owner.clone();
                    r
                })
                .collect();
            assert!(cache.insert(&set, Trust::AuthAnswer, now));
            assert!(cache.bytes() <= BUDGET);
        }
        assert_eq!(cache.len(), BUDGET / charge);
        assert_eq!(cache.bytes(), cache.entries.recount());
        let last = cache
            .get(&name("h39.example."), RecordType::TXT, now)
            .unwrap();
        assert_eq!(last.records.len(), 250);
    }

    /// The byte count equals the sum of the entries' charges after random
    /// inserts, replacements (of other sizes), refusals, evictions,
    /// removals and expiries, and never exceeds the budget.
    #[tokio::test(start_paused = true)]
    async fn the_byte_count_is_the_sum_of_the_charges() {
        use rand::rngs::StdRng;
        use rand::{RngExt, SeedableRng};
        let mut rng = StdRng::seed_from_u64(17);
        let budget = 30_000;
        let cache = RrsetCache::new(budget, DAY);
        let trusts = [Trust::Glue, Trust::Referral, Trust::AuthAnswer];
        let mut stored = 0;
        for round in 0..5_000 {
            let owner = format!("n{}.example.", rng.random_range(0..300));
            let now = Instant::now();
            match rng.random_range(0..10) {
                0..=5 => {
                    let set: Vec<Record> = (0..rng.random_range(1..12))
                        .map(|i| a(&owner, rng.random_range(1..20), i))
                        .collect();
                    let trust = trusts[rng.random_range(0..trusts.len())];
                    stored += usize::from(cache.insert(&set, trust, now));
                }
                6 => {
                    cache.remove(&name(&owner), RecordType::A);
                }
                7 | 8 => {
                    cache.get(&name(&owner), RecordType::A, now);
                }
                _ => tokio::time::advance(Duration::from_secs(rng.random_range(1..5))).await,
            }
            assert!(cache.bytes() <= budget, "round {round}");
            if round % 50 == 0 {
                assert_eq!(cache.bytes(), cache.entries.recount(), "round {round}");
            }
        }
        assert!(stored > 1000, "{stored}");
        assert_eq!(cache.bytes(), cache.entries.recount());
        cache.clear();
        assert_eq!(cache.bytes(), 0);
    }

    /// `addresses` reads what `get` decodes: every record's address in
    /// order (not the RRSIGs stored after them), the trust and verdict of
    /// the set, no address for empty rdata, nothing for another type or
    /// name, nothing once expired even while kept for `get_stale`.
    #[tokio::test(start_paused = true)]
    async fn addresses_are_what_get_gives() {
        use hickory_proto::rr::rdata::AAAA;
        use std::net::Ipv6Addr;
        let cache = RrsetCache::new(BUDGET, DAY).keeping_stale(DAY);
        let now = Instant::now();
        let v4 = [a("ns.Example.", 300, 1), a("ns.Example.", 300, 2)];
        let sig = [rrsig("ns.Example.", RecordType::A, 300)];
        assert!(cache.insert_signed(&v4, &sig, Trust::Glue, Validation::Bogus(6), now));
        let v6: Vec<Record> = [1, 2, 3]
            .map(|last| Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, last))
            .into_iter()
            .map(|ip| Record::from_rdata(name("ns.example."), 200, RData::AAAA(AAAA(ip))))
            .collect();
        assert!(cache.insert(&v6, Trust::AuthAnswer, now));
        let any = Record::from_rdata(name("any.example."), 300, RData::Update0(RecordType::A));
        assert!(cache.insert(&[any, a("any.example.", 300, 9)], Trust::Glue, now));

        let server = name("NS.example.");
        for (owner, rtype) in [
            (&server, RecordType::A),
            (&server, RecordType::AAAA),
            (&name("any.example."), RecordType::A),
            (&name("other.example."), RecordType::A),
        ] {
            let got = cache.addresses(owner, rtype, now);
            let want = cache.get(owner, rtype, now).map(|set| CachedAddresses {
                addrs: set
                    .records
                    .iter()
                    .filter_map(|record| match &record.data {
                        RData::A(a) => Some(IpAddr::V4(a.0)),
                        RData::AAAA(a) => Some(IpAddr::V6(a.0)),
                        _ => None,
                    })
                    .collect(),
                trust: set.trust,
                ttl: set.ttl,
                validation: set.validation,
            });
            assert_eq!(got, want, "{owner} {rtype}");
        }
        let found = cache.addresses(&server, RecordType::A, now).unwrap();
        assert_eq!(
            (found.addrs.len(), found.trust, found.validation),
            (2, Trust::Glue, Validation::Bogus(6))
        );
        assert_eq!(found.addrs[1], IpAddr::from([192, 0, 2, 2]));
        assert_eq!(
            cache
                .addresses(&server, RecordType::AAAA, now)
                .unwrap()
                .addrs
                .len(),
            3
        );
        let any = cache
            .addresses(&name("any.example."), RecordType::A, now)
            .unwrap();
        assert_eq!(any.addrs, [IpAddr::from([192, 0, 2, 9])]);
        assert!(cache.addresses(&server, RecordType::NS, now).is_none());

        tokio::time::advance(Duration::from_secs(200)).await;
        assert!(
            cache
                .addresses(&server, RecordType::AAAA, Instant::now())
                .is_none()
        );
        assert!(
            cache
                .get_stale(&server, RecordType::AAAA, Instant::now())
                .is_some()
        );
        assert!(
            cache
                .addresses(&server, RecordType::A, Instant::now())
                .is_some()
        );
    }

    /// RFC 8767: an expired RRset is no longer given by `get`, but
    /// `get_stale` gives it (TTL 0, marked expired) until `max_stale` past
    /// its expiry; then it is dropped. Anything replaces it.
    #[tokio::test(start_paused = true)]
    async fn expired_rrsets_are_kept_for_get_stale_until_max_stale() {
        let cache = RrsetCache::new(BUDGET, DAY).keeping_stale(Duration::from_secs(100));
        let owner = name("old.example.");
        assert!(cache.insert(
            &[a("old.example.", 10, 1)],
            Trust::AuthAnswer,
            Instant::now()
        ));
        let live = cache
            .get_stale(&owner, RecordType::A, Instant::now())
            .unwrap();
        assert_eq!((live.ttl, live.expired), (10, false));
        let expiry = cache.expiry(&owner, RecordType::A).unwrap();
        assert_eq!(expiry.ttl, 10);
        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(cache.get(&owner, RecordType::A, Instant::now()).is_none());
        let stale = cache
            .get_stale(&owner, RecordType::A, Instant::now())
            .unwrap();
        assert_eq!((stale.ttl, stale.expired, addr(&stale)), (0, true, vec![1]));
        assert_eq!(stale.records[0].ttl, 0);
        // `get` left it in place.
        assert!(cache.get(&owner, RecordType::A, Instant::now()).is_none());
        assert!(
            cache
                .get_stale(&owner, RecordType::A, Instant::now())
                .is_some()
        );
        tokio::time::advance(Duration::from_secs(99)).await;
        assert!(
            cache
                .get_stale(&owner, RecordType::A, Instant::now())
                .is_some()
        );
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(
            cache
                .get_stale(&owner, RecordType::A, Instant::now())
                .is_none()
        );
        assert_eq!(cache.len(), 0, "dropped once past keeping");

        // A stale entry is replaced by anything, even glue.
        assert!(cache.insert(
            &[a("old.example.", 10, 1)],
            Trust::AuthAnswer,
            Instant::now()
        ));
        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(cache.insert(&[a("old.example.", 5, 2)], Trust::Glue, Instant::now()));
        let hit = cache.get(&owner, RecordType::A, Instant::now()).unwrap();
        assert_eq!((addr(&hit), hit.trust), (vec![2], Trust::Glue));
    }

    /// Without `keeping_stale` an expired entry goes at the first lookup,
    /// as before.
    #[tokio::test(start_paused = true)]
    async fn without_stale_keeping_expired_entries_go() {
        let cache = RrsetCache::new(BUDGET, DAY);
        let owner = name("old.example.");
        assert!(cache.insert(
            &[a("old.example.", 10, 1)],
            Trust::AuthAnswer,
            Instant::now()
        ));
        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(
            cache
                .get_stale(&owner, RecordType::A, Instant::now())
                .is_none()
        );
        assert_eq!(cache.len(), 0);
    }
}
