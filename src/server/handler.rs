//! One client message to one reply: the ACL, the header checks, the
//! coalesced resolution, the size limit, the counters, all inside the
//! message's `query` span.

use std::net::SocketAddr;
use std::sync::Arc;

use hickory_proto::op::ResponseCode;
use tracing::{Instrument, debug, field, info_span};

use super::acl::Acl;
use super::coalesce::{InFlight, Role};
use super::counters::Counters;
use super::packet::{self, TCP_MESSAGE_MAX, UDP_PAYLOAD_PLAIN, Verdict};
use crate::resolve::Resolver;

/// How a message arrived; it decides the reply size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// A datagram: the client's EDNS size, or 512.
    Udp,
    /// A TCP frame: up to 65535 bytes.
    Tcp,
}

/// Everything a listener needs to answer: shared by all listener tasks.
pub struct Handler {
    resolver: Resolver,
    acl: Acl,
    in_flight: InFlight,
    counters: Arc<Counters>,
}

impl Handler {
    /// A handler answering with `resolver` the clients `acl` allows.
    pub fn new(resolver: Resolver, acl: Acl) -> Self {
        Self {
            resolver,
            acl,
            in_flight: InFlight::default(),
            counters: Arc::new(Counters::default()),
        }
    }

    /// The live counters.
    pub fn counters(&self) -> &Arc<Counters> {
        &self.counters
    }

    /// The wire reply to the message `bytes` from `client`, or `None` when
    /// it deserves none.
    pub async fn handle(
        &self,
        bytes: &[u8],
        client: SocketAddr,
        transport: Transport,
    ) -> Option<Vec<u8>> {
        self.counters.received();
        let span = info_span!(
            "query",
            client = %client,
            qname = field::Empty,
            qtype = field::Empty
        );
        self.answer(bytes, client, transport).instrument(span).await
    }

    async fn answer(
        &self,
        bytes: &[u8],
        client: SocketAddr,
        transport: Transport,
    ) -> Option<Vec<u8>> {
        let (reply, udp_limit) = match packet::judge(bytes, self.acl.allows(client.ip())) {
            Verdict::Drop => {
                debug!(len = bytes.len(), "dropped: no readable query header");
                self.counters.dropped();
                return None;
            }
            Verdict::Reply(reply) => (*reply, UDP_PAYLOAD_PLAIN),
            Verdict::Resolve(query) => {
                let span = tracing::Span::current();
                span.record("qname", field::display(query.question.name()));
                span.record("qtype", field::display(query.question.query_type()));
                let (resolved, role) = self
                    .in_flight
                    .resolve(
                        &self.resolver,
                        query.question.name(),
                        query.question.query_type(),
                    )
                    .await;
                if role == Role::Follower {
                    self.counters.coalesced();
                }
                let reply = match resolved {
                    Some(result) => packet::answer_reply(&query.message, &result),
                    None => packet::error_reply(&query.message, ResponseCode::ServFail),
                };
                (reply, packet::udp_limit(&query.message))
            }
        };
        let limit = match transport {
            Transport::Udp => udp_limit,
            Transport::Tcp => TCP_MESSAGE_MAX,
        };
        let Some(encoded) = packet::encode(&reply, limit) else {
            debug!("dropped: reply cannot be encoded");
            self.counters.dropped();
            return None;
        };
        if encoded.truncated {
            self.counters.truncated();
        }
        debug!(
            rcode = %encoded.rcode,
            truncated = encoded.truncated,
            len = encoded.bytes.len(),
            "reply"
        );
        self.counters.replied(encoded.rcode);
        Some(encoded.bytes)
    }
}
