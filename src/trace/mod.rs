//! The observer the engine reports to: typed events, each tied to the hop
//! (upstream exchange) or resolution it belongs to, so side resolutions can
//! be nested under the hop that needed them.
//!
//! The engine never prints. `rootwalk trace` passes a recorder, the daemon
//! passes [`NullObserver`], whose empty method the compiler removes.
//!
//! - [`recorder`]: [`recorder::TraceRecorder`] keeps the events and builds
//!   the [`tree::Trace`]: resolutions, hops, nested side resolutions.
//! - [`render`]: the trace as text (dig +trace-like), JSON or Graphviz DOT.
//! - [`dnssec`]: the facts behind a DNSSEC note (DS, keys, RRSIGs, NSEC).

mod assemble;
mod critical;
pub mod dnssec;
pub mod recorder;
pub mod render;
pub mod tree;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, Record, RecordType};

use crate::net::Protocol;
use dnssec::DnssecFacts;

/// Identifies one upstream exchange within a client question.
pub type HopId = u32;
/// Identifies one resolution (the client's, or a nested side resolution).
pub type ResolutionId = u32;

/// Why a resolution was started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// The client's question.
    Client,
    /// The address of a name server of `zone` that came without glue.
    Target {
        /// The zone whose server needs an address.
        zone: Name,
    },
}

/// Where the address a query went to came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrSource {
    /// The root hints.
    Hints,
    /// Glue in the referral that named the server.
    Glue,
    /// The cache (learnt earlier in this or another resolution).
    Cache,
    /// A side resolution of the server's name.
    SideResolution,
}

/// A name server of a referral and the glue that came with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralServer {
    /// The NS name.
    pub name: Name,
    /// Glue addresses kept by the scrubber (empty: glueless).
    pub glue: Vec<IpAddr>,
}

/// Something the engine did or saw.
#[derive(Debug, Clone)]
pub enum Event {
    /// A resolution began.
    ResolutionStarted {
        /// This resolution.
        id: ResolutionId,
        /// The hop that needed it (side resolutions) or `None` (client).
        parent_hop: Option<HopId>,
        /// Name asked for.
        qname: Name,
        /// Type asked for.
        qtype: RecordType,
        /// Why.
        purpose: Purpose,
    },
    /// A resolution ended.
    ResolutionFinished {
        /// The resolution.
        id: ResolutionId,
        /// Its RCODE (SERVFAIL when it failed).
        rcode: ResponseCode,
        /// Why it failed, if it did.
        error: Option<String>,
        /// Wall time.
        elapsed: Duration,
    },
    /// A query went out.
    QuerySent {
        /// This exchange.
        hop: HopId,
        /// The resolution it serves.
        resolution: ResolutionId,
        /// The zone cut the server was asked as.
        zone: Name,
        /// The server's name.
        server_name: Name,
        /// Where the query went.
        server: SocketAddr,
        /// Where that address came from.
        addr_source: AddrSource,
        /// Question name.
        qname: Name,
        /// Question type.
        qtype: RecordType,
    },
    /// A matching reply arrived.
    ResponseReceived {
        /// The exchange.
        hop: HopId,
        /// Its RCODE.
        rcode: ResponseCode,
        /// AA flag.
        authoritative: bool,
        /// The transport of the final reply.
        protocol: Protocol,
        /// Whether UDP was truncated and TCP used.
        tcp_fallback: bool,
        /// Reply size in bytes.
        bytes: usize,
        /// Round trip time.
        rtt: Duration,
        /// Answer, authority, additional record counts.
        counts: [usize; 3],
        /// Non-matching replies ignored while waiting (spoofing attempts).
        ignored: u32,
    },
    /// No usable reply (timeout, refused port, network error).
    QueryFailed {
        /// The exchange.
        hop: HopId,
        /// What happened.
        error: String,
        /// Whether it was a timeout (no reply at all before the deadline).
        timed_out: bool,
    },
    /// The scrubber dropped records from a reply.
    RecordsDropped {
        /// The exchange.
        hop: HopId,
        /// Each dropped record (presentation format) with the reason.
        records: Vec<(String, String)>,
    },
    /// The reply was a referral, and the walk follows it.
    Referral {
        /// The exchange.
        hop: HopId,
        /// The delegated zone.
        zone: Name,
        /// Its name servers, with glue if any.
        servers: Vec<ReferralServer>,
        /// The NS records and the glue records the scrubber kept.
        records: Vec<Record>,
    },
    /// The server was lame for the zone asked (bad referral, REFUSED,
    /// SERVFAIL, not authoritative ...).
    Lame {
        /// The exchange.
        hop: HopId,
        /// Why.
        reason: String,
        /// For a referral to a zone not below the one asked (upward or
        /// sideways): the zone it pointed to.
        bad_referral: Option<Name>,
    },
    /// The final answer or a CNAME link came from this exchange.
    Answer {
        /// The exchange.
        hop: HopId,
        /// The records: the CNAME chain and the final RRset, if any.
        records: Vec<Record>,
    },
    /// A CNAME moved the resolution to a new name.
    CnameRestart {
        /// The resolution.
        resolution: ResolutionId,
        /// The alias.
        from: Name,
        /// Its target.
        to: Name,
    },
    /// A name server of a zone cut was not tried.
    ServerSkipped {
        /// The hop whose referral named it, when known.
        hop: Option<HopId>,
        /// The zone cut.
        zone: Name,
        /// The server's name.
        server_name: Name,
        /// Why it was skipped.
        reason: String,
    },
    /// What DNSSEC validation concluded at a hop: a zone's trust (its DS
    /// and DNSKEY), or the verdict on the hop's reply.
    Dnssec {
        /// The exchange it concerns.
        hop: HopId,
        /// One line, `SUBJECT: STATUS (DETAILS)`, e.g.
        /// `a.tld1.: secure (DS 4242/13/2 -> DNSKEY 4242 KSK; ...)`.
        text: String,
        /// What the line says, as data: DS, keys, RRSIGs, NSEC records.
        facts: DnssecFacts,
    },
    /// Data came from the cache instead of the network.
    CacheHit {
        /// The resolution.
        resolution: ResolutionId,
        /// What was found, e.g. `www.a.tld1. A` or `zone cut tld1.`.
        what: String,
    },
}

/// Receives the engine's events. Implementations must be cheap: the engine
/// calls this inline.
pub trait Observer: Send + Sync {
    /// Whether this observer wants events at all; the engine does not even
    /// build them when it says no.
    fn enabled(&self) -> bool {
        true
    }

    /// Called for every event; the default does nothing.
    fn event(&self, _event: Event) {}

    /// Called as each upstream query is sent, whether or not the observer
    /// wants events: a counter that costs no event to build (the daemon
    /// counts upstream work as it happens with it). The default does
    /// nothing.
    fn upstream_query_sent(&self) {}
}

/// Reports the event `make` builds, if `observer` wants events.
pub fn emit(observer: &dyn Observer, make: impl FnOnce() -> Event) {
    if observer.enabled() {
        observer.event(make());
    }
}

/// An observer that ignores everything (the daemon's).
#[derive(Debug, Default, Clone, Copy)]
pub struct NullObserver;

impl Observer for NullObserver {
    fn enabled(&self) -> bool {
        false
    }
}
