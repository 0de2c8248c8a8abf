//! DNSSEC validation as pure functions: no I/O, no clocks, no async. The
//! caller (the resolver) fetches DS, DNSKEY and the answer with its RRSIGs
//! and asks these functions what they prove; `now` is always an argument.
//!
//! # Layout (after Unbound's `validator/`)
//!
//! - [`anchor`]: trust anchors: the IANA root KSKs built in, and files of
//!   DS or DNSKEY lines in the format of Unbound's `trust-anchor-file`.
//! - [`keys`]: DS ↔ DNSKEY matching and the step down one zone cut: a
//!   DNSKEY RRset signed by a DS-matched key becomes [`keys::TrustedKeys`]
//!   (Unbound's `val_verify_DNSKEY_with_DS` in `val_utils.c`).
//! - [`sig`]: one RRset against its RRSIGs with a trusted key set: the
//!   checks of RFC 4035 §5.3.1 hickory leaves to us, then the signature
//!   (Unbound's `val_sigcrypt.c`).
//! - [`memo`]: the signatures that verified, remembered in a bounded memo
//!   so the same bytes are not verified with cryptography again; the only
//!   state here, shared by the resolver's resolutions.
//! - [`nsec`], [`nsec3`]: proofs of non-existence (RFC 4035 §5.4,
//!   RFC 5155 §8) from NSEC and NSEC3 records whose own signatures the
//!   caller has already checked with [`sig::verify_rrset`].
//!
//! # Outcomes
//!
//! Every judgement is a [`Security`] (RFC 4033 §5, RFC 4035 §4.3):
//! secure, insecure (proven unsigned, or signed only with algorithms or
//! digests this validator does not implement, RFC 6840 §5.2), bogus with a
//! [`BogusReason`] that maps to an Extended DNS Error code (RFC 8914), or
//! indeterminate (no trust anchor above the name).
//!
//! # Limits, stated plainly
//!
//! - Algorithms are those of hickory-proto with `ring`: RSASHA1,
//!   RSASHA1-NSEC3-SHA1, RSASHA256, RSASHA512, ECDSAP256SHA256,
//!   ECDSAP384SHA384 and ED25519. ED448, GOST and DSA are unsupported:
//!   zones signed only with them are insecure, never bogus (RFC 8624 §3.1).
//! - DS digests: SHA-1, SHA-256, SHA-384.
//! - Work is bounded against KeyTrap (CVE-2023-50387) and NSEC3 hash
//!   floods (CVE-2023-50868): at most [`MAX_SIG_VERIFICATIONS`] signature
//!   checks per client request ([`SigBudget`]), [`MAX_KEYS_PER_TAG`] keys
//!   tried for one RRSIG or DS, [`MAX_DS_RECORDS`] DS records per zone
//!   cut, [`MAX_RRSIGS_PER_RRSET`] RRSIGs tried for one RRset, NSEC3 iterations above [`MAX_NSEC3_ITERATIONS`] treated as
//!   insecure (RFC 9276 §3.2), and [`MAX_DENIAL_RECORDS`] NSEC or NSEC3
//!   records looked at per proof.
//! - No aggressive use of NSEC (RFC 8198), no RFC 5011 trust-anchor
//!   rollover, no negative trust anchors (RFC 7646), no DLV.
//! - Time is a `u32` of seconds since the epoch compared in serial-number
//!   arithmetic (RFC 4034 §3.1.5, RFC 1982), so it works past 2106.

pub mod anchor;
pub mod keys;
pub mod memo;
pub mod nsec;
pub mod nsec3;
pub mod sig;

use std::fmt;

use hickory_proto::dnssec::rdata::{DNSKEY, DNSSECRData, DS, NSEC, NSEC3, RRSIG};
use hickory_proto::rr::{RData, Record};

/// Signature verifications one client request may spend, across every
/// zone cut and side resolution. A walk through six signed zone cuts needs
/// about twenty (DS, DNSKEY and one answer or denial RRset per cut, a
/// second key now and then); KeyTrap needs thousands. Unbound and BIND
/// bound the same work since CVE-2023-50387.
pub const MAX_SIG_VERIFICATIONS: u32 = 64;

/// DNSKEYs tried for one RRSIG or DS: keys sharing a key tag (and
/// algorithm) are legal but rare (RFC 4034 Appendix B); a zone full of
/// colliding tags is the KeyTrap attack.
pub const MAX_KEYS_PER_TAG: usize = 4;

/// DS records of one delegation looked at. A zone in a KSK rollover
/// publishes two or three (one per digest type and key).
pub const MAX_DS_RECORDS: usize = 8;

/// RRSIGs tried for one RRset. A zone in an algorithm rollover has two or
/// three per RRset; more buy an attacker verifications.
pub const MAX_RRSIGS_PER_RRSET: usize = 8;

/// Highest NSEC3 iteration count validated; above it the proof counts as
/// insecure (RFC 9276 §3.2 allows it for any count above 0). 150 is what
/// Unbound and BIND use since CVE-2023-50868; RFC 9276 asks signers for 0.
pub const MAX_NSEC3_ITERATIONS: u16 = 150;

/// NSEC or NSEC3 records looked at in one denial proof. A proof needs at
/// most three (RFC 5155 §7.2.1: closest encloser, next closer, wildcard).
pub const MAX_DENIAL_RECORDS: usize = 16;

/// What validation concluded about an RRset or a reply (RFC 4035 §4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Security {
    /// A chain of signed DS and DNSKEY RRsets from a trust anchor proves it.
    Secure,
    /// Proven unsigned: no DS at a zone cut (proven by NSEC or NSEC3, or an
    /// NSEC3 opt-out span), only unsupported algorithms or digests
    /// (RFC 6840 §5.2), or NSEC3 iterations above the cap (RFC 9276).
    Insecure,
    /// Should be signed but is not correctly: never to be served.
    Bogus(BogusReason),
    /// No trust anchor covers the name, so nothing can be said.
    Indeterminate,
}

impl Security {
    /// Whether this is [`Security::Secure`].
    pub fn is_secure(&self) -> bool {
        matches!(self, Security::Secure)
    }

    /// Whether this is [`Security::Bogus`].
    pub fn is_bogus(&self) -> bool {
        matches!(self, Security::Bogus(_))
    }
}

impl fmt::Display for Security {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Security::Secure => f.write_str("secure"),
            Security::Insecure => f.write_str("insecure"),
            Security::Bogus(reason) => write!(f, "bogus ({reason})"),
            Security::Indeterminate => f.write_str("indeterminate"),
        }
    }
}

/// Why an answer is bogus. [`BogusReason::ede_code`] gives the Extended
/// DNS Error (RFC 8914 §4) and `Display` a sentence for logs and traces.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BogusReason {
    /// A signature did not verify with the key it names.
    #[error("RRSIG by key {key_tag} does not verify")]
    SignatureInvalid {
        /// The RRSIG's key tag.
        key_tag: u16,
    },
    /// An RRSIG fails a check of RFC 4035 §5.3.1 other than time: signer
    /// name, labels, type covered, owner outside the zone.
    #[error("RRSIG by key {key_tag} is unusable: {problem}")]
    RrsigMismatch {
        /// The RRSIG's key tag.
        key_tag: u16,
        /// Which check failed.
        problem: &'static str,
    },
    /// Every RRSIG's expiration is in the past.
    #[error("RRSIG by key {key_tag} expired {} (now {})", date(*.expiration), date(*.now))]
    SignatureExpired {
        /// The RRSIG's key tag.
        key_tag: u16,
        /// Its expiration (seconds since the epoch, serial arithmetic).
        expiration: u32,
        /// The time validated at.
        now: u32,
    },
    /// Every RRSIG's inception is in the future.
    #[error("RRSIG by key {key_tag} is valid only from {} (now {})", date(*.inception), date(*.now))]
    SignatureNotYetValid {
        /// The RRSIG's key tag.
        key_tag: u16,
        /// Its inception.
        inception: u32,
        /// The time validated at.
        now: u32,
    },
    /// No DNSKEY matches a DS of the parent, or no trusted DNSKEY has the
    /// key tag and algorithm an RRSIG names.
    #[error("DNSKEY missing: {problem}")]
    DnskeyMissing {
        /// Which key was looked for.
        problem: String,
    },
    /// The RRset (or the DNSKEY set, by a DS-matched key) has no RRSIG.
    #[error("RRSIGs missing: {problem}")]
    RrsigsMissing {
        /// What was unsigned.
        problem: String,
    },
    /// The key an RRSIG names does not have the Zone Key bit
    /// (RFC 4034 §2.1.1).
    #[error("DNSKEY {key_tag} lacks the Zone Key bit")]
    NoZoneKeyBit {
        /// The key's tag.
        key_tag: u16,
    },
    /// A negative answer or wildcard expansion lacks the NSEC or NSEC3
    /// records that prove it.
    #[error("denial of existence not proven: {problem}")]
    NsecMissing {
        /// What could not be proven.
        problem: &'static str,
    },
    /// The data failed validation earlier and is kept as bogus for a
    /// while (the resolver's bogus TTL); the first failure's reason was
    /// reported then, and its Extended DNS Error code is kept.
    #[error("failed DNSSEC validation earlier (EDE {ede}); kept as bogus")]
    CachedBogus {
        /// The Extended DNS Error code of the first failure.
        ede: u16,
    },
    /// The request's [`SigBudget`] is spent (KeyTrap defence).
    #[error("signature budget of {limit} verifications spent")]
    BudgetSpent {
        /// The budget it started with.
        limit: u32,
    },
}

impl BogusReason {
    /// The Extended DNS Error code for a SERVFAIL caused by this
    /// (RFC 8914 §4.7–4.13): 6 DNSSEC Bogus, 7 Signature Expired, 8
    /// Signature Not Yet Valid, 9 DNSKEY Missing, 10 RRSIGs Missing, 11 No
    /// Zone Key Bit Set, 12 NSEC Missing.
    pub fn ede_code(&self) -> u16 {
        match self {
            BogusReason::SignatureInvalid { .. }
            | BogusReason::RrsigMismatch { .. }
            | BogusReason::BudgetSpent { .. } => 6,
            BogusReason::CachedBogus { ede } => *ede,
            BogusReason::SignatureExpired { .. } => 7,
            BogusReason::SignatureNotYetValid { .. } => 8,
            BogusReason::DnskeyMissing { .. } => 9,
            BogusReason::RrsigsMissing { .. } => 10,
            BogusReason::NoZoneKeyBit { .. } => 11,
            BogusReason::NsecMissing { .. } => 12,
        }
    }

    /// The reason as a sentence (the same as `Display`).
    pub fn reason(&self) -> String {
        self.to_string()
    }
}

/// Signature verifications left to one client request (KeyTrap,
/// CVE-2023-50387). Pass it `&mut` through every validation the request
/// causes, side resolutions included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigBudget {
    limit: u32,
    left: u32,
}

impl SigBudget {
    /// A budget of `limit` verifications.
    pub fn new(limit: u32) -> Self {
        Self { limit, left: limit }
    }

    /// Verifications left.
    pub fn remaining(&self) -> u32 {
        self.left
    }

    /// Takes one verification; `Err` when none is left.
    pub fn spend(&mut self) -> Result<(), BogusReason> {
        match self.left.checked_sub(1) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => Err(BogusReason::BudgetSpent { limit: self.limit }),
        }
    }
}

impl Default for SigBudget {
    /// [`MAX_SIG_VERIFICATIONS`].
    fn default() -> Self {
        Self::new(MAX_SIG_VERIFICATIONS)
    }
}

/// The RRSIG in `record`, if it is one.
pub fn as_rrsig(record: &Record) -> Option<&RRSIG> {
    match &record.data {
        RData::DNSSEC(DNSSECRData::RRSIG(rrsig)) => Some(rrsig),
        _ => None,
    }
}

/// The type an RRSIG record covers; `None` for any other record.
pub fn covered_type(record: &Record) -> Option<hickory_proto::rr::RecordType> {
    as_rrsig(record).map(|sig| sig.input().type_covered)
}

/// The DNSKEY in `record`, if it is one.
pub fn as_dnskey(record: &Record) -> Option<&DNSKEY> {
    match &record.data {
        RData::DNSSEC(DNSSECRData::DNSKEY(key)) => Some(key),
        _ => None,
    }
}

/// The DS in `record`, if it is one.
pub fn as_ds(record: &Record) -> Option<&DS> {
    match &record.data {
        RData::DNSSEC(DNSSECRData::DS(ds)) => Some(ds),
        _ => None,
    }
}

/// The NSEC in `record`, if it is one.
pub fn as_nsec(record: &Record) -> Option<&NSEC> {
    match &record.data {
        RData::DNSSEC(DNSSECRData::NSEC(nsec)) => Some(nsec),
        _ => None,
    }
}

/// The NSEC3 in `record`, if it is one.
pub fn as_nsec3(record: &Record) -> Option<&NSEC3> {
    match &record.data {
        RData::DNSSEC(DNSSECRData::NSEC3(nsec3)) => Some(nsec3),
        _ => None,
    }
}

/// Whether serial number `a` is before `b` (RFC 1982 §3.2), as RRSIG times
/// are compared (RFC 4034 §3.1.5).
pub fn serial_before(a: u32, b: u32) -> bool {
    a != b && b.wrapping_sub(a) < 0x8000_0000
}

/// `seconds` since the epoch (an RRSIG time) as a UTC date and time to
/// the minute, e.g. `2026-12-20 12:00 UTC`.
pub fn date(seconds: u32) -> String {
    match utc(seconds) {
        Some(at) => format!(
            "{} {:02}:{:02} UTC",
            at.date(),
            at.time().hour(),
            at.time().minute()
        ),
        None => format!("at {seconds}"),
    }
}

/// `seconds` since the epoch as a UTC day, e.g. `2026-12-20`: how a trace
/// shows a signature's validity window.
pub fn day(seconds: u32) -> String {
    match utc(seconds) {
        Some(at) => at.date().to_string(),
        None => format!("at {seconds}"),
    }
}

/// `seconds` since the epoch in the RRSIG presentation format
/// `YYYYMMDDHHmmSS` (RFC 4034 §3.2), as dig prints signature times.
pub fn rrsig_time(seconds: u32) -> String {
    match utc(seconds) {
        Some(at) => format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute(),
            at.second()
        ),
        None => seconds.to_string(),
    }
}

fn utc(seconds: u32) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::from_unix_timestamp(i64::from(seconds)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ede_codes_follow_rfc_8914() {
        let codes: Vec<u16> = [
            BogusReason::SignatureInvalid { key_tag: 1 },
            BogusReason::SignatureExpired {
                key_tag: 1,
                expiration: 1,
                now: 2,
            },
            BogusReason::SignatureNotYetValid {
                key_tag: 1,
                inception: 2,
                now: 1,
            },
            BogusReason::DnskeyMissing {
                problem: String::new(),
            },
            BogusReason::RrsigsMissing {
                problem: String::new(),
            },
            BogusReason::NoZoneKeyBit { key_tag: 1 },
            BogusReason::NsecMissing { problem: "" },
        ]
        .iter()
        .map(BogusReason::ede_code)
        .collect();
        assert_eq!(codes, [6, 7, 8, 9, 10, 11, 12]);
        assert_eq!(BogusReason::BudgetSpent { limit: 1 }.ede_code(), 6);
    }

    #[test]
    fn budget_runs_out() {
        let mut budget = SigBudget::new(2);
        assert!(budget.spend().is_ok());
        assert!(budget.spend().is_ok());
        assert_eq!(budget.remaining(), 0);
        assert_eq!(budget.spend(), Err(BogusReason::BudgetSpent { limit: 2 }));
    }

    #[test]
    fn dates_are_utc() {
        assert_eq!(date(0), "1970-01-01 00:00 UTC");
        assert_eq!(day(0), "1970-01-01");
        // RFC 4035 Appendix B.1: 20040509183619 is 1084127779.
        assert_eq!(date(1_084_127_779), "2004-05-09 18:36 UTC");
        assert_eq!(day(1_084_127_779), "2004-05-09");
        assert_eq!(rrsig_time(1_084_127_779), "20040509183619");
        let expired = BogusReason::SignatureExpired {
            key_tag: 7,
            expiration: 0,
            now: 86_400,
        };
        assert_eq!(
            expired.to_string(),
            "RRSIG by key 7 expired 1970-01-01 00:00 UTC (now 1970-01-02 00:00 UTC)"
        );
    }

    #[test]
    fn serial_arithmetic_wraps() {
        assert!(serial_before(1, 2));
        assert!(!serial_before(2, 1));
        assert!(!serial_before(5, 5));
        assert!(serial_before(u32::MAX - 5, 10), "across the wrap");
        assert!(!serial_before(10, u32::MAX - 5));
    }
}
