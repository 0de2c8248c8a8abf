//! The infrastructure cache: what we know about each upstream server address.
//!
//! Unbound calls this the infra cache (`services/cache/infra.c`, with the
//! timers of `util/rtt.c`). Per address it keeps:
//!
//! - the round-trip time as RFC 6298 §2 measures it: a smoothed RTT and its
//!   variance, from which the retransmission timeout (RTO) of the next
//!   query is derived, doubled for each consecutive timeout (§5.5) and
//!   clamped to [[`MIN_RTO`], [`MAX_RTO`]]; a server never heard from
//!   starts at [`UNKNOWN_RTO`];
//! - whether it is a black hole: after [`DEAD_AFTER_TIMEOUTS`] consecutive
//!   timeouts, or at once when this host has no route to it, it is held
//!   down for [`HOLD_DOWN`] and skipped, but for one probe every
//!   [`PROBE_INTERVAL`] when nothing else is left;
//! - whether it rejects EDNS (RFC 6891 §7): then it is asked without.
//!
//! Per (zone, address) it remembers lameness: a server listed in a
//! delegation that does not answer authoritatively for the zone (RFC 4697
//! §2.1). Per address family it remembers that this host cannot reach the
//! family at all (no IPv6 route, say) for [`FAMILY_HOLD_DOWN`]. What the
//! cache learns is forgotten after [`INFRA_TTL`] or [`LAME_TTL`], so a
//! server that was fixed gets another chance.

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use hickory_proto::rr::Name;
use tokio::time::Instant;

use super::wire::KeyBuf;
use super::{HeapSize, ShardedLru};

/// RTO of a server never heard from: 376 ms, Unbound's
/// `UNKNOWN_SERVER_NICENESS`. A typical well-connected server answers in
/// 10–100 ms; a slower one gets a resend after this, and its first reply
/// is still accepted while the resend is out.
pub const UNKNOWN_RTO: Duration = Duration::from_millis(376);

/// Smallest RTO (Unbound's `RTT_MIN_TIMEOUT`): below this a resend only
/// races the reply already on its way.
pub const MIN_RTO: Duration = Duration::from_millis(50);

/// Largest RTO, back-off included. A server slower than this is treated as
/// dead for one question; the ranking RTT is capped here too.
pub const MAX_RTO: Duration = Duration::from_secs(2);

/// Ceiling of one RTT sample, so one freak reply cannot wreck the average.
pub const MAX_RTT: Duration = MAX_RTO;

/// Consecutive timeouts after which an address counts as a black hole and
/// is held down (skipped): two in a row with no reply in between, which a
/// resend with back-off produces only when the server answered neither.
pub const DEAD_AFTER_TIMEOUTS: u32 = 2;

/// How long a black hole or an unreachable address is skipped before it
/// is asked again like any other.
pub const HOLD_DOWN: Duration = Duration::from_secs(60);

/// While held down, one probe query is allowed this often, and only when
/// the zone has no other address left to ask: a server that came back is
/// noticed without every client paying a timeout.
pub const PROBE_INTERVAL: Duration = Duration::from_secs(10);

/// How long an address family this host cannot send to (ENETUNREACH,
/// EADDRNOTAVAIL: no IPv6 route, say) is left alone before it is tried
/// again.
pub const FAMILY_HOLD_DOWN: Duration = Duration::from_secs(300);

/// How long what we know about a server (RTT, timeouts, EDNS) is kept after
/// it was last updated: 15 minutes, Unbound's `infra-host-ttl` default.
/// Networks change; after this the server is unknown again.
pub const INFRA_TTL: Duration = Duration::from_secs(900);

/// How long a server stays lame for a zone: 15 minutes, Unbound's
/// `infra-lame-ttl` default (RFC 4697 §2.1.1 asks that lameness be cached
/// so a lame server is not asked again and again).
pub const LAME_TTL: Duration = Duration::from_secs(900);

/// The timers and thresholds of the infra cache, each defaulting to the
/// constant of the same name; the resolver's `[limits]` can set them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InfraTimers {
    /// See [`UNKNOWN_RTO`].
    pub unknown_rto: Duration,
    /// See [`MIN_RTO`].
    pub min_rto: Duration,
    /// See [`MAX_RTO`].
    pub max_rto: Duration,
    /// See [`DEAD_AFTER_TIMEOUTS`].
    pub dead_after_timeouts: u32,
    /// See [`HOLD_DOWN`].
    pub hold_down: Duration,
    /// See [`PROBE_INTERVAL`].
    pub probe_interval: Duration,
    /// See [`FAMILY_HOLD_DOWN`].
    pub family_hold_down: Duration,
}

impl Default for InfraTimers {
    fn default() -> Self {
        Self {
            unknown_rto: UNKNOWN_RTO,
            min_rto: MIN_RTO,
            max_rto: MAX_RTO,
            dead_after_timeouts: DEAD_AFTER_TIMEOUTS,
            hold_down: HOLD_DOWN,
            probe_interval: PROBE_INTERVAL,
            family_hold_down: FAMILY_HOLD_DOWN,
        }
    }
}

/// What we know about one server address.
#[derive(Clone, Copy)]
struct Server {
    /// Smoothed RTT of real replies; `None` until the first reply.
    srtt: Option<Duration>,
    /// RTT variation (RFC 6298 RTTVAR).
    rttvar: Duration,
    /// Timeouts since the last reply.
    timeouts: u32,
    /// Skipped until then (a black hole or no route).
    held_until: Option<Instant>,
    /// When the last probe of a held-down address was allowed.
    last_probe: Option<Instant>,
    /// It answered an EDNS query with FORMERR or NOTIMP and no OPT.
    no_edns: bool,
    /// When this is forgotten: [`INFRA_TTL`] after the last update.
    expires: Instant,
}

impl HeapSize for Server {
    fn heap_size(&self) -> usize {
        0
    }
}

impl Server {
    fn fresh(now: Instant) -> Self {
        Self {
            srtt: None,
            rttvar: Duration::ZERO,
            timeouts: 0,
            held_until: None,
            last_probe: None,
            no_edns: false,
            expires: now + INFRA_TTL,
        }
    }

    /// RFC 6298 §2: RTO = SRTT + 4·RTTVAR (the clock granularity G is
    /// below a millisecond here), doubled per consecutive timeout.
    fn rto(&self, timers: &InfraTimers) -> Duration {
        let base = match self.srtt {
            Some(srtt) => (srtt + self.rttvar * 4).clamp(timers.min_rto, timers.max_rto),
            None => timers.unknown_rto,
        };
        base.saturating_mul(1u32 << self.timeouts.min(16))
            .min(timers.max_rto)
    }

    fn held(&self, now: Instant) -> bool {
        self.held_until.is_some_and(|until| until > now)
    }
}

/// Whether this host can send to one address family; `None` = usable.
#[derive(Default)]
struct Families {
    v4_unusable_until: Option<Instant>,
    v6_unusable_until: Option<Instant>,
}

/// Per upstream server address: RTT and RTO, consecutive timeouts,
/// hold-down, EDNS; per (zone, address) lameness; per family reachability.
///
/// Shareable across threads (`Send + Sync`); every method takes `&self`.
pub struct InfraCache {
    timers: InfraTimers,
    servers: ShardedLru<IpAddr, Server>,
    /// Keyed by zone (lowercased wire form) and address octets.
    lame: ShardedLru<Box<[u8]>, Instant>,
    families: Mutex<Families>,
}

impl InfraCache {
    /// A cache holding at most `budget` bytes: half for server addresses,
    /// half for (zone, address) lameness marks, each entry charged its key
    /// and a fixed overhead.
    pub fn new(budget: usize) -> Self {
        Self::with_timers(budget, InfraTimers::default())
    }

    /// [`InfraCache::new`] with `timers` instead of the defaults.
    pub fn with_timers(budget: usize, timers: InfraTimers) -> Self {
        Self {
            timers,
            servers: ShardedLru::new(budget / 2),
            lame: ShardedLru::new(budget - budget / 2),
            families: Mutex::new(Families::default()),
        }
    }

    /// Smoothed RTT used to rank servers, lowest first: the smoothed RTT of
    /// the server's replies (or [`UNKNOWN_RTO`] before the first), doubled
    /// for each consecutive timeout, capped at [`MAX_RTT`].
    pub fn srtt(&self, addr: IpAddr, now: Instant) -> Duration {
        let unknown = self.timers.unknown_rto;
        self.with_live(addr, now, |server| {
            let base = server.srtt.unwrap_or(unknown);
            let factor = 1u32 << server.timeouts.min(16);
            base.saturating_mul(factor).min(MAX_RTT)
        })
        .unwrap_or(unknown)
    }

    /// How long to wait for `addr`'s reply before asking again (or asking
    /// another server): see the module doc.
    pub fn rto(&self, addr: IpAddr, now: Instant) -> Duration {
        self.with_live(addr, now, |server| server.rto(&self.timers))
            .unwrap_or(self.timers.unknown_rto)
    }

    /// Records a reply that took `rtt` (RFC 6298 §2.2–2.3: the first sample
    /// sets SRTT = R and RTTVAR = R/2; later ones RTTVAR = 3/4 RTTVAR +
    /// 1/4 |SRTT − R| and SRTT = 7/8 SRTT + 1/8 R). Samples are capped at
    /// [`MAX_RTT`]. A reply ends the run of timeouts and any hold-down.
    pub fn record_rtt(&self, addr: IpAddr, rtt: Duration, now: Instant) {
        let sample = rtt.min(MAX_RTT);
        self.update(addr, now, |server| {
            match server.srtt {
                Some(old) => {
                    let delta = old.abs_diff(sample);
                    server.rttvar = (server.rttvar * 3 + delta) / 4;
                    server.srtt = Some((old * 7 + sample) / 8);
                }
                None => {
                    server.srtt = Some(sample);
                    server.rttvar = sample / 2;
                }
            }
            server.timeouts = 0;
            server.held_until = None;
        });
        self.family_works(addr);
    }

    /// Records a query to `addr` that got no reply within its RTO: one more
    /// consecutive timeout doubles its RTO (up to [`MAX_RTO`]); at
    /// [`DEAD_AFTER_TIMEOUTS`] the address is held down for [`HOLD_DOWN`].
    /// The smoothed RTT of real replies is kept, so one reply after an
    /// outage restores the server.
    pub fn record_timeout(&self, addr: IpAddr, now: Instant) {
        let InfraTimers {
            dead_after_timeouts,
            hold_down,
            ..
        } = self.timers;
        self.update(addr, now, |server| {
            server.timeouts = server.timeouts.saturating_add(1);
            if server.timeouts >= dead_after_timeouts && !server.held(now) {
                server.held_until = Some(now + hold_down);
                // The first probe waits one interval: the query that just
                // timed out was the last look.
                server.last_probe = Some(now);
            }
        });
    }

    /// Records that this host could not send to `addr` at all. With
    /// `whole_family` (the OS said the network is unreachable or the
    /// address unavailable: no route for the family) every address of the
    /// family is skipped for [`FAMILY_HOLD_DOWN`]; the address itself is
    /// held down for [`HOLD_DOWN`] either way.
    pub fn record_unreachable(&self, addr: IpAddr, whole_family: bool, now: Instant) {
        let hold_down = self.timers.hold_down;
        self.update(addr, now, |server| {
            server.held_until = Some(now + hold_down)
        });
        if whole_family {
            let mut families = self.families();
            let until = Some(now + self.timers.family_hold_down);
            if addr.is_ipv6() {
                families.v6_unusable_until = until;
            } else {
                families.v4_unusable_until = until;
            }
        }
    }

    /// Whether this host was found unable to send to `addr`'s family less
    /// than [`FAMILY_HOLD_DOWN`] ago.
    pub fn family_unusable(&self, addr: IpAddr, now: Instant) -> bool {
        let families = self.families();
        let until = if addr.is_ipv6() {
            families.v6_unusable_until
        } else {
            families.v4_unusable_until
        };
        until.is_some_and(|until| until > now)
    }

    /// Whether `addr` is held down (a black hole or unreachable) now.
    pub fn is_held_down(&self, addr: IpAddr, now: Instant) -> bool {
        self.with_live(addr, now, |server| server.held(now))
            .unwrap_or(false)
    }

    /// For a held-down `addr`: whether a probe may go to it now (one per
    /// [`PROBE_INTERVAL`], the first one interval after the hold-down
    /// began); taking the answer `true` starts the next interval. `true`
    /// for an address that is not held down.
    pub fn take_probe(&self, addr: IpAddr, now: Instant) -> bool {
        let interval = self.timers.probe_interval;
        self.servers.with_shard(&addr, |shard| {
            let Some(server) = shard.get_mut(&addr) else {
                return true;
            };
            if !server.held(now) {
                return true;
            }
            if server
                .last_probe
                .is_some_and(|last| now.duration_since(last) < interval)
            {
                return false;
            }
            server.last_probe = Some(now);
            true
        })
    }

    /// Records that `addr` rejects EDNS (FORMERR or NOTIMP without OPT to a
    /// query with OPT, RFC 6891 §7): it is asked without EDNS from now on,
    /// for as long as the entry lives.
    pub fn record_no_edns(&self, addr: IpAddr, now: Instant) {
        self.update(addr, now, |server| server.no_edns = true);
    }

    /// Whether queries to `addr` should carry EDNS.
    pub fn edns(&self, addr: IpAddr, now: Instant) -> bool {
        !self
            .with_live(addr, now, |server| server.no_edns)
            .unwrap_or(false)
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
        if let Some(key) = lame_key(zone, addr) {
            self.lame.with_shard(key.as_slice(), |shard| {
                shard.put(key.to_boxed(), now + LAME_TTL)
            });
        }
    }

    /// Whether `addr` was marked lame for `zone` (compared without case)
    /// less than [`LAME_TTL`] ago. Lameness for one zone says nothing about
    /// another zone the same address serves.
    pub fn is_lame(&self, zone: &Name, addr: IpAddr, now: Instant) -> bool {
        let Some(key) = lame_key(zone, addr) else {
            return false;
        };
        let key = key.as_slice();
        self.lame.with_shard(key, |shard| match shard.get(key) {
            Some(expires) if *expires > now => true,
            Some(_) => {
                shard.pop(key);
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

    /// Bytes charged for the servers and lameness marks held: never more
    /// than the budget.
    pub fn bytes(&self) -> usize {
        self.servers.bytes() + self.lame.bytes()
    }

    /// Forgets every server, every lameness mark and what was learned of
    /// the address families.
    pub fn clear(&self) {
        self.servers.clear();
        self.lame.clear();
        *self.families() = Families::default();
    }

    /// A reply from `addr` proves its family works.
    fn family_works(&self, addr: IpAddr) {
        let mut families = self.families();
        if addr.is_ipv6() {
            families.v6_unusable_until = None;
        } else {
            families.v4_unusable_until = None;
        }
    }

    fn families(&self) -> std::sync::MutexGuard<'_, Families> {
        // Every update is a lone assignment: consistent even after a panic.
        self.families
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
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
            if shard.peek(&addr).is_none_or(|server| server.expires <= now) {
                shard.put(addr, Server::fresh(now));
            }
            if let Some(server) = shard.get_mut(&addr) {
                f(server);
                server.expires = now + INFRA_TTL;
            }
        });
    }
}

/// The lameness key of (`zone`, `addr`): the zone lowercased in wire form,
/// then the address octets (4 or 16, so the families never collide).
fn lame_key(zone: &Name, addr: IpAddr) -> Option<KeyBuf> {
    let mut key = KeyBuf::default();
    key.push_name(zone)?;
    match addr {
        IpAddr::V4(v4) => key.push(&v4.octets())?,
        IpAddr::V6(v6) => key.push(&v6.octets())?,
    }
    Some(key)
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::sync::Arc;

    use super::*;

    const BUDGET: usize = 1 << 20;

    fn ip(last: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn unknown_server_gets_unknown_rtt() {
        let infra = InfraCache::new(BUDGET);
        let now = Instant::now();
        assert_eq!(infra.srtt(ip(1), now), UNKNOWN_RTO);
        assert_eq!(infra.timeouts(ip(1), now), 0);
        assert!(infra.is_empty());
    }

    #[test]
    fn srtt_is_smoothed() {
        let infra = InfraCache::new(BUDGET);
        let now = Instant::now();
        infra.record_rtt(ip(1), ms(80), now);
        assert_eq!(infra.srtt(ip(1), now), ms(80), "first sample sets it");
        infra.record_rtt(ip(1), ms(160), now);
        assert_eq!(infra.srtt(ip(1), now), ms(90), "7/8 * 80 + 1/8 * 160");
        infra.record_rtt(ip(1), ms(10), now);
        assert_eq!(infra.srtt(ip(1), now), Duration::from_micros(80_000));
        // Other servers are untouched.
        assert_eq!(infra.srtt(ip(2), now), UNKNOWN_RTO);
    }

    #[test]
    fn samples_are_capped() {
        let infra = InfraCache::new(BUDGET);
        let now = Instant::now();
        infra.record_rtt(ip(1), Duration::from_secs(3600), now);
        assert_eq!(infra.srtt(ip(1), now), MAX_RTT);
    }

    #[test]
    fn timeouts_back_off_and_reply_resets() {
        let infra = InfraCache::new(BUDGET);
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
        let infra = InfraCache::new(BUDGET);
        let now = Instant::now();
        infra.record_timeout(ip(1), now);
        assert_eq!(infra.srtt(ip(1), now), UNKNOWN_RTO * 2);
        assert!(infra.srtt(ip(1), now) > infra.srtt(ip(2), now));
    }

    #[tokio::test(start_paused = true)]
    async fn server_state_forgotten_after_infra_ttl() {
        let infra = InfraCache::new(BUDGET);
        infra.record_rtt(ip(1), ms(30), Instant::now());
        infra.record_timeout(ip(1), Instant::now());
        tokio::time::advance(INFRA_TTL - Duration::from_secs(1)).await;
        assert_eq!(infra.timeouts(ip(1), Instant::now()), 1);
        assert_eq!(infra.srtt(ip(1), Instant::now()), ms(60));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(infra.timeouts(ip(1), Instant::now()), 0);
        assert_eq!(infra.srtt(ip(1), Instant::now()), UNKNOWN_RTO);

        // A new sample after expiry starts afresh rather than smoothing.
        infra.record_rtt(ip(1), ms(400), Instant::now());
        assert_eq!(infra.srtt(ip(1), Instant::now()), ms(400));
    }

    #[tokio::test(start_paused = true)]
    async fn update_extends_life() {
        let infra = InfraCache::new(BUDGET);
        infra.record_timeout(ip(1), Instant::now());
        tokio::time::advance(INFRA_TTL / 2).await;
        infra.record_timeout(ip(1), Instant::now());
        tokio::time::advance(INFRA_TTL / 2 + Duration::from_secs(1)).await;
        assert_eq!(infra.timeouts(ip(1), Instant::now()), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn lameness_is_per_zone_and_expires() {
        let infra = InfraCache::new(BUDGET);
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
        // Room for two servers in the servers' half of the budget.
        let one = crate::cache::entry_charge(&ip(1), &Server::fresh(Instant::now()));
        let infra = InfraCache::new(2 * (2 * one + 1));
        let now = Instant::now();
        infra.record_rtt(ip(1), ms(10), now);
        infra.record_rtt(ip(2), ms(20), now);
        assert_eq!(infra.srtt(ip(1), now), ms(10));
        infra.record_rtt(ip(3), ms(30), now);
        assert_eq!(infra.len(), 2);
        assert_eq!(infra.srtt(ip(2), now), UNKNOWN_RTO, "evicted");
        assert_eq!(infra.srtt(ip(1), now), ms(10));
        infra.clear();
        assert!(infra.is_empty());
    }

    #[test]
    fn shared_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<InfraCache>();

        let infra = Arc::new(InfraCache::new(BUDGET));
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

    #[test]
    fn rto_follows_rfc_6298_and_backs_off() {
        let infra = InfraCache::new(BUDGET);
        let now = Instant::now();
        assert_eq!(infra.rto(ip(1), now), UNKNOWN_RTO);
        infra.record_rtt(ip(1), ms(100), now);
        // SRTT 100, RTTVAR 50: 100 + 4 * 50.
        assert_eq!(infra.rto(ip(1), now), ms(300));
        infra.record_rtt(ip(1), ms(100), now);
        // RTTVAR 3/4 * 50 + 0 = 37.5 ms: 100 + 150.
        assert_eq!(infra.rto(ip(1), now), ms(250));
        infra.record_timeout(ip(1), now);
        assert_eq!(infra.rto(ip(1), now), ms(500), "doubled by one timeout");
        for _ in 0..10 {
            infra.record_timeout(ip(1), now);
        }
        assert_eq!(infra.rto(ip(1), now), MAX_RTO);
        // A fast server's RTO never drops below the floor.
        infra.record_rtt(ip(2), Duration::from_micros(100), now);
        assert_eq!(infra.rto(ip(2), now), MIN_RTO);
    }

    #[tokio::test(start_paused = true)]
    async fn black_holes_are_held_down_then_probed_then_forgiven() {
        let infra = InfraCache::new(BUDGET);
        let now = Instant::now();
        infra.record_timeout(ip(1), now);
        assert!(!infra.is_held_down(ip(1), now), "one timeout is loss");
        infra.record_timeout(ip(1), now);
        assert!(infra.is_held_down(ip(1), now));
        assert!(
            !infra.take_probe(ip(1), now),
            "no probe right after the timeout that held it down"
        );
        tokio::time::advance(PROBE_INTERVAL).await;
        assert!(infra.take_probe(ip(1), Instant::now()), "one per interval");
        assert!(!infra.take_probe(ip(1), Instant::now()));
        tokio::time::advance(HOLD_DOWN).await;
        assert!(!infra.is_held_down(ip(1), Instant::now()), "hold-down ends");

        infra.record_timeout(ip(2), Instant::now());
        infra.record_timeout(ip(2), Instant::now());
        infra.record_rtt(ip(2), ms(20), Instant::now());
        assert!(
            !infra.is_held_down(ip(2), Instant::now()),
            "a reply forgives"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_unreachable_family_is_skipped_until_it_works_or_expires() {
        let infra = InfraCache::new(BUDGET);
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        let other_v6: IpAddr = "2001:db8::2".parse().unwrap();
        let now = Instant::now();
        infra.record_unreachable(v6, false, now);
        assert!(infra.is_held_down(v6, now));
        assert!(!infra.family_unusable(other_v6, now), "one host route only");
        infra.record_unreachable(v6, true, now);
        assert!(infra.family_unusable(other_v6, now));
        assert!(!infra.family_unusable(ip(1), now), "IPv4 unaffected");
        tokio::time::advance(FAMILY_HOLD_DOWN).await;
        assert!(!infra.family_unusable(other_v6, Instant::now()));

        infra.record_unreachable(v6, true, Instant::now());
        infra.record_rtt(other_v6, ms(10), Instant::now());
        assert!(
            !infra.family_unusable(v6, Instant::now()),
            "a reply proves the family works"
        );
    }

    #[test]
    fn edns_rejection_is_remembered_per_address() {
        let infra = InfraCache::new(BUDGET);
        let now = Instant::now();
        assert!(infra.edns(ip(1), now));
        infra.record_no_edns(ip(1), now);
        assert!(!infra.edns(ip(1), now));
        assert!(infra.edns(ip(2), now));
        infra.record_rtt(ip(1), ms(5), now);
        assert!(
            !infra.edns(ip(1), now),
            "a reply does not make it EDNS-capable"
        );
    }
}
