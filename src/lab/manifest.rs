//! Reads a lab manifest (TOML) and its zone files into a [`LabSpec`]:
//! validated servers with their zones, faults and prefix-rewritten
//! addresses. Errors name the file, the line when known, and the problem.
//! Zone files may hold DNAME records, which hickory's parser rejects; the
//! lab reads those lines itself (see [`parse_zone`]).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hickory_proto::dnssec::Algorithm;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::{A, AAAA, NS};
use hickory_proto::rr::{Name, RData, Record};
use hickory_proto::serialize::txt::Parser;
use serde::Deserialize;
use toml::Spanned;

use super::dname;
use super::error::LabError;
use super::zone::sign::{Denial, SignFault, SignSpec, ZoneKeys, ds_record, sign};
use super::zone::{ServedZone, Zone};

/// The prefix the manifest and zone files are written for.
pub const DEFAULT_PREFIX: [u8; 3] = [127, 53, 0];

/// How many consecutive /24 blocks a lab may use: addresses are written in
/// 127.53.0.0/21 (`127.53.K.x`, K < 8), so a few servers can sit in another
/// /24, as RFC 2182's advice on network diversity wants, and the DNSSEC
/// zones have a block of their own (127.53.5.0/24); `127.53.K.x` maps
/// to `<a>.<b>.<c+K>.x` under the prefix `a.b.c`.
pub const LAB_BLOCKS: u8 = 8;

/// The highest third octet a prefix may have, so `c + K` stays an octet.
pub const MAX_PREFIX_THIRD_OCTET: u8 = u8::MAX - (LAB_BLOCKS - 1);

/// Reply delay of servers when the manifest names none.
pub const DEFAULT_LATENCY: Duration = Duration::from_millis(10);

/// Zone files longer than this are not searched for the line of a parse
/// error (the search re-parses prefixes, quadratic in lines).
const MAX_LINES_TO_LOCATE: usize = 2_000;

/// Where the manifest and zone files come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// Files compiled into the binary: (file name, contents).
    Builtin(&'static [(&'static str, &'static str)]),
    /// Files on disk, zone files relative to the manifest's directory.
    Disk(PathBuf),
}

/// How a server misbehaves, after validation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// Bound but never answers.
    pub drop: bool,
    /// Answers REFUSED to everything.
    pub refused: bool,
    /// Accepts TCP connections and closes them without a reply.
    pub no_tcp: bool,
    /// Answers SERVFAIL to everything.
    pub servfail: bool,
    /// Sends two forged UDP replies before each real one.
    pub spoof: bool,
    /// Records added to every reply from zone data (NS to authority, the
    /// rest to additional).
    pub poison: Vec<Record>,
    /// Refers every query to another zone instead of answering.
    pub referral: Option<ReferralFault>,
    /// Drops the first UDP query for each (lowercased name, type) and
    /// answers the next ones: packet loss a resend gets past.
    pub drop_first: bool,
    /// Answers FORMERR, without OPT, to every query that carries EDNS, as
    /// servers from before RFC 2671 do.
    pub no_edns: bool,
    /// To every query that carries EDNS, appends a malformed OPT record
    /// (its RDLENGTH runs past the end of the message) instead of a good
    /// one; queries without EDNS are answered normally.
    pub bad_opt: bool,
    /// Answers every query, over UDP and TCP alike, with TC=1 and empty
    /// sections: a server that can never give a whole answer.
    pub truncate: bool,
    /// Answers with this rcode instead of NODATA for an empty non-terminal
    /// and for names directly below one (what QNAME minimisation asks,
    /// RFC 9156 §2.3).
    pub empty_non_terminal: Option<ResponseCode>,
    /// Keeps the server's latency even in a lab started without latency.
    pub slow: bool,
}

/// The referral a `referral` fault sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralFault {
    /// The NS RRset of the zone referred to.
    pub ns: Vec<Record>,
    /// Addresses of those NS names that are lab servers.
    pub glue: Vec<Record>,
}

/// One server of the lab, ready to bind.
#[derive(Debug, Clone)]
pub struct ServerSpec {
    /// Its host name.
    pub name: Name,
    /// Its address: rewritten IPv4, or `::1`.
    pub address: IpAddr,
    /// The zones it serves.
    pub zones: Vec<Arc<ServedZone>>,
    /// Delay before each reply.
    pub latency: Duration,
    /// How it misbehaves.
    pub faults: Faults,
}

/// A whole lab: its servers in manifest order, and every zone (variants
/// included), shared with the servers that serve it.
#[derive(Debug, Clone)]
pub struct LabSpec {
    /// The servers.
    pub servers: Vec<ServerSpec>,
    /// Every `[[zone]]`, in manifest order.
    pub zones: Vec<Arc<ServedZone>>,
    /// The DS records of the signed root's KSK: the lab's trust anchor
    /// (empty when the root is not signed).
    pub anchor: Vec<Record>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestDef {
    latency_ms: Option<u64>,
    #[serde(default)]
    zone: Vec<ZoneDef>,
    #[serde(default)]
    server: Vec<ServerDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ZoneDef {
    origin: Spanned<String>,
    file: Spanned<String>,
    /// Names a second version of a zone (a server that missed an update),
    /// which servers then list by this key instead of the origin.
    variant: Option<Spanned<String>>,
    /// Signs the zone at start-up: `ecdsa`, `ed25519`, `rsa` (RSASHA256
    /// with the committed keys; all three with NSEC),
    /// `nsec3` or `nsec3-optout` (P-256 keys).
    signed: Option<Spanned<String>>,
    /// Breaks the signed zone on purpose: `bad-rrsig`, `expired`,
    /// `ds-mismatch` or `zsk-only`.
    dnssec_fault: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerDef {
    name: Spanned<String>,
    address: Spanned<String>,
    #[serde(default)]
    zones: Vec<Spanned<String>>,
    latency_ms: Option<u64>,
    #[serde(default)]
    faults: Vec<Spanned<FaultDef>>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum FaultDef {
    Drop,
    #[serde(rename = "notcp")]
    NoTcp,
    Refused,
    Servfail,
    Spoof,
    Poison {
        records: Vec<String>,
    },
    Referral {
        zone: String,
        ns: Vec<String>,
    },
    #[serde(rename = "dropfirst")]
    DropFirst,
    #[serde(rename = "noedns")]
    NoEdns,
    #[serde(rename = "badopt")]
    BadOpt,
    Truncate,
    Ent {
        rcode: Option<String>,
    },
    Slow,
}

/// Reads files of one source and reports errors against them.
struct Reader {
    source: Source,
    manifest_name: String,
    manifest_text: String,
}

impl Source {
    fn read(&self, file: &str) -> Result<(String, String), std::io::Error> {
        match self {
            Source::Builtin(files) => files
                .iter()
                .find(|(name, _)| *name == file)
                .map(|(name, text)| (format!("built-in lab/{name}"), (*text).to_string()))
                .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound)),
            Source::Disk(manifest) => {
                let path = manifest
                    .parent()
                    .map(|dir| dir.join(file))
                    .unwrap_or_else(|| PathBuf::from(file));
                let text = std::fs::read_to_string(&path)?;
                Ok((path.display().to_string(), text))
            }
        }
    }
}

/// Loads and validates a lab, rewriting 127.53.0.0/21 under `prefix`.
pub fn load(source: Source, prefix: [u8; 3]) -> Result<LabSpec, LabError> {
    let (manifest_name, manifest_text) = match &source {
        Source::Builtin(_) => source.read("manifest.toml"),
        Source::Disk(path) => {
            std::fs::read_to_string(path).map(|t| (path.display().to_string(), t))
        }
    }
    .map_err(|e| LabError::Io {
        path: match &source {
            Source::Disk(path) => path.display().to_string(),
            Source::Builtin(_) => "built-in lab/manifest.toml".to_string(),
        },
        source: e,
    })?;
    let reader = Reader {
        source,
        manifest_name,
        manifest_text,
    };
    reader.load(prefix)
}

impl Reader {
    fn error(&self, span: Option<Range<usize>>, problem: String) -> LabError {
        LabError::Manifest {
            file: self.manifest_name.clone(),
            line: span.map(|s| line_of(&self.manifest_text, s.start)),
            problem,
        }
    }

    fn name(&self, text: &Spanned<String>, what: &str) -> Result<Name, LabError> {
        let value = text.get_ref();
        if !value.ends_with('.') {
            return Err(self.error(
                Some(text.span()),
                format!("{what} `{value}` must be absolute (end with `.`)"),
            ));
        }
        Name::from_str(value)
            .map_err(|e| self.error(Some(text.span()), format!("bad {what} `{value}`: {e}")))
    }

    fn load(&self, prefix: [u8; 3]) -> Result<LabSpec, LabError> {
        let def: ManifestDef = toml::from_str(&self.manifest_text)
            .map_err(|e| self.error(e.span(), e.message().trim().to_string()))?;
        let default_latency = def
            .latency_ms
            .map(Duration::from_millis)
            .unwrap_or(DEFAULT_LATENCY);

        let mut zones: BTreeMap<String, Arc<ServedZone>> = BTreeMap::new();
        let mut in_order = Vec::new();
        let mut to_sign = Vec::new();
        for zone_def in &def.zone {
            let origin = self.name(&zone_def.origin, "zone origin")?;
            let key = match &zone_def.variant {
                Some(variant) => {
                    let label = variant.get_ref();
                    if label.is_empty() || label.ends_with('.') {
                        return Err(self.error(
                            Some(variant.span()),
                            format!(
                                "variant `{label}` must be a non-empty label not ending in `.`"
                            ),
                        ));
                    }
                    label.clone()
                }
                None => origin.to_string(),
            };
            if zones.contains_key(&key) {
                return Err(self.error(
                    Some(zone_def.origin.span()),
                    format!("zone {key} is listed twice"),
                ));
            }
            let file = zone_def.file.get_ref();
            let (file_name, text) = self.source.read(file).map_err(|e| {
                self.error(
                    Some(zone_def.file.span()),
                    format!("zone file `{file}` of {origin} cannot be read: {e}"),
                )
            })?;
            let zone = parse_zone(&text, &file_name, &origin, prefix)?;
            let zone = Arc::new(ServedZone::new(zone));
            if let Some(spec) = self.sign_spec(zone_def)? {
                to_sign.push((Arc::clone(&zone), spec, file_name));
            }
            in_order.push(Arc::clone(&zone));
            zones.insert(key, zone);
        }
        let anchor = sign_zones(&to_sign, &in_order)?;

        let mut names: Vec<(Name, IpAddr)> = Vec::new();
        let mut servers = Vec::new();
        for server_def in &def.server {
            let name = self.name(&server_def.name, "server name")?;
            let address = self.address(&server_def.address, prefix)?;
            if let Some((other, _)) = names.iter().find(|(_, a)| *a == address) {
                return Err(self.error(
                    Some(server_def.address.span()),
                    format!(
                        "address {} is already used by {other}",
                        server_def.address.get_ref()
                    ),
                ));
            }
            names.push((name.clone(), address));
            let mut served = Vec::new();
            for zone_name in &server_def.zones {
                let key = if zone_name.get_ref().ends_with('.') {
                    self.name(zone_name, "zone")?.to_string()
                } else {
                    zone_name.get_ref().clone()
                };
                let zone = zones.get(&key).ok_or_else(|| {
                    self.error(
                        Some(zone_name.span()),
                        format!("server {name} serves unknown zone {key} (no [[zone]] for it)"),
                    )
                })?;
                served.push(Arc::clone(zone));
            }
            servers.push((
                server_def,
                ServerSpec {
                    name,
                    address,
                    zones: served,
                    latency: server_def
                        .latency_ms
                        .map(Duration::from_millis)
                        .unwrap_or(default_latency),
                    faults: Faults::default(),
                },
            ));
        }

        let mut out = Vec::new();
        for (server_def, mut spec) in servers {
            for fault in &server_def.faults {
                self.apply_fault(fault, &mut spec.faults, &names, prefix)?;
            }
            out.push(spec);
        }
        Ok(LabSpec {
            servers: out,
            zones: in_order,
            anchor,
        })
    }

    /// How `zone_def` wants its zone signed, if at all.
    fn sign_spec(&self, zone_def: &ZoneDef) -> Result<Option<SignSpec>, LabError> {
        let fault = match &zone_def.dnssec_fault {
            None => None,
            Some(text) => Some(match text.get_ref().as_str() {
                "bad-rrsig" => SignFault::BadRrsig,
                "expired" => SignFault::Expired,
                "ds-mismatch" => SignFault::DsMismatch,
                "zsk-only" => SignFault::ZskOnly,
                other => {
                    return Err(self.error(
                        Some(text.span()),
                        format!(
                            "unknown dnssec_fault `{other}` (bad-rrsig, expired, ds-mismatch, zsk-only)"
                        ),
                    ));
                }
            }),
        };
        let Some(text) = &zone_def.signed else {
            if let Some(text) = &zone_def.dnssec_fault {
                return Err(
                    self.error(Some(text.span()), "dnssec_fault needs `signed`".to_string())
                );
            }
            return Ok(None);
        };
        let (algorithm, denial) = match text.get_ref().as_str() {
            "ecdsa" => (Algorithm::ECDSAP256SHA256, Denial::Nsec),
            "ed25519" => (Algorithm::ED25519, Denial::Nsec),
            "rsa" => (Algorithm::RSASHA256, Denial::Nsec),
            "nsec3" => (Algorithm::ECDSAP256SHA256, Denial::Nsec3 { opt_out: false }),
            "nsec3-optout" => (Algorithm::ECDSAP256SHA256, Denial::Nsec3 { opt_out: true }),
            other => {
                return Err(self.error(
                    Some(text.span()),
                    format!(
                        "unknown signed = `{other}` (ecdsa, ed25519, rsa, nsec3, nsec3-optout)"
                    ),
                ));
            }
        };
        Ok(Some(SignSpec {
            algorithm,
            denial,
            fault,
        }))
    }

    /// A server address: IPv4 in 127.53.0.0/21 (rewritten under `prefix`)
    /// or `::1`, the only IPv6 loopback address, which the prefix leaves
    /// alone (so a lab has at most one IPv6 server).
    fn address(&self, text: &Spanned<String>, prefix: [u8; 3]) -> Result<IpAddr, LabError> {
        let value = text.get_ref();
        let address: IpAddr = value
            .parse()
            .map_err(|_| self.error(Some(text.span()), format!("bad IP address `{value}`")))?;
        match address {
            IpAddr::V4(v4) if in_lab_range(v4) => Ok(IpAddr::V4(rewrite(v4, prefix))),
            IpAddr::V6(Ipv6Addr::LOCALHOST) => Ok(address),
            _ => Err(self.error(
                Some(text.span()),
                format!("server address {address} is outside 127.53.0.0/21 and is not ::1"),
            )),
        }
    }

    fn apply_fault(
        &self,
        fault: &Spanned<FaultDef>,
        faults: &mut Faults,
        servers: &[(Name, IpAddr)],
        prefix: [u8; 3],
    ) -> Result<(), LabError> {
        let bad = |problem: String| self.error(Some(fault.span()), problem);
        match fault.get_ref() {
            FaultDef::Drop => faults.drop = true,
            FaultDef::NoTcp => faults.no_tcp = true,
            FaultDef::Refused => faults.refused = true,
            FaultDef::Servfail => faults.servfail = true,
            FaultDef::Spoof => faults.spoof = true,
            FaultDef::Poison { records } => {
                for text in records {
                    let record = parse_record(text, prefix)
                        .map_err(|e| bad(format!("bad poison record `{text}`: {e}")))?;
                    faults.poison.push(record);
                }
            }
            FaultDef::Referral { zone, ns } => {
                let zone = absolute(zone).map_err(|e| bad(format!("bad referral zone: {e}")))?;
                let mut referral = ReferralFault {
                    ns: Vec::new(),
                    glue: Vec::new(),
                };
                for target in ns {
                    let target =
                        absolute(target).map_err(|e| bad(format!("bad referral NS: {e}")))?;
                    if let Some((_, address)) = servers.iter().find(|(n, _)| *n == target) {
                        let glue = match address {
                            IpAddr::V4(v4) => RData::A(A(*v4)),
                            IpAddr::V6(v6) => RData::AAAA(AAAA(*v6)),
                        };
                        referral
                            .glue
                            .push(Record::from_rdata(target.clone(), 3600, glue));
                    }
                    referral.ns.push(Record::from_rdata(
                        zone.clone(),
                        3600,
                        RData::NS(NS(target)),
                    ));
                }
                if referral.ns.is_empty() {
                    return Err(bad("referral fault needs at least one NS name".to_string()));
                }
                faults.referral = Some(referral);
            }
            FaultDef::DropFirst => faults.drop_first = true,
            FaultDef::NoEdns => faults.no_edns = true,
            FaultDef::BadOpt => faults.bad_opt = true,
            FaultDef::Truncate => faults.truncate = true,
            FaultDef::Slow => faults.slow = true,
            FaultDef::Ent { rcode } => {
                let rcode = match rcode.as_deref().map(str::to_ascii_uppercase).as_deref() {
                    None | Some("REFUSED") => ResponseCode::Refused,
                    Some("NXDOMAIN") => ResponseCode::NXDomain,
                    Some("SERVFAIL") => ResponseCode::ServFail,
                    Some(other) => {
                        return Err(bad(format!(
                            "ent fault rcode `{other}`: expected REFUSED, NXDOMAIN or SERVFAIL"
                        )));
                    }
                };
                faults.empty_non_terminal = Some(rcode);
            }
        }
        Ok(())
    }
}

/// Whether `address` is one the lab's files may use (127.53.0.0/21).
fn in_lab_range(address: Ipv4Addr) -> bool {
    let o = address.octets();
    o[..2] == DEFAULT_PREFIX[..2]
        && o[2] >= DEFAULT_PREFIX[2]
        && o[2] - DEFAULT_PREFIX[2] < LAB_BLOCKS
}

/// Maps `127.53.K.x` (K < [`LAB_BLOCKS`]) to `<a>.<b>.<c+K>.x` under the
/// prefix `a.b.c`; other addresses are left alone. A prefix whose third
/// octet exceeds [`MAX_PREFIX_THIRD_OCTET`] is refused before loading.
pub fn rewrite(address: Ipv4Addr, prefix: [u8; 3]) -> Ipv4Addr {
    let o = address.octets();
    if in_lab_range(address) {
        let block = o[2] - DEFAULT_PREFIX[2];
        Ipv4Addr::new(prefix[0], prefix[1], prefix[2].saturating_add(block), o[3])
    } else {
        address
    }
}

fn absolute(text: &str) -> Result<Name, String> {
    if !text.ends_with('.') {
        return Err(format!("`{text}` must be absolute (end with `.`)"));
    }
    Name::from_str(text).map_err(|e| format!("`{text}`: {e}"))
}

/// Parses one record written with an absolute owner, e.g.
/// `www.a.tld1. 300 IN A 127.66.6.6`.
fn parse_record(text: &str, prefix: [u8; 3]) -> Result<Record, String> {
    let (_, sets) = Parser::new(text, None, Some(Name::root()))
        .parse()
        .map_err(|e| e.to_string())?;
    let mut records = sets
        .values()
        .flat_map(|s| s.records_without_rrsigs().cloned());
    match (records.next(), records.next()) {
        (Some(record), None) => Ok(rewrite_record(record, prefix)),
        _ => Err("expected exactly one record".to_string()),
    }
}

fn rewrite_record(mut record: Record, prefix: [u8; 3]) -> Record {
    if let RData::A(a) = &record.data {
        record.data = RData::A(A(rewrite(a.0, prefix)));
    }
    record
}

/// Signs the zones in `to_sign` (zone, how, file name): keys for each, the
/// DS of each (or, for `ds-mismatch`, of a key it does not have) added to
/// every zone of `all` that delegates it, then every zone signed. Returns
/// the root's DS records when the root is signed: the lab's trust anchor.
fn sign_zones(
    to_sign: &[(Arc<ServedZone>, SignSpec, String)],
    all: &[Arc<ServedZone>],
) -> Result<Vec<Record>, LabError> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as u32)
        .unwrap_or(0);
    let failed = |file: &str, problem: String| LabError::Zone {
        file: file.to_string(),
        line: None,
        problem,
    };
    let mut keys = Vec::with_capacity(to_sign.len());
    for (served, spec, file) in to_sign {
        let origin = served.origin().clone();
        let zone_keys = ZoneKeys::generate(&origin, spec.algorithm).map_err(|p| failed(file, p))?;
        let ds = if spec.fault == Some(SignFault::DsMismatch) {
            let stranger =
                ZoneKeys::generate(&origin, spec.algorithm).map_err(|p| failed(file, p))?;
            ds_record(&origin, stranger.ksk())
        } else {
            zone_keys.ds(&origin)
        }
        .map_err(|p| failed(file, p))?;
        for parent in all.iter().filter(|p| p.current().delegates(&origin)) {
            let zone = parent
                .current()
                .with_records(vec![ds.clone()])
                .map_err(|p| failed(file, p))?;
            parent.replace(zone).map_err(|p| failed(file, p))?;
        }
        keys.push(zone_keys);
    }
    let mut anchor = Vec::new();
    for ((served, spec, file), zone_keys) in to_sign.iter().zip(&keys) {
        let signed = sign(&served.current(), zone_keys, *spec, now).map_err(|p| failed(file, p))?;
        served.replace(signed).map_err(|p| failed(file, p))?;
        if served.origin().is_root() {
            anchor.push(zone_keys.ds(&Name::root()).map_err(|p| failed(file, p))?);
        }
    }
    Ok(anchor)
}

/// Parses a zone file into a [`Zone`], rewriting lab addresses.
///
/// DNAME records (RFC 6672), which hickory's parser rejects, must sit on
/// one line each as `owner TTL IN DNAME target` (owner relative, absolute
/// or `@`; TTL required); they are read here and blanked out before the
/// rest of the file goes to hickory.
pub fn parse_zone(
    text: &str,
    file: &str,
    origin: &Name,
    prefix: [u8; 3],
) -> Result<Zone, LabError> {
    let (text, dnames) =
        dname::split_lines(text, origin).map_err(|(line, problem)| LabError::Zone {
            file: file.to_string(),
            line: Some(line),
            problem,
        })?;
    let text = text.as_str();
    let (_, sets) = Parser::new(text, None, Some(origin.clone()))
        .parse()
        .map_err(|e| {
            let problem = e.to_string();
            LabError::Zone {
                file: file.to_string(),
                line: locate_parse_error(text, origin, &problem),
                problem,
            }
        })?;
    let records = sets
        .values()
        .flat_map(|s| s.records_without_rrsigs().cloned())
        .map(|r| rewrite_record(r, prefix))
        .chain(dnames)
        .collect();
    Zone::from_records(origin.clone(), records).map_err(|problem| LabError::Zone {
        file: file.to_string(),
        line: None,
        problem,
    })
}

/// The parser reports no position, so find the first line at which a
/// prefix of the file fails with the same message.
fn locate_parse_error(text: &str, origin: &Name, problem: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() > MAX_LINES_TO_LOCATE {
        return None;
    }
    (1..=lines.len()).find(|&n| {
        let prefix = lines[..n].join("\n");
        matches!(
            Parser::new(prefix, None, Some(origin.clone())).parse(),
            Err(e) if e.to_string() == problem
        )
    })
}

/// 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZONE: &str =
        "$TTL 60\n@ IN SOA ns.t. h.t. 1 1 1 1 30\n@ IN NS ns.t.\nns IN A 127.53.0.7\n";

    fn files(manifest: &'static str) -> Source {
        let leaked: &'static [(&'static str, &'static str)] =
            Box::leak(vec![("manifest.toml", manifest), ("t.zone", ZONE)].into_boxed_slice());
        Source::Builtin(leaked)
    }

    fn load_err(manifest: &'static str) -> String {
        load(files(manifest), DEFAULT_PREFIX)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn rewrites_lab_addresses_only() {
        let p = [127, 9, 8];
        assert_eq!(
            rewrite(Ipv4Addr::new(127, 53, 0, 7), p),
            Ipv4Addr::new(127, 9, 8, 7)
        );
        assert_eq!(
            rewrite(Ipv4Addr::new(127, 53, 3, 7), p),
            Ipv4Addr::new(127, 9, 11, 7)
        );
        assert_eq!(
            rewrite(Ipv4Addr::new(127, 53, 7, 7), p),
            Ipv4Addr::new(127, 9, 15, 7)
        );
        for outside in [[192, 0, 2, 7], [127, 53, 8, 7], [127, 54, 0, 7]] {
            let outside = Ipv4Addr::from(outside);
            assert_eq!(rewrite(outside, p), outside);
        }
    }

    #[test]
    fn loads_a_small_lab_with_faults() {
        let m = "latency_ms = 3\n[[zone]]\norigin = \"t.\"\nfile = \"t.zone\"\n\
                 [[server]]\nname = \"ns.t.\"\naddress = \"127.53.0.7\"\nzones = [\"t.\"]\n\
                 faults = [{ kind = \"poison\", records = [\"x.t. 1 IN A 127.53.0.9\"] },\n\
                 { kind = \"referral\", zone = \".\", ns = [\"ns.t.\"] }]\n";
        let lab = load(files(m), [127, 1, 2]).unwrap();
        let server = &lab.servers[0];
        assert_eq!(server.address, IpAddr::V4(Ipv4Addr::new(127, 1, 2, 7)));
        assert_eq!(server.latency, Duration::from_millis(3));
        let poison = &server.faults.poison[0];
        assert_eq!(poison.data, RData::A(A::new(127, 1, 2, 9)));
        let referral = server.faults.referral.as_ref().unwrap();
        assert_eq!(referral.glue[0].data, RData::A(A::new(127, 1, 2, 7)));
        let ns = server.zones[0]
            .current()
            .addresses(&Name::from_str("ns.t.").unwrap());
        assert_eq!(ns[0].data, RData::A(A::new(127, 1, 2, 7)));
    }

    #[test]
    fn toml_syntax_error_names_file_and_line() {
        let err = load_err("[[zone]]\norigin = \"t.\"\nfile = \n");
        assert!(err.starts_with("built-in lab/manifest.toml:3:"), "{err}");
    }

    #[test]
    fn unknown_zone_in_server_list_names_the_line() {
        let m = "[[zone]]\norigin = \"t.\"\nfile = \"t.zone\"\n[[server]]\nname = \"ns.t.\"\n\
                 address = \"127.53.0.7\"\nzones = [\"t.\", \"u.\"]\n";
        let err = load_err(m);
        assert!(err.contains("manifest.toml:7:"), "{err}");
        assert!(err.contains("unknown zone u."), "{err}");
    }

    #[test]
    fn servers_name_zone_variants_by_their_key() {
        let m = "[[zone]]\norigin = \"t.\"\nfile = \"t.zone\"\n\
                 [[zone]]\norigin = \"t.\"\nfile = \"t.zone\"\nvariant = \"t-old\"\n\
                 [[server]]\nname = \"ns.t.\"\naddress = \"127.53.2.7\"\nzones = [\"t-old\"]\n";
        let spec = load(files(m), [127, 9, 8]).unwrap();
        assert_eq!(
            spec.servers[0].address,
            IpAddr::V4(Ipv4Addr::new(127, 9, 10, 7))
        );
        assert_eq!(spec.servers[0].zones[0].origin().to_string(), "t.");

        let twice = "[[zone]]\norigin = \"t.\"\nfile = \"t.zone\"\n\
                     [[zone]]\norigin = \"t.\"\nfile = \"t.zone\"\n";
        assert!(load_err(twice).contains("zone t. is listed twice"));
        let unknown =
            "[[server]]\nname = \"ns.t.\"\naddress = \"127.53.0.7\"\nzones = [\"t-new\"]\n";
        assert!(load_err(unknown).contains("unknown zone t-new"));
    }

    #[test]
    fn address_outside_the_lab_range_is_rejected() {
        let m = "[[server]]\nname = \"ns.t.\"\naddress = \"127.0.0.1\"\n";
        let err = load_err(m);
        assert!(err.contains("manifest.toml:3:"), "{err}");
        assert!(err.contains("outside 127.53.0.0/21"), "{err}");
        let m = "[[server]]\nname = \"ns.t.\"\naddress = \"::2\"\n";
        assert!(load_err(m).contains("is not ::1"));
    }

    #[test]
    fn ipv6_loopback_is_a_server_address_the_prefix_leaves_alone() {
        let m = "[[zone]]\norigin = \"t.\"\nfile = \"t.zone\"\n\
                 [[server]]\nname = \"ns.t.\"\naddress = \"::1\"\nzones = [\"t.\"]\n\
                 [[server]]\nname = \"r.t.\"\naddress = \"127.53.0.8\"\n\
                 faults = [{ kind = \"referral\", zone = \"t.\", ns = [\"ns.t.\"] }]\n";
        let spec = load(files(m), [127, 9, 8]).unwrap();
        assert_eq!(spec.servers[0].address, IpAddr::V6(Ipv6Addr::LOCALHOST));
        let referral = spec.servers[1].faults.referral.as_ref().unwrap();
        assert_eq!(
            referral.glue[0].data,
            RData::AAAA(AAAA(Ipv6Addr::LOCALHOST))
        );
        let twice = "[[server]]\nname = \"a.t.\"\naddress = \"::1\"\n\
                     [[server]]\nname = \"b.t.\"\naddress = \"::1\"\n";
        assert!(load_err(twice).contains("already used by a.t."));
    }

    #[test]
    fn new_fault_kinds_parse() {
        let m = "[[server]]\nname = \"ns.t.\"\naddress = \"127.53.0.7\"\n\
                 faults = [{ kind = \"dropfirst\" }, { kind = \"noedns\" }, { kind = \"slow\" },\n\
                 { kind = \"ent\", rcode = \"nxdomain\" }, { kind = \"badopt\" }]\n";
        let spec = load(files(m), DEFAULT_PREFIX).unwrap();
        let faults = &spec.servers[0].faults;
        assert!(faults.drop_first && faults.no_edns && faults.slow && faults.bad_opt);
        assert_eq!(faults.empty_non_terminal, Some(ResponseCode::NXDomain));
        let m = "[[server]]\nname = \"ns.t.\"\naddress = \"127.53.0.7\"\n\
                 faults = [{ kind = \"ent\" }]\n";
        let spec = load(files(m), DEFAULT_PREFIX).unwrap();
        assert_eq!(
            spec.servers[0].faults.empty_non_terminal,
            Some(ResponseCode::Refused)
        );
        let m = "[[server]]\nname = \"ns.t.\"\naddress = \"127.53.0.7\"\n\
                 faults = [{ kind = \"ent\", rcode = \"NOERROR\" }]\n";
        assert!(load_err(m).contains("expected REFUSED, NXDOMAIN or SERVFAIL"));
    }

    #[test]
    fn dname_lines_are_read_by_the_lab() {
        let origin = Name::from_str("t.").unwrap();
        let text = "$TTL 60\n@ IN SOA ns.t. h.t. 1 1 1 1 30\n@ IN NS ns.t.\n\
                    old 300 IN DNAME new.t. ; comment\n\
                    far.t. 60 IN DNAME b.example.\nwww.new IN A 192.0.2.1\n";
        let zone = parse_zone(text, "t.zone", &origin, DEFAULT_PREFIX).unwrap();
        let lookup = zone.lookup(
            &Name::from_str("www.old.t.").unwrap(),
            hickory_proto::rr::RecordType::A,
        );
        assert_eq!(lookup.answers.len(), 3, "{lookup:?}");
        let bad = "$TTL 60\n@ IN SOA ns.t. h.t. 1 1 1 1 30\n@ IN NS ns.t.\nold IN DNAME new.t.\n";
        let err = parse_zone(bad, "t.zone", &origin, DEFAULT_PREFIX)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("t.zone:4:"), "{err}");
    }

    #[test]
    fn missing_zone_file_names_the_manifest_line() {
        let err = load_err("[[zone]]\norigin = \"t.\"\nfile = \"nope.zone\"\n");
        assert!(err.contains("manifest.toml:3:"), "{err}");
        assert!(err.contains("nope.zone"), "{err}");
    }

    #[test]
    fn unknown_fault_kind_is_rejected() {
        let m = "[[server]]\nname = \"ns.t.\"\naddress = \"127.53.0.7\"\n\
                 faults = [{ kind = \"explode\" }]\n";
        let err = load_err(m);
        assert!(err.contains("manifest.toml:4:"), "{err}");
        assert!(err.contains("explode"), "{err}");
    }

    #[test]
    fn zone_parse_error_names_the_line() {
        let origin = Name::from_str("t.").unwrap();
        let text = "$TTL 60\n@ IN SOA ns.t. h.t. 1 1 1 1 30\n@ IN NS ns.t.\nns IN A not-an-ip\n";
        let err = parse_zone(text, "t.zone", &origin, DEFAULT_PREFIX).unwrap_err();
        let err = err.to_string();
        assert!(err.starts_with("t.zone:4:"), "{err}");
    }

    #[test]
    fn zone_without_soa_is_rejected() {
        let origin = Name::from_str("t.").unwrap();
        let err = parse_zone(
            "$TTL 60\n@ IN NS ns.t.\n",
            "t.zone",
            &origin,
            DEFAULT_PREFIX,
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("t.zone: "), "{err}");
        assert!(err.contains("no SOA"), "{err}");
    }
}
