//! What a finding is: its severity, its kind ([`Code`]), the servers it is
//! about, and where the fix is made ([`FixAt`]): at the registrar (the
//! parent's copy: NS set, glue or "host records", DS), in the zone file
//! (the child's own NS and address records), or on the server itself.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::probe::Server;

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
    /// The parent publishes glue for an in-zone name that the zone itself
    /// has no address for: resolvers that ask the zone lose that server.
    GlueNotInZone,
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
    /// A DS at the parent matches no DNSKEY any server of the zone serves.
    DsMismatch,
    /// No DS-matched key signs the DNSKEY set (RFC 4035 §5.2).
    DnskeyNotSignedByDsKey,
    /// RRSIGs over the apex SOA or DNSKEY set have expired.
    RrsigExpired,
    /// RRSIGs over the apex SOA or DNSKEY set expire within
    /// [`super::dnssec::RRSIG_EXPIRING_WARNING`].
    RrsigExpiring,
    /// RRSIGs that fail verification (bad signature, unknown key, wrong
    /// signer, not yet valid, missing).
    RrsigInvalid,
    /// The zone's servers serve different DNSKEY sets.
    DnskeyDisagree,
    /// A DNSSEC algorithm RFC 8624 §3.1 retires for signing.
    DeprecatedAlgorithm,
    /// A DS digest type RFC 8624 §3.3 retires (SHA-1).
    DeprecatedDigest,
    /// NSEC3 with extra iterations or a salt (RFC 9276).
    Nsec3Iterations,
    /// No DS at the parent: the zone is not signed, or not validated.
    Unsigned,
    /// A server address answers a plain EDNS0 query without an OPT record
    /// (FORMERR, or no reply at all): resolvers must fall back to plain DNS.
    EdnsUnsupported,
    /// A server address does not answer an unknown EDNS version with
    /// BADVERS and an OPT of version 0 (RFC 6891 §6.1.3).
    EdnsVersion,
    /// A server address does not ignore an unknown EDNS option (RFC 6891
    /// §6.1.2).
    EdnsOption,
    /// The apex SOA's refresh, retry, expire or minimum is outside the
    /// ranges RFC 1912 §2.2 and RFC 2308 §5 recommend.
    SoaTimers,
}

/// Where a finding is fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FixAt {
    /// The parent's data, changed through the registrar: the NS set, glue
    /// ("host records", "child name servers"), DS.
    Registrar,
    /// The zone's own data: its apex NS records and the A/AAAA records of
    /// its name servers, and its DNSSEC keys and signatures (the signer).
    ZoneFile,
    /// A name server's configuration or operation.
    Server,
    /// Nothing is wrong with the zone: the checking host lacks a route.
    ThisHost,
}

impl fmt::Display for FixAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FixAt::Registrar => "registrar",
            FixAt::ZoneFile => "zone file",
            FixAt::Server => "server",
            FixAt::ThisHost => "this host",
        })
    }
}

/// Where each kind of finding is fixed, and how, in one sentence.
pub fn fix_for(code: Code) -> (FixAt, &'static str) {
    use Code::*;
    match code {
        ParentUnusable => (
            FixAt::Registrar,
            "the parent zone's servers fail for this delegation; tell the registrar (the registry runs them)",
        ),
        ParentDisagree => (
            FixAt::Registrar,
            "the parent's servers are out of step; re-submit the name servers at the registrar and ask it to check",
        ),
        MissingGlue => (
            FixAt::Registrar,
            "add glue: register the name server's address as a host record (\"child name server\") at the registrar",
        ),
        StaleGlue | StaleSiblingGlue => (
            FixAt::Registrar,
            "update the host record (glue) at the registrar to the address the zone gives",
        ),
        GlueNotInZone => (
            FixAt::ZoneFile,
            "add the name server's A/AAAA record to the zone file (or drop the name server and its host record at the registrar)",
        ),
        MissingSiblingGlue => (
            FixAt::Registrar,
            "register the sibling name server's address as a host record at the registrar",
        ),
        NsMismatch => (
            FixAt::Registrar,
            "make the NS set at the registrar and the zone file's NS records the same",
        ),
        ChildDisagree | SerialMismatch => (
            FixAt::Server,
            "the zone's servers are out of sync: fix zone transfers (NOTIFY, AXFR/IXFR) from the primary",
        ),
        Lame => (
            FixAt::Server,
            "configure the server to serve the zone, or remove it from the NS set (registrar and zone file)",
        ),
        NoTcp => (
            FixAt::Server,
            "allow DNS over TCP port 53 to the server (firewall, server configuration)",
        ),
        NoAddress => (
            FixAt::ZoneFile,
            "give the name server an A/AAAA record in the zone its name is in, or remove it from the NS set",
        ),
        GluelessChain | GluelessCycle => (
            FixAt::Registrar,
            "use name servers whose addresses come as glue (names inside the zone or its parent, with host records)",
        ),
        SingleAddress | SinglePrefix => (
            FixAt::Server,
            "run a name server on another network, then add it to the NS set (registrar and zone file)",
        ),
        Untested => (
            FixAt::ThisHost,
            "run the check from a host that can reach these addresses (IPv6)",
        ),
        DsMismatch => (
            FixAt::Registrar,
            "update the DS at the registrar to the zone's current key-signing key, or publish the key the DS names in the zone",
        ),
        DnskeyNotSignedByDsKey => (
            FixAt::ZoneFile,
            "have the signer sign the DNSKEY set with the key-signing key the DS at the registrar names",
        ),
        RrsigExpired | RrsigExpiring => (
            FixAt::ZoneFile,
            "re-sign the zone, and find out why the signer stopped refreshing signatures (its schedule, its access to the keys)",
        ),
        RrsigInvalid => (
            FixAt::ZoneFile,
            "re-sign the zone with the keys it publishes, and serve the signed zone unaltered",
        ),
        DnskeyDisagree => (
            FixAt::Server,
            "the zone's servers are out of sync: fix zone transfers so every server serves the same signed zone",
        ),
        DeprecatedAlgorithm => (
            FixAt::ZoneFile,
            "roll the keys to algorithm 13 (ECDSAP256SHA256) or 15 (Ed25519), then replace the DS at the registrar",
        ),
        DeprecatedDigest => (
            FixAt::Registrar,
            "replace the DS with one of digest type 2 (SHA-256) at the registrar",
        ),
        Nsec3Iterations => (
            FixAt::ZoneFile,
            "sign with NSEC3 iterations 0 and an empty salt (RFC 9276), or with NSEC",
        ),
        Unsigned => (
            FixAt::ZoneFile,
            "sign the zone (most DNS hosts do it on request), then publish its DS at the registrar",
        ),
        EdnsUnsupported | EdnsVersion | EdnsOption => (
            FixAt::Server,
            "upgrade the name server software (or the firewall or load balancer in front of it) to one that implements EDNS (RFC 6891); test with https://ednscomp.isc.org",
        ),
        SoaTimers => (
            FixAt::ZoneFile,
            "set the SOA timers in the zone file to the recommended ranges (refresh 1200-43200, retry below refresh, expire 2-4 weeks, minimum 300-86400), then raise the serial",
        ),
    }
}

/// A server a finding names: a host name, and the address when the
/// finding is about one address.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ServerRef {
    /// Host name.
    pub name: String,
    /// The address concerned (absent when the finding is about the name).
    pub address: Option<String>,
}

impl ServerRef {
    /// The name alone.
    pub fn named(name: impl fmt::Display) -> Self {
        Self {
            name: name.to_string(),
            address: None,
        }
    }
}

impl From<&Server> for ServerRef {
    fn from(server: &Server) -> Self {
        Self {
            name: server.name.to_string(),
            address: Some(server.addr.to_string()),
        }
    }
}

impl fmt::Display for ServerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.address {
            Some(addr) => write!(f, "{} ({addr})", self.name),
            None => f.write_str(&self.name),
        }
    }
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
    /// The servers concerned.
    pub servers: Vec<ServerRef>,
    /// The RFC and section it rests on, when one does.
    pub rfc: Option<String>,
    /// Where the fix is made.
    pub fix_at: FixAt,
    /// What to do there.
    pub fix: String,
    /// What this one cause leads to (lame addresses from stale glue, name
    /// servers without an address in a cycle), reported here instead of
    /// as findings of their own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consequences: Vec<String>,
}

impl Finding {
    /// A finding of `code`, its fix filled in.
    pub fn new(
        severity: Severity,
        code: Code,
        message: String,
        servers: Vec<ServerRef>,
        rfc: Option<&str>,
    ) -> Self {
        let (fix_at, fix) = fix_for(code);
        Self {
            severity,
            code,
            message,
            servers,
            rfc: rfc.map(str::to_string),
            fix_at,
            fix: fix.to_string(),
            consequences: Vec::new(),
        }
    }
}
