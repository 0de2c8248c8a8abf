//! Identical questions in flight share one resolution.
//!
//! The first client to ask a question (name lowercased, type, class) starts
//! a resolution in a task of its own; clients asking the same while it runs
//! join its list of waiters and all get the one result. The resolution runs
//! detached, so a client that goes away (a closed TCP connection) does not
//! cancel it for the others; it ends by itself within the resolver's
//! request timeout.
//!
//! One std `Mutex` guards the map of pending questions; it is taken only to
//! look up, insert or remove, never across an `.await`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use hickory_proto::rr::{DNSClass, Name, RecordType};
use tokio::sync::oneshot;
use tracing::Instrument;

use crate::resolve::{Failure, Outcome, Resolver};
use crate::trace::NullObserver;

/// A finished resolution, shared by every client that asked.
pub type Resolved = Arc<Result<Outcome, Failure>>;

/// The identity of a question: lowercased name, type, class.
type Key = (Name, RecordType, DNSClass);

/// Clients waiting for each question in flight.
type Pending = HashMap<Key, Vec<oneshot::Sender<Resolved>>>;

/// The questions in flight. Cheap to clone.
#[derive(Clone, Default)]
pub struct InFlight {
    pending: Arc<Mutex<Pending>>,
}

/// How a client got its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// It started the resolution.
    Leader,
    /// It joined one already running.
    Follower,
}

impl InFlight {
    /// Resolves `name`/`qtype` (class IN) with `resolver`, joining an
    /// identical resolution in flight if there is one. `None` only if the
    /// resolution task died without an answer (a panic).
    pub async fn resolve(
        &self,
        resolver: &Resolver,
        name: &Name,
        qtype: RecordType,
    ) -> (Option<Resolved>, Role) {
        let key = (name.to_lowercase(), qtype, DNSClass::IN);
        let (sender, receiver) = oneshot::channel();
        let role = {
            let mut pending = lock(&self.pending);
            match pending.get_mut(&key) {
                Some(waiters) => {
                    waiters.push(sender);
                    Role::Follower
                }
                None => {
                    pending.insert(key.clone(), vec![sender]);
                    Role::Leader
                }
            }
        };
        if role == Role::Leader {
            self.start(resolver.clone(), key);
        }
        (receiver.await.ok(), role)
    }

    /// Spawns the resolution of `key`; on completion it hands the result
    /// to every waiter registered by then and forgets the question.
    fn start(&self, resolver: Resolver, key: Key) {
        let pending = Arc::clone(&self.pending);
        let work = async move {
            let result: Resolved = Arc::new(resolver.resolve(&key.0, key.1, &NullObserver).await);
            let waiters = lock(&pending).remove(&key).unwrap_or_default();
            for waiter in waiters {
                // A waiter that went away needs nothing.
                let _ = waiter.send(Arc::clone(&result));
            }
        };
        tokio::spawn(work.in_current_span());
    }

    /// Questions currently in flight.
    pub fn len(&self) -> usize {
        lock(&self.pending).len()
    }

    /// Whether nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The map, even if a task panicked while holding it: every update leaves
/// it consistent (a lone insert or remove).
fn lock(pending: &Mutex<Pending>) -> MutexGuard<'_, Pending> {
    pending.lock().unwrap_or_else(PoisonError::into_inner)
}
