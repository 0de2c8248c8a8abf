//! Typed errors, one enum per layer. A referral, NODATA or NXDOMAIN is never
//! an error; an `Err` means the work itself could not be done.

/// Reading root hints failed.
#[derive(Debug, thiserror::Error)]
pub enum HintsError {
    /// The file could not be read.
    #[error("cannot read root hints {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// A line is not a valid hints record.
    #[error("{source_name}:{line}: {problem}")]
    Syntax {
        /// The file or input name.
        source_name: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// No server with an address was found.
    #[error("{source_name}: no root server with an address")]
    Empty {
        /// The file or input name.
        source_name: String,
    },
}

/// Why a resolution failed (answered SERVFAIL). A negative answer is not a
/// failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// The per-request upstream query budget is spent.
    #[error("upstream query budget of {0} spent")]
    QueryBudget(u32),
    /// Too many referrals in one walk.
    #[error("more than {0} referrals")]
    TooManyReferrals(u32),
    /// The CNAME chain is too long.
    #[error("CNAME chain longer than {0}")]
    CnameChainTooLong(u32),
    /// The CNAME chain comes back to a name already on it.
    #[error("CNAME loop at {0}")]
    CnameLoop(hickory_proto::rr::Name),
    /// Side resolutions nested too deep.
    #[error("side resolutions nested deeper than {0}")]
    TargetDepth(u32),
    /// A side resolution needs the answer of a resolution up its own chain
    /// (a glueless cycle, TsuNAME).
    #[error("dependency cycle: resolving {0} needs {0} itself")]
    Cycle(hickory_proto::rr::Name),
    /// Every server of the zone failed, and no glueless name could be
    /// resolved to a new one.
    #[error("no server of {zone} gave a usable answer")]
    NoUsableServer {
        /// The zone.
        zone: hickory_proto::rr::Name,
    },
    /// The request took longer than the request timeout.
    #[error("gave up after {0:?}")]
    Timeout(std::time::Duration),
    /// The same question failed moments ago (RFC 9520 §3.2).
    #[error("failed recently; not retried yet (RFC 9520)")]
    RecentFailure,
}

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
    /// The record type argument is unknown.
    #[error("unknown record type `{0}`")]
    BadType(String),
    /// The root hints could not be read.
    #[error(transparent)]
    Hints(#[from] HintsError),
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
    /// The async runtime could not start.
    #[error("cannot start the runtime: {0}")]
    Runtime(#[source] std::io::Error),
}
