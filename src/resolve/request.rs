//! Per-client-question context: the budget every nested resolution draws
//! from, hop and resolution numbering, and the stack of names being
//! resolved (for cycle detection).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, PoisonError};

use hickory_proto::rr::{Name, RecordType};

use crate::cache::Stamp;
use crate::config::Limits;
use crate::resolve::ResolveError;
use crate::trace::{HopId, Observer, ResolutionId};
use crate::validate::SigBudget;

/// Shared by the client's resolution and every side resolution it starts;
/// atomics because side resolutions run concurrently within one task.
pub(crate) struct Request<'a> {
    pub limits: &'a Limits,
    pub observer: &'a dyn Observer,
    queries: AtomicU32,
    side_resolutions: AtomicU32,
    next_hop: AtomicU32,
    next_resolution: AtomicU32,
    /// DNSSEC signature checks left for this request (KeyTrap).
    sig_budget: Mutex<SigBudget>,
    /// A refresh (prefetch): the client's question is asked upstream even
    /// when the caches hold it.
    refresh: bool,
    /// The client set CD (RFC 4035 §3.2.2): its answer is given even when
    /// validation finds it bogus, with the verdict beside it.
    checking_disabled: bool,
    /// The stamp of the client's question name, taken just before a
    /// cache-only look found nothing for the question (see
    /// [`super::CacheMiss::Empty`]).
    empty_look: Option<Stamp>,
}

impl<'a> Request<'a> {
    pub fn new(limits: &'a Limits, observer: &'a dyn Observer) -> Self {
        Self {
            limits,
            observer,
            queries: AtomicU32::new(0),
            side_resolutions: AtomicU32::new(0),
            next_hop: AtomicU32::new(1),
            next_resolution: AtomicU32::new(1),
            sig_budget: Mutex::new(SigBudget::new(limits.max_sig_verifications)),
            refresh: false,
            checking_disabled: false,
            empty_look: None,
        }
    }

    /// The same request for a client that set CD: see
    /// [`Request::accepts_bogus`].
    pub fn checking_disabled(mut self, disabled: bool) -> Self {
        self.checking_disabled = disabled;
        self
    }

    /// The same request after a cache-only look found nothing for the
    /// client's question under `stamp` (`None`: no such look).
    pub fn after_empty_look(mut self, stamp: Option<Stamp>) -> Self {
        self.empty_look = stamp;
        self
    }

    /// The stamp under which a cache-only look found nothing for the
    /// question of a resolution at `depth`: the client's own (depth 0)
    /// only.
    pub fn empty_look(&self, depth: u32) -> Option<&Stamp> {
        self.empty_look.as_ref().filter(|_| depth == 0)
    }

    /// Whether a resolution at `depth` gives its answer even when it is
    /// bogus: the client's own question (depth 0) when the client set CD.
    /// Side resolutions never do: the resolver itself does not use data
    /// that failed validation.
    pub fn accepts_bogus(&self, depth: u32) -> bool {
        self.checking_disabled && depth == 0
    }

    /// Runs `check` with the request's signature budget (held for the
    /// synchronous check only, never across an `.await`).
    pub fn with_sig_budget<R>(&self, check: impl FnOnce(&mut SigBudget) -> R) -> R {
        let mut budget = self
            .sig_budget
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        check(&mut budget)
    }

    /// A request that refreshes the client's question: its links are
    /// asked upstream even when cached (a prefetch), while delegations and
    /// side resolutions still come from the caches.
    pub fn refreshing(limits: &'a Limits, observer: &'a dyn Observer) -> Self {
        Self {
            refresh: true,
            ..Self::new(limits, observer)
        }
    }

    /// Whether a resolution at `depth` must skip the caches for its own
    /// question: the client's (depth 0) of a refreshing request.
    pub fn skips_cache(&self, depth: u32) -> bool {
        self.refresh && depth == 0
    }

    /// Takes one upstream query from the budget.
    pub fn spend_query(&self) -> Result<(), ResolveError> {
        let spent = self.queries.fetch_add(1, Ordering::Relaxed);
        if spent >= self.limits.max_upstream_queries {
            self.queries.fetch_sub(1, Ordering::Relaxed);
            return Err(ResolveError::QueryBudget(self.limits.max_upstream_queries));
        }
        Ok(())
    }

    pub fn queries(&self) -> u32 {
        self.queries.load(Ordering::Relaxed)
    }

    pub fn count_side_resolution(&self) {
        self.side_resolutions.fetch_add(1, Ordering::Relaxed);
    }

    pub fn side_resolutions(&self) -> u32 {
        self.side_resolutions.load(Ordering::Relaxed)
    }

    pub fn next_hop(&self) -> HopId {
        self.next_hop.fetch_add(1, Ordering::Relaxed)
    }

    pub fn next_resolution(&self) -> ResolutionId {
        self.next_resolution.fetch_add(1, Ordering::Relaxed)
    }
}

/// The chain of (name, type) resolutions a side resolution is nested in.
pub(crate) struct Stack<'a> {
    pub name: Name,
    pub rtype: RecordType,
    pub parent: Option<&'a Stack<'a>>,
}

impl Stack<'_> {
    /// Whether (`name`, `rtype`) is being resolved here or further up. A
    /// and AAAA count as one: the address of a name server needs the same
    /// delegations whichever type is asked.
    pub fn contains(&self, name: &Name, rtype: RecordType) -> bool {
        let kind = |t: RecordType| match t {
            RecordType::AAAA => RecordType::A,
            other => other,
        };
        let mut frame = Some(self);
        while let Some(f) = frame {
            if kind(f.rtype) == kind(rtype) && &f.name == name {
                return true;
            }
            frame = f.parent;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::NullObserver;
    use std::str::FromStr;

    #[test]
    fn budget_stops_at_the_limit() {
        let limits = Limits {
            max_upstream_queries: 2,
            ..Limits::default()
        };
        let req = Request::new(&limits, &NullObserver);
        assert!(req.spend_query().is_ok());
        assert!(req.spend_query().is_ok());
        assert_eq!(req.spend_query(), Err(ResolveError::QueryBudget(2)));
        assert_eq!(req.queries(), 2);
    }

    #[test]
    fn stack_finds_names_up_the_chain() {
        let x = Name::from_str("ns.x.tld2.").unwrap();
        let y = Name::from_str("ns.y.tld3.").unwrap();
        let root = Stack {
            name: x.clone(),
            rtype: RecordType::A,
            parent: None,
        };
        let child = Stack {
            name: y.clone(),
            rtype: RecordType::A,
            parent: Some(&root),
        };
        assert!(child.contains(&x, RecordType::A));
        assert!(child.contains(&y, RecordType::A));
        assert!(child.contains(&x, RecordType::AAAA), "A and AAAA are one");
        assert!(!child.contains(&x, RecordType::MX));
        assert!(!root.contains(&y, RecordType::A));
    }
}
