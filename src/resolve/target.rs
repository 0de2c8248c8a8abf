//! Side resolution ("target fetch"): finding the address of a name server
//! that came without glue by resolving its name from the root, nested under
//! the hop that needed it.
//!
//! Policy: glueless names are fetched only when no address of the zone is
//! left to try, one name at a time, and the walk goes on as soon as one
//! yields an address; if that server fails too, the next name is fetched.
//! Each name is asked for A, then for AAAA when the name exists without an
//! A record (an IPv6-only name server) or when IPv4 is off; a name that does
//! not exist is not asked again for AAAA (RFC 8020). Only fetches that
//! finished count against [`crate::config::MAX_GLUELESS_PER_DELEGATION`],
//! and after [`crate::config::MAX_TARGET_FAILURES`] names that gave no
//! address the delegation is given up: an NXNS referral to 30 names that
//! do not exist costs a few queries, not 30 resolutions.
//!
//! Why one name at a time and A before AAAA: a cold fetch walks the name's
//! own delegation chain, and parallel fetches of sibling names (or of A
//! and AAAA of one name) walk it once each, which is what made NXNS-style
//! referrals expensive. The first fetch warms the chain for the next.

use std::net::IpAddr;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RecordType};

use super::Inner;
use super::delegation::{DelegationPoint, addresses};
use super::iterator::Task;
use super::request::{Request, Stack};
use crate::resolve::ResolveError;
use crate::trace::{Event, Purpose, emit};

/// How the side resolution of one name ended.
enum Fetched {
    /// Addresses this resolver may use.
    Addresses(Vec<IpAddr>),
    /// None: the name does not exist, has no usable address, or failed.
    Nothing,
}

impl Inner {
    /// Resolves glueless server names of `dp`, one at a time, until one
    /// yields an address. `Ok(true)` when a new address was found.
    pub(super) async fn fetch_targets(
        &self,
        req: &Request<'_>,
        dp: &mut DelegationPoint,
        stack: &Stack<'_>,
        depth: u32,
    ) -> Result<bool, ResolveError> {
        let limits = &self.limits;
        let names = dp.glueless();
        if names.is_empty() {
            return Ok(false);
        }
        if depth >= limits.max_target_depth {
            return Err(ResolveError::TargetDepth(limits.max_target_depth));
        }
        let mut last_error = None;
        for (index, name) in names.iter().enumerate() {
            let stop = if dp.targets_fetched >= limits.max_glueless_per_delegation {
                Some(format!(
                    "glueless, and {} side resolutions were already made for this zone cut \
                     (MAX_GLUELESS_PER_DELEGATION)",
                    limits.max_glueless_per_delegation
                ))
            } else if dp.target_failures >= limits.max_target_failures {
                Some(format!(
                    "glueless, and {} of this zone cut's glueless names gave no address \
                     (MAX_TARGET_FAILURES, an NXNS guard)",
                    dp.target_failures
                ))
            } else {
                None
            };
            if let Some(reason) = stop {
                for skipped in &names[index..] {
                    dp.set_target(skipped, &[]);
                    emit(req.observer, || Event::ServerSkipped {
                        hop: dp.origin_hop,
                        zone: dp.zone.clone(),
                        server_name: skipped.clone(),
                        reason: reason.clone(),
                    });
                }
                break;
            }
            let fetched = self.fetch_target(req, dp, name, stack, depth).await;
            dp.targets_fetched += 1;
            match fetched {
                Ok(Fetched::Addresses(addrs)) => {
                    dp.set_target(name, &addrs);
                    return Ok(true);
                }
                Ok(Fetched::Nothing) => {}
                // A budget or time limit hit deep down ends the whole request.
                Err(e @ (ResolveError::QueryBudget(_) | ResolveError::Timeout(_))) => {
                    return Err(e);
                }
                Err(e) => last_error = Some(e),
            }
            dp.target_failures += 1;
            dp.set_target(name, &[]);
        }
        if let Some(error) = last_error {
            tracing::debug!(zone = %dp.zone, %error, "no glueless name server resolved");
        }
        Ok(false)
    }

    /// The usable addresses of `name`: A, then AAAA when the name has no A
    /// (or IPv4 is off) and IPv6 is on.
    async fn fetch_target(
        &self,
        req: &Request<'_>,
        dp: &DelegationPoint,
        name: &Name,
        stack: &Stack<'_>,
        depth: u32,
    ) -> Result<Fetched, ResolveError> {
        let mut types = Vec::with_capacity(2);
        if self.families.v4 {
            types.push(RecordType::A);
        }
        if self.families.v6 {
            types.push(RecordType::AAAA);
        }
        for rtype in types {
            req.count_side_resolution();
            let task = Task {
                qname: name.clone(),
                qtype: rtype,
                parent_hop: dp.origin_hop,
                purpose: Purpose::Target {
                    zone: dp.zone.clone(),
                },
                stack: Some(stack),
                depth: depth + 1,
            };
            let resolved = self.resolve_task(req, task).await?;
            let addrs: Vec<IpAddr> = addresses(resolved.answers.iter())
                .filter(|addr| self.families.allows(*addr))
                .collect();
            if !addrs.is_empty() {
                return Ok(Fetched::Addresses(addrs));
            }
            if resolved.rcode == ResponseCode::NXDomain {
                // RFC 8020: nothing below or at a name that does not exist.
                break;
            }
        }
        Ok(Fetched::Nothing)
    }
}
