//! SOA timer sanity (RFC 1912 §2.2, RFC 2308 §5): the refresh, retry,
//! expire and minimum fields of the apex SOA against the ranges the RFCs
//! recommend. Timers outside them do not break resolution, so what is off
//! is one notice, fixed in the zone file. Pure and unit-tested.

use std::fmt;

use hickory_proto::rr::{RData, Record};

use super::findings::{Code, Finding, Observations, Severity, finding};
use super::probe::ChildView;

/// Shortest refresh RFC 1912 §2.2 recommends (20 minutes): secondaries
/// polling more often load the primary for nothing.
pub const REFRESH_MIN: u32 = 1200;
/// Longest refresh RFC 1912 §2.2 recommends (12 hours): secondaries
/// without NOTIFY lag that long behind a change.
pub const REFRESH_MAX: u32 = 43200;
/// Shortest expire worth having (1 week): below it an outage of the
/// primary over a long weekend takes every secondary down with it. RFC
/// 1912 §2.2 recommends 2–4 weeks ([`EXPIRE_RECOMMENDED_MIN`]..).
pub const EXPIRE_MIN: u32 = 604_800;
/// Start of the expire range RFC 1912 §2.2 recommends (2 weeks).
pub const EXPIRE_RECOMMENDED_MIN: u32 = 1_209_600;
/// End of the expire range RFC 1912 §2.2 recommends (4 weeks).
pub const EXPIRE_RECOMMENDED_MAX: u32 = 2_419_200;
/// Shortest negative-caching TTL (the SOA minimum field, RFC 2308 §4)
/// worth having (5 minutes): below it every resolver asks again for
/// names that do not exist.
pub const MINIMUM_MIN: u32 = 300;
/// Longest negative-caching TTL worth having (1 day, RFC 2308 §5): a name
/// added to the zone stays "nonexistent" that long in caches.
pub const MINIMUM_MAX: u32 = 86400;

/// The timers of one apex SOA, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SoaTimers {
    /// How often secondaries check the serial.
    pub refresh: u32,
    /// How soon a secondary retries after a failed refresh.
    pub retry: u32,
    /// How long a secondary serves the zone without reaching the primary.
    pub expire: u32,
    /// The negative-caching TTL (RFC 2308 §4).
    pub minimum: u32,
}

impl SoaTimers {
    /// The timers of `record`, when it is an SOA.
    pub fn of(record: &Record) -> Option<Self> {
        match &record.data {
            RData::SOA(soa) => Some(Self {
                refresh: soa.refresh.max(0).unsigned_abs(),
                retry: soa.retry.max(0).unsigned_abs(),
                expire: soa.expire.max(0).unsigned_abs(),
                minimum: soa.minimum,
            }),
            _ => None,
        }
    }

    /// What is off, one phrase each (empty when the timers are sane).
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !(REFRESH_MIN..=REFRESH_MAX).contains(&self.refresh) {
            out.push(format!(
                "refresh {} is outside {REFRESH_MIN}..{REFRESH_MAX}",
                self.refresh
            ));
        }
        if self.retry >= self.refresh {
            out.push(format!(
                "retry {} is not below refresh {}",
                self.retry, self.refresh
            ));
        }
        if self.expire < EXPIRE_MIN {
            out.push(format!(
                "expire {} is below a week ({EXPIRE_MIN}; {EXPIRE_RECOMMENDED_MIN}..{EXPIRE_RECOMMENDED_MAX} recommended)",
                self.expire
            ));
        } else if self.expire > EXPIRE_RECOMMENDED_MAX {
            out.push(format!(
                "expire {} is above 4 weeks ({EXPIRE_RECOMMENDED_MAX})",
                self.expire
            ));
        }
        if self.expire < self.refresh.saturating_add(self.retry) {
            out.push(format!(
                "expire {} is below refresh + retry ({})",
                self.expire,
                self.refresh.saturating_add(self.retry)
            ));
        }
        if !(MINIMUM_MIN..=MINIMUM_MAX).contains(&self.minimum) {
            out.push(format!(
                "minimum (negative TTL) {} is outside {MINIMUM_MIN}..{MINIMUM_MAX}",
                self.minimum
            ));
        }
        out
    }
}

impl fmt::Display for SoaTimers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "refresh {} retry {} expire {} minimum {}",
            self.refresh, self.retry, self.expire, self.minimum
        )
    }
}

/// One `soa-timers` notice when the newest SOA the zone's servers serve
/// (highest serial) has timers outside the recommended ranges.
pub fn soa_findings(obs: &Observations, out: &mut Vec<Finding>) {
    let newest = obs
        .child_views
        .iter()
        .filter_map(|(_, view)| match view {
            ChildView::Serving { serial, timers, .. } => Some((*serial, *timers)),
            _ => None,
        })
        .max();
    let Some((serial, timers)) = newest else {
        return;
    };
    let problems = timers.problems();
    if problems.is_empty() {
        return;
    }
    out.push(finding(
        Severity::Notice,
        Code::SoaTimers,
        format!(
            "SOA timers of serial {serial} ({timers}): {}",
            problems.join("; ")
        ),
        Vec::new(),
        Some("RFC 1912 §2.2"),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timers(refresh: u32, retry: u32, expire: u32, minimum: u32) -> SoaTimers {
        SoaTimers {
            refresh,
            retry,
            expire,
            minimum,
        }
    }

    #[test]
    fn recommended_timers_are_sane() {
        assert!(timers(7200, 3600, 1_209_600, 3600).problems().is_empty());
        assert!(
            timers(REFRESH_MIN, 600, EXPIRE_MIN, MINIMUM_MIN)
                .problems()
                .is_empty()
        );
        assert!(
            timers(REFRESH_MAX, 7200, EXPIRE_RECOMMENDED_MAX, MINIMUM_MAX)
                .problems()
                .is_empty()
        );
    }

    #[test]
    fn the_lab_timers_expire_too_soon() {
        let problems = timers(3600, 600, 86400, 300).problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("expire 86400 is below a week"));
    }

    #[test]
    fn each_rule_names_its_value() {
        let off = |t: SoaTimers| t.problems().join("; ");
        assert!(off(timers(300, 200, 1_209_600, 3600)).contains("refresh 300 is outside"));
        assert!(off(timers(86400 * 2, 600, 1_209_600, 3600)).contains("refresh 172800"));
        assert!(off(timers(3600, 3600, 1_209_600, 3600)).contains("retry 3600 is not below"));
        assert!(off(timers(3600, 600, 3_000_000, 3600)).contains("above 4 weeks"));
        assert!(off(timers(3600, 600, 1_209_600, 60)).contains("minimum (negative TTL) 60"));
        assert!(off(timers(3600, 600, 1_209_600, 172_800)).contains("172800 is outside"));
        // Expire must outlast a refresh and a retry even when both are
        // out of range themselves.
        assert!(off(timers(43200 * 20, 600, 604_800, 3600)).contains("below refresh + retry"));
    }
}
