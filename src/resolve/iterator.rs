//! The walk: from the closest known zone cut down the referrals to a final
//! answer, one exchange at a time, with the caches written only here and
//! only from scrubbed replies.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::time::Duration;

use foldhash::{HashMap, HashMapExt};
use hickory_proto::op::{Query, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::time::Instant;

use super::Inner;
use super::classify::{LameReason, ResponseKind, classify};
use super::delegation::DelegationPoint;
use super::race::{Landed, Race};
use super::request::{Request, Stack};
use super::scrub::Scrubbed;
use super::validator::{
    KeyFetch, Proven, UNSIGNED_TRUST_TTL, Validator, ZoneTrust, answer_note, as_validation,
    await_keys, delegation_note, from_validation, keys_note, unix_now, worse,
};
use crate::cache::{CachedRrset, NegativeKind, Stamp, Trust, Validation};
use crate::config::RouteKind;
use crate::resolve::ResolveError;
use crate::trace::{AddrSource, Event, HopId, NullObserver, Observer, Purpose, emit};
use crate::validate::keys::KeyProof;
use crate::validate::{BogusReason, Security};

/// Why a cache-only look ([`Inner::answer_from_cache`]) could not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Missed {
    /// Nothing cached for the question's own name and type: no answer, no
    /// CNAME, no negative answer, no DNAME above.
    AtQuestion,
    /// A later link of the CNAME chain, or a chain a resolution would fail.
    Later,
}

/// One resolution to run: the client's question or a side resolution.
pub(super) struct Task<'a> {
    pub qname: Name,
    pub qtype: RecordType,
    pub parent_hop: Option<HopId>,
    pub purpose: Purpose,
    pub stack: Option<&'a Stack<'a>>,
    pub depth: u32,
}

/// A finished resolution.
pub(super) struct Resolved {
    pub rcode: ResponseCode,
    pub answers: Vec<Record>,
    pub soa: Option<Record>,
    /// The RRSIGs over `answers`, RRset by RRset (for clients that set DO).
    pub signatures: Vec<Record>,
    /// What proves a negative answer: the SOA's RRSIGs, NSEC or NSEC3
    /// records and theirs (for clients that set DO).
    pub proof: Vec<Record>,
    /// What DNSSEC said of the whole answer, every link of its chain.
    pub security: Security,
}

/// How one walk down the tree ended. Each carries the DNSSEC records that
/// go with it: RRSIGs over the records, or the proof of a negative answer.
enum Terminal {
    Answer(Vec<Record>, Vec<Record>),
    Cname(Vec<Record>, Vec<Record>, Name),
    NoData(Option<Record>, Vec<Record>),
    NxDomain(Option<Record>, Vec<Record>),
}

impl Terminal {
    /// The answer to a reply of this `kind`, with its DNSSEC records.
    fn from_reply(reply: &Scrubbed, kind: &ResponseKind, soa: Option<Record>) -> Option<Self> {
        let records = || reply.chain().to_vec();
        Some(match kind {
            ResponseKind::Answer => Terminal::Answer(records(), reply.chain_signatures()),
            ResponseKind::Cname { target } => {
                Terminal::Cname(records(), reply.chain_signatures(), target.clone())
            }
            ResponseKind::NoData => Terminal::NoData(soa, reply.proof()),
            ResponseKind::NxDomain => Terminal::NxDomain(soa, reply.proof()),
            ResponseKind::Referral { .. } | ResponseKind::Lame(_) => return None,
        })
    }

    /// The same answer with every TTL at most `cap` seconds (bogus data is
    /// kept, and told, only for the bogus TTL).
    fn capped(self, cap: u32) -> Self {
        let cap_all = |records| super::cap_ttls(records, cap);
        let cap_one = |soa: Option<Record>| {
            soa.map(|mut soa| {
                soa.ttl = soa.ttl.min(cap);
                soa
            })
        };
        match self {
            Terminal::Answer(records, sigs) => Terminal::Answer(cap_all(records), cap_all(sigs)),
            Terminal::Cname(records, sigs, target) => {
                Terminal::Cname(cap_all(records), cap_all(sigs), target)
            }
            Terminal::NoData(soa, proof) => Terminal::NoData(cap_one(soa), cap_all(proof)),
            Terminal::NxDomain(soa, proof) => Terminal::NxDomain(cap_one(soa), cap_all(proof)),
        }
    }
}

/// A CNAME chain being followed: the name asked next, the records so far,
/// the names seen (for loop detection).
struct Chain {
    name: Name,
    records: Vec<Record>,
    /// The RRSIGs over `records`.
    signatures: Vec<Record>,
    /// A list, not a hash set: the chain length limit keeps it to a few
    /// names, which a scan compares (`Name`'s `==` ignores case, RFC 4343)
    /// more cheaply than a set hashes a lowercased copy of each.
    seen: Vec<Name>,
}

impl Chain {
    fn new(qname: Name) -> Self {
        Self {
            name: qname,
            records: Vec::new(),
            signatures: Vec::new(),
            seen: Vec::new(),
        }
    }

    /// Whether the chain may go on to ask for `self.name`: not seen before
    /// (a loop) and no more than `max_links` CNAMEs so far.
    fn check(&mut self, max_links: u32) -> Result<(), ResolveError> {
        if self.seen.contains(&self.name) {
            return Err(ResolveError::CnameLoop(self.name.clone()));
        }
        self.seen.push(self.name.clone());
        self.check_length(max_links)
    }

    /// Whether the chain has no more than `max_links` CNAMEs, whether they
    /// came one per reply or many in one.
    fn check_length(&self, max_links: u32) -> Result<(), ResolveError> {
        let links = self
            .records
            .iter()
            .filter(|r| r.record_type() == RecordType::CNAME)
            .count();
        if links > max_links as usize {
            return Err(ResolveError::CnameChainTooLong(max_links));
        }
        Ok(())
    }

    /// The finished answer: the chain so far and how it ended.
    fn finish(&mut self, rcode: ResponseCode, soa: Option<Record>, proof: Vec<Record>) -> Resolved {
        Resolved {
            rcode,
            answers: std::mem::take(&mut self.records),
            soa,
            signatures: std::mem::take(&mut self.signatures),
            proof,
            security: Security::Indeterminate,
        }
    }

    /// Adds what the link for `self.name` ended in: the finished answer,
    /// or `None` after a CNAME, with `self.name` moved to its target. An
    /// error when the records added make the chain longer than
    /// `max_links`: a chain inside one reply counts as much as one across
    /// replies.
    fn follow(
        &mut self,
        terminal: Terminal,
        max_links: u32,
        observer: &dyn Observer,
        id: u32,
    ) -> Result<Option<Resolved>, ResolveError> {
        match terminal {
            Terminal::Answer(records, sigs) => {
                self.records.extend(records);
                self.signatures.extend(sigs);
                self.check_length(max_links)?;
                Ok(Some(self.finish(ResponseCode::NoError, None, Vec::new())))
            }
            Terminal::NoData(soa, proof) => {
                Ok(Some(self.finish(ResponseCode::NoError, soa, proof)))
            }
            Terminal::NxDomain(soa, proof) => {
                Ok(Some(self.finish(ResponseCode::NXDomain, soa, proof)))
            }
            Terminal::Cname(records, sigs, target) => {
                self.records.extend(records);
                self.signatures.extend(sigs);
                self.check_length(max_links)?;
                emit(observer, || Event::CnameRestart {
                    resolution: id,
                    from: self.name.clone(),
                    to: target.clone(),
                });
                self.name = target;
                Ok(None)
            }
        }
    }
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl Inner {
    /// Runs one resolution, reporting its start and end. Boxed because side
    /// resolutions call it recursively.
    pub(super) fn resolve_task<'a>(
        &'a self,
        req: &'a Request<'a>,
        task: Task<'a>,
    ) -> BoxFuture<'a, Result<Resolved, ResolveError>> {
        Box::pin(async move {
            let id = req.next_resolution();
            let started = Instant::now();
            emit(req.observer, || Event::ResolutionStarted {
                id,
                parent_hop: task.parent_hop,
                qname: task.qname.clone(),
                qtype: task.qtype,
                purpose: task.purpose.clone(),
            });
            let cycle = task
                .stack
                .is_some_and(|s| s.contains(&task.qname, task.qtype));
            let result = if cycle {
                Err(ResolveError::Cycle(task.qname.clone()))
            } else {
                self.chase(req, id, &task).await
            };
            emit(req.observer, || Event::ResolutionFinished {
                id,
                rcode: result.as_ref().map_or(ResponseCode::ServFail, |r| r.rcode),
                error: result.as_ref().err().map(ToString::to_string),
                elapsed: started.elapsed(),
            });
            result
        })
    }

    /// Follows the CNAME chain, each link from the cache or a walk.
    async fn chase(
        &self,
        req: &Request<'_>,
        id: u32,
        task: &Task<'_>,
    ) -> Result<Resolved, ResolveError> {
        let stack = Stack {
            name: task.qname.clone(),
            rtype: task.qtype,
            parent: task.stack,
        };
        let mut chain = Chain::new(task.qname.clone());
        let mut security = Security::Secure;
        // The caller's cache-only look just found nothing for the question
        // itself: unless something was written under its name since, a
        // second look would find nothing either.
        let mut looked = req
            .empty_look(task.depth)
            .is_some_and(|stamp| self.versions.is_current(stamp));
        loop {
            chain.check(self.limits.max_cname_chain)?;
            let cached = (!req.skips_cache(task.depth) && !looked)
                .then(|| self.lookup_cache(req.observer, id, &chain.name, task.qtype))
                .flatten();
            looked = false;
            let (terminal, link) = match cached {
                Some(found) => found,
                None => {
                    self.walk(req, id, &chain.name, task.qtype, &stack, task.depth)
                        .await?
                }
            };
            if let Security::Bogus(reason) = &link
                && !req.accepts_bogus(task.depth)
            {
                // Bogus data kept in the cache, asked for without CD.
                return Err(ResolveError::Bogus(reason.clone()));
            }
            security = worse(security, link);
            let max_links = self.limits.max_cname_chain;
            if let Some(mut done) = chain.follow(terminal, max_links, req.observer, id)? {
                done.security = security;
                return Ok(done);
            }
        }
    }

    /// The answer to `qname`/`qtype` from the caches alone: the CNAME chain
    /// followed as [`Inner::chase`] does, every link a cache hit, no upstream
    /// query. `None` as soon as one link is missing, or when the chain is
    /// one a resolution would fail (a loop, too long): the full resolution
    /// then gives the answer or the error.
    /// Adds to `stamps` a stamp of every name it reads, before reading it
    /// (the caller stamps `qname`).
    pub(super) fn answer_from_cache(
        &self,
        qname: &Name,
        qtype: RecordType,
        stamps: &mut Vec<Stamp>,
    ) -> Result<Resolved, Missed> {
        let mut chain = Chain::new(qname.clone());
        let mut security = Security::Secure;
        let mut missed = Missed::AtQuestion;
        loop {
            chain
                .check(self.limits.max_cname_chain)
                .map_err(|_| Missed::Later)?;
            if &chain.name != qname {
                stamps.push(self.versions.stamp(&chain.name));
            }
            let (terminal, link) = self
                .lookup_cache(&NullObserver, 0, &chain.name, qtype)
                .ok_or(missed)?;
            missed = Missed::Later;
            security = worse(security, link);
            let max_links = self.limits.max_cname_chain;
            if let Some(mut done) = chain
                .follow(terminal, max_links, &NullObserver, 0)
                .map_err(|_| Missed::Later)?
            {
                done.security = security;
                return Ok(done);
            }
        }
    }

    /// The answer for (`name`, `qtype`) from the caches, if they have it:
    /// answer-ranked data only (RFC 2181 §5.4.1; glue and referral NS sets
    /// are for finding servers, and a question about them goes to the zone
    /// itself), a CNAME at the name, a negative answer for it or above it
    /// (RFC 8020), or a DNAME above it with the CNAME it synthesises
    /// (RFC 6672 §3.4).
    fn lookup_cache(
        &self,
        observer: &dyn Observer,
        id: u32,
        name: &Name,
        qtype: RecordType,
    ) -> Option<(Terminal, Security)> {
        let now = Instant::now();
        let hit = |what: String| {
            emit(observer, || Event::CacheHit {
                resolution: id,
                what,
            })
        };
        if let Some(cached) = self.rrsets.get_answer(name, qtype, now) {
            hit(format!("{name} {qtype}"));
            return Some((
                Terminal::Answer(cached.records, cached.rrsigs),
                from_validation(cached.validation),
            ));
        }
        if qtype != RecordType::CNAME
            && let Some(cached) = self.rrsets.get_answer(name, RecordType::CNAME, now)
            && let Some(RData::CNAME(target)) = cached.records.first().map(|r| &r.data)
        {
            hit(format!("{name} CNAME"));
            let target = target.0.clone();
            let security = from_validation(cached.validation);
            return Some((
                Terminal::Cname(cached.records, cached.rrsigs, target),
                security,
            ));
        }
        if let Some(negative) = self.negative.get(name, qtype, now) {
            hit(format!("{name} {qtype} negative"));
            let security = from_validation(negative.validation);
            let terminal = match negative.kind {
                NegativeKind::NxDomain => Terminal::NxDomain(Some(negative.soa), negative.proof),
                NegativeKind::NoData => Terminal::NoData(Some(negative.soa), negative.proof),
            };
            return Some((terminal, security));
        }
        let (dname, cname, target) = self.cached_dname(name, now)?;
        hit(format!("{} DNAME", dname.records[0].name));
        // The synthesised CNAME is unsigned (RFC 6672 §5.3.1): the DNAME's
        // own verdict and signatures stand for it.
        let security = from_validation(dname.validation);
        let mut records = dname.records;
        records.push(cname);
        let terminal = if qtype == RecordType::CNAME {
            Terminal::Answer(records, dname.rrsigs)
        } else {
            Terminal::Cname(records, dname.rrsigs, target)
        };
        Some((terminal, security))
    }

    /// A cached DNAME that redirects `name` (the highest proper ancestor
    /// holding one: a lower one would be occluded, RFC 6672 §2.4), the
    /// CNAME it synthesises for `name` and its target.
    fn cached_dname(&self, name: &Name, now: Instant) -> Option<(CachedRrset, Record, Name)> {
        self.rrsets
            .enclosing(name, RecordType::DNAME, now)
            .without_name()
            .without_root()
            .filter(|(_, cached)| cached.trust.is_answer())
            .find_map(|(_, mut cached)| {
                // A DNAME RRset holds one record (RFC 6672 §2.4).
                cached.records.truncate(1);
                let (cname, target) = super::dname::synthesise(cached.records.first()?, name)?;
                Some((cached, cname, target))
            })
    }

    /// Walks from the closest known zone cut to a terminal reply.
    async fn walk(
        &self,
        req: &Request<'_>,
        id: u32,
        qname: &Name,
        qtype: RecordType,
        stack: &Stack<'_>,
        depth: u32,
    ) -> Result<(Terminal, Security), ResolveError> {
        // RFC 4035 §3.1.4.1: the DS RRset lives on the parent side of the
        // cut, so its walk starts above the name even when the child's
        // cut is cached.
        let start = match qtype {
            RecordType::DS if !qname.is_root() => qname.base_name(),
            _ => qname.clone(),
        };
        let cached = self.closest_delegation(req, id, &start);
        // A forward or stub zone replaces the walk from above it (see
        // `route.rs`); only a stub zone's cached cuts below it come first.
        if let Some(route) = self.routes.route_for(&start)
            && !cached.as_ref().is_some_and(|dp| {
                route.kind == RouteKind::Stub
                    && dp.zone != route.zone
                    && route.zone.zone_of(&dp.zone)
            })
        {
            emit(req.observer, || Event::CacheHit {
                resolution: id,
                what: super::route::describe(&route),
            });
            let dp = super::route::delegation_point(&route);
            return self
                .walk_from(req, id, dp, qname, qtype, stack, depth)
                .await;
        }
        if let Some(dp) = cached {
            return self
                .walk_from(req, id, dp, qname, qtype, stack, depth)
                .await;
        }
        // Cold: priming (RFC 8109) runs beside the question rather than in
        // front of it, so the first root referral costs no extra round
        // trip. The hinted servers are asked the question itself; the
        // primed root NS set is cached for every walk after this one.
        let mut hints = DelegationPoint::from_hints(&self.hints);
        if let Some(validator) = &self.validator {
            hints.trust = validator.anchored(&Name::root()).unwrap_or(ZoneTrust::Off);
        }
        if qname.is_root() && qtype == RecordType::NS {
            return self
                .walk_from(req, id, hints, qname, qtype, stack, depth)
                .await;
        }
        // Boxed: two walks side by side would double the size of every
        // walk's future, and this runs once, cold, where the hot path
        // would pay for it in every copy of a resolution's future.
        let root = Name::root();
        let both = Box::pin(async {
            tokio::join!(
                self.walk_from(req, id, hints.clone(), qname, qtype, stack, depth),
                self.walk_from(req, id, hints, &root, RecordType::NS, stack, depth),
            )
        });
        let (walked, _primed) = both.await;
        walked
    }
    /// The deepest zone cut for `qname` in the cache with a usable server.
    /// A cut whose servers all lie inside it and whose glue has expired is
    /// skipped for its parent: asking for the glue would need the glue.
    fn closest_delegation(
        &self,
        req: &Request<'_>,
        id: u32,
        qname: &Name,
    ) -> Option<DelegationPoint> {
        let now = Instant::now();
        // The deepest cut first; one key for all of them.
        let cuts = self.rrsets.enclosing(qname, RecordType::NS, now).rev();
        for (name, ns) in cuts.filter(|(_, ns)| !ns.validation.is_bogus()) {
            let mut dp = DelegationPoint::from_records(
                name.clone(),
                &ns.records,
                &[],
                AddrSource::Cache,
                None,
            );
            self.add_cached_addresses(&mut dp, now);
            // Validating, a cut whose trust is not known is no place to
            // start: the walk starts higher and learns it on the way.
            let trust = match &self.validator {
                None => Some(ZoneTrust::Off),
                Some(validator) => validator.start(&name, now),
            };
            if let Some(trust) = trust
                && (dp.has_addresses() || !dp.needs_glue_only())
            {
                dp.trust = trust;
                emit(req.observer, || Event::CacheHit {
                    resolution: id,
                    what: format!("zone cut {name}"),
                });
                return Some(dp);
            }
        }
        None
    }

    /// A cached RRset the resolver may use to find servers: live and not
    /// bogus (the resolver never acts on data that failed validation).
    fn usable(&self, name: &Name, rtype: RecordType, now: Instant) -> Option<CachedRrset> {
        self.rrsets
            .get(name, rtype, now)
            .filter(|cached| !cached.validation.is_bogus())
    }

    /// Whether the caches know `name` exists and is no zone cut: an A
    /// RRset or a NODATA for A at it (what a minimised question for it
    /// learns), neither bogus, and no NS RRset.
    fn exists_without_cut(&self, name: &Name) -> bool {
        let now = Instant::now();
        if self.rrsets.get(name, RecordType::NS, now).is_some() {
            return false;
        }
        // The kind and verdict are enough: its SOA and proof are not read.
        let nodata = self
            .negative
            .get_kind(name, RecordType::A, now)
            .is_some_and(|(kind, validation)| {
                kind == NegativeKind::NoData && !validation.is_bogus()
            });
        nodata || self.usable(name, RecordType::A, now).is_some()
    }

    /// Fills in addresses the cache knows for servers that have none: the
    /// live A and AAAA RRsets at each name, not bogus (as [`Inner::usable`]
    /// judges), read as addresses only, no records built.
    fn add_cached_addresses(&self, dp: &mut DelegationPoint, now: Instant) {
        for server in dp.servers.iter_mut().filter(|s| s.addrs.is_empty()) {
            for rtype in [RecordType::A, RecordType::AAAA] {
                if let Some(cached) = self
                    .rrsets
                    .addresses(&server.name, rtype, now)
                    .filter(|cached| !cached.validation.is_bogus())
                {
                    let found = cached.addrs.into_iter();
                    server.addrs.extend(found.map(|a| (a, AddrSource::Cache)));
                }
            }
        }
    }

    /// Asks the servers of `dp` and follows referrals until a terminal reply.
    #[allow(clippy::too_many_arguments)]
    async fn walk_from(
        &self,
        req: &Request<'_>,
        id: u32,
        mut dp: DelegationPoint,
        qname: &Name,
        qtype: RecordType,
        stack: &Stack<'_>,
        depth: u32,
    ) -> Result<(Terminal, Security), ResolveError> {
        let full_question = Query::query(qname.clone(), qtype);
        let mut referrals = 0;
        let mut minimise = Minimiser::new(self.limits.max_minimise_steps, &dp.zone);
        if self.routes.is_forward(&dp.zone) {
            // A forwarder resolves the whole name itself.
            minimise.stop();
        }
        loop {
            let mut question = minimise.question(&full_question);
            // A shortened name the caches know to exist and hold no cut
            // (its A RRset, or its NODATA: an empty non-terminal) was
            // asked before: the next label is asked at once. Each step
            // adds a label, so this ends at the full name.
            while question.name() != qname && self.exists_without_cut(question.name()) {
                minimise.ask_again(&ResponseKind::NoData);
                question = minimise.question(&full_question);
            }
            let minimised = question.name() != qname;
            // Validating, a zone whose keys are pending has its DNSKEY RRset
            // fetched beside its first question, not after the answer: one
            // round trip less per signed zone cut (Unbound prefetches the
            // DNSKEY as soon as the DS is known, too).
            // (Only when the zone has addresses already: a glueless zone's
            // come from side resolutions on the question's path.)
            let mut keys_dp = (self.validator.is_some()
                && matches!(dp.trust, ZoneTrust::Pending { .. })
                && dp.has_addresses())
            .then(|| dp.clone());
            let keys_hop = dp.origin_hop.unwrap_or(0);
            let question_work = async {
                let mut race = Race::new(self, req, id, &dp.zone, question);
                let landed = loop {
                    let Some(landed) = race.next(&mut dp).await? else {
                        break None;
                    };
                    match classify(&landed.scrubbed) {
                        ResponseKind::Lame(reason)
                            if !(minimised && refuses_minimised(&reason)) =>
                        {
                            self.infra
                                .record_lame(&dp.zone, landed.addr, Instant::now());
                            dp.tried.insert(landed.addr);
                            emit(req.observer, || Event::Lame {
                                hop: landed.hop,
                                reason: reason.to_string(),
                                bad_referral: match &reason {
                                    LameReason::BadReferral { to } => Some(to.clone()),
                                    _ => None,
                                },
                            });
                        }
                        kind => break Some((landed, kind)),
                    }
                };
                let asked: Vec<IpAddr> = race.asked().collect();
                Ok::<_, ResolveError>((landed, asked))
            };
            let keys_work = async {
                match keys_dp.as_mut() {
                    // Boxed: only a validating walk into a signed zone
                    // fetches keys here, and unboxed the fetch would make
                    // every walk's future the larger by its size.
                    Some(keys_dp) => Some(Box::pin(self.settle(req, id, keys_hop, keys_dp)).await),
                    None => None,
                }
            };
            let (asked_result, settled) = tokio::join!(question_work, keys_work);
            if let Some(settled) = settled {
                dp.trust = settled?;
            }
            let (landed, asked) = asked_result?;
            let Some((Landed { hop, scrubbed, .. }, kind)) = landed else {
                if minimised {
                    // RFC 9156 §2.3: no answer to a minimised question may
                    // be the question's fault; ask the full name.
                    minimise.stop();
                    dp.tried.retain(|addr| !asked.contains(addr));
                    continue;
                }
                if self.fetch_targets(req, &mut dp, stack, depth).await? {
                    continue;
                }
                return Err(ResolveError::NoUsableServer {
                    zone: dp.zone.clone(),
                });
            };
            if let ResponseKind::Lame(reason) = &kind {
                // An error RCODE to a minimised question: some appliances
                // refuse names they hold no data for (RFC 9156 §2.3). The
                // server is not lame; ask it the full name.
                emit(req.observer, || Event::Lame {
                    hop,
                    reason: format!("{reason} to a minimised question: asking the full name"),
                    bad_referral: None,
                });
                minimise.stop();
                continue;
            }
            if minimised && minimise.ask_again(&kind) {
                // The server answered for its zone; only the name was
                // short. NXDOMAIN is not cached: relaxed mode does not
                // trust it (RFC 9156 §2.3). Validating, the rest is judged
                // first (it may answer a client later, and lets the next
                // walk skip this name), and not cached when bogus.
                let validation = match kind {
                    ResponseKind::NoData | ResponseKind::Answer | ResponseKind::Cname { .. }
                        if self.validator.is_some() =>
                    {
                        match self.judge(req, id, hop, &mut dp, &scrubbed, &kind).await? {
                            Security::Bogus(_) => None,
                            other => Some(as_validation(&other)),
                        }
                    }
                    _ => Some(Validation::Unchecked),
                };
                match (kind, validation) {
                    (ResponseKind::NoData, Some(validation)) => {
                        self.cache_negative(&scrubbed, NegativeKind::NoData, validation)
                    }
                    (ResponseKind::Answer | ResponseKind::Cname { .. }, Some(validation)) => {
                        self.cache_answer(&scrubbed, validation)
                    }
                    _ => {}
                }
                report_answer(req, hop, scrubbed.chain());
                continue;
            }
            let security = match &kind {
                ResponseKind::Referral { .. } => Security::Indeterminate,
                _ => self.judge(req, id, hop, &mut dp, &scrubbed, &kind).await?,
            };
            if let Security::Bogus(reason) = &security
                && budget_spent(reason)
            {
                // This request's limit, not the data's fault: nothing is
                // cached, so another client's question validates afresh.
                return Err(ResolveError::Bogus(reason.clone()));
            }
            let validation = as_validation(&security);
            match &kind {
                ResponseKind::Referral { zone } => {
                    let zone = zone.clone();
                    referrals += 1;
                    if referrals > self.limits.max_referrals {
                        return Err(ResolveError::TooManyReferrals(self.limits.max_referrals));
                    }
                    self.cache_referral(&scrubbed);
                    let child_trust = self
                        .child_trust(req, id, hop, &mut dp, &zone, &scrubbed)
                        .await?;
                    let glue = scrubbed.glue();
                    dp = DelegationPoint::from_records(
                        zone,
                        scrubbed.authority_ns(),
                        glue,
                        AddrSource::Glue,
                        Some(hop),
                    );
                    dp.trust = child_trust;
                    self.add_cached_addresses(&mut dp, Instant::now());
                    minimise.descend(&dp.zone);
                    emit(req.observer, || Event::Referral {
                        hop,
                        zone: dp.zone.clone(),
                        servers: dp.referral_servers(),
                        records: [scrubbed.authority_ns(), scrubbed.glue()].concat(),
                    });
                    continue;
                }
                ResponseKind::Answer | ResponseKind::Cname { .. } => {
                    self.cache_answer(&scrubbed, validation);
                }
                ResponseKind::NoData => {
                    self.cache_negative(&scrubbed, NegativeKind::NoData, validation);
                }
                ResponseKind::NxDomain => {
                    self.cache_negative(&scrubbed, NegativeKind::NxDomain, validation);
                }
                // Handled above: a lame reply never leaves the race loop.
                ResponseKind::Lame(_) => continue,
            }
            let soa = scrubbed.soa().map(|soa| self.negative.as_sent(soa));
            let Some(mut terminal) = Terminal::from_reply(&scrubbed, &kind, soa) else {
                continue;
            };
            if let Security::Bogus(reason) = &security {
                // Kept (and told to a client that set CD) only for the
                // bogus TTL; a client without CD gets SERVFAIL, and the
                // trace shows the hop as failed with the reason.
                terminal = terminal.capped(super::capped_secs(self.limits.bogus_ttl));
                if !req.accepts_bogus(depth) {
                    return Err(ResolveError::Bogus(reason.clone()));
                }
            }
            report_answer(req, hop, scrubbed.chain());
            return Ok((terminal, security));
        }
    }

    /// DNSSEC's verdict on a reply of `dp`'s zone (an answer, NODATA or
    /// NXDOMAIN): settles the zone's keys first if they are pending. A
    /// bogus reply is cached as such for the bogus TTL and given only to
    /// a client that set CD (see [`Request::accepts_bogus`]).
    async fn judge(
        &self,
        req: &Request<'_>,
        id: u32,
        hop: HopId,
        dp: &mut DelegationPoint,
        reply: &Scrubbed,
        kind: &ResponseKind,
    ) -> Result<Security, ResolveError> {
        let Some(validator) = &self.validator else {
            return Ok(Security::Indeterminate);
        };
        let trust = self.settle(req, id, hop, dp).await?;
        let mut proven = Proven::default();
        let security = match &trust {
            ZoneTrust::Keys(keys) => req.with_sig_budget(|budget| {
                validator.judge(keys, reply, kind, unix_now(), budget, &mut proven)
            }),
            other => other.fixed().unwrap_or(Security::Indeterminate),
        };
        emit(req.observer, || {
            let (text, facts) = answer_note(&dp.zone, reply, kind, &trust, &security, &proven);
            Event::Dnssec { hop, text, facts }
        });
        Ok(security)
    }

    /// The trust of the child zone `child` a referral from `dp` leads to:
    /// the parent's keys settled, then its DS RRset or its proof that
    /// there is none judged with them.
    async fn child_trust(
        &self,
        req: &Request<'_>,
        id: u32,
        hop: HopId,
        dp: &mut DelegationPoint,
        child: &Name,
        reply: &Scrubbed,
    ) -> Result<ZoneTrust, ResolveError> {
        let Some(validator) = &self.validator else {
            return Ok(ZoneTrust::Off);
        };
        let parent = self.settle(req, id, hop, dp).await?;
        let mut proven = Proven::default();
        let trust = req.with_sig_budget(|budget| {
            validator.child_trust(&parent, child, reply, unix_now(), budget, &mut proven)
        });
        if let ZoneTrust::Bogus(reason) = &trust
            && budget_spent(reason)
        {
            // Not the zone's fault: not remembered.
            return Err(ResolveError::Bogus(reason.clone()));
        }
        validator.remember(child, &trust, self.trust_ttl(&trust), Instant::now());
        emit(req.observer, || {
            let (text, facts) = delegation_note(child, &parent, &trust, reply, &proven);
            Event::Dnssec { hop, text, facts }
        });
        Ok(trust)
    }

    /// Makes `dp`'s pending trust definite: fetches the zone's DNSKEY RRset
    /// from its servers and checks it against the DS (or anchor) records.
    /// Other trust is returned as it is. Walks that need the same zone's
    /// keys at the same time share one fetch ([`Validator::fetch_keys`]):
    /// the first fetches, the others wait for its verdict.
    async fn settle(
        &self,
        req: &Request<'_>,
        id: u32,
        hop: HopId,
        dp: &mut DelegationPoint,
    ) -> Result<ZoneTrust, ResolveError> {
        let Some(validator) = &self.validator else {
            return Ok(ZoneTrust::Off);
        };
        if !matches!(dp.trust, ZoneTrust::Pending { .. }) {
            return Ok(dp.trust.clone());
        }
        // Another walk (of this request or another) may have settled it
        // already, or be fetching the keys now.
        let known = |validator: &Validator| {
            validator
                .start(&dp.zone, Instant::now())
                .filter(|known| !matches!(known, ZoneTrust::Pending { .. }))
        };
        if let Some(known) = known(validator) {
            dp.trust = known.clone();
            return Ok(known);
        }
        let lead = match validator.fetch_keys(&dp.zone) {
            KeyFetch::Lead(lead) => Some(lead),
            KeyFetch::Follow(receiver) => match await_keys(receiver).await {
                Some(trust) => {
                    dp.trust = trust.clone();
                    return Ok(trust);
                }
                // The fetching walk was abandoned: fetch alone.
                None => None,
            },
            KeyFetch::Alone => None,
        };
        // A fetch may have ended between the look in the key cache and
        // the lead.
        if let Some(known) = known(validator) {
            if let Some(lead) = lead {
                lead.finish(&known);
            }
            dp.trust = known.clone();
            return Ok(known);
        }
        let question = Query::query(dp.zone.clone(), RecordType::DNSKEY);
        let mut race = Race::new(self, req, id, &dp.zone, question);
        // The verdict is told at the hop that fetched the keys.
        let mut keys_hop = hop;
        let (trust, reply, proof) = loop {
            let Some(landed) = race.next(dp).await? else {
                break (
                    ZoneTrust::Bogus(BogusReason::DnskeyMissing {
                        problem: "no server gave the zone's DNSKEY RRset".to_string(),
                    }),
                    None,
                    KeyProof::default(),
                );
            };
            match classify(&landed.scrubbed) {
                ResponseKind::Answer => {
                    keys_hop = landed.hop;
                    report_answer(req, landed.hop, landed.scrubbed.chain());
                    let (trust, proof) = req.with_sig_budget(|budget| {
                        validator.keys_from(
                            &dp.zone,
                            &dp.trust,
                            &landed.scrubbed,
                            unix_now(),
                            budget,
                        )
                    });
                    break (trust, Some(*landed.scrubbed), proof);
                }
                ResponseKind::NoData | ResponseKind::NxDomain => {
                    break (
                        ZoneTrust::Bogus(BogusReason::DnskeyMissing {
                            problem: "no server gave the zone's DNSKEY RRset".to_string(),
                        }),
                        None,
                        KeyProof::default(),
                    );
                }
                _ => {
                    dp.tried.insert(landed.addr);
                }
            }
        };
        drop(race);
        // The DNSKEY question may have used up addresses; the zone's own
        // question gets them all again.
        dp.tried.clear();
        if let ZoneTrust::Bogus(reason) = &trust
            && budget_spent(reason)
        {
            // This request ran out of signature checks: the zone is not to
            // blame. Nothing is remembered, and the lead is dropped
            // unfinished, so walks waiting on it fetch for themselves.
            return Err(ResolveError::Bogus(reason.clone()));
        }
        let ttl = match &trust {
            ZoneTrust::Keys(keys) => {
                Duration::from_secs(u64::from(keys.ttl())).min(self.limits.max_ttl)
            }
            other => self.trust_ttl(other),
        };
        validator.remember(&dp.zone, &trust, ttl, Instant::now());
        if let Some(lead) = lead {
            lead.finish(&trust);
        }
        emit(req.observer, || {
            let anchored = validator.is_anchor(&dp.zone);
            let (text, facts) = keys_note(
                &dp.zone,
                &dp.trust,
                anchored,
                reply.as_ref(),
                &trust,
                &proof,
            );
            Event::Dnssec {
                hop: keys_hop,
                text,
                facts,
            }
        });
        dp.trust = trust.clone();
        Ok(trust)
    }

    /// How long a zone's trust other than its keys is remembered: a bogus
    /// verdict for the bogus TTL (a fixed zone is believed again soon), an
    /// unsigned or unanchored one for [`UNSIGNED_TRUST_TTL`].
    fn trust_ttl(&self, trust: &ZoneTrust) -> Duration {
        match trust {
            ZoneTrust::Bogus(_) => self.limits.bogus_ttl,
            _ => UNSIGNED_TRUST_TTL,
        }
    }

    /// Stores one RRset with the RRSIGs over it and, if it was stored,
    /// marks its owner changed. Bogus data is kept only for the bogus TTL.
    fn store(&self, set: &Signed, trust: Trust, validation: Validation, now: Instant) {
        let stored = if validation.is_bogus() {
            let cap = super::capped_secs(self.limits.bogus_ttl);
            let rrset = super::cap_ttls(set.rrset.clone(), cap);
            let sigs = super::cap_ttls(set.sigs.clone(), cap);
            self.rrsets
                .insert_signed(&rrset, &sigs, trust, validation, now)
        } else {
            self.rrsets
                .insert_signed(&set.rrset, &set.sigs, trust, validation, now)
        };
        if stored && let Some(first) = set.rrset.first() {
            self.versions.changed(&first.name);
        }
    }

    /// Stores the RRsets of one reply, in order, at most
    /// `max_rrsets_per_reply` of them (see
    /// [`crate::config::MAX_RRSETS_PER_REPLY`]): one large reply cannot
    /// flush the cache. The answer chain comes first, then the NS RRset,
    /// then glue, so what is dropped is what matters least.
    fn store_reply(&self, rrsets: impl Iterator<Item = (Signed, Trust, Validation)>) {
        let now = Instant::now();
        for (set, trust, validation) in rrsets.take(self.limits.max_rrsets_per_reply) {
            self.store(&set, trust, validation, now);
        }
    }

    fn cache_referral(&self, reply: &Scrubbed) {
        // Referral NS sets and glue are never signed (RFC 4035 §2.2).
        let unchecked = Validation::Unchecked;
        let ns = (!reply.authority_ns().is_empty()).then(|| {
            let set = Signed::unsigned(reply.authority_ns().to_vec());
            (set, Trust::Referral, unchecked)
        });
        let glue = rrsets(reply.glue())
            .into_iter()
            .map(|s| (Signed::unsigned(s), Trust::Glue, unchecked));
        self.store_reply(ns.into_iter().chain(glue));
    }

    /// Stores an answer: the chain (a DNAME's synthesised CNAME left out,
    /// the cache makes it again), the zone's NS set if the reply carried
    /// it, and glue. The NS set can never extend a cached delegation
    /// ([`crate::cache::RrsetCache::insert`]: ghost domains).
    fn cache_answer(&self, reply: &Scrubbed, validation: Validation) {
        let (answer, authority) = if reply.authoritative() {
            (Trust::AuthAnswer, Trust::AuthAuthority)
        } else {
            (Trust::NonAuthAnswer, Trust::Referral)
        };
        let unchecked = Validation::Unchecked;
        let chain = rrsets(reply.chain_to_cache())
            .into_iter()
            .map(|s| (Signed::from_reply(s, reply), answer, validation));
        // The authority NS set and glue are not validated (RFC 4035 §2.2:
        // a referral's are not even signed); they find servers only. From
        // a reply that failed validation they are not trusted for that
        // either.
        let trusted = !validation.is_bogus();
        let ns = (trusted && !reply.authority_ns().is_empty()).then(|| {
            let set = Signed::unsigned(reply.authority_ns().to_vec());
            (set, authority, unchecked)
        });
        let glue = rrsets(reply.glue())
            .into_iter()
            .filter(|_| trusted)
            .map(|s| (Signed::unsigned(s), Trust::Glue, unchecked));
        self.store_reply(chain.chain(ns).chain(glue));
    }

    /// Stores a negative answer: the chain that led to it, and the
    /// NXDOMAIN or NODATA with the verdict and the records that prove it.
    fn cache_negative(&self, reply: &Scrubbed, kind: NegativeKind, validation: Validation) {
        let chain = rrsets(reply.chain_to_cache())
            .into_iter()
            .map(|s| (Signed::from_reply(s, reply), Trust::AuthAnswer, validation));
        self.store_reply(chain);
        if let Some(soa) = reply.soa() {
            let mut soa = soa.clone();
            if validation.is_bogus() {
                soa.ttl = soa.ttl.min(super::capped_secs(self.limits.bogus_ttl));
            }
            let (name, qtype) = (reply.final_name(), reply.qtype());
            let proof = reply.proof();
            let now = Instant::now();
            self.negative
                .insert_proved(name, qtype, kind, &soa, &proof, validation, now);
            self.versions.changed(name);
        }
    }
}

/// One RRset to store and the RRSIGs over it.
struct Signed {
    rrset: Vec<Record>,
    sigs: Vec<Record>,
}

impl Signed {
    /// An RRset stored without signatures (referral NS sets and glue).
    fn unsigned(rrset: Vec<Record>) -> Self {
        Self {
            rrset,
            sigs: Vec::new(),
        }
    }

    /// `rrset` with the RRSIGs `reply` carried over it.
    fn from_reply(rrset: Vec<Record>, reply: &Scrubbed) -> Self {
        let sigs = match rrset.first() {
            Some(first) => reply
                .signatures_of(&first.name, first.record_type())
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        Self { rrset, sigs }
    }
}

/// Whether a bogus verdict only says the request ran out of signature
/// checks (KeyTrap defence): a limit of the request, never cached.
fn budget_spent(reason: &BogusReason) -> bool {
    matches!(reason, BogusReason::BudgetSpent { .. })
}

fn report_answer(req: &Request<'_>, hop: HopId, records: &[Record]) {
    emit(req.observer, || Event::Answer {
        hop,
        records: records.to_vec(),
    });
}

/// Groups records into RRsets by owner (case-insensitive) and type, in
/// order of first appearance. Linear: one hash lookup per record (`Name`
/// hashes and compares without case, RFC 4343).
pub(super) fn rrsets<'r>(records: impl IntoIterator<Item = &'r Record>) -> Vec<Vec<Record>> {
    let mut sets: Vec<Vec<Record>> = Vec::new();
    let mut index: HashMap<(&'r Name, RecordType), usize> = HashMap::new();
    for record in records {
        let key = (&record.name, record.record_type());
        match index.get(&key) {
            Some(&at) => sets[at].push(record.clone()),
            None => {
                index.insert(key, sets.len());
                sets.push(vec![record.clone()]);
            }
        }
    }
    sets
}

/// QNAME minimisation (RFC 9156) for one walk: which name to show the
/// servers of the current zone cut, one label below it, until the full
/// name or the step budget is reached.
struct Minimiser {
    /// Labels of the name to ask next.
    labels: usize,
    /// Minimised queries left; 0 sends the full name.
    steps_left: u32,
}

impl Minimiser {
    fn new(steps: u32, zone: &Name) -> Self {
        Self {
            labels: usize::from(zone.num_labels()) + 1,
            steps_left: steps,
        }
    }

    /// The question to send: `full` itself, or type A for the name cut
    /// to one label below the zone (RFC 9156 §3: A hides the real type).
    fn question(&mut self, full: &Query) -> Query {
        let name = full.name();
        if self.steps_left == 0 || self.labels >= usize::from(name.num_labels()) {
            return full.clone();
        }
        self.steps_left -= 1;
        Query::query(name.trim_to(self.labels), RecordType::A)
    }

    /// A referral moved the walk to `zone`.
    fn descend(&mut self, zone: &Name) {
        self.labels = usize::from(zone.num_labels()) + 1;
    }

    /// Stops minimising for the rest of the walk: the full name from now.
    fn stop(&mut self) {
        self.steps_left = 0;
    }

    /// Whether, after the reply `kind` to a minimised question, the walk
    /// should ask the same zone again (with the next name); `false` when it
    /// handles the reply as usual (a referral, a lame server).
    fn ask_again(&mut self, kind: &ResponseKind) -> bool {
        match kind {
            // The name exists and is not a cut: one label deeper.
            ResponseKind::Answer | ResponseKind::NoData => {
                self.labels += 1;
                true
            }
            // An alias, or NXDOMAIN from a server that may not know empty
            // non-terminals (RFC 9156 §2.3 relaxed mode): the full name.
            ResponseKind::Cname { .. } | ResponseKind::NxDomain => {
                self.steps_left = 0;
                true
            }
            ResponseKind::Referral { .. } | ResponseKind::Lame(_) => false,
        }
    }
}

/// Whether a lame `reason` is one a minimised question can cause rather
/// than the server: an error RCODE (RFC 9156 §2.3 names REFUSED, SERVFAIL,
/// FORMERR and NOTIMP, from servers that mishandle empty non-terminals).
fn refuses_minimised(reason: &LameReason) -> bool {
    matches!(
        reason,
        LameReason::Rcode(
            ResponseCode::Refused
                | ResponseCode::ServFail
                | ResponseCode::FormErr
                | ResponseCode::NotImp
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::scrub::tests::{a, cname, n};

    #[test]
    fn rrsets_group_by_owner_without_case_and_type_in_first_seen_order() {
        let mut upper = a("www.a.tld1.", "192.0.2.2");
        upper.name = Name::from_ascii("WWW.A.tld1.").unwrap();
        let records = [
            a("www.a.tld1.", "192.0.2.1"),
            cname("alias.a.tld1.", "www.a.tld1."),
            upper,
            a("other.a.tld1.", "192.0.2.3"),
        ];
        let sets = rrsets(&records);
        let shape: Vec<(Name, RecordType, usize)> = sets
            .iter()
            .map(|s| (s[0].name.clone(), s[0].record_type(), s.len()))
            .collect();
        assert_eq!(
            shape,
            [
                (n("www.a.tld1."), RecordType::A, 2),
                (n("alias.a.tld1."), RecordType::CNAME, 1),
                (n("other.a.tld1."), RecordType::A, 1),
            ]
        );
    }

    /// A name asked again, in any case, is a loop; a chain of new names
    /// goes on until it holds more than `max_links` CNAMEs.
    #[test]
    fn chain_checks_loops_without_case_and_its_length() {
        let mut chain = Chain::new(n("a.a.tld1."));
        assert!(chain.check(2).is_ok());
        for (from, to) in [("a.a.tld1.", "b.a.tld1."), ("b.a.tld1.", "c.a.tld1.")] {
            chain.records.push(cname(from, to));
            chain.name = n(to);
            assert!(chain.check(2).is_ok(), "{to}");
        }
        let mut looped = Chain::new(n("a.a.tld1."));
        assert!(looped.check(8).is_ok());
        looped.name = n("b.a.tld1.");
        assert!(looped.check(8).is_ok());
        looped.name = Name::from_ascii("A.a.TLD1.").unwrap();
        assert!(matches!(looped.check(8), Err(ResolveError::CnameLoop(_))));
        // Not fully qualified is another name, as it was to the hash set.
        looped.name = Name::from_ascii("b.a.tld1").unwrap();
        assert!(looped.check(8).is_ok());

        chain.records.push(cname("c.a.tld1.", "d.a.tld1."));
        chain.name = n("d.a.tld1.");
        assert!(matches!(
            chain.check(2),
            Err(ResolveError::CnameChainTooLong(2))
        ));
    }

    /// The largest a resolution's future may be. Every miss moves it
    /// whole into its box, whatever state it is in, so its size is paid
    /// per miss: taking it from 10 KB to 3.5 KB saved the daemon 1.2–2.5
    /// µs of a 36 µs miss in paired runs. A cold or a validating-only step
    /// that would grow it past this is to be boxed where it is awaited, as
    /// the priming walk and the key fetch beside a question are.
    const MAX_RESOLUTION_FUTURE: usize = 4_000;

    #[test]
    fn a_resolutions_future_stays_small() {
        let limits = crate::config::Limits::default();
        let resolver = crate::resolve::Resolver::new(crate::resolve::ResolverConfig::new(
            crate::resolve::hints::RootHints::iana(),
            53,
            limits.clone(),
        ));
        let req = Request::new(&limits, &NullObserver);
        let task = Task {
            qname: n("www.a.tld1."),
            qtype: RecordType::A,
            parent_hop: None,
            purpose: Purpose::Client,
            stack: None,
            depth: 0,
        };
        // Made, never polled: its size is its type's.
        let chase = resolver.inner.chase(&req, 0, &task);
        let size = std::mem::size_of_val(&chase);
        drop(chase);
        assert!(
            size <= MAX_RESOLUTION_FUTURE,
            "a resolution's future is {size} bytes, over {MAX_RESOLUTION_FUTURE}"
        );
    }

    /// 3,000 CNAMEs and 3,000 addresses in two owners: exact groups (the
    /// grouping is one hash lookup per record).
    #[test]
    fn rrsets_of_a_huge_section() {
        let mut records: Vec<Record> = (0..3_000)
            .map(|i| cname(&format!("c{i}.a.tld1."), &format!("c{}.a.tld1.", i + 1)))
            .collect();
        records.extend((0..3_000).map(|i| {
            let owner = if i % 2 == 0 { "x.a.tld1." } else { "y.a.tld1." };
            a(owner, &format!("10.0.{}.{}", i / 256, i % 256))
        }));
        let sets = rrsets(&records);
        assert_eq!(sets.len(), 3_002);
        assert_eq!(sets[3_000].len(), 1_500);
        assert_eq!(sets[3_001].len(), 1_500);
        assert!(sets[..3_000].iter().all(|s| s.len() == 1));
    }
}
