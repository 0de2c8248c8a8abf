//! One UDP exchange: fresh socket, connected to the server, wait for the
//! matching reply and ignore the rest.
//!
//! The socket is made non-blocking in the one `socket` call and connected
//! without a `bind`: connecting an unbound UDP socket binds it to a port the
//! kernel picks at random from its ephemeral range, exactly as binding to
//! port 0 does (RFC 5452 §9.2 source port randomness), one system call
//! fewer. Each query gets a socket of its own; none is reused, so no port
//! carries more than one query.
//!
//! Replies are read into the thread's receive buffer ([`RECEIVE`]), only
//! between a readiness wake-up and the decoding of what was read, with no
//! `.await` in between: an exchange allocates and clears no 64 KB buffer
//! of its own, yet still reads any datagram up to [`RECV_BUFFER`] bytes.
//!
//! One exception to "ignore the rest": when the query carried EDNS and a
//! datagram with QR=1 and the query's ID does not decode, but does once its
//! additional section is cut off (ARCOUNT set to 0) and then answers the
//! question, the server mangled its OPT record (or another additional
//! record): that is [`TransportError::BadOpt`], not noise to wait past.

use std::cell::RefCell;
use std::net::SocketAddr;

use hickory_proto::op::{Message, Query};
use socket2::{Domain, Socket, Type};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::time::Instant;

use super::{TransportError, is_answer};

/// Largest datagram we read; EDNS payloads above this are not advertised.
const RECV_BUFFER: usize = 65_535;

thread_local! {
    /// The receive buffer of the thread an exchange's wake-up runs on. It
    /// is borrowed for one `recv` and the decoding of its bytes, never
    /// across an `.await`, so exchanges on the same thread never share it
    /// at the same time.
    static RECEIVE: RefCell<Box<[u8]>> = RefCell::new(vec![0u8; RECV_BUFFER].into_boxed_slice());
}

pub(super) struct UdpReply {
    pub message: Message,
    pub bytes: usize,
    pub ignored: u32,
}

/// What one datagram read from the socket amounts to.
enum Read {
    /// The reply.
    Reply(Message, usize),
    /// A datagram that does not answer the query, of this many bytes.
    Ignored(usize),
    /// A reply broken only in its additional section (see the module doc).
    BadOpt(usize),
}

pub(super) async fn exchange(
    server: SocketAddr,
    wire: &[u8],
    id: u16,
    question: &Query,
    edns: bool,
    deadline: Instant,
) -> Result<UdpReply, TransportError> {
    let started = Instant::now();
    let socket = connected_socket(server).map_err(TransportError::from_io)?;
    // A fresh socket's send buffer is empty: a send that would block
    // (`WouldBlock`) means the host is out of buffers, and fails this try.
    socket
        .get_ref()
        .send(wire)
        .map_err(TransportError::from_io)?;

    let mut ignored = 0;
    loop {
        // Readable or in error, as tokio's own `recv` waits: an ICMP port
        // unreachable leaves no datagram, only an error on the socket,
        // which the next `recv` reports (connection refused).
        let read = socket.async_io(Interest::READABLE | Interest::ERROR, |socket| {
            read_one(socket, id, question, edns)
        });
        match tokio::time::timeout_at(deadline, read).await {
            Err(_) => return Err(TransportError::Timeout(started.elapsed())),
            Ok(Err(e)) => return Err(TransportError::from_io(e)),
            Ok(Ok(Read::Reply(message, bytes))) => {
                return Ok(UdpReply {
                    message,
                    bytes,
                    ignored,
                });
            }
            Ok(Ok(Read::Ignored(len))) => {
                tracing::debug!(%server, len, "ignored a reply that does not match the query");
                ignored += 1;
            }
            Ok(Ok(Read::BadOpt(len))) => {
                tracing::debug!(%server, len, "reply decodes only without its additional section");
                return Err(TransportError::BadOpt(started.elapsed()));
            }
        }
    }
}

/// A non-blocking UDP socket connected to `server`: the kernel then
/// delivers only datagrams from the server's address and port, and picks
/// the random source port at the connect.
pub(super) fn connected_socket(server: SocketAddr) -> std::io::Result<Readable> {
    let socket = Socket::new(Domain::for_address(server), Type::DGRAM.nonblocking(), None)?;
    socket.connect(&server.into())?;
    register_for_reading(socket.into())
}

/// A UDP socket registered with the runtime's reactor for reading (and
/// errors, which epoll always reports) but not for writing.
pub type Readable = AsyncFd<std::net::UdpSocket>;

/// Registers `socket` (non-blocking) with the current runtime's reactor to
/// be woken when it can be read or has an error, never when it can be
/// written. A socket registered for writing is signalled each time a
/// datagram it sent leaves its send buffer (on loopback, during the very
/// `send`; elsewhere when the interface has sent it), which costs its
/// thread an `epoll_wait`, or a wake-up, that finds nothing to do: one per
/// query sent and one per reply, for sockets whose sends almost never find
/// the buffer full. Unbound's sockets likewise wait for reading only.
pub fn register_for_reading(socket: std::net::UdpSocket) -> std::io::Result<Readable> {
    register(socket, Interest::READABLE)
}

/// Sends `datagram` to `to` on `socket`, a socket registered by
/// [`register_for_reading`] whose send buffer was full (a send failed
/// with `WouldBlock`): waits, at most `wait`, until it can take the
/// datagram. The wait runs on a second descriptor of the same socket
/// (`try_clone`), registered for writing alone and closed after, so the
/// socket's own registration stays read-only. Rare: a UDP socket's buffer
/// fills only when the interface cannot keep up.
pub async fn send_when_writable(
    socket: &std::net::UdpSocket,
    datagram: &[u8],
    to: SocketAddr,
    wait: std::time::Duration,
) -> std::io::Result<usize> {
    let writer = register(socket.try_clone()?, Interest::WRITABLE)?;
    let sent = writer.async_io(Interest::WRITABLE, |socket| {
        send_without_waiting(socket, datagram, to)
    });
    tokio::time::timeout(wait, sent)
        .await
        .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
}

/// Sends `datagram` to `to` at once or not at all, whether `socket`'s
/// descriptor blocks or not (`MSG_DONTWAIT`): `WouldBlock` when its send
/// buffer is full.
pub fn send_without_waiting(
    socket: &std::net::UdpSocket,
    datagram: &[u8],
    to: SocketAddr,
) -> std::io::Result<usize> {
    socket2::SockRef::from(socket).send_to_with_flags(datagram, &to.into(), libc::MSG_DONTWAIT)
}

/// `socket` registered with the current runtime's reactor for `interest`.
fn register(
    socket: std::net::UdpSocket,
    interest: Interest,
) -> std::io::Result<AsyncFd<std::net::UdpSocket>> {
    // SAFETY: the `AsyncFd` owns the socket, so its descriptor stays open
    // and the same for the registration's whole life, and a
    // `std::net::UdpSocket` always reports that one descriptor.
    unsafe { AsyncFd::register_with_interest(socket, interest) }.map_err(Into::into)
}

/// Reads one datagram into the thread's buffer and judges it; the socket's
/// error (or `WouldBlock`) when there is none.
fn read_one(
    socket: &std::net::UdpSocket,
    id: u16,
    question: &Query,
    edns: bool,
) -> std::io::Result<Read> {
    RECEIVE.with_borrow_mut(|buf| {
        // recv(2) itself, called when the socket is readable or in error:
        // an error (ICMP port unreachable) is what this call returns.
        let len = socket.recv(buf)?;
        let datagram = &buf[..len];
        Ok(match Message::from_vec(datagram) {
            Ok(message) if is_answer(&message, id, question) => Read::Reply(message, len),
            Err(_) if edns && breaks_only_in_additionals(datagram, id, question) => {
                Read::BadOpt(len)
            }
            _ => Read::Ignored(len),
        })
    })
}

/// Offset of ARCOUNT in the DNS header.
const ARCOUNT_AT: usize = 10;
/// Length of the DNS header.
const HEADER_LEN: usize = 12;

/// Whether `datagram`, which did not decode, is a reply to the query with
/// `id` and `question` whose only fault lies in the additional section
/// (where the OPT record lives): QR=1, the same ID, and with ARCOUNT set to
/// 0 it decodes and answers the question.
pub(super) fn breaks_only_in_additionals(datagram: &[u8], id: u16, question: &Query) -> bool {
    let Some(header) = datagram.get(..HEADER_LEN) else {
        return false;
    };
    let is_response = header[2] & 0x80 != 0;
    if !is_response || u16::from_be_bytes([header[0], header[1]]) != id {
        return false;
    }
    if header[ARCOUNT_AT] == 0 && header[ARCOUNT_AT + 1] == 0 {
        return false;
    }
    let mut cut = datagram.to_vec();
    cut[ARCOUNT_AT] = 0;
    cut[ARCOUNT_AT + 1] = 0;
    Message::from_vec(&cut).is_ok_and(|message| is_answer(&message, id, question))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{MessageType, OpCode};
    use hickory_proto::rr::rdata::A;
    use hickory_proto::rr::{Name, RData, Record, RecordType};
    use std::net::Ipv4Addr;
    use std::str::FromStr;
    use std::time::Duration;

    /// A loopback server that answers the first query it gets with each
    /// of `replies(query)` in turn, then stops.
    fn answer_once(replies: impl FnOnce(&Message) -> Vec<Vec<u8>> + Send + 'static) -> SocketAddr {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let addr = socket.local_addr().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            if let Ok((len, from)) = socket.recv_from(&mut buf) {
                let query = Message::from_vec(&buf[..len]).unwrap();
                for reply in replies(&query) {
                    socket.send_to(&reply, from).unwrap();
                }
            }
        });
        addr
    }

    /// The response to `query` with `count` A records for its name.
    fn response(query: &Message, id: u16, count: u32) -> Vec<u8> {
        let mut m = Message::new(id, MessageType::Response, OpCode::Query);
        let question = query.queries[0].clone();
        for i in 0..count {
            m.answers.push(Record::from_rdata(
                question.name().clone(),
                60,
                RData::A(A(Ipv4Addr::from(0xc000_0200 + i))),
            ));
        }
        m.add_query(question);
        m.to_vec().unwrap()
    }

    fn question(name: &str) -> Query {
        Query::query(Name::from_str(name).unwrap(), RecordType::A)
    }

    async fn ask(server: SocketAddr, q: &Query) -> Result<UdpReply, TransportError> {
        let mut query = Message::new(4242, MessageType::Query, OpCode::Query);
        query.add_query(q.clone());
        let wire = query.to_vec().unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        exchange(server, &wire, 4242, q, false, deadline).await
    }

    #[tokio::test]
    async fn a_closed_port_is_refused_not_waited_for() {
        // A port nobody listens on: the kernel answers with ICMP port
        // unreachable, which leaves an error on the socket, no datagram.
        let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let server = closed.local_addr().unwrap();
        drop(closed);
        let started = std::time::Instant::now();
        let outcome = ask(server, &question("www.example.")).await;
        assert!(
            matches!(outcome, Err(TransportError::Refused)),
            "{:?}",
            outcome.err()
        );
        assert!(started.elapsed() < Duration::from_secs(4));
    }

    #[tokio::test]
    async fn each_socket_gets_a_port_of_its_own_from_the_kernel() {
        let server: SocketAddr = "127.0.0.1:53".parse().unwrap();
        let ports: Vec<u16> = (0..8)
            .map(|_| {
                connected_socket(server)
                    .unwrap()
                    .get_ref()
                    .local_addr()
                    .unwrap()
                    .port()
            })
            .collect();
        assert!(ports.iter().all(|&p| p != 0), "{ports:?}");
        let mut distinct = ports.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert!(distinct.len() > 1, "one port for every socket: {ports:?}");
    }

    #[tokio::test]
    async fn a_reply_larger_than_any_edns_size_is_read_whole_after_noise() {
        // A forgery with another ID first, then the real reply: 300 A
        // records, about 4.8 KB.
        let server = answer_once(|query| vec![response(query, 1, 1), response(query, 4242, 300)]);
        let reply = ask(server, &question("big.example.")).await.unwrap();
        assert_eq!(reply.ignored, 1);
        assert_eq!(reply.message.answers.len(), 300);
        assert!(reply.bytes > 4_000, "{}", reply.bytes);
    }

    #[tokio::test]
    async fn exchanges_on_one_thread_each_get_their_own_reply() {
        let one = answer_once(|query| vec![response(query, 4242, 1)]);
        let three = answer_once(|query| vec![response(query, 4242, 3)]);
        let (q1, q3) = (question("one.example."), question("three.example."));
        let (a, b) = tokio::join!(ask(one, &q1), ask(three, &q3));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.message.queries[0].name(), q1.name());
        assert_eq!(a.message.answers.len(), 1);
        assert_eq!(b.message.queries[0].name(), q3.name());
        assert_eq!(b.message.answers.len(), 3);
    }
}
