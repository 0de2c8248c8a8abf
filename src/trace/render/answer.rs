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
    section(&mut out, "ANSWER", &trace.outcome.answer_section(dnssec));
    section(
        &mut out,
        "AUTHORITY",
        &trace.outcome.authority_section(dnssec),
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
