//! The `--metrics` endpoint: the daemon's counters, what its caches hold,
//! and what the memo of verified signatures has spared, in the Prometheus
//! text exposition format (version 0.0.4) over a minimal HTTP/1.1 server.
//!
//! It answers `GET /metrics` (and `HEAD`) with one reply per connection and
//! then closes it; anything else gets 404, 405 or 400. A request head is
//! read up to [`MAX_METRICS_REQUEST`] bytes within [`METRICS_READ_TIMEOUT`]
//! and the reply written within [`METRICS_WRITE_TIMEOUT`]; at most
//! [`MAX_METRICS_CONNECTIONS`] connections are served at once, and a new
//! one past that closes the oldest, so slow or silent clients cannot keep
//! the scraper out. The listener stops with the daemon. There is no access
//! list: bind it to loopback or a management network.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::debug;

use super::counters::{CounterSnapshot, Counters, LATENCY_BUCKETS_US};
use super::limits::ServeLimits;
use crate::resolve::{CacheSizes, Resolver};
use crate::validate::memo::SigMemoStats;

/// Largest request (request line and headers) read; a scraper sends a few
/// hundred bytes, so more is not a scrape.
pub const MAX_METRICS_REQUEST: usize = 8 * 1024;

/// How long a client may take, from accept, to send its request head. A
/// scraper sends it at once; a slow or silent client must not hold a slot.
pub const METRICS_READ_TIMEOUT: Duration = Duration::from_secs(1);

/// How long writing the reply (a few KB) may take.
pub const METRICS_WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// Connections served at once; a scraper needs one. A new connection past
/// it closes the oldest (the one closest to its deadline anyway).
pub const MAX_METRICS_CONNECTIONS: usize = 8;

/// Pause after a failed accept (e.g. out of file descriptors).
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// Serves `counters` on `listener` until `shutdown` turns true; connections
/// still open then end within their deadlines (the caller bounds it).
pub async fn serve(
    listener: TcpListener,
    counters: Arc<Counters>,
    resolver: Resolver,
    limits: ServeLimits,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = limits.metrics_connections.max(1);
    let read_timeout = limits.metrics_read_timeout;
    let mut open = VecDeque::with_capacity(slots);
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            biased;
            _ = super::stopped(&mut shutdown) => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, client)) => {
                open.retain(|task: &tokio::task::AbortHandle| !task.is_finished());
                if open.len() >= slots
                    && let Some(oldest) = open.pop_front()
                {
                    debug!(%client, "metrics: {slots} connections open, closing the oldest");
                    oldest.abort();
                }
                let counters = Arc::clone(&counters);
                let resolver = resolver.clone();
                open.push_back(connections.spawn(async move {
                    answer(stream, &counters, &resolver, read_timeout).await;
                }));
            }
            Err(error) => {
                debug!("metrics: accept failed: {error}");
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
            }
        }
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

/// Reads one request head from `stream` within `read_timeout`, writes the
/// reply within [`METRICS_WRITE_TIMEOUT`], closes.
async fn answer(
    mut stream: TcpStream,
    counters: &Counters,
    resolver: &Resolver,
    read_timeout: Duration,
) {
    let head = tokio::time::timeout(read_timeout, read_head(&mut stream)).await;
    let reply = match head {
        Ok(Some(request)) => respond(&request, || {
            render(
                &counters.snapshot(),
                &resolver.cache_sizes(),
                resolver.sig_memo_stats(),
            )
        }),
        Ok(None) => status(400, "Bad Request", ""),
        Err(_) => {
            debug!("metrics: no request head within {read_timeout:?}");
            return;
        }
    };
    let written = tokio::time::timeout(METRICS_WRITE_TIMEOUT, async {
        if stream.write_all(&reply).await.is_ok() {
            let _ = stream.shutdown().await;
        }
    });
    if written.await.is_err() {
        debug!("metrics: reply not taken within {METRICS_WRITE_TIMEOUT:?}");
    }
}

/// The request head (through the blank line), or `None` when the client
/// closed first or sent more than [`MAX_METRICS_REQUEST`] bytes.
async fn read_head(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut request = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    loop {
        if request.windows(4).any(|w| w == b"\r\n\r\n") {
            return Some(request);
        }
        if request.len() >= MAX_METRICS_REQUEST {
            return None;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => request.extend_from_slice(&chunk[..n.min(MAX_METRICS_REQUEST)]),
        }
    }
}

/// The reply to the request head `request`; `body` renders the metrics
/// only when they are asked for.
fn respond(request: &[u8], body: impl FnOnce() -> String) -> Vec<u8> {
    let head = String::from_utf8_lossy(request);
    let mut words = head.lines().next().unwrap_or_default().split_whitespace();
    let (Some(method), Some(target), Some(version), None) =
        (words.next(), words.next(), words.next(), words.next())
    else {
        return status(400, "Bad Request", "");
    };
    if !version.starts_with("HTTP/1.") {
        return status(400, "Bad Request", "");
    }
    let path = target.split('?').next().unwrap_or_default();
    match (method, path) {
        ("GET" | "HEAD", "/metrics") => {
            let body = body();
            let mut reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            if method == "GET" {
                reply.extend_from_slice(body.as_bytes());
            }
            reply
        }
        ("GET" | "HEAD", _) => status(404, "Not Found", ""),
        _ => status(405, "Method Not Allowed", "Allow: GET, HEAD\r\n"),
    }
}

/// A reply with no body.
fn status(code: u16, reason: &str, headers: &str) -> Vec<u8> {
    format!("HTTP/1.1 {code} {reason}\r\n{headers}Content-Length: 0\r\nConnection: close\r\n\r\n")
        .into_bytes()
}

/// `snapshot`, the caches' `sizes` and the signature memo's `memo` (none
/// when not validating) in the Prometheus text format.
pub fn render(
    snapshot: &CounterSnapshot,
    sizes: &CacheSizes,
    memo: Option<SigMemoStats>,
) -> String {
    let s = snapshot;
    let mut out = String::with_capacity(4096);
    let mut counter = |name: &str, help: &str, value: u64| {
        let _ = write!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n"
        );
    };
    counter(
        "rootwalk_queries_total",
        "Messages received from clients (UDP datagrams and TCP frames).",
        s.received,
    );
    counter(
        "rootwalk_dropped_total",
        "Messages given no reply (unreadable, a response, over capacity).",
        s.dropped,
    );
    counter(
        "rootwalk_cache_hits_total",
        "Queries answered whole from the cache, without a resolution.",
        s.cache_hits,
    );
    counter(
        "rootwalk_stale_answers_total",
        "Queries answered with expired data (RFC 8767 serve-stale).",
        s.stale_answers,
    );
    counter(
        "rootwalk_prefetches_total",
        "Background refreshes of cached answers near their expiry.",
        s.prefetches,
    );
    counter(
        "rootwalk_resolutions_total",
        "Resolutions started for queries the cache could not answer.",
        s.resolutions,
    );
    counter(
        "rootwalk_upstream_queries_total",
        "Queries sent to authoritative servers, side resolutions included.",
        s.upstream_queries,
    );
    counter(
        "rootwalk_coalesced_total",
        "Queries answered by joining an identical resolution in flight.",
        s.coalesced,
    );
    counter(
        "rootwalk_truncated_total",
        "UDP replies truncated (TC=1) to fit the client's size.",
        s.truncated,
    );
    counter(
        "rootwalk_tcp_connections_total",
        "TCP connections accepted.",
        s.tcp_connections,
    );
    counter(
        "rootwalk_tcp_shed_total",
        "TCP connections closed to make room for new clients.",
        s.tcp_shed,
    );
    counter(
        "rootwalk_busy_total",
        "Queries turned away: no room for another resolution.",
        s.busy,
    );
    let name = "rootwalk_resolutions_in_flight";
    let _ = write!(
        out,
        "# HELP {name} Resolutions running now.\n# TYPE {name} gauge\n{name} {}\n",
        s.resolutions_in_flight
    );
    out.push_str("# HELP rootwalk_replies_total Replies sent, by response code.\n");
    out.push_str("# TYPE rootwalk_replies_total counter\n");
    for (rcode, value) in [
        ("NOERROR", s.noerror),
        ("NXDOMAIN", s.nxdomain),
        ("SERVFAIL", s.servfail),
        ("REFUSED", s.refused),
        ("FORMERR", s.formerr),
        ("NOTIMP", s.notimp),
        ("other", s.other_rcode),
    ] {
        let _ = writeln!(out, "rootwalk_replies_total{{rcode=\"{rcode}\"}} {value}");
    }
    let name = "rootwalk_reply_latency_seconds";
    let _ = write!(
        out,
        "# HELP {name} Time from a query's arrival to its reply, by bucket.\n\
         # TYPE {name} histogram\n"
    );
    let mut cumulative = 0;
    for (bound, count) in LATENCY_BUCKETS_US.iter().zip(&s.latency) {
        cumulative += count;
        let _ = writeln!(
            out,
            "{name}_bucket{{le=\"{}\"}} {cumulative}",
            seconds(*bound)
        );
    }
    let total: u64 = s.latency.iter().sum();
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {total}");
    let _ = writeln!(out, "{name}_sum {}", seconds(s.latency_us_sum));
    let _ = writeln!(out, "{name}_count {total}");
    caches(&mut out, sizes, memo);
    out
}

/// The caches' sizes and the signature memo's work, appended to `out`.
fn caches(out: &mut String, sizes: &CacheSizes, memo: Option<SigMemoStats>) {
    // Sizes are usize, counts u64: both printed as they are.
    let mut family = |name: &str, kind: &str, help: &str, samples: &[(&str, u64)]| {
        let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    family(
        "rootwalk_cache_entries",
        "gauge",
        "Entries held, by cache (expired ones not yet evicted included).",
        &[
            ("{cache=\"rrset\"}", sizes.rrsets as u64),
            ("{cache=\"negative\"}", sizes.negative as u64),
            ("{cache=\"infra\"}", sizes.infra as u64),
        ],
    );
    family(
        "rootwalk_cache_bytes",
        "gauge",
        "Bytes charged, by cache; the two share rootwalk_cache_budget_bytes.",
        &[
            ("{cache=\"rrset\"}", sizes.rrset_bytes as u64),
            ("{cache=\"negative\"}", sizes.negative_bytes as u64),
        ],
    );
    family(
        "rootwalk_cache_budget_bytes",
        "gauge",
        "Bytes the RRset and negative caches may hold together.",
        &[("", sizes.budget_bytes as u64)],
    );
    let Some(memo) = memo else {
        return;
    };
    family(
        "rootwalk_sig_memo_hits_total",
        "counter",
        "Signature checks the memo of verified signatures answered without cryptography.",
        &[("", memo.hits)],
    );
    family(
        "rootwalk_sig_memo_verifications_total",
        "counter",
        "Signature checks that ran the cryptography.",
        &[("", memo.verifications)],
    );
    family(
        "rootwalk_sig_memo_entries",
        "gauge",
        "Verified signatures the memo holds.",
        &[("", memo.entries as u64)],
    );
    family(
        "rootwalk_sig_memo_bytes",
        "gauge",
        "Bytes the memo's signatures are charged.",
        &[("", memo.bytes as u64)],
    );
}

/// Microseconds as decimal seconds, exact (no float rounding).
fn seconds(us: u64) -> String {
    let fraction = format!("{:06}", us % 1_000_000);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        format!("{}", us / 1_000_000)
    } else {
        format!("{}.{fraction}", us / 1_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(reply: &[u8]) -> String {
        String::from_utf8(reply.to_vec()).unwrap()
    }

    #[test]
    fn seconds_are_exact_decimals() {
        assert_eq!(seconds(50), "0.00005");
        assert_eq!(seconds(2_500_000), "2.5");
        assert_eq!(seconds(1_000_000), "1");
        assert_eq!(seconds(0), "0");
    }

    #[test]
    fn the_histogram_is_cumulative_and_ends_with_the_count() {
        let mut snap = CounterSnapshot {
            noerror: 3,
            servfail: 1,
            latency_us_sum: 1_500,
            ..CounterSnapshot::default()
        };
        snap.latency[0] = 2;
        snap.latency[3] = 1;
        snap.latency[LATENCY_BUCKETS_US.len()] = 1;
        let body = render(&snap, &CacheSizes::default(), None);
        assert!(body.contains("rootwalk_reply_latency_seconds_bucket{le=\"0.00005\"} 2\n"));
        assert!(body.contains("rootwalk_reply_latency_seconds_bucket{le=\"0.0005\"} 3\n"));
        assert!(body.contains("rootwalk_reply_latency_seconds_bucket{le=\"5\"} 3\n"));
        assert!(body.contains("rootwalk_reply_latency_seconds_bucket{le=\"+Inf\"} 4\n"));
        assert!(body.contains("rootwalk_reply_latency_seconds_sum 0.0015\n"));
        assert!(body.contains("rootwalk_reply_latency_seconds_count 4\n"));
        assert!(body.contains("rootwalk_replies_total{rcode=\"SERVFAIL\"} 1\n"));
        // Every sample line is `name{labels} value` or `name value`.
        for line in body.lines().filter(|l| !l.starts_with('#')) {
            let (name, value) = line.rsplit_once(' ').unwrap();
            assert!(name.starts_with("rootwalk_"), "{line}");
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }

    #[test]
    fn cache_sizes_and_the_signature_memo_are_gauges_and_counters() {
        let sizes = CacheSizes {
            rrsets: 7,
            negative: 2,
            infra: 3,
            rrset_bytes: 1_234,
            negative_bytes: 56,
            budget_bytes: 4_096,
        };
        let memo = SigMemoStats {
            hits: 9,
            verifications: 4,
            entries: 4,
            bytes: 800,
        };
        let body = render(&CounterSnapshot::default(), &sizes, Some(memo));
        for line in [
            "# TYPE rootwalk_cache_entries gauge\n",
            "rootwalk_cache_entries{cache=\"rrset\"} 7\n",
            "rootwalk_cache_entries{cache=\"negative\"} 2\n",
            "rootwalk_cache_entries{cache=\"infra\"} 3\n",
            "rootwalk_cache_bytes{cache=\"rrset\"} 1234\n",
            "rootwalk_cache_bytes{cache=\"negative\"} 56\n",
            "rootwalk_cache_budget_bytes 4096\n",
            "# TYPE rootwalk_sig_memo_hits_total counter\n",
            "rootwalk_sig_memo_hits_total 9\n",
            "rootwalk_sig_memo_verifications_total 4\n",
            "rootwalk_sig_memo_entries 4\n",
            "rootwalk_sig_memo_bytes 800\n",
        ] {
            assert!(body.contains(line), "no {line:?} in\n{body}");
        }
        // Not validating: no memo series at all.
        let plain = render(&CounterSnapshot::default(), &sizes, None);
        assert!(!plain.contains("rootwalk_sig_memo"), "{plain}");
        assert!(plain.contains("rootwalk_cache_entries{cache=\"rrset\"} 7\n"));
    }

    #[test]
    fn only_get_and_head_of_metrics_are_served() {
        let body = || "x 1\n".to_string();
        let ok = text(&respond(b"GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n", body));
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(ok.contains("Content-Length: 4\r\n"), "{ok}");
        assert!(ok.ends_with("\r\n\r\nx 1\n"), "{ok}");
        let head = text(&respond(b"HEAD /metrics?x=1 HTTP/1.0\r\n\r\n", body));
        assert!(head.starts_with("HTTP/1.1 200 OK") && head.ends_with("\r\n\r\n"));
        for (request, code) in [
            (&b"GET / HTTP/1.1\r\n\r\n"[..], "404"),
            (b"POST /metrics HTTP/1.1\r\n\r\n", "405"),
            (b"GET /metrics\r\n\r\n", "400"),
            (b"GET /metrics SPDY/3\r\n\r\n", "400"),
            (b"\xff\xfe\r\n\r\n", "400"),
        ] {
            let reply = text(&respond(request, body));
            assert!(reply.starts_with(&format!("HTTP/1.1 {code} ")), "{reply}");
        }
    }
}
