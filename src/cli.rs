//! The command line: one subcommand per job, parsed with clap, and the
//! conversions from clap's argument structs into the library's own
//! configuration types ([`UpstreamConfig`], [`ServeOptions`],
//! [`LabConfig`]). No library module names a type of this file.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::{AddressFamilies, UpstreamConfig};
use crate::lab::{LabConfig, LabError, LabPort, parse_prefix};
use crate::server::acl::Cidr;
use crate::server::config::ServeOptions;
use crate::server::control::ControlCommand;
use crate::server::local::parse_zone_name;

/// rootwalk: a recursive DNS resolver that walks the delegation chain from
/// the root itself and shows its work: referrals, glue, and the side
/// resolutions that glueless delegations force.
#[derive(Debug, Parser)]
#[command(name = "rootwalk", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the embedded lab: a simulated DNS hierarchy (root, TLDs, zones
    /// with and without glue, broken and hostile servers) on loopback.
    Lab(LabArgs),
    /// Resolve one name iteratively from the root and print the answer
    /// section like dig, with a one-line summary.
    Resolve(ResolveArgs),
    /// Show the resolution path hop by hop, like `dig +trace`, with side
    /// resolutions of glueless name servers nested where they happen.
    Trace(TraceArgs),
    /// Run a recursive resolver daemon for stub clients (UDP and TCP).
    Serve(ServeArgs),
    /// Measure what glueless delegations cost compared with glued ones:
    /// cold resolutions of lab names that differ only in their glue
    /// (`--lab`), or of the names in a file, classed by their glue
    /// (`--names FILE`).
    Bench(BenchArgs),
    /// Check the delegation of one zone from its parent down: glue, parent
    /// and child NS sets, lame servers, serials, glueless chains; each
    /// finding says where it is fixed (registrar, zone file, server). Exit
    /// code 0 when no errors (with `--fail-on warning`: no errors or
    /// warnings) are found, 1 when some are, 2 when the check cannot run.
    Check(CheckArgs),
    /// Talk to a running `rootwalk serve` over its control socket
    /// (`--control-socket`): print counters, reload the configuration,
    /// flush or dump the cache.
    Control(ControlArgs),
}

/// Options of `rootwalk control`.
#[derive(Debug, Args)]
pub struct ControlArgs {
    /// The daemon's control socket (its `--control-socket`).
    #[arg(long, value_name = "PATH")]
    pub socket: PathBuf,
    /// What to do.
    #[command(subcommand)]
    pub command: ControlVerb,
}

/// The control commands.
#[derive(Debug, Clone, Subcommand)]
pub enum ControlVerb {
    /// Print the counters and cache sizes, one `key=value` per line.
    Stats,
    /// Re-read the configuration file, as SIGHUP does.
    Reload,
    /// Drop every RRset, negative answer and reply copy of one name.
    Flush {
        /// The name.
        name: String,
    },
    /// Drop everything cached at or below a zone.
    FlushZone {
        /// The zone.
        zone: String,
    },
    /// Drop everything cached.
    FlushAll,
    /// Print every cached RRset in zone-file format, TTLs as remaining.
    DumpCache,
}

impl TryFrom<&ControlVerb> for ControlCommand {
    type Error = (String, String);

    /// The command; on error, the name given and what is wrong with it.
    fn try_from(verb: &ControlVerb) -> Result<Self, Self::Error> {
        let name = |text: &String| parse_zone_name(text).map_err(|p| (text.clone(), p));
        Ok(match verb {
            ControlVerb::Stats => Self::Stats,
            ControlVerb::Reload => Self::Reload,
            ControlVerb::Flush { name: text } => Self::Flush(name(text)?),
            ControlVerb::FlushZone { zone } => Self::FlushZone(name(zone)?),
            ControlVerb::FlushAll => Self::FlushAll,
            ControlVerb::DumpCache => Self::DumpCache,
        })
    }
}

/// Options of `rootwalk lab`.
#[derive(Debug, Args)]
pub struct LabArgs {
    /// UDP/TCP port every lab server listens on. Glue carries only
    /// addresses, so all servers share one port. Default: 53 when it can be
    /// bound, otherwise a free port (printed).
    #[arg(long)]
    pub port: Option<u16>,
    /// First three octets of the loopback addresses the servers use, e.g.
    /// `127.53.0` (the addresses written in the lab's zone files).
    #[arg(long, value_name = "127.X.Y")]
    pub prefix: Option<String>,
    /// Lab manifest (TOML) to serve instead of the built-in one.
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
    /// Also write the lab's root hints (named.root format) to this file.
    #[arg(long, value_name = "FILE")]
    pub hints_out: Option<PathBuf>,
    /// Also write the lab's trust anchor (the signed root's DS, in
    /// Unbound `trust-anchor-file` format) to this file.
    #[arg(long, value_name = "FILE")]
    pub anchor_out: Option<PathBuf>,
}

/// Where upstream queries go: the real root, a hints file, or the lab.
#[derive(Debug, Args, Clone, Default)]
pub struct UpstreamArgs {
    /// Start the embedded lab in-process and resolve against it (it
    /// brings its own hints and port).
    #[arg(long, conflicts_with_all = ["root_hints", "upstream_port"])]
    pub lab: bool,
    /// Root hints file (named.root format) instead of IANA's built-in hints.
    #[arg(long, value_name = "FILE")]
    pub root_hints: Option<PathBuf>,
    /// Port to send every upstream query to (default 53). Needed for a
    /// hierarchy that does not listen on 53, like `rootwalk lab --port`.
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub upstream_port: Option<u16>,
    /// Ask only IPv4 name servers (as dig -4).
    #[arg(short = '4', long = "ipv4-only", conflicts_with = "ipv6_only")]
    pub ipv4_only: bool,
    /// Ask only IPv6 name servers (as dig -6).
    #[arg(short = '6', long = "ipv6-only")]
    pub ipv6_only: bool,
    /// Do not validate DNSSEC (validation is on by default, from IANA's
    /// root keys, or the lab's own with `--lab`).
    #[arg(long, conflicts_with = "trust_anchor")]
    pub no_dnssec: bool,
    /// DNSSEC trust anchors: a file of DS or DNSKEY lines, the format of
    /// Unbound's `trust-anchor-file`, instead of the built-in root keys.
    #[arg(long, value_name = "FILE")]
    pub trust_anchor: Option<PathBuf>,
}

/// The question of `rootwalk resolve` and `rootwalk trace`, in dig's words.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The question in dig's words, in any order: the NAME, a record TYPE
    /// (A, MX, TXT, TYPE65, ...; default A), the class IN, `@SERVER` to
    /// start the walk at that server instead of the root, and switches:
    /// `+short` (answer data only), `+trace`, `+norecurse` (a no-op:
    /// rootwalk never asks for recursion). `+tcp` and `+dnssec` are refused.
    #[arg(
        value_name = "NAME|TYPE|IN|@SERVER|+OPTION",
        allow_hyphen_values = false
    )]
    pub words: Vec<String>,
    /// Reverse lookup: ask for the PTR record of this IPv4 or IPv6 address.
    #[arg(short = 'x', value_name = "ADDR")]
    pub reverse: Option<String>,
    /// Upstream selection.
    #[command(flatten)]
    pub upstream: UpstreamArgs,
}

/// Options of `rootwalk resolve`.
#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// The question and upstream selection.
    #[command(flatten)]
    pub query: QueryArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ResolveFormat::Text)]
    pub format: ResolveFormat,
}

/// How `rootwalk resolve` prints the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ResolveFormat {
    /// dig's answer and authority sections and a summary line.
    Text,
    /// One JSON document: question, outcome and summary, with the field
    /// names of trace's JSON.
    Json,
}

/// Options of `rootwalk serve`. Each may also be set in the `--config`
/// file under the same name (`listen`, `allow`, `lab`, `root-hints`,
/// `upstream-port`, `cache-size`, `udp-sockets`, `reply-cache-size`,
/// `metrics`, `control-socket`, `user`); flags
/// override the file.
#[derive(Debug, Args, Clone, Default)]
pub struct ServeArgs {
    /// Address and port to answer on, UDP and TCP (repeatable). Default:
    /// `127.0.0.1:53` and `[::1]:53` (the latter skipped when the host has no
    /// IPv6 loopback).
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Vec<SocketAddr>,
    /// Client network allowed to query, e.g. 192.0.2.0/24 (repeatable).
    /// Everyone else gets REFUSED. Default: 127.0.0.0/8 and ::1/128.
    #[arg(long, value_name = "CIDR")]
    pub allow: Vec<Cidr>,
    /// Upstream selection.
    #[command(flatten)]
    pub upstream: UpstreamArgs,
    /// Bytes all caches together may hold before the least recently used
    /// entries are evicted, e.g. 64M (the default), 512K, 1G or a plain
    /// number of bytes; at least 1M. Split among the RRset, negative,
    /// infra and failure caches and the reply copies (see the README).
    #[arg(long, value_name = "BYTES", value_parser = crate::server::config::parse_size)]
    pub cache_size: Option<usize>,
    /// UDP sockets per listen address, sharing the port with SO_REUSEPORT,
    /// each with its own receive loop. Default: one per worker thread
    /// (one per core).
    #[arg(long, value_name = "N")]
    pub udp_sockets: Option<usize>,
    /// Encoded replies each UDP thread keeps to answer repeated questions
    /// by copying (default 10000; 0 turns the copies off).
    #[arg(long, value_name = "ENTRIES")]
    pub reply_cache_size: Option<usize>,
    /// Serve the counters for Prometheus at http://ADDR:PORT/metrics.
    /// Default: off. The endpoint has no access list.
    #[arg(long, value_name = "ADDR:PORT")]
    pub metrics: Option<SocketAddr>,
    /// TOML file with the same settings; flags given here override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Open a control socket here for `rootwalk control` (mode 0600).
    #[arg(long, value_name = "PATH")]
    pub control_socket: Option<PathBuf>,
    /// After binding the sockets, switch to this user and its groups
    /// (needs root). The daemon refuses to run when the switch fails.
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
}

/// Options of `rootwalk check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The zone whose delegation to check, e.g. `example.com`.
    pub zone: String,
    /// Upstream selection.
    #[command(flatten)]
    pub upstream: UpstreamArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// Exit with code 1 when a finding this severe or worse is found (for
    /// CI): `error` (the default) or `warning`.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
}

/// The least severe finding that makes `rootwalk check` exit with 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Errors only.
    Error,
    /// Errors and warnings.
    Warning,
}

/// How `rootwalk check` prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Findings grouped by severity, then the servers asked.
    Text,
    /// One JSON document (schema in the README).
    Json,
}

/// Options of `rootwalk bench`: `--lab` measures the lab's glue cases;
/// `--names FILE` measures the names listed there instead (on the lab with
/// `--lab`, else from the root or `--root-hints`/`--upstream-port`).
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Upstream selection.
    #[command(flatten)]
    pub upstream: UpstreamArgs,
    /// File of names to measure, one `NAME [TYPE]` per line; `#` starts a
    /// comment. Each name is classed by how its delegations are glued.
    #[arg(long, value_name = "FILE")]
    pub names: Option<PathBuf>,
    /// Cold resolutions per case or name, each with a fresh cache.
    #[arg(long, default_value_t = crate::bench::DEFAULT_RUNS, value_parser = at_least_one)]
    pub runs: usize,
    /// Output format: a table, one JSON document, CSV with one row per case
    /// or name, or CSV with one row per cold run (raw samples).
    #[arg(long, value_enum, conflicts_with_all = ["json", "csv", "csv_runs"])]
    pub format: Option<BenchFormat>,
    /// Same as `--format json`.
    #[arg(long, conflicts_with_all = ["csv", "csv_runs"])]
    pub json: bool,
    /// Same as `--format csv`.
    #[arg(long, conflicts_with = "csv_runs")]
    pub csv: bool,
    /// Same as `--format csv-runs`.
    #[arg(long)]
    pub csv_runs: bool,
    /// Also draw the cold-run latency distributions into this SVG file.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
}

fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("`{text}` is not a whole number of at least 1")),
    }
}

/// How `rootwalk bench` prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchFormat {
    /// A table for people.
    Text,
    /// One JSON document; durations in integer microseconds (`*_us`).
    Json,
    /// CSV, one row per case or name (milliseconds, `*_ms`).
    Csv,
    /// CSV, one row per cold run.
    CsvRuns,
}

impl From<&BenchArgs> for crate::bench::Format {
    /// `--format`, or the `--json`/`--csv`/`--csv-runs` aliases; a table
    /// by default.
    fn from(args: &BenchArgs) -> Self {
        use crate::bench::Format;
        let format = args.format.unwrap_or(if args.json {
            BenchFormat::Json
        } else if args.csv {
            BenchFormat::Csv
        } else if args.csv_runs {
            BenchFormat::CsvRuns
        } else {
            BenchFormat::Text
        });
        match format {
            BenchFormat::Text => Format::Table,
            BenchFormat::Json => Format::Json,
            BenchFormat::Csv => Format::Csv,
            BenchFormat::CsvRuns => Format::CsvRuns,
        }
    }
}

/// Options of `rootwalk trace`.
#[derive(Debug, Args)]
pub struct TraceArgs {
    /// The question and upstream selection, as for `resolve`.
    #[command(flatten)]
    pub query: QueryArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TraceFormat::Text)]
    pub format: TraceFormat,
    /// Start the walk at the name servers of this zone instead of the
    /// root (their addresses found from the root first).
    #[arg(long, value_name = "ZONE", conflicts_with = "server")]
    pub from: Option<String>,
    /// Start the walk at this server (an address or a host name) instead
    /// of the root, like `@SERVER`.
    #[arg(long, value_name = "ADDR|NAME")]
    pub server: Option<String>,
    /// After the walk, ask every server of each zone cut on the path the
    /// same question and report disagreements and lame servers.
    #[arg(long)]
    pub all_servers: bool,
}

/// How `rootwalk trace` prints the trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TraceFormat {
    /// Like `dig +trace`, with side resolutions nested and a summary.
    Text,
    /// One JSON document (schema in the README).
    Json,
    /// A Graphviz digraph of the delegation path.
    Dot,
    /// The digraph rendered by Graphviz's `dot -Tsvg` (needs graphviz).
    Svg,
}

impl From<&UpstreamArgs> for UpstreamConfig {
    fn from(args: &UpstreamArgs) -> Self {
        let UpstreamArgs {
            lab,
            root_hints,
            upstream_port,
            ipv4_only,
            ipv6_only,
            no_dnssec,
            trust_anchor,
        } = args;
        Self {
            lab: *lab,
            root_hints: root_hints.clone(),
            upstream_port: *upstream_port,
            families: AddressFamilies {
                v4: !ipv6_only,
                v6: !ipv4_only,
            },
            no_dnssec: *no_dnssec,
            trust_anchor: trust_anchor.clone(),
        }
    }
}

impl From<&ServeArgs> for ServeOptions {
    fn from(args: &ServeArgs) -> Self {
        let ServeArgs {
            listen,
            allow,
            upstream,
            cache_size,
            udp_sockets,
            reply_cache_size,
            metrics,
            config,
            control_socket,
            user,
        } = args;
        Self {
            listen: listen.clone(),
            allow: allow.clone(),
            upstream: upstream.into(),
            cache_size: *cache_size,
            udp_sockets: *udp_sockets,
            reply_cache_size: *reply_cache_size,
            metrics: *metrics,
            config: config.clone(),
            control_socket: control_socket.clone(),
            user: user.clone(),
        }
    }
}

impl TryFrom<&LabArgs> for LabConfig {
    type Error = LabError;

    /// `rootwalk lab`'s flags: port 53 when free unless `--port`, the
    /// `--prefix` checked, latency on.
    fn try_from(args: &LabArgs) -> Result<Self, LabError> {
        Ok(Self {
            manifest: args.manifest.clone(),
            prefix: args.prefix.as_deref().map(parse_prefix).transpose()?,
            port: args.port.map_or(LabPort::PreferStandard, LabPort::Fixed),
            latency: true,
        })
    }
}
