//! One client message to one reply: the ACL, the header checks, the cached
//! answer or the coalesced resolution, the size limit, the counters, all
//! inside the message's `query` span.
//!
//! The work is split in two so a listener can answer from the cache on its
//! own receive loop: [`Handler::answer_now`] is synchronous and settles
//! everything that needs no upstream query (bad packets, refusals, cached
//! answers); only what it hands back as [`Immediate::Resolve`] needs
//! [`Handler::resolve`] in a task of its own.
//!
//! # Freshness
//!
//! - **Serve-stale** (RFC 8767): when the caches still hold expired data
//!   for a question that needs a resolution, [`Handler::resolve`] races the
//!   resolution against the client-response timer
//!   ([`CLIENT_RESPONSE_TIMEOUT`]). If the timer fires first, or the
//!   resolution fails, the client gets the expired data
//!   ([`Resolver::answer_stale`]: TTL 30 s, EDE 3 Stale Answer or 19 Stale
//!   NXDOMAIN Answer), while the resolution goes on in the background and
//!   refreshes the caches when it succeeds.
//! - **Prefetch**: a cache hit in the last [`PREFETCH_PERCENT`] of its
//!   TTL starts a background refresh of the question
//!   ([`InFlight::prefetch`], coalesced with the resolutions in flight and
//!   capped), so a busy name is refreshed before it expires and never
//!   misses. Kept reply copies are used only up to that point, so a hit
//!   past it reaches [`Handler::answer_now`], which starts the refresh.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::HINFO;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tracing::{Instrument, Span, debug, field, info_span};

use super::coalesce::{Busy, InFlight, Missed, Role};
use super::counters::Counters;
use super::ede::{self, Ede};
use super::limits::{InForce, InForceCell, ServeLimits};
use super::packet::{self, ClientQuery, Encoded, Limit, UDP_PAYLOAD_PLAIN, Verdict};
use super::policy::{Policy, PolicyCell};
use super::proxy;
use super::swap::Snapshot;
use crate::cache::Stamp;
use crate::resolve::{CacheMiss, Outcome, Resolver, Stats};
use crate::validate::Security;

/// The types an ANY question is answered with, when cached (RFC 8482
/// §4.1: a subset is a valid answer): addresses, aliases and the types
/// people ask ANY for.
pub const ANY_TYPES: [RecordType; 9] = [
    RecordType::CNAME,
    RecordType::A,
    RecordType::AAAA,
    RecordType::MX,
    RecordType::TXT,
    RecordType::NS,
    RecordType::SOA,
    RecordType::PTR,
    RecordType::SRV,
];

/// TTL of the synthesised HINFO answer to ANY: an hour (RFC 8482 §4.2
/// leaves it to the responder; long enough that stubs stop asking).
pub const ANY_HINFO_TTL: u32 = 3600;

/// Whether expired data is served when a resolution fails or is slow
/// (`serve-expired`; RFC 8767). On by default: it is what keeps names
/// answering through an outage of their servers, the answer says it is
/// stale (EDE 3), and the client is told to ask again in 30 s. (Unbound
/// defaults to off, BIND to on since 9.16 for the stale cache.)
pub const SERVE_EXPIRED: bool = true;

/// How long a client waits for a resolution before it gets expired data
/// instead, when there is some (RFC 8767 §4, the "client response timer":
/// 1.8 s recommended, under the 2 s after which many stubs retry). The
/// resolution goes on after it.
pub const CLIENT_RESPONSE_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(1800);

/// Whether a cache hit near its expiry starts a background refresh
/// (`prefetch`, as Unbound's `prefetch: yes` and BIND's default
/// `prefetch 2 9`). On by default: it costs an upstream query per busy
/// name per TTL, and saves each of them a cold miss.
pub const PREFETCH: bool = true;

/// A hit prefetches once less than this share of its RRsets' original TTL
/// is left, in percent (Unbound: 10%). A TTL of 300 s is refreshed in its
/// last 30 s; one under 10 s only in its last second.
pub const PREFETCH_PERCENT: u32 = 10;

/// How a message arrived; it decides the reply size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// A datagram: the client's EDNS size, or 512; TC=1 past it.
    Udp,
    /// A TCP frame: up to 65535 bytes, cut at an RRset past it.
    Tcp,
}

/// What [`Handler::answer_now`] settled.
#[derive(Debug)]
pub enum Immediate {
    /// Done: send this reply, or nothing.
    Done(Option<Vec<u8>>),
    /// Answered whole from the resolver's caches, under these stamps (see
    /// [`Resolver::answer_from_cache_stamped`]), and not truncated: send
    /// it; a copy may be kept while the stamps are current, and no later
    /// than the instant given (when the answer is due for a prefetch).
    Cached(Vec<u8>, Vec<Stamp>, Option<Instant>),
    /// Not in the cache: hand it to [`Handler::resolve`].
    Resolve(Pending),
}

/// A query that needs a resolution, with what its reply needs to know.
#[derive(Debug)]
pub struct Pending {
    query: Box<ClientQuery>,
    client: SocketAddr,
    transport: Transport,
    received: Instant,
    span: Span,
    /// What the cache look found, for the resolution to skip a second one.
    miss: CacheMiss,
}

/// What one message is answered under: the policy and the resolver and
/// limits in force, read once for it (by [`Snapshots::current`] on a UDP
/// receive thread, from the cells otherwise).
#[derive(Clone, Copy)]
pub struct Current<'a> {
    /// Who may ask, what is answered locally, which peers are proxies.
    pub policy: &'a Policy,
    /// The policy's generation (see [`PolicyCell`]): it dates reply
    /// copies made under it.
    pub policy_generation: u64,
    /// The resolver and the daemon's limits.
    pub in_force: &'a InForce,
}

/// A receive thread's own snapshots of the policy and of what is in force
/// (see [`super::swap`]): reading them for a datagram costs two atomic
/// loads and writes nothing shared, and a reload is read at the thread's
/// next datagram.
pub struct Snapshots {
    policy_cell: Arc<PolicyCell>,
    policy: Snapshot<Policy>,
    in_force_cell: Arc<InForceCell>,
    in_force: Snapshot<InForce>,
}

impl Snapshots {
    /// What the next message is answered under.
    pub fn current(&mut self) -> Current<'_> {
        self.policy.refresh(&self.policy_cell);
        self.in_force.refresh(&self.in_force_cell);
        Current {
            policy: self.policy.value(),
            policy_generation: self.policy.generation(),
            in_force: self.in_force.value(),
        }
    }
}

/// Everything a listener needs to answer: shared by all listener tasks.
pub struct Handler {
    /// The resolver and limits in force, read once per query (a reload
    /// swaps them).
    in_force: Arc<InForceCell>,
    policy: Arc<PolicyCell>,
    in_flight: InFlight,
    counters: Arc<Counters>,
}

impl Handler {
    /// A handler answering with `resolver` and its local zones the clients
    /// the `policy` in force allows, within `limits`, counting in
    /// `counters`; its resolutions run on the runtime of the task that
    /// starts them (see [`super::coalesce`]).
    pub fn new(
        resolver: Resolver,
        policy: Arc<PolicyCell>,
        counters: Arc<Counters>,
        limits: ServeLimits,
    ) -> Self {
        let in_force = Arc::new(InForceCell::new(InForce { resolver, limits }));
        Self::sharing(in_force, policy, counters)
    }

    /// [`Handler::new`], with the resolver and limits of `in_force` at
    /// each query: what a reload puts there applies to the next one.
    pub fn sharing(
        in_force: Arc<InForceCell>,
        policy: Arc<PolicyCell>,
        counters: Arc<Counters>,
    ) -> Self {
        Self {
            in_force,
            policy,
            in_flight: InFlight::new(Arc::clone(&counters)),
            counters,
        }
    }

    /// The limits in force now.
    pub fn limits(&self) -> ServeLimits {
        self.in_force.current().limits.clone()
    }

    /// Snapshots of the policy and of what is in force, for one receive
    /// thread to keep and read at each datagram.
    pub fn snapshots(&self) -> Snapshots {
        Snapshots {
            policy_cell: Arc::clone(&self.policy),
            policy: self.policy.snapshot(),
            in_force_cell: Arc::clone(&self.in_force),
            in_force: self.in_force.snapshot(),
        }
    }

    /// The live counters.
    pub fn counters(&self) -> &Arc<Counters> {
        &self.counters
    }

    /// The wire reply to the message `bytes` from `client`, or `None` when
    /// it deserves none: [`Handler::answer_now`], then [`Handler::resolve`]
    /// if needed.
    pub async fn handle(
        &self,
        bytes: &[u8],
        client: SocketAddr,
        transport: Transport,
    ) -> Option<Vec<u8>> {
        match self.answer_now(bytes, client, transport) {
            Immediate::Done(reply) => reply,
            Immediate::Cached(reply, _, _) => Some(reply),
            Immediate::Resolve(pending) => self.resolve(pending).await,
        }
    }

    /// Everything that needs no upstream query, without waiting: the checks,
    /// the refusals, and answers the cache has whole; under the policy and
    /// limits in force now.
    pub fn answer_now(&self, bytes: &[u8], client: SocketAddr, transport: Transport) -> Immediate {
        // A snapshot reads the generation before the value (see
        // `super::swap`), so the generation never dates a newer policy.
        let policy = self.policy.snapshot();
        let in_force = self.in_force.current();
        let current = Current {
            policy: policy.value(),
            policy_generation: policy.generation(),
            in_force: &in_force,
        };
        self.answer_now_under(current, bytes, client, transport)
    }

    /// [`Handler::answer_now`] under `current`, which the caller read.
    pub fn answer_now_under(
        &self,
        current: Current<'_>,
        bytes: &[u8],
        client: SocketAddr,
        transport: Transport,
    ) -> Immediate {
        let received = Instant::now();
        self.counters.received();
        let span = info_span!(
            "query",
            client = %client,
            qname = field::Empty,
            qtype = field::Empty
        );
        let _entered = span.enter();
        let Current {
            policy, in_force, ..
        } = current;
        let query = match packet::judge(bytes, policy.acl.allows(client.ip())) {
            Verdict::Drop => {
                debug!(len = bytes.len(), "dropped: no readable query header");
                self.counters.dropped();
                return Immediate::Done(None);
            }
            Verdict::Reply(reply) => {
                let limit = limit(transport, UDP_PAYLOAD_PLAIN);
                return Immediate::Done(self.finish(&reply, limit, received));
            }
            Verdict::Resolve(query) => query,
        };
        let (qname, qtype) = (query.question.name(), query.question.query_type());
        span.record("qname", field::display(qname));
        span.record("qtype", field::display(qtype));
        let limit = limit(transport, packet::udp_limit(&query.message));
        if let Some(local) = policy.local.lookup(qname, qtype) {
            self.counters.cache_hit();
            let reply = packet::local_reply(&query.message, local);
            return Immediate::Done(self.finish(&reply, limit, received));
        }
        if qtype == RecordType::ANY {
            // RFC 8482: what the cache has, or a synthesised HINFO; never
            // an upstream ANY query (an amplifier's favourite).
            self.counters.cache_hit();
            let any = Self::any_from_cache(&in_force.resolver, qname);
            let reply = packet::answer_reply(&query.message, &Ok(any));
            return Immediate::Done(self.finish(&reply, limit, received));
        }
        match in_force.resolver.answer_from_cache_stamped(qname, qtype) {
            Ok((outcome, stamps)) => {
                self.counters.cache_hit();
                let until = self.prefetch_if_due(in_force, qname, qtype, &outcome);
                // A copy serves clients whatever their CD bit: never one
                // of a bogus answer (data for CD, SERVFAIL for the rest).
                let copyable = !outcome.security.is_bogus();
                let reason = match &outcome.security {
                    Security::Bogus(reason) => Some(reason.to_string()),
                    _ => None,
                };
                let reply = packet::answer_reply(&query.message, &Ok(outcome));
                match self.encode(&reply, limit, received, reason.as_deref()) {
                    Some(encoded) if !encoded.truncated && copyable => {
                        Immediate::Cached(encoded.bytes, stamps, until)
                    }
                    encoded => Immediate::Done(encoded.map(|e| e.bytes)),
                }
            }
            Err(_) if !query.message.metadata.recursion_desired => {
                // RD=0 is answered from the cache only, never resolved; on
                // a miss Unbound (1.17, checked) answers REFUSED at once,
                // and so does this.
                debug!("RD=0 and not cached: refused");
                let reply = packet::error_reply(&query.message, ResponseCode::Refused);
                Immediate::Done(self.finish(&reply, limit, received))
            }
            Err(miss) => {
                drop(_entered);
                Immediate::Resolve(Pending {
                    query,
                    client,
                    transport,
                    received,
                    span,
                    miss,
                })
            }
        }
    }

    /// Resolves a query the cache could not answer, joining an identical
    /// resolution in flight if there is one. With no room for another
    /// resolution (see [`super::coalesce`]) a datagram is dropped (the stub
    /// retries) and a TCP query gets SERVFAIL (its client would wait).
    /// When the caches hold expired data for the question and
    /// `serve-expired` is on, the client gets that instead if the
    /// resolution fails, finds no room, or is not done within the
    /// client-response timer; the resolution then goes on (see the module
    /// docs).
    pub async fn resolve(&self, pending: Pending) -> Option<Vec<u8>> {
        let Pending {
            query,
            client,
            transport,
            received,
            span,
            miss,
        } = pending;
        async move {
            let question = &query.question;
            let (qname, qtype) = (question.name(), question.query_type());
            let InForce { resolver, limits } = &*self.in_force.current();
            let stale = limits
                .serve_expired
                .then(|| resolver.answer_stale(qname, qtype))
                .flatten();
            let limit = limit(transport, packet::udp_limit(&query.message));
            let question = Missed {
                name: qname,
                qtype,
                miss,
            };
            let resolution =
                self.in_flight
                    .resolve(resolver, limits, question, client.ip(), stale.is_some());
            let joined = match &stale {
                None => resolution.await,
                Some(_) => {
                    tokio::pin!(resolution);
                    tokio::select! {
                        biased;
                        joined = &mut resolution => joined,
                        () = tokio::time::sleep(limits.client_response_timeout) => {
                            debug!("client-response timer fired: answering stale");
                            return self.stale_reply(&query.message, stale, limit, received);
                        }
                    }
                }
            };
            let (resolved, role) = match joined {
                Ok(joined) => joined,
                Err(Busy) => {
                    self.counters.busy();
                    debug!("no room for another resolution");
                    if stale.is_some() {
                        return self.stale_reply(&query.message, stale, limit, received);
                    }
                    if transport == Transport::Udp {
                        self.counters.dropped();
                        return None;
                    }
                    (None, Role::Leader)
                }
            };
            if role == Role::Follower {
                self.counters.coalesced();
            }
            let (reply, reason) = match resolved {
                Some(result) => {
                    // A failure, or bogus data this client may not have,
                    // gives way to expired data (it is never bogus).
                    let failed = match result.as_ref() {
                        Err(failure) => Some(failure.error.to_string()),
                        Ok(outcome) if !query.message.metadata.checking_disabled => {
                            match &outcome.security {
                                Security::Bogus(reason) => Some(reason.to_string()),
                                _ => None,
                            }
                        }
                        Ok(_) => None,
                    };
                    if let Some(reason) = failed
                        && stale.is_some()
                    {
                        debug!(reason, "resolution failed: answering stale");
                        return self.stale_reply(&query.message, stale, limit, received);
                    }
                    let reason = match &*result {
                        Err(failure) => Some(failure.error.to_string()),
                        Ok(outcome) => match &outcome.security {
                            Security::Bogus(reason) => Some(reason.to_string()),
                            _ => None,
                        },
                    };
                    (packet::answer_reply(&query.message, &result), reason)
                }
                None => {
                    let reason = "no room for another resolution";
                    let ede = Ede::new(ede::OTHER, reason);
                    let reply = packet::servfail_reply(&query.message, &ede);
                    (reply, Some(reason.to_string()))
                }
            };
            self.encode(&reply, limit, received, reason.as_deref())
                .map(|e| e.bytes)
        }
        .instrument(span)
        .await
    }

    /// The reply to `query` from `stale`, the expired data
    /// [`Resolver::answer_stale`] found (EDE 3 or 19 when any of it had
    /// expired), counted as a stale answer.
    fn stale_reply(
        &self,
        query: &Message,
        stale: Option<Outcome>,
        limit: Limit,
        received: Instant,
    ) -> Option<Vec<u8>> {
        let outcome = stale?;
        if outcome.stale {
            self.counters.stale_answer();
        }
        let reply = packet::answer_reply(query, &Ok(outcome));
        self.finish(&reply, limit, received)
    }

    /// Starts a prefetch of `qname`/`qtype` when prefetching is on and the
    /// cached `outcome` is in the last [`PREFETCH_PERCENT`] of its life
    /// ([`Resolver::refresh_point`]); returns that point, past which a
    /// copy of the reply must not be used (so the next hit comes here).
    fn prefetch_if_due(
        &self,
        in_force: &InForce,
        qname: &Name,
        qtype: RecordType,
        outcome: &Outcome,
    ) -> Option<Instant> {
        let InForce { resolver, limits } = in_force;
        if !limits.prefetch {
            return None;
        }
        let point = resolver.refresh_point(outcome, limits.prefetch_percent)?;
        if tokio::time::Instant::now() >= point
            && self.in_flight.prefetch(resolver, limits, qname, qtype)
        {
            debug!("prefetch started");
        }
        Some(point.into_std())
    }

    /// The resolver answering now.
    pub fn resolver(&self) -> Resolver {
        self.in_force.current().resolver.clone()
    }

    /// The DNS message in `bytes` from `peer` and the client it is from:
    /// after a PROXY v2 header when `peer` is a configured proxy (the client
    /// it names), else the bytes as they are and `peer`. `None` when a proxy
    /// sent no usable header: the message is dropped (and counted). Under
    /// `policy`, which the caller read.
    pub fn unwrap_proxy<'a>(
        &self,
        policy: &Policy,
        bytes: &'a [u8],
        peer: SocketAddr,
    ) -> Option<(&'a [u8], SocketAddr)> {
        if !policy.proxies.allows(peer.ip()) {
            return Some((bytes, peer));
        }
        match proxy::parse(bytes) {
            Ok(header) => Some((
                bytes.get(header.len..).unwrap_or_default(),
                header.source.unwrap_or(peer),
            )),
            Err(error) => {
                debug!(%peer, "dropped: {error}");
                self.counters.received();
                self.counters.dropped();
                None
            }
        }
    }

    /// Whether `peer` is a configured proxy, whose messages start with a
    /// PROXY v2 header.
    pub fn is_proxy(&self, peer: SocketAddr) -> bool {
        self.policy.current().proxies.allows(peer.ip())
    }

    /// The reply to an ANY question (RFC 8482 §4): every RRset the cache
    /// holds at `qname` among [`ANY_TYPES`], its cached negative answer,
    /// or else one synthesised HINFO "RFC8482" record.
    fn any_from_cache(resolver: &Resolver, qname: &Name) -> Outcome {
        let mut answers: Vec<Record> = Vec::new();
        let mut signatures: Vec<Record> = Vec::new();
        let mut negative = None;
        for rtype in ANY_TYPES {
            match resolver.answer_from_cache(qname, rtype) {
                // Bogus data is left out of an ANY answer altogether.
                Some(outcome) if outcome.security.is_bogus() => {}
                Some(outcome) if outcome.rcode == ResponseCode::NXDomain => {
                    negative = Some(outcome);
                    break;
                }
                Some(outcome) => {
                    for record in outcome.answers {
                        if record.name == *qname && !answers.contains(&record) {
                            answers.push(record);
                        }
                    }
                    for sig in outcome.signatures {
                        if sig.name == *qname && !signatures.contains(&sig) {
                            signatures.push(sig);
                        }
                    }
                }
                None => {}
            }
        }
        if answers.is_empty() {
            if let Some(negative) = negative {
                return negative;
            }
            let hinfo = HINFO::new("RFC8482".into(), String::new());
            answers.push(Record::from_rdata(
                qname.clone(),
                ANY_HINFO_TTL,
                RData::HINFO(hinfo),
            ));
        }
        Outcome {
            rcode: ResponseCode::NoError,
            answers,
            authorities: Vec::new(),
            signatures,
            proof: Vec::new(),
            stats: Stats::default(),
            // Assembled from cached RRsets: no verdict for the whole.
            security: Security::Indeterminate,
            stale: false,
        }
    }

    /// Counts a reply with `rcode` copied from a thread's reply cache, for
    /// a query received at `received` (the full path counts its own).
    pub fn count_copy(&self, rcode: ResponseCode, received: Instant, client: SocketAddr) {
        self.counters.received();
        self.counters.cache_hit();
        let duration = received.elapsed();
        self.counters.replied(rcode, duration);
        // The copy path parses nothing, so this line has no question.
        debug!(%client, %rcode, duration_us = micros(duration), "reply copied");
    }

    /// Encodes `reply` within `limit`, counts it and its latency.
    fn finish(&self, reply: &Message, limit: Limit, received: Instant) -> Option<Vec<u8>> {
        self.encode(reply, limit, received, None).map(|e| e.bytes)
    }

    /// [`Handler::finish`], telling whether the reply was truncated. The
    /// one debug line per query is written here, inside its `query` span:
    /// RCODE, duration and, for a SERVFAIL, `reason`.
    fn encode(
        &self,
        reply: &Message,
        limit: Limit,
        received: Instant,
        reason: Option<&str>,
    ) -> Option<Encoded> {
        let Some(encoded) = packet::encode(reply, limit) else {
            debug!("dropped: reply cannot be encoded");
            self.counters.dropped();
            return None;
        };
        if encoded.truncated {
            self.counters.truncated();
        }
        let duration = received.elapsed();
        debug!(
            rcode = %encoded.rcode,
            duration_us = micros(duration),
            truncated = encoded.truncated,
            len = encoded.bytes.len(),
            reason = reason.filter(|_| encoded.rcode == ResponseCode::ServFail),
            "reply"
        );
        self.counters.replied(encoded.rcode, duration);
        Some(encoded)
    }
}

/// `duration` in whole microseconds, for log fields.
fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// The reply size limit: `udp` bytes for a datagram, a TCP message
/// otherwise.
fn limit(transport: Transport, udp: usize) -> Limit {
    match transport {
        Transport::Udp => Limit::Datagram(udp),
        Transport::Tcp => Limit::Stream,
    }
}
