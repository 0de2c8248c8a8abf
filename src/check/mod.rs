//! `rootwalk check ZONE`: is this delegation healthy? Checked from the
//! parent down, like Zonemaster or DNSViz, on the command line.
//!
//! 1. Find the parent zone (the SOA owner above ZONE) and its servers,
//!    with the resolver.
//! 2. Ask **every** parent server address for `ZONE NS`: the NS set and the
//!    glue it publishes ([`probe::ParentView`]).
//! 3. Ask **every** address of every name server of ZONE (glue, addresses
//!    the zone itself gives for in-zone names, the resolver's for the rest)
//!    for the apex SOA and NS and the in-zone name servers' addresses
//!    ([`probe::ChildView`]).
//! 4. Work out the glueless chain in front of ZONE from the cuts the walks
//!    saw ([`chain`]), then turn it all into [`findings`].
//!
//! - [`probe`]: direct questions to one address, through the scrubber.
//! - [`chain`]: side resolutions needed before ZONE can be reached.
//! - [`findings`]: the rules, pure and unit-tested (the glue rules in
//!   `glue`, the server rules in `servers`); [`kinds`]: what a finding
//!   is, and where each kind is fixed.
//! - [`dnssec`]: the DNSSEC rules (DS at the parent against the keys and
//!   signatures at the zone), pure like the others.
//! - `edns`: EDNS compliance of each serving address (RFC 6891, as the
//!   2019 EDNS flag day tests judged it); `soa`: SOA timer sanity (RFC
//!   1912 §2.2), both pure.
//! - [`report`]: the report, its JSON form and its text rendering.
//! - [`all_servers`]: `trace --all-servers`, the same probing applied to every
//!   zone cut of a traced walk.

pub mod all_servers;
pub mod chain;
pub mod dnssec;
mod edns;
pub mod findings;
mod glue;
pub mod kinds;
pub mod probe;
pub mod report;
mod servers;
mod soa;

use std::collections::BTreeSet;
use std::net::IpAddr;

use futures_util::future::{join, join_all};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, RecordType};

use crate::net::Transport;
use crate::resolve::delegation::addresses_of;
use crate::resolve::{Resolver, ResolverConfig};
use chain::{Chain, ReferralLog};
use findings::{DnssecObservations, Observations};
use probe::{
    AddressMap, ChildView, Delegation, ParentView, Prober, Server, child_addresses, ns_targets,
};
pub use report::Report;

/// Rounds of probing the zone's servers: the first asks the addresses
/// known from the parent and the resolver, the second those the zone's own
/// answers revealed (in-zone servers without glue, servers only the child
/// lists). Nothing new can appear after that without a third NS set.
pub const PROBE_ROUNDS: usize = 2;

/// Why a check could not run (exit code 2), as opposed to what it found.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The root has no parent to check a delegation at.
    #[error("the root zone has no parent: nothing delegates it")]
    Root,
    /// The parent zone could not be found.
    #[error("cannot find the parent zone of {zone}: {problem}")]
    ParentNotFound {
        /// The zone checked.
        zone: String,
        /// Why.
        problem: String,
    },
    /// The name above the zone does not exist.
    #[error("{name} does not exist (NXDOMAIN), so nothing can delegate {zone}")]
    ParentDoesNotExist {
        /// The zone checked.
        zone: String,
        /// The missing name.
        name: String,
    },
    /// The parent's servers have no address.
    #[error("no address found for any name server of the parent zone {parent}")]
    NoParentServers {
        /// The parent zone.
        parent: String,
    },
    /// The name exists in the parent but is not delegated.
    #[error(
        "{zone} is not a zone: the servers of {parent} answer for it themselves (no delegation)"
    )]
    NotDelegated {
        /// The name checked.
        zone: String,
        /// The zone it lives in.
        parent: String,
    },
    /// The name does not exist.
    #[error("{zone} does not exist: the servers of {parent} answer NXDOMAIN")]
    NoSuchZone {
        /// The name checked.
        zone: String,
        /// Its parent.
        parent: String,
    },
    /// No parent server gave a usable reply.
    #[error("no server of the parent zone {parent} gave a usable reply: {problems}")]
    ParentUnreachable {
        /// The parent zone.
        parent: String,
        /// What each said.
        problems: String,
    },
}

/// Checks the delegation of `zone` with a fresh resolver built from
/// `config` (its hints, port and limits).
pub async fn run(zone: &Name, config: ResolverConfig) -> Result<Report, CheckError> {
    if zone.is_root() {
        return Err(CheckError::Root);
    }
    let transport = Transport::new(config.limits.query_timeout, config.limits.edns_payload);
    let prober = Prober::new(transport, config.upstream_port);
    let checker = Checker {
        resolver: Resolver::new(config),
        log: ReferralLog::default(),
        prober,
    };
    checker.check(zone).await
}

struct Checker {
    resolver: Resolver,
    log: ReferralLog,
    prober: Prober,
}

impl Checker {
    async fn check(&self, zone: &Name) -> Result<Report, CheckError> {
        let parent = self.parent_of(zone).await?;
        let parent_servers = self.servers_of(&parent).await;
        if parent_servers.is_empty() {
            return Err(CheckError::NoParentServers {
                parent: parent.to_string(),
            });
        }
        let views = join_all(
            parent_servers
                .iter()
                .map(|s| self.prober.parent_view(s.addr, &parent, zone)),
        )
        .await;
        let parent_views: Vec<(Server, ParentView)> =
            parent_servers.into_iter().zip(views).collect();
        let delegation = usable_delegation(zone, &parent, &parent_views)?;
        self.log.insert(
            zone.clone(),
            delegation
                .ns
                .iter()
                .map(|n| (n.clone(), delegation.glue.contains_key(n)))
                .collect(),
        );

        let (child_views, resolved) = self.probe_zone_servers(zone, &delegation).await;
        let (dnssec, edns) = join(
            self.probe_dnssec(zone, &parent, &parent_views, &child_views),
            self.probe_edns(zone, &child_views),
        )
        .await;

        let observations = Observations {
            chain: chain::chain(zone, &self.log.cuts()),
            zone: zone.clone(),
            parent,
            parent_views,
            delegation,
            child_views,
            resolved,
            dnssec,
            edns,
        };
        Ok(Report::new(&observations))
    }

    /// Asks every serving address of `zone` the EDNS compliance probes
    /// ([`Prober::edns_view`]).
    async fn probe_edns(
        &self,
        zone: &Name,
        child_views: &[(Server, ChildView)],
    ) -> Vec<(Server, probe::EdnsView)> {
        let serving: Vec<&Server> = child_views
            .iter()
            .filter(|(_, v)| matches!(v, ChildView::Serving { .. }))
            .map(|(s, _)| s)
            .collect();
        let views = join_all(serving.iter().map(|s| self.prober.edns_view(s.addr, zone))).await;
        serving.into_iter().cloned().zip(views).collect()
    }

    /// Asks every parent server that delegated for the DS RRset, and every
    /// serving address of the zone for its apex keys and signatures, all
    /// with DO=1.
    async fn probe_dnssec(
        &self,
        zone: &Name,
        parent: &Name,
        parent_views: &[(Server, ParentView)],
        child_views: &[(Server, ChildView)],
    ) -> DnssecObservations {
        let parents: Vec<&Server> = parent_views
            .iter()
            .filter(|(_, v)| matches!(v, ParentView::Delegation(_)))
            .map(|(s, _)| s)
            .collect();
        let children: Vec<&Server> = child_views
            .iter()
            .filter(|(_, v)| matches!(v, ChildView::Serving { .. }))
            .map(|(s, _)| s)
            .collect();
        let (ds, keys) = join(
            join_all(
                parents
                    .iter()
                    .map(|s| self.prober.ds_view(s.addr, parent, zone)),
            ),
            join_all(children.iter().map(|s| self.prober.key_view(s.addr, zone))),
        )
        .await;
        DnssecObservations {
            now: unix_now(),
            ds_views: parents.into_iter().cloned().zip(ds).collect(),
            key_views: children.into_iter().cloned().zip(keys).collect(),
        }
    }

    /// Asks every known address of every name server of `zone`, in up to
    /// [`PROBE_ROUNDS`] rounds (each round may reveal names and addresses
    /// the last did not know). Returns the views, sorted, and the
    /// addresses the resolver found for out-of-zone names.
    async fn probe_zone_servers(
        &self,
        zone: &Name,
        delegation: &Delegation,
    ) -> (Vec<(Server, ChildView)>, AddressMap) {
        let mut resolved = AddressMap::new();
        let mut child_views: Vec<(Server, ChildView)> = Vec::new();
        for _ in 0..PROBE_ROUNDS {
            let names = ns_names(delegation, &child_views);
            let outside: Vec<&Name> = names
                .iter()
                .filter(|n| !zone.zone_of(n) && !resolved.contains_key(*n))
                .collect();
            for (name, addrs) in join_all(outside.into_iter().map(|n| self.addresses(n))).await {
                resolved.insert(name, addrs);
            }
            let probed: BTreeSet<Server> = child_views.iter().map(|(s, _)| s.clone()).collect();
            let targets: Vec<Server> = names
                .iter()
                .flat_map(|name| {
                    let mut addrs = delegation.glue.get(name).cloned().unwrap_or_default();
                    addrs.extend(resolved.get(name).into_iter().flatten());
                    addrs.extend(child_addresses(&child_views, name));
                    addrs.into_iter().map(|addr| Server {
                        name: name.clone(),
                        addr,
                    })
                })
                .filter(|s| !probed.contains(s))
                .collect();
            if targets.is_empty() {
                break;
            }
            let in_zone: BTreeSet<Name> =
                names.iter().filter(|n| zone.zone_of(n)).cloned().collect();
            let views = join_all(
                targets
                    .iter()
                    .map(|s| self.prober.child_view(s.addr, zone, &in_zone)),
            )
            .await;
            child_views.extend(targets.into_iter().zip(views));
        }
        child_views.sort_by(|a, b| a.0.cmp(&b.0));
        (child_views, resolved)
    }

    /// The zone whose SOA sits above `zone`: the answer's owner when the
    /// name above is an apex, else the owner of the negative answer's SOA.
    async fn parent_of(&self, zone: &Name) -> Result<Name, CheckError> {
        let above = zone.base_name();
        let outcome = self
            .resolver
            .resolve(&above, RecordType::SOA, &self.log)
            .await
            .map_err(|failure| CheckError::ParentNotFound {
                zone: zone.to_string(),
                problem: failure.error.to_string(),
            })?;
        if outcome.rcode == ResponseCode::NXDomain {
            return Err(CheckError::ParentDoesNotExist {
                zone: zone.to_string(),
                name: above.to_string(),
            });
        }
        outcome
            .answers
            .iter()
            .chain(&outcome.authorities)
            .find(|r| matches!(r.data, RData::SOA(_)) && r.name.zone_of(&above))
            .map(|r| r.name.clone())
            .ok_or_else(|| CheckError::ParentNotFound {
                zone: zone.to_string(),
                problem: format!("no SOA for {above} or above it"),
            })
    }

    /// Every address of every name server of `zone`, from the resolver.
    async fn servers_of(&self, zone: &Name) -> Vec<Server> {
        let Ok(outcome) = self.resolver.resolve(zone, RecordType::NS, &self.log).await else {
            return Vec::new();
        };
        let names = ns_targets(&outcome.answers);
        let found = join_all(names.iter().map(|n| self.addresses(n))).await;
        found
            .into_iter()
            .flat_map(|(name, addrs)| {
                addrs.into_iter().map(move |addr| Server {
                    name: name.clone(),
                    addr,
                })
            })
            .collect()
    }

    async fn addresses(&self, name: &Name) -> (Name, BTreeSet<IpAddr>) {
        let addrs = resolve_addresses(&self.resolver, name, &self.log).await;
        (name.clone(), addrs)
    }
}

/// The time now in seconds since the epoch, as RRSIG times count it (a
/// clock before 1970 counts as 0; serial arithmetic handles 2106).
fn unix_now() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as u32)
}

/// The A and AAAA addresses of `name`, from `resolver` (empty when it
/// cannot find them).
pub async fn resolve_addresses(
    resolver: &Resolver,
    name: &Name,
    observer: &dyn crate::trace::Observer,
) -> BTreeSet<IpAddr> {
    let (v4, v6) = join(
        resolver.resolve(name, RecordType::A, observer),
        resolver.resolve(name, RecordType::AAAA, observer),
    )
    .await;
    let mut addrs = BTreeSet::new();
    for outcome in [v4, v6].into_iter().flatten() {
        addrs.extend(addresses_of(name, &outcome.answers));
    }
    addrs
}

/// The first referral a parent server gave (else the first authoritative
/// NS answer from a parent server that serves the child too), or why
/// there is none.
fn usable_delegation(
    zone: &Name,
    parent: &Name,
    views: &[(Server, ParentView)],
) -> Result<Delegation, CheckError> {
    let delegations = views.iter().filter_map(|(_, v)| match v {
        ParentView::Delegation(d) => Some(d),
        _ => None,
    });
    if let Some(d) = delegations.min_by_key(|d| d.from_child) {
        return Ok(d.clone());
    }
    let said = |wanted: fn(&ParentView) -> bool| views.iter().any(|(_, v)| wanted(v));
    if said(|v| matches!(v, ParentView::NotDelegated)) {
        return Err(CheckError::NotDelegated {
            zone: zone.to_string(),
            parent: parent.to_string(),
        });
    }
    if said(|v| matches!(v, ParentView::NxDomain)) {
        return Err(CheckError::NoSuchZone {
            zone: zone.to_string(),
            parent: parent.to_string(),
        });
    }
    let problems = views
        .iter()
        .map(|(s, v)| match v {
            ParentView::Unusable(problem) => format!("{s}: {problem}"),
            other => format!("{s}: {other:?}"),
        })
        .collect::<Vec<_>>()
        .join("; ");
    Err(CheckError::ParentUnreachable {
        parent: parent.to_string(),
        problems,
    })
}

/// The NS names of the parent's set and of every child's apex set.
fn ns_names(delegation: &Delegation, views: &[(Server, ChildView)]) -> BTreeSet<Name> {
    let mut names = delegation.ns.clone();
    for (_, view) in views {
        if let ChildView::Serving { ns, .. } = view {
            names.extend(ns.iter().cloned());
        }
    }
    names
}

impl From<&Chain> for report::ChainReport {
    fn from(chain: &Chain) -> Self {
        let names = |v: &[Name]| v.iter().map(|n| n.to_string()).collect();
        match chain {
            Chain::Reachable(path) if path.is_empty() => Self {
                status: report::ChainStatus::Glued,
                depth: Some(0),
                names: Vec::new(),
            },
            Chain::Reachable(path) => Self {
                status: report::ChainStatus::Glueless,
                depth: Some(path.len()),
                names: names(path),
            },
            Chain::Cycle(zones) => Self {
                status: report::ChainStatus::Cycle,
                depth: None,
                names: names(zones),
            },
            Chain::Unknown => Self {
                status: report::ChainStatus::Unknown,
                depth: None,
                names: Vec::new(),
            },
        }
    }
}
