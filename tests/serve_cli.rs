//! `rootwalk serve` as an operator runs it: flags, the config file, errors
//! that name what is wrong, signals.

mod common;

use std::net::UdpSocket;
use std::process::{Command, Output};

use common::daemon::{Daemon, WAIT};
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};

fn rootwalk(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rootwalk"))
        .args(args)
        .output()
        .unwrap()
}

/// A config file in the temp directory, removed on drop.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(tag: &str, text: &str) -> TempFile {
        let path = std::env::temp_dir().join(format!(
            "rootwalk-serve-{}-{tag}-{}.toml",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::write(&path, text).unwrap();
        TempFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn unknown_config_key_names_file_and_key() {
    let file = TempFile::new("unknown", "listen = [\"127.0.0.1:0\"]\nlisten-port = 53\n");
    let out = rootwalk(&["serve", "--config", file.path()]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(file.path()), "{err}");
    assert!(err.contains("listen-port"), "{err}");
}

#[test]
fn bad_config_value_names_file_and_key() {
    let file = TempFile::new("bad", "allow = [\"127.0.0.0/99\"]\n");
    let out = rootwalk(&["serve", "--config", file.path()]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(file.path()), "{err}");
    assert!(err.contains("`allow`"), "{err}");
}

#[test]
fn a_port_in_use_is_an_error_naming_the_address() {
    let taken = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = rootwalk(&["serve", "--listen", &addr]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
}

#[test]
fn bad_flags_are_rejected_by_the_parser() {
    let out = rootwalk(&["serve", "--allow", "10.0.0.0/40"]);
    assert_ne!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("10.0.0.0/40"));
}

#[test]
fn bad_udp_socket_counts_and_metrics_addresses_are_named() {
    let out = rootwalk(&["serve", "--udp-sockets", "0"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--udp-sockets"));
    let file = TempFile::new("metrics", "metrics = \"nowhere\"\n");
    let out = rootwalk(&["serve", "--config", file.path()]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(file.path()) && err.contains("`metrics`"),
        "{err}"
    );
}

#[test]
fn serves_the_lab_from_a_config_file_and_stops_on_sigterm() {
    if Command::new("kill").arg("-l").output().is_err() {
        println!("no `kill` command; skipping the signal test");
        return;
    }
    let file = TempFile::new(
        "good",
        "listen = [\"127.0.0.1:0\"]\nlab = true\ncache-size = \"2M\"\nudp-sockets = 3\n\
         metrics = \"127.0.0.1:0\"\n",
    );
    let daemon = Daemon::start(&["--config", file.path()], &[]);
    let addr = daemon.addr;
    assert!(daemon.next_line().ends_with(&format!("{addr} (TCP)")));
    let metrics = daemon.next_line();
    assert!(metrics.ends_with("(metrics)"), "{metrics}");

    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.set_read_timeout(Some(WAIT)).unwrap();
    let mut query = Message::new(0x5151, MessageType::Query, OpCode::Query);
    query.metadata.recursion_desired = true;
    query.add_query(Query::query(
        Name::from_ascii("www.a.tld1.").unwrap(),
        RecordType::A,
    ));
    client.send_to(&query.to_vec().unwrap(), addr).unwrap();
    let mut buffer = [0u8; 4096];
    let (len, _) = client.recv_from(&mut buffer).unwrap();
    let reply = Message::from_vec(&buffer[..len]).unwrap();
    assert_eq!(reply.metadata.id, 0x5151);
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert_eq!(reply.answers.len(), 1);

    daemon.signal("USR1");
    let report = daemon.next_line();
    assert!(report.contains("1 received"), "{report}");
    assert!(report.contains("1 NOERROR"), "{report}");

    daemon.signal("TERM");
    let last = daemon.next_line();
    assert!(last.contains("1 received"), "{last}");
    let mut daemon = daemon;
    let status = daemon.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}
