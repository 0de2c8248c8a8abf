//! DNSSEC in the walk: the trust of each zone cut, carried down the
//! referrals the walk follows anyway, and the verdict on every reply.
//!
//! The pure judgements live in [`crate::validate`]; this file decides when
//! to ask them and what to fetch for them, as Unbound's `validator.c` does
//! for its `val_*` helpers:
//!
//! - The root's trust starts at the trust anchor: its DS (or DNSKEY)
//!   records wait, as [`ZoneTrust::Pending`], until a reply of the root
//!   needs judging; then the root's DNSKEY RRset is fetched from the same
//!   servers (one more exchange) and checked against the anchor.
//! - A referral from a zone with trusted keys carries the child's DS RRset
//!   (checked with the parent's keys) and the child becomes `Pending` on
//!   it; or it carries NSEC/NSEC3 records proving there is no DS, and the
//!   child is insecure, as is everything below an insecure zone.
//! - An answer, a NODATA or an NXDOMAIN from a zone with trusted keys is
//!   checked: every RRset of the answer chain against its RRSIGs (with the
//!   wildcard proof when a signature says it was expanded), the denial
//!   proofs of a negative answer.
//! - What each zone's trust came to is kept in a small key cache, so a
//!   walk that starts from a cached zone cut knows it; a cached cut whose
//!   trust is gone is not used as a starting point (the walk starts higher).
//! - Walks that need the same zone's keys at the same time share one
//!   DNSKEY fetch ([`Validator::fetch_keys`]): on a cold resolver the
//!   priming walk and the first question both need the root's keys, and
//!   concurrent client questions under one zone need its keys together.
//! - Signatures that verified are remembered in a bounded memo
//!   ([`SigMemo`], [`SIG_MEMO_BYTES`]) shared by every resolution: under a
//!   signed wildcard each miss brings the same NSEC RRset and the same
//!   signed wildcard data, and they are verified with cryptography once.
//!   Every other check still runs on each; only byte-identical inputs hit.
//! - What each judgement saw goes to the trace (`note`): which DS matched
//!   which key, which RRSIG proved each RRset, which NSEC or NSEC3 records
//!   proved a denial, as one line and as [`crate::trace::dnssec`] facts.
//!
//! Limits, stated plainly: every signature check is charged to the
//! request's [`SigBudget`] (KeyTrap); answers and referrals are judged, the
//! glue and referral NS sets are never signed (RFC 4035 §2.2) and are used
//! for finding servers only; a DNAME's synthesised CNAME is judged through
//! its DNAME. Verdicts are cached with the RRsets and negative answers
//! they judged; a bogus one for the bogus TTL, except a spent signature
//! budget, which is the request's limit and is never cached.

mod note;

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use hickory_proto::dnssec::rdata::{DNSKEY, DS};
use hickory_proto::rr::{Name, Record, RecordType};
use lru::LruCache;
use tokio::sync::watch;
use tokio::time::Instant;

use super::classify::ResponseKind;
use super::iterator::rrsets;
use super::scrub::{Scrubbed, covered_type};
use crate::cache::Validation;
use crate::validate::anchor::TrustAnchors;
use crate::validate::keys::{KeyProof, KeyVerdict, TrustedKeys, check_dnskeys};
use crate::validate::memo::{SIG_MEMO_BYTES, SigMemo, SigMemoStats};
use crate::validate::sig::{Verified, verify_rrset_memo};
use crate::validate::{BogusReason, Security, SigBudget, as_ds, as_rrsig, nsec, nsec3};
pub use note::{answer_note, delegation_note, keys_note};

/// Zones whose trust the key cache remembers (Unbound's `key-cache-size`
/// holds about this many at its 4 MB default).
pub const KEY_CACHE_ENTRIES: usize = 10_000;

/// How long an insecure or bogus verdict on a zone is remembered when no
/// TTL says otherwise: a zone that gets signed, or fixed, is noticed soon.
pub const UNSIGNED_TRUST_TTL: Duration = Duration::from_secs(900);

/// Zones whose DNSKEY fetch can be shared at once: walks that need a zone's
/// keys while another fetches them wait for it rather than ask again
/// ([`Validator::fetch_keys`]). Past this many fetches in flight a walk
/// fetches alone, as it would without sharing; the map stays small.
pub const MAX_KEY_FETCHES_SHARED: usize = 1_024;

/// What the walk knows of a zone cut's DNSSEC status.
#[derive(Debug, Clone)]
pub enum ZoneTrust {
    /// Validation is off, or no trust anchor covers the zone.
    Off,
    /// DS records (from the parent, checked) or anchor records say which
    /// keys to trust; the zone's DNSKEY RRset is not fetched yet.
    Pending {
        /// The DS records the DNSKEY RRset must match.
        ds: Arc<Vec<DS>>,
        /// Trust-anchor DNSKEYs, trusted as they are.
        anchor_keys: Arc<Vec<DNSKEY>>,
    },
    /// The zone's DNSKEY RRset, validated.
    Keys(Arc<TrustedKeys>),
    /// Proven unsigned (no DS at its cut, or below such a zone).
    Insecure,
    /// Should be signed and is not correctly.
    Bogus(BogusReason),
}

impl ZoneTrust {
    /// The verdict this trust gives every reply of the zone, when it
    /// decides one without looking (anything but `Keys` and `Pending`).
    pub fn fixed(&self) -> Option<Security> {
        match self {
            ZoneTrust::Off => Some(Security::Indeterminate),
            ZoneTrust::Insecure => Some(Security::Insecure),
            ZoneTrust::Bogus(reason) => Some(Security::Bogus(reason.clone())),
            ZoneTrust::Keys(_) | ZoneTrust::Pending { .. } => None,
        }
    }
}

/// The signatures that verified while a reply was judged, RRset by RRset:
/// what the trace marks as `verified`. The judgement does not read it.
#[derive(Debug, Default)]
pub struct Proven {
    sigs: Vec<(Name, RecordType, Verified)>,
}

impl Proven {
    fn add(&mut self, owner: &Name, rtype: RecordType, verified: &Verified) {
        self.sigs.push((owner.clone(), rtype, verified.clone()));
    }

    /// Whether the RRSIG `rrsig` (a record) is one that verified.
    pub fn verified(&self, rrsig: &Record) -> bool {
        let Some(input) = as_rrsig(rrsig).map(|s| s.input()) else {
            return false;
        };
        self.sigs.iter().any(|(owner, rtype, v)| {
            *owner == rrsig.name
                && *rtype == input.type_covered
                && v.key_tag == input.key_tag
                && v.algorithm == input.algorithm
                && v.inception == input.sig_inception.get()
                && v.expiration == input.sig_expiration.get()
        })
    }
}

/// The validator of one resolver: its trust anchors, key cache, the
/// DNSKEY fetches in flight, and the memo of signatures that verified.
pub struct Validator {
    anchors: TrustAnchors,
    keys: Mutex<LruCache<Name, (ZoneTrust, Instant)>>,
    fetches: Mutex<HashMap<Name, watch::Receiver<Option<ZoneTrust>>>>,
    memo: SigMemo,
}

/// Who fetches a zone's DNSKEY RRset (see [`Validator::fetch_keys`]).
pub enum KeyFetch<'v> {
    /// This walk fetches, and tells the walks waiting through the lead
    /// ([`FetchLead::finish`]).
    Lead(FetchLead<'v>),
    /// Another walk is fetching: wait for its verdict ([`await_keys`]).
    Follow(watch::Receiver<Option<ZoneTrust>>),
    /// Too many fetches in flight to share this one: fetch alone.
    Alone,
}

/// The walk that fetches a zone's keys for every walk that needs them at
/// the same time. Dropped without [`FetchLead::finish`] (the walk was
/// abandoned), it lets the waiting walks go and fetch for themselves.
pub struct FetchLead<'v> {
    validator: &'v Validator,
    zone: Name,
    sender: watch::Sender<Option<ZoneTrust>>,
}

impl FetchLead<'_> {
    /// Tells every waiting walk what the zone's trust came to.
    pub fn finish(self, trust: &ZoneTrust) {
        self.sender.send_replace(Some(trust.clone()));
    }
}

impl Drop for FetchLead<'_> {
    fn drop(&mut self) {
        self.validator
            .fetches
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.zone);
    }
}

/// The trust another walk's fetch came to; `None` when that walk was
/// abandoned before it knew (then fetch alone).
pub async fn await_keys(mut receiver: watch::Receiver<Option<ZoneTrust>>) -> Option<ZoneTrust> {
    receiver
        .wait_for(Option::is_some)
        .await
        .ok()
        .and_then(|trust| trust.clone())
}

impl Validator {
    /// A validator trusting `anchors`, with a signature memo of
    /// [`SIG_MEMO_BYTES`].
    pub fn new(anchors: TrustAnchors) -> Self {
        Self::with_memo_bytes(anchors, SIG_MEMO_BYTES)
    }

    /// A validator trusting `anchors`, whose memo of verified signatures
    /// ([`SigMemo`]) holds at most `memo_bytes` (0: none kept).
    pub fn with_memo_bytes(anchors: TrustAnchors, memo_bytes: usize) -> Self {
        let capacity = NonZeroUsize::new(KEY_CACHE_ENTRIES).unwrap_or(NonZeroUsize::MIN);
        Self {
            anchors,
            keys: Mutex::new(LruCache::new(capacity)),
            fetches: Mutex::new(HashMap::new()),
            memo: SigMemo::new(memo_bytes),
        }
    }

    /// What the memo of verified signatures holds and has spared.
    pub fn memo_stats(&self) -> SigMemoStats {
        self.memo.stats()
    }

    /// Who fetches `zone`'s DNSKEY RRset: the first walk to ask leads, and
    /// walks that need the same keys while it fetches wait for its verdict
    /// instead of asking again (a cold resolver's priming walk and its
    /// first question both need the root's keys at once). Bounded by
    /// [`MAX_KEY_FETCHES_SHARED`].
    pub fn fetch_keys(&self, zone: &Name) -> KeyFetch<'_> {
        let zone = zone.to_lowercase();
        let mut fetches = self.fetches.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(receiver) = fetches.get(&zone) {
            return KeyFetch::Follow(receiver.clone());
        }
        if fetches.len() >= MAX_KEY_FETCHES_SHARED {
            return KeyFetch::Alone;
        }
        let (sender, receiver) = watch::channel(None);
        fetches.insert(zone.clone(), receiver);
        KeyFetch::Lead(FetchLead {
            validator: self,
            zone,
            sender,
        })
    }

    /// Whether a trust anchor is configured for `zone` itself (its DS or
    /// DNSKEY records come from the anchor, not from a parent).
    pub fn is_anchor(&self, zone: &Name) -> bool {
        self.anchors.closest(zone) == Some(zone)
    }

    /// The trust a walk from `zone` starts with, if it can start there:
    /// the key cache's entry, or for an anchored zone the anchor itself.
    /// `None`: the trust of this cut is not known, start higher.
    pub fn start(&self, zone: &Name, now: Instant) -> Option<ZoneTrust> {
        let key = zone.to_lowercase();
        {
            let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
            match keys.get(&key) {
                Some((trust, expires)) if *expires > now => return Some(trust.clone()),
                Some(_) => {
                    keys.pop(&key);
                }
                None => {}
            }
        }
        self.anchored(zone)
    }

    /// The trust of an anchored zone before its keys are fetched; for a
    /// zone no anchor covers at all, [`ZoneTrust::Off`].
    pub fn anchored(&self, zone: &Name) -> Option<ZoneTrust> {
        let Some(closest) = self.anchors.closest(zone) else {
            return Some(ZoneTrust::Off);
        };
        if closest != zone {
            return None;
        }
        Some(ZoneTrust::Pending {
            ds: Arc::new(self.anchors.ds_for(zone)),
            anchor_keys: Arc::new(self.anchors.dnskeys_for(zone)),
        })
    }

    /// Remembers what `zone`'s trust came to, for `ttl`.
    pub fn remember(&self, zone: &Name, trust: &ZoneTrust, ttl: Duration, now: Instant) {
        if matches!(trust, ZoneTrust::Pending { .. } | ZoneTrust::Off) {
            return;
        }
        self.keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .put(zone.to_lowercase(), (trust.clone(), now + ttl));
    }

    /// The trust of the child a referral from `parent` (whose trust is
    /// `parent_trust`, settled) leads to.
    pub fn child_trust(
        &self,
        parent_trust: &ZoneTrust,
        child: &Name,
        reply: &Scrubbed,
        now: u32,
        budget: &mut SigBudget,
        proven: &mut Proven,
    ) -> ZoneTrust {
        let keys = match parent_trust {
            ZoneTrust::Keys(keys) => keys,
            ZoneTrust::Pending { .. } | ZoneTrust::Off => return ZoneTrust::Off,
            ZoneTrust::Insecure => return ZoneTrust::Insecure,
            ZoneTrust::Bogus(reason) => return ZoneTrust::Bogus(reason.clone()),
        };
        if !reply.ds().is_empty() {
            let sigs = signatures_for(reply, child, RecordType::DS);
            return match verify_rrset_memo(reply.ds(), &sigs, keys, now, budget, Some(&self.memo)) {
                Ok(verified) => {
                    proven.add(child, RecordType::DS, &verified);
                    ZoneTrust::Pending {
                        ds: Arc::new(reply.ds().iter().filter_map(as_ds).cloned().collect()),
                        anchor_keys: Arc::new(Vec::new()),
                    }
                }
                Err(reason) => ZoneTrust::Bogus(reason),
            };
        }
        // No DS: the parent must prove it (RFC 4035 §5.2).
        if let Err(reason) = self.verify_denial(reply, keys, now, budget, proven) {
            return ZoneTrust::Bogus(reason);
        }
        let zone = keys.zone();
        let proof = if has_nsec3(reply) {
            nsec3::prove_no_ds(child, zone, reply.denial())
        } else {
            nsec::prove_no_ds(child, zone, reply.denial())
        };
        match proof {
            Security::Secure | Security::Insecure => ZoneTrust::Insecure,
            Security::Bogus(reason) => ZoneTrust::Bogus(reason),
            Security::Indeterminate => ZoneTrust::Bogus(BogusReason::NsecMissing {
                problem: "no proof that the delegation has no DS",
            }),
        }
    }

    /// The trust `Pending` comes to, given the zone's DNSKEY reply, and
    /// what matched on the way (for the trace).
    pub fn keys_from(
        &self,
        zone: &Name,
        pending: &ZoneTrust,
        reply: &Scrubbed,
        now: u32,
        budget: &mut SigBudget,
    ) -> (ZoneTrust, KeyProof) {
        let ZoneTrust::Pending { ds, anchor_keys } = pending else {
            return (pending.clone(), KeyProof::default());
        };
        let dnskeys: Vec<Record> = reply
            .chain()
            .iter()
            .filter(|r| r.record_type() == RecordType::DNSKEY && r.name == *zone)
            .cloned()
            .collect();
        let sigs = signatures_for(reply, zone, RecordType::DNSKEY);
        let memo = Some(&self.memo);
        let check = check_dnskeys(zone, ds, anchor_keys, &dnskeys, &sigs, now, budget, memo);
        let trust = match check.verdict {
            KeyVerdict::Secure(keys) => ZoneTrust::Keys(Arc::new(keys)),
            KeyVerdict::Insecure => ZoneTrust::Insecure,
            KeyVerdict::Bogus(reason) => ZoneTrust::Bogus(reason),
        };
        (trust, check.proof)
    }

    /// The verdict on a reply of a zone with trusted `keys`, classified as
    /// `kind` (referrals and lame replies are judged elsewhere).
    pub fn judge(
        &self,
        keys: &TrustedKeys,
        reply: &Scrubbed,
        kind: &ResponseKind,
        now: u32,
        budget: &mut SigBudget,
        proven: &mut Proven,
    ) -> Security {
        match kind {
            ResponseKind::Answer | ResponseKind::Cname { .. } => {
                self.judge_chain(keys, reply, now, budget, proven)
            }
            ResponseKind::NoData | ResponseKind::NxDomain => {
                if let Err(reason) = self.verify_denial(reply, keys, now, budget, proven) {
                    return Security::Bogus(reason);
                }
                let zone = keys.zone();
                let name = reply.final_name();
                let nx = matches!(kind, ResponseKind::NxDomain);
                let proof = match (has_nsec3(reply), nx) {
                    (true, true) => nsec3::prove_nxdomain(name, zone, reply.denial()),
                    (true, false) => nsec3::prove_nodata(name, reply.qtype(), zone, reply.denial()),
                    (false, true) => nsec::prove_nxdomain(name, zone, reply.denial()),
                    (false, false) => nsec::prove_nodata(name, reply.qtype(), zone, reply.denial()),
                };
                // A chain before the negative answer must verify too.
                match (proof, self.judge_chain(keys, reply, now, budget, proven)) {
                    (Security::Bogus(reason), _) | (_, Security::Bogus(reason)) => {
                        Security::Bogus(reason)
                    }
                    (Security::Indeterminate, _) => Security::Bogus(BogusReason::NsecMissing {
                        problem: "no proof for the negative answer",
                    }),
                    (proof, _) => proof,
                }
            }
            ResponseKind::Referral { .. } | ResponseKind::Lame(_) => Security::Indeterminate,
        }
    }

    /// Every RRset of the reply's answer chain (a DNAME's synthesised CNAME
    /// judged through its DNAME), each against its RRSIGs, with the wildcard
    /// proof an expanded one needs.
    fn judge_chain(
        &self,
        keys: &TrustedKeys,
        reply: &Scrubbed,
        now: u32,
        budget: &mut SigBudget,
        proven: &mut Proven,
    ) -> Security {
        for rrset in rrsets(reply.chain_to_cache()) {
            let Some(first) = rrset.first() else {
                continue;
            };
            let key = (first.name.clone(), first.record_type());
            let sigs = signatures_for(reply, &key.0, key.1);
            match verify_rrset_memo(&rrset, &sigs, keys, now, budget, Some(&self.memo)) {
                Err(reason) => return Security::Bogus(reason),
                Ok(verified) => {
                    proven.add(&key.0, key.1, &verified);
                    if let Some(wildcard) = verified.wildcard {
                        if let Err(reason) = self.verify_denial(reply, keys, now, budget, proven) {
                            return Security::Bogus(reason);
                        }
                        let proof = if has_nsec3(reply) {
                            nsec3::prove_wildcard(&key.0, &wildcard, keys.zone(), reply.denial())
                        } else {
                            nsec::prove_wildcard(&key.0, &wildcard, keys.zone(), reply.denial())
                        };
                        match proof {
                            Security::Secure => {}
                            Security::Bogus(reason) => return Security::Bogus(reason),
                            _ => {
                                return Security::Bogus(BogusReason::NsecMissing {
                                    problem: "no proof that the wildcard was the closest match",
                                });
                            }
                        }
                    }
                }
            }
        }
        Security::Secure
    }

    /// Checks the signatures of every NSEC/NSEC3 RRset of the reply.
    fn verify_denial(
        &self,
        reply: &Scrubbed,
        keys: &TrustedKeys,
        now: u32,
        budget: &mut SigBudget,
        proven: &mut Proven,
    ) -> Result<(), BogusReason> {
        if reply.denial().is_empty() {
            return Err(BogusReason::NsecMissing {
                problem: "no NSEC or NSEC3 records in the reply",
            });
        }
        for record in reply.denial() {
            let rrset = [record.clone()];
            let sigs = signatures_for(reply, &record.name, record.record_type());
            let verified = verify_rrset_memo(&rrset, &sigs, keys, now, budget, Some(&self.memo))?;
            proven.add(&record.name, record.record_type(), &verified);
        }
        Ok(())
    }
}

pub(super) fn has_nsec3(reply: &Scrubbed) -> bool {
    reply
        .denial()
        .iter()
        .any(|r| r.record_type() == RecordType::NSEC3)
}

/// The RRSIGs of the reply over `owner`/`rtype`.
pub(super) fn signatures_for(reply: &Scrubbed, owner: &Name, rtype: RecordType) -> Vec<Record> {
    reply
        .signatures()
        .iter()
        .filter(|r| r.name == *owner && covered_type(r) == Some(rtype))
        .cloned()
        .collect()
}

/// The worse of two verdicts for one client answer: bogus over
/// indeterminate over insecure over secure.
pub fn worse(a: Security, b: Security) -> Security {
    fn rank(s: &Security) -> u8 {
        match s {
            Security::Secure => 0,
            Security::Insecure => 1,
            Security::Indeterminate => 2,
            Security::Bogus(_) => 3,
        }
    }
    if rank(&b) > rank(&a) { b } else { a }
}

/// The cache's word for a verdict.
pub fn as_validation(security: &Security) -> Validation {
    match security {
        Security::Secure => Validation::Secure,
        Security::Insecure => Validation::Insecure,
        // 6 (DNSSEC Bogus) should a code ever not fit in a byte.
        Security::Bogus(reason) => Validation::Bogus(u8::try_from(reason.ede_code()).unwrap_or(6)),
        Security::Indeterminate => Validation::Indeterminate,
    }
}

/// The verdict a cached status stands for (`Unchecked`: indeterminate).
pub fn from_validation(validation: Validation) -> Security {
    match validation {
        Validation::Secure => Security::Secure,
        Validation::Insecure => Security::Insecure,
        Validation::Bogus(ede) => Security::Bogus(BogusReason::CachedBogus {
            ede: u16::from(ede),
        }),
        Validation::Indeterminate | Validation::Unchecked => Security::Indeterminate,
    }
}

/// Seconds since the epoch now, for signature windows.
pub fn unix_now() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worse_orders_the_verdicts() {
        let bogus = Security::Bogus(BogusReason::NsecMissing { problem: "test" });
        assert_eq!(
            worse(Security::Secure, Security::Insecure),
            Security::Insecure
        );
        assert_eq!(
            worse(Security::Insecure, Security::Secure),
            Security::Insecure
        );
        assert_eq!(worse(Security::Indeterminate, bogus.clone()), bogus);
        assert_eq!(worse(bogus.clone(), Security::Secure), bogus);
        assert_eq!(worse(Security::Secure, Security::Secure), Security::Secure);
    }

    #[tokio::test]
    async fn concurrent_key_fetches_of_a_zone_share_one() {
        let validator = Validator::new(TrustAnchors::iana_root());
        let zone = Name::from_ascii("Example.").unwrap();
        let KeyFetch::Lead(lead) = validator.fetch_keys(&zone) else {
            panic!("the first walk fetches");
        };
        let lower = Name::from_ascii("example.").unwrap();
        let KeyFetch::Follow(waiting) = validator.fetch_keys(&lower) else {
            panic!("the second waits, whatever the case of the name");
        };
        lead.finish(&ZoneTrust::Insecure);
        assert!(matches!(
            await_keys(waiting).await,
            Some(ZoneTrust::Insecure)
        ));
        // Done: the next walk leads a fetch of its own.
        let KeyFetch::Lead(lead) = validator.fetch_keys(&zone) else {
            panic!("the entry went with the fetch");
        };
        let KeyFetch::Follow(waiting) = validator.fetch_keys(&zone) else {
            panic!("waits");
        };
        // An abandoned lead lets the waiting walk go and fetch alone.
        drop(lead);
        assert!(await_keys(waiting).await.is_none());
        // Bounded: past the cap a walk fetches alone, sharing nothing.
        let leads: Vec<KeyFetch<'_>> = (0..MAX_KEY_FETCHES_SHARED)
            .map(|i| validator.fetch_keys(&Name::from_ascii(format!("z{i}.")).unwrap()))
            .collect();
        assert!(leads.iter().all(|f| matches!(f, KeyFetch::Lead(_))));
        assert!(matches!(validator.fetch_keys(&zone), KeyFetch::Alone));
        drop(leads);
        assert!(matches!(validator.fetch_keys(&zone), KeyFetch::Lead(_)));
    }

    #[test]
    fn the_anchor_zone_starts_pending_and_others_wait_for_their_parent() {
        let anchors = TrustAnchors::iana_root();
        let validator = Validator::new(anchors);
        let now = Instant::now();
        assert!(matches!(
            validator.start(&Name::root(), now),
            Some(ZoneTrust::Pending { .. })
        ));
        let com = Name::from_ascii("com.").unwrap();
        assert!(
            validator.start(&com, now).is_none(),
            "not known: start higher"
        );
        validator.remember(&com, &ZoneTrust::Insecure, Duration::from_secs(60), now);
        assert!(matches!(
            validator.start(&com, now),
            Some(ZoneTrust::Insecure)
        ));
        assert!(
            validator
                .start(&com, now + Duration::from_secs(61))
                .is_none(),
            "forgotten after its TTL"
        );
    }
}
