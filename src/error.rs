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
