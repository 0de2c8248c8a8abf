//! How many side resolutions a cold resolver needs before it can send its
//! first query to a zone's servers, and whether glueless delegations form
//! a cycle that no resolver can break (the TsuNAME problem).
//!
//! The input is the zone cuts a walk saw ([`ReferralLog`]): per cut, its NS
//! names and whether the referral carried usable glue for each. A cut with
//! glue for any server costs nothing. Otherwise a resolver must resolve one
//! server's name first, which costs one side resolution plus whatever the
//! cuts above that name cost; the cheapest server wins.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use hickory_proto::rr::Name;

use crate::trace::{Event, Observer};

/// One zone cut: its NS names and whether each had glue.
pub type Cut = BTreeMap<Name, bool>;

/// An observer that keeps the first referral seen for each zone cut.
#[derive(Debug, Default)]
pub struct ReferralLog {
    cuts: Mutex<BTreeMap<Name, Cut>>,
}

impl ReferralLog {
    /// Records a cut learnt elsewhere (a parent's delegation, say),
    /// replacing what a walk saw.
    pub fn insert(&self, zone: Name, cut: Cut) {
        self.lock().insert(zone, cut);
    }

    /// The cuts seen so far.
    pub fn cuts(&self) -> BTreeMap<Name, Cut> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<Name, Cut>> {
        self.cuts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Observer for ReferralLog {
    fn event(&self, event: Event) {
        if let Event::Referral { zone, servers, .. } = event {
            let cut = servers
                .into_iter()
                .map(|s| (s.name, !s.glue.is_empty()))
                .collect();
            self.lock().entry(zone).or_insert(cut);
        }
    }
}

/// The glueless dependencies of one zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chain {
    /// Reachable after resolving these name-server names in turn (empty:
    /// glue reaches a server directly). The length is the depth.
    Reachable(Vec<Name>),
    /// Every way to a server loops through these zones.
    Cycle(Vec<Name>),
    /// A cut on the way was never seen (its walk failed).
    Unknown,
}

enum Dead {
    Cycle(Vec<Name>),
    Unknown,
}

/// The cheapest glueless chain a cold resolver walks before it can ask
/// `zone`'s servers: the costliest of the cuts from the top down to `zone`
/// itself, given `cuts`.
pub fn chain(zone: &Name, cuts: &BTreeMap<Name, Cut>) -> Chain {
    if !cuts.contains_key(zone) {
        return Chain::Unknown;
    }
    match name_chain(zone, cuts, &mut Vec::new()) {
        Ok(path) => Chain::Reachable(path),
        Err(Dead::Cycle(zones)) => Chain::Cycle(zones),
        Err(Dead::Unknown) => Chain::Unknown,
    }
}

fn zone_chain(
    zone: &Name,
    cuts: &BTreeMap<Name, Cut>,
    visiting: &mut Vec<Name>,
) -> Result<Vec<Name>, Dead> {
    if let Some(at) = visiting.iter().position(|z| z == zone) {
        return Err(Dead::Cycle(visiting[at..].to_vec()));
    }
    let cut = cuts.get(zone).ok_or(Dead::Unknown)?;
    if cut.values().any(|glued| *glued) {
        return Ok(Vec::new());
    }
    visiting.push(zone.clone());
    let mut best: Option<Vec<Name>> = None;
    let mut dead = Dead::Unknown;
    for server in cut.keys() {
        match name_chain(server, cuts, visiting) {
            Ok(rest) => {
                let path: Vec<Name> = std::iter::once(server.clone()).chain(rest).collect();
                if best.as_ref().is_none_or(|b| path.len() < b.len()) {
                    best = Some(path);
                }
            }
            Err(cycle @ Dead::Cycle(_)) => dead = cycle,
            Err(Dead::Unknown) => {}
        }
    }
    visiting.pop();
    best.ok_or(dead)
}

/// The chain in front of the deepest costly cut above `name`.
fn name_chain(
    name: &Name,
    cuts: &BTreeMap<Name, Cut>,
    visiting: &mut Vec<Name>,
) -> Result<Vec<Name>, Dead> {
    let mut longest = Vec::new();
    for zone in cuts.keys().filter(|z| !z.is_root() && z.zone_of(name)) {
        let path = zone_chain(zone, cuts, visiting)?;
        if path.len() > longest.len() {
            longest = path;
        }
    }
    Ok(longest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn n(s: &str) -> Name {
        Name::from_str(s).unwrap()
    }

    fn cuts(list: &[(&str, &[(&str, bool)])]) -> BTreeMap<Name, Cut> {
        list.iter()
            .map(|(zone, servers)| (n(zone), servers.iter().map(|(s, g)| (n(s), *g)).collect()))
            .collect()
    }

    #[test]
    fn glue_costs_nothing_and_each_glueless_level_one() {
        let c = cuts(&[
            ("tld1.", &[("ns.nic.tld1.", true)]),
            ("tld2.", &[("ns.nic.tld2.", true)]),
            ("tld3.", &[("ns.nic.tld3.", true)]),
            ("hosting.tld3.", &[("ns.hosting.tld3.", true)]),
            ("c.tld2.", &[("ns.hosting.tld3.", false)]),
            ("d.tld1.", &[("ns.c.tld2.", false)]),
            ("e.tld3.", &[("ns.d.tld1.", false)]),
        ]);
        assert_eq!(chain(&n("hosting.tld3."), &c), Chain::Reachable(vec![]));
        assert_eq!(
            chain(&n("c.tld2."), &c),
            Chain::Reachable(vec![n("ns.hosting.tld3.")])
        );
        assert_eq!(
            chain(&n("e.tld3."), &c),
            Chain::Reachable(vec![
                n("ns.d.tld1."),
                n("ns.c.tld2."),
                n("ns.hosting.tld3.")
            ])
        );
    }

    #[test]
    fn the_cheapest_server_wins_and_one_glued_server_is_enough() {
        let c = cuts(&[
            ("tld1.", &[("ns.nic.tld1.", true)]),
            ("hosting.tld1.", &[("ns.hosting.tld1.", true)]),
            ("far.tld1.", &[("ns.hosting.tld1.", false)]),
            (
                "mixed.tld1.",
                &[("ns.far.tld1.", false), ("ns.hosting.tld1.", false)],
            ),
            (
                "half.tld1.",
                &[("ns.far.tld1.", false), ("ns.half.tld1.", true)],
            ),
        ]);
        assert_eq!(
            chain(&n("mixed.tld1."), &c),
            Chain::Reachable(vec![n("ns.hosting.tld1.")])
        );
        assert_eq!(chain(&n("half.tld1."), &c), Chain::Reachable(vec![]));
    }

    #[test]
    fn a_glueless_pair_that_points_at_each_other_is_a_cycle() {
        let c = cuts(&[
            ("tld2.", &[("ns.nic.tld2.", true)]),
            ("tld3.", &[("ns.nic.tld3.", true)]),
            ("x.tld2.", &[("ns.y.tld3.", false)]),
            ("y.tld3.", &[("ns.x.tld2.", false)]),
        ]);
        assert_eq!(
            chain(&n("x.tld2."), &c),
            Chain::Cycle(vec![n("x.tld2."), n("y.tld3.")])
        );
    }

    #[test]
    fn a_glued_zone_below_a_glueless_one_pays_for_the_parent() {
        let c = cuts(&[
            ("tld2.", &[("ns.nic.tld2.", true)]),
            ("hosting.tld2.", &[("ns.hosting.tld2.", true)]),
            ("p.tld2.", &[("ns.hosting.tld2.", false)]),
            ("c.p.tld2.", &[("ns.c.p.tld2.", true)]),
        ]);
        assert_eq!(
            chain(&n("c.p.tld2."), &c),
            Chain::Reachable(vec![n("ns.hosting.tld2.")])
        );
    }

    #[test]
    fn an_unseen_cut_is_unknown() {
        assert_eq!(chain(&n("gone.tld1."), &cuts(&[])), Chain::Unknown);
    }
}
