//! Freshness through the daemon (issue 15): serve-stale (RFC 8767) when
//! the zone's server falls silent, SERVFAIL when serve-expired is off, and
//! prefetch of a busy name before it expires. The daemon runs on
//! 127.0.0.1:0 in front of the in-process lab; `brief.tld3` holds data
//! with TTLs of 2 and 4 seconds, and `Lab::set_silent` makes its server
//! log queries and answer none. Every test checks the answer, the lab's
//! query log and the daemon's counters.

mod common;

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::time::{Duration, Instant};

use common::inproc::{Daemon, ede_of, query, udp};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use rootwalk::config::Limits;
use rootwalk::lab::Lab;
use rootwalk::resolve::Resolver;
use rootwalk::server::ede;
use rootwalk::server::{Acl, ServeLimits};

/// The client-response timer in these tests: short, so they run fast, and
/// well below the time the silent server takes to be given up on.
const TIMER: Duration = Duration::from_millis(400);

/// How long the servers of a zone cut get: long enough that the
/// resolution against the silent server is surely still running when the
/// timer fires.
const ZONE_CUT_TIMEOUT: Duration = Duration::from_millis(2500);

/// The daemon on `lab` with `serve` limits, one UDP socket, and a
/// resolver whose zone cuts get [`ZONE_CUT_TIMEOUT`].
async fn start_daemon(lab: &Lab, serve: ServeLimits) -> Daemon {
    let limits = Limits {
        zone_cut_timeout: ZONE_CUT_TIMEOUT,
        ..common::limits()
    };
    let resolver = Resolver::new(common::config_with(lab, limits));
    Daemon::builder(resolver, Acl::loopback())
        .limits(serve)
        .start()
        .await
}

fn serve_limits(serve_expired: bool, prefetch: bool) -> ServeLimits {
    ServeLimits {
        serve_expired,
        prefetch,
        client_response_timeout: TIMER,
        ..ServeLimits::default()
    }
}

fn name(text: &str) -> Name {
    Name::from_str(text).unwrap()
}

/// The reply to `qname`/`qtype` asked over UDP.
async fn ask(server: SocketAddr, qname: &str, qtype: RecordType) -> Message {
    udp(server, &query(qname, qtype)).await
}

/// The A addresses and TTLs in `reply`'s answer section.
fn addresses(reply: &Message) -> Vec<(String, u32)> {
    reply
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some((a.0.to_string(), r.ttl)),
            _ => None,
        })
        .collect()
}

fn brief_server(lab: &Lab) -> IpAddr {
    lab.address_of("ns.brief.tld3.")
        .expect("ns.brief.tld3 in the lab")
}

/// Waits past every TTL of `brief.tld3` (2 s), then silences its only
/// server and clears the lab's log: what the daemon cached is expired and
/// nobody can refresh it. The silenced server's address.
async fn expire_and_silence(lab: &Lab) -> IpAddr {
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let silent = brief_server(lab);
    lab.set_silent(silent, true);
    lab.clear_log();
    silent
}

/// Queries the silent server got for `qname`.
fn asked_for(lab: &Lab, server: IpAddr, qname: &str) -> usize {
    lab.query_log()
        .iter()
        .filter(|q| q.server == server && q.qname == name(qname))
        .count()
}

/// Polls `done` every 50 ms for up to `within`.
async fn wait_for(within: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done()
}

/// With serve-stale the client's answer goes out while its resolution
/// goes on. The receive thread then has nothing of its own in work, but
/// it must not sleep in its socket (`server::udp`'s idle wait): the
/// refresh runs on that thread and would wait for the next datagram. It
/// waits in the reactor until the refresh is over, and the next datagram
/// sends it back to sleep in its socket.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_going_on_after_a_stale_answer_keeps_the_receive_thread_awake() {
    use common::sockets::{
        await_asleep_in_socket, await_back_in_socket, is_epoll_wait, receive_thread,
    };

    let lab = common::lab().await;
    let daemon = start_daemon(&lab, serve_limits(true, false)).await;
    let fresh = ask(daemon.addr, "alias.brief.tld3.", RecordType::A).await;
    assert_eq!(addresses(&fresh), vec![("203.0.113.61".to_string(), 2)]);
    let silent = expire_and_silence(&lab).await;
    let ours = await_asleep_in_socket(daemon.addr)
        .await
        .expect("the idle receive thread asleep in its socket");

    let stale = ask(daemon.addr, "alias.brief.tld3.", RecordType::A).await;
    assert_eq!(addresses(&stale), vec![("203.0.113.61".to_string(), 30)]);
    assert_eq!(ede_of(&stale).map(|e| e.code), Some(ede::STALE_ANSWER));
    assert!(asked_for(&lab, silent, "alias.brief.tld3.") >= 1);
    // Until the refresh ends, no datagram comes: the thread waits in the
    // reactor the whole time, never in its socket.
    let mut in_reactor = false;
    let deadline = Instant::now() + Duration::from_secs(10);
    while daemon.counters.snapshot().resolutions_in_flight > 0 && Instant::now() < deadline {
        let now = receive_thread(ours.thread);
        assert_ne!(
            now,
            Some(ours),
            "asleep in its socket while the refresh was in work"
        );
        in_reactor |= now.is_some_and(|b| is_epoll_wait(b.call));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        daemon.counters.snapshot().resolutions_in_flight,
        0,
        "the refresh never ended"
    );
    assert!(in_reactor, "never seen waiting in the reactor");
    assert!(
        asked_for(&lab, silent, "alias.brief.tld3.") >= 2,
        "{:?}",
        lab.query_log()
    );

    let again = ask(daemon.addr, "alias.brief.tld3.", RecordType::A).await;
    assert_eq!(ede_of(&again).map(|e| e.code), Some(ede::STALE_ANSWER));
    assert!(
        await_back_in_socket(ours).await,
        "not asleep in its socket again after the next datagram"
    );
    daemon.stop().await;
}

/// RFC 8767: the data expired and its server went silent; the client gets
/// the expired data with TTL 30 and EDE 3 once the client-response timer
/// fires, while the resolution goes on (the silent server keeps getting
/// the refresh queries). Once that resolution has failed, the next ask is
/// answered stale at once; an expired NXDOMAIN comes back with EDE 19.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_data_is_served_stale_while_the_refresh_goes_on() {
    let lab = common::lab().await;
    let daemon = start_daemon(&lab, serve_limits(true, false)).await;
    let fresh = ask(daemon.addr, "alias.brief.tld3.", RecordType::A).await;
    assert_eq!(fresh.metadata.response_code, ResponseCode::NoError);
    assert_eq!(addresses(&fresh), vec![("203.0.113.61".to_string(), 2)]);
    assert_eq!(ede_of(&fresh), None);
    let gone = ask(daemon.addr, "gone.brief.tld3.", RecordType::A).await;
    assert_eq!(gone.metadata.response_code, ResponseCode::NXDomain);

    // Past every TTL (2 s), with the only server silent.
    let silent = expire_and_silence(&lab).await;
    let asked = Instant::now();
    let stale = ask(daemon.addr, "alias.brief.tld3.", RecordType::A).await;
    let waited = asked.elapsed();
    assert_eq!(stale.metadata.response_code, ResponseCode::NoError);
    assert_eq!(addresses(&stale), vec![("203.0.113.61".to_string(), 30)]);
    let cname = stale
        .answers
        .iter()
        .find(|r| r.record_type() == RecordType::CNAME)
        .expect("the CNAME comes along");
    assert_eq!(cname.ttl, 30);
    let why = ede_of(&stale).expect("a stale answer says so");
    assert_eq!(why.code, ede::STALE_ANSWER);
    assert!(
        waited >= TIMER,
        "answered stale after {waited:?}, before the timer"
    );
    // The resolution was still running when the stale answer went out,
    // and it goes on asking the silent server.
    let counters = daemon.counters.snapshot();
    assert_eq!(counters.stale_answers, 1);
    let before = asked_for(&lab, silent, "alias.brief.tld3.");
    assert!(before >= 1, "the refresh asked the silent server");
    assert!(
        wait_for(Duration::from_secs(5), || {
            asked_for(&lab, silent, "alias.brief.tld3.") > before
        })
        .await,
        "the refresh went on after the stale answer: {:?}",
        lab.query_log()
    );
    // Once it has failed, the failure is remembered (RFC 9520) and the
    // next ask is answered stale without waiting for the timer.
    assert!(
        wait_for(Duration::from_secs(10), || daemon
            .counters
            .snapshot()
            .resolutions_in_flight
            == 0)
        .await,
        "the refresh never ended"
    );
    let again = ask(daemon.addr, "alias.brief.tld3.", RecordType::A).await;
    assert_eq!(addresses(&again), vec![("203.0.113.61".to_string(), 30)]);
    assert_eq!(ede_of(&again).map(|e| e.code), Some(ede::STALE_ANSWER));

    let nx = ask(daemon.addr, "gone.brief.tld3.", RecordType::A).await;
    assert_eq!(nx.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(
        ede_of(&nx).map(|e| e.code),
        Some(ede::STALE_NXDOMAIN_ANSWER)
    );
    assert_eq!(nx.authorities.first().map(|soa| soa.ttl), Some(30));
    // (Its refresh may send nothing: by now the infra cache holds the
    // silent server down as dead, and the resolution fails at once.)

    let counters = daemon.stop().await;
    assert_eq!(counters.stale_answers, 3);
}

/// With `serve-expired = false` the same situation is a SERVFAIL saying
/// no authority could be reached, never the expired data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_serve_expired_a_silent_server_means_servfail() {
    let lab = common::lab().await;
    let daemon = start_daemon(&lab, serve_limits(false, false)).await;
    let fresh = ask(daemon.addr, "www.brief.tld3.", RecordType::A).await;
    assert_eq!(addresses(&fresh), vec![("203.0.113.61".to_string(), 2)]);
    let silent = expire_and_silence(&lab).await;
    let reply = ask(daemon.addr, "www.brief.tld3.", RecordType::A).await;
    assert_eq!(reply.metadata.response_code, ResponseCode::ServFail);
    assert!(reply.answers.is_empty());
    let why = ede_of(&reply).expect("a SERVFAIL says why");
    assert_ne!(why.code, ede::STALE_ANSWER);
    assert!(asked_for(&lab, silent, "www.brief.tld3.") >= 1);
    let counters = daemon.stop().await;
    assert_eq!(counters.stale_answers, 0);
}

/// Prefetch: `hot.brief.tld3` lives 4 s; asked again in the last half of
/// its life (prefetch-percent 50 here), the hit is answered from the cache
/// and the lab gets a refresh query while the data is still live; asked
/// once more after the original data would have expired, it is still a
/// cache hit: no second resolution, no miss.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_name_is_refreshed_before_it_expires() {
    let lab = common::lab().await;
    let mut limits = serve_limits(true, true);
    limits.prefetch_percent = 50;
    let daemon = start_daemon(&lab, limits).await;
    let server = brief_server(&lab);
    let first = ask(daemon.addr, "hot.brief.tld3.", RecordType::A).await;
    let fetched = Instant::now();
    assert_eq!(addresses(&first), vec![("203.0.113.62".to_string(), 4)]);
    assert_eq!(asked_for(&lab, server, "hot.brief.tld3."), 1);
    // Early hits: from the cache (and its reply copies), no refresh yet.
    for _ in 0..3 {
        let hit = ask(daemon.addr, "hot.brief.tld3.", RecordType::A).await;
        assert_eq!(addresses(&hit).len(), 1);
    }
    assert_eq!(asked_for(&lab, server, "hot.brief.tld3."), 1);
    assert_eq!(daemon.counters.snapshot().prefetches, 0);

    // In the last half of its served life (it is given out until a second
    // before it expires: 3 s): a hit that starts a prefetch.
    tokio::time::sleep(Duration::from_millis(1600).saturating_sub(fetched.elapsed())).await;
    let late = ask(daemon.addr, "hot.brief.tld3.", RecordType::A).await;
    assert_eq!(late.metadata.response_code, ResponseCode::NoError);
    assert_eq!(addresses(&late).len(), 1);
    assert!(
        wait_for(Duration::from_secs(2), || asked_for(
            &lab,
            server,
            "hot.brief.tld3."
        ) == 2)
        .await,
        "no refresh query: {:?}",
        lab.query_log()
    );
    let refreshed = fetched.elapsed();
    let counters = daemon.counters.snapshot();
    assert!(counters.prefetches >= 1);
    assert_eq!(
        counters.resolutions, 1,
        "the prefetch is not a client's resolution"
    );

    // After the original data's life: still a hit, with the new TTL.
    tokio::time::sleep(Duration::from_millis(3400).saturating_sub(fetched.elapsed())).await;
    let after = ask(daemon.addr, "hot.brief.tld3.", RecordType::A).await;
    assert!(
        fetched.elapsed() >= Duration::from_secs(3),
        "asked before the old data ran out"
    );
    let found = addresses(&after);
    assert_eq!(found.len(), 1, "{after:?}");
    assert!(found[0].1 >= 1, "the refreshed data is live: {found:?}");
    assert_eq!(ede_of(&after), None);
    let counters = daemon.stop().await;
    assert_eq!(
        counters.resolutions, 1,
        "a cache miss after the refresh at {refreshed:?}"
    );
    assert_eq!(counters.stale_answers, 0);
    assert_eq!(counters.cache_hits, counters.noerror - 1);
}
