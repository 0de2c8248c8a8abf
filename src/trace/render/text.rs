//! The trace as text, for people who know `dig +trace`: per hop the records
//! that matter (the referral's NS set and the glue used, or the answer),
//! then `;; Received N bytes from ADDR#PORT(NAME) in T ms` and where the
//! server's address came from, with warnings; side resolutions indented
//! under the hop that needed them; a summary with the critical path last.
//!
//! When the resolver validated, each hop says what DNSSEC concluded there,
//! in the spirit of `delv +vtrace`: at a referral the child's DS and the
//! RRSIG that proved it (`;; DNSSEC: a.tld1.: DS 12345/13/2 -> DNSKEY to
//! fetch (DS set: RRSIG by key ...)`) or the NSEC proof that there is
//! none; at a DNSKEY fetch which DS matched which key, which key signed
//! the set and the other keys (`a.tld1.: secure (DS 12345/13/2 -> DNSKEY
//! 12345 KSK; DNSKEY set: RRSIG by key 12345 of a.tld1. alg 13, valid
//! 2026-11-20 to 2026-12-20; other keys: 4242 ZSK)`); at an answer its
//! RRSIGs or its denial proof. The first referral out of a signed zone
//! says once that its NS and glue are not signed (RFC 4035 §2.2), and the
//! summary gives the verdict.

use std::fmt::Write as _;

use super::{count, millis};
use crate::trace::tree::{
    AddressSource, DnssecStatus, Hop, HopResult, LameKind, PurposeKind, Resolution,
    ResolutionStatus, Trace,
};

/// Indentation added per level of side-resolution nesting.
const INDENT: &str = "    ";

/// Renders `trace` as text.
pub fn render(trace: &Trace) -> String {
    render_with(trace, false)
}

/// Renders `trace` as text; with `dnssec` (dig's `+dnssec`) the summary's
/// answer shows each RRset's RRSIGs and a negative answer its proof.
pub fn render_with(trace: &Trace, dnssec: bool) -> String {
    let mut out = String::new();
    let q = &trace.question;
    let _ = writeln!(out, "; <<>> rootwalk trace <<>> {} {}", q.name, q.qtype);
    let _ = writeln!(
        out,
        ";; (side resolutions are indented under the hop that needed them)"
    );
    out.push('\n');
    let ctx = Ctx {
        unsigned_referral_note: first_signed_referral(trace),
    };
    for resolution in &trace.resolutions {
        resolution_text(&mut out, &ctx, resolution, 0);
    }
    summary(&mut out, trace, dnssec);
    all_servers(&mut out, trace);
    out
}

/// The `--all-servers` survey: each cut's servers and replies, then the
/// disagreements and lame servers as warnings.
fn all_servers(out: &mut String, trace: &Trace) {
    if trace.all_servers.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n;; ALL SERVERS: each zone cut's question asked at every server address"
    );
    let mut warnings = Vec::new();
    for cut in &trace.all_servers {
        let _ = writeln!(out, ";; {} ({} {}):", cut.zone, cut.qname, cut.qtype);
        for s in &cut.servers {
            let _ = writeln!(out, ";;   {:<26} {:<16} {}", s.name, s.address, s.reply);
            if s.lame {
                warnings.push(format!(
                    "lame server {} ({}) for {}: {}",
                    s.name, s.address, cut.zone, s.reply
                ));
            }
        }
        if cut.disagreement {
            warnings.push(format!(
                "the servers of {} disagree about {} {}",
                cut.zone, cut.qname, cut.qtype
            ));
        }
    }
    if warnings.is_empty() {
        let _ = writeln!(out, ";; every server answered, and they agree");
    }
    for warning in warnings {
        let _ = writeln!(out, ";; WARNING: {warning}");
    }
}

/// What the rendering of one hop needs to know of the whole trace.
struct Ctx {
    /// The hop that says referral NS and glue are not signed: the first
    /// referral out of a signed zone.
    unsigned_referral_note: Option<u32>,
}

/// The first referral (in text order) whose hop has a secure zone or a DS
/// among its DNSSEC notes: the zone that sent it is signed.
fn first_signed_referral(trace: &Trace) -> Option<u32> {
    fn walk(r: &Resolution) -> Option<u32> {
        r.hops
            .iter()
            .find_map(|hop| {
                let signed = hop.referral.is_some()
                    && hop.dnssec.iter().any(|n| {
                        n.is_zone()
                            && matches!(n.status, DnssecStatus::Secure | DnssecStatus::Pending)
                    });
                if signed {
                    Some(hop.id)
                } else {
                    hop.side_resolutions.iter().find_map(walk)
                }
            })
            .or_else(|| r.side_resolutions.iter().find_map(walk))
    }
    trace.resolutions.iter().find_map(walk)
}

fn resolution_text(out: &mut String, ctx: &Ctx, r: &Resolution, depth: usize) {
    let pad = INDENT.repeat(depth);
    if r.purpose == PurposeKind::Target {
        let zone = r.for_zone.as_deref().unwrap_or("?");
        let _ = writeln!(
            out,
            "{pad};; >>> side resolution #{}: {} {} (address of a name server of {zone})",
            r.id, r.qname, r.qtype
        );
    }
    // Cache hits, and side resolutions started for a cached zone cut, go
    // before the first hop sent after them.
    let mut hits = r.cache_hits.iter().peekable();
    let mut sides = r.side_resolutions.iter().peekable();
    for hop in &r.hops {
        while let Some(hit) = hits.next_if(|h| h.at_us <= hop.sent_us) {
            let _ = writeln!(out, "{pad};; from cache: {}", hit.what);
        }
        while let Some(side) = sides.next_if(|s| s.start_us <= hop.sent_us) {
            resolution_text(out, ctx, side, depth + 1);
        }
        hop_text(out, ctx, r, hop, depth);
    }
    for hit in hits {
        let _ = writeln!(out, "{pad};; from cache: {}", hit.what);
    }
    for side in sides {
        resolution_text(out, ctx, side, depth + 1);
    }
    if r.purpose == PurposeKind::Target {
        let how = match r.status {
            ResolutionStatus::Completed => {
                let rcode = r.rcode.as_deref().unwrap_or("?");
                let took = r.elapsed_us.map(millis).unwrap_or_default();
                let addrs: Vec<&str> = r
                    .hops
                    .iter()
                    .flat_map(|h| &h.answer)
                    .filter(|rec| rec.rtype == "A" || rec.rtype == "AAAA")
                    .map(|rec| rec.data.as_str())
                    .collect();
                format!("{rcode} in {took}: {}", join_or(&addrs, "no address"))
            }
            ResolutionStatus::Failed => {
                format!("FAILED: {}", r.error.as_deref().unwrap_or("unknown error"))
            }
            ResolutionStatus::Abandoned => {
                "abandoned (another side resolution gave an address first)".to_string()
            }
        };
        let _ = writeln!(out, "{pad};; <<< side resolution #{}: {how}", r.id);
        out.push('\n');
    } else if r.status == ResolutionStatus::Failed {
        let error = r.error.as_deref().unwrap_or("unknown error");
        let _ = writeln!(out, "{pad};; resolution FAILED: {error}\n");
    }
}

fn hop_text(out: &mut String, ctx: &Ctx, r: &Resolution, hop: &Hop, depth: usize) {
    let pad = INDENT.repeat(depth);
    let line = |out: &mut String, text: &str| {
        let _ = writeln!(out, "{pad}{text}");
    };
    if let Some(referral) = &hop.referral {
        for record in &referral.records {
            let glue = if record.rtype == "NS" { "" } else { "\t; glue" };
            line(out, &format!("{}{glue}", record.dig_line()));
        }
    }
    for record in hop.answer.iter().chain(&hop.authority) {
        line(out, &record.dig_line());
    }
    let server = format!("{}#{}({})", hop.address, hop.port, hop.server_name);
    match &hop.response {
        Some(resp) => {
            if resp.tcp_fallback {
                line(out, ";; Truncated, retrying in TCP mode.");
            }
            let mut note = format!("{} {}", resp.transport.to_uppercase(), resp.rcode);
            for flag in &resp.flags {
                let _ = write!(note, " {flag}");
            }
            line(
                out,
                &format!(
                    ";; Received {} bytes from {server} in {} [hop {}, {} {} asked as zone {}, {note}]",
                    resp.bytes,
                    millis(resp.rtt_us),
                    hop.id,
                    hop.qname,
                    hop.qtype,
                    hop.zone
                ),
            );
            if resp.ignored_replies > 0 {
                line(
                    out,
                    &format!(
                        ";; WARNING: ignored {} that did not match the query (spoofing?)",
                        count(resp.ignored_replies, "reply", "replies")
                    ),
                );
            }
        }
        None => {
            let why = match hop.result {
                HopResult::Timeout => "timed out",
                HopResult::Error => "communications error",
                _ => "no reply recorded (abandoned)",
            };
            let detail = hop.error.as_deref().unwrap_or("");
            line(
                out,
                &format!(
                    ";; WARNING: {why} talking to {server} [hop {}, zone {}]: {detail}",
                    hop.id, hop.zone
                ),
            );
        }
    }
    line(out, &format!(";; Server address {}", origin(hop)));
    warnings(out, hop, &pad);
    if let Some(cname) = r
        .cnames
        .iter()
        .find(|c| hop.result == HopResult::Answer && c.from.eq_ignore_ascii_case(&hop.qname))
    {
        line(out, &format!(";; CNAME: restarting at {}", cname.to));
    }
    if let Some(referral) = &hop.referral {
        let glueless: Vec<&str> = referral
            .servers
            .iter()
            .filter(|s| s.glue.is_empty())
            .map(|s| s.name.as_str())
            .collect();
        if !glueless.is_empty() {
            line(
                out,
                &format!(
                    ";; No glue for {} (the walk resolves them only if no other address is left)",
                    glueless.join(", ")
                ),
            );
        }
    }
    dnssec_lines(out, ctx, hop, &pad);
    out.push('\n');
    for side in &hop.side_resolutions {
        resolution_text(out, ctx, side, depth + 1);
    }
}

/// The hop's DNSSEC lines: the DNSKEY RRset it fetched, once in the trace
/// that referral NS and glue are not signed, then each note.
fn dnssec_lines(out: &mut String, ctx: &Ctx, hop: &Hop, pad: &str) {
    let fetched_keys = hop.qtype == "DNSKEY"
        && hop.qname.eq_ignore_ascii_case(&hop.zone)
        && hop.response.is_some()
        && hop.referral.is_none()
        && hop.answer.is_empty();
    if fetched_keys {
        let _ = writeln!(
            out,
            "{pad};; DNSSEC: fetched the DNSKEY RRset of {} for the chain of trust",
            hop.zone
        );
    }
    if let Some(referral) = hop
        .referral
        .as_ref()
        .filter(|_| ctx.unsigned_referral_note == Some(hop.id))
    {
        // What the signed part of the referral says of the child.
        let child = hop
            .dnssec
            .iter()
            .find(|n| n.subject.eq_ignore_ascii_case(&referral.zone))
            .map(|n| n.status);
        let then = match child {
            Some(DnssecStatus::Pending | DnssecStatus::Secure) => {
                format!("; trust reaches {} through its DS", referral.zone)
            }
            Some(DnssecStatus::Insecure) => {
                format!(
                    "; the signed proof that {} has no DS is what counts",
                    referral.zone
                )
            }
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "{pad};; DNSSEC: the NS and glue of a referral are never signed (RFC 4035 §2.2){then}"
        );
    }
    for note in &hop.dnssec {
        let _ = writeln!(out, "{pad};; DNSSEC: {}", note.text);
    }
}

/// The summary's verdict line, when the resolver validated.
fn dnssec_summary(out: &mut String, trace: &Trace) {
    let Some(verdict) = &trace.outcome.dnssec else {
        return;
    };
    let line = match verdict.as_str() {
        "secure" => "secure (validated from the trust anchor)".to_string(),
        "insecure" => match first_insecure_zone(trace) {
            Some(zone) => {
                format!("insecure ({zone} has no DS at its cut: unsigned, not validated)")
            }
            None => "insecure (an unsigned zone on the way: not validated)".to_string(),
        },
        "indeterminate" => {
            "indeterminate (no trust anchor covers the name, or validation could not conclude)"
                .to_string()
        }
        other => match other.strip_prefix("bogus: ") {
            Some(reason) => format!("bogus ({reason})"),
            None => other.to_string(),
        },
    };
    let _ = writeln!(out, ";; DNSSEC: {line}");
}

/// The first zone (in tree order) a note calls insecure.
fn first_insecure_zone(trace: &Trace) -> Option<&str> {
    fn walk(r: &Resolution) -> Option<&str> {
        r.hops.iter().find_map(|hop| {
            hop.dnssec
                .iter()
                .find(|n| n.is_zone() && n.status == DnssecStatus::Insecure)
                .map(|n| n.subject.as_str())
                .or_else(|| hop.side_resolutions.iter().find_map(walk))
        })
    }
    trace.resolutions.iter().find_map(walk)
}

/// Where the server's address came from, as a phrase.
fn origin(hop: &Hop) -> String {
    match hop.address_source {
        AddressSource::Hints => "from the root hints".to_string(),
        AddressSource::Glue => "from glue in the referral".to_string(),
        AddressSource::Cache => "from the cache".to_string(),
        AddressSource::SideResolution => match hop.address_resolution {
            Some(id) => format!("from side resolution #{id} of {}", hop.server_name),
            None => format!("from a side resolution of {}", hop.server_name),
        },
    }
}

fn warnings(out: &mut String, hop: &Hop, pad: &str) {
    if let Some(lame) = &hop.lame {
        let what = match lame.kind {
            LameKind::UpwardReferral => "bad (upward) referral",
            LameKind::SidewaysReferral => "bad (sideways) referral",
            LameKind::Other => "lame server",
        };
        let _ = writeln!(
            out,
            "{pad};; WARNING: {what} from {} for zone {}: {}; trying another server",
            hop.server_name, hop.zone, lame.reason
        );
    }
    if !hop.dropped.is_empty() {
        let _ = writeln!(
            out,
            "{pad};; WARNING: dropped {} the server may not speak for:",
            count(hop.dropped.len() as u64, "record", "records")
        );
        for d in &hop.dropped {
            let _ = writeln!(out, "{pad};;     {}\t; {}", d.record, d.reason);
        }
    }
    for s in &hop.skipped {
        let _ = writeln!(
            out,
            "{pad};; WARNING: skipped {} (server of {}): {}",
            s.name, s.zone, s.reason
        );
    }
}

fn summary(out: &mut String, trace: &Trace, dnssec: bool) {
    let s = &trace.summary;
    let o = &trace.outcome;
    let _ = writeln!(out, ";; SUMMARY");
    let cycle = trace
        .glueless_cycle()
        .map(|names| format!("; glueless cycle: {}", names.join(" -> ")))
        .unwrap_or_default();
    match &o.error {
        Some(error) => {
            let _ = writeln!(out, ";; Outcome: {} ({error}{cycle})", o.rcode);
        }
        None => {
            let _ = writeln!(
                out,
                ";; Outcome: {}, {}",
                o.rcode,
                count(o.answers.len() as u64, "answer record", "answer records")
            );
        }
    }
    let answer = super::answer::answer_section(o, dnssec);
    for record in answer
        .into_iter()
        .chain(super::answer::authority_section(o, dnssec))
    {
        let _ = writeln!(out, "{}", record.dig_line());
    }
    dnssec_summary(out, trace);
    let _ = writeln!(
        out,
        ";; {}, {}, {}, {}, {} received, {} wall time",
        count(s.hops, "hop", "hops"),
        count(s.upstream_queries, "upstream query", "upstream queries"),
        count(s.side_resolutions, "side resolution", "side resolutions"),
        count(s.timeouts, "timeout", "timeouts"),
        count(s.bytes, "byte", "bytes"),
        millis(s.wall_time_us)
    );
    let total: u64 = s.critical_path.iter().map(|p| p.duration_us).sum();
    let _ = writeln!(
        out,
        ";; Critical path: {}, {} on the wire",
        count(s.critical_path.len() as u64, "exchange", "exchanges"),
        millis(total)
    );
    for (n, step) in s.critical_path.iter().enumerate() {
        let _ = writeln!(
            out,
            ";;   {:>2}. {}{} {} ({}) {} [hop {}{}]",
            n + 1,
            "  ".repeat(step.depth as usize),
            step.zone,
            step.server_name,
            step.address,
            millis(step.duration_us),
            step.hop,
            if step.depth > 0 {
                format!(", side resolution #{}", step.resolution)
            } else {
                String::new()
            }
        );
    }
}

fn join_or(items: &[&str], empty: &str) -> String {
    if items.is_empty() {
        empty.to_string()
    } else {
        items.join(", ")
    }
}
