//! `rootwalk serve` as operators run it (issue 15): protocol details (DO
//! echo, RD=0, ANY, Extended DNS Errors, many questions), local zones and
//! data, forward and stub zones, and SIGHUP reload (local data, limits,
//! the caches kept). The daemon runs on 127.0.0.1:0 in front of the
//! in-process lab; every test checks the answer and which lab server was
//! (or was not) asked.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use common::inproc::{Daemon, REPLY_WAIT, ede_of, query, udp, udp_on};
use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use rootwalk::config::{RouteKind, ZoneRoute};
use rootwalk::lab::Lab;
use rootwalk::resolve::Resolver;
use rootwalk::server::local::{LocalZones, ZoneKind, parse_local_data};
use rootwalk::server::{self, Acl, InForceCell, Reloader, ServeOptions, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

fn name(text: &str) -> Name {
    Name::from_str(text).unwrap()
}

/// How many queries the lab's servers got, in all.
fn lab_queries(lab: &Lab) -> usize {
    lab.query_log().len()
}

/// How many queries the lab server `server_name` got.
fn asked(lab: &Lab, server_name: &str) -> usize {
    let server = lab.address_of(server_name).unwrap();
    lab.query_log()
        .iter()
        .filter(|q| q.server == server)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_do_bit_is_echoed_on_every_path() {
    let lab = common::lab().await;
    let daemon = Daemon::start(Server::new(common::resolver(&lab), Acl::loopback())).await;
    // One socket: the second and third queries meet the thread's reply
    // copies, which must not carry another query's DO bit.
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    for dnssec_ok in [true, false, true, false] {
        let mut q = query("www.a.tld1.", RecordType::A);
        if let Some(edns) = q.edns.as_mut() {
            edns.set_dnssec_ok(dnssec_ok);
        }
        let reply = udp_on(&socket, daemon.addr, &q).await;
        assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
        let echoed = reply.edns.as_ref().map(|e| e.flags().dnssec_ok);
        assert_eq!(echoed, Some(dnssec_ok), "DO echoed (RFC 3225 §3)");
    }
    let mut refused = query("localhost.", RecordType::A);
    if let Some(edns) = refused.edns.as_mut() {
        edns.set_dnssec_ok(true);
    }
    let reply = udp(daemon.addr, &refused).await;
    assert_eq!(reply.edns.map(|e| e.flags().dnssec_ok), Some(true));
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rd0_is_answered_from_the_cache_only() {
    let lab = common::lab().await;
    let daemon = Daemon::start(Server::new(common::resolver(&lab), Acl::loopback())).await;
    let mut q = query("www.a.tld1.", RecordType::A);
    q.metadata.recursion_desired = false;
    let reply = udp(daemon.addr, &q).await;
    assert_eq!(reply.metadata.response_code, ResponseCode::Refused);
    assert!(!reply.metadata.recursion_desired);
    assert_eq!(lab_queries(&lab), 0, "RD=0 never resolves");

    let warm = udp(daemon.addr, &query("www.a.tld1.", RecordType::A)).await;
    assert_eq!(warm.answers.len(), 1);
    let asked_before = lab_queries(&lab);
    let mut q = query("www.a.tld1.", RecordType::A);
    q.metadata.recursion_desired = false;
    let reply = udp(daemon.addr, &q).await;
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert_eq!(reply.answers.len(), 1, "cached answer for RD=0");
    assert_eq!(lab_queries(&lab), asked_before);
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_is_answered_from_the_cache_or_with_hinfo_never_empty() {
    let lab = common::lab().await;
    let daemon = Daemon::start(Server::new(common::resolver(&lab), Acl::loopback())).await;
    let cold = udp(daemon.addr, &query("www.a.tld1.", RecordType::ANY)).await;
    assert_eq!(cold.metadata.response_code, ResponseCode::NoError);
    assert_eq!(cold.answers.len(), 1, "{cold:?}");
    assert!(
        matches!(&cold.answers[0].data, RData::HINFO(h) if &*h.cpu == b"RFC8482"),
        "{cold:?}"
    );
    assert_eq!(lab_queries(&lab), 0, "ANY is never sent upstream");

    udp(daemon.addr, &query("www.a.tld1.", RecordType::A)).await;
    let warm = udp(daemon.addr, &query("www.a.tld1.", RecordType::ANY)).await;
    assert_eq!(warm.metadata.response_code, ResponseCode::NoError);
    assert!(
        warm.answers
            .iter()
            .any(|r| r.record_type() == RecordType::A),
        "cached A in the ANY answer: {warm:?}"
    );
    assert!(lab.query_log().iter().all(|q| q.qtype != RecordType::ANY));
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servfail_carries_an_extended_dns_error_saying_why() {
    let lab = common::lab().await;
    let daemon = Daemon::start(Server::new(common::resolver(&lab), Acl::loopback())).await;
    // x.tld2.'s servers do not answer.
    let reply = udp(daemon.addr, &query("www.x.tld2.", RecordType::A)).await;
    assert_eq!(reply.metadata.response_code, ResponseCode::ServFail);
    let ede = ede_of(&reply).expect("an EDE option");
    assert_eq!(ede.code, 22, "No Reachable Authority: {ede:?}");
    assert!(ede.text.contains("x.tld2."), "{ede:?}");
    // Asked again at once: the remembered failure (RFC 9520).
    let again = udp(daemon.addr, &query("www.x.tld2.", RecordType::A)).await;
    assert_eq!(ede_of(&again).map(|e| e.code), Some(13), "Cached Error");
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_questions_are_formerr_not_servfail() {
    let lab = common::lab().await;
    let daemon = Daemon::start(Server::new(common::resolver(&lab), Acl::loopback())).await;
    for count in [2, 85] {
        let mut q = query("www.a.tld1.", RecordType::A);
        for i in 1..count {
            q.add_query(Query::query(name(&format!("n{i}.a.tld1.")), RecordType::A));
        }
        let reply = udp(daemon.addr, &q).await;
        assert_eq!(
            reply.metadata.response_code,
            ResponseCode::FormErr,
            "{count}"
        );
    }
    assert_eq!(lab_queries(&lab), 0);
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builtin_local_zones_answer_locally_and_never_reach_the_root() {
    let lab = common::lab().await;
    let daemon = Daemon::start(Server::new(common::resolver(&lab), Acl::loopback())).await;
    let a = udp(daemon.addr, &query("localhost.", RecordType::A)).await;
    assert_eq!(a.metadata.response_code, ResponseCode::NoError);
    assert!(a.metadata.authoritative);
    assert!(matches!(&a.answers[0].data, RData::A(v4) if v4.0.is_loopback()));
    let aaaa = udp(daemon.addr, &query("localhost.", RecordType::AAAA)).await;
    assert!(matches!(&aaaa.answers[0].data, RData::AAAA(v6) if v6.0.is_loopback()));
    let ptr = udp(
        daemon.addr,
        &query("1.0.0.127.in-addr.arpa.", RecordType::PTR),
    )
    .await;
    assert!(matches!(&ptr.answers[0].data, RData::PTR(p) if p.0 == name("localhost.")));
    let v6 = format!("1.{}ip6.arpa.", "0.".repeat(31));
    let ptr6 = udp(daemon.addr, &query(&v6, RecordType::PTR)).await;
    assert_eq!(ptr6.answers.len(), 1);
    for empty in [
        "hidden.onion.",
        "printer.home.arpa.",
        "x.invalid.",
        "a.test.",
        "1.1.168.192.in-addr.arpa.",
        "4.3.2.10.in-addr.arpa.",
    ] {
        let reply = udp(daemon.addr, &query(empty, RecordType::A)).await;
        assert_eq!(
            reply.metadata.response_code,
            ResponseCode::NXDomain,
            "{empty}"
        );
        assert_eq!(
            reply.authorities.first().map(|r| r.record_type()),
            Some(RecordType::SOA),
            "{empty}"
        );
    }
    assert_eq!(lab_queries(&lab), 0, "nothing sent upstream");
    daemon.stop().await;
}

fn local_zones(zones: &[(&str, ZoneKind)], data: &[&str]) -> LocalZones {
    let zones: Vec<(Name, ZoneKind)> = zones.iter().map(|(z, k)| (name(z), *k)).collect();
    let data = data
        .iter()
        .flat_map(|text| parse_local_data(text).unwrap())
        .collect();
    LocalZones::new(true, &zones, data)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_local_zone_type_and_local_data() {
    let lab = common::lab().await;
    let local = local_zones(
        &[
            ("static.tld1.", ZoneKind::Static),
            ("refuse.tld1.", ZoneKind::Refuse),
            ("nx.tld1.", ZoneKind::NxDomain),
            ("redirect.tld1.", ZoneKind::Redirect),
            ("a.tld1.", ZoneKind::Transparent),
            ("test.", ZoneKind::NoDefault),
        ],
        &[
            "router.home.arpa. 3600 IN A 192.0.2.1",
            "1.2.0.192.in-addr.arpa. PTR router.home.arpa.",
            "www.static.tld1. A 192.0.2.2",
            "redirect.tld1. A 192.0.2.3",
            "local.a.tld1. A 192.0.2.4",
        ],
    );
    let resolver = common::resolver(&lab);
    let daemon = Daemon::start(Server::new(resolver, Acl::loopback()).with_local(local)).await;
    let ask = |qname: &'static str| {
        let addr = daemon.addr;
        async move { udp(addr, &query(qname, RecordType::A)).await }
    };
    let router = ask("router.home.arpa.").await;
    assert_eq!(router.answers[0].ttl, 3600);
    let ptr = udp(
        daemon.addr,
        &query("1.2.0.192.in-addr.arpa.", RecordType::PTR),
    )
    .await;
    assert!(matches!(&ptr.answers[0].data, RData::PTR(p) if p.0 == name("router.home.arpa.")));

    assert_eq!(ask("www.static.tld1.").await.answers.len(), 1);
    let missing = ask("other.static.tld1.").await;
    assert_eq!(missing.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(
        ask("x.refuse.tld1.").await.metadata.response_code,
        ResponseCode::Refused
    );
    assert_eq!(
        ask("x.nx.tld1.").await.metadata.response_code,
        ResponseCode::NXDomain
    );
    let redirected = ask("any.thing.redirect.tld1.").await;
    assert_eq!(redirected.answers[0].name, name("any.thing.redirect.tld1."));
    assert!(matches!(&redirected.answers[0].data, RData::A(a) if a.0.octets() == [192, 0, 2, 3]));
    assert_eq!(lab_queries(&lab), 0, "nothing above was sent upstream");

    // Transparent: local data answers, other names are resolved.
    assert_eq!(ask("local.a.tld1.").await.answers.len(), 1);
    assert_eq!(lab_queries(&lab), 0);
    let resolved = ask("www.a.tld1.").await;
    assert_eq!(resolved.answers.len(), 1);
    assert!(asked(&lab, "ns1.a.tld1.") + asked(&lab, "ns2.a.tld1.") > 0);
    // `nodefault` removed the built-in test. zone: it goes to the root.
    let before = asked(&lab, "a.root-servers.lab.") + asked(&lab, "b.root-servers.lab.");
    ask("x.test.").await;
    let after = asked(&lab, "a.root-servers.lab.") + asked(&lab, "b.root-servers.lab.");
    assert!(
        after > before,
        "test. resolved upstream once its local zone is off"
    );
    daemon.stop().await;

    // And all of them off.
    let lab = common::lab().await;
    let none = LocalZones::new(false, &[], Vec::new());
    let daemon =
        Daemon::start(Server::new(common::resolver(&lab), Acl::loopback()).with_local(none)).await;
    udp(daemon.addr, &query("localhost.", RecordType::A)).await;
    assert!(lab_queries(&lab) > 0, "builtin-local-zones = false");
    daemon.stop().await;
}

/// A resolver on `lab` with `routes`.
fn routed(lab: &Lab, routes: Vec<ZoneRoute>) -> Resolver {
    let mut config = common::config(lab);
    config.routes = routes;
    Resolver::new(config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stub_zone_is_asked_directly_and_the_root_never() {
    let lab = common::lab().await;
    let server = lab.address_of("ns1.a.tld1.").unwrap();
    let stub = ZoneRoute {
        zone: name("a.tld1."),
        kind: RouteKind::Stub,
        servers: vec![SocketAddr::new(server, lab.port())],
    };
    let daemon = Daemon::start(Server::new(routed(&lab, vec![stub]), Acl::loopback())).await;
    let reply = udp(daemon.addr, &query("www.a.tld1.", RecordType::A)).await;
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert_eq!(reply.answers.len(), 1);
    assert_eq!(asked(&lab, "ns1.a.tld1."), 1, "the stub server, full name");
    assert_eq!(asked(&lab, "a.root-servers.lab."), 0);
    assert_eq!(asked(&lab, "b.root-servers.lab."), 0);
    assert_eq!(asked(&lab, "ns1.nic.tld1."), 0);
    assert_eq!(asked(&lab, "ns2.nic.tld1."), 0);
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forward_zone_is_asked_with_rd1() {
    // The forwarder: a second rootwalk daemon, on a lab of its own. It
    // refuses RD=0 questions it has not cached, so an answer proves RD=1
    // was sent.
    let far_lab = common::lab().await;
    let forwarder = Daemon::start(Server::new(common::resolver(&far_lab), Acl::loopback())).await;
    let lab = common::lab().await;
    let forward = ZoneRoute {
        zone: name("tld2."),
        kind: RouteKind::Forward,
        servers: vec![forwarder.addr],
    };
    let daemon = Daemon::start(Server::new(routed(&lab, vec![forward]), Acl::loopback())).await;
    let reply = udp(daemon.addr, &query("www.c.tld2.", RecordType::A)).await;
    assert_eq!(
        reply.metadata.response_code,
        ResponseCode::NoError,
        "{reply:?}"
    );
    assert!(matches!(&reply.answers[0].data, RData::A(a) if a.0.octets() == [198, 51, 100, 30]));
    let nx = udp(daemon.addr, &query("nope.c.tld2.", RecordType::A)).await;
    assert_eq!(nx.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(lab_queries(&lab), 0, "the forwarding daemon walked nothing");
    assert!(lab_queries(&far_lab) > 0, "the forwarder did");
    // Outside the forward zone, the walk is as usual.
    let other = udp(daemon.addr, &query("www.a.tld1.", RecordType::A)).await;
    assert_eq!(other.answers.len(), 1);
    assert!(asked(&lab, "a.root-servers.lab.") + asked(&lab, "b.root-servers.lab.") > 0);
    daemon.stop().await;
    let forwarded = forwarder.stop().await;
    assert_eq!(
        forwarded.received, 2,
        "both tld2. questions went to the forwarder"
    );
    assert_eq!((forwarded.noerror, forwarded.nxdomain), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_local_data_and_keeps_the_old_config_when_the_new_is_bad() {
    if Command::new("kill").arg("-l").output().is_err() {
        println!("no `kill` command; skipping");
        return;
    }
    let path = std::env::temp_dir().join(format!(
        "rootwalk-ops-{}-{}.toml",
        std::process::id(),
        rand::random::<u32>()
    ));
    let config = |data: &str| {
        format!("listen = [\"127.0.0.1:0\"]\nlab = true\nudp-sockets = 1\nlocal-data = [{data}]\n")
    };
    std::fs::write(&path, config("\"one.home.arpa. A 192.0.2.1\"")).unwrap();
    let process = common::daemon::Daemon::start(&["--config", path.to_str().unwrap()], &[]);
    let addr = process.addr;
    process.next_line(); // TCP
    let rcode = |reply: Message| reply.metadata.response_code;

    assert_eq!(
        rcode(udp(addr, &query("one.home.arpa.", RecordType::A)).await),
        ResponseCode::NoError
    );
    assert_eq!(
        rcode(udp(addr, &query("two.home.arpa.", RecordType::A)).await),
        ResponseCode::NXDomain
    );
    // Warm the cache: the reload must keep it.
    assert_eq!(
        udp(addr, &query("www.a.tld1.", RecordType::A))
            .await
            .answers
            .len(),
        1
    );

    std::fs::write(&path, config("\"two.home.arpa. A 192.0.2.2\"")).unwrap();
    process.signal("HUP");
    assert_eq!(
        process.next_line(),
        "rootwalk serve: configuration reloaded"
    );
    assert_eq!(
        rcode(udp(addr, &query("one.home.arpa.", RecordType::A)).await),
        ResponseCode::NXDomain
    );
    assert_eq!(
        rcode(udp(addr, &query("two.home.arpa.", RecordType::A)).await),
        ResponseCode::NoError
    );
    let mut rd0 = query("www.a.tld1.", RecordType::A);
    rd0.metadata.recursion_desired = false;
    assert_eq!(
        udp(addr, &rd0).await.answers.len(),
        1,
        "cache kept across reload"
    );

    std::fs::write(&path, config("\"three.home.arpa. A 999.0.2.3\"")).unwrap();
    process.signal("HUP");
    let failed = process.next_line();
    assert!(
        failed.starts_with("rootwalk serve: reload failed") && failed.contains("local-data"),
        "{failed}"
    );
    assert_eq!(
        rcode(udp(addr, &query("two.home.arpa.", RecordType::A)).await),
        ResponseCode::NoError,
        "the old configuration stays"
    );
    process.signal("TERM");
    let mut process = process;
    let status = process.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let _ = std::fs::remove_file(&path);
}

/// A configuration file in the temp directory, removed on drop.
struct ConfigFile(PathBuf);

impl ConfigFile {
    fn new(text: &str) -> ConfigFile {
        let path = std::env::temp_dir().join(format!(
            "rootwalk-reload-{}-{}.toml",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::write(&path, text).unwrap();
        ConfigFile(path)
    }

    fn write(&self, text: &str) {
        std::fs::write(&self.0, text).unwrap();
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ConfigFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A serve file on 127.0.0.1:0 with the tests' resolver timers (as
/// `common::limits`) and `limits` added to its `[limits]`.
fn serve_file(limits: &str) -> String {
    format!(
        "listen = [\"127.0.0.1:0\"]\nudp-sockets = 1\n[limits]\n\
         query-timeout-ms = 300\nzone-cut-timeout-ms = 1500\n\
         unknown-rto-ms = 400\nmin-rto-ms = 400\n{limits}"
    )
}

/// The daemon `file` configures, on `lab`, as `rootwalk serve --config`
/// builds it, with the reloader its SIGHUP handler would use, and the
/// resolver and limits in force.
async fn reloadable(lab: &Lab, file: &ConfigFile) -> (Daemon, Arc<Reloader>, Arc<InForceCell>) {
    let options = ServeOptions {
        config: Some(file.path().to_path_buf()),
        ..ServeOptions::default()
    };
    let config = server::config::settings(&options).unwrap();
    let (daemon, listeners) = server::prepare(&config, common::config(lab)).await.unwrap();
    let in_force = daemon.in_force();
    let reloader = Arc::new(Reloader::new(
        options,
        config,
        daemon.policy(),
        Arc::clone(&in_force),
    ));
    let daemon = Daemon::serve(daemon.with_reloader(Arc::clone(&reloader)), listeners);
    (daemon, reloader, in_force)
}

/// The CNAMEs and addresses of `reply`, in order, as text.
fn chain_of(reply: &Message) -> Vec<String> {
    reply.answers.iter().map(|r| r.data.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_puts_new_resolver_limits_in_force_and_keeps_the_caches() {
    let lab = common::lab().await;
    let file = ConfigFile::new(&serve_file("max-cname-chain = 12\n"));
    let (daemon, reloader, in_force) = reloadable(&lab, &file).await;
    // Two CNAMEs: tour.b.tld1 -> far.a.tld1 -> www.c.tld2.
    let tour = udp(daemon.addr, &query("tour.b.tld1.", RecordType::A)).await;
    assert_eq!(tour.metadata.response_code, ResponseCode::NoError);
    assert_eq!(tour.answers.len(), 3, "{:?}", chain_of(&tour));
    let www = udp(daemon.addr, &query("www.a.tld1.", RecordType::A)).await;
    assert_eq!(www.answers.len(), 1);

    file.write(&serve_file("max-cname-chain = 1\n"));
    let reloaded = reloader.reload().unwrap();
    assert!(reloaded.restart_needed.is_empty(), "{reloaded:?}");
    assert_eq!(in_force.current().resolver.limits().max_cname_chain, 1);

    // A name cached before the reload: answered with no upstream query.
    let asked_before = lab_queries(&lab);
    let again = udp(daemon.addr, &query("www.a.tld1.", RecordType::A)).await;
    assert_eq!(again.metadata.response_code, ResponseCode::NoError);
    assert_eq!(
        again.answers,
        www.answers
            .iter()
            .map(|r| {
                let mut r = r.clone();
                r.ttl = again.answers[0].ttl;
                r
            })
            .collect::<Vec<_>>()
    );
    assert_eq!(
        lab_queries(&lab),
        asked_before,
        "answered from the kept cache"
    );

    // A new two-CNAME chain (chain.a.tld1 -> alias.a.tld1 -> www.a.tld1)
    // is resolved under the new limit: ns1/ns2.a.tld1 are asked, and the
    // answer is SERVFAIL.
    let chain = udp(daemon.addr, &query("chain.a.tld1.", RecordType::A)).await;
    assert_eq!(
        chain.metadata.response_code,
        ResponseCode::ServFail,
        "{:?}",
        chain_of(&chain)
    );
    let chain_queries = lab
        .query_log()
        .iter()
        .filter(|q| q.qname == name("chain.a.tld1."))
        .map(|q| q.server_name.to_string())
        .collect::<Vec<_>>();
    assert!(
        !chain_queries.is_empty()
            && chain_queries
                .iter()
                .all(|s| s == "ns1.a.tld1." || s == "ns2.a.tld1."),
        "{chain_queries:?}"
    );
    // The two-CNAME chain cached before the reload is still in the cache,
    // but no longer within the limit: SERVFAIL, again with no upstream
    // query (and no stale copy of the old reply).
    let asked_before = lab_queries(&lab);
    let tour = udp(daemon.addr, &query("tour.b.tld1.", RecordType::A)).await;
    assert_eq!(tour.metadata.response_code, ResponseCode::ServFail);
    assert_eq!(
        lab_queries(&lab),
        asked_before,
        "the chain came from the cache"
    );
    // One CNAME is within the new limit.
    let cross = udp(daemon.addr, &query("cross.a.tld1.", RecordType::A)).await;
    assert_eq!(cross.metadata.response_code, ResponseCode::NoError);
    assert_eq!(cross.answers.len(), 2);
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_names_the_limits_it_cannot_change_and_keeps_their_old_values() {
    let lab = common::lab().await;
    let file = ConfigFile::new(&serve_file("max-ttl-s = 3600\n"));
    let (daemon, reloader, in_force) = reloadable(&lab, &file).await;
    let before = in_force.current().resolver.limits().clone();
    file.write(&format!(
        "cache-size = \"8M\"\n{}",
        serve_file("max-ttl-s = 60\nmax-referrals = 7\nmetrics-connections = 3\n")
    ));
    let reloaded = reloader.reload().unwrap();
    assert_eq!(
        reloaded.restart_needed,
        ["cache-size", "max-ttl-s", "metrics-connections"]
    );
    let now = in_force.current();
    assert_eq!(now.resolver.limits().cache_bytes, before.cache_bytes);
    assert_eq!(now.resolver.limits().max_ttl, before.max_ttl);
    assert_eq!(now.resolver.limits().max_referrals, 7, "applied");
    assert_eq!(
        now.limits.metrics_connections,
        server::ServeLimits::default().metrics_connections
    );
    // Reloaded again with the same file: what is in force still differs
    // from the file, and is named again.
    let again = reloader.reload().unwrap();
    assert_eq!(
        again.restart_needed,
        ["cache-size", "max-ttl-s", "metrics-connections"]
    );
    daemon.stop().await;
}

/// Opens a TCP connection to `server` and has `qname` answered on it.
async fn tcp_open(server: SocketAddr, qname: &str) -> TcpStream {
    let mut stream = TcpStream::connect(server).await.unwrap();
    let reply = tcp_ask(&mut stream, qname).await.expect("a TCP reply");
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    stream
}

/// Asks `qname` on `stream`; `None` if the connection was closed.
async fn tcp_ask(stream: &mut TcpStream, qname: &str) -> Option<Message> {
    let bytes = query(qname, RecordType::A).to_vec().unwrap();
    let mut framed = (bytes.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&bytes);
    stream.write_all(&framed).await.ok()?;
    let mut length = [0u8; 2];
    tokio::time::timeout(REPLY_WAIT, stream.read_exact(&mut length))
        .await
        .expect("a TCP reply or a close")
        .ok()?;
    let mut reply = vec![0u8; usize::from(u16::from_be_bytes(length))];
    stream.read_exact(&mut reply).await.ok()?;
    Some(Message::from_vec(&reply).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_puts_new_daemon_limits_in_force_for_new_connections() {
    let lab = common::lab().await;
    let file = ConfigFile::new(&serve_file("tcp-connections-per-client = 4\n"));
    let (daemon, reloader, _) = reloadable(&lab, &file).await;
    let mut first = tcp_open(daemon.addr, "www.a.tld1.").await;
    let mut second = tcp_open(daemon.addr, "www.b.tld1.").await;

    file.write(&serve_file("tcp-connections-per-client = 1\n"));
    reloader.reload().unwrap();
    // The connections open stay open until a new one needs their place.
    assert!(tcp_ask(&mut first, "www.a.tld1.").await.is_some());
    // The third from 127.0.0.1 is over the new cap of one: the oldest idle
    // connection of the client, the first, is shed to make room.
    let mut third = tcp_open(daemon.addr, "www.a.tld1.").await;
    assert!(
        tcp_ask(&mut first, "www.a.tld1.").await.is_none(),
        "the first connection was closed"
    );
    assert!(tcp_ask(&mut third, "www.b.tld1.").await.is_some());
    drop((second.shutdown().await, third));
    let counters = daemon.stop().await;
    assert_eq!(counters.tcp_connections, 3);
    assert_eq!(counters.tcp_shed, 1, "{counters}");
}

#[test]
fn sighup_puts_new_limits_in_force_and_names_what_waits_for_a_restart() {
    if Command::new("kill").arg("-l").output().is_err() {
        println!("no `kill` command; skipping");
        return;
    }
    let config =
        |more: &str| format!("listen = [\"127.0.0.1:0\"]\nlab = true\nudp-sockets = 1\n{more}");
    let file = ConfigFile::new(&config("[limits]\nmax-cname-chain = 12\n"));
    let daemon = common::daemon::Daemon::start(&["--config", file.path().to_str().unwrap()], &[]);
    daemon.next_line(); // TCP
    let ask = |qname: &str| {
        common::daemon::udp(daemon.addr, &common::daemon::query(qname, RecordType::A))
    };
    let hup = || {
        let status = Command::new("kill")
            .args(["-HUP", &daemon.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    };
    assert_eq!(ask("tour.b.tld1.").answers.len(), 3, "two CNAMEs and the A");
    assert_eq!(ask("www.a.tld1.").answers.len(), 1);

    file.write(&config(
        "cache-size = \"8M\"\n[limits]\nmax-cname-chain = 1\n",
    ));
    hup();
    assert_eq!(
        daemon.next_line(),
        "rootwalk serve: configuration reloaded; cache-size at the next start"
    );
    let warning = daemon.stderr_line_with("reloaded;");
    assert!(
        warning.contains("cache-size takes effect at the next start"),
        "{warning}"
    );
    let chain = ask("chain.a.tld1.");
    assert_eq!(chain.metadata.response_code, ResponseCode::ServFail);
    // RD=0 is answered from the cache only: the cache was kept.
    let mut rd0 = common::daemon::query("www.a.tld1.", RecordType::A);
    rd0.metadata.recursion_desired = false;
    assert_eq!(common::daemon::udp(daemon.addr, &rd0).answers.len(), 1);
    assert!(daemon.terminate(), "a clean exit");
}

/// The daemon's UDP sockets, listening and upstream, are registered with
/// epoll for reading only: a socket registered for writing too is
/// signalled each time a datagram it sent leaves its send buffer, one
/// needless `epoll_wait` (or wake-up) per reply and per upstream query.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_sockets_wait_for_reading_only() {
    use common::sockets::{EPOLLIN, EPOLLOUT, epoll_masks, udp_sockets};

    let lab = common::lab().await;
    let daemon = Daemon::start(Server::new(common::resolver(&lab), Acl::loopback())).await;
    let checked = |what: &str, inode: u64| {
        let masks = epoll_masks(inode);
        for mask in &masks {
            assert_eq!(
                mask & EPOLLIN,
                EPOLLIN,
                "{what}: not registered for reading"
            );
            assert_eq!(mask & EPOLLOUT, 0, "{what}: registered for writing");
        }
        !masks.is_empty()
    };
    // The receive threads register their sockets as they start; and
    // `/proc/net/udp` is read a page at a time, so a socket can slip
    // between two pages while other tests open and close theirs: look
    // until every listening socket is seen registered, a bounded number
    // of times.
    let mut registered = false;
    for _ in 0..200 {
        let listening: Vec<_> = udp_sockets()
            .into_iter()
            .filter(|s| s.local == daemon.addr)
            .collect();
        let mut all = !listening.is_empty();
        for socket in &listening {
            all &= checked("listening", socket.inode);
        }
        if all {
            registered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        registered,
        "the daemon's listening socket was never seen in an epoll set"
    );

    // Upstream: with every lab server silent, each query's socket stays
    // open until its timer runs out; look at those the daemon opens.
    let lab_servers: Vec<SocketAddr> = lab
        .servers()
        .iter()
        .map(|(_, ip)| SocketAddr::new(*ip, lab.port()))
        .collect();
    for addr in &lab_servers {
        lab.set_silent(addr.ip(), true);
    }
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let asked = query("www.a.tld1.", RecordType::A).to_vec().unwrap();
    client.send_to(&asked, daemon.addr).await.unwrap();
    let mut seen = 0;
    for _ in 0..500 {
        for socket in udp_sockets() {
            if lab_servers.contains(&socket.remote) && checked("upstream", socket.inode) {
                seen += 1;
            }
        }
        if seen > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(seen > 0, "no upstream socket seen in an epoll set");
    assert!(lab_queries(&lab) > 0);
    daemon.stop().await;
}

/// A receive thread with nothing in work sleeps in its socket's own
/// receive call, not in the runtime's `epoll_wait` (a wake-up per cached
/// answer is then one call fewer); a question that needs a resolution
/// sends it back to the reactor until the answer is out, and then it
/// sleeps in the socket again.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn an_idle_receive_thread_sleeps_in_its_socket_and_in_the_reactor_while_resolving() {
    use common::sockets::{
        await_asleep_in_socket, await_back_in_socket, is_epoll_wait, receive_thread,
    };

    let lab = common::lab().await;
    let daemon = Daemon::builder(common::resolver(&lab), Acl::loopback())
        .udp_sockets(1)
        .start()
        .await;
    let Some(ours) = await_asleep_in_socket(daemon.addr).await else {
        panic!("the idle receive thread was never seen asleep in recvmmsg on its socket");
    };
    let state = || receive_thread(ours.thread);

    // A question the caches cannot answer, with the lab silent: its
    // resolution stays in work, and the thread waits in the reactor.
    for (_, ip) in lab.servers() {
        lab.set_silent(*ip, true);
    }
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let asked_for = query("www.a.tld1.", RecordType::A);
    client
        .send_to(&asked_for.to_vec().unwrap(), daemon.addr)
        .await
        .unwrap();
    let mut in_reactor = false;
    for _ in 0..300 {
        if state().is_some_and(|b| is_epoll_wait(b.call)) && lab_queries(&lab) > 0 {
            in_reactor = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(
        in_reactor,
        "never seen waiting in the reactor while resolving"
    );

    // The lab answers again: the retries resolve it, the answer goes out,
    // and the thread goes back to sleep in its socket.
    for (_, ip) in lab.servers() {
        lab.set_silent(*ip, false);
    }
    let mut buf = vec![0u8; 4096];
    let (len, _) = tokio::time::timeout(REPLY_WAIT, client.recv_from(&mut buf))
        .await
        .expect("no answer")
        .unwrap();
    let reply = Message::from_vec(&buf[..len]).unwrap();
    assert_eq!(reply.metadata.id, asked_for.metadata.id);
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert!(!reply.answers.is_empty());
    assert!(asked(&lab, "ns1.a.tld1.") + asked(&lab, "ns2.a.tld1.") > 0);
    assert!(
        await_back_in_socket(ours).await,
        "not asleep in its socket again once the answer was out"
    );
    daemon.stop().await;
}

/// An idle daemon's UDP thread has no timer of its own to wake for: over a
/// second of quiet it sleeps on (at most one wake-up, the safety net's,
/// every `IDLE_RECEIVE_WAIT`); and a stop does not wait for that timer:
/// it shuts the socket's reading side, which wakes the thread at once.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn an_idle_receive_thread_does_not_wake_until_a_datagram_or_a_stop() {
    use common::sockets::{await_asleep_in_socket, await_back_in_socket, voluntary_switches};
    use rootwalk::server::udp::IDLE_RECEIVE_WAIT;

    let lab = common::lab().await;
    let daemon = Daemon::builder(common::resolver(&lab), Acl::loopback())
        .udp_sockets(1)
        .start()
        .await;
    let ours = await_asleep_in_socket(daemon.addr)
        .await
        .expect("the idle thread asleep in its socket");
    let thread = ours.thread;
    let before = voluntary_switches(thread).unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = voluntary_switches(thread).unwrap();
    assert!(
        after - before <= 1,
        "{} wake-ups in a second of quiet",
        after - before
    );
    // It answers, and goes back to sleep in the socket.
    let reply = udp(daemon.addr, &query("www.a.tld1.", RecordType::A)).await;
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert!(asked(&lab, "ns1.a.tld1.") + asked(&lab, "ns2.a.tld1.") > 0);
    assert!(
        await_back_in_socket(ours).await,
        "not back in its socket after the answer"
    );

    // That sleep began moments ago: a stop that waited for its timer
    // would take nearly IDLE_RECEIVE_WAIT.
    let stopping = std::time::Instant::now();
    daemon.stop().await;
    assert!(
        stopping.elapsed() < IDLE_RECEIVE_WAIT / 2,
        "the stop waited {:?} for the idle thread",
        stopping.elapsed()
    );
}

/// The rare send that finds the buffer full waits for room on a second
/// descriptor registered for writing: it sends the datagram, and the
/// socket's own registration stays read-only. (A full buffer itself
/// cannot be made on loopback: the kernel frees each datagram as it is
/// sent; this is the wait's path with room at once.)
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_send_that_waits_for_room_leaves_the_socket_registered_for_reading_only() {
    use common::sockets::{EPOLLIN, EPOLLOUT, epoll_masks, socket_inode};
    use std::os::fd::AsRawFd;

    let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(REPLY_WAIT)).unwrap();
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_nonblocking(true).unwrap();
    let socket = rootwalk::net::register_for_reading(socket).unwrap();
    let inode = socket_inode(socket.get_ref().as_raw_fd()).unwrap();
    let reading_only = || {
        let masks = epoll_masks(inode);
        !masks.is_empty() && masks.iter().all(|m| m & EPOLLIN != 0 && m & EPOLLOUT == 0)
    };
    assert!(reading_only(), "{:x?}", epoll_masks(inode));
    let to = peer.local_addr().unwrap();
    let sent = rootwalk::net::send_when_writable(socket.get_ref(), b"reply", to, REPLY_WAIT)
        .await
        .unwrap();
    assert_eq!(sent, 5);
    let mut buf = [0u8; 16];
    let (len, from) = peer.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..len], b"reply");
    assert_eq!(from, socket.get_ref().local_addr().unwrap());
    // The wait's own registration, for writing, was on a descriptor of
    // its own, closed with it: the socket's is unchanged.
    assert!(reading_only(), "{:x?}", epoll_masks(inode));
}
