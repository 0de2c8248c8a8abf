//! Freshness: answers from expired data when the zone's servers cannot be
//! reached (serve-stale, RFC 8767), and when a cached answer is due for a
//! background refresh (prefetch).
//!
//! The caches keep an expired RRset or negative answer for `max_stale_age`
//! ([`crate::config::MAX_STALE_AGE`]) past its expiry.
//! [`Resolver::answer_stale`] follows the CNAME chain through those, live
//! or expired, as the cache-only answer does through live data; the daemon
//! calls it when a resolution fails or takes longer than its
//! client-response timer. DNAME redirections are not followed here (a
//! question under one gets no stale answer).

use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::time::Instant;

use super::{Outcome, Resolver, Stats, capped_secs};
use crate::cache::NegativeKind;

impl Resolver {
    /// The answer to `qname`/`qtype` from the caches with expired data
    /// allowed (RFC 8767 §5): the CNAME chain followed through RRsets and
    /// negative answers that are live or expired less than
    /// `max_stale_age` ago, answer-ranked data only (RFC 2181 §5.4.1).
    /// Expired records are given the stale TTL (`stale_ttl`, RFC 8767 §4:
    /// 30 s), live ones their remaining TTL; `stale` is set on the outcome
    /// when at least one link had expired. `None` when a link is not
    /// cached at all, the chain loops or is too long, or serve-stale is
    /// off (`max_stale_age` 0). No upstream query, no cache write.
    pub fn answer_stale(&self, qname: &Name, qtype: RecordType) -> Option<Outcome> {
        let inner = &*self.inner;
        if inner.limits.max_stale_age.is_zero() {
            return None;
        }
        let now = Instant::now();
        let stale_ttl = capped_secs(inner.limits.stale_ttl);
        let mut answers: Vec<Record> = Vec::new();
        let mut stale = false;
        let mut add = |records: Vec<Record>, expired: bool, answers: &mut Vec<Record>| {
            stale |= expired;
            answers.extend(records.into_iter().map(|mut record| {
                if expired {
                    record.ttl = stale_ttl;
                }
                record
            }));
        };
        let mut name = qname.clone();
        // A few names at most (the chain length limit): a scan with
        // `Name`'s case-insensitive `==` costs less than hashing copies.
        let mut seen: Vec<Name> = Vec::new();
        let outcome = loop {
            let links = answers
                .iter()
                .filter(|r| r.record_type() == RecordType::CNAME)
                .count();
            if seen.contains(&name) || links > inner.limits.max_cname_chain as usize {
                return None;
            }
            seen.push(name.clone());
            let answer = |rtype| {
                inner
                    .rrsets
                    .get_stale(&name, rtype, now)
                    .filter(|cached| cached.trust.is_answer())
                    // Data that failed validation is never served stale.
                    .filter(|cached| !cached.validation.is_bogus())
            };
            if let Some(cached) = answer(qtype) {
                add(cached.records, cached.expired, &mut answers);
                break (ResponseCode::NoError, Vec::new());
            }
            if qtype != RecordType::CNAME
                && let Some(cached) = answer(RecordType::CNAME)
                && let Some(RData::CNAME(target)) = cached.records.first().map(|r| &r.data)
            {
                let target = target.0.clone();
                add(cached.records, cached.expired, &mut answers);
                name = target;
                continue;
            }
            let negative = inner
                .negative
                .get_stale(&name, qtype, now)
                .filter(|negative| !negative.validation.is_bogus())?;
            let rcode = match negative.kind {
                NegativeKind::NxDomain => ResponseCode::NXDomain,
                NegativeKind::NoData => ResponseCode::NoError,
            };
            let mut soa = vec![negative.soa];
            add(Vec::new(), negative.expired, &mut answers);
            if negative.expired {
                soa.iter_mut().for_each(|r| r.ttl = stale_ttl);
            }
            break (rcode, soa);
        };
        let (rcode, authorities) = outcome;
        Some(Outcome {
            rcode,
            answers,
            authorities,
            // Expired data goes out without its signatures: it is not
            // told as validated, and its RRSIGs may have expired too.
            signatures: Vec::new(),
            proof: Vec::new(),
            stats: Stats::default(),
            // Expired data is served for what it was, never as validated.
            security: crate::validate::Security::Indeterminate,
            stale,
        })
    }

    /// When the cached answer `outcome` is due for a prefetch: `percent`
    /// of its stored TTL before the earliest end of life among the cached
    /// RRsets it is made of (a second before expiry, see below) (Unbound's `prefetch` refreshes in the last
    /// 10%). `None` when none of its records is a cached RRset (a negative
    /// answer, a synthesised one). A peek per RRset: no decoding, no
    /// change of the LRU order.
    pub fn refresh_point(&self, outcome: &Outcome, percent: u32) -> Option<Instant> {
        let mut last: Option<(&Name, RecordType)> = None;
        let mut earliest: Option<Instant> = None;
        for record in &outcome.answers {
            let set = (&record.name, record.record_type());
            if last == Some(set) {
                continue;
            }
            last = Some(set);
            let Some(expiry) = self.inner.rrsets.expiry(set.0, set.1) else {
                continue;
            };
            // The cache gives an entry out while a whole second is left
            // (its TTL rounds down), so its served life ends a second
            // before `expires`; the lead is counted back from there.
            let lead = Duration::from_secs(u64::from(expiry.ttl)) * percent.min(100) / 100;
            let end = expiry.expires.checked_sub(Duration::from_secs(1));
            let point = end.and_then(|end| end.checked_sub(lead));
            let point = point.unwrap_or(expiry.expires);
            earliest = Some(earliest.map_or(point, |e| e.min(point)));
        }
        earliest
    }
}
