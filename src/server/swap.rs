//! A value the daemon swaps whole while it runs (on reload), read by every
//! query: [`SwapCell`], and [`Snapshot`], a reader's own copy of it that
//! costs one plain atomic load per use.
//!
//! Reading the cell itself is a lock word written (the `RwLock`'s reader
//! count) and an `Arc` cloned and dropped (two more writes to its count):
//! every reader on every core writes the same two cache lines, so under
//! load they bounce between cores on each read (measured 61–84 ns on one
//! thread, 110–1,338 ns with two threads at it; `benches/swap.rs`). A
//! receive thread instead keeps a [`Snapshot`]: it holds the `Arc` it last
//! read and the cell's generation at that time, and only loads the
//! generation, which nobody writes between reloads, so the line stays
//! shared in every core's cache.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

/// A value in force, swapped whole by [`SwapCell::replace`]. One `RwLock`
/// around one `Arc`, taken for the clone of the `Arc` only, never across
/// an `.await`; and a generation, bumped after every replace, which tells
/// [`Snapshot`]s (and anything made under the old value) that it changed.
#[derive(Debug)]
pub struct SwapCell<T> {
    current: RwLock<Arc<T>>,
    /// How many times the value was replaced.
    generation: AtomicU64,
}

impl<T> SwapCell<T> {
    /// A cell holding `value`, at generation 0.
    pub fn new(value: T) -> Self {
        Self {
            current: RwLock::new(Arc::new(value)),
            generation: AtomicU64::new(0),
        }
    }

    /// The value in force now.
    pub fn current(&self) -> Arc<T> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Puts `value` in force for everything that reads the cell from now
    /// on. The value is stored before the generation is bumped (Release),
    /// which is what [`Snapshot::get`] relies on.
    pub fn replace(&self, value: T) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(value);
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// How many times the value was replaced.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// A snapshot of the value in force now, for one reader to keep.
    pub fn snapshot(&self) -> Snapshot<T> {
        Snapshot::new(self)
    }
}

/// One reader's copy of a [`SwapCell`]'s value and the generation it was
/// taken at. [`Snapshot::get`] costs one atomic load (no write) while the
/// cell is not replaced, and reads the cell again once it is.
///
/// # Why a replace is seen at the next `get`
///
/// [`SwapCell::replace`] stores the new value, then bumps the generation
/// with Release. A `get` loads the generation with Acquire; when it sees
/// the bumped one, everything written before the bump, the new value
/// included, is visible to it, so the value it then reads is that one (or
/// newer). When it sees the old generation it keeps the value it holds,
/// which is older than the cell's only if a replace is under way at that
/// very moment: the next `get` sees it. That is what the daemon already
/// promises ("new work reads the cell once; work under way keeps what it
/// started with"): a reload applies from the next datagram a thread reads
/// after it.
///
/// The generation is read *before* the value, both here and when the
/// snapshot is taken: a replace between the two leaves a new value under
/// an old generation, which the next `get` merely reads again; the other
/// order could leave an old value under the new generation, kept until the
/// reload after.
#[derive(Debug)]
pub struct Snapshot<T> {
    value: Arc<T>,
    generation: u64,
}

impl<T> Snapshot<T> {
    /// The value of `cell` now.
    pub fn new(cell: &SwapCell<T>) -> Self {
        let generation = cell.generation();
        Self {
            value: cell.current(),
            generation,
        }
    }

    /// The value in force in `cell` (the cell this snapshot was taken
    /// from), read again only when it was replaced since the last call.
    pub fn get(&mut self, cell: &SwapCell<T>) -> &Arc<T> {
        self.refresh(cell);
        &self.value
    }

    /// Reads `cell` again if it was replaced since the snapshot last did:
    /// [`Snapshot::get`] without the value, for a reader that wants it
    /// with [`Snapshot::value`] and [`Snapshot::generation`] together.
    pub fn refresh(&mut self, cell: &SwapCell<T>) {
        let generation = cell.generation();
        if generation != self.generation {
            self.value = cell.current();
            self.generation = generation;
        }
    }

    /// The value last read, without looking at the cell.
    pub fn value(&self) -> &Arc<T> {
        &self.value
    }

    /// The generation of the value [`Snapshot::get`] last returned: at most
    /// the cell's, never newer than the value (see the type's docs).
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_keeps_one_arc_until_a_replace_and_sees_it_at_the_next_get() {
        let cell = SwapCell::new(1u32);
        let mut snapshot = cell.snapshot();
        let first = Arc::clone(snapshot.get(&cell));
        assert_eq!((*first, snapshot.generation()), (1, 0));
        for _ in 0..3 {
            assert!(Arc::ptr_eq(snapshot.get(&cell), &first), "read again");
        }
        cell.replace(2);
        let second = Arc::clone(snapshot.get(&cell));
        assert!(!Arc::ptr_eq(&second, &first));
        assert_eq!((*second, snapshot.generation()), (2, 1));
        assert!(Arc::ptr_eq(&second, &cell.current()));
        assert!(Arc::ptr_eq(snapshot.get(&cell), &second));
        cell.replace(3);
        cell.replace(4);
        assert_eq!((**snapshot.get(&cell), snapshot.generation()), (4, 3));
    }

    #[test]
    fn a_snapshot_on_another_thread_sees_the_last_replace() {
        use std::sync::atomic::AtomicBool;
        let cell = Arc::new(SwapCell::new(0u64));
        let done = Arc::new(AtomicBool::new(false));
        let reader = {
            let (cell, done) = (Arc::clone(&cell), Arc::clone(&done));
            // Taken here, before any replace, whenever the thread starts.
            let mut snapshot = cell.snapshot();
            std::thread::spawn(move || {
                let mut last = 0;
                while !done.load(Ordering::Acquire) {
                    let now = **snapshot.get(&cell);
                    assert!(now >= last, "went back from {last} to {now}");
                    last = now;
                }
                **snapshot.get(&cell)
            })
        };
        for value in 1..=1000 {
            cell.replace(value);
        }
        done.store(true, Ordering::Release);
        assert_eq!(reader.join().unwrap(), 1000);
    }
}
