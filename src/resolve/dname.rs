//! DNAME (RFC 6672): reading the record and the substitution it stands for.
//!
//! A DNAME at `old.example.` with target `new.example.` redirects every
//! name *below* its owner (not the owner itself, RFC 6672 §2.3):
//! `www.old.example.` becomes `www.new.example.`. A server answers with the
//! DNAME and a CNAME it synthesised for the question name (§3.1); the
//! scrubber checks that CNAME against the substitution (or makes it when
//! it is missing) and the cache keeps the DNAME, from which later answers
//! synthesise the CNAME again (§3.4).
//!
//! hickory 0.26 has no typed DNAME RDATA: a DNAME arrives as
//! `RData::Unknown` of type 39 holding the target name, uncompressed on
//! the wire (RFC 6672 §2.5).

use hickory_proto::rr::rdata::{CNAME, NULL};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder};

/// The target of a DNAME record; `None` for any other record, or when its
/// RDATA is not exactly one name.
pub fn target(record: &Record) -> Option<Name> {
    match &record.data {
        RData::Unknown { code, rdata } if *code == RecordType::DNAME => {
            let mut decoder = BinDecoder::new(&rdata.anything);
            let name = Name::read(&mut decoder).ok()?;
            decoder.is_empty().then_some(name)
        }
        _ => None,
    }
}

/// `name` with its ancestor `owner` replaced by `target` (RFC 6672 §2.2);
/// `None` unless `owner` is a proper ancestor of `name`, or when the
/// result would be longer than a name may be (the server's YXDOMAIN case,
/// §2.2).
pub fn substitute(name: &Name, owner: &Name, target: &Name) -> Option<Name> {
    if !owner.zone_of(name) || owner.num_labels() >= name.num_labels() {
        return None;
    }
    let keep = usize::from(name.num_labels() - owner.num_labels());
    let prefix: Vec<&[u8]> = name.iter().take(keep).collect();
    Name::from_labels(prefix).ok()?.append_domain(target).ok()
}

/// The CNAME that `dname` synthesises for `name` (RFC 6672 §3.1: owner
/// `name`, TTL of the DNAME), and its target; `None` when `dname` does not
/// apply to `name`.
pub fn synthesise(dname: &Record, name: &Name) -> Option<(Record, Name)> {
    let to = substitute(name, &dname.name, &target(dname)?)?;
    let mut cname = Record::from_rdata(name.clone(), dname.ttl, RData::CNAME(CNAME(to.clone())));
    cname.dns_class = dname.dns_class;
    Some((cname, to))
}

/// A DNAME record (for tests and fake servers): `owner` redirected to
/// `target`, as it comes off the wire.
pub fn record(owner: Name, ttl: u32, target: &Name) -> Option<Record> {
    let mut wire = Vec::new();
    let mut encoder = hickory_proto::serialize::binary::BinEncoder::new(&mut wire);
    // RFC 6672 §2.5: never compressed.
    encoder.set_canonical_form(true);
    hickory_proto::serialize::binary::BinEncodable::emit(target, &mut encoder).ok()?;
    let data = RData::Unknown {
        code: RecordType::DNAME,
        rdata: NULL::with(wire),
    };
    Some(Record::from_rdata(owner, ttl, data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn n(s: &str) -> Name {
        Name::from_str(s).unwrap()
    }

    #[test]
    fn substitution_replaces_the_owner_suffix_only_below_it() {
        let (old, new) = (n("old.example."), n("new.example.net."));
        assert_eq!(
            substitute(&n("a.b.old.example."), &old, &new),
            Some(n("a.b.new.example.net."))
        );
        assert_eq!(substitute(&old, &old, &new), None, "not the owner itself");
        assert_eq!(substitute(&n("www.other.example."), &old, &new), None);
        let labels = |c: &str| vec![c.repeat(60); 3].join(".");
        let long = Name::from_ascii(format!("{}.old.example.", labels("x"))).unwrap();
        let longer = Name::from_ascii(format!("{}.", labels("y"))).unwrap();
        assert_eq!(substitute(&long, &old, &longer), None, "over 255 octets");
    }

    #[test]
    fn a_record_round_trips_and_synthesises_its_cname() {
        let dname = record(n("old.example."), 300, &n("new.example.")).unwrap();
        assert_eq!(dname.record_type(), RecordType::DNAME);
        assert_eq!(target(&dname), Some(n("new.example.")));
        let (cname, to) = synthesise(&dname, &n("www.old.example.")).unwrap();
        assert_eq!(to, n("www.new.example."));
        assert_eq!(
            (cname.name.clone(), cname.ttl),
            (n("www.old.example."), 300)
        );
        assert_eq!(cname.data, RData::CNAME(CNAME(n("www.new.example."))));
        assert!(synthesise(&dname, &n("old.example.")).is_none());

        let junk = Record::from_rdata(
            n("old.example."),
            300,
            RData::Unknown {
                code: RecordType::DNAME,
                rdata: NULL::with(vec![3, b'n', b'e', b'w', 0, 7]),
            },
        );
        assert_eq!(target(&junk), None, "trailing bytes");
    }
}
