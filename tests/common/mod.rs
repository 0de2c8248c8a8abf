//! What the integration tests share: an in-process lab without latency on
//! a random loopback prefix, and resolvers pointed at it with a short
//! per-try timeout so dead servers cost little.

#![allow(dead_code)] // each test crate uses a different part

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
/// microseconds, so only dead servers ever wait this long.
pub const TEST_ZONE_CUT_TIMEOUT: Duration = Duration::from_millis(800);

/// RTO of an unknown server in tests (the lab's are all fast).
pub const TEST_UNKNOWN_RTO: Duration = Duration::from_millis(150);

/// The limits tests use unless they say otherwise: short timers, so dead
/// servers cost little. Tests of the timers themselves use the defaults.
pub fn limits() -> Limits {
    let mut limits = Limits {
        query_timeout: TEST_QUERY_TIMEOUT,
        zone_cut_timeout: TEST_ZONE_CUT_TIMEOUT,
        ..Limits::default()
    };
    limits.infra.unknown_rto = TEST_UNKNOWN_RTO;
    limits
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
