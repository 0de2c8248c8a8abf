//! The result of a check: what was asked, what each server said, the
//! findings. Serialised as the stable JSON of `--format json` (field names
//! documented in the README) and rendered as grouped text.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::dnssec::{self, DnssecStatus, breaks_validation};
use super::findings::{self, Code, Finding, Observations, Severity};
use super::probe::{ChildView, ParentView};

/// The whole check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The zone checked.
    pub zone: String,
    /// Its parent zone.
    pub parent: String,
    /// Each parent server address and whether it delegated.
    pub parent_servers: Vec<ParentServer>,
    /// The delegation as the first usable parent server published it.
    pub delegation: DelegationReport,
    /// Each address of each name server of the zone that was asked.
    pub servers: Vec<ServerReport>,
    /// Side resolutions a cold resolver needs before reaching the zone.
    pub glueless_chain: ChainReport,
    /// The DS at the parent and the keys the zone serves.
    #[serde(default)]
    pub dnssec: DnssecReport,
    /// What is wrong, errors first.
    pub findings: Vec<Finding>,
    /// Counts of findings by severity.
    pub summary: Summary,
    /// The zone's state in one word.
    pub verdict: Verdict,
}

/// The zone's state in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// No errors (warnings and notices may remain).
    Healthy,
    /// Some servers or some data fail, but every resolver still gets an
    /// answer from the servers that work.
    Degraded,
    /// It does not resolve for some resolvers: a parent server that does
    /// not delegate it, a glueless cycle, or a DNSSEC error (validating
    /// resolvers answer SERVFAIL).
    Broken,
    /// No server of the zone answers for it.
    Down,
}

impl Verdict {
    /// The verdict of what `obs` saw and the findings drawn from it.
    pub fn of(obs: &Observations, found: &[Finding]) -> Self {
        let serving = obs
            .child_views
            .iter()
            .any(|(_, v)| matches!(v, ChildView::Serving { .. }));
        let errors: Vec<&Finding> = found
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .collect();
        if !serving {
            Verdict::Down
        } else if errors.iter().any(|f| {
            matches!(f.code, Code::GluelessCycle | Code::ParentDisagree)
                || breaks_validation(f.code)
        }) {
            Verdict::Broken
        } else if !errors.is_empty() {
            Verdict::Degraded
        } else {
            Verdict::Healthy
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Healthy => "healthy",
            Verdict::Degraded => "degraded",
            Verdict::Broken => "broken",
            Verdict::Down => "down",
        })
    }
}

/// One parent server address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParentServer {
    /// Host name.
    pub name: String,
    /// Address asked.
    pub address: String,
    /// `delegation`, `not-delegated`, `nxdomain`, `unusable`, or
    /// `unreachable` (no route from this host: not checked).
    pub answer: String,
    /// Why the reply was unusable, when it was.
    pub problem: Option<String>,
}

/// The NS set and glue of the delegation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegationReport {
    /// NS names.
    pub ns: Vec<String>,
    /// Glue addresses by NS name (names without glue are absent).
    pub glue: BTreeMap<String, Vec<String>>,
}

/// One address of one name server of the zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerReport {
    /// Host name.
    pub name: String,
    /// Address asked.
    pub address: String,
    /// Where the address came from: `glue`, `zone` (the zone's own A/AAAA
    /// for an in-zone name) and/or `resolver`.
    pub sources: Vec<String>,
    /// The apex SOA serial, when the server answered authoritatively.
    pub serial: Option<u32>,
    /// Whether it answered the apex SOA over TCP too (absent when it was
    /// not serving at all).
    #[serde(default)]
    pub tcp: Option<bool>,
    /// Why the server is lame, when it is.
    pub lame: Option<String>,
    /// Why this host could not reach it (not checked), when it could not.
    #[serde(default)]
    pub unreachable: Option<String>,
}

/// The glueless chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainReport {
    /// What kind of chain.
    pub status: ChainStatus,
    /// Side resolutions in a row (0 when glue suffices; absent for a cycle
    /// or when unknown).
    pub depth: Option<usize>,
    /// The name servers resolved in turn, or the zones of a cycle.
    pub names: Vec<String>,
}

/// The zone's DNSSEC at a glance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnssecReport {
    /// `signed`, `unsigned`, `broken` (DNSSEC errors: validating resolvers
    /// fail) or `unknown` (no parent server answered the DS question).
    pub status: DnssecStatus,
    /// The DS RRset at the parent, as `key tag/algorithm/digest type`.
    pub ds: Vec<String>,
    /// The DNSKEYs the zone's servers serve, as `key tag/algorithm KSK`
    /// or `ZSK` (SEP bit set or not).
    pub dnskeys: Vec<String>,
}

/// Kinds of glueless chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChainStatus {
    /// Glue reaches a server at every cut.
    Glued,
    /// Side resolutions are needed.
    Glueless,
    /// The glueless delegations loop.
    Cycle,
    /// A cut on the way was never seen.
    Unknown,
}

/// Counts of findings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Errors.
    pub errors: usize,
    /// Warnings.
    pub warnings: usize,
    /// Notices.
    pub notices: usize,
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl Report {
    /// The report of `obs`, with its findings.
    pub fn new(obs: &Observations) -> Self {
        let found = findings::findings(obs);
        let verdict = Verdict::of(obs, &found);
        let count = |s: Severity| found.iter().filter(|f| f.severity == s).count();
        let summary = Summary {
            errors: count(Severity::Error),
            warnings: count(Severity::Warning),
            notices: count(Severity::Notice),
        };
        let parent_servers = obs
            .parent_views
            .iter()
            .map(|(server, view)| {
                let (answer, problem) = match view {
                    ParentView::Delegation(_) => ("delegation", None),
                    ParentView::NotDelegated => ("not-delegated", None),
                    ParentView::NxDomain => ("nxdomain", None),
                    ParentView::Unusable(problem) => ("unusable", Some(problem.clone())),
                    ParentView::Unreachable(why) => ("unreachable", Some(why.clone())),
                };
                ParentServer {
                    name: server.name.to_string(),
                    address: server.addr.to_string(),
                    answer: answer.to_string(),
                    problem,
                }
            })
            .collect();
        let delegation = DelegationReport {
            ns: obs.delegation.ns.iter().map(|n| n.to_string()).collect(),
            glue: obs
                .delegation
                .glue
                .iter()
                .map(|(n, addrs)| (n.to_string(), addrs.iter().map(|a| a.to_string()).collect()))
                .collect(),
        };
        let servers = obs
            .child_views
            .iter()
            .map(|(server, view)| {
                let mut sources = Vec::new();
                let has = |map: &super::probe::AddressMap| {
                    map.get(&server.name)
                        .is_some_and(|a| a.contains(&server.addr))
                };
                if has(&obs.delegation.glue) {
                    sources.push("glue".to_string());
                }
                if obs.zone.zone_of(&server.name)
                    && obs
                        .authoritative_addresses(&server.name)
                        .contains(&server.addr)
                {
                    sources.push("zone".to_string());
                }
                if has(&obs.resolved) {
                    sources.push("resolver".to_string());
                }
                let (serial, lame, unreachable) = match view {
                    ChildView::Serving { serial, .. } => (Some(*serial), None, None),
                    ChildView::Lame(problem) => (None, Some(problem.clone()), None),
                    ChildView::Unreachable(why) => (None, None, Some(why.clone())),
                };
                let tcp = match view {
                    ChildView::Serving { tcp_problem, .. } => Some(tcp_problem.is_none()),
                    _ => None,
                };
                ServerReport {
                    name: server.name.to_string(),
                    address: server.addr.to_string(),
                    sources,
                    serial,
                    tcp,
                    lame,
                    unreachable,
                }
            })
            .collect();
        Self {
            zone: obs.zone.to_string(),
            parent: obs.parent.to_string(),
            parent_servers,
            delegation,
            servers,
            glueless_chain: ChainReport::from(&obs.chain),
            dnssec: DnssecReport {
                status: dnssec::status(obs, &found),
                ds: dnssec::ds_summary(obs),
                dnskeys: dnssec::key_summary(obs),
            },
            findings: found,
            summary,
            verdict,
        }
    }

    /// The text form: findings grouped by severity, then what was asked,
    /// then a one-line summary.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "; rootwalk check {}: delegated from {} ({} asked)",
            self.zone,
            self.parent,
            count(
                self.parent_servers.len(),
                "parent server address",
                "parent server addresses"
            )
        );
        for (severity, title) in [
            (Severity::Error, "ERRORS"),
            (Severity::Warning, "WARNINGS"),
            (Severity::Notice, "NOTICES"),
        ] {
            let group: Vec<&Finding> = self
                .findings
                .iter()
                .filter(|f| f.severity == severity)
                .collect();
            if group.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n;; {title} ({})", group.len());
            for f in group {
                let code = serde_json::to_value(f.code)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                let rfc = f
                    .rfc
                    .as_deref()
                    .map(|r| format!(" [{r}]"))
                    .unwrap_or_default();
                let _ = writeln!(out, "  {code:<27} {}{rfc}", f.message);
                for consequence in &f.consequences {
                    let _ = writeln!(out, "  {:<27}   -> {consequence}", "");
                }
                let _ = writeln!(out, "  {:<27} fix at the {}: {}", "", f.fix_at, f.fix);
            }
        }
        let _ = writeln!(out, "\n;; DELEGATION at {}", self.parent);
        for ns in &self.delegation.ns {
            let glue = self.delegation.glue.get(ns).map_or_else(
                || "no glue".to_string(),
                |a| format!("glue {}", a.join(" ")),
            );
            let _ = writeln!(out, "  {}\tNS\t{ns}\t; {glue}", self.zone);
        }
        let _ = writeln!(out, "\n;; SERVERS of {}", self.zone);
        for s in &self.servers {
            let state = match (&s.lame, s.serial, &s.unreachable) {
                (Some(problem), _, _) => format!("LAME: {problem}"),
                (None, Some(serial), _) if s.tcp == Some(false) => {
                    format!("serial {serial}, NO TCP")
                }
                (None, Some(serial), _) => format!("serial {serial}, UDP+TCP"),
                (None, None, Some(why)) => format!("not checked: {why}"),
                (None, None, None) => String::new(),
            };
            let _ = writeln!(
                out,
                "  {:<28} {:<16} from {:<18} {state}",
                s.name,
                s.address,
                s.sources.join("+")
            );
        }
        let chain = &self.glueless_chain;
        let chain_text = match chain.status {
            ChainStatus::Glued => "none, glue reaches the servers".to_string(),
            ChainStatus::Glueless => format!(
                "{}: {}",
                count(
                    chain.depth.unwrap_or_default(),
                    "side resolution",
                    "side resolutions"
                ),
                chain.names.join(" -> ")
            ),
            ChainStatus::Cycle => format!("cycle through {}", chain.names.join(" -> ")),
            ChainStatus::Unknown => "unknown (a walk failed)".to_string(),
        };
        let _ = writeln!(out, "\n;; GLUELESS CHAIN: {chain_text}");
        let d = &self.dnssec;
        let keys = match (d.ds.is_empty(), d.dnskeys.is_empty()) {
            (true, true) => String::new(),
            (false, true) => format!(" (DS {}, no DNSKEY served)", d.ds.join(" ")),
            (true, false) => format!(" (no DS; DNSKEY {})", d.dnskeys.join(", ")),
            (false, false) => format!(
                " (DS {} -> DNSKEY {})",
                d.ds.join(" "),
                d.dnskeys.join(", ")
            ),
        };
        let _ = writeln!(out, ";; DNSSEC: {}{keys}", d.status);
        let s = self.summary;
        let _ = writeln!(
            out,
            ";; {}: {}: {}, {}, {}",
            self.zone,
            self.verdict,
            count(s.errors, "error", "errors"),
            count(s.warnings, "warning", "warnings"),
            count(s.notices, "notice", "notices")
        );
        out
    }
}
