//! The trace as data: resolutions, their hops and the side resolutions
//! nested under them, plus a summary. Built by the recorder, read by the
//! renderers, and serialized as-is for `--format json` (the field names
//! here are the JSON schema, documented in `render/json.rs`).

use serde::{Deserialize, Serialize};

pub use super::dnssec::{DenialFact, DenialKind, DnssecFacts, DsFact, KeyFact, KeyRole, SigFact};

/// Version of the JSON schema; bumped when a field changes meaning or goes.
pub const SCHEMA_VERSION: u32 = 1;

/// One traced client question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    /// [`SCHEMA_VERSION`].
    pub schema: u32,
    /// What was asked.
    pub question: Question,
    /// How it ended, as the client sees it.
    pub outcome: Outcome,
    /// The client resolution first; then any resolution whose parent hop
    /// was not seen (none in a well-formed trace).
    pub resolutions: Vec<Resolution>,
    /// Counters and the critical path.
    pub summary: Summary,
    /// With `--all-servers`: the question of each zone cut of the trace
    /// (side resolutions included) put to every server of that cut (absent
    /// otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub all_servers: Vec<CutSurvey>,
}

/// One zone cut of the path, asked at every server address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CutSurvey {
    /// The zone.
    pub zone: String,
    /// The question the walk asked there.
    pub qname: String,
    /// Its type.
    #[serde(rename = "type")]
    pub qtype: String,
    /// Each server address and its reply.
    pub servers: Vec<SurveyReply>,
    /// Whether the servers that answered gave different replies.
    pub disagreement: bool,
}

/// One server address's reply to a surveyed question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyReply {
    /// The server's name.
    pub name: String,
    /// The address asked.
    pub address: String,
    /// The reply in one line: `referral to ZONE NS ... glue ...`,
    /// `answer ...`, `NODATA`, `NXDOMAIN`, or why the server is lame.
    pub reply: String,
    /// Whether the server is lame for the zone (no usable reply).
    pub lame: bool,
    /// Whether this host has no route to the address (not asked; an IPv6
    /// address on an IPv4-only host, say).
    #[serde(default)]
    pub unreachable: bool,
}

/// A question: name and type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// Fully qualified name, e.g. `www.a.tld1.`.
    pub name: String,
    /// Record type mnemonic, e.g. `A`.
    #[serde(rename = "type")]
    pub qtype: String,
}

/// How the client question ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// `NOERROR`, `NXDOMAIN`, or `SERVFAIL` when resolution failed.
    pub rcode: String,
    /// Why it failed (absent on success).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The CNAME chain and final RRset.
    pub answers: Vec<TraceRecord>,
    /// The SOA of a negative answer (NXDOMAIN or NODATA), as in dig's
    /// authority section.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authority: Vec<TraceRecord>,
    /// DNSSEC's verdict on the whole answer: `secure`, `insecure`,
    /// `bogus: REASON` or `indeterminate` (absent when the resolver did
    /// not validate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dnssec: Option<String>,
    /// The RRSIGs over the answer's RRsets, RRset by RRset, as the zones
    /// sent them (absent when the resolver did not validate, so did not
    /// ask for them, or the zones are unsigned).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signatures: Vec<TraceRecord>,
    /// What proves a negative answer: the SOA's RRSIGs, the NSEC or NSEC3
    /// records and their RRSIGs (absent as `signatures` is).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub proof: Vec<TraceRecord>,
}

/// One resource record, split into dig's columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceRecord {
    /// Owner name.
    pub name: String,
    /// TTL in seconds.
    pub ttl: u32,
    /// Class, e.g. `IN`.
    pub class: String,
    /// Type, e.g. `NS`.
    #[serde(rename = "type")]
    pub rtype: String,
    /// RDATA in presentation format.
    pub data: String,
}

/// Why a resolution ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PurposeKind {
    /// The client's question.
    Client,
    /// The address of a glueless name server.
    Target,
}

/// How a resolution ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResolutionStatus {
    /// Finished with an answer, NODATA or NXDOMAIN.
    Completed,
    /// Finished with an error (SERVFAIL).
    Failed,
    /// Never finished: a parallel side resolution dropped once another one
    /// gave an address, or cut off by the request timeout.
    Abandoned,
}

/// One resolution: the client's, or a side resolution of a name server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    /// Engine-assigned id, unique within the trace.
    pub id: u32,
    /// Why it ran.
    pub purpose: PurposeKind,
    /// For a side resolution: the zone whose server needed an address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_zone: Option<String>,
    /// The hop whose referral needed it (side resolutions only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_hop: Option<u32>,
    /// Name asked for.
    pub qname: String,
    /// Type asked for.
    pub qtype: String,
    /// How it ended.
    pub status: ResolutionStatus,
    /// Its RCODE, when it finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rcode: Option<String>,
    /// Why it failed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Start, in microseconds since the trace began.
    pub start_us: u64,
    /// Wall time in microseconds, when it finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed_us: Option<u64>,
    /// Data taken from the cache instead of the network.
    pub cache_hits: Vec<CacheHit>,
    /// CNAME links followed, in order.
    pub cnames: Vec<CnameLink>,
    /// Upstream exchanges, in the order they were sent.
    pub hops: Vec<Hop>,
    /// Side resolutions started for a zone cut this resolution found in
    /// the cache (so no hop of it asked for them), in start order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub side_resolutions: Vec<Resolution>,
}

/// Data found in the cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheHit {
    /// What, e.g. `www.a.tld1. A` or `zone cut tld1.`.
    pub what: String,
    /// When, in microseconds since the trace began.
    pub at_us: u64,
}

/// A CNAME that moved the resolution to a new name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CnameLink {
    /// The alias.
    pub from: String,
    /// Its target.
    pub to: String,
}

/// Where the address a query went to came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressSource {
    /// The root hints.
    Hints,
    /// Glue in the referral that named the server.
    Glue,
    /// The cache.
    Cache,
    /// A side resolution of the server's name.
    SideResolution,
}

/// What became of one exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HopResult {
    /// A referral the walk followed.
    Referral,
    /// An answer, CNAME, NODATA or NXDOMAIN.
    Answer,
    /// The server was lame (bad referral, error RCODE, not authoritative).
    Lame,
    /// No reply before the timeout.
    Timeout,
    /// Another transport failure (port closed, network error).
    Error,
    /// A reply came but was not classified, or nothing came back before
    /// the resolution was abandoned.
    Unknown,
}

/// One upstream exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hop {
    /// Engine-assigned id, unique within the trace.
    pub id: u32,
    /// The zone cut the server was asked as.
    pub zone: String,
    /// Question name.
    pub qname: String,
    /// Question type.
    pub qtype: String,
    /// The server's name.
    pub server_name: String,
    /// The server's address.
    pub address: String,
    /// The server's port.
    pub port: u16,
    /// Where the address came from.
    pub address_source: AddressSource,
    /// The side resolution that found the address, when
    /// `address_source` is `side_resolution`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_resolution: Option<u32>,
    /// When the query went out, in microseconds since the trace began.
    pub sent_us: u64,
    /// What became of it.
    pub result: HopResult,
    /// The reply, if one came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Response>,
    /// The transport error, if no usable reply came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Records the scrubber dropped, with reasons.
    pub dropped: Vec<DroppedRecord>,
    /// The referral followed, if the reply was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral: Option<Referral>,
    /// Why the server was lame, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lame: Option<Lame>,
    /// Answer records (CNAME chain and final RRset).
    pub answer: Vec<TraceRecord>,
    /// The SOA of the negative answer (NXDOMAIN or NODATA) that ended the
    /// client resolution, on the hop that got it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authority: Vec<TraceRecord>,
    /// Side resolutions this hop's referral needed, in start order.
    pub side_resolutions: Vec<Resolution>,
    /// Name servers of this hop's referral that were never tried, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<SkippedServer>,
    /// What DNSSEC validation concluded at this hop, in the order the
    /// engine said it: the asked zone's keys, the child zone's DS (or its
    /// absence) at a referral, the verdict on an answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dnssec: Vec<DnssecNote>,
}

/// One thing DNSSEC validation concluded at a hop.
///
/// The engine reports each conclusion as one line of text
/// (`Event::Dnssec`); [`DnssecNote::parse`] reads the subject and the
/// status from it once, so renderers colour and count by
/// [`DnssecStatus`] and never parse text themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnssecNote {
    /// What it is about: a zone (`a.tld1.`) or an RRset (`www.a.tld1. A`).
    pub subject: String,
    /// The state the note gives the subject.
    pub status: DnssecStatus,
    /// The engine's line, e.g. `a.tld1.: secure (DS 4242/13/2 -> DNSKEY
    /// 4242 KSK; ...)`.
    pub text: String,
    /// The same facts as data (see [`DnssecFacts`]): its fields sit beside
    /// `subject`, `status` and `text` in the JSON.
    #[serde(flatten)]
    pub facts: DnssecFacts,
}

/// The DNSSEC state of a zone or an RRset, as a note gives it (RFC 4035
/// §4.3 and the pending step between a DS and its DNSKEY).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DnssecStatus {
    /// Validated from the trust anchor.
    Secure,
    /// Provably unsigned (no DS at the cut, or an algorithm not supported).
    Insecure,
    /// Should be signed but does not validate.
    Bogus,
    /// The parent holds a DS for the zone; its DNSKEY is still to fetch.
    Pending,
    /// Anything else (not validated, no anchor covers it).
    Indeterminate,
}

impl DnssecNote {
    /// Reads a note from the engine's line `SUBJECT: STATUS ...`: the
    /// subject is what precedes the first `": "` (names in presentation
    /// format hold no space, so that cannot cut a name), the status the
    /// first word after it: `secure`, `insecure`, `bogus`, `indeterminate`,
    /// or `DS` (a DS found, DNSKEY to fetch: pending). Anything else is
    /// indeterminate, with the text kept whole.
    pub fn parse(text: &str) -> Self {
        let (subject, rest) = text.split_once(": ").unwrap_or(("", text));
        let word = rest
            .split(|c: char| !c.is_ascii_alphanumeric())
            .next()
            .unwrap_or("");
        let status = match word {
            "secure" => DnssecStatus::Secure,
            "insecure" => DnssecStatus::Insecure,
            "bogus" => DnssecStatus::Bogus,
            "DS" => DnssecStatus::Pending,
            _ => DnssecStatus::Indeterminate,
        };
        Self {
            subject: subject.to_string(),
            status,
            text: text.to_string(),
            facts: DnssecFacts::default(),
        }
    }

    /// Whether the note is about a zone (its keys or its DS) rather than
    /// an RRset (`NAME TYPE`).
    pub fn is_zone(&self) -> bool {
        !self.subject.is_empty() && !self.subject.contains(' ')
    }
}

impl DnssecStatus {
    /// The status as the notes and JSON spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            DnssecStatus::Secure => "secure",
            DnssecStatus::Insecure => "insecure",
            DnssecStatus::Bogus => "bogus",
            DnssecStatus::Pending => "pending",
            DnssecStatus::Indeterminate => "indeterminate",
        }
    }
}

/// A name server of a referral that was not tried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedServer {
    /// The server's name.
    pub name: String,
    /// The zone it serves.
    pub zone: String,
    /// Why it was skipped.
    pub reason: String,
}

/// A reply to one exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    /// RCODE mnemonic.
    pub rcode: String,
    /// Header flags set, lower case (`aa`, `tc` when TCP fallback happened).
    pub flags: Vec<String>,
    /// `udp` or `tcp`: the transport of the final reply.
    pub transport: String,
    /// Whether a truncated UDP reply was retried over TCP.
    pub tcp_fallback: bool,
    /// Reply size on the wire.
    pub bytes: u64,
    /// Round-trip time in microseconds.
    pub rtt_us: u64,
    /// Answer, authority and additional record counts.
    pub counts: SectionCounts,
    /// Non-matching replies ignored while waiting (spoofing attempts).
    pub ignored_replies: u32,
}

/// Records per section of a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionCounts {
    /// Answer section.
    pub answer: u64,
    /// Authority section.
    pub authority: u64,
    /// Additional section (without OPT).
    pub additional: u64,
}

/// A record the scrubber dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DroppedRecord {
    /// The record, presentation format.
    pub record: String,
    /// Why it was dropped.
    pub reason: String,
}

/// A referral the walk followed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    /// The delegated zone.
    pub zone: String,
    /// Its name servers and the glue that came with each.
    pub servers: Vec<ReferralServer>,
    /// The NS and glue records kept by the scrubber.
    pub records: Vec<TraceRecord>,
}

/// One name server of a referral.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralServer {
    /// NS name.
    pub name: String,
    /// Glue addresses (empty: glueless, needs a side resolution or cache).
    pub glue: Vec<String>,
}

/// Kinds of lameness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LameKind {
    /// A referral to the zone asked or one above it.
    UpwardReferral,
    /// A referral to a zone elsewhere in the tree.
    SidewaysReferral,
    /// Anything else: an error RCODE, no authority.
    Other,
}

/// Why a server was lame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lame {
    /// Kind.
    pub kind: LameKind,
    /// The engine's explanation.
    pub reason: String,
    /// For bad referrals: the zone referred to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referred_to: Option<String>,
}

/// Counters and the critical path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Upstream exchanges, side resolutions included.
    pub hops: u32,
    /// Upstream queries the engine counted against its budget.
    pub upstream_queries: u32,
    /// Side resolutions started.
    pub side_resolutions: u32,
    /// Exchanges that timed out.
    pub timeouts: u32,
    /// Reply bytes received.
    pub bytes: u64,
    /// Wall time of the whole question, in microseconds.
    pub wall_time_us: u64,
    /// The exchanges that set the total time, in order (see the recorder's
    /// module doc for the rule).
    pub critical_path: Vec<PathStep>,
}

/// One exchange on the critical path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathStep {
    /// The hop.
    pub hop: u32,
    /// The resolution it belongs to.
    pub resolution: u32,
    /// Nesting depth of that resolution (client: 0).
    pub depth: u32,
    /// Zone asked.
    pub zone: String,
    /// Server name.
    pub server_name: String,
    /// Server address.
    pub address: String,
    /// Round-trip time (or time until failure), in microseconds.
    pub duration_us: u64,
}

impl From<&hickory_proto::rr::Record> for TraceRecord {
    fn from(record: &hickory_proto::rr::Record) -> Self {
        use hickory_proto::dnssec::rdata::DNSSECRData;
        use hickory_proto::rr::RData;
        let data = match &record.data {
            RData::TXT(txt) => character_strings(&txt.txt_data),
            RData::DNSSEC(DNSSECRData::RRSIG(rrsig)) => rrsig_data(rrsig),
            other => other.to_string(),
        };
        Self {
            name: record.name.to_string(),
            ttl: record.ttl,
            class: record.dns_class.to_string(),
            rtype: record.record_type().to_string(),
            data,
        }
    }
}

/// An RRSIG's data in the presentation format of RFC 4034 §3.2, as dig
/// prints it: type covered, algorithm number, labels, original TTL,
/// expiration and inception as `YYYYMMDDHHmmSS`, key tag, signer, and the
/// signature in base64.
pub fn rrsig_data(rrsig: &hickory_proto::dnssec::rdata::RRSIG) -> String {
    use crate::validate::rrsig_time;
    let input = rrsig.input();
    format!(
        "{} {} {} {} {} {} {} {} {}",
        input.type_covered,
        u8::from(input.algorithm),
        input.num_labels,
        input.original_ttl,
        rrsig_time(input.sig_expiration.get()),
        rrsig_time(input.sig_inception.get()),
        input.key_tag,
        input.signer_name,
        data_encoding::BASE64.encode(rrsig.sig())
    )
}

/// Character-strings in presentation format, as dig prints a TXT record:
/// each quoted, separated by a space, `"` and `\` escaped with a
/// backslash and bytes outside printable ASCII as `\DDD` (RFC 1035 §5.1).
pub fn character_strings(strings: &[Box<[u8]>]) -> String {
    let mut out = String::new();
    for (i, bytes) in strings.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push('"');
        for &b in bytes.iter() {
            match b {
                b'"' | b'\\' => {
                    out.push('\\');
                    out.push(char::from(b));
                }
                0x20..=0x7e => out.push(char::from(b)),
                _ => out.push_str(&format!("\\{b:03}")),
            }
        }
        out.push('"');
    }
    out
}

impl Trace {
    /// The glueless cycle the walk ran into, if a side resolution failed
    /// on one: the zones and name servers in the order each needed the
    /// next, ending where it started (`x.tld2.`, `ns.y.tld3.`, `y.tld3.`,
    /// `ns.x.tld2.`, `x.tld2.`).
    pub fn glueless_cycle(&self) -> Option<Vec<String>> {
        fn walk(r: &Resolution, path: &mut Vec<(String, String)>) -> Option<Vec<String>> {
            let pushed = r.purpose == PurposeKind::Target;
            if pushed {
                let zone = r.for_zone.clone().unwrap_or_default();
                path.push((zone, r.qname.clone()));
            }
            if pushed && r.error.as_deref().is_some_and(|e| e.contains("cycle")) {
                let mut names: Vec<String> = Vec::new();
                // From the first time this name was needed.
                let start = path
                    .iter()
                    .position(|(_, ns)| ns.eq_ignore_ascii_case(&r.qname))
                    .unwrap_or(0);
                for (zone, ns) in &path[start..path.len() - 1] {
                    names.push(zone.clone());
                    names.push(ns.clone());
                }
                names.push(path[start].0.clone());
                return Some(names);
            }
            let nested = r
                .hops
                .iter()
                .flat_map(|h| &h.side_resolutions)
                .chain(&r.side_resolutions);
            for side in nested {
                if let Some(found) = walk(side, path) {
                    return Some(found);
                }
            }
            if pushed {
                path.pop();
            }
            None
        }
        self.resolutions
            .iter()
            .find_map(|r| walk(r, &mut Vec::new()))
    }
}

impl Trace {
    /// The DNSSEC state of each zone the notes speak of, lower-cased: the
    /// most definite one said (bogus over secure or insecure, those over
    /// pending, pending over indeterminate), side resolutions included.
    pub fn zone_security(&self) -> std::collections::HashMap<String, DnssecStatus> {
        fn rank(status: DnssecStatus) -> u8 {
            match status {
                DnssecStatus::Indeterminate => 0,
                DnssecStatus::Pending => 1,
                DnssecStatus::Secure | DnssecStatus::Insecure => 2,
                DnssecStatus::Bogus => 3,
            }
        }
        fn walk(r: &Resolution, out: &mut std::collections::HashMap<String, DnssecStatus>) {
            for hop in &r.hops {
                for note in hop.dnssec.iter().filter(|n| n.is_zone()) {
                    let entry = out
                        .entry(note.subject.to_ascii_lowercase())
                        .or_insert(note.status);
                    if rank(note.status) > rank(*entry) {
                        *entry = note.status;
                    }
                }
                hop.side_resolutions.iter().for_each(|s| walk(s, out));
            }
            r.side_resolutions.iter().for_each(|s| walk(s, out));
        }
        let mut out = std::collections::HashMap::new();
        self.resolutions.iter().for_each(|r| walk(r, &mut out));
        out
    }

    /// Whether any hop of the trace carries a DNSSEC note.
    pub fn has_dnssec_notes(&self) -> bool {
        fn walk(r: &Resolution) -> bool {
            r.hops
                .iter()
                .any(|h| !h.dnssec.is_empty() || h.side_resolutions.iter().any(walk))
                || r.side_resolutions.iter().any(walk)
        }
        self.resolutions.iter().any(walk)
    }
}

impl TraceRecord {
    /// Whether `other` belongs to the same RRset (owner, class, type).
    pub fn same_rrset(&self, other: &TraceRecord) -> bool {
        self.name.eq_ignore_ascii_case(&other.name)
            && self.class == other.class
            && self.rtype == other.rtype
    }

    /// Whether this is an RRSIG over the RRset of `record`: same owner,
    /// and the type covered (the first field of an RRSIG's presentation
    /// format, RFC 4034 §3.2) is its type.
    pub fn signs(&self, record: &TraceRecord) -> bool {
        self.rtype == "RRSIG"
            && self.name.eq_ignore_ascii_case(&record.name)
            && self.data.split_whitespace().next() == Some(record.rtype.as_str())
    }

    /// The record as dig prints it: owner, TTL, class, type, data,
    /// tab-separated.
    pub fn dig_line(&self) -> String {
        format!(
            "{}\t{}\t{}\t{}\t{}",
            self.name, self.ttl, self.class, self.rtype, self.data
        )
    }
}

/// The RCODE's mnemonic as dig prints it (RFC 6895 §2.3).
pub fn rcode_name(rcode: hickory_proto::op::ResponseCode) -> String {
    use hickory_proto::op::ResponseCode;
    match rcode {
        ResponseCode::NoError => "NOERROR".into(),
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::NXDomain => "NXDOMAIN".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        ResponseCode::Refused => "REFUSED".into(),
        other => format!("RCODE{}", u16::from(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::{DnssecNote, DnssecStatus};

    #[test]
    fn dnssec_notes_read_their_subject_and_status() {
        let cases = [
            (
                "a.tld1.: secure, DNSKEY 4242 31337 trusted",
                "a.tld1.",
                DnssecStatus::Secure,
                true,
            ),
            (
                "a.tld1.: DS 12345/13/2 -> DNSKEY to fetch",
                "a.tld1.",
                DnssecStatus::Pending,
                true,
            ),
            (
                "unsigned.tld1.: insecure (no DS at its cut: unsigned)",
                "unsigned.tld1.",
                DnssecStatus::Insecure,
                true,
            ),
            (
                "www.badsig.tld1. A: bogus (RRSIG by key 46777 is unusable: labels)",
                "www.badsig.tld1. A",
                DnssecStatus::Bogus,
                false,
            ),
            (
                "www.a.tld1. A: indeterminate",
                "www.a.tld1. A",
                DnssecStatus::Indeterminate,
                false,
            ),
            (
                ".: no trust anchor, not validated",
                ".",
                DnssecStatus::Indeterminate,
                true,
            ),
            ("something else", "", DnssecStatus::Indeterminate, false),
        ];
        for (text, subject, status, zone) in cases {
            let note = DnssecNote::parse(text);
            assert_eq!(note.subject, subject, "{text}");
            assert_eq!(note.status, status, "{text}");
            assert_eq!(note.is_zone(), zone, "{text}");
            assert_eq!(note.text, text);
        }
    }
}
