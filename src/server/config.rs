//! The daemon's settings: the `--config` TOML file, the flags that
//! override it, and the defaults, merged into one [`ServeConfig`].
//!
//! The library never sees the command line's own types: the CLI turns its
//! flags into [`ServeOptions`], and a program embedding the daemon can build
//! a [`ServeConfig`] directly (its [`Default`] is the daemon's defaults).
//!
//! The file takes the flags' names as keys:
//!
//! ```toml
//! listen = ["127.0.0.1:53", "[::1]:53"]
//! allow = ["127.0.0.0/8", "::1/128", "192.0.2.0/24"]
//! lab = false
//! root-hints = "/etc/rootwalk/named.root"
//! upstream-port = 53
//! cache-size = "64M"         # bytes, all caches together; K, M, G suffixes
//! udp-sockets = 2              # default: one per worker thread
//! reply-cache-size = 10000     # per UDP thread; 0: off
//! metrics = "127.0.0.1:9153"   # default: off
//! do-ip4 = true                # ask IPv4 servers (default true; -4/-6 override)
//! do-ip6 = true                # ask IPv6 servers (default true)
//! dnssec = true                # validate (default true; --no-dnssec)
//! trust-anchor = "/etc/rootwalk/root.key"  # DS/DNSKEY lines; default: IANA's root keys
//! control-socket = "/run/rootwalk/control.sock"  # default: none
//! user = "rootwalk"            # drop privileges after binding (as root)
//! proxy-protocol-from = ["127.0.0.1/32"]  # dnsdist in front (PROXY v2)
//!
//! builtin-local-zones = true   # localhost, onion, test, RFC 1918 reverse...
//! local-data = ["router.home.arpa. 3600 IN A 192.0.2.1"]
//!
//! [[local-zone]]               # static | refuse | nxdomain | redirect |
//! name = "ads.example."        # transparent | nodefault (Unbound's types)
//! type = "refuse"
//!
//! [[forward-zone]]             # ask these resolvers, RD=1
//! name = "corp.example."
//! addrs = ["192.0.2.53", "192.0.2.54@5353"]
//!
//! [[stub-zone]]                # ask these authoritative servers, RD=0
//! name = "internal.example."
//! addrs = ["192.0.2.10"]
//!
//! [limits]                     # any of crate::config::LIMIT_KEYS
//! max-upstream-queries = 100   # or of server::limits::SERVE_LIMIT_KEYS
//! query-timeout-ms = 800
//! tcp-connections-per-client = 16
//! ```
//!
//! Unknown keys and unusable values are errors naming the file and the key.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::acl::{Acl, Cidr};
use super::error::ConfigError;
use super::limits::ServeLimits;
use super::listen::MAX_UDP_SOCKETS;
use super::local::{LocalZones, ZoneKind, parse_local_data, parse_zone_name};
use super::reply_cache::MAX_REPLY_CACHE_ENTRIES;
use crate::config::{
    AddressFamilies, Limits, MAX_CACHE_BYTES, MAX_ROUTE_SERVERS, MIN_CACHE_BYTES, RouteKind,
    UpstreamConfig, ZoneRoute, parse_route_server,
};

/// The standard DNS port.
pub const DNS_PORT: u16 = 53;

/// Where the daemon listens when neither flags nor file say: loopback only,
/// IPv4 and IPv6.
pub const DEFAULT_LISTEN: [SocketAddr; 2] = [
    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), DNS_PORT),
    SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), DNS_PORT),
];

/// A size in the file: a whole number of bytes, or text with a suffix
/// (`"64M"`, see [`parse_size`]).
#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
enum SizeSetting {
    Bytes(u64),
    Text(String),
}

/// Reads a size in bytes: a whole number, optionally followed by `K`, `M`
/// or `G` (binary: 1024, 1024², 1024³; either case), e.g. `64M`,
/// `512K`, `67108864`.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().last() {
        Some((at, 'k' | 'K')) => (&text[..at], 1usize << 10),
        Some((at, 'm' | 'M')) => (&text[..at], 1 << 20),
        Some((at, 'g' | 'G')) => (&text[..at], 1 << 30),
        _ => (text, 1),
    };
    digits
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(unit))
        .ok_or_else(|| format!("`{text}` is not a size in bytes (e.g. 64M, 512K, 1G or 67108864)"))
}

/// Checks a `cache-size` in bytes against [`MIN_CACHE_BYTES`] and
/// [`MAX_CACHE_BYTES`]. A number below the minimum is refused, not taken
/// as a tiny cache: it is most likely an entry count from before sizes
/// were in bytes.
pub fn check_cache_size(bytes: usize) -> Result<usize, String> {
    if bytes < MIN_CACHE_BYTES {
        return Err(format!(
            "{bytes} bytes is below the minimum of 1M ({MIN_CACHE_BYTES}); cache-size is \
             in bytes, not entries: write e.g. \"64M\" (the default)"
        ));
    }
    if bytes > MAX_CACHE_BYTES {
        return Err(format!(
            "{bytes} bytes is above the maximum of 1T ({MAX_CACHE_BYTES})"
        ));
    }
    Ok(bytes)
}

/// Longest user name accepted for `user` (Linux's `LOGIN_NAME_MAX` is
/// 256 with the NUL).
pub const MAX_USER_NAME: usize = 255;

/// The file's contents; every key optional.
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FileSettings {
    listen: Option<Vec<String>>,
    allow: Option<Vec<String>>,
    lab: Option<bool>,
    root_hints: Option<PathBuf>,
    upstream_port: Option<u16>,
    cache_size: Option<SizeSetting>,
    udp_sockets: Option<usize>,
    reply_cache_size: Option<usize>,
    metrics: Option<String>,
    do_ip4: Option<bool>,
    do_ip6: Option<bool>,
    dnssec: Option<bool>,
    trust_anchor: Option<PathBuf>,
    limits: Option<std::collections::BTreeMap<String, u64>>,
    builtin_local_zones: Option<bool>,
    local_data: Option<Vec<String>>,
    local_zone: Option<Vec<LocalZoneSettings>>,
    forward_zone: Option<Vec<RouteSettings>>,
    stub_zone: Option<Vec<RouteSettings>>,
    control_socket: Option<PathBuf>,
    user: Option<String>,
    proxy_protocol_from: Option<Vec<String>>,
}

/// One `[[local-zone]]` table.
#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct LocalZoneSettings {
    name: String,
    #[serde(rename = "type")]
    kind: String,
}

/// One `[[forward-zone]]` or `[[stub-zone]]` table.
#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct RouteSettings {
    name: String,
    addrs: Vec<String>,
}

/// What the command line asked for: each field, when set, overrides the
/// file's value. Built by the CLI from its flags.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Addresses to listen on (empty: the file's, or [`DEFAULT_LISTEN`]).
    pub listen: Vec<SocketAddr>,
    /// Client networks allowed (empty: the file's, or loopback).
    pub allow: Vec<Cidr>,
    /// Upstream selection.
    pub upstream: UpstreamConfig,
    /// Bytes all caches may hold (`--cache-size`, already read by
    /// [`parse_size`]; checked here).
    pub cache_size: Option<usize>,
    /// UDP sockets per listen address.
    pub udp_sockets: Option<usize>,
    /// Encoded replies kept per UDP thread.
    pub reply_cache_size: Option<usize>,
    /// Where to serve the metrics.
    pub metrics: Option<SocketAddr>,
    /// The TOML file to read first.
    pub config: Option<PathBuf>,
    /// Where to open the control socket.
    pub control_socket: Option<PathBuf>,
    /// The user to run as once the sockets are bound.
    pub user: Option<String>,
}

/// What the daemon runs with, after file, flags and defaults are merged.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Addresses to listen on.
    pub listen: Vec<SocketAddr>,
    /// Whether `listen` is [`DEFAULT_LISTEN`] (then a missing `::1` is
    /// skipped, not an error).
    pub listen_is_default: bool,
    /// Who may query.
    pub acl: Acl,
    /// Where upstream queries go.
    pub upstream: UpstreamConfig,
    /// Bytes all caches together may hold, when not the resolver's default
    /// ([`crate::config::CACHE_BYTES`]).
    pub cache_size: Option<usize>,
    /// UDP sockets per listen address; `None`: one per worker thread.
    pub udp_sockets: Option<usize>,
    /// Encoded replies kept per UDP thread, when not the default.
    pub reply_cache_size: Option<usize>,
    /// Where to serve the metrics, if anywhere.
    pub metrics: Option<SocketAddr>,
    /// The resolver's limits, with the file's `[limits]` applied
    /// (`cache-size` is applied separately).
    pub limits: Limits,
    /// The daemon's own limits, with the file's `[limits]` applied.
    pub serve_limits: ServeLimits,
    /// Local zones and data (the built-in zones unless turned off).
    pub local: LocalZones,
    /// Forward and stub zones, for the resolver.
    pub routes: Vec<ZoneRoute>,
    /// The control socket's path, if any (see [`super::control`]).
    pub control_socket: Option<PathBuf>,
    /// The user to switch to after binding (see [`super::privileges`]).
    pub user: Option<String>,
    /// Addresses whose messages start with a PROXY v2 header naming the
    /// real client (see [`super::proxy`]); empty: none.
    pub proxy_from: Acl,
}

impl Default for ServeConfig {
    /// Loopback listeners and access list, IANA's root, the resolver's
    /// default limits.
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN.to_vec(),
            listen_is_default: true,
            acl: Acl::loopback(),
            upstream: UpstreamConfig::default(),
            cache_size: None,
            udp_sockets: None,
            reply_cache_size: None,
            metrics: None,
            limits: Limits::default(),
            serve_limits: ServeLimits::default(),
            local: LocalZones::builtin(),
            routes: Vec::new(),
            control_socket: None,
            user: None,
            proxy_from: Acl::new(Vec::new()),
        }
    }
}

/// The settings for `rootwalk serve`: reads `--config` if given and merges.
pub fn settings(args: &ServeOptions) -> Result<ServeConfig, ConfigError> {
    match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.display().to_string(),
                source,
            })?;
            merge(args, Some((path, &text)))
        }
        None => merge(args, None),
    }
}

/// Merges `args` over the file `(path, text)` over the defaults.
pub fn merge(args: &ServeOptions, file: Option<(&Path, &str)>) -> Result<ServeConfig, ConfigError> {
    let (path, from_file) = match file {
        Some((path, text)) => {
            let path = path.display().to_string();
            let parsed =
                toml::from_str::<FileSettings>(text).map_err(|source| ConfigError::Syntax {
                    path: path.clone(),
                    source: Box::new(source),
                })?;
            (path, parsed)
        }
        None => (String::new(), FileSettings::default()),
    };
    let value_error = |key, problem: String| ConfigError::Value {
        path: path.clone(),
        key,
        problem,
    };

    let file_listen = from_file
        .listen
        .iter()
        .flatten()
        .map(|text| parse_listen(text).map_err(|problem| value_error("listen", problem)))
        .collect::<Result<Vec<_>, _>>()?;
    let file_allow = from_file
        .allow
        .iter()
        .flatten()
        .map(|text| {
            text.parse::<Cidr>()
                .map_err(|e| value_error("allow", e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let file_proxies = from_file
        .proxy_protocol_from
        .iter()
        .flatten()
        .map(|text| {
            text.parse::<Cidr>()
                .map_err(|e| value_error("proxy-protocol-from", e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(user) = &from_file.user {
        check_user_name(user).map_err(|problem| value_error("user", problem))?;
    }
    if let Some(user) = &args.user {
        check_user_name(user).map_err(|problem| ConfigError::Flag {
            flag: "--user",
            problem,
        })?;
    }
    if from_file
        .control_socket
        .as_ref()
        .is_some_and(|p| p.as_os_str().is_empty())
    {
        return Err(value_error("control-socket", "the path is empty".into()));
    }
    let check = |key, flag, file: Option<usize>, arg: Option<usize>, range| {
        if let Some(problem) = file.and_then(|v| outside(v, &range)) {
            return Err(value_error(key, problem));
        }
        match arg.and_then(|v| outside(v, &range)) {
            Some(problem) => Err(ConfigError::Flag { flag, problem }),
            None => Ok(()),
        }
    };
    let file_cache_size = match &from_file.cache_size {
        Some(SizeSetting::Bytes(n)) => Some(usize::try_from(*n).unwrap_or(usize::MAX)),
        Some(SizeSetting::Text(text)) => {
            Some(parse_size(text).map_err(|problem| value_error("cache-size", problem))?)
        }
        None => None,
    };
    if let Some(bytes) = file_cache_size {
        check_cache_size(bytes).map_err(|problem| value_error("cache-size", problem))?;
    }
    if let Some(bytes) = args.cache_size {
        check_cache_size(bytes).map_err(|problem| ConfigError::Flag {
            flag: "--cache-size",
            problem,
        })?;
    }
    let udp_sockets = (from_file.udp_sockets, args.udp_sockets);
    let reply_cache = (from_file.reply_cache_size, args.reply_cache_size);
    for (key, flag, (file, arg), range) in [
        (
            "udp-sockets",
            "--udp-sockets",
            udp_sockets,
            1..=MAX_UDP_SOCKETS,
        ),
        (
            "reply-cache-size",
            "--reply-cache-size",
            reply_cache,
            0..=MAX_REPLY_CACHE_ENTRIES,
        ),
    ] {
        check(key, flag, file, arg, range)?;
    }
    let file_metrics = match &from_file.metrics {
        Some(text) => Some(text.parse::<SocketAddr>().map_err(|_| {
            value_error(
                "metrics",
                format!("`{text}` is not ADDR:PORT (e.g. 127.0.0.1:9153)"),
            )
        })?),
        None => None,
    };
    let mut limits = Limits::default();
    let mut serve_limits = ServeLimits::default();
    for (key, value) in from_file.limits.iter().flatten() {
        if ServeLimits::knows(key) {
            serve_limits.set(key, *value)
        } else {
            limits.set(key, *value)
        }
        .map_err(|problem| value_error("limits", problem))?;
    }
    if from_file.do_ip4 == Some(false) && from_file.do_ip6 == Some(false) {
        return Err(value_error(
            "do-ip4",
            "`do-ip4 = false` and `do-ip6 = false` leave no way to ask any server".into(),
        ));
    }
    if from_file.lab == Some(true) && from_file.root_hints.is_some() {
        return Err(value_error(
            "lab",
            "`lab = true` and `root-hints` exclude each other".into(),
        ));
    }

    let local = local_zones(&from_file).map_err(|(key, problem)| value_error(key, problem))?;
    let routes = routes(&from_file).map_err(|(key, problem)| value_error(key, problem))?;

    let (listen, listen_is_default) = if !args.listen.is_empty() {
        (args.listen.clone(), false)
    } else if from_file.listen.is_some() {
        (file_listen, false)
    } else {
        (DEFAULT_LISTEN.to_vec(), true)
    };
    let acl = if !args.allow.is_empty() {
        Acl::new(args.allow.clone())
    } else if from_file.allow.is_some() {
        Acl::new(file_allow)
    } else {
        Acl::loopback()
    };
    Ok(ServeConfig {
        listen,
        listen_is_default,
        acl,
        upstream: merge_upstream(&args.upstream, &from_file),
        cache_size: args.cache_size.or(file_cache_size),
        udp_sockets: args.udp_sockets.or(from_file.udp_sockets),
        reply_cache_size: args.reply_cache_size.or(from_file.reply_cache_size),
        metrics: args.metrics.or(file_metrics),
        limits,
        serve_limits,
        local,
        routes,
        control_socket: args
            .control_socket
            .clone()
            .or_else(|| from_file.control_socket.clone()),
        user: args.user.clone().or_else(|| from_file.user.clone()),
        proxy_from: Acl::new(file_proxies),
    })
}

/// Whether `name` can be a user name: not empty, no NUL, no `:` or `/`,
/// at most [`MAX_USER_NAME`] bytes.
fn check_user_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_USER_NAME {
        return Err(format!(
            "`{name}` is not a user name (1..={MAX_USER_NAME} bytes)"
        ));
    }
    if name.contains(['\0', ':', '/']) || name.chars().any(char::is_whitespace) {
        return Err(format!("`{name}` is not a user name"));
    }
    Ok(())
}

/// The file's local zones and data, over the built-in zones unless
/// `builtin-local-zones = false`; on error, the key and the problem.
fn local_zones(file: &FileSettings) -> Result<LocalZones, (&'static str, String)> {
    let zones = file
        .local_zone
        .iter()
        .flatten()
        .map(|zone| {
            let name = parse_zone_name(&zone.name).map_err(|p| ("local-zone", p))?;
            let kind = zone
                .kind
                .parse::<ZoneKind>()
                .map_err(|p| ("local-zone", format!("`{}`: {p}", zone.name)))?;
            Ok((name, kind))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut data = Vec::new();
    for text in file.local_data.iter().flatten() {
        data.extend(parse_local_data(text).map_err(|p| ("local-data", p))?);
    }
    Ok(LocalZones::new(
        file.builtin_local_zones.unwrap_or(true),
        &zones,
        data,
    ))
}

/// The file's forward and stub zones; on error, the key and the problem.
fn routes(file: &FileSettings) -> Result<Vec<ZoneRoute>, (&'static str, String)> {
    let mut routes = Vec::new();
    for (key, kind, tables) in [
        ("forward-zone", RouteKind::Forward, &file.forward_zone),
        ("stub-zone", RouteKind::Stub, &file.stub_zone),
    ] {
        for table in tables.iter().flatten() {
            let zone = parse_zone_name(&table.name).map_err(|p| (key, p))?;
            if table.addrs.is_empty() || table.addrs.len() > MAX_ROUTE_SERVERS {
                return Err((
                    key,
                    format!(
                        "`{}`: {} addresses; give 1..={MAX_ROUTE_SERVERS}",
                        table.name,
                        table.addrs.len()
                    ),
                ));
            }
            let servers = table
                .addrs
                .iter()
                .map(|a| parse_route_server(a).map_err(|p| (key, format!("`{}`: {p}", table.name))))
                .collect::<Result<Vec<_>, _>>()?;
            if routes.iter().any(|r: &ZoneRoute| r.zone == zone) {
                return Err((key, format!("`{}` is configured twice", table.name)));
            }
            routes.push(ZoneRoute {
                zone,
                kind,
                servers,
            });
        }
    }
    Ok(routes)
}

/// `--lab` and `--root-hints` on the command line replace whichever of the
/// two the file chose.
fn merge_upstream(flags: &UpstreamConfig, file: &FileSettings) -> UpstreamConfig {
    let flags_choose = flags.lab || flags.root_hints.is_some();
    UpstreamConfig {
        lab: if flags_choose {
            flags.lab
        } else {
            file.lab.unwrap_or(false)
        },
        root_hints: if flags_choose {
            flags.root_hints.clone()
        } else {
            file.root_hints.clone()
        },
        upstream_port: flags.upstream_port.or(file.upstream_port),
        // `-4` or `-6` on the command line decides; otherwise the file's
        // `do-ip4`/`do-ip6`, each defaulting to yes.
        families: if flags.families != AddressFamilies::default() {
            flags.families
        } else {
            AddressFamilies {
                v4: file.do_ip4.unwrap_or(true),
                v6: file.do_ip6.unwrap_or(true),
            }
        },
        // `--no-dnssec` or `dnssec = false` turns validation off;
        // `--trust-anchor` replaces the file's `trust-anchor`.
        no_dnssec: flags.no_dnssec || file.dnssec == Some(false),
        trust_anchor: flags
            .trust_anchor
            .clone()
            .or_else(|| file.trust_anchor.clone()),
    }
}

/// `ADDR:PORT`, or a bare address meaning port 53.
fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    text.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, DNS_PORT))
        .map_err(|_| format!("`{text}` is not ADDR:PORT (e.g. 127.0.0.1:53 or [::1]:53)"))
}

/// Why `value` is not in `range`, if it is not.
fn outside(value: usize, range: &RangeInclusive<usize>) -> Option<String> {
    (!range.contains(&value))
        .then(|| format!("{value} is outside {}..={}", range.start(), range.end()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> Result<ServeConfig, ConfigError> {
        merge(
            &ServeOptions::default(),
            Some((Path::new("serve.toml"), text)),
        )
    }

    #[test]
    fn limits_table_sets_the_resolver_limits_and_rejects_bad_ones() {
        let settings =
            file("[limits]\nmax-upstream-queries = 50\nquery-timeout-ms = 300\n").unwrap();
        assert_eq!(settings.limits.max_upstream_queries, 50);
        assert_eq!(
            settings.limits.query_timeout,
            std::time::Duration::from_millis(300)
        );
        assert_eq!(settings.limits.max_referrals, crate::config::MAX_REFERRALS);
        assert_eq!(settings.serve_limits, ServeLimits::default());

        let serve =
            file("[limits]\ntcp-connections-per-client = 4\nmax-resolutions = 99\n").unwrap();
        assert_eq!(serve.serve_limits.tcp_connections_per_client, 4);
        assert_eq!(serve.serve_limits.resolutions, 99);
        assert_eq!(serve.limits, Limits::default());
        let range = file("[limits]\ntcp-message-timeout-ms = 5\n")
            .unwrap_err()
            .to_string();
        assert!(
            range.contains("tcp-message-timeout-ms = 5 is outside"),
            "{range}"
        );

        let unknown = file("[limits]\nmax-queries = 5\n").unwrap_err().to_string();
        assert!(
            unknown.contains("serve.toml") && unknown.contains("unknown limit `max-queries`"),
            "{unknown}"
        );
        let range = file("[limits]\nfailure-ttl-s = 3600\n")
            .unwrap_err()
            .to_string();
        assert!(
            range.contains("failure-ttl-s = 3600 is outside 1..=300"),
            "{range}"
        );
        let negative = file("[limits]\nmax-referrals = -1\n")
            .unwrap_err()
            .to_string();
        assert!(negative.contains("serve.toml"), "{negative}");
    }

    #[test]
    fn defaults_are_loopback() {
        let settings = merge(&ServeOptions::default(), None).unwrap();
        assert_eq!(settings.listen, DEFAULT_LISTEN.to_vec());
        assert!(settings.listen_is_default);
        assert_eq!(settings.acl, Acl::loopback());
        assert!(!settings.upstream.lab);
        assert_eq!(settings.cache_size, None);
    }

    #[test]
    fn the_file_sets_every_key() {
        let settings = file(
            r#"
            listen = ["127.0.0.2:5353", "::1"]
            allow = ["192.0.2.0/24"]
            root-hints = "/tmp/named.root"
            upstream-port = 5300
            cache-size = "5M"
            udp-sockets = 3
            reply-cache-size = 0
            metrics = "127.0.0.1:9153"
            do-ip6 = false
            control-socket = "/run/rootwalk/control.sock"
            user = "rootwalk"
            proxy-protocol-from = ["127.0.0.1/32"]
            "#,
        )
        .unwrap();
        assert_eq!(
            settings.control_socket,
            Some(PathBuf::from("/run/rootwalk/control.sock"))
        );
        assert_eq!(settings.user.as_deref(), Some("rootwalk"));
        assert!(settings.proxy_from.allows("127.0.0.1".parse().unwrap()));
        assert!(!settings.proxy_from.allows("127.0.0.2".parse().unwrap()));
        assert_eq!(
            settings.upstream.families,
            AddressFamilies {
                v4: true,
                v6: false
            }
        );
        assert_eq!(settings.reply_cache_size, Some(0));
        assert_eq!(settings.udp_sockets, Some(3));
        assert_eq!(settings.metrics, Some("127.0.0.1:9153".parse().unwrap()));
        assert_eq!(
            settings.listen,
            vec![
                "127.0.0.2:5353".parse::<SocketAddr>().unwrap(),
                "[::1]:53".parse().unwrap()
            ]
        );
        assert!(!settings.listen_is_default);
        assert!(settings.acl.allows("192.0.2.9".parse().unwrap()));
        assert!(!settings.acl.allows("127.0.0.1".parse().unwrap()));
        assert_eq!(
            settings.upstream.root_hints,
            Some(PathBuf::from("/tmp/named.root"))
        );
        assert_eq!(settings.upstream.upstream_port, Some(5300));
        assert_eq!(settings.cache_size, Some(5 << 20));
    }

    #[test]
    fn cache_size_is_in_bytes_with_suffixes() {
        for (text, bytes) in [
            ("cache-size = \"64M\"", 64 << 20),
            ("cache-size = \"64m\"", 64 << 20),
            ("cache-size = \"2048K\"", 2 << 20),
            ("cache-size = \"1G\"", 1 << 30),
            ("cache-size = \"3000000\"", 3_000_000),
            ("cache-size = 3000000", 3_000_000),
        ] {
            assert_eq!(file(text).unwrap().cache_size, Some(bytes), "{text}");
        }
        // An old entry count is refused with a hint, not taken as bytes.
        let old = file("cache-size = 100000").unwrap_err().to_string();
        assert!(
            old.contains("cache-size")
                && old.contains("in bytes, not entries")
                && old.contains("64M"),
            "{old}"
        );
        for bad in ["\"64X\"", "\"M\"", "\"-1M\"", "\"99999999999G\"", "\"2T\""] {
            let message = file(&format!("cache-size = {bad}"))
                .unwrap_err()
                .to_string();
            assert!(message.contains("cache-size"), "{bad}: {message}");
        }
        assert_eq!(parse_size(" 8M "), Ok(8 << 20));
        assert!(parse_size("").is_err());
    }

    #[test]
    fn local_zones_and_routes_are_read() {
        let settings = file(
            r#"
            local-data = ["router.home.arpa. A 192.0.2.1"]
            [[local-zone]]
            name = "ads.example"
            type = "refuse"
            [[forward-zone]]
            name = "corp.example."
            addrs = ["192.0.2.53", "192.0.2.54@5353"]
            [[stub-zone]]
            name = "internal.example."
            addrs = ["192.0.2.10"]
            "#,
        )
        .unwrap();
        let n = |s| hickory_proto::rr::Name::from_ascii(s).unwrap();
        let refused = settings
            .local
            .lookup(&n("x.ads.example."), hickory_proto::rr::RecordType::A);
        assert!(refused.is_some());
        assert_eq!(settings.routes.len(), 2);
        assert_eq!(settings.routes[0].kind, RouteKind::Forward);
        assert_eq!(
            settings.routes[0].servers[1],
            "192.0.2.54:5353".parse().unwrap()
        );
        assert_eq!(settings.routes[1].servers[0].port(), DNS_PORT);
    }

    #[test]
    fn flags_override_the_file() {
        let args = ServeOptions {
            listen: vec!["127.0.0.3:53".parse().unwrap()],
            allow: vec!["10.0.0.0/8".parse().unwrap()],
            upstream: UpstreamConfig {
                lab: true,
                root_hints: None,
                upstream_port: Some(1),
                families: AddressFamilies::default(),
                no_dnssec: false,
                trust_anchor: None,
            },
            cache_size: Some(2 << 20),
            udp_sockets: Some(1),
            reply_cache_size: Some(7),
            metrics: Some("127.0.0.1:9000".parse().unwrap()),
            config: None,
            control_socket: Some(PathBuf::from("/run/flag.sock")),
            user: Some("flaguser".into()),
        };
        let text = r#"
            listen = ["127.0.0.2:5353"]
            allow = ["192.0.2.0/24"]
            root-hints = "/tmp/named.root"
            upstream-port = 5300
            cache-size = "5M"
            udp-sockets = 4
            metrics = "127.0.0.1:9153"
            control-socket = "/run/file.sock"
            user = "fileuser"
        "#;
        let settings = merge(&args, Some((Path::new("serve.toml"), text))).unwrap();
        assert_eq!(settings.control_socket, args.control_socket);
        assert_eq!(settings.user.as_deref(), Some("flaguser"));
        assert_eq!(settings.listen, args.listen);
        assert!(settings.acl.allows("10.1.1.1".parse().unwrap()));
        assert!(!settings.acl.allows("192.0.2.9".parse().unwrap()));
        assert!(settings.upstream.lab);
        assert_eq!(
            settings.upstream.root_hints, None,
            "--lab replaces the file's hints"
        );
        assert_eq!(settings.upstream.upstream_port, Some(1));
        assert_eq!(settings.cache_size, Some(2 << 20));
        assert_eq!(settings.udp_sockets, Some(1));
        assert_eq!(settings.reply_cache_size, Some(7));
        assert_eq!(settings.metrics, args.metrics);
    }

    #[test]
    fn unknown_keys_name_the_file_and_the_key() {
        let message = file("listen = []\nlisten-port = 53\n")
            .unwrap_err()
            .to_string();
        assert!(message.contains("serve.toml"), "{message}");
        assert!(message.contains("listen-port"), "{message}");
    }

    #[test]
    fn bad_values_name_the_file_and_the_key() {
        for (text, key) in [
            ("listen = [\"localhost:53\"]", "listen"),
            ("allow = [\"10.0.0.0/40\"]", "allow"),
            ("cache-size = 0", "cache-size"),
            ("cache-size = \"big\"", "cache-size"),
            ("upstream-port = 70000", "upstream-port"),
            ("lab = \"yes\"", "lab"),
            ("lab = true\nroot-hints = \"x\"", "lab"),
            ("do-ip4 = false\ndo-ip6 = false", "do-ip4"),
            ("do-ip6 = 1", "do-ip6"),
            ("udp-sockets = 0", "udp-sockets"),
            ("udp-sockets = 1000", "udp-sockets"),
            ("reply-cache-size = 99000000", "reply-cache-size"),
            ("metrics = \"localhost\"", "metrics"),
            ("local-data = [\"x. A 1.2.3\"]", "local-data"),
            (
                "[[local-zone]]\nname = \"a.\"\ntype = \"deny\"",
                "local-zone",
            ),
            (
                "[[forward-zone]]\nname = \"a.\"\naddrs = [\"1.2.3.4@x\"]",
                "forward-zone",
            ),
            ("[[stub-zone]]\nname = \"a.\"\naddrs = []", "stub-zone"),
            ("control-socket = \"\"", "control-socket"),
            ("control-socket = 5", "control-socket"),
            ("user = \"\"", "user"),
            ("user = \"a b\"", "user"),
            (
                "proxy-protocol-from = [\"127.0.0.1/33\"]",
                "proxy-protocol-from",
            ),
            ("[limits]\ncontrol-connections = 0", "control-connections"),
        ] {
            let message = file(text).unwrap_err().to_string();
            assert!(message.contains("serve.toml"), "{text}: {message}");
            assert!(message.contains(key), "{text}: {message}");
        }
    }

    #[test]
    fn a_bad_cache_size_flag_is_an_error() {
        let args = ServeOptions {
            cache_size: Some(1),
            ..ServeOptions::default()
        };
        let message = merge(&args, None).unwrap_err().to_string();
        assert!(message.contains("--cache-size"), "{message}");
    }

    #[test]
    fn an_unreadable_file_is_an_error_naming_it() {
        let args = ServeOptions {
            config: Some(PathBuf::from("/nonexistent/rootwalk-serve.toml")),
            ..ServeOptions::default()
        };
        let message = settings(&args).unwrap_err().to_string();
        assert!(
            message.contains("/nonexistent/rootwalk-serve.toml"),
            "{message}"
        );
    }
}
