//! A delegation point: the zone cut the walk is at, its name servers and
//! what is known of each server's addresses.

use std::net::IpAddr;

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use hickory_proto::rr::{Name, RData, Record};

use super::hints::RootHints;
use super::validator::ZoneTrust;
use crate::trace::{AddrSource, HopId, ReferralServer};

/// How far the fetch of a glueless server's address has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetState {
    /// Addresses known, or not fetched yet.
    Idle,
    /// A side resolution ran and gave no address.
    Failed,
}

/// One name server of a delegation point.
#[derive(Debug, Clone)]
pub struct NameServer {
    /// Its host name.
    pub name: Name,
    /// Known addresses and where each came from.
    pub addrs: Vec<(IpAddr, AddrSource)>,
    /// Side-resolution state when no address came with the delegation.
    pub target: TargetState,
}

/// A zone cut with its servers.
#[derive(Debug, Clone)]
pub struct DelegationPoint {
    /// The zone.
    pub zone: Name,
    /// Its name servers.
    pub servers: Vec<NameServer>,
    /// The hop whose referral produced this point (`None`: hints or cache).
    pub origin_hop: Option<HopId>,
    /// Side resolutions of glueless names finished for this point so far.
    pub targets_fetched: u32,
    /// Of those, how many gave no usable address.
    pub target_failures: u32,
    /// Addresses already asked, so each is asked once per point.
    pub tried: HashSet<IpAddr>,
    /// What DNSSEC says of the zone so far.
    pub trust: ZoneTrust,
}

impl DelegationPoint {
    /// The root, from the hints.
    pub fn from_hints(hints: &RootHints) -> Self {
        let servers = hints
            .servers
            .iter()
            .map(|s| NameServer {
                name: s.name.clone(),
                addrs: s.addrs.iter().map(|a| (*a, AddrSource::Hints)).collect(),
                target: TargetState::Idle,
            })
            .collect();
        Self::new(Name::root(), servers, None)
    }

    /// A point from an NS RRset and the addresses known for its names
    /// (`glue` records: A/AAAA, already scrubbed or cached). Each name
    /// server once, in RRset order. Linear in the records: the glue is
    /// indexed by owner once (`Name` hashes without case), so a referral
    /// with thousands of NS names costs no more than it holds.
    pub fn from_records(
        zone: Name,
        ns: &[Record],
        glue: &[Record],
        source: AddrSource,
        origin_hop: Option<HopId>,
    ) -> Self {
        let mut glue_of: HashMap<&Name, Vec<IpAddr>> = HashMap::new();
        for record in glue {
            if let Some(addr) = addresses(std::iter::once(record)).next() {
                glue_of.entry(&record.name).or_default().push(addr);
            }
        }
        let mut seen: HashSet<&Name> = HashSet::new();
        let mut servers: Vec<NameServer> = Vec::new();
        for record in ns {
            let RData::NS(target) = &record.data else {
                continue;
            };
            if !seen.insert(&target.0) {
                continue;
            }
            let addrs = glue_of
                .get(&target.0)
                .map(|addrs| addrs.iter().map(|a| (*a, source)).collect())
                .unwrap_or_default();
            servers.push(NameServer {
                name: target.0.clone(),
                addrs,
                target: TargetState::Idle,
            });
        }
        Self::new(zone, servers, origin_hop)
    }

    fn new(zone: Name, servers: Vec<NameServer>, origin_hop: Option<HopId>) -> Self {
        Self {
            zone,
            servers,
            origin_hop,
            targets_fetched: 0,
            target_failures: 0,
            tried: HashSet::new(),
            trust: ZoneTrust::Off,
        }
    }

    /// Whether any server has an address.
    pub fn has_addresses(&self) -> bool {
        self.servers.iter().any(|s| !s.addrs.is_empty())
    }

    /// Whether every server name lies inside the zone itself, so that its
    /// address can only come as glue from the parent.
    pub fn needs_glue_only(&self) -> bool {
        self.servers.iter().all(|s| self.zone.zone_of(&s.name))
    }

    /// Addresses not asked yet, with the server name and address source.
    pub fn untried(&self) -> impl Iterator<Item = (&Name, IpAddr, AddrSource)> {
        self.servers.iter().flat_map(move |s| {
            s.addrs
                .iter()
                .filter(|(a, _)| !self.tried.contains(a))
                .map(move |(a, src)| (&s.name, *a, *src))
        })
    }

    /// Server names with no address and no failed fetch yet.
    pub fn glueless(&self) -> Vec<Name> {
        self.servers
            .iter()
            .filter(|s| s.addrs.is_empty() && s.target == TargetState::Idle)
            .map(|s| s.name.clone())
            .collect()
    }

    /// Records the result of a side resolution of `name`.
    pub fn set_target(&mut self, name: &Name, addrs: &[IpAddr]) {
        for server in self.servers.iter_mut().filter(|s| &s.name == name) {
            if addrs.is_empty() {
                server.target = TargetState::Failed;
            }
            for addr in addrs {
                if !server.addrs.iter().any(|(a, _)| a == addr) {
                    server.addrs.push((*addr, AddrSource::SideResolution));
                }
            }
        }
    }

    /// The servers as reported in a trace.
    pub fn referral_servers(&self) -> Vec<ReferralServer> {
        self.servers
            .iter()
            .map(|s| ReferralServer {
                name: s.name.clone(),
                glue: s
                    .addrs
                    .iter()
                    .filter(|(_, src)| *src == AddrSource::Glue)
                    .map(|(a, _)| *a)
                    .collect(),
            })
            .collect()
    }
}

/// The addresses in `records` owned by `name`.
pub fn addresses_of<'a>(
    name: &'a Name,
    records: &'a [Record],
) -> impl Iterator<Item = IpAddr> + 'a {
    addresses(records.iter().filter(move |r| &r.name == name))
}

/// The addresses carried by the A and AAAA records among `records`.
pub fn addresses<'a>(records: impl Iterator<Item = &'a Record>) -> impl Iterator<Item = IpAddr> {
    records.filter_map(|r| match &r.data {
        RData::A(a) => Some(IpAddr::V4(a.0)),
        RData::AAAA(a) => Some(IpAddr::V6(a.0)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::scrub::tests::{a, n, ns};

    #[test]
    fn glued_and_glueless_servers() {
        let nsset = [
            ns("b.tld1.", "ns1.a.tld1."),
            ns("b.tld1.", "ns.hosting.tld3."),
            ns("b.tld1.", "ns1.a.tld1."),
        ];
        let glue = [a("ns1.a.tld1.", "127.0.0.1"), a("other.", "127.0.0.2")];
        let mut dp =
            DelegationPoint::from_records(n("b.tld1."), &nsset, &glue, AddrSource::Glue, Some(3));
        assert_eq!(dp.servers.len(), 2);
        assert!(dp.has_addresses());
        assert!(!dp.needs_glue_only());
        assert_eq!(dp.glueless(), vec![n("ns.hosting.tld3.")]);
        assert_eq!(dp.untried().count(), 1);
        dp.tried.insert("127.0.0.1".parse().unwrap());
        assert_eq!(dp.untried().count(), 0);
        dp.set_target(&n("ns.hosting.tld3."), &["127.0.0.3".parse().unwrap()]);
        let (name, _, src) = dp.untried().next().unwrap();
        assert_eq!(
            (name.clone(), src),
            (n("ns.hosting.tld3."), AddrSource::SideResolution)
        );
        dp.set_target(&n("ns1.a.tld1."), &[]);
        assert_eq!(dp.servers[0].target, TargetState::Failed);
        assert_eq!(dp.referral_servers()[0].glue.len(), 1);
        assert!(dp.referral_servers()[1].glue.is_empty());
    }

    /// Thousands of NS names and glue records: each server once, with its
    /// own addresses (the index must match names without case).
    #[test]
    fn a_huge_referral_is_deduplicated_and_matched() {
        let count = 3_000;
        let mut nsset: Vec<Record> = (0..count)
            .map(|i| ns("big.tld1.", &format!("ns{i}.big.tld1.")))
            .collect();
        nsset.extend((0..count).map(|i| ns("big.tld1.", &format!("NS{i}.Big.tld1."))));
        let glue: Vec<Record> = (0..count)
            .map(|i| {
                let ip = format!("10.{}.{}.1", i / 256, i % 256);
                a(&format!("NS{i}.BIG.tld1."), &ip)
            })
            .collect();
        let dp =
            DelegationPoint::from_records(n("big.tld1."), &nsset, &glue, AddrSource::Glue, None);
        assert_eq!(dp.servers.len(), count);
        assert_eq!(dp.servers[0].name, n("ns0.big.tld1."));
        let last = &dp.servers[count - 1];
        assert_eq!(last.name, n(&format!("ns{}.big.tld1.", count - 1)));
        assert_eq!(
            last.addrs,
            [("10.11.183.1".parse().unwrap(), AddrSource::Glue)]
        );
        assert!(dp.servers.iter().all(|s| s.addrs.len() == 1));
    }

    #[test]
    fn in_domain_only_points_need_glue() {
        let nsset = [ns("a.tld1.", "ns1.a.tld1.")];
        let dp = DelegationPoint::from_records(n("a.tld1."), &nsset, &[], AddrSource::Cache, None);
        assert!(dp.needs_glue_only());
        assert!(!dp.has_addresses());
    }
}
