//! `rootwalk serve` keeps cached answers fast while heavy cold work runs
//! (issue 13, item 6).
//!
//! A lab of its own, written to a scratch directory: the root, `calm.`
//! with the name the probe asks (`www.calm. A 192.0.2.10`), and `wide.`,
//! where every name (a wildcard) has an AAAA RRset of [`WIDE_RECORDS`]
//! records, ~54 KB on the wire: many small records, so each reply costs the
//! resolver much decoding, scrubbing and caching (tens of milliseconds in
//! the debug build), while the lab builds it cheaply. The built-in lab
//! lacks such a zone, and 1,500 records would slow every other test's lab
//! start. The lab runs on a runtime of its own (see [`Daemon::start`]).
//!
//! Cold clients keep dozens of resolutions of distinct `wide.` names in
//! flight; meanwhile the cached name is asked over UDP, on the daemon's
//! only UDP socket, the one the cold questions arrive on, from a thread of
//! the test's own. Resolutions run on that receive thread too (one thread
//! per miss, as in Unbound), so each cached question may wait behind the
//! resolution work ready there. With tokio's default `event_interval` (a
//! current-thread runtime polls its main future, the receive loop, only
//! between batches of up to 61 tasks) that was up to 1.5 s under this load
//! in the debug build, and several probes went past the bound. The daemon
//! sets it to [`server::udp::UDP_EVENT_INTERVAL`], and the slowest probe
//! waits tens of milliseconds.

mod common;

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::daemon::TempDir;
use common::inproc::{self, bare_query};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use rootwalk::config::Limits;
use rootwalk::lab::{Lab, LabConfig, LabTransport};
use rootwalk::resolve::Resolver;
use rootwalk::server::{self, Acl, CounterSnapshot, ServeLimits};
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

/// Records in each `wide.` AAAA RRset: 1,500 of 36 bytes (the owner is
/// not compressed) fill most of a 64 KB TCP message.
const WIDE_RECORDS: u16 = 1500;

/// How long a cached answer may take while the cold work runs: far above
/// what it takes (under a millisecond idle, tens of milliseconds on a
/// loaded two-core machine), far below the seconds a receive loop stalled
/// behind resolutions gives. A functional bound, not a performance one.
const CACHED_DEADLINE: Duration = Duration::from_millis(500);

/// Cold clients, each from a loopback address of its own (so none reaches
/// its share of resolutions).
const COLD_CLIENTS: u8 = 16;

/// Questions each cold client has out at once: with [`COLD_CLIENTS`], 64
/// resolutions in flight, as many as the lab serves TCP connections at
/// once per server ([`rootwalk::lab::server::MAX_TCP_CONNECTIONS`]), so
/// heavy replies arrive as fast as the lab sends them and none is turned
/// away.
const COLD_WINDOW: usize = 4;

/// Names each cold client asks at most: bounds the work whatever happens.
const COLD_NAMES_PER_CLIENT: usize = 400;

/// How long a cold client waits for the replies to one window.
const COLD_WAIT: Duration = Duration::from_secs(5);

/// Heavy replies `ns.wide.` must send while the probes run (2 s at
/// least), to show the cold work went on beside them: a fraction of what
/// even a loaded two-core machine fetches in that time (40 and more).
const MIN_HEAVY_WHILE_PROBING: usize = 10;

/// Cached-name probes, one every [`PROBE_INTERVAL`].
const PROBES: usize = 80;

/// The pause between two probes.
const PROBE_INTERVAL: Duration = Duration::from_millis(25);

/// Bounds the waits that only tell a started or answered thing from a
/// stuck one.
const WAIT: Duration = Duration::from_secs(10);

/// The answer to the probe's question.
const CALM_ADDRESS: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);

/// The scratch lab's files: the manifest and three zones.
fn lab_files() -> Vec<(&'static str, String)> {
    let manifest = r#"
[[zone]]
origin = "."
file = "root.zone"

[[zone]]
origin = "calm."
file = "calm.zone"

[[zone]]
origin = "wide."
file = "wide.zone"

[[server]]
name = "a.root-servers.lab."
address = "127.53.0.1"
zones = ["."]

[[server]]
name = "ns.calm."
address = "127.53.0.2"
zones = ["calm."]

[[server]]
name = "ns.wide."
address = "127.53.0.3"
zones = ["wide."]
"#;
    let root = "$ORIGIN .\n$TTL 86400\n\
        @ IN SOA a.root-servers.lab. hostmaster.lab. 1 3600 600 86400 300\n\
        @ IN NS a.root-servers.lab.\n\
        a.root-servers.lab. IN A 127.53.0.1\n\
        calm. IN NS ns.calm.\n\
        ns.calm. IN A 127.53.0.2\n\
        wide. IN NS ns.wide.\n\
        ns.wide. IN A 127.53.0.3\n";
    let calm = format!(
        "$ORIGIN calm.\n$TTL 3600\n\
         @ IN SOA ns.calm. hostmaster.calm. 1 3600 600 86400 300\n\
         @ IN NS ns.calm.\n\
         ns IN A 127.53.0.2\n\
         www IN A {CALM_ADDRESS}\n"
    );
    let mut wide = "$ORIGIN wide.\n$TTL 3600\n\
        @ IN SOA ns.wide. hostmaster.wide. 1 3600 600 86400 300\n\
        @ IN NS ns.wide.\n\
        ns IN A 127.53.0.3\n"
        .to_string();
    for i in 1..=WIDE_RECORDS {
        // 2001:db8::/32 is documentation space: never contacted.
        wide.push_str(&format!("* IN AAAA 2001:db8::{i:x}\n"));
    }
    vec![
        ("manifest.toml", manifest.to_string()),
        ("root.zone", root.to_string()),
        ("calm.zone", calm),
        ("wide.zone", wide),
    ]
}

/// The scratch lab, a resolver on it and the daemon in front on
/// 127.0.0.1:0 with one UDP socket, run on the test's runtime. Derefs to
/// the daemon for its address and counters.
struct Daemon {
    /// The lab's own runtime (see [`Daemon::start`]), first so that it
    /// shuts down before the lab is dropped.
    _lab_runtime: LabRuntime,
    lab: Lab,
    _files: TempDir,
    daemon: inproc::Daemon,
}

/// A runtime shut down in the background on drop: a runtime may not be
/// dropped inside another.
struct LabRuntime(Option<tokio::runtime::Runtime>);

impl Drop for LabRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

impl Daemon {
    async fn start() -> Daemon {
        let files = TempDir::new("isolation-lab");
        for (name, text) in lab_files() {
            std::fs::write(files.join(name), text).unwrap();
        }
        // The lab serves from a runtime of its own: on the test's runtime,
        // which is the daemon's shared one, the resolutions' work would
        // starve it, and the cold work would dwindle to a trickle (far from
        // any real deployment, where the authoritative servers are
        // elsewhere).
        let lab_runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("isolation-lab")
            .enable_all()
            .build()
            .unwrap();
        let config = LabConfig {
            manifest: Some(files.join("manifest.toml")),
            latency: false,
            ..LabConfig::for_tests()
        };
        let lab = lab_runtime
            .spawn(Lab::start(config))
            .await
            .unwrap()
            .unwrap();
        // Timeouts far above what a loaded lab takes, so every cold
        // question is fetched and processed whole, never cut short.
        let limits = Limits {
            query_timeout: Duration::from_secs(3),
            zone_cut_timeout: Duration::from_secs(10),
            ..Limits::default()
        };
        let resolver = Resolver::new(common::config_with(&lab, limits));
        let acl = Acl::new(vec!["127.0.0.0/8".parse().unwrap()]);
        let daemon = inproc::Daemon::builder(resolver, acl)
            .limits(ServeLimits::default())
            .start()
            .await;
        Daemon {
            _lab_runtime: LabRuntime(Some(lab_runtime)),
            lab,
            _files: files,
            daemon,
        }
    }

    async fn stop(self) -> CounterSnapshot {
        self.daemon.stop().await
    }

    /// The distinct `wide.` names whose RRset `ns.wide.` has sent over
    /// TCP so far: the heavy replies.
    fn wide_fetched(&self) -> HashSet<Name> {
        let server = self.lab.address_of("ns.wide.").unwrap();
        self.lab
            .query_log()
            .into_iter()
            .filter(|q| {
                q.server == server
                    && q.transport == LabTransport::Tcp
                    && q.qtype == RecordType::AAAA
            })
            .map(|q| q.qname.to_lowercase())
            .collect()
    }
}

impl Deref for Daemon {
    type Target = inproc::Daemon;

    fn deref(&self) -> &inproc::Daemon {
        &self.daemon
    }
}

/// One UDP exchange from `socket`: the reply to `message` from `server`
/// and how long it took, or `None` past `wait`. Replies to earlier
/// questions are skipped.
async fn exchange(
    socket: &UdpSocket,
    server: SocketAddr,
    message: &Message,
    wait: Duration,
) -> Option<(Message, Duration)> {
    let started = Instant::now();
    socket.send_to(&message.to_vec().ok()?, server).await.ok()?;
    let mut buffer = vec![0u8; 65_535];
    let reply = tokio::time::timeout(wait, async {
        loop {
            let (len, _) = socket.recv_from(&mut buffer).await.ok()?;
            if let Ok(reply) = Message::from_vec(&buffer[..len])
                && reply.metadata.id == message.metadata.id
            {
                return Some(reply);
            }
        }
    })
    .await
    .ok()??;
    Some((reply, started.elapsed()))
}

/// Whether `reply` is the cached answer: NOERROR, `www.calm. A
/// 192.0.2.10`.
fn is_calm_answer(reply: &Message) -> bool {
    reply.metadata.response_code == ResponseCode::NoError
        && reply
            .answers
            .iter()
            .any(|r| matches!(&r.data, RData::A(a) if a.0 == CALM_ADDRESS))
}

/// Asks `www.calm. A` [`PROBES`] times, one every [`PROBE_INTERVAL`], from
/// a blocking socket on the calling thread: the failures (wrong, or not
/// within [`CACHED_DEADLINE`]), the slowest right answer, and how many
/// probes were sent while resolutions were in flight (per `counters`).
fn probe_cached(server: SocketAddr, counters: &server::Counters) -> (Vec<String>, Duration, usize) {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut buffer = vec![0u8; 65_535];
    let mut failed = Vec::new();
    let mut slowest = Duration::ZERO;
    let mut beside_cold = 0;
    for i in 0..PROBES {
        if counters.resolutions_in_flight() > 0 {
            beside_cold += 1;
        }
        let question = bare_query("www.calm.", RecordType::A);
        let started = Instant::now();
        socket.send_to(&question.to_vec().unwrap(), server).unwrap();
        let reply = loop {
            let left = CACHED_DEADLINE.saturating_sub(started.elapsed());
            if left.is_zero() || socket.set_read_timeout(Some(left)).is_err() {
                break None;
            }
            let Ok((len, _)) = socket.recv_from(&mut buffer) else {
                break None;
            };
            if let Ok(reply) = Message::from_vec(&buffer[..len])
                && reply.metadata.id == question.metadata.id
            {
                break Some(reply);
            }
        };
        let took = started.elapsed();
        match reply {
            Some(_) if took > CACHED_DEADLINE => {
                failed.push(format!("probe {i}: answered late, in {took:?}"));
            }
            Some(reply) if is_calm_answer(&reply) => slowest = slowest.max(took),
            Some(reply) => failed.push(format!("probe {i}: wrong in {took:?}: {reply:?}")),
            None => failed.push(format!("probe {i}: no answer within {CACHED_DEADLINE:?}")),
        }
        std::thread::sleep(PROBE_INTERVAL);
    }
    (failed, slowest, beside_cold)
}

/// A cold client from `source`: asks AAAA of `N-cX.wide.` for N = 0, 1,
/// …, [`COLD_WINDOW`] questions at a time, the next window once these are
/// answered or [`COLD_WAIT`] has passed, until aborted or
/// [`COLD_NAMES_PER_CLIENT`]; counts the replies in `answered`.
async fn cold_client(source: Ipv4Addr, server: SocketAddr, answered: Arc<AtomicUsize>) {
    let Ok(socket) = UdpSocket::bind(SocketAddr::new(IpAddr::V4(source), 0)).await else {
        return;
    };
    let mut buffer = vec![0u8; 65_535];
    let mut next = 0;
    while next < COLD_NAMES_PER_CLIENT {
        let mut waiting = HashSet::new();
        for _ in 0..COLD_WINDOW {
            let name = format!("{next}-c{}.wide.", source.octets()[3]);
            next += 1;
            let question = bare_query(&name, RecordType::AAAA);
            if socket
                .send_to(&question.to_vec().unwrap(), server)
                .await
                .is_ok()
            {
                waiting.insert(question.metadata.id);
            }
        }
        let _ = tokio::time::timeout(COLD_WAIT, async {
            while !waiting.is_empty() {
                let Ok((len, _)) = socket.recv_from(&mut buffer).await else {
                    return;
                };
                if len >= 2 && waiting.remove(&u16::from_be_bytes([buffer[0], buffer[1]])) {
                    answered.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
        .await;
    }
}

/// Issue 13, item 6: 16 clients keep 64 resolutions of distinct `wide.`
/// names in flight (each a ~54 KB reply of 1,500 records fetched over
/// TCP, decoded, scrubbed and cached), and a cached name is asked every
/// 25 ms over UDP on the same socket: every answer is right and comes
/// within [`CACHED_DEADLINE`], while `ns.wide.` keeps sending heavy
/// replies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_answers_are_not_stalled_by_cold_work() {
    let daemon = Daemon::start().await;
    let probe = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (warm, _) = exchange(
        &probe,
        daemon.addr,
        &bare_query("www.calm.", RecordType::A),
        WAIT,
    )
    .await
    .expect("www.calm. resolves");
    assert!(is_calm_answer(&warm), "{warm:?}");
    let hits = daemon.counters.snapshot().cache_hits;

    let cold_answered = Arc::new(AtomicUsize::new(0));
    let cold: Vec<JoinHandle<()>> = (0..COLD_CLIENTS)
        .map(|i| {
            tokio::spawn(cold_client(
                Ipv4Addr::new(127, 0, 0, 100 + i),
                daemon.addr,
                Arc::clone(&cold_answered),
            ))
        })
        .collect();
    // Probe once the heavy replies are coming in.
    let deadline = Instant::now() + WAIT;
    while daemon.wide_fetched().len() < usize::from(COLD_CLIENTS) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let before = daemon.wide_fetched();
    assert!(
        before.len() >= usize::from(COLD_CLIENTS),
        "the cold work never started: {} heavy replies",
        before.len()
    );

    // The probes run on a thread of their own with a blocking socket:
    // timers on the test's runtime (the daemon's shared one) would measure
    // its scheduling, not the daemon's answers.
    let addr = daemon.addr;
    let counters = Arc::clone(&daemon.counters);
    let (failed, slowest, beside_cold) =
        tokio::task::spawn_blocking(move || probe_cached(addr, &counters))
            .await
            .unwrap();
    let during = daemon.wide_fetched().len() - before.len();
    for client in &cold {
        client.abort();
    }
    let cold_answered = cold_answered.load(Ordering::Relaxed);
    let counters = daemon.stop().await;
    println!(
        "cached answers beside cold work: slowest {slowest:?}, {} of {PROBES} failed; \
         {during} heavy replies fetched while probing, {beside_cold} probes sent while \
         resolutions were in flight, {cold_answered} cold questions answered; {counters}",
        failed.len()
    );
    assert!(
        failed.is_empty(),
        "{} of {PROBES} cached questions failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
    // The heavy work ran all along beside the probes, and the probes were
    // cache hits, not resolutions.
    assert!(
        during >= MIN_HEAVY_WHILE_PROBING,
        "only {during} heavy replies fetched while probing"
    );
    assert!(
        beside_cold >= PROBES / 2,
        "only {beside_cold} of {PROBES} probes sent while resolutions were in flight"
    );
    assert!(counters.cache_hits >= hits + PROBES as u64, "{counters}");
}
