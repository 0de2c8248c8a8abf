//! One TCP exchange with two-byte length framing (RFC 1035 §4.2.2).

use std::net::SocketAddr;
use std::time::Duration;

use hickory_proto::op::{Message, Query};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{TransportError, is_answer};

pub(super) async fn exchange(
    server: SocketAddr,
    wire: &[u8],
    id: u16,
    question: &Query,
    timeout: Duration,
) -> Result<(Message, usize), TransportError> {
    tokio::time::timeout(timeout, exchange_inner(server, wire, id, question))
        .await
        .map_err(|_| TransportError::Timeout(timeout))?
}

async fn exchange_inner(
    server: SocketAddr,
    wire: &[u8],
    id: u16,
    question: &Query,
) -> Result<(Message, usize), TransportError> {
    let len = u16::try_from(wire.len())
        .map_err(|_| TransportError::Encode("query longer than 65535 bytes".into()))?;
    let mut stream = TcpStream::connect(server)
        .await
        .map_err(TransportError::from_io)?;
    let mut framed = Vec::with_capacity(wire.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(wire);
    stream
        .write_all(&framed)
        .await
        .map_err(TransportError::from_io)?;

    let mut prefix = [0u8; 2];
    stream
        .read_exact(&mut prefix)
        .await
        .map_err(TransportError::from_io)?;
    let mut buf = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
    stream
        .read_exact(&mut buf)
        .await
        .map_err(TransportError::from_io)?;
    let message = Message::from_vec(&buf).map_err(|e| TransportError::Malformed(e.to_string()))?;
    if !is_answer(&message, id, question) {
        return Err(TransportError::Malformed(
            "reply does not match the query".into(),
        ));
    }
    Ok((message, buf.len()))
}
