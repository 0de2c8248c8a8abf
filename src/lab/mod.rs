//! The embedded lab: a simulated DNS hierarchy (root, TLDs, zones with and
//! without glue, broken and hostile servers) served on loopback addresses.
//!
//! # Layout
//!
//! - [`manifest`]: the TOML manifest and zone files, validated into a
//!   [`manifest::LabSpec`]; lab addresses are written for 127.53.0.0/21 and
//!   rewritten under the configured prefix.
//! - [`dname`]: DNAME records, which hickory cannot parse or type.
//! - [`zone`]: one zone's data and the authoritative lookup (pure); zones
//!   the manifest marks `signed` are signed at start-up with generated
//!   keys ([`zone::sign`]) and answer DO=1 queries with RRSIGs and
//!   NSEC/NSEC3 proofs ([`zone::secure`]); the signed root's DS is the
//!   lab's trust anchor ([`Lab::trust_anchor`]).
//! - [`answer`]: one query in, one reply out: header rules, faults, EDNS,
//!   the UDP size limit (pure).
//! - [`server`]: sockets, latency, spoofing, the query log.
//!
//! [`Lab::start`] binds UDP and TCP on every server address at one shared
//! port (glue carries only addresses); dropping the [`Lab`] stops every task.
//! The one IPv6 server (`::1`) is optional: where `::1` cannot be bound the
//! lab starts without it and [`Lab::has_ipv6`] says so.
//!
//! Zones can change while the lab runs ([`Lab::remove_delegation`]): every
//! server holds a [`zone::ServedZone`], whose current version is swapped
//! whole under a lock that answering holds only to clone an `Arc`.

pub mod answer;
pub mod dname;
pub mod error;
pub mod manifest;
pub mod server;
pub mod zone;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::rr::{Name, RecordType};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use self::error::LabError;
use self::manifest::{DEFAULT_PREFIX, LabSpec, MAX_PREFIX_THIRD_OCTET, ServerSpec, Source};
use self::server::{Bound, FirstQueries, QueryLog, Server, Silenced};
use self::zone::ServedZone;
use crate::resolve::hints::{HintServer, RootHints};
use crate::validate::anchor::TrustAnchors;

/// The built-in lab's files (`testdata/lab/`), compiled in so the lab works
/// from any working directory.
pub const BUILTIN_FILES: &[(&str, &str)] = &[
    (
        "manifest.toml",
        include_str!("../../testdata/lab/manifest.toml"),
    ),
    (
        "a.tld1.zone",
        include_str!("../../testdata/lab/a.tld1.zone"),
    ),
    (
        "b.tld1.zone",
        include_str!("../../testdata/lab/b.tld1.zone"),
    ),
    (
        "c.tld2.zone",
        include_str!("../../testdata/lab/c.tld2.zone"),
    ),
    (
        "d.tld1.zone",
        include_str!("../../testdata/lab/d.tld1.zone"),
    ),
    (
        "deep.tld3.zone",
        include_str!("../../testdata/lab/deep.tld3.zone"),
    ),
    (
        "e.tld3.zone",
        include_str!("../../testdata/lab/e.tld3.zone"),
    ),
    (
        "evil.tld3.zone",
        include_str!("../../testdata/lab/evil.tld3.zone"),
    ),
    (
        "hosting.tld3.zone",
        include_str!("../../testdata/lab/hosting.tld3.zone"),
    ),
    (
        "lame.tld2.zone",
        include_str!("../../testdata/lab/lame.tld2.zone"),
    ),
    (
        "leaf.sub.deep.tld3.zone",
        include_str!("../../testdata/lab/leaf.sub.deep.tld3.zone"),
    ),
    (
        "mismatch.tld1.zone",
        include_str!("../../testdata/lab/mismatch.tld1.zone"),
    ),
    (
        "refused.tld2.zone",
        include_str!("../../testdata/lab/refused.tld2.zone"),
    ),
    ("root.zone", include_str!("../../testdata/lab/root.zone")),
    (
        "sideways.tld2.zone",
        include_str!("../../testdata/lab/sideways.tld2.zone"),
    ),
    (
        "spoof.tld1.zone",
        include_str!("../../testdata/lab/spoof.tld1.zone"),
    ),
    (
        "sub.deep.tld3.zone",
        include_str!("../../testdata/lab/sub.deep.tld3.zone"),
    ),
    (
        "sub.evil.tld3.zone",
        include_str!("../../testdata/lab/sub.evil.tld3.zone"),
    ),
    (
        "good.tld1.zone",
        include_str!("../../testdata/lab/good.tld1.zone"),
    ),
    (
        "moved.tld1.zone",
        include_str!("../../testdata/lab/moved.tld1.zone"),
    ),
    (
        "noglue.tld1.zone",
        include_str!("../../testdata/lab/noglue.tld1.zone"),
    ),
    (
        "notcp.tld1.zone",
        include_str!("../../testdata/lab/notcp.tld1.zone"),
    ),
    (
        "nosib.tld1.zone",
        include_str!("../../testdata/lab/nosib.tld1.zone"),
    ),
    (
        "serial.tld1.v1.zone",
        include_str!("../../testdata/lab/serial.tld1.v1.zone"),
    ),
    (
        "serial.tld1.v2.zone",
        include_str!("../../testdata/lab/serial.tld1.v2.zone"),
    ),
    (
        "stale.tld1.zone",
        include_str!("../../testdata/lab/stale.tld1.zone"),
    ),
    ("tld1.zone", include_str!("../../testdata/lab/tld1.zone")),
    ("tld2.zone", include_str!("../../testdata/lab/tld2.zone")),
    ("tld3.zone", include_str!("../../testdata/lab/tld3.zone")),
    (
        "upward.tld2.zone",
        include_str!("../../testdata/lab/upward.tld2.zone"),
    ),
    (
        "halfdead.tld3.zone",
        include_str!("../../testdata/lab/halfdead.tld3.zone"),
    ),
    (
        "truncated.tld2.zone",
        include_str!("../../testdata/lab/truncated.tld2.zone"),
    ),
    (
        "lossy.tld1.zone",
        include_str!("../../testdata/lab/lossy.tld1.zone"),
    ),
    (
        "slow.tld2.zone",
        include_str!("../../testdata/lab/slow.tld2.zone"),
    ),
    (
        "oldedns.tld1.zone",
        include_str!("../../testdata/lab/oldedns.tld1.zone"),
    ),
    (
        "badopt.tld1.zone",
        include_str!("../../testdata/lab/badopt.tld1.zone"),
    ),
    (
        "appliance.tld2.zone",
        include_str!("../../testdata/lab/appliance.tld2.zone"),
    ),
    (
        "nxappliance.tld2.zone",
        include_str!("../../testdata/lab/nxappliance.tld2.zone"),
    ),
    (
        "v6only.tld3.zone",
        include_str!("../../testdata/lab/v6only.tld3.zone"),
    ),
    (
        "pool.tld2.zone",
        include_str!("../../testdata/lab/pool.tld2.zone"),
    ),
    (
        "many.tld3.zone",
        include_str!("../../testdata/lab/many.tld3.zone"),
    ),
    (
        "huge.tld3.zone",
        include_str!("../../testdata/lab/huge.tld3.zone"),
    ),
    (
        "brief.tld3.zone",
        include_str!("../../testdata/lab/brief.tld3.zone"),
    ),
    (
        "ghost.tld1.zone",
        include_str!("../../testdata/lab/ghost.tld1.zone"),
    ),
    (
        "vanity.tld1.zone",
        include_str!("../../testdata/lab/vanity.tld1.zone"),
    ),
    (
        "alias.tld2.zone",
        include_str!("../../testdata/lab/alias.tld2.zone"),
    ),
    (
        "void.tld2.zone",
        include_str!("../../testdata/lab/void.tld2.zone"),
    ),
    (
        "badsig.tld1.zone",
        include_str!("../../testdata/lab/badsig.tld1.zone"),
    ),
    (
        "expired.tld1.zone",
        include_str!("../../testdata/lab/expired.tld1.zone"),
    ),
    (
        "dsmismatch.tld1.zone",
        include_str!("../../testdata/lab/dsmismatch.tld1.zone"),
    ),
    (
        "zskonly.tld1.zone",
        include_str!("../../testdata/lab/zskonly.tld1.zone"),
    ),
    (
        "unsigned.tld1.zone",
        include_str!("../../testdata/lab/unsigned.tld1.zone"),
    ),
    (
        "hop.tld1.zone",
        include_str!("../../testdata/lab/hop.tld1.zone"),
    ),
    (
        "rsa.tld1.zone",
        include_str!("../../testdata/lab/rsa.tld1.zone"),
    ),
    (
        "optout.tld2.zone",
        include_str!("../../testdata/lab/optout.tld2.zone"),
    ),
    (
        "insecure.optout.tld2.zone",
        include_str!("../../testdata/lab/insecure.optout.tld2.zone"),
    ),
];

/// The RTO floor a resolver should use against the lab (`--lab`, the lab
/// bench): the lab's servers answer from loopback in microseconds plus
/// their configured latency, so the real floor (50 ms) would become every
/// server's RTO, and a loaded machine's scheduling hiccups would be taken
/// for loss and resent. Faults (a dropped packet, a black hole) still cost
/// a real RTO: a server never heard from starts at the unknown-server RTO.
pub const RESOLVER_RTO_FLOOR: Duration = Duration::from_millis(250);

/// Tries at binding a fixed port: a lab dropped a moment ago releases its
/// sockets asynchronously, when its tasks are next polled.
const FIXED_BIND_ATTEMPTS: u32 = 10;

/// Pause between tries at a fixed port.
const FIXED_BIND_PAUSE: Duration = Duration::from_millis(50);

/// Free ports tried before giving up with [`LabPort::Auto`].
const AUTO_BIND_ATTEMPTS: u32 = 8;

/// The standard DNS port, used by [`LabPort::PreferStandard`] when free.
const STANDARD_PORT: u16 = 53;

/// How to start a lab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabConfig {
    /// Manifest to load; `None` = the built-in lab.
    pub manifest: Option<PathBuf>,
    /// First three octets of the server addresses; `None` = 127.53.0.
    pub prefix: Option<[u8; 3]>,
    /// The port every server listens on.
    pub port: LabPort,
    /// Whether servers delay replies by their latency; `false` for fast
    /// tests.
    pub latency: bool,
}

/// The port all lab servers share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabPort {
    /// This port, or fail.
    Fixed(u16),
    /// Any free port (the same on every server address).
    Auto,
    /// 53 if it can be bound, else [`LabPort::Auto`].
    PreferStandard,
}

impl Default for LabConfig {
    /// The built-in lab on 127.53.0.0/21, port 53 when possible, latency on.
    fn default() -> Self {
        Self {
            manifest: None,
            prefix: None,
            port: LabPort::PreferStandard,
            latency: true,
        }
    }
}

impl LabConfig {
    /// The built-in lab on a random prefix 127.[100..=250].[0..=248] and a
    /// free port, so parallel test processes do not collide.
    pub fn for_tests() -> Self {
        Self {
            manifest: None,
            prefix: Some([
                127,
                rand::random_range(100..=250),
                rand::random_range(0..=MAX_PREFIX_THIRD_OCTET),
            ]),
            port: LabPort::Auto,
            latency: true,
        }
    }
}

/// Which transport a query arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LabTransport {
    /// UDP.
    Udp,
    /// TCP.
    Tcp,
}

/// One query one lab server received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedQuery {
    /// The server's address.
    pub server: IpAddr,
    /// The server's host name.
    pub server_name: Name,
    /// How the query arrived.
    pub transport: LabTransport,
    /// The question name, as received.
    pub qname: Name,
    /// The question type.
    pub qtype: RecordType,
    /// Whether the query carried an OPT record (EDNS, RFC 6891).
    pub edns: bool,
}

/// A running lab. Dropping it stops every server task and closes the
/// sockets (as soon as the runtime next polls the tasks).
#[derive(Debug)]
pub struct Lab {
    port: u16,
    prefix: [u8; 3],
    servers: Vec<(Name, IpAddr)>,
    latencies: Vec<(IpAddr, Duration)>,
    hints: RootHints,
    anchor: TrustAnchors,
    zones: Vec<Arc<ServedZone>>,
    has_ipv6: bool,
    log: Arc<QueryLog>,
    silenced: Arc<Silenced>,
    tasks: Vec<JoinHandle<()>>,
    _shutdown: watch::Sender<()>,
}

impl Lab {
    /// Loads the lab, binds every server and starts serving.
    pub async fn start(config: LabConfig) -> Result<Lab, LabError> {
        let LabConfig {
            manifest,
            prefix,
            port,
            latency,
        } = config;
        let prefix = prefix.unwrap_or(DEFAULT_PREFIX);
        if prefix[0] != 127 || prefix[2] > MAX_PREFIX_THIRD_OCTET {
            return Err(LabError::Prefix {
                input: format!("{}.{}.{}", prefix[0], prefix[1], prefix[2]),
            });
        }
        let source = match manifest {
            Some(path) => Source::Disk(path),
            None => Source::Builtin(BUILTIN_FILES),
        };
        let mut spec = manifest::load(source, prefix)?;
        // IPv4 first: the first address picks the port, and only the IPv6
        // server may be missing.
        let (v4, v6): (Vec<ServerSpec>, Vec<ServerSpec>) =
            spec.servers.drain(..).partition(|s| s.address.is_ipv4());
        let addresses: Vec<IpAddr> = v4.iter().map(|s| s.address).collect();
        let (port, mut bound) = bind_all(&addresses, port).await?;
        spec.servers = v4;
        let mut has_ipv6 = false;
        for server in v6 {
            let addr = SocketAddr::new(server.address, port);
            match Bound::bind(addr) {
                Ok(socket) => {
                    has_ipv6 = true;
                    bound.push(socket);
                    spec.servers.push(server);
                }
                Err(e) => tracing::warn!(
                    "lab: cannot bind {addr} ({e}); {} and its zones are left out",
                    server.name
                ),
            }
        }

        let log = Arc::new(QueryLog::default());
        let silenced = Arc::new(Silenced::default());
        let (shutdown, watcher) = watch::channel(());
        let mut tasks = Vec::new();
        let servers = spec
            .servers
            .iter()
            .map(|s| (s.name.clone(), s.address))
            .collect();
        let hints = root_hints(&spec);
        let anchor = TrustAnchors::from_records(&spec.anchor);
        let delay = |s: &ServerSpec| {
            if latency || s.faults.slow {
                s.latency
            } else {
                Duration::ZERO
            }
        };
        let latencies = spec.servers.iter().map(|s| (s.address, delay(s))).collect();
        let zones = spec.zones.clone();
        for (server, bound) in spec.servers.into_iter().zip(bound) {
            let address = server.address;
            let running = Server {
                latency: delay(&server),
                name: server.name,
                address,
                responder: answer::Responder::new(server.zones, server.faults.clone()),
                drop: server.faults.drop,
                spoof: server.faults.spoof,
                no_tcp: server.faults.no_tcp,
                drop_first: server.faults.drop_first.then(FirstQueries::default),
                log: Arc::clone(&log),
                silenced: Arc::clone(&silenced),
            };
            let handles = server::spawn(Arc::new(running), bound, &watcher).map_err(|source| {
                LabError::Bind {
                    addr: SocketAddr::new(address, port),
                    source,
                }
            })?;
            tasks.extend(handles);
        }
        tracing::info!("lab: {} servers on port {port}", tasks.len() / 2);
        Ok(Lab {
            port,
            prefix,
            servers,
            latencies,
            hints,
            anchor,
            zones,
            has_ipv6,
            log,
            silenced,
            tasks,
            _shutdown: shutdown,
        })
    }

    /// The port every server listens on (UDP and TCP).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The first three octets of the server addresses.
    pub fn prefix(&self) -> [u8; 3] {
        self.prefix
    }

    /// The root servers (those serving `.`) with their addresses.
    pub fn hints(&self) -> RootHints {
        self.hints.clone()
    }

    /// The lab's trust anchor: the DS records of the root's KSK, generated
    /// at start-up (empty when the manifest does not sign the root). Give
    /// it to a validator ([`crate::validate`]) as its root anchor.
    pub fn trust_anchor(&self) -> TrustAnchors {
        self.anchor.clone()
    }

    /// The address of the lab server named `server_name` (trailing dot
    /// optional), e.g. `ns1.a.tld1.`.
    pub fn address_of(&self, server_name: &str) -> Option<IpAddr> {
        let absolute = if server_name.ends_with('.') {
            server_name.to_string()
        } else {
            format!("{server_name}.")
        };
        let name = Name::from_str(&absolute).ok()?;
        self.servers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, address)| *address)
    }

    /// The delay the server at `addr` adds to each reply (zero when the lab
    /// runs without latency); `None` when no lab server has that address.
    pub fn latency_of(&self, addr: IpAddr) -> Option<Duration> {
        self.latencies
            .iter()
            .find(|(a, _)| *a == addr)
            .map(|(_, d)| *d)
    }

    /// Whether the IPv6 server (`::1`) was bound; tests of IPv6-only name
    /// servers skip when it was not.
    pub fn has_ipv6(&self) -> bool {
        self.has_ipv6
    }

    /// Removes the delegation of `child` from `parent` on every server
    /// serving `parent` (variants included): the NS RRset at `child` and
    /// everything else at or below it (glue, DS). Afterwards `parent`
    /// answers NXDOMAIN for names under `child`, while `child`'s own
    /// servers go on serving it: the ghost-domain setup of CVE-2012-1033.
    pub fn remove_delegation(&self, parent: &Name, child: &Name) -> Result<(), LabError> {
        let unknown = || LabError::NoDelegation {
            parent: Box::new(parent.clone()),
            child: Box::new(child.clone()),
        };
        if child == parent || !parent.zone_of(child) {
            return Err(unknown());
        }
        let mut removed = false;
        for served in self.zones.iter().filter(|z| z.origin() == parent) {
            let zone = served.current();
            if !zone.delegates(child) {
                continue;
            }
            served
                .replace(zone.without_subtree(child))
                .map_err(|_| unknown())?;
            removed = true;
        }
        if removed { Ok(()) } else { Err(unknown()) }
    }

    /// Makes the server at `addr` fall silent (`true`): it still logs
    /// every query it receives ([`Lab::query_log`]) but answers none, over
    /// UDP or TCP, as if the link to it were down; `false` lets it answer
    /// again. For serve-stale tests (RFC 8767). An address no server has
    /// changes nothing.
    pub fn set_silent(&self, addr: IpAddr, silent: bool) {
        self.silenced.set(addr, silent);
    }

    /// Every server's name and address, in manifest order.
    pub fn servers(&self) -> &[(Name, IpAddr)] {
        &self.servers
    }

    /// Every query every server received, in arrival order.
    pub fn query_log(&self) -> Vec<LoggedQuery> {
        self.log.snapshot()
    }

    /// Empties the query log.
    pub fn clear_log(&self) {
        self.log.clear();
    }

    /// The hints in `named.root` format under a `;` header saying the port
    /// and how to query the lab.
    pub fn hints_file(&self) -> String {
        let example = self
            .address_of("a.root-servers.lab.")
            .or_else(|| self.servers.first().map(|(_, a)| *a))
            .map_or_else(|| "ADDR".to_string(), |a| a.to_string());
        let port = self.port;
        let [a, b, c] = self.prefix;
        let last = c.saturating_add(manifest::LAB_BLOCKS - 1);
        format!(
            "; rootwalk lab: {} servers in {a}.{b}.{c}.0 - {a}.{b}.{last}.255, UDP and TCP port {port}\n\
             ; try:     dig @{example} -p {port} www.a.tld1 +norecurse\n\
             ; resolve: rootwalk resolve --root-hints FILE --upstream-port {port} www.a.tld1\n\
             {}",
            self.servers.len(),
            self.hints.to_named_root()
        )
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        // Dropping `_shutdown` next ends every task spawned by the servers.
    }
}

/// The root servers: the servers that serve `.`, in manifest order.
fn root_hints(spec: &LabSpec) -> RootHints {
    let servers = spec
        .servers
        .iter()
        .filter(|s| s.zones.iter().any(|z| z.origin().is_root()))
        .map(|s| HintServer {
            name: s.name.clone(),
            addrs: vec![s.address],
        })
        .collect();
    RootHints { servers }
}

/// Binds every address at one port chosen as `port` says.
async fn bind_all(addresses: &[IpAddr], port: LabPort) -> Result<(u16, Vec<Bound>), LabError> {
    match port {
        LabPort::Fixed(port) => {
            let mut attempt = 1;
            loop {
                match bind_at(addresses, port) {
                    Err((addr, e))
                        if e.kind() == std::io::ErrorKind::AddrInUse
                            && attempt < FIXED_BIND_ATTEMPTS =>
                    {
                        tracing::debug!("lab: {addr} in use, retrying");
                        attempt += 1;
                        tokio::time::sleep(FIXED_BIND_PAUSE).await;
                    }
                    result => return result.map_err(bind_error),
                }
            }
        }
        LabPort::Auto => bind_auto(addresses),
        LabPort::PreferStandard => match bind_at(addresses, STANDARD_PORT) {
            Ok(bound) => Ok(bound),
            Err((addr, e)) => {
                tracing::debug!("lab: cannot bind {addr} ({e}), using a free port");
                bind_auto(addresses)
            }
        },
    }
}

/// Binds at a free port: the first address picks it, the others follow; on
/// a clash another port is tried.
fn bind_auto(addresses: &[IpAddr]) -> Result<(u16, Vec<Bound>), LabError> {
    let mut last = None;
    for _ in 0..AUTO_BIND_ATTEMPTS {
        match bind_at(addresses, 0) {
            Ok(bound) => return Ok(bound),
            Err(e) => last = Some(e),
        }
    }
    match last {
        Some(e) => Err(bind_error(e)),
        None => bind_at(addresses, 0).map_err(bind_error),
    }
}

/// Binds every address at `port` (0: the port the first address gets).
fn bind_at(
    addresses: &[IpAddr],
    port: u16,
) -> Result<(u16, Vec<Bound>), (SocketAddr, std::io::Error)> {
    let mut port = port;
    let mut bound = Vec::with_capacity(addresses.len());
    for address in addresses {
        let addr = SocketAddr::new(*address, port);
        let socket = Bound::bind(addr).map_err(|e| (addr, e))?;
        port = socket.port().map_err(|e| (addr, e))?;
        bound.push(socket);
    }
    Ok((port, bound))
}

fn bind_error((addr, source): (SocketAddr, std::io::Error)) -> LabError {
    LabError::Bind { addr, source }
}

/// Parses a `127.X.Y` prefix.
pub fn parse_prefix(text: &str) -> Result<[u8; 3], LabError> {
    let bad = || LabError::Prefix {
        input: text.to_string(),
    };
    let octets: Vec<u8> = text
        .split('.')
        .map(|part| part.parse::<u8>().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    match octets.as_slice() {
        [127, x, y] if *y <= MAX_PREFIX_THIRD_OCTET => Ok([127, *x, *y]),
        _ => Err(bad()),
    }
}

/// `rootwalk lab`: start the lab with `config`, print (and, with
/// `hints_out`, write) its root hints with a short header, write its trust
/// anchor to `anchor_out`, and serve until Ctrl-C.
pub async fn run(
    config: LabConfig,
    hints_out: Option<&Path>,
    anchor_out: Option<&Path>,
) -> Result<(), LabError> {
    let lab = Lab::start(config).await?;
    let text = lab.hints_file();
    print!("{text}");
    let write = |path: &Path, text: &str| {
        std::fs::write(path, text).map_err(|source| LabError::Io {
            path: path.display().to_string(),
            source,
        })
    };
    if let Some(path) = hints_out {
        write(path, &text)?;
    }
    if let Some(path) = anchor_out {
        write(path, &lab.trust_anchor().to_text())?;
    }
    tokio::signal::ctrl_c().await.map_err(LabError::Signal)?;
    drop(lab);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_parses_only_loopback_triples() {
        assert_eq!(parse_prefix("127.9.1").unwrap(), [127, 9, 1]);
        for bad in ["10.0.0", "127.1", "127.1.2.3", "127.256.0", "127.a.0", ""] {
            let err = parse_prefix(bad).unwrap_err().to_string();
            assert!(err.contains("127.X.Y"), "{bad}: {err}");
        }
    }

    #[test]
    fn builtin_lab_loads() {
        let spec = manifest::load(Source::Builtin(BUILTIN_FILES), DEFAULT_PREFIX).unwrap();
        assert!(spec.servers.len() > 20);
        let hints = root_hints(&spec);
        assert_eq!(hints.servers.len(), 2);
    }
}
