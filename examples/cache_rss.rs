//! Measures the resident memory one cached name costs: inserts N distinct
//! small A RRsets (one record each, as a wildcard zone answers) into a fresh
//! `RrsetCache` big enough to evict nothing, and prints VmRSS growth per
//! name. Run in release:
//! `cargo run --release --example cache_rss [NAMES] [CACHE-BYTES]`.
//!
//! Measured on a 2-vCPU VM, 80,000 names: 473 bytes per name with the
//! entry-counted cache of `hickory` `Record`s (its 100,000-entry table
//! allocated up front, so not in the growth), 141 bytes per name with the
//! wire-format blobs (table growth included).

use std::net::Ipv4Addr;
use std::time::Duration;

use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use rootwalk::cache::{RrsetCache, Trust};
use tokio::time::Instant;

/// VmRSS of this process in bytes, from /proc/self/status.
fn rss() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<usize>()
                .ok()
        })
        .map_or(0, |kb| kb * 1024)
}

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(80_000);
    let names: Vec<Name> = (0..count)
        .map(|i| Name::from_ascii(format!("host{i}.wild.tld1.")).unwrap_or_else(|_| Name::root()))
        .collect();
    let budget: usize = std::env::args()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1 << 30);
    let now = Instant::now();
    // Built before the first reading, as the daemon builds its caches at
    // start-up: what is measured is the growth per name.
    let cache = RrsetCache::new(budget, Duration::from_secs(86_400));
    let before = rss();
    for (i, name) in names.iter().enumerate() {
        let ip = Ipv4Addr::from(0x0a00_0000 | i as u32);
        let record = Record::from_rdata(name.clone(), 3600, RData::A(A(ip)));
        cache.insert(&[record], Trust::AuthAnswer, now);
    }
    let after = rss();
    assert_eq!(cache.len(), count, "nothing may be evicted");
    assert!(cache.get(&names[0], RecordType::A, now).is_some());
    println!(
        "{count} names: RSS {} -> {} kB, {:.0} bytes per cached name ({} charged)",
        before / 1024,
        after / 1024,
        (after - before) as f64 / count as f64,
        cache.bytes() / count
    );
}
