//! The daemon's own limits against hostile or careless clients: how many
//! TCP connections, how long a message may take to arrive, how much
//! resolution work one client may cause. Each default is a named constant
//! beside the code it bounds; [`ServeLimits`] carries the values in force,
//! settable from the `[limits]` table of the configuration file under the
//! keys in [`SERVE_LIMIT_KEYS`].
//!
//! A reload (SIGHUP, `control reload`) swaps the limits in force whole,
//! with the resolver that works within the engine's limits: an
//! [`InForce`] in an [`InForceCell`], as [`super::PolicyCell`] holds the
//! ACL and local zones. New work reads the cell once; work under way keeps
//! what it started with. The limits of the metrics endpoint and the
//! control socket ([`FIXED_AT_START`]) are read once when they start.

use std::ops::RangeInclusive;
use std::time::Duration;

use crate::resolve::Resolver;

use super::coalesce::{MAX_PREFETCHES, MAX_RESOLUTIONS, MAX_RESOLUTIONS_PER_CLIENT};
use super::control::{CONTROL_READ_TIMEOUT, MAX_CONTROL_CONNECTIONS};
use super::handler::{CLIENT_RESPONSE_TIMEOUT, PREFETCH, PREFETCH_PERCENT, SERVE_EXPIRED};
use super::metrics::{MAX_METRICS_CONNECTIONS, METRICS_READ_TIMEOUT};
use super::swap::SwapCell;
use super::tcp::{
    MAX_TCP_CONNECTIONS, MAX_TCP_CONNECTIONS_PER_CLIENT, TCP_IDLE_TIMEOUT, TCP_MESSAGE_TIMEOUT,
};

/// The limits in force for one daemon; [`ServeLimits::default`] uses the
/// constants named on each field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeLimits {
    /// See [`MAX_TCP_CONNECTIONS`].
    pub tcp_connections: usize,
    /// See [`MAX_TCP_CONNECTIONS_PER_CLIENT`].
    pub tcp_connections_per_client: usize,
    /// See [`TCP_MESSAGE_TIMEOUT`].
    pub tcp_message_timeout: Duration,
    /// See [`TCP_IDLE_TIMEOUT`].
    pub tcp_idle_timeout: Duration,
    /// See [`MAX_RESOLUTIONS`].
    pub resolutions: usize,
    /// See [`MAX_RESOLUTIONS_PER_CLIENT`].
    pub resolutions_per_client: usize,
    /// See [`MAX_METRICS_CONNECTIONS`].
    pub metrics_connections: usize,
    /// See [`METRICS_READ_TIMEOUT`].
    pub metrics_read_timeout: Duration,
    /// See [`MAX_CONTROL_CONNECTIONS`].
    pub control_connections: usize,
    /// See [`CONTROL_READ_TIMEOUT`].
    pub control_read_timeout: Duration,
    /// See [`SERVE_EXPIRED`] (`serve-expired` in the file).
    pub serve_expired: bool,
    /// See [`CLIENT_RESPONSE_TIMEOUT`].
    pub client_response_timeout: Duration,
    /// See [`PREFETCH`] (`prefetch` in the file).
    pub prefetch: bool,
    /// See [`PREFETCH_PERCENT`].
    pub prefetch_percent: u32,
    /// See [`MAX_PREFETCHES`].
    pub prefetches: usize,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            tcp_connections: MAX_TCP_CONNECTIONS,
            tcp_connections_per_client: MAX_TCP_CONNECTIONS_PER_CLIENT,
            tcp_message_timeout: TCP_MESSAGE_TIMEOUT,
            tcp_idle_timeout: TCP_IDLE_TIMEOUT,
            resolutions: MAX_RESOLUTIONS,
            resolutions_per_client: MAX_RESOLUTIONS_PER_CLIENT,
            metrics_connections: MAX_METRICS_CONNECTIONS,
            metrics_read_timeout: METRICS_READ_TIMEOUT,
            control_connections: MAX_CONTROL_CONNECTIONS,
            control_read_timeout: CONTROL_READ_TIMEOUT,
            serve_expired: SERVE_EXPIRED,
            client_response_timeout: CLIENT_RESPONSE_TIMEOUT,
            prefetch: PREFETCH,
            prefetch_percent: PREFETCH_PERCENT,
            prefetches: MAX_PREFETCHES,
        }
    }
}

/// Every daemon limit a configuration file may set under `[limits]`, with
/// the values it may take (`-ms` keys are milliseconds). Below the range
/// the daemon cannot serve; above it the value is almost certainly a typo.
pub const SERVE_LIMIT_KEYS: &[(&str, RangeInclusive<u64>)] = &[
    ("tcp-connections", 1..=65_536),
    ("tcp-connections-per-client", 1..=65_536),
    ("tcp-message-timeout-ms", 100..=60_000),
    ("tcp-idle-timeout-ms", 100..=600_000),
    ("max-resolutions", 1..=1_000_000),
    ("max-resolutions-per-client", 1..=1_000_000),
    ("metrics-connections", 1..=1_024),
    ("metrics-read-timeout-ms", 100..=60_000),
    ("control-connections", 1..=64),
    ("control-read-timeout-ms", 100..=60_000),
    // RFC 8767 §4: 1.8 s recommended; past 30 s every stub has given up.
    ("client-response-timeout-ms", 1..=30_000),
    ("prefetch-percent", 1..=50),
    ("max-prefetches", 1..=1_000_000),
];

/// The keys of [`SERVE_LIMIT_KEYS`] a reload cannot change: the metrics
/// endpoint and the control socket size their slots and read deadlines
/// when they start. Every other daemon limit applies to the next
/// connection, query or resolution after a reload.
pub const FIXED_AT_START: &[&str] = &[
    "metrics-connections",
    "metrics-read-timeout-ms",
    "control-connections",
    "control-read-timeout-ms",
];

impl ServeLimits {
    /// What a reload from these limits to `new` puts in force: `new`,
    /// except the limits of [`FIXED_AT_START`], which keep their values
    /// here; with the keys of those whose value `new` would change (they
    /// take effect at the next start).
    pub fn reloaded(&self, new: &ServeLimits) -> (ServeLimits, Vec<&'static str>) {
        let kept = [
            self.metrics_connections != new.metrics_connections,
            self.metrics_read_timeout != new.metrics_read_timeout,
            self.control_connections != new.control_connections,
            self.control_read_timeout != new.control_read_timeout,
        ]
        .into_iter()
        .zip(FIXED_AT_START)
        .filter_map(|(changed, key)| changed.then_some(*key))
        .collect();
        let in_force = ServeLimits {
            metrics_connections: self.metrics_connections,
            metrics_read_timeout: self.metrics_read_timeout,
            control_connections: self.control_connections,
            control_read_timeout: self.control_read_timeout,
            ..new.clone()
        };
        (in_force, kept)
    }

    /// Whether `key` names one of these limits (else it is the resolver's).
    pub fn knows(key: &str) -> bool {
        SERVE_LIMIT_KEYS.iter().any(|(known, _)| *known == key)
    }

    /// Sets the limit a configuration file calls `key` to `value`, after
    /// checking it against [`SERVE_LIMIT_KEYS`]. The error says what is
    /// wrong.
    pub fn set(&mut self, key: &str, value: u64) -> Result<(), String> {
        let Some((_, range)) = SERVE_LIMIT_KEYS.iter().find(|(known, _)| *known == key) else {
            return Err(format!("unknown limit `{key}`"));
        };
        if !range.contains(&value) {
            return Err(format!(
                "{key} = {value} is outside {}..={}",
                range.start(),
                range.end()
            ));
        }
        // In range, so the conversion fits on any 32- or 64-bit target.
        let count = usize::try_from(value).unwrap_or(usize::MAX);
        let millis = Duration::from_millis(value);
        match key {
            "tcp-connections" => self.tcp_connections = count,
            "tcp-connections-per-client" => self.tcp_connections_per_client = count,
            "tcp-message-timeout-ms" => self.tcp_message_timeout = millis,
            "tcp-idle-timeout-ms" => self.tcp_idle_timeout = millis,
            "max-resolutions" => self.resolutions = count,
            "max-resolutions-per-client" => self.resolutions_per_client = count,
            "metrics-connections" => self.metrics_connections = count,
            "metrics-read-timeout-ms" => self.metrics_read_timeout = millis,
            "control-connections" => self.control_connections = count,
            "control-read-timeout-ms" => self.control_read_timeout = millis,
            "client-response-timeout-ms" => self.client_response_timeout = millis,
            "prefetch-percent" => self.prefetch_percent = u32::try_from(value).unwrap_or(1),
            "max-prefetches" => self.prefetches = count,
            _ => return Err(format!("limit `{key}` is listed but not settable")),
        }
        Ok(())
    }
}

/// What a reload may change besides the policy: the resolver new
/// resolutions use (its limits; its caches are those of every resolver
/// put in force before it) and the daemon's limits.
#[derive(Clone)]
pub struct InForce {
    /// Resolves, and answers from the caches.
    pub resolver: Resolver,
    /// The daemon's limits.
    pub limits: ServeLimits,
}

/// The [`InForce`] of a running daemon, swapped whole on reload: what
/// [`SwapCell::replace`] puts there applies to every query, connection and
/// resolution started after it.
pub type InForceCell = SwapCell<InForce>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_key_sets_its_limit_and_ranges_are_enforced() {
        for (key, range) in SERVE_LIMIT_KEYS {
            assert!(ServeLimits::knows(key));
            let mut limits = ServeLimits::default();
            limits.set(key, *range.end()).unwrap();
            assert_ne!(limits, ServeLimits::default(), "{key} changed nothing");
            assert!(limits.set(key, range.start() - 1).is_err(), "{key}");
            assert!(limits.set(key, range.end() + 1).is_err(), "{key}");
        }
        assert!(!ServeLimits::knows("max-upstream-queries"));
        assert!(ServeLimits::default().set("tcp-slots", 3).is_err());
    }

    #[test]
    fn a_reload_keeps_and_names_exactly_the_limits_fixed_at_start() {
        let old = ServeLimits::default();
        for key in FIXED_AT_START {
            let range = &SERVE_LIMIT_KEYS.iter().find(|(k, _)| k == key).unwrap().1;
            let mut new = old.clone();
            new.set(key, *range.end()).unwrap();
            assert_eq!(old.reloaded(&new), (old.clone(), vec![*key]));
        }
        let mut new = old.clone();
        new.set("tcp-connections-per-client", 1).unwrap();
        new.set("max-resolutions", 7).unwrap();
        new.set("client-response-timeout-ms", 100).unwrap();
        assert_eq!(old.reloaded(&new), (new, Vec::new()));
    }
}
