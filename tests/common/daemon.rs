//! A spawned `rootwalk serve` process for tests of the binary as operators
//! run it: a private temp directory for its config and sockets, its stdout
//! and stderr read line by line on threads, killed and cleaned up on drop.

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};

/// Bounds every wait for the daemon; never decides a pass.
pub const WAIT: Duration = Duration::from_secs(20);

/// A temp directory removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new empty directory named after `tag`.
    pub fn new(tag: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "rootwalk-{tag}-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    /// `name` inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `rootwalk serve`.
pub struct Daemon {
    /// The process.
    pub child: Child,
    stdout: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
    /// Where it answers over UDP (and TCP).
    pub addr: SocketAddr,
}

fn lines(stream: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    receive
}

impl Daemon {
    /// Starts `rootwalk serve ARGS` with `envs`, and waits for the line
    /// naming its UDP address.
    pub fn start(args: &[&str], envs: &[(&str, &str)]) -> Daemon {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rootwalk"))
            .arg("serve")
            .args(args)
            .envs(envs.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = lines(child.stdout.take().unwrap());
        let stderr = lines(child.stderr.take().unwrap());
        let mut daemon = Daemon {
            child,
            stdout,
            stderr,
            addr: "0.0.0.0:0".parse().unwrap(),
        };
        let first = daemon.next_line();
        daemon.addr = first
            .strip_prefix("rootwalk serve: listening on ")
            .and_then(|rest| rest.strip_suffix(" (UDP)"))
            .unwrap_or_else(|| {
                panic!(
                    "unexpected first line: {first}; stderr: {:?}",
                    daemon.stderr_lines()
                )
            })
            .parse()
            .unwrap();
        daemon
    }

    /// The next line on stdout.
    pub fn next_line(&self) -> String {
        self.stdout.recv_timeout(WAIT).unwrap_or_else(|_| {
            panic!(
                "no line on stdout within {WAIT:?}; stderr: {:?}",
                self.stderr.try_iter().collect::<Vec<_>>()
            )
        })
    }

    /// The next line on stderr that contains `text`, within [`WAIT`].
    pub fn stderr_line_with(&self, text: &str) -> String {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) if line.contains(text) => return line,
                Ok(_) => {}
                Err(_) => panic!("no stderr line with `{text}` within {WAIT:?}"),
            }
        }
    }

    /// The stderr lines printed so far.
    pub fn stderr_lines(&self) -> Vec<String> {
        self.stderr.try_iter().collect()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends it the signal `name` (`HUP`, `USR1`, ...).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{name}");
    }

    /// Stops it with SIGTERM and waits; whether it exited with success.
    pub fn terminate(mut self) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = std::time::Instant::now() + WAIT;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `rootwalk ARGS` to completion.
pub fn rootwalk(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rootwalk"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// A recursive query for `qname`/`qtype`.
pub fn query(qname: &str, qtype: RecordType) -> Message {
    let mut message = Message::new(rand::random(), MessageType::Query, OpCode::Query);
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(Name::from_ascii(qname).unwrap(), qtype));
    message
}

/// Sends `message` to `server` over UDP and waits for its reply.
pub fn udp(server: SocketAddr, message: &Message) -> Message {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(WAIT)).unwrap();
    socket.send_to(&message.to_vec().unwrap(), server).unwrap();
    let mut buffer = vec![0u8; 65_535];
    loop {
        let (len, _) = socket.recv_from(&mut buffer).expect("a UDP reply");
        if u16::from_be_bytes([buffer[0], buffer[1]]) == message.metadata.id {
            return Message::from_vec(&buffer[..len]).unwrap();
        }
    }
}
