//! CPU cost of turning a reply into wire bytes within its size limit
//! (`server::packet::encode`): a normal reply (two A records, an NS in
//! authority, EDNS) that fits, and a huge one (5,000 A records in 50
//! RRsets, about 80 KB, as a hostile zone can serve) over UDP, where it
//! becomes the TC=1 reply, and over TCP, where it is cut at an RRset
//! boundary to fit 65,535 bytes.
//!
//! Run: `cargo bench --bench packet`.

use std::hint::black_box;
use std::net::Ipv4Addr;

use criterion::{Criterion, criterion_group, criterion_main};
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::rdata::{A, NS};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use rootwalk::server::packet::{Limit, encode, error_reply, udp_limit};

/// How many RRsets the huge reply has, and records in each.
const HUGE_SETS: usize = 50;
const HUGE_SET_SIZE: usize = 100;

fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap_or_else(|_| Name::root())
}

/// An A query for `qname` with EDNS (1232 bytes), as a stub sends it.
fn query(qname: &str) -> Message {
    let mut message = Message::new(0x1234, MessageType::Query, OpCode::Query);
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(name(qname), RecordType::A));
    let mut edns = Edns::new();
    edns.set_max_payload(1232);
    message.set_edns(edns);
    message
}

fn a(owner: &Name, i: usize) -> Record {
    let ip = Ipv4Addr::from(0x0a00_0000 | i as u32);
    Record::from_rdata(owner.clone(), 300, RData::A(A(ip)))
}

fn normal() -> (Message, usize) {
    let q = query("www.example.tld1.");
    let mut reply = error_reply(&q, hickory_proto::op::ResponseCode::NoError);
    let owner = name("www.example.tld1.");
    reply.answers = vec![a(&owner, 1), a(&owner, 2)];
    reply.authorities = vec![Record::from_rdata(
        name("example.tld1."),
        3600,
        RData::NS(NS(name("ns1.example.tld1."))),
    )];
    (reply, udp_limit(&q))
}

fn huge() -> (Message, usize) {
    let q = query("huge.example.tld1.");
    let mut reply = error_reply(&q, hickory_proto::op::ResponseCode::NoError);
    for set in 0..HUGE_SETS {
        let owner = name(&format!("s{set}.huge.example.tld1."));
        reply
            .answers
            .extend((0..HUGE_SET_SIZE).map(|i| a(&owner, set * HUGE_SET_SIZE + i)));
    }
    (reply, udp_limit(&q))
}

fn packet(c: &mut Criterion) {
    let mut group = c.benchmark_group("packet encode");
    let (reply, udp) = normal();
    group.bench_function("normal UDP", |b| {
        b.iter(|| encode(black_box(&reply), Limit::Datagram(udp)))
    });
    let (reply, udp) = huge();
    group.bench_function("huge UDP", |b| {
        b.iter(|| encode(black_box(&reply), Limit::Datagram(udp)))
    });
    group.bench_function("huge TCP", |b| {
        b.iter(|| encode(black_box(&reply), Limit::Stream))
    });
    group.finish();
}

criterion_group!(benches, packet);
criterion_main!(benches);
