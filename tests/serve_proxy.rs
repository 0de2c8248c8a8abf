//! PROXY protocol v2 (issue 15, scaling out): from a configured proxy the
//! header is read and the ACL applied to the client it names, over UDP and
//! TCP; a proxy's message without a header is dropped. Then dnsdist (when
//! installed) in front of two `rootwalk serve` instances with consistent
//! hashing: answers arrive through it, both backends take a share, and a
//! client outside the backends' ACL is refused on the address dnsdist's
//! header names, though dnsdist itself is inside it.

mod common;

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::daemon::{Daemon, TempDir, WAIT, query, rootwalk, udp};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;
use rootwalk::server::proxy;

/// A daemon on the lab that takes PROXY headers from 127.0.0.1 and allows
/// only 192.0.2.0/24 (so loopback itself is refused).
fn start(dir: &TempDir, proxies: &str) -> Daemon {
    let path = dir.join("serve.toml");
    std::fs::write(
        &path,
        format!(
            "listen = [\"127.0.0.1:0\"]\nlab = true\nudp-sockets = 1\n\
             allow = [\"192.0.2.0/24\"]\nproxy-protocol-from = [{proxies}]\n\
             control-socket = \"{}\"\n",
            dir.join("control.sock").display()
        ),
    )
    .unwrap();
    Daemon::start(&["--config", path.to_str().unwrap()], &[])
}

fn with_header(client: &str, server: SocketAddr, datagram: bool, message: &Message) -> Vec<u8> {
    let mut bytes = proxy::header(client.parse().unwrap(), server, datagram);
    bytes.extend_from_slice(&message.to_vec().unwrap());
    bytes
}

/// Sends `bytes` in one datagram; the reply, or `None` within `wait`.
fn datagram(server: SocketAddr, bytes: &[u8], wait: Duration) -> Option<Message> {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    datagram_on(&socket, server, bytes, wait)
}

/// [`datagram`] from `socket`.
fn datagram_on(
    socket: &UdpSocket,
    server: SocketAddr,
    bytes: &[u8],
    wait: Duration,
) -> Option<Message> {
    socket.set_read_timeout(Some(wait)).unwrap();
    socket.send_to(bytes, server).unwrap();
    let mut buffer = vec![0u8; 65_535];
    let (len, _) = socket.recv_from(&mut buffer).ok()?;
    Some(Message::from_vec(&buffer[..len]).unwrap())
}

/// Opens a TCP connection, sends `prefix` then `message` framed, reads
/// one framed reply.
fn stream(server: SocketAddr, prefix: &[u8], message: &Message) -> Option<Message> {
    let tcp = TcpStream::connect(server).unwrap();
    stream_on(tcp, prefix, message)
}

/// A TCP connection to `server` from `source` (port 0: any).
fn connect_from(source: SocketAddr, server: SocketAddr) -> TcpStream {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket.bind(&source.into()).unwrap();
    socket.connect(&server.into()).unwrap();
    socket.into()
}

/// [`stream`] on `tcp`.
fn stream_on(mut tcp: TcpStream, prefix: &[u8], message: &Message) -> Option<Message> {
    tcp.set_read_timeout(Some(WAIT)).unwrap();
    let bytes = message.to_vec().unwrap();
    let mut out = prefix.to_vec();
    out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
    out.extend_from_slice(&bytes);
    tcp.write_all(&out).unwrap();
    let mut length = [0u8; 2];
    tcp.read_exact(&mut length).ok()?;
    let mut reply = vec![0u8; usize::from(u16::from_be_bytes(length))];
    tcp.read_exact(&mut reply).ok()?;
    Some(Message::from_vec(&reply).unwrap())
}

#[test]
fn the_acl_judges_the_client_the_proxy_header_names() {
    let dir = TempDir::new("proxy");
    let daemon = start(&dir, "\"127.0.0.1/32\"");
    let ask = query("www.a.tld1.", RecordType::A);

    let inside = with_header("192.0.2.7:5300", daemon.addr, true, &ask);
    let reply = datagram(daemon.addr, &inside, WAIT).expect("a reply for 192.0.2.7");
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert_eq!(reply.answers.len(), 1);
    // Again: the reply copy path judges the named client too.
    let outside = with_header("198.51.100.7:5300", daemon.addr, true, &ask);
    let reply = datagram(daemon.addr, &outside, WAIT).expect("a reply for 198.51.100.7");
    assert_eq!(reply.metadata.response_code, ResponseCode::Refused);
    let reply = datagram(daemon.addr, &inside, WAIT).unwrap();
    assert_eq!(reply.answers.len(), 1, "copied for the allowed client");

    // From the proxy, a message without a header is dropped.
    let plain = ask.to_vec().unwrap();
    assert!(datagram(daemon.addr, &plain, Duration::from_millis(300)).is_none());

    // TCP: the header once, at the start of the connection.
    let header = proxy::header("192.0.2.9:40000".parse().unwrap(), daemon.addr, false);
    let reply = stream(daemon.addr, &header, &ask).expect("a TCP reply");
    assert_eq!(reply.answers.len(), 1);
    let header = proxy::header("203.0.113.9:40000".parse().unwrap(), daemon.addr, false);
    let reply = stream(daemon.addr, &header, &ask).expect("a TCP reply");
    assert_eq!(reply.metadata.response_code, ResponseCode::Refused);
    assert!(
        stream(daemon.addr, b"", &ask).is_none(),
        "no header: closed"
    );
}

#[test]
fn a_header_from_anyone_else_is_not_believed() {
    let dir = TempDir::new("proxy-spoof");
    // Only 127.0.0.2 is a proxy; the test sends from 127.0.0.1.
    let daemon = start(&dir, "\"127.0.0.2/32\"");
    let ask = query("www.a.tld1.", RecordType::A);
    let spoofed = with_header("192.0.2.7:5300", daemon.addr, true, &ask);
    let reply = datagram(daemon.addr, &spoofed, Duration::from_millis(500));
    assert!(
        reply
            .as_ref()
            .is_none_or(|r| r.metadata.response_code != ResponseCode::NoError),
        "{reply:?}"
    );
    let plain = udp(daemon.addr, &ask);
    assert_eq!(
        plain.metadata.response_code,
        ResponseCode::Refused,
        "127.0.0.1 is outside"
    );
}

/// A dnsdist process, killed on drop.
struct Dnsdist(Child);

impl Drop for Dnsdist {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// dnsdist's health check of a backend: `localhost.`, which rootwalk
/// answers from its built-in local zone (from 127.0.0.1, the address the
/// check's PROXY header names), so a backend is up as soon as it listens,
/// however slow a walk of the lab would be on a loaded machine.
const CHECK: &str = "checkName=\"localhost.\"";

fn received(socket: &Path) -> u64 {
    let out = rootwalk(&["control", "--socket", socket.to_str().unwrap(), "stats"]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("queries.received="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[test]
fn dnsdist_in_front_of_two_instances() {
    if Command::new("dnsdist").arg("--version").output().is_err() {
        println!("dnsdist is not installed (apt-get install dnsdist); skipping");
        return;
    }
    let dirs = [TempDir::new("dnsdist-a"), TempDir::new("dnsdist-b")];
    // The backends allow 127.0.0.1 only: dnsdist's own address (its health
    // checks, and the source of every proxied message), and the test's
    // allowed client. 127.0.0.2 is a client outside the ACL. The debug log
    // says which client each query was judged as.
    let backends: Vec<Daemon> = dirs
        .iter()
        .map(|dir| {
            let path = dir.join("serve.toml");
            std::fs::write(
                &path,
                format!(
                    "listen = [\"127.0.0.1:0\"]\nlab = true\nudp-sockets = 1\n\
                     allow = [\"127.0.0.1/32\"]\nproxy-protocol-from = [\"127.0.0.1/32\"]\n\
                     control-socket = \"{}\"\n",
                    dir.join("control.sock").display()
                ),
            )
            .unwrap();
            Daemon::start(
                &["--config", path.to_str().unwrap()],
                &[("RUST_LOG", "warn,rootwalk::server::handler=debug")],
            )
        })
        .collect();
    // dnsdist binds a port found free a moment before; should another
    // process take it first, dnsdist exits, and is started again on a new
    // one (a few times at most).
    let log_path = dirs[0].join("dnsdist.log");
    let start = || {
        let port = free_port();
        let config = dirs[0].join("dnsdist.conf");
        std::fs::write(
            &config,
            format!(
                "setLocal(\"127.0.0.1:{port}\")\n\
                 addACL(\"127.0.0.0/8\")\n\
                 newServer({{address=\"{}\", name=\"a\", useProxyProtocol=true, {CHECK}}})\n\
                 newServer({{address=\"{}\", name=\"b\", useProxyProtocol=true, {CHECK}}})\n\
                 setServerPolicy(chashed)\n",
                backends[0].addr, backends[1].addr
            ),
        )
        .unwrap();
        let log = std::fs::File::create(&log_path).unwrap();
        let child = Command::new("dnsdist")
            .args(["--supervised", "--disable-syslog", "-C"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let front: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        (Dnsdist(child), front)
    };
    let (mut dnsdist, mut front) = start();
    let mut starts = 1;

    // dnsdist marks backends up after its first health checks.
    let deadline = std::time::Instant::now() + WAIT;
    let first = loop {
        let ask = query("www.a.tld1.", RecordType::A);
        if let Some(reply) = datagram(front, &ask.to_vec().unwrap(), Duration::from_millis(500))
            && reply.metadata.response_code == ResponseCode::NoError
        {
            break reply;
        }
        let said = || std::fs::read_to_string(&log_path).unwrap_or_default();
        if dnsdist.0.try_wait().ok().flatten().is_some() && starts < 4 {
            println!("dnsdist exited ({}); starting it again", said());
            (dnsdist, front) = start();
            starts += 1;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no answer through dnsdist ({starts} starts); dnsdist said {}; backends logged {:#?}",
            said(),
            backends
                .iter()
                .map(Daemon::stderr_lines)
                .collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(first.answers.len(), 1);
    // Names spread over both backends (consistent hashing by name).
    let names = [
        "www.a.tld1.",
        "www.b.tld1.",
        "www.c.tld2.",
        "a.tld1.",
        "b.tld1.",
        "c.tld2.",
        "alias.a.tld1.",
        "cross.a.tld1.",
        "nope1.a.tld1.",
        "nope2.a.tld1.",
        "nope3.b.tld1.",
        "nope4.c.tld2.",
        "x1.tld1.",
        "x2.tld1.",
        "x3.tld2.",
        "x4.tld2.",
    ];
    for name in names {
        let reply = udp(front, &query(name, RecordType::A));
        assert_ne!(
            reply.metadata.response_code,
            ResponseCode::Refused,
            "{name}"
        );
        assert_ne!(
            reply.metadata.response_code,
            ResponseCode::ServFail,
            "{name}"
        );
    }
    let counts: Vec<u64> = dirs
        .iter()
        .map(|d| received(&d.join("control.sock")))
        .collect();
    assert!(
        counts.iter().all(|&n| n > 0),
        "both backends answered: {counts:?}"
    );
    assert!(
        counts.iter().sum::<u64>() >= names.len() as u64,
        "{counts:?}"
    );
    refuses_the_client_the_header_names(front, &backends);
}

/// Through dnsdist at `front`, whose own address 127.0.0.1 the `backends`
/// allow: a client on 127.0.0.1 is answered, one on 127.0.0.2 refused,
/// over UDP and TCP, and each backend judged the client dnsdist named in
/// its PROXY header (address and port), not dnsdist.
fn refuses_the_client_the_header_names(front: SocketAddr, backends: &[Daemon]) {
    let from = |last: u8| SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)), 0);
    let ask = query("www.b.tld1.", RecordType::A);
    let bytes = ask.to_vec().unwrap();
    for (last, rcode) in [(1, ResponseCode::NoError), (2, ResponseCode::Refused)] {
        let socket = UdpSocket::bind(from(last)).unwrap();
        let client = socket.local_addr().unwrap();
        let reply = datagram_on(&socket, front, &bytes, WAIT).expect("a reply through dnsdist");
        assert_eq!(reply.metadata.response_code, rcode, "UDP from {client}");
        judged_as(backends, client, rcode);

        let tcp = connect_from(from(last), front);
        let client = tcp.local_addr().unwrap();
        let reply = stream_on(tcp, b"", &ask).expect("a TCP reply through dnsdist");
        assert_eq!(reply.metadata.response_code, rcode, "TCP from {client}");
        judged_as(backends, client, rcode);
    }
}

/// Waits (at most [`WAIT`]) for a backend's debug line saying it replied
/// `rcode` to a query from `client`: the address and port the PROXY header
/// named.
fn judged_as(backends: &[Daemon], client: SocketAddr, rcode: ResponseCode) {
    let wanted = (format!("client={client}"), format!("rcode={rcode}"));
    let deadline = std::time::Instant::now() + WAIT;
    let mut seen = Vec::new();
    loop {
        for backend in backends {
            seen.extend(backend.stderr_lines());
        }
        if seen
            .iter()
            .any(|line| line.contains(&wanted.0) && line.contains(&wanted.1))
        {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no backend replied {rcode} to {client}: {seen:#?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
