//! How a name's delegations were glued, judged from what the walk saw: the
//! referrals of the client resolution, each zone cut classed as in-domain
//! glue, sibling glue or glueless, and the name labelled by its worst cut.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use hickory_proto::rr::Name;
use serde::Serialize;

use crate::trace::{Event, HopId, Observer, Purpose, ReferralServer, ResolutionId};

/// How one zone cut was glued, best first (RFC 9471 §2 for the terms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GlueClass {
    /// A name server inside the delegated zone came with its address.
    InDomain,
    /// Only name servers outside the delegated zone, but inside the
    /// parent's bailiwick, came with addresses.
    Sibling,
    /// No name server came with an address: the walk needs a side
    /// resolution (or the cache) before it can go on.
    Glueless,
}

impl GlueClass {
    /// Every class, best first.
    pub const ALL: [GlueClass; 3] = [Self::InDomain, Self::Sibling, Self::Glueless];

    /// The class of the referral to `zone` naming `servers`: in-domain when
    /// a server inside `zone` has glue, else sibling when any has glue,
    /// else glueless.
    pub fn of_referral(zone: &Name, servers: &[ReferralServer]) -> Self {
        let glued = servers.iter().filter(|s| !s.glue.is_empty());
        let mut any_glue = false;
        for server in glued {
            if zone.zone_of(&server.name) {
                return Self::InDomain;
            }
            any_glue = true;
        }
        if any_glue {
            Self::Sibling
        } else {
            Self::Glueless
        }
    }

    /// The short name used in tables, CSV and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InDomain => "in-domain",
            Self::Sibling => "sibling",
            Self::Glueless => "glueless",
        }
    }
}

impl fmt::Display for GlueClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One zone cut the client resolution was referred to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ZoneCut {
    /// The delegated zone.
    pub zone: String,
    /// How it was glued.
    pub class: GlueClass,
}

/// An observer that keeps the zone cuts of the client resolution (not
/// those of its side resolutions, which belong to the name servers' names).
#[derive(Debug, Default)]
pub struct CutRecorder {
    state: Mutex<CutState>,
}

#[derive(Debug, Default)]
struct CutState {
    client: HashSet<ResolutionId>,
    client_hops: HashSet<HopId>,
    cuts: Vec<ZoneCut>,
}

impl CutRecorder {
    /// The zone cuts seen, in walk order, each zone once.
    pub fn cuts(&self) -> Vec<ZoneCut> {
        self.lock().cuts.clone()
    }

    fn lock(&self) -> MutexGuard<'_, CutState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Observer for CutRecorder {
    fn event(&self, event: Event) {
        let mut state = self.lock();
        match event {
            Event::ResolutionStarted {
                id,
                purpose: Purpose::Client,
                ..
            } => {
                state.client.insert(id);
            }
            Event::QuerySent {
                hop, resolution, ..
            } if state.client.contains(&resolution) => {
                state.client_hops.insert(hop);
            }
            Event::Referral {
                hop, zone, servers, ..
            } if state.client_hops.contains(&hop) => {
                let zone_text = zone.to_string();
                if !state.cuts.iter().any(|c| c.zone == zone_text) {
                    let class = GlueClass::of_referral(&zone, &servers);
                    state.cuts.push(ZoneCut {
                        zone: zone_text,
                        class,
                    });
                }
            }
            _ => {}
        }
    }
}

/// The worst class among `cuts`, `None` when the walk saw no referral.
pub fn worst(cuts: &[ZoneCut]) -> Option<GlueClass> {
    cuts.iter().map(|c| c.class).max()
}

/// Passes every event to two observers.
pub struct Both<'a>(pub &'a dyn Observer, pub &'a dyn Observer);

impl Observer for Both<'_> {
    fn event(&self, event: Event) {
        self.0.event(event.clone());
        self.1.event(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn server(name: &str, glued: bool) -> ReferralServer {
        ReferralServer {
            name: Name::from_str(name).unwrap(),
            glue: if glued {
                vec!["127.0.0.1".parse().unwrap()]
            } else {
                Vec::new()
            },
        }
    }

    #[test]
    fn referral_classes() {
        let zone = Name::from_str("a.tld1.").unwrap();
        let class = |servers: &[ReferralServer]| GlueClass::of_referral(&zone, servers);
        assert_eq!(class(&[server("ns1.a.tld1.", true)]), GlueClass::InDomain);
        assert_eq!(class(&[server("ns1.b.tld1.", true)]), GlueClass::Sibling);
        assert_eq!(
            class(&[server("ns.hosting.tld3.", false)]),
            GlueClass::Glueless
        );
        // Any in-domain glue wins; a glueless extra server costs nothing.
        assert_eq!(
            class(&[server("ns.other.", false), server("ns2.a.tld1.", true)]),
            GlueClass::InDomain
        );
        assert_eq!(class(&[]), GlueClass::Glueless);
    }

    #[test]
    fn worst_class_labels_the_name() {
        let cut = |zone: &str, class| ZoneCut {
            zone: zone.to_string(),
            class,
        };
        let cuts = [
            cut("tld2.", GlueClass::InDomain),
            cut("c.tld2.", GlueClass::Glueless),
        ];
        assert_eq!(worst(&cuts), Some(GlueClass::Glueless));
        assert_eq!(worst(&cuts[..1]), Some(GlueClass::InDomain));
        assert_eq!(worst(&[]), None);
    }
}
