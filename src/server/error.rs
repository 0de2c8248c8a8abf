//! Errors of the daemon: binding its sockets, reading its configuration.

use std::net::SocketAddr;

/// Why the daemon could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A listen address could not be bound.
    #[error("cannot listen on {addr} ({transport}): {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// "UDP" or "TCP".
        transport: &'static str,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// A listener thread or its runtime could not be started.
    #[error("cannot start a listener thread: {0}")]
    Runtime(#[source] std::io::Error),
    /// Nothing to listen on.
    #[error("no address to listen on")]
    NoListeners,
    /// The control socket could not be opened.
    #[error("cannot open the control socket {path}: {source}")]
    Control {
        /// The socket's path.
        path: String,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The `user` to run as is not in the password database.
    #[error("user `{user}` does not exist (key `user` / flag --user)")]
    UnknownUser {
        /// The name given.
        user: String,
    },
    /// Switching to `user` needs root.
    #[error(
        "cannot switch to user `{user}`: the daemon runs as uid {uid}, not root \
         (start it as root, or drop `user`/--user)"
    )]
    NotRoot {
        /// The name given.
        user: String,
        /// The uid the daemon runs as.
        uid: u32,
    },
    /// A step of the switch to `user` failed; the daemon does not go on.
    #[error("cannot switch to user `{user}`: {step} failed: {source}")]
    Privileges {
        /// The name given.
        user: String,
        /// The call that failed (`setgroups`, `setgid`, `setuid`, ...).
        step: &'static str,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// A signal handler could not be installed.
    #[error("cannot install the {signal} handler: {source}")]
    Signal {
        /// Which signal.
        signal: &'static str,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
}

/// Why the configuration file or a flag was rejected.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, has an unknown key, or a value of the
    /// wrong type (the TOML error names the key and shows the line).
    #[error("config file {path}: {source}")]
    Syntax {
        /// The file.
        path: String,
        /// What the parser said.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// A key has a value of the right type that is still unusable.
    #[error("config file {path}: key `{key}`: {problem}")]
    Value {
        /// The file.
        path: String,
        /// The key.
        key: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// A command-line flag has an unusable value.
    #[error("{flag}: {problem}")]
    Flag {
        /// The flag.
        flag: &'static str,
        /// What is wrong.
        problem: String,
    },
}

/// Why a control command (`rootwalk control`) failed.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The socket could not be connected to.
    #[error(
        "cannot connect to the control socket {path}: {source} (is `rootwalk serve --control-socket` running, and may this user open it?)"
    )]
    Connect {
        /// The socket's path.
        path: String,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// Reading or writing the socket failed.
    #[error("control socket {path}: {source}")]
    Io {
        /// The socket's path.
        path: String,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The daemon did not answer in time.
    #[error("control socket {path}: no answer within {after:?}")]
    Timeout {
        /// The socket's path.
        path: String,
        /// How long the client waited.
        after: std::time::Duration,
    },
    /// The daemon answered with something that is not the protocol.
    #[error("control socket {path}: {problem}")]
    Protocol {
        /// The socket's path.
        path: String,
        /// What was wrong.
        problem: String,
    },
    /// The daemon refused or failed the command; its reason.
    #[error("the daemon said: {0}")]
    Daemon(String),
    /// The output could not be written.
    #[error("cannot write the output: {0}")]
    Output(#[source] std::io::Error),
}
