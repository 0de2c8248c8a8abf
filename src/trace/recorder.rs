//! [`TraceRecorder`]: an [`Observer`] that keeps every event with its time
//! and turns them into a [`Trace`] tree: resolutions → hops → the side
//! resolutions each hop's referral needed, recursively, plus a summary.
//!
//! # The critical path
//!
//! The critical path is the chain of exchanges that set the total time.
//! It is computed backwards over the order events arrived in (not their
//! timestamps, so ties cannot reorder it). For one resolution, the
//! candidates are its own hops that got a reply or failed, and the side
//! resolutions nested under its hops that finished. Starting from the
//! resolution's end, the rule picks the candidate that ended last before
//! the cursor, moves the cursor to that candidate's start, and repeats.
//! A chosen side resolution is expanded in place by the same rule.
//!
//! Consequences: sequential hops are all on the path; of several side
//! resolutions run in parallel, only the one that finished last before the
//! next hop was sent is (with the engine's first-address-wins policy, the
//! one whose result was used — the others are dropped unfinished and never
//! count); a side resolution that ran while the walk was busy elsewhere is
//! skipped.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use super::tree::{
    AddressSource, CacheHit, CnameLink, DroppedRecord, Hop, HopResult, Lame, LameKind, Outcome,
    PathStep, PurposeKind, Question, Referral, ReferralServer, Resolution, ResolutionStatus,
    Response, SCHEMA_VERSION, SectionCounts, SkippedServer, Summary, Trace, TraceRecord,
    rcode_name,
};
use super::{AddrSource, Event, Observer, Purpose};

/// Records the engine's events for one client question.
///
/// One std `Mutex` guards the event list; it is taken only to push or copy
/// and never held across an `.await` (the engine calls [`Observer::event`]
/// synchronously).
#[derive(Debug)]
pub struct TraceRecorder {
    started: Instant,
    events: Mutex<Vec<(Duration, Event)>>,
}

impl Default for TraceRecorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Observer for TraceRecorder {
    fn event(&self, event: Event) {
        let at = self.started.elapsed();
        self.lock().push((at, event));
    }
}

/// What the engine reported about the question besides its events.
#[derive(Debug, Clone)]
pub struct Context {
    /// The client question.
    pub question: Question,
    /// How it ended.
    pub outcome: Outcome,
    /// Queries counted against the budget.
    pub upstream_queries: u32,
    /// Wall time of the whole question.
    pub wall_time: Duration,
}

impl TraceRecorder {
    /// A recorder whose clock starts now.
    pub fn new() -> Self {
        Self {
            started: Instant::now(),
            events: Mutex::new(Vec::new()),
        }
    }

    /// A copy of the events so far, each with its time since the start.
    pub fn events(&self) -> Vec<(Duration, Event)> {
        self.lock().clone()
    }

    /// The trace tree of the events so far.
    pub fn trace(&self, context: Context) -> Trace {
        build(&self.events(), context)
    }

    fn lock(&self) -> MutexGuard<'_, Vec<(Duration, Event)>> {
        // A panic while pushing cannot leave the Vec inconsistent.
        self.events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A resolution being assembled, with the event indexes it spans.
struct ResDraft {
    node: Resolution,
    start_seq: usize,
    end_seq: Option<usize>,
    hops: Vec<u32>,
}

/// A hop being assembled.
struct HopDraft {
    node: Hop,
    resolution: u32,
    start_seq: usize,
    end_seq: Option<usize>,
    end_at: Option<Duration>,
}

/// Builds the trace tree from recorded events.
pub fn build(events: &[(Duration, Event)], context: Context) -> Trace {
    let mut draft = Drafts::default();
    for (seq, (at, event)) in events.iter().enumerate() {
        draft.apply(seq, *at, event);
    }
    let mut placed = HashSet::new();
    let mut resolutions = Vec::new();
    let roots: Vec<u32> = draft
        .order
        .iter()
        .copied()
        .filter(|id| {
            draft.res[id]
                .node
                .parent_hop
                .is_none_or(|h| !draft.hops.contains_key(&h))
        })
        .collect();
    for id in roots {
        if let Some(r) = draft.assemble(id, &mut placed) {
            resolutions.push(r);
        }
    }
    let mut critical_path = Vec::new();
    if let Some(client) = draft
        .order
        .iter()
        .find(|id| draft.res[id].node.purpose == PurposeKind::Client)
    {
        draft.critical(*client, 0, &mut critical_path, &mut HashSet::new());
    }
    let last_event = events.last().map_or(Duration::ZERO, |(at, _)| *at);
    let wall_time = if context.wall_time.is_zero() {
        last_event
    } else {
        context.wall_time
    };
    let summary = Summary {
        hops: draft.hops.len() as u32,
        upstream_queries: context.upstream_queries,
        side_resolutions: draft
            .res
            .values()
            .filter(|r| r.node.purpose == PurposeKind::Target)
            .count() as u32,
        timeouts: draft
            .hops
            .values()
            .filter(|h| h.node.result == HopResult::Timeout)
            .count() as u32,
        bytes: draft
            .hops
            .values()
            .filter_map(|h| h.node.response.as_ref())
            .map(|r| r.bytes)
            .sum(),
        wall_time_us: micros(wall_time),
        critical_path,
    };
    Trace {
        schema: SCHEMA_VERSION,
        question: context.question,
        outcome: context.outcome,
        resolutions,
        summary,
        all_servers: Vec::new(),
    }
}

#[derive(Default)]
struct Drafts {
    res: HashMap<u32, ResDraft>,
    /// Resolution ids in start order.
    order: Vec<u32>,
    hops: HashMap<u32, HopDraft>,
    /// Children of each hop, in start order.
    children: HashMap<u32, Vec<u32>>,
    /// The last finished target resolution of each (lower-cased) name.
    targets: HashMap<String, u32>,
}

impl Drafts {
    fn apply(&mut self, seq: usize, at: Duration, event: &Event) {
        match event {
            Event::ResolutionStarted {
                id,
                parent_hop,
                qname,
                qtype,
                purpose,
            } => {
                let (kind, for_zone) = match purpose {
                    Purpose::Client => (PurposeKind::Client, None),
                    Purpose::Target { zone } => (PurposeKind::Target, Some(zone.to_string())),
                };
                let node = Resolution {
                    id: *id,
                    purpose: kind,
                    for_zone,
                    parent_hop: *parent_hop,
                    qname: qname.to_string(),
                    qtype: qtype.to_string(),
                    status: ResolutionStatus::Abandoned,
                    rcode: None,
                    error: None,
                    start_us: micros(at),
                    elapsed_us: None,
                    cache_hits: Vec::new(),
                    cnames: Vec::new(),
                    hops: Vec::new(),
                };
                if let Some(hop) = parent_hop {
                    self.children.entry(*hop).or_default().push(*id);
                }
                self.order.push(*id);
                self.res.insert(
                    *id,
                    ResDraft {
                        node,
                        start_seq: seq,
                        end_seq: None,
                        hops: Vec::new(),
                    },
                );
            }
            Event::ResolutionFinished {
                id,
                rcode,
                error,
                elapsed,
            } => {
                if let Some(r) = self.res.get_mut(id) {
                    r.end_seq = Some(seq);
                    r.node.status = if error.is_some() {
                        ResolutionStatus::Failed
                    } else {
                        ResolutionStatus::Completed
                    };
                    r.node.rcode = Some(rcode_name(*rcode));
                    r.node.error.clone_from(error);
                    r.node.elapsed_us = Some(micros(*elapsed));
                    if r.node.purpose == PurposeKind::Target && error.is_none() {
                        self.targets.insert(r.node.qname.to_ascii_lowercase(), *id);
                    }
                }
            }
            Event::QuerySent {
                hop,
                resolution,
                zone,
                server_name,
                server,
                addr_source,
                qname,
                qtype,
            } => {
                let address_source = match addr_source {
                    AddrSource::Hints => AddressSource::Hints,
                    AddrSource::Glue => AddressSource::Glue,
                    AddrSource::Cache => AddressSource::Cache,
                    AddrSource::SideResolution => AddressSource::SideResolution,
                };
                let server_name = server_name.to_string();
                let address_resolution = (address_source == AddressSource::SideResolution)
                    .then(|| self.targets.get(&server_name.to_ascii_lowercase()).copied())
                    .flatten();
                let node = Hop {
                    id: *hop,
                    zone: zone.to_string(),
                    qname: qname.to_string(),
                    qtype: qtype.to_string(),
                    server_name,
                    address: server.ip().to_string(),
                    port: server.port(),
                    address_source,
                    address_resolution,
                    sent_us: micros(at),
                    result: HopResult::Unknown,
                    response: None,
                    error: None,
                    dropped: Vec::new(),
                    skipped: Vec::new(),
                    referral: None,
                    lame: None,
                    answer: Vec::new(),
                    side_resolutions: Vec::new(),
                };
                if let Some(r) = self.res.get_mut(resolution) {
                    r.hops.push(*hop);
                }
                self.hops.insert(
                    *hop,
                    HopDraft {
                        node,
                        resolution: *resolution,
                        start_seq: seq,
                        end_seq: None,
                        end_at: None,
                    },
                );
            }
            Event::CnameRestart {
                resolution,
                from,
                to,
            } => {
                if let Some(r) = self.res.get_mut(resolution) {
                    r.node.cnames.push(CnameLink {
                        from: from.to_string(),
                        to: to.to_string(),
                    });
                }
            }
            Event::CacheHit { resolution, what } => {
                if let Some(r) = self.res.get_mut(resolution) {
                    r.node.cache_hits.push(CacheHit {
                        what: what.clone(),
                        at_us: micros(at),
                    });
                }
            }
            other => self.apply_hop_event(seq, at, other),
        }
    }

    /// Events about one exchange.
    fn apply_hop_event(&mut self, seq: usize, at: Duration, event: &Event) {
        let hop_id = match event {
            Event::ResponseReceived { hop, .. }
            | Event::QueryFailed { hop, .. }
            | Event::RecordsDropped { hop, .. }
            | Event::Referral { hop, .. }
            | Event::Lame { hop, .. }
            | Event::Answer { hop, .. } => *hop,
            Event::ServerSkipped { hop: Some(hop), .. } => *hop,
            _ => return,
        };
        let Some(draft) = self.hops.get_mut(&hop_id) else {
            return;
        };
        let hop = &mut draft.node;
        match event {
            Event::ResponseReceived {
                rcode,
                authoritative,
                protocol,
                tcp_fallback,
                bytes,
                rtt,
                counts,
                ignored,
                ..
            } => {
                let mut flags = Vec::new();
                if *authoritative {
                    flags.push("aa".to_string());
                }
                if *tcp_fallback {
                    flags.push("tc".to_string());
                }
                hop.response = Some(Response {
                    rcode: rcode_name(*rcode),
                    flags,
                    transport: protocol.to_string().to_ascii_lowercase(),
                    tcp_fallback: *tcp_fallback,
                    bytes: *bytes as u64,
                    rtt_us: micros(*rtt),
                    counts: SectionCounts {
                        answer: counts[0] as u64,
                        authority: counts[1] as u64,
                        additional: counts[2] as u64,
                    },
                    ignored_replies: *ignored,
                });
                draft.end_seq = Some(seq);
                draft.end_at = Some(at);
            }
            Event::QueryFailed {
                error, timed_out, ..
            } => {
                hop.error = Some(error.clone());
                hop.result = if *timed_out {
                    HopResult::Timeout
                } else {
                    HopResult::Error
                };
                draft.end_seq = Some(seq);
                draft.end_at = Some(at);
            }
            Event::RecordsDropped { records, .. } => {
                hop.dropped
                    .extend(records.iter().map(|(record, reason)| DroppedRecord {
                        record: record.clone(),
                        reason: reason.clone(),
                    }));
            }
            Event::Referral {
                zone,
                servers,
                records,
                ..
            } => {
                hop.result = HopResult::Referral;
                hop.referral = Some(Referral {
                    zone: zone.to_string(),
                    servers: servers
                        .iter()
                        .map(|s| ReferralServer {
                            name: s.name.to_string(),
                            glue: s.glue.iter().map(ToString::to_string).collect(),
                        })
                        .collect(),
                    records: records.iter().map(TraceRecord::from).collect(),
                });
            }
            Event::Lame {
                reason,
                bad_referral,
                ..
            } => {
                hop.result = HopResult::Lame;
                let kind = match bad_referral {
                    None => LameKind::Other,
                    Some(to) => {
                        let asked = hickory_proto::rr::Name::from_ascii(&hop.zone).ok();
                        if asked.is_some_and(|asked| to.zone_of(&asked)) {
                            LameKind::UpwardReferral
                        } else {
                            LameKind::SidewaysReferral
                        }
                    }
                };
                hop.lame = Some(Lame {
                    kind,
                    reason: reason.clone(),
                    referred_to: bad_referral.as_ref().map(ToString::to_string),
                });
            }
            Event::Answer { records, .. } => {
                hop.result = HopResult::Answer;
                hop.answer = records.iter().map(TraceRecord::from).collect();
            }
            Event::ServerSkipped {
                zone,
                server_name,
                reason,
                ..
            } => {
                let skipped = SkippedServer {
                    name: server_name.to_string(),
                    zone: zone.to_string(),
                    reason: reason.clone(),
                };
                // A later fetch for the same cut may skip it again.
                if !hop.skipped.contains(&skipped) {
                    hop.skipped.push(skipped);
                }
            }
            _ => {}
        }
    }

    /// The resolution `id` with its hops and nested side resolutions.
    fn assemble(&self, id: u32, placed: &mut HashSet<u32>) -> Option<Resolution> {
        if !placed.insert(id) {
            return None;
        }
        let draft = self.res.get(&id)?;
        let mut node = draft.node.clone();
        for hop_id in &draft.hops {
            let Some(hop) = self.hops.get(hop_id) else {
                continue;
            };
            let mut hop = hop.node.clone();
            for child in self.children.get(hop_id).into_iter().flatten() {
                if let Some(r) = self.assemble(*child, placed) {
                    hop.side_resolutions.push(r);
                }
            }
            node.hops.push(hop);
        }
        Some(node)
    }

    /// Appends the critical path of resolution `id` (see the module doc).
    fn critical(&self, id: u32, depth: u32, out: &mut Vec<PathStep>, seen: &mut HashSet<u32>) {
        let Some(res) = self.res.get(&id) else {
            return;
        };
        if !seen.insert(id) {
            return;
        }
        enum Item {
            Hop(u32),
            Side(u32),
        }
        // (start, end, item) of everything that finished.
        let mut items: Vec<(usize, usize, Item)> = Vec::new();
        for hop_id in &res.hops {
            let Some(hop) = self.hops.get(hop_id) else {
                continue;
            };
            if let Some(end) = hop.end_seq {
                items.push((hop.start_seq, end, Item::Hop(*hop_id)));
            }
            for child in self.children.get(hop_id).into_iter().flatten() {
                if let Some(c) = self.res.get(child)
                    && let Some(end) = c.end_seq
                {
                    items.push((c.start_seq, end, Item::Side(*child)));
                }
            }
        }
        let mut cursor = res.end_seq.unwrap_or(usize::MAX);
        let mut chain = Vec::new();
        while let Some(pos) = items
            .iter()
            .enumerate()
            .filter(|(_, (_, end, _))| *end < cursor)
            .max_by_key(|(_, (_, end, _))| *end)
            .map(|(pos, _)| pos)
        {
            let (start, _, item) = items.swap_remove(pos);
            cursor = start;
            chain.push(item);
        }
        for item in chain.into_iter().rev() {
            match item {
                Item::Side(child) => self.critical(child, depth + 1, out, seen),
                Item::Hop(hop_id) => {
                    if let Some(hop) = self.hops.get(&hop_id) {
                        out.push(self.step(hop, depth));
                    }
                }
            }
        }
    }

    fn step(&self, hop: &HopDraft, depth: u32) -> PathStep {
        let duration = match (&hop.node.response, hop.end_at) {
            (Some(r), _) => r.rtt_us,
            (None, Some(end)) => micros(end).saturating_sub(hop.node.sent_us),
            (None, None) => 0,
        };
        PathStep {
            hop: hop.node.id,
            resolution: hop.resolution,
            depth,
            zone: hop.node.zone.clone(),
            server_name: hop.node.server_name.clone(),
            address: hop.node.address.clone(),
            duration_us: duration,
        }
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::str::FromStr;

    use hickory_proto::op::ResponseCode;
    use hickory_proto::rr::{Name, RecordType};

    use super::*;
    use crate::net::Protocol;

    fn name(s: &str) -> Name {
        Name::from_str(s).unwrap()
    }

    fn context() -> Context {
        Context {
            question: Question {
                name: "www.x.".into(),
                qtype: "A".into(),
            },
            outcome: Outcome {
                rcode: "NOERROR".into(),
                error: None,
                answers: Vec::new(),
            },
            upstream_queries: 0,
            wall_time: Duration::ZERO,
        }
    }

    /// Builds event lists with increasing timestamps.
    #[derive(Default)]
    struct Script(Vec<(Duration, Event)>);

    impl Script {
        fn push(&mut self, e: Event) -> &mut Self {
            let at = Duration::from_millis(self.0.len() as u64);
            self.0.push((at, e));
            self
        }
        fn start(&mut self, id: u32, parent: Option<u32>, qname: &str) -> &mut Self {
            let purpose = if parent.is_some() {
                Purpose::Target { zone: name("z.") }
            } else {
                Purpose::Client
            };
            self.push(Event::ResolutionStarted {
                id,
                parent_hop: parent,
                qname: name(qname),
                qtype: RecordType::A,
                purpose,
            })
        }
        fn finish(&mut self, id: u32) -> &mut Self {
            self.push(Event::ResolutionFinished {
                id,
                rcode: ResponseCode::NoError,
                error: None,
                elapsed: Duration::from_millis(1),
            })
        }
        fn hop(&mut self, hop: u32, resolution: u32, server: &str, src: AddrSource) -> &mut Self {
            self.push(Event::QuerySent {
                hop,
                resolution,
                zone: name("."),
                server_name: name(server),
                server: SocketAddr::from(([127, 0, 0, 1], 53)),
                addr_source: src,
                qname: name("www.x."),
                qtype: RecordType::A,
            })
            .push(Event::ResponseReceived {
                hop,
                rcode: ResponseCode::NoError,
                authoritative: false,
                protocol: Protocol::Udp,
                tcp_fallback: false,
                bytes: 100,
                rtt: Duration::from_millis(2),
                counts: [0, 1, 1],
                ignored: 0,
            })
        }
    }

    fn path(trace: &Trace) -> Vec<(u32, u32)> {
        trace
            .summary
            .critical_path
            .iter()
            .map(|s| (s.hop, s.depth))
            .collect()
    }

    #[test]
    fn side_resolutions_nest_under_their_hop() {
        let mut s = Script::default();
        s.start(0, None, "www.x.")
            .hop(0, 0, "root.", AddrSource::Hints)
            .start(1, Some(0), "ns.y.")
            .hop(1, 1, "root.", AddrSource::Cache)
            .start(2, Some(1), "ns.z.")
            .hop(2, 2, "root.", AddrSource::Cache)
            .finish(2)
            .finish(1)
            .hop(3, 0, "ns.y.", AddrSource::SideResolution)
            .finish(0);
        let trace = build(&s.0, context());
        assert_eq!(trace.resolutions.len(), 1);
        let client = &trace.resolutions[0];
        assert_eq!(client.hops.len(), 2);
        let side = &client.hops[0].side_resolutions;
        assert_eq!(side.len(), 1);
        assert_eq!(side[0].id, 1);
        assert_eq!(side[0].hops[0].side_resolutions[0].id, 2);
        assert_eq!(client.hops[1].address_resolution, Some(1));
        assert_eq!(trace.summary.side_resolutions, 2);
        assert_eq!(trace.summary.hops, 4);
        assert_eq!(trace.summary.bytes, 400);
        assert_eq!(path(&trace), vec![(0, 0), (1, 1), (2, 2), (3, 0)]);
    }

    #[test]
    fn parallel_side_resolutions_keep_the_one_that_unblocked_the_walk() {
        // Two side resolutions start together under hop 0; resolution 2
        // finishes first with the address, resolution 1 is dropped.
        let mut s = Script::default();
        s.start(0, None, "www.x.")
            .hop(0, 0, "root.", AddrSource::Hints)
            .start(1, Some(0), "ns1.y.")
            .start(2, Some(0), "ns2.y.")
            .push(Event::QuerySent {
                hop: 1,
                resolution: 1,
                zone: name("."),
                server_name: name("root."),
                server: SocketAddr::from(([127, 0, 0, 1], 53)),
                addr_source: AddrSource::Cache,
                qname: name("ns1.y."),
                qtype: RecordType::A,
            })
            .hop(2, 2, "root.", AddrSource::Cache)
            .finish(2)
            .hop(3, 0, "ns2.y.", AddrSource::SideResolution)
            .finish(0);
        let trace = build(&s.0, context());
        let side = &trace.resolutions[0].hops[0].side_resolutions;
        assert_eq!(side.len(), 2);
        assert_eq!(side[0].status, ResolutionStatus::Abandoned);
        assert_eq!(side[0].hops[0].result, HopResult::Unknown);
        assert_eq!(side[1].status, ResolutionStatus::Completed);
        assert_eq!(trace.resolutions[0].hops[1].address_resolution, Some(2));
        assert_eq!(path(&trace), vec![(0, 0), (2, 1), (3, 0)]);
    }

    #[test]
    fn sequential_finished_siblings_only_last_counts_when_overlapping() {
        // Side resolutions 1 and 2 run in parallel and both finish; 2 ends
        // last, so only 2 is on the path.
        let mut s = Script::default();
        s.start(0, None, "www.x.")
            .hop(0, 0, "root.", AddrSource::Hints)
            .start(1, Some(0), "ns1.y.")
            .start(2, Some(0), "ns2.y.")
            .hop(1, 1, "root.", AddrSource::Cache)
            .finish(1)
            .hop(2, 2, "root.", AddrSource::Cache)
            .finish(2)
            .hop(3, 0, "ns2.y.", AddrSource::SideResolution)
            .finish(0);
        let trace = build(&s.0, context());
        assert_eq!(path(&trace), vec![(0, 0), (2, 1), (3, 0)]);
    }

    #[test]
    fn failures_and_lameness_are_classified() {
        let mut s = Script::default();
        s.start(0, None, "www.x.")
            .push(Event::QuerySent {
                hop: 0,
                resolution: 0,
                zone: name("x."),
                server_name: name("ns1.x."),
                server: SocketAddr::from(([127, 0, 0, 1], 53)),
                addr_source: AddrSource::Glue,
                qname: name("www.x."),
                qtype: RecordType::A,
            })
            .push(Event::QueryFailed {
                hop: 0,
                error: "timed out".into(),
                timed_out: true,
            })
            .hop(1, 0, "ns2.x.", AddrSource::Glue)
            .push(Event::Lame {
                hop: 1,
                reason: "bad referral".into(),
                bad_referral: Some(Name::root()),
            })
            .hop(2, 0, "ns3.x.", AddrSource::Glue)
            .push(Event::Lame {
                hop: 2,
                reason: "bad referral".into(),
                bad_referral: Some(name("a.y.")),
            })
            .finish(0);
        let trace = build(&s.0, context());
        let hops = &trace.resolutions[0].hops;
        assert_eq!(hops[0].result, HopResult::Timeout);
        assert_eq!(trace.summary.timeouts, 1);
        let kind = |i: usize| hops[i].lame.as_ref().map(|l| l.kind);
        assert_eq!(hops[1].result, HopResult::Lame);
        // hop 1 asked zone ".", referred to "." → upward.
        assert_eq!(kind(1), Some(LameKind::UpwardReferral));
        assert_eq!(kind(2), Some(LameKind::SidewaysReferral));
        assert_eq!(path(&trace), vec![(0, 0), (1, 0), (2, 0)]);
    }

    #[test]
    fn recorder_collects_events_in_order() {
        let recorder = TraceRecorder::new();
        recorder.event(Event::CacheHit {
            resolution: 0,
            what: "a".into(),
        });
        recorder.event(Event::CacheHit {
            resolution: 0,
            what: "b".into(),
        });
        let events = recorder.events();
        assert_eq!(events.len(), 2);
        assert!(events[0].0 <= events[1].0);
    }
}
