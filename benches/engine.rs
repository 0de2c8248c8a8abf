//! CPU cost of the engine's pieces: wire decode+encode, a cache hit, the
//! scrubber on a referral, a cached resolution through the library, a
//! miss under a cached zone cut (one upstream query), and a cold
//! resolution on the in-process lab with no added latency.
//!
//! Run: `cargo bench --bench engine`.

use std::hint::black_box;
use std::str::FromStr;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::rdata::{A, NS};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use rootwalk::cache::{RrsetCache, Trust};
use rootwalk::config::Limits;
use rootwalk::lab::{Lab, LabConfig};
use rootwalk::resolve::scrub::scrub;
use rootwalk::resolve::{Resolver, ResolverConfig};
use rootwalk::trace::NullObserver;

#[path = "support/cpu.rs"]
mod cpu;

fn name(s: &str) -> Name {
    Name::from_str(s).unwrap_or_else(|_| Name::root())
}

/// A referral from tld1 for b.tld1 with sibling glue and a poisoned extra.
fn referral() -> (Message, Query) {
    let question = Query::query(name("www.b.tld1."), RecordType::A);
    let mut m = Message::new(7, MessageType::Response, OpCode::Query);
    m.add_query(question.clone());
    for ns in ["ns1.a.tld1.", "ns2.a.tld1."] {
        m.authorities.push(Record::from_rdata(
            name("b.tld1."),
            86400,
            RData::NS(NS(name(ns))),
        ));
    }
    m.additionals.push(Record::from_rdata(
        name("ns1.a.tld1."),
        86400,
        RData::A(A::new(127, 53, 0, 101)),
    ));
    m.additionals.push(Record::from_rdata(
        name("ns2.a.tld1."),
        86400,
        RData::A(A::new(127, 53, 0, 102)),
    ));
    m.additionals.push(Record::from_rdata(
        name("www.a.tld3."),
        86400,
        RData::A(A::new(127, 66, 6, 6)),
    ));
    (m, question)
}

fn pieces(c: &mut Criterion) {
    let (message, question) = referral();
    let wire = message.to_vec().unwrap_or_default();
    c.bench_function("wire decode+encode (referral)", |b| {
        b.iter(|| {
            let decoded = Message::from_vec(black_box(&wire)).ok();
            decoded.and_then(|m| m.to_vec().ok())
        })
    });

    let zone = name("tld1.");
    c.bench_function("scrub referral", |b| {
        b.iter(|| scrub(black_box(message.clone()), &zone, &question))
    });

    let cache = RrsetCache::new(rootwalk::config::CACHE_BYTES, Duration::from_secs(86_400));
    let now = tokio::time::Instant::now();
    for i in 0..10_000u32 {
        let owner = name(&format!("host{i}.a.tld1."));
        let record =
            Record::from_rdata(owner, 3600, RData::A(A::from(std::net::Ipv4Addr::from(i))));
        cache.insert(&[record], Trust::AuthAnswer, now);
    }
    let wanted = name("host5000.a.tld1.");
    c.bench_function("cache hit (10k entries)", |b| {
        b.iter(|| cache.get(black_box(&wanted), RecordType::A, now))
    });
}

/// Misses resolved at once in the miss bench: dnsperf's 100 outstanding
/// queries in `benches/serve-vs-unbound-costs.sh`.
const MISSES_IN_FLIGHT: u64 = 100;

fn resolutions(c: &mut Criterion) {
    let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    let Ok(lab) = runtime.block_on(Lab::start(LabConfig {
        latency: false,
        ..LabConfig::for_tests()
    })) else {
        return;
    };
    let config = ResolverConfig::new(lab.hints(), lab.port(), Limits::default());
    let qname = name("www.c.tld2.");

    let warm = Resolver::new(config.clone());
    let _ = runtime.block_on(warm.resolve(&qname, RecordType::A, &NullObserver));
    c.bench_function("cached resolution (glueless zone)", |b| {
        b.iter(|| runtime.block_on(warm.resolve(black_box(&qname), RecordType::A, &NullObserver)))
    });

    // A miss under a cached cut: every name is new under the lab's
    // wildcard `*.wild.a.tld1`, so each resolution starts from the cached
    // `a.tld1` delegation and asks its server once, as most of a daemon's
    // misses do, [`MISSES_IN_FLIGHT`] at once as a daemon under load has
    // them (their futures' memory is then all live at once, as it is
    // there). Timed per miss as the CPU (user and system) of the resolving
    // thread, whose runtime of its own drives the socket too; the lab
    // answers on the other runtime's threads, not counted. The round
    // trip's wall time is the lab's and the scheduler's, not the
    // resolver's cost.
    let Ok(local) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    let resolver = Resolver::new(config.clone());
    let warmed =
        local.block_on(resolver.resolve(&name("warm.wild.a.tld1."), RecordType::A, &NullObserver));
    if let Err(failure) = warmed {
        eprintln!(
            "the lab did not answer under *.wild.a.tld1: {}",
            failure.error
        );
        return;
    }
    let mut fresh = 0u64;
    c.bench_function(
        "misses under a cached cut, 100 at once (CPU of the resolving thread)",
        |b| {
            b.iter_custom(|iters| {
                let started = cpu::thread_cpu();
                let mut left = iters;
                while left > 0 {
                    let batch = left.min(MISSES_IN_FLIGHT);
                    left -= batch;
                    let names: Vec<Name> = (0..batch)
                        .map(|_| {
                            fresh += 1;
                            name(&format!("n{fresh}.wild.a.tld1."))
                        })
                        .collect();
                    let misses = names
                        .iter()
                        .map(|qname| resolver.resolve(qname, RecordType::A, &NullObserver));
                    let resolved = local.block_on(futures_util::future::join_all(misses));
                    black_box(resolved.iter().filter(|r| r.is_ok()).count());
                }
                cpu::thread_cpu().saturating_sub(started)
            })
        },
    );

    let mut group = c.benchmark_group("cold");
    group.sample_size(30);
    group.bench_function(
        "cold resolution, lab without latency (glueless zone)",
        |b| {
            b.iter(|| {
                let resolver = Resolver::new(config.clone());
                runtime.block_on(resolver.resolve(&qname, RecordType::A, &NullObserver))
            })
        },
    );
    group.finish();
    drop(lab);
}

criterion_group!(benches, pieces, resolutions);
criterion_main!(benches);
