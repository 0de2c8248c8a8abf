//! The trace as a Graphviz digraph of the delegation path: zones → name
//! servers → addresses, and from each address the exchange it answered
//! (referral to the next zone, the answer, or the failure) with its time.
//! Glue, side-resolution, hints and cache edges are styled apart. `svg`
//! pipes the graph through `dot -Tsvg`.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::process::{Command, Stdio};

use super::{RenderError, millis};
use crate::trace::tree::{AddressSource, Hop, HopResult, Resolution, Trace};

/// Renders `trace` as a DOT digraph.
pub fn render(trace: &Trace) -> String {
    let mut graph = Graph::default();
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
        self.node(
            &zone,
            &format!("shape=box, style=bold, label={}", quote(&hop.zone)),
        );
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
        match hop.result {
            HopResult::Referral => {
                if let Some(referral) = &hop.referral {
                    let child = zone_id(&referral.zone);
                    self.node(
                        &child,
                        &format!("shape=box, style=bold, label={}", quote(&referral.zone)),
                    );
                    self.edge(&addr, &child, &format!("label={}", label("referral")));
                }
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
                self.node(
                    &answer,
                    &format!(
                        "shape=box, style=rounded, color=darkgreen, label={}",
                        quote(&text)
                    ),
                );
                self.edge(
                    &addr,
                    &answer,
                    &format!("label={}, color=darkgreen", label("answer")),
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
