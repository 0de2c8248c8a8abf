//! The lab's sockets: UDP and TCP on every server address, reply latency,
//! the drop, dropfirst and spoof faults, the shared query log, and stopping
//! every task when the lab shuts down.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use hickory_proto::op::Message;
use hickory_proto::rr::{Name, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

use super::answer::{self, Decoded, Responder};
use super::{LabTransport, LoggedQuery};

/// Entries the query log keeps; older ones are dropped so a long-running
/// `rootwalk lab` does not grow without bound.
pub const MAX_LOGGED_QUERIES: usize = 100_000;

/// How long a TCP connection may sit idle between queries (RFC 7766 §6.2.3
/// suggests seconds, not minutes).
pub const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(5);

/// Queries served on one TCP connection before it is closed.
pub const MAX_TCP_QUERIES: usize = 1_000;

/// Concurrent TCP connections per server.
pub const MAX_TCP_CONNECTIONS: usize = 64;

/// Distinct (name, type) pairs a `dropfirst` server remembers; when full
/// it forgets them all, so a pair may be dropped once more.
pub const MAX_FIRST_QUERIES: usize = 10_000;

/// Pause after a failed `recv`/`accept` so a persistent error cannot spin.
const ERROR_PAUSE: Duration = Duration::from_millis(5);

/// Every query every server received, in arrival order.
#[derive(Debug, Default)]
pub struct QueryLog {
    entries: Mutex<VecDeque<LoggedQuery>>,
}

impl QueryLog {
    fn lock(&self) -> MutexGuard<'_, VecDeque<LoggedQuery>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn push(&self, entry: LoggedQuery) {
        let mut entries = self.lock();
        if entries.len() >= MAX_LOGGED_QUERIES {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// A copy of the log.
    pub fn snapshot(&self) -> Vec<LoggedQuery> {
        self.lock().iter().cloned().collect()
    }

    /// Empties the log.
    pub fn clear(&self) {
        self.lock().clear();
    }
}

/// The questions a `dropfirst` server has seen over UDP, by lowercased
/// name and type.
#[derive(Debug, Default)]
pub struct FirstQueries {
    seen: Mutex<HashSet<(Name, RecordType)>>,
}

impl FirstQueries {
    /// Records the question; `true` the first time it is seen (the query
    /// to drop).
    pub fn is_first(&self, qname: &Name, qtype: RecordType) -> bool {
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if seen.len() >= MAX_FIRST_QUERIES {
            seen.clear();
        }
        seen.insert((qname.to_lowercase(), qtype))
    }
}

/// Server addresses told to fall silent at run time
/// ([`super::Lab::set_silent`]): they log what they receive and answer
/// nothing, as a server behind a dead link would.
#[derive(Debug, Default)]
pub struct Silenced(Mutex<HashSet<IpAddr>>);

impl Silenced {
    /// Silences `addr` (`true`) or lets it answer again.
    pub fn set(&self, addr: IpAddr, silent: bool) {
        let mut set = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if silent {
            set.insert(addr);
        } else {
            set.remove(&addr);
        }
    }

    /// Whether `addr` is silenced.
    pub fn contains(&self, addr: IpAddr) -> bool {
        let set = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        set.contains(&addr)
    }
}

/// One running server: who it is and how it answers.
#[derive(Debug)]
pub struct Server {
    /// Its host name.
    pub name: Name,
    /// Its address.
    pub address: IpAddr,
    /// Its answering logic.
    pub responder: Responder,
    /// Delay before each real reply.
    pub latency: Duration,
    /// Never answer.
    pub drop: bool,
    /// Send forged replies first (UDP).
    pub spoof: bool,
    /// Close every TCP connection without reading it.
    pub no_tcp: bool,
    /// Drop the first UDP query for each question (`dropfirst` fault).
    pub drop_first: Option<FirstQueries>,
    /// Where received queries are recorded.
    pub log: Arc<QueryLog>,
    /// Addresses silenced at run time.
    pub silenced: Arc<Silenced>,
}

/// What to send for one received message.
#[derive(Debug, Default)]
struct Plan {
    /// Sent at once, before the reply (the spoof fault).
    forged: Vec<Vec<u8>>,
    /// Sent after the server's latency.
    reply: Option<Vec<u8>>,
}

impl Server {
    fn handle(&self, bytes: &[u8], transport: LabTransport) -> Plan {
        let query = match answer::decode(bytes) {
            Decoded::Ignore => return Plan::default(),
            Decoded::Malformed(reply) => {
                let reply = (!self.drop).then(|| encode(&reply, None)).flatten();
                return Plan {
                    forged: Vec::new(),
                    reply,
                };
            }
            Decoded::Query(query) => query,
        };
        if let Some(question) = query.queries.first() {
            self.log.push(LoggedQuery {
                server: self.address,
                server_name: self.name.clone(),
                transport,
                qname: question.name().clone(),
                qtype: question.query_type(),
                edns: query.edns.is_some(),
            });
        }
        if self.drop || self.silenced.contains(self.address) {
            return Plan::default();
        }
        if let (Some(first), LabTransport::Udp, Some(question)) =
            (&self.drop_first, transport, query.queries.first())
            && first.is_first(question.name(), question.query_type())
        {
            return Plan::default();
        }
        let limit = match transport {
            LabTransport::Udp => Some(answer::udp_limit(&query)),
            LabTransport::Tcp => None,
        };
        let forged = if self.spoof && transport == LabTransport::Udp {
            answer::spoofed_replies(&query)
                .iter()
                .filter_map(|m| encode(m, limit))
                .collect()
        } else {
            Vec::new()
        };
        let mut reply = encode(&self.responder.respond(&query), limit);
        if self.responder.faults().bad_opt
            && query.edns.is_some()
            && let Some(wire) = reply.as_mut()
        {
            answer::append_malformed_opt(wire);
        }
        Plan { forged, reply }
    }
}

fn encode(message: &Message, limit: Option<usize>) -> Option<Vec<u8>> {
    answer::encode(message, limit)
        .inspect_err(|e| tracing::debug!("lab: cannot encode reply: {e}"))
        .ok()
}

/// The UDP socket and TCP listener of one server address.
#[derive(Debug)]
pub struct Bound {
    udp: std::net::UdpSocket,
    tcp: std::net::TcpListener,
}

impl Bound {
    /// Binds UDP and TCP on `addr`; port 0 picks a free UDP port and binds
    /// TCP on the same one.
    pub fn bind(addr: SocketAddr) -> io::Result<Bound> {
        let udp = std::net::UdpSocket::bind(addr)?;
        let tcp = std::net::TcpListener::bind(udp.local_addr()?)?;
        udp.set_nonblocking(true)?;
        tcp.set_nonblocking(true)?;
        Ok(Bound { udp, tcp })
    }

    /// The port bound.
    pub fn port(&self) -> io::Result<u16> {
        Ok(self.udp.local_addr()?.port())
    }
}

/// Starts the UDP and TCP tasks of `server`. Every task, and every task
/// they spawn, ends when `shutdown`'s sender is dropped.
pub fn spawn(
    server: Arc<Server>,
    bound: Bound,
    shutdown: &watch::Receiver<()>,
) -> io::Result<Vec<JoinHandle<()>>> {
    let udp = Arc::new(UdpSocket::from_std(bound.udp)?);
    let tcp = TcpListener::from_std(bound.tcp)?;
    let udp_task = serve_udp(Arc::clone(&server), udp, shutdown.clone());
    let tcp_task = serve_tcp(server, tcp, shutdown.clone());
    Ok(vec![
        tokio::spawn(until_shutdown(udp_task, shutdown.clone())),
        tokio::spawn(until_shutdown(tcp_task, shutdown.clone())),
    ])
}

/// Runs `work` until it finishes or the lab shuts down.
async fn until_shutdown(work: impl Future<Output = ()>, mut shutdown: watch::Receiver<()>) {
    tokio::select! {
        () = work => {}
        _ = shutdown.changed() => {}
    }
}

/// Sends `send` after `delay` in its own task, so a slow reply never holds
/// up the socket.
fn spawn_delayed(
    delay: Duration,
    shutdown: &watch::Receiver<()>,
    send: impl Future<Output = ()> + Send + 'static,
) {
    let work = async move {
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        send.await;
    };
    tokio::spawn(until_shutdown(work, shutdown.clone()));
}

async fn serve_udp(server: Arc<Server>, socket: Arc<UdpSocket>, shutdown: watch::Receiver<()>) {
    let mut buf = vec![0u8; 65_535];
    loop {
        let (len, peer) = match socket.recv_from(&mut buf).await {
            Ok(received) => received,
            Err(e) => {
                tracing::debug!("lab {}: udp recv: {e}", server.address);
                tokio::time::sleep(ERROR_PAUSE).await;
                continue;
            }
        };
        let plan = server.handle(&buf[..len], LabTransport::Udp);
        for packet in plan.forged {
            let _ = socket.send_to(&packet, peer).await;
        }
        if let Some(reply) = plan.reply {
            let socket = Arc::clone(&socket);
            spawn_delayed(server.latency, &shutdown, async move {
                let _ = socket.send_to(&reply, peer).await;
            });
        }
    }
}

async fn serve_tcp(server: Arc<Server>, listener: TcpListener, shutdown: watch::Receiver<()>) {
    let slots = Arc::new(Semaphore::new(MAX_TCP_CONNECTIONS));
    loop {
        let Ok(permit) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::debug!("lab {}: tcp accept: {e}", server.address);
                tokio::time::sleep(ERROR_PAUSE).await;
                continue;
            }
        };
        let connection = serve_connection(Arc::clone(&server), stream, shutdown.clone());
        tokio::spawn(until_shutdown(
            async move {
                connection.await;
                drop(permit);
            },
            shutdown.clone(),
        ));
    }
}

/// Serves length-prefixed queries (RFC 1035 §4.2.2) until the client
/// closes, goes idle, or has sent [`MAX_TCP_QUERIES`].
async fn serve_connection(server: Arc<Server>, stream: TcpStream, shutdown: watch::Receiver<()>) {
    if server.no_tcp {
        drop(stream);
        return;
    }
    let (mut reader, writer) = stream.into_split();
    let writer = Arc::new(tokio::sync::Mutex::new(writer));
    for _ in 0..MAX_TCP_QUERIES {
        let Ok(Ok(len)) = tokio::time::timeout(TCP_IDLE_TIMEOUT, reader.read_u16()).await else {
            return;
        };
        let mut frame = vec![0u8; usize::from(len)];
        let read = tokio::time::timeout(TCP_IDLE_TIMEOUT, reader.read_exact(&mut frame)).await;
        if !matches!(read, Ok(Ok(_))) {
            return;
        }
        let Some(reply) = server.handle(&frame, LabTransport::Tcp).reply else {
            continue;
        };
        let writer = Arc::clone(&writer);
        spawn_delayed(server.latency, &shutdown, write_frame(writer, reply));
    }
}

async fn write_frame(writer: Arc<tokio::sync::Mutex<OwnedWriteHalf>>, reply: Vec<u8>) {
    let Ok(len) = u16::try_from(reply.len()) else {
        return;
    };
    let mut framed = Vec::with_capacity(reply.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(&reply);
    let mut writer = writer.lock().await;
    let _ = writer.write_all(&framed).await;
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use hickory_proto::op::{MessageType, OpCode, Query};

    use super::*;
    use crate::lab::manifest::Faults;

    fn server(drop_first: bool) -> Server {
        Server {
            name: Name::from_str("ns.t.").unwrap(),
            address: IpAddr::from([127, 0, 0, 1]),
            responder: Responder::new(Vec::new(), Faults::default()),
            latency: Duration::ZERO,
            drop: false,
            spoof: false,
            no_tcp: false,
            drop_first: drop_first.then(FirstQueries::default),
            log: Arc::new(QueryLog::default()),
            silenced: Arc::new(Silenced::default()),
        }
    }

    fn bytes(qname: &str, qtype: RecordType, edns: bool) -> Vec<u8> {
        let mut q = Message::new(7, MessageType::Query, OpCode::Query);
        q.add_query(Query::query(Name::from_str(qname).unwrap(), qtype));
        if edns {
            q.set_edns(hickory_proto::op::Edns::new());
        }
        q.to_vec().unwrap()
    }

    #[test]
    fn dropfirst_drops_the_first_udp_query_per_question_only() {
        let s = server(true);
        let a = bytes("www.T.", RecordType::A, false);
        assert!(s.handle(&a, LabTransport::Udp).reply.is_none());
        assert!(s.handle(&a, LabTransport::Udp).reply.is_some());
        // Same name in other case: the same question.
        let lower = bytes("www.t.", RecordType::A, false);
        assert!(s.handle(&lower, LabTransport::Udp).reply.is_some());
        // Another type is another question.
        let aaaa = bytes("www.t.", RecordType::AAAA, false);
        assert!(s.handle(&aaaa, LabTransport::Udp).reply.is_none());
        // TCP is never dropped and does not count.
        let mx = bytes("www.t.", RecordType::MX, false);
        assert!(s.handle(&mx, LabTransport::Tcp).reply.is_some());
        assert!(s.handle(&mx, LabTransport::Udp).reply.is_none());
        // Every query is logged, dropped or not.
        assert_eq!(s.log.snapshot().len(), 6);
        let plain = server(false);
        assert!(plain.handle(&a, LabTransport::Udp).reply.is_some());
    }

    #[test]
    fn query_log_says_whether_edns_was_offered() {
        let s = server(false);
        s.handle(&bytes("a.t.", RecordType::A, true), LabTransport::Udp);
        s.handle(&bytes("a.t.", RecordType::A, false), LabTransport::Udp);
        let log = s.log.snapshot();
        assert!(log[0].edns);
        assert!(!log[1].edns);
    }

    #[test]
    fn first_queries_forget_when_full() {
        let first = FirstQueries::default();
        let name = Name::from_str("x.t.").unwrap();
        assert!(first.is_first(&name, RecordType::A));
        assert!(!first.is_first(&name, RecordType::A));
        for n in 0..MAX_FIRST_QUERIES {
            let other = Name::from_str(&format!("n{n}.t.")).unwrap();
            first.is_first(&other, RecordType::A);
        }
        assert!(first.is_first(&name, RecordType::A));
    }
}
