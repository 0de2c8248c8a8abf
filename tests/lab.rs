//! The embedded lab, queried over real UDP and TCP sockets: referral shape
//! and glue, authoritative answers, negative answers, truncation, faults,
//! the query log, latency, shutdown, and manifest errors; and the zones for
//! fault-tolerance tests: loss, a slow server, no EDNS, broken empty
//! non-terminals, an IPv6-only name server, six glueless NS, a removable
//! (ghost) delegation, DNAME and an NXNS referral.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use rootwalk::lab::dname::target as dname_target;
use rootwalk::lab::{Lab, LabConfig, LabError, LabPort, LabTransport};
use rootwalk::resolve::hints::RootHints;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

const WAIT: Duration = Duration::from_secs(2);

fn name(s: &str) -> Name {
    Name::from_str(s).unwrap()
}

fn query(qname: &str, qtype: RecordType) -> Message {
    let mut q = Message::new(rand::random(), MessageType::Query, OpCode::Query);
    q.add_query(Query::query(name(qname), qtype));
    q
}

fn with_edns(mut q: Message, size: u16) -> Message {
    let mut edns = Edns::new();
    edns.set_max_payload(size);
    q.set_edns(edns);
    q
}

async fn fast_lab() -> Lab {
    let config = LabConfig {
        latency: false,
        ..LabConfig::for_tests()
    };
    Lab::start(config).await.unwrap()
}

fn server(lab: &Lab, server_name: &str) -> SocketAddr {
    let address = lab.address_of(server_name).unwrap();
    SocketAddr::new(address, lab.port())
}

/// Sends `q` over UDP and collects every datagram that arrives within
/// `window`, in order.
async fn udp_all(to: SocketAddr, q: &Message, window: Duration) -> Vec<Message> {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.send_to(&q.to_vec().unwrap(), to).await.unwrap();
    let deadline = tokio::time::Instant::now() + window;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 65_535];
    while let Ok(Ok((len, from))) =
        tokio::time::timeout_at(deadline, socket.recv_from(&mut buf)).await
    {
        assert_eq!(from, to, "reply from the server's own address");
        out.push(Message::from_vec(&buf[..len]).unwrap());
    }
    out
}

/// Sends `q` over UDP and returns the first reply, or `None` on timeout.
async fn udp_raw(to: SocketAddr, bytes: &[u8], timeout: Duration) -> Option<Message> {
    let local = if to.is_ipv6() {
        "[::1]:0"
    } else {
        "127.0.0.1:0"
    };
    let socket = UdpSocket::bind(local).await.unwrap();
    socket.send_to(bytes, to).await.unwrap();
    let mut buf = vec![0u8; 65_535];
    let (len, _) = tokio::time::timeout(timeout, socket.recv_from(&mut buf))
        .await
        .ok()?
        .unwrap();
    Some(Message::from_vec(&buf[..len]).unwrap())
}

async fn udp(to: SocketAddr, q: &Message) -> Message {
    let reply = udp_raw(to, &q.to_vec().unwrap(), WAIT)
        .await
        .expect("no UDP reply");
    assert_eq!(reply.metadata.id, q.metadata.id);
    assert_eq!(reply.queries, q.queries);
    reply
}

async fn tcp(to: SocketAddr, queries: &[Message]) -> Vec<Message> {
    let mut stream = tokio::time::timeout(WAIT, TcpStream::connect(to))
        .await
        .unwrap()
        .unwrap();
    let mut out = Vec::new();
    for q in queries {
        let bytes = q.to_vec().unwrap();
        stream
            .write_all(&(bytes.len() as u16).to_be_bytes())
            .await
            .unwrap();
        stream.write_all(&bytes).await.unwrap();
        let len = tokio::time::timeout(WAIT, stream.read_u16())
            .await
            .unwrap()
            .unwrap();
        let mut frame = vec![0u8; usize::from(len)];
        stream.read_exact(&mut frame).await.unwrap();
        let reply = Message::from_vec(&frame).unwrap();
        assert_eq!(reply.metadata.id, q.metadata.id);
        out.push(reply);
    }
    out
}

fn names_of(records: &[Record], rtype: RecordType) -> Vec<Name> {
    let mut names: Vec<Name> = records
        .iter()
        .filter(|r| r.record_type() == rtype)
        .map(|r| r.name.clone())
        .collect();
    names.sort();
    names
}

fn ns_targets(records: &[Record]) -> Vec<Name> {
    let mut targets: Vec<Name> = records
        .iter()
        .filter_map(|r| match &r.data {
            RData::NS(ns) => Some(ns.0.clone()),
            _ => None,
        })
        .collect();
    targets.sort();
    targets
}

fn a_of(records: &[Record], owner: &str) -> Vec<Ipv4Addr> {
    records
        .iter()
        .filter(|r| r.name == name(owner))
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(a.0),
            _ => None,
        })
        .collect()
}

fn lab_ip(lab: &Lab, last: u8) -> Ipv4Addr {
    let [a, b, c] = lab.prefix();
    Ipv4Addr::new(a, b, c, last)
}

#[tokio::test]
async fn root_refers_to_tld_with_rewritten_glue() {
    let lab = fast_lab().await;
    let reply = udp(
        server(&lab, "a.root-servers.lab."),
        &query("www.a.tld1.", RecordType::A),
    )
    .await;
    assert!(!reply.metadata.authoritative);
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert!(reply.answers.is_empty());
    assert_eq!(
        names_of(&reply.authorities, RecordType::NS),
        vec![name("tld1."); 2]
    );
    assert_eq!(
        a_of(&reply.additionals, "ns1.nic.tld1."),
        vec![lab_ip(&lab, 11)]
    );
    assert_eq!(
        a_of(&reply.additionals, "ns2.nic.tld1."),
        vec![lab_ip(&lab, 12)]
    );
}

#[tokio::test]
async fn tld_referrals_carry_in_domain_and_sibling_glue_but_not_out_of_zone() {
    let lab = fast_lab().await;
    let tld1 = server(&lab, "ns1.nic.tld1.");
    let a = udp(tld1, &query("www.a.tld1.", RecordType::A)).await;
    assert!(!a.metadata.authoritative);
    assert_eq!(
        ns_targets(&a.authorities),
        vec![name("ns1.a.tld1."), name("ns2.a.tld1.")]
    );
    assert_eq!(a_of(&a.additionals, "ns1.a.tld1."), vec![lab_ip(&lab, 101)]);
    assert_eq!(a_of(&a.additionals, "ns2.a.tld1."), vec![lab_ip(&lab, 102)]);

    let b = udp(tld1, &query("www.b.tld1.", RecordType::A)).await;
    assert_eq!(ns_targets(&b.authorities), vec![name("ns1.a.tld1.")]);
    assert_eq!(a_of(&b.additionals, "ns1.a.tld1."), vec![lab_ip(&lab, 101)]);

    let c = udp(
        server(&lab, "ns1.nic.tld2."),
        &query("www.c.tld2.", RecordType::A),
    )
    .await;
    assert!(!c.metadata.authoritative);
    assert_eq!(ns_targets(&c.authorities), vec![name("ns.hosting.tld3.")]);
    assert!(c.additionals.is_empty(), "{:?}", c.additionals);

    // Chained glueless: d.tld1's server lives in glueless c.tld2.
    let d = udp(tld1, &query("www.d.tld1.", RecordType::A)).await;
    assert_eq!(ns_targets(&d.authorities), vec![name("ns.c.tld2.")]);
    assert!(d.additionals.is_empty(), "{:?}", d.additionals);

    // Cyclic glueless pair: x.tld2 needs y.tld3, which needs x.tld2.
    let x = udp(
        server(&lab, "ns1.nic.tld2."),
        &query("www.x.tld2.", RecordType::A),
    )
    .await;
    assert_eq!(ns_targets(&x.authorities), vec![name("ns.y.tld3.")]);
    assert!(x.additionals.is_empty());
    let y = udp(
        server(&lab, "ns1.nic.tld3."),
        &query("www.y.tld3.", RecordType::A),
    )
    .await;
    assert_eq!(ns_targets(&y.authorities), vec![name("ns.x.tld2.")]);
    assert!(y.additionals.is_empty());
}

#[tokio::test]
async fn three_level_delegation_has_glue_at_each_level() {
    let lab = fast_lab().await;
    let steps = [
        ("ns1.nic.tld3.", "ns.deep.tld3.", 151),
        ("ns.deep.tld3.", "ns.sub.deep.tld3.", 152),
        ("ns.sub.deep.tld3.", "ns.leaf.sub.deep.tld3.", 153),
    ];
    let q = query("www.leaf.sub.deep.tld3.", RecordType::A);
    for (asked, next, last) in steps {
        let reply = udp(server(&lab, asked), &q).await;
        assert_eq!(ns_targets(&reply.authorities), vec![name(next)], "{asked}");
        assert_eq!(a_of(&reply.additionals, next), vec![lab_ip(&lab, last)]);
    }
    let reply = udp(server(&lab, "ns.leaf.sub.deep.tld3."), &q).await;
    assert!(reply.metadata.authoritative);
    assert_eq!(
        a_of(&reply.answers, "www.leaf.sub.deep.tld3."),
        vec![Ipv4Addr::new(203, 0, 113, 153)]
    );
}

#[tokio::test]
async fn parent_and_child_ns_sets_differ_for_mismatch() {
    let lab = fast_lab().await;
    let q = query("mismatch.tld1.", RecordType::NS);
    let parent = udp(server(&lab, "ns1.nic.tld1."), &q).await;
    assert_eq!(
        ns_targets(&parent.authorities),
        vec![name("ns1.mismatch.tld1."), name("ns2.mismatch.tld1.")]
    );
    let child = udp(server(&lab, "ns2.mismatch.tld1."), &q).await;
    assert!(child.metadata.authoritative);
    assert_eq!(
        ns_targets(&child.answers),
        vec![name("ns1.mismatch.tld1."), name("ns3.mismatch.tld1.")]
    );
    assert_eq!(
        a_of(&child.additionals, "ns3.mismatch.tld1."),
        vec![lab_ip(&lab, 193)]
    );
}

#[tokio::test]
async fn authoritative_answers_negative_answers_and_wildcards() {
    let lab = fast_lab().await;
    let ns = server(&lab, "ns2.a.tld1.");

    let www = udp(ns, &query("www.a.tld1.", RecordType::A)).await;
    assert!(www.metadata.authoritative);
    assert!(!www.metadata.recursion_available);
    assert_eq!(
        a_of(&www.answers, "www.a.tld1."),
        vec![Ipv4Addr::new(192, 0, 2, 10)]
    );

    let v6 = udp(ns, &query("v6.a.tld1.", RecordType::AAAA)).await;
    assert_eq!(v6.answers.len(), 1);

    for (qname, qtype, rcode) in [
        ("www.a.tld1.", RecordType::AAAA, ResponseCode::NoError),
        ("ent.a.tld1.", RecordType::A, ResponseCode::NoError),
        ("nope.a.tld1.", RecordType::A, ResponseCode::NXDomain),
    ] {
        let reply = udp(ns, &query(qname, qtype)).await;
        assert!(reply.metadata.authoritative, "{qname}");
        assert_eq!(reply.metadata.response_code, rcode, "{qname}");
        assert!(reply.answers.is_empty(), "{qname}");
        assert_eq!(
            names_of(&reply.authorities, RecordType::SOA),
            vec![name("a.tld1.")]
        );
        assert_eq!(
            reply.authorities[0].ttl, 300,
            "negative TTL capped at SOA minimum"
        );
    }

    let wild = udp(ns, &query("anything.wild.a.tld1.", RecordType::A)).await;
    assert!(wild.metadata.authoritative);
    assert_eq!(
        a_of(&wild.answers, "anything.wild.a.tld1."),
        vec![Ipv4Addr::new(192, 0, 2, 80)]
    );
}

#[tokio::test]
async fn cname_chain_is_chased_in_zone_and_stops_at_zone_edge_and_loops() {
    let lab = fast_lab().await;
    let ns = server(&lab, "ns1.a.tld1.");
    let chain = udp(ns, &query("chain.a.tld1.", RecordType::A)).await;
    let types: Vec<RecordType> = chain.answers.iter().map(Record::record_type).collect();
    assert_eq!(
        types,
        vec![RecordType::CNAME, RecordType::CNAME, RecordType::A]
    );
    assert_eq!(
        a_of(&chain.answers, "www.a.tld1."),
        vec![Ipv4Addr::new(192, 0, 2, 10)]
    );

    // www.b.tld1 is served by the same server but is another zone.
    let cross = udp(ns, &query("cross.a.tld1.", RecordType::A)).await;
    assert_eq!(cross.answers.len(), 1);
    assert_eq!(cross.answers[0].record_type(), RecordType::CNAME);

    let lp = udp(ns, &query("loop1.a.tld1.", RecordType::A)).await;
    assert_eq!(lp.metadata.response_code, ResponseCode::NoError);
    assert_eq!(lp.answers.len(), 2);
}

#[tokio::test]
async fn big_answer_is_truncated_over_udp_and_complete_over_tcp() {
    let lab = fast_lab().await;
    let ns = server(&lab, "ns1.a.tld1.");
    let plain = query("big.a.tld1.", RecordType::TXT);
    let reply = udp(ns, &plain).await;
    assert!(reply.metadata.truncation);
    assert!(reply.answers.is_empty());
    assert!(reply.edns.is_none());

    let edns = with_edns(query("big.a.tld1.", RecordType::TXT), 1232);
    let reply = udp(ns, &edns).await;
    assert!(reply.metadata.truncation);
    assert!(reply.answers.is_empty());
    assert_eq!(reply.edns.as_ref().map(Edns::max_payload), Some(1232));

    let replies = tcp(ns, &[plain, edns, query("www.a.tld1.", RecordType::A)]).await;
    for reply in &replies[..2] {
        assert!(!reply.metadata.truncation);
        match &reply.answers[0].data {
            RData::TXT(txt) => assert_eq!(txt.txt_data.len(), 40),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        replies[2].answers.len(),
        1,
        "several queries per connection"
    );
}

#[tokio::test]
async fn refused_by_refusing_server_and_for_unserved_zones() {
    let lab = fast_lab().await;
    let q = query("www.refused.tld2.", RecordType::A);
    let reply = udp(server(&lab, "ns1.refused.tld2."), &q).await;
    assert_eq!(reply.metadata.response_code, ResponseCode::Refused);
    let reply = udp(server(&lab, "ns2.refused.tld2."), &q).await;
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert!(reply.metadata.authoritative);

    let reply = udp(
        server(&lab, "ns1.a.tld1."),
        &query("www.tld2.", RecordType::A),
    )
    .await;
    assert_eq!(reply.metadata.response_code, ResponseCode::Refused);
    assert!(!reply.metadata.authoritative);
}

#[tokio::test]
async fn malformed_query_gets_formerr() {
    let lab = fast_lab().await;
    let mut bytes = query("www.a.tld1.", RecordType::A).to_vec().unwrap();
    let id = u16::from_be_bytes([bytes[0], bytes[1]]);
    bytes.truncate(16);
    let reply = udp_raw(server(&lab, "ns1.a.tld1."), &bytes, WAIT)
        .await
        .unwrap();
    assert_eq!(reply.metadata.id, id);
    assert_eq!(reply.metadata.response_code, ResponseCode::FormErr);
}

#[tokio::test]
async fn dropping_server_never_answers_but_logs() {
    let lab = fast_lab().await;
    let dead = server(&lab, "ns1.dead.tld3.");
    let q = query("www.dead.tld3.", RecordType::A);
    let reply = udp_raw(dead, &q.to_vec().unwrap(), Duration::from_millis(300)).await;
    assert!(reply.is_none(), "{reply:?}");
    let log = lab.query_log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].server, dead.ip());
    // No server at all behind ns2.dead.tld3.
    assert_eq!(lab.address_of("ns2.dead.tld3."), None);
}

#[tokio::test]
async fn spoofing_server_sends_forgeries_before_the_real_reply() {
    let lab = LabConfig::for_tests();
    let lab = Lab::start(lab).await.unwrap();
    let q = query("www.spoof.tld1.", RecordType::A);
    let replies = udp_all(
        server(&lab, "ns.spoof.tld1."),
        &q,
        Duration::from_millis(500),
    )
    .await;
    assert_eq!(replies.len(), 3, "{replies:#?}");
    let bogus = vec![Ipv4Addr::new(127, 66, 6, 6)];

    assert_ne!(replies[0].metadata.id, q.metadata.id);
    assert_eq!(a_of(&replies[0].answers, "www.spoof.tld1."), bogus);

    assert_eq!(replies[1].metadata.id, q.metadata.id);
    assert_ne!(replies[1].queries, q.queries);
    assert_eq!(a_of(&replies[1].answers, "www.spoof.tld1."), bogus);

    assert_eq!(replies[2].metadata.id, q.metadata.id);
    assert_eq!(replies[2].queries, q.queries);
    assert_eq!(
        a_of(&replies[2].answers, "www.spoof.tld1."),
        vec![Ipv4Addr::new(192, 0, 2, 211)]
    );

    // Over TCP there is nothing to spoof.
    let over_tcp = tcp(server(&lab, "ns.spoof.tld1."), &[q]).await;
    assert_eq!(over_tcp[0].answers.len(), 1);
}

#[tokio::test]
async fn poisoning_server_adds_records_to_answers_and_referrals() {
    let lab = fast_lab().await;
    let evil = server(&lab, "ns.evil.tld3.");
    let bogus = vec![Ipv4Addr::new(127, 66, 6, 6)];
    for qname in ["www.evil.tld3.", "www.sub.evil.tld3."] {
        let reply = udp(evil, &query(qname, RecordType::A)).await;
        assert_eq!(a_of(&reply.additionals, "www.a.tld1."), bogus, "{qname}");
        assert_eq!(a_of(&reply.additionals, "ns1.a.tld1."), bogus, "{qname}");
        assert!(
            reply
                .authorities
                .iter()
                .any(|r| r.name == name("tld1.") && r.record_type() == RecordType::NS),
            "{qname}: {:?}",
            reply.authorities
        );
    }
    let referral = udp(evil, &query("www.sub.evil.tld3.", RecordType::A)).await;
    assert!(!referral.metadata.authoritative);
    assert_eq!(
        a_of(&referral.additionals, "ns.sub.evil.tld3."),
        vec![lab_ip(&lab, 202)]
    );
}

#[tokio::test]
async fn referral_fault_refers_upward_and_sideways() {
    let lab = fast_lab().await;
    let up = udp(
        server(&lab, "ns.upward.tld2."),
        &query("www.upward.tld2.", RecordType::A),
    )
    .await;
    assert!(!up.metadata.authoritative);
    assert!(up.answers.is_empty());
    assert_eq!(
        names_of(&up.authorities, RecordType::NS),
        vec![Name::root()]
    );
    assert_eq!(
        ns_targets(&up.authorities),
        vec![name("a.root-servers.lab.")]
    );
    assert_eq!(
        a_of(&up.additionals, "a.root-servers.lab."),
        vec![lab_ip(&lab, 1)]
    );

    let side = udp(
        server(&lab, "ns.sideways.tld2."),
        &query("www.sideways.tld2.", RecordType::A),
    )
    .await;
    assert!(!side.metadata.authoritative);
    assert_eq!(
        names_of(&side.authorities, RecordType::NS),
        vec![name("a.tld1.")]
    );
}

#[tokio::test]
async fn query_log_records_server_transport_and_question() {
    let lab = fast_lab().await;
    udp(
        server(&lab, "a.root-servers.lab."),
        &query("www.a.tld1.", RecordType::A),
    )
    .await;
    lab.clear_log();
    assert!(lab.query_log().is_empty());
    udp(
        server(&lab, "ns1.nic.tld1."),
        &query("www.a.tld1.", RecordType::A),
    )
    .await;
    tcp(
        server(&lab, "ns1.a.tld1."),
        &[query("www.a.tld1.", RecordType::AAAA)],
    )
    .await;
    let log = lab.query_log();
    assert_eq!(log.len(), 2, "{log:#?}");
    assert_eq!(log[0].server, IpAddr::V4(lab_ip(&lab, 11)));
    assert_eq!(log[0].server_name, name("ns1.nic.tld1."));
    assert_eq!(log[0].transport, LabTransport::Udp);
    assert_eq!(log[0].qname, name("www.a.tld1."));
    assert_eq!(log[0].qtype, RecordType::A);
    assert_eq!(log[1].server_name, name("ns1.a.tld1."));
    assert_eq!(log[1].transport, LabTransport::Tcp);
    assert_eq!(log[1].qtype, RecordType::AAAA);
}

#[tokio::test]
async fn latency_delays_replies() {
    let lab = Lab::start(LabConfig::for_tests()).await.unwrap();
    let ns = server(&lab, "ns1.a.tld1.");
    let started = Instant::now();
    udp(ns, &query("www.a.tld1.", RecordType::A)).await;
    assert!(
        started.elapsed() >= Duration::from_millis(10),
        "{:?}",
        started.elapsed()
    );
    let started = Instant::now();
    tcp(ns, &[query("www.a.tld1.", RecordType::A)]).await;
    assert!(
        started.elapsed() >= Duration::from_millis(10),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn hints_list_the_root_servers_at_the_lab_prefix() {
    let lab = fast_lab().await;
    let hints = lab.hints();
    let names: Vec<Name> = hints.servers.iter().map(|s| s.name.clone()).collect();
    assert_eq!(
        names,
        vec![name("a.root-servers.lab."), name("b.root-servers.lab.")]
    );
    assert_eq!(hints.servers[0].addrs, vec![IpAddr::V4(lab_ip(&lab, 1))]);
    assert_eq!(
        lab.address_of("ns1.a.tld1"),
        Some(IpAddr::V4(lab_ip(&lab, 101)))
    );
    assert_eq!(lab.address_of("ns1.lame.tld2."), None);

    let text = lab.hints_file();
    assert!(text.contains(&format!("-p {}", lab.port())), "{text}");
    assert!(text.contains("+norecurse"), "{text}");
    assert_eq!(RootHints::parse(&text, "lab").unwrap(), hints);
}

#[tokio::test]
async fn dropping_the_lab_frees_its_addresses() {
    let lab = fast_lab().await;
    let (prefix, port) = (lab.prefix(), lab.port());
    let ns = server(&lab, "ns1.a.tld1.");
    tcp(ns, &[query("www.a.tld1.", RecordType::A)]).await;
    drop(lab);
    let again = Lab::start(LabConfig {
        manifest: None,
        prefix: Some(prefix),
        port: LabPort::Fixed(port),
        latency: false,
    })
    .await
    .unwrap();
    assert_eq!(again.port(), port);
    let reply = udp(ns, &query("www.a.tld1.", RecordType::A)).await;
    assert!(reply.metadata.authoritative);
}

#[tokio::test]
async fn manifest_on_disk_is_served() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/lab/manifest.toml");
    let config = LabConfig {
        manifest: Some(manifest),
        latency: false,
        ..LabConfig::for_tests()
    };
    let lab = Lab::start(config).await.unwrap();
    let reply = udp(
        server(&lab, "ns1.a.tld1."),
        &query("www.a.tld1.", RecordType::A),
    )
    .await;
    assert!(reply.metadata.authoritative);
}

/// A scratch directory holding a manifest and zone files.
struct Scratch(PathBuf);

impl Scratch {
    fn new(files: &[(&str, &str)]) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "rootwalk-lab-{}-{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        for (file, text) in files {
            std::fs::write(dir.join(file), text).unwrap();
        }
        Scratch(dir)
    }

    async fn start(&self) -> Result<Lab, LabError> {
        Lab::start(LabConfig {
            manifest: Some(self.0.join("manifest.toml")),
            latency: false,
            ..LabConfig::for_tests()
        })
        .await
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const GOOD_ZONE: &str =
    "$TTL 60\n@ IN SOA ns.t. h.t. 1 1 1 1 30\n@ IN NS ns.t.\nns IN A 127.53.0.7\n";
const GOOD_MANIFEST: &str = "[[zone]]\norigin = \"t.\"\nfile = \"t.zone\"\n\n[[server]]\n\
                             name = \"ns.t.\"\naddress = \"127.53.0.7\"\nzones = [\"t.\"]\n";

async fn error_of(files: &[(&str, &str)]) -> (String, String) {
    let scratch = Scratch::new(files);
    let err = scratch.start().await.unwrap_err().to_string();
    (err, scratch.0.display().to_string())
}

#[tokio::test]
async fn small_manifest_on_disk_starts() {
    let scratch = Scratch::new(&[("manifest.toml", GOOD_MANIFEST), ("t.zone", GOOD_ZONE)]);
    let lab = scratch.start().await.unwrap();
    let reply = udp(server(&lab, "ns.t."), &query("ns.t.", RecordType::A)).await;
    assert_eq!(a_of(&reply.answers, "ns.t."), vec![lab_ip(&lab, 7)]);
}

#[tokio::test]
async fn bad_manifests_name_file_line_and_problem() {
    let cases: &[(&str, &str, &str, &str)] = &[
        // (manifest, zone file, expected location suffix, expected problem)
        (
            "[[zone]]\norigin = \"t.\"\nfile = [\n",
            GOOD_ZONE,
            "manifest.toml:3:",
            "",
        ),
        (
            "[[zone]]\norigin = \"t.\"\nfile = \"missing.zone\"\n",
            GOOD_ZONE,
            "manifest.toml:3:",
            "missing.zone",
        ),
        (
            "[[zone]]\norigin = \"t.\"\nfile = \"t.zone\"\n\n[[server]]\nname = \"ns.t.\"\n\
             address = \"127.53.0.7\"\nzones = [\"t.\",\n  \"u.\"]\n",
            GOOD_ZONE,
            "manifest.toml:9:",
            "unknown zone u.",
        ),
        (
            "[[server]]\nname = \"ns.t.\"\naddress = \"10.0.0.7\"\n",
            GOOD_ZONE,
            "manifest.toml:3:",
            "outside 127.53.0.0/21",
        ),
        (
            GOOD_MANIFEST,
            "$TTL 60\n@ IN NS ns.t.\nns IN A 127.53.0.7\n",
            "t.zone: ",
            "no SOA",
        ),
        (
            GOOD_MANIFEST,
            "$TTL 60\n@ IN SOA ns.t. h.t. 1 1 1 1 30\n@ IN NS ns.t.\nns IN A 300.1.2.3\n",
            "t.zone:4:",
            "",
        ),
    ];
    for (manifest, zone, location, problem) in cases {
        let (err, dir) = error_of(&[("manifest.toml", manifest), ("t.zone", zone)]).await;
        assert!(err.starts_with(&dir), "names the file: {err}");
        assert!(err.contains(location), "expected {location} in: {err}");
        assert!(err.contains(problem), "expected {problem} in: {err}");
        assert!(
            err.len() > location.len() + dir.len() + 3,
            "has a problem: {err}"
        );
    }
}

#[tokio::test]
async fn run_writes_hints_with_header_and_rejects_bad_prefix() {
    let scratch = Scratch::new(&[]);
    let hints_out = scratch.0.join("lab.hints");
    let anchor_out = scratch.0.join("lab.anchor");
    let prefix = format!(
        "127.{}.{}",
        rand::random_range(100..=250u8),
        rand::random_range(0..=248u8)
    );
    let args = rootwalk::cli::LabArgs {
        port: Some(0),
        prefix: Some(prefix.clone()),
        manifest: None,
        hints_out: Some(hints_out.clone()),
        anchor_out: Some(anchor_out.clone()),
    };
    // `run` serves until Ctrl-C; the timeout stands in for it.
    let config = LabConfig::try_from(&args).unwrap();
    let outcome = tokio::time::timeout(
        Duration::from_millis(1500),
        rootwalk::lab::run(
            config,
            args.hints_out.as_deref(),
            args.anchor_out.as_deref(),
        ),
    )
    .await;
    assert!(outcome.is_err(), "run ended early: {outcome:?}");
    let anchor = rootwalk::validate::anchor::TrustAnchors::from_file(&anchor_out).unwrap();
    assert_eq!(
        anchor.ds_for(&Name::root()).len(),
        1,
        "the signed root's DS"
    );
    let text = std::fs::read_to_string(&hints_out).unwrap();
    assert!(text.contains("dig @"), "{text}");
    let hints = RootHints::parse(&text, "lab.hints").unwrap();
    assert_eq!(
        hints.servers[0].addrs,
        vec![format!("{prefix}.1").parse::<IpAddr>().unwrap()]
    );

    let bad = rootwalk::cli::LabArgs {
        prefix: Some("10.1.2".to_string()),
        ..args
    };
    let err = LabConfig::try_from(&bad).unwrap_err().to_string();
    assert!(err.contains("10.1.2") && err.contains("127.X.Y"), "{err}");
}

fn ttls_of(records: &[Record], rtype: RecordType) -> Vec<u32> {
    records
        .iter()
        .filter(|r| r.record_type() == rtype)
        .map(|r| r.ttl)
        .collect()
}

#[tokio::test]
async fn dropfirst_server_answers_only_the_resend() {
    let lab = fast_lab().await;
    let lossy = server(&lab, "ns.lossy.tld1.");
    let short = Duration::from_millis(300);
    let q = query("www.lossy.tld1.", RecordType::A);
    assert!(udp_raw(lossy, &q.to_vec().unwrap(), short).await.is_none());
    let resend = udp(lossy, &q).await;
    assert_eq!(a_of(&resend.answers, "www.lossy.tld1.").len(), 1);
    // Another type is another first query; TCP is never dropped.
    let aaaa = query("www.lossy.tld1.", RecordType::AAAA);
    assert!(
        udp_raw(lossy, &aaaa.to_vec().unwrap(), short)
            .await
            .is_none()
    );
    let mx = query("www.lossy.tld1.", RecordType::MX);
    assert_eq!(tcp(lossy, &[mx]).await.len(), 1);
    let log = lab.query_log();
    assert_eq!(log.len(), 4, "{log:#?}");
    assert!(log.iter().all(|e| e.server == lossy.ip()));
}

#[tokio::test]
async fn slow_server_keeps_its_latency_in_a_lab_without_latency() {
    let lab = fast_lab().await;
    let slow = server(&lab, "ns.slow.tld2.");
    assert_eq!(lab.latency_of(slow.ip()), Some(Duration::from_millis(1500)));
    let others = server(&lab, "ns1.nic.tld2.");
    assert_eq!(lab.latency_of(others.ip()), Some(Duration::ZERO));
    let started = Instant::now();
    let reply = udp_raw(
        slow,
        &query("www.slow.tld2.", RecordType::A).to_vec().unwrap(),
        Duration::from_secs(3),
    )
    .await
    .expect("the slow server answers");
    assert!(
        started.elapsed() >= Duration::from_millis(1200),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(reply.answers.len(), 1);
}

#[tokio::test]
async fn noedns_server_formerrs_opt_and_the_log_records_edns() {
    let lab = fast_lab().await;
    let old = server(&lab, "ns.oldedns.tld1.");
    let q = with_edns(query("www.oldedns.tld1.", RecordType::A), 1232);
    let reply = udp(old, &q).await;
    assert_eq!(reply.metadata.response_code, ResponseCode::FormErr);
    assert!(reply.edns.is_none(), "{reply:?}");
    assert!(reply.answers.is_empty());
    let plain = udp(old, &query("www.oldedns.tld1.", RecordType::A)).await;
    assert_eq!(plain.metadata.response_code, ResponseCode::NoError);
    assert_eq!(a_of(&plain.answers, "www.oldedns.tld1.").len(), 1);
    let log = lab.query_log();
    assert_eq!(
        log.iter().map(|e| e.edns).collect::<Vec<_>>(),
        vec![true, false]
    );
    // Other servers answer EDNS with EDNS.
    let normal = udp(
        server(&lab, "ns1.a.tld1."),
        &with_edns(query("www.a.tld1.", RecordType::A), 1232),
    )
    .await;
    assert!(normal.edns.is_some());
}

#[tokio::test]
async fn badopt_server_sends_an_opt_that_only_breaks_the_additional_section() {
    let lab = fast_lab().await;
    let bad = server(&lab, "ns.badopt.tld1.");
    let q = with_edns(query("www.badopt.tld1.", RecordType::A), 1232);
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.send_to(&q.to_vec().unwrap(), bad).await.unwrap();
    let mut buf = vec![0u8; 65_535];
    let (len, _) = tokio::time::timeout(WAIT, socket.recv_from(&mut buf))
        .await
        .expect("a reply")
        .unwrap();
    let wire = &buf[..len];
    // QR=1, the query's ID, and hickory cannot decode it...
    assert_eq!(u16::from_be_bytes([wire[0], wire[1]]), q.metadata.id);
    assert_ne!(wire[2] & 0x80, 0);
    assert!(
        Message::from_vec(wire).is_err(),
        "the OPT record must not decode"
    );
    // ...until the additional section is cut off: then it is the answer.
    let mut cut = wire.to_vec();
    cut[10] = 0;
    cut[11] = 0;
    let reply = Message::from_vec(&cut).expect("decodes without additionals");
    assert_eq!(reply.queries, q.queries);
    assert_eq!(a_of(&reply.answers, "www.badopt.tld1.").len(), 1);
    // Without EDNS the server answers normally, and the log tells them apart.
    let plain = udp(bad, &query("www.badopt.tld1.", RecordType::A)).await;
    assert_eq!(plain.metadata.response_code, ResponseCode::NoError);
    assert!(plain.edns.is_none());
    assert_eq!(a_of(&plain.answers, "www.badopt.tld1.").len(), 1);
    assert_eq!(
        lab.query_log().iter().map(|e| e.edns).collect::<Vec<_>>(),
        vec![true, false]
    );
}

#[tokio::test]
async fn appliance_refuses_what_a_minimising_resolver_asks() {
    let lab = fast_lab().await;
    // The walk of a minimiser: tld2 refers appliance.tld2 to the appliance...
    let tld2 = server(&lab, "ns1.nic.tld2.");
    let referral = udp(tld2, &query("appliance.tld2.", RecordType::NS)).await;
    assert_eq!(
        ns_targets(&referral.authorities),
        vec![name("ns.appliance.tld2.")]
    );
    // ...which refuses the next label down, the empty non-terminal.
    let appliance = server(&lab, "ns.appliance.tld2.");
    for (qname, qtype) in [
        ("deep.appliance.tld2.", RecordType::NS),
        ("deep.appliance.tld2.", RecordType::A),
        ("_.deep.appliance.tld2.", RecordType::A),
    ] {
        let reply = udp(appliance, &query(qname, qtype)).await;
        assert_eq!(
            reply.metadata.response_code,
            ResponseCode::Refused,
            "{qname} {qtype}"
        );
    }
    // The full name and other names are answered normally.
    let full = udp(appliance, &query("www.deep.appliance.tld2.", RecordType::A)).await;
    assert_eq!(full.metadata.response_code, ResponseCode::NoError);
    assert_eq!(a_of(&full.answers, "www.deep.appliance.tld2.").len(), 1);
    let nx = udp(appliance, &query("nope.appliance.tld2.", RecordType::A)).await;
    assert_eq!(nx.metadata.response_code, ResponseCode::NXDomain);
    // Its NXDOMAIN sibling says the ENT does not exist.
    let nxappliance = server(&lab, "ns.nxappliance.tld2.");
    let reply = udp(nxappliance, &query("deep.nxappliance.tld2.", RecordType::A)).await;
    assert_eq!(reply.metadata.response_code, ResponseCode::NXDomain);
    assert!(reply.metadata.authoritative);
    let full = udp(
        nxappliance,
        &query("www.deep.nxappliance.tld2.", RecordType::A),
    )
    .await;
    assert_eq!(full.answers.len(), 1);
}

#[tokio::test]
async fn ipv6_only_name_server_serves_its_glueless_zone() {
    let lab = fast_lab().await;
    // The delegation and the name server's AAAA do not need IPv6.
    let tld3 = server(&lab, "ns1.nic.tld3.");
    let referral = udp(tld3, &query("www.v6only.tld3.", RecordType::A)).await;
    assert_eq!(
        ns_targets(&referral.authorities),
        vec![name("ns.v6host.tld1.")]
    );
    assert!(referral.additionals.is_empty());
    let tld1 = server(&lab, "ns1.nic.tld1.");
    let aaaa = udp(tld1, &query("ns.v6host.tld1.", RecordType::AAAA)).await;
    assert!(aaaa.metadata.authoritative);
    let addresses: Vec<IpAddr> = aaaa
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::AAAA(a) => Some(IpAddr::V6(a.0)),
            _ => None,
        })
        .collect();
    assert_eq!(addresses, vec![IpAddr::from(std::net::Ipv6Addr::LOCALHOST)]);
    let a = udp(tld1, &query("ns.v6host.tld1.", RecordType::A)).await;
    assert_eq!(a.metadata.response_code, ResponseCode::NoError);
    assert!(a.answers.is_empty(), "no A record: IPv6 only");

    if !lab.has_ipv6() {
        eprintln!("skipped: ::1 cannot be bound on this host");
        assert_eq!(lab.address_of("ns.v6host.tld1."), None);
        return;
    }
    let v6 = server(&lab, "ns.v6host.tld1.");
    assert_eq!(v6.ip(), IpAddr::from(std::net::Ipv6Addr::LOCALHOST));
    let reply = udp(v6, &query("www.v6only.tld3.", RecordType::A)).await;
    assert!(reply.metadata.authoritative);
    assert_eq!(a_of(&reply.answers, "www.v6only.tld3.").len(), 1);
    let over_tcp = tcp(v6, &[query("www.v6only.tld3.", RecordType::A)]).await;
    assert_eq!(over_tcp[0].answers.len(), 1);
    assert_eq!(lab.query_log().last().map(|e| e.server), Some(v6.ip()));
}

#[tokio::test]
async fn six_glueless_name_servers_the_first_one_dead() {
    let lab = fast_lab().await;
    let tld3 = server(&lab, "ns1.nic.tld3.");
    let referral = udp(tld3, &query("www.many.tld3.", RecordType::A)).await;
    let ns: Vec<Name> = referral
        .authorities
        .iter()
        .filter_map(|r| match &r.data {
            RData::NS(ns) => Some(ns.0.clone()),
            _ => None,
        })
        .collect();
    let expected: Vec<Name> = (1..=6)
        .map(|i| name(&format!("ns{i}.pool.tld2.")))
        .collect();
    assert_eq!(ns, expected, "six NS, ns1 first");
    assert!(referral.additionals.is_empty(), "glueless");
    let pool = server(&lab, "ns.pool.tld2.");
    let mut addresses = Vec::new();
    for target in &expected {
        let reply = udp(pool, &query(&target.to_string(), RecordType::A)).await;
        let a = a_of(&reply.answers, &target.to_string());
        assert_eq!(a.len(), 1, "{target}");
        addresses.push(SocketAddr::new(IpAddr::V4(a[0]), lab.port()));
    }
    let q = query("www.many.tld3.", RecordType::A);
    let first = udp_raw(
        addresses[0],
        &q.to_vec().unwrap(),
        Duration::from_millis(300),
    )
    .await;
    assert!(first.is_none(), "ns1.pool.tld2 is a black hole");
    for address in &addresses[1..] {
        let reply = udp(*address, &q).await;
        assert!(reply.metadata.authoritative);
        assert_eq!(a_of(&reply.answers, "www.many.tld3.").len(), 1);
    }
}

#[tokio::test]
async fn ghost_delegation_can_be_removed_while_the_child_lives_on() {
    let lab = fast_lab().await;
    let tld1 = [server(&lab, "ns1.nic.tld1."), server(&lab, "ns2.nic.tld1.")];
    let ghost = server(&lab, "ns.ghost.tld1.");
    let www = query("www.ghost.tld1.", RecordType::A);
    let referral = udp(tld1[0], &www).await;
    assert_eq!(ttls_of(&referral.authorities, RecordType::NS), vec![2]);
    assert_eq!(ttls_of(&referral.additionals, RecordType::A), vec![2]);
    let apex = udp(ghost, &query("ghost.tld1.", RecordType::NS)).await;
    assert!(apex.metadata.authoritative);
    assert_eq!(ttls_of(&apex.answers, RecordType::NS), vec![86400]);

    lab.remove_delegation(&name("tld1."), &name("ghost.tld1."))
        .unwrap();
    for parent in tld1 {
        for qname in ["www.ghost.tld1.", "ghost.tld1.", "ns.ghost.tld1."] {
            let reply = udp(parent, &query(qname, RecordType::A)).await;
            assert_eq!(
                reply.metadata.response_code,
                ResponseCode::NXDomain,
                "{qname}"
            );
            assert!(reply.metadata.authoritative);
        }
    }
    // Other delegations of the parent are untouched.
    let other = udp(tld1[0], &query("www.a.tld1.", RecordType::A)).await;
    assert_eq!(ns_targets(&other.authorities).len(), 2);
    // The child still answers, its apex NS with a day's TTL.
    let apex = udp(ghost, &query("ghost.tld1.", RecordType::NS)).await;
    assert_eq!(ttls_of(&apex.answers, RecordType::NS), vec![86400]);
    let reply = udp(ghost, &www).await;
    assert_eq!(a_of(&reply.answers, "www.ghost.tld1.").len(), 1);

    // Gone now, and never there.
    let again = lab.remove_delegation(&name("tld1."), &name("ghost.tld1."));
    assert!(
        matches!(again, Err(LabError::NoDelegation { .. })),
        "{again:?}"
    );
    let unknown = lab.remove_delegation(&name("nowhere."), &name("x.nowhere."));
    assert!(unknown.is_err());
    let not_below = lab.remove_delegation(&name("tld1."), &name("a.tld2."));
    assert!(not_below.is_err());
}

#[tokio::test]
async fn dname_is_served_with_a_synthesised_cname() {
    let lab = fast_lab().await;
    let alias = server(&lab, "ns.alias.tld2.");
    let reply = udp(alias, &query("www.old.alias.tld2.", RecordType::A)).await;
    assert!(reply.metadata.authoritative);
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    let types: Vec<RecordType> = reply.answers.iter().map(Record::record_type).collect();
    assert_eq!(
        types,
        vec![RecordType::DNAME, RecordType::CNAME, RecordType::A]
    );
    assert_eq!(reply.answers[0].name, name("old.alias.tld2."));
    assert_eq!(
        dname_target(&reply.answers[0]),
        Some(name("new.alias.tld2."))
    );
    assert_eq!(reply.answers[1].name, name("www.old.alias.tld2."));
    assert_eq!(reply.answers[1].ttl, 300, "the CNAME has the DNAME's TTL");
    assert_eq!(
        reply.answers[1].data,
        RData::CNAME(hickory_proto::rr::rdata::CNAME(name("www.new.alias.tld2.")))
    );
    assert_eq!(reply.answers[2].name, name("www.new.alias.tld2."));

    // Out of the zone: DNAME and CNAME only; the client follows on.
    let far = udp(alias, &query("www.far.alias.tld2.", RecordType::A)).await;
    assert_eq!(far.answers.len(), 2);
    assert_eq!(far.answers[1].ttl, 600);
    assert_eq!(
        far.answers[1].data,
        RData::CNAME(hickory_proto::rr::rdata::CNAME(name("www.b.tld1.")))
    );
    let target = udp(
        server(&lab, "ns1.a.tld1."),
        &query("www.b.tld1.", RecordType::A),
    )
    .await;
    assert_eq!(target.answers.len(), 1);
    // The DNAME itself, asked for.
    let own = udp(alias, &query("old.alias.tld2.", RecordType::DNAME)).await;
    assert_eq!(own.answers.len(), 1);
    assert_eq!(own.answers[0].record_type(), RecordType::DNAME);
}

#[tokio::test]
async fn nxns_referral_lists_thirty_name_servers_that_do_not_exist() {
    let lab = fast_lab().await;
    let tld3 = server(&lab, "ns1.nic.tld3.");
    let referral = udp(
        tld3,
        &with_edns(query("www.nxns.tld3.", RecordType::A), 1232),
    )
    .await;
    assert!(!referral.metadata.truncation);
    let targets = ns_targets(&referral.authorities);
    assert_eq!(targets.len(), 30);
    assert!(targets.iter().all(|t| name("void.tld2.").zone_of(t)));
    assert!(referral.additionals.is_empty());
    let void = server(&lab, "ns.void.tld2.");
    for target in [&targets[0], &targets[29]] {
        let reply = udp(void, &query(&target.to_string(), RecordType::A)).await;
        assert_eq!(
            reply.metadata.response_code,
            ResponseCode::NXDomain,
            "{target}"
        );
    }
}

#[tokio::test]
async fn lab_starts_without_its_ipv6_server_when_ipv6_loopback_is_taken() {
    let Ok(squatter) = std::net::UdpSocket::bind("[::1]:0") else {
        eprintln!("skipped: no IPv6 loopback on this host");
        return;
    };
    let port = squatter.local_addr().unwrap().port();
    let lab = Lab::start(LabConfig {
        latency: false,
        port: LabPort::Fixed(port),
        ..LabConfig::for_tests()
    })
    .await
    .unwrap();
    assert!(!lab.has_ipv6());
    assert_eq!(lab.address_of("ns.v6host.tld1."), None);
    assert!(lab.servers().iter().all(|(_, a)| a.is_ipv4()));
    let reply = udp(
        server(&lab, "ns1.a.tld1."),
        &query("www.a.tld1.", RecordType::A),
    )
    .await;
    assert_eq!(reply.answers.len(), 1);
}
