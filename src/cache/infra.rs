//! The infrastructure cache: what we know about each upstream server address.
//!
//! Unbound calls this the infra cache. Per address it keeps a smoothed
//! round-trip time (RFC 6298 §2 style) used to rank servers, and the count
//! of consecutive timeouts, which doubles the RTT the server is ranked by
//! (exponential back-off, RFC 6298 §5.5) until it answers again. Per (zone,
//! address) it remembers lameness: a server listed in a delegation that
//! does not answer authoritatively for the zone (RFC 4697 §2.1). What the
//! cache learns is forgotten after [`INFRA_TTL`] or [`LAME_TTL`], so a
//! server that was fixed gets another chance.

use std::net::IpAddr;
use std::time::Duration;

use hickory_proto::rr::{LowerName, Name};
use tokio::time::Instant;

use super::ShardedLru;

/// RTT assumed for a server never heard from. Low enough that a new server
/// ranks ahead of known slow ones and so gets tried, which is how its real
/// RTT is learned; a typical well-connected server answers in 10–100 ms.
pub const UNKNOWN_RTT: Duration = Duration::from_millis(100);

/// Ceiling of the ranking RTT, samples and timeout back-off alike. Past
/// 2 s a server is already more than twice [`crate::config::QUERY_TIMEOUT`]
/// away, and ordering among servers that slow no longer matters; the cap
/// also lets a long-dead server be retried once the others fail too.
pub const MAX_RTT: Duration = Duration::from_secs(2);

/// How long what we know about a server (RTT, timeouts) is kept after it was
/// last updated: 15 minutes, Unbound's `infra-host-ttl` default. Networks
/// change; after this the server is unknown again.
pub const INFRA_TTL: Duration = Duration::from_secs(900);

/// How long a server stays lame for a zone: 15 minutes, Unbound's
/// `infra-lame-ttl` default (RFC 4697 §2.1.1 asks that lameness be cached
/// so a lame server is not asked again and again).
pub const LAME_TTL: Duration = Duration::from_secs(900);

/// What we know about one server address.
struct Server {
    /// Smoothed RTT of real replies; `None` until the first reply.
    srtt: Option<Duration>,
    /// Timeouts since the last reply.
    timeouts: u32,
    /// When this is forgotten: [`INFRA_TTL`] after the last update.
    expires: Instant,
}

/// Per upstream server address: smoothed RTT, consecutive timeouts, and the
/// zones it is lame for.
///
/// Shareable across threads (`Send + Sync`); every method takes `&self`.
pub struct InfraCache {
    servers: ShardedLru<IpAddr, Server>,
    lame: ShardedLru<(LowerName, IpAddr), Instant>,
}

impl InfraCache {
    /// A cache of about `capacity` server addresses and as many (zone,
    /// address) lameness marks. A capacity of 0 is treated as 1.
    pub fn new(capacity: usize) -> Self {
        Self {
            servers: ShardedLru::new(capacity),
            lame: ShardedLru::new(capacity),
        }
    }

    /// Smoothed RTT used to rank servers, lowest first: the smoothed RTT of
    /// the server's replies (or [`UNKNOWN_RTT`] before the first), doubled
    /// for each consecutive timeout, capped at [`MAX_RTT`].
    pub fn srtt(&self, addr: IpAddr, now: Instant) -> Duration {
        self.with_live(addr, now, |server| {
            let base = server.srtt.unwrap_or(UNKNOWN_RTT);
            let factor = 1u32 << server.timeouts.min(16);
            base.saturating_mul(factor).min(MAX_RTT)
        })
        .unwrap_or(UNKNOWN_RTT)
    }

    /// Records a reply that took `rtt`: srtt = 7/8 old + 1/8 new (RFC 6298
    /// §2.3 with alpha = 1/8); the first sample sets it. Samples are capped
    /// at [`MAX_RTT`]. A reply ends the run of timeouts.
    pub fn record_rtt(&self, addr: IpAddr, rtt: Duration, now: Instant) {
        let sample = rtt.min(MAX_RTT);
        self.update(addr, now, |server| {
            server.srtt = Some(match server.srtt {
                Some(old) => (old * 7 + sample) / 8,
                None => sample,
            });
            server.timeouts = 0;
        });
    }

    /// Records a query to `addr` that got no reply in time: counts one more
    /// consecutive timeout, which doubles the RTT the server is ranked by
    /// (up to [`MAX_RTT`]). The smoothed RTT of real replies is kept, so one
    /// reply after an outage restores the server's rank.
    pub fn record_timeout(&self, addr: IpAddr, now: Instant) {
        self.update(addr, now, |server| {
            server.timeouts = server.timeouts.saturating_add(1);
        });
    }

    /// Consecutive timeouts of `addr`, reset by a reply; 0 for a server
    /// unknown or not heard of for [`INFRA_TTL`].
    pub fn timeouts(&self, addr: IpAddr, now: Instant) -> u32 {
        self.with_live(addr, now, |server| server.timeouts)
            .unwrap_or(0)
    }

    /// Marks `addr` lame for `zone` (it answered without authority for a
    /// zone it was delegated, RFC 4697 §2.1) for [`LAME_TTL`].
    pub fn record_lame(&self, zone: &Name, addr: IpAddr, now: Instant) {
        let key = (LowerName::new(zone), addr);
        self.lame
            .with_shard(&key, |shard| shard.put(key.clone(), now + LAME_TTL));
    }

    /// Whether `addr` was marked lame for `zone` (compared without case)
    /// less than [`LAME_TTL`] ago. Lameness for one zone says nothing about
    /// another zone the same address serves.
    pub fn is_lame(&self, zone: &Name, addr: IpAddr, now: Instant) -> bool {
        let key = (LowerName::new(zone), addr);
        self.lame.with_shard(&key, |shard| match shard.get(&key) {
            Some(expires) if *expires > now => true,
            Some(_) => {
                shard.pop(&key);
                false
            }
            None => false,
        })
    }

    /// Server addresses held, expired ones not yet evicted included.
    pub fn len(&self) -> usize {
        self.servers.len()
    }

    /// Whether no server address is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every server and every lameness mark.
    pub fn clear(&self) {
        self.servers.clear();
        self.lame.clear();
    }

    /// Runs `f` on the live entry for `addr`; drops an expired one.
    fn with_live<R>(&self, addr: IpAddr, now: Instant, f: impl FnOnce(&Server) -> R) -> Option<R> {
        self.servers.with_shard(&addr, |shard| {
            if shard.peek(&addr)?.expires <= now {
                shard.pop(&addr);
                return None;
            }
            shard.get(&addr).map(f)
        })
    }

    /// Applies `f` to the entry for `addr`, starting afresh if there is none
    /// or it expired, and keeps it [`INFRA_TTL`] from `now`.
    fn update(&self, addr: IpAddr, now: Instant, f: impl FnOnce(&mut Server)) {
        self.servers.with_shard(&addr, |shard| {
            let fresh = || Server {
                srtt: None,
                timeouts: 0,
                expires: now + INFRA_TTL,
            };
            let server = shard.get_or_insert_mut(addr, fresh);
            if server.expires <= now {
                *server = fresh();
            }
            f(server);
            server.expires = now + INFRA_TTL;
        });
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::sync::Arc;

    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn unknown_server_gets_unknown_rtt() {
        let infra = InfraCache::new(10);
        let now = Instant::now();
        assert_eq!(infra.srtt(ip(1), now), UNKNOWN_RTT);
        assert_eq!(infra.timeouts(ip(1), now), 0);
        assert!(infra.is_empty());
    }

    #[test]
    fn srtt_is_smoothed() {
        let infra = InfraCache::new(10);
        let now = Instant::now();
        infra.record_rtt(ip(1), ms(80), now);
        assert_eq!(infra.srtt(ip(1), now), ms(80), "first sample sets it");
        infra.record_rtt(ip(1), ms(160), now);
        assert_eq!(infra.srtt(ip(1), now), ms(90), "7/8 * 80 + 1/8 * 160");
        infra.record_rtt(ip(1), ms(10), now);
        assert_eq!(infra.srtt(ip(1), now), Duration::from_micros(80_000));
        // Other servers are untouched.
        assert_eq!(infra.srtt(ip(2), now), UNKNOWN_RTT);
    }

    #[test]
    fn samples_are_capped() {
        let infra = InfraCache::new(10);
        let now = Instant::now();
        infra.record_rtt(ip(1), Duration::from_secs(3600), now);
        assert_eq!(infra.srtt(ip(1), now), MAX_RTT);
    }

    #[test]
    fn timeouts_back_off_and_reply_resets() {
        let infra = InfraCache::new(10);
        let now = Instant::now();
        infra.record_rtt(ip(1), ms(50), now);
        infra.record_timeout(ip(1), now);
        assert_eq!(
            (infra.srtt(ip(1), now), infra.timeouts(ip(1), now)),
            (ms(100), 1)
        );
        infra.record_timeout(ip(1), now);
        assert_eq!(
            (infra.srtt(ip(1), now), infra.timeouts(ip(1), now)),
            (ms(200), 2)
        );
        for _ in 0..40 {
            infra.record_timeout(ip(1), now);
        }
        assert_eq!(infra.srtt(ip(1), now), MAX_RTT);
        assert_eq!(infra.timeouts(ip(1), now), 42);

        infra.record_rtt(ip(1), ms(50), now);
        assert_eq!(infra.timeouts(ip(1), now), 0);
        assert_eq!(
            infra.srtt(ip(1), now),
            ms(50),
            "penalty gone, smoothing kept"
        );
    }

    #[test]
    fn unknown_server_timing_out_ranks_behind_unknown() {
        let infra = InfraCache::new(10);
        let now = Instant::now();
        infra.record_timeout(ip(1), now);
        assert_eq!(infra.srtt(ip(1), now), UNKNOWN_RTT * 2);
        assert!(infra.srtt(ip(1), now) > infra.srtt(ip(2), now));
    }

    #[tokio::test(start_paused = true)]
    async fn server_state_forgotten_after_infra_ttl() {
        let infra = InfraCache::new(10);
        infra.record_rtt(ip(1), ms(30), Instant::now());
        infra.record_timeout(ip(1), Instant::now());
        tokio::time::advance(INFRA_TTL - Duration::from_secs(1)).await;
        assert_eq!(infra.timeouts(ip(1), Instant::now()), 1);
        assert_eq!(infra.srtt(ip(1), Instant::now()), ms(60));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(infra.timeouts(ip(1), Instant::now()), 0);
        assert_eq!(infra.srtt(ip(1), Instant::now()), UNKNOWN_RTT);

        // A new sample after expiry starts afresh rather than smoothing.
        infra.record_rtt(ip(1), ms(400), Instant::now());
        assert_eq!(infra.srtt(ip(1), Instant::now()), ms(400));
    }

    #[tokio::test(start_paused = true)]
    async fn update_extends_life() {
        let infra = InfraCache::new(10);
        infra.record_timeout(ip(1), Instant::now());
        tokio::time::advance(INFRA_TTL / 2).await;
        infra.record_timeout(ip(1), Instant::now());
        tokio::time::advance(INFRA_TTL / 2 + Duration::from_secs(1)).await;
        assert_eq!(infra.timeouts(ip(1), Instant::now()), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn lameness_is_per_zone_and_expires() {
        let infra = InfraCache::new(10);
        let zone = Name::from_ascii("Example.COM.").unwrap();
        let other = Name::from_ascii("example.net.").unwrap();
        infra.record_lame(&zone, ip(1), Instant::now());
        let lower = Name::from_ascii("example.com.").unwrap();
        assert!(infra.is_lame(&lower, ip(1), Instant::now()));
        assert!(!infra.is_lame(&other, ip(1), Instant::now()));
        assert!(!infra.is_lame(&zone, ip(2), Instant::now()));

        tokio::time::advance(LAME_TTL - Duration::from_secs(1)).await;
        assert!(infra.is_lame(&zone, ip(1), Instant::now()));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(!infra.is_lame(&zone, ip(1), Instant::now()));
    }

    #[test]
    fn evicts_least_recently_used_server() {
        let infra = InfraCache::new(2);
        let now = Instant::now();
        infra.record_rtt(ip(1), ms(10), now);
        infra.record_rtt(ip(2), ms(20), now);
        assert_eq!(infra.srtt(ip(1), now), ms(10));
        infra.record_rtt(ip(3), ms(30), now);
        assert_eq!(infra.len(), 2);
        assert_eq!(infra.srtt(ip(2), now), UNKNOWN_RTT, "evicted");
        assert_eq!(infra.srtt(ip(1), now), ms(10));
        infra.clear();
        assert!(infra.is_empty());
    }

    #[test]
    fn shared_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<InfraCache>();

        let infra = Arc::new(InfraCache::new(1000));
        let now = Instant::now();
        let zone = Name::from_ascii("example.").unwrap();
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let (infra, zone) = (Arc::clone(&infra), zone.clone());
                std::thread::spawn(move || {
                    for _ in 0..100 {
                        infra.record_timeout(ip(1), now);
                        infra.record_lame(&zone, ip(2), now);
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
        // No update lost under contention.
        assert_eq!(infra.timeouts(ip(1), now), 400);
        assert!(infra.is_lame(&zone, ip(2), now));
    }
}
