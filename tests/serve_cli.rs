//! `rootwalk serve` as an operator runs it: flags, the config file, errors
//! that name what is wrong, signals.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};

/// Bounds every wait on the child; only a hang reaches it.
const WAIT: Duration = Duration::from_secs(20);

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

/// The daemon process, killed if the test fails before it stops it.
struct Daemon {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Daemon {
    fn next_line(&self) -> String {
        self.lines.recv_timeout(WAIT).expect("a line on stdout")
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
    let mut child = Command::new(env!("CARGO_BIN_EXE_rootwalk"))
        .args(["serve", "--config", file.path()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    let daemon = Daemon { child, lines };

    let first = daemon.next_line();
    let addr: SocketAddr = first
        .strip_prefix("rootwalk serve: listening on ")
        .and_then(|rest| rest.strip_suffix(" (UDP)"))
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .parse()
        .unwrap();
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
