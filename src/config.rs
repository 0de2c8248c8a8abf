//! Limits that protect the resolver, each a named constant with its reason.
//!
//! Every bound on work the resolver does for one client question lives here,
//! so an operator can find, document and change them in one place. The
//! constants are the defaults; [`Limits`] carries the values in force.

use std::time::Duration;

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

/// Entries (RRsets, negative answers) the cache holds before it evicts the
/// least recently used.
pub const CACHE_ENTRIES: usize = 100_000;

/// Longest TTL the cache honours (RFC 8767 §4 suggests 7 days at most; one
/// day is what Unbound uses by default).
pub const MAX_TTL: Duration = Duration::from_secs(86_400);

/// How long a failed resolution is remembered so a storm of retries does
/// not hammer a broken zone (RFC 9520 §3.2: at least 1 s, at most 5 min).
pub const FAILURE_TTL: Duration = Duration::from_secs(5);

/// EDNS0 UDP payload size advertised upstream (DNS Flag Day 2020).
pub const EDNS_PAYLOAD: u16 = 1232;

/// Queries per walk that may carry a minimised name (RFC 9156: each server
/// is asked only one label below its zone, so the root never sees
/// `www.example.com`). A long name under few zone cuts costs one query per
/// extra label; past this many the walk sends the full name, as Unbound's
/// MAX_MINIMISE_COUNT does. 0 turns QNAME minimisation off.
pub const MAX_MINIMISE_STEPS: u32 = 10;

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
    /// See [`CACHE_ENTRIES`].
    pub cache_entries: usize,
    /// See [`MAX_TTL`].
    pub max_ttl: Duration,
    /// See [`FAILURE_TTL`].
    pub failure_ttl: Duration,
    /// See [`EDNS_PAYLOAD`].
    pub edns_payload: u16,
    /// See [`MAX_MINIMISE_STEPS`].
    pub max_minimise_steps: u32,
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
            cache_entries: CACHE_ENTRIES,
            max_ttl: MAX_TTL,
            failure_ttl: FAILURE_TTL,
            edns_payload: EDNS_PAYLOAD,
            max_minimise_steps: MAX_MINIMISE_STEPS,
        }
    }
}
