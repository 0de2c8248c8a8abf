//! The iterative resolution engine.
//!
//! [`Resolver::resolve`] answers one question by walking from the closest
//! zone cut it knows (the root, after priming) down the referrals, scrubbing
//! every reply against the zone of the server that sent it, and resolving
//! the addresses of glueless name servers in nested side resolutions.
//!
//! - [`hints`]: root hints and their file format.
//! - [`scrub`]: the bailiwick filter; only it makes a [`scrub::Scrubbed`].
//! - [`classify`]: answer, CNAME, referral, NODATA, NXDOMAIN or lame.
//! - [`delegation`]: a zone cut, its servers and their addresses.
//! - [`dname`]: DNAME records and their substitution (RFC 6672).
//! - [`error`]: [`ResolveError`], why a resolution failed.
//! - [`validator`]: DNSSEC in the walk: each zone cut's trust, the
//!   verdict on each reply (the pure checks are in [`crate::validate`]).
//! - `stale`: answers from expired data (RFC 8767) and when a cached
//!   answer is due for a prefetch.
//! - `iterator`: the walk itself; `race`: one question to one zone cut's
//!   servers, with resends, racing and the infra cache's timers; `target`:
//!   side resolutions; `request`: the per-question budget.

pub mod classify;
pub mod delegation;
pub mod dname;
pub mod error;
pub mod hints;
mod iterator;
mod race;
mod request;
pub mod route;
pub mod scrub;
mod stale;
mod target;
pub mod validator;

use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, Record, RecordType};
use tokio::time::Instant;

use crate::cache::{
    CachedNegative, CachedRrset, FailureCache, InfraCache, NameScope, NameVersions, NegativeCache,
    RrsetCache, Stamp,
};
use crate::config::{AddressFamilies, CacheBudgets, Limits, ZoneRoute};
use crate::net::Transport;
use crate::trace::{Event, Observer, Purpose, emit};
use crate::validate::Security;
use crate::validate::anchor::TrustAnchors;
pub use error::ResolveError;
use hints::RootHints;
use request::Request;
use validator::Validator;

/// What a resolver is built from.
#[derive(Debug, Clone)]
pub struct ResolverConfig {
    /// Where walks start.
    pub hints: RootHints,
    /// The port every upstream query goes to (53 on the Internet).
    pub upstream_port: u16,
    /// Limits in force.
    pub limits: Limits,
    /// Address families upstream servers may be asked over.
    pub families: AddressFamilies,
    /// Forward and stub zones (see [`route`]).
    pub routes: Vec<ZoneRoute>,
    /// DNSSEC trust anchors; `None` turns validation off.
    pub trust_anchors: Option<TrustAnchors>,
}

impl ResolverConfig {
    /// IANA's hints, port 53, default limits, both address families.
    pub fn internet() -> Self {
        Self::new(RootHints::iana(), 53, Limits::default())
    }

    /// Starting from `hints` on `upstream_port` with `limits`, both address
    /// families, no DNSSEC validation (set [`ResolverConfig::trust_anchors`]
    /// to validate).
    pub fn new(hints: RootHints, upstream_port: u16, limits: Limits) -> Self {
        Self {
            hints,
            upstream_port,
            limits,
            families: AddressFamilies::default(),
            routes: Vec::new(),
            trust_anchors: None,
        }
    }
}

/// What a client wants done with data that fails DNSSEC validation
/// (RFC 4035 §3.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Checking {
    /// Bogus data is an error: the resolution fails with
    /// [`ResolveError::Bogus`].
    #[default]
    Enabled,
    /// The client set CD: the answer is given even when bogus, its verdict
    /// in [`Outcome::security`]; the caller decides who may see it (the
    /// daemon resolves this way and answers SERVFAIL to clients without
    /// CD).
    Disabled,
}

/// Counters of one client question.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Queries sent upstream, side resolutions included.
    pub upstream_queries: u32,
    /// Side resolutions of glueless name servers started.
    pub side_resolutions: u32,
    /// Wall time.
    pub elapsed: Duration,
}

/// What a cache-only look ([`Resolver::answer_from_cache_stamped`])
/// found when it could not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheMiss {
    /// Nothing for the question's own name and type: no answer, no CNAME,
    /// no negative answer, no DNAME above. The stamp of the name was taken
    /// before the look.
    Empty(Stamp),
    /// Part of the answer (a CNAME whose chain breaks later), a chain a
    /// resolution would fail, or a recent failure of the question.
    Partial,
}

/// The answer a stub gets.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// NOERROR or NXDOMAIN, as the last link of the chain says.
    pub rcode: ResponseCode,
    /// The CNAME chain followed by the final RRset.
    pub answers: Vec<Record>,
    /// The SOA of a negative answer.
    pub authorities: Vec<Record>,
    /// The RRSIGs over `answers`, RRset by RRset, as the zones sent them:
    /// for a client that set DO (RFC 4035 §3.2.1). Empty when validation
    /// is off (no DO upstream) or the zones are unsigned.
    pub signatures: Vec<Record>,
    /// What proves a negative answer (the SOA's RRSIGs, NSEC or NSEC3
    /// records and theirs): for a client that set DO (RFC 4035 §3.1.3).
    pub proof: Vec<Record>,
    /// What it cost.
    pub stats: Stats,
    /// What DNSSEC validation said of the whole answer (indeterminate when
    /// validation is off or no anchor covers the name).
    pub security: Security,
    /// Whether some of it is expired data served stale (RFC 8767), from
    /// [`Resolver::answer_stale`]; its records then carry the stale TTL.
    pub stale: bool,
}

/// How much the caches hold, for `stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheSizes {
    /// RRsets, expired ones not yet evicted included.
    pub rrsets: usize,
    /// Negative answers (NXDOMAIN, NODATA).
    pub negative: usize,
    /// Per-server records of the infra cache.
    pub infra: usize,
    /// Bytes the RRset cache holds.
    pub rrset_bytes: usize,
    /// Bytes the negative cache holds.
    pub negative_bytes: usize,
    /// Bytes the RRset and negative caches may hold together.
    pub budget_bytes: usize,
}

/// What the caches hold, for `dump-cache`.
#[derive(Debug, Clone, Default)]
pub struct CacheDump {
    /// Every live RRset, TTLs as remaining.
    pub rrsets: Vec<CachedRrset>,
    /// Every live negative answer: owner, type (`None`: NXDOMAIN), answer.
    pub negative: Vec<(Name, Option<RecordType>, CachedNegative)>,
}

/// A failed resolution: why, and what it cost.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{error}")]
pub struct Failure {
    /// Why.
    #[source]
    pub error: ResolveError,
    /// What it cost.
    pub stats: Stats,
}

/// A recursive resolver with its caches. Cheap to clone: one `Arc` inside.
#[derive(Clone)]
pub struct Resolver {
    inner: Arc<Inner>,
}

/// One resolver's settings and its caches. The caches (and the forward
/// zones, and the validator with its key cache) sit behind `Arc`s of their
/// own, so [`Resolver::with_limits`] can make another `Inner` with other
/// limits over the same caches.
struct Inner {
    hints: RootHints,
    families: AddressFamilies,
    port: u16,
    limits: Limits,
    transport: Transport,
    rrsets: Arc<RrsetCache>,
    negative: Arc<NegativeCache>,
    failures: Arc<FailureCache>,
    infra: Arc<InfraCache>,
    /// Bumped on every write of the caches above, by owner name.
    versions: Arc<NameVersions>,
    /// Forward and stub zones.
    routes: Arc<route::Routes>,
    /// DNSSEC validation, when on.
    validator: Option<Arc<Validator>>,
}

impl Resolver {
    /// A resolver with empty caches.
    pub fn new(config: ResolverConfig) -> Self {
        let ResolverConfig {
            hints,
            upstream_port,
            limits,
            families,
            routes,
            trust_anchors,
        } = config;
        let budgets = CacheBudgets::split(limits.cache_bytes);
        let inner = Inner {
            transport: transport(&limits, trust_anchors.is_some()),
            validator: trust_anchors.map(|anchors| {
                Arc::new(Validator::with_memo_bytes(anchors, limits.sig_memo_bytes))
            }),
            rrsets: Arc::new(
                RrsetCache::new(budgets.rrset, limits.max_ttl).keeping_stale(limits.max_stale_age),
            ),
            negative: Arc::new(
                NegativeCache::new(
                    budgets.negative,
                    limits.max_negative_ttl.min(limits.max_ttl),
                )
                .keeping_stale(limits.max_stale_age),
            ),
            failures: Arc::new(FailureCache::new(budgets.failure)),
            infra: Arc::new(InfraCache::with_timers(budgets.infra, limits.infra)),
            families,
            versions: Arc::default(),
            routes: Arc::new(route::Routes::new(routes)),
            hints,
            port: upstream_port,
            limits,
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// A resolver over the same caches (RRsets, negative answers, failures,
    /// the infra cache, the validator's keys), forward and stub zones, root
    /// hints and trust anchors as this one, resolving within `limits`: what
    /// a configuration reload puts in force for new resolutions, while
    /// those under way finish within the old limits. The limits the caches
    /// were built with cannot change while they live; those are kept as
    /// they are, and their `[limits]` keys (see
    /// [`crate::config::LIMIT_KEYS`], and `cache-size`) are returned when
    /// `limits` asked for another value.
    pub fn with_limits(&self, limits: Limits) -> (Resolver, Vec<&'static str>) {
        let old = &*self.inner;
        let kept = cache_bound_changes(&old.limits, &limits);
        let limits = Limits {
            cache_bytes: old.limits.cache_bytes,
            max_ttl: old.limits.max_ttl,
            max_negative_ttl: old.limits.max_negative_ttl,
            max_stale_age: old.limits.max_stale_age,
            infra: old.limits.infra,
            sig_memo_bytes: old.limits.sig_memo_bytes,
            ..limits
        };
        let inner = Inner {
            hints: old.hints.clone(),
            families: old.families,
            port: old.port,
            transport: transport(&limits, old.validator.is_some()),
            limits,
            rrsets: Arc::clone(&old.rrsets),
            negative: Arc::clone(&old.negative),
            failures: Arc::clone(&old.failures),
            infra: Arc::clone(&old.infra),
            versions: Arc::clone(&old.versions),
            routes: Arc::clone(&old.routes),
            validator: old.validator.clone(),
        };
        let resolver = Self {
            inner: Arc::new(inner),
        };
        (resolver, kept)
    }

    /// What the validator's memo of verified signatures holds and has
    /// spared; `None` when not validating.
    pub fn sig_memo_stats(&self) -> Option<crate::validate::memo::SigMemoStats> {
        self.inner.validator.as_ref().map(|v| v.memo_stats())
    }

    /// How much the caches hold now.
    pub fn cache_sizes(&self) -> CacheSizes {
        let inner = &*self.inner;
        CacheSizes {
            rrsets: inner.rrsets.len(),
            negative: inner.negative.len(),
            infra: inner.infra.len(),
            rrset_bytes: inner.rrsets.bytes(),
            negative_bytes: inner.negative.bytes(),
            budget_bytes: inner.rrsets.budget() + inner.negative.budget(),
        }
    }

    /// Drops every RRset, negative answer and remembered failure of
    /// exactly `name`, and makes copies of answers read under it stale
    /// (the daemon's reply copies); how many entries went.
    pub fn flush_name(&self, name: &Name) -> usize {
        let dropped = self.flush(&NameScope::Name(name.clone()));
        self.inner.versions.changed(name);
        dropped
    }

    /// Drops everything cached at or below `zone` (RRsets, negative
    /// answers, failures), and makes every copy of a cached answer stale;
    /// how many entries went.
    pub fn flush_zone(&self, zone: &Name) -> usize {
        let dropped = self.flush(&NameScope::Zone(zone.clone()));
        self.inner.versions.changed_all();
        dropped
    }

    /// Empties the RRset, negative and failure caches (the per-server
    /// facts of the infra cache are kept), and makes every copy of a cached
    /// answer stale; how many entries went.
    pub fn flush_all(&self) -> usize {
        let dropped = self.flush(&NameScope::All);
        self.inner.versions.changed_all();
        dropped
    }

    fn flush(&self, scope: &NameScope) -> usize {
        let inner = &*self.inner;
        inner.rrsets.remove_scope(scope)
            + inner.negative.remove_scope(scope)
            + inner.failures.remove_scope(scope)
    }

    /// Everything live in the RRset and negative caches, TTLs as
    /// remaining. Walks the caches one shard at a time: for operators.
    pub fn dump_cache(&self) -> CacheDump {
        let now = Instant::now();
        CacheDump {
            rrsets: self.inner.rrsets.dump(now),
            negative: self.inner.negative.dump(now),
        }
    }

    /// Puts `routes` (forward and stub zones) in force for every walk
    /// started from now on; the caches are kept.
    pub fn set_routes(&self, routes: Vec<ZoneRoute>) {
        self.inner.routes.replace(routes);
    }

    /// Bytes the caches are charged now, all of them together (at most
    /// the resolver's share of `limits.cache_bytes`).
    pub fn cache_bytes(&self) -> usize {
        let inner = &*self.inner;
        inner.rrsets.bytes() + inner.negative.bytes() + inner.failures.bytes() + inner.infra.bytes()
    }

    /// The answer to `qname`/`qtype` from the caches alone, without a task,
    /// a timer or an upstream query: the cached CNAME chain followed and
    /// its last link answered by a cached RRset or a cached negative answer
    /// (RFC 2308), exactly as [`Resolver::resolve`] would from a warm cache.
    /// `None` when any link is not cached, or when the question failed
    /// recently (then `resolve` answers it, with the failure). The daemon
    /// calls it on its receive loop; the caches take only their per-shard
    /// locks, each for one lookup.
    pub fn answer_from_cache(&self, qname: &Name, qtype: RecordType) -> Option<Outcome> {
        self.answer_from_cache_stamped(qname, qtype)
            .ok()
            .map(|(outcome, _)| outcome)
    }

    /// [`Resolver::answer_from_cache`], with stamps of every name the answer
    /// was read under, taken before reading: as long as
    /// [`Resolver::is_current`] holds for all of them, the caches would
    /// give the same answer (with TTLs lower by the time passed), so a copy
    /// of it may be served.
    ///
    /// On a miss, what the look found (see [`CacheMiss`]); pass it to
    /// [`Resolver::resolve_after_miss`].
    pub fn answer_from_cache_stamped(
        &self,
        qname: &Name,
        qtype: RecordType,
    ) -> Result<(Outcome, Vec<Stamp>), CacheMiss> {
        let started = Instant::now();
        let inner = &*self.inner;
        let question = inner.versions.stamp(qname);
        if inner.failures.contains(qname, qtype, started) {
            return Err(CacheMiss::Partial);
        }
        let mut stamps = vec![question];
        let done =
            inner
                .answer_from_cache(qname, qtype, &mut stamps)
                .map_err(|missed| match missed {
                    iterator::Missed::AtQuestion => CacheMiss::Empty(question),
                    iterator::Missed::Later => CacheMiss::Partial,
                })?;
        let outcome = Outcome {
            rcode: done.rcode,
            answers: done.answers,
            authorities: done.soa.into_iter().collect(),
            signatures: done.signatures,
            proof: done.proof,
            stats: Stats {
                elapsed: started.elapsed(),
                ..Stats::default()
            },
            security: done.security,
            stale: false,
        };
        Ok((outcome, stamps))
    }

    /// Whether nothing was written to the caches under `stamp` since it was
    /// taken (see [`Resolver::answer_from_cache_stamped`]).
    pub fn is_current(&self, stamp: &Stamp) -> bool {
        self.inner.versions.is_current(stamp)
    }

    /// Resolves `qname`/`qtype` from the closest cached zone cut, reporting
    /// to `observer`. A failure is remembered for `failure_ttl` (RFC 9520).
    pub async fn resolve(
        &self,
        qname: &Name,
        qtype: RecordType,
        observer: &dyn Observer,
    ) -> Result<Outcome, Failure> {
        self.resolve_with(qname, qtype, observer, Checking::Enabled)
            .await
    }

    /// [`Resolver::resolve`], with `checking` saying what becomes of
    /// bogus data: with [`Checking::Disabled`] a bogus answer is an
    /// `Ok` whose [`Outcome::security`] says so.
    pub async fn resolve_with(
        &self,
        qname: &Name,
        qtype: RecordType,
        observer: &dyn Observer,
        checking: Checking,
    ) -> Result<Outcome, Failure> {
        let request = Request::new(&self.inner.limits, observer)
            .checking_disabled(checking == Checking::Disabled);
        self.run(qname, qtype, request).await
    }

    /// [`Resolver::resolve_with`] for a question whose cache-only look
    /// ([`Resolver::answer_from_cache_stamped`]) just missed with `miss`.
    /// When that look found nothing at all for the question and nothing
    /// has been written under its name since, the resolution does not look
    /// again and starts its walk at once (the look was about a twentieth
    /// of a miss's CPU); otherwise it looks as `resolve_with` does. The stamp covers
    /// the question's own name only: a write above it in between (a DNAME,
    /// an NXDOMAIN) can cost a query upstream, never a different answer.
    pub async fn resolve_after_miss(
        &self,
        qname: &Name,
        qtype: RecordType,
        observer: &dyn Observer,
        checking: Checking,
        miss: CacheMiss,
    ) -> Result<Outcome, Failure> {
        let empty = match miss {
            CacheMiss::Empty(stamp) => Some(stamp),
            CacheMiss::Partial => None,
        };
        let request = Request::new(&self.inner.limits, observer)
            .checking_disabled(checking == Checking::Disabled)
            .after_empty_look(empty);
        self.run(qname, qtype, request).await
    }

    /// Refreshes `qname`/`qtype` before its cached answer expires (a
    /// prefetch, as Unbound's `prefetch`): resolves it as
    /// [`Resolver::resolve`] does, except that every link of the CNAME
    /// chain is asked upstream even though the caches still hold it
    /// (delegations and server addresses still come from the caches), and
    /// the new data replaces the old. A failure is not remembered: the
    /// cached answer is still good until it expires.
    pub async fn prefetch(
        &self,
        qname: &Name,
        qtype: RecordType,
        observer: &dyn Observer,
        checking: Checking,
    ) -> Result<Outcome, Failure> {
        let request = Request::refreshing(&self.inner.limits, observer)
            .checking_disabled(checking == Checking::Disabled);
        self.run(qname, qtype, request).await
    }

    /// Runs `request` for `qname`/`qtype`.
    async fn run(
        &self,
        qname: &Name,
        qtype: RecordType,
        request: Request<'_>,
    ) -> Result<Outcome, Failure> {
        let started = Instant::now();
        let inner = &*self.inner;
        let observer = request.observer;
        let stats = |request: &Request<'_>| Stats {
            upstream_queries: request.queries(),
            side_resolutions: request.side_resolutions(),
            elapsed: started.elapsed(),
        };
        if inner.failures.contains(qname, qtype, started) {
            // A resolution of its own, so a trace shows the short cut.
            let id = request.next_resolution();
            emit(observer, || Event::ResolutionStarted {
                id,
                parent_hop: None,
                qname: qname.clone(),
                qtype,
                purpose: Purpose::Client,
            });
            emit(observer, || Event::CacheHit {
                resolution: id,
                what: format!("recent failure of {qname} {qtype} (RFC 9520), not retried"),
            });
            let error = ResolveError::RecentFailure;
            emit(observer, || Event::ResolutionFinished {
                id,
                rcode: ResponseCode::ServFail,
                error: Some(error.to_string()),
                elapsed: started.elapsed(),
            });
            return Err(Failure {
                error,
                stats: stats(&request),
            });
        }
        let task = iterator::Task {
            qname: qname.clone(),
            qtype,
            parent_hop: None,
            purpose: Purpose::Client,
            stack: None,
            depth: 0,
        };
        let limit = inner.limits.request_timeout;
        let result = match tokio::time::timeout(limit, inner.resolve_task(&request, task)).await {
            Ok(result) => result,
            Err(_) => Err(ResolveError::Timeout(limit)),
        };
        // As the cache would give them: capped at MAX_TTL.
        let cap = |records| cap_ttls(records, capped_secs(inner.limits.max_ttl));
        match result {
            Ok(done) => Ok(Outcome {
                rcode: done.rcode,
                answers: cap(done.answers),
                signatures: cap(done.signatures),
                proof: cap(done.proof),
                authorities: done.soa.into_iter().collect(),
                stats: stats(&request),
                security: done.security,
                stale: false,
            }),
            Err(error) => {
                // Bogus data is remembered in the caches already (for the
                // bogus TTL, where a client with CD can still have it).
                let bogus = matches!(error, ResolveError::Bogus(_));
                if !request.skips_cache(0) && !bogus {
                    inner
                        .failures
                        .insert(qname, qtype, inner.limits.failure_ttl, Instant::now());
                    inner.versions.changed(qname);
                }
                Err(Failure {
                    error,
                    stats: stats(&request),
                })
            }
        }
    }
}

/// The upstream transport `limits` ask for, with DO=1 when validating.
fn transport(limits: &Limits, validating: bool) -> Transport {
    Transport::new(limits.query_timeout, limits.edns_payload).with_dnssec_ok(validating)
}

/// The `[limits]` keys (and `cache-size`) of the limits the caches are
/// built with whose value differs between `old` and `new`: see
/// [`Resolver::with_limits`].
fn cache_bound_changes(old: &Limits, new: &Limits) -> Vec<&'static str> {
    let (was, now) = (&old.infra, &new.infra);
    [
        ("cache-size", old.cache_bytes != new.cache_bytes),
        ("max-ttl-s", old.max_ttl != new.max_ttl),
        (
            "max-negative-ttl-s",
            old.max_negative_ttl != new.max_negative_ttl,
        ),
        ("max-stale-age-s", old.max_stale_age != new.max_stale_age),
        ("sig-memo-bytes", old.sig_memo_bytes != new.sig_memo_bytes),
        ("unknown-rto-ms", was.unknown_rto != now.unknown_rto),
        ("min-rto-ms", was.min_rto != now.min_rto),
        ("max-rto-ms", was.max_rto != now.max_rto),
        (
            "dead-after-timeouts",
            was.dead_after_timeouts != now.dead_after_timeouts,
        ),
        ("hold-down-s", was.hold_down != now.hold_down),
        ("probe-interval-s", was.probe_interval != now.probe_interval),
        (
            "family-hold-down-s",
            was.family_hold_down != now.family_hold_down,
        ),
    ]
    .into_iter()
    .filter_map(|(key, changed)| changed.then_some(key))
    .collect()
}

/// `records` with every TTL at most `cap` seconds.
pub(crate) fn cap_ttls(mut records: Vec<Record>, cap: u32) -> Vec<Record> {
    records.iter_mut().for_each(|r| r.ttl = r.ttl.min(cap));
    records
}

/// `ttl` in whole seconds, as a record TTL.
pub(crate) fn capped_secs(ttl: Duration) -> u32 {
    u32::try_from(ttl.as_secs()).unwrap_or(u32::MAX)
}
