//! CPU cost of the RRset cache per RRset size: storing an RRset (encoding
//! it to its wire-format blob, charging and evicting) and reading one back
//! (decoding it into hickory `Record`s), for one A record, 8 and 64 A
//! records, and a 224-record TXT RRset of ~60 KB.
//!
//! Run: `cargo bench --bench cache`.

use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use hickory_proto::rr::rdata::{A, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use rootwalk::cache::{RrsetCache, Trust};
use rootwalk::config::CACHE_BYTES;
use tokio::time::Instant;

const DAY: Duration = Duration::from_secs(86_400);

fn owner(i: usize) -> Name {
    Name::from_ascii(format!("host{i}.wild.tld1.")).unwrap_or_else(|_| Name::root())
}

/// An RRset of `size` at `owner`: `size` A records, or for 0 the 224
/// 255-byte TXT records of the lab's huge.tld3.
fn rrset(owner: &Name, size: usize) -> Vec<Record> {
    if size == 0 {
        return (0..224)
            .map(|i| {
                let text = format!("huge-{i:03}-{}", "x".repeat(246));
                Record::from_rdata(owner.clone(), 3600, RData::TXT(TXT::new(vec![text])))
            })
            .collect();
    }
    (0..size)
        .map(|i| {
            let ip = Ipv4Addr::from(0x0a00_0000 | i as u32);
            Record::from_rdata(owner.clone(), 3600, RData::A(A(ip)))
        })
        .collect()
}

fn label(size: usize) -> String {
    if size == 0 {
        "TXT x224 (60 KB)".into()
    } else {
        format!("A x{size}")
    }
}

fn cache(c: &mut Criterion) {
    let now = Instant::now();
    let mut insert = c.benchmark_group("rrset cache insert");
    for size in [1, 8, 64, 0] {
        let cache = RrsetCache::new(CACHE_BYTES, DAY);
        let owners: Vec<Name> = (0..1024).map(owner).collect();
        let sets: Vec<Vec<Record>> = owners.iter().map(|o| rrset(o, size)).collect();
        let mut next = 0;
        insert.bench_function(BenchmarkId::from_parameter(label(size)), |b| {
            b.iter(|| {
                next = (next + 1) % sets.len();
                cache.insert(black_box(&sets[next]), Trust::AuthAnswer, now)
            })
        });
    }
    insert.finish();

    let mut lookup = c.benchmark_group("rrset cache hit");
    for size in [1, 8, 64, 0] {
        let cache = RrsetCache::new(CACHE_BYTES, DAY);
        for i in 0..200 {
            cache.insert(&rrset(&owner(i), size), Trust::AuthAnswer, now);
        }
        let wanted = owner(100);
        let rtype = if size == 0 {
            RecordType::TXT
        } else {
            RecordType::A
        };
        lookup.bench_function(BenchmarkId::from_parameter(label(size)), |b| {
            b.iter(|| cache.get(black_box(&wanted), rtype, now))
        });
    }
    lookup.finish();
}

criterion_group!(benches, cache);
criterion_main!(benches);
