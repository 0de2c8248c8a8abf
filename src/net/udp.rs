//! One UDP exchange: fresh socket, connected to the server, wait for the
//! matching reply and ignore the rest.
//!
//! One exception to "ignore the rest": when the query carried EDNS and a
//! datagram with QR=1 and the query's ID does not decode, but does once its
//! additional section is cut off (ARCOUNT set to 0) and then answers the
//! question, the server mangled its OPT record (or another additional
//! record): that is [`TransportError::BadOpt`], not noise to wait past.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use hickory_proto::op::{Message, Query};
use tokio::net::UdpSocket;
use tokio::time::Instant;

use super::{TransportError, is_answer};

/// Largest datagram we read; EDNS payloads above this are not advertised.
const RECV_BUFFER: usize = 65_535;

pub(super) struct UdpReply {
    pub message: Message,
    pub bytes: usize,
    pub ignored: u32,
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
    let local: SocketAddr = if server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local)
        .await
        .map_err(TransportError::from_io)?;
    // A connected socket only delivers datagrams from the server's address
    // and port: the kernel does the source check for us.
    socket
        .connect(server)
        .await
        .map_err(TransportError::from_io)?;
    socket.send(wire).await.map_err(TransportError::from_io)?;

    let mut buf = vec![0u8; RECV_BUFFER];
    let mut ignored = 0;
    loop {
        let received = tokio::time::timeout_at(deadline, socket.recv(&mut buf)).await;
        let len = match received {
            Err(_) => return Err(TransportError::Timeout(started.elapsed())),
            Ok(Err(e)) => return Err(TransportError::from_io(e)),
            Ok(Ok(len)) => len,
        };
        match Message::from_vec(&buf[..len]) {
            Ok(message) if is_answer(&message, id, question) => {
                return Ok(UdpReply {
                    message,
                    bytes: len,
                    ignored,
                });
            }
            Err(_) if edns && breaks_only_in_additionals(&buf[..len], id, question) => {
                tracing::debug!(%server, len, "reply decodes only without its additional section");
                return Err(TransportError::BadOpt(started.elapsed()));
            }
            _ => {
                tracing::debug!(%server, len, "ignored a reply that does not match the query");
                ignored += 1;
            }
        }
    }
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
