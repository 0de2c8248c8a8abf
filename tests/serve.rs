//! `rootwalk serve` end to end: the daemon on 127.0.0.1:0 in front of a
//! resolver walking the in-process lab, queried over UDP and TCP.

mod common;

use std::net::SocketAddr;
use std::ops::Deref;
use std::str::FromStr;
use std::time::Duration;

use common::inproc::{
    self, REPLY_WAIT, bare_query, http_get, query, query_edns, sample, udp, udp_raw, udp_raw_on,
};
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rootwalk::lab::{Lab, LabConfig};
use rootwalk::resolve::Resolver;
use rootwalk::server::{self, Acl, CounterSnapshot};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// How long [`udp_as_stub`] waits before asking again.
const STUB_RETRY: Duration = Duration::from_secs(2);
/// How many times [`udp_as_stub`] asks.
const STUB_TRIES: u32 = 5;

/// A lab, a resolver on it, and the daemon in front, with two UDP sockets
/// and the metrics endpoint. Derefs to the daemon for its address,
/// metrics and counters.
struct Daemon {
    lab: Lab,
    resolver: Resolver,
    daemon: inproc::Daemon,
}

impl Daemon {
    async fn start(acl: Acl, latency: bool) -> Daemon {
        Daemon::start_with(acl, latency, server::reply_cache::REPLY_CACHE_ENTRIES).await
    }

    async fn start_with(acl: Acl, latency: bool, reply_cache: usize) -> Daemon {
        let lab = Lab::start(LabConfig {
            latency,
            ..LabConfig::for_tests()
        })
        .await
        .unwrap();
        let resolver = common::resolver(&lab);
        let daemon = inproc::Daemon::builder(resolver.clone(), acl)
            .reply_cache(reply_cache)
            .udp_sockets(2)
            .metrics()
            .start()
            .await;
        Daemon {
            lab,
            resolver,
            daemon,
        }
    }

    async fn loopback() -> Daemon {
        Daemon::start(Acl::loopback(), false).await
    }

    /// Triggers shutdown and returns the final counters.
    async fn stop(self) -> CounterSnapshot {
        self.daemon.stop().await
    }

    /// How many times `server_name` was asked `qname`/`qtype`.
    fn asked(&self, server_name: &str, qname: &str, qtype: RecordType) -> usize {
        let server = self.lab.address_of(server_name).unwrap();
        let qname = name(qname);
        self.lab
            .query_log()
            .iter()
            .filter(|q| q.server == server && q.qname == qname && q.qtype == qtype)
            .count()
    }
}

impl Deref for Daemon {
    type Target = inproc::Daemon;

    fn deref(&self) -> &inproc::Daemon {
        &self.daemon
    }
}

fn name(text: &str) -> Name {
    Name::from_str(text).unwrap()
}

/// [`udp`] as a stub does it: the question again from the same socket
/// every [`STUB_RETRY`], at most [`STUB_TRIES`] times. For when the daemon
/// may be full of other work and drop the datagram (as it is meant to).
async fn udp_as_stub(server: SocketAddr, message: &Message) -> Message {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let bytes = message.to_vec().unwrap();
    let mut buffer = vec![0u8; 65_535];
    for _ in 0..STUB_TRIES {
        socket.send_to(&bytes, server).await.unwrap();
        let deadline = tokio::time::Instant::now() + STUB_RETRY;
        while let Ok(Ok((len, from))) =
            tokio::time::timeout_at(deadline, socket.recv_from(&mut buffer)).await
        {
            if from == server
                && let Ok(reply) = Message::from_vec(&buffer[..len])
                && reply.metadata.id == message.metadata.id
            {
                return reply;
            }
        }
    }
    panic!("no UDP reply after {STUB_TRIES} tries");
}

/// Sends every message on one TCP connection in one write and returns the
/// replies in the order of the messages.
async fn tcp(server: SocketAddr, messages: &[Message]) -> Vec<Message> {
    let mut stream = TcpStream::connect(server).await.unwrap();
    let mut frames = Vec::new();
    for message in messages {
        let bytes = message.to_vec().unwrap();
        frames.extend_from_slice(&u16::try_from(bytes.len()).unwrap().to_be_bytes());
        frames.extend_from_slice(&bytes);
    }
    stream.write_all(&frames).await.unwrap();
    let mut replies = Vec::new();
    for _ in messages {
        let mut len = [0u8; 2];
        tokio::time::timeout(REPLY_WAIT, stream.read_exact(&mut len))
            .await
            .expect("no TCP reply")
            .unwrap();
        let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut body).await.unwrap();
        replies.push(Message::from_vec(&body).unwrap());
    }
    messages
        .iter()
        .map(|m| {
            let at = replies
                .iter()
                .position(|r| r.metadata.id == m.metadata.id)
                .expect("a reply for every query");
            replies.swap_remove(at)
        })
        .collect()
}

/// Checks the header rules every answer follows.
fn assert_reply_to(reply: &Message, query: &Message) {
    assert_eq!(reply.metadata.id, query.metadata.id);
    assert_eq!(reply.metadata.message_type, MessageType::Response);
    assert!(reply.metadata.recursion_available, "RA=1");
    assert_eq!(
        reply.metadata.recursion_desired,
        query.metadata.recursion_desired
    );
    assert_eq!(reply.queries, query.queries, "question echoed");
    assert_eq!(reply.edns.is_some(), query.edns.is_some(), "OPT iff asked");
}

fn addresses(reply: &Message) -> Vec<String> {
    reply
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(a.0.to_string()),
            RData::AAAA(a) => Some(a.0.to_string()),
            _ => None,
        })
        .collect()
}

/// The lab's answers, each asked over UDP and then TCP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_lab_names_over_udp_and_tcp() {
    let daemon = Daemon::loopback().await;
    type Check = fn(&Message);
    let cases: [(&str, RecordType, Check); 6] = [
        ("www.a.tld1.", RecordType::A, |r| {
            assert_eq!(r.metadata.response_code, ResponseCode::NoError);
            assert_eq!(addresses(r), ["192.0.2.10"]);
        }),
        ("www.c.tld2.", RecordType::A, |r| {
            assert_eq!(r.metadata.response_code, ResponseCode::NoError);
            assert_eq!(addresses(r), ["198.51.100.30"]);
        }),
        ("far.a.tld1.", RecordType::A, |r| {
            assert_eq!(r.metadata.response_code, ResponseCode::NoError);
            let first = &r.answers[0];
            assert_eq!(first.name, name("far.a.tld1."));
            assert!(matches!(&first.data, RData::CNAME(c) if c.0 == name("www.c.tld2.")));
            assert_eq!(addresses(r), ["198.51.100.30"]);
        }),
        ("nope.a.tld1.", RecordType::A, |r| {
            assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);
            assert!(r.answers.is_empty());
            assert!(
                r.authorities
                    .iter()
                    .any(|a| a.record_type() == RecordType::SOA && a.name == name("a.tld1.")),
                "SOA of a.tld1 in authority: {:?}",
                r.authorities
            );
        }),
        ("www.a.tld1.", RecordType::AAAA, |r| {
            assert_eq!(r.metadata.response_code, ResponseCode::NoError);
            assert!(r.answers.is_empty(), "NODATA");
            assert!(
                r.authorities
                    .iter()
                    .any(|a| a.record_type() == RecordType::SOA)
            );
        }),
        ("www.x.tld2.", RecordType::A, |r| {
            assert_eq!(r.metadata.response_code, ResponseCode::ServFail);
            assert!(r.answers.is_empty());
        }),
    ];
    for (qname, qtype, check) in cases {
        let q = query(qname, qtype);
        let reply = udp(daemon.addr, &q).await;
        assert_reply_to(&reply, &q);
        check(&reply);
        let q = bare_query(qname, qtype);
        let reply = tcp(daemon.addr, std::slice::from_ref(&q)).await.remove(0);
        assert_reply_to(&reply, &q);
        check(&reply);
    }
    let counters = daemon.stop().await;
    assert_eq!(counters.received, 12);
    assert_eq!(counters.servfail, 2);
    assert_eq!(counters.nxdomain, 2);
    assert_eq!(counters.noerror, 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_answers_are_truncated_over_udp_and_whole_over_tcp() {
    let daemon = Daemon::loopback().await;
    for (edns, limit) in [(Some(1232), 1232), (None, 512), (Some(4096), 1232)] {
        let q = query_edns("big.a.tld1.", RecordType::TXT, edns);
        let bytes = udp_raw(daemon.addr, &q.to_vec().unwrap(), q.metadata.id).await;
        assert!(bytes.len() <= limit, "{} > {limit}", bytes.len());
        let reply = Message::from_vec(&bytes).unwrap();
        assert_reply_to(&reply, &q);
        assert!(reply.metadata.truncation, "TC=1");
        assert!(reply.answers.is_empty(), "question only");
    }
    let q = query("big.a.tld1.", RecordType::TXT);
    let reply = tcp(daemon.addr, std::slice::from_ref(&q)).await.remove(0);
    assert_reply_to(&reply, &q);
    assert!(!reply.metadata.truncation);
    assert_eq!(reply.answers.len(), 1);
    let RData::TXT(txt) = &reply.answers[0].data else {
        panic!("not TXT: {:?}", reply.answers[0]);
    };
    let text: Vec<u8> = txt
        .txt_data
        .iter()
        .flat_map(|s| s.iter().copied())
        .collect();
    let text = String::from_utf8_lossy(&text);
    assert!(
        text.contains("01") && text.contains("40"),
        "first and last line: {text}"
    );
    assert!(
        reply.to_vec().unwrap().len() > 1232,
        "bigger than any UDP reply"
    );
    let counters = daemon.stop().await;
    assert_eq!(counters.truncated, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_queries_on_one_tcp_connection() {
    let daemon = Daemon::loopback().await;
    let queries = [
        bare_query("www.a.tld1.", RecordType::A),
        bare_query("www.c.tld2.", RecordType::A),
        bare_query("nope.a.tld1.", RecordType::A),
        bare_query("www.b.tld1.", RecordType::A),
    ];
    let replies = tcp(daemon.addr, &queries).await;
    for (q, r) in queries.iter().zip(&replies) {
        assert_reply_to(r, q);
    }
    assert_eq!(addresses(&replies[0]), ["192.0.2.10"]);
    assert_eq!(addresses(&replies[1]), ["198.51.100.30"]);
    assert_eq!(replies[2].metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(replies[3].metadata.response_code, ResponseCode::NoError);
    let counters = daemon.stop().await;
    assert_eq!(counters.tcp_connections, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_outside_the_acl_are_refused() {
    let acl = Acl::new(vec!["127.9.9.9/32".parse().unwrap()]);
    let daemon = Daemon::start(acl, false).await;
    let q = query("www.a.tld1.", RecordType::A);
    let reply = udp(daemon.addr, &q).await;
    assert_reply_to(&reply, &q);
    assert_eq!(reply.metadata.response_code, ResponseCode::Refused);
    assert!(reply.answers.is_empty());
    let reply = tcp(daemon.addr, std::slice::from_ref(&q)).await.remove(0);
    assert_eq!(reply.metadata.response_code, ResponseCode::Refused);
    assert!(
        daemon.lab.query_log().is_empty(),
        "no resolution for a refused client"
    );
    let counters = daemon.stop().await;
    assert_eq!(counters.refused, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_queries_get_notimp_formerr_or_nothing() {
    let daemon = Daemon::loopback().await;

    let mut status = bare_query("www.a.tld1.", RecordType::A);
    status.metadata.op_code = OpCode::Status;
    let reply = udp(daemon.addr, &status).await;
    assert_eq!(reply.metadata.id, status.metadata.id);
    assert_eq!(reply.metadata.response_code, ResponseCode::NotImp);

    // A readable header claiming one question, then garbage.
    let garbage = [
        0x4a, 0x17, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0x03,
    ];
    let reply = Message::from_vec(&udp_raw(daemon.addr, &garbage, 0x4a17).await).unwrap();
    assert_eq!(reply.metadata.id, 0x4a17);
    assert_eq!(reply.metadata.response_code, ResponseCode::FormErr);
    assert_eq!(reply.metadata.message_type, MessageType::Response);

    let mut two = bare_query("www.a.tld1.", RecordType::A);
    two.add_query(Query::query(name("www.b.tld1."), RecordType::A));
    let reply = udp(daemon.addr, &two).await;
    assert_eq!(reply.metadata.response_code, ResponseCode::FormErr);

    // No reply to these: too short for a header, or a response.
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.send_to(&[1, 2, 3], daemon.addr).await.unwrap();
    let mut response = bare_query("www.a.tld1.", RecordType::A);
    response.metadata.message_type = MessageType::Response;
    socket
        .send_to(&response.to_vec().unwrap(), daemon.addr)
        .await
        .unwrap();

    // The daemon still answers, over both transports.
    let q = bare_query("www.a.tld1.", RecordType::A);
    assert_eq!(addresses(&udp(daemon.addr, &q).await), ["192.0.2.10"]);
    // The two datagrams may sit on another UDP thread (SO_REUSEPORT hashes
    // by source): wait until they are read, or shutdown could come first.
    for _ in 0..200 {
        if daemon.counters.snapshot().dropped >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let counters = daemon.stop().await;
    assert_eq!(counters.notimp, 1);
    assert_eq!(counters.formerr, 2);
    assert_eq!(counters.dropped, 2);
    assert_eq!(counters.noerror, 1);
}

/// Mutations of a valid query: flipped bytes, cut or extended tails,
/// header fields set at random.
fn mutate(rng: &mut StdRng, template: &[u8]) -> Vec<u8> {
    let mut bytes = template.to_vec();
    match rng.random_range(0..4) {
        0 => {
            for _ in 0..rng.random_range(1..=4) {
                let at = rng.random_range(0..bytes.len());
                bytes[at] = rng.random();
            }
        }
        1 => bytes.truncate(rng.random_range(0..bytes.len())),
        2 => {
            for _ in 0..rng.random_range(1..64) {
                bytes.push(rng.random());
            }
        }
        _ => {
            // Keep QR=0 and randomise opcode, flags and section counts.
            let at = rng.random_range(2..12);
            bytes[at] = rng.random();
            bytes[2] &= 0x7f;
        }
    }
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_ten_thousand_random_and_mutated_packets() {
    let daemon = Daemon::loopback().await;
    let mut rng = StdRng::seed_from_u64(0x5eed_d00d);
    let templates: Vec<Vec<u8>> = [
        bare_query("www.a.tld1.", RecordType::A),
        query("www.a.tld1.", RecordType::A),
        query_edns("nope.a.tld1.", RecordType::MX, Some(512)),
    ]
    .iter()
    .map(|q| q.to_vec().unwrap())
    .collect();
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut tcp_frames = Vec::new();
    let mut drain = vec![0u8; 65_535];
    for i in 0..10_000u32 {
        let packet = if rng.random_bool(0.3) {
            let len = rng.random_range(0..300);
            (0..len).map(|_| rng.random()).collect()
        } else {
            let template = &templates[rng.random_range(0..templates.len())];
            mutate(&mut rng, template)
        };
        if i % 50 == 0 {
            tcp_frames.push(packet.clone());
        }
        socket.send_to(&packet, daemon.addr).await.unwrap();
        // Let the daemon keep up, and read what came back so far.
        if i % 100 == 99 {
            tokio::time::sleep(Duration::from_millis(2)).await;
            while socket.try_recv_from(&mut drain).is_ok() {}
        }
    }
    // The same kind of garbage over TCP, framed.
    let mut stream = TcpStream::connect(daemon.addr).await.unwrap();
    for frame in &tcp_frames {
        let mut bytes = u16::try_from(frame.len()).unwrap().to_be_bytes().to_vec();
        bytes.extend_from_slice(frame);
        stream.write_all(&bytes).await.unwrap();
    }
    drop(stream);

    // The garbage may still keep this client address's share of
    // resolutions busy, and the daemon then drops the question: ask as a
    // stub would, again after a while.
    let q = query("www.a.tld1.", RecordType::A);
    let reply = udp_as_stub(daemon.addr, &q).await;
    assert_reply_to(&reply, &q);
    assert_eq!(addresses(&reply), ["192.0.2.10"]);
    let q = bare_query("www.c.tld2.", RecordType::A);
    let reply = tcp(daemon.addr, std::slice::from_ref(&q)).await.remove(0);
    assert_eq!(addresses(&reply), ["198.51.100.30"]);
    let counters = daemon.stop().await;
    println!("after fuzzing: {counters}");
    assert!(counters.formerr > 0, "{counters}");
    assert!(counters.dropped > 0, "{counters}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_questions_in_flight_share_one_resolution() {
    // Latency on: the resolution takes several round trips of 10 ms, so all
    // 20 queries arrive while it runs.
    let daemon = Daemon::start(Acl::loopback(), true).await;
    let mut clients = Vec::new();
    for _ in 0..20 {
        let addr = daemon.addr;
        clients.push(tokio::spawn(async move {
            let q = bare_query("www.c.tld2.", RecordType::A);
            let reply = udp(addr, &q).await;
            assert_reply_to(&reply, &q);
            addresses(&reply)
        }));
    }
    for client in clients {
        assert_eq!(client.await.unwrap(), ["198.51.100.30"]);
    }
    assert_eq!(
        daemon.asked("ns.hosting.tld3.", "www.c.tld2.", RecordType::A),
        1,
        "one resolution, so one query to the final zone's server"
    );
    let counters = daemon.stop().await;
    println!("coalescing: {counters}");
    assert!(counters.coalesced >= 1, "{counters}");
    assert_eq!(counters.noerror, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_run_after_answering_queries_in_work() {
    let daemon = Daemon::start(Acl::loopback(), true).await;
    let addr = daemon.addr;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let q = bare_query("www.c.tld2.", RecordType::A);
    let bytes = q.to_vec().unwrap();
    let mut frame = u16::try_from(bytes.len()).unwrap().to_be_bytes().to_vec();
    frame.extend_from_slice(&bytes);
    stream.write_all(&frame).await.unwrap();
    // Wait until the daemon has read the query, then stop it mid-resolution.
    for _ in 0..1000 {
        if daemon.counters.snapshot().received > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(daemon.counters.snapshot().received, 1);
    let counters = daemon.stop().await;
    assert_eq!(counters.received, 1);
    assert_eq!(
        counters.noerror, 1,
        "the query in work was answered: {counters}"
    );
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).await.unwrap();
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut body).await.unwrap();
    assert_eq!(
        addresses(&Message::from_vec(&body).unwrap()),
        ["198.51.100.30"]
    );
    assert!(TcpStream::connect(addr).await.is_err(), "listener closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dig_gets_an_answer() {
    let on_path = std::process::Command::new("dig").arg("-v").output().is_ok();
    if !on_path {
        println!("dig not on PATH; skipping the real-client check");
        return;
    }
    let daemon = Daemon::loopback().await;
    let port = daemon.addr.port().to_string();
    for transport in ["+notcp", "+tcp"] {
        let port = port.clone();
        let output = tokio::task::spawn_blocking(move || {
            std::process::Command::new("dig")
                .args([
                    "@127.0.0.1",
                    "-p",
                    &port,
                    "www.a.tld1",
                    "+tries=1",
                    "+time=2",
                ])
                .arg(transport)
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{text}");
        assert!(text.contains("status: NOERROR"), "{text}");
        assert!(text.contains("192.0.2.10"), "{text}");
        assert!(text.contains(" ra"), "RA flag: {text}");
    }
    daemon.stop().await;
}

/// The lab's answers again from a warm cache: the same replies, answered
/// on the receive loop (cache hits, no resolution) and with no upstream
/// query; CNAME chains across zones and negative answers included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_answers_come_from_the_cache_without_a_resolution() {
    let daemon = Daemon::loopback().await;
    let questions = [
        ("www.a.tld1.", RecordType::A),
        ("far.a.tld1.", RecordType::A),
        ("nope.a.tld1.", RecordType::A),
        ("www.a.tld1.", RecordType::AAAA),
    ];
    let www = name("www.a.tld1.");
    assert!(
        daemon
            .resolver
            .answer_from_cache(&www, RecordType::A)
            .is_none(),
        "cold cache"
    );
    let mut cold = Vec::new();
    for (qname, qtype) in questions {
        cold.push(udp(daemon.addr, &query(qname, qtype)).await);
    }
    let upstream = daemon.lab.query_log().len();
    let after_cold = daemon.counters.snapshot();
    assert_eq!(after_cold.cache_hits, 0, "{after_cold}");
    assert_eq!(after_cold.resolutions, 4, "{after_cold}");
    assert_eq!(after_cold.upstream_queries, upstream as u64);

    for ((qname, qtype), cold) in questions.into_iter().zip(&cold) {
        for edns in [Some(1232), None] {
            let q = query_edns(qname, qtype, edns);
            let warm = udp(daemon.addr, &q).await;
            assert_reply_to(&warm, &q);
            assert_eq!(warm.metadata.response_code, cold.metadata.response_code);
            let owners = |m: &Message| -> Vec<_> {
                let records = m.answers.iter().chain(&m.authorities);
                records.map(|r| (r.name.clone(), r.data.clone())).collect()
            };
            assert_eq!(owners(&warm), owners(cold), "{qname} {qtype}");
        }
        let cached = daemon.resolver.answer_from_cache(&name(qname), qtype);
        let cached = cached.expect("cached after the first query");
        assert_eq!(cached.rcode, cold.metadata.response_code);
        assert_eq!(cached.stats.upstream_queries, 0);
    }
    // Kept copies answer in the asker's spelling, ID and flags, with TTLs
    // that only go down.
    for (id, rd) in [(0x0101, true), (0xfefe, false)] {
        let mut q = query("www.a.tld1.", RecordType::A);
        q.queries[0].set_name(Name::from_ascii("WwW.A.tld1.").unwrap());
        q.metadata.id = id;
        q.metadata.recursion_desired = rd;
        let copy = udp(daemon.addr, &q).await;
        assert_reply_to(&copy, &q);
        assert_eq!(copy.queries[0].name().to_string(), "WwW.A.tld1.");
        assert_eq!(addresses(&copy), ["192.0.2.10"]);
        assert!(copy.answers[0].ttl <= cold[0].answers[0].ttl);
    }
    assert_eq!(
        daemon.lab.query_log().len(),
        upstream,
        "nothing sent upstream"
    );
    let counters = daemon.stop().await;
    assert_eq!(counters.cache_hits, 10, "{counters}");
    assert_eq!(counters.resolutions, 4, "{counters}");
    assert_eq!(counters.received, 14);
    assert_eq!(counters.latency.iter().sum::<u64>(), 14);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_reply_copies_warm_answers_still_come_from_the_cache() {
    let daemon = Daemon::start_with(Acl::loopback(), false, 0).await;
    let mut replies = Vec::new();
    for _ in 0..3 {
        let q = query("far.a.tld1.", RecordType::A);
        let reply = udp(daemon.addr, &q).await;
        assert_reply_to(&reply, &q);
        replies.push(addresses(&reply));
    }
    assert!(
        replies.iter().all(|r| r == &["198.51.100.30"]),
        "{replies:?}"
    );
    let counters = daemon.stop().await;
    assert_eq!(counters.resolutions, 1, "{counters}");
    assert_eq!(counters.cache_hits, 2, "{counters}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_queries_hits_upstream_queries_and_latency() {
    let daemon = Daemon::loopback().await;
    let (status, body) = http_get(daemon.metrics(), "/metrics").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(sample(&body, "rootwalk_queries_total"), 0.0);

    for (qname, qtype) in [
        ("www.c.tld2.", RecordType::A),
        ("www.c.tld2.", RecordType::A),
        ("www.c.tld2.", RecordType::A),
        ("nope.a.tld1.", RecordType::A),
        ("www.x.tld2.", RecordType::A),
    ] {
        udp(daemon.addr, &bare_query(qname, qtype)).await;
    }
    let (_, body) = http_get(daemon.metrics(), "/metrics").await;
    let upstream = daemon.lab.query_log().len() as f64;
    assert!(upstream > 0.0);
    for (series, value) in [
        ("rootwalk_queries_total", 5.0),
        ("rootwalk_cache_hits_total", 2.0),
        ("rootwalk_resolutions_total", 3.0),
        ("rootwalk_upstream_queries_total", upstream),
        ("rootwalk_replies_total{rcode=\"NOERROR\"}", 3.0),
        ("rootwalk_replies_total{rcode=\"NXDOMAIN\"}", 1.0),
        ("rootwalk_replies_total{rcode=\"SERVFAIL\"}", 1.0),
        ("rootwalk_reply_latency_seconds_count", 5.0),
        ("rootwalk_reply_latency_seconds_bucket{le=\"+Inf\"}", 5.0),
    ] {
        assert_eq!(sample(&body, series), value, "{series}");
    }
    assert!(sample(&body, "rootwalk_reply_latency_seconds_sum") > 0.0);
    // What the caches hold, as the resolver counts it; no validation, so
    // no signature memo.
    let sizes = daemon.resolver.cache_sizes();
    assert!(sizes.rrsets > 0);
    for (series, value) in [
        ("rootwalk_cache_entries{cache=\"rrset\"}", sizes.rrsets),
        ("rootwalk_cache_entries{cache=\"negative\"}", sizes.negative),
        ("rootwalk_cache_bytes{cache=\"rrset\"}", sizes.rrset_bytes),
        ("rootwalk_cache_budget_bytes", sizes.budget_bytes),
    ] {
        assert_eq!(sample(&body, series), value as f64, "{series}");
    }
    assert!(!body.contains("rootwalk_sig_memo"), "{body}");

    // One more cached answer moves exactly the counters it should.
    udp(daemon.addr, &bare_query("www.c.tld2.", RecordType::A)).await;
    let (_, after) = http_get(daemon.metrics(), "/metrics").await;
    assert_eq!(sample(&after, "rootwalk_queries_total"), 6.0);
    assert_eq!(sample(&after, "rootwalk_cache_hits_total"), 3.0);
    assert_eq!(sample(&after, "rootwalk_resolutions_total"), 3.0);
    assert_eq!(sample(&after, "rootwalk_upstream_queries_total"), upstream);

    let (status, _) = http_get(daemon.metrics(), "/nothing").await;
    assert_eq!(status, "HTTP/1.1 404 Not Found");
    let metrics = daemon.metrics();
    daemon.stop().await;
    assert!(
        TcpStream::connect(metrics).await.is_err(),
        "the endpoint stops with the daemon"
    );
}

/// `message` encoded with its OPT record (which must be there and be the
/// last record) carrying one more EDNS option, `code` with `data`.
fn with_edns_option(message: &Message, code: u16, data: &[u8]) -> Vec<u8> {
    let mut bytes = message.to_vec().unwrap();
    let at = bytes.len() - 2;
    let rdlen = u16::from_be_bytes([bytes[at], bytes[at + 1]]);
    let added = u16::try_from(4 + data.len()).unwrap();
    bytes[at..].copy_from_slice(&(rdlen + added).to_be_bytes());
    bytes.extend_from_slice(&code.to_be_bytes());
    bytes.extend_from_slice(&u16::try_from(data.len()).unwrap().to_be_bytes());
    bytes.extend_from_slice(data);
    bytes
}

/// A malformed EDNS Client Subnet option (RFC 7871 §7.1.1: FORMERR) gets
/// FORMERR whether or not a copy of the answer is kept: the copy path must
/// not answer what the full path rejects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_client_subnet_gets_formerr_from_a_warm_thread_too() {
    let daemon = Daemon::loopback().await;
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    // Resolve, then answer from the cache (the copy is kept), then copy.
    for _ in 0..3 {
        let q = query("www.a.tld1.", RecordType::A);
        let bytes = udp_raw_on(&socket, daemon.addr, &q.to_vec().unwrap(), q.metadata.id).await;
        assert_eq!(
            addresses(&Message::from_vec(&bytes).unwrap()),
            ["192.0.2.10"]
        );
    }
    let bad_options: [&[u8]; 3] = [
        &[0, 3, 0, 0],                  // family 3 does not exist
        &[],                            // empty
        &[0, 1, 40, 0, 10, 0, 0, 0, 0], // IPv4 source prefix 40
    ];
    for data in bad_options {
        let q = query("www.a.tld1.", RecordType::A);
        let bytes = with_edns_option(&q, 8, data);
        let reply = udp_raw_on(&socket, daemon.addr, &bytes, q.metadata.id).await;
        let reply = Message::from_vec(&reply).unwrap();
        assert_eq!(
            reply.metadata.response_code,
            ResponseCode::FormErr,
            "ECS {data:?}: {reply:?}"
        );
    }
    // A well-formed one is answered.
    let q = query("www.a.tld1.", RecordType::A);
    let bytes = with_edns_option(&q, 8, &[0, 1, 24, 0, 192, 0, 2]);
    let reply = udp_raw_on(&socket, daemon.addr, &bytes, q.metadata.id).await;
    assert_eq!(
        addresses(&Message::from_vec(&reply).unwrap()),
        ["192.0.2.10"]
    );
    let counters = daemon.stop().await;
    assert_eq!(counters.formerr, 3, "{counters}");
    assert_eq!(counters.noerror, 4, "{counters}");
}
