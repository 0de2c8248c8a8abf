//! Signs a lab zone at start-up with keys generated for it (RFC 4035 §2):
//! a KSK (flags 257) signs the DNSKEY RRset, a ZSK (256) every other
//! authoritative RRset; an NSEC chain (RFC 4034 §4) or an NSEC3 chain
//! (RFC 5155 §7.1, SHA-1, no salt, 0 iterations as RFC 9276 asks, with or
//! without opt-out) is built and signed. [`SignFault`]s break a zone on
//! purpose for validator tests.
//!
//! Keys: P-256 and Ed25519 keys are generated; ring cannot generate RSA
//! keys, so the RSA zone is signed with the two keys committed under
//! `testdata/lab/keys/` (RSASHA256, 2048 bits).
//!
//! Limits:
//! NS RRsets at delegations and glue are never signed (RFC 4035 §2.2);
//! synthesised DNAME CNAMEs are not signed (RFC 6672 §5.3 lets resolvers
//! validate the DNAME instead).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::dnssec::crypto::{EcdsaSigningKey, Ed25519SigningKey, RsaSigningKey};
use hickory_proto::dnssec::rdata::{DNSKEY, DNSSECRData, DS, NSEC, NSEC3, NSEC3PARAM, RRSIG};
use hickory_proto::dnssec::{Algorithm, DigestType, DnssecSigner, Nsec3HashAlgorithm, SigningKey};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordSet, RecordType};
use rustls_pki_types::PrivatePkcs8KeyDer;
use time::OffsetDateTime;

use super::Zone;
use super::secure::Signatures;
use crate::validate::nsec3;

/// The RSA key-signing key (PKCS#8 DER, 2048 bits), committed because
/// ring cannot generate RSA keys (see `testdata/lab/keys/README.md`).
const RSA_KSK: &[u8] = include_bytes!("../../../testdata/lab/keys/rsa-ksk.pk8");

/// The RSA zone-signing key.
const RSA_ZSK: &[u8] = include_bytes!("../../../testdata/lab/keys/rsa-zsk.pk8");

/// How long the lab's signatures are valid: 30 days from one hour before
/// start-up.
pub const SIGNATURE_VALIDITY: Duration = Duration::from_secs(30 * 86_400);

/// Inception is backdated by this much, so clocks a little behind still
/// accept the signatures.
pub const INCEPTION_BACKDATE: u32 = 3600;

/// TTL of DNSKEY, DS and NSEC3PARAM records the lab makes.
pub const KEY_TTL: u32 = 3600;

/// How a zone proves non-existence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// NSEC (RFC 4034 §4).
    Nsec,
    /// NSEC3 (RFC 5155), opt-out spans over unsigned delegations or not.
    Nsec3 {
        /// Whether unsigned delegations are left out of the chain.
        opt_out: bool,
    },
}

/// A deliberate DNSSEC breakage of a lab zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignFault {
    /// Every RRSIG except the DNSKEY set's has a corrupted signature.
    BadRrsig,
    /// Every signature expired 30 days ago.
    Expired,
    /// The parent publishes a DS of a key the zone does not have.
    DsMismatch,
    /// The DNSKEY set is signed by the ZSK only.
    ZskOnly,
}

/// How one zone is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignSpec {
    /// Algorithm of both keys: ECDSAP256SHA256 or ED25519.
    pub algorithm: Algorithm,
    /// NSEC or NSEC3.
    pub denial: Denial,
    /// A deliberate breakage.
    pub fault: Option<SignFault>,
}

/// A zone's KSK and ZSK.
pub struct ZoneKeys {
    ksk: DnssecSigner,
    zsk: DnssecSigner,
}

impl std::fmt::Debug for ZoneKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZoneKeys")
            .field("ksk", self.ksk.dnskey())
            .field("zsk", self.zsk.dnskey())
            .finish()
    }
}

impl ZoneKeys {
    /// Generates a KSK and a ZSK for `origin`.
    pub fn generate(origin: &Name, algorithm: Algorithm) -> Result<ZoneKeys, String> {
        Ok(ZoneKeys {
            ksk: signer(origin, 257, algorithm)?,
            zsk: signer(origin, 256, algorithm)?,
        })
    }

    /// The key-signing key.
    pub fn ksk(&self) -> &DNSKEY {
        self.ksk.dnskey()
    }

    /// The zone-signing key.
    pub fn zsk(&self) -> &DNSKEY {
        self.zsk.dnskey()
    }

    /// The DS record (SHA-256) of the KSK, owned by `origin`.
    pub fn ds(&self, origin: &Name) -> Result<Record, String> {
        ds_record(origin, self.ksk())
    }
}

/// The DS record (SHA-256, RFC 4509) of `key` at `origin`.
pub fn ds_record(origin: &Name, key: &DNSKEY) -> Result<Record, String> {
    let ds = DS::from_key(key.public_key(), origin, DigestType::SHA256)
        .map_err(|e| format!("DS of {origin}: {e}"))?;
    Ok(Record::from_rdata(
        origin.clone(),
        KEY_TTL,
        RData::DNSSEC(DNSSECRData::DS(ds)),
    ))
}

fn signer(origin: &Name, flags: u16, algorithm: Algorithm) -> Result<DnssecSigner, String> {
    let failed = |e: &dyn std::fmt::Display| format!("key for {origin}: {e}");
    let key: Box<dyn SigningKey> = match algorithm {
        Algorithm::ED25519 => {
            let pkcs8 = Ed25519SigningKey::generate_pkcs8().map_err(|e| failed(&e))?;
            Box::new(Ed25519SigningKey::from_pkcs8(&pkcs8).map_err(|e| failed(&e))?)
        }
        Algorithm::ECDSAP256SHA256 | Algorithm::ECDSAP384SHA384 => {
            let pkcs8 = EcdsaSigningKey::generate_pkcs8(algorithm).map_err(|e| failed(&e))?;
            Box::new(EcdsaSigningKey::from_pkcs8(&pkcs8, algorithm).map_err(|e| failed(&e))?)
        }
        Algorithm::RSASHA256 => {
            let der = if flags == 257 { RSA_KSK } else { RSA_ZSK };
            let pkcs8 = PrivatePkcs8KeyDer::from(der);
            Box::new(RsaSigningKey::from_pkcs8(&pkcs8, algorithm).map_err(|e| failed(&e))?)
        }
        other => return Err(format!("the lab cannot generate {other} keys")),
    };
    let public = key.to_public_key().map_err(|e| failed(&e))?;
    Ok(DnssecSigner::new(
        DNSKEY::with_flags(flags, public),
        key,
        origin.clone(),
        SIGNATURE_VALIDITY,
    ))
}

/// `zone` signed with `keys` as `spec` says, at time `now` (seconds since
/// the epoch). DS records of signed children must already be in `zone`.
pub fn sign(zone: &Zone, keys: &ZoneKeys, spec: SignSpec, now: u32) -> Result<Zone, String> {
    let origin = zone.origin().clone();
    let mut extra = vec![
        Record::from_rdata(origin.clone(), KEY_TTL, RData::from(keys.ksk().clone())),
        Record::from_rdata(origin.clone(), KEY_TTL, RData::from(keys.zsk().clone())),
    ];
    if let Denial::Nsec3 { .. } = spec.denial {
        let param = NSEC3PARAM::new(Nsec3HashAlgorithm::SHA1, false, 0, Vec::new());
        extra.push(Record::from_rdata(
            origin.clone(),
            KEY_TTL,
            RData::DNSSEC(DNSSECRData::NSEC3PARAM(param)),
        ));
    }
    let mut zone = zone.with_records(extra)?;
    let inception = match spec.fault {
        Some(SignFault::Expired) => now.wrapping_sub(2 * SIGNATURE_VALIDITY.as_secs() as u32),
        _ => now.wrapping_sub(INCEPTION_BACKDATE),
    };
    let mut signer = Signer {
        keys,
        spec,
        inception,
        rrsigs: BTreeMap::new(),
    };
    for (owner, rtype, records) in zone.signed_rrsets() {
        signer.sign(&owner, rtype, &records)?;
    }
    let negative_ttl = zone.negative_soa().ttl;
    let mut signatures = Signatures::default();
    match spec.denial {
        Denial::Nsec => {
            for record in zone.nsec_chain(negative_ttl) {
                signer.sign(
                    &record.name,
                    RecordType::NSEC,
                    std::slice::from_ref(&record),
                )?;
                signatures.nsec.insert(record.name.to_lowercase(), record);
            }
        }
        Denial::Nsec3 { opt_out } => {
            for (hash, record) in zone.nsec3_chain(negative_ttl, opt_out)? {
                signer.sign(
                    &record.name,
                    RecordType::NSEC3,
                    std::slice::from_ref(&record),
                )?;
                signatures.nsec3.insert(hash, record);
            }
        }
    }
    signatures.rrsigs = signer.rrsigs;
    zone.dnssec = Some(Arc::new(signatures));
    Ok(zone)
}

/// Makes the RRSIGs of one zone.
struct Signer<'a> {
    keys: &'a ZoneKeys,
    spec: SignSpec,
    inception: u32,
    rrsigs: BTreeMap<(Name, u16), Vec<Record>>,
}

impl Signer<'_> {
    fn sign(&mut self, owner: &Name, rtype: RecordType, records: &[Record]) -> Result<(), String> {
        let ttl = records.first().map_or(0, |r| r.ttl);
        let mut set = RecordSet::with_ttl(owner.clone(), rtype, ttl);
        for record in records {
            set.insert(record.clone(), 0);
        }
        let key = match (rtype, self.spec.fault) {
            (RecordType::DNSKEY, Some(SignFault::ZskOnly)) => &self.keys.zsk,
            (RecordType::DNSKEY, _) => &self.keys.ksk,
            _ => &self.keys.zsk,
        };
        let at = OffsetDateTime::from_unix_timestamp(i64::from(self.inception))
            .map_err(|e| format!("signing {owner} {rtype}: {e}"))?;
        let mut rrsig = RRSIG::from_rrset(&set, DNSClass::IN, at, key)
            .map_err(|e| format!("signing {owner} {rtype}: {e}"))?;
        if self.spec.fault == Some(SignFault::BadRrsig) && rtype != RecordType::DNSKEY {
            let mut bytes = rrsig.sig().to_vec();
            if let Some(byte) = bytes.get_mut(8) {
                *byte ^= 0x5a;
            }
            rrsig = RRSIG::from_sig(rrsig.input().clone(), bytes);
        }
        let record =
            Record::from_rdata(owner.clone(), ttl, RData::DNSSEC(DNSSECRData::RRSIG(rrsig)));
        self.rrsigs
            .entry((owner.to_lowercase(), u16::from(rtype)))
            .or_default()
            .push(record);
        Ok(())
    }
}

impl Zone {
    /// Whether `name` is strictly below a zone cut of this zone (glue).
    fn below_cut(&self, name: &Name) -> bool {
        self.cut_above(name, RecordType::DS).is_some()
    }

    /// Whether `name` is a delegation point of this zone.
    fn is_cut(&self, name: &Name) -> bool {
        self.delegates(name)
    }

    /// The names in the NSEC chain: authoritative names and delegation
    /// points, glue excluded (RFC 4034 §4.1.1), canonical order.
    fn chain_names(&self) -> Vec<Name> {
        self.nodes
            .keys()
            .filter(|name| !self.below_cut(name))
            .cloned()
            .collect()
    }

    /// The types an NSEC or NSEC3 at `name` lists (without NSEC/NSEC3):
    /// at a cut only NS and DS, RRSIG where something is signed.
    fn chain_types(&self, name: &Name) -> Vec<RecordType> {
        let records = self.records_at(name);
        let cut = self.is_cut(name);
        let mut types: BTreeSet<u16> = records
            .iter()
            .map(Record::record_type)
            .filter(|t| !cut || matches!(t, RecordType::NS | RecordType::DS))
            .map(u16::from)
            .collect();
        if !cut || types.contains(&u16::from(RecordType::DS)) {
            types.insert(u16::from(RecordType::RRSIG));
        }
        types.into_iter().map(RecordType::from).collect()
    }

    /// The authoritative RRsets to sign: (owner, type, records).
    fn signed_rrsets(&self) -> Vec<(Name, RecordType, Vec<Record>)> {
        let mut out = Vec::new();
        for name in self.chain_names() {
            let cut = self.is_cut(&name);
            let mut by_type: BTreeMap<u16, Vec<Record>> = BTreeMap::new();
            for record in self.records_at(&name) {
                let rtype = record.record_type();
                if cut && rtype != RecordType::DS {
                    continue;
                }
                by_type
                    .entry(u16::from(rtype))
                    .or_default()
                    .push(record.clone());
            }
            for (rtype, records) in by_type {
                out.push((name.clone(), RecordType::from(rtype), records));
            }
        }
        out
    }

    /// The NSEC chain (RFC 4035 §2.3), TTL `ttl`.
    fn nsec_chain(&self, ttl: u32) -> Vec<Record> {
        let names = self.chain_names();
        names
            .iter()
            .enumerate()
            .map(|(index, name)| {
                let next = names.get(index + 1).unwrap_or(&self.origin).clone();
                let nsec = NSEC::new_cover_self(next, self.chain_types(name));
                Record::from_rdata(name.clone(), ttl, RData::DNSSEC(DNSSECRData::NSEC(nsec)))
            })
            .collect()
    }

    /// The NSEC3 chain (RFC 5155 §7.1): every authoritative name, every
    /// delegation (with opt-out: those with DS only) and every empty
    /// non-terminal above them, hashed and ordered by hash.
    fn nsec3_chain(&self, ttl: u32, opt_out: bool) -> Result<Vec<(Vec<u8>, Record)>, String> {
        let mut names: BTreeSet<Name> = self
            .chain_names()
            .into_iter()
            .filter(|name| {
                !(opt_out
                    && self.is_cut(name)
                    && !self
                        .records_at(name)
                        .iter()
                        .any(|r| r.record_type() == RecordType::DS))
            })
            .collect();
        let apex = self.origin.num_labels();
        for name in names.clone() {
            for labels in apex..name.num_labels() {
                names.insert(name.trim_to(usize::from(labels)));
            }
        }
        let mut hashed: Vec<(Vec<u8>, Name)> = names
            .into_iter()
            .map(|name| {
                nsec3::hash(&name, &[], 0)
                    .map(|h| (h, name.clone()))
                    .ok_or_else(|| format!("cannot hash {name}"))
            })
            .collect::<Result<_, _>>()?;
        hashed.sort();
        let mut out = Vec::with_capacity(hashed.len());
        for (index, (hash, name)) in hashed.iter().enumerate() {
            let next = hashed
                .get(index + 1)
                .or_else(|| hashed.first())
                .map(|(h, _)| h.clone())
                .unwrap_or_default();
            let types = if self.records_at(name).is_empty() {
                Vec::new() // empty non-terminal
            } else {
                self.chain_types(name)
            };
            let nsec3 = NSEC3::new(
                Nsec3HashAlgorithm::SHA1,
                opt_out,
                0,
                Vec::new(),
                next,
                types,
            );
            let owner = self
                .origin
                .prepend_label(nsec3::to_label(hash))
                .map_err(|e| format!("NSEC3 owner in {}: {e}", self.origin))?;
            out.push((
                hash.clone(),
                Record::from_rdata(owner, ttl, RData::DNSSEC(DNSSECRData::NSEC3(nsec3))),
            ));
        }
        Ok(out)
    }
}
