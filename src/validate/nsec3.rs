//! Denial of existence with NSEC3 (RFC 5155 §8): the closest encloser
//! proof (§8.3), NXDOMAIN (§8.4), NODATA (§8.5–8.7), wildcard answers
//! (§8.8) and delegations without DS, with opt-out (§8.6, RFC 6840 §4.1).
//! The NSEC3 records given must already have been validated with the keys
//! of `zone`; these functions hash names and compare hashes.
//!
//! Limits, stated plainly:
//! - Iterations above [`MAX_NSEC3_ITERATIONS`] make every proof
//!   [`Security::Insecure`] without hashing anything (RFC 9276 §3.2).
//! - One parameter set per proof: the hash, salt and iterations of the
//!   first usable record; records with other parameters are ignored, so an
//!   attacker cannot multiply the hashing work (CVE-2023-50868).
//! - At most [`MAX_DENIAL_RECORDS`] records are looked at, and the
//!   closest-encloser search hashes at most one name per label of the
//!   query name (a name has at most 127 labels).
//! - Only hash algorithm 1 (SHA-1) exists; records with unknown flags
//!   other than opt-out are used as if the flag were clear.

use hickory_proto::dnssec::Nsec3HashAlgorithm;
use hickory_proto::dnssec::rdata::NSEC3;
use hickory_proto::rr::{Name, Record, RecordType};

use super::{BogusReason, MAX_DENIAL_RECORDS, MAX_NSEC3_ITERATIONS, Security, as_nsec3};

/// The NSEC3 hash of `name` (RFC 5155 §5): SHA-1 iterated `iterations`
/// extra times over the canonical wire form with `salt`.
pub fn hash(name: &Name, salt: &[u8], iterations: u16) -> Option<Vec<u8>> {
    Nsec3HashAlgorithm::SHA1
        .hash(salt, &name.to_lowercase(), iterations)
        .ok()
        .map(|digest| digest.as_ref().to_vec())
}

/// A hash as an owner label: lowercase base32hex without padding
/// (RFC 5155 §3.3, RFC 4648 §7).
pub fn to_label(hash: &[u8]) -> String {
    data_encoding::BASE32_DNSSEC.encode(hash)
}

/// The hash in an NSEC3 owner name's first label; `None` if it is not
/// base32hex.
pub fn owner_hash(owner: &Name) -> Option<Vec<u8>> {
    let label = owner.iter().next()?;
    let text = std::str::from_utf8(label).ok()?.to_ascii_lowercase();
    data_encoding::BASE32_DNSSEC.decode(text.as_bytes()).ok()
}

/// The usable NSEC3 records of one zone with one parameter set.
struct Chain<'a> {
    salt: &'a [u8],
    iterations: u16,
    /// (owner hash, record).
    entries: Vec<(Vec<u8>, &'a NSEC3)>,
}

/// What a set of records allows.
enum Usable<'a> {
    Chain(Chain<'a>),
    /// Iterations above the cap: insecure (RFC 9276 §3.2).
    TooCostly,
    Nothing,
}

fn usable<'a>(zone: &Name, records: &'a [Record]) -> Usable<'a> {
    let candidates: Vec<(&Name, &NSEC3)> = records
        .iter()
        .filter(|r| r.name.num_labels() == zone.num_labels() + 1 && zone.zone_of(&r.name))
        .filter_map(|r| as_nsec3(r).map(|n| (&r.name, n)))
        .filter(|(_, n)| n.hash_algorithm() == Nsec3HashAlgorithm::SHA1)
        .take(MAX_DENIAL_RECORDS)
        .collect();
    let Some((_, first)) = candidates.first() else {
        return Usable::Nothing;
    };
    if candidates
        .iter()
        .any(|(_, n)| n.iterations() > MAX_NSEC3_ITERATIONS)
    {
        return Usable::TooCostly;
    }
    let (salt, iterations) = (first.salt(), first.iterations());
    let entries = candidates
        .into_iter()
        .filter(|(_, n)| n.salt() == salt && n.iterations() == iterations)
        .filter_map(|(owner, n)| owner_hash(owner).map(|h| (h, n)))
        .collect();
    Usable::Chain(Chain {
        salt,
        iterations,
        entries,
    })
}

impl Chain<'_> {
    fn hash(&self, name: &Name) -> Option<Vec<u8>> {
        hash(name, self.salt, self.iterations)
    }

    /// The record whose owner hash is `name`'s hash.
    fn matching(&self, name: &Name) -> Option<&NSEC3> {
        let h = self.hash(name)?;
        self.entries.iter().find(|(o, _)| *o == h).map(|(_, n)| *n)
    }

    /// The record whose span covers `name`'s hash (RFC 5155 §8.3).
    fn covering(&self, name: &Name) -> Option<&NSEC3> {
        let h = self.hash(name)?;
        self.entries
            .iter()
            .find(|(owner, n)| {
                let next = n.next_hashed_owner_name();
                if owner.as_slice() < next {
                    owner.as_slice() < h.as_slice() && h.as_slice() < next
                } else {
                    owner.as_slice() < h.as_slice() || h.as_slice() < next
                }
            })
            .map(|(_, n)| *n)
    }

    /// The closest encloser proof (RFC 5155 §8.3) for `qname` in `zone`:
    /// (closest encloser, the NSEC3 covering the next closer name).
    fn closest_encloser(&self, qname: &Name, zone: &Name) -> Option<(Name, &NSEC3)> {
        let top = zone.num_labels();
        for labels in (top..qname.num_labels()).rev() {
            let candidate = qname.trim_to(usize::from(labels));
            let Some(found) = self.matching(&candidate) else {
                continue;
            };
            let types = found.type_set();
            if types.contains(RecordType::DNAME)
                || (types.contains(RecordType::NS) && !types.contains(RecordType::SOA))
            {
                return None; // a cut or DNAME above qname: not this zone's to deny
            }
            let next_closer = qname.trim_to(usize::from(labels) + 1);
            return self.covering(&next_closer).map(|n| (candidate, n));
        }
        None
    }
}

fn missing(problem: &'static str) -> Security {
    Security::Bogus(BogusReason::NsecMissing { problem })
}

/// Runs `proof` on the usable chain, or says why there is none.
fn with_chain(
    zone: &Name,
    records: &[Record],
    proof: impl FnOnce(&Chain<'_>) -> Security,
) -> Security {
    match usable(zone, records) {
        Usable::Chain(chain) => proof(&chain),
        Usable::TooCostly => Security::Insecure,
        Usable::Nothing => missing("no usable NSEC3 records"),
    }
}

/// Proves that `qname` does not exist (RFC 5155 §8.4): closest encloser
/// proof and an NSEC3 covering the wildcard at the closest encloser.
/// Insecure when the next closer name falls in an opt-out span (it may be
/// an unsigned delegation).
pub fn prove_nxdomain(qname: &Name, zone: &Name, records: &[Record]) -> Security {
    with_chain(zone, records, |chain| {
        let Some((encloser, next_closer)) = chain.closest_encloser(qname, zone) else {
            return missing("no closest encloser proof");
        };
        let Ok(wildcard) = encloser.prepend_label("*") else {
            return missing("no wildcard name at the closest encloser");
        };
        if chain.covering(&wildcard).is_none() {
            return missing("no NSEC3 covers the wildcard at the closest encloser");
        }
        if next_closer.opt_out() {
            Security::Insecure
        } else {
            Security::Secure
        }
    })
}

/// Whether an NSEC3 bitmap at a name proves it has no `qtype` data.
fn lacks(nsec3: &NSEC3, qtype: RecordType) -> bool {
    let types = nsec3.type_set();
    if qtype == RecordType::DS {
        return !types.contains(RecordType::DS) && !types.contains(RecordType::SOA);
    }
    let at_cut = types.contains(RecordType::NS) && !types.contains(RecordType::SOA);
    !types.contains(qtype) && !types.contains(RecordType::CNAME) && !at_cut
}

/// Proves that `qname` has no `qtype` data (RFC 5155 §8.5, §8.7): an NSEC3
/// matching `qname` without the type (empty non-terminals have one), or a
/// closest encloser proof and an NSEC3 matching the wildcard without the
/// type. For DS use [`prove_no_ds`].
pub fn prove_nodata(qname: &Name, qtype: RecordType, zone: &Name, records: &[Record]) -> Security {
    if qtype == RecordType::DS {
        return prove_no_ds(qname, zone, records);
    }
    with_chain(zone, records, |chain| {
        if let Some(found) = chain.matching(qname) {
            return if lacks(found, qtype) {
                Security::Secure
            } else {
                missing("the NSEC3 at the name lists the type")
            };
        }
        let Some((encloser, _)) = chain.closest_encloser(qname, zone) else {
            return missing("no NSEC3 matches the name and no closest encloser proof");
        };
        let Ok(wildcard) = encloser.prepend_label("*") else {
            return missing("no wildcard name at the closest encloser");
        };
        match chain.matching(&wildcard) {
            Some(found) if lacks(found, qtype) => Security::Secure,
            Some(_) => missing("the NSEC3 at the wildcard lists the type"),
            None => missing("no NSEC3 matches the name or the wildcard"),
        }
    })
}

/// Proves that the delegation `cut` has no DS (RFC 5155 §8.6): an NSEC3
/// matching `cut` without DS and SOA is `Secure` (proven absent: the child
/// is insecure); a closest encloser proof whose next closer name is in an
/// opt-out span is `Insecure` (the child is unsigned, unproven).
pub fn prove_no_ds(cut: &Name, zone: &Name, records: &[Record]) -> Security {
    with_chain(zone, records, |chain| {
        if let Some(found) = chain.matching(cut) {
            return if lacks(found, RecordType::DS) {
                Security::Secure
            } else {
                missing("the NSEC3 at the delegation lists DS or is the child's")
            };
        }
        match chain.closest_encloser(cut, zone) {
            Some((_, next_closer)) if next_closer.opt_out() => Security::Insecure,
            Some(_) => missing("the next closer name is covered without opt-out"),
            None => missing("no NSEC3 matches the delegation and no closest encloser proof"),
        }
    })
}

/// Proves that a wildcard answer for `qname`, expanded from `wildcard`,
/// was right: an NSEC3 covers the next closer name (RFC 5155 §8.8).
pub fn prove_wildcard(qname: &Name, wildcard: &Name, zone: &Name, records: &[Record]) -> Security {
    with_chain(zone, records, |chain| {
        let encloser = wildcard.base_name();
        if !encloser.zone_of(qname) || qname.num_labels() <= encloser.num_labels() {
            return missing("the wildcard does not enclose the name");
        }
        let next_closer = qname.trim_to(usize::from(encloser.num_labels()) + 1);
        if chain.covering(&next_closer).is_some() {
            Security::Secure
        } else {
            missing("no NSEC3 covers the next closer name of a wildcard answer")
        }
    })
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

    const SALT: [u8; 4] = [0xaa, 0xbb, 0xcc, 0xdd];

    #[test]
    fn rfc5155_appendix_a_hashes() {
        for (owner, hashed) in [
            ("example.", "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom"),
            ("a.example.", "35mthgpgcu1qg68fab165klnsnk3dpvl"),
            ("ai.example.", "gjeqe526plbf1g8mklp59enfd789njgi"),
            ("ns1.example.", "2t7b4g4vsa5smi47k61mv5bv1a22bojr"),
            ("ns2.example.", "q04jkcevqvmu85r014c7dkba38o0ji5r"),
            ("w.example.", "k8udemvp1j2f7eg6jebps17vp3n8i58h"),
            ("*.w.example.", "r53bq7cc2uvmubfu5ocmm6pers9tk9en"),
            ("x.w.example.", "b4um86eghhds6nea196smvmlo4ors995"),
            ("y.w.example.", "ji6neoaepv8b5o6k4ev33abha8ht9fgc"),
            ("x.y.w.example.", "2vptu5timamqttgl4luu9kg21e0aor3s"),
            ("xx.example.", "t644ebqk9bibcna874givr6joj62mlhv"),
        ] {
            let h = hash(&name(owner), &SALT, 12).unwrap();
            assert_eq!(to_label(&h), hashed, "{owner}");
            let label = name(&format!("{}.example.", hashed.to_uppercase()));
            assert_eq!(owner_hash(&label), Some(h));
        }
    }

    /// The NSEC3 chain of RFC 5155 Appendix A (opt-out set, 12
    /// iterations, salt aabbccdd).
    fn chain(iterations: u16) -> Vec<Record> {
        use RecordType::*;
        let rows: [(&str, &str, &[RecordType]); 12] = [
            (
                "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom",
                "2t7b4g4vsa5smi47k61mv5bv1a22bojr",
                &[MX, DNSKEY, NS, SOA, NSEC3PARAM, RRSIG],
            ),
            (
                "2t7b4g4vsa5smi47k61mv5bv1a22bojr",
                "2vptu5timamqttgl4luu9kg21e0aor3s",
                &[A, RRSIG],
            ),
            (
                "2vptu5timamqttgl4luu9kg21e0aor3s",
                "35mthgpgcu1qg68fab165klnsnk3dpvl",
                &[MX, RRSIG],
            ),
            (
                "35mthgpgcu1qg68fab165klnsnk3dpvl",
                "b4um86eghhds6nea196smvmlo4ors995",
                &[NS, DS, RRSIG],
            ),
            (
                "b4um86eghhds6nea196smvmlo4ors995",
                "gjeqe526plbf1g8mklp59enfd789njgi",
                &[MX, RRSIG],
            ),
            (
                "gjeqe526plbf1g8mklp59enfd789njgi",
                "ji6neoaepv8b5o6k4ev33abha8ht9fgc",
                &[A, HINFO, AAAA, RRSIG],
            ),
            (
                "ji6neoaepv8b5o6k4ev33abha8ht9fgc",
                "k8udemvp1j2f7eg6jebps17vp3n8i58h",
                &[],
            ),
            (
                "k8udemvp1j2f7eg6jebps17vp3n8i58h",
                "kohar7mbb8dc2ce8a9qvl8hon4k53uhi",
                &[],
            ),
            (
                "kohar7mbb8dc2ce8a9qvl8hon4k53uhi",
                "q04jkcevqvmu85r014c7dkba38o0ji5r",
                &[A, RRSIG],
            ),
            (
                "q04jkcevqvmu85r014c7dkba38o0ji5r",
                "r53bq7cc2uvmubfu5ocmm6pers9tk9en",
                &[A, RRSIG],
            ),
            (
                "r53bq7cc2uvmubfu5ocmm6pers9tk9en",
                "t644ebqk9bibcna874givr6joj62mlhv",
                &[MX, RRSIG],
            ),
            (
                "t644ebqk9bibcna874givr6joj62mlhv",
                "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom",
                &[A, HINFO, AAAA, RRSIG],
            ),
        ];
        rows.iter()
            .map(|(owner, next, types)| {
                let next = data_encoding::BASE32_DNSSEC
                    .decode(next.as_bytes())
                    .unwrap();
                let nsec3 = hickory_proto::dnssec::rdata::NSEC3::new(
                    Nsec3HashAlgorithm::SHA1,
                    true,
                    iterations,
                    SALT.to_vec(),
                    next,
                    types.iter().copied(),
                );
                Record::from_rdata(
                    name(&format!("{owner}.example.")),
                    3600,
                    RData::DNSSEC(DNSSECRData::NSEC3(nsec3)),
                )
            })
            .collect()
    }

    fn only(prefixes: &[&str]) -> Vec<Record> {
        chain(12)
            .into_iter()
            .filter(|r| prefixes.iter().any(|p| r.name.to_string().starts_with(p)))
            .collect()
    }

    #[test]
    fn rfc5155_b1_name_error() {
        // a.c.x.w.example: closest encloser x.w.example, next closer
        // c.x.w.example covered by 0p9mhave..., *.x.w.example by 35mthgpg...
        let zone = name("example.");
        let proof = only(&["b4um86", "0p9mha", "35mthg"]);
        let qname = name("a.c.x.w.example.");
        // The chain is opt-out, so the proof holds but only as insecure
        // (RFC 5155 §8.4 with §6: a span with opt-out may hide a delegation).
        assert_eq!(prove_nxdomain(&qname, &zone, &proof), Security::Insecure);
        let half = only(&["b4um86", "0p9mha"]);
        assert!(prove_nxdomain(&qname, &zone, &half).is_bogus());
    }

    #[test]
    fn rfc5155_b2_no_data_and_ent() {
        let zone = name("example.");
        let proof = only(&["2t7b4g"]);
        assert!(prove_nodata(&name("ns1.example."), RecordType::MX, &zone, &proof).is_secure());
        assert!(prove_nodata(&name("ns1.example."), RecordType::A, &zone, &proof).is_bogus());
        let ent = only(&["ji6neo"]);
        assert!(prove_nodata(&name("y.w.example."), RecordType::A, &zone, &ent).is_secure());
    }

    #[test]
    fn rfc5155_b3_opt_out_delegation_is_insecure() {
        // mc.c.example: c.example is an unsigned delegation in an opt-out
        // span; closest encloser example., next closer c.example.
        let zone = name("example.");
        let proof = only(&["0p9mha", "35mthg"]);
        assert_eq!(
            prove_no_ds(&name("c.example."), &zone, &proof),
            Security::Insecure
        );
        // a.example has DS: its NSEC3 cannot deny it.
        let signed = only(&["35mthg"]);
        assert!(prove_no_ds(&name("a.example."), &zone, &signed).is_bogus());
    }

    #[test]
    fn rfc5155_b4_b5_wildcards() {
        let zone = name("example.");
        let qname = name("a.z.w.example.");
        let proof = only(&["q04jkc"]);
        assert!(prove_wildcard(&qname, &name("*.w.example."), &zone, &proof).is_secure());
        assert!(
            prove_wildcard(&qname, &name("*.w.example."), &zone, &only(&["b4um86"])).is_bogus()
        );
        let nodata = only(&["k8udem", "q04jkc", "r53bq7"]);
        assert!(prove_nodata(&qname, RecordType::AAAA, &zone, &nodata).is_secure());
        assert!(prove_nodata(&qname, RecordType::MX, &zone, &nodata).is_bogus());
    }

    #[test]
    fn iterations_above_the_cap_are_insecure() {
        let zone = name("example.");
        let costly = chain(MAX_NSEC3_ITERATIONS + 1);
        assert_eq!(
            prove_nodata(&name("ns1.example."), RecordType::MX, &zone, &costly),
            Security::Insecure
        );
        assert_eq!(
            prove_nxdomain(&name("zz.example."), &zone, &costly),
            Security::Insecure
        );
    }
}
