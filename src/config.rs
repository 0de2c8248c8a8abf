//! Limits that protect the resolver, each a named constant with its reason.
//!
//! Every bound on work the resolver does for one client question lives here,
//! so an operator can find, document and change them in one place. The
//! constants are the defaults; [`Limits`] carries the values in force.

use std::path::PathBuf;
use std::time::Duration;

use crate::cache::InfraTimers;

/// Upstream queries one client question may cause, side resolutions included.
///
/// Unbound allows about 128 (`max-sent-count`), PowerDNS 50 per resolution;
/// the NXNSAttack paper (2020) showed that an unbounded count turns a
/// resolver into an amplifier.
pub const MAX_UPSTREAM_QUERIES: u32 = 100;

/// Glueless NS names whose addresses one delegation may fetch (NXNSAttack
/// mitigation; Unbound, BIND and Knot settled on about 5).
pub const MAX_GLUELESS_PER_DELEGATION: u32 = 5;

/// How deep side resolutions may nest: a side resolution inside a side
/// resolution inside ... (BIND's `max-recursion-depth` is 7).
pub const MAX_TARGET_DEPTH: u32 = 7;

/// Referrals followed within one resolution before giving up (Unbound's
/// MAX_REFERRAL_COUNT is 130; real trees are rarely deeper than 10).
pub const MAX_REFERRALS: u32 = 30;

/// CNAME links followed for one question (RFC 1034 §3.6.2 asks for a bound;
/// BIND uses 16, Unbound 11).
pub const MAX_CNAME_CHAIN: u32 = 12;

/// Wall-clock time one client question may take before it is answered with
/// SERVFAIL. Stubs usually give up after 5 s and retry.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How long to wait for one upstream reply before trying another server.
pub const QUERY_TIMEOUT: Duration = Duration::from_millis(800);

/// Bytes all the caches together may hold (`cache-size`): 64 MiB, about
/// Unbound's RRset and message caches sized for a busy site. Every entry is
/// charged its real heap cost (wire-format data plus a fixed per-entry
/// overhead, see [`crate::cache::entry_charge`]), and each cache evicts its
/// least recently used entries to stay within its share
/// ([`CacheBudgets::split`]). Around 300,000 small RRsets fit.
pub const CACHE_BYTES: usize = 64 << 20;

/// Smallest `cache-size`: 1 MiB. Below it the RRset share holds a few
/// thousand small RRsets, or a dozen 64 KB ones, and every answer would
/// evict the delegations it was found through. It also tells the old
/// entry counts (`cache-size = 100000`) from byte counts: a number below
/// it is refused, not taken as a tiny cache.
pub const MIN_CACHE_BYTES: usize = 1 << 20;

/// Largest `cache-size`: 1 TiB; more is almost certainly a typo.
pub const MAX_CACHE_BYTES: usize = 1 << 40;

/// Share of `cache-size`, in percent, for the RRset cache: most of it,
/// since answers and delegations are what a resolver is for.
pub const RRSET_SHARE_PERCENT: usize = 60;

/// Share for negative answers (NXDOMAIN, NODATA): each is a name and an SOA.
pub const NEGATIVE_SHARE_PERCENT: usize = 10;

/// Share for the infra cache (per-server RTT, lameness): small entries,
/// few servers.
pub const INFRA_SHARE_PERCENT: usize = 4;

/// Share for the failure cache (RFC 9520): a name and a time per entry,
/// kept seconds.
pub const FAILURE_SHARE_PERCENT: usize = 1;

/// Share for the daemon's encoded reply copies, divided equally among its
/// UDP threads (each keeps its own). Unused when the copies are off.
pub const REPLY_SHARE_PERCENT: usize = 25;

const _: () = assert!(
    RRSET_SHARE_PERCENT
        + NEGATIVE_SHARE_PERCENT
        + INFRA_SHARE_PERCENT
        + FAILURE_SHARE_PERCENT
        + REPLY_SHARE_PERCENT
        == 100
);

/// `cache-size` split among the caches by the `*_SHARE_PERCENT` constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheBudgets {
    /// RRset cache bytes.
    pub rrset: usize,
    /// Negative cache bytes.
    pub negative: usize,
    /// Infra cache bytes.
    pub infra: usize,
    /// Failure cache bytes.
    pub failure: usize,
    /// Reply copies, all UDP threads together.
    pub replies: usize,
}

impl CacheBudgets {
    /// `total` bytes split by the shares; the parts add up to at most
    /// `total`.
    pub fn split(total: usize) -> Self {
        let part = |percent: usize| total / 100 * percent + total % 100 * percent / 100;
        Self {
            rrset: part(RRSET_SHARE_PERCENT),
            negative: part(NEGATIVE_SHARE_PERCENT),
            infra: part(INFRA_SHARE_PERCENT),
            failure: part(FAILURE_SHARE_PERCENT),
            replies: part(REPLY_SHARE_PERCENT),
        }
    }
}

/// Longest TTL the cache honours (RFC 8767 §4 suggests 7 days at most; one
/// day is what Unbound uses by default).
pub const MAX_TTL: Duration = Duration::from_secs(86_400);

/// How long a failed resolution is remembered so a storm of retries does
/// not hammer a broken zone (RFC 9520 §3.2: at least 1 s, at most 5 min).
pub const FAILURE_TTL: Duration = Duration::from_secs(5);

/// How long data that failed DNSSEC validation is kept (RFC 4035 §4.7
/// lets a resolver cache bogus data; Unbound's `val-bogus-ttl` is 60 s):
/// long enough that a flood of questions for a broken name costs one
/// validation, not one per question; short enough that a fixed zone is
/// believed within a minute. Only a client that set CD ever gets the data
/// (RFC 4035 §3.2.2); the others get SERVFAIL with EDE 6.
pub const BOGUS_TTL: Duration = Duration::from_secs(60);

/// EDNS0 UDP payload size advertised upstream (DNS Flag Day 2020).
pub const EDNS_PAYLOAD: u16 = 1232;

/// Queries per walk that may carry a minimised name (RFC 9156: each server
/// is asked only one label below its zone, so the root never sees
/// `www.example.com`). A long name under few zone cuts costs one query per
/// extra label; past this many the walk sends the full name, as Unbound's
/// MAX_MINIMISE_COUNT does. 0 turns QNAME minimisation off.
pub const MAX_MINIMISE_STEPS: u32 = 10;

/// How long the servers of one zone cut are given to answer one question,
/// resends and racing included, before the walk gives up on the cut (or
/// fetches more server addresses). Two seconds lets a server that takes
/// 1.5 s answer, since earlier tries stay open while resends are out, and
/// still ends a zone whose servers are all black holes well within a
/// stub's 5 s patience. Unbound's comparable bound is its RTO cap.
pub const ZONE_CUT_TIMEOUT: Duration = Duration::from_secs(2);

/// Queries one address may get for one question (the first and its
/// resends, each after a doubled RTO; RFC 1035 §4.2.1 and RFC 1536 §1 ask
/// for retransmission with back-off).
pub const MAX_TRIES_PER_ADDRESS: u32 = 3;

/// Queries for one question that may be outstanding at once at one zone
/// cut. When a server has not answered within its RTO the next server is
/// asked while the first may still answer; past this many, the oldest try
/// is given up for the next.
pub const MAX_IN_FLIGHT_PER_CUT: u32 = 3;

/// Glueless name-server names of one delegation whose side resolution may
/// fail (NXDOMAIN, no address) before the delegation is given up: an NXNS
/// referral to 30 names that do not exist then costs a handful of queries,
/// not 30 resolutions (NXNSAttack, USENIX Security 2020).
pub const MAX_TARGET_FAILURES: u32 = 3;

/// DNSSEC signature checks one client question may cost, across every zone
/// cut and side resolution (KeyTrap, CVE-2023-50387); see
/// [`crate::validate::MAX_SIG_VERIFICATIONS`].
pub const MAX_SIG_VERIFICATIONS: u32 = crate::validate::MAX_SIG_VERIFICATIONS;

/// Bytes the validator's memo of verified signatures may hold
/// (`sig-memo-bytes`): see [`crate::validate::memo::SIG_MEMO_BYTES`]. A
/// signature whose exact bytes verified before is not verified with
/// cryptography again; 0 turns the memo off.
pub const SIG_MEMO_BYTES: usize = crate::validate::memo::SIG_MEMO_BYTES;

/// Largest `sig-memo-bytes`: 1 GiB; more is almost certainly a typo.
pub const MAX_SIG_MEMO_BYTES: usize = 1 << 30;

/// Which address families upstream queries may use: `-4`/`-6` on the
/// command line, `do-ip4`/`do-ip6` in the serve file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressFamilies {
    /// IPv4 servers may be asked.
    pub v4: bool,
    /// IPv6 servers may be asked.
    pub v6: bool,
}

impl Default for AddressFamilies {
    /// Both.
    fn default() -> Self {
        Self { v4: true, v6: true }
    }
}

impl AddressFamilies {
    /// Whether `addr`'s family may be used.
    pub fn allows(&self, addr: std::net::IpAddr) -> bool {
        if addr.is_ipv6() { self.v6 } else { self.v4 }
    }
}
/// Longest a negative answer (NXDOMAIN, NODATA) is cached, whatever the
/// SOA says. RFC 2308 §5 suggests 1 to 3 hours; negative answers keep a
/// freshly added name invisible, so they get a shorter cap than
/// [`MAX_TTL`] (Unbound's `cache-max-negative-ttl` is 3600 too). The
/// cache uses the smaller of this and `max_ttl`.
pub const MAX_NEGATIVE_TTL: Duration = Duration::from_secs(3600);

/// RRsets one upstream reply may add to the cache. The scrubber keeps only
/// what the question needs (the answer chain, one NS RRset and its glue),
/// which is at most `max_cname_chain + 1` answer RRsets, one NS RRset and
/// two address RRsets per name server: a few dozen for real zones. The
/// bound keeps one large reply (thousands of glue records or CNAMEs) from
/// flushing the cache; what it holds beyond is used for this resolution
/// only.
pub const MAX_RRSETS_PER_REPLY: usize = 64;

/// How long past its expiry a cached RRset or negative answer is kept, to
/// be served stale when the zone's servers cannot be reached (RFC 8767 §4:
/// "a reasonable value ... is 1 to 3 days"). One day, the low end: long
/// enough to ride out an outage noticed the next morning, short enough
/// that data a zone removed on purpose does not linger for days. Expired
/// entries still count against `cache-size` and are the first evicted as
/// least recently used. 0 keeps nothing expired (no serve-stale).
pub const MAX_STALE_AGE: Duration = Duration::from_secs(86_400);

/// The TTL a stale answer is given to the client (RFC 8767 §4: "a TTL of
/// 30 seconds is RECOMMENDED"), so the client comes back soon for a fresh
/// one; never more than the time the data has left to be kept.
pub const STALE_TTL: Duration = Duration::from_secs(30);

/// The limits in force for one resolver; [`Limits::default`] uses the
/// constants above.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// See [`MAX_UPSTREAM_QUERIES`].
    pub max_upstream_queries: u32,
    /// See [`MAX_GLUELESS_PER_DELEGATION`].
    pub max_glueless_per_delegation: u32,
    /// See [`MAX_TARGET_DEPTH`].
    pub max_target_depth: u32,
    /// See [`MAX_REFERRALS`].
    pub max_referrals: u32,
    /// See [`MAX_CNAME_CHAIN`].
    pub max_cname_chain: u32,
    /// See [`REQUEST_TIMEOUT`].
    pub request_timeout: Duration,
    /// See [`QUERY_TIMEOUT`].
    pub query_timeout: Duration,
    /// See [`CACHE_BYTES`]; split by [`CacheBudgets::split`].
    pub cache_bytes: usize,
    /// See [`MAX_TTL`].
    pub max_ttl: Duration,
    /// See [`FAILURE_TTL`].
    pub failure_ttl: Duration,
    /// See [`BOGUS_TTL`].
    pub bogus_ttl: Duration,
    /// See [`EDNS_PAYLOAD`].
    pub edns_payload: u16,
    /// See [`MAX_MINIMISE_STEPS`].
    pub max_minimise_steps: u32,
    /// See [`ZONE_CUT_TIMEOUT`].
    pub zone_cut_timeout: Duration,
    /// See [`MAX_TRIES_PER_ADDRESS`].
    pub max_tries_per_address: u32,
    /// See [`MAX_IN_FLIGHT_PER_CUT`].
    pub max_in_flight_per_cut: u32,
    /// See [`MAX_TARGET_FAILURES`].
    pub max_target_failures: u32,
    /// The infra cache's retransmission and hold-down timers.
    pub infra: InfraTimers,
    /// See [`MAX_SIG_VERIFICATIONS`].
    pub max_sig_verifications: u32,
    /// See [`SIG_MEMO_BYTES`].
    pub sig_memo_bytes: usize,
    /// See [`MAX_NEGATIVE_TTL`].
    pub max_negative_ttl: Duration,
    /// See [`MAX_RRSETS_PER_REPLY`].
    pub max_rrsets_per_reply: usize,
    /// See [`MAX_STALE_AGE`].
    pub max_stale_age: Duration,
    /// See [`STALE_TTL`].
    pub stale_ttl: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_upstream_queries: MAX_UPSTREAM_QUERIES,
            max_glueless_per_delegation: MAX_GLUELESS_PER_DELEGATION,
            max_target_depth: MAX_TARGET_DEPTH,
            max_referrals: MAX_REFERRALS,
            max_cname_chain: MAX_CNAME_CHAIN,
            request_timeout: REQUEST_TIMEOUT,
            query_timeout: QUERY_TIMEOUT,
            cache_bytes: CACHE_BYTES,
            max_ttl: MAX_TTL,
            failure_ttl: FAILURE_TTL,
            bogus_ttl: BOGUS_TTL,
            edns_payload: EDNS_PAYLOAD,
            max_minimise_steps: MAX_MINIMISE_STEPS,
            zone_cut_timeout: ZONE_CUT_TIMEOUT,
            max_tries_per_address: MAX_TRIES_PER_ADDRESS,
            max_in_flight_per_cut: MAX_IN_FLIGHT_PER_CUT,
            max_target_failures: MAX_TARGET_FAILURES,
            infra: InfraTimers::default(),
            max_sig_verifications: MAX_SIG_VERIFICATIONS,
            sig_memo_bytes: SIG_MEMO_BYTES,
            max_negative_ttl: MAX_NEGATIVE_TTL,
            max_rrsets_per_reply: MAX_RRSETS_PER_REPLY,
            max_stale_age: MAX_STALE_AGE,
            stale_ttl: STALE_TTL,
        }
    }
}

/// A limit as a configuration file names it, with the values it may take:
/// outside them the resolver cannot work (no queries at all) or the value
/// is almost certainly a typo.
#[derive(Debug, Clone)]
pub struct LimitKey {
    /// The key, e.g. `max-upstream-queries`.
    pub key: &'static str,
    /// Allowed values, in the key's unit (`-ms` and `-s` keys are times).
    pub range: std::ops::RangeInclusive<u64>,
}

/// Every limit a configuration file may set, under `[limits]`.
pub const LIMIT_KEYS: &[LimitKey] = &[
    LimitKey {
        key: "max-upstream-queries",
        range: 1..=10_000,
    },
    LimitKey {
        key: "max-glueless-per-delegation",
        range: 0..=64,
    },
    LimitKey {
        key: "max-target-depth",
        range: 1..=32,
    },
    LimitKey {
        key: "max-referrals",
        range: 1..=128,
    },
    LimitKey {
        key: "max-cname-chain",
        range: 1..=64,
    },
    LimitKey {
        key: "request-timeout-ms",
        range: 100..=600_000,
    },
    LimitKey {
        key: "query-timeout-ms",
        range: 10..=60_000,
    },
    // RFC 8767 §4: no more than 7 days.
    LimitKey {
        key: "max-ttl-s",
        range: 1..=604_800,
    },
    // RFC 9520 §3.2: at least 1 s, at most 5 minutes.
    LimitKey {
        key: "failure-ttl-s",
        range: 1..=300,
    },
    // Unbound allows any; at least 1 s so the data is kept at all, at
    // most an hour so a fixed zone is believed again the same day.
    LimitKey {
        key: "bogus-ttl-s",
        range: 1..=3600,
    },
    LimitKey {
        key: "edns-payload",
        range: 512..=4096,
    },
    LimitKey {
        key: "max-minimise-steps",
        range: 0..=64,
    },
    LimitKey {
        key: "max-sig-verifications",
        range: 1..=10_000,
    },
    LimitKey {
        key: "sig-memo-bytes",
        range: 0..=MAX_SIG_MEMO_BYTES as u64,
    },
    LimitKey {
        key: "zone-cut-timeout-ms",
        range: 10..=60_000,
    },
    LimitKey {
        key: "max-tries-per-address",
        range: 1..=10,
    },
    LimitKey {
        key: "max-in-flight-per-cut",
        range: 1..=16,
    },
    LimitKey {
        key: "max-target-failures",
        range: 1..=64,
    },
    LimitKey {
        key: "unknown-rto-ms",
        range: 10..=10_000,
    },
    LimitKey {
        key: "min-rto-ms",
        range: 1..=5_000,
    },
    LimitKey {
        key: "max-rto-ms",
        range: 10..=60_000,
    },
    LimitKey {
        key: "dead-after-timeouts",
        range: 1..=100,
    },
    LimitKey {
        key: "hold-down-s",
        range: 0..=3_600,
    },
    LimitKey {
        key: "probe-interval-s",
        range: 1..=3_600,
    },
    LimitKey {
        key: "family-hold-down-s",
        range: 0..=86_400,
    },
    // RFC 2308 §5: 1 to 3 hours suggested; a day at most.
    LimitKey {
        key: "max-negative-ttl-s",
        range: 1..=86_400,
    },
    LimitKey {
        key: "max-rrsets-per-reply",
        range: 1..=10_000,
    },
    // RFC 8767 §4: 1 to 3 days suggested; a week at most (as MAX_TTL).
    LimitKey {
        key: "max-stale-age-s",
        range: 0..=604_800,
    },
    // RFC 8767 §4: 30 s recommended; an hour at most.
    LimitKey {
        key: "stale-ttl-s",
        range: 1..=3_600,
    },
];

impl Limits {
    /// Sets the limit a configuration file calls `key` to `value`, after
    /// checking it against [`LIMIT_KEYS`]. The error says what is wrong.
    pub fn set(&mut self, key: &str, value: u64) -> Result<(), String> {
        let Some(known) = LIMIT_KEYS.iter().find(|k| k.key == key) else {
            let keys: Vec<&str> = LIMIT_KEYS.iter().map(|k| k.key).collect();
            return Err(format!(
                "unknown limit `{key}` (known: {})",
                keys.join(", ")
            ));
        };
        if !known.range.contains(&value) {
            return Err(format!(
                "{key} = {value} is outside {}..={}",
                known.range.start(),
                known.range.end()
            ));
        }
        // In range, so each conversion below fits.
        let small = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        match key {
            "max-upstream-queries" => self.max_upstream_queries = small(value),
            "max-glueless-per-delegation" => self.max_glueless_per_delegation = small(value),
            "max-target-depth" => self.max_target_depth = small(value),
            "max-referrals" => self.max_referrals = small(value),
            "max-cname-chain" => self.max_cname_chain = small(value),
            "request-timeout-ms" => self.request_timeout = Duration::from_millis(value),
            "query-timeout-ms" => self.query_timeout = Duration::from_millis(value),
            "max-ttl-s" => self.max_ttl = Duration::from_secs(value),
            "failure-ttl-s" => self.failure_ttl = Duration::from_secs(value),
            "bogus-ttl-s" => self.bogus_ttl = Duration::from_secs(value),
            "edns-payload" => self.edns_payload = u16::try_from(value).unwrap_or(EDNS_PAYLOAD),
            "max-minimise-steps" => self.max_minimise_steps = small(value),
            "max-sig-verifications" => self.max_sig_verifications = small(value),
            "sig-memo-bytes" => {
                self.sig_memo_bytes = usize::try_from(value).unwrap_or(SIG_MEMO_BYTES)
            }
            "zone-cut-timeout-ms" => self.zone_cut_timeout = Duration::from_millis(value),
            "max-tries-per-address" => self.max_tries_per_address = small(value),
            "max-in-flight-per-cut" => self.max_in_flight_per_cut = small(value),
            "max-target-failures" => self.max_target_failures = small(value),
            "unknown-rto-ms" => self.infra.unknown_rto = Duration::from_millis(value),
            "min-rto-ms" => self.infra.min_rto = Duration::from_millis(value),
            "max-rto-ms" => self.infra.max_rto = Duration::from_millis(value),
            "dead-after-timeouts" => self.infra.dead_after_timeouts = small(value),
            "hold-down-s" => self.infra.hold_down = Duration::from_secs(value),
            "probe-interval-s" => self.infra.probe_interval = Duration::from_secs(value),
            "family-hold-down-s" => self.infra.family_hold_down = Duration::from_secs(value),
            "max-negative-ttl-s" => self.max_negative_ttl = Duration::from_secs(value),
            "max-rrsets-per-reply" => {
                self.max_rrsets_per_reply = usize::try_from(value).unwrap_or(MAX_RRSETS_PER_REPLY)
            }
            "max-stale-age-s" => self.max_stale_age = Duration::from_secs(value),
            "stale-ttl-s" => self.stale_ttl = Duration::from_secs(value),
            _ => return Err(format!("limit `{key}` is listed but not settable")),
        }
        Ok(())
    }
}

/// Where upstream queries go: the built-in Internet root hints, a hints
/// file, or the embedded lab. The command-line faces turn this into a
/// resolver configuration; `serve` reads it from its file too.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpstreamConfig {
    /// Start the embedded lab in-process and resolve against it.
    pub lab: bool,
    /// Root hints file (named.root format) instead of IANA's built-in hints.
    pub root_hints: Option<PathBuf>,
    /// Port every upstream query goes to, when not 53 (or the lab's).
    pub upstream_port: Option<u16>,
    /// Address families upstream queries may use.
    pub families: AddressFamilies,
    /// Do not validate DNSSEC.
    pub no_dnssec: bool,
    /// Trust anchors to validate from instead of the built-in root keys
    /// (or the lab's).
    pub trust_anchor: Option<PathBuf>,
}

/// Servers a forward or stub zone may list: more is a configuration
/// mistake, and the walk would try them all before giving up.
pub const MAX_ROUTE_SERVERS: usize = 16;

/// How questions under a configured zone are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKind {
    /// To recursive resolvers, with RD=1 (Unbound's `forward-zone`).
    Forward,
    /// To the zone's authoritative servers, with RD=0, as if the parent
    /// had delegated to them (Unbound's `stub-zone`).
    Stub,
}

/// A zone whose questions go to configured servers instead of down the
/// walk from the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneRoute {
    /// The zone; names at and below it take this route.
    pub zone: hickory_proto::rr::Name,
    /// Forward or stub.
    pub kind: RouteKind,
    /// The servers, each with its port (1..=[`MAX_ROUTE_SERVERS`]).
    pub servers: Vec<std::net::SocketAddr>,
}

/// A route server as configured: `ADDR`, `ADDR@PORT` (Unbound's syntax),
/// or `IP:PORT` / `[IPv6]:PORT`; port 53 when none is given.
pub fn parse_route_server(text: &str) -> Result<std::net::SocketAddr, String> {
    use std::net::{IpAddr, SocketAddr};
    let bad = || format!("`{text}` is not ADDR or ADDR@PORT (e.g. 192.0.2.53@5353)");
    if let Some((addr, port)) = text.split_once('@') {
        let addr = addr.parse::<IpAddr>().map_err(|_| bad())?;
        let port = port.parse::<u16>().map_err(|_| bad())?;
        return Ok(SocketAddr::new(addr, port));
    }
    if let Ok(addr) = text.parse::<IpAddr>() {
        return Ok(SocketAddr::new(addr, 53));
    }
    text.parse::<SocketAddr>().map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_budget_is_split_by_the_shares() {
        let parts = CacheBudgets::split(CACHE_BYTES);
        assert_eq!(
            parts.rrset,
            CACHE_BYTES / 100 * 60 + CACHE_BYTES % 100 * 60 / 100
        );
        let sum = |p: CacheBudgets| p.rrset + p.negative + p.infra + p.failure + p.replies;
        assert!(sum(parts) <= CACHE_BYTES && sum(parts) > CACHE_BYTES - 5);
        let odd = CacheBudgets::split(MIN_CACHE_BYTES + 99);
        assert!(sum(odd) <= MIN_CACHE_BYTES + 99);
        assert_eq!(CacheBudgets::split(0), CacheBudgets::split(0));
        assert_eq!(sum(CacheBudgets::split(0)), 0);
    }

    #[test]
    fn every_listed_key_sets_its_limit_and_ranges_are_enforced() {
        for known in LIMIT_KEYS {
            let mut limits = Limits::default();
            let value = *known.range.end();
            limits.set(known.key, value).unwrap();
            assert_ne!(limits, Limits::default(), "{} changed nothing", known.key);
            if *known.range.start() > 0 {
                assert!(limits.set(known.key, known.range.start() - 1).is_err());
            }
            assert!(limits.set(known.key, known.range.end() + 1).is_err());
        }
        let mut limits = Limits::default();
        limits.set("query-timeout-ms", 250).unwrap();
        assert_eq!(limits.query_timeout, Duration::from_millis(250));
        let err = limits.set("max-queries", 5).unwrap_err();
        assert!(
            err.contains("unknown limit `max-queries`") && err.contains("max-upstream-queries")
        );
    }
}
