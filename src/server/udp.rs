//! The UDP listener: one thread per socket, each with a single-threaded
//! runtime of its own, in the manner of Unbound's threads (each reads its
//! own `SO_REUSEPORT` socket; no wake-up ever crosses to another core).
//!
//! The loop drains the socket with non-blocking reads, up to
//! [`UDP_BATCH`] datagrams before it lets other tasks run; on Linux each
//! read is one `recvmmsg` of up to `RECV_SLOTS` datagrams, and a short
//! one ends the draining at once (no further call just to be told the
//! socket is empty: at a steady rate that is one system call in four per
//! answer). A repeated
//! question is answered with a copy from the thread's own
//! [`ReplyCache`]; another the resolver's caches can answer is answered
//! right there too, and its reply kept; neither needs a task or a wait;
//! only one that needs a resolution becomes a task on the thread's runtime,
//! under a cap on datagrams in work, and its resolution runs on this
//! thread too (see [`super::coalesce`]): the query to the upstream server,
//! its reply and the answer to the client all wake this thread and no
//! other, as Unbound's threads do. Handing each resolution to a shared
//! runtime and back, as this daemon once did, cost a fifth more CPU per
//! cache miss (measured: 62 against 50 µs).
//!
//! Cold work must not stall cached answers, though: a burst of resolutions
//! of huge answers is tens of milliseconds of decoding on this thread. The
//! loop is the future the thread blocks on, not one task among the
//! resolutions, and tokio polls it, and the socket's readiness, every
//! [`UDP_EVENT_INTERVAL`] task polls; so a datagram waits behind at most
//! that many resolution steps, never behind every resolution ready to run.
//! A thread with nothing in work at all does not wait in the reactor: it
//! sleeps in the socket's own `recvmmsg` (the private `Idle`), so a steady
//! rate of cached questions costs a `recvmmsg` and a `sendto` per wake-up
//! and nothing more (measured: 7.9 against 9.1 µs of CPU per cached answer
//! at 30,000 a second, Unbound 9.2 in the same run).
//!
//! On shutdown the loop stops reading and drains its tasks for at most
//! [`DRAIN_TIMEOUT`]; an idle thread is woken for it (see [`start`]).

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hickory_proto::op::ResponseCode;

use tokio::io::Interest;
use tokio::sync::{Semaphore, oneshot, watch};
use tokio::task::JoinSet;
use tracing::{debug, warn};

use super::DRAIN_TIMEOUT;
use super::error::ServeError;
use super::handler::{Current, Handler, Immediate, Transport};
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

/// Task polls the thread's runtime makes between two looks at its sockets
/// and timers (tokio's `event_interval`; its default is 61). The receive
/// loop is polled at each look, so this bounds how many resolution steps a
/// cached answer can wait behind. Lower costs an `epoll_wait` more often
/// (about 3 µs more CPU per cache miss at 4 than at 61, measured); higher
/// lets a burst of heavy resolutions hold cached answers back (at 61, 6 of
/// 80 cached probes waited over 500 ms in `tests/serve_isolation.rs`; at
/// 4 the slowest waited 50–150 ms, in a debug build on a loaded machine).
pub const UDP_EVENT_INTERVAL: u32 = 4;

/// Largest datagram read; anything bigger is cut by the kernel and then
/// fails to parse.
const RECEIVE_BUFFER: usize = 65_535;

/// A listening socket as the loop holds it: registered with the reactor
/// for reading only (see [`crate::net::register_for_reading`]: no wake-up
/// for each reply leaving the send buffer). A send that finds the buffer
/// full waits for room another way ([`SEND_BLOCKED_WAIT`]).
type Socket = crate::net::Readable;

/// The longest a reply waits for room in a full send buffer before it is
/// lost, as UDP may lose it. The loop waits with it (the thread's other
/// replies would find the buffer as full); a full buffer on a DNS server's
/// socket means the interface cannot keep up. Unbound waits up to 200 ms
/// in all for the same.
pub const SEND_BLOCKED_WAIT: Duration = Duration::from_millis(200);

/// The longest a thread with nothing in work sleeps inside its socket's
/// receive call before it looks at the shutdown flag again. A stop does
/// not wait for it: it shuts the socket's reading side, which wakes the
/// sleeping thread at once (see [`start`]). This is the safety net, and
/// the only wake-up an idle daemon's UDP threads have (Unbound's have
/// none), so it is long.
pub const IDLE_RECEIVE_WAIT: Duration = Duration::from_secs(5);

/// Pause after a receive error, so a persistent one cannot spin the loop.
const RECEIVE_ERROR_PAUSE: Duration = Duration::from_millis(10);

/// Starts the thread serving `socket` (non-blocking, not yet registered
/// with any runtime) until `shutdown` turns true. The receiver completes
/// when the thread is done, its queries in work answered or abandoned.
/// `reply_cache` bounds the encoded replies the thread keeps.
///
/// Called on a runtime, it also leaves there a task that, once `shutdown`
/// turns true, shuts the socket's reading side (`shutdown(SHUT_RD)`,
/// through a second descriptor): a thread asleep in the socket's receive
/// call wakes at once and sees the stop, instead of after
/// [`IDLE_RECEIVE_WAIT`]. Replies still in work can be sent after it.
pub fn start(
    socket: std::net::UdpSocket,
    handler: Arc<Handler>,
    reply_cache: ReplyLimits,
    shutdown: watch::Receiver<bool>,
) -> Result<oneshot::Receiver<()>, ServeError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .event_interval(UDP_EVENT_INTERVAL)
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    let (done, finished) = oneshot::channel();
    if let (Ok(calling), Ok(waker)) = (tokio::runtime::Handle::try_current(), socket.try_clone()) {
        let mut stop = shutdown.clone();
        calling.spawn(async move {
            super::stopped(&mut stop).await;
            // Linux wakes every reader of the socket and says ENOTCONN for
            // an unconnected one: the waking is what is wanted.
            let _ = socket2::SockRef::from(&waker).shutdown(std::net::Shutdown::Read);
        });
    }
    std::thread::Builder::new()
        .name("rootwalk-udp".into())
        .spawn(move || {
            runtime.block_on(async move {
                match crate::net::register_for_reading(socket) {
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
    socket: Socket,
    handler: Arc<Handler>,
    reply_cache: ReplyLimits,
    mut shutdown: watch::Receiver<bool>,
) {
    let socket = Arc::new(socket);
    let permits = Arc::new(Semaphore::new(MAX_UDP_IN_FLIGHT));
    let mut tasks = JoinSet::new();
    let mut inbox = Inbox::new();
    let mut copies = Copies::new(reply_cache);
    let mut snapshots = handler.snapshots();
    let idle = Idle::prepare(socket.get_ref());
    let mut wait_in_kernel = false;
    'serving: loop {
        let mut batch = 0;
        while batch < UDP_BATCH {
            let receiving = if wait_in_kernel {
                wait_in_kernel = false;
                inbox.wait(&socket)
            } else {
                inbox.receive(&socket)
            };
            let received = match receiving {
                Ok(received) => received,
                // Nothing waiting, or an idle wait ran out or met a signal.
                Err(error)
                    if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) =>
                {
                    break;
                }
                Err(error) => {
                    debug!("UDP receive error: {error}");
                    tokio::time::sleep(RECEIVE_ERROR_PAUSE).await;
                    break;
                }
            };
            batch += received.count;
            for slot in 0..received.count {
                let Some((datagram, peer)) = inbox.datagram(slot) else {
                    continue;
                };
                // Read once per datagram, without writing to anything
                // another thread reads: a reload applies from the next one.
                let current = snapshots.current();
                // Replies go to `peer`; `client` is who asked (the client a
                // proxy's PROXY v2 header names).
                let Some((bytes, client)) = handler.unwrap_proxy(current.policy, datagram, peer)
                else {
                    continue;
                };
                let received = Instant::now();
                let keyed = match copies.answer(&handler, current, bytes, client, received) {
                    Copied::Reply => {
                        send(&socket, &copies.out, peer).await;
                        continue;
                    }
                    Copied::Keyed => true,
                    Copied::Unkeyed => false,
                };
                let immediate = handler.answer_now_under(current, bytes, client, Transport::Udp);
                let pending = match immediate {
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
            if inbox.shut {
                // Its reading side was shut: the daemon is stopping (see
                // `start`), or its stop was dropped unsent. Nothing more
                // will come, and a wait would return at once, for ever.
                break 'serving;
            }
            if received.drained {
                // The socket had no more: its readiness is cleared, and
                // the next datagram wakes the loop below.
                break;
            }
        }
        reap(&mut tasks);
        if batch >= UDP_BATCH {
            // More may be waiting: let the answer tasks run, then go on.
            tokio::task::yield_now().await;
            if *shutdown.borrow() {
                break 'serving;
            }
            continue;
        }
        if idle.nothing_else_to_do(&tasks) {
            if *shutdown.borrow() {
                break 'serving;
            }
            wait_in_kernel = true;
            continue;
        }
        tokio::select! {
            biased;
            _ = super::stopped(&mut shutdown) => break 'serving,
            readable = socket.readable() => match readable {
                // The next receive call reads, and clears the readiness
                // once the socket is empty.
                Ok(mut ready) => ready.retain_ready(),
                Err(error) => {
                    debug!("UDP socket not readable: {error}");
                    tokio::time::sleep(RECEIVE_ERROR_PAUSE).await;
                }
            },
            // The last answer out may leave the thread idle: look again
            // whether it may sleep in the socket (see `Idle`).
            Some(joined) = tasks.join_next(), if !tasks.is_empty() => report(joined),
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

/// Whether the loop may wait for the next datagram inside the socket's own
/// receive call instead of the runtime's `epoll_wait`, and when.
///
/// A thread with nothing in work has no use for the runtime between two
/// datagrams: waking it through the reactor costs an `epoll_wait` and the
/// runtime's turn per wake-up, and at a steady rate of cached questions
/// every datagram is a wake-up. So while no task is alive on the thread's
/// runtime, the loop sleeps in `recvmmsg` itself (the socket blocking; a
/// stop wakes it, see [`start`]), and goes back to the reactor as soon as
/// a question needs a resolution. Every other call on the socket passes
/// `MSG_DONTWAIT`, so none of them can block.
/// Elsewhere than Linux the loop always waits in the reactor.
struct Idle {
    /// The thread's runtime's task count, when the socket was made to
    /// block.
    runtime: Option<tokio::runtime::RuntimeMetrics>,
}

impl Idle {
    /// Makes `socket` blocking with a receive timeout of
    /// [`IDLE_RECEIVE_WAIT`] where the loop can use that; if the socket
    /// refuses, the loop waits in the reactor only.
    fn prepare(socket: &std::net::UdpSocket) -> Self {
        let blocking = cfg!(target_os = "linux")
            && socket
                .set_read_timeout(Some(IDLE_RECEIVE_WAIT))
                .and_then(|()| socket.set_nonblocking(false))
                .is_ok();
        Self {
            runtime: blocking
                .then(tokio::runtime::Handle::try_current)
                .and_then(Result::ok)
                .map(|runtime| runtime.metrics()),
        }
    }

    /// Whether nothing but the loop itself runs on the thread, so it may
    /// sleep in the kernel: no task of its own in work and none other
    /// alive on the runtime (a resolution another thread's question
    /// joined, for one).
    fn nothing_else_to_do(&self, tasks: &JoinSet<()>) -> bool {
        tasks.is_empty()
            && self
                .runtime
                .as_ref()
                .is_some_and(|runtime| runtime.num_alive_tasks() == 0)
    }
}

/// Datagrams one receive call takes at most (`recvmmsg` on Linux). Each
/// has a buffer of [`RECEIVE_BUFFER`] bytes; the kernel writes only what
/// arrives, so memory is touched (and resident) only as deep as the
/// datagrams go.
const RECV_SLOTS: usize = 16;

/// What one receive call got.
struct Received {
    /// Datagrams read: at least one, or none when the socket's reading
    /// side was shut (then [`Inbox::shut`] says so).
    count: usize,
    /// The socket had fewer than were asked for: it is empty, and its
    /// readiness has been cleared, so the next datagram wakes the loop.
    drained: bool,
}

/// The receive buffers of one socket's loop, and what the last receive
/// call put in them.
struct Inbox {
    buffers: Box<[u8]>,
    lengths: [usize; RECV_SLOTS],
    peers: [Option<SocketAddr>; RECV_SLOTS],
    /// A receive found the socket's reading side shut (see [`start`]):
    /// nothing will come any more.
    shut: bool,
}

impl Inbox {
    fn new() -> Self {
        Self {
            buffers: vec![0u8; RECV_SLOTS * RECEIVE_BUFFER].into_boxed_slice(),
            lengths: [0; RECV_SLOTS],
            peers: [None; RECV_SLOTS],
            shut: false,
        }
    }

    /// Datagram `slot` of the last receive call and who sent it; `None`
    /// for an address family the loop does not serve.
    fn datagram(&self, slot: usize) -> Option<(&[u8], SocketAddr)> {
        let peer = (*self.peers.get(slot)?)?;
        let start = slot * RECEIVE_BUFFER;
        let bytes = self.buffers.get(start..start + self.lengths[slot])?;
        Some((bytes, peer))
    }

    /// Reads what is waiting, up to [`RECV_SLOTS`] datagrams, in one
    /// `recvmmsg` call; `WouldBlock` when there is nothing. A short batch
    /// means the socket is empty: tokio is told so (the closure reports
    /// `WouldBlock` after keeping the count), which saves the extra
    /// receive call that would only find it empty. That is safe with
    /// tokio's edge-triggered readiness: a datagram arriving after the call
    /// raises a new event, which the reactor has not yet seen when the
    /// readiness is cleared (same thread) or which a newer readiness tick
    /// protects from the clearing (another thread).
    #[cfg(target_os = "linux")]
    fn receive(&mut self, socket: &Socket) -> std::io::Result<Received> {
        use std::os::fd::AsRawFd;

        let mut short = None;
        let result = socket.try_io(Interest::READABLE, |socket| {
            let count = self.recvmmsg(socket.as_raw_fd(), libc::MSG_DONTWAIT)?;
            if count < RECV_SLOTS {
                short = Some(count);
                return Err(ErrorKind::WouldBlock.into());
            }
            Ok(count)
        });
        match (result, short) {
            (Ok(count), _) => Ok(Received {
                count,
                drained: false,
            }),
            (Err(_), Some(count)) => Ok(Received {
                count,
                drained: true,
            }),
            (Err(error), None) => Err(error),
        }
    }

    /// Sleeps in the kernel until a datagram arrives, at most
    /// [`IDLE_RECEIVE_WAIT`], then reads what is waiting as
    /// [`Inbox::receive`] does, without the reactor (see [`Idle`]).
    /// `WouldBlock` when the wait ran out, `Interrupted` for a signal; no
    /// datagram, with [`Inbox::shut`] set, once a stop shut the socket.
    #[cfg(target_os = "linux")]
    fn wait(&mut self, socket: &Socket) -> std::io::Result<Received> {
        use std::os::fd::AsRawFd;

        // MSG_WAITFORONE: block for the first datagram only.
        let count = self.recvmmsg(socket.get_ref().as_raw_fd(), libc::MSG_WAITFORONE)?;
        Ok(Received {
            count,
            drained: count < RECV_SLOTS,
        })
    }

    /// One `recvmmsg` with `flags` into the slots: the number of datagrams
    /// read (none only from a shut socket, which sets `shut`), or the
    /// call's error (`WouldBlock` when none was waiting).
    #[cfg(target_os = "linux")]
    fn recvmmsg(&mut self, fd: std::os::fd::RawFd, flags: libc::c_int) -> std::io::Result<usize> {
        // SAFETY: all-zero is a valid value of these plain C structs.
        let mut names: [libc::sockaddr_storage; RECV_SLOTS] = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        let mut headers: [libc::mmsghdr; RECV_SLOTS] = unsafe { std::mem::zeroed() };
        let mut vectors: [libc::iovec; RECV_SLOTS] = std::array::from_fn(|slot| libc::iovec {
            iov_base: self.buffers[slot * RECEIVE_BUFFER..].as_mut_ptr().cast(),
            iov_len: RECEIVE_BUFFER,
        });
        for ((header, name), vector) in headers.iter_mut().zip(&mut names).zip(&mut vectors) {
            header.msg_hdr.msg_name = std::ptr::from_mut(name).cast();
            header.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as u32;
            header.msg_hdr.msg_iov = vector;
            header.msg_hdr.msg_iovlen = 1;
        }
        // SAFETY: every header points at a name and one iovec that live
        // until the call returns, and every iovec at its own
        // RECEIVE_BUFFER bytes of `buffers`; the kernel writes at most
        // that much into each and tells the lengths.
        let count = unsafe {
            libc::recvmmsg(
                fd,
                headers.as_mut_ptr(),
                RECV_SLOTS as libc::c_uint,
                flags,
                std::ptr::null_mut(),
            )
        };
        let Ok(mut count) = usize::try_from(count) else {
            return Err(std::io::Error::last_os_error());
        };
        for slot in 0..count {
            // Every datagram has a sender; a message without one is the
            // end of a socket whose reading side was shut.
            if headers[slot].msg_hdr.msg_namelen == 0 {
                self.shut = true;
                count = slot;
                break;
            }
            self.lengths[slot] = headers[slot].msg_len as usize;
            self.peers[slot] = socket_addr(&names[slot]);
        }
        Ok(count)
    }

    /// Elsewhere the loop never waits in the kernel.
    #[cfg(not(target_os = "linux"))]
    fn wait(&mut self, socket: &Socket) -> std::io::Result<Received> {
        self.receive(socket)
    }

    /// Elsewhere: one datagram per call, and the socket counts as drained
    /// only when a call finds it empty.
    #[cfg(not(target_os = "linux"))]
    fn receive(&mut self, socket: &Socket) -> std::io::Result<Received> {
        let (len, peer) = socket.try_io(Interest::READABLE, |socket| {
            socket.recv_from(&mut self.buffers[..RECEIVE_BUFFER])
        })?;
        self.lengths[0] = len;
        self.peers[0] = Some(peer);
        Ok(Received {
            count: 1,
            drained: false,
        })
    }
}

/// The IPv4 or IPv6 address and port in `name`, as the kernel filled it.
#[cfg(target_os = "linux")]
fn socket_addr(name: &libc::sockaddr_storage) -> Option<SocketAddr> {
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
    match libc::c_int::from(name.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in, and
            // sockaddr_storage is large and aligned enough for any.
            let v4 = unsafe { &*std::ptr::from_ref(name).cast::<libc::sockaddr_in>() };
            Some(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(v4.sin_addr.s_addr)),
                u16::from_be(v4.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: as above, for sockaddr_in6.
            let v6 = unsafe { &*std::ptr::from_ref(name).cast::<libc::sockaddr_in6>() };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(v6.sin6_addr.s6_addr),
                u16::from_be(v6.sin6_port),
                v6.sin6_flowinfo,
                v6.sin6_scope_id,
            )))
        }
        _ => None,
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
    /// counts it; under `current`, what the loop read for this datagram.
    fn answer(
        &mut self,
        handler: &Handler,
        current: Current<'_>,
        bytes: &[u8],
        client: SocketAddr,
        now: Instant,
    ) -> Copied {
        let generation = current.policy_generation;
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
        if !current.policy.acl.allows(client.ip()) {
            return Copied::Unkeyed;
        }
        let resolver = &current.in_force.resolver;
        match cache.answer(&self.key, &query, resolver, now, &mut self.out) {
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

/// Sends one reply, without waiting when the socket can take it, and for
/// at most [`SEND_BLOCKED_WAIT`] when its buffer is full; a failure (the
/// client's port unreachable, no room in time) loses only this reply, as
/// UDP may.
async fn send(socket: &Socket, reply: &[u8], client: SocketAddr) {
    let socket = socket.get_ref();
    let sent = match crate::net::send_without_waiting(socket, reply, client) {
        Err(error) if error.kind() == ErrorKind::WouldBlock => {
            crate::net::send_when_writable(socket, reply, client, SEND_BLOCKED_WAIT).await
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A non-blocking socket on `bind`, registered as the loop registers
    /// its own, and a std client sending to it.
    fn pair(bind: &str) -> Option<(Socket, std::net::UdpSocket, SocketAddr)> {
        let server = std::net::UdpSocket::bind(bind).ok()?;
        server.set_nonblocking(true).ok()?;
        let to = server.local_addr().ok()?;
        let client = std::net::UdpSocket::bind((to.ip(), 0)).ok()?;
        Some((crate::net::register_for_reading(server).ok()?, client, to))
    }

    #[tokio::test]
    async fn a_burst_is_read_in_batches_with_each_sender_and_length() {
        let (server, client, to) = pair("127.0.0.1:0").unwrap();
        let other = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let sent = RECV_SLOTS + 3;
        for i in 0..sent {
            let from = if i % 2 == 0 { &client } else { &other };
            from.send_to(&vec![i as u8; 10 + i], to).unwrap();
        }
        server.readable().await.unwrap().retain_ready();
        let mut inbox = Inbox::new();
        let mut seen = Vec::new();
        let mut calls = 0;
        while seen.len() < sent && calls < 10 {
            calls += 1;
            let Ok(received) = inbox.receive(&server) else {
                server.readable().await.unwrap().retain_ready();
                continue;
            };
            for slot in 0..received.count {
                let (bytes, peer) = inbox.datagram(slot).unwrap();
                seen.push((bytes.to_vec(), peer));
            }
        }
        assert_eq!(seen.len(), sent);
        for (i, (bytes, peer)) in seen.iter().enumerate() {
            assert_eq!(bytes, &vec![i as u8; 10 + i]);
            let from = if i % 2 == 0 { &client } else { &other };
            assert_eq!(*peer, from.local_addr().unwrap());
        }
        // Nothing left: the socket says so.
        let empty = inbox.receive(&server);
        assert!(matches!(empty, Err(e) if e.kind() == ErrorKind::WouldBlock));
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_short_batch_clears_readiness_and_the_next_datagram_wakes_the_reader() {
        let (server, client, to) = pair("127.0.0.1:0").unwrap();
        client.send_to(b"one", to).unwrap();
        server.readable().await.unwrap().retain_ready();
        let mut inbox = Inbox::new();
        let first = inbox.receive(&server).unwrap();
        assert_eq!((first.count, first.drained), (1, true));
        assert_eq!(inbox.datagram(0).unwrap().0, b"one");
        // Readiness is cleared: no wake-up until something arrives...
        let idle =
            tokio::time::timeout(std::time::Duration::from_millis(50), server.readable()).await;
        assert!(idle.is_err(), "readable with nothing to read");
        // ...and a new datagram wakes it.
        client.send_to(b"two", to).unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(5), server.readable())
            .await
            .unwrap()
            .unwrap()
            .retain_ready();
        let second = inbox.receive(&server).unwrap();
        assert_eq!(second.count, 1);
        assert_eq!(inbox.datagram(0).unwrap().0, b"two");
    }

    /// What a stop relies on (see `start`): shutting the reading side of
    /// an unconnected UDP socket wakes a thread asleep in its receive call
    /// (Linux says ENOTCONN and wakes it all the same), and the receive
    /// then reads nothing, at once, from then on.
    #[cfg(target_os = "linux")]
    #[test]
    fn shutting_the_reading_side_wakes_a_sleeping_receive_with_nothing() {
        let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        server.set_read_timeout(Some(IDLE_RECEIVE_WAIT)).unwrap();
        let waker = server.try_clone().unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let sleeper = std::thread::spawn(move || {
            let _guard = runtime.enter();
            let server = crate::net::register_for_reading(server).unwrap();
            let mut inbox = Inbox::new();
            let first = inbox.wait(&server).map(|r| r.count);
            let again = inbox.wait(&server).map(|r| r.count);
            (first, again, inbox.shut)
        });
        // Give it time to fall asleep; if it has not yet, the shut socket
        // reads nothing at once all the same.
        std::thread::sleep(Duration::from_millis(100));
        let _ = socket2::SockRef::from(&waker).shutdown(std::net::Shutdown::Read);
        let (first, again, shut) = sleeper.join().unwrap();
        // A wait that ran out would be `WouldBlock` instead.
        assert_eq!(first.ok(), Some(0));
        assert_eq!(again.ok(), Some(0));
        assert!(shut);
    }

    #[tokio::test]
    async fn ipv6_senders_keep_their_address_and_port() {
        // Skipped where the host has no IPv6 loopback.
        let Some((server, client, to)) = pair("[::1]:0") else {
            return;
        };
        client.send_to(b"v6", to).unwrap();
        server.readable().await.unwrap().retain_ready();
        let mut inbox = Inbox::new();
        let received = inbox.receive(&server).unwrap();
        assert_eq!(received.count, 1);
        let (bytes, peer) = inbox.datagram(0).unwrap();
        assert_eq!(bytes, b"v6");
        assert_eq!(peer, client.local_addr().unwrap());
    }
}
