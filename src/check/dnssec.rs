//! The DNSSEC rules of `check`: from the parent's DS RRset and each zone
//! server's DNSKEY, SOA and NSEC3PARAM RRsets (with RRSIGs, asked with
//! DO=1) to findings. Pure, like [`super::findings`]: `now` is an
//! argument, and the cryptography is the validator's ([`crate::validate`]).
//!
//! What is judged, and what is not:
//! - the chain step at the zone cut (RFC 4035 §5.2): does a DS match a
//!   served key, and does a DS-matched key sign the DNSKEY set;
//! - the RRSIGs over the apex DNSKEY and SOA RRsets: valid, expired or
//!   about to expire;
//! - algorithms and DS digests RFC 8624 retires, NSEC3 parameters RFC 9276
//!   advises against, servers out of step on the key set.
//! - Not judged: the parent's own chain above the DS (that is the check of
//!   the parent zone), the signatures of other names in the zone, denial
//!   proofs.

use std::collections::{BTreeMap, BTreeSet};

use hickory_proto::dnssec::rdata::{DNSKEY, DNSSECRData, DS};
use hickory_proto::dnssec::{DigestType, Verifier};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use serde::{Deserialize, Serialize};

use super::findings::{Observations, finding, list};
use super::kinds::{Code, Finding, ServerRef, Severity};
use super::probe::{DsView, KeyView, Server};
use crate::validate::keys::{KeyVerdict, TrustedKeys, ds_matches, key_tag, verify_dnskeys};
use crate::validate::sig::{check_rrsig, verify_rrset};
use crate::validate::{BogusReason, SigBudget, as_dnskey, as_ds, as_rrsig, date, serial_before};

/// Signatures that expire sooner than this (seconds) are reported as
/// expiring: a week leaves an operator time to find out why the signer
/// stopped re-signing before validating resolvers start to fail (signers
/// usually refresh signatures a week or more before they expire).
pub const RRSIG_EXPIRING_WARNING: u32 = 7 * 86_400;

/// DNSSEC algorithm numbers RFC 8624 §3.1 retires for signing: RSAMD5 (1),
/// DSA (3), DSA-NSEC3-SHA1 (6) and ECC-GOST (12) MUST NOT be used;
/// RSASHA1 (5) and RSASHA1-NSEC3-SHA1 (7) are NOT RECOMMENDED.
pub const DEPRECATED_ALGORITHMS: [u8; 6] = [1, 3, 5, 6, 7, 12];

/// DS digest types RFC 8624 §3.3 says MUST NOT be used to make a DS:
/// NULL (0), SHA-1 (1) and GOST R 34.11-94 (3).
pub const DEPRECATED_DIGESTS: [u8; 3] = [0, 1, 3];

/// What the DNSSEC probes saw.
#[derive(Debug, Clone, Default)]
pub struct DnssecObservations {
    /// When the signatures are judged, in seconds since the epoch
    /// (compared in serial arithmetic, RFC 4034 §3.1.5).
    pub now: u32,
    /// What each parent server said about the zone's DS RRset. Empty when
    /// nothing was asked: no DNSSEC finding is drawn then.
    pub ds_views: Vec<(Server, DsView)>,
    /// What each serving address of the zone serves at the apex.
    pub key_views: Vec<(Server, KeyView)>,
}

/// The zone's DNSSEC state in one word, for the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DnssecStatus {
    /// A DS at the parent, and the zone's keys and signatures check out.
    Signed,
    /// No DS at the parent: validators treat the zone as insecure.
    Unsigned,
    /// A DS at the parent, but the chain breaks at the zone (DNSSEC
    /// errors): validating resolvers answer SERVFAIL.
    Broken,
    /// No parent server answered the DS question.
    #[default]
    Unknown,
}

impl std::fmt::Display for DnssecStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DnssecStatus::Signed => "signed",
            DnssecStatus::Unsigned => "unsigned",
            DnssecStatus::Broken => "broken",
            DnssecStatus::Unknown => "unknown",
        })
    }
}

/// Whether `code` is one of the DNSSEC findings whose error breaks
/// resolution for every validating resolver.
pub fn breaks_validation(code: Code) -> bool {
    matches!(
        code,
        Code::DsMismatch | Code::DnskeyNotSignedByDsKey | Code::RrsigExpired | Code::RrsigInvalid
    )
}

/// The zone's DNSSEC status given its `found` findings.
pub fn status(obs: &Observations, found: &[Finding]) -> DnssecStatus {
    match ds_set(&obs.dnssec) {
        None => DnssecStatus::Unknown,
        Some(ds) if ds.is_empty() => DnssecStatus::Unsigned,
        Some(_)
            if found
                .iter()
                .any(|f| f.severity == Severity::Error && breaks_validation(f.code)) =>
        {
            DnssecStatus::Broken
        }
        Some(_) => DnssecStatus::Signed,
    }
}

/// The DS set, one `tag/algorithm/digest type` each, for the report.
pub fn ds_summary(obs: &Observations) -> Vec<String> {
    ds_set(&obs.dnssec)
        .unwrap_or_default()
        .iter()
        .map(|(ds, _)| ds_text(ds))
        .collect()
}

/// The served DNSKEYs, one `tag/algorithm KSK|ZSK` each, for the report.
pub fn key_summary(obs: &Observations) -> Vec<String> {
    served_keys(&obs.dnssec)
        .iter()
        .map(|key| {
            let role = if key.secure_entry_point() {
                "KSK"
            } else {
                "ZSK"
            };
            format!(
                "{}/{} {role}",
                key_tag(key).unwrap_or_default(),
                u8::from(key.algorithm())
            )
        })
        .collect()
}

/// Every DNSSEC finding.
pub fn dnssec_findings(obs: &Observations, out: &mut Vec<Finding>) {
    let dnssec = &obs.dnssec;
    let Some(ds) = ds_set(dnssec) else {
        return;
    };
    if ds.is_empty() {
        out.push(unsigned(obs));
        return;
    }
    digest_findings(obs, &ds, out);
    algorithm_findings(obs, &ds, out);
    ds_mismatch(obs, &ds, out);
    signature_findings(obs, &ds, out);
    disagree_findings(dnssec, out);
    nsec3_findings(dnssec, out);
}

/// The DS RRset with the parent servers that publish each DS, or `None`
/// when no parent server answered.
fn ds_set(dnssec: &DnssecObservations) -> Option<Vec<(DS, Vec<ServerRef>)>> {
    let mut all: Vec<(DS, Vec<ServerRef>)> = Vec::new();
    let mut answered = false;
    for (server, view) in &dnssec.ds_views {
        let DsView::Answered { ds, .. } = view else {
            continue;
        };
        answered = true;
        for record in ds.iter().filter_map(as_ds) {
            match all.iter_mut().find(|(d, _)| d == record) {
                Some((_, who)) => who.push(ServerRef::from(server)),
                None => all.push((record.clone(), vec![ServerRef::from(server)])),
            }
        }
    }
    answered.then_some(all)
}

/// Every distinct DNSKEY any server of the zone serves.
fn served_keys(dnssec: &DnssecObservations) -> Vec<DNSKEY> {
    let mut keys: Vec<DNSKEY> = Vec::new();
    for (_, view) in &dnssec.key_views {
        for key in view.dnskeys.iter().filter_map(as_dnskey) {
            if !keys.contains(key) {
                keys.push(key.clone());
            }
        }
    }
    keys
}

fn ds_text(ds: &DS) -> String {
    format!(
        "{}/{}/{}",
        ds.key_tag(),
        u8::from(ds.algorithm()),
        u8::from(ds.digest_type())
    )
}

fn unsigned(obs: &Observations) -> Finding {
    let keys = served_keys(&obs.dnssec);
    let mut message = format!(
        "{} is not signed: {} has no DS for it, so resolvers cannot tell forged answers from true ones",
        obs.zone, obs.parent
    );
    if !keys.is_empty() {
        message.push_str(&format!(
            " (its servers publish {} DNSKEY(s): the DS was never registered)",
            keys.len()
        ));
    }
    finding(
        Severity::Notice,
        Code::Unsigned,
        message,
        Vec::new(),
        Some("RFC 4035 §5.2"),
    )
}

fn digest_findings(obs: &Observations, ds: &[(DS, Vec<ServerRef>)], out: &mut Vec<Finding>) {
    for (record, who) in ds {
        let digest = u8::from(record.digest_type());
        if DEPRECATED_DIGESTS.contains(&digest) {
            let name = if record.digest_type() == DigestType::SHA1 {
                "SHA-1".to_string()
            } else {
                format!("type {digest}")
            };
            out.push(finding(
                Severity::Warning,
                Code::DeprecatedDigest,
                format!(
                    "DS {} at {} uses digest {name}, which must no longer be used for DS records",
                    ds_text(record),
                    obs.parent
                ),
                who.clone(),
                Some("RFC 8624 §3.3"),
            ));
        }
    }
}

fn algorithm_findings(obs: &Observations, ds: &[(DS, Vec<ServerRef>)], out: &mut Vec<Finding>) {
    let mut used: BTreeMap<u8, BTreeSet<ServerRef>> = BTreeMap::new();
    for (record, who) in ds {
        used.entry(u8::from(record.algorithm()))
            .or_default()
            .extend(who.iter().cloned());
    }
    for (server, view) in &obs.dnssec.key_views {
        for key in view.dnskeys.iter().filter_map(as_dnskey) {
            used.entry(u8::from(key.algorithm()))
                .or_default()
                .insert(ServerRef::from(server));
        }
    }
    for (number, who) in used {
        if DEPRECATED_ALGORITHMS.contains(&number) {
            let name = hickory_proto::dnssec::Algorithm::from_u8(number);
            out.push(finding(
                Severity::Warning,
                Code::DeprecatedAlgorithm,
                format!(
                    "{} is signed with algorithm {number} ({name}), which RFC 8624 retires for signing; \
                     validators may stop supporting it and then treat the zone as unsigned",
                    obs.zone
                ),
                who.into_iter().collect(),
                Some("RFC 8624 §3.1"),
            ));
        }
    }
}

fn ds_mismatch(obs: &Observations, ds: &[(DS, Vec<ServerRef>)], out: &mut Vec<Finding>) {
    // Without a DNSKEY answer from any server, nothing can be matched.
    if !obs.dnssec.key_views.iter().any(|(_, v)| v.dnskey_answered) {
        return;
    }
    let keys = served_keys(&obs.dnssec);
    let judged: Vec<&(DS, Vec<ServerRef>)> = ds
        .iter()
        .filter(|(d, _)| d.digest_type().is_supported())
        .collect();
    let stale: Vec<&&(DS, Vec<ServerRef>)> = judged
        .iter()
        .filter(|(d, _)| !keys.iter().any(|k| ds_matches(&obs.zone, d, k)))
        .collect();
    if stale.is_empty() {
        return;
    }
    let all_stale = stale.len() == judged.len();
    let served = if keys.is_empty() {
        "none".to_string()
    } else {
        list(keys.iter().filter_map(key_tag))
    };
    let (severity, effect) = if all_stale {
        (
            Severity::Error,
            "no DS matches a key, so validating resolvers fail every answer from the zone (SERVFAIL)",
        )
    } else {
        (
            Severity::Warning,
            "another DS matches, so validation works, but remove this one unless it is a key rollover in progress",
        )
    };
    let servers: BTreeSet<ServerRef> = stale.iter().flat_map(|(_, who)| who.clone()).collect();
    out.push(finding(
        severity,
        Code::DsMismatch,
        format!(
            "DS {} at {} matches no DNSKEY served by {}'s servers (keys served: {served}); {effect}",
            list(stale.iter().map(|(d, _)| ds_text(d))),
            obs.parent,
            obs.zone
        ),
        servers.into_iter().collect(),
        Some("RFC 4035 §5.2"),
    ));
}

/// One RRSIG problem at one server, before grouping.
struct SigProblem {
    code: Code,
    severity: Severity,
    detail: String,
    server: ServerRef,
}

fn signature_findings(obs: &Observations, ds: &[(DS, Vec<ServerRef>)], out: &mut Vec<Finding>) {
    let zone = &obs.zone;
    let now = obs.dnssec.now;
    let ds_set: Vec<DS> = ds.iter().map(|(d, _)| d.clone()).collect();
    let mut problems: Vec<SigProblem> = Vec::new();
    for (server, view) in &obs.dnssec.key_views {
        let mut add = |code, severity, detail: String| {
            problems.push(SigProblem {
                code,
                severity,
                detail,
                server: ServerRef::from(server),
            })
        };
        let mut budget = SigBudget::default();
        if !view.dnskeys.is_empty() {
            let verdict = verify_dnskeys(
                zone,
                &ds_set,
                &[],
                &view.dnskeys,
                &view.dnskey_sigs,
                now,
                &mut budget,
            );
            match verdict {
                KeyVerdict::Secure(_) => {
                    if let Some(left) = expiring(&view.dnskey_sigs, zone, RecordType::DNSKEY, now) {
                        add(Code::RrsigExpiring, Severity::Warning, left);
                    }
                }
                KeyVerdict::Insecure | KeyVerdict::Bogus(BogusReason::DnskeyMissing { .. }) => {}
                KeyVerdict::Bogus(BogusReason::RrsigsMissing { problem }) => {
                    add(Code::DnskeyNotSignedByDsKey, Severity::Error, problem)
                }
                KeyVerdict::Bogus(reason) => {
                    let (code, detail) = sig_problem(zone, RecordType::DNSKEY, &reason, now);
                    add(code, Severity::Error, detail);
                }
            }
        }
        if view.soa.is_empty() || (view.dnskeys.is_empty() && view.soa_sigs.is_empty()) {
            continue;
        }
        let keys: Vec<DNSKEY> = view.dnskeys.iter().filter_map(as_dnskey).cloned().collect();
        let served = TrustedKeys::new(zone.clone(), keys, 0);
        match verify_rrset(&view.soa, &view.soa_sigs, &served, now, &mut budget) {
            Ok(_) => {
                if let Some(left) = expiring(&view.soa_sigs, zone, RecordType::SOA, now) {
                    add(Code::RrsigExpiring, Severity::Warning, left);
                }
            }
            Err(reason) => {
                let (code, detail) = sig_problem(zone, RecordType::SOA, &reason, now);
                add(code, Severity::Error, detail);
            }
        }
    }
    // One finding per kind: the details (which RRsets, which keys) and the
    // servers concerned are listed together.
    let mut grouped: BTreeMap<(Severity, Code), (BTreeSet<String>, BTreeSet<ServerRef>)> =
        BTreeMap::new();
    for p in problems {
        let entry = grouped.entry((p.severity, p.code)).or_default();
        entry.0.insert(p.detail);
        entry.1.insert(p.server);
    }
    for ((severity, code), (details, servers)) in grouped {
        let (lead, rfc) = match code {
            Code::DnskeyNotSignedByDsKey => (
                format!(
                    "the DNSKEY set of {zone} is not signed by a key a DS at {} names, so validators cannot trust any key of the zone",
                    obs.parent
                ),
                "RFC 4035 §5.2",
            ),
            Code::RrsigExpired => (
                "signatures have expired; validating resolvers reject the data (SERVFAIL)"
                    .to_string(),
                "RFC 4035 §5.3.1",
            ),
            Code::RrsigExpiring => (
                format!(
                    "signatures expire within {} days; once expired, validating resolvers fail",
                    RRSIG_EXPIRING_WARNING / 86_400
                ),
                "RFC 4035 §5.3.1",
            ),
            _ => (
                "signatures fail verification; validating resolvers reject the data (SERVFAIL)"
                    .to_string(),
                "RFC 4035 §5.3",
            ),
        };
        out.push(finding(
            severity,
            code,
            format!(
                "{lead}: {}",
                details.into_iter().collect::<Vec<_>>().join("; ")
            ),
            servers.into_iter().collect(),
            Some(rfc),
        ));
    }
}

/// The code and a server-independent sentence for an RRset of `rtype` at
/// `zone` that failed with `reason`.
fn sig_problem(zone: &Name, rtype: RecordType, reason: &BogusReason, now: u32) -> (Code, String) {
    match reason {
        BogusReason::SignatureExpired {
            key_tag,
            expiration,
            ..
        } => (
            Code::RrsigExpired,
            format!(
                "RRSIG over {zone} {rtype} by key {key_tag} expired {} ({} ago)",
                date(*expiration),
                days(now.wrapping_sub(*expiration))
            ),
        ),
        other => (Code::RrsigInvalid, format!("{zone} {rtype}: {other}")),
    }
}

/// When every RRSIG over `zone`/`rtype` in `sigs` that is valid now
/// expires within [`RRSIG_EXPIRING_WARNING`]: a sentence saying when.
fn expiring(sigs: &[Record], zone: &Name, rtype: RecordType, now: u32) -> Option<String> {
    let latest = sigs
        .iter()
        .filter_map(as_rrsig)
        .filter(|s| check_rrsig(s, zone, rtype, zone, now).is_ok())
        .map(|s| s.input().sig_expiration.get())
        .reduce(|a, b| if serial_before(a, b) { b } else { a })?;
    let left = latest.wrapping_sub(now);
    (left < RRSIG_EXPIRING_WARNING).then(|| {
        format!(
            "RRSIGs over {zone} {rtype} expire {} (in {})",
            date(latest),
            days(left)
        )
    })
}

/// A span of `seconds`, in days and hours.
fn days(seconds: u32) -> String {
    format!("{}d {}h", seconds / 86_400, seconds % 86_400 / 3_600)
}

fn disagree_findings(dnssec: &DnssecObservations, out: &mut Vec<Finding>) {
    let mut sets: BTreeMap<Vec<String>, Vec<&Server>> = BTreeMap::new();
    for (server, view) in &dnssec.key_views {
        if !view.dnskey_answered {
            continue;
        }
        let mut keys: Vec<String> = view
            .dnskeys
            .iter()
            .filter_map(as_dnskey)
            .map(|k| match key_tag(k) {
                Some(tag) => format!("{tag}/{}", u8::from(k.algorithm())),
                None => "?".to_string(),
            })
            .collect();
        // Two keys with one tag are told apart by their data.
        keys.extend(view.dnskeys.iter().map(|r| format!("={}", r.data)));
        keys.sort();
        sets.entry(keys).or_default().push(server);
    }
    if sets.len() < 2 {
        return;
    }
    let versions: Vec<String> = sets
        .iter()
        .map(|(keys, who)| {
            let tags: Vec<&String> = keys.iter().filter(|k| !k.starts_with('=')).collect();
            format!(
                "{} serve {}",
                list(who.iter()),
                if tags.is_empty() {
                    "no DNSKEY".to_string()
                } else {
                    list(tags)
                }
            )
        })
        .collect();
    out.push(finding(
        Severity::Warning,
        Code::DnskeyDisagree,
        format!(
            "the zone's servers serve different DNSKEY sets: {}; resolvers see a different chain of trust depending on the server",
            versions.join("; ")
        ),
        sets.values()
            .flatten()
            .map(|s| ServerRef::from(*s))
            .collect(),
        Some("RFC 6781 §4.1"),
    ));
}

fn nsec3_findings(dnssec: &DnssecObservations, out: &mut Vec<Finding>) {
    let mut params: BTreeMap<(u16, String), Vec<ServerRef>> = BTreeMap::new();
    for (server, view) in &dnssec.key_views {
        for record in &view.nsec3param {
            if let RData::DNSSEC(DNSSECRData::NSEC3PARAM(param)) = &record.data
                && (param.iterations() > 0 || !param.salt().is_empty())
            {
                let salt = data_encoding::HEXUPPER.encode(param.salt());
                params
                    .entry((param.iterations(), salt))
                    .or_default()
                    .push(ServerRef::from(server));
            }
        }
    }
    for ((iterations, salt), servers) in params {
        let salt = if salt.is_empty() {
            "no salt".to_string()
        } else {
            format!("salt {salt}")
        };
        out.push(finding(
            Severity::Notice,
            Code::Nsec3Iterations,
            format!(
                "NSEC3 uses {iterations} extra iteration(s) and {salt}: they cost every validator work and hide nothing; \
                 resolvers may treat high counts as insecure"
            ),
            servers,
            Some("RFC 9276 §3.1"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use hickory_proto::dnssec::rdata::NSEC3PARAM;
    use hickory_proto::dnssec::{Algorithm, Nsec3HashAlgorithm};
    use hickory_proto::rr::rdata::SOA;

    use super::*;
    use crate::check::chain::Chain;
    use crate::check::probe::{AddressMap, Delegation};
    use crate::validate::sig::tests::{NOW, TestKey, key, keyset, name, sign};

    fn server(host: &str, addr: &str) -> Server {
        Server {
            name: name(host),
            addr: addr.parse::<IpAddr>().unwrap(),
        }
    }

    fn ds_of(key: &TestKey, digest: DigestType) -> Record {
        let ds = DS::from_key(key.dnskey.public_key(), &name("ex.tld."), digest).unwrap();
        Record::from_rdata(name("ex.tld."), 3600, RData::DNSSEC(DNSSECRData::DS(ds)))
    }

    fn soa() -> Vec<Record> {
        let data = SOA::new(name("ns1.ex.tld."), name("host.ex.tld."), 1, 1, 1, 1, 60);
        vec![Record::from_rdata(name("ex.tld."), 3600, RData::SOA(data))]
    }

    /// ex.tld. signed by a KSK and a ZSK (P-256); the test signer makes
    /// signatures valid for 7 days, and they are made an hour before
    /// `NOW`.
    struct Signed {
        ksk: TestKey,
        zsk: TestKey,
    }

    impl Signed {
        fn new() -> Self {
            Self {
                ksk: key("ex.tld.", 257, Algorithm::ECDSAP256SHA256),
                zsk: key("ex.tld.", 256, Algorithm::ECDSAP256SHA256),
            }
        }

        fn view(&self, dnskey_signer: &TestKey) -> KeyView {
            let dnskeys = keyset("ex.tld.", &[&self.ksk, &self.zsk]);
            let dnskey_sigs = vec![sign(&dnskeys, dnskey_signer, NOW - 3600)];
            let soa = soa();
            let soa_sigs = vec![sign(&soa, &self.zsk, NOW - 3600)];
            KeyView {
                dnskeys,
                dnskey_sigs,
                soa,
                soa_sigs,
                dnskey_answered: true,
                ..KeyView::default()
            }
        }

        fn observations(&self, ds: Vec<Record>, views: Vec<KeyView>) -> Observations {
            let addrs = ["192.0.2.1", "198.51.100.2"];
            Observations {
                zone: name("ex.tld."),
                parent: name("tld."),
                parent_views: Vec::new(),
                delegation: Delegation::default(),
                child_views: Vec::new(),
                resolved: AddressMap::new(),
                chain: Chain::Reachable(vec![]),
                dnssec: DnssecObservations {
                    now: NOW,
                    ds_views: vec![(
                        server("ns.nic.tld.", "203.0.113.1"),
                        DsView::Answered {
                            ds,
                            rrsigs: Vec::new(),
                        },
                    )],
                    key_views: views
                        .into_iter()
                        .zip(addrs)
                        .map(|(v, a)| (server("ns1.ex.tld.", a), v))
                        .collect(),
                },
                edns: Vec::new(),
            }
        }
    }

    fn codes(obs: &Observations) -> Vec<(Severity, Code)> {
        let mut out = Vec::new();
        dnssec_findings(obs, &mut out);
        out.iter().map(|f| (f.severity, f.code)).collect()
    }

    #[test]
    fn a_week_is_the_expiry_warning() {
        assert_eq!(RRSIG_EXPIRING_WARNING, 604_800);
        assert_eq!(days(90_000), "1d 1h");
        assert_eq!(date(0), "1970-01-01 00:00 UTC");
    }

    #[test]
    fn signatures_of_a_week_are_expiring_and_the_chain_holds() {
        // The test signer makes signatures valid for 7 days: signed an
        // hour ago, they expire in 6 days 23 hours.
        let zone = Signed::new();
        let ds = vec![ds_of(&zone.ksk, DigestType::SHA256)];
        let obs = zone.observations(ds, vec![zone.view(&zone.ksk)]);
        assert_eq!(codes(&obs), [(Severity::Warning, Code::RrsigExpiring)]);
        let found = findings_of(&obs);
        assert!(
            found[0].message.contains("ex.tld. SOA") && found[0].message.contains("ex.tld. DNSKEY"),
            "{}",
            found[0].message
        );
        assert_eq!(status(&obs, &found), DnssecStatus::Signed);
    }

    fn findings_of(obs: &Observations) -> Vec<Finding> {
        let mut out = Vec::new();
        dnssec_findings(obs, &mut out);
        out
    }

    #[test]
    fn a_stale_ds_beside_a_good_one_is_a_warning_alone_an_error() {
        let zone = Signed::new();
        let gone = key("ex.tld.", 257, Algorithm::ECDSAP256SHA256);
        let both = vec![
            ds_of(&zone.ksk, DigestType::SHA256),
            ds_of(&gone, DigestType::SHA256),
        ];
        let obs = zone.observations(both, vec![zone.view(&zone.ksk)]);
        assert!(codes(&obs).contains(&(Severity::Warning, Code::DsMismatch)));
        let alone = vec![ds_of(&gone, DigestType::SHA256)];
        let obs = zone.observations(alone, vec![zone.view(&zone.ksk)]);
        let found = findings_of(&obs);
        assert_eq!(
            found
                .iter()
                .map(|f| (f.severity, f.code))
                .collect::<Vec<_>>(),
            [
                (Severity::Error, Code::DsMismatch),
                (Severity::Warning, Code::RrsigExpiring)
            ],
            "{found:?}"
        );
        assert_eq!(status(&obs, &found), DnssecStatus::Broken);
    }

    #[test]
    fn sha1_ds_zsk_signed_keys_and_servers_out_of_step() {
        let zone = Signed::new();
        let ds = vec![ds_of(&zone.ksk, DigestType::SHA1)];
        let mut other = zone.view(&zone.zsk);
        other.dnskeys.truncate(1);
        let obs = zone.observations(ds, vec![zone.view(&zone.zsk), other]);
        let found = codes(&obs);
        for expected in [
            (Severity::Error, Code::DnskeyNotSignedByDsKey),
            (Severity::Warning, Code::DeprecatedDigest),
            (Severity::Warning, Code::DnskeyDisagree),
        ] {
            assert!(found.contains(&expected), "{expected:?} in {found:?}");
        }
        assert!(!found.iter().any(|(_, c)| *c == Code::DeprecatedAlgorithm));

        // A DS of algorithm 5 (RSASHA1) beside the good one.
        let rsasha1 = DS::new(1, Algorithm::from_u8(5), DigestType::SHA256, vec![0; 32]);
        let ds = vec![
            ds_of(&zone.ksk, DigestType::SHA256),
            Record::from_rdata(
                name("ex.tld."),
                3600,
                RData::DNSSEC(DNSSECRData::DS(rsasha1)),
            ),
        ];
        let obs = zone.observations(ds, vec![zone.view(&zone.ksk)]);
        let found = findings_of(&obs);
        let old = found
            .iter()
            .find(|f| f.code == Code::DeprecatedAlgorithm)
            .unwrap();
        assert_eq!(old.severity, Severity::Warning);
        assert!(
            old.message.contains("algorithm 5 (RSASHA1)"),
            "{}",
            old.message
        );
        assert_eq!(old.rfc.as_deref(), Some("RFC 8624 §3.1"));
    }

    #[test]
    fn nsec3_parameters_and_a_zone_without_ds() {
        let zone = Signed::new();
        let ds = vec![ds_of(&zone.ksk, DigestType::SHA256)];
        let mut view = zone.view(&zone.ksk);
        let param = |iterations, salt: &[u8]| {
            let data = NSEC3PARAM::new(Nsec3HashAlgorithm::SHA1, false, iterations, salt.to_vec());
            vec![Record::from_rdata(
                name("ex.tld."),
                0,
                RData::DNSSEC(DNSSECRData::NSEC3PARAM(data)),
            )]
        };
        view.nsec3param = param(0, &[]);
        let obs = zone.observations(ds.clone(), vec![view.clone()]);
        assert!(!codes(&obs).iter().any(|(_, c)| *c == Code::Nsec3Iterations));
        view.nsec3param = param(10, &[0xab, 0xcd]);
        let obs = zone.observations(ds, vec![view.clone()]);
        let found = findings_of(&obs);
        let notice = found
            .iter()
            .find(|f| f.code == Code::Nsec3Iterations)
            .unwrap();
        assert_eq!(notice.severity, Severity::Notice);
        assert!(notice.message.contains("10 extra") && notice.message.contains("ABCD"));

        // No DS: one notice, nothing else judged.
        let obs = zone.observations(Vec::new(), vec![view]);
        let found = findings_of(&obs);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].severity, found[0].code),
            (Severity::Notice, Code::Unsigned)
        );
        assert!(found[0].message.contains("the DS was never registered"));
        assert_eq!(status(&obs, &found), DnssecStatus::Unsigned);

        // Nothing asked: nothing said.
        let mut obs = obs;
        obs.dnssec.ds_views.clear();
        assert_eq!(codes(&obs), []);
        assert_eq!(status(&obs, &[]), DnssecStatus::Unknown);
    }
}
