//! One authoritative zone's data and the lookup in it (RFC 1034 §4.3.2):
//! zone cuts and glue, exact answers, CNAME chase, DNAME substitution
//! (RFC 6672 §3), wildcards (RFC 4592), NODATA and NXDOMAIN with the SOA
//! (RFC 2308); and [`ServedZone`], the version of a zone the servers answer
//! from, which the lab can replace while it runs. Signing a zone and adding
//! RRSIGs and denial proofs to replies live in [`sign`] and [`secure`].

pub mod secure;
pub mod sign;

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, RwLock};

use hickory_proto::rr::rdata::CNAME;
use hickory_proto::rr::{Name, RData, Record, RecordType};

/// CNAME links followed inside one zone for one query; past this the chain
/// so far is returned and the client follows on.
pub const MAX_CNAME_LINKS: usize = 8;

/// One zone: its origin, SOA and every record, glue below cuts included.
#[derive(Debug, Clone)]
pub struct Zone {
    origin: Name,
    soa: Record,
    /// Records by lowercased owner name.
    nodes: BTreeMap<Name, Vec<Record>>,
    /// DNAME records by lowercased owner, with their decoded target (the
    /// records themselves are in `nodes` too, for DNAME and ANY queries).
    dnames: BTreeMap<Name, (Record, Name)>,
    /// RRSIGs and the NSEC or NSEC3 chain when the zone is signed (DNSKEY,
    /// NSEC3PARAM and DS records are in `nodes`).
    dnssec: Option<Arc<secure::Signatures>>,
}

/// A zone as the servers serving it see it: a fixed origin and the current
/// version of the data, swapped whole by [`ServedZone::replace`].
///
/// Answering takes the read lock only to clone the `Arc` of the current
/// version, so a lookup never holds the lock and a replacement never waits
/// for one; replies already being built finish on the old version.
#[derive(Debug)]
pub struct ServedZone {
    origin: Name,
    current: RwLock<Arc<Zone>>,
}

impl ServedZone {
    /// Serves `zone`.
    pub fn new(zone: Zone) -> Self {
        Self {
            origin: zone.origin.clone(),
            current: RwLock::new(Arc::new(zone)),
        }
    }

    /// The zone's origin (lowercase); it never changes.
    pub fn origin(&self) -> &Name {
        &self.origin
    }

    /// The current version of the zone.
    pub fn current(&self) -> Arc<Zone> {
        let guard = self
            .current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::clone(&guard)
    }

    /// Serves `zone` from now on. Its origin must be this zone's origin.
    pub fn replace(&self, zone: Zone) -> Result<(), String> {
        if zone.origin != self.origin {
            return Err(format!(
                "cannot replace zone {} with zone {}",
                self.origin, zone.origin
            ));
        }
        let mut guard = self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *guard = Arc::new(zone);
        Ok(())
    }
}

/// What a lookup found, which decides the reply's rcode and AA bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupKind {
    /// Data (possibly only a CNAME chain that leaves the zone): AA=1.
    Answer,
    /// A zone cut at or above the name: AA=0, NS in authority.
    Referral,
    /// The name exists without data of the type: AA=1, SOA in authority.
    NoData,
    /// The name does not exist: AA=1, SOA in authority.
    NxDomain,
    /// A DNAME substitution made a name longer than 255 octets: AA=1, the
    /// DNAME in the answer, rcode YXDOMAIN (RFC 6672 §2.2).
    YxDomain,
}

/// The sections of a reply built from one zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// What was found.
    pub kind: LookupKind,
    /// Answer section.
    pub answers: Vec<Record>,
    /// Authority section.
    pub authorities: Vec<Record>,
    /// Additional section.
    pub additionals: Vec<Record>,
}

/// What one name holds for one type, before CNAME chasing.
enum Found {
    Records(Vec<Record>),
    Cname(Box<Record>, Name),
    NoData,
    NxDomain,
}

impl Zone {
    /// Builds a zone from its records, checking that it has an SOA and NS
    /// RRset at the apex and nothing outside the origin. The error is the
    /// problem, for the caller to put in context.
    pub fn from_records(origin: Name, records: Vec<Record>) -> Result<Zone, String> {
        let origin = origin.to_lowercase();
        let mut nodes: BTreeMap<Name, Vec<Record>> = BTreeMap::new();
        let mut dnames = BTreeMap::new();
        for record in records {
            if record.record_type() == RecordType::DNAME {
                let target = super::dname::target(&record)
                    .ok_or_else(|| format!("DNAME at {} has no valid target", record.name))?;
                dnames.insert(record.name.to_lowercase(), (record.clone(), target));
            }
            if !origin.zone_of(&record.name) {
                return Err(format!(
                    "record `{} {}` is outside zone {origin}",
                    record.name,
                    record.record_type()
                ));
            }
            nodes
                .entry(record.name.to_lowercase())
                .or_default()
                .push(record);
        }
        let apex = nodes.get(&origin).cloned().unwrap_or_default();
        let soa = apex
            .iter()
            .find(|r| r.record_type() == RecordType::SOA)
            .cloned()
            .ok_or_else(|| format!("zone {origin} has no SOA record at its apex"))?;
        if !apex.iter().any(|r| r.record_type() == RecordType::NS) {
            return Err(format!("zone {origin} has no NS records at its apex"));
        }
        Ok(Zone {
            origin,
            soa,
            nodes,
            dnames,
            dnssec: None,
        })
    }

    /// The zone's origin (lowercase).
    pub fn origin(&self) -> &Name {
        &self.origin
    }

    /// Every record of the zone (glue and DNAMEs included, RRSIGs and
    /// NSEC/NSEC3 not), in owner order.
    pub fn records(&self) -> Vec<Record> {
        self.nodes.values().flatten().cloned().collect()
    }

    /// This zone with `extra` records added (unsigned: sign it again).
    pub fn with_records(&self, extra: Vec<Record>) -> Result<Zone, String> {
        let mut records = self.records();
        records.extend(extra);
        Zone::from_records(self.origin.clone(), records)
    }

    /// The SOA as sent in negative answers: TTL = min(SOA TTL, SOA minimum)
    /// (RFC 2308 §3).
    pub fn negative_soa(&self) -> Record {
        let mut soa = self.soa.clone();
        if let RData::SOA(data) = &soa.data {
            soa.ttl = soa.ttl.min(data.minimum);
        }
        soa
    }

    /// The A and AAAA records at `name`, below zone cuts too (glue).
    pub fn addresses(&self, name: &Name) -> Vec<Record> {
        self.address_records(name).cloned().collect()
    }

    /// The A and AAAA records at `name`, borrowed.
    fn address_records(&self, name: &Name) -> impl Iterator<Item = &Record> {
        self.records_at(name)
            .iter()
            .filter(|r| matches!(r.record_type(), RecordType::A | RecordType::AAAA))
    }

    /// Answers `qname`/`qtype` from this zone. `qname` must be inside it.
    pub fn lookup(&self, qname: &Name, qtype: RecordType) -> Lookup {
        let mut answers: Vec<Record> = Vec::new();
        let mut visited: Vec<Name> = Vec::new();
        let mut name = qname.clone();
        for _ in 0..=MAX_CNAME_LINKS {
            if let Some(cut) = self.cut_above(&name, qtype) {
                if answers.is_empty() {
                    return self.referral(&cut);
                }
                // The chain continues below a cut: the client follows it.
                return self.answer(answers);
            }
            visited.push(name.clone());
            if let Some((dname, target)) = self.dname_above(&name) {
                let owner_labels = dname.name.num_labels();
                answers.push(dname.clone());
                let Some(substituted) = substitute(&name, owner_labels, target) else {
                    return Lookup {
                        kind: LookupKind::YxDomain,
                        answers,
                        authorities: Vec::new(),
                        additionals: Vec::new(),
                    };
                };
                let cname = RData::CNAME(CNAME(substituted.clone()));
                answers.push(Record::from_rdata(name.clone(), dname.ttl, cname));
                if !self.origin.zone_of(&substituted) || visited.contains(&substituted) {
                    return self.answer(answers);
                }
                name = substituted;
                continue;
            }
            match self.find(&name, qtype) {
                Found::Records(records) => {
                    answers.extend(records);
                    return self.answer(answers);
                }
                Found::Cname(record, target) => {
                    answers.push(*record);
                    if !self.origin.zone_of(&target) || visited.contains(&target) {
                        return self.answer(answers);
                    }
                    name = target;
                }
                Found::NoData => return self.negative(LookupKind::NoData, answers),
                Found::NxDomain => return self.negative(LookupKind::NxDomain, answers),
            }
        }
        self.answer(answers)
    }

    /// A referral to the zone cut `cut` (RFC 1034 §4.3.2 step 3b): the NS
    /// RRset in authority, in-domain and sibling glue in additional
    /// (RFC 9471 §2).
    fn referral(&self, cut: &Name) -> Lookup {
        let ns: Vec<Record> = self
            .records_at(cut)
            .iter()
            .filter(|r| r.record_type() == RecordType::NS)
            .cloned()
            .collect();
        let additionals = self.addresses_of_targets(&ns);
        Lookup {
            kind: LookupKind::Referral,
            answers: Vec::new(),
            authorities: ns,
            additionals,
        }
    }

    fn answer(&self, answers: Vec<Record>) -> Lookup {
        let additionals = self.addresses_of_targets(&answers);
        Lookup {
            kind: LookupKind::Answer,
            answers,
            authorities: Vec::new(),
            additionals,
        }
    }

    fn negative(&self, kind: LookupKind, answers: Vec<Record>) -> Lookup {
        Lookup {
            kind,
            answers,
            authorities: vec![self.negative_soa()],
            additionals: Vec::new(),
        }
    }

    /// The highest DNAME strictly above `name`, at or below the apex
    /// (RFC 6672 §3.2: the owner itself is not redirected).
    fn dname_above(&self, name: &Name) -> Option<&(Record, Name)> {
        if self.dnames.is_empty() {
            return None;
        }
        let apex_labels = self.origin.num_labels();
        (apex_labels..name.num_labels())
            .map(|labels| name.trim_to(labels as usize))
            .find_map(|candidate| self.dnames.get(&candidate.to_lowercase()))
    }

    /// Whether this zone delegates `child` (an NS RRset at `child`, which
    /// is not the apex).
    pub fn delegates(&self, child: &Name) -> bool {
        *child != self.origin
            && self
                .records_at(child)
                .iter()
                .any(|r| r.record_type() == RecordType::NS)
    }

    /// This zone without anything at or below `child`: the delegation's NS
    /// RRset, DS and the glue below the cut. Sibling glue elsewhere in the
    /// zone stays, since other delegations may use it.
    pub fn without_subtree(&self, child: &Name) -> Zone {
        let keep = |owner: &Name| !child.zone_of(owner);
        Zone {
            origin: self.origin.clone(),
            soa: self.soa.clone(),
            nodes: self
                .nodes
                .iter()
                .filter(|(owner, _)| keep(owner))
                .map(|(owner, records)| (owner.clone(), records.clone()))
                .collect(),
            dnames: self
                .dnames
                .iter()
                .filter(|(owner, _)| keep(owner))
                .map(|(owner, dname)| (owner.clone(), dname.clone()))
                .collect(),
            dnssec: self.dnssec.clone(),
        }
    }

    /// Whether `name` owns no records but sits on the way to data a
    /// QNAME-minimising resolver walks (RFC 9156 §2.3): an empty
    /// non-terminal, or a name that does not exist directly below one
    /// (`_.ent.zone`). Names at or below a zone cut are not.
    pub fn on_empty_non_terminal(&self, name: &Name) -> bool {
        if *name == self.origin
            || !self.origin.zone_of(name)
            || !self.records_at(name).is_empty()
            || self.cut_above(name, RecordType::A).is_some()
        {
            return false;
        }
        let is_ent = |n: &Name| *n != self.origin && self.records_at(n).is_empty();
        if self.exists(name) {
            return is_ent(name);
        }
        self.closest_encloser(name)
            .is_some_and(|encloser| is_ent(&encloser))
    }

    /// The closest zone cut strictly below the apex, at or above `name`.
    /// A DS query at the cut itself belongs to this (parent) side.
    fn cut_above(&self, name: &Name, qtype: RecordType) -> Option<Name> {
        let apex_labels = self.origin.num_labels();
        (apex_labels + 1..=name.num_labels())
            .map(|labels| name.trim_to(labels as usize))
            .filter(|candidate| !(qtype == RecordType::DS && candidate == name))
            .find(|candidate| {
                self.records_at(candidate)
                    .iter()
                    .any(|r| r.record_type() == RecordType::NS)
            })
    }

    /// What `name` holds for `qtype`, with wildcard synthesis.
    fn find(&self, name: &Name, qtype: RecordType) -> Found {
        let records = self.records_at(name);
        if !records.is_empty() {
            return select(records, name, qtype);
        }
        if self.exists(name) {
            return Found::NoData; // empty non-terminal
        }
        let Some(encloser) = self.closest_encloser(name) else {
            return Found::NxDomain;
        };
        let Ok(wildcard) = encloser.prepend_label("*") else {
            return Found::NxDomain;
        };
        let source = self.records_at(&wildcard);
        if source.is_empty() {
            return Found::NxDomain;
        }
        let synthesized: Vec<Record> = source
            .iter()
            .map(|r| {
                let mut r = r.clone();
                r.name = name.clone();
                r
            })
            .collect();
        select(&synthesized, name, qtype)
    }

    /// The longest existing ancestor of `name` (RFC 4592 §3.3.1).
    fn closest_encloser(&self, name: &Name) -> Option<Name> {
        let apex_labels = self.origin.num_labels();
        (apex_labels..name.num_labels())
            .rev()
            .map(|labels| name.trim_to(labels as usize))
            .find(|candidate| self.exists(candidate))
    }

    /// Whether `name` or any name below it owns records.
    fn exists(&self, name: &Name) -> bool {
        self.nodes.keys().any(|owner| name.zone_of(owner))
    }

    fn records_at(&self, name: &Name) -> &[Record] {
        self.nodes
            .get(&name.to_lowercase())
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Addresses of the NS, MX and SRV targets among `records` that lie in
    /// this zone, each once, in the order first met. The lab serves hostile
    /// zones with thousands of NS or MX records, so the records already
    /// taken are remembered in a set (keyed as records compare: owner
    /// without case, class, data) rather than searched for each new one.
    fn addresses_of_targets(&self, records: &[Record]) -> Vec<Record> {
        let mut out: Vec<Record> = Vec::new();
        let mut taken = HashSet::new();
        for record in records {
            let target = match &record.data {
                RData::NS(ns) => &ns.0,
                RData::MX(mx) => &mx.exchange,
                RData::SRV(srv) => &srv.target,
                _ => continue,
            };
            if !self.origin.zone_of(target) {
                continue;
            }
            for address in self.address_records(target) {
                if taken.insert((&address.name, address.dns_class, &address.data)) {
                    out.push(address.clone());
                }
            }
        }
        out
    }
}

/// `name` with its last `owner_labels` labels replaced by `target`
/// (RFC 6672 §2.2); `None` when the result is longer than 255 octets.
fn substitute(name: &Name, owner_labels: u8, target: &Name) -> Option<Name> {
    let keep = name.num_labels().checked_sub(owner_labels)?;
    let prefix: Vec<&[u8]> = name.iter().take(usize::from(keep)).collect();
    if prefix.is_empty() {
        return Some(target.clone());
    }
    Name::from_labels(prefix).ok()?.append_domain(target).ok()
}

/// Picks from a node's records what answers `qtype`.
fn select(records: &[Record], name: &Name, qtype: RecordType) -> Found {
    if qtype == RecordType::ANY {
        return Found::Records(records.to_vec());
    }
    let matching: Vec<Record> = records
        .iter()
        .filter(|r| r.record_type() == qtype)
        .cloned()
        .collect();
    if !matching.is_empty() {
        return Found::Records(matching);
    }
    let cname = records.iter().find_map(|r| match &r.data {
        RData::CNAME(target) => Some((r.clone(), target.0.clone())),
        _ => None,
    });
    match cname {
        Some((record, target)) => {
            let mut record = Box::new(record);
            record.name = name.clone();
            Found::Cname(record, target)
        }
        None => Found::NoData,
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use hickory_proto::rr::rdata::{MX, NS, SRV};
    use hickory_proto::serialize::txt::Parser;

    use super::*;

    const ZONE: &str = "\
$TTL 3600
@        IN SOA ns1.a.test. host.a.test. 1 3600 600 86400 300
@        IN NS  ns1.a.test.
@        IN MX  10 mail.a.test.
ns1      IN A   127.0.0.1
mail     IN A   192.0.2.25
www      IN A   192.0.2.1
chain    IN CNAME alias.a.test.
alias    IN CNAME www.a.test.
out      IN CNAME www.elsewhere.test.
loop1    IN CNAME loop2.a.test.
loop2    IN CNAME loop1.a.test.
host.ent IN A   192.0.2.2
*.wild   IN A   192.0.2.80
sub      IN NS  ns.sub.a.test.
sub      IN NS  ns.other.test.
ns.sub   IN A   127.0.0.2
sib      IN NS  ns1.a.test.
";

    fn name(s: &str) -> Name {
        Name::from_str(s).unwrap()
    }

    /// The zone `text` holds, at `origin`.
    fn zone_from(text: &str, origin: &str) -> Zone {
        let (_, sets) = Parser::new(text, None, Some(name(origin))).parse().unwrap();
        let records = sets
            .values()
            .flat_map(|s| s.records_without_rrsigs().cloned())
            .collect();
        Zone::from_records(name(origin), records).unwrap()
    }

    fn zone() -> Zone {
        zone_from(ZONE, "a.test.")
    }

    fn types(records: &[Record]) -> Vec<RecordType> {
        records.iter().map(Record::record_type).collect()
    }

    #[test]
    fn addresses_of_targets_come_once_each_in_the_order_first_met() {
        let text = "\
$TTL 3600
@        IN SOA ns1.t.test. host.t.test. 1 3600 600 86400 300
@        IN NS  ns1.t.test.
ns1      IN A   192.0.2.1
mail     IN A   192.0.2.25
mail     IN AAAA 2001:db8::25
mail     IN A   192.0.2.26
srv      IN AAAA 2001:db8::53
";
        let zone = zone_from(text, "t.test.");
        let apex = name("t.test.");
        let ns = |target: &str| {
            Record::from_rdata(
                apex.clone(),
                3600,
                RData::NS(NS(Name::from_ascii(target).unwrap())),
            )
        };
        let mx = |preference: u16, target: &str| {
            Record::from_rdata(
                apex.clone(),
                3600,
                RData::MX(MX::new(preference, Name::from_ascii(target).unwrap())),
            )
        };
        let srv = Record::from_rdata(
            apex.clone(),
            3600,
            RData::SRV(SRV::new(0, 0, 53, name("srv.t.test."))),
        );
        // A hostile set: the same few targets again and again, in mixed
        // case, with one outside the zone.
        let mut asked = vec![mx(20, "mail.t.test."), ns("ns1.t.test.")];
        for i in 0..2000 {
            asked.push(ns(if i % 2 == 0 {
                "NS1.t.test."
            } else {
                "ns.elsewhere.test."
            }));
            asked.push(mx(i, "MAIL.T.TEST."));
        }
        asked.push(srv);
        asked.push(ns("ns1.t.test."));
        // First met: `mail` (its records in the zone's order), `ns1`, `srv`;
        // each once, the target outside the zone left out.
        let mut want = zone.addresses(&name("mail.t.test."));
        assert_eq!(want.len(), 3);
        want.extend(zone.addresses(&name("ns1.t.test.")));
        want.extend(zone.addresses(&name("srv.t.test.")));
        let got = zone.addresses_of_targets(&asked);
        let show = |records: &[Record]| -> Vec<String> {
            records
                .iter()
                .map(|r| format!("{} {}", r.name, r.data))
                .collect()
        };
        assert_eq!(show(&got), show(&want));
    }

    #[test]
    fn exact_answer_has_data_and_no_authority() {
        let l = zone().lookup(&name("www.a.test."), RecordType::A);
        assert_eq!(l.kind, LookupKind::Answer);
        assert_eq!(types(&l.answers), vec![RecordType::A]);
        assert!(l.authorities.is_empty());
    }

    #[test]
    fn mx_answer_carries_in_zone_target_address() {
        let l = zone().lookup(&name("a.test."), RecordType::MX);
        assert_eq!(l.additionals.len(), 1);
        assert_eq!(l.additionals[0].name, name("mail.a.test."));
    }

    #[test]
    fn referral_carries_in_domain_glue_only() {
        let l = zone().lookup(&name("www.sub.a.test."), RecordType::A);
        assert_eq!(l.kind, LookupKind::Referral);
        assert!(l.answers.is_empty());
        assert_eq!(types(&l.authorities), vec![RecordType::NS; 2]);
        assert_eq!(l.additionals.len(), 1);
        assert_eq!(l.additionals[0].name, name("ns.sub.a.test."));
    }

    #[test]
    fn referral_at_the_cut_itself_and_sibling_glue() {
        let l = zone().lookup(&name("sib.a.test."), RecordType::A);
        assert_eq!(l.kind, LookupKind::Referral);
        assert_eq!(l.additionals[0].name, name("ns1.a.test."));
    }

    #[test]
    fn ds_at_the_cut_is_answered_by_the_parent_side() {
        let l = zone().lookup(&name("sub.a.test."), RecordType::DS);
        assert_eq!(l.kind, LookupKind::NoData);
    }

    #[test]
    fn glue_below_a_cut_is_not_answered_authoritatively() {
        let l = zone().lookup(&name("ns.sub.a.test."), RecordType::A);
        assert_eq!(l.kind, LookupKind::Referral);
    }

    #[test]
    fn nodata_and_nxdomain_carry_capped_soa() {
        let z = zone();
        let l = z.lookup(&name("www.a.test."), RecordType::AAAA);
        assert_eq!(l.kind, LookupKind::NoData);
        assert_eq!(types(&l.authorities), vec![RecordType::SOA]);
        assert_eq!(l.authorities[0].ttl, 300);
        let l = z.lookup(&name("nope.a.test."), RecordType::A);
        assert_eq!(l.kind, LookupKind::NxDomain);
        assert_eq!(l.authorities[0].ttl, 300);
    }

    #[test]
    fn empty_non_terminal_is_nodata() {
        let l = zone().lookup(&name("ent.a.test."), RecordType::A);
        assert_eq!(l.kind, LookupKind::NoData);
    }

    #[test]
    fn wildcard_is_synthesized_with_the_query_name() {
        let z = zone();
        let l = z.lookup(&name("x.wild.a.test."), RecordType::A);
        assert_eq!(l.kind, LookupKind::Answer);
        assert_eq!(l.answers[0].name, name("x.wild.a.test."));
        let l = z.lookup(&name("x.wild.a.test."), RecordType::MX);
        assert_eq!(l.kind, LookupKind::NoData);
        // The wildcard does not cover names under an existing name.
        let l = z.lookup(&name("y.host.ent.a.test."), RecordType::A);
        assert_eq!(l.kind, LookupKind::NxDomain);
    }

    #[test]
    fn cname_chain_is_chased_inside_the_zone() {
        let l = zone().lookup(&name("chain.a.test."), RecordType::A);
        assert_eq!(l.kind, LookupKind::Answer);
        assert_eq!(
            types(&l.answers),
            vec![RecordType::CNAME, RecordType::CNAME, RecordType::A]
        );
        let l = zone().lookup(&name("chain.a.test."), RecordType::CNAME);
        assert_eq!(types(&l.answers), vec![RecordType::CNAME]);
    }

    #[test]
    fn cname_leaving_the_zone_or_looping_stops() {
        let z = zone();
        let l = z.lookup(&name("out.a.test."), RecordType::A);
        assert_eq!(l.kind, LookupKind::Answer);
        assert_eq!(l.answers.len(), 1);
        let l = z.lookup(&name("loop1.a.test."), RecordType::A);
        assert_eq!(l.kind, LookupKind::Answer);
        assert_eq!(l.answers.len(), 2);
    }

    #[test]
    fn zone_without_soa_or_ns_or_with_outside_data_is_rejected() {
        let ns = Record::from_rdata(
            name("a.test."),
            60,
            RData::NS(hickory_proto::rr::rdata::NS(name("ns.a.test."))),
        );
        let err = Zone::from_records(name("a.test."), vec![ns]).unwrap_err();
        assert!(err.contains("no SOA"), "{err}");
        let mut outside = zone().records_at(&name("www.a.test.")).to_vec();
        outside[0].name = name("www.b.test.");
        let err = Zone::from_records(name("a.test."), outside).unwrap_err();
        assert!(err.contains("outside zone"), "{err}");
    }
}
