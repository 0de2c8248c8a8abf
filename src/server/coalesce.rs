//! Identical questions in flight share one resolution, resolutions are
//! bounded, and a resolution nobody waits for any more is stopped.
//!
//! The first client to ask a question (name lowercased, type, class) starts
//! a resolution in a task of its own, on the runtime it asked from: a UDP
//! query's on its receive thread (see [`super::udp`] for how cached
//! answers stay prompt beside it), a TCP query's on the shared runtime;
//! clients asking the same while it runs join its list of waiters and all
//! get the one result. Each waiter holds a `Waiter` guard: when the last
//! one goes away unanswered (its TCP connection closed, its task dropped),
//! the resolution is aborted, so work never outlives every client that
//! wanted it.
//!
//! Starting a resolution takes one of [`MAX_RESOLUTIONS`] places shared by
//! UDP and TCP, and the asking client address may hold at most
//! [`MAX_RESOLUTIONS_PER_CLIENT`] of them (joining one in flight costs
//! nothing), so one client cannot take the whole resolver. Past either, the
//! query is turned away ([`Busy`]).
//!
//! Two kinds of resolution run to their end even when nobody waits any
//! more: one that refreshes data a client was already answered from stale
//! (RFC 8767: "the resolution continues"), and a prefetch
//! ([`InFlight::prefetch`]), a background refresh of a cached answer near
//! its expiry, started by a cache hit with no client waiting at all. A
//! prefetch takes one of the same places and one of [`MAX_PREFETCHES`];
//! a client asking the question meanwhile joins it like any resolution.
//!
//! One std `Mutex` guards the map of pending questions and the counts; it
//! is taken only to look up, insert or remove, never across an `.await`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use foldhash::fast::RandomState;
use hickory_proto::rr::{DNSClass, Name, RecordType};
use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tokio::task::AbortHandle;
use tracing::Instrument;

use super::counters::Counters;
use super::limits::ServeLimits;
use crate::resolve::{CacheMiss, Checking, Failure, Outcome, Resolver};
use crate::trace::Observer;

/// Resolutions in flight at once, UDP and TCP together. Each holds
/// upstream sockets, timers and memory for minutes' worth of retries at
/// worst; Unbound's `num-queries-per-thread` (1024) plays the same role.
pub const MAX_RESOLUTIONS: usize = 1024;

/// Resolutions one client address may have started and still in flight:
/// an eighth of [`MAX_RESOLUTIONS`], so at least eight clients always find
/// room, while a busy stub's cold burst still fits.
pub const MAX_RESOLUTIONS_PER_CLIENT: usize = MAX_RESOLUTIONS / 8;

/// Prefetches in flight at once: a sixteenth of [`MAX_RESOLUTIONS`]. A
/// prefetch is a bet that a name will be asked again, so it must never
/// crowd out resolutions clients wait for; when the cap is reached a hit
/// simply does not prefetch, and the next hit on the name tries again.
pub const MAX_PREFETCHES: usize = MAX_RESOLUTIONS / 16;

/// A finished resolution, shared by every client that asked.
pub type Resolved = Arc<Result<Outcome, Failure>>;

/// The identity of a question: lowercased name, type, class.
type Key = (Name, RecordType, DNSClass);

/// A client's question the caches could not answer, and what their look
/// found (the resolution may skip a second look, see
/// [`Resolver::resolve_after_miss`]).
#[derive(Debug, Clone, Copy)]
pub struct Missed<'a> {
    /// The question's name, as the client wrote it.
    pub name: &'a Name,
    /// The question's type.
    pub qtype: RecordType,
    /// What the caches' look found for it.
    pub miss: CacheMiss,
}

/// What a started resolution does.
#[derive(Debug, Clone, Copy)]
enum Work {
    /// Answers a client's question the caches missed as `CacheMiss` says.
    Resolve(CacheMiss),
    /// Refreshes a cached answer (see [`InFlight::prefetch`]).
    Prefetch,
}

/// One question in flight.
struct Entry {
    /// Tells this resolution from a later one of the same question.
    id: u64,
    /// The client address charged for it; none for a prefetch.
    owner: Option<IpAddr>,
    /// Runs to its end even when no client waits (see the module docs).
    background: bool,
    /// A prefetch, counted against [`MAX_PREFETCHES`].
    prefetch: bool,
    senders: Vec<oneshot::Sender<Resolved>>,
    /// Waiters still waiting.
    waiting: usize,
    /// Set just after the task is spawned.
    task: Option<AbortHandle>,
}

/// The questions in flight and what each client holds.
#[derive(Default)]
struct State {
    /// Hashed with foldhash, seeded at random (as the caches' maps are):
    /// the names are the clients' choice.
    pending: HashMap<Key, Entry, RandomState>,
    per_client: HashMap<IpAddr, usize, RandomState>,
    /// Prefetches in flight.
    prefetching: usize,
    next_id: u64,
}

impl State {
    /// Forgets `key` if it is still resolution `id`, releasing its places.
    fn remove(&mut self, key: &Key, id: u64, counters: &Counters) -> Option<Entry> {
        if self.pending.get(key).is_none_or(|e| e.id != id) {
            return None;
        }
        let entry = self.pending.remove(key)?;
        if let Some(owner) = entry.owner
            && let Some(held) = self.per_client.get_mut(&owner)
        {
            *held = held.saturating_sub(1);
            if *held == 0 {
                self.per_client.remove(&owner);
            }
        }
        if entry.prefetch {
            self.prefetching = self.prefetching.saturating_sub(1);
        }
        counters.resolution_ended();
        Some(entry)
    }
}

/// The questions in flight. Cheap to clone. Its caps come with each
/// question (from the [`ServeLimits`] in force), so a reload changes them
/// for the next one.
#[derive(Clone)]
pub struct InFlight {
    state: Arc<Mutex<State>>,
    counters: Arc<Counters>,
}

/// How a client got its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// It started the resolution.
    Leader,
    /// It joined one already running.
    Follower,
}

/// No room for another resolution: [`MAX_RESOLUTIONS`] in flight, or the
/// client's share of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// A client waiting for a resolution; dropping it unanswered withdraws the
/// client, and the last one to go stops the resolution.
struct Waiter<'a> {
    in_flight: &'a InFlight,
    key: Key,
    id: u64,
    answered: bool,
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        if self.answered {
            return;
        }
        let mut state = lock(&self.in_flight.state);
        let Some(entry) = state.pending.get_mut(&self.key) else {
            return;
        };
        if entry.id != self.id {
            return;
        }
        entry.waiting = entry.waiting.saturating_sub(1);
        if entry.waiting > 0 || entry.background {
            return;
        }
        if let Some(entry) = state.remove(&self.key, self.id, &self.in_flight.counters)
            && let Some(task) = entry.task
        {
            task.abort();
        }
    }
}

impl InFlight {
    /// Resolutions counted in `counters`.
    pub fn new(counters: Arc<Counters>) -> Self {
        Self {
            state: Arc::default(),
            counters,
        }
    }

    /// Resolves `question` (class IN) with `resolver` for `client`,
    /// joining an identical resolution in flight if there is one, or
    /// starting one if `limits` leave room (`resolutions` in all,
    /// `resolutions_per_client` for `client`). With `refresh`, the
    /// resolution runs to its end even if every client stops waiting (the
    /// caller may answer stale and go). Inner `None` only if the
    /// resolution task died without an answer (a panic).
    pub async fn resolve(
        &self,
        resolver: &Resolver,
        limits: &ServeLimits,
        question: Missed<'_>,
        client: IpAddr,
        refresh: bool,
    ) -> Result<(Option<Resolved>, Role), Busy> {
        let Missed { name, qtype, miss } = question;
        let key = (name.to_lowercase(), qtype, DNSClass::IN);
        let (sender, receiver) = oneshot::channel();
        let (id, role) = self.join(&key, sender, limits, client, refresh)?;
        let mut waiter = Waiter {
            in_flight: self,
            key,
            id,
            answered: false,
        };
        if role == Role::Leader {
            self.start(resolver.clone(), &waiter.key, id, Work::Resolve(miss));
        }
        let resolved = receiver.await.ok();
        waiter.answered = true;
        Ok((resolved, role))
    }

    /// Registers `sender` as a waiter of `key`: joins the resolution in
    /// flight, or takes a place for a new one if `client` may have it.
    fn join(
        &self,
        key: &Key,
        sender: oneshot::Sender<Resolved>,
        limits: &ServeLimits,
        client: IpAddr,
        refresh: bool,
    ) -> Result<(u64, Role), Busy> {
        let mut state = lock(&self.state);
        if let Some(entry) = state.pending.get_mut(key) {
            entry.senders.push(sender);
            entry.waiting += 1;
            entry.background |= refresh;
            return Ok((entry.id, Role::Follower));
        }
        let held = state.per_client.get(&client).copied().unwrap_or(0);
        if state.pending.len() >= limits.resolutions.max(1)
            || held >= limits.resolutions_per_client.max(1)
        {
            return Err(Busy);
        }
        state.next_id += 1;
        let id = state.next_id;
        *state.per_client.entry(client).or_default() += 1;
        state.pending.insert(
            key.clone(),
            Entry {
                id,
                owner: Some(client),
                background: refresh,
                prefetch: false,
                senders: vec![sender],
                waiting: 1,
                task: None,
            },
        );
        self.counters.resolution_started();
        Ok((id, Role::Leader))
    }

    /// Starts a prefetch of `name`/`qtype` with `resolver` (see
    /// [`Resolver::prefetch`]), nobody waiting for it; returns whether one
    /// started. Not when the question is already in flight (that
    /// resolution refreshes it), nor past the prefetches' cap
    /// ([`MAX_PREFETCHES`] by default) or the resolutions' cap of
    /// `limits`: a prefetch is never worth turning a client away.
    pub fn prefetch(
        &self,
        resolver: &Resolver,
        limits: &ServeLimits,
        name: &Name,
        qtype: RecordType,
    ) -> bool {
        // Outside a runtime (a caller answering from the cache alone)
        // there is nowhere to run it.
        if Handle::try_current().is_err() {
            return false;
        }
        let key = (name.to_lowercase(), qtype, DNSClass::IN);
        let id = {
            let mut state = lock(&self.state);
            if state.pending.contains_key(&key)
                || state.pending.len() >= limits.resolutions.max(1)
                || state.prefetching >= limits.prefetches
            {
                return false;
            }
            state.next_id += 1;
            state.prefetching += 1;
            let id = state.next_id;
            state.pending.insert(
                key.clone(),
                Entry {
                    id,
                    owner: None,
                    background: true,
                    prefetch: true,
                    senders: Vec::new(),
                    waiting: 0,
                    task: None,
                },
            );
            id
        };
        self.counters.prefetch_started();
        self.start(resolver.clone(), &key, id, Work::Prefetch);
        true
    }

    /// Spawns resolution `id` of `key` to do `work`; on completion it
    /// hands the result to every waiter registered by then and forgets the
    /// question.
    fn start(&self, resolver: Resolver, key: &Key, id: u64, work: Work) {
        let state = Arc::clone(&self.state);
        let counters = Arc::clone(&self.counters);
        let owned = key.clone();
        let work = async move {
            // Forgets the question even if the resolution panics, so its
            // waiters get `None` instead of waiting for ever.
            let _finish = Finish {
                state: Arc::clone(&state),
                counters: Arc::clone(&counters),
                key: owned.clone(),
                id,
            };
            let observer = UpstreamCounter(Arc::clone(&counters));
            // Bogus data comes back with its verdict, and each waiter's
            // reply decides by its own CD bit (RFC 4035 §3.2.2): one
            // resolution serves both kinds of client, a prefetch that
            // clients joined included.
            let checking = Checking::Disabled;
            let result = match work {
                Work::Prefetch => {
                    resolver
                        .prefetch(&owned.0, owned.1, &observer, checking)
                        .await
                }
                Work::Resolve(miss) => {
                    resolver
                        .resolve_after_miss(&owned.0, owned.1, &observer, checking, miss)
                        .await
                }
            };
            let result: Resolved = Arc::new(result);
            let entry = lock(&state).remove(&owned, id, &counters);
            for waiter in entry.map(|e| e.senders).unwrap_or_default() {
                // A waiter that went away needs nothing.
                let _ = waiter.send(Arc::clone(&result));
            }
        };
        // On the runtime of the task that asked: a UDP query's resolution
        // runs on its receive thread, as Unbound's do (see `super::udp`).
        // Outside any runtime the question is forgotten at once, and its
        // waiter gets no answer rather than waiting for ever.
        let Ok(runtime) = Handle::try_current() else {
            lock(&self.state).remove(key, id, &self.counters);
            return;
        };
        let task = runtime.spawn(work.in_current_span());
        let mut state = lock(&self.state);
        match state.pending.get_mut(key) {
            Some(entry) if entry.id == id => entry.task = Some(task.abort_handle()),
            // Already finished (or withdrawn): nothing to remember.
            _ => {}
        }
    }

    /// Questions currently in flight.
    pub fn len(&self) -> usize {
        lock(&self.state).pending.len()
    }

    /// Whether nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Forgets resolution `id` of `key` when its task ends, however it ends
/// (a no-op when it already handed out its result or was withdrawn).
struct Finish {
    state: Arc<Mutex<State>>,
    counters: Arc<Counters>,
    key: Key,
    id: u64,
}

impl Drop for Finish {
    fn drop(&mut self) {
        lock(&self.state).remove(&self.key, self.id, &self.counters);
    }
}

/// The state, even if a task panicked while holding it: every update leaves
/// it consistent (a lone insert or remove with its counts).
fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The daemon's observer: no events, but every upstream query counted as
/// it is sent, so the metrics show upstream work while it happens, and
/// the work of a resolution aborted because its clients left.
struct UpstreamCounter(Arc<Counters>);

impl Observer for UpstreamCounter {
    fn enabled(&self) -> bool {
        false
    }

    fn upstream_query_sent(&self) {
        self.0.upstream_queries(1);
    }
}
