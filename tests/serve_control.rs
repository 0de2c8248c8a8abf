//! The control socket (issue 15): `rootwalk control --socket PATH ...`
//! against a spawned `rootwalk serve --lab`, and the socket's bounds
//! (owner-only mode, protocol word, size cap, read deadline, connection
//! cap) with hand-written requests.

mod common;

use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use common::daemon::{Daemon, TempDir, WAIT, query, rootwalk, udp};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

/// A config serving the lab on 127.0.0.1:0 with a control socket and
/// `local` as local-data, and short control deadlines.
fn config(dir: &TempDir, local: &str) -> String {
    format!(
        "listen = [\"127.0.0.1:0\"]\nlab = true\nudp-sockets = 1\n\
         control-socket = \"{}\"\nlocal-data = [{local}]\n\
         [limits]\ncontrol-read-timeout-ms = 300\ncontrol-connections = 2\n",
        dir.join("control.sock").display()
    )
}

fn start(dir: &TempDir, local: &str) -> Daemon {
    let path = dir.join("serve.toml");
    std::fs::write(&path, config(dir, local)).unwrap();
    Daemon::start(&["--config", path.to_str().unwrap()], &[])
}

/// `rootwalk control --socket SOCKET ARGS`: (success, stdout, stderr).
fn control(socket: &Path, args: &[&str]) -> (bool, String, String) {
    let mut all = vec!["control", "--socket", socket.to_str().unwrap()];
    all.extend_from_slice(args);
    let output = rootwalk(&all);
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Sends `bytes` on a fresh connection and reads until the daemon closes.
fn raw(socket: &Path, bytes: &[u8]) -> String {
    let mut stream = UnixStream::connect(socket).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    // A daemon turning the connection away may close it before the write.
    let _ = stream.write_all(bytes);
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    reply
}

fn stat(text: &str, key: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key} in {text}"))
        .parse()
        .unwrap()
}

#[test]
fn stats_and_reload_over_an_owner_only_socket() {
    let dir = TempDir::new("control");
    let daemon = start(&dir, "\"one.home.arpa. A 192.0.2.1\"");
    let socket = dir.join("control.sock");
    let meta = std::fs::symlink_metadata(&socket).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600, "owner only");

    let answered = udp(daemon.addr, &query("www.a.tld1.", RecordType::A));
    assert_eq!(answered.answers.len(), 1);
    let (ok, out, err) = control(&socket, &["stats"]);
    assert!(ok, "{err}");
    assert_eq!(stat(&out, "queries.received"), 1, "{out}");
    assert_eq!(stat(&out, "replies.noerror"), 1, "{out}");
    assert_eq!(stat(&out, "resolutions.started"), 1, "{out}");
    assert!(stat(&out, "cache.rrsets") > 0, "{out}");

    // reload does what SIGHUP does: new local data, the cache kept.
    let rcode = |name: &str| {
        udp(daemon.addr, &query(name, RecordType::A))
            .metadata
            .response_code
    };
    assert_eq!(rcode("two.home.arpa."), ResponseCode::NXDomain);
    std::fs::write(
        dir.join("serve.toml"),
        config(&dir, "\"two.home.arpa. A 192.0.2.2\""),
    )
    .unwrap();
    let (ok, out, err) = control(&socket, &["reload"]);
    assert!(ok, "{err}");
    assert_eq!(out, "configuration reloaded\n");
    assert_eq!(rcode("two.home.arpa."), ResponseCode::NoError);
    assert_eq!(rcode("one.home.arpa."), ResponseCode::NXDomain);
    let (_, out, _) = control(&socket, &["stats"]);
    assert!(stat(&out, "cache.rrsets") > 0, "cache kept: {out}");

    // A bad file: the daemon says why and keeps what is in force.
    std::fs::write(
        dir.join("serve.toml"),
        config(&dir, "\"three.home.arpa. A 999.0.2.3\""),
    )
    .unwrap();
    let (ok, _, err) = control(&socket, &["reload"]);
    assert!(!ok);
    assert!(
        err.contains("the daemon said") && err.contains("local-data"),
        "{err}"
    );
    assert_eq!(rcode("two.home.arpa."), ResponseCode::NoError);

    assert!(daemon.terminate(), "clean exit");
    assert!(!socket.exists(), "the socket file is removed at exit");
}

#[test]
fn requests_are_bounded_one_per_connection() {
    let dir = TempDir::new("control-bounds");
    let daemon = start(&dir, "");
    let socket = dir.join("control.sock");

    assert!(
        raw(&socket, b"stats\n")
            .starts_with("error: the request does not start with `rootwalk-control/1`"),
    );
    assert!(raw(&socket, b"rootwalk-control/1 shutdown\n").starts_with("error: unknown command"));
    // Exactly the cap without a newline (more would be left unread, and
    // closing on unread data resets the connection before the reply).
    let prefix = "rootwalk-control/1 flush ";
    let huge = format!("{prefix}{}", "a".repeat(1024 - prefix.len()));
    assert!(
        raw(&socket, huge.as_bytes())
            .starts_with("error: the request is not one line of at most 1024 bytes")
    );
    let ok = raw(
        &socket,
        b"rootwalk-control/1 stats\nrootwalk-control/1 stats\n",
    );
    assert!(ok.starts_with("ok\n"), "{ok}");
    assert_eq!(
        ok.matches("queries.received=").count(),
        1,
        "one command per connection"
    );

    // A silent client is cut off at the read deadline (300 ms here).
    let started = std::time::Instant::now();
    let silent = raw(&socket, b"");
    assert!(
        silent.starts_with("error: no request line within"),
        "{silent}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));

    // Two slots: two silent clients hold them, a third is turned away.
    let hold: Vec<UnixStream> = (0..2)
        .map(|_| UnixStream::connect(&socket).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(50));
    let busy = raw(&socket, b"rootwalk-control/1 stats\n");
    assert!(busy.starts_with("error: busy"), "{busy}");
    drop(hold);
    std::thread::sleep(Duration::from_millis(400));
    assert!(raw(&socket, b"rootwalk-control/1 stats\n").starts_with("ok\n"));

    // A second daemon cannot take a live socket.
    let other = dir.join("other.toml");
    std::fs::write(&other, config(&dir, "")).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rootwalk"))
        .args(["serve", "--config", other.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("control socket") && err.contains("another daemon"),
        "{err}"
    );
    drop(daemon);
}

#[test]
fn the_client_explains_a_missing_daemon_and_a_bad_name() {
    let dir = TempDir::new("control-client");
    let (ok, _, err) = control(&dir.join("none.sock"), &["stats"]);
    assert!(!ok);
    assert!(
        err.contains("cannot connect to the control socket"),
        "{err}"
    );
    let (ok, _, err) = control(&dir.join("none.sock"), &["flush", "a..b"]);
    assert!(!ok);
    assert!(err.contains("a..b"), "{err}");
}

/// An RD=0 query: answered from the cache (or a reply copy) only, REFUSED
/// on a miss, so it tells what the daemon holds.
fn cached(daemon: &Daemon, name: &str) -> ResponseCode {
    let mut message = query(name, RecordType::A);
    message.metadata.recursion_desired = false;
    udp(daemon.addr, &message).metadata.response_code
}

#[test]
fn dump_and_flush_a_name_a_zone_and_everything() {
    let dir = TempDir::new("control-flush");
    let daemon = start(&dir, "");
    let socket = dir.join("control.sock");
    for name in ["www.a.tld1.", "www.b.tld1.", "nope.a.tld1."] {
        udp(daemon.addr, &query(name, RecordType::A));
    }
    // Twice each: the second is a reply copy, which a flush must drop too.
    for _ in 0..2 {
        assert_eq!(cached(&daemon, "www.a.tld1."), ResponseCode::NoError);
        assert_eq!(cached(&daemon, "www.b.tld1."), ResponseCode::NoError);
        assert_eq!(cached(&daemon, "nope.a.tld1."), ResponseCode::NXDomain);
    }

    let (ok, dump, err) = control(&socket, &["dump-cache"]);
    assert!(ok, "{err}");
    let www = dump
        .lines()
        .find(|l| l.starts_with("www.a.tld1. ") && l.contains(" A ") && l.ends_with("192.0.2.10"))
        .unwrap_or_else(|| panic!("www.a.tld1. A in {dump}"));
    let ttl: u32 = www.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!((3590..=3600).contains(&ttl), "remaining TTL: {www}");
    assert!(
        dump.lines()
            .any(|l| l.starts_with("a.tld1. ") && l.contains(" NS ")),
        "{dump}"
    );
    assert!(
        dump.lines()
            .any(|l| l.starts_with("; NXDOMAIN nope.a.tld1. a.tld1. ") && l.contains("SOA")),
        "{dump}"
    );

    let (ok, out, err) = control(&socket, &["flush", "WWW.a.tld1"]);
    assert!(ok, "{err}");
    assert_eq!(out.to_lowercase(), "flushed 1 entries of www.a.tld1.\n");
    assert_eq!(
        cached(&daemon, "www.a.tld1."),
        ResponseCode::Refused,
        "gone, copy too"
    );
    assert_eq!(cached(&daemon, "www.b.tld1."), ResponseCode::NoError);
    assert_eq!(cached(&daemon, "nope.a.tld1."), ResponseCode::NXDomain);

    let (ok, out, err) = control(&socket, &["flush-zone", "a.tld1."]);
    assert!(ok, "{err}");
    assert!(
        out.starts_with("flushed ") && out.ends_with("at or below a.tld1.\n"),
        "{out}"
    );
    assert_eq!(cached(&daemon, "nope.a.tld1."), ResponseCode::Refused);
    assert_eq!(
        cached(&daemon, "www.b.tld1."),
        ResponseCode::NoError,
        "b.tld1. kept"
    );
    let (_, dump, _) = control(&socket, &["dump-cache"]);
    assert!(!dump.lines().any(|l| l.starts_with("a.tld1. ")), "{dump}");
    assert!(
        dump.lines().any(|l| l.starts_with("tld1. ")),
        "the parent kept: {dump}"
    );

    let (ok, _, err) = control(&socket, &["flush-all"]);
    assert!(ok, "{err}");
    assert_eq!(cached(&daemon, "www.b.tld1."), ResponseCode::Refused);
    let (_, dump, _) = control(&socket, &["dump-cache"]);
    assert_eq!(dump, "", "empty after flush-all");
    let (_, stats, _) = control(&socket, &["stats"]);
    assert_eq!(stat(&stats, "cache.rrsets"), 0, "{stats}");
    assert_eq!(stat(&stats, "cache.rrset_bytes"), 0, "{stats}");
    // And it resolves again.
    assert_eq!(
        udp(daemon.addr, &query("www.a.tld1.", RecordType::A))
            .answers
            .len(),
        1
    );
}
