//! The critical path: the chain of exchanges that set a trace's total time.
//!
//! It is computed backwards over the order events arrived in (not their
//! timestamps, so ties cannot reorder it). For one resolution, the
//! candidates are its own hops that got a reply or failed, and the side
//! resolutions nested under its hops that finished. Starting from the
//! resolution's end, the rule picks the candidate that ended last before
//! the cursor, moves the cursor to that candidate's start, and repeats.
//! A chosen side resolution is expanded in place by the same rule.
//!
//! Consequences: sequential hops are all on the path; of several side
//! resolutions run in parallel, only the one that finished last before the
//! next hop was sent is (with the engine's first-address-wins policy, the
//! one whose result was used — the others are dropped unfinished and never
//! count); a side resolution that ran while the walk was busy elsewhere is
//! skipped.

use std::collections::HashSet;

use super::assemble::{Drafts, HopDraft, micros};
use super::tree::PathStep;

impl Drafts {
    /// Appends the critical path of resolution `id` (see the module doc).
    pub(super) fn critical(
        &self,
        id: u32,
        depth: u32,
        out: &mut Vec<PathStep>,
        seen: &mut HashSet<u32>,
    ) {
        let Some(res) = self.res.get(&id) else {
            return;
        };
        if !seen.insert(id) {
            return;
        }
        enum Item {
            Hop(u32),
            Side(u32),
        }
        // (start, end, item) of everything that finished.
        let mut items: Vec<(usize, usize, Item)> = Vec::new();
        for hop_id in &res.hops {
            let Some(hop) = self.hops.get(hop_id) else {
                continue;
            };
            if let Some(end) = hop.end_seq {
                items.push((hop.start_seq, end, Item::Hop(*hop_id)));
            }
            for child in self.children.get(hop_id).into_iter().flatten() {
                if let Some(c) = self.res.get(child)
                    && let Some(end) = c.end_seq
                {
                    items.push((c.start_seq, end, Item::Side(*child)));
                }
            }
        }
        let mut cursor = res.end_seq.unwrap_or(usize::MAX);
        let mut chain = Vec::new();
        while let Some(pos) = items
            .iter()
            .enumerate()
            .filter(|(_, (_, end, _))| *end < cursor)
            .max_by_key(|(_, (_, end, _))| *end)
            .map(|(pos, _)| pos)
        {
            let (start, _, item) = items.swap_remove(pos);
            cursor = start;
            chain.push(item);
        }
        for item in chain.into_iter().rev() {
            match item {
                Item::Side(child) => self.critical(child, depth + 1, out, seen),
                Item::Hop(hop_id) => {
                    if let Some(hop) = self.hops.get(&hop_id) {
                        out.push(self.step(hop, depth));
                    }
                }
            }
        }
    }

    fn step(&self, hop: &HopDraft, depth: u32) -> PathStep {
        // After a TCP fallback the RTT is the TCP exchange's; the
        // truncated UDP try before it took time on the path too.
        let duration = match (&hop.node.response, hop.end_at) {
            (Some(r), Some(end)) if r.tcp_fallback => {
                micros(end).saturating_sub(hop.node.sent_us).max(r.rtt_us)
            }
            (Some(r), _) => r.rtt_us,
            (None, Some(end)) => micros(end).saturating_sub(hop.node.sent_us),
            (None, None) => 0,
        };
        PathStep {
            hop: hop.node.id,
            resolution: hop.resolution,
            depth,
            zone: hop.node.zone.clone(),
            server_name: hop.node.server_name.clone(),
            address: hop.node.address.clone(),
            duration_us: duration,
        }
    }
}
