//! The glue rules: what the parent publishes for the zone's name servers
//! against what the zone (or, for sibling names, their own zone) says.
//! Missing glue, stale glue (with the lame addresses it sends resolvers to
//! listed under it), and glue for a name the zone itself does not have.

use std::collections::BTreeSet;
use std::net::IpAddr;

use hickory_proto::rr::Name;

use super::findings::{Code, Finding, Observations, ServerRef, Severity, finding, list};
use super::probe::ChildView;

/// Glue is a copy of the child's data for bootstrapping (RFC 1034 §4.2.1);
/// a copy that differs sends resolvers to old addresses.
const STALE_RFC: &str = "RFC 1034 §4.2.1";

/// The name servers whose glue the rules judge: in-domain names (inside
/// the zone) and sibling names (inside the parent), unless every parent
/// server also serves the zone (no referral, so no glue to judge).
fn judged(obs: &Observations) -> impl Iterator<Item = (&Name, bool)> {
    let from_child = obs.delegation.from_child;
    obs.delegation.ns.iter().filter_map(move |name| {
        let in_domain = obs.zone.zone_of(name);
        let sibling = !in_domain && obs.parent.zone_of(name);
        (!from_child && (in_domain || sibling)).then_some((name, in_domain))
    })
}

/// The (name, address) pairs of glue the authoritative data does not
/// have: where stale glue sends resolvers.
pub(super) fn stale_glue(obs: &Observations) -> BTreeSet<(Name, IpAddr)> {
    let mut out = BTreeSet::new();
    for (name, _) in judged(obs) {
        let truth = obs.authoritative_addresses(name);
        if truth.is_empty() {
            continue;
        }
        for addr in obs.delegation.glue.get(name).into_iter().flatten() {
            if !truth.contains(addr) {
                out.insert((name.clone(), *addr));
            }
        }
    }
    out
}

/// Missing, stale and unbacked glue.
pub(super) fn glue_findings(obs: &Observations, out: &mut Vec<Finding>) {
    for (name, in_domain) in judged(obs) {
        let glue = obs.delegation.glue.get(name).cloned().unwrap_or_default();
        let truth = obs.authoritative_addresses(name);
        if glue.is_empty() {
            out.push(missing(obs, name, in_domain));
        } else if truth.is_empty() {
            if in_domain && zone_answered(obs) {
                out.push(not_in_zone(obs, name, &glue));
            }
        } else if glue != truth {
            out.push(stale(obs, name, in_domain, &glue, &truth));
        }
    }
}

/// Whether some server of the zone answered for it, so an address the
/// zone does not give is known to be missing, not merely unasked.
fn zone_answered(obs: &Observations) -> bool {
    obs.child_views
        .iter()
        .any(|(_, v)| matches!(v, ChildView::Serving { .. }))
}

fn missing(obs: &Observations, name: &Name, in_domain: bool) -> Finding {
    let (severity, code, rfc, why) = if in_domain {
        (
            Severity::Error,
            Code::MissingGlue,
            "RFC 9471 §3.1",
            "no resolver can reach it without glue",
        )
    } else {
        (
            Severity::Notice,
            Code::MissingSiblingGlue,
            "RFC 9471 §3.2",
            "resolvers must look its address up first",
        )
    };
    finding(
        severity,
        code,
        format!("{name} has no glue at {}: {why}", obs.parent),
        vec![ServerRef::named(name)],
        Some(rfc),
    )
}

fn not_in_zone(obs: &Observations, name: &Name, glue: &BTreeSet<IpAddr>) -> Finding {
    // Resolvers replace glue with the zone's own answer (RFC 2181 §5.4.1)
    // and find none, so the server drops out once the zone is asked.
    finding(
        Severity::Error,
        Code::GlueNotInZone,
        format!(
            "{} publishes glue for {name} ({}), but {} has no address for it: \
             resolvers that ask the zone lose this server",
            obs.parent,
            list(glue),
            obs.zone
        ),
        vec![ServerRef::named(name)],
        Some("RFC 2181 §5.4.1"),
    )
}

fn stale(
    obs: &Observations,
    name: &Name,
    in_domain: bool,
    glue: &BTreeSet<IpAddr>,
    truth: &BTreeSet<IpAddr>,
) -> Finding {
    let severity = match (in_domain, glue.is_disjoint(truth)) {
        (true, true) => Severity::Error,
        _ => Severity::Warning,
    };
    let (code, source) = if in_domain {
        (Code::StaleGlue, obs.zone.to_string())
    } else {
        (Code::StaleSiblingGlue, "its own zone".to_string())
    };
    let mut f = finding(
        severity,
        code,
        format!(
            "glue for {name} at {} says {}, {source} says {}",
            obs.parent,
            list(glue),
            list(truth)
        ),
        vec![ServerRef::named(name)],
        Some(STALE_RFC),
    );
    f.consequences = obs
        .child_views
        .iter()
        .filter(|(s, _)| &s.name == name && glue.contains(&s.addr) && !truth.contains(&s.addr))
        .filter_map(|(s, view)| match view {
            ChildView::Lame(problem) => Some(format!("{s} is lame: {problem}")),
            _ => None,
        })
        .collect();
    f
}
