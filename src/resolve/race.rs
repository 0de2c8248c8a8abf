//! Asking one zone cut one question: which address next, when to resend,
//! and racing the cut's servers against each other.
//!
//! A [`Race`] sends the question to the best address of the delegation
//! point (fewest tries in this race, not held down, not lame, lowest
//! smoothed RTT, IPv4 before IPv6 on a tie) and arms that address's
//! retransmission timeout from the infra cache (RFC 6298 style). When the
//! RTO runs out the timeout is recorded, which doubles the address's next
//! RTO, and the next address is asked (or the same one again when it is the
//! only one left, up to [`crate::config::MAX_TRIES_PER_ADDRESS`]) *while the
//! earlier tries keep their sockets open*: a late reply to any of them still
//! wins. At most [`crate::config::MAX_IN_FLIGHT_PER_CUT`] tries are out at
//! once; the oldest is given up for a new one. A try that fails outright
//! (port closed, no route, a broken TCP fallback) lets the next go at once.
//! The whole race ends after [`crate::config::ZONE_CUT_TIMEOUT`].
//!
//! So with one of two servers a black hole, a cold answer costs one RTO of
//! the dead server plus the good one's RTT; one lost packet costs one RTO;
//! a server slower than its RTO still answers, as long as it answers within
//! the cut's timeout; and a zone whose servers are all black holes fails in
//! that timeout, after which its addresses are held down and the next
//! question fails at once (but for an occasional probe).
//!
//! The race also knows two facts of the infra cache: addresses that reject
//! EDNS are asked without (and a FORMERR or NOTIMP without OPT to an EDNS
//! query, or a reply whose OPT record is malformed,
//! [`TransportError::BadOpt`], makes an address such, then asks it again at
//! once, RFC 6891 §7),
//! and address families this host cannot reach are not asked at all.
//!
//! What the walk does with a reply (an answer, a referral, a lame server)
//! is the walk's business: [`Race::next`] hands over each usable reply in
//! turn and goes on racing when the walk asks for another.

use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::time::Duration;

use foldhash::{HashSet, HashSetExt};
use futures_util::future::{AbortHandle, Abortable, Aborted};
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};
use hickory_proto::op::{Query, ResponseCode};
use hickory_proto::rr::Name;
use tokio::time::Instant;

use super::Inner;
use super::ResolveError;
use super::delegation::DelegationPoint;
use super::request::Request;
use super::scrub::{Scrubbed, scrub_with};
use crate::net::{Reply, TransportError};
use crate::trace::{AddrSource, Event, HopId, emit};

/// One try's future: its index in [`Race::tries`] and how it ended.
type Flight =
    Pin<Box<dyn Future<Output = (usize, Result<Result<Reply, TransportError>, Aborted>)> + Send>>;

/// A reply the walk may use: scrubbed against the zone asked.
pub(super) struct Landed {
    /// The exchange it answered.
    pub hop: HopId,
    /// The address that answered.
    pub addr: IpAddr,
    /// The reply, boxed: a `Landed` is moved up through the race, the
    /// walk's join and its match, and a box moves as one pointer where
    /// the reply's sections are most of a kilobyte.
    pub scrubbed: Box<Scrubbed>,
}

/// One query sent.
struct Try {
    hop: HopId,
    addr: IpAddr,
    /// The server's name and where its address came from, for a resend.
    name: Name,
    source: AddrSource,
    sent: Instant,
    rto: Duration,
    /// Whether the query carried EDNS.
    edns: bool,
    /// Answered, failed or given up.
    settled: bool,
    /// Its RTO ran out and the infra cache was told.
    timeout_recorded: bool,
    abort: AbortHandle,
}

/// An address chosen to be asked.
struct Choice {
    name: Name,
    addr: IpAddr,
    source: AddrSource,
}

/// The servers of one zone cut racing to answer one question.
pub(super) struct Race<'a> {
    inner: &'a Inner,
    req: &'a Request<'a>,
    resolution: u32,
    zone: Name,
    question: Query,
    deadline: Instant,
    /// When the next try goes out, unless a reply comes first.
    next_send: Instant,
    tries: Vec<Try>,
    in_flight: FuturesUnordered<Flight>,
    /// Addresses reported as skipped, so each is reported once.
    skipped: HashSet<IpAddr>,
}

impl<'a> Race<'a> {
    /// A race among the servers of `zone` for `question`, for resolution
    /// `resolution` of `req`; nothing is sent before [`Race::next`].
    pub fn new(
        inner: &'a Inner,
        req: &'a Request<'a>,
        resolution: u32,
        zone: &Name,
        question: Query,
    ) -> Self {
        let now = Instant::now();
        Self {
            inner,
            req,
            resolution,
            zone: zone.clone(),
            question,
            deadline: now + inner.limits.zone_cut_timeout,
            next_send: now,
            tries: Vec::new(),
            in_flight: FuturesUnordered::new(),
            skipped: HashSet::new(),
        }
    }

    /// Every address this race asked.
    pub fn asked(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.tries.iter().map(|t| t.addr)
    }

    /// The next usable reply from the servers of `dp`, sending, resending
    /// and racing as the timers say; `Ok(None)` when every address is spent
    /// or the cut's time is up. An error only when the request's budget is.
    pub async fn next(&mut self, dp: &mut DelegationPoint) -> Result<Option<Landed>, ResolveError> {
        loop {
            let now = Instant::now();
            if now >= self.deadline {
                self.give_up(dp, now);
                return Ok(None);
            }
            if now >= self.next_send {
                match self.pick(dp, now) {
                    Some(choice) => {
                        self.send(choice, now)?;
                        continue;
                    }
                    None if self.outstanding() == 0 => {
                        dp.tried.extend(self.tries.iter().map(|t| t.addr));
                        return Ok(None);
                    }
                    // Nothing left to send: wait for what is out.
                    None => self.next_send = self.deadline,
                }
            }
            let wake = self.next_send.min(self.deadline);
            tokio::select! {
                biased;
                Some((index, ended)) = self.in_flight.next(), if !self.in_flight.is_empty() => {
                    // An aborted try was settled when it was given up.
                    if let Ok(result) = ended
                        && let Some(landed) = self.land(index, result, dp)?
                    {
                        return Ok(Some(landed));
                    }
                }
                () = tokio::time::sleep_until(wake) => self.rtos_expired(Instant::now()),
            }
        }
    }

    /// Tries not yet settled.
    fn outstanding(&self) -> usize {
        self.tries.iter().filter(|t| !t.settled).count()
    }

    /// How many times this race asked `addr`.
    fn tries_of(&self, addr: IpAddr) -> u32 {
        self.tries.iter().filter(|t| t.addr == addr).count() as u32
    }

    /// The address to ask next, if any (see the module doc for the order).
    fn pick(&mut self, dp: &DelegationPoint, now: Instant) -> Option<Choice> {
        let infra = &self.inner.infra;
        let max_tries = self.inner.limits.max_tries_per_address;
        let mut usable = Vec::new();
        let mut held = Vec::new();
        let mut skipped = Vec::new();
        for (name, addr, source) in dp.untried() {
            if !self.inner.families.allows(addr) {
                skipped.push((name.clone(), addr, "its address family is turned off"));
                continue;
            }
            if infra.family_unusable(addr, now) {
                skipped.push((
                    name.clone(),
                    addr,
                    "this host cannot reach its address family",
                ));
                continue;
            }
            let tries = self.tries_of(addr);
            if tries >= max_tries {
                continue;
            }
            let choice = Choice {
                name: name.clone(),
                addr,
                source,
            };
            let rank = (
                tries,
                infra.is_lame(&dp.zone, addr, now),
                infra.srtt(addr, now),
                addr.is_ipv6(),
            );
            if tries == 0 && infra.is_held_down(addr, now) {
                held.push((rank, choice));
            } else {
                usable.push((rank, choice));
            }
        }
        for (name, addr, why) in skipped {
            self.report_skip(dp, name, addr, why);
        }
        if let Some((_, best)) = usable.into_iter().min_by_key(|(rank, _)| *rank) {
            return Some(best);
        }
        // Only held-down addresses left: one probe now and then.
        held.sort_by_key(|(rank, _)| *rank);
        let mut probe = None;
        for (_, choice) in held {
            if probe.is_none() && infra.take_probe(choice.addr, now) {
                probe = Some(choice);
            } else {
                let why = "held down: no reply to its last queries (a black hole or unreachable)";
                self.report_skip(dp, choice.name, choice.addr, why);
            }
        }
        probe
    }

    fn report_skip(&mut self, dp: &DelegationPoint, name: Name, addr: IpAddr, why: &str) {
        if !self.skipped.insert(addr) {
            return;
        }
        emit(self.req.observer, || Event::ServerSkipped {
            hop: dp.origin_hop,
            zone: dp.zone.clone(),
            server_name: name,
            reason: format!("{addr}: {why}"),
        });
    }

    /// Sends the question to `choice` and arms its RTO.
    fn send(&mut self, choice: Choice, now: Instant) -> Result<(), ResolveError> {
        if self.outstanding() >= self.inner.limits.max_in_flight_per_cut as usize {
            self.retire_oldest(now);
        }
        self.req.spend_query()?;
        self.req.observer.upstream_query_sent();
        let infra = &self.inner.infra;
        let rto = infra.rto(choice.addr, now);
        let edns = infra.edns(choice.addr, now);
        let hop = self.req.next_hop();
        let port = self.inner.routes.port_of(choice.addr, self.inner.port);
        let server = SocketAddr::new(choice.addr, port);
        let rd = self.inner.routes.is_forward(&self.zone);
        emit(self.req.observer, || Event::QuerySent {
            hop,
            resolution: self.resolution,
            zone: self.zone.clone(),
            server_name: choice.name.clone(),
            server,
            addr_source: choice.source,
            qname: self.question.name().clone(),
            qtype: self.question.query_type(),
        });
        let (abort, registration) = AbortHandle::new_pair();
        let transport = self.inner.transport.clone();
        let question = self.question.clone();
        let deadline = self.deadline;
        let index = self.tries.len();
        let exchange = async move {
            transport
                .query_rd(server, &question, edns, rd, deadline)
                .await
        };
        // `map`, not an `async` block awaiting it: a block would hold the
        // exchange twice over (the captured one and the one awaited), and
        // the box is copied whole.
        let flight = Abortable::new(exchange, registration).map(move |ended| (index, ended));
        self.in_flight.push(Box::pin(flight));
        self.tries.push(Try {
            hop,
            addr: choice.addr,
            name: choice.name,
            source: choice.source,
            sent: now,
            rto,
            edns,
            settled: false,
            timeout_recorded: false,
            abort,
        });
        self.next_send = now + rto;
        Ok(())
    }

    /// Tells the infra cache of every try whose RTO ran out unanswered.
    fn rtos_expired(&mut self, now: Instant) {
        for attempt in self.tries.iter_mut() {
            if !attempt.settled && !attempt.timeout_recorded && attempt.sent + attempt.rto <= now {
                attempt.timeout_recorded = true;
                self.inner.infra.record_timeout(attempt.addr, now);
            }
        }
    }

    /// Gives up the oldest try still out, to make room for a new one.
    fn retire_oldest(&mut self, now: Instant) {
        self.rtos_expired(now);
        if let Some(index) = self.tries.iter().position(|t| !t.settled) {
            let why = format!(
                "no reply within its RTO; given up for a newer try (at most {} in flight \
                 per zone cut)",
                self.inner.limits.max_in_flight_per_cut
            );
            self.settle_unanswered(index, why, now);
        }
    }

    /// Ends every try still out: the cut's time is up, and every address
    /// this race asked is done with for this delegation point.
    fn give_up(&mut self, dp: &mut DelegationPoint, now: Instant) {
        for index in 0..self.tries.len() {
            dp.tried.insert(self.tries[index].addr);
            if !self.tries[index].settled {
                let why = format!(
                    "no reply within the zone cut's {:?} (ZONE_CUT_TIMEOUT)",
                    self.inner.limits.zone_cut_timeout
                );
                self.settle_unanswered(index, why, now);
            }
        }
    }

    /// Settles try `index` as unanswered: aborts it, counts its timeout if
    /// its RTO had not yet, and reports it.
    fn settle_unanswered(&mut self, index: usize, why: String, now: Instant) {
        let attempt = &mut self.tries[index];
        attempt.settled = true;
        attempt.abort.abort();
        if !attempt.timeout_recorded {
            attempt.timeout_recorded = true;
            self.inner.infra.record_timeout(attempt.addr, now);
        }
        let hop = attempt.hop;
        emit(self.req.observer, || Event::QueryFailed {
            hop,
            error: why,
            timed_out: true,
        });
    }

    /// Remembers that the address of try `index` mishandles EDNS and asks
    /// it the question again at once, without EDNS (RFC 6891 §7).
    fn resend_without_edns(&mut self, index: usize, now: Instant) -> Result<(), ResolveError> {
        let Some(attempt) = self.tries.get(index) else {
            return Ok(());
        };
        let choice = Choice {
            name: attempt.name.clone(),
            addr: attempt.addr,
            source: attempt.source,
        };
        self.inner.infra.record_no_edns(choice.addr, now);
        self.send(choice, now)
    }

    /// Handles the end of try `index`: a reply to hand over, or a failure
    /// that lets the next try go at once.
    fn land(
        &mut self,
        index: usize,
        result: Result<Reply, TransportError>,
        dp: &mut DelegationPoint,
    ) -> Result<Option<Landed>, ResolveError> {
        let now = Instant::now();
        let infra = &self.inner.infra;
        let Some(attempt) = self.tries.get_mut(index) else {
            return Ok(None);
        };
        attempt.settled = true;
        let (hop, addr, sent_edns) = (attempt.hop, attempt.addr, attempt.edns);
        let reply = match result {
            Ok(reply) => reply,
            Err(TransportError::BadOpt(rtt)) if sent_edns => {
                // RFC 6891 §7: a malformed OPT is a server that mishandles
                // EDNS. The reply is not used: ask again without EDNS at
                // once, and remember.
                infra.record_rtt(addr, rtt, now);
                emit(self.req.observer, || Event::QueryFailed {
                    hop,
                    error: format!("{}; asking again without EDNS", TransportError::BadOpt(rtt)),
                    timed_out: false,
                });
                self.resend_without_edns(index, now)?;
                return Ok(None);
            }
            Err(error) => {
                match &error {
                    TransportError::Timeout(_) => infra.record_timeout(addr, now),
                    TransportError::Unreachable(_) => {
                        infra.record_unreachable(addr, error.whole_family(), now)
                    }
                    _ => infra.record_lame(&self.zone, addr, now),
                }
                emit(self.req.observer, || Event::QueryFailed {
                    hop,
                    error: error.to_string(),
                    timed_out: matches!(error, TransportError::Timeout(_)),
                });
                dp.tried.insert(addr);
                self.next_send = now;
                return Ok(None);
            }
        };
        infra.record_rtt(addr, reply.rtt, now);
        let message = &reply.message;
        emit(self.req.observer, || Event::ResponseReceived {
            hop,
            rcode: message.metadata.response_code,
            authoritative: message.metadata.authoritative,
            protocol: reply.protocol,
            tcp_fallback: reply.tcp_fallback,
            bytes: reply.bytes,
            rtt: reply.rtt,
            counts: [
                message.answers.len(),
                message.authorities.len(),
                message.additionals.len(),
            ],
            ignored: reply.ignored,
        });
        if sent_edns && rejects_edns(&reply) {
            // RFC 6891 §7: ask again without EDNS at once, and remember.
            self.resend_without_edns(index, now)?;
            return Ok(None);
        }
        let scrubbed = Box::new(scrub_with(
            reply.message,
            &self.zone,
            &self.question,
            self.inner.limits.max_cname_chain,
        ));
        if !scrubbed.dropped().is_empty() {
            emit(self.req.observer, || Event::RecordsDropped {
                hop,
                records: scrubbed
                    .dropped()
                    .iter()
                    .map(|d| (d.record.to_string(), d.reason.to_string()))
                    .collect(),
            });
        }
        Ok(Some(Landed {
            hop,
            addr,
            scrubbed,
        }))
    }
}

impl Drop for Race<'_> {
    /// Tries still out when the walk has what it needs are abandoned, and
    /// the trace says so.
    fn drop(&mut self) {
        for attempt in self.tries.iter_mut().filter(|t| !t.settled) {
            attempt.settled = true;
            attempt.abort.abort();
            let hop = attempt.hop;
            emit(self.req.observer, || Event::QueryFailed {
                hop,
                error: "abandoned: another reply was used".to_string(),
                timed_out: false,
            });
        }
    }
}

/// Whether `reply` says its server does not take EDNS: FORMERR or NOTIMP
/// with no OPT record (RFC 6891 §7). An EDNS-aware server that dislikes
/// something else answers with an OPT.
fn rejects_edns(reply: &Reply) -> bool {
    matches!(
        reply.message.metadata.response_code,
        ResponseCode::FormErr | ResponseCode::NotImp
    ) && reply.message.edns.is_none()
}
