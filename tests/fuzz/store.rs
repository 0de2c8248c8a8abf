//! The last step of the upstream target: a scrubbed, classified reply
//! stored in real caches ([`RrsetCache`], [`NegativeCache`]) as the
//! resolver stores it, and the caches' invariants checked after each reply.
//!
//! The resolver's writers (`cache_answer`, `cache_referral`,
//! `cache_negative` and `store_reply` in `src/resolve/iterator.rs`) are
//! private, so [`Caches::store`] follows their order through the public
//! API: by response kind, the answer chain first (as the scrubber keeps it
//! for caching, grouped into RRsets), then the authority NS RRset, then the
//! glue RRsets, at most [`MAX_RRSETS_PER_REPLY`] of them; a NODATA or
//! NXDOMAIN stores its chain and then the negative answer its SOA proves.
//! Validation is left out (`Unchecked`, as without a trust anchor).
//!
//! The caches live for the whole run (one per thread), with budgets small
//! enough that eviction, and refusal of an RRset larger than the whole
//! budget, happen all the time. After each reply ([`Caches::store`]):
//!
//! - every RRset stored has its owner inside the zone asked;
//! - an RRset the cache took reads back at once with the same records, in
//!   order, and the trust it was given; one it refused had a TTL of 0, did
//!   not encode, was larger than the budget, or lost to live data of
//!   higher trust (RFC 2181 §5.4.1);
//! - a negative answer the cache took reads back with its kind;
//! - each cache's byte count is the sum of its entries' charges and within
//!   its budget ([`RrsetCache::audit`], [`NegativeCache::audit`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::collections::hash_map::Entry;

use hickory_proto::rr::{Name, Record, RecordType};
use rootwalk::cache::{
    NegativeCache, NegativeKind, RrsetCache, Trust, Validation, signed_rrset_charge,
};
use rootwalk::config::{MAX_NEGATIVE_TTL, MAX_RRSETS_PER_REPLY, MAX_TTL};
use rootwalk::resolve::classify::ResponseKind;
use rootwalk::resolve::scrub::Scrubbed;
use tokio::time::Instant;

/// The RRset cache's budget: a few ordinary replies' worth (one shard, so
/// the budget is exact), so every few inputs evict, and a big TXT RRset
/// from the seeds does not fit at all.
pub const RRSET_BUDGET: usize = 8 * 1024;

/// The negative cache's budget: a dozen or so SOA-proved answers.
pub const NEGATIVE_BUDGET: usize = 2 * 1024;

/// What storing one reply did, for the run's signature.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stored {
    /// RRsets the cache took.
    pub taken: usize,
    /// RRsets it refused.
    pub refused: usize,
    /// RRsets left out past [`MAX_RRSETS_PER_REPLY`].
    pub capped: bool,
    /// A negative answer was taken.
    pub negative: bool,
    /// Entries went (evicted to make room, or replaced).
    pub displaced: bool,
}

impl Stored {
    /// A few bits of what happened.
    pub fn bits(&self) -> u64 {
        u64::from(self.taken > 0)
            | u64::from(self.refused > 0) << 1
            | u64::from(self.capped) << 2
            | u64::from(self.negative) << 3
            | u64::from(self.displaced) << 4
    }
}

/// What a run stored, added up over its inputs.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    /// Replies stored (parsed ones; the rest never reach the caches).
    pub replies: u64,
    /// RRsets the cache took.
    pub taken: u64,
    /// RRsets it refused.
    pub refused: u64,
    /// Replies cut at [`MAX_RRSETS_PER_REPLY`].
    pub capped: u64,
    /// Negative answers taken.
    pub negative: u64,
    /// Replies whose storing evicted or replaced entries.
    pub displaced: u64,
}

impl std::fmt::Display for Totals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} replies stored: {} RRsets taken, {} refused, {} replies capped, \
             {} negative answers, {} replies displaced entries",
            self.replies, self.taken, self.refused, self.capped, self.negative, self.displaced
        )
    }
}

/// The two caches one run fills, and what went into them.
pub struct Caches {
    rrsets: RrsetCache,
    negative: NegativeCache,
    totals: std::cell::Cell<Totals>,
}

thread_local! {
    /// The run's caches: the fuzz loop runs on one thread, and what one
    /// input stored is there when the next comes.
    static CACHES: RefCell<Caches> = RefCell::new(Caches::new());
}

/// Runs `f` with this thread's caches.
pub fn with_caches<R>(f: impl FnOnce(&Caches) -> R) -> R {
    CACHES.with(|caches| f(&caches.borrow()))
}

/// Empties this thread's caches and returns what the run so far stored.
pub fn reset() -> Totals {
    CACHES.with(|caches| caches.replace(Caches::new()).totals.get())
}

/// Empties this thread's caches, keeping the run's totals: after a broken
/// invariant, so one bug is not reported again for every input after it.
/// (A failure can depend on what earlier inputs stored; its saved input,
/// replayed alone, meets empty caches.)
pub fn restart() {
    CACHES.with(|caches| {
        let totals = caches.borrow().totals.get();
        let fresh = Caches::new();
        fresh.totals.set(totals);
        caches.replace(fresh);
    });
}

/// Records grouped into RRsets by owner (without case) and type, in order
/// of first appearance, as the resolver groups them.
pub fn rrsets<'r>(records: impl IntoIterator<Item = &'r Record>) -> Vec<Vec<Record>> {
    let mut sets: Vec<Vec<Record>> = Vec::new();
    // `Name` hashes and compares without case (RFC 4343).
    let mut index: HashMap<(&'r Name, RecordType), usize> = HashMap::new();
    for record in records {
        match index.entry((&record.name, record.record_type())) {
            Entry::Occupied(at) => sets[*at.get()].push(record.clone()),
            Entry::Vacant(slot) => {
                slot.insert(sets.len());
                sets.push(vec![record.clone()]);
            }
        }
    }
    sets
}

/// What the resolver stores of `scrubbed`, classified as `kind`: RRsets
/// with their trust, in the order it stores them (before the cap), and
/// the negative answer if any.
pub fn plan(
    scrubbed: &Scrubbed,
    kind: &ResponseKind,
) -> (Vec<(Vec<Record>, Trust)>, Option<NegativeKind>) {
    let glue = || {
        rrsets(scrubbed.glue())
            .into_iter()
            .map(|set| (set, Trust::Glue))
    };
    let ns = |trust| {
        (!scrubbed.authority_ns().is_empty()).then(|| (scrubbed.authority_ns().to_vec(), trust))
    };
    match kind {
        ResponseKind::Referral { .. } => (
            ns(Trust::Referral).into_iter().chain(glue()).collect(),
            None,
        ),
        ResponseKind::Answer | ResponseKind::Cname { .. } => {
            let (answer, authority) = if scrubbed.authoritative() {
                (Trust::AuthAnswer, Trust::AuthAuthority)
            } else {
                (Trust::NonAuthAnswer, Trust::Referral)
            };
            let chain = rrsets(scrubbed.chain_to_cache())
                .into_iter()
                .map(|set| (set, answer));
            (chain.chain(ns(authority)).chain(glue()).collect(), None)
        }
        ResponseKind::NoData | ResponseKind::NxDomain => {
            let chain = rrsets(scrubbed.chain_to_cache())
                .into_iter()
                .map(|set| (set, Trust::AuthAnswer))
                .collect();
            let negative = if matches!(kind, ResponseKind::NoData) {
                NegativeKind::NoData
            } else {
                NegativeKind::NxDomain
            };
            (chain, Some(negative))
        }
        ResponseKind::Lame(_) => (Vec::new(), None),
    }
}

impl Caches {
    /// Empty caches of [`RRSET_BUDGET`] and [`NEGATIVE_BUDGET`] bytes.
    pub fn new() -> Caches {
        Caches {
            rrsets: RrsetCache::new(RRSET_BUDGET, MAX_TTL),
            negative: NegativeCache::new(NEGATIVE_BUDGET, MAX_NEGATIVE_TTL),
            totals: std::cell::Cell::default(),
        }
    }

    /// Stores `scrubbed` (classified as `kind`) as the resolver would, and
    /// checks every invariant of the module docs.
    pub fn store(&self, scrubbed: &Scrubbed, kind: &ResponseKind) -> Result<Stored, String> {
        let now = Instant::now();
        let held = self.len();
        let (sets, negative) = plan(scrubbed, kind);
        let mut stored = Stored {
            capped: sets.len() > MAX_RRSETS_PER_REPLY,
            ..Stored::default()
        };
        for (set, trust) in sets.into_iter().take(MAX_RRSETS_PER_REPLY) {
            // The chain is stored with the RRSIGs over it, as the
            // resolver does; NS sets and glue (Referral, Glue) without.
            let sigs: Vec<Record> = if trust.is_answer() {
                let (owner, rtype) = (&set[0].name, set[0].record_type());
                scrubbed.signatures_of(owner, rtype).cloned().collect()
            } else {
                Vec::new()
            };
            if self.store_rrset(scrubbed.zone(), &set, &sigs, trust, now)? {
                stored.taken += 1;
            } else {
                stored.refused += 1;
            }
        }
        if let (Some(kind), Some(soa)) = (negative, scrubbed.soa()) {
            stored.negative = self.store_negative(scrubbed, kind, soa, now)?;
        }
        stored.displaced = self.len() < held + stored.taken + usize::from(stored.negative);
        self.audit()?;
        let mut totals = self.totals.get();
        totals.replies += 1;
        totals.taken += stored.taken as u64;
        totals.refused += stored.refused as u64;
        totals.capped += u64::from(stored.capped);
        totals.negative += u64::from(stored.negative);
        totals.displaced += u64::from(stored.displaced);
        self.totals.set(totals);
        Ok(stored)
    }

    /// One RRset: stored, then read back or its refusal explained.
    fn store_rrset(
        &self,
        zone: &Name,
        set: &[Record],
        sigs: &[Record],
        trust: Trust,
        now: Instant,
    ) -> Result<bool, String> {
        let (owner, rtype) = (&set[0].name, set[0].record_type());
        if !zone.zone_of(owner) {
            return Err(format!("would cache {owner} {rtype}, outside {zone}"));
        }
        let before = self.rrsets.get(owner, rtype, now);
        let taken = self
            .rrsets
            .insert_signed(set, sigs, trust, Validation::Unchecked, now);
        if !taken {
            let ttl = set.iter().chain(sigs).map(|r| r.ttl).min().unwrap_or(0);
            let too_big = signed_rrset_charge(set, sigs).is_none_or(|c| c > self.rrsets.budget());
            let outranked = before.as_ref().is_some_and(|b| b.trust > trust);
            if ttl == 0 || too_big || outranked {
                return Ok(false);
            }
            return Err(format!(
                "refused {owner} {rtype} ({} records, TTL {ttl}, {trust:?}) for no reason",
                set.len()
            ));
        }
        let Some(cached) = self.rrsets.get(owner, rtype, now) else {
            return Err(format!("took {owner} {rtype} but does not give it back"));
        };
        if cached.trust != trust {
            return Err(format!(
                "took {owner} {rtype} as {trust:?}, gives it back as {:?}",
                cached.trust
            ));
        }
        let same = cached.records.len() == set.len()
            && cached
                .records
                .iter()
                .zip(set)
                .all(|(c, s)| c.data == s.data && c.name == s.name)
            && cached.rrsigs.len() == sigs.len()
            && cached
                .rrsigs
                .iter()
                .zip(sigs)
                .all(|(c, s)| c.data == s.data);
        if !same {
            return Err(format!(
                "took {owner} {rtype} ({} records), gives back {} different ones",
                set.len(),
                cached.records.len()
            ));
        }
        Ok(true)
    }

    /// A negative answer for the reply's final name: stored, then read back.
    fn store_negative(
        &self,
        scrubbed: &Scrubbed,
        kind: NegativeKind,
        soa: &Record,
        now: Instant,
    ) -> Result<bool, String> {
        let (name, qtype) = (scrubbed.final_name(), scrubbed.qtype());
        let proof = scrubbed.proof();
        let unchecked = Validation::Unchecked;
        if !self
            .negative
            .insert_proved(name, qtype, kind, soa, &proof, unchecked, now)
        {
            return Ok(false);
        }
        match self.negative.get(name, qtype, now) {
            Some(cached) if cached.kind == kind && cached.proof.len() == proof.len() => Ok(true),
            other => Err(format!(
                "took {kind:?} for {name} {qtype}, gives back {:?}",
                other.map(|c| c.kind)
            )),
        }
    }

    /// Both caches' accounting.
    pub fn audit(&self) -> Result<(), String> {
        self.rrsets
            .audit()
            .map_err(|e| format!("RRset cache: {e}"))?;
        self.negative
            .audit()
            .map_err(|e| format!("negative cache: {e}"))?;
        for (what, bytes, budget) in [
            ("RRset", self.rrsets.bytes(), self.rrsets.budget()),
            ("negative", self.negative.bytes(), self.negative.budget()),
        ] {
            if bytes > budget {
                return Err(format!("{what} cache holds {bytes} bytes of {budget}"));
            }
        }
        Ok(())
    }

    /// Entries both caches hold.
    pub fn len(&self) -> usize {
        self.rrsets.len() + self.negative.len()
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use hickory_proto::op::{Message, MessageType, OpCode, Query};
    use hickory_proto::rr::RData;
    use hickory_proto::rr::rdata::{A, NS};
    use rootwalk::resolve::classify::classify;
    use rootwalk::resolve::scrub::scrub;

    use super::*;

    fn n(name: &str) -> Name {
        Name::from_str(name).expect("a valid name")
    }

    fn a(owner: &str, last: u8) -> Record {
        Record::from_rdata(n(owner), 300, RData::A(A::new(192, 0, 2, last)))
    }

    fn ns(owner: &str, target: &str) -> Record {
        Record::from_rdata(n(owner), 300, RData::NS(NS(n(target))))
    }

    /// `message` scrubbed as `zone` for its question, and classified.
    fn scrubbed(message: Message, zone: &str) -> (Scrubbed, ResponseKind) {
        let question = message.queries[0].clone();
        let scrubbed = scrub(message, &n(zone), &question);
        let kind = classify(&scrubbed);
        (scrubbed, kind)
    }

    fn reply(qname: &str, aa: bool) -> Message {
        let mut message = Message::new(1, MessageType::Response, OpCode::Query);
        message.metadata.authoritative = aa;
        message.add_query(Query::query(n(qname), RecordType::A));
        message
    }

    #[test]
    fn an_answer_is_stored_chain_then_ns_then_glue() {
        let mut answer = reply("www.example.com.", true);
        answer.add_answer(a("www.example.com.", 1));
        answer.add_answer(a("www.example.com.", 2));
        answer.add_authority(ns("example.com.", "ns1.example.com."));
        answer.add_additional(a("ns1.example.com.", 53));
        let (scrubbed, kind) = scrubbed(answer, "example.com.");
        let (sets, negative) = plan(&scrubbed, &kind);
        let shape: Vec<(Name, RecordType, usize, Trust)> = sets
            .iter()
            .map(|(set, trust)| (set[0].name.clone(), set[0].record_type(), set.len(), *trust))
            .collect();
        assert_eq!(
            shape,
            vec![
                (n("www.example.com."), RecordType::A, 2, Trust::AuthAnswer),
                (n("example.com."), RecordType::NS, 1, Trust::AuthAuthority),
                (n("ns1.example.com."), RecordType::A, 1, Trust::Glue),
            ]
        );
        assert_eq!(negative, None);
        let caches = Caches::new();
        let stored = caches.store(&scrubbed, &kind).expect("invariants hold");
        assert_eq!((stored.taken, stored.refused), (3, 0));
        assert_eq!(caches.len(), 3);
    }

    /// Glue cannot replace an authoritative answer (RFC 2181 §5.4.1): the
    /// refusal is explained, not a failure.
    #[test]
    fn glue_loses_to_an_answer_and_that_is_no_failure() {
        let caches = Caches::new();
        let mut answer = reply("ns1.example.com.", true);
        answer.add_answer(a("ns1.example.com.", 1));
        let (answer, kind) = scrubbed(answer, "example.com.");
        caches.store(&answer, &kind).expect("invariants hold");
        let mut referral = reply("www.sub.example.com.", false);
        referral.add_authority(ns("sub.example.com.", "ns1.example.com."));
        referral.add_additional(a("ns1.example.com.", 66));
        let (referral, kind) = scrubbed(referral, "example.com.");
        assert!(matches!(kind, ResponseKind::Referral { .. }));
        let stored = caches.store(&referral, &kind).expect("invariants hold");
        assert_eq!((stored.taken, stored.refused), (1, 1));
    }

    /// 80 glued NS names: the NS RRset and 63 glue RRsets are stored, the
    /// rest left out, and the small budget evicts along the way.
    #[test]
    fn a_wide_referral_is_capped_and_evicts() {
        let mut wide = reply("www.example.com.", false);
        for i in 0..80 {
            let server = format!("ns{i}.example.com.");
            wide.add_authority(ns("example.com.", &server));
            wide.add_additional(a(&server, 1));
        }
        let (wide, kind) = scrubbed(wide, "com.");
        let caches = Caches::new();
        let stored = caches.store(&wide, &kind).expect("invariants hold");
        assert!(stored.capped);
        assert_eq!(stored.taken + stored.refused, MAX_RRSETS_PER_REPLY);
        assert!(stored.displaced, "{stored:?}");
        assert!(caches.len() < MAX_RRSETS_PER_REPLY);
    }
}
