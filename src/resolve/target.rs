//! Side resolution ("target fetch"): finding the address of a name server
//! that came without glue by resolving its name from the root, nested under
//! the hop that needed it.
//!
//! Policy: glueless names are fetched only when no address of the zone is
//! left to try; all of them (up to the per-delegation limit) are resolved in
//! parallel and the walk goes on with the first that yields an address;
//! the others are dropped and may be fetched again if that server fails.

use std::net::IpAddr;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use hickory_proto::rr::RecordType;

use super::Inner;
use super::delegation::{DelegationPoint, addresses};
use super::iterator::Task;
use super::request::{Request, Stack};
use crate::resolve::ResolveError;
use crate::trace::{Event, Purpose, emit};

impl Inner {
    /// Resolves glueless server names of `dp`. `Ok(true)` when at least one
    /// new address was found.
    pub(super) async fn fetch_targets(
        &self,
        req: &Request<'_>,
        dp: &mut DelegationPoint,
        stack: &Stack<'_>,
        depth: u32,
    ) -> Result<bool, ResolveError> {
        let left = self
            .limits
            .max_glueless_per_delegation
            .saturating_sub(dp.targets_fetched);
        let mut names: Vec<_> = dp.glueless();
        for skipped in names.split_off((left as usize).min(names.len())) {
            emit(req.observer, || Event::ServerSkipped {
                hop: dp.origin_hop,
                zone: dp.zone.clone(),
                server_name: skipped.clone(),
                reason: format!(
                    "glueless, and {} side resolutions were already allowed for this zone cut \
                     (MAX_GLUELESS_PER_DELEGATION)",
                    self.limits.max_glueless_per_delegation
                ),
            });
        }
        if names.is_empty() {
            return Ok(false);
        }
        if depth >= self.limits.max_target_depth {
            return Err(ResolveError::TargetDepth(self.limits.max_target_depth));
        }
        dp.targets_fetched += names.len() as u32;
        let mut pending: FuturesUnordered<_> = names
            .into_iter()
            .map(|name| {
                req.count_side_resolution();
                let task = Task {
                    qname: name.clone(),
                    qtype: RecordType::A,
                    parent_hop: dp.origin_hop,
                    purpose: Purpose::Target {
                        zone: dp.zone.clone(),
                    },
                    stack: Some(stack),
                    depth: depth + 1,
                };
                async move { (name, self.resolve_task(req, task).await) }
            })
            .collect();
        let mut last_error = None;
        while let Some((name, result)) = pending.next().await {
            let addrs: Vec<IpAddr> = match result {
                Ok(resolved) => addresses(resolved.answers.iter()).collect(),
                Err(error) => {
                    last_error = Some(error);
                    Vec::new()
                }
            };
            dp.set_target(&name, &addrs);
            if !addrs.is_empty() {
                return Ok(true);
            }
        }
        // A budget or time limit hit deep down ends the whole request.
        match last_error {
            Some(e @ (ResolveError::QueryBudget(_) | ResolveError::Timeout(_))) => Err(e),
            _ => Ok(false),
        }
    }
}
