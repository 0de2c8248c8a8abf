//! What the integration tests share: an in-process lab without latency on
//! a random loopback prefix, and resolvers pointed at it with a short
//! per-try timeout so dead servers cost little.

#![allow(dead_code)] // each test crate uses a different part

pub mod daemon;
pub mod fake_root;
pub mod inproc;
#[cfg(target_os = "linux")]
pub mod sockets;

use std::time::Duration;

use rootwalk::config::Limits;
use rootwalk::lab::{Lab, LabConfig};
use rootwalk::resolve::{Resolver, ResolverConfig};

/// Per-try timeout in tests: the lab answers in microseconds, and dead
/// servers should not slow the suite down.
pub const TEST_QUERY_TIMEOUT: Duration = Duration::from_millis(300);

/// The built-in lab, no added latency, random prefix and free port.
pub async fn lab() -> Lab {
    Lab::start(LabConfig {
        latency: false,
        ..LabConfig::for_tests()
    })
    .await
    .expect("lab starts")
}

/// How long a zone cut's servers get in tests: the lab answers in
/// microseconds, so only dead servers ever wait this long. Room for a
/// first query and two resends at [`TEST_RTO`] and its double.
pub const TEST_ZONE_CUT_TIMEOUT: Duration = Duration::from_millis(1500);

/// The RTO floor, and the RTO of an unknown server, in tests. The lab
/// answers in microseconds, so the real floor (50 ms) would be all its
/// servers' RTO, and on a loaded test machine a scheduling hiccup that long
/// would be taken for loss and resent: the exact query counts the tests
/// assert would then depend on the machine's load. 400 ms is no hiccup.
pub const TEST_RTO: Duration = Duration::from_millis(400);

/// `limits` with the test timers ([`TEST_RTO`], [`TEST_ZONE_CUT_TIMEOUT`]).
pub fn with_test_timers(mut limits: Limits) -> Limits {
    limits.zone_cut_timeout = TEST_ZONE_CUT_TIMEOUT;
    limits.infra.unknown_rto = TEST_RTO;
    limits.infra.min_rto = TEST_RTO;
    limits
}

/// The limits tests use unless they say otherwise: the test timers, so
/// dead servers cost little and load causes no resends. Tests of the
/// timers themselves use the defaults.
pub fn limits() -> Limits {
    with_test_timers(Limits {
        query_timeout: TEST_QUERY_TIMEOUT,
        ..Limits::default()
    })
}

/// A resolver configuration for `lab` with `limits`.
pub fn config_with(lab: &Lab, limits: Limits) -> ResolverConfig {
    ResolverConfig::new(lab.hints(), lab.port(), limits)
}

/// A resolver configuration for `lab` with the test limits.
pub fn config(lab: &Lab) -> ResolverConfig {
    config_with(lab, limits())
}

/// A fresh resolver for `lab` with the test limits.
pub fn resolver(lab: &Lab) -> Resolver {
    Resolver::new(config(lab))
}

/// [`resolver`], validating: it trusts the lab's root key.
pub fn validating(lab: &Lab) -> Resolver {
    let mut config = config(lab);
    config.trust_anchors = Some(lab.trust_anchor());
    Resolver::new(config)
}
