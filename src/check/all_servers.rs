//! `rootwalk trace --all-servers`: what dnstracer and DNSViz do and dig
//! cannot. After the walk, the question asked at each zone cut of the
//! trace (the client's path and its side resolutions) is put to every
//! server address of that cut, and replies that differ, or do not come,
//! are reported.
//!
//! A cut's servers are the union of the referral's NS set (with its glue)
//! and the zone's own NS answer, at every address the glue and the
//! (now warm) resolver know.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::str::FromStr;

use futures_util::future::join_all;
use hickory_proto::rr::{Name, RecordType};

use super::probe::{ProbeError, Prober, ns_targets};
use crate::resolve::Resolver;
use crate::resolve::classify::{ResponseKind, classify};
use crate::trace::tree::{CutSurvey, Hop, Resolution, SurveyReply, Trace};

/// Servers asked per zone cut at most: a zone with more addresses than
/// this (the real root has 26) is sampled in name order, so one survey
/// cannot turn into hundreds of queries.
pub const MAX_SURVEY_ADDRESSES: usize = 32;

/// One cut of the path: its zone, the question and the servers known.
struct Cut {
    zone: Name,
    qname: Name,
    qtype: RecordType,
    servers: BTreeMap<Name, BTreeSet<IpAddr>>,
}

/// Fills `trace.all_servers` by asking every server of each cut on the
/// client resolution's path. `resolver` should be the one that made the
/// trace, so addresses come from its cache.
pub async fn survey(trace: &mut Trace, resolver: &Resolver, prober: &Prober) {
    let cuts = cuts_of(trace, resolver).await;
    let surveys = join_all(cuts.iter().map(|cut| survey_cut(cut, prober))).await;
    trace.all_servers = surveys;
}

/// Every hop of the trace in tree order: each resolution's hops, and after
/// each hop the side resolutions it needed.
fn hops_of(trace: &Trace) -> Vec<&Hop> {
    fn walk<'a>(resolution: &'a Resolution, out: &mut Vec<&'a Hop>) {
        for hop in &resolution.hops {
            out.push(hop);
            for side in &hop.side_resolutions {
                walk(side, out);
            }
        }
    }
    let mut out = Vec::new();
    for resolution in &trace.resolutions {
        walk(resolution, &mut out);
    }
    out
}

/// The distinct (zone, question) pairs of the trace's hops, side
/// resolutions included, in order, with the servers the referrals named.
async fn cuts_of(trace: &Trace, resolver: &Resolver) -> Vec<Cut> {
    let mut cuts: Vec<Cut> = Vec::new();
    let mut referred: BTreeMap<Name, BTreeMap<Name, BTreeSet<IpAddr>>> = BTreeMap::new();
    for hop in hops_of(trace) {
        note_referral(hop, &mut referred);
        let (Ok(zone), Ok(qname), Ok(qtype)) = (
            Name::from_str(&hop.zone),
            Name::from_str(&hop.qname),
            RecordType::from_str(&hop.qtype),
        ) else {
            continue;
        };
        let priming = zone.is_root() && qname.is_root() && qtype == RecordType::NS;
        let seen = cuts
            .iter()
            .any(|c| c.zone == zone && c.qname == qname && c.qtype == qtype);
        if seen || (priming && trace.question.name != ".") {
            continue;
        }
        let mut servers = BTreeMap::new();
        if let Ok(addr) = hop.address.parse::<IpAddr>()
            && let Ok(name) = Name::from_str(&hop.server_name)
        {
            servers
                .entry(name)
                .or_insert_with(BTreeSet::new)
                .insert(addr);
        }
        cuts.push(Cut {
            zone,
            qname,
            qtype,
            servers,
        });
    }
    for cut in &mut cuts {
        if let Some(named) = referred.get(&cut.zone) {
            for (name, glue) in named {
                cut.servers.entry(name.clone()).or_default().extend(glue);
            }
        }
        add_zone_servers(cut, resolver).await;
    }
    cuts
}

fn note_referral(hop: &Hop, referred: &mut BTreeMap<Name, BTreeMap<Name, BTreeSet<IpAddr>>>) {
    let Some(referral) = &hop.referral else {
        return;
    };
    let Ok(zone) = Name::from_str(&referral.zone) else {
        return;
    };
    let servers = referred.entry(zone).or_default();
    for server in &referral.servers {
        if let Ok(name) = Name::from_str(&server.name) {
            let glue = server.glue.iter().filter_map(|a| a.parse::<IpAddr>().ok());
            servers.entry(name).or_default().extend(glue);
        }
    }
}

/// Adds the zone's own NS set and every server's addresses, from the
/// resolver.
async fn add_zone_servers(cut: &mut Cut, resolver: &Resolver) {
    let observer = crate::trace::NullObserver;
    if let Ok(outcome) = resolver.resolve(&cut.zone, RecordType::NS, &observer).await {
        for name in ns_targets(&outcome.answers) {
            cut.servers.entry(name).or_default();
        }
    }
    for (name, addrs) in &mut cut.servers {
        addrs.extend(super::resolve_addresses(resolver, name, &observer).await);
    }
}

async fn survey_cut(cut: &Cut, prober: &Prober) -> CutSurvey {
    let targets: Vec<(&Name, IpAddr)> = cut
        .servers
        .iter()
        .flat_map(|(name, addrs)| addrs.iter().map(move |a| (name, *a)))
        .take(MAX_SURVEY_ADDRESSES)
        .collect();
    let replies = join_all(targets.iter().map(|(name, addr)| async move {
        let (reply, lame, unreachable) =
            match prober.ask(*addr, &cut.zone, &cut.qname, cut.qtype).await {
                Ok(scrubbed) => {
                    let (reply, lame) = summarize(&scrubbed);
                    (reply, lame, false)
                }
                Err(ProbeError::Failed(problem)) => (problem, true, false),
                Err(ProbeError::Unreachable(why)) => (why, false, true),
            };
        SurveyReply {
            name: name.to_string(),
            address: addr.to_string(),
            reply,
            lame,
            unreachable,
        }
    }))
    .await;
    let distinct: BTreeSet<&str> = replies
        .iter()
        .filter(|r| !r.lame && !r.unreachable)
        .map(|r| r.reply.as_str())
        .collect();
    CutSurvey {
        zone: cut.zone.to_string(),
        qname: cut.qname.to_string(),
        qtype: cut.qtype.to_string(),
        disagreement: distinct.len() > 1,
        servers: replies,
    }
}

/// One line for a reply, and whether it makes the server lame.
fn summarize(reply: &crate::resolve::scrub::Scrubbed) -> (String, bool) {
    let data = |records: &[hickory_proto::rr::Record]| -> String {
        let mut all: Vec<String> = records
            .iter()
            .map(|r| format!("{} {}", r.record_type(), r.data))
            .collect();
        all.sort();
        all.join(", ")
    };
    match classify(reply) {
        ResponseKind::Referral { zone } => {
            let mut text = format!("referral to {zone} {}", data(reply.authority_ns()));
            if !reply.glue().is_empty() {
                let mut glue: Vec<String> = reply
                    .glue()
                    .iter()
                    .map(|r| format!("{} {}", r.name, r.data))
                    .collect();
                glue.sort();
                text.push_str(&format!(", glue {}", glue.join(", ")));
            }
            (text, false)
        }
        ResponseKind::Answer | ResponseKind::Cname { .. } => {
            (format!("answer {}", data(reply.chain())), false)
        }
        ResponseKind::NoData => ("NODATA".to_string(), false),
        ResponseKind::NxDomain => ("NXDOMAIN".to_string(), false),
        ResponseKind::Lame(reason) => (format!("lame: {reason}"), true),
    }
}
