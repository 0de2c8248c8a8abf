//! Exchanges with upstream name servers over UDP and TCP.
//!
//! One [`Transport`] sends one question to one server and returns the first
//! reply that really answers it. Each UDP query goes out from a fresh
//! socket, so the kernel picks a new random source port, with a random ID;
//! a reply counts only when it comes from the server's address and port
//! (the socket is connected), carries the same ID and repeats the question
//! (name compared case-insensitively, type, class). Anything else is
//! ignored and the wait goes on until the try's deadline. A truncated UDP
//! reply (TC=1) is retried over TCP with the usual two-byte length framing;
//! a TCP reply that is itself truncated is a failure of that server.
//! A UDP reply to an EDNS query that fails to decode only because of its
//! additional section (a malformed OPT record) is
//! [`TransportError::BadOpt`]: the server mishandles EDNS (RFC 6891 §7), and
//! the caller asks again without it.
//!
//! One try is one query: when to resend, and to whom, is the caller's
//! business (the resolver races a zone cut's servers with the timers of the
//! infra cache). [`Transport::query`] takes a deadline for exactly that
//! reason: a try whose retransmission timer ran out keeps its socket open,
//! so a late reply to it still counts while the next try is out.

mod tcp;
mod udp;

pub use udp::{Readable, register_for_reading, send_when_writable, send_without_waiting};

use std::net::SocketAddr;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, Query, ResponseCode};
use hickory_proto::rr::RecordType;
use tokio::time::Instant;

/// The transport a query travelled over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// UDP datagrams.
    Udp,
    /// TCP with two-byte length framing (RFC 1035 §4.2.2, RFC 7766).
    Tcp,
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Protocol::Udp => "UDP",
            Protocol::Tcp => "TCP",
        })
    }
}

/// A reply that matched its query.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The decoded message.
    pub message: Message,
    /// Size of the reply on the wire, in bytes.
    pub bytes: usize,
    /// Time from sending the query to receiving this reply (over TCP: from
    /// the TCP retry's start).
    pub rtt: Duration,
    /// The transport of the final reply.
    pub protocol: Protocol,
    /// Whether a truncated UDP reply came first and was retried over TCP.
    pub tcp_fallback: bool,
    /// Datagrams that arrived but did not match (wrong ID or question,
    /// undecodable) and were ignored.
    pub ignored: u32,
}

/// Why an exchange produced no usable reply.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// No matching reply before the timeout.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// The server's port is closed (ICMP port unreachable, TCP RST).
    #[error("connection refused")]
    Refused,
    /// This host has no route to the server (an IPv6 address on an
    /// IPv4-only host, say): says nothing about the server.
    #[error("no route from this host: {0}")]
    Unreachable(#[source] std::io::Error),
    /// A socket operation failed.
    #[error("network error: {0}")]
    Io(#[source] std::io::Error),
    /// The TCP reply could not be decoded or did not match the query.
    #[error("malformed reply over TCP: {0}")]
    Malformed(String),
    /// The reply over TCP had TC=1: the server cannot give a whole answer
    /// on any transport (never an empty NODATA).
    #[error("truncated reply over TCP")]
    TruncatedOverTcp,
    /// A UDP reply to a query with EDNS, from the server and with the
    /// query's ID, that does not decode but does without its additional
    /// section, and then answers the question: the server sent a malformed
    /// OPT record (RFC 6891 §7). Ask it again without EDNS; the reply is
    /// not used. Carries the time from sending to this reply.
    #[error("malformed OPT record (or other additional record) in the reply")]
    BadOpt(Duration),
    /// The query could not be encoded (a name too long, for example).
    #[error("cannot encode query: {0}")]
    Encode(String),
}

impl TransportError {
    /// For [`TransportError::Unreachable`]: whether the OS said the whole
    /// network is unreachable or the source address unavailable (no route
    /// for the address family at all), rather than only this host.
    pub fn whole_family(&self) -> bool {
        matches!(
            self,
            TransportError::Unreachable(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NetworkUnreachable | std::io::ErrorKind::AddrNotAvailable
                )
        )
    }

    fn from_io(err: std::io::Error) -> Self {
        match err.kind() {
            std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::ConnectionReset => {
                TransportError::Refused
            }
            std::io::ErrorKind::NetworkUnreachable
            | std::io::ErrorKind::HostUnreachable
            | std::io::ErrorKind::AddrNotAvailable => TransportError::Unreachable(err),
            _ => TransportError::Io(err),
        }
    }
}

/// Sends queries to upstream servers.
#[derive(Debug, Clone)]
pub struct Transport {
    timeout: Duration,
    edns_payload: u16,
    dnssec_ok: bool,
}

impl Transport {
    /// A transport waiting `timeout` per try and advertising `edns_payload`
    /// bytes of EDNS0 UDP payload.
    pub fn new(timeout: Duration, edns_payload: u16) -> Self {
        Self {
            timeout,
            edns_payload,
            dnssec_ok: false,
        }
    }

    /// This transport with the EDNS DO bit (RFC 3225) set to `dnssec_ok`
    /// on every query that carries EDNS: DO=1 asks for RRSIGs, DS and
    /// denial proofs with the data. Off by default.
    pub fn with_dnssec_ok(self, dnssec_ok: bool) -> Self {
        Self { dnssec_ok, ..self }
    }

    /// How long one try waits for its reply.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sends `question` (RD=0, EDNS0) to `server` and waits, at most the
    /// transport's timeout, for the reply that matches it; TC=1 is retried
    /// over TCP.
    pub async fn exchange(
        &self,
        server: SocketAddr,
        question: &Query,
    ) -> Result<Reply, TransportError> {
        let deadline = Instant::now() + self.timeout;
        self.query(server, question, true, deadline).await
    }

    /// One try: sends `question` (RD=0, with EDNS0 when `edns`) to `server`
    /// over UDP and waits until `deadline` for the reply that matches it;
    /// TC=1 is retried over TCP (which gets the transport's timeout of its
    /// own, from the truncated reply).
    pub async fn query(
        &self,
        server: SocketAddr,
        question: &Query,
        edns: bool,
        deadline: Instant,
    ) -> Result<Reply, TransportError> {
        self.query_rd(server, question, edns, false, deadline).await
    }

    /// [`Transport::query`] with RD set to `rd` (RD=1 asks a forwarder to
    /// recurse; the TCP retry of a truncated reply keeps it).
    pub async fn query_rd(
        &self,
        server: SocketAddr,
        question: &Query,
        edns: bool,
        rd: bool,
        deadline: Instant,
    ) -> Result<Reply, TransportError> {
        let (id, wire) = self.encode_query(question, edns, rd);
        let started = Instant::now();
        let udp = udp::exchange(server, &wire, id, question, edns, deadline).await?;
        if !udp.message.metadata.truncation {
            return Ok(Reply {
                message: udp.message,
                bytes: udp.bytes,
                rtt: started.elapsed(),
                protocol: Protocol::Udp,
                tcp_fallback: false,
                ignored: udp.ignored,
            });
        }
        let tcp = self.tcp(server, question, edns, rd).await?;
        Ok(Reply {
            tcp_fallback: true,
            ignored: udp.ignored,
            ..tcp
        })
    }

    /// Sends `question` over TCP only, as a check of a server's TCP
    /// service (RFC 7766 §5: authoritative servers must answer over TCP).
    pub async fn exchange_tcp(
        &self,
        server: SocketAddr,
        question: &Query,
    ) -> Result<Reply, TransportError> {
        self.tcp(server, question, true, false).await
    }

    async fn tcp(
        &self,
        server: SocketAddr,
        question: &Query,
        edns: bool,
        rd: bool,
    ) -> Result<Reply, TransportError> {
        let (id, wire) = self.encode_query(question, edns, rd);
        let started = Instant::now();
        let (message, bytes) = tcp::exchange(server, &wire, id, question, self.timeout).await?;
        if message.metadata.truncation {
            return Err(TransportError::TruncatedOverTcp);
        }
        Ok(Reply {
            message,
            bytes,
            rtt: started.elapsed(),
            protocol: Protocol::Tcp,
            tcp_fallback: false,
            ignored: 0,
        })
    }

    /// A fresh random ID and the query for `question` in wire format.
    fn encode_query(&self, question: &Query, edns: bool, rd: bool) -> (u16, Vec<u8>) {
        let id: u16 = rand::random();
        let opt = edns.then_some((self.edns_payload, self.dnssec_ok));
        (id, query_wire(id, question, rd, opt))
    }
}

/// The query message `id` asking `question`, RD set if `rd`, with an OPT
/// record (RFC 6891 §6.1.2: owner root, class the payload size, no
/// options; DO as given, RFC 3225) when `opt` is `Some((payload,
/// dnssec_ok))`. Written straight into one buffer: byte for byte what
/// hickory's `Message::to_vec` makes of the same query (see the tests),
/// without building a `Message` for each upstream query.
fn query_wire(id: u16, question: &Query, rd: bool, opt: Option<(u16, bool)>) -> Vec<u8> {
    /// Header, question type and class, and an OPT record.
    const FIXED: usize = 12 + 4 + 11;
    let name = question.name();
    let mut wire = Vec::with_capacity(FIXED + name.len() + 2);
    wire.extend_from_slice(&id.to_be_bytes());
    // QR=0, OPCODE=QUERY, AA=0, TC=0, RD; RA, Z, AD, CD and RCODE all 0.
    wire.push(u8::from(rd));
    wire.push(0);
    // QDCOUNT 1, ANCOUNT 0, NSCOUNT 0, ARCOUNT 1 with the OPT record.
    wire.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, u8::from(opt.is_some())]);
    for label in name.iter() {
        // A `Name`'s labels are at most 63 bytes (checked when it was made).
        wire.push(label.len() as u8);
        wire.extend_from_slice(label);
    }
    wire.push(0);
    wire.extend_from_slice(&u16::from(question.query_type()).to_be_bytes());
    wire.extend_from_slice(&u16::from(question.query_class()).to_be_bytes());
    if let Some((payload, dnssec_ok)) = opt {
        wire.push(0);
        wire.extend_from_slice(&u16::from(RecordType::OPT).to_be_bytes());
        // Below 512 means 512 (RFC 6891 §6.2.3), as hickory writes it.
        wire.extend_from_slice(&payload.max(512).to_be_bytes());
        // Extended RCODE 0, version 0, then the flags: DO is the top bit.
        let flags: u16 = if dnssec_ok { 0x8000 } else { 0 };
        wire.extend_from_slice(&[0, 0]);
        wire.extend_from_slice(&flags.to_be_bytes());
        // RDLENGTH 0: no options.
        wire.extend_from_slice(&[0, 0]);
    }
    wire
}

/// Whether `reply` answers the query with `id` and `question`: a response,
/// the same ID, exactly one question with the same name (ignoring case),
/// type and class. A FORMERR or NOTIMP with no question at all and the
/// right ID counts too: old servers send it to a query they cannot parse
/// (an OPT record they do not know, RFC 6891 §7), and it is a reply to act
/// on, not noise to wait past.
pub fn is_answer(reply: &Message, id: u16, question: &Query) -> bool {
    if reply.metadata.message_type != MessageType::Response || reply.metadata.id != id {
        return false;
    }
    match reply.queries.as_slice() {
        [echoed] => {
            echoed.name() == question.name()
                && echoed.query_type() == question.query_type()
                && echoed.query_class() == question.query_class()
        }
        [] => matches!(
            reply.metadata.response_code,
            ResponseCode::FormErr | ResponseCode::NotImp
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{Edns, OpCode};
    use hickory_proto::rr::Name;
    use std::str::FromStr;

    fn response(id: u16, name: &str, rtype: RecordType) -> Message {
        let mut m = Message::new(id, MessageType::Response, OpCode::Query);
        m.add_query(Query::query(Name::from_ascii(name).unwrap(), rtype));
        m
    }

    #[test]
    fn io_errors_are_sorted_by_what_they_say_about_the_server() {
        use std::io::{Error, ErrorKind};
        let kind = |k: ErrorKind| TransportError::from_io(Error::from(k));
        assert!(matches!(
            kind(ErrorKind::ConnectionRefused),
            TransportError::Refused
        ));
        assert!(matches!(
            kind(ErrorKind::NetworkUnreachable),
            TransportError::Unreachable(_)
        ));
        assert!(matches!(
            kind(ErrorKind::AddrNotAvailable),
            TransportError::Unreachable(_)
        ));
        assert!(matches!(
            kind(ErrorKind::PermissionDenied),
            TransportError::Io(_)
        ));
        // No route for the family at all, or only to this host.
        assert!(kind(ErrorKind::NetworkUnreachable).whole_family());
        assert!(kind(ErrorKind::AddrNotAvailable).whole_family());
        assert!(!kind(ErrorKind::HostUnreachable).whole_family());
        assert!(!kind(ErrorKind::ConnectionRefused).whole_family());
    }

    #[test]
    fn a_formerr_without_question_is_a_reply_but_nothing_else_is() {
        let q = Query::query(Name::from_str("www.a.tld1.").unwrap(), RecordType::A);
        let mut bare = response(7, "www.a.tld1.", RecordType::A);
        bare.queries.clear();
        assert!(!is_answer(&bare, 7, &q), "NOERROR without a question");
        for rcode in [ResponseCode::FormErr, ResponseCode::NotImp] {
            bare.metadata.response_code = rcode;
            assert!(is_answer(&bare, 7, &q), "{rcode:?}");
            assert!(!is_answer(&bare, 8, &q), "{rcode:?} with another ID");
        }
        bare.metadata.response_code = ResponseCode::ServFail;
        assert!(!is_answer(&bare, 7, &q));
    }

    #[test]
    fn the_do_bit_is_set_only_when_asked_for() {
        let q = Query::query(Name::from_str("a.tld1.").unwrap(), RecordType::DNSKEY);
        let plain = Transport::new(Duration::from_secs(1), 1232);
        let do_bit = |t: &Transport| {
            let (_, wire) = t.encode_query(&q, true, false);
            let msg = Message::from_vec(&wire).unwrap();
            msg.edns.map(|e| e.flags().dnssec_ok)
        };
        assert_eq!(do_bit(&plain), Some(false));
        assert_eq!(do_bit(&plain.clone().with_dnssec_ok(true)), Some(true));
    }

    /// The query as hickory encodes it, the way `encode_query` did before
    /// it wrote the bytes itself.
    fn hickory_query(id: u16, question: &Query, rd: bool, opt: Option<(u16, bool)>) -> Vec<u8> {
        let mut msg = Message::new(id, MessageType::Query, OpCode::Query);
        msg.metadata.recursion_desired = rd;
        msg.add_query(question.clone());
        if let Some((payload, dnssec_ok)) = opt {
            let mut edns = Edns::new();
            edns.set_max_payload(payload);
            edns.set_dnssec_ok(dnssec_ok);
            msg.set_edns(edns);
        }
        msg.to_vec().unwrap()
    }

    #[test]
    fn a_query_is_written_byte_for_byte_as_hickory_writes_it() {
        let long = format!("{}.{}.example.", "a".repeat(63), "B".repeat(63));
        let mut names: Vec<Name> = [
            ".",
            "www.a.tld1.",
            "WwW.MiXeD.tld1.",
            "xn--bcher-kva.example.",
        ]
        .iter()
        .chain([long.as_str()].iter())
        .map(|n| Name::from_str(n).unwrap())
        .collect();
        // Any bytes at all in a label.
        let odd: [&[u8]; 2] = [b"\x00\xff.", b"odd"];
        names.push(Name::from_labels(odd).unwrap());
        let types = [
            RecordType::A,
            RecordType::AAAA,
            RecordType::NS,
            RecordType::DS,
            RecordType::DNSKEY,
            RecordType::Unknown(65_280),
        ];
        let mut checked = 0;
        for name in &names {
            for (i, rtype) in types.iter().enumerate() {
                let mut question = Query::query(name.clone(), *rtype);
                if i == 5 {
                    question.set_query_class(hickory_proto::rr::DNSClass::CH);
                }
                for rd in [false, true] {
                    for opt in [
                        None,
                        Some((1232, false)),
                        Some((1232, true)),
                        Some((100, true)),
                        Some((u16::MAX, false)),
                    ] {
                        let id = 0x1234 + checked;
                        let ours = query_wire(id, &question, rd, opt);
                        assert_eq!(
                            ours,
                            hickory_query(id, &question, rd, opt),
                            "{name} {rtype} rd={rd} opt={opt:?}"
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 6 * 6 * 2 * 5);
    }

    #[test]
    fn matching_ignores_name_case_only() {
        let q = Query::query(Name::from_str("www.a.tld1.").unwrap(), RecordType::A);
        assert!(is_answer(&response(7, "WWW.A.tld1.", RecordType::A), 7, &q));
        assert!(!is_answer(
            &response(8, "www.a.tld1.", RecordType::A),
            7,
            &q
        ));
        assert!(!is_answer(
            &response(7, "www.b.tld1.", RecordType::A),
            7,
            &q
        ));
        assert!(!is_answer(
            &response(7, "www.a.tld1.", RecordType::AAAA),
            7,
            &q
        ));
        let mut query_not_response = response(7, "www.a.tld1.", RecordType::A);
        query_not_response.metadata.message_type = MessageType::Query;
        assert!(!is_answer(&query_not_response, 7, &q));
        let mut two_questions = response(7, "www.a.tld1.", RecordType::A);
        two_questions.add_query(q.clone());
        assert!(!is_answer(&two_questions, 7, &q));
    }

    #[test]
    fn only_a_reply_broken_in_its_additional_section_is_a_bad_opt() {
        let q = Query::query(Name::from_str("www.a.tld1.").unwrap(), RecordType::A);
        let mut wire = response(7, "www.a.tld1.", RecordType::A).to_vec().unwrap();
        // One more additional record: an OPT whose RDLENGTH (16) runs past
        // the end of the message (the lab's `badopt` fault sends the same).
        wire[11] += 1;
        wire.extend_from_slice(&[
            0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x0a, 0x00,
            0x08,
        ]);
        assert!(Message::from_vec(&wire).is_err());
        assert!(udp::breaks_only_in_additionals(&wire, 7, &q));
        // Another ID, another question, or a query (QR=0): noise.
        assert!(!udp::breaks_only_in_additionals(&wire, 8, &q));
        let other = Query::query(Name::from_str("www.b.tld1.").unwrap(), RecordType::A);
        assert!(!udp::breaks_only_in_additionals(&wire, 7, &other));
        let mut not_response = wire.clone();
        not_response[2] &= 0x7f;
        assert!(!udp::breaks_only_in_additionals(&not_response, 7, &q));
        // Broken before the additional section: noise too.
        let mut broken_question = response(7, "www.a.tld1.", RecordType::A).to_vec().unwrap();
        broken_question.truncate(broken_question.len() - 2);
        assert!(Message::from_vec(&broken_question).is_err());
        assert!(!udp::breaks_only_in_additionals(&broken_question, 7, &q));
        // Too short for a header.
        assert!(!udp::breaks_only_in_additionals(&wire[..5], 7, &q));
    }
}
