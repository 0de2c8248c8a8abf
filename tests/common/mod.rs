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

/// The limits tests use unless they say otherwise.
pub fn limits() -> Limits {
    Limits {
        query_timeout: TEST_QUERY_TIMEOUT,
        ..Limits::default()
    }
}

/// A resolver configuration for `lab` with `limits`.
pub fn config_with(lab: &Lab, limits: Limits) -> ResolverConfig {
    ResolverConfig {
        hints: lab.hints(),
        upstream_port: lab.port(),
        limits,
    }
}

/// A resolver configuration for `lab` with the test limits.
pub fn config(lab: &Lab) -> ResolverConfig {
    config_with(lab, limits())
}

/// A fresh resolver for `lab` with the test limits.
pub fn resolver(lab: &Lab) -> Resolver {
    Resolver::new(config(lab))
}
