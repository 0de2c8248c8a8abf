//! The stub-facing daemon: answers recursive queries over UDP and TCP with
//! the [`Resolver`], for the clients its access list allows.
//!
//! # Layout
//!
//! - [`listen`]: binds each listen address: a group of UDP sockets
//!   sharing the port with `SO_REUSEPORT`, one per worker thread, and one
//!   TCP listener ([`Listeners`]).
//! - [`udp`], [`tcp`]: one loop per socket; TCP with a connection cap,
//!   framing, pipelining, per-message and idle deadlines.
//! - [`limits`]: the daemon's own limits ([`ServeLimits`]), and the cell
//!   holding them with the resolver, swapped on SIGHUP ([`InForceCell`]).
//! - [`handler`]: one message to one reply inside a `query` span: a
//!   synchronous part (checks, refusals, cached answers) and, for a cache
//!   miss, a resolution.
//! - [`packet`]: the pure part: header checks, reply building, EDNS size
//!   limit and truncation.
//! - [`reply_cache`]: encoded replies kept per UDP thread, copied with
//!   the ID, flags and TTLs patched.
//! - [`coalesce`]: identical questions in flight share one resolution;
//!   resolutions are bounded and stop when nobody waits for them.
//! - [`local`]: local zones and data, answered before the cache;
//!   [`policy`]: the ACL and local zones in force, swapped on SIGHUP
//!   ([`swap`]: the cell both are swapped in, and the receive threads'
//!   snapshots of it);
//!   [`ede`]: the Extended DNS Error a SERVFAIL carries.
//! - [`acl`]: who may ask; [`config`]: the TOML file and flags;
//!   [`counters`]: what happened, printed at exit; [`metrics`]: the
//!   counters over HTTP for Prometheus.
//! - [`proxy`]: PROXY v2 headers from configured proxies (dnsdist).
//! - [`privileges`]: becoming `user` once the sockets are bound.
//! - [`control`]: the control socket (`stats`, `reload`, `flush`,
//!   `dump-cache`); [`reload`](mod@reload): re-reading the configuration, for SIGHUP
//!   and `reload` alike.
//!
//! [`run`] takes its sockets and a shutdown future from the caller, in the
//! manner of mini-redis's `server::run`, so tests bind port 0 and stop the
//! daemon when they like. On shutdown the listeners stop reading, the
//! queries already read are answered, and after [`DRAIN_TIMEOUT`] whatever
//! is left is abandoned.
//!
//! # Cached answers
//!
//! Each UDP socket has a thread and a single-threaded runtime of its own,
//! and the kernel spreads datagrams over the sockets of an address
//! (`SO_REUSEPORT`), so every thread reads its own and no wake-up crosses
//! cores. A query whose answer the caches hold whole
//! ([`Resolver::answer_from_cache`]: the CNAME chain, the final RRset or
//! negative answer) is answered right there on the loop: no task, no
//! channel, only the caches' per-shard locks, each held for one lookup,
//! and counters that each thread keeps on cache lines of its own. The
//! encoded reply is then kept in the thread's [`reply_cache`], so the next
//! identical question costs a copy and a few patched bytes, for as long as
//! no TTL has run out and the resolver has written nothing under the names
//! it came from. Only a miss becomes a task, which joins or starts a
//! coalesced resolution; a resolution started from UDP runs on that
//! receive thread too, so a miss wakes one thread, not two, and the loop
//! is polled every [`udp::UDP_EVENT_INTERVAL`] task polls, so a CPU-heavy
//! burst of resolutions cannot stall cached answers for long. TCP
//! connections and their resolutions run on the runtime that called
//! [`Server::run`] (the binary's multi-thread runtime).
//!
//! # Hostile clients
//!
//! Every resource a client can hold is bounded by a [`ServeLimits`] value:
//! TCP slots (shed oldest-idle-first when full, capped per client
//! address, each message due whole within a deadline), resolutions in
//! flight (capped in total and per client address, and aborted when the
//! last client waiting for one goes away), and the metrics endpoint's
//! slots and deadlines. Every reply is decoded again before it is sent
//! ([`packet::encode`]).

pub mod acl;
pub mod coalesce;
pub mod config;
pub mod control;
pub mod counters;
pub mod ede;
pub mod error;
pub mod handler;
pub mod limits;
pub mod listen;
pub mod local;
pub mod metrics;
pub mod packet;
pub mod policy;
pub mod privileges;
pub mod proxy;
pub mod reload;
pub mod reply_cache;
pub mod swap;
pub mod tcp;
pub mod udp;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{info, warn};

pub use self::acl::Acl;
pub use self::config::{ServeConfig, ServeOptions};
pub use self::counters::{CounterSnapshot, Counters};
pub use self::error::{ConfigError, ServeError};
use self::handler::Handler;
pub use self::limits::{InForce, InForceCell, ServeLimits};
pub use self::listen::Listeners;
pub use self::local::LocalZones;
pub use self::policy::{Policy, PolicyCell};
pub use self::reload::Reloader;
use crate::config::{CacheBudgets, Limits};
use crate::resolve::{Resolver, ResolverConfig};

/// How long shutdown waits for queries already read to be answered before
/// abandoning them. Stubs retry after a second or two, so waiting longer
/// would only delay a restart.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(3);

/// The daemon before it runs: what its handler will be made of.
pub struct Server {
    in_force: Arc<InForceCell>,
    policy: Arc<PolicyCell>,
    counters: Arc<Counters>,
    reply_cache: usize,
    reloader: Option<Arc<Reloader>>,
}

impl Server {
    /// A server answering with `resolver` and the built-in local zones the
    /// clients `acl` allows, within the default [`ServeLimits`].
    pub fn new(resolver: Resolver, acl: Acl) -> Self {
        let in_force = InForce {
            resolver,
            limits: ServeLimits::default(),
        };
        Self {
            in_force: Arc::new(InForceCell::new(in_force)),
            policy: Arc::new(PolicyCell::new(Policy::new(acl))),
            counters: Arc::new(Counters::default()),
            reply_cache: reply_cache::REPLY_CACHE_ENTRIES,
            reloader: None,
        }
    }

    /// Reloads through `reloader` on the control socket's `reload` (the
    /// caller's SIGHUP handler should use the same one).
    pub fn with_reloader(mut self, reloader: Arc<Reloader>) -> Self {
        self.reloader = Some(reloader);
        self
    }

    /// Serves within `limits` instead of the defaults.
    pub fn with_limits(self, limits: ServeLimits) -> Self {
        let resolver = self.in_force.current().resolver.clone();
        self.in_force.replace(InForce { resolver, limits });
        self
    }

    /// Keeps up to `entries` encoded replies per UDP thread (default
    /// [`reply_cache::REPLY_CACHE_ENTRIES`]), within the thread's slice of
    /// the reply share of the resolver's `cache_bytes`
    /// ([`crate::config::REPLY_SHARE_PERCENT`] split among the UDP
    /// threads); 0 keeps none, and every cached answer is then built from
    /// the resolver's caches.
    pub fn with_reply_cache(mut self, entries: usize) -> Self {
        self.reply_cache = entries;
        self
    }

    /// Answers from `local` zones and data instead of the built-in zones.
    pub fn with_local(self, local: LocalZones) -> Self {
        let mut policy = (*self.policy.current()).clone();
        policy.local = local;
        self.policy.replace(policy);
        self
    }

    /// Reads PROXY v2 headers from `proxies` (see [`proxy`]).
    pub fn with_proxies(self, proxies: Acl) -> Self {
        let mut policy = (*self.policy.current()).clone();
        policy.proxies = proxies;
        self.policy.replace(policy);
        self
    }

    /// The policy in force (ACL, local zones), replaceable while the
    /// server runs (SIGHUP).
    pub fn policy(&self) -> Arc<PolicyCell> {
        Arc::clone(&self.policy)
    }

    /// The resolver and the daemon's limits in force, replaceable while
    /// the server runs (SIGHUP; see [`reload()`]).
    pub fn in_force(&self) -> Arc<InForceCell> {
        Arc::clone(&self.in_force)
    }

    /// The resolver answering now.
    pub fn resolver(&self) -> Resolver {
        self.in_force.current().resolver.clone()
    }

    /// The live counters, readable while the server runs (SIGUSR1).
    pub fn counters(&self) -> Arc<Counters> {
        Arc::clone(&self.counters)
    }

    /// Serves `listeners` until `shutdown` completes, then drains (at most
    /// [`DRAIN_TIMEOUT`]) and returns the final counters. TCP queries and
    /// their resolutions run on the runtime `run` is called on (in the
    /// binary, the multi-thread one); UDP queries and theirs on the receive
    /// thread of their socket.
    pub async fn run(
        self,
        listeners: Listeners,
        shutdown: impl Future,
    ) -> Result<CounterSnapshot, ServeError> {
        let Listeners {
            udp,
            tcp,
            metrics,
            control,
        } = listeners;
        if udp.is_empty() && tcp.is_empty() {
            return Err(ServeError::NoListeners);
        }
        // The control socket's commands act on the caches, which every
        // resolver a reload puts in force shares.
        let control_state = control.as_ref().map(|_| {
            Arc::new(control::ControlState::new(
                Arc::clone(&self.counters),
                self.resolver(),
                self.reloader.clone(),
            ))
        });
        let handler = Arc::new(Handler::sharing(self.in_force, self.policy, self.counters));
        let (stop, stop_rx) = watch::channel(false);
        let mut loops = JoinSet::new();
        // Each UDP thread keeps its own copies, in an equal slice of the
        // reply share of `cache-size`.
        let per_thread = reply_cache::ReplyLimits {
            entries: self.reply_cache,
            bytes: CacheBudgets::split(handler.resolver().limits().cache_bytes).replies
                / udp.len().max(1),
        };
        for socket in udp {
            let handler = Arc::clone(&handler);
            let finished = udp::start(socket, handler, per_thread, stop_rx.clone())?;
            loops.spawn(async move {
                // An error only means the thread ended without saying so.
                let _ = finished.await;
            });
        }
        for listener in tcp {
            loops.spawn(tcp::serve(listener, Arc::clone(&handler), stop_rx.clone()));
        }
        if let Some(listener) = metrics {
            loops.spawn(metrics::serve(
                listener,
                Arc::clone(handler.counters()),
                handler.resolver(),
                handler.limits(),
                stop_rx.clone(),
            ));
        }
        if let (Some(listener), Some(state)) = (control, control_state) {
            loops.spawn(control::serve(
                listener,
                state,
                handler.limits(),
                stop_rx.clone(),
            ));
        }
        shutdown.await;
        info!("shutting down: no new queries, answering those in work");
        // The loops hold receivers, so sending cannot fail.
        let _ = stop.send(true);
        let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
            while loops.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            warn!("queries still in work after {DRAIN_TIMEOUT:?}; abandoning them");
            loops.abort_all();
        }
        Ok(handler.counters().snapshot())
    }
}

/// Completes once `shutdown` says stop (or its sender is gone). The guard
/// `wait_for` returns is dropped here, so it is never held across an
/// `.await` (it would block the sender).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Builds the daemon `config` describes, on a resolver built from
/// `resolver` with the config's limits and cache size, and binds its
/// listeners (and the metrics endpoint, if any). Nothing is served until
/// [`Server::run`].
pub async fn prepare(
    config: &ServeConfig,
    mut resolver: ResolverConfig,
) -> Result<(Server, Listeners), ServeError> {
    resolver.limits = resolver_limits(config);
    resolver.routes = config.routes.clone();
    let udp_sockets = config
        .udp_sockets
        .unwrap_or_else(listen::default_udp_sockets);
    let mut listeners = listen::bind(&config.listen, config.listen_is_default, udp_sockets).await?;
    if let Some(addr) = config.metrics {
        listeners.metrics = Some(listen::bind_metrics(addr).await?);
    }
    if let Some(path) = &config.control_socket {
        listeners.control = Some(control::bind(path)?);
    }
    let mut daemon = Server::new(Resolver::new(resolver), config.acl.clone())
        .with_local(config.local.clone())
        .with_proxies(config.proxy_from.clone())
        .with_limits(config.serve_limits.clone());
    if let Some(entries) = config.reply_cache_size {
        daemon = daemon.with_reply_cache(entries);
    }
    Ok((daemon, listeners))
}

/// Logs, at info, the one start-up line an operator reads to know what
/// runs: listen addresses, ACL, where walks start (the root hints file,
/// IANA's built-in hints, or the lab), cache size, and the control socket,
/// user and PROXY sources when set.
pub fn log_start(config: &ServeConfig, listeners: &Listeners, resolver: &Resolver) {
    let listen = listeners
        .local_addrs()
        .iter()
        .map(|(transport, addr)| format!("{addr} ({transport})"))
        .collect::<Vec<_>>()
        .join(", ");
    let hints = if config.upstream.lab {
        "lab (in-process)".to_string()
    } else {
        match &config.upstream.root_hints {
            Some(path) => path.display().to_string(),
            None => "built-in (IANA)".to_string(),
        }
    };
    let control = config
        .control_socket
        .as_ref()
        .map_or_else(|| "none".to_string(), |p| p.display().to_string());
    info!(
        listen,
        acl = %config.acl,
        root_hints = hints,
        cache_bytes = resolver.limits().cache_bytes,
        control,
        user = config.user.as_deref().unwrap_or("unchanged"),
        proxy_protocol_from = %config.proxy_from,
        "rootwalk serve starting"
    );
}

/// Becomes `user` (see [`privileges`]) once `listeners` are bound, giving
/// it the control socket first. Any failure is an error: a daemon asked
/// to drop root never runs as root.
pub fn drop_privileges(
    user: &str,
    listeners: &Listeners,
) -> Result<privileges::Account, ServeError> {
    let account = privileges::lookup(user)?;
    let control: Vec<&std::path::Path> = listeners.control.iter().map(|c| c.path()).collect();
    if !control.is_empty() {
        privileges::chown(&control, &account)?;
    }
    privileges::drop_to(&account)?;
    info!(
        user,
        uid = account.uid,
        gid = account.gid,
        "dropped privileges"
    );
    Ok(account)
}

/// The resolver's limits `config` asks for: its `[limits]`, with
/// `cache-size` when set.
fn resolver_limits(config: &ServeConfig) -> Limits {
    Limits {
        cache_bytes: config.cache_size.unwrap_or(config.limits.cache_bytes),
        ..config.limits.clone()
    }
}

/// Puts the reloadable part of `config` in force on a running daemon,
/// keeping every cache: its ACL and local zones (`policy`, see
/// [`Server::policy`]), its forward and stub zones, the resolver's
/// `[limits]` (a resolver over the same caches, see
/// [`Resolver::with_limits`]) and the daemon's (`in_force`, see
/// [`Server::in_force`]). Resolutions, connections and queries under way
/// finish under what they started with. Returns the keys of the limits
/// that cannot change while the daemon runs and that `config` changed
/// (`cache-size`, the cache-bound `[limits]`, the metrics and control
/// limits): those keep their old values until the next start. Listen
/// addresses, upstream, trust anchors, sockets and user are the caller's
/// to compare (see [`reload::Reloader`]).
pub fn reload(
    config: &ServeConfig,
    policy: &PolicyCell,
    in_force: &InForceCell,
) -> Vec<&'static str> {
    let old = in_force.current();
    let (resolver, mut held) = old.resolver.with_limits(resolver_limits(config));
    let (limits, fixed) = old.limits.reloaded(&config.serve_limits);
    held.extend(fixed);
    resolver.set_routes(config.routes.clone());
    in_force.replace(InForce { resolver, limits });
    policy.replace(Policy {
        acl: config.acl.clone(),
        local: config.local.clone(),
        proxies: config.proxy_from.clone(),
    });
    held
}

/// Serves `listeners` with `resolver` for the clients `acl` allows until
/// `shutdown` completes; returns the final counters.
pub async fn run(
    listeners: Listeners,
    resolver: Resolver,
    acl: Acl,
    shutdown: impl Future,
) -> Result<CounterSnapshot, ServeError> {
    Server::new(resolver, acl).run(listeners, shutdown).await
}
