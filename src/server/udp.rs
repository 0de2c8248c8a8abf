//! The UDP listener: one receive loop per socket. A datagram the cache can
//! answer is answered on the loop itself, with no task and no wait; only
//! one that needs a resolution gets a task, under a cap on datagrams in
//! work. On shutdown the loop stops reading and drains its tasks.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tracing::{debug, warn};

use super::handler::{Handler, Immediate, Transport};

/// Datagrams one socket works on at once. Beyond it new datagrams are
/// dropped (and counted): a stub retries, and a flood cannot make the
/// daemon hold unbounded tasks and memory. Unbound's `num-queries-per-thread`
/// plays the same role.
pub const MAX_UDP_IN_FLIGHT: usize = 1024;

/// Largest datagram read; anything bigger is cut by the kernel and then
/// fails to parse.
const RECEIVE_BUFFER: usize = 65_535;

/// Pause after a receive error, so a persistent one cannot spin the loop.
const RECEIVE_ERROR_PAUSE: Duration = Duration::from_millis(10);

/// Serves `socket` until `shutdown` turns true, then waits for the
/// datagrams in work (the caller bounds that wait).
pub async fn serve(socket: UdpSocket, handler: Arc<Handler>, mut shutdown: watch::Receiver<bool>) {
    let socket = Arc::new(socket);
    let permits = Arc::new(Semaphore::new(MAX_UDP_IN_FLIGHT));
    let mut tasks = JoinSet::new();
    let mut buffer = vec![0u8; RECEIVE_BUFFER];
    loop {
        let received = tokio::select! {
            biased;
            _ = super::stopped(&mut shutdown) => break,
            received = socket.recv_from(&mut buffer) => received,
        };
        match received {
            Ok((len, client)) => {
                let pending = match handler.answer_now(&buffer[..len], client, Transport::Udp) {
                    Immediate::Done(reply) => {
                        if let Some(reply) = reply {
                            send(&socket, &reply, client).await;
                        }
                        continue;
                    }
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
                        send(&socket, &reply, client).await;
                    }
                    drop(permit);
                });
                reap(&mut tasks);
            }
            Err(error) => {
                debug!("UDP receive error: {error}");
                tokio::time::sleep(RECEIVE_ERROR_PAUSE).await;
            }
        }
    }
    while let Some(joined) = tasks.join_next().await {
        report(joined);
    }
}

/// Sends one reply; a failure (the client's port unreachable, a full
/// buffer) loses only this reply, as UDP may.
async fn send(socket: &UdpSocket, reply: &[u8], client: SocketAddr) {
    if let Err(error) = socket.send_to(reply, client).await {
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
