//! The command-line operations: what each subcommand does, on top of the
//! library. `main` only parses, sets up logging and calls [`run`].

use std::io::{IsTerminal as _, Write as _};
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;

use hickory_proto::rr::{Name, RecordType};

use crate::cli::{
    BenchArgs, CheckArgs, CheckFormat, Command, ControlArgs, FailOn, QueryArgs, ResolveArgs,
    ResolveFormat, ServeArgs, TraceArgs, TraceFormat,
};
use crate::config::UpstreamConfig;
use crate::lab::{Lab, LabConfig, LabPort};
use crate::question::DigQuestion;
use crate::resolve::hints::{HintServer, RootHints};
use crate::resolve::{Checking, ResolveError, Resolver, ResolverConfig};
use crate::server::{self, Counters, ServeError};
use crate::trace::NullObserver;
use crate::trace::recorder::{Context, TraceRecorder};
use crate::trace::render::{self, RenderError};
use crate::trace::tree::{self, Trace, TraceRecord};
use crate::validate::Security;
use crate::validate::anchor::TrustAnchors;

/// Why a command could not run (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The subcommand is not built yet.
    #[error("`rootwalk {0}` is not implemented yet")]
    NotImplemented(&'static str),
    /// The domain name argument is invalid.
    #[error("invalid domain name `{name}`: {problem}")]
    BadName {
        /// The argument.
        name: String,
        /// What is wrong.
        problem: String,
    },
    /// The question's words do not make a question.
    #[error(transparent)]
    Question(#[from] crate::question::QuestionError),
    /// The server to start a walk at has no address.
    #[error("cannot start at `{server}`: {problem}")]
    StartServer {
        /// The server as given.
        server: String,
        /// Why.
        problem: String,
    },
    /// The root hints could not be read.
    #[error(transparent)]
    Hints(#[from] crate::resolve::hints::HintsError),
    /// The lab could not start.
    #[error(transparent)]
    Lab(#[from] crate::lab::LabError),
    /// The daemon could not start.
    #[error(transparent)]
    Serve(#[from] crate::server::ServeError),
    /// The daemon's configuration is unusable.
    #[error(transparent)]
    Config(#[from] crate::server::ConfigError),
    /// The bench could not run.
    #[error(transparent)]
    Bench(#[from] crate::bench::BenchError),
    /// The DNSSEC trust anchors could not be read.
    #[error(transparent)]
    Anchor(#[from] crate::validate::anchor::AnchorError),
    /// Output could not be serialised.
    #[error("cannot write JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// The delegation check could not run.
    #[error(transparent)]
    Check(#[from] crate::check::CheckError),
    /// The trace could not be rendered.
    #[error(transparent)]
    Render(#[from] crate::trace::render::RenderError),
    /// Writing the output failed.
    #[error("cannot write the output: {0}")]
    Output(#[source] std::io::Error),
    /// A control command failed.
    #[error(transparent)]
    Control(#[from] crate::server::error::ControlError),
    /// The async runtime could not start.
    #[error("cannot start the runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

/// Runs one subcommand to completion.
pub async fn run(command: Command) -> Result<ExitCode, CliError> {
    match command {
        Command::Lab(args) => {
            let config = LabConfig::try_from(&args)?;
            crate::lab::run(
                config,
                args.hints_out.as_deref(),
                args.anchor_out.as_deref(),
            )
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Resolve(args) => resolve(&args).await,
        Command::Trace(args) => trace(&args).await,
        Command::Serve(args) => serve(&args).await,
        Command::Bench(args) => bench(&args).await,
        Command::Check(args) => check(&args).await,
        Command::Control(args) => control(&args).await,
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
    /// Builds the upstream from `--lab`, `--root-hints`, `--upstream-port`
    /// (or the same keys of the serve file).
    pub async fn from_config(args: &UpstreamConfig) -> Result<Self, CliError> {
        let mut config = ResolverConfig::internet();
        let mut lab = None;
        if args.lab {
            let started = start_lab().await?;
            config.hints = started.hints();
            config.upstream_port = started.port();
            config.limits.infra.min_rto = crate::lab::RESOLVER_RTO_FLOOR;
            lab = Some(started);
        } else if let Some(path) = &args.root_hints {
            config.hints = RootHints::from_file(path)?;
        }
        if let Some(port) = args.upstream_port {
            config.upstream_port = port;
        }
        config.families = args.families;
        // DNSSEC: on unless turned off; from the given anchors, the lab's
        // own root key, or IANA's.
        if !args.no_dnssec {
            config.trust_anchors = Some(match (&args.trust_anchor, &lab) {
                (Some(path), _) => TrustAnchors::from_file(path)?,
                (None, Some(lab)) => lab.trust_anchor(),
                (None, None) => TrustAnchors::iana_root(),
            });
        }
        Ok(Self { config, lab })
    }
}

/// Reads the dig-style words of `resolve` and `trace`.
pub fn question(args: &QueryArgs) -> Result<DigQuestion, CliError> {
    Ok(crate::question::parse(
        &args.words,
        args.reverse.as_deref(),
    )?)
}

async fn resolve(args: &ResolveArgs) -> Result<ExitCode, CliError> {
    let q = question(&args.query)?;
    if q.trace {
        let format = match args.format {
            ResolveFormat::Text => TraceFormat::Text,
            ResolveFormat::Json => TraceFormat::Json,
        };
        return trace_walk(&args.query, &q, format, None, false).await;
    }
    let upstream = Upstream::from_config(&(&args.query.upstream).into()).await?;
    let config = start_at(&upstream.config, q.server.as_deref()).await?;
    let resolver = Resolver::new(config);
    let trace = trace_question_with(&resolver, &q.name, q.rtype, checking(&q)).await;
    let text = if q.short {
        render::short_with(&trace, q.dnssec)
    } else {
        match args.format {
            ResolveFormat::Text => render::answer::text_with(&trace, q.dnssec),
            ResolveFormat::Json => render::answer::json(&trace)?,
        }
    };
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(CliError::Output)?;
    unreachable_hint(&trace, &args.query.upstream);
    Ok(exit_code(&trace))
}

/// What `+cd` asks for: bogus data given with its verdict, or refused.
fn checking(q: &DigQuestion) -> Checking {
    if q.checking_disabled {
        Checking::Disabled
    } else {
        Checking::Enabled
    }
}

/// 1 when the resolution failed, else 0.
fn exit_code(trace: &Trace) -> ExitCode {
    if trace.outcome.error.is_some() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// When a walk failed without a single reply from upstream, says so on
/// stderr; from the built-in Internet hints, suggests `--lab`.
fn unreachable_hint(trace: &Trace, upstream: &crate::cli::UpstreamArgs) {
    if let Some(hint) =
        render::unreachable_hint(trace, upstream.lab || upstream.root_hints.is_some())
    {
        eprintln!("rootwalk: {hint}");
    }
}

/// The resolver configuration for a walk that starts at `server` (an
/// address or a host name, `@SERVER` or `--server`) instead of the root:
/// hints naming only that server, and full names asked (no QNAME
/// minimisation: the server need not serve the zones above the name).
/// Side resolutions start there too. Without a server, `base` as it is.
pub async fn start_at(
    base: &ResolverConfig,
    server: Option<&str>,
) -> Result<ResolverConfig, CliError> {
    let Some(server) = server else {
        return Ok(base.clone());
    };
    let mut config = base.clone();
    config.hints = RootHints {
        servers: vec![start_server(base, server).await?],
    };
    config.limits.max_minimise_steps = 0;
    // No chain of trust leads from the root to an arbitrary start server.
    config.trust_anchors = None;
    Ok(config)
}

/// `--from ZONE`: resolves the NS set of `zone` (an ancestor of `name`)
/// untraced, so the cache holds that zone cut and the traced walk of
/// `name` starts at its servers; side resolutions still start from the
/// root (cached by then).
async fn start_from_zone(resolver: &Resolver, zone: &Name, name: &Name) -> Result<(), CliError> {
    let fail = |problem: String| CliError::StartServer {
        server: format!("--from {zone}"),
        problem,
    };
    if !zone.zone_of(name) {
        return Err(fail(format!("{name} is not in {zone}")));
    }
    let outcome = resolver
        .resolve(zone, RecordType::NS, &NullObserver)
        .await
        .map_err(|f| fail(f.error.to_string()))?;
    if crate::check::probe::ns_targets(&outcome.answers).is_empty() {
        return Err(fail(format!(
            "{zone} has no NS set ({}): not a zone",
            rcode_name(outcome.rcode)
        )));
    }
    Ok(())
}

/// One start server: an address as given, or a host name resolved from
/// `base`'s hints.
async fn start_server(base: &ResolverConfig, server: &str) -> Result<HintServer, CliError> {
    let fail = |problem: String| CliError::StartServer {
        server: server.to_string(),
        problem,
    };
    let trimmed = server.trim_start_matches('[').trim_end_matches(']');
    if let Ok(addr) = trimmed.parse::<std::net::IpAddr>() {
        let name = Name::from_ascii(addr.to_string().replace(':', "-"))
            .map_err(|e| fail(e.to_string()))?;
        return Ok(HintServer {
            name,
            addrs: vec![addr],
        });
    }
    let mut name = Name::from_str(server).map_err(|e| fail(e.to_string()))?;
    name.set_fqdn(true);
    let resolver = Resolver::new(base.clone());
    let addrs: Vec<_> = crate::check::resolve_addresses(&resolver, &name, &NullObserver)
        .await
        .into_iter()
        .collect();
    if addrs.is_empty() {
        return Err(fail(format!("no address found for {name}")));
    }
    Ok(HintServer { name, addrs })
}

/// `rootwalk check`: the delegation health check; exit code 1 when it
/// found errors.
async fn check(args: &CheckArgs) -> Result<ExitCode, CliError> {
    let mut zone = Name::from_str(&args.zone).map_err(|e| CliError::BadName {
        name: args.zone.clone(),
        problem: e.to_string(),
    })?;
    zone.set_fqdn(true);
    let upstream = Upstream::from_config(&(&args.upstream).into()).await?;
    let report = crate::check::run(&zone, upstream.config.clone()).await?;
    let text = match args.format {
        CheckFormat::Text => report.to_text(),
        CheckFormat::Json => {
            let mut json = serde_json::to_string_pretty(&report).map_err(CliError::Json)?;
            json.push('\n');
            json
        }
    };
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(CliError::Output)?;
    let failing = match args.fail_on {
        FailOn::Error => report.summary.errors,
        FailOn::Warning => report.summary.errors + report.summary.warnings,
    };
    Ok(if failing > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `rootwalk serve`: bind, answer until SIGINT or SIGTERM, print the
/// counters (also on SIGUSR1).
async fn serve(args: &ServeArgs) -> Result<ExitCode, CliError> {
    let settings = server::config::settings(&args.into())?;
    if let Some(user) = &settings.user {
        // Fail before binding anything when the user does not exist or
        // cannot be switched to.
        server::privileges::require_root(&server::privileges::lookup(user)?)?;
    }
    let upstream = Upstream::from_config(&settings.upstream).await?;
    let (daemon, listeners) = server::prepare(&settings, upstream.config.clone()).await?;
    if let Some(user) = &settings.user {
        server::drop_privileges(user, &listeners)?;
    }
    let reload = Arc::new(server::Reloader::new(
        args.into(),
        settings.clone(),
        daemon.policy(),
        daemon.in_force(),
    ));
    let daemon = daemon.with_reloader(Arc::clone(&reload));
    let shutdown = signals::shutdown()?;
    let reporter = signals::report_on_usr1(daemon.counters())?;
    let reloader = signals::reload_on_hup(reload)?;
    for (transport, addr) in listeners.local_addrs() {
        println!("rootwalk serve: listening on {addr} ({transport})");
    }
    server::log_start(&settings, &listeners, &daemon.resolver());
    let counters = daemon.run(listeners, shutdown).await?;
    if let Some(reporter) = reporter {
        reporter.abort();
    }
    if let Some(reloader) = reloader {
        reloader.abort();
    }
    println!("rootwalk serve: {counters}");
    drop(upstream);
    Ok(ExitCode::SUCCESS)
}

/// The signals `serve` listens to, installed before it starts serving so a
/// failure is reported at once.
mod signals {
    use super::{Arc, Counters, ServeError};

    /// A future that completes on SIGINT or SIGTERM.
    #[cfg(unix)]
    pub fn shutdown() -> Result<impl Future<Output = ()>, ServeError> {
        use tokio::signal::unix::{SignalKind, signal};
        let install = |kind, name| {
            signal(kind).map_err(|source| ServeError::Signal {
                signal: name,
                source,
            })
        };
        let mut interrupt = install(SignalKind::interrupt(), "SIGINT")?;
        let mut terminate = install(SignalKind::terminate(), "SIGTERM")?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        })
    }

    /// A future that completes on Ctrl-C.
    #[cfg(not(unix))]
    pub fn shutdown() -> Result<impl Future<Output = ()>, ServeError> {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }

    /// Prints the counters to stdout on every SIGUSR1, until aborted.
    #[cfg(unix)]
    pub fn report_on_usr1(
        counters: Arc<Counters>,
    ) -> Result<Option<tokio::task::JoinHandle<()>>, ServeError> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut usr1 =
            signal(SignalKind::user_defined1()).map_err(|source| ServeError::Signal {
                signal: "SIGUSR1",
                source,
            })?;
        Ok(Some(tokio::spawn(async move {
            while usr1.recv().await.is_some() {
                println!("rootwalk serve: {}", counters.snapshot());
            }
        })))
    }

    /// Reloads the config file on every SIGHUP, until aborted, through
    /// `reloader` (see [`crate::server::Reloader::reload`]); says on stdout
    /// whether it worked, and which changed settings wait for the next
    /// start.
    #[cfg(unix)]
    pub fn reload_on_hup(
        reloader: Arc<crate::server::Reloader>,
    ) -> Result<Option<tokio::task::JoinHandle<()>>, ServeError> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hup = signal(SignalKind::hangup()).map_err(|source| ServeError::Signal {
            signal: "SIGHUP",
            source,
        })?;
        Ok(Some(tokio::spawn(async move {
            while hup.recv().await.is_some() {
                match reloader.reload() {
                    Ok(reloaded) if reloaded.restart_needed.is_empty() => {
                        println!("rootwalk serve: configuration reloaded");
                    }
                    Ok(reloaded) => println!(
                        "rootwalk serve: configuration reloaded; {} at the next start",
                        reloaded.restart_needed.join(", ")
                    ),
                    Err(error) => println!("rootwalk serve: reload failed: {error}"),
                }
            }
        })))
    }

    /// No SIGHUP here.
    #[cfg(not(unix))]
    pub fn reload_on_hup(
        _reloader: Arc<crate::server::Reloader>,
    ) -> Result<Option<tokio::task::JoinHandle<()>>, ServeError> {
        Ok(None)
    }

    /// No SIGUSR1 here.
    #[cfg(not(unix))]
    pub fn report_on_usr1(
        _counters: Arc<Counters>,
    ) -> Result<Option<tokio::task::JoinHandle<()>>, ServeError> {
        Ok(None)
    }
}

/// `rootwalk control`: one command to a running daemon, its output on
/// stdout.
async fn control(args: &ControlArgs) -> Result<ExitCode, CliError> {
    let command = crate::server::control::ControlCommand::try_from(&args.command)
        .map_err(|(name, problem)| CliError::BadName { name, problem })?;
    let mut stdout = std::io::stdout().lock();
    crate::server::control::request(&args.socket, &command, &mut stdout).await?;
    stdout.flush().map_err(CliError::Output)?;
    Ok(ExitCode::SUCCESS)
}

async fn trace(args: &TraceArgs) -> Result<ExitCode, CliError> {
    let q = question(&args.query)?;
    let server = match (&q.server, &args.server) {
        (Some(at), Some(flag)) if at != flag => {
            return Err(CliError::StartServer {
                server: format!("@{at} and --server {flag}"),
                problem: "two start servers given; use one".to_string(),
            });
        }
        (at, flag) => at.clone().or_else(|| flag.clone()),
    };
    let q = DigQuestion { server, ..q };
    let from = args
        .from
        .as_deref()
        .map(|zone| {
            let mut name = Name::from_str(zone).map_err(|e| CliError::BadName {
                name: zone.to_string(),
                problem: e.to_string(),
            })?;
            name.set_fqdn(true);
            Ok::<_, CliError>(name)
        })
        .transpose()?;
    trace_walk(
        &args.query,
        &q,
        args.format,
        from.as_ref(),
        args.all_servers,
    )
    .await
}

/// Traces `q` and prints it in `format` (`+short`: the answer data only).
async fn trace_walk(
    args: &QueryArgs,
    q: &DigQuestion,
    format: TraceFormat,
    from: Option<&Name>,
    all_servers: bool,
) -> Result<ExitCode, CliError> {
    let upstream = Upstream::from_config(&(&args.upstream).into()).await?;
    let config = start_at(&upstream.config, q.server.as_deref()).await?;
    let resolver = Resolver::new(config.clone());
    if let Some(zone) = from {
        start_from_zone(&resolver, zone, &q.name).await?;
    }
    let mut trace = trace_question_with(&resolver, &q.name, q.rtype, checking(q)).await;
    if all_servers {
        let limits = &config.limits;
        let transport = crate::net::Transport::new(limits.query_timeout, limits.edns_payload);
        let prober = crate::check::probe::Prober::new(transport, config.upstream_port);
        crate::check::all_servers::survey(&mut trace, &resolver, &prober).await;
    }
    let output = match format {
        _ if q.short => render::short_with(&trace, q.dnssec).into_bytes(),
        TraceFormat::Text if q.dnssec => render::text::render_with(&trace, q.dnssec).into_bytes(),
        _ => render_trace(&trace, format)?,
    };
    std::io::stdout()
        .write_all(&output)
        .map_err(CliError::Output)?;
    unreachable_hint(&trace, &args.upstream);
    Ok(exit_code(&trace))
}

/// Resolves `name`/`rtype` with `resolver` under a [`TraceRecorder`] and
/// returns the trace tree; a failed resolution is a trace too. The
/// outcome's `dnssec` is the verdict (see `dnssec_verdict`).
pub async fn trace_question(resolver: &Resolver, name: &Name, rtype: RecordType) -> Trace {
    trace_question_with(resolver, name, rtype, Checking::Enabled).await
}

/// [`trace_question`] with `checking`: [`Checking::Disabled`] (dig's
/// `+cd`) gives a bogus answer as an answer, its verdict in the outcome's
/// `dnssec`, instead of a failure.
pub async fn trace_question_with(
    resolver: &Resolver,
    name: &Name,
    rtype: RecordType,
    checking: Checking,
) -> Trace {
    let recorder = TraceRecorder::new();
    let result = resolver
        .resolve_with(name, rtype, &recorder, checking)
        .await;
    let question = tree::Question {
        name: name.to_string(),
        qtype: rtype.to_string(),
    };
    let (outcome, stats, security) = match result {
        Ok(outcome) => (
            tree::Outcome {
                rcode: rcode_name(outcome.rcode),
                error: None,
                answers: outcome.answers.iter().map(TraceRecord::from).collect(),
                authority: outcome.authorities.iter().map(TraceRecord::from).collect(),
                dnssec: None,
                signatures: outcome.signatures.iter().map(TraceRecord::from).collect(),
                proof: outcome.proof.iter().map(TraceRecord::from).collect(),
            },
            outcome.stats,
            outcome.security,
        ),
        Err(failure) => {
            let security = match &failure.error {
                ResolveError::Bogus(reason) => Security::Bogus(reason.clone()),
                _ => Security::Indeterminate,
            };
            (
                tree::Outcome {
                    rcode: "SERVFAIL".to_string(),
                    error: Some(failure.error.to_string()),
                    answers: Vec::new(),
                    authority: Vec::new(),
                    dnssec: None,
                    signatures: Vec::new(),
                    proof: Vec::new(),
                },
                failure.stats,
                security,
            )
        }
    };
    let mut trace = recorder.trace(Context {
        question,
        outcome,
        upstream_queries: stats.upstream_queries,
        wall_time: stats.elapsed,
    });
    trace.outcome.dnssec = dnssec_verdict(&security, trace.has_dnssec_notes());
    trace
}

/// The trace's DNSSEC verdict on the answer: `secure`, `insecure`,
/// `bogus: REASON`, or `indeterminate` when the walk validated (it left
/// DNSSEC notes) but could not conclude. `None` when the resolver did not
/// validate: no note, and nothing but indeterminate to say.
fn dnssec_verdict(security: &Security, validated: bool) -> Option<String> {
    match security {
        Security::Secure => Some("secure".to_string()),
        Security::Insecure => Some("insecure".to_string()),
        Security::Bogus(reason) => Some(format!("bogus: {reason}")),
        Security::Indeterminate => validated.then(|| "indeterminate".to_string()),
    }
}

/// The trace in `format`, as bytes for stdout.
pub fn render_trace(trace: &Trace, format: TraceFormat) -> Result<Vec<u8>, RenderError> {
    Ok(match format {
        TraceFormat::Text => render::text::render(trace).into_bytes(),
        TraceFormat::Json => render::json::render(trace)?.into_bytes(),
        TraceFormat::Dot => render::dot::render(trace).into_bytes(),
        TraceFormat::Svg => render::dot::svg(&render::dot::render(trace))?,
    })
}

/// The RCODE's mnemonic as dig prints it (RFC 6895 §2.3).
pub use crate::trace::tree::rcode_name;

/// The built-in lab on its default addresses and a free port, latency on:
/// what `--lab` means for every command.
async fn start_lab() -> Result<Lab, CliError> {
    let config = LabConfig {
        port: LabPort::Auto,
        ..LabConfig::default()
    };
    Ok(Lab::start(config).await?)
}

/// `rootwalk bench`: the lab's glue cases, or the names of `--names`.
async fn bench(args: &BenchArgs) -> Result<ExitCode, CliError> {
    use crate::bench::{self, Bar, BenchError};
    let entries = match &args.names {
        Some(path) => Some(bench::read_names(path)?),
        None if args.upstream.lab => None,
        None => return Err(BenchError::NoMode.into()),
    };
    if let Some(path) = &args.plot {
        // Fail before measuring, not a minute later.
        std::fs::File::create(path).map_err(|source| BenchError::PlotIo {
            path: path.display().to_string(),
            source,
        })?;
    }
    let format = crate::bench::Format::from(args);
    let upstream = Upstream::from_config(&(&args.upstream).into()).await?;
    let items = entries.as_ref().map_or(bench::LAB_CASES.len(), Vec::len);
    // Hidden off a terminal by indicatif; also when JSON or CSV goes to a
    // pipe, where a bar on the terminal would only interleave with it.
    let show_bar = format == bench::Format::Table || std::io::stdout().is_terminal();
    let bar = Bar::new((items * args.runs) as u64, show_bar);
    let (text, strips, title) = match (&entries, &upstream.lab) {
        (Some(entries), lab) => {
            let report =
                bench::run_names(&upstream.config, lab.as_ref(), entries, args.runs, &bar).await;
            let title = format!(
                "rootwalk bench --names: cold resolution time, {} runs per name",
                args.runs
            );
            (report.render(format), report.strips(), title)
        }
        (None, Some(lab)) => {
            let report = bench::run_lab_with(lab, bench::LAB_CASES, args.runs, &bar).await;
            let title = format!(
                "rootwalk bench --lab: cold resolution time, {} runs per case",
                args.runs
            );
            (report.render(format), report.strips(), title)
        }
        (None, None) => return Err(BenchError::NoMode.into()),
    };
    bar.finish();
    if let Some(path) = &args.plot {
        bench::write_plot(path, &title, &strips)?;
    }
    let text = text.map_err(CliError::Json)?;
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(CliError::Output)?;
    Ok(ExitCode::SUCCESS)
}
