//! The critical path of a resolution: the chain of exchanges that set its
//! total time, found from when each query left and each reply came back.

use std::net::SocketAddr;
use std::sync::{Mutex, PoisonError};

use tokio::time::Instant;

use crate::trace::{Event, HopId, Observer};

/// One upstream exchange as timed by [`ExchangeRecorder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exchange {
    /// The hop.
    pub hop: HopId,
    /// Where it went.
    pub server: SocketAddr,
    /// When the query left.
    pub sent: Instant,
    /// When the reply came or the try failed.
    pub done: Instant,
}

/// An observer that times each exchange and nothing else.
#[derive(Debug, Default)]
pub struct ExchangeRecorder {
    exchanges: Mutex<Vec<Exchange>>,
}

impl ExchangeRecorder {
    /// The exchanges seen, finished ones only.
    pub fn exchanges(&self) -> Vec<Exchange> {
        let all = self
            .exchanges
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        all.iter().filter(|e| e.done > e.sent).copied().collect()
    }
}

impl Observer for ExchangeRecorder {
    fn event(&self, event: Event) {
        let now = Instant::now();
        let mut all = self
            .exchanges
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match event {
            Event::QuerySent { hop, server, .. } => {
                all.push(Exchange {
                    hop,
                    server,
                    sent: now,
                    done: now,
                });
            }
            Event::ResponseReceived { hop, .. } | Event::QueryFailed { hop, .. } => {
                if let Some(e) = all.iter_mut().find(|e| e.hop == hop) {
                    e.done = now;
                }
            }
            _ => {}
        }
    }
}

/// The chain of exchanges ending with the last reply, each one the latest
/// to finish before the next one was sent. Exchanges that ran in parallel
/// with the chain are off it. Returned in time order.
pub fn critical_path(exchanges: &[Exchange]) -> Vec<Exchange> {
    let mut path = Vec::new();
    let Some(mut current) = exchanges.iter().max_by_key(|e| e.done).copied() else {
        return path;
    };
    path.push(current);
    // Each step moves to an exchange that finished strictly earlier, so
    // this ends after at most `exchanges.len()` steps.
    while let Some(previous) = exchanges
        .iter()
        .filter(|e| e.done <= current.sent && e.hop != current.hop)
        .max_by_key(|e| e.done)
        .copied()
    {
        path.push(previous);
        current = previous;
    }
    path.reverse();
    path
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ex(hop: HopId, base: Instant, sent: u64, done: u64) -> Exchange {
        Exchange {
            hop,
            server: "127.0.0.1:53".parse().unwrap(),
            sent: base + Duration::from_millis(sent),
            done: base + Duration::from_millis(done),
        }
    }

    #[test]
    fn sequential_exchanges_are_all_on_the_path() {
        let t = Instant::now();
        let all = [ex(1, t, 0, 10), ex(2, t, 11, 20), ex(3, t, 21, 30)];
        let hops: Vec<_> = critical_path(&all).iter().map(|e| e.hop).collect();
        assert_eq!(hops, [1, 2, 3]);
    }

    #[test]
    fn parallel_branch_that_finished_first_is_off_the_path() {
        let t = Instant::now();
        // 2 and 3 run in parallel after 1; 4 starts after 3 (the slower).
        let all = [
            ex(1, t, 0, 10),
            ex(2, t, 11, 15),
            ex(3, t, 11, 30),
            ex(4, t, 31, 40),
        ];
        let hops: Vec<_> = critical_path(&all).iter().map(|e| e.hop).collect();
        assert_eq!(hops, [1, 3, 4]);
        assert!(critical_path(&[]).is_empty());
    }
}
