//! `rootwalk serve` run inside the test's process, on 127.0.0.1:0, and the
//! client side the serve tests share: queries as stubs send them, and UDP
//! exchanges that wait a bounded time for the reply to their own ID.
//!
//! In process, a test can reach what a spawned daemon hides: the lab's
//! query log, the resolver's cache and the live counters. The daemon stops
//! when the test calls [`Daemon::stop`], and with the test's runtime if a
//! test fails first.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};
use rootwalk::resolve::Resolver;
use rootwalk::server::ede::Ede;
use rootwalk::server::{self, Acl, CounterSnapshot, Counters, Listeners, ServeLimits, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long a client waits for a reply before calling it lost. Generous:
/// it only bounds a hang, it never decides a pass.
pub const REPLY_WAIT: Duration = Duration::from_secs(15);

/// The EDNS payload size stubs offer since DNS Flag Day 2020: replies
/// larger than this come truncated over UDP.
pub const STUB_PAYLOAD: u16 = 1232;

/// A running in-process daemon.
pub struct Daemon {
    /// Where it answers over UDP and TCP.
    pub addr: SocketAddr,
    /// Its live counters, for tests that watch them while it runs.
    pub counters: Arc<Counters>,
    metrics: Option<SocketAddr>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<CounterSnapshot, server::ServeError>>,
}

/// How to start a [`Daemon`]: the server, what it listens on.
pub struct Builder {
    server: Server,
    udp_sockets: usize,
    metrics: bool,
}

impl Daemon {
    /// A daemon answering with `resolver` for the clients `acl` lets in,
    /// with one UDP socket and no metrics endpoint until told otherwise.
    pub fn builder(resolver: Resolver, acl: Acl) -> Builder {
        Builder::new(Server::new(resolver, acl))
    }

    /// Starts `server` as it is (local zones, routes, ...), with one UDP
    /// socket.
    pub async fn start(server: Server) -> Daemon {
        Builder::new(server).start().await
    }

    /// Runs `server` on `listeners` the caller bound, as
    /// `server::prepare` does, on 127.0.0.1:0.
    pub fn serve(server: Server, listeners: Listeners) -> Daemon {
        let addr = listeners.local_addrs()[0].1;
        let metrics = listeners
            .metrics
            .as_ref()
            .map(|listener| listener.local_addr().unwrap());
        let counters = server.counters();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(listeners, async {
            let _ = stopped.await;
        }));
        Daemon {
            addr,
            counters,
            metrics,
            stop: Some(stop),
            task,
        }
    }

    /// Where its metrics endpoint answers; the test asked for one.
    pub fn metrics(&self) -> SocketAddr {
        self.metrics.expect("started with a metrics listener")
    }

    /// Triggers shutdown, waits for the daemon to finish the queries in
    /// work, and returns its final counters.
    pub async fn stop(mut self) -> CounterSnapshot {
        if let Some(stop) = self.stop.take() {
            stop.send(()).expect("the daemon still runs until stopped");
        }
        (&mut self.task).await.unwrap().unwrap()
    }
}

impl Builder {
    fn new(server: Server) -> Builder {
        Builder {
            server,
            udp_sockets: 1,
            metrics: false,
        }
    }

    /// Serves with `limits` instead of the defaults.
    pub fn limits(mut self, limits: ServeLimits) -> Builder {
        self.server = self.server.with_limits(limits);
        self
    }

    /// Keeps up to `entries` reply copies per UDP thread (0: none).
    pub fn reply_cache(mut self, entries: usize) -> Builder {
        self.server = self.server.with_reply_cache(entries);
        self
    }

    /// Listens on `count` UDP sockets (`SO_REUSEPORT`), a thread each.
    pub fn udp_sockets(mut self, count: usize) -> Builder {
        self.udp_sockets = count;
        self
    }

    /// Adds the metrics HTTP endpoint, on a port of its own.
    pub fn metrics(mut self) -> Builder {
        self.metrics = true;
        self
    }

    /// Binds the listeners on 127.0.0.1:0 and runs the server.
    pub async fn start(self) -> Daemon {
        let loopback = "127.0.0.1:0".parse().unwrap();
        let mut listeners = server::listen::bind(&[loopback], false, self.udp_sockets)
            .await
            .unwrap();
        if self.metrics {
            listeners.metrics = Some(server::listen::bind_metrics(loopback).await.unwrap());
        }
        Daemon::serve(self.server, listeners)
    }
}

/// A recursive query for `qname`/`qtype` as today's stubs send it: EDNS,
/// offering [`STUB_PAYLOAD`] bytes.
pub fn query(qname: &str, qtype: RecordType) -> Message {
    query_edns(qname, qtype, Some(STUB_PAYLOAD))
}

/// A recursive query for `qname`/`qtype` without EDNS, as the oldest stubs
/// send it.
pub fn bare_query(qname: &str, qtype: RecordType) -> Message {
    query_edns(qname, qtype, None)
}

/// A recursive query for `qname`/`qtype` offering `payload` bytes in EDNS,
/// or without EDNS when `None`.
pub fn query_edns(qname: &str, qtype: RecordType, payload: Option<u16>) -> Message {
    let mut message = Message::new(rand::random(), MessageType::Query, OpCode::Query);
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(Name::from_str(qname).unwrap(), qtype));
    if let Some(size) = payload {
        let mut edns = Edns::new();
        edns.set_max_payload(size);
        message.set_edns(edns);
    }
    message
}

/// Sends `message` from a fresh socket and returns the reply.
pub async fn udp(server: SocketAddr, message: &Message) -> Message {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    udp_on(&socket, server, message).await
}

/// [`udp`] from `socket`: queries sent from one socket reach the same UDP
/// thread of the daemon (`SO_REUSEPORT` hashes by address and port), so
/// they meet the reply copies that thread keeps.
pub async fn udp_on(socket: &UdpSocket, server: SocketAddr, message: &Message) -> Message {
    let bytes = message.to_vec().unwrap();
    let reply = udp_raw_on(socket, server, &bytes, message.metadata.id).await;
    Message::from_vec(&reply).unwrap()
}

/// Sends `bytes` from a fresh socket and returns the raw reply whose ID is
/// `id`.
pub async fn udp_raw(server: SocketAddr, bytes: &[u8], id: u16) -> Vec<u8> {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    udp_raw_on(&socket, server, bytes, id).await
}

/// [`udp_raw`] from `socket`. Datagrams from elsewhere or with another ID
/// (replies to earlier questions) are skipped, at most a few, and each
/// wait is bounded by [`REPLY_WAIT`].
pub async fn udp_raw_on(socket: &UdpSocket, server: SocketAddr, bytes: &[u8], id: u16) -> Vec<u8> {
    socket.send_to(bytes, server).await.unwrap();
    let mut buffer = vec![0u8; 65_535];
    for _ in 0..8 {
        let (len, from) = tokio::time::timeout(REPLY_WAIT, socket.recv_from(&mut buffer))
            .await
            .expect("no UDP reply")
            .unwrap();
        if from == server && len >= 2 && u16::from_be_bytes([buffer[0], buffer[1]]) == id {
            return buffer[..len].to_vec();
        }
    }
    panic!("no UDP reply with ID {id}");
}

/// The Extended DNS Error (RFC 8914) in `reply`, if it carries one.
pub fn ede_of(reply: &Message) -> Option<Ede> {
    reply
        .edns
        .as_ref()?
        .options()
        .options
        .iter()
        .find_map(|(_, option)| Ede::from_option(option))
}

/// `GET path` on the metrics endpoint: the status line and the body.
pub async fn http_get(addr: SocketAddr, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: rootwalk\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reply = String::new();
    tokio::time::timeout(REPLY_WAIT, stream.read_to_string(&mut reply))
        .await
        .expect("the endpoint closes after its reply")
        .unwrap();
    let (head, body) = reply.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_string(), body.to_string())
}

/// The value of the sample `series` (name with labels) in `body`.
pub fn sample(body: &str, series: &str) -> f64 {
    body.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {series} in\n{body}"))
        .parse()
        .unwrap()
}
