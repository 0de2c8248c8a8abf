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

use std::time::Duration;

use hickory_proto::rr::{DNSClass, LowerName, Name, Record, RecordType};
use tokio::time::Instant;

use super::{ShardedLru, Trust, remaining_secs};

/// Cache key: owner lowercased (RFC 4343 §2: names compare without case),
/// type and class.
type Key = (LowerName, RecordType, DNSClass);

/// One stored RRset.
struct Entry {
    records: Vec<Record>,
    trust: Trust,
    expires: Instant,
}

/// An RRset read from the cache.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedRrset {
    /// The records, each with its TTL set to the seconds remaining.
    pub records: Vec<Record>,
    /// Credibility of the data when it was stored.
    pub trust: Trust,
    /// Seconds remaining before the entry expires (never 0 for a live entry).
    pub ttl: u32,
}

/// RRsets keyed by (owner, type, class), sharded LRU, credibility-ranked.
///
/// Shareable across threads (`Send + Sync`); every method takes `&self`.
pub struct RrsetCache {
    entries: ShardedLru<Key, Entry>,
    max_ttl: Duration,
}

impl RrsetCache {
    /// A cache of about `capacity` RRsets that honours TTLs up to `max_ttl`
    /// (RFC 8767 §4 caps at 7 days; see [`crate::config::MAX_TTL`]).
    /// A capacity of 0 is treated as 1.
    pub fn new(capacity: usize, max_ttl: Duration) -> Self {
        Self {
            entries: ShardedLru::new(capacity),
            max_ttl,
        }
    }

    /// Stores one RRset (all records share name, type, class; owner compared
    /// case-insensitively, key lowercased).
    ///
    /// The TTL is the lowest TTL of the records (RFC 2181 §5.2 says the TTLs
    /// of an RRset must agree; a mixed set is treated as its minimum), capped
    /// at `max_ttl`; a TTL of 0 is not stored (RFC 1035 §3.2.1). Replaces a
    /// live entry only when `trust` is at least the old entry's (RFC 2181
    /// §5.4.1); an expired entry is always replaced. An NS RRset replacing a
    /// live one keeps the old expiry when that is earlier (see the module
    /// docs: ghost domains). Returns whether it was stored; an empty slice
    /// or records that do not form one RRset are not.
    pub fn insert(&self, records: &[Record], trust: Trust, now: Instant) -> bool {
        let Some(key) = rrset_key(records) else {
            return false;
        };
        let ttl = records.iter().map(|r| r.ttl).min().unwrap_or(0);
        let ttl = Duration::from_secs(u64::from(ttl)).min(self.max_ttl);
        if ttl.as_secs() == 0 {
            return false;
        }
        let mut entry = Entry {
            records: records.to_vec(),
            trust,
            expires: now + ttl,
        };
        self.entries.with_shard(&key, |shard| {
            if let Some(old) = shard.peek(&key)
                && remaining_secs(old.expires, now) > 0
            {
                if old.trust > trust {
                    return false;
                }
                if key.1 == RecordType::NS {
                    entry.expires = entry.expires.min(old.expires);
                }
            }
            shard.put(key.clone(), entry);
            true
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
        let key = (LowerName::new(name), rtype, class);
        self.entries.with_shard(&key, |shard| {
            let ttl = remaining_secs(shard.peek(&key)?.expires, now);
            if ttl == 0 {
                shard.pop(&key);
                return None;
            }
            let entry = shard.get(&key)?;
            let records = entry
                .records
                .iter()
                .map(|r| {
                    let mut r = r.clone();
                    r.ttl = ttl;
                    r
                })
                .collect();
            Some(CachedRrset {
                records,
                trust: entry.trust,
                ttl,
            })
        })
    }

    /// Drops the entry for (`name`, `rtype`, IN), if any; returns whether one
    /// was there.
    pub fn remove(&self, name: &Name, rtype: RecordType) -> bool {
        let key = (LowerName::new(name), rtype, DNSClass::IN);
        self.entries
            .with_shard(&key, |shard| shard.pop(&key).is_some())
    }

    /// RRsets held, expired ones not yet evicted included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache holds no entry at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every entry.
    pub fn clear(&self) {
        self.entries.clear();
    }
}

/// The key of `records` if they form one RRset: at least one record, and all
/// share owner (ignoring case), type and class.
fn rrset_key(records: &[Record]) -> Option<Key> {
    let first = records.first()?;
    let (rtype, class) = (first.record_type(), first.dns_class);
    let same_set = records
        .iter()
        .all(|r| r.name == first.name && r.record_type() == rtype && r.dns_class == class);
    same_set.then(|| (LowerName::new(&first.name), rtype, class))
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::sync::Arc;

    use hickory_proto::rr::RData;
    use hickory_proto::rr::rdata::{A, NS};

    use super::*;

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

    #[tokio::test(start_paused = true)]
    async fn ttl_counts_down_and_expires() {
        let cache = RrsetCache::new(10, DAY);
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
        let cache = RrsetCache::new(10, DAY);
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
        let cache = RrsetCache::new(10, Duration::from_secs(3600));
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
        let cache = RrsetCache::new(10, DAY);
        let now = Instant::now();
        assert!(!cache.insert(&[a("z.example.", 0, 1)], Trust::AuthAnswer, now));
        assert!(!cache.insert(
            &[a("z.example.", 30, 1), a("z.example.", 0, 2)],
            Trust::AuthAnswer,
            now
        ));
        assert!(cache.get(&name("z.example."), RecordType::A, now).is_none());
        assert!(cache.is_empty());

        let tiny = RrsetCache::new(10, Duration::from_millis(500));
        assert!(!tiny.insert(&[a("z.example.", 30, 1)], Trust::AuthAnswer, now));
    }

    #[test]
    fn rejects_what_is_not_one_rrset() {
        let cache = RrsetCache::new(10, DAY);
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
        let cache = RrsetCache::new(10, DAY);
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
        let cache = RrsetCache::new(10, DAY);
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
        let cache = RrsetCache::new(10, DAY);
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
        let cache = RrsetCache::new(10, DAY);
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
        let cache = RrsetCache::new(10, DAY);
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
        let cache = RrsetCache::new(10, DAY);
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
        let cache = RrsetCache::new(10, DAY);
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
        let cache = RrsetCache::new(2, DAY);
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
    fn zero_capacity_does_not_panic() {
        let cache = RrsetCache::new(0, DAY);
        let now = Instant::now();
        assert!(cache.insert(&[a("one.", 60, 1)], Trust::AuthAnswer, now));
        assert!(cache.insert(&[a("two.", 60, 2)], Trust::AuthAnswer, now));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn remove_and_clear() {
        let cache = RrsetCache::new(10, DAY);
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

        let cache = Arc::new(RrsetCache::new(10_000, DAY));
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
}
