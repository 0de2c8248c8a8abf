//! What a scrubbed reply means for the walk: an answer, a CNAME to follow,
//! a referral one zone down, a negative answer, or a lame server.

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, RecordType};

use super::scrub::{DropReason, Scrubbed};

/// Why a server's reply could not be used for the zone it was asked as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LameReason {
    /// REFUSED, SERVFAIL, FORMERR, NOTIMP or another error RCODE.
    Rcode(ResponseCode),
    /// A referral to a zone not below the one asked (upward or sideways).
    BadReferral {
        /// The zone it referred to.
        to: Name,
    },
    /// No answer, no referral and no sign of authority.
    NotAuthoritative,
}

impl std::fmt::Display for LameReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LameReason::Rcode(rcode) => {
                write!(f, "answered {}", crate::trace::tree::rcode_name(*rcode))
            }
            LameReason::BadReferral { to } => {
                write!(f, "bad referral to {to} (not below the zone asked)")
            }
            LameReason::NotAuthoritative => f.write_str("not authoritative for the zone"),
        }
    }
}

/// The kind of a scrubbed reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseKind {
    /// The final RRset (possibly after CNAMEs inside the zone).
    Answer,
    /// The chain ends at a CNAME whose target this zone cannot answer.
    Cname {
        /// Where to restart.
        target: Name,
    },
    /// A delegation to a zone strictly below the one asked.
    Referral {
        /// The child zone.
        zone: Name,
    },
    /// The name exists but has no data of the type (RFC 2308 §2.2).
    NoData,
    /// The name does not exist (RFC 2308 §2.1).
    NxDomain,
    /// The server is lame for this zone; ask another.
    Lame(LameReason),
}

/// Classifies a scrubbed reply.
pub fn classify(reply: &Scrubbed) -> ResponseKind {
    let authoritative = reply.authoritative() || reply.soa().is_some();
    match reply.rcode() {
        ResponseCode::NoError => {}
        ResponseCode::NXDomain if authoritative => return ResponseKind::NxDomain,
        ResponseCode::NXDomain => return ResponseKind::Lame(LameReason::NotAuthoritative),
        other => return ResponseKind::Lame(LameReason::Rcode(other)),
    }
    if let Some(last) = reply.chain().last() {
        return match &last.data {
            RData::CNAME(target) if reply.qtype() != RecordType::CNAME => ResponseKind::Cname {
                target: target.0.clone(),
            },
            _ => ResponseKind::Answer,
        };
    }
    if let Some(ns) = reply.authority_ns().first()
        && ns.name != *reply.zone()
        && reply.soa().is_none()
    {
        return ResponseKind::Referral {
            zone: ns.name.clone(),
        };
    }
    if authoritative {
        return ResponseKind::NoData;
    }
    let bad_referral = reply.dropped().iter().find(|d| {
        d.record.record_type() == RecordType::NS
            && matches!(
                d.reason,
                DropReason::OutOfBailiwick | DropReason::NotOnQueryPath
            )
    });
    match bad_referral {
        Some(d) => ResponseKind::Lame(LameReason::BadReferral {
            to: d.record.name.clone(),
        }),
        None => ResponseKind::Lame(LameReason::NotAuthoritative),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::scrub::scrub;
    use crate::resolve::scrub::tests::{a, cname, n, ns, reply, soa};

    fn kind(
        zone: &str,
        qname: &str,
        aa: bool,
        rcode: ResponseCode,
        answers: Vec<hickory_proto::rr::Record>,
        auth: Vec<hickory_proto::rr::Record>,
    ) -> ResponseKind {
        let (mut m, q) = reply(qname, aa, answers, auth, vec![]);
        m.metadata.response_code = rcode;
        classify(&scrub(m, &n(zone), &q))
    }

    #[test]
    fn answers_and_cnames() {
        let ok = ResponseCode::NoError;
        let answer = vec![a("www.a.tld1.", "192.0.2.1")];
        assert_eq!(
            kind("a.tld1.", "www.a.tld1.", true, ok, answer, vec![]),
            ResponseKind::Answer
        );
        let out = vec![cname("far.a.tld1.", "www.c.tld2.")];
        assert_eq!(
            kind("a.tld1.", "far.a.tld1.", true, ok, out, vec![]),
            ResponseKind::Cname {
                target: n("www.c.tld2.")
            }
        );
    }

    #[test]
    fn referral_only_strictly_below_the_zone() {
        let ok = ResponseCode::NoError;
        let down = vec![ns("a.tld1.", "ns1.a.tld1.")];
        assert_eq!(
            kind("tld1.", "www.a.tld1.", false, ok, vec![], down),
            ResponseKind::Referral { zone: n("a.tld1.") }
        );
        let same = vec![ns("tld1.", "ns1.nic.tld1.")];
        assert_eq!(
            kind("tld1.", "www.a.tld1.", false, ok, vec![], same),
            ResponseKind::Lame(LameReason::NotAuthoritative)
        );
        let up = vec![ns(".", "a.root.")];
        assert_eq!(
            kind("upward.tld2.", "www.upward.tld2.", false, ok, vec![], up),
            ResponseKind::Lame(LameReason::BadReferral { to: Name::root() })
        );
    }

    #[test]
    fn negative_answers_need_authority() {
        let nx = ResponseCode::NXDomain;
        assert_eq!(
            kind("a.tld1.", "nope.a.tld1.", true, nx, vec![], vec![]),
            ResponseKind::NxDomain
        );
        assert_eq!(
            kind(
                "a.tld1.",
                "nope.a.tld1.",
                false,
                nx,
                vec![],
                vec![soa("a.tld1.")]
            ),
            ResponseKind::NxDomain
        );
        assert_eq!(
            kind("a.tld1.", "nope.a.tld1.", false, nx, vec![], vec![]),
            ResponseKind::Lame(LameReason::NotAuthoritative)
        );
        let ok = ResponseCode::NoError;
        assert_eq!(
            kind(
                "a.tld1.",
                "www.a.tld1.",
                true,
                ok,
                vec![],
                vec![soa("a.tld1.")]
            ),
            ResponseKind::NoData
        );
    }

    #[test]
    fn error_rcodes_make_the_server_lame() {
        for rcode in [
            ResponseCode::Refused,
            ResponseCode::ServFail,
            ResponseCode::FormErr,
        ] {
            assert_eq!(
                kind("a.tld1.", "www.a.tld1.", false, rcode, vec![], vec![]),
                ResponseKind::Lame(LameReason::Rcode(rcode))
            );
        }
    }
}
