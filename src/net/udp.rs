//! One UDP exchange: fresh socket, connected to the server, wait for the
//! matching reply and ignore the rest.

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
            _ => {
                tracing::debug!(%server, len, "ignored a reply that does not match the query");
                ignored += 1;
            }
        }
    }
}
