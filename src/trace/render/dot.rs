//! The trace as a Graphviz digraph of the delegation path: zones → name
//! servers → addresses, and from each address the exchange it answered
//! (referral to the next zone, the answer, or the failure) with its time.
//! Glue, side-resolution, hints and cache edges are styled apart. `svg`
//! pipes the graph through `dot -Tsvg`.
//!
//! When the resolver validated, DNSSEC is coloured as DNSViz users expect:
//! each zone box, the referral edge into it and the DNSKEY fetch from it
//! are green when the zone is secure, grey when insecure (unsigned), red
//! when bogus; the answer likewise by its verdict. The colours come from
//! the [`DnssecStatus`] of the hops' notes (parsed once, in the tree),
//! never from their text. Without validation the graph is as before.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::process::{Command, Stdio};

use super::{RenderError, millis};
use crate::trace::tree::{AddressSource, DnssecStatus, Hop, HopResult, Resolution, Trace};

/// Colour of what DNSSEC proved secure (DNSViz draws secure chains in a
/// saturated colour; green reads as "good" without a legend).
const SECURE: &str = "green4";
/// Colour of what is provably unsigned.
const INSECURE: &str = "gray40";
/// Colour of what should validate and does not.
const BOGUS: &str = "red";

/// The colour for `status`, if it has one (pending and indeterminate
/// keep the default).
fn dnssec_colour(status: DnssecStatus) -> Option<&'static str> {
    match status {
        DnssecStatus::Secure => Some(SECURE),
        DnssecStatus::Insecure => Some(INSECURE),
        DnssecStatus::Bogus => Some(BOGUS),
        DnssecStatus::Pending | DnssecStatus::Indeterminate => None,
    }
}

/// Renders `trace` as a DOT digraph.
pub fn render(trace: &Trace) -> String {
    let mut graph = Graph {
        zones: trace.zone_security(),
        ..Graph::default()
    };
    for resolution in &trace.resolutions {
        graph.resolution(resolution);
    }
    let mut out = String::new();
    let q = &trace.question;
    let _ = writeln!(out, "digraph trace {{");
    let _ = writeln!(
        out,
        "  label={};\n  labelloc=t;\n  rankdir=LR;\n  node [fontname=\"monospace\", fontsize=10];\n  edge [fontname=\"monospace\", fontsize=9];",
        quote(&format!("rootwalk trace {} {}", q.name, q.qtype))
    );
    for line in graph.nodes.iter().chain(&graph.edges) {
        let _ = writeln!(out, "  {line}");
    }
    out.push_str("}\n");
    out
}

/// Runs `dot -Tsvg` on `dot_text` and returns the SVG.
pub fn svg(dot_text: &str) -> Result<Vec<u8>, RenderError> {
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => RenderError::DotMissing,
            _ => RenderError::DotIo(e),
        })?;
    // dot reads all of its input before it writes, so writing first
    // cannot deadlock.
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(dot_text.as_bytes())
            .map_err(RenderError::DotIo)?;
    }
    let output = child.wait_with_output().map_err(RenderError::DotIo)?;
    if !output.status.success() {
        return Err(RenderError::DotFailed {
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(output.stdout)
}

/// Node and edge statements, each emitted once, in first-seen order.
#[derive(Default)]
struct Graph {
    nodes: Vec<String>,
    edges: Vec<String>,
    seen: HashSet<String>,
    /// Each zone's DNSSEC state, lower-cased names ([`Trace::zone_security`]).
    zones: HashMap<String, DnssecStatus>,
}

impl Graph {
    fn node(&mut self, id: &str, attrs: &str) {
        let line = format!("{} [{attrs}];", quote(id));
        if self.seen.insert(line.clone()) {
            self.nodes.push(line);
        }
    }

    fn edge(&mut self, from: &str, to: &str, attrs: &str) {
        let line = format!("{} -> {} [{attrs}];", quote(from), quote(to));
        if self.seen.insert(line.clone()) {
            self.edges.push(line);
        }
    }

    /// The zone's DNSSEC state, if a note gave one.
    fn zone_status(&self, zone: &str) -> Option<DnssecStatus> {
        self.zones.get(&zone.to_ascii_lowercase()).copied()
    }

    /// `, color=C, fontcolor=C` for the zone's state, or nothing.
    fn zone_colour(&self, zone: &str) -> String {
        self.zone_status(zone)
            .and_then(dnssec_colour)
            .map(|c| format!(", color={c}, fontcolor={c}"))
            .unwrap_or_default()
    }

    /// The box of `zone`, coloured by its DNSSEC state.
    fn zone_node(&mut self, zone: &str) {
        let status = self
            .zone_status(zone)
            .filter(|s| dnssec_colour(*s).is_some())
            .map(|s| format!("\n({})", s.as_str()))
            .unwrap_or_default();
        let attrs = format!(
            "shape=box, style=bold, label={}{}",
            quote(&format!("{zone}{status}")),
            self.zone_colour(zone)
        );
        self.node(&zone_id(zone), &attrs);
    }

    fn resolution(&mut self, r: &Resolution) {
        for hop in &r.hops {
            self.hop(r, hop);
            for side in &hop.side_resolutions {
                self.resolution(side);
            }
        }
    }

    fn hop(&mut self, r: &Resolution, hop: &Hop) {
        let zone = zone_id(&hop.zone);
        let ns = format!("ns {}", hop.server_name);
        let addr = format!("addr {}", hop.address);
        self.zone_node(&hop.zone);
        self.node(
            &ns,
            &format!("shape=ellipse, label={}", quote(&hop.server_name)),
        );
        self.node(&addr, &format!("shape=note, label={}", quote(&hop.address)));
        self.edge(&zone, &ns, "arrowhead=none");
        let source = match hop.address_source {
            AddressSource::Glue => "label=\"glue\", color=blue, fontcolor=blue".to_string(),
            AddressSource::Hints => "label=\"hints\", style=dotted".to_string(),
            AddressSource::Cache => "label=\"cache\", color=gray50, fontcolor=gray50".to_string(),
            AddressSource::SideResolution => {
                let label = match hop.address_resolution {
                    Some(id) => format!("side resolution #{id}"),
                    None => "side resolution".to_string(),
                };
                format!(
                    "label={}, style=dashed, color=red3, fontcolor=red3, penwidth=2",
                    quote(&label)
                )
            }
        };
        self.edge(&ns, &addr, &source);
        let took = hop
            .response
            .as_ref()
            .map(|resp| millis(resp.rtt_us))
            .unwrap_or_default();
        let label = |what: &str| quote(format!("hop {} {what} {took}", hop.id).trim());
        // The verdict on the hop's reply (the last RRset note), if any.
        let verdict = hop.dnssec.iter().rev().find(|n| !n.is_zone());
        let keys_fetched = hop.qtype == "DNSKEY"
            && hop.qname.eq_ignore_ascii_case(&hop.zone)
            && hop.response.is_some();
        match hop.result {
            HopResult::Referral => {
                if let Some(referral) = &hop.referral {
                    let child = zone_id(&referral.zone);
                    self.zone_node(&referral.zone);
                    let what = match self.zone_status(&referral.zone) {
                        Some(s) if dnssec_colour(s).is_some() => {
                            format!("referral ({})", s.as_str())
                        }
                        _ => "referral".to_string(),
                    };
                    let colour = self.zone_colour(&referral.zone);
                    self.edge(&addr, &child, &format!("label={}{colour}", label(&what)));
                }
            }
            HopResult::Unknown if keys_fetched && verdict.is_none() => {
                let keys = format!("dnskey {}", hop.zone);
                let colour = self.zone_colour(&hop.zone);
                self.node(
                    &keys,
                    &format!(
                        "shape=box, style=rounded, label={}{colour}",
                        quote(&format!("DNSKEY {}", hop.zone))
                    ),
                );
                self.edge(&addr, &keys, &format!("label={}{colour}", label("DNSKEY")));
            }
            HopResult::Unknown if verdict.is_some_and(|v| v.status == DnssecStatus::Bogus) => {
                // The reason only: the RRSIGs behind it are in the text
                // and JSON renderings.
                let text = verdict.map_or_else(
                    || "bogus".to_string(),
                    |v| match &v.facts.reason {
                        Some(reason) => format!("{}: bogus ({reason})", v.subject),
                        None => v.text.clone(),
                    },
                );
                let failed = format!("failed hop {}", hop.id);
                self.node(
                    &failed,
                    &format!("shape=octagon, color={BOGUS}, label={}", quote(&text)),
                );
                self.edge(
                    &addr,
                    &failed,
                    &format!("label={}, color={BOGUS}, fontcolor={BOGUS}", label("bogus")),
                );
            }
            HopResult::Answer => {
                let answer = format!("answer {} {} ({})", hop.qname, hop.qtype, r.id);
                let text: Vec<String> = hop
                    .answer
                    .iter()
                    .map(|rec| format!("{} {} {}", rec.name, rec.rtype, rec.data))
                    .collect();
                let text = if text.is_empty() {
                    match &hop.response {
                        Some(resp) => {
                            format!("{} {}: {} (no records)", hop.qname, hop.qtype, resp.rcode)
                        }
                        None => format!("{} {}", hop.qname, hop.qtype),
                    }
                } else {
                    text.join("\n")
                };
                // Without validation, answers keep their plain green.
                let (colour, text, what) = match verdict {
                    Some(v) => (
                        dnssec_colour(v.status).unwrap_or("black"),
                        format!("{text}\nDNSSEC: {}", v.status.as_str()),
                        format!("answer ({})", v.status.as_str()),
                    ),
                    None => ("darkgreen", text, "answer".to_string()),
                };
                self.node(
                    &answer,
                    &format!(
                        "shape=box, style=rounded, color={colour}, label={}",
                        quote(&text)
                    ),
                );
                self.edge(
                    &addr,
                    &answer,
                    &format!("label={}, color={colour}", label(&what)),
                );
            }
            HopResult::Lame | HopResult::Timeout | HopResult::Error | HopResult::Unknown => {
                let what = match hop.result {
                    HopResult::Lame => "lame",
                    HopResult::Timeout => "timeout",
                    HopResult::Error => "error",
                    _ => "no reply",
                };
                let failed = format!("failed hop {}", hop.id);
                self.node(
                    &failed,
                    &format!("shape=octagon, color=red, label={}", quote(what)),
                );
                self.edge(&addr, &failed, &format!("label={}, color=red", label(what)));
            }
        }
    }
}

fn zone_id(zone: &str) -> String {
    format!("zone {zone}")
}

/// A DOT double-quoted string: `"` and `\` escaped, newlines as `\n`.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quote_escapes() {
        assert_eq!(quote("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    }
}
