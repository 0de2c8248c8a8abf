//! The TCP listener (RFC 7766): 2-byte length framing, several queries per
//! connection answered as they complete, and a drain on shutdown, with the
//! defences a listener open to anyone needs against slow or greedy clients:
//!
//! - each message must arrive whole within [`TCP_MESSAGE_TIMEOUT`] of its
//!   first byte (a client trickling one byte every few seconds no longer
//!   resets a timer), and a connection with nothing to read and nothing to
//!   answer is closed after [`TCP_IDLE_TIMEOUT`];
//! - one client address holds at most [`MAX_TCP_CONNECTIONS_PER_CLIENT`]
//!   connections;
//! - when all [`MAX_TCP_CONNECTIONS`] slots are taken, a new client is not
//!   turned away: the listener closes a connection with no query in work,
//!   one of the client holding the most connections, its oldest first (as
//!   Unbound and BIND shed idle TCP clients under load). Only when every
//!   connection is working on queries is the new one closed.
//!
//! The listener keeps the slot table itself (no lock): connections that
//! finished are noticed through their tasks' abort handles at each accept.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinSet};
use tokio::time::Instant;
use tracing::{debug, warn};

use super::handler::{Handler, Transport};
use super::limits::ServeLimits;
use super::proxy;

/// Connections open at once per listener. Each costs a task, buffers and a
/// file descriptor; when all are taken, an idle one makes room for a new
/// client (see the module doc).
pub const MAX_TCP_CONNECTIONS: usize = 256;

/// Connections one client address may hold at once; past it, that client's
/// own oldest idle connection is closed, or the new one if all are working.
/// Several stubs behind one NAT need a few each; one address holding a
/// sizeable share of [`MAX_TCP_CONNECTIONS`] is an attack.
pub const MAX_TCP_CONNECTIONS_PER_CLIENT: usize = 16;

/// How long one message may take to arrive whole, from its first byte
/// (length prefix included). A 64 KB message crosses any working link in
/// well under this; a client trickling bytes to hold the slot does not.
pub const TCP_MESSAGE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a connection may sit between messages with nothing to answer
/// before it is closed (RFC 7766 §6.2.3 suggests seconds, not minutes;
/// Unbound's `tcp-idle-timeout` defaults to 30 s, and busy servers shorten
/// it).
pub const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(5);

/// Queries of one connection worked on at once (RFC 7766 §6.2.1.1
/// pipelining). Past it the connection is not read until one is answered.
pub const MAX_TCP_PIPELINE: usize = 16;

/// How long writing one reply may take before the client is given up on
/// (a client that does not read must not pin the connection).
const TCP_WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// Pause after a failed accept (e.g. out of file descriptors).
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// Bytes read from the socket at a time.
const READ_CHUNK: usize = 4096;

/// Bytes read ahead of the queries in work: one largest message and its
/// prefix. The connection keeps reading while its pipeline is full (so a
/// close is noticed at once), but never buffers more than this.
const READ_AHEAD: usize = 2 + super::packet::TCP_MESSAGE_MAX;

/// One open connection, as the accept loop sees it.
struct Slot {
    /// Accept order: lower is older.
    order: u64,
    client: IpAddr,
    /// Whether the connection has queries in work (then it is not shed).
    busy: Arc<AtomicBool>,
    task: AbortHandle,
}

/// The open connections of one listener and the rules for making room.
struct Slots {
    open: Vec<Slot>,
    accepted: u64,
    total: usize,
    per_client: usize,
}

/// What to do with a new connection.
enum Admission {
    /// Serve it, after closing these (already dropped from the table).
    Admit(Vec<AbortHandle>),
    /// No room: close it.
    Refuse(&'static str),
}

impl Slots {
    fn new(limits: &ServeLimits) -> Self {
        Self {
            open: Vec::new(),
            accepted: 0,
            total: limits.tcp_connections.max(1),
            per_client: limits.tcp_connections_per_client.max(1),
        }
    }

    /// Takes the caps of `limits` for the connections admitted from now
    /// on. Connections already open stay open: when the caps shrank, each
    /// new connection sheds at most one idle one, as [`Slots::admit`] does.
    fn resize(&mut self, limits: &ServeLimits) {
        self.total = limits.tcp_connections.max(1);
        self.per_client = limits.tcp_connections_per_client.max(1);
    }

    /// Decides on a connection from `client`, making room if it can.
    fn admit(&mut self, client: IpAddr) -> Admission {
        self.open.retain(|slot| !slot.task.is_finished());
        let mut evicted = Vec::new();
        if self.held_by(client) >= self.per_client {
            match self.idle_victim(Some(client)) {
                Some(task) => evicted.push(task),
                None => return Admission::Refuse("its connections are all working"),
            }
        }
        if self.open.len() >= self.total {
            match self.idle_victim(None) {
                Some(task) => evicted.push(task),
                None => return Admission::Refuse("every connection is working"),
            }
        }
        Admission::Admit(evicted)
    }

    /// Connections open from `client`.
    fn held_by(&self, client: IpAddr) -> usize {
        self.open.iter().filter(|s| s.client == client).count()
    }

    /// Removes and returns the connection to shed: idle (no query in
    /// work), of `client` if given, else of the client holding the most;
    /// the oldest of those.
    fn idle_victim(&mut self, client: Option<IpAddr>) -> Option<AbortHandle> {
        let mut held: HashMap<IpAddr, usize> = HashMap::new();
        for slot in &self.open {
            *held.entry(slot.client).or_default() += 1;
        }
        let at = self
            .open
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.busy.load(Ordering::Relaxed))
            .filter(|(_, s)| client.is_none_or(|c| c == s.client))
            .max_by_key(|(_, s)| {
                let count = held.get(&s.client).copied().unwrap_or(0);
                (count, std::cmp::Reverse(s.order))
            })
            .map(|(at, _)| at)?;
        Some(self.open.swap_remove(at).task)
    }

    /// Records the connection just admitted.
    fn opened(&mut self, client: IpAddr, busy: Arc<AtomicBool>, task: AbortHandle) {
        self.accepted += 1;
        self.open.push(Slot {
            order: self.accepted,
            client,
            busy,
            task,
        });
    }
}

/// Accepts connections on `listener` until `shutdown` turns true, then
/// waits for the open connections to finish the queries they read (the
/// caller bounds that wait).
pub async fn serve(
    listener: TcpListener,
    handler: Arc<Handler>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut slots = Slots::new(&handler.limits());
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            biased;
            _ = super::stopped(&mut shutdown) => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, client)) => {
                handler.counters().tcp_connection();
                // The limits in force now (a reload may have changed them)
                // admit this connection and bound its reads; connections
                // already open keep theirs.
                let limits = handler.limits();
                slots.resize(&limits);
                match slots.admit(client.ip()) {
                    Admission::Refuse(why) => {
                        debug!(%client, "TCP connection closed at once: {why}");
                        drop(stream);
                    }
                    Admission::Admit(evicted) => {
                        for task in evicted {
                            handler.counters().tcp_shed();
                            task.abort();
                        }
                        let busy = Arc::new(AtomicBool::new(false));
                        let connection = Connection {
                            handler: Arc::clone(&handler),
                            client,
                            shutdown: shutdown.clone(),
                            busy: Arc::clone(&busy),
                            message_timeout: limits.tcp_message_timeout,
                            idle_timeout: limits.tcp_idle_timeout,
                        };
                        let task = connections.spawn(connection.serve(stream));
                        slots.opened(client.ip(), busy, task);
                    }
                }
            }
            Err(error) => {
                warn!("TCP accept failed: {error}");
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
            }
        }
        while let Some(joined) = connections.try_join_next() {
            report(joined);
        }
    }
    drop(listener);
    while let Some(joined) = connections.join_next().await {
        report(joined);
    }
}

fn report(joined: Result<(), tokio::task::JoinError>) {
    if let Err(error) = joined
        && error.is_panic()
    {
        warn!("a TCP connection task panicked: {error}");
    }
}

/// One client connection.
struct Connection {
    handler: Arc<Handler>,
    client: SocketAddr,
    shutdown: watch::Receiver<bool>,
    busy: Arc<AtomicBool>,
    message_timeout: Duration,
    idle_timeout: Duration,
}

impl Connection {
    /// Reads frames, answers them concurrently, writes replies as they
    /// complete; ends on a message not arriving in time, idle timeout or
    /// shutdown (after answering what was read), and on EOF or a read
    /// error at once: a client that closed waits for nothing, so its
    /// queries in work are dropped, and with them any resolution no other
    /// client waits for (see [`super::coalesce`]). A client that
    /// half-closes its side after sending therefore gets no answers; DNS
    /// clients keep the connection open until they have their replies.
    async fn serve(mut self, stream: TcpStream) {
        let (mut reader, mut writer) = stream.into_split();
        let mut buffer = Vec::with_capacity(READ_CHUNK);
        let mut chunk = vec![0u8; READ_CHUNK];
        if self.handler.is_proxy(self.client) {
            // A proxy's connection starts with a PROXY v2 header naming
            // the client, due whole within the message deadline.
            let read = tokio::time::timeout(
                self.message_timeout,
                read_proxy_header(&mut reader, &mut buffer, &mut chunk),
            )
            .await;
            match read {
                Ok(Ok(header)) => {
                    buffer.drain(..header.len);
                    self.client = header.source.unwrap_or(self.client);
                }
                Ok(Err(error)) => {
                    debug!(peer = %self.client, "TCP from a proxy: {error}; closing");
                    return;
                }
                Err(_) => {
                    debug!(peer = %self.client, "TCP from a proxy: no PROXY header in time; closing");
                    return;
                }
            }
        }
        let mut pending = FuturesUnordered::new();
        let mut reading = true;
        // When the connection last had nothing to do, and when the first
        // byte of the message being read arrived.
        let mut idle_since = Instant::now();
        let mut partial_since: Option<Instant> = None;
        loop {
            let mut took = false;
            while reading && pending.len() < MAX_TCP_PIPELINE {
                let Some(frame) = take_frame(&mut buffer) else {
                    break;
                };
                took = true;
                pending.push(answer(Arc::clone(&self.handler), frame, self.client));
            }
            if took {
                partial_since = (!buffer.is_empty()).then(Instant::now);
            }
            if !reading && pending.is_empty() {
                break;
            }
            self.busy.store(!pending.is_empty(), Ordering::Relaxed);
            let room = pending.len() < MAX_TCP_PIPELINE;
            let deadline = match partial_since {
                _ if !reading || !room => None,
                Some(since) => Some(since + self.message_timeout),
                None if pending.is_empty() => Some(idle_since + self.idle_timeout),
                None => None,
            };
            tokio::select! {
                biased;
                Some(reply) = pending.next(), if !pending.is_empty() => {
                    if let Some(reply) = reply
                        && !write_frame(&mut writer, &reply).await
                    {
                        break;
                    }
                    idle_since = Instant::now();
                }
                _ = super::stopped(&mut self.shutdown), if reading => reading = false,
                read = reader.read(&mut chunk), if reading && buffer.len() < READ_AHEAD => match read {
                    Ok(0) => {
                        debug!(client = %self.client, "TCP client closed; dropping its queries in work");
                        break;
                    }
                    Ok(n) => {
                        buffer.extend_from_slice(&chunk[..n]);
                        partial_since.get_or_insert_with(Instant::now);
                    }
                    Err(error) => {
                        debug!(client = %self.client, "TCP read failed: {error}");
                        break;
                    }
                },
                _ = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)),
                    if deadline.is_some() =>
                {
                    debug!(client = %self.client, partial = partial_since.is_some(),
                        "TCP connection too slow or idle, closing");
                    break;
                }
            }
        }
        // Best effort: tell the client we are done.
        let _ = writer.shutdown().await;
    }
}

/// Reads from `reader` into `buffer` until it starts with a whole PROXY
/// v2 header (at most [`proxy::MAX_PROXY_HEADER`] bytes), and parses it.
async fn read_proxy_header(
    reader: &mut (impl AsyncReadExt + Unpin),
    buffer: &mut Vec<u8>,
    chunk: &mut [u8],
) -> Result<proxy::ProxyHeader, proxy::ProxyError> {
    loop {
        match proxy::parse(buffer) {
            Err(proxy::ProxyError::Incomplete) => {}
            done => return done,
        }
        match reader.read(chunk).await {
            Ok(0) | Err(_) => return Err(proxy::ProxyError::Incomplete),
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Answers one frame.
async fn answer(handler: Arc<Handler>, frame: Vec<u8>, client: SocketAddr) -> Option<Vec<u8>> {
    handler.handle(&frame, client, Transport::Tcp).await
}

/// Removes the first complete frame (2-byte length, then the message) from
/// the front of `buffer`.
fn take_frame(buffer: &mut Vec<u8>) -> Option<Vec<u8>> {
    let [high, low, ..] = buffer.as_slice() else {
        return None;
    };
    let len = usize::from(u16::from_be_bytes([*high, *low]));
    if buffer.len() < 2 + len {
        return None;
    }
    let frame = buffer[2..2 + len].to_vec();
    buffer.drain(..2 + len);
    Some(frame)
}

/// Writes one length-prefixed reply in a single write; false when the
/// connection is no longer usable.
async fn write_frame(writer: &mut OwnedWriteHalf, reply: &[u8]) -> bool {
    let Ok(len) = u16::try_from(reply.len()) else {
        return true;
    };
    let mut frame = Vec::with_capacity(2 + reply.len());
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(reply);
    matches!(
        tokio::time::timeout(TCP_WRITE_TIMEOUT, writer.write_all(&frame)).await,
        Ok(Ok(()))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_come_out_whole_and_in_order() {
        let mut buffer = vec![0, 3, b'a', b'b', b'c', 0, 0, 0, 2, b'x'];
        assert_eq!(take_frame(&mut buffer), Some(b"abc".to_vec()));
        assert_eq!(take_frame(&mut buffer), Some(Vec::new()));
        assert_eq!(
            take_frame(&mut buffer),
            None,
            "second byte of `x..` missing"
        );
        buffer.push(b'y');
        assert_eq!(take_frame(&mut buffer), Some(b"xy".to_vec()));
        assert!(buffer.is_empty());
        let mut one = vec![0];
        assert_eq!(take_frame(&mut one), None);
    }

    /// Slots for `clients` (one connection each, in accept order), every
    /// task pending until aborted; `busy` marks which have queries in work.
    fn slots_of(limits: &ServeLimits, clients: &[(u8, bool)]) -> (Slots, Vec<AbortHandle>) {
        let mut slots = Slots::new(limits);
        let mut tasks = Vec::new();
        for &(host, busy) in clients {
            let task = tokio::spawn(std::future::pending::<()>()).abort_handle();
            let ip = IpAddr::from([127, 0, 0, host]);
            slots.opened(ip, Arc::new(AtomicBool::new(busy)), task.clone());
            tasks.push(task);
        }
        (slots, tasks)
    }

    fn admitted(admission: Admission) -> Vec<AbortHandle> {
        match admission {
            Admission::Admit(evicted) => evicted,
            Admission::Refuse(why) => panic!("refused: {why}"),
        }
    }

    #[tokio::test]
    async fn a_full_table_sheds_the_oldest_idle_connection_of_the_heaviest_client() {
        let limits = ServeLimits {
            tcp_connections: 5,
            tcp_connections_per_client: 3,
            ..ServeLimits::default()
        };
        // Host 2 holds three, host 3 two; host 2's oldest is busy.
        let (mut slots, tasks) = slots_of(
            &limits,
            &[(2, true), (3, false), (2, false), (2, false), (3, false)],
        );
        let evicted = admitted(slots.admit(IpAddr::from([127, 0, 0, 9])));
        assert_eq!(evicted.len(), 1);
        assert_eq!(evicted[0].id(), tasks[2].id(), "host 2's oldest idle");
        assert_eq!(slots.open.len(), 4);
    }

    #[tokio::test]
    async fn a_client_at_its_cap_loses_its_own_oldest_idle_connection() {
        let limits = ServeLimits {
            tcp_connections: 100,
            tcp_connections_per_client: 2,
            ..ServeLimits::default()
        };
        let (mut slots, tasks) = slots_of(&limits, &[(2, false), (3, false), (2, false)]);
        let evicted = admitted(slots.admit(IpAddr::from([127, 0, 0, 2])));
        assert_eq!(evicted.len(), 1);
        assert_eq!(evicted[0].id(), tasks[0].id());
        // Every connection working: nothing to shed, the new one is refused.
        let (mut busy, _) = slots_of(&limits, &[(2, true), (2, true)]);
        assert!(matches!(
            busy.admit(IpAddr::from([127, 0, 0, 2])),
            Admission::Refuse(_)
        ));
        assert!(admitted(busy.admit(IpAddr::from([127, 0, 0, 3]))).is_empty());
    }
}
