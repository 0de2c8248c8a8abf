//! CPU cost of validating one signed RRset with and without the memo of
//! verified signatures: an NSEC RRset signed with ECDSA P-256, as every
//! miss under the lab's `*.wild.a.tld1` brings. "no memo" is the pure
//! `verify_rrset` (checks, signed data, P-256 verification); "memo miss"
//! adds building and looking up the memo entry to that (a memo of 0
//! bytes, so every call misses); "memo hit" skips the cryptography.
//!
//! Run: `cargo bench --bench sig_memo -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use criterion::{Criterion, criterion_group, criterion_main};
use hickory_proto::dnssec::crypto::EcdsaSigningKey;
use hickory_proto::dnssec::rdata::{DNSKEY, DNSSECRData, NSEC, RRSIG};
use hickory_proto::dnssec::{Algorithm, DnssecSigner, SigningKey};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordSet, RecordType};
use rootwalk::validate::SigBudget;
use rootwalk::validate::keys::TrustedKeys;
use rootwalk::validate::memo::{SIG_MEMO_BYTES, SigMemo};
use rootwalk::validate::sig::{verify_rrset, verify_rrset_memo};
use time::OffsetDateTime;

fn name(text: &str) -> Name {
    Name::from_str(text).unwrap_or_else(|_| Name::root())
}

/// The zone's trusted keys, an NSEC RRset and its RRSIG, and the time now.
fn signed_nsec() -> (TrustedKeys, Vec<Record>, Vec<Record>, u32) {
    let zone = name("a.tld1.");
    let pkcs8 = EcdsaSigningKey::generate_pkcs8(Algorithm::ECDSAP256SHA256).expect("key");
    let signing = EcdsaSigningKey::from_pkcs8(&pkcs8, Algorithm::ECDSAP256SHA256).expect("key");
    let dnskey = DNSKEY::with_flags(256, signing.to_public_key().expect("public key"));
    let signer = DnssecSigner::new(
        dnskey.clone(),
        Box::new(signing),
        zone.clone(),
        Duration::from_secs(7 * 86_400),
    );
    let nsec = Record::from_rdata(
        name("wild.a.tld1."),
        3600,
        RData::DNSSEC(DNSSECRData::NSEC(NSEC::new(
            name("www.a.tld1."),
            [RecordType::RRSIG, RecordType::NSEC],
        ))),
    );
    let mut set = RecordSet::new(nsec.name.clone(), RecordType::NSEC, 0);
    set.insert(nsec.clone(), 0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as u32);
    let inception = OffsetDateTime::from_unix_timestamp(i64::from(now) - 60).expect("time");
    let rrsig = RRSIG::from_rrset(&set, DNSClass::IN, inception, &signer).expect("signs");
    let rrsig = Record::from_rdata(
        nsec.name.clone(),
        3600,
        RData::DNSSEC(DNSSECRData::RRSIG(rrsig)),
    );
    let keys = TrustedKeys::new(zone, vec![dnskey], 3600);
    (keys, vec![nsec], vec![rrsig], now)
}

fn sig_memo(c: &mut Criterion) {
    let (keys, nsec, sigs, now) = signed_nsec();
    let mut group = c.benchmark_group("verify P-256 NSEC");
    group.bench_function("no memo", |b| {
        b.iter(|| {
            let mut budget = SigBudget::default();
            black_box(verify_rrset(&nsec, &sigs, &keys, now, &mut budget)).expect("verifies");
        })
    });
    // A memo of 0 bytes keeps nothing: every call misses and verifies.
    let never = SigMemo::new(0);
    let memo = SigMemo::new(SIG_MEMO_BYTES);
    for (label, memo) in [("memo miss", &never), ("memo hit", &memo)] {
        group.bench_function(label, |b| {
            b.iter(|| {
                let mut budget = SigBudget::default();
                black_box(verify_rrset_memo(
                    &nsec,
                    &sigs,
                    &keys,
                    now,
                    &mut budget,
                    Some(memo),
                ))
                .expect("verifies");
            })
        });
    }
    group.finish();
    let stats = memo.stats();
    assert_eq!(stats.verifications, 1, "the hit case verified once");
}

criterion_group!(benches, sig_memo);
criterion_main!(benches);
