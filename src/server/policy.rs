//! What the daemon may change while it runs (SIGHUP): who may ask and
//! what it answers itself. One `RwLock` around one `Arc`, taken for the
//! clone of the `Arc` only, never across an `.await`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use super::acl::Acl;
use super::local::LocalZones;

/// The reloadable part of the daemon's configuration.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Who may ask.
    pub acl: Acl,
    /// What is answered locally.
    pub local: LocalZones,
    /// Proxies whose messages carry a PROXY v2 header naming the real
    /// client (see [`super::proxy`]); empty: none.
    pub proxies: Acl,
}

impl Policy {
    /// `acl` with the built-in local zones.
    pub fn new(acl: Acl) -> Self {
        Self {
            acl,
            local: LocalZones::builtin(),
            proxies: Acl::new(Vec::new()),
        }
    }
}

/// The policy in force, swapped whole on reload.
#[derive(Debug)]
pub struct PolicyCell {
    current: RwLock<Arc<Policy>>,
    /// Bumped by every [`PolicyCell::replace`], so reply copies made under
    /// an older policy are dropped.
    generation: AtomicU64,
}

impl PolicyCell {
    /// A cell holding `policy`.
    pub fn new(policy: Policy) -> Self {
        Self {
            current: RwLock::new(Arc::new(policy)),
            generation: AtomicU64::new(0),
        }
    }

    /// The policy in force now.
    pub fn current(&self) -> Arc<Policy> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Puts `policy` in force for every query read from now on.
    pub fn replace(&self, policy: Policy) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(policy);
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// How many times the policy was replaced.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }
}
