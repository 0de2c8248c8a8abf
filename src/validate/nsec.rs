//! Denial of existence with NSEC (RFC 4035 §5.4, RFC 4034 §4): NXDOMAIN,
//! NODATA (empty non-terminals and wildcard NODATA included), wildcard
//! answers (§5.3.4) and delegations without DS (§5.2). The NSEC records
//! given must already have been validated ([`super::sig::verify_rrset`])
//! with the keys of `zone`; these functions only reason about names.
//!
//! Names are compared in canonical order (RFC 4034 §6.1), which is
//! hickory's `Ord` for `Name`. NSEC records at a delegation (NS without
//! SOA) or at a DNAME prove nothing about names below them (RFC 6840 §4.1).
//! Limits: at most [`MAX_DENIAL_RECORDS`] NSEC records are looked at; no
//! aggressive negative caching (RFC 8198).

use hickory_proto::dnssec::rdata::NSEC;
use hickory_proto::rr::{Name, Record, RecordType};

use super::{BogusReason, MAX_DENIAL_RECORDS, Security, as_nsec};

/// Whether the NSEC span `owner`..`next` covers `name`: `name` sorts
/// strictly between them, or after `owner` in the zone's last NSEC (whose
/// `next` is the apex, RFC 4034 §4.1.1).
pub fn covers(owner: &Name, next: &Name, name: &Name) -> bool {
    if owner < next {
        owner < name && name < next
    } else {
        owner < name || name < next
    }
}

/// The longest common ancestor of `a` and `b`.
pub fn common_ancestor(a: &Name, b: &Name) -> Name {
    let max = a.num_labels().min(b.num_labels());
    (0..=max)
        .rev()
        .map(|labels| a.trim_to(usize::from(labels)))
        .find(|candidate| candidate.zone_of(b))
        .unwrap_or_else(Name::root)
}

/// The usable NSEC records of `zone` among `records`.
fn usable<'a>(zone: &Name, records: &'a [Record]) -> Vec<(&'a Name, &'a NSEC)> {
    records
        .iter()
        .filter(|r| zone.zone_of(&r.name))
        .filter_map(|r| as_nsec(r).map(|n| (&r.name, n)))
        .take(MAX_DENIAL_RECORDS)
        .collect()
}

/// Whether `nsec` at `owner`, an ancestor of `name`, is at a zone cut or
/// DNAME and so cannot speak for `name` (RFC 6840 §4.1).
fn ancestor_cut(owner: &Name, nsec: &NSEC, name: &Name) -> bool {
    let types = nsec.type_set();
    owner != name
        && owner.zone_of(name)
        && (types.contains(RecordType::DNAME)
            || (types.contains(RecordType::NS) && !types.contains(RecordType::SOA)))
}

/// The NSEC that covers `name` (not one that matches it), usable for it.
fn covering<'a>(nsecs: &[(&'a Name, &'a NSEC)], name: &Name) -> Option<(&'a Name, &'a NSEC)> {
    nsecs.iter().copied().find(|(owner, nsec)| {
        covers(owner, nsec.next_domain_name(), name) && !ancestor_cut(owner, nsec, name)
    })
}

/// The NSEC owned by `name`.
fn matching<'a>(nsecs: &[(&'a Name, &'a NSEC)], name: &Name) -> Option<&'a NSEC> {
    nsecs
        .iter()
        .find(|(owner, _)| *owner == name)
        .map(|(_, nsec)| *nsec)
}

/// The closest encloser a covering NSEC shows for `name`: the longer of
/// the common ancestors of `name` with the NSEC's owner and next name.
fn closest_encloser(owner: &Name, nsec: &NSEC, name: &Name) -> Name {
    let a = common_ancestor(owner, name);
    let b = common_ancestor(nsec.next_domain_name(), name);
    if a.num_labels() >= b.num_labels() {
        a
    } else {
        b
    }
}

fn missing(problem: &'static str) -> Security {
    Security::Bogus(BogusReason::NsecMissing { problem })
}

/// Proves that `qname` does not exist in `zone` (RFC 4035 §5.4): an NSEC
/// covers `qname`, and one covers the wildcard at its closest encloser.
pub fn prove_nxdomain(qname: &Name, zone: &Name, records: &[Record]) -> Security {
    let nsecs = usable(zone, records);
    let Some((owner, nsec)) = covering(&nsecs, qname) else {
        return missing("no NSEC covers the name");
    };
    let encloser = closest_encloser(owner, nsec, qname);
    let Ok(wildcard) = encloser.prepend_label("*") else {
        return missing("no wildcard name at the closest encloser");
    };
    if covering(&nsecs, &wildcard).is_none() {
        return missing("no NSEC covers the wildcard at the closest encloser");
    }
    Security::Secure
}

/// Whether an NSEC bitmap at a name proves it has no `qtype` data.
fn lacks(nsec: &NSEC, qtype: RecordType) -> bool {
    let types = nsec.type_set();
    let at_cut = types.contains(RecordType::NS) && !types.contains(RecordType::SOA);
    if qtype == RecordType::DS {
        // The parent side's NSEC; the child apex's (with SOA) says nothing
        // about DS (RFC 4035 §5.4 bullet 5).
        return !types.contains(RecordType::DS) && !types.contains(RecordType::SOA);
    }
    !types.contains(qtype) && !types.contains(RecordType::CNAME) && !at_cut
}

/// Proves that `qname` exists in `zone` without `qtype` data (RFC 4035
/// §5.4): an NSEC at `qname` without the type (nor CNAME); for an empty
/// non-terminal, an NSEC covering it whose next name is below it; for a
/// wildcard NODATA, an NSEC covering `qname` and one at the wildcard
/// without the type.
pub fn prove_nodata(qname: &Name, qtype: RecordType, zone: &Name, records: &[Record]) -> Security {
    let nsecs = usable(zone, records);
    if let Some(nsec) = matching(&nsecs, qname) {
        return if lacks(nsec, qtype) {
            Security::Secure
        } else {
            missing("the NSEC at the name lists the type")
        };
    }
    let Some((owner, nsec)) = covering(&nsecs, qname) else {
        return missing("no NSEC at or covering the name");
    };
    let next = nsec.next_domain_name();
    if qname.zone_of(next) && next != qname {
        return Security::Secure; // empty non-terminal
    }
    let encloser = closest_encloser(owner, nsec, qname);
    let Ok(wildcard) = encloser.prepend_label("*") else {
        return missing("no wildcard name at the closest encloser");
    };
    match matching(&nsecs, &wildcard) {
        Some(at_wildcard) if lacks(at_wildcard, qtype) => Security::Secure,
        Some(_) => missing("the NSEC at the wildcard lists the type"),
        None => missing("no NSEC at the wildcard"),
    }
}

/// Proves that the delegation `cut` in `zone` has no DS: the parent's NSEC
/// at `cut` with NS and without DS and SOA (RFC 4035 §5.2). `Secure`
/// means the absence is proven, so the child zone is insecure.
pub fn prove_no_ds(cut: &Name, zone: &Name, records: &[Record]) -> Security {
    let nsecs = usable(zone, records);
    match matching(&nsecs, cut) {
        Some(nsec) if nsec.type_set().contains(RecordType::NS) && lacks(nsec, RecordType::DS) => {
            Security::Secure
        }
        Some(_) => missing("the NSEC at the delegation lists DS or is not a delegation"),
        None => prove_nxdomain(cut, zone, records),
    }
}

/// Proves that a wildcard answer for `qname` (expanded from `wildcard`,
/// see [`super::sig::Verified::wildcard`]) was right to expand: no closer
/// name exists, so an NSEC covers `qname` (RFC 4035 §5.3.4).
pub fn prove_wildcard(qname: &Name, wildcard: &Name, zone: &Name, records: &[Record]) -> Security {
    let nsecs = usable(zone, records);
    let Some((owner, nsec)) = covering(&nsecs, qname) else {
        return missing("no NSEC covers the name a wildcard answered");
    };
    let encloser = closest_encloser(owner, nsec, qname);
    if encloser.num_labels() > wildcard.num_labels() {
        return missing("a name closer than the wildcard exists");
    }
    Security::Secure
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use hickory_proto::dnssec::rdata::DNSSECRData;
    use hickory_proto::rr::RData;

    use super::*;

    fn name(s: &str) -> Name {
        Name::from_str(s).unwrap()
    }

    /// The NSEC chain of RFC 4035 Appendix A's `example.` zone.
    fn chain() -> Vec<Record> {
        use RecordType::*;
        let rows: [(&str, &str, &[RecordType]); 10] = [
            (
                "example.",
                "a.example.",
                &[NS, SOA, MX, RRSIG, NSEC, DNSKEY],
            ),
            ("a.example.", "ai.example.", &[NS, DS, RRSIG, NSEC]),
            ("ai.example.", "b.example.", &[A, HINFO, AAAA, RRSIG, NSEC]),
            ("b.example.", "ns1.example.", &[NS, RRSIG, NSEC]),
            ("ns1.example.", "ns2.example.", &[A, RRSIG, NSEC]),
            ("ns2.example.", "*.w.example.", &[A, RRSIG, NSEC]),
            ("*.w.example.", "x.w.example.", &[MX, RRSIG, NSEC]),
            ("x.w.example.", "x.y.w.example.", &[MX, RRSIG, NSEC]),
            ("x.y.w.example.", "xx.example.", &[MX, RRSIG, NSEC]),
            ("xx.example.", "example.", &[A, HINFO, AAAA, RRSIG, NSEC]),
        ];
        rows.iter()
            .map(|(owner, next, types)| {
                let nsec =
                    hickory_proto::dnssec::rdata::NSEC::new(name(next), types.iter().copied());
                Record::from_rdata(name(owner), 3600, RData::DNSSEC(DNSSECRData::NSEC(nsec)))
            })
            .collect()
    }

    fn only(owners: &[&str]) -> Vec<Record> {
        chain()
            .into_iter()
            .filter(|r| owners.iter().any(|o| r.name == name(o)))
            .collect()
    }

    #[test]
    fn canonical_order_and_cover() {
        // RFC 4034 §6.1's example order.
        let ordered = [
            "example.",
            "a.example.",
            "yljkjljk.a.example.",
            "Z.a.example.",
            "zABC.a.EXAMPLE.",
            "z.example.",
            "*.z.example.",
            "a.z.example.",
        ];
        for pair in ordered.windows(2) {
            assert!(name(pair[0]) < name(pair[1]), "{} < {}", pair[0], pair[1]);
        }
        assert!(covers(
            &name("b.example."),
            &name("ns1.example."),
            &name("ml.example.")
        ));
        assert!(!covers(
            &name("b.example."),
            &name("ns1.example."),
            &name("b.example.")
        ));
        // The last NSEC wraps to the apex.
        assert!(covers(
            &name("xx.example."),
            &name("example."),
            &name("zz.example.")
        ));
        assert!(!covers(
            &name("xx.example."),
            &name("example."),
            &name("a.example.")
        ));
    }

    #[test]
    fn rfc4035_b2_name_error() {
        let proof = only(&["b.example.", "example."]);
        assert_eq!(
            prove_nxdomain(&name("ml.example."), &name("example."), &proof),
            Security::Secure
        );
        // Without the wildcard proof it is bogus (EDE 12).
        let half = only(&["b.example."]);
        let Security::Bogus(reason) =
            prove_nxdomain(&name("ml.example."), &name("example."), &half)
        else {
            panic!("half a proof proved it");
        };
        assert_eq!(reason.ede_code(), 12);
    }

    #[test]
    fn rfc4035_b3_no_data_and_ent() {
        let proof = only(&["ns1.example."]);
        let zone = name("example.");
        assert!(prove_nodata(&name("ns1.example."), RecordType::MX, &zone, &proof).is_secure());
        assert!(prove_nodata(&name("ns1.example."), RecordType::A, &zone, &proof).is_bogus());
        // y.w.example is an empty non-terminal: x.w.example's NSEC covers it
        // and its next name lies below it.
        let ent = only(&["x.w.example."]);
        assert!(prove_nodata(&name("y.w.example."), RecordType::A, &zone, &ent).is_secure());
    }

    #[test]
    fn rfc4035_b5_unsigned_delegation_and_cut_nsec() {
        let zone = name("example.");
        let proof = only(&["b.example."]);
        assert!(prove_no_ds(&name("b.example."), &zone, &proof).is_secure());
        let signed = only(&["a.example."]);
        assert!(prove_no_ds(&name("a.example."), &zone, &signed).is_bogus());
        // The parent's NSEC at the cut says nothing about names below it
        // nor about other types at it (RFC 6840 §4.1).
        assert!(prove_nxdomain(&name("c.b.example."), &zone, &chain()).is_bogus());
        assert!(prove_nodata(&name("b.example."), RecordType::A, &zone, &proof).is_bogus());
    }

    #[test]
    fn rfc4035_b6_b7_wildcards() {
        let zone = name("example.");
        let proof = only(&["x.y.w.example."]);
        let qname = name("a.z.w.example.");
        assert!(prove_wildcard(&qname, &name("*.w.example."), &zone, &proof).is_secure());
        assert!(prove_wildcard(&qname, &name("*.w.example."), &zone, &[]).is_bogus());
        let nodata = only(&["x.y.w.example.", "*.w.example."]);
        assert!(prove_nodata(&qname, RecordType::AAAA, &zone, &nodata).is_secure());
        assert!(prove_nodata(&qname, RecordType::MX, &zone, &nodata).is_bogus());
    }
}
