//! Reloading the configuration of a running daemon, for SIGHUP and the
//! control socket's `reload` alike: re-read the file, check it whole, put
//! its reloadable part in force ([`super::reload()`]), and say which
//! changes wait for the next start. One [`std::sync::Mutex`] around the
//! configuration in force, held for one synchronous reload, so two reloads
//! never interleave.
//!
//! What a reload changes, for new work (queries, connections and
//! resolutions under way finish under what they started with), keeping
//! every cache: the ACL, PROXY sources, local zones and data, forward and
//! stub zones, `serve-expired`, `prefetch`, and every `[limits]` key but
//! those listed below. What waits for the next start: `listen`,
//! `udp-sockets`, `reply-cache-size`, `metrics`, `control-socket`,
//! `user`, the upstream settings (`lab`, `root-hints`, `upstream-port`,
//! `do-ip4`, `do-ip6`, `dnssec`, `trust-anchor`), `cache-size` and the
//! `[limits]` the caches are built with (`max-ttl-s`,
//! `max-negative-ttl-s`, `max-stale-age-s` and the infra cache's timers:
//! see [`crate::resolve::Resolver::with_limits`]), and the metrics and
//! control limits ([`super::limits::FIXED_AT_START`]). A reload that
//! changes any of those says so, and keeps their old values in force.

use std::sync::{Arc, Mutex, PoisonError};

use super::config::{self, ServeConfig, ServeOptions};
use super::error::ConfigError;
use super::limits::InForceCell;
use super::policy::PolicyCell;

/// What a reload reads (the same flags and file as at start) and what it
/// changes.
pub struct Reloader {
    options: ServeOptions,
    /// The configuration in force (what a reload could not change kept
    /// as it was).
    config: Mutex<ServeConfig>,
    policy: Arc<PolicyCell>,
    in_force: Arc<InForceCell>,
}

/// A reload that took effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reloaded {
    /// Settings that changed in the file but only apply at the next start
    /// (their old values stay in force until then).
    pub restart_needed: Vec<&'static str>,
}

impl Reloader {
    /// Reloads read `options` (the command line as at start) and change
    /// `policy` and `in_force` (the resolver and the daemon's limits, see
    /// [`super::Server::in_force`]); `config` is what the daemon started
    /// with.
    pub fn new(
        options: ServeOptions,
        config: ServeConfig,
        policy: Arc<PolicyCell>,
        in_force: Arc<InForceCell>,
    ) -> Self {
        Self {
            options,
            config: Mutex::new(config),
            policy,
            in_force,
        }
    }

    /// Re-reads the configuration and puts its reloadable part in force
    /// (see the module docs; the caches are kept). A file that does not
    /// read, parse or check changes nothing: the error says why. Logs the
    /// result either way, naming the changes that wait for the next start.
    pub fn reload(&self) -> Result<Reloaded, ConfigError> {
        let mut old = self.config.lock().unwrap_or_else(PoisonError::into_inner);
        let config = match config::settings(&self.options) {
            Ok(config) => config,
            Err(error) => {
                tracing::error!("reload failed, keeping the configuration in force: {error}");
                return Err(error);
            }
        };
        let held = super::reload(&config, &self.policy, &self.in_force);
        let mut restart_needed = restart_needed(&old, &config);
        restart_needed.extend(held);
        if !restart_needed.is_empty() {
            tracing::warn!(
                "reloaded; {} {} at the next start (the old values stay in force)",
                restart_needed.join(", "),
                if restart_needed.len() == 1 {
                    "takes effect"
                } else {
                    "take effect"
                }
            );
        }
        tracing::info!(
            local_zones = config.local.len(),
            routes = config.routes.len(),
            "configuration reloaded"
        );
        // What was not applied stays as it was, so the next reload compares
        // against what really is in force.
        *old = ServeConfig {
            listen: old.listen.clone(),
            listen_is_default: old.listen_is_default,
            upstream: old.upstream.clone(),
            udp_sockets: old.udp_sockets,
            reply_cache_size: old.reply_cache_size,
            metrics: old.metrics,
            control_socket: old.control_socket.clone(),
            user: old.user.clone(),
            ..config
        };
        Ok(Reloaded { restart_needed })
    }
}

/// The settings outside `[limits]` that differ between `old` and `new` but
/// only apply at start-up (the limits are [`super::reload`]'s to compare).
fn restart_needed(old: &ServeConfig, new: &ServeConfig) -> Vec<&'static str> {
    let (was, now) = (&old.upstream, &new.upstream);
    [
        ("listen", old.listen != new.listen),
        ("udp-sockets", old.udp_sockets != new.udp_sockets),
        (
            "reply-cache-size",
            old.reply_cache_size != new.reply_cache_size,
        ),
        ("metrics", old.metrics != new.metrics),
        ("control-socket", old.control_socket != new.control_socket),
        ("user", old.user != new.user),
        ("lab", was.lab != now.lab),
        ("root-hints", was.root_hints != now.root_hints),
        ("upstream-port", was.upstream_port != now.upstream_port),
        ("do-ip4/do-ip6", was.families != now.families),
        ("dnssec", was.no_dnssec != now.no_dnssec),
        ("trust-anchor", was.trust_anchor != now.trust_anchor),
    ]
    .into_iter()
    .filter_map(|(key, changed)| changed.then_some(key))
    .collect()
}
