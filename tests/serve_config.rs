//! The daemon configured in code: a [`ServeConfig`] built field by field,
//! with no command-line type in sight, prepared and served against the lab.

mod common;

use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use rootwalk::config::UpstreamConfig;
use rootwalk::server::{self, Acl, ServeConfig, ServeLimits};
use tokio::net::UdpSocket;

#[tokio::test]
async fn a_config_built_in_code_serves() {
    let lab = common::lab().await;
    let config = ServeConfig {
        listen: vec!["127.0.0.1:0".parse().unwrap()],
        listen_is_default: false,
        acl: Acl::loopback(),
        upstream: UpstreamConfig::default(),
        cache_size: Some(2 << 20),
        udp_sockets: Some(1),
        reply_cache_size: Some(0),
        metrics: None,
        limits: common::limits(),
        serve_limits: ServeLimits::default(),
        local: server::LocalZones::builtin(),
        routes: Vec::new(),
        control_socket: None,
        user: None,
        proxy_from: Acl::new(Vec::new()),
    };
    let (daemon, listeners) = server::prepare(&config, common::config(&lab))
        .await
        .unwrap();
    let addr = listeners.local_addrs()[0].1;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(daemon.run(listeners, async {
        let _ = stopped.await;
    }));

    let mut query = Message::new(7, MessageType::Query, OpCode::Query);
    query.metadata.recursion_desired = true;
    query.add_query(Query::query(
        Name::from_ascii("www.a.tld1.").unwrap(),
        RecordType::A,
    ));
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket
        .send_to(&query.to_vec().unwrap(), addr)
        .await
        .unwrap();
    let mut buffer = vec![0u8; 4096];
    let (len, _) = tokio::time::timeout(Duration::from_secs(10), socket.recv_from(&mut buffer))
        .await
        .expect("a reply")
        .unwrap();
    let reply = Message::from_vec(&buffer[..len]).unwrap();
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert!(
        reply.answers.iter().any(|r| matches!(r.data, RData::A(_))),
        "{reply:?}"
    );
    let asked_a_tld1 = lab
        .query_log()
        .iter()
        .filter(|q| q.server_name.to_ascii().contains("a.tld1"))
        .count();
    assert!(asked_a_tld1 >= 1, "the walk reached a.tld1's servers");

    stop.send(()).unwrap();
    let counters = task.await.unwrap().unwrap();
    assert_eq!(counters.received, 1, "{counters}");
    assert_eq!(counters.noerror, 1, "{counters}");
}
