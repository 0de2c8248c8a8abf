//! The TCP listener (RFC 7766): a cap on open connections, 2-byte length
//! framing, several queries per connection answered as they complete, an
//! idle timeout, and a drain on shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tracing::{debug, warn};

use super::handler::{Handler, Transport};

/// Connections open at once per listener. Each costs a task, buffers and a
/// file descriptor; past the cap, new connections wait in the kernel's
/// backlog until one closes.
pub const MAX_TCP_CONNECTIONS: usize = 256;

/// How long a connection may sit with nothing to read and nothing to
/// answer before it is closed (RFC 7766 §6.2.3 suggests seconds, not
/// minutes; Unbound's `tcp-idle-timeout` defaults to 30 s).
pub const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(10);

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

/// Accepts connections on `listener` until `shutdown` turns true, then
/// waits for the open connections to finish the queries they read (the
/// caller bounds that wait).
pub async fn serve(
    listener: TcpListener,
    handler: Arc<Handler>,
    mut shutdown: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(MAX_TCP_CONNECTIONS));
    let mut connections = JoinSet::new();
    loop {
        let permit = tokio::select! {
            biased;
            _ = super::stopped(&mut shutdown) => break,
            permit = Arc::clone(&permits).acquire_owned() => permit,
        };
        let Ok(permit) = permit else { break };
        let accepted = tokio::select! {
            biased;
            _ = super::stopped(&mut shutdown) => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, client)) => {
                handler.counters().tcp_connection();
                let connection = Connection {
                    handler: Arc::clone(&handler),
                    client,
                    shutdown: shutdown.clone(),
                    _permit: permit,
                };
                connections.spawn(connection.serve(stream));
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
    _permit: OwnedSemaphorePermit,
}

impl Connection {
    /// Reads frames, answers them concurrently, writes replies as they
    /// complete; ends on EOF, error, idle timeout or shutdown (after
    /// answering what was read).
    async fn serve(mut self, stream: TcpStream) {
        let (mut reader, mut writer) = stream.into_split();
        let mut buffer = Vec::with_capacity(READ_CHUNK);
        let mut chunk = vec![0u8; READ_CHUNK];
        let mut pending = FuturesUnordered::new();
        let mut reading = true;
        loop {
            while reading && pending.len() < MAX_TCP_PIPELINE {
                let Some(frame) = take_frame(&mut buffer) else {
                    break;
                };
                pending.push(answer(Arc::clone(&self.handler), frame, self.client));
            }
            if !reading && pending.is_empty() {
                break;
            }
            let room = pending.len() < MAX_TCP_PIPELINE;
            tokio::select! {
                biased;
                Some(reply) = pending.next(), if !pending.is_empty() => {
                    if let Some(reply) = reply
                        && !write_frame(&mut writer, &reply).await
                    {
                        break;
                    }
                }
                _ = super::stopped(&mut self.shutdown), if reading => reading = false,
                read = reader.read(&mut chunk), if reading && room => match read {
                    Ok(0) => reading = false,
                    Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                    Err(error) => {
                        debug!(client = %self.client, "TCP read failed: {error}");
                        reading = false;
                    }
                },
                _ = tokio::time::sleep(TCP_IDLE_TIMEOUT), if reading && pending.is_empty() => {
                    debug!(client = %self.client, "TCP connection idle, closing");
                    break;
                }
            }
        }
        // Best effort: tell the client we are done.
        let _ = writer.shutdown().await;
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
}
