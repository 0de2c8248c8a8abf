//! Errors of the lab: a bad manifest or zone file, a socket that cannot be
//! bound, a malformed prefix.

use std::net::SocketAddr;

use hickory_proto::rr::Name;

/// Starting or running the lab failed.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The manifest is not valid TOML or describes an impossible lab.
    #[error("{}: {problem}", at(file, *line))]
    Manifest {
        /// The manifest file.
        file: String,
        /// 1-based line, when known.
        line: Option<usize>,
        /// What is wrong.
        problem: String,
    },
    /// A zone file does not parse or lacks what every zone needs.
    #[error("{}: {problem}", at(file, *line))]
    Zone {
        /// The zone file.
        file: String,
        /// 1-based line, when known.
        line: Option<usize>,
        /// What is wrong.
        problem: String,
    },
    /// The `--prefix` argument is not of the form `127.X.Y`.
    #[error(
        "bad lab prefix `{input}`: expected `127.X.Y` with X in 0..=255 and Y in 0..=248 (the lab uses Y to Y+7)"
    )]
    Prefix {
        /// What was given.
        input: String,
    },
    /// A server socket could not be bound.
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// The address and port.
        addr: SocketAddr,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// [`super::Lab::remove_delegation`] found no delegation of `child` in
    /// any served zone `parent` (or `child` is not below `parent`).
    #[error("no zone {parent} of the lab delegates {child}")]
    NoDelegation {
        /// The zone asked to drop the delegation (boxed: a `Name` is large).
        parent: Box<Name>,
        /// The delegated zone.
        child: Box<Name>,
    },
    /// Waiting for Ctrl-C failed.
    #[error("cannot wait for Ctrl-C: {0}")]
    Signal(#[source] std::io::Error),
}

/// `file:line` or just `file`.
fn at(file: &str, line: Option<usize>) -> String {
    match line {
        Some(line) => format!("{file}:{line}"),
        None => file.to_string(),
    }
}
