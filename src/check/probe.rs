//! Direct questions to one server address, as a checker asks them: no
//! cache, no walk, every reply through the bailiwick scrubber and the
//! classifier like the resolver's own.
//!
//! A parent server is asked `ZONE NS` and should refer to ZONE with the NS
//! set and glue ([`ParentView`]). A name server of ZONE is asked the apex
//! SOA and NS and the addresses of the zone's own name servers, and should
//! answer all of them authoritatively ([`ChildView`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use futures_util::future::{join, join_all};
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::opt::{EdnsCode, EdnsOption};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::net::UdpSocket;
use tokio::time::{Instant, timeout_at};

use super::soa::SoaTimers;
use crate::net::{Transport, TransportError, is_answer};
use crate::resolve::classify::{ResponseKind, classify};
use crate::resolve::delegation::addresses_of;
use crate::resolve::scrub::{Scrubbed, covered_type, scrub};

/// Tries per question before a silent server counts as timed out: one
/// lost datagram should not make a healthy server look lame.
pub const PROBE_TRIES: u32 = 2;

/// The EDNS version the compliance probe asks with to see BADVERS: one
/// above the only version defined (RFC 6891 §6.1.3), as the 2019 EDNS flag
/// day tests (ednscomp `edns1`) did.
pub const EDNS_PROBE_VERSION: u8 = 1;

/// The option code the compliance probe sends to see it ignored: 65001 is
/// in the range RFC 6891 §9 reserves for local and experimental use, so no
/// server implements it.
pub const EDNS_PROBE_OPTION: u16 = 65001;

/// The UDP payload size the EDNS compliance probes advertise (the 2020
/// DNS flag day value): large enough for an apex SOA, small enough to pass
/// any path.
pub const EDNS_PROBE_PAYLOAD: u16 = 1232;

/// Largest datagram read back from a probed server.
const EDNS_PROBE_BUFFER: usize = 4096;

/// A name server at one address.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Server {
    /// Its host name.
    pub name: Name,
    /// One of its addresses.
    pub addr: IpAddr,
}

impl fmt::Display for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name, self.addr)
    }
}

/// Name-server host names mapped to addresses.
pub type AddressMap = BTreeMap<Name, BTreeSet<IpAddr>>;

/// A zone cut as one parent server publishes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delegation {
    /// The NS set.
    pub ns: BTreeSet<Name>,
    /// Glue the scrubber kept: addresses of NS names inside the parent's
    /// zone, in-domain and sibling alike.
    pub glue: AddressMap,
    /// Whether the parent server answered with the zone's own NS set
    /// (AA=1: it serves the child too) instead of a referral; its glue then
    /// says nothing about what other resolvers are sent.
    pub from_child: bool,
}

/// Why a question got no usable reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeError {
    /// This host cannot reach the address at all (no route): the server
    /// is untested, not lame.
    Unreachable(String),
    /// The server was reached and failed: timeout, port closed, error
    /// RCODE, no authority.
    Failed(String),
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeError::Unreachable(why) | ProbeError::Failed(why) => f.write_str(why),
        }
    }
}

/// What one parent server says about the zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParentView {
    /// A referral to the zone (or, from a server that also serves the
    /// zone, its authoritative NS set).
    Delegation(Delegation),
    /// The name exists in the parent but is not delegated.
    NotDelegated,
    /// The name does not exist (NXDOMAIN).
    NxDomain,
    /// No usable reply: timeout, refusal, error RCODE, wrong referral.
    Unusable(String),
    /// Not reachable from this host; nothing learnt.
    Unreachable(String),
}

/// What one address of one name server of the zone says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildView {
    /// It answers authoritatively for the zone.
    Serving {
        /// The apex SOA serial.
        serial: u32,
        /// The apex SOA timers.
        timers: SoaTimers,
        /// Why the apex SOA could not be had over TCP, when it could not.
        tcp_problem: Option<String>,
        /// The apex NS set.
        ns: BTreeSet<Name>,
        /// Authoritative addresses of the zone's in-zone name servers.
        addresses: AddressMap,
    },
    /// It does not (RFC 9499 §7: a lame delegation).
    Lame(String),
    /// Not reachable from this host; nothing learnt.
    Unreachable(String),
}

/// What one parent server publishes as the zone's DS RRset, asked with
/// DO=1 (RFC 4035 §3.1.4.1: the parent side answers DS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DsView {
    /// An authoritative answer: the DS records (none for NODATA) and the
    /// RRSIGs over them.
    Answered {
        /// The DS records at the zone's name.
        ds: Vec<Record>,
        /// Their RRSIGs.
        rrsigs: Vec<Record>,
    },
    /// No usable answer; nothing learnt about DS from this server.
    Failed(String),
}

/// What one address of a name server of the zone serves at the apex for
/// DNSSEC, asked with DO=1: each RRset with the RRSIGs over it (all
/// empty for an unsigned zone).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyView {
    /// The DNSKEY RRset.
    pub dnskeys: Vec<Record>,
    /// RRSIGs over the DNSKEY RRset.
    pub dnskey_sigs: Vec<Record>,
    /// The apex SOA.
    pub soa: Vec<Record>,
    /// RRSIGs over the SOA.
    pub soa_sigs: Vec<Record>,
    /// The NSEC3PARAM RRset (empty for NSEC or unsigned zones).
    pub nsec3param: Vec<Record>,
    /// Whether the DNSKEY question got an authoritative answer (an empty
    /// set then means the zone has no keys).
    pub dnskey_answered: bool,
    /// Questions that got no usable answer, with why.
    pub problems: Vec<String>,
}

/// How one server address replied to one EDNS compliance probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EdnsReply {
    /// A reply matching the query.
    Reply {
        /// Its RCODE, extended by the OPT record's high bits.
        rcode: ResponseCode,
        /// The version of its OPT record; `None` without one.
        opt_version: Option<u8>,
        /// Whether the answer section holds the apex SOA asked for.
        answered: bool,
        /// Whether the reply echoes the probe's unknown option (RFC 6891
        /// §6.1.2: unknown options are ignored, not echoed).
        echoed_option: bool,
    },
    /// No reply within [`PROBE_TRIES`] tries, or the send failed.
    NoReply(String),
}

/// What one address of a name server of the zone did with the EDNS
/// compliance probes, each the apex SOA asked with RD=0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdnsView {
    /// A plain EDNS0 query: an answer with an OPT record is expected.
    pub plain: EdnsReply,
    /// EDNS version [`EDNS_PROBE_VERSION`]: BADVERS with an OPT of version
    /// 0 is expected (RFC 6891 §6.1.3).
    pub version: EdnsReply,
    /// EDNS0 with option [`EDNS_PROBE_OPTION`]: the same answer as the
    /// plain query is expected (RFC 6891 §6.1.2).
    pub option: EdnsReply,
}

/// Asks servers questions directly.
#[derive(Debug, Clone)]
pub struct Prober {
    transport: Transport,
    /// The same transport with DO=1, for the DNSSEC questions only: the
    /// other questions stay as small as a plain resolver's.
    dnssec: Transport,
    port: u16,
}

impl Prober {
    /// A prober sending to `port` over `transport`.
    pub fn new(transport: Transport, port: u16) -> Self {
        let dnssec = transport.clone().with_dnssec_ok(true);
        Self {
            transport,
            dnssec,
            port,
        }
    }

    /// Asks `server`, as a server of `zone`, for `qname`/`qtype`; a
    /// timeout is retried up to [`PROBE_TRIES`] times.
    pub async fn ask(
        &self,
        server: IpAddr,
        zone: &Name,
        qname: &Name,
        qtype: RecordType,
    ) -> Result<Scrubbed, ProbeError> {
        self.ask_over(&self.transport, server, zone, qname, qtype)
            .await
    }

    async fn ask_over(
        &self,
        transport: &Transport,
        server: IpAddr,
        zone: &Name,
        qname: &Name,
        qtype: RecordType,
    ) -> Result<Scrubbed, ProbeError> {
        let query = Query::query(qname.clone(), qtype);
        let to = SocketAddr::new(server, self.port);
        let mut tries = 0;
        loop {
            tries += 1;
            match transport.exchange(to, &query).await {
                Ok(reply) if is_edns_formerr(&reply.message) => {
                    // RFC 6891 §7: a FORMERR without OPT to a query with
                    // one means the server knows no EDNS; ask again
                    // without, as resolvers do, so the server is judged
                    // on its data (the EDNS probes report the EDNS fault).
                    let deadline = Instant::now() + transport.timeout();
                    let reply = match transport.query(to, &query, false, deadline).await {
                        Ok(plain) => plain,
                        Err(_) => reply,
                    };
                    return Ok(scrub(reply.message, zone, &query));
                }
                Ok(reply) => return Ok(scrub(reply.message, zone, &query)),
                Err(TransportError::Timeout(_)) if tries < PROBE_TRIES => continue,
                Err(TransportError::Timeout(after)) => {
                    return Err(ProbeError::Failed(format!(
                        "no reply ({tries} tries of {after:?})"
                    )));
                }
                Err(TransportError::Refused) => {
                    return Err(ProbeError::Failed(
                        "port closed (connection refused)".to_string(),
                    ));
                }
                Err(unreachable @ TransportError::Unreachable(_)) => {
                    return Err(ProbeError::Unreachable(unreachable.to_string()));
                }
                Err(other) => return Err(ProbeError::Failed(other.to_string())),
            }
        }
    }

    /// Asks a server of `parent` for the delegation of `zone`.
    pub async fn parent_view(&self, server: IpAddr, parent: &Name, zone: &Name) -> ParentView {
        let reply = match self.ask(server, parent, zone, RecordType::NS).await {
            Ok(reply) => reply,
            Err(ProbeError::Unreachable(why)) => return ParentView::Unreachable(why),
            Err(ProbeError::Failed(problem)) => return ParentView::Unusable(problem),
        };
        match classify(&reply) {
            ResponseKind::Referral { zone: to } if to == *zone => {
                ParentView::Delegation(delegation(&reply, reply.authority_ns(), false))
            }
            ResponseKind::Answer if reply.authoritative() => {
                ParentView::Delegation(delegation(&reply, reply.chain(), true))
            }
            ResponseKind::NoData => ParentView::NotDelegated,
            ResponseKind::NxDomain => ParentView::NxDomain,
            ResponseKind::Referral { zone: to } => {
                ParentView::Unusable(format!("referred to {to}, not to {zone}"))
            }
            ResponseKind::Lame(reason) => ParentView::Unusable(reason.to_string()),
            other => ParentView::Unusable(format!("unexpected reply: {other:?}")),
        }
    }

    /// Asks one address of a name server of `zone` for the apex SOA and NS
    /// and for the addresses of `in_zone` names plus the in-zone names of
    /// its own NS answer.
    pub async fn child_view(
        &self,
        server: IpAddr,
        zone: &Name,
        in_zone: &BTreeSet<Name>,
    ) -> ChildView {
        let (soa, ns) = join(
            self.authoritative(server, zone, RecordType::SOA),
            self.authoritative(server, zone, RecordType::NS),
        )
        .await;
        let (serial, timers) = match soa {
            Ok(records) => match records
                .iter()
                .find_map(|r| Some((soa_serial(r)?, SoaTimers::of(r)?)))
            {
                Some(found) => found,
                None => return ChildView::Lame("no SOA at the zone apex".to_string()),
            },
            Err(ProbeError::Unreachable(why)) => return ChildView::Unreachable(why),
            Err(ProbeError::Failed(problem)) => return ChildView::Lame(problem),
        };
        let ns: BTreeSet<Name> = match ns {
            Ok(records) => ns_targets(&records),
            Err(problem) => return ChildView::Lame(format!("apex NS: {problem}")),
        };
        let mut names: BTreeSet<Name> = in_zone.clone();
        names.extend(ns.iter().filter(|n| zone.zone_of(n)).cloned());
        let asks = names.iter().flat_map(|name| {
            [RecordType::A, RecordType::AAAA].map(|qtype| async move {
                let records = self.authoritative_at(server, zone, name, qtype).await;
                (name, records)
            })
        });
        let mut addresses = AddressMap::new();
        for (name, records) in join_all(asks).await {
            let entry = addresses.entry(name.clone()).or_default();
            if let Ok(records) = records {
                entry.extend(addresses_of(name, &records));
            }
        }
        ChildView::Serving {
            serial,
            timers,
            tcp_problem: self.tcp_soa(server, zone).await.err(),
            ns,
            addresses,
        }
    }

    /// Asks a server of `parent` for the DS RRset of `zone`, with DO=1.
    pub async fn ds_view(&self, server: IpAddr, parent: &Name, zone: &Name) -> DsView {
        let reply = match self
            .ask_over(&self.dnssec, server, parent, zone, RecordType::DS)
            .await
        {
            Ok(reply) => reply,
            Err(problem) => return DsView::Failed(problem.to_string()),
        };
        if !reply.authoritative() {
            return DsView::Failed("no authoritative answer to DS".to_string());
        }
        match classify(&reply) {
            ResponseKind::Answer => DsView::Answered {
                ds: of_type(reply.chain(), zone, RecordType::DS),
                rrsigs: reply.signatures().to_vec(),
            },
            ResponseKind::NoData => DsView::Answered {
                ds: Vec::new(),
                rrsigs: Vec::new(),
            },
            other => DsView::Failed(format!("unexpected reply to DS: {other:?}")),
        }
    }

    /// Asks one address of a name server of `zone` for the apex DNSKEY,
    /// SOA and NSEC3PARAM RRsets with their RRSIGs (DO=1).
    pub async fn key_view(&self, server: IpAddr, zone: &Name) -> KeyView {
        let ask = |qtype| self.ask_over(&self.dnssec, server, zone, zone, qtype);
        let (dnskey, (soa, param)) = join(
            ask(RecordType::DNSKEY),
            join(ask(RecordType::SOA), ask(RecordType::NSEC3PARAM)),
        )
        .await;
        let mut view = KeyView {
            dnskey_answered: dnskey.as_ref().is_ok_and(Scrubbed::authoritative),
            ..KeyView::default()
        };
        let mut take = |reply: Result<Scrubbed, ProbeError>, qtype| match reply {
            Ok(reply) if reply.authoritative() => {
                let sigs = reply
                    .signatures()
                    .iter()
                    .filter(|r| r.name == *zone && covered_type(r) == Some(qtype))
                    .cloned()
                    .collect();
                (of_type(reply.chain(), zone, qtype), sigs)
            }
            Ok(_) => {
                view.problems
                    .push(format!("{qtype}: not authoritative (AA=0)"));
                (Vec::new(), Vec::new())
            }
            Err(problem) => {
                view.problems.push(format!("{qtype}: {problem}"));
                (Vec::new(), Vec::new())
            }
        };
        let (dnskeys, dnskey_sigs) = take(dnskey, RecordType::DNSKEY);
        let (soa, soa_sigs) = take(soa, RecordType::SOA);
        let (nsec3param, _) = take(param, RecordType::NSEC3PARAM);
        KeyView {
            dnskeys,
            dnskey_sigs,
            soa,
            soa_sigs,
            nsec3param,
            ..view
        }
    }

    /// Asks one address of a name server of `zone` the apex SOA three
    /// ways, as the 2019 EDNS flag day tests did: plain EDNS0, EDNS version
    /// [`EDNS_PROBE_VERSION`], and EDNS0 with the unknown option
    /// [`EDNS_PROBE_OPTION`].
    pub async fn edns_view(&self, server: IpAddr, zone: &Name) -> EdnsView {
        let question = Query::query(zone.clone(), RecordType::SOA);
        let probe = |version: u8, option: bool| {
            let mut edns = Edns::new();
            edns.set_max_payload(EDNS_PROBE_PAYLOAD);
            edns.set_version(version);
            if option {
                edns.options_mut()
                    .insert(EdnsOption::Unknown(EDNS_PROBE_OPTION, vec![0xde, 0xad]));
            }
            let mut query = Message::new(0, MessageType::Query, OpCode::Query);
            query.add_query(question.clone());
            query.set_edns(edns);
            query
        };
        let (plain, (version, option)) = join(
            self.edns_reply(server, zone, probe(0, false)),
            join(
                self.edns_reply(server, zone, probe(EDNS_PROBE_VERSION, false)),
                self.edns_reply(server, zone, probe(0, true)),
            ),
        )
        .await;
        EdnsView {
            plain,
            version,
            option,
        }
    }

    async fn edns_reply(&self, server: IpAddr, zone: &Name, query: Message) -> EdnsReply {
        let reply = match self.exchange_raw(server, query).await {
            Ok(reply) => reply,
            Err(problem) => return EdnsReply::NoReply(problem.to_string()),
        };
        let answered = reply
            .answers
            .iter()
            .any(|r| r.name == *zone && r.record_type() == RecordType::SOA);
        let echoed_option = reply
            .edns
            .as_ref()
            .is_some_and(|e| e.option(EdnsCode::Unknown(EDNS_PROBE_OPTION)).is_some());
        // RCODE 16 is BADVERS in an OPT record and BADSIG in a TSIG one
        // (RFC 6895 §2.3); hickory reads it as BADSIG, these probes carry
        // no TSIG.
        let rcode = match reply.metadata.response_code {
            ResponseCode::BADSIG => ResponseCode::BADVERS,
            other => other,
        };
        EdnsReply::Reply {
            rcode,
            opt_version: reply.edns.as_ref().map(Edns::version),
            answered,
            echoed_option,
        }
    }

    /// Sends the prepared `query` to `server` over UDP as it is (its OPT
    /// record untouched), each try from a fresh socket with a random ID,
    /// and returns the first reply that matches it ([`is_answer`]) before
    /// the transport's timeout; a timeout is retried up to
    /// [`PROBE_TRIES`] times. [`Transport`] cannot send this: it builds
    /// its own OPT record.
    async fn exchange_raw(
        &self,
        server: IpAddr,
        mut query: Message,
    ) -> Result<Message, ProbeError> {
        let to = SocketAddr::new(server, self.port);
        let local = match server {
            IpAddr::V4(_) => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
            IpAddr::V6(_) => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
        };
        let Some(question) = query.queries.first().cloned() else {
            return Err(ProbeError::Failed("probe without a question".to_string()));
        };
        let io = |err: std::io::Error| {
            use std::io::ErrorKind::*;
            match err.kind() {
                NetworkUnreachable | HostUnreachable | AddrNotAvailable => {
                    ProbeError::Unreachable(err.to_string())
                }
                ConnectionRefused | ConnectionReset => {
                    ProbeError::Failed("port closed (connection refused)".to_string())
                }
                _ => ProbeError::Failed(err.to_string()),
            }
        };
        let wait = self.transport.timeout();
        for _ in 0..PROBE_TRIES {
            let id: u16 = rand::random();
            query.metadata.id = id;
            let wire = query
                .to_vec()
                .map_err(|e| ProbeError::Failed(format!("cannot encode the probe: {e}")))?;
            let socket = UdpSocket::bind(local).await.map_err(io)?;
            socket.send_to(&wire, to).await.map_err(io)?;
            let deadline = Instant::now() + wait;
            let mut buf = vec![0u8; EDNS_PROBE_BUFFER];
            loop {
                let Ok(received) = timeout_at(deadline, socket.recv_from(&mut buf)).await else {
                    break;
                };
                let (len, from) = received.map_err(io)?;
                if from != to {
                    continue;
                }
                let Some(bytes) = buf.get(..len) else {
                    continue;
                };
                match Message::from_vec(bytes) {
                    Ok(reply) if is_answer(&reply, id, &question) => return Ok(reply),
                    _ => continue,
                }
            }
        }
        Err(ProbeError::Failed(format!(
            "no reply ({PROBE_TRIES} tries of {wait:?})"
        )))
    }

    /// Asks for the apex SOA over TCP; any authoritative SOA will do.
    async fn tcp_soa(&self, server: IpAddr, zone: &Name) -> Result<(), String> {
        let query = Query::query(zone.clone(), RecordType::SOA);
        let to = SocketAddr::new(server, self.port);
        let reply = self
            .transport
            .exchange_tcp(to, &query)
            .await
            .map_err(|e| e.to_string())?;
        if is_edns_formerr(&reply.message) {
            // A server without EDNS answered over TCP: TCP works, and the
            // EDNS probes report the rest.
            return Ok(());
        }
        let reply = scrub(reply.message, zone, &query);
        match classify(&reply) {
            ResponseKind::Answer if reply.authoritative() => Ok(()),
            ResponseKind::Lame(reason) => Err(reason.to_string()),
            _ => Err("no authoritative SOA over TCP".to_string()),
        }
    }

    async fn authoritative(
        &self,
        server: IpAddr,
        zone: &Name,
        qtype: RecordType,
    ) -> Result<Vec<Record>, ProbeError> {
        self.authoritative_at(server, zone, zone, qtype).await
    }

    /// The records of an authoritative answer (empty for NODATA or
    /// NXDOMAIN); anything else is a reason the server is lame.
    async fn authoritative_at(
        &self,
        server: IpAddr,
        zone: &Name,
        qname: &Name,
        qtype: RecordType,
    ) -> Result<Vec<Record>, ProbeError> {
        let reply = self.ask(server, zone, qname, qtype).await?;
        let lame = |why: String| Err(ProbeError::Failed(why));
        if !reply.authoritative() {
            return lame(match classify(&reply) {
                ResponseKind::Lame(reason) => reason.to_string(),
                ResponseKind::Referral { zone: to } => format!("not authoritative: refers to {to}"),
                _ => "not authoritative (AA=0)".to_string(),
            });
        }
        match classify(&reply) {
            ResponseKind::Answer | ResponseKind::Cname { .. } => Ok(reply.chain().to_vec()),
            ResponseKind::NoData | ResponseKind::NxDomain => Ok(Vec::new()),
            ResponseKind::Referral { zone: to } => lame(format!("refers to {to}")),
            ResponseKind::Lame(reason) => lame(reason.to_string()),
        }
    }
}

/// The delegation in `ns_records` with the glue `reply` kept for them.
fn delegation(reply: &Scrubbed, ns_records: &[Record], from_child: bool) -> Delegation {
    let ns = ns_targets(ns_records);
    let mut glue = AddressMap::new();
    for name in &ns {
        let addrs: BTreeSet<IpAddr> = addresses_of(name, reply.glue()).collect();
        if !addrs.is_empty() {
            glue.insert(name.clone(), addrs);
        }
    }
    Delegation {
        ns,
        glue,
        from_child,
    }
}

/// What the serving addresses among `views` said `name`'s addresses are.
pub fn child_addresses(views: &[(Server, ChildView)], name: &Name) -> BTreeSet<IpAddr> {
    let mut all = BTreeSet::new();
    for (_, view) in views {
        if let ChildView::Serving { addresses, .. } = view {
            all.extend(addresses.get(name).into_iter().flatten());
        }
    }
    all
}

/// The targets of the NS records among `records`.
pub fn ns_targets(records: &[Record]) -> BTreeSet<Name> {
    records
        .iter()
        .filter_map(|r| match &r.data {
            RData::NS(ns) => Some(ns.0.clone()),
            _ => None,
        })
        .collect()
}

/// The records of `records` at `owner` of type `rtype`.
fn of_type(records: &[Record], owner: &Name, rtype: RecordType) -> Vec<Record> {
    records
        .iter()
        .filter(|r| r.name == *owner && r.record_type() == rtype)
        .cloned()
        .collect()
}

/// Whether `reply` is a FORMERR without an OPT record: what a server
/// without EDNS answers to a query with one (RFC 6891 §7).
fn is_edns_formerr(reply: &Message) -> bool {
    reply.metadata.response_code == ResponseCode::FormErr && reply.edns.is_none()
}

fn soa_serial(record: &Record) -> Option<u32> {
    match &record.data {
        RData::SOA(soa) => Some(soa.serial),
        _ => None,
    }
}
