//! The server rules: what each address of the zone's name servers said
//! (lame, no TCP, serials), names with no address at all, and how spread
//! out the servers are (RFC 2182 §3.1).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use hickory_proto::rr::Name;

use super::chain::Chain;
use super::findings::{
    Code, Finding, Observations, ServerRef, Severity, all_ns_names, finding, list,
};
use super::glue::stale_glue;
use super::probe::{ChildView, ParentView};

pub(super) fn server_findings(obs: &Observations, out: &mut Vec<Finding>) {
    let mut serials: BTreeMap<u32, Vec<ServerRef>> = BTreeMap::new();
    let stale = stale_glue(obs);
    let cycle_names = cycle_names(obs);
    for (server, view) in &obs.child_views {
        match view {
            ChildView::Serving {
                serial,
                tcp_problem,
                ..
            } => {
                serials
                    .entry(*serial)
                    .or_default()
                    .push(ServerRef::from(server));
                if let Some(problem) = tcp_problem {
                    out.push(finding(
                        Severity::Error,
                        Code::NoTcp,
                        format!(
                            "{server} answers over UDP but not over TCP ({problem}): \
                             large answers and truncated replies cannot be had from it"
                        ),
                        vec![ServerRef::from(server)],
                        Some("RFC 7766 §5"),
                    ));
                }
            }
            ChildView::Unreachable(_) => {}
            // Reported under the stale glue that sent resolvers there.
            ChildView::Lame(_) if stale.contains(&(server.name.clone(), server.addr)) => {}
            ChildView::Lame(problem) => out.push(finding(
                Severity::Error,
                Code::Lame,
                format!("{server} is lame for {}: {problem}", obs.zone),
                vec![ServerRef::from(server)],
                Some("RFC 9499 §7"),
            )),
        }
    }
    if serials.len() > 1 {
        let versions: Vec<String> = serials
            .iter()
            .map(|(serial, who)| format!("{serial} at {}", join(who, ", ")))
            .collect();
        out.push(finding(
            Severity::Warning,
            Code::SerialMismatch,
            format!(
                "SOA serials differ: {}; some servers missed an update",
                versions.join("; ")
            ),
            serials.into_values().flatten().collect(),
            Some("RFC 1034 §4.3.5"),
        ));
    }
    let probed: BTreeSet<&Name> = obs.child_views.iter().map(|(s, _)| &s.name).collect();
    for name in all_ns_names(obs) {
        // Reported under the cycle that leaves it without an address.
        if !probed.contains(name) && !cycle_names.contains(name) {
            out.push(finding(
                Severity::Error,
                Code::NoAddress,
                format!("no address found for name server {name}"),
                vec![ServerRef::named(name)],
                None,
            ));
        }
    }
}

/// `items` joined by `sep`.
pub(super) fn join(items: &[ServerRef], sep: &str) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(sep)
}

/// The name servers without an address whose names lie in the zones of a
/// glueless cycle: the cycle is why they have none.
pub(super) fn cycle_names(obs: &Observations) -> BTreeSet<&Name> {
    let Chain::Cycle(zones) = &obs.chain else {
        return BTreeSet::new();
    };
    let probed: BTreeSet<&Name> = obs.child_views.iter().map(|(s, _)| &s.name).collect();
    all_ns_names(obs)
        .into_iter()
        .filter(|name| !probed.contains(name) && zones.iter().any(|z| z.zone_of(name)))
        .collect()
}

pub(super) fn diversity_findings(obs: &Observations, out: &mut Vec<Finding>) {
    let addrs: BTreeSet<IpAddr> = obs.child_views.iter().map(|(s, _)| s.addr).collect();
    if addrs.is_empty() {
        return;
    }
    let names: Vec<ServerRef> = all_ns_names(obs)
        .into_iter()
        .map(ServerRef::named)
        .collect();
    if addrs.len() == 1 {
        out.push(finding(
            Severity::Notice,
            Code::SingleAddress,
            format!(
                "every name server of {} is at one address, {}: one failure takes the zone down",
                obs.zone,
                list(&addrs)
            ),
            names,
            Some("RFC 2182 §3.1"),
        ));
        return;
    }
    let prefixes: BTreeSet<String> = addrs.iter().map(prefix_of).collect();
    if prefixes.len() == 1 {
        out.push(finding(
            Severity::Notice,
            Code::SinglePrefix,
            format!(
                "every name server of {} is in {}: one network failure takes the zone down",
                obs.zone,
                list(&prefixes)
            ),
            names,
            Some("RFC 2182 §3.1"),
        ));
    }
}

pub(super) fn untested_findings(obs: &Observations, out: &mut Vec<Finding>) {
    let parents = obs.parent_views.iter().filter_map(|(s, v)| match v {
        ParentView::Unreachable(_) => Some(s),
        _ => None,
    });
    let children = obs.child_views.iter().filter_map(|(s, v)| match v {
        ChildView::Unreachable(_) => Some(s),
        _ => None,
    });
    let servers: Vec<ServerRef> = parents.chain(children).map(ServerRef::from).collect();
    if !servers.is_empty() {
        out.push(finding(
            Severity::Notice,
            Code::Untested,
            format!(
                "not checked: this host has no route to {} (an IPv6 address on an IPv4-only host, say)",
                join(&servers, ", ")
            ),
            servers,
            None,
        ));
    }
}

/// The /24 (IPv4) or /48 (IPv6) an address is in.
fn prefix_of(addr: &IpAddr) -> String {
    match addr {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
    }
}
