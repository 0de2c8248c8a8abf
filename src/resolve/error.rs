//! Why a resolution failed. A referral, NODATA or NXDOMAIN is never an
//! error; an `Err` means the work itself could not be done (the client gets
//! SERVFAIL).

/// Why a resolution failed (answered SERVFAIL). A negative answer is not a
/// failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// The per-request upstream query budget is spent.
    #[error("upstream query budget of {0} spent")]
    QueryBudget(u32),
    /// Too many referrals in one walk.
    #[error("more than {0} referrals")]
    TooManyReferrals(u32),
    /// The CNAME chain is too long.
    #[error("CNAME chain longer than {0}")]
    CnameChainTooLong(u32),
    /// The CNAME chain comes back to a name already on it.
    #[error("CNAME loop at {0}")]
    CnameLoop(hickory_proto::rr::Name),
    /// Side resolutions nested too deep.
    #[error("side resolutions nested deeper than {0}")]
    TargetDepth(u32),
    /// A side resolution needs the answer of a resolution up its own chain
    /// (a glueless cycle, TsuNAME).
    #[error("dependency cycle: resolving {0} needs {0} itself")]
    Cycle(hickory_proto::rr::Name),
    /// Every server of the zone failed, and no glueless name could be
    /// resolved to a new one.
    #[error("no server of {zone} gave a usable answer")]
    NoUsableServer {
        /// The zone.
        zone: hickory_proto::rr::Name,
    },
    /// The request took longer than the request timeout.
    #[error("gave up after {0:?}")]
    Timeout(std::time::Duration),
    /// The same question failed moments ago (RFC 9520 §3.2).
    #[error("failed recently; not retried yet (RFC 9520)")]
    RecentFailure,
    /// DNSSEC validation found the answer bogus (RFC 4035 §4.3): it should
    /// be signed and is not correctly, so it is never served.
    #[error("DNSSEC bogus: {0}")]
    Bogus(crate::validate::BogusReason),
}
