//! Forward and stub zones: questions under a configured zone go to
//! configured servers instead of down the walk from the root.
//!
//! A stub zone is a delegation the operator wrote: its servers are asked
//! with RD=0 as if the parent had referred to them, and referrals below it
//! are followed and cached as usual (a cached cut strictly below the stub
//! zone is used first). A forward zone's servers are recursive resolvers:
//! they are asked the full name (no QNAME minimisation) with RD=1, and
//! never replaced by a cached cut. Kept apart from the walk so the walk
//! needs only a lookup ([`Routes::route_for`]) and two questions
//! ([`Routes::is_forward`], [`Routes::port_of`]).

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, PoisonError, RwLock};

use hickory_proto::rr::rdata::{A, AAAA, NS};
use hickory_proto::rr::{Name, RData, Record};

use super::delegation::DelegationPoint;
use crate::config::{RouteKind, ZoneRoute};
use crate::trace::AddrSource;

/// TTL of the records a route's delegation point is built from; they are
/// never cached, so it only has to be positive.
const ROUTE_TTL: u32 = 3600;

/// The routes in force, replaceable while the resolver runs (a reload).
#[derive(Debug, Default)]
pub struct Routes {
    current: RwLock<Arc<Vec<ZoneRoute>>>,
}

impl Routes {
    /// Routes for `zones`.
    pub fn new(zones: Vec<ZoneRoute>) -> Self {
        Self {
            current: RwLock::new(Arc::new(zones)),
        }
    }

    /// Puts `zones` in force for every walk started from now on.
    pub fn replace(&self, zones: Vec<ZoneRoute>) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(zones);
    }

    fn current(&self) -> Arc<Vec<ZoneRoute>> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The most specific route for `qname`, if any.
    pub fn route_for(&self, qname: &Name) -> Option<ZoneRoute> {
        self.current()
            .iter()
            .filter(|route| route.zone.zone_of(qname))
            .max_by_key(|route| route.zone.num_labels())
            .cloned()
    }

    /// Whether `zone` is a forward zone (asked with RD=1, full names only).
    pub fn is_forward(&self, zone: &Name) -> bool {
        self.current()
            .iter()
            .any(|route| route.kind == RouteKind::Forward && route.zone == *zone)
    }

    /// The port `addr` is asked on: a route server's own, else `default`.
    pub fn port_of(&self, addr: IpAddr, default: u16) -> u16 {
        self.current()
            .iter()
            .flat_map(|route| route.servers.iter())
            .find(|server| server.ip() == addr)
            .map_or(default, SocketAddr::port)
    }
}

/// The delegation point a route starts at: its zone, one server named as
/// the zone with every configured address.
pub fn delegation_point(route: &ZoneRoute) -> DelegationPoint {
    let ns = [Record::from_rdata(
        route.zone.clone(),
        ROUTE_TTL,
        RData::NS(NS(route.zone.clone())),
    )];
    let addrs: Vec<Record> = route
        .servers
        .iter()
        .map(|server| {
            let data = match server.ip() {
                IpAddr::V4(v4) => RData::A(A(v4)),
                IpAddr::V6(v6) => RData::AAAA(AAAA(v6)),
            };
            Record::from_rdata(route.zone.clone(), ROUTE_TTL, data)
        })
        .collect();
    DelegationPoint::from_records(route.zone.clone(), &ns, &addrs, AddrSource::Hints, None)
}

/// How a trace names the route: "stub zone Z" / "forward zone Z:
/// forwarded to ADDR, ...".
pub fn describe(route: &ZoneRoute) -> String {
    let servers: Vec<String> = route.servers.iter().map(ToString::to_string).collect();
    match route.kind {
        RouteKind::Stub => format!("stub zone {}: asking {}", route.zone, servers.join(", ")),
        RouteKind::Forward => format!(
            "forward zone {}: forwarded to {} (RD=1)",
            route.zone,
            servers.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn route(zone: &str, kind: RouteKind, server: &str) -> ZoneRoute {
        ZoneRoute {
            zone: Name::from_str(zone).unwrap(),
            kind,
            servers: vec![server.parse().unwrap()],
        }
    }

    #[test]
    fn the_most_specific_route_wins_and_ports_are_per_server() {
        let routes = Routes::new(vec![
            route("example.", RouteKind::Forward, "192.0.2.1:53"),
            route("a.example.", RouteKind::Stub, "192.0.2.2:5353"),
        ]);
        let name = |s| Name::from_str(s).unwrap();
        let got = routes.route_for(&name("www.a.example.")).unwrap();
        assert_eq!(got.kind, RouteKind::Stub);
        assert_eq!(
            routes.route_for(&name("b.example.")).unwrap().kind,
            RouteKind::Forward
        );
        assert!(routes.route_for(&name("example.org.")).is_none());
        assert!(routes.is_forward(&name("example.")));
        assert!(!routes.is_forward(&name("a.example.")));
        assert_eq!(routes.port_of("192.0.2.2".parse().unwrap(), 53), 5353);
        assert_eq!(routes.port_of("192.0.2.9".parse().unwrap(), 99), 99);
        let dp = delegation_point(&got);
        assert!(dp.has_addresses());
        routes.replace(Vec::new());
        assert!(routes.route_for(&name("www.a.example.")).is_none());
    }
}
