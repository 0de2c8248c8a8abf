//! What the daemon did, counted: lock-free counters updated per message and
//! a plain snapshot to print at exit or on SIGUSR1.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use hickory_proto::op::ResponseCode;

/// Live counters, shared by every listener task.
#[derive(Debug, Default)]
pub struct Counters {
    received: AtomicU64,
    dropped: AtomicU64,
    noerror: AtomicU64,
    nxdomain: AtomicU64,
    servfail: AtomicU64,
    refused: AtomicU64,
    formerr: AtomicU64,
    notimp: AtomicU64,
    other_rcode: AtomicU64,
    truncated: AtomicU64,
    coalesced: AtomicU64,
    tcp_connections: AtomicU64,
}

/// The counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CounterSnapshot {
    /// Messages received (UDP datagrams and TCP frames).
    pub received: u64,
    /// Messages given no reply: unreadable header, QR=1, or over capacity.
    pub dropped: u64,
    /// Replies with NOERROR.
    pub noerror: u64,
    /// Replies with NXDOMAIN.
    pub nxdomain: u64,
    /// Replies with SERVFAIL.
    pub servfail: u64,
    /// Replies with REFUSED (ACL, class, zone transfer).
    pub refused: u64,
    /// Replies with FORMERR.
    pub formerr: u64,
    /// Replies with NOTIMP.
    pub notimp: u64,
    /// Replies with any other rcode (e.g. BADVERS).
    pub other_rcode: u64,
    /// UDP replies cut to the question with TC=1.
    pub truncated: u64,
    /// Queries answered by joining a resolution already in flight.
    pub coalesced: u64,
    /// TCP connections accepted.
    pub tcp_connections: u64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    /// A message arrived.
    pub fn received(&self) {
        bump(&self.received);
    }

    /// A message got no reply.
    pub fn dropped(&self) {
        bump(&self.dropped);
    }

    /// A reply with `rcode` was sent.
    pub fn replied(&self, rcode: ResponseCode) {
        bump(match rcode {
            ResponseCode::NoError => &self.noerror,
            ResponseCode::NXDomain => &self.nxdomain,
            ResponseCode::ServFail => &self.servfail,
            ResponseCode::Refused => &self.refused,
            ResponseCode::FormErr => &self.formerr,
            ResponseCode::NotImp => &self.notimp,
            _ => &self.other_rcode,
        });
    }

    /// A reply was truncated.
    pub fn truncated(&self) {
        bump(&self.truncated);
    }

    /// A query joined a resolution in flight.
    pub fn coalesced(&self) {
        bump(&self.coalesced);
    }

    /// A TCP connection was accepted.
    pub fn tcp_connection(&self) {
        bump(&self.tcp_connections);
    }

    /// The values now.
    pub fn snapshot(&self) -> CounterSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CounterSnapshot {
            received: get(&self.received),
            dropped: get(&self.dropped),
            noerror: get(&self.noerror),
            nxdomain: get(&self.nxdomain),
            servfail: get(&self.servfail),
            refused: get(&self.refused),
            formerr: get(&self.formerr),
            notimp: get(&self.notimp),
            other_rcode: get(&self.other_rcode),
            truncated: get(&self.truncated),
            coalesced: get(&self.coalesced),
            tcp_connections: get(&self.tcp_connections),
        }
    }
}

impl CounterSnapshot {
    /// Replies sent, whatever their rcode.
    pub fn replies(&self) -> u64 {
        self.noerror
            + self.nxdomain
            + self.servfail
            + self.refused
            + self.formerr
            + self.notimp
            + self.other_rcode
    }
}

impl fmt::Display for CounterSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} received, {} replies ({} NOERROR, {} NXDOMAIN, {} SERVFAIL, {} REFUSED, \
             {} FORMERR, {} NOTIMP, {} other), {} dropped, {} truncated, {} coalesced, \
             {} TCP connections",
            self.received,
            self.replies(),
            self.noerror,
            self.nxdomain,
            self.servfail,
            self.refused,
            self.formerr,
            self.notimp,
            self.other_rcode,
            self.dropped,
            self.truncated,
            self.coalesced,
            self.tcp_connections
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_counted_by_rcode() {
        let counters = Counters::default();
        counters.received();
        counters.replied(ResponseCode::ServFail);
        counters.replied(ResponseCode::ServFail);
        counters.replied(ResponseCode::BADVERS);
        counters.dropped();
        let snap = counters.snapshot();
        assert_eq!(snap.servfail, 2);
        assert_eq!(snap.other_rcode, 1);
        assert_eq!(snap.replies(), 3);
        assert!(snap.to_string().contains("2 SERVFAIL"));
    }
}
