//! The control socket: `rootwalk control --socket PATH COMMAND` talks to a
//! running daemon over a Unix stream socket that only its owner may open
//! (mode [`CONTROL_SOCKET_MODE`], as `unbound-control`'s local socket).
//!
//! # Protocol
//!
//! One command per connection, in UTF-8 text:
//!
//! ```text
//! client: rootwalk-control/1 COMMAND [ARGUMENT]\n      (one line, at most MAX_CONTROL_REQUEST bytes)
//! daemon: ok\n  or  error: REASON\n                    (the status line)
//! daemon: zero or more lines of output, then it closes the connection
//! ```
//!
//! The commands ([`ControlCommand`]):
//!
//! | command | output |
//! |---|---|
//! | `stats` | one `key=value` line per counter and cache size |
//! | `reload` | re-reads the configuration as SIGHUP does; one line, and a warning line for settings that wait for a restart |
//! | `flush NAME` | drops NAME's RRsets, negative answers and reply copies; one line with the count |
//! | `flush-zone ZONE` | drops everything at or below ZONE; one line with the count |
//! | `flush-all` | empties the RRset and negative caches; one line with the count |
//! | `dump-cache` | one line per cached RRset in zone-file format, TTLs as remaining; negative entries as `; ` comment lines |
//!
//! # Bounds
//!
//! A request is read within [`ServeLimits::control_read_timeout`]
//! (default [`CONTROL_READ_TIMEOUT`]) and up to [`MAX_CONTROL_REQUEST`]
//! bytes; each chunk of the reply is written within
//! [`CONTROL_WRITE_TIMEOUT`]. At most [`ServeLimits::control_connections`]
//! (default [`MAX_CONTROL_CONNECTIONS`]) connections are served at once;
//! one more is told `error: busy` and closed. One `dump-cache` runs at a
//! time, so at most one copy of the cache's text is in memory.

use std::fmt;
use std::fs::Permissions;
use std::os::unix::fs::{FileTypeExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::rr::Name;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tracing::{debug, info};

use super::counters::{CounterSnapshot, Counters};
use super::error::{ControlError, ServeError};
use super::limits::ServeLimits;
use super::local::parse_zone_name;
use super::reload::Reloader;
use crate::resolve::Resolver;

/// The first word of every request: the protocol and its version, so a
/// client and daemon of different versions fail with a clear error.
pub const CONTROL_PROTOCOL: &str = "rootwalk-control/1";

/// Largest request line, newline included: the protocol word, a command
/// and one domain name (at most 255 bytes as text, more with escapes).
pub const MAX_CONTROL_REQUEST: usize = 1024;

/// How long a client may take, from accept, to send its request line. The
/// control client sends it at once; a silent peer must not hold a slot.
pub const CONTROL_READ_TIMEOUT: Duration = Duration::from_secs(2);

/// How long one chunk of a reply ([`CONTROL_WRITE_CHUNK`] bytes) may take
/// to be written: a client that stops reading a dump frees its slot.
pub const CONTROL_WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// Bytes written per write of a reply.
pub const CONTROL_WRITE_CHUNK: usize = 64 * 1024;

/// Control connections served at once. An operator runs one command at a
/// time; a few more cover monitoring scripts.
pub const MAX_CONTROL_CONNECTIONS: usize = 4;

/// The control socket's mode: read and write for its owner only. Anyone
/// who can connect can flush the cache and read its contents.
pub const CONTROL_SOCKET_MODE: u32 = 0o600;

/// How long the client waits for the daemon between two reads (a large
/// dump is streamed, so this bounds silence, not the whole reply).
pub const CONTROL_CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

/// Connections the kernel queues before the daemon accepts them.
const CONTROL_BACKLOG: i32 = 16;

/// Pause after a failed accept (e.g. out of file descriptors).
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// One control command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlCommand {
    /// Print the counters and cache sizes.
    Stats,
    /// Re-read the configuration, as SIGHUP.
    Reload,
    /// Drop everything cached under exactly this name.
    Flush(Name),
    /// Drop everything cached at or below this zone.
    FlushZone(Name),
    /// Drop everything cached.
    FlushAll,
    /// Print the cached RRsets in zone-file format.
    DumpCache,
}

impl ControlCommand {
    /// Reads a command's words (`flush www.example.`), as in a request
    /// line after the protocol word.
    pub fn parse(words: &str) -> Result<Self, String> {
        let mut parts = words.split_ascii_whitespace();
        let verb = parts.next().ok_or("no command")?;
        let argument = parts.next();
        if parts.next().is_some() {
            return Err(format!("`{verb}`: too many arguments"));
        }
        let name = |what: &str| -> Result<Name, String> {
            let text = argument.ok_or_else(|| format!("`{verb}` needs a {what}"))?;
            parse_zone_name(text)
        };
        let none = |command: ControlCommand| match argument {
            Some(extra) => Err(format!("`{verb}` takes no argument (got `{extra}`)")),
            None => Ok(command),
        };
        match verb {
            "stats" => none(Self::Stats),
            "reload" => none(Self::Reload),
            "flush-all" => none(Self::FlushAll),
            "dump-cache" => none(Self::DumpCache),
            "flush" => Ok(Self::Flush(name("name")?)),
            "flush-zone" => Ok(Self::FlushZone(name("zone")?)),
            other => Err(format!(
                "unknown command `{other}` (stats, reload, flush NAME, flush-zone ZONE, \
                 flush-all, dump-cache)"
            )),
        }
    }

    /// The request line sent for this command, newline included.
    pub fn request_line(&self) -> String {
        format!("{CONTROL_PROTOCOL} {self}\n")
    }
}

impl fmt::Display for ControlCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Stats => f.write_str("stats"),
            Self::Reload => f.write_str("reload"),
            Self::Flush(name) => write!(f, "flush {name}"),
            Self::FlushZone(zone) => write!(f, "flush-zone {zone}"),
            Self::FlushAll => f.write_str("flush-all"),
            Self::DumpCache => f.write_str("dump-cache"),
        }
    }
}

/// What the control commands act on.
pub struct ControlState {
    counters: Arc<Counters>,
    resolver: Resolver,
    reloader: Option<Arc<Reloader>>,
    /// One dump at a time.
    dumping: Semaphore,
}

impl ControlState {
    /// Commands act on `counters`, `resolver` and, for `reload`,
    /// `reloader` (without one, `reload` is an error).
    pub fn new(
        counters: Arc<Counters>,
        resolver: Resolver,
        reloader: Option<Arc<Reloader>>,
    ) -> Self {
        Self {
            counters,
            resolver,
            reloader,
            dumping: Semaphore::new(1),
        }
    }
}

/// The bound control socket; dropping it removes the socket file.
#[derive(Debug)]
pub struct ControlListener {
    listener: UnixListener,
    path: PathBuf,
}

impl ControlListener {
    /// Where the socket is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ControlListener {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Binds the control socket at `path` with mode [`CONTROL_SOCKET_MODE`],
/// set before the socket listens, so no one else can connect in between.
/// A socket file left by a daemon that is gone is replaced; one a live
/// daemon answers on, or a file that is not a socket, is an error.
pub fn bind(path: &Path) -> Result<ControlListener, ServeError> {
    let fail = |source: std::io::Error| ServeError::Control {
        path: path.display().to_string(),
        source,
    };
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            return Err(fail(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "a file that is not a socket is in the way",
            )));
        }
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(fail(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                "another daemon answers on it",
            )));
        }
        std::fs::remove_file(path).map_err(fail)?;
    }
    let socket =
        socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None).map_err(fail)?;
    socket
        .bind(&socket2::SockAddr::unix(path).map_err(fail)?)
        .map_err(fail)?;
    let listening = std::fs::set_permissions(path, Permissions::from_mode(CONTROL_SOCKET_MODE))
        .and_then(|()| socket.listen(CONTROL_BACKLOG))
        .and_then(|()| socket.set_nonblocking(true));
    if let Err(error) = listening {
        let _ = std::fs::remove_file(path);
        return Err(fail(error));
    }
    let std_listener = std::os::unix::net::UnixListener::from(std::os::fd::OwnedFd::from(socket));
    let listener = match UnixListener::from_std(std_listener) {
        Ok(listener) => listener,
        Err(error) => {
            let _ = std::fs::remove_file(path);
            return Err(fail(error));
        }
    };
    Ok(ControlListener {
        listener,
        path: path.to_path_buf(),
    })
}

/// Serves control connections on `listener` until `shutdown` turns true;
/// connections still open then end within their deadlines (the caller
/// bounds the wait). The socket file is removed when the loop ends.
pub async fn serve(
    listener: ControlListener,
    state: Arc<ControlState>,
    limits: ServeLimits,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(limits.control_connections.max(1)));
    let read_timeout = limits.control_read_timeout;
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            biased;
            _ = super::stopped(&mut shutdown) => break,
            accepted = listener.listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => match Arc::clone(&slots).try_acquire_owned() {
                Ok(slot) => {
                    let state = Arc::clone(&state);
                    connections.spawn(async move {
                        answer(stream, &state, read_timeout).await;
                        drop(slot);
                    });
                }
                Err(_) => {
                    debug!("control: all connections taken, turning one away");
                    // Never blocks: at worst the client sees the close.
                    let _ = stream.try_write(b"error: busy, too many control connections\n");
                }
            },
            Err(error) => {
                debug!("control: accept failed: {error}");
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
            }
        }
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

/// Reads one request within `read_timeout`, runs it, writes the reply,
/// closes.
async fn answer(mut stream: UnixStream, state: &ControlState, read_timeout: Duration) {
    let request = match tokio::time::timeout(read_timeout, read_request(&mut stream)).await {
        Ok(request) => request,
        Err(_) => Err(format!("no request line within {read_timeout:?}")),
    };
    let reply = match request {
        Ok(command) => {
            info!(%command, "control command");
            match execute(state, &command).await {
                Ok(body) => format!("ok\n{body}"),
                Err(problem) => format!("error: {problem}\n"),
            }
        }
        Err(problem) => {
            debug!("control: bad request: {problem}");
            format!("error: {problem}\n")
        }
    };
    for chunk in reply.as_bytes().chunks(CONTROL_WRITE_CHUNK) {
        match tokio::time::timeout(CONTROL_WRITE_TIMEOUT, stream.write_all(chunk)).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                debug!("control: write failed: {error}");
                return;
            }
            Err(_) => {
                debug!("control: reply not taken within {CONTROL_WRITE_TIMEOUT:?}");
                return;
            }
        }
    }
    let _ = tokio::time::timeout(CONTROL_WRITE_TIMEOUT, stream.shutdown()).await;
}

/// The command of the request line on `stream`: at most
/// [`MAX_CONTROL_REQUEST`] bytes, ended by a newline, starting with
/// [`CONTROL_PROTOCOL`].
async fn read_request(stream: &mut UnixStream) -> Result<ControlCommand, String> {
    let mut line = Vec::with_capacity(128);
    let mut limited = BufReader::new(stream.take(MAX_CONTROL_REQUEST as u64));
    limited
        .read_until(b'\n', &mut line)
        .await
        .map_err(|e| format!("cannot read the request: {e}"))?;
    if line.last() != Some(&b'\n') {
        return Err(format!(
            "the request is not one line of at most {MAX_CONTROL_REQUEST} bytes"
        ));
    }
    let text = std::str::from_utf8(&line).map_err(|_| "the request is not UTF-8".to_string())?;
    let words = text
        .trim_end()
        .strip_prefix(CONTROL_PROTOCOL)
        .filter(|rest| rest.is_empty() || rest.starts_with(' '))
        .ok_or_else(|| format!("the request does not start with `{CONTROL_PROTOCOL}`"))?;
    ControlCommand::parse(words)
}

/// Runs `command`; the output lines, or why it failed.
async fn execute(state: &ControlState, command: &ControlCommand) -> Result<String, String> {
    match command {
        ControlCommand::Stats => Ok(stats(
            &state.counters.snapshot(),
            &state.resolver.cache_sizes(),
        )),
        ControlCommand::Reload => {
            let reloader = state
                .reloader
                .as_ref()
                .ok_or("this daemon has no configuration to reload")?;
            let reloaded = reloader.reload().map_err(|e| e.to_string())?;
            let mut out = String::from("configuration reloaded\n");
            if !reloaded.restart_needed.is_empty() {
                out.push_str(&format!(
                    "warning: {} take effect at the next start (the old values stay in force)\n",
                    reloaded.restart_needed.join(", ")
                ));
            }
            Ok(out)
        }
        ControlCommand::Flush(name) => {
            let dropped = state.resolver.flush_name(name);
            Ok(format!("flushed {dropped} entries of {name}\n"))
        }
        ControlCommand::FlushZone(zone) => {
            let dropped = state.resolver.flush_zone(zone);
            Ok(format!("flushed {dropped} entries at or below {zone}\n"))
        }
        ControlCommand::FlushAll => {
            let dropped = state.resolver.flush_all();
            Ok(format!("flushed {dropped} entries\n"))
        }
        ControlCommand::DumpCache => {
            let _one = state
                .dumping
                .acquire()
                .await
                .map_err(|_| "the daemon is stopping")?;
            Ok(dump(state.resolver.dump_cache()))
        }
    }
}

/// The `dump-cache` output: RRsets in zone-file format (one record per
/// line, an RRset's records together), sorted by owner and type, TTLs as
/// remaining; then negative answers as `;` comment lines with their SOA.
pub fn dump(mut cache: crate::resolve::CacheDump) -> String {
    let key = |records: &[hickory_proto::rr::Record]| {
        records
            .first()
            .map(|r| (r.name.clone(), u16::from(r.record_type())))
    };
    cache.rrsets.sort_by_key(|rrset| key(&rrset.records));
    cache
        .negative
        .sort_by(|a, b| (&a.0, a.1.map(u16::from)).cmp(&(&b.0, b.1.map(u16::from))));
    let mut out = String::new();
    for rrset in &cache.rrsets {
        for record in &rrset.records {
            out.push_str(&format!("{record}\n"));
        }
    }
    for (owner, rtype, negative) in &cache.negative {
        let what = match rtype {
            None => "NXDOMAIN".to_string(),
            Some(rtype) => format!("NODATA {rtype}"),
        };
        out.push_str(&format!("; {what} {owner} {}\n", negative.soa));
    }
    out
}

/// The `stats` output: `key=value` lines.
pub fn stats(snapshot: &CounterSnapshot, cache: &crate::resolve::CacheSizes) -> String {
    let lines: [(&str, u64); 25] = [
        ("queries.received", snapshot.received),
        ("queries.dropped", snapshot.dropped),
        ("replies.total", snapshot.replies()),
        ("replies.noerror", snapshot.noerror),
        ("replies.nxdomain", snapshot.nxdomain),
        ("replies.servfail", snapshot.servfail),
        ("replies.refused", snapshot.refused),
        ("replies.formerr", snapshot.formerr),
        ("replies.notimp", snapshot.notimp),
        ("replies.other", snapshot.other_rcode),
        ("replies.truncated", snapshot.truncated),
        ("queries.coalesced", snapshot.coalesced),
        ("queries.busy", snapshot.busy),
        ("queries.cache_hits", snapshot.cache_hits),
        ("tcp.connections", snapshot.tcp_connections),
        ("tcp.shed", snapshot.tcp_shed),
        ("resolutions.started", snapshot.resolutions),
        ("resolutions.in_flight", snapshot.resolutions_in_flight),
        ("upstream.queries", snapshot.upstream_queries),
        ("cache.rrsets", cache.rrsets as u64),
        ("cache.negative", cache.negative as u64),
        ("cache.infra", cache.infra as u64),
        ("cache.rrset_bytes", cache.rrset_bytes as u64),
        ("cache.negative_bytes", cache.negative_bytes as u64),
        ("cache.budget_bytes", cache.budget_bytes as u64),
    ];
    let mut out = String::new();
    for (key, value) in lines {
        out.push_str(&format!("{key}={value}\n"));
    }
    out
}

/// Sends `command` to the daemon at `socket` and copies its output to
/// `out`. `Err(ControlError::Daemon)` when the daemon answered with an
/// error.
pub async fn request(
    socket: &Path,
    command: &ControlCommand,
    out: &mut impl std::io::Write,
) -> Result<(), ControlError> {
    let path = socket.display().to_string();
    let io = |source: std::io::Error| ControlError::Io {
        path: path.clone(),
        source,
    };
    let timeout = || ControlError::Timeout {
        path: path.clone(),
        after: CONTROL_CLIENT_TIMEOUT,
    };
    let mut stream = tokio::time::timeout(CONTROL_CLIENT_TIMEOUT, UnixStream::connect(socket))
        .await
        .map_err(|_| timeout())?
        .map_err(|source| ControlError::Connect {
            path: path.clone(),
            source,
        })?;
    tokio::time::timeout(
        CONTROL_CLIENT_TIMEOUT,
        stream.write_all(command.request_line().as_bytes()),
    )
    .await
    .map_err(|_| timeout())?
    .map_err(io)?;
    let mut reader = BufReader::new(stream);
    let mut status = Vec::new();
    tokio::time::timeout(
        CONTROL_CLIENT_TIMEOUT,
        (&mut reader)
            .take(MAX_CONTROL_REQUEST as u64)
            .read_until(b'\n', &mut status),
    )
    .await
    .map_err(|_| timeout())?
    .map_err(io)?;
    let status = String::from_utf8_lossy(&status);
    let status = status.trim_end();
    if let Some(problem) = status.strip_prefix("error: ") {
        return Err(ControlError::Daemon(problem.to_string()));
    }
    if status != "ok" {
        return Err(ControlError::Protocol {
            path,
            problem: if status.is_empty() {
                "the daemon closed the connection without a reply".to_string()
            } else {
                format!("unexpected status line `{status}`")
            },
        });
    }
    let mut chunk = vec![0u8; CONTROL_WRITE_CHUNK];
    loop {
        let n = tokio::time::timeout(CONTROL_CLIENT_TIMEOUT, reader.read(&mut chunk))
            .await
            .map_err(|_| timeout())?
            .map_err(io)?;
        if n == 0 {
            return Ok(());
        }
        out.write_all(&chunk[..n]).map_err(ControlError::Output)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_round_trip_and_bad_ones_say_why() {
        for text in [
            "stats",
            "reload",
            "flush www.example.",
            "flush-zone example.",
            "flush-all",
            "dump-cache",
        ] {
            let command = ControlCommand::parse(text).unwrap();
            assert_eq!(command.to_string(), text);
            assert_eq!(
                command.request_line(),
                format!("rootwalk-control/1 {text}\n")
            );
        }
        assert_eq!(
            ControlCommand::parse("flush www.example").unwrap(),
            ControlCommand::Flush(Name::from_ascii("www.example.").unwrap()),
            "names are made absolute"
        );
        for (text, problem) in [
            ("", "no command"),
            ("flush", "needs a name"),
            ("flush-zone", "needs a zone"),
            ("stats now", "takes no argument"),
            ("flush a. b.", "too many"),
            ("shutdown", "unknown command"),
            ("flush a..b", "a..b"),
        ] {
            let error = ControlCommand::parse(text).unwrap_err();
            assert!(error.contains(problem), "{text}: {error}");
        }
    }
}
