//! From what the parent and the zone's servers said to findings, each with
//! a severity, the servers concerned and the RFC it rests on. Pure: the
//! probing happens in [`super::run`], so every rule is unit-tested here.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use hickory_proto::rr::Name;
use serde::{Deserialize, Serialize};

use super::chain::Chain;
use super::probe::{AddressMap, ChildView, Delegation, ParentView, Server, child_addresses};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Resolution fails or depends on luck.
    Error,
    /// Works, but wrong or fragile.
    Warning,
    /// Worth knowing.
    Notice,
}

/// What a finding is about; stable identifiers for scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// A parent server gave no usable delegation.
    ParentUnusable,
    /// Parent servers publish different NS sets or glue.
    ParentDisagree,
    /// An in-domain name server has no glue at the parent.
    MissingGlue,
    /// Glue differs from the zone's own addresses for the name.
    StaleGlue,
    /// A sibling-domain name server has no glue at the parent.
    MissingSiblingGlue,
    /// Sibling glue differs from the authoritative addresses.
    StaleSiblingGlue,
    /// The parent's NS set is not the child's apex NS set.
    NsMismatch,
    /// The zone's servers publish different apex NS sets.
    ChildDisagree,
    /// A server address does not answer authoritatively for the zone.
    Lame,
    /// A server address answers over UDP but not over TCP.
    NoTcp,
    /// A name server's name has no address anywhere.
    NoAddress,
    /// The zone's servers serve different SOA serials.
    SerialMismatch,
    /// A cold resolver needs a chain of side resolutions first.
    GluelessChain,
    /// Glueless delegations depend on each other in a loop.
    GluelessCycle,
    /// Every name server shares one address.
    SingleAddress,
    /// Every name server is in one /24 (IPv4) or /48 (IPv6).
    SinglePrefix,
    /// Addresses this host has no route to (IPv6 on an IPv4-only host),
    /// so they were not checked.
    Untested,
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// How bad.
    pub severity: Severity,
    /// What kind.
    pub code: Code,
    /// One line for a person.
    pub message: String,
    /// The servers concerned, as `name (address)` or `name`.
    pub servers: Vec<String>,
    /// The RFC and section it rests on, when one does.
    pub rfc: Option<String>,
}

/// Chains of side resolutions at least this long are reported: one level
/// is the normal cost of an out-of-bailiwick name server, each further one
/// is another full walk before the zone can be reached.
pub const GLUELESS_CHAIN_WARNING: usize = 2;

/// Everything the check learnt.
#[derive(Debug, Clone)]
pub struct Observations {
    /// The zone checked.
    pub zone: Name,
    /// Its parent zone.
    pub parent: Name,
    /// What each parent server said.
    pub parent_views: Vec<(Server, ParentView)>,
    /// The delegation used for the rest (the first usable parent view).
    pub delegation: Delegation,
    /// What each probed address of the zone's name servers said.
    pub child_views: Vec<(Server, ChildView)>,
    /// Addresses of out-of-zone name servers, from the resolver.
    pub resolved: AddressMap,
    /// The glueless chain in front of the zone.
    pub chain: Chain,
}

impl Observations {
    /// The child's apex NS sets, each with the servers that sent it.
    fn child_ns_sets(&self) -> BTreeMap<&BTreeSet<Name>, Vec<&Server>> {
        let mut sets: BTreeMap<&BTreeSet<Name>, Vec<&Server>> = BTreeMap::new();
        for (server, view) in &self.child_views {
            if let ChildView::Serving { ns, .. } = view {
                sets.entry(ns).or_default().push(server);
            }
        }
        sets
    }

    /// Authoritative addresses of `name`: the zone's servers for in-zone
    /// names, the resolver for the rest.
    pub fn authoritative_addresses(&self, name: &Name) -> BTreeSet<IpAddr> {
        if self.zone.zone_of(name) {
            child_addresses(&self.child_views, name)
        } else {
            self.resolved.get(name).cloned().unwrap_or_default()
        }
    }
}

/// Every finding, errors first.
pub fn findings(obs: &Observations) -> Vec<Finding> {
    let mut out = Vec::new();
    parent_findings(obs, &mut out);
    glue_findings(obs, &mut out);
    ns_set_findings(obs, &mut out);
    server_findings(obs, &mut out);
    chain_findings(obs, &mut out);
    diversity_findings(obs, &mut out);
    untested_findings(obs, &mut out);
    out.sort_by_key(|f| (f.severity, f.code));
    out
}

fn finding(
    severity: Severity,
    code: Code,
    message: String,
    servers: Vec<String>,
    rfc: Option<&str>,
) -> Finding {
    Finding {
        severity,
        code,
        message,
        servers,
        rfc: rfc.map(str::to_string),
    }
}

fn list<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    let all: Vec<String> = items.into_iter().map(|i| i.to_string()).collect();
    if all.is_empty() {
        "nothing".to_string()
    } else {
        all.join(", ")
    }
}

fn parent_findings(obs: &Observations, out: &mut Vec<Finding>) {
    let mut published: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (server, view) in &obs.parent_views {
        match view {
            ParentView::Delegation(d) => {
                let key = format!("NS {} glue {}", list(&d.ns), glue_text(&d.glue));
                published.entry(key).or_default().push(server.to_string());
            }
            ParentView::Unusable(problem) => out.push(finding(
                Severity::Error,
                Code::ParentUnusable,
                format!(
                    "parent server {server} gave no delegation for {}: {problem}",
                    obs.zone
                ),
                vec![server.to_string()],
                Some("RFC 9499 §7"),
            )),
            ParentView::Unreachable(_) => {}
            ParentView::NotDelegated | ParentView::NxDomain => out.push(finding(
                Severity::Error,
                Code::ParentDisagree,
                format!("parent server {server} does not delegate {}", obs.zone),
                vec![server.to_string()],
                None,
            )),
        }
    }
    if published.len() > 1 {
        let servers = published.values().flatten().cloned().collect();
        let versions: Vec<String> = published
            .iter()
            .map(|(what, who)| format!("{} publish {what}", who.join(" and ")))
            .collect();
        out.push(finding(
            Severity::Warning,
            Code::ParentDisagree,
            format!("the parent's servers disagree: {}", versions.join("; ")),
            servers,
            None,
        ));
    }
}

fn glue_text(glue: &AddressMap) -> String {
    list(
        glue.iter()
            .map(|(name, addrs)| format!("{name} {}", list(addrs))),
    )
}

fn glue_findings(obs: &Observations, out: &mut Vec<Finding>) {
    let d = &obs.delegation;
    if d.from_child {
        // Every parent server also serves the zone and answered with its
        // own data: no referral, so no glue to judge.
        return;
    }
    for name in &d.ns {
        let in_domain = obs.zone.zone_of(name);
        let sibling = !in_domain && obs.parent.zone_of(name);
        if !in_domain && !sibling {
            continue;
        }
        let glue = d.glue.get(name).cloned().unwrap_or_default();
        let truth = obs.authoritative_addresses(name);
        let (missing, stale, rfc) = if in_domain {
            (
                (Severity::Error, Code::MissingGlue),
                Code::StaleGlue,
                "RFC 9471 §3.1",
            )
        } else {
            (
                (Severity::Notice, Code::MissingSiblingGlue),
                Code::StaleSiblingGlue,
                "RFC 9471 §3.2",
            )
        };
        // Glue is a copy of the child's data for bootstrapping (RFC 1034
        // §4.2.1); a copy that differs sends resolvers to old addresses.
        let stale_rfc = "RFC 1034 §4.2.1";
        if glue.is_empty() {
            let why = if in_domain {
                "no resolver can reach it without glue"
            } else {
                "resolvers must look its address up first"
            };
            out.push(finding(
                missing.0,
                missing.1,
                format!("{name} has no glue at {}: {why}", obs.parent),
                vec![name.to_string()],
                Some(rfc),
            ));
        } else if !truth.is_empty() && glue != truth {
            let severity = match (in_domain, glue.is_disjoint(&truth)) {
                (true, true) => Severity::Error,
                _ => Severity::Warning,
            };
            let source = if in_domain {
                obs.zone.to_string()
            } else {
                "its own zone".to_string()
            };
            out.push(finding(
                severity,
                stale,
                format!(
                    "glue for {name} at {} says {}, {source} says {}",
                    obs.parent,
                    list(&glue),
                    list(&truth)
                ),
                vec![name.to_string()],
                Some(stale_rfc),
            ));
        }
    }
}

fn ns_set_findings(obs: &Observations, out: &mut Vec<Finding>) {
    let sets = obs.child_ns_sets();
    if sets.len() > 1 {
        let versions: Vec<String> = sets
            .iter()
            .map(|(ns, who)| format!("{} say {}", list(who.iter()), list(ns.iter())))
            .collect();
        out.push(finding(
            Severity::Warning,
            Code::ChildDisagree,
            format!(
                "the zone's servers publish different NS sets: {}",
                versions.join("; ")
            ),
            sets.values().flatten().map(|s| s.to_string()).collect(),
            Some("RFC 1034 §4.3.5"),
        ));
    }
    let Some((child, _)) = sets.iter().max_by_key(|(_, who)| who.len()) else {
        return;
    };
    let parent = &obs.delegation.ns;
    if *child != parent {
        let only_parent: Vec<&Name> = parent.difference(child).collect();
        let only_child: Vec<&Name> = child.difference(parent).collect();
        out.push(finding(
            Severity::Warning,
            Code::NsMismatch,
            format!(
                "NS sets differ: only at {} {}, only in {} {}; resolvers replace the parent's set \
                 with the child's once they reach it, so which servers get used depends on cache state",
                obs.parent,
                list(&only_parent),
                obs.zone,
                list(&only_child)
            ),
            only_parent.iter().chain(&only_child).map(|n| n.to_string()).collect(),
            Some("RFC 2181 §5.4.1"),
        ));
    }
}

fn server_findings(obs: &Observations, out: &mut Vec<Finding>) {
    let mut serials: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for (server, view) in &obs.child_views {
        match view {
            ChildView::Serving {
                serial,
                tcp_problem,
                ..
            } => {
                serials.entry(*serial).or_default().push(server.to_string());
                if let Some(problem) = tcp_problem {
                    out.push(finding(
                        Severity::Error,
                        Code::NoTcp,
                        format!(
                            "{server} answers over UDP but not over TCP ({problem}): \
                             large answers and truncated replies cannot be had from it"
                        ),
                        vec![server.to_string()],
                        Some("RFC 7766 §5"),
                    ));
                }
            }
            ChildView::Unreachable(_) => {}
            ChildView::Lame(problem) => out.push(finding(
                Severity::Error,
                Code::Lame,
                format!("{server} is lame for {}: {problem}", obs.zone),
                vec![server.to_string()],
                Some("RFC 9499 §7"),
            )),
        }
    }
    if serials.len() > 1 {
        let versions: Vec<String> = serials
            .iter()
            .map(|(serial, who)| format!("{serial} at {}", who.join(", ")))
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
        if !probed.contains(name) {
            out.push(finding(
                Severity::Error,
                Code::NoAddress,
                format!("no address found for name server {name}"),
                vec![name.to_string()],
                None,
            ));
        }
    }
}

/// The NS names of the parent's and the child's sets.
fn all_ns_names(obs: &Observations) -> BTreeSet<&Name> {
    let mut names: BTreeSet<&Name> = obs.delegation.ns.iter().collect();
    for ns in obs.child_ns_sets().into_keys() {
        names.extend(ns.iter());
    }
    names
}

fn chain_findings(obs: &Observations, out: &mut Vec<Finding>) {
    match &obs.chain {
        Chain::Reachable(path) if path.len() >= GLUELESS_CHAIN_WARNING => out.push(finding(
            Severity::Warning,
            Code::GluelessChain,
            format!(
                "a cold resolver needs {} side resolutions in a row before it can ask {}'s servers: {}",
                path.len(),
                obs.zone,
                list(path)
            ),
            path.iter().map(|n| n.to_string()).collect(),
            None,
        )),
        Chain::Cycle(zones) => out.push(finding(
            Severity::Error,
            Code::GluelessCycle,
            format!(
                "glueless delegations form a cycle ({}): no resolver can find the servers' addresses",
                list(zones)
            ),
            zones.iter().map(|n| n.to_string()).collect(),
            None,
        )),
        Chain::Reachable(_) | Chain::Unknown => {}
    }
}

fn diversity_findings(obs: &Observations, out: &mut Vec<Finding>) {
    let addrs: BTreeSet<IpAddr> = obs.child_views.iter().map(|(s, _)| s.addr).collect();
    if addrs.is_empty() {
        return;
    }
    let names: Vec<String> = all_ns_names(obs).iter().map(|n| n.to_string()).collect();
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

fn untested_findings(obs: &Observations, out: &mut Vec<Finding>) {
    let parents = obs.parent_views.iter().filter_map(|(s, v)| match v {
        ParentView::Unreachable(_) => Some(s),
        _ => None,
    });
    let children = obs.child_views.iter().filter_map(|(s, v)| match v {
        ChildView::Unreachable(_) => Some(s),
        _ => None,
    });
    let servers: Vec<String> = parents.chain(children).map(|s| s.to_string()).collect();
    if !servers.is_empty() {
        out.push(finding(
            Severity::Notice,
            Code::Untested,
            format!(
                "not checked: this host has no route to {} (an IPv6 address on an IPv4-only host, say)",
                servers.join(", ")
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn n(s: &str) -> Name {
        Name::from_str(s).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn set(names: &[&str]) -> BTreeSet<Name> {
        names.iter().map(|s| n(s)).collect()
    }

    fn serving(serial: u32, ns: &[&str], addrs: &[(&str, &str)]) -> ChildView {
        let mut addresses = AddressMap::new();
        for (name, addr) in addrs {
            addresses.entry(n(name)).or_default().insert(ip(addr));
        }
        ChildView::Serving {
            serial,
            tcp_problem: None,
            ns: set(ns),
            addresses,
        }
    }

    fn server(name: &str, addr: &str) -> Server {
        Server {
            name: n(name),
            addr: ip(addr),
        }
    }

    /// ex.tld. delegated to ns1.ex.tld. (glue 192.0.2.1) and
    /// ns2.ex.tld. (glue 198.51.100.2), both serving serial 1.
    fn healthy() -> Observations {
        let mut glue = AddressMap::new();
        glue.insert(n("ns1.ex.tld."), [ip("192.0.2.1")].into());
        glue.insert(n("ns2.ex.tld."), [ip("198.51.100.2")].into());
        let delegation = Delegation {
            ns: set(&["ns1.ex.tld.", "ns2.ex.tld."]),
            glue,
            from_child: false,
        };
        let both = [
            ("ns1.ex.tld.", "192.0.2.1"),
            ("ns2.ex.tld.", "198.51.100.2"),
        ];
        Observations {
            zone: n("ex.tld."),
            parent: n("tld."),
            parent_views: vec![(
                server("ns.nic.tld.", "203.0.113.1"),
                ParentView::Delegation(delegation.clone()),
            )],
            delegation,
            child_views: vec![
                (
                    server("ns1.ex.tld.", "192.0.2.1"),
                    serving(1, &["ns1.ex.tld.", "ns2.ex.tld."], &both),
                ),
                (
                    server("ns2.ex.tld.", "198.51.100.2"),
                    serving(1, &["ns1.ex.tld.", "ns2.ex.tld."], &both),
                ),
            ],
            resolved: AddressMap::new(),
            chain: Chain::Reachable(vec![]),
        }
    }

    fn codes(obs: &Observations) -> Vec<(Severity, Code)> {
        findings(obs).iter().map(|f| (f.severity, f.code)).collect()
    }

    #[test]
    fn a_healthy_zone_has_no_findings() {
        assert_eq!(findings(&healthy()), vec![]);
    }

    #[test]
    fn glue_wholly_or_partly_stale() {
        let mut obs = healthy();
        obs.delegation
            .glue
            .insert(n("ns1.ex.tld."), [ip("192.0.2.99")].into());
        assert_eq!(codes(&obs), [(Severity::Error, Code::StaleGlue)]);
        obs.delegation
            .glue
            .insert(n("ns1.ex.tld."), [ip("192.0.2.1"), ip("192.0.2.99")].into());
        let all = findings(&obs);
        assert_eq!(all.len(), 1);
        assert_eq!(
            (all[0].severity, all[0].code),
            (Severity::Warning, Code::StaleGlue)
        );
        assert!(all[0].message.contains("192.0.2.99"), "{}", all[0].message);
        assert_eq!(all[0].servers, ["ns1.ex.tld."]);
    }

    #[test]
    fn no_glue_is_expected_from_a_parent_server_that_serves_the_child() {
        let mut obs = healthy();
        obs.delegation.glue.clear();
        assert_eq!(codes(&obs).len(), 2, "both in-domain servers lack glue");
        obs.delegation.from_child = true;
        assert_eq!(codes(&obs), []);
    }

    #[test]
    fn missing_in_domain_glue_is_an_error_missing_sibling_glue_a_notice() {
        let mut obs = healthy();
        obs.delegation.glue.remove(&n("ns2.ex.tld."));
        assert_eq!(codes(&obs), [(Severity::Error, Code::MissingGlue)]);

        let mut obs = healthy();
        obs.delegation.ns.insert(n("ns.other.tld."));
        obs.resolved
            .insert(n("ns.other.tld."), [ip("192.0.2.7")].into());
        obs.child_views.push((
            server("ns.other.tld.", "192.0.2.7"),
            serving(1, &["ns1.ex.tld.", "ns2.ex.tld."], &[]),
        ));
        assert_eq!(
            codes(&obs),
            [
                (Severity::Warning, Code::NsMismatch),
                (Severity::Notice, Code::MissingSiblingGlue)
            ]
        );
    }

    #[test]
    fn ns_sets_serials_and_lame_servers() {
        let mut obs = healthy();
        obs.child_views[1].1 = ChildView::Lame("answered REFUSED".into());
        obs.child_views[0].1 = serving(7, &["ns1.ex.tld.", "ns3.ex.tld."], &[]);
        assert_eq!(
            codes(&obs),
            [
                (Severity::Error, Code::Lame),
                // ns3 is in the child's set but no server gave its address.
                (Severity::Error, Code::NoAddress),
                (Severity::Warning, Code::NsMismatch)
            ]
        );

        let mut obs = healthy();
        obs.child_views[1].1 = serving(2, &["ns1.ex.tld.", "ns2.ex.tld."], &[]);
        assert_eq!(codes(&obs), [(Severity::Warning, Code::SerialMismatch)]);
    }

    #[test]
    fn a_server_without_tcp_is_an_error() {
        let mut obs = healthy();
        if let ChildView::Serving { tcp_problem, .. } = &mut obs.child_views[0].1 {
            *tcp_problem = Some("connection refused".into());
        }
        let all = findings(&obs);
        assert_eq!(all.len(), 1, "{all:?}");
        assert_eq!(
            (all[0].severity, all[0].code),
            (Severity::Error, Code::NoTcp)
        );
        assert_eq!(all[0].servers, ["ns1.ex.tld. (192.0.2.1)"]);
    }

    #[test]
    fn chains_cycles_and_missing_addresses() {
        let mut obs = healthy();
        obs.chain = Chain::Reachable(vec![n("ns.a.tld."), n("ns.b.tld.")]);
        assert_eq!(codes(&obs), [(Severity::Warning, Code::GluelessChain)]);
        obs.chain = Chain::Reachable(vec![n("ns.a.tld.")]);
        assert_eq!(codes(&obs), []);
        obs.chain = Chain::Cycle(vec![n("x.tld."), n("y.tld.")]);
        obs.delegation.ns.insert(n("ns.y.tld."));
        let got = codes(&obs);
        assert!(
            got.contains(&(Severity::Error, Code::GluelessCycle)),
            "{got:?}"
        );
        assert!(got.contains(&(Severity::Error, Code::NoAddress)), "{got:?}");
    }

    #[test]
    fn servers_in_one_prefix_or_at_one_address() {
        let mut obs = healthy();
        obs.child_views[1].0.addr = ip("192.0.2.2");
        assert_eq!(
            codes(&obs).last(),
            Some(&(Severity::Notice, Code::SinglePrefix))
        );
        obs.child_views[1].0.addr = ip("192.0.2.1");
        assert_eq!(
            codes(&obs).last(),
            Some(&(Severity::Notice, Code::SingleAddress))
        );
    }

    #[test]
    fn unreachable_addresses_are_untested_not_lame() {
        let mut obs = healthy();
        obs.parent_views.push((
            server("ns.nic.tld.", "2001:db8::53"),
            ParentView::Unreachable("no route".into()),
        ));
        obs.child_views.push((
            server("ns1.ex.tld.", "2001:db8::1"),
            ChildView::Unreachable("no route".into()),
        ));
        let all = findings(&obs);
        assert_eq!(all.len(), 1, "{all:?}");
        assert_eq!(
            (all[0].severity, all[0].code),
            (Severity::Notice, Code::Untested)
        );
        assert_eq!(
            all[0].servers,
            ["ns.nic.tld. (2001:db8::53)", "ns1.ex.tld. (2001:db8::1)"]
        );
    }

    #[test]
    fn parent_servers_that_disagree_or_fail() {
        let mut obs = healthy();
        let mut other = obs.delegation.clone();
        other.ns.remove(&n("ns2.ex.tld."));
        obs.parent_views.push((
            server("ns2.nic.tld.", "203.0.113.2"),
            ParentView::Delegation(other),
        ));
        obs.parent_views.push((
            server("ns3.nic.tld.", "203.0.113.3"),
            ParentView::Unusable("no reply".into()),
        ));
        assert_eq!(
            codes(&obs),
            [
                (Severity::Error, Code::ParentUnusable),
                (Severity::Warning, Code::ParentDisagree)
            ]
        );
    }
}
