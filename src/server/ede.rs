//! Extended DNS Errors (RFC 8914): the code and text a SERVFAIL carries so
//! the client learns why, not only that, its question failed, and the
//! notice a stale answer carries (RFC 8767 §6).
//!
//! hickory-proto 0.26 has no EDE type, so the option is encoded here as an
//! `EdnsOption::Unknown(15, ..)`: a 16-bit INFO-CODE followed by UTF-8
//! EXTRA-TEXT (RFC 8914 §2).

use hickory_proto::rr::rdata::opt::EdnsOption;

use crate::resolve::ResolveError;

/// The EDNS option code of an Extended DNS Error (RFC 8914 §2).
pub const OPTION_CODE: u16 = 15;

/// Longest EXTRA-TEXT sent: the reason in a sentence, never enough to push
/// a SERVFAIL past the 512-byte datagram of a client without EDNS.
pub const MAX_TEXT: usize = 200;

/// INFO-CODE 0, Other: the text says why (RFC 8914 §4.1).
pub const OTHER: u16 = 0;
/// INFO-CODE 3, Stale Answer: expired data, served because the zone's
/// servers could not be reached in time (RFC 8914 §4.4, RFC 8767).
pub const STALE_ANSWER: u16 = 3;
/// INFO-CODE 19, Stale NXDOMAIN Answer: an expired NXDOMAIN, served as a
/// stale answer is (RFC 8914 §4.20).
pub const STALE_NXDOMAIN_ANSWER: u16 = 19;
/// INFO-CODE 13, Cached Error: the question failed moments ago and the
/// failure is remembered (RFC 8914 §4.14, RFC 9520).
pub const CACHED_ERROR: u16 = 13;
/// INFO-CODE 22, No Reachable Authority (RFC 8914 §4.23).
pub const NO_REACHABLE_AUTHORITY: u16 = 22;
/// INFO-CODE 23, Network Error (RFC 8914 §4.24).
pub const NETWORK_ERROR: u16 = 23;

/// One Extended DNS Error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ede {
    /// The INFO-CODE.
    pub code: u16,
    /// The EXTRA-TEXT, for people.
    pub text: String,
}

impl Ede {
    /// An error with `code` and `text` (cut to [`MAX_TEXT`] bytes at a
    /// character boundary).
    pub fn new(code: u16, text: impl Into<String>) -> Self {
        let mut text = text.into();
        if text.len() > MAX_TEXT {
            let mut end = MAX_TEXT;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
        }
        Self { code, text }
    }

    /// Why a resolution failed, as an Extended DNS Error.
    pub fn for_error(error: &ResolveError) -> Self {
        let code = match error {
            ResolveError::NoUsableServer { .. } | ResolveError::Timeout(_) => {
                NO_REACHABLE_AUTHORITY
            }
            ResolveError::RecentFailure => CACHED_ERROR,
            ResolveError::QueryBudget(_)
            | ResolveError::TooManyReferrals(_)
            | ResolveError::CnameChainTooLong(_)
            | ResolveError::CnameLoop(_)
            | ResolveError::TargetDepth(_)
            | ResolveError::Cycle(_) => OTHER,
            // RFC 8914 §4: 6 DNSSEC Bogus, 7 Signature Expired, 9 DNSKEY
            // Missing, ... as the validator names them.
            ResolveError::Bogus(reason) => reason.ede_code(),
        };
        Self::new(code, error.to_string())
    }

    /// The EDNS option carrying it.
    pub fn option(&self) -> EdnsOption {
        let mut data = Vec::with_capacity(2 + self.text.len());
        data.extend_from_slice(&self.code.to_be_bytes());
        data.extend_from_slice(self.text.as_bytes());
        EdnsOption::Unknown(OPTION_CODE, data)
    }

    /// The Extended DNS Error in `option`, if it is one.
    pub fn from_option(option: &EdnsOption) -> Option<Self> {
        match option {
            EdnsOption::Unknown(OPTION_CODE, data) if data.len() >= 2 => Some(Self {
                code: u16::from_be_bytes([data[0], data[1]]),
                text: String::from_utf8_lossy(&data[2..]).into_owned(),
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_cuts_long_text() {
        let ede = Ede::for_error(&ResolveError::RecentFailure);
        assert_eq!(ede.code, CACHED_ERROR);
        assert_eq!(Ede::from_option(&ede.option()), Some(ede));
        let long = Ede::new(OTHER, "é".repeat(300));
        assert!(long.text.len() <= MAX_TEXT);
    }
}
