//! The caches are bounded in bytes, whatever the answers look like: a
//! resolver asked for many distinct names whose answers are ~60 KB RRsets
//! (`huge.tld3` of the lab, fetched over TCP) keeps its caches within their
//! byte budget, and the process's resident memory grows by at most that
//! budget and a documented fixed overhead.
//!
//! One test in its own file, so its process holds nothing else: the RSS it
//! reads from /proc is its own.

mod common;

use hickory_proto::rr::{Name, RData, RecordType};
use rootwalk::config::{CacheBudgets, MIN_CACHE_BYTES};
use rootwalk::resolve::Resolver;
use rootwalk::trace::NullObserver;

/// Distinct huge names asked: at ~60 KB each, 1000 names are ~60 MB of
/// RRsets on the wire (and over 150 MB as hickory `Record`s), many times
/// the budget below.
const NAMES: usize = 1000;

/// The byte budget of every cache together (`cache-size`): 4 MiB, so the
/// RRset share (60 %) holds about 40 of the huge RRsets.
const CACHE_SIZE: usize = 4 * MIN_CACHE_BYTES;

/// RSS growth allowed beyond `CACHE_SIZE`: freed 64 KB message and TCP
/// buffers the allocator keeps in its per-thread arenas for reuse, the
/// runtime's and the lab's worker stacks as they first run deep, and the
/// lab's own per-query state. Measured at about 10 MiB in this test; the
/// margin is generous so the test never flakes, yet keeping every answer
/// (the entry-counted caches) grows RSS by over 100 MB.
const FIXED_OVERHEAD: usize = 32 << 20;

/// VmRSS of this process in bytes, from /proc/self/status.
fn rss() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<usize>()
                .ok()
        })
        .expect("a VmRSS line");
    kb * 1024
}

async fn huge(resolver: &Resolver, i: usize) -> usize {
    let qname = Name::from_ascii(format!("n{i}.txt.huge.tld3.")).unwrap();
    let outcome = resolver
        .resolve(&qname, RecordType::TXT, &NullObserver)
        .await
        .unwrap_or_else(|failure| panic!("{qname}: {failure}"));
    let txt = outcome
        .answers
        .iter()
        .filter(|r| matches!(r.data, RData::TXT(_)) && r.name == qname)
        .count();
    assert_eq!(txt, 224, "{qname}: the whole RRset");
    txt
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_rrsets_stay_within_the_byte_budget_and_rss() {
    let lab = common::lab().await;
    let mut limits = common::limits();
    limits.cache_bytes = CACHE_SIZE;
    let resolver = Resolver::new(common::config_with(&lab, limits));
    let budgets = CacheBudgets::split(CACHE_SIZE);
    let resolver_budget = budgets.rrset + budgets.negative + budgets.infra + budgets.failure;

    // Warm up: the delegations are cached, the runtime and the allocator
    // have seen a huge reply.
    for i in 0..20 {
        huge(&resolver, NAMES + i).await;
    }
    let before = rss();
    let mut peak = 0;
    for i in 0..NAMES {
        huge(&resolver, i).await;
        let bytes = resolver.cache_bytes();
        assert!(
            bytes <= resolver_budget,
            "after {i}: caches hold {bytes} bytes, budget {resolver_budget}"
        );
        peak = peak.max(bytes);
    }
    let grown = rss().saturating_sub(before);
    eprintln!(
        "{NAMES} huge names: caches at most {peak} bytes of {resolver_budget}; RSS grew {} KiB",
        grown / 1024
    );
    // The caches filled up (so eviction, not luck, kept them small)...
    assert!(peak > budgets.rrset * 3 / 4, "{peak}");
    // ...and the process grew by at most the budget and the fixed overhead.
    assert!(
        grown <= CACHE_SIZE + FIXED_OVERHEAD,
        "RSS grew {grown} bytes for a {CACHE_SIZE}-byte cache"
    );
    // The recent names are still answered from the cache.
    let last = Name::from_ascii(format!("n{}.txt.huge.tld3.", NAMES - 1)).unwrap();
    assert!(resolver.answer_from_cache(&last, RecordType::TXT).is_some());
}
