//! Events to tree: each event the engine reported is applied, in arrival
//! order, to drafts of the resolutions and hops it concerns; the drafts are
//! then assembled into the nested [`Resolution`] tree, side resolutions
//! under the hop whose referral needed them.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use super::tree::{
    AddressSource, CacheHit, CnameLink, DnssecNote, DroppedRecord, Hop, HopResult, Lame, LameKind,
    PurposeKind, Referral, ReferralServer, Resolution, ResolutionStatus, Response, SectionCounts,
    SkippedServer, TraceRecord, rcode_name,
};
use super::{AddrSource, Event, Purpose};

/// A resolution being assembled, with the event indexes it spans.
pub(super) struct ResDraft {
    pub(super) node: Resolution,
    pub(super) start_seq: usize,
    pub(super) end_seq: Option<usize>,
    pub(super) hops: Vec<u32>,
}

/// A hop being assembled.
pub(super) struct HopDraft {
    pub(super) node: Hop,
    pub(super) resolution: u32,
    pub(super) start_seq: usize,
    pub(super) end_seq: Option<usize>,
    pub(super) end_at: Option<Duration>,
}

/// The resolutions and hops of one trace, as drafts.
#[derive(Default)]
pub(super) struct Drafts {
    pub(super) res: HashMap<u32, ResDraft>,
    /// Resolution ids in start order.
    pub(super) order: Vec<u32>,
    pub(super) hops: HashMap<u32, HopDraft>,
    /// Children of each hop, in start order.
    pub(super) children: HashMap<u32, Vec<u32>>,
    /// Side resolutions started by a resolution with no hop to hang under
    /// (for a zone cut it found in the cache), in start order.
    pub(super) res_children: HashMap<u32, Vec<u32>>,
    /// The last finished target resolution of each (lower-cased) name.
    pub(super) targets: HashMap<String, u32>,
}

impl Drafts {
    /// Hangs each side resolution whose parent hop is unknown (it was
    /// started for a zone cut found in the cache) under the innermost
    /// resolution open when it started, so a cycle shows where it happened.
    pub(super) fn adopt_orphans(&mut self) {
        let orphans: Vec<u32> = self
            .order
            .iter()
            .copied()
            .filter(|id| {
                let r = &self.res[id].node;
                r.purpose == PurposeKind::Target
                    && r.parent_hop.is_none_or(|h| !self.hops.contains_key(&h))
            })
            .collect();
        for orphan in orphans {
            let start = self.res[&orphan].start_seq;
            let parent = self
                .order
                .iter()
                .filter(|id| **id != orphan)
                .filter_map(|id| self.res.get(id).map(|r| (*id, r)))
                .filter(|(_, r)| r.start_seq < start && r.end_seq.is_none_or(|end| end > start))
                .max_by_key(|(_, r)| r.start_seq)
                .map(|(id, _)| id);
            if let Some(parent) = parent {
                self.res_children.entry(parent).or_default().push(orphan);
            }
        }
    }

    /// Applies event number `seq`, received at `at`.
    pub(super) fn apply(&mut self, seq: usize, at: Duration, event: &Event) {
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
                    side_resolutions: Vec::new(),
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
                    authority: Vec::new(),
                    side_resolutions: Vec::new(),
                    dnssec: Vec::new(),
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
            | Event::Answer { hop, .. }
            | Event::Dnssec { hop, .. } => *hop,
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
                // The flags of the final reply: after a TCP fallback that
                // is the TCP reply, which is not truncated.
                let mut flags = Vec::new();
                if *authoritative {
                    flags.push("aa".to_string());
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
            Event::Dnssec { text, facts, .. } => {
                let mut note = DnssecNote::parse(text);
                note.facts = facts.clone();
                hop.dnssec.push(note);
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
    pub(super) fn assemble(&self, id: u32, placed: &mut HashSet<u32>) -> Option<Resolution> {
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
        for child in self.res_children.get(&id).into_iter().flatten() {
            if let Some(r) = self.assemble(*child, placed) {
                node.side_resolutions.push(r);
            }
        }
        Some(node)
    }
}

/// `d` in whole microseconds, saturating.
pub(super) fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}
