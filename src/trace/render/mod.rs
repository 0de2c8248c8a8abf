//! Renders a [`Trace`](super::tree::Trace) for people and tools: text like
//! `dig +trace`, a JSON document, or a Graphviz graph (DOT, or SVG through
//! the `dot` program).

pub mod answer;
pub mod dot;
pub mod json;
pub mod text;

/// Why a trace could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// Serializing to JSON failed.
    #[error("cannot serialize the trace as JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// `--format svg` needs Graphviz's `dot` program.
    #[error(
        "`dot` (Graphviz) is not installed or not on PATH; install graphviz, \
         or use `--format dot` and render it elsewhere"
    )]
    DotMissing,
    /// Running `dot` failed.
    #[error("running `dot -Tsvg` failed: {0}")]
    DotIo(#[source] std::io::Error),
    /// `dot` ran but reported an error.
    #[error("`dot -Tsvg` exited with {status}: {stderr}")]
    DotFailed {
        /// Its exit status.
        status: String,
        /// What it printed on stderr.
        stderr: String,
    },
}

/// `n` and the noun in the right number: `1 error`, `2 errors`.
pub fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// dig's `+short`: the data of each answer record, one a line.
pub fn short(trace: &super::tree::Trace) -> String {
    short_with(trace, false)
}

/// dig's `+short`, with `dnssec` (`+short +dnssec`) each RRset's RRSIGs
/// after it.
pub fn short_with(trace: &super::tree::Trace, dnssec: bool) -> String {
    answer::answer_section(&trace.outcome, dnssec)
        .iter()
        .map(|r| format!("{}\n", r.data))
        .collect()
}

/// When a walk failed and no upstream server ever replied, why that
/// likely is; from the built-in Internet root hints (`custom_upstream`
/// false) with the advice to try the lab.
pub fn unreachable_hint(trace: &super::tree::Trace, custom_upstream: bool) -> Option<String> {
    use super::tree::Resolution;
    fn replied(r: &Resolution) -> bool {
        r.hops
            .iter()
            .any(|h| h.response.is_some() || h.side_resolutions.iter().any(replied))
    }
    if trace.outcome.error.is_none() || trace.summary.hops == 0 {
        return None;
    }
    if trace.resolutions.iter().any(replied) {
        return None;
    }
    let mut hint = format!(
        "no upstream server answered any of {}: nothing upstream is reachable from this host",
        count(trace.summary.hops, "query", "queries")
    );
    if !custom_upstream {
        hint.push_str(
            " (no Internet access?); try `--lab` to walk the built-in simulated hierarchy",
        );
    }
    Some(hint)
}

/// Formats microseconds as milliseconds the way dig does for real
/// networks (whole ms), with one decimal below 10 ms so loopback hops do
/// not all read "0 ms".
pub fn millis(us: u64) -> String {
    if us >= 10_000 {
        format!("{} ms", us / 1000)
    } else {
        format!("{:.1} ms", us as f64 / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::millis;

    #[test]
    fn millis_keeps_a_decimal_for_fast_hops() {
        assert_eq!(millis(240), "0.2 ms");
        assert_eq!(millis(9_960), "10.0 ms");
        assert_eq!(millis(12_345), "12 ms");
    }
}
