//! From what the parent and the zone's servers said to findings, each with
//! a severity, the servers concerned, the RFC it rests on and where the fix
//! is made. Pure: the probing happens in [`super::run`], so every rule is
//! unit-tested here. One cause is one finding: the lame addresses stale
//! glue causes and the addressless name servers of a glueless cycle are
//! listed under that finding, not reported again. The glue rules live in
//! `super::glue`, the finding types in [`super::kinds`].

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use hickory_proto::rr::Name;

use super::chain::Chain;
pub use super::dnssec::DnssecObservations;
use super::dnssec::dnssec_findings;
use super::edns::edns_findings;
use super::glue::glue_findings;
pub use super::kinds::{Code, Finding, FixAt, ServerRef, Severity};
use super::probe::{
    AddressMap, ChildView, Delegation, EdnsView, ParentView, Server, child_addresses,
};
use super::servers::{cycle_names, diversity_findings, join, server_findings, untested_findings};
use super::soa::soa_findings;

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
    /// The DS at the parent and the keys and signatures at the zone.
    pub dnssec: DnssecObservations,
    /// What each serving address did with the EDNS compliance probes.
    pub edns: Vec<(Server, EdnsView)>,
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
    dnssec_findings(obs, &mut out);
    edns_findings(obs, &mut out);
    soa_findings(obs, &mut out);
    out.sort_by_key(|f| (f.severity, f.code));
    out
}

pub(super) fn finding(
    severity: Severity,
    code: Code,
    message: String,
    servers: Vec<ServerRef>,
    rfc: Option<&str>,
) -> Finding {
    Finding::new(severity, code, message, servers, rfc)
}

pub(super) fn list<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    let all: Vec<String> = items.into_iter().map(|i| i.to_string()).collect();
    if all.is_empty() {
        "nothing".to_string()
    } else {
        all.join(", ")
    }
}

fn parent_findings(obs: &Observations, out: &mut Vec<Finding>) {
    let mut published: BTreeMap<String, Vec<ServerRef>> = BTreeMap::new();
    for (server, view) in &obs.parent_views {
        match view {
            ParentView::Delegation(d) => {
                let key = format!("NS {} glue {}", list(&d.ns), glue_text(&d.glue));
                published
                    .entry(key)
                    .or_default()
                    .push(ServerRef::from(server));
            }
            ParentView::Unusable(problem) => out.push(finding(
                Severity::Error,
                Code::ParentUnusable,
                format!(
                    "parent server {server} gave no delegation for {}: {problem}",
                    obs.zone
                ),
                vec![ServerRef::from(server)],
                Some("RFC 9499 §7"),
            )),
            ParentView::Unreachable(_) => {}
            ParentView::NotDelegated | ParentView::NxDomain => out.push(finding(
                Severity::Error,
                Code::ParentDisagree,
                format!("parent server {server} does not delegate {}", obs.zone),
                vec![ServerRef::from(server)],
                None,
            )),
        }
    }
    if published.len() > 1 {
        let servers = published.values().flatten().cloned().collect();
        let versions: Vec<String> = published
            .iter()
            .map(|(what, who)| format!("{} publish {what}", join(who, " and ")))
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
            sets.values()
                .flatten()
                .map(|s| ServerRef::from(*s))
                .collect(),
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
            only_parent
                .iter()
                .chain(&only_child)
                .map(ServerRef::named)
                .collect(),
            Some("RFC 2181 §5.4.1"),
        ));
    }
}

/// The NS names of the parent's and the child's sets.
pub(super) fn all_ns_names(obs: &Observations) -> BTreeSet<&Name> {
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
            path.iter().map(ServerRef::named).collect(),
            None,
        )),
        Chain::Cycle(zones) => {
            let mut cycle = finding(
                Severity::Error,
                Code::GluelessCycle,
                format!(
                    "glueless delegations form a cycle ({}): no resolver can find the servers' addresses",
                    list(zones)
                ),
                zones.iter().map(ServerRef::named).collect(),
                None,
            );
            cycle.consequences = cycle_names(obs)
                .into_iter()
                .map(|name| format!("no address found for name server {name}"))
                .collect();
            out.push(cycle);
        }
        Chain::Reachable(_) | Chain::Unknown => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::soa::SoaTimers;
    use std::str::FromStr;

    /// Timers inside every recommended range: no `soa-timers` notice.
    const SANE_TIMERS: SoaTimers = SoaTimers {
        refresh: 7200,
        retry: 3600,
        expire: 1_209_600,
        minimum: 3600,
    };

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
            timers: SANE_TIMERS,
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
            dnssec: DnssecObservations::default(),
            edns: Vec::new(),
        }
    }

    fn names(f: &Finding) -> Vec<String> {
        f.servers.iter().map(ToString::to_string).collect()
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
        assert_eq!(names(&all[0]), ["ns1.ex.tld."]);
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
        obs.child_views[0].1 = serving(
            7,
            &["ns1.ex.tld.", "ns3.ex.tld."],
            &[
                ("ns1.ex.tld.", "192.0.2.1"),
                ("ns2.ex.tld.", "198.51.100.2"),
            ],
        );
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
        assert_eq!(names(&all[0]), ["ns1.ex.tld. (192.0.2.1)"]);
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
        obs.delegation.ns.insert(n("ns.elsewhere.tld."));
        // ns.y.tld. has no address because of the cycle: listed under it.
        // ns.elsewhere.tld. has none for its own reasons: a finding.
        let all = findings(&obs);
        let got: Vec<(Severity, Code)> = all.iter().map(|f| (f.severity, f.code)).collect();
        assert!(
            got.contains(&(Severity::Error, Code::GluelessCycle)),
            "{got:?}"
        );
        let no_address: Vec<_> = all.iter().filter(|f| f.code == Code::NoAddress).collect();
        assert_eq!(no_address.len(), 1, "{all:?}");
        assert_eq!(names(no_address[0]), ["ns.elsewhere.tld."]);
        let cycle = all.iter().find(|f| f.code == Code::GluelessCycle).unwrap();
        assert_eq!(
            cycle.consequences,
            ["no address found for name server ns.y.tld."]
        );
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
            names(&all[0]),
            ["ns.nic.tld. (2001:db8::53)", "ns1.ex.tld. (2001:db8::1)"]
        );
    }

    #[test]
    fn glue_the_zone_does_not_back_and_stale_glue_with_its_lame_address() {
        // The zone answers, but has no address for ns2.
        let mut obs = healthy();
        for (_, view) in &mut obs.child_views {
            *view = serving(
                1,
                &["ns1.ex.tld.", "ns2.ex.tld."],
                &[("ns1.ex.tld.", "192.0.2.1")],
            );
        }
        let all = findings(&obs);
        assert_eq!(codes(&obs), [(Severity::Error, Code::GlueNotInZone)]);
        assert_eq!(names(&all[0]), ["ns2.ex.tld."]);
        assert_eq!(all[0].fix_at, FixAt::ZoneFile);

        // Stale glue whose old address is lame: one finding.
        let mut obs = healthy();
        obs.delegation
            .glue
            .insert(n("ns1.ex.tld."), [ip("192.0.2.99")].into());
        obs.child_views.push((
            server("ns1.ex.tld.", "192.0.2.99"),
            ChildView::Lame("timed out".into()),
        ));
        let all = findings(&obs);
        assert_eq!(codes(&obs), [(Severity::Error, Code::StaleGlue)]);
        assert_eq!(
            all[0].consequences,
            ["ns1.ex.tld. (192.0.2.99) is lame: timed out"]
        );
        assert_eq!(all[0].fix_at, FixAt::Registrar);
    }

    #[test]
    fn verdicts() {
        use crate::check::report::Verdict;
        let verdict = |obs: &Observations| Verdict::of(obs, &findings(obs));
        let mut obs = healthy();
        assert_eq!(verdict(&obs), Verdict::Healthy);
        obs.child_views[1].1 = ChildView::Lame("answered REFUSED".into());
        assert_eq!(verdict(&obs), Verdict::Degraded);
        // A parent server that says the zone does not exist: resolvers
        // that ask it get NXDOMAIN.
        obs.parent_views
            .push((server("ns2.nic.tld.", "203.0.113.2"), ParentView::NxDomain));
        assert_eq!(verdict(&obs), Verdict::Broken);
        obs.child_views[0].1 = ChildView::Lame("answered REFUSED".into());
        assert_eq!(verdict(&obs), Verdict::Down);
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
