//! The answer of `rootwalk resolve` without the walk: dig's answer and
//! authority sections and a summary line, or the same as JSON with the
//! record, outcome and summary fields of the trace's JSON.

use std::fmt::Write as _;

use serde::Serialize;

use super::{RenderError, count};
use crate::trace::tree::{Outcome, Question, SCHEMA_VERSION, Trace, TraceRecord};

/// `rootwalk resolve --format json`: the trace's JSON without the hops.
#[derive(Debug, Serialize)]
pub struct AnswerDocument<'a> {
    /// The trace's schema version.
    pub schema: u32,
    /// What was asked.
    pub question: &'a Question,
    /// How it ended: RCODE, error, answers, authority.
    pub outcome: &'a Outcome,
    /// The trace's counters, without the critical path.
    pub summary: AnswerSummary,
}

/// The counters of the trace's `summary`.
#[derive(Debug, Serialize)]
pub struct AnswerSummary {
    /// Upstream exchanges, side resolutions included.
    pub hops: u32,
    /// Upstream queries counted against the budget.
    pub upstream_queries: u32,
    /// Side resolutions started.
    pub side_resolutions: u32,
    /// Exchanges that timed out.
    pub timeouts: u32,
    /// Reply bytes received.
    pub bytes: u64,
    /// Wall time, in microseconds.
    pub wall_time_us: u64,
}

/// The answer as dig prints it, then one summary line (ending with the
/// DNSSEC verdict, `secure`, `insecure`, `bogus` or `indeterminate`, when
/// the resolver validated).
pub fn text(trace: &Trace) -> String {
    text_with(trace, false)
}

/// [`text`]; with `dnssec` (dig's `+dnssec`) each answer RRset is followed
/// by its RRSIGs and a negative answer's SOA by its proof. A bogus answer
/// given anyway (`+cd`) ends its summary line with `bogus (REASON)`.
pub fn text_with(trace: &Trace, dnssec: bool) -> String {
    let mut out = String::new();
    section(&mut out, "ANSWER", &answer_section(&trace.outcome, dnssec));
    section(
        &mut out,
        "AUTHORITY",
        &authority_section(&trace.outcome, dnssec),
    );
    let s = &trace.summary;
    let status = match &trace.outcome.error {
        Some(error) => format!("{} ({error})", trace.outcome.rcode),
        None => trace.outcome.rcode.clone(),
    };
    // The verdict word: a bogus reason is already in the error, unless
    // the bogus answer was given anyway (checking disabled).
    let dnssec = match trace.outcome.dnssec.as_deref() {
        Some(verdict) => match verdict.strip_prefix("bogus: ") {
            Some(reason) if trace.outcome.error.is_none() => format!(", bogus ({reason})"),
            _ => format!(", {}", verdict.split(':').next().unwrap_or(verdict)),
        },
        None => String::new(),
    };
    let _ = writeln!(
        out,
        ";; {status}, {}, {}, {} ms{dnssec}",
        count(s.upstream_queries, "upstream query", "upstream queries"),
        count(s.side_resolutions, "side resolution", "side resolutions"),
        s.wall_time_us / 1000
    );
    out
}

/// The answer as one JSON document.
pub fn json(trace: &Trace) -> Result<String, RenderError> {
    let s = &trace.summary;
    let doc = AnswerDocument {
        schema: SCHEMA_VERSION,
        question: &trace.question,
        outcome: &trace.outcome,
        summary: AnswerSummary {
            hops: s.hops,
            upstream_queries: s.upstream_queries,
            side_resolutions: s.side_resolutions,
            timeouts: s.timeouts,
            bytes: s.bytes,
            wall_time_us: s.wall_time_us,
        },
    };
    let mut text = serde_json::to_string_pretty(&doc)?;
    text.push('\n');
    Ok(text)
}

/// The answer section as dig prints it: the answer records, and with
/// `dnssec` (dig's `+dnssec`) each RRset followed by its RRSIGs.
pub fn answer_section(outcome: &Outcome, dnssec: bool) -> Vec<&TraceRecord> {
    if !dnssec {
        return outcome.answers.iter().collect();
    }
    signed_in_order(
        outcome.answers.iter().collect(),
        outcome.signatures.iter().collect(),
    )
}

/// The authority section as dig prints it: the SOA of a negative answer,
/// and with `dnssec` its proof, each RRset followed by its RRSIGs (the
/// SOA's, then each NSEC or NSEC3 record's).
pub fn authority_section(outcome: &Outcome, dnssec: bool) -> Vec<&TraceRecord> {
    if !dnssec {
        return outcome.authority.iter().collect();
    }
    let (sigs, records): (Vec<&TraceRecord>, Vec<&TraceRecord>) = outcome
        .authority
        .iter()
        .chain(&outcome.proof)
        .partition(|r| r.rtype == "RRSIG");
    signed_in_order(records, sigs)
}

/// `records` in order, each RRset followed by the RRSIGs of `sigs` over
/// it; RRSIGs over nothing shown (none expected) last, not lost.
fn signed_in_order<'a>(
    records: Vec<&'a TraceRecord>,
    sigs: Vec<&'a TraceRecord>,
) -> Vec<&'a TraceRecord> {
    let mut used = vec![false; sigs.len()];
    let mut out = Vec::with_capacity(records.len() + sigs.len());
    for (i, record) in records.iter().enumerate() {
        out.push(*record);
        let set_ends = records
            .get(i + 1)
            .is_none_or(|next| !next.same_rrset(record));
        if !set_ends {
            continue;
        }
        for (sig, used) in sigs.iter().zip(used.iter_mut()) {
            if !*used && sig.signs(record) {
                *used = true;
                out.push(*sig);
            }
        }
    }
    out.extend(
        sigs.iter()
            .zip(&used)
            .filter(|(_, used)| !**used)
            .map(|(sig, _)| *sig),
    );
    out
}

/// A dig-style section: `;; NAME SECTION:` then one record a line.
pub fn section(out: &mut String, title: &str, records: &[&TraceRecord]) {
    if records.is_empty() {
        return;
    }
    let _ = writeln!(out, ";; {title} SECTION:");
    for record in records {
        let _ = writeln!(out, "{}", record.dig_line());
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(name: &str, rtype: &str, data: &str) -> TraceRecord {
        TraceRecord {
            name: name.into(),
            ttl: 300,
            class: "IN".into(),
            rtype: rtype.into(),
            data: data.into(),
        }
    }

    #[test]
    fn dnssec_sections_put_each_rrsig_after_its_rrset() {
        let outcome = Outcome {
            rcode: "NOERROR".into(),
            error: None,
            answers: vec![
                rec("a.x.", "CNAME", "b.x."),
                rec("b.x.", "A", "192.0.2.1"),
                rec("b.x.", "A", "192.0.2.2"),
            ],
            authority: vec![rec("x.", "SOA", "ns.x. h.x. 1 2 3 4 5")],
            dnssec: None,
            // As the zones sent them: not in the answer's order.
            signatures: vec![
                rec("b.x.", "RRSIG", "A 13 2 300 2 1 7 x. sig"),
                rec("a.x.", "RRSIG", "CNAME 13 2 300 2 1 7 x. sig"),
                rec("z.x.", "RRSIG", "TXT 13 2 300 2 1 7 x. stray"),
            ],
            proof: vec![
                rec("x.", "RRSIG", "SOA 13 1 300 2 1 7 x. sig"),
                rec("a.x.", "NSEC", "c.x. CNAME RRSIG NSEC"),
                rec("a.x.", "RRSIG", "NSEC 13 2 300 2 1 7 x. sig"),
            ],
        };
        let shown = |records: Vec<&TraceRecord>| -> Vec<String> {
            records
                .iter()
                .map(|r| format!("{} {}", r.name, r.data.split(' ').next().unwrap_or("")))
                .collect()
        };
        assert_eq!(
            shown(answer_section(&outcome, true)),
            [
                "a.x. b.x.",
                "a.x. CNAME",
                "b.x. 192.0.2.1",
                "b.x. 192.0.2.2",
                "b.x. A",
                "z.x. TXT"
            ]
        );
        assert_eq!(answer_section(&outcome, false).len(), 3);
        assert_eq!(
            shown(authority_section(&outcome, true)),
            ["x. ns.x.", "x. SOA", "a.x. c.x.", "a.x. NSEC"]
        );
        assert_eq!(authority_section(&outcome, false).len(), 1);
    }
}
