//! What the daemon did, counted: counters updated per message without
//! locks, a plain snapshot to print at exit or on SIGUSR1 and to serve as
//! metrics, and a histogram of reply latency.
//!
//! The counters are split into per-thread shards, each on cache lines of
//! its own, so workers answering on different cores never write the same
//! line; a snapshot adds the shards up.

use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use hickory_proto::op::ResponseCode;

/// Upper bounds of the latency histogram's buckets, in microseconds, from
/// a cached answer (tens of µs) to a resolution near the request timeout.
/// Replies slower than the last bound land in the overflow (`+Inf`) bucket.
pub const LATENCY_BUCKETS_US: [u64; 16] = [
    50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 2_500_000, 5_000_000,
];

/// Number of counter shards; threads are spread over them round-robin. More
/// than the worker threads of small servers, so each worker has its own.
pub const COUNTER_SHARDS: usize = 16;

/// Buckets: one per bound and the overflow.
const BUCKETS: usize = LATENCY_BUCKETS_US.len() + 1;

/// One shard, aligned so two shards never share a cache line.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Shard {
    received: AtomicU64,
    dropped: AtomicU64,
    noerror: AtomicU64,
    nxdomain: AtomicU64,
    servfail: AtomicU64,
    refused: AtomicU64,
    formerr: AtomicU64,
    notimp: AtomicU64,
    other_rcode: AtomicU64,
    truncated: AtomicU64,
    coalesced: AtomicU64,
    tcp_connections: AtomicU64,
    tcp_shed: AtomicU64,
    busy: AtomicU64,
    cache_hits: AtomicU64,
    stale_answers: AtomicU64,
    prefetches: AtomicU64,
    resolutions: AtomicU64,
    upstream_queries: AtomicU64,
    latency_us_sum: AtomicU64,
    latency: [AtomicU64; BUCKETS],
}

/// Live counters, shared by every listener task.
#[derive(Debug)]
pub struct Counters {
    shards: Box<[Shard]>,
    /// Resolutions running now: a gauge, changed only when one starts or
    /// ends, so one shared atomic is enough.
    in_flight: AtomicU64,
}

impl Default for Counters {
    fn default() -> Self {
        Self {
            shards: (0..COUNTER_SHARDS).map(|_| Shard::default()).collect(),
            in_flight: AtomicU64::new(0),
        }
    }
}

/// The counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CounterSnapshot {
    /// Messages received (UDP datagrams and TCP frames).
    pub received: u64,
    /// Messages given no reply: unreadable header, QR=1, or over capacity.
    pub dropped: u64,
    /// Replies with NOERROR.
    pub noerror: u64,
    /// Replies with NXDOMAIN.
    pub nxdomain: u64,
    /// Replies with SERVFAIL.
    pub servfail: u64,
    /// Replies with REFUSED (ACL, class, zone transfer).
    pub refused: u64,
    /// Replies with FORMERR.
    pub formerr: u64,
    /// Replies with NOTIMP.
    pub notimp: u64,
    /// Replies with any other rcode (e.g. BADVERS).
    pub other_rcode: u64,
    /// UDP replies cut to the question with TC=1.
    pub truncated: u64,
    /// Queries answered by joining a resolution already in flight.
    pub coalesced: u64,
    /// TCP connections accepted.
    pub tcp_connections: u64,
    /// TCP connections closed to make room for new clients.
    pub tcp_shed: u64,
    /// Queries turned away because no resolution could start (too many in
    /// flight, or the client's share taken): dropped over UDP, SERVFAIL
    /// over TCP.
    pub busy: u64,
    /// Queries answered whole from the cache, on the receiving loop.
    pub cache_hits: u64,
    /// Queries answered with expired data (RFC 8767): the resolution
    /// failed or took longer than the client-response timer.
    pub stale_answers: u64,
    /// Background refreshes started for cached answers near their end
    /// (prefetch); not counted in `resolutions`.
    pub prefetches: u64,
    /// Resolutions started for queries the cache could not answer
    /// (coalesced queries share one), counted when they start.
    pub resolutions: u64,
    /// Resolutions running at the moment of the snapshot (a gauge).
    pub resolutions_in_flight: u64,
    /// Upstream queries the finished resolutions sent, side resolutions
    /// included (an aborted resolution's are not known).
    pub upstream_queries: u64,
    /// Sum of the reply latencies (receipt to reply encoded), microseconds.
    pub latency_us_sum: u64,
    /// Replies per latency bucket: `latency[i]` counts replies above bound
    /// `i - 1` and at most [`LATENCY_BUCKETS_US`]`[i]`; the last is the
    /// overflow. Not cumulative.
    pub latency: [u64; BUCKETS],
}

fn bump(counter: &AtomicU64) {
    add(counter, 1);
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

/// Hands out shard numbers to threads as they first count something.
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static THREAD_SHARD: usize = NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % COUNTER_SHARDS;
}

/// The bucket of a latency of `us` microseconds.
fn bucket(us: u64) -> usize {
    LATENCY_BUCKETS_US
        .iter()
        .position(|&bound| us <= bound)
        .unwrap_or(LATENCY_BUCKETS_US.len())
}

impl Counters {
    /// This thread's shard.
    fn shard(&self) -> &Shard {
        // `try_with`: a thread tearing down its locals counts in shard 0
        // rather than panicking.
        let index = THREAD_SHARD.try_with(|i| *i).unwrap_or(0) % self.shards.len();
        &self.shards[index]
    }

    /// A message arrived.
    pub fn received(&self) {
        bump(&self.shard().received);
    }

    /// A message got no reply.
    pub fn dropped(&self) {
        bump(&self.shard().dropped);
    }

    /// A reply with `rcode` was made, `latency` after its query arrived.
    pub fn replied(&self, rcode: ResponseCode, latency: Duration) {
        let shard = self.shard();
        bump(match rcode {
            ResponseCode::NoError => &shard.noerror,
            ResponseCode::NXDomain => &shard.nxdomain,
            ResponseCode::ServFail => &shard.servfail,
            ResponseCode::Refused => &shard.refused,
            ResponseCode::FormErr => &shard.formerr,
            ResponseCode::NotImp => &shard.notimp,
            _ => &shard.other_rcode,
        });
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        add(&shard.latency_us_sum, us);
        bump(&shard.latency[bucket(us)]);
    }

    /// A reply was truncated.
    pub fn truncated(&self) {
        bump(&self.shard().truncated);
    }

    /// A query joined a resolution in flight.
    pub fn coalesced(&self) {
        bump(&self.shard().coalesced);
    }

    /// A TCP connection was accepted.
    pub fn tcp_connection(&self) {
        bump(&self.shard().tcp_connections);
    }

    /// A query was answered from the cache without a resolution.
    pub fn cache_hit(&self) {
        bump(&self.shard().cache_hits);
    }

    /// A query was answered with expired data (RFC 8767).
    pub fn stale_answer(&self) {
        bump(&self.shard().stale_answers);
    }

    /// A prefetch started: a background refresh, in flight like a
    /// resolution (and ended with [`Counters::resolution_ended`]) but not
    /// counted as one.
    pub fn prefetch_started(&self) {
        bump(&self.shard().prefetches);
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// A TCP connection was closed to make room for a new one.
    pub fn tcp_shed(&self) {
        bump(&self.shard().tcp_shed);
    }

    /// A query was turned away: no room for its resolution.
    pub fn busy(&self) {
        bump(&self.shard().busy);
    }

    /// A resolution started.
    pub fn resolution_started(&self) {
        bump(&self.shard().resolutions);
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// A resolution ended: finished, failed or aborted.
    pub fn resolution_ended(&self) {
        // Every end follows its start, so this never wraps; saturate anyway.
        let _ = self
            .in_flight
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some(n.saturating_sub(1))
            });
    }

    /// A resolution finished after sending `upstream_queries` queries.
    pub fn upstream_queries(&self, upstream_queries: u32) {
        add(&self.shard().upstream_queries, u64::from(upstream_queries));
    }

    /// Resolutions running now.
    pub fn resolutions_in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// The values now, summed over the shards.
    pub fn snapshot(&self) -> CounterSnapshot {
        let mut snap = CounterSnapshot {
            resolutions_in_flight: self.resolutions_in_flight(),
            ..CounterSnapshot::default()
        };
        for shard in self.shards.iter() {
            let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
            snap.received += get(&shard.received);
            snap.dropped += get(&shard.dropped);
            snap.noerror += get(&shard.noerror);
            snap.nxdomain += get(&shard.nxdomain);
            snap.servfail += get(&shard.servfail);
            snap.refused += get(&shard.refused);
            snap.formerr += get(&shard.formerr);
            snap.notimp += get(&shard.notimp);
            snap.other_rcode += get(&shard.other_rcode);
            snap.truncated += get(&shard.truncated);
            snap.coalesced += get(&shard.coalesced);
            snap.tcp_connections += get(&shard.tcp_connections);
            snap.tcp_shed += get(&shard.tcp_shed);
            snap.busy += get(&shard.busy);
            snap.cache_hits += get(&shard.cache_hits);
            snap.stale_answers += get(&shard.stale_answers);
            snap.prefetches += get(&shard.prefetches);
            snap.resolutions += get(&shard.resolutions);
            snap.upstream_queries += get(&shard.upstream_queries);
            snap.latency_us_sum += get(&shard.latency_us_sum);
            for (sum, bucket) in snap.latency.iter_mut().zip(&shard.latency) {
                *sum += get(bucket);
            }
        }
        snap
    }
}

impl CounterSnapshot {
    /// Replies sent, whatever their rcode.
    pub fn replies(&self) -> u64 {
        self.noerror
            + self.nxdomain
            + self.servfail
            + self.refused
            + self.formerr
            + self.notimp
            + self.other_rcode
    }
}

impl fmt::Display for CounterSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} received, {} replies ({} NOERROR, {} NXDOMAIN, {} SERVFAIL, {} REFUSED, \
             {} FORMERR, {} NOTIMP, {} other), {} dropped, {} truncated, {} coalesced, \
             {} TCP connections ({} shed), {} busy, {} cache hits, {} stale answers, \
             {} prefetches, {} resolutions ({} in flight), {} upstream queries",
            self.received,
            self.replies(),
            self.noerror,
            self.nxdomain,
            self.servfail,
            self.refused,
            self.formerr,
            self.notimp,
            self.other_rcode,
            self.dropped,
            self.truncated,
            self.coalesced,
            self.tcp_connections,
            self.tcp_shed,
            self.busy,
            self.cache_hits,
            self.stale_answers,
            self.prefetches,
            self.resolutions,
            self.resolutions_in_flight,
            self.upstream_queries
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_counted_by_rcode() {
        let counters = Counters::default();
        counters.received();
        counters.replied(ResponseCode::ServFail, Duration::ZERO);
        counters.replied(ResponseCode::ServFail, Duration::ZERO);
        counters.replied(ResponseCode::BADVERS, Duration::ZERO);
        counters.dropped();
        let snap = counters.snapshot();
        assert_eq!(snap.servfail, 2);
        assert_eq!(snap.other_rcode, 1);
        assert_eq!(snap.replies(), 3);
        assert!(snap.to_string().contains("2 SERVFAIL"));
    }

    #[test]
    fn latencies_land_in_their_buckets() {
        let counters = Counters::default();
        for us in [0, 50, 51, 999, 1_000, 7_000_000] {
            counters.replied(ResponseCode::NoError, Duration::from_micros(us));
        }
        let snap = counters.snapshot();
        assert_eq!(snap.latency[0], 2, "0 and 50 µs: <= 50");
        assert_eq!(snap.latency[1], 1, "51 µs: <= 100");
        assert_eq!(snap.latency[4], 2, "999 and 1000 µs: <= 1 ms");
        assert_eq!(snap.latency[BUCKETS - 1], 1, "7 s: overflow");
        assert_eq!(snap.latency.iter().sum::<u64>(), snap.replies());
        assert_eq!(snap.latency_us_sum, 50 + 51 + 999 + 1_000 + 7_000_000);
    }

    #[test]
    fn counts_from_many_threads_add_up() {
        let counters = std::sync::Arc::new(Counters::default());
        let threads: Vec<_> = (0..COUNTER_SHARDS + 3)
            .map(|_| {
                let counters = std::sync::Arc::clone(&counters);
                std::thread::spawn(move || {
                    for _ in 0..100 {
                        counters.received();
                        counters.cache_hit();
                    }
                    counters.resolution_started();
                    counters.upstream_queries(7);
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let snap = counters.snapshot();
        let n = (COUNTER_SHARDS + 3) as u64;
        assert_eq!(snap.received, 100 * n);
        assert_eq!(snap.cache_hits, 100 * n);
        assert_eq!(snap.resolutions, n);
        assert_eq!(snap.upstream_queries, 7 * n);
        assert_eq!(snap.resolutions_in_flight, n);
        for _ in 0..n + 1 {
            counters.resolution_ended();
        }
        assert_eq!(counters.snapshot().resolutions_in_flight, 0);
    }
}
