//! The bench reports as CSV (RFC 4180): a header line, then one row per
//! case or name (`--csv`) or one row per cold run (`--csv-runs`). Times are
//! milliseconds with three decimals.

use std::borrow::Cow;
use std::time::Duration;

use super::class::GlueClass;
use super::report::Report;
use super::survey::NamesReport;

/// One field, quoted when it holds a comma, a quote, a line break or
/// leading/trailing space; quotes inside are doubled (RFC 4180 §2).
pub fn field(text: &str) -> Cow<'_, str> {
    let needs_quotes =
        text.contains([',', '"', '\n', '\r']) || text.starts_with(' ') || text.ends_with(' ');
    if needs_quotes {
        Cow::Owned(format!("\"{}\"", text.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(text)
    }
}

fn push_row<S: AsRef<str>>(out: &mut String, fields: &[S]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&field(f.as_ref()));
    }
    // RFC 4180 ends records with CRLF; plain LF is what tools on the
    // command line expect and every CSV reader accepts.
    out.push('\n');
}

fn ms3(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

impl Report {
    /// One row per case.
    pub fn csv(&self) -> String {
        let mut out = String::new();
        push_row(
            &mut out,
            &[
                "case",
                "qname",
                "answered",
                "queries",
                "side_resolutions",
                "critical_path_rtts",
                "median_ms",
                "p95_ms",
                "min_ms",
                "bound_ms",
                "overhead_ms",
                "ratio",
                "warm_max_ms",
                "runs",
            ],
        );
        for c in &self.cases {
            push_row(
                &mut out,
                &[
                    c.label.clone(),
                    c.qname.clone(),
                    c.answered.to_string(),
                    c.upstream_queries.to_string(),
                    c.side_resolutions.to_string(),
                    c.critical_path_rtts.to_string(),
                    ms3(c.cold.median),
                    ms3(c.cold.p95),
                    ms3(c.cold.min),
                    ms3(c.bound),
                    ms3(c.cold.median.saturating_sub(c.bound)),
                    format!("{:.3}", c.ratio),
                    ms3(c.warm_max),
                    c.samples.len().to_string(),
                ],
            );
        }
        out
    }

    /// One row per cold run: `case,qname,run,cold_ms` (run counts from 1).
    pub fn csv_runs(&self) -> String {
        let mut out = String::new();
        push_row(&mut out, &["case", "qname", "run", "cold_ms"]);
        for c in &self.cases {
            for (i, sample) in c.samples.iter().enumerate() {
                push_row(
                    &mut out,
                    &[
                        c.label.clone(),
                        c.qname.clone(),
                        (i + 1).to_string(),
                        ms3(*sample),
                    ],
                );
            }
        }
        out
    }
}

fn class_text(class: Option<GlueClass>) -> &'static str {
    class.map_or("", GlueClass::as_str)
}

impl NamesReport {
    /// One row per name; `cuts` lists `zone=class` for each zone cut,
    /// space-separated; `class` and `bound_ms` are empty when unknown.
    pub fn csv(&self) -> String {
        let mut out = String::new();
        push_row(
            &mut out,
            &[
                "name",
                "type",
                "class",
                "cuts",
                "answered",
                "queries",
                "side_resolutions",
                "median_ms",
                "p95_ms",
                "min_ms",
                "bound_ms",
                "runs",
                "error",
            ],
        );
        for n in &self.names {
            let cuts: Vec<String> = n
                .cuts
                .iter()
                .map(|c| format!("{}={}", c.zone, c.class))
                .collect();
            push_row(
                &mut out,
                &[
                    n.name.clone(),
                    n.qtype.clone(),
                    class_text(n.class).to_string(),
                    cuts.join(" "),
                    n.answered.to_string(),
                    n.upstream_queries.to_string(),
                    n.side_resolutions.to_string(),
                    ms3(n.cold.median),
                    ms3(n.cold.p95),
                    ms3(n.cold.min),
                    n.bound_ms.map_or(String::new(), |b| format!("{b:.3}")),
                    n.samples.len().to_string(),
                    n.error.clone().unwrap_or_default(),
                ],
            );
        }
        out
    }

    /// One row per cold run: `name,type,class,run,cold_ms`.
    pub fn csv_runs(&self) -> String {
        let mut out = String::new();
        push_row(&mut out, &["name", "type", "class", "run", "cold_ms"]);
        for n in &self.names {
            for (i, sample) in n.samples.iter().enumerate() {
                push_row(
                    &mut out,
                    &[
                        n.name.clone(),
                        n.qtype.clone(),
                        class_text(n.class).to_string(),
                        (i + 1).to_string(),
                        ms3(*sample),
                    ],
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        assert_eq!(field("in-domain glue"), "in-domain glue");
        assert_eq!(field("glueless, NS cached"), "\"glueless, NS cached\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(field(" padded"), "\" padded\"");
        assert_eq!(field(""), "");
    }

    #[test]
    fn rows_join_quoted_fields() {
        let mut out = String::new();
        push_row(&mut out, &["a", "b,c", "d"]);
        assert_eq!(out, "a,\"b,c\",d\n");
    }
}
