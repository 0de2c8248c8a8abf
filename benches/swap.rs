//! CPU cost of reading what is in force (the policy, the resolver and
//! limits) once per datagram: `SwapCell::current` (an `RwLock` read and
//! an `Arc` clone and drop, all writes to lines every reader shares)
//! against `Snapshot::get` (one atomic load while nothing is replaced).
//!
//! "alone" reads on one thread; "contended" keeps a second thread reading
//! the same cell the same way the whole time, as the daemon's second UDP
//! receive thread does. Needs two free cores to mean anything.
//!
//! Run: `cargo bench --bench swap -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use criterion::{Criterion, criterion_group, criterion_main};
use rootwalk::server::swap::SwapCell;

/// Stands for a policy: a few words behind the `Arc`.
type Value = [u64; 8];

/// How the other thread reads the cell.
#[derive(Clone, Copy)]
enum Other {
    Current,
    Snapshot,
}

/// A thread reading `cell` in a loop, the way `other` says, until `stop`.
fn reader(cell: &Arc<SwapCell<Value>>, stop: &Arc<AtomicBool>, other: Other) -> JoinHandle<()> {
    let (cell, stop) = (Arc::clone(cell), Arc::clone(stop));
    std::thread::spawn(move || {
        let mut snapshot = cell.snapshot();
        while !stop.load(Ordering::Relaxed) {
            match other {
                Other::Current => {
                    black_box(cell.current());
                }
                Other::Snapshot => {
                    black_box(snapshot.get(&cell)[0]);
                }
            }
        }
    })
}

fn reads(c: &mut Criterion) {
    let cell = Arc::new(SwapCell::new([7u64; 8]));
    let mut group = c.benchmark_group("swap");
    group.bench_function("alone/current", |b| b.iter(|| black_box(cell.current())));
    let mut snapshot = cell.snapshot();
    group.bench_function("alone/snapshot", |b| {
        b.iter(|| black_box(snapshot.get(&cell)[0]))
    });
    for (name, other) in [("current", Other::Current), ("snapshot", Other::Snapshot)] {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = reader(&cell, &stop, other);
        match other {
            Other::Current => {
                group.bench_function(format!("contended/{name}"), |b| {
                    b.iter(|| black_box(cell.current()))
                });
            }
            Other::Snapshot => {
                group.bench_function(format!("contended/{name}"), |b| {
                    b.iter(|| black_box(snapshot.get(&cell)[0]))
                });
            }
        }
        stop.store(true, Ordering::Relaxed);
        let _ = thread.join();
    }
    group.finish();
}

criterion_group!(benches, reads);
criterion_main!(benches);
