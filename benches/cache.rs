//! CPU cost of the RRset cache per RRset size: storing an RRset (encoding
//! it to its wire-format blob, charging and evicting) and reading one back
//! (decoding it into hickory `Record`s), for one A record, 8 and 64 A
//! records, and a 224-record TXT RRset of ~60 KB.
//!
//! The "miss path" group times the cache lookups one cache miss costs
//! the daemon: a new name under the lab's wildcard, with the zone cut two
//! labels up and the empty non-terminal between them cached. Each of the
//! daemon's looks (the first look on the receive loop, the stale look,
//! the resolver's own look) asks for the type, a CNAME, a negative answer
//! at the name or above it (RFC 8020) and a DNAME above it; then the walk
//! finds the closest cached zone cut, with the cached addresses of its
//! servers, and asks whether the empty non-terminal below it exists
//! without a cut (so the minimised walk skips it). "resolver looks" times
//! the resolver's own cache-only and stale looks on empty caches: what a
//! miss costs them besides the lookups (their CNAME-loop checks).
//!
//! Run: `cargo bench --bench cache`.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use hickory_proto::rr::rdata::{A, TXT};
use hickory_proto::rr::rdata::{NS, SOA};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use rootwalk::cache::{NegativeCache, NegativeKind, RrsetCache, Trust};
use rootwalk::config::{CACHE_BYTES, Limits};
use rootwalk::resolve::hints::RootHints;
use rootwalk::resolve::{Resolver, ResolverConfig};
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

/// The caches of a daemon that has seen the lab's wildcard zone: the cut
/// `cut` with its NS set and the server's address, a NODATA for A at the
/// empty non-terminal `ent`, and a thousand other names beside them.
fn miss_caches(cut: &Name, ent: &Name, now: Instant) -> (RrsetCache, NegativeCache) {
    let rrsets = RrsetCache::new(CACHE_BYTES, DAY).keeping_stale(DAY);
    let negative = NegativeCache::new(CACHE_BYTES / 8, DAY).keeping_stale(DAY);
    let server = Name::from_ascii("ns1.").unwrap_or_else(|_| Name::root());
    let server = server.append_domain(cut).unwrap_or_else(|_| Name::root());
    let ns = Record::from_rdata(cut.clone(), 3600, RData::NS(NS(server.clone())));
    rrsets.insert(&[ns], Trust::Referral, now);
    rrsets.insert(&rrset(&server, 1), Trust::Glue, now);
    let soa = SOA::new(
        server.clone(),
        server.clone(),
        1,
        7200,
        3600,
        1_209_600,
        300,
    );
    let soa = Record::from_rdata(cut.clone(), 300, RData::SOA(soa));
    negative.insert(ent, RecordType::A, NegativeKind::NoData, &soa, now);
    for i in 0..1000 {
        rrsets.insert(&rrset(&owner(i), 1), Trust::AuthAnswer, now);
        let gone = Name::from_ascii(format!("gone{i}.tld2.")).unwrap_or_else(|_| Name::root());
        negative.insert(&gone, RecordType::A, NegativeKind::NxDomain, &soa, now);
    }
    (rrsets, negative)
}

/// One look for `qname`/A as the iterator's `lookup_cache` makes it on a
/// miss: the type, a CNAME, a negative answer, a DNAME above.
fn answer_look(rrsets: &RrsetCache, negative: &NegativeCache, qname: &Name, now: Instant) -> bool {
    rrsets.get_answer(qname, RecordType::A, now).is_some()
        || rrsets.get_answer(qname, RecordType::CNAME, now).is_some()
        || negative.get(qname, RecordType::A, now).is_some()
        || rrsets
            .enclosing(qname, RecordType::DNAME, now)
            .without_name()
            .without_root()
            .any(|(_, dname)| dname.trust.is_answer())
}

/// The stale look: the type, a CNAME, a negative answer, expired or not.
fn stale_look(rrsets: &RrsetCache, negative: &NegativeCache, qname: &Name, now: Instant) -> bool {
    rrsets.get_stale(qname, RecordType::A, now).is_some()
        || rrsets.get_stale(qname, RecordType::CNAME, now).is_some()
        || negative.get_stale(qname, RecordType::A, now).is_some()
}

/// The closest cached zone cut at or above `qname`.
fn closest_cut(rrsets: &RrsetCache, qname: &Name, now: Instant) -> Option<Name> {
    let mut cuts = rrsets.enclosing(qname, RecordType::NS, now).rev();
    cuts.next().map(|(cut, _)| cut)
}

/// The closest cached zone cut and the cached addresses of its servers,
/// as the iterator's `closest_delegation` reads them (A and AAAA per
/// server name, not bogus).
fn closest_delegation(rrsets: &RrsetCache, qname: &Name, now: Instant) -> Vec<IpAddr> {
    let mut addrs = Vec::new();
    let mut cuts = rrsets.enclosing(qname, RecordType::NS, now).rev();
    let Some((_, ns)) = cuts.next() else {
        return addrs;
    };
    for record in &ns.records {
        let RData::NS(server) = &record.data else {
            continue;
        };
        for rtype in [RecordType::A, RecordType::AAAA] {
            if let Some(cached) = rrsets
                .addresses(&server.0, rtype, now)
                .filter(|cached| !cached.validation.is_bogus())
            {
                addrs.extend(cached.addrs);
            }
        }
    }
    addrs
}

/// Whether the caches know `name` exists and is no zone cut, as the
/// iterator's `exists_without_cut` asks it: no NS RRset, and a NODATA for
/// A or an A RRset, neither bogus.
fn exists_without_cut(
    rrsets: &RrsetCache,
    negative: &NegativeCache,
    name: &Name,
    now: Instant,
) -> bool {
    if rrsets.get(name, RecordType::NS, now).is_some() {
        return false;
    }
    let nodata = negative
        .get_kind(name, RecordType::A, now)
        .is_some_and(|(kind, validation)| kind == NegativeKind::NoData && !validation.is_bogus());
    nodata
        || rrsets
            .get(name, RecordType::A, now)
            .is_some_and(|found| !found.validation.is_bogus())
}

fn miss_path(c: &mut Criterion) {
    let now = Instant::now();
    let mut group = c.benchmark_group("miss path");
    let names = |text: &str| Name::from_ascii(text).unwrap_or_else(|_| Name::root());
    for (qname, cut, ent) in [
        ("n4711.wild.a.tld1.", "a.tld1.", "wild.a.tld1."),
        (
            "h.g.n4711.wild.b.tld1.",
            "n4711.wild.b.tld1.",
            "g.n4711.wild.b.tld1.",
        ),
    ] {
        let (qname, cut, ent) = (names(qname), names(cut), names(ent));
        let (rrsets, negative) = miss_caches(&cut, &ent, now);
        let labels = qname.num_labels();
        assert_eq!(closest_cut(&rrsets, &qname, now), Some(cut.clone()));
        group.bench_function(BenchmarkId::new("answer look", labels), |b| {
            b.iter(|| answer_look(&rrsets, &negative, black_box(&qname), now))
        });
        group.bench_function(BenchmarkId::new("closest cut", labels), |b| {
            b.iter(|| closest_cut(&rrsets, black_box(&qname), now))
        });
        assert_eq!(closest_delegation(&rrsets, &qname, now).len(), 1);
        group.bench_function(BenchmarkId::new("closest delegation", labels), |b| {
            b.iter(|| closest_delegation(&rrsets, black_box(&qname), now))
        });
        assert!(exists_without_cut(&rrsets, &negative, &ent, now));
        group.bench_function(BenchmarkId::new("exists without cut", labels), |b| {
            b.iter(|| exists_without_cut(&rrsets, &negative, black_box(&ent), now))
        });
        // The daemon's first look, the stale look, the resolver's look,
        // the closest cut with its addresses, the skipped empty
        // non-terminal.
        group.bench_function(BenchmarkId::new("all looks", labels), |b| {
            b.iter(|| {
                let qname = black_box(&qname);
                answer_look(&rrsets, &negative, qname, now);
                stale_look(&rrsets, &negative, qname, now);
                answer_look(&rrsets, &negative, qname, now);
                closest_delegation(&rrsets, qname, now);
                exists_without_cut(&rrsets, &negative, black_box(&ent), now)
            })
        });
    }
    // The resolver's own looks on empty caches: each misses at once, so
    // what is timed is mostly the work around the lookups.
    let resolver = Resolver::new(ResolverConfig::new(
        RootHints::iana(),
        53,
        Limits::default(),
    ));
    let qname = names("n4711.wild.a.tld1.");
    group.bench_function("resolver looks", |b| {
        b.iter(|| {
            let qname = black_box(&qname);
            resolver.answer_from_cache(qname, RecordType::A).is_none()
                && resolver.answer_stale(qname, RecordType::A).is_none()
        })
    });
    group.finish();
}

criterion_group!(benches, cache, miss_path);
criterion_main!(benches);
