//! Local zones and local data: names the daemon answers itself, from its
//! configuration, before the cache and without an upstream query.
//!
//! The model is Unbound's `local-zone` / `local-data`:
//!
//! - Built-in zones, on by default, that must never reach the root:
//!   `localhost.` (RFC 6761 §6.3), the loopback reverse zones, `onion.`
//!   (RFC 7686), `invalid.` and `test.` (RFC 6761), `home.arpa.`
//!   (RFC 8375), and the RFC 1918 / RFC 6303 (AS112) reverse zones. Each is
//!   a `static` zone with an SOA at its apex, so a name under it is
//!   NXDOMAIN with that SOA. A configured zone of the same name replaces
//!   one; type `nodefault` removes it; `builtin-local-zones = false`
//!   removes them all.
//! - Configured zones with a [`ZoneKind`], and local data: records in
//!   zone-file syntax. Data at a name outside every zone gets a
//!   `transparent` zone of its own, as in Unbound.
//!
//! [`LocalZones::lookup`] is pure: a question in, a local answer or "not
//! mine" out.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::{A, AAAA, NS, PTR, SOA};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use hickory_proto::serialize::txt::Parser;

/// TTL of the built-in zones' records and of every synthesised SOA: three
/// hours, as Unbound's default local zones.
pub const LOCAL_TTL: u32 = 10_800;

/// Longest name in wire form (RFC 1035 §2.3.4).
const MAX_WIRE: usize = 255;

/// `name` lowercased in wire form (root label included) in `out`; `None`
/// when longer than a DNS name may be.
fn lower_wire<'o>(name: &Name, out: &'o mut [u8; MAX_WIRE]) -> Option<&'o [u8]> {
    let mut len = 0;
    for label in name.iter() {
        let end = len + 1 + label.len();
        *out.get_mut(len)? = u8::try_from(label.len()).ok()?;
        let room = out.get_mut(len + 1..end)?;
        room.copy_from_slice(label);
        room.make_ascii_lowercase();
        len = end;
    }
    *out.get_mut(len)? = 0;
    out.get(..=len)
}

/// TTL of a `local-data` record written without one: an hour, as
/// Unbound's default.
pub const LOCAL_DATA_DEFAULT_TTL: u32 = 3_600;

/// What a local zone does with a question under it (Unbound's
/// `local-zone` types).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneKind {
    /// Local data answers; anything else is NXDOMAIN (or NODATA at a name
    /// that has data), with the zone's SOA.
    Static,
    /// Local data answers; anything else is REFUSED.
    Refuse,
    /// Local data answers; anything else is NXDOMAIN with the zone's SOA.
    NxDomain,
    /// Every name under the zone gets the zone apex's data, under its own
    /// name.
    Redirect,
    /// Local data answers (NODATA for other types at the same name);
    /// other names are resolved as usual.
    Transparent,
    /// Removes the built-in zone of this name; not a zone itself.
    NoDefault,
}

impl FromStr for ZoneKind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Ok(match text {
            "static" => Self::Static,
            "refuse" => Self::Refuse,
            "nxdomain" => Self::NxDomain,
            "redirect" => Self::Redirect,
            "transparent" => Self::Transparent,
            "nodefault" => Self::NoDefault,
            other => {
                return Err(format!(
                    "unknown local zone type `{other}` (static, refuse, nxdomain, \
                     redirect, transparent or nodefault)"
                ));
            }
        })
    }
}

/// A local answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalAnswer {
    /// NOERROR, NXDOMAIN or REFUSED.
    pub rcode: ResponseCode,
    /// The records answering.
    pub answers: Vec<Record>,
    /// The zone's SOA, for a negative answer.
    pub authorities: Vec<Record>,
}

/// The local zones and data in force.
#[derive(Debug, Clone, Default)]
pub struct LocalZones {
    zones: HashMap<Name, ZoneKind>,
    /// Each zone of `zones` under its name lowercased in wire form: a
    /// question's ancestors are suffixes of its wire form, so finding its
    /// zone builds no `Name` per ancestor (every question asks, and most
    /// are in no local zone).
    by_wire: HashMap<Box<[u8]>, Name>,
    data: HashMap<Name, Vec<Record>>,
}

impl LocalZones {
    /// The zones: the built-in ones when `builtin`, then `zones` (which
    /// replace or, with [`ZoneKind::NoDefault`], remove a built-in zone of
    /// the same name), with `data` (whose owner outside every zone gets a
    /// transparent zone of its own).
    pub fn new(builtin: bool, zones: &[(Name, ZoneKind)], data: Vec<Record>) -> Self {
        let mut local = Self::default();
        if builtin {
            local.add_builtin();
        }
        for (name, kind) in zones {
            match kind {
                ZoneKind::NoDefault => {
                    local.zones.remove(name);
                    local.data.retain(|owner, _| !name.zone_of(owner));
                }
                kind => {
                    local.zones.insert(name.clone(), *kind);
                }
            }
        }
        local.index();
        for record in data {
            if local.zone_of(&record.name).is_none() {
                local
                    .zones
                    .insert(record.name.clone(), ZoneKind::Transparent);
                local.index();
            }
            local
                .data
                .entry(record.name.clone())
                .or_default()
                .push(record);
        }
        local
    }

    /// The built-in zones only.
    pub fn builtin() -> Self {
        Self::new(true, &[], Vec::new())
    }

    /// How many zones there are.
    pub fn len(&self) -> usize {
        self.zones.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.zones.is_empty()
    }

    /// The local answer to `qname`/`qtype`, or `None` when the question is
    /// not local (no zone covers it, or a transparent zone has nothing for
    /// it) and is resolved as usual.
    pub fn lookup(&self, qname: &Name, qtype: RecordType) -> Option<LocalAnswer> {
        let (zone, kind) = self.zone_of(qname)?;
        if kind == ZoneKind::Redirect {
            let apex = self.data.get(zone).map(Vec::as_slice).unwrap_or_default();
            let renamed = apex.iter().map(|r| {
                let mut r = r.clone();
                r.name = qname.clone();
                r
            });
            return Some(self.answer_from(zone, qname, qtype, &renamed.collect::<Vec<_>>()));
        }
        if let Some(records) = self.data.get(qname) {
            return Some(self.answer_from(zone, qname, qtype, records));
        }
        let negative = |rcode| LocalAnswer {
            rcode,
            answers: Vec::new(),
            authorities: self.soa(zone).into_iter().collect(),
        };
        match kind {
            ZoneKind::Transparent | ZoneKind::NoDefault => None,
            ZoneKind::Refuse => Some(LocalAnswer {
                rcode: ResponseCode::Refused,
                answers: Vec::new(),
                authorities: Vec::new(),
            }),
            // An empty non-terminal above local data exists (RFC 8020).
            ZoneKind::Static | ZoneKind::NxDomain
                if kind == ZoneKind::Static && self.has_data_below(qname) =>
            {
                Some(negative(ResponseCode::NoError))
            }
            ZoneKind::Static | ZoneKind::NxDomain | ZoneKind::Redirect => {
                Some(negative(ResponseCode::NXDomain))
            }
        }
    }

    /// The answer from `records` at `qname`: the type asked (all of them
    /// for ANY), a CNAME there, or NODATA with the zone's SOA.
    fn answer_from(
        &self,
        zone: &Name,
        qname: &Name,
        qtype: RecordType,
        records: &[Record],
    ) -> LocalAnswer {
        let matching: Vec<Record> = records
            .iter()
            .filter(|r| {
                qtype == RecordType::ANY
                    || r.record_type() == qtype
                    || r.record_type() == RecordType::CNAME
            })
            .cloned()
            .collect();
        if matching.is_empty() {
            let rcode = if records.is_empty() {
                ResponseCode::NXDomain
            } else {
                ResponseCode::NoError
            };
            return LocalAnswer {
                rcode,
                answers: Vec::new(),
                authorities: self.soa(zone).into_iter().collect(),
            };
        }
        let _ = qname;
        LocalAnswer {
            rcode: ResponseCode::NoError,
            answers: matching,
            authorities: Vec::new(),
        }
    }

    /// The most specific zone at or above `name`.
    fn zone_of(&self, name: &Name) -> Option<(&Name, ZoneKind)> {
        let mut wire = [0; MAX_WIRE];
        let wire = lower_wire(name, &mut wire)?;
        let mut at = 0;
        loop {
            let suffix = wire.get(at..)?;
            if let Some(zone) = self.by_wire.get(suffix) {
                return self.zones.get_key_value(zone).map(|(z, k)| (z, *k));
            }
            match suffix.first() {
                Some(&0) | None => return None,
                Some(&length) => at += 1 + usize::from(length),
            }
        }
    }

    /// Rebuilds [`LocalZones::by_wire`] from the zones.
    fn index(&mut self) {
        let mut wire = [0; MAX_WIRE];
        self.by_wire = self
            .zones
            .keys()
            .filter_map(|zone| Some((lower_wire(zone, &mut wire)?.into(), zone.clone())))
            .collect();
    }

    /// Whether some local data lies strictly below `name`.
    fn has_data_below(&self, name: &Name) -> bool {
        self.data
            .keys()
            .any(|owner| owner != name && name.zone_of(owner))
    }

    /// The zone's SOA: from its data, else the one Unbound synthesises.
    fn soa(&self, zone: &Name) -> Option<Record> {
        let given = self
            .data
            .get(zone)
            .and_then(|r| r.iter().find(|r| r.record_type() == RecordType::SOA));
        Some(given.cloned().unwrap_or_else(|| synthesised_soa(zone)))
    }

    /// Adds the built-in zones (see the module docs).
    fn add_builtin(&mut self) {
        let localhost = Name::from_ascii("localhost.").unwrap_or_default();
        let mut add = |zone: &str, data: Vec<(&str, RData)>| {
            let Ok(zone) = Name::from_ascii(zone) else {
                return;
            };
            let mut records = vec![
                synthesised_soa(&zone),
                Record::from_rdata(zone.clone(), LOCAL_TTL, RData::NS(NS(localhost.clone()))),
            ];
            self.zones.insert(zone.clone(), ZoneKind::Static);
            for (owner, rdata) in data {
                let Ok(owner) = Name::from_ascii(owner) else {
                    continue;
                };
                if owner == zone {
                    records.push(Record::from_rdata(owner, LOCAL_TTL, rdata));
                } else {
                    self.data
                        .entry(owner.clone())
                        .or_default()
                        .push(Record::from_rdata(owner, LOCAL_TTL, rdata));
                }
            }
            self.data.insert(zone, records);
        };
        let ptr = || RData::PTR(PTR(localhost.clone()));
        add(
            "localhost.",
            vec![
                ("localhost.", RData::A(A(Ipv4Addr::LOCALHOST))),
                ("localhost.", RData::AAAA(AAAA(Ipv6Addr::LOCALHOST))),
            ],
        );
        add(
            "127.in-addr.arpa.",
            vec![("1.0.0.127.in-addr.arpa.", ptr())],
        );
        let loopback6 = format!("1.{}ip6.arpa.", "0.".repeat(31));
        add(&loopback6, vec![(loopback6.as_str(), ptr())]);
        for zone in BUILTIN_EMPTY {
            add(zone, Vec::new());
        }
        add(&format!("{}ip6.arpa.", "0.".repeat(32)), Vec::new());
        for second in 16..=31 {
            add(&format!("{second}.172.in-addr.arpa."), Vec::new());
        }
        for second in 64..=127 {
            add(&format!("{second}.100.in-addr.arpa."), Vec::new());
        }
    }
}

/// Built-in zones with nothing in them but their SOA and NS: RFC 6761
/// special-use names, RFC 7686, RFC 8375, and the RFC 6303 reverse zones
/// (RFC 1918, this network, link local, the documentation networks,
/// broadcast, IPv6 unique local, link local and documentation). The IPv6
/// unspecified address and 100.64.0.0/10 and 172.16.0.0/12 are added by
/// `LocalZones::add_builtin`.
pub const BUILTIN_EMPTY: &[&str] = &[
    "onion.",
    "test.",
    "invalid.",
    "home.arpa.",
    "10.in-addr.arpa.",
    "168.192.in-addr.arpa.",
    "0.in-addr.arpa.",
    "254.169.in-addr.arpa.",
    "2.0.192.in-addr.arpa.",
    "100.51.198.in-addr.arpa.",
    "113.0.203.in-addr.arpa.",
    "255.255.255.255.in-addr.arpa.",
    "d.f.ip6.arpa.",
    "8.e.f.ip6.arpa.",
    "9.e.f.ip6.arpa.",
    "a.e.f.ip6.arpa.",
    "b.e.f.ip6.arpa.",
    "8.b.d.0.1.0.0.2.ip6.arpa.",
];

/// The SOA Unbound gives a local zone: `localhost. nobody.invalid. 1 3600
/// 1200 604800 10800`.
fn synthesised_soa(zone: &Name) -> Record {
    let mname = Name::from_ascii("localhost.").unwrap_or_default();
    let rname = Name::from_ascii("nobody.invalid.").unwrap_or_default();
    let soa = SOA::new(mname, rname, 1, 3600, 1200, 604_800, LOCAL_TTL);
    Record::from_rdata(zone.clone(), LOCAL_TTL, RData::SOA(soa))
}

/// One `local-data` entry, in zone-file syntax with an absolute owner
/// (`"router.home.arpa. 3600 IN A 192.0.2.1"`; TTL and class optional).
pub fn parse_local_data(text: &str) -> Result<Vec<Record>, String> {
    let zone = format!("$ORIGIN .\n$TTL {LOCAL_DATA_DEFAULT_TTL}\n{text}\n");
    let (_, sets) = Parser::new(&zone, None, Some(Name::root()))
        .parse()
        .map_err(|e| format!("`{text}`: {e}"))?;
    let records: Vec<Record> = sets
        .into_values()
        .flat_map(|set| set.records_without_rrsigs().cloned().collect::<Vec<_>>())
        .filter(|r| r.dns_class == DNSClass::IN)
        .collect();
    if records.is_empty() {
        return Err(format!("`{text}`: no IN record"));
    }
    Ok(records)
}

/// A zone name from the configuration: absolute, with or without the
/// final dot.
pub fn parse_zone_name(text: &str) -> Result<Name, String> {
    let mut name = Name::from_str(text).map_err(|e| format!("`{text}`: {e}"))?;
    name.set_fqdn(true);
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    /// A question's zone is found by the suffixes of its wire form: the
    /// most specific zone, any case, at label boundaries only, a zone added
    /// for local data too.
    #[test]
    fn the_zone_of_a_name_is_its_deepest_local_zone() {
        let data = parse_local_data("host.Corp.Example. 60 IN A 192.0.2.1").unwrap();
        let zones = [
            (n("example."), ZoneKind::Refuse),
            (n("lab.EXAMPLE."), ZoneKind::Static),
        ];
        let local = LocalZones::new(false, &zones, data);
        let zone = |name: &str| local.zone_of(&n(name)).map(|(z, k)| (z.to_string(), k));
        let is = |zone: &str, kind| Some((zone.to_string(), kind));
        assert_eq!(
            zone("a.b.LAB.example."),
            is("lab.EXAMPLE.", ZoneKind::Static)
        );
        assert_eq!(zone("lab.example."), is("lab.EXAMPLE.", ZoneKind::Static));
        assert_eq!(zone("xlab.example."), is("example.", ZoneKind::Refuse));
        assert_eq!(zone("EXAMPLE."), is("example.", ZoneKind::Refuse));
        assert_eq!(zone("host.corp.example."), is("example.", ZoneKind::Refuse));
        assert_eq!(zone("example.net."), None);
        assert_eq!(zone("."), None);
        let data = parse_local_data("host.corp.tld1. 60 IN A 192.0.2.1").unwrap();
        let local = LocalZones::new(false, &[], data);
        let zone = local
            .zone_of(&n("HOST.corp.tld1."))
            .map(|(z, k)| (z.to_string(), k));
        assert_eq!(zone, is("host.corp.tld1.", ZoneKind::Transparent));
        assert!(local.zone_of(&n("x.corp.tld1.")).is_none());
    }

    #[test]
    fn builtin_zones_answer_localhost_and_refuse_to_leak() {
        let local = LocalZones::builtin();
        let a = local.lookup(&n("LocalHost."), RecordType::A).unwrap();
        assert_eq!(a.rcode, ResponseCode::NoError);
        assert_eq!(a.answers.len(), 1);
        let ptr = local
            .lookup(&n("1.0.0.127.in-addr.arpa."), RecordType::PTR)
            .unwrap();
        assert_eq!(ptr.answers.len(), 1);
        for name in [
            "x.onion.",
            "a.b.test.",
            "nas.home.arpa.",
            "4.3.2.10.in-addr.arpa.",
        ] {
            let nx = local.lookup(&n(name), RecordType::A).unwrap();
            assert_eq!(nx.rcode, ResponseCode::NXDomain, "{name}");
            assert_eq!(nx.authorities[0].record_type(), RecordType::SOA);
        }
        assert!(local.lookup(&n("www.a.tld1."), RecordType::A).is_none());
        assert!(
            local
                .lookup(&n("1.1.16.172.in-addr.arpa."), RecordType::PTR)
                .is_some()
        );
        assert!(
            local
                .lookup(&n("1.1.15.172.in-addr.arpa."), RecordType::PTR)
                .is_none()
        );
    }

    #[test]
    fn configured_zones_follow_their_kind() {
        let data = [
            "router.home.arpa. 3600 IN A 192.0.2.1",
            "ads.example. A 127.0.0.2",
            "www.corp.example. A 192.0.2.7",
        ]
        .iter()
        .flat_map(|t| parse_local_data(t).unwrap())
        .collect();
        let zones = [
            (n("refused.example."), ZoneKind::Refuse),
            (n("ads.example."), ZoneKind::Redirect),
            (n("onion."), ZoneKind::NoDefault),
        ];
        let local = LocalZones::new(true, &zones, data);
        let router = local
            .lookup(&n("router.home.arpa."), RecordType::A)
            .unwrap();
        assert_eq!(router.answers[0].ttl, 3600);
        let nodata = local
            .lookup(&n("router.home.arpa."), RecordType::AAAA)
            .unwrap();
        assert_eq!(
            (nodata.rcode, nodata.answers.len()),
            (ResponseCode::NoError, 0)
        );
        let refused = local
            .lookup(&n("x.refused.example."), RecordType::A)
            .unwrap();
        assert_eq!(refused.rcode, ResponseCode::Refused);
        let redirected = local.lookup(&n("a.b.ads.example."), RecordType::A).unwrap();
        assert_eq!(redirected.answers[0].name, n("a.b.ads.example."));
        assert!(local.lookup(&n("x.onion."), RecordType::A).is_none());
        // Transparent zone made for the data: other names resolve.
        assert!(
            local
                .lookup(&n("www.corp.example."), RecordType::A)
                .is_some()
        );
        assert!(
            local
                .lookup(&n("mail.corp.example."), RecordType::A)
                .is_none()
        );
        assert!(
            LocalZones::new(false, &[], Vec::new())
                .lookup(&n("localhost."), RecordType::A)
                .is_none()
        );
    }

    #[test]
    fn bad_local_data_is_an_error() {
        assert!(parse_local_data("router.home.arpa. IN A 300.0.0.1").is_err());
        assert!(parse_local_data("").is_err());
        assert_eq!(
            parse_local_data("x. PTR y.").unwrap()[0].ttl,
            LOCAL_DATA_DEFAULT_TTL
        );
    }
}
