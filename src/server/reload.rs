//! Reloading the configuration of a running daemon, for SIGHUP and the
//! control socket's `reload` alike: re-read the file, check it whole, put
//! its reloadable part in force ([`super::reload_policy`]), and say which
//! changes wait for the next start. One [`std::sync::Mutex`] around the
//! configuration in force, held for one synchronous reload, so two reloads
//! never interleave.

use std::sync::{Arc, Mutex, PoisonError};

use super::config::{self, ServeConfig, ServeOptions};
use super::error::ConfigError;
use super::policy::PolicyCell;
use crate::resolve::Resolver;

/// What a reload reads (the same flags and file as at start) and what it
/// changes.
pub struct Reloader {
    options: ServeOptions,
    in_force: Mutex<ServeConfig>,
    policy: Arc<PolicyCell>,
    resolver: Resolver,
}

/// A reload that took effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reloaded {
    /// Settings that changed in the file but only apply at the next start.
    pub restart_needed: Vec<&'static str>,
}

impl Reloader {
    /// Reloads read `options` (the command line as at start) and change
    /// `policy` and `resolver`; `in_force` is what the daemon started with.
    pub fn new(
        options: ServeOptions,
        in_force: ServeConfig,
        policy: Arc<PolicyCell>,
        resolver: Resolver,
    ) -> Self {
        Self {
            options,
            in_force: Mutex::new(in_force),
            policy,
            resolver,
        }
    }

    /// Re-reads the configuration and puts its reloadable part in force
    /// (ACL, local zones and data, forward and stub zones; the caches are
    /// kept). A file that does not read, parse or check changes nothing:
    /// the error says why. Logs the result either way.
    pub fn reload(&self) -> Result<Reloaded, ConfigError> {
        let mut in_force = self.in_force.lock().unwrap_or_else(PoisonError::into_inner);
        let config = match config::settings(&self.options) {
            Ok(config) => config,
            Err(error) => {
                tracing::error!("reload failed, keeping the configuration in force: {error}");
                return Err(error);
            }
        };
        super::reload(&config, &self.policy, &self.resolver);
        let restart_needed = restart_needed(&in_force, &config);
        if !restart_needed.is_empty() {
            tracing::warn!(
                "reloaded; {} change only at the next start",
                restart_needed.join(", ")
            );
        }
        tracing::info!(
            local_zones = config.local.len(),
            routes = config.routes.len(),
            "configuration reloaded"
        );
        *in_force = config;
        Ok(Reloaded { restart_needed })
    }
}

/// The settings that differ between `old` and `new` but only apply at
/// start-up.
fn restart_needed(old: &ServeConfig, new: &ServeConfig) -> Vec<&'static str> {
    let mut changed = Vec::new();
    if old.listen != new.listen {
        changed.push("listen");
    }
    if old.upstream != new.upstream {
        changed.push("upstream");
    }
    if old.cache_size != new.cache_size {
        changed.push("cache-size");
    }
    if old.limits != new.limits || old.serve_limits != new.serve_limits {
        changed.push("limits");
    }
    if old.udp_sockets != new.udp_sockets || old.reply_cache_size != new.reply_cache_size {
        changed.push("udp-sockets/reply-cache-size");
    }
    if old.metrics != new.metrics {
        changed.push("metrics");
    }
    if old.control_socket != new.control_socket {
        changed.push("control-socket");
    }
    if old.user != new.user {
        changed.push("user");
    }
    changed
}
