//! [`TraceRecorder`]: an [`Observer`] that keeps every event with its time
//! and turns them into a [`Trace`] tree ([`build`]): resolutions → hops →
//! the side resolutions each hop's referral needed, recursively, plus a
//! summary. The events become drafts of the tree in `trace/assemble.rs`;
//! the critical path through them is chosen in `trace/critical.rs`.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use super::assemble::{Drafts, micros};
use super::tree::{
    HopResult, Outcome, PurposeKind, Question, Resolution, SCHEMA_VERSION, Summary, Trace,
};
use super::{Event, Observer};

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

/// Builds the trace tree from recorded events.
pub fn build(events: &[(Duration, Event)], context: Context) -> Trace {
    let mut draft = Drafts::default();
    for (seq, (at, event)) in events.iter().enumerate() {
        draft.apply(seq, *at, event);
    }
    draft.adopt_orphans();
    let adopted: HashSet<u32> = draft.res_children.values().flatten().copied().collect();
    let mut placed = HashSet::new();
    let mut resolutions = Vec::new();
    let roots: Vec<u32> = draft
        .order
        .iter()
        .copied()
        .filter(|id| {
            !adopted.contains(id)
                && draft.res[id]
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
    attach_negative_soa(&mut resolutions, &context.outcome);
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
    let mut trace = Trace {
        schema: SCHEMA_VERSION,
        question: context.question,
        outcome: context.outcome,
        resolutions,
        summary,
        all_servers: Vec::new(),
    };
    number_side_resolutions(&mut trace, &draft.order);
    trace
}

/// Puts the SOA of a negative outcome (NXDOMAIN, or NODATA: no record of
/// the type asked) on the client resolution's last hop, when that hop is
/// the answer that ended it, so it prints like dig's authority section.
fn attach_negative_soa(resolutions: &mut [Resolution], outcome: &Outcome) {
    if outcome.authority.is_empty() {
        return;
    }
    let Some(client) = resolutions
        .iter_mut()
        .find(|r| r.purpose == PurposeKind::Client)
    else {
        return;
    };
    if let Some(hop) = client.hops.last_mut()
        && hop.result == HopResult::Answer
    {
        hop.authority.clone_from(&outcome.authority);
    }
}

/// Renumbers resolutions as people count them: the client 0, side
/// resolutions 1, 2, ... in the order they started (the engine's ids have
/// gaps), everywhere an id is named.
fn number_side_resolutions(trace: &mut Trace, order: &[u32]) {
    fn renumber(r: &mut Resolution, numbers: &HashMap<u32, u32>) {
        if r.purpose == PurposeKind::Client {
            r.id = 0;
        } else if let Some(n) = numbers.get(&r.id) {
            r.id = *n;
        }
        for hop in &mut r.hops {
            if let Some(id) = hop.address_resolution.as_mut()
                && let Some(n) = numbers.get(id)
            {
                *id = *n;
            }
            for side in &mut hop.side_resolutions {
                renumber(side, numbers);
            }
        }
        for side in &mut r.side_resolutions {
            renumber(side, numbers);
        }
    }
    // The client keeps 0; side resolutions count from 1.
    let client: Vec<u32> = trace
        .resolutions
        .iter()
        .filter(|r| r.purpose == PurposeKind::Client)
        .map(|r| r.id)
        .collect();
    let mut numbers = HashMap::new();
    let mut next = 1;
    for id in order {
        if client.contains(id) {
            numbers.insert(*id, 0);
        } else {
            numbers.insert(*id, next);
            next += 1;
        }
    }
    for step in &mut trace.summary.critical_path {
        if let Some(n) = numbers.get(&step.resolution) {
            step.resolution = *n;
        }
    }
    for r in &mut trace.resolutions {
        renumber(r, &numbers);
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::str::FromStr;

    use hickory_proto::op::ResponseCode;
    use hickory_proto::rr::{Name, RecordType};

    use super::*;
    use crate::net::Protocol;
    use crate::trace::tree::{LameKind, ResolutionStatus};
    use crate::trace::{AddrSource, Purpose};

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
                authority: Vec::new(),
                dnssec: None,
                signatures: Vec::new(),
                proof: Vec::new(),
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
    fn dnssec_notes_go_to_the_hop_they_name_in_order() {
        use crate::trace::dnssec::{DnssecFacts, KeyFact, KeyRole};
        use crate::trace::tree::DnssecStatus;
        let mut s = Script::default();
        s.start(0, None, "www.x.")
            .hop(0, 0, "root.", AddrSource::Hints)
            .hop(1, 0, "root.", AddrSource::Hints)
            // Hop 1 fetched the keys; the verdict is reported for hop 0.
            .push(Event::Dnssec {
                hop: 0,
                text: ".: secure (DS 20326/8/2 -> DNSKEY 20326 KSK)".into(),
                facts: DnssecFacts {
                    keys: vec![KeyFact {
                        key_tag: 20326,
                        algorithm: 8,
                        flags: 257,
                        role: KeyRole::Ksk,
                        ds_matched: true,
                        signed_key_set: true,
                        revoked: false,
                    }],
                    ..DnssecFacts::default()
                },
            })
            .push(Event::Dnssec {
                hop: 0,
                text: "x.: DS 1/13/2 -> DNSKEY to fetch".into(),
                facts: DnssecFacts::default(),
            })
            .push(Event::Dnssec {
                hop: 7,
                text: "unknown hop: dropped".into(),
                facts: DnssecFacts::default(),
            })
            .finish(0);
        let trace = build(&s.0, context());
        let hops = &trace.resolutions[0].hops;
        let notes: Vec<(&str, DnssecStatus)> = hops[0]
            .dnssec
            .iter()
            .map(|n| (n.subject.as_str(), n.status))
            .collect();
        assert_eq!(
            notes,
            [(".", DnssecStatus::Secure), ("x.", DnssecStatus::Pending)]
        );
        assert!(hops[1].dnssec.is_empty());
        // The facts go with the note they came with.
        assert_eq!(hops[0].dnssec[0].facts.keys[0].key_tag, 20326);
        assert!(hops[0].dnssec[1].facts.keys.is_empty());
        assert!(trace.has_dnssec_notes());
        assert_eq!(trace.zone_security()["x."], DnssecStatus::Pending);
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
