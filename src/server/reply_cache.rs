//! Encoded replies kept per UDP thread, so a repeated question is answered
//! by copying bytes: no decoding, no message building, no encoding.
//!
//! The first time a question is answered from the resolver's caches, its
//! encoded reply is kept with where its TTLs are and the
//! [`Stamp`]s of the names it was read under. A later query for the same
//! question (name compared without case, type, with or without EDNS) gets
//! a copy with its own ID, RD and CD bits and question spelling patched in,
//! and every TTL lowered by the time since (rounded up, so a TTL is never
//! overstated). A copy is used only while the resolver says none of its
//! names were written since ([`Resolver::is_current`]), no TTL has run
//! out, and it fits the client's UDP size; anything else takes the full
//! path, which stays the authority on every rule (FORMERR, truncation,
//! refusals): [`read_query`] accepts only plain queries that path would
//! answer from the cache, and declines everything else.
//!
//! Each UDP thread owns its cache outright: no lock, no sharing. It is
//! bounded twice: by its slice of `cache-size` in bytes (the reply share,
//! [`crate::config::REPLY_SHARE_PERCENT`], divided among the UDP threads),
//! each copy charged its real heap cost, and by a number of entries
//! (`reply-cache-size`).

use std::mem::size_of;
use std::time::{Duration, Instant};

use lru::LruCache;

use super::packet::{HEADER_LEN, UDP_PAYLOAD_MAX, UDP_PAYLOAD_PLAIN};
use crate::cache::{Stamp, TABLE_BYTES_PER_ENTRY, malloc_size};
use crate::resolve::Resolver;

/// Replies kept per UDP thread by default (`--reply-cache-size`), within
/// the thread's byte budget. Each costs its bytes (usually under 200) and
/// about 200 more; 10 000 covers the busy names of a large site.
pub const REPLY_CACHE_ENTRIES: usize = 10_000;

/// Most replies a thread may be told to keep: about a gigabyte per thread.
pub const MAX_REPLY_CACHE_ENTRIES: usize = 5_000_000;

/// Longest name in wire form (RFC 1035 §2.3.4).
const MAX_NAME_WIRE: usize = 255;

/// Type codes the full path refuses or rejects as a question.
const META_TYPES: [u16; 6] = [0, 24, 41, 250, 251, 252];

/// OPT pseudo-record type (RFC 6891).
const TYPE_OPT: u16 = 41;

/// EDNS Client Subnet option code (RFC 7871). The full path's decoder
/// validates its contents and a malformed one is FORMERR (RFC 7871 §7.1.1),
/// so a query carrying one is left to that path; every other option is
/// opaque to both paths.
const OPTION_CLIENT_SUBNET: u16 = 8;

/// Class IN.
const CLASS_IN: u16 = 1;

/// The question of a query as the cache keys it: lowercased name in wire
/// form, type, and whether the query had EDNS.
pub type Key = Vec<u8>;

/// What a plain query needs for a copied reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireQuery<'a> {
    /// Its ID.
    pub id: u16,
    /// Recursion desired.
    pub rd: bool,
    /// Checking disabled.
    pub cd: bool,
    /// The question name in wire form, as sent (its case kept).
    pub name: &'a [u8],
    /// The UDP reply size allowed (RFC 6891 §6.2.5).
    pub udp_limit: usize,
}

/// Reads a plain query: QUERY opcode, QR=0, one IN question of an ordinary
/// type with an uncompressed name, no answer or authority records, and no
/// additional record but one well-formed OPT of version 0 without a Client
/// Subnet option. Writes its
/// [`Key`] into `key`. `None` for anything else (then the full path judges).
pub fn read_query<'a>(bytes: &'a [u8], key: &mut Key) -> Option<WireQuery<'a>> {
    let header = bytes.get(..HEADER_LEN)?;
    let count = |at: usize| u16::from_be_bytes([header[at], header[at + 1]]);
    // QR=0, opcode 0, TC=0; Z, AD and rcode 0 (a query with AD set takes
    // the full path, where the reply's AD is decided; copies never set it).
    if header[2] & 0xfa != 0 || header[3] & 0x6f != 0 {
        return None;
    }
    if count(4) != 1 || count(6) != 0 || count(8) != 0 || count(10) > 1 {
        return None;
    }
    key.clear();
    let mut at = HEADER_LEN;
    loop {
        let len = usize::from(*bytes.get(at)?);
        if len == 0 {
            key.push(0);
            at += 1;
            break;
        }
        if len > 63 {
            return None;
        }
        let label = bytes.get(at + 1..at + 1 + len)?;
        key.push(len as u8);
        key.extend(label.iter().map(u8::to_ascii_lowercase));
        at += 1 + len;
        if key.len() >= MAX_NAME_WIRE {
            return None;
        }
    }
    let name = &bytes[HEADER_LEN..at];
    let fixed = bytes.get(at..at + 4)?;
    let qtype = u16::from_be_bytes([fixed[0], fixed[1]]);
    if u16::from_be_bytes([fixed[2], fixed[3]]) != CLASS_IN || META_TYPES.contains(&qtype) {
        return None;
    }
    at += 4;
    let udp_limit = if count(10) == 1 {
        let size = read_opt(bytes, at)?;
        usize::from(size.clamp(UDP_PAYLOAD_PLAIN as u16, UDP_PAYLOAD_MAX))
    } else if at == bytes.len() {
        UDP_PAYLOAD_PLAIN
    } else {
        return None;
    };
    key.extend_from_slice(&qtype.to_be_bytes());
    key.push(u8::from(count(10) == 1));
    Some(WireQuery {
        id: count(0),
        rd: header[2] & 0x01 != 0,
        cd: header[3] & 0x10 != 0,
        name,
        udp_limit,
    })
}

/// The payload size of the OPT record at `at`, which must end the message:
/// root owner, version 0, options well formed, no Client Subnet option.
fn read_opt(bytes: &[u8], at: usize) -> Option<u16> {
    let fixed = bytes.get(at..at + 11)?;
    let field = |i: usize| u16::from_be_bytes([fixed[i], fixed[i + 1]]);
    if fixed[0] != 0 || field(1) != TYPE_OPT || fixed[6] != 0 {
        return None;
    }
    let rdata = bytes.get(at + 11..)?;
    if rdata.len() != usize::from(field(9)) {
        return None;
    }
    let mut option = rdata;
    while !option.is_empty() {
        let [code_high, code_low, high, low, rest @ ..] = option else {
            return None;
        };
        if u16::from_be_bytes([*code_high, *code_low]) == OPTION_CLIENT_SUBNET {
            return None;
        }
        option = rest.get(usize::from(u16::from_be_bytes([*high, *low]))..)?;
    }
    Some(field(3))
}

/// One kept reply.
struct Entry {
    reply: Box<[u8]>,
    /// Offset and TTL as encoded, of every answer and authority record.
    ttls: Box<[(u16, u32)]>,
    stamps: Box<[Stamp]>,
    built: Instant,
    expires: Instant,
}

impl Entry {
    /// What this entry under `key` costs: its LRU node, its hash-table
    /// share, and each heap chunk it owns.
    fn charge(&self, key: &[u8]) -> usize {
        let node = size_of::<Box<[u8]>>() + size_of::<Entry>() + 2 * size_of::<usize>();
        let chunk = |bytes: usize| if bytes == 0 { 0 } else { malloc_size(bytes) };
        malloc_size(node)
            + TABLE_BYTES_PER_ENTRY
            + chunk(key.len())
            + chunk(self.reply.len())
            + chunk(size_of_val(&*self.ttls))
            + chunk(size_of_val(&*self.stamps))
    }
}

/// How much one thread's reply cache may keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyLimits {
    /// Replies, at most (`reply-cache-size`); 0 keeps none.
    pub entries: usize,
    /// Bytes charged, at most (the thread's slice of `cache-size`).
    pub bytes: usize,
}

/// A thread's encoded replies, least recently used evicted.
pub struct ReplyCache {
    entries: LruCache<Box<[u8]>, Entry>,
    limits: ReplyLimits,
    bytes: usize,
}

impl ReplyCache {
    /// A cache within `limits`.
    pub fn new(limits: ReplyLimits) -> Self {
        Self {
            entries: LruCache::unbounded(),
            limits,
            bytes: 0,
        }
    }

    /// Removes the copy under `key`.
    fn pop(&mut self, key: &[u8]) {
        if let Some((key, entry)) = self.entries.pop_entry(key) {
            self.bytes -= entry.charge(&key);
        }
    }

    /// Writes into `out` the reply to `query` (keyed `key`) if a current
    /// copy is kept; returns its rcode. A stale or expired copy is dropped.
    pub fn answer(
        &mut self,
        key: &[u8],
        query: &WireQuery<'_>,
        resolver: &Resolver,
        now: Instant,
        out: &mut Vec<u8>,
    ) -> Option<u8> {
        let entry = self.entries.get(key)?;
        let current = now < entry.expires && entry.stamps.iter().all(|s| resolver.is_current(s));
        if !current {
            self.pop(key);
            return None;
        }
        if entry.reply.len() > query.udp_limit {
            return None;
        }
        out.clear();
        out.extend_from_slice(&entry.reply);
        out[..2].copy_from_slice(&query.id.to_be_bytes());
        out[2] = 0x80 | u8::from(query.rd);
        let rcode = out[3] & 0x0f;
        out[3] = 0x80 | if query.cd { 0x10 } else { 0 } | rcode;
        // The kept reply asks the same name (same key), so its question
        // has the same length; checked all the same, never trusted.
        out.get_mut(HEADER_LEN..HEADER_LEN + query.name.len())?
            .copy_from_slice(query.name);
        let elapsed = ceil_secs(now.saturating_duration_since(entry.built));
        for &(at, ttl) in entry.ttls.iter() {
            let at = usize::from(at);
            let ttl = ttl.saturating_sub(elapsed);
            out[at..at + 4].copy_from_slice(&ttl.to_be_bytes());
        }
        Some(rcode)
    }

    /// Keeps `reply`, the full-path reply to a query keyed `key` that was
    /// answered from the resolver's caches under `stamps`, made at `now`.
    /// A reply with no TTL to bound it (no records), or one that does not
    /// parse, is not kept.
    pub fn insert(&mut self, key: Key, reply: &[u8], stamps: Vec<Stamp>, now: Instant) {
        self.insert_until(key, reply, stamps, now, None);
    }

    /// [`ReplyCache::insert`], the copy used no later than `until` when
    /// given (the moment its answer is due for a prefetch: past it, the
    /// full path sees the hit and starts the refresh). A copy that would
    /// expire at once is not kept.
    pub fn insert_until(
        &mut self,
        key: Key,
        reply: &[u8],
        stamps: Vec<Stamp>,
        now: Instant,
        until: Option<Instant>,
    ) {
        let Some(ttls) = record_ttls(reply) else {
            return;
        };
        let Some(min_ttl) = ttls.iter().map(|&(_, ttl)| ttl).min() else {
            return;
        };
        let mut expires = now + Duration::from_secs(u64::from(min_ttl));
        if let Some(until) = until {
            expires = expires.min(until);
        }
        if expires <= now {
            return;
        }
        let entry = Entry {
            reply: reply.into(),
            ttls: ttls.into(),
            stamps: stamps.into(),
            built: now,
            expires,
        };
        self.pop(&key);
        let charge = entry.charge(&key);
        if charge > self.limits.bytes || self.limits.entries == 0 {
            return;
        }
        while self.bytes + charge > self.limits.bytes || self.entries.len() >= self.limits.entries {
            let Some((old_key, old)) = self.entries.pop_lru() else {
                break;
            };
            self.bytes -= old.charge(&old_key);
        }
        self.bytes += charge;
        self.entries.push(key.into_boxed_slice(), entry);
    }

    /// Replies kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Bytes charged for the replies kept: never more than the limit.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Whole seconds in `elapsed`, rounded up.
fn ceil_secs(elapsed: Duration) -> u32 {
    let secs = elapsed.as_secs() + u64::from(elapsed.subsec_nanos() > 0);
    u32::try_from(secs).unwrap_or(u32::MAX)
}

/// Offsets and values of the TTLs of the answer and authority records of
/// the message `reply`; `None` if it does not parse or is too long for
/// 16-bit offsets.
fn record_ttls(reply: &[u8]) -> Option<Vec<(u16, u32)>> {
    let header = reply.get(..HEADER_LEN)?;
    let count = |at: usize| usize::from(u16::from_be_bytes([header[at], header[at + 1]]));
    let mut at = HEADER_LEN;
    for _ in 0..count(4) {
        at = skip_name(reply, at)? + 4;
    }
    let mut ttls = Vec::with_capacity(count(6) + count(8));
    for _ in 0..count(6) + count(8) {
        at = skip_name(reply, at)?;
        let fixed = reply.get(at..at + 10)?;
        let ttl = u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]);
        ttls.push((u16::try_from(at + 4).ok()?, ttl));
        at += 10 + usize::from(u16::from_be_bytes([fixed[8], fixed[9]]));
    }
    (at <= reply.len()).then_some(ttls)
}

/// The offset just past the (possibly compressed) name at `at`.
fn skip_name(message: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let len = *message.get(at)?;
        match len {
            0 => return Some(at + 1),
            l if l & 0xc0 == 0xc0 => return Some(at + 2).filter(|&end| end <= message.len()),
            l if l > 63 => return None,
            l => at += 1 + usize::from(l),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
    use hickory_proto::rr::rdata::A;
    use hickory_proto::rr::{Name, RData, Record, RecordType};

    use super::*;
    use crate::resolve::ResolverConfig;

    fn query(name: &str, rtype: RecordType, edns: Option<u16>) -> Message {
        let mut message = Message::new(0x1234, MessageType::Query, OpCode::Query);
        message.metadata.recursion_desired = true;
        message.add_query(Query::query(Name::from_ascii(name).unwrap(), rtype));
        if let Some(size) = edns {
            let mut e = Edns::new();
            e.set_max_payload(size);
            message.set_edns(e);
        }
        message
    }

    fn key_of(message: &Message) -> Option<Key> {
        let mut key = Key::new();
        read_query(&message.to_vec().unwrap(), &mut key).map(|_| key)
    }

    #[test]
    fn keys_ignore_case_and_id_but_not_type_or_edns() {
        let plain = key_of(&query("WwW.a.tld1.", RecordType::A, None)).unwrap();
        let mut other_id = query("www.A.TLD1.", RecordType::A, None);
        other_id.metadata.id = 9;
        assert_eq!(key_of(&other_id).unwrap(), plain);
        assert_ne!(
            key_of(&query("www.a.tld1.", RecordType::AAAA, None)).unwrap(),
            plain
        );
        assert_ne!(
            key_of(&query("www.a.tld1.", RecordType::A, Some(1232))).unwrap(),
            plain
        );
    }

    #[test]
    fn only_plain_queries_are_read() {
        let bytes = query("www.a.tld1.", RecordType::A, Some(4096))
            .to_vec()
            .unwrap();
        let mut key = Key::new();
        let read = read_query(&bytes, &mut key).unwrap();
        assert_eq!(read.id, 0x1234);
        assert!(read.rd && !read.cd);
        assert_eq!(read.udp_limit, usize::from(UDP_PAYLOAD_MAX));
        assert_eq!(read.name.len(), "www.a.tld1.".len() + 1);

        let mut declined = vec![
            bytes[..bytes.len() - 1].to_vec(), // cut OPT
            [&bytes[..], &[0]].concat(),       // trailing byte
            query("a.tld1.", RecordType::AXFR, None).to_vec().unwrap(),
        ];
        let mut response = query("a.tld1.", RecordType::A, None);
        response.metadata.message_type = MessageType::Response;
        let mut notify = query("a.tld1.", RecordType::SOA, None);
        notify.metadata.op_code = OpCode::Notify;
        let mut badvers = query("a.tld1.", RecordType::A, Some(1232));
        if let Some(edns) = badvers.edns.as_mut() {
            edns.set_version(1);
        }
        for message in [response, notify, badvers] {
            declined.push(message.to_vec().unwrap());
        }
        // Client Subnet: its contents are for the full path to judge.
        let mut subnet = bytes.clone();
        let rdlen = subnet.len() - 2;
        subnet[rdlen..].copy_from_slice(&8u16.to_be_bytes());
        subnet.extend_from_slice(&[0, 8, 0, 4, 0, 3, 0, 0]);
        declined.push(subnet);
        for bytes in declined {
            assert!(read_query(&bytes, &mut key).is_none(), "{bytes:?}");
        }

        // Other options are opaque to both paths: still read.
        let mut cookie = bytes.clone();
        let rdlen = cookie.len() - 2;
        cookie[rdlen..].copy_from_slice(&12u16.to_be_bytes());
        cookie.extend_from_slice(&[0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]);
        assert!(read_query(&cookie, &mut key).is_some());
    }

    #[test]
    fn random_bytes_never_panic() {
        use rand::rngs::StdRng;
        use rand::{RngExt, SeedableRng};
        let mut rng = StdRng::seed_from_u64(11);
        let template = query("www.a.tld1.", RecordType::A, Some(1232))
            .to_vec()
            .unwrap();
        let mut key = Key::new();
        for _ in 0..50_000 {
            let mut bytes = template.clone();
            for _ in 0..rng.random_range(1..4) {
                let at = rng.random_range(0..bytes.len());
                bytes[at] = rng.random();
            }
            bytes.truncate(rng.random_range(0..=bytes.len()));
            if let Some(read) = read_query(&bytes, &mut key) {
                assert!(read.name.len() < bytes.len());
            }
            let _ = record_ttls(&bytes);
        }
    }

    #[test]
    fn copies_get_the_new_id_flags_case_and_lower_ttls() {
        let resolver = Resolver::new(ResolverConfig::internet());
        let first = query("www.a.tld1.", RecordType::A, None);
        let mut reply = Message::response(first.metadata.id, OpCode::Query);
        reply.metadata.recursion_desired = true;
        reply.metadata.recursion_available = true;
        reply.add_queries(first.queries.clone());
        reply.answers.push(Record::from_rdata(
            Name::from_str("www.a.tld1.").unwrap(),
            300,
            RData::A(A::new(192, 0, 2, 10)),
        ));
        let encoded = reply.to_vec().unwrap();
        let mut cache = ReplyCache::new(ReplyLimits {
            entries: 10,
            bytes: 1 << 20,
        });
        let start = Instant::now();
        cache.insert(key_of(&first).unwrap(), &encoded, Vec::new(), start);
        assert_eq!(cache.len(), 1);

        let mut second = query("WWW.a.TLD1.", RecordType::A, None);
        second.metadata.id = 0xbeef;
        second.metadata.recursion_desired = false;
        second.metadata.checking_disabled = true;
        let bytes = second.to_vec().unwrap();
        let mut key = Key::new();
        let read = read_query(&bytes, &mut key).unwrap();
        let mut out = Vec::new();
        let later = start + Duration::from_millis(2_500);
        assert_eq!(
            cache.answer(&key, &read, &resolver, later, &mut out),
            Some(0)
        );
        let copy = Message::from_vec(&out).unwrap();
        assert_eq!(copy.metadata.id, 0xbeef);
        assert!(!copy.metadata.recursion_desired);
        assert!(copy.metadata.checking_disabled);
        assert!(copy.metadata.recursion_available);
        assert_eq!(copy.metadata.message_type, MessageType::Response);
        assert_eq!(copy.queries[0].name().to_string(), "WWW.a.TLD1.");
        assert_eq!(copy.answers[0].ttl, 297, "300 s less 2.5 s rounded up");

        let expired = start + Duration::from_secs(300);
        assert_eq!(
            cache.answer(&key, &read, &resolver, expired, &mut out),
            None
        );
        assert!(cache.is_empty(), "expired copies are dropped");
    }

    fn reply_to(name: &str, answers: usize) -> (Key, Vec<u8>) {
        let question = query(name, RecordType::A, None);
        let mut reply = Message::response(question.metadata.id, OpCode::Query);
        reply.add_queries(question.queries.clone());
        for i in 0..answers {
            reply.answers.push(Record::from_rdata(
                Name::from_str(name).unwrap(),
                300,
                RData::A(A::new(192, 0, 2, i as u8)),
            ));
        }
        (key_of(&question).unwrap(), reply.to_vec().unwrap())
    }

    impl ReplyCache {
        fn recount(&self) -> usize {
            self.entries.iter().map(|(k, e)| e.charge(k)).sum()
        }
    }

    #[test]
    fn copies_are_bounded_in_bytes_and_in_entries() {
        let limits = ReplyLimits {
            entries: 1000,
            bytes: 20_000,
        };
        let mut cache = ReplyCache::new(limits);
        let now = Instant::now();
        for i in 0..500 {
            let (key, reply) = reply_to(&format!("host{i}.a.tld1."), 1 + i % 20);
            cache.insert(key, &reply, Vec::new(), now);
            assert!(cache.bytes() <= limits.bytes);
            assert_eq!(cache.bytes(), cache.recount());
        }
        assert!(cache.len() > 10 && cache.len() < 500, "{}", cache.len());
        // The same question again replaces its copy, not adds one.
        let (key, reply) = reply_to("host499.a.tld1.", 3);
        let before = cache.len();
        cache.insert(key, &reply, Vec::new(), now);
        assert_eq!(cache.len(), before);
        assert_eq!(cache.bytes(), cache.recount());

        let mut few = ReplyCache::new(ReplyLimits {
            entries: 3,
            bytes: 1 << 20,
        });
        for i in 0..10 {
            let (key, reply) = reply_to(&format!("h{i}.a.tld1."), 1);
            few.insert(key, &reply, Vec::new(), now);
        }
        assert_eq!(few.len(), 3);
        assert_eq!(few.bytes(), few.recount());
    }
}
