//! The command-line operations: what each subcommand does, on top of the
//! library. `main` only parses, sets up logging and calls [`run`].

use std::fmt::Write as _;
use std::process::ExitCode;
use std::str::FromStr;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, Record, RecordType};

use crate::cli::{BenchArgs, Command, ResolveArgs, UpstreamArgs};
use crate::error::CliError;
use crate::lab::{Lab, LabConfig, LabPort};
use crate::resolve::hints::RootHints;
use crate::resolve::{Resolver, ResolverConfig};
use crate::trace::NullObserver;

/// Runs one subcommand to completion.
pub async fn run(command: Command) -> Result<ExitCode, CliError> {
    match command {
        Command::Lab(args) => {
            crate::lab::run(&args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Resolve(args) => resolve(&args).await,
        Command::Trace(_) => Err(CliError::NotImplemented("trace")),
        Command::Serve => Err(CliError::NotImplemented("serve")),
        Command::Bench(args) => bench(&args).await,
        Command::Check => Err(CliError::NotImplemented("check")),
    }
}

/// Where upstream queries go, with the lab kept alive as long as needed.
pub struct Upstream {
    /// The resolver's configuration.
    pub config: ResolverConfig,
    /// The in-process lab, when `--lab` was given; dropping it stops it.
    pub lab: Option<Lab>,
}

impl Upstream {
    /// Builds the upstream from `--lab`, `--root-hints`, `--upstream-port`.
    pub async fn from_args(args: &UpstreamArgs) -> Result<Self, CliError> {
        let mut config = ResolverConfig::internet();
        let mut lab = None;
        if args.lab {
            let started = Lab::start(LabConfig {
                manifest: None,
                prefix: None,
                port: LabPort::Auto,
                latency: true,
            })
            .await?;
            config.hints = started.hints();
            config.upstream_port = started.port();
            lab = Some(started);
        } else if let Some(path) = &args.root_hints {
            config.hints = RootHints::from_file(path)?;
        }
        if let Some(port) = args.upstream_port {
            config.upstream_port = port;
        }
        Ok(Self { config, lab })
    }
}

/// Parses the name and type arguments of `resolve` and `trace`.
pub fn question(args: &ResolveArgs) -> Result<(Name, RecordType), CliError> {
    let mut name = Name::from_str(&args.name).map_err(|e| CliError::BadName {
        name: args.name.clone(),
        problem: e.to_string(),
    })?;
    name.set_fqdn(true);
    let rtype = RecordType::from_str(&args.rtype.to_ascii_uppercase())
        .map_err(|_| CliError::BadType(args.rtype.clone()))?;
    Ok((name, rtype))
}

async fn resolve(args: &ResolveArgs) -> Result<ExitCode, CliError> {
    let (name, rtype) = question(args)?;
    let upstream = Upstream::from_args(&args.upstream).await?;
    let resolver = Resolver::new(upstream.config);
    match resolver.resolve(&name, rtype, &NullObserver).await {
        Ok(outcome) => {
            let mut out = String::new();
            section(&mut out, "ANSWER", &outcome.answers);
            section(&mut out, "AUTHORITY", &outcome.authorities);
            let s = outcome.stats;
            let _ = writeln!(
                out,
                ";; {}, {} upstream queries, {} side resolutions, {} ms",
                rcode_name(outcome.rcode),
                s.upstream_queries,
                s.side_resolutions,
                s.elapsed.as_millis()
            );
            print!("{out}");
            Ok(ExitCode::SUCCESS)
        }
        Err(failure) => {
            let s = failure.stats;
            println!(
                ";; SERVFAIL ({}), {} upstream queries, {} side resolutions, {} ms",
                failure.error,
                s.upstream_queries,
                s.side_resolutions,
                s.elapsed.as_millis()
            );
            Ok(ExitCode::from(1))
        }
    }
}

/// Appends a dig-style section: `;; NAME SECTION:` then one record a line.
pub fn section(out: &mut String, title: &str, records: &[Record]) {
    if records.is_empty() {
        return;
    }
    let _ = writeln!(out, ";; {title} SECTION:");
    for record in records {
        let _ = writeln!(out, "{}", dig_line(record));
    }
    out.push('\n');
}

/// The RCODE's mnemonic as dig prints it (RFC 6895 §2.3).
pub fn rcode_name(rcode: ResponseCode) -> String {
    match rcode {
        ResponseCode::NoError => "NOERROR".into(),
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::NXDomain => "NXDOMAIN".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        ResponseCode::Refused => "REFUSED".into(),
        other => format!("RCODE{}", u16::from(other)),
    }
}

/// One record as dig prints it: owner, TTL, class, type, data, tab-separated.
pub fn dig_line(record: &Record) -> String {
    format!(
        "{}\t{}\t{}\t{}\t{}",
        record.name,
        record.ttl,
        record.dns_class,
        record.record_type(),
        record.data
    )
}

async fn bench(args: &BenchArgs) -> Result<ExitCode, CliError> {
    if !args.lab {
        return Err(CliError::NotImplemented("bench without --lab (real names)"));
    }
    let lab = Lab::start(LabConfig {
        manifest: None,
        prefix: None,
        port: LabPort::Auto,
        latency: true,
    })
    .await?;
    let report = crate::bench::run_lab(&lab, crate::bench::LAB_CASES, args.runs).await;
    if args.json {
        let text = serde_json::to_string_pretty(&report).map_err(CliError::Json)?;
        println!("{text}");
    } else {
        print!("{}", report.table());
    }
    Ok(ExitCode::SUCCESS)
}
