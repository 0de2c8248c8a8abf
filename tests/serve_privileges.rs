//! Dropping root after binding (issue 15): a spawned `rootwalk serve
//! --user nobody` runs as nobody (its `/proc/PID/status` says so), still
//! answers, and hands its control socket to nobody; an unknown user and a
//! non-root start are clear errors. The root-only parts are skipped when
//! the tests do not run as root (CI runs them as root).

mod common;

use std::os::unix::fs::MetadataExt;
use std::process::Command;

use common::daemon::{Daemon, TempDir, query, rootwalk, udp};
use hickory_proto::rr::RecordType;

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| ids(&s, "Uid:")[1] == 0)
        .unwrap_or(false)
}

/// The four ids (real, effective, saved, filesystem) of a status line.
fn ids(status: &str, key: &str) -> Vec<u32> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(key))
        .unwrap_or_else(|| panic!("no {key} in {status}"))
        .split_whitespace()
        .map(|id| id.parse().unwrap())
        .collect()
}

/// nobody's uid and gid from the password database, if it has nobody.
fn nobody() -> Option<(u32, u32)> {
    let out = Command::new("id").args(["-u", "nobody"]).output().ok()?;
    let uid = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
    let out = Command::new("id").args(["-g", "nobody"]).output().ok()?;
    let gid = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
    Some((uid, gid))
}

#[test]
fn serve_drops_to_nobody_after_binding() {
    if !is_root() {
        println!("not root; skipping");
        return;
    }
    let Some((uid, gid)) = nobody() else {
        println!("no user nobody; skipping");
        return;
    };
    let dir = TempDir::new("privileges");
    let socket = dir.join("control.sock");
    let daemon = Daemon::start(
        &[
            "--lab",
            "--listen",
            "127.0.0.1:0",
            "--udp-sockets",
            "1",
            "--user",
            "nobody",
            "--control-socket",
            socket.to_str().unwrap(),
        ],
        &[],
    );
    let status = std::fs::read_to_string(format!("/proc/{}/status", daemon.pid())).unwrap();
    assert_eq!(ids(&status, "Uid:"), vec![uid; 4], "{status}");
    assert_eq!(ids(&status, "Gid:"), vec![gid; 4], "{status}");
    let groups = status
        .lines()
        .find_map(|line| line.strip_prefix("Groups:"))
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>();
    assert!(
        groups.iter().all(|g| *g == gid.to_string()),
        "no supplementary groups of root's: {groups:?}"
    );
    let meta = std::fs::metadata(&socket).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid()),
        (uid, gid),
        "the socket is nobody's"
    );
    // Every thread dropped, not only the one that called setuid.
    for task in std::fs::read_dir(format!("/proc/{}/task", daemon.pid())).unwrap() {
        let status = std::fs::read_to_string(task.unwrap().path().join("status")).unwrap();
        assert_eq!(ids(&status, "Uid:"), vec![uid; 4], "{status}");
    }
    let reply = udp(daemon.addr, &query("www.a.tld1.", RecordType::A));
    assert_eq!(reply.answers.len(), 1, "still answers as nobody");
    drop(daemon);
}

#[test]
fn an_unknown_user_is_an_error_before_binding() {
    let output = rootwalk(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--user",
        "no-such-user-rootwalk",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("user `no-such-user-rootwalk` does not exist"),
        "{err}"
    );
    assert!(output.stdout.is_empty(), "nothing was bound");
}

#[test]
fn not_root_is_a_clear_error() {
    if !is_root() || nobody().is_none() {
        println!("needs root to start a process as nobody; skipping");
        return;
    }
    // setpriv starts the daemon as nobody, so it is not root.
    let output = Command::new("setpriv")
        .args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            env!("CARGO_BIN_EXE_rootwalk"),
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--user",
            "nobody",
        ])
        .output();
    let Ok(output) = output else {
        println!("no setpriv; skipping");
        return;
    };
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot switch to user `nobody`") && err.contains("not root"),
        "{err}"
    );
}
