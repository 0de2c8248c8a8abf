//! What the daemon may change while it runs (SIGHUP): who may ask and
//! what it answers itself, in a [`SwapCell`] ([`PolicyCell`]).

use super::acl::Acl;
use super::local::LocalZones;
use super::swap::SwapCell;

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

/// The policy in force, swapped whole on reload. Its generation (see
/// [`SwapCell::generation`]) also dates the UDP threads' reply copies: a
/// reload (new local zones or routes) throws away every copy made under
/// an older policy.
pub type PolicyCell = SwapCell<Policy>;
