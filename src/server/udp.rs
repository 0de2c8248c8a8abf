//! The UDP listener: one thread per socket, each with a single-threaded
//! runtime of its own, in the manner of Unbound's threads (each reads its
//! own `SO_REUSEPORT` socket; no wake-up ever crosses to another core).
//!
//! The loop drains the socket with non-blocking reads, up to
//! [`UDP_BATCH`] datagrams before it lets other tasks run. A repeated
//! question is answered with a copy from the thread's own
//! [`ReplyCache`]; another the resolver's caches can answer is answered
//! right there too, and its reply kept; neither needs a task or a wait;
//! only one that needs a resolution becomes a task on the thread's runtime,
//! under a cap on datagrams in work, and that task only waits: the
//! resolution runs on the daemon's shared runtime (see
//! [`super::coalesce`]), so no resolution work ever runs on this thread. On shutdown the loop stops reading and
//! drains its tasks for at most [`DRAIN_TIMEOUT`].

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hickory_proto::op::ResponseCode;

use tokio::net::UdpSocket;
use tokio::sync::{Semaphore, oneshot, watch};
use tokio::task::JoinSet;
use tracing::{debug, warn};

use super::DRAIN_TIMEOUT;
use super::error::ServeError;
use super::handler::{Handler, Immediate, Transport};
use super::packet::{HEADER_LEN, UDP_PAYLOAD_MAX};
use super::reply_cache::{Key, ReplyCache, ReplyLimits, read_query};
use crate::cache::Stamp;

/// Datagrams one socket works on at once. Beyond it new datagrams are
/// dropped (and counted): a stub retries, and a flood cannot make the
/// daemon hold unbounded tasks and memory. Unbound's `num-queries-per-thread`
/// plays the same role.
pub const MAX_UDP_IN_FLIGHT: usize = 1024;

/// Datagrams read and answered in a row before the loop yields to the
/// tasks on its thread (those sending resolved answers), so a flood of
/// cached questions cannot starve them. Unbound reads up to 100 per event (`NUM_UDP_PER_SELECT`).
pub const UDP_BATCH: usize = 64;

/// Largest datagram read; anything bigger is cut by the kernel and then
/// fails to parse.
const RECEIVE_BUFFER: usize = 65_535;

/// Pause after a receive error, so a persistent one cannot spin the loop.
const RECEIVE_ERROR_PAUSE: Duration = Duration::from_millis(10);

/// Starts the thread serving `socket` (non-blocking, not yet registered
/// with any runtime) until `shutdown` turns true. The receiver completes
/// when the thread is done, its queries in work answered or abandoned.
/// `reply_cache` bounds the encoded replies the thread keeps.
pub fn start(
    socket: std::net::UdpSocket,
    handler: Arc<Handler>,
    reply_cache: ReplyLimits,
    shutdown: watch::Receiver<bool>,
) -> Result<oneshot::Receiver<()>, ServeError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    let (done, finished) = oneshot::channel();
    std::thread::Builder::new()
        .name("rootwalk-udp".into())
        .spawn(move || {
            runtime.block_on(async move {
                match UdpSocket::from_std(socket) {
                    Ok(socket) => serve(socket, handler, reply_cache, shutdown).await,
                    Err(error) => warn!("cannot register a UDP socket: {error}"),
                }
            });
            // The receiver may be gone if the server stopped waiting.
            let _ = done.send(());
        })
        .map_err(ServeError::Runtime)?;
    Ok(finished)
}

/// Serves `socket`, keeping encoded replies within `reply_cache`, until
/// `shutdown` turns true, then waits for the datagrams in work, at most
/// [`DRAIN_TIMEOUT`].
pub async fn serve(
    socket: UdpSocket,
    handler: Arc<Handler>,
    reply_cache: ReplyLimits,
    mut shutdown: watch::Receiver<bool>,
) {
    let socket = Arc::new(socket);
    let permits = Arc::new(Semaphore::new(MAX_UDP_IN_FLIGHT));
    let mut tasks = JoinSet::new();
    let mut buffer = vec![0u8; RECEIVE_BUFFER];
    let mut copies = Copies::new(reply_cache);
    'serving: loop {
        let mut batch = 0;
        while batch < UDP_BATCH {
            let (len, peer) = match socket.try_recv_from(&mut buffer) {
                Ok(received) => received,
                Err(error) if error.kind() == ErrorKind::WouldBlock => break,
                Err(error) => {
                    debug!("UDP receive error: {error}");
                    tokio::time::sleep(RECEIVE_ERROR_PAUSE).await;
                    break;
                }
            };
            batch += 1;
            // Replies go to `peer`; `client` is who asked (the client a
            // proxy's PROXY v2 header names).
            let Some((bytes, client)) = handler.unwrap_proxy(&buffer[..len], peer) else {
                continue;
            };
            let received = Instant::now();
            let keyed = match copies.answer(&handler, bytes, client, received) {
                Copied::Reply => {
                    send(&socket, &copies.out, peer).await;
                    continue;
                }
                Copied::Keyed => true,
                Copied::Unkeyed => false,
            };
            let pending = match handler.answer_now(bytes, client, Transport::Udp) {
                Immediate::Done(Some(reply)) => {
                    send(&socket, &reply, peer).await;
                    continue;
                }
                Immediate::Cached(reply, stamps, until) => {
                    send(&socket, &reply, peer).await;
                    if keyed {
                        copies.keep(&reply, stamps, received, until);
                    }
                    continue;
                }
                Immediate::Done(None) => continue,
                Immediate::Resolve(pending) => pending,
            };
            let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
                handler.counters().dropped();
                debug!(%client, "dropped: {MAX_UDP_IN_FLIGHT} datagrams in work");
                continue;
            };
            let handler = Arc::clone(&handler);
            let socket = Arc::clone(&socket);
            tasks.spawn(async move {
                if let Some(reply) = handler.resolve(pending).await {
                    send(&socket, &reply, peer).await;
                }
                drop(permit);
            });
        }
        reap(&mut tasks);
        if batch == UDP_BATCH {
            // More may be waiting: let the answer tasks run, then go on.
            tokio::task::yield_now().await;
            if *shutdown.borrow() {
                break 'serving;
            }
            continue;
        }
        tokio::select! {
            biased;
            _ = super::stopped(&mut shutdown) => break 'serving,
            readable = socket.readable() => {
                if let Err(error) = readable {
                    debug!("UDP socket not readable: {error}");
                    tokio::time::sleep(RECEIVE_ERROR_PAUSE).await;
                }
            }
        }
    }
    let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while let Some(joined) = tasks.join_next().await {
            report(joined);
        }
    });
    if drained.await.is_err() {
        warn!("UDP queries still in work after {DRAIN_TIMEOUT:?}; abandoning them");
    }
}

/// A thread's reply cache and the buffers it works in.
struct Copies {
    /// `None` when the operator set the size (or the bytes) to 0.
    cache: Option<ReplyCache>,
    key: Key,
    out: Vec<u8>,
    /// The limits it was made with, to start afresh.
    limits: ReplyLimits,
    /// The policy generation the copies were made under: a reload (new
    /// local zones or routes) throws them all away.
    generation: u64,
}

/// What the reply cache did with a datagram.
enum Copied {
    /// `Copies::out` holds the reply.
    Reply,
    /// A plain query from an allowed client, not kept (yet): `Copies::key`
    /// is its key.
    Keyed,
    /// Not a query the cache deals with.
    Unkeyed,
}

impl Copies {
    fn new(limits: ReplyLimits) -> Self {
        Self {
            cache: (limits.entries > 0 && limits.bytes > 0).then(|| ReplyCache::new(limits)),
            key: Key::new(),
            out: Vec::with_capacity(UDP_PAYLOAD_MAX.into()),
            limits,
            generation: 0,
        }
    }

    /// Answers `bytes` from `client` with a kept copy if there is one, and
    /// counts it.
    fn answer(
        &mut self,
        handler: &Handler,
        bytes: &[u8],
        client: SocketAddr,
        now: Instant,
    ) -> Copied {
        let generation = handler.policy_generation();
        if generation != self.generation {
            *self = Copies::new(self.limits);
            self.generation = generation;
        }
        let Some(cache) = self.cache.as_mut() else {
            return Copied::Unkeyed;
        };
        let Some(query) = read_query(bytes, &mut self.key) else {
            return Copied::Unkeyed;
        };
        if dnssec_ok(bytes, query.name.len()) {
            // The key does not hold the DO bit, which the reply must echo
            // (RFC 3225 §3): such queries take the full path.
            return Copied::Unkeyed;
        }
        if !handler.allows(client) {
            return Copied::Unkeyed;
        }
        let in_force = handler.in_force();
        match cache.answer(&self.key, &query, &in_force.resolver, now, &mut self.out) {
            Some(rcode) => {
                handler.count_copy(ResponseCode::from_low(rcode), now, client);
                Copied::Reply
            }
            None => Copied::Keyed,
        }
    }

    /// Keeps `reply` for the question last keyed, to be used no later
    /// than `until` if given.
    fn keep(&mut self, reply: &[u8], stamps: Vec<Stamp>, now: Instant, until: Option<Instant>) {
        if let Some(cache) = self.cache.as_mut() {
            cache.insert_until(self.key.clone(), reply, stamps, now, until);
        }
    }
}

/// Whether the plain query `bytes`, whose question name is `name_len`
/// bytes long, has an OPT record with the DO bit set: the OPT follows the
/// question (type and class, 4 bytes); its owner (1 byte), type, class
/// (2 each), extended rcode and version (1 each) come before the flags.
fn dnssec_ok(bytes: &[u8], name_len: usize) -> bool {
    let opt = HEADER_LEN + name_len + 4;
    bytes.get(opt + 7).is_some_and(|flags| flags & 0x80 != 0)
}

/// Sends one reply, without waiting when the socket can take it; a failure
/// (the client's port unreachable, a full buffer) loses only this reply,
/// as UDP may.
async fn send(socket: &UdpSocket, reply: &[u8], client: SocketAddr) {
    let sent = match socket.try_send_to(reply, client) {
        Err(error) if error.kind() == ErrorKind::WouldBlock => socket.send_to(reply, client).await,
        other => other,
    };
    if let Err(error) = sent {
        debug!(%client, "UDP send failed: {error}");
    }
}

/// Collects finished tasks so the set does not grow.
fn reap(tasks: &mut JoinSet<()>) {
    while let Some(joined) = tasks.try_join_next() {
        report(joined);
    }
}

fn report(joined: Result<(), tokio::task::JoinError>) {
    if let Err(error) = joined
        && error.is_panic()
    {
        warn!("a UDP query task panicked: {error}");
    }
}
