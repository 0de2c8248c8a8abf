//! The validator's memo of verified signatures, through the resolver on
//! the signed lab: names under a signed wildcard each cost an upstream
//! query, and every one brings the same signed wildcard data and the same
//! NSEC proof; their signatures are verified with cryptography once.

mod common;

use std::str::FromStr;

use hickory_proto::rr::{Name, RecordType};
use rootwalk::resolve::Resolver;
use rootwalk::trace::NullObserver;
use rootwalk::validate::Security;

fn name(text: &str) -> Name {
    Name::from_str(text).unwrap()
}

#[tokio::test]
async fn names_under_a_signed_wildcard_verify_its_proof_once() {
    let lab = common::lab().await;
    let resolver = common::validating(&lab);
    let first = resolver
        .resolve(&name("one.wild.a.tld1."), RecordType::A, &NullObserver)
        .await
        .unwrap_or_else(|f| panic!("{}", f.error));
    assert_eq!(first.security, Security::Secure);
    let before = resolver.sig_memo_stats().unwrap();
    assert!(before.verifications > 0 && before.entries > 0, "{before:?}");

    lab.clear_log();
    let second = resolver
        .resolve(&name("two.wild.a.tld1."), RecordType::A, &NullObserver)
        .await
        .unwrap_or_else(|f| panic!("{}", f.error));
    assert_eq!(second.security, Security::Secure);
    // A real miss: the name was asked upstream, and the reply validated.
    let asked: Vec<Name> = lab.query_log().iter().map(|q| q.qname.clone()).collect();
    assert!(asked.contains(&name("two.wild.a.tld1.")), "{asked:?}");
    // Its wildcard-expanded A RRset (signed data names `*.wild.a.tld1`, RFC
    // 4035 §5.3.2) and the NSEC proving no closer name: both verified
    // before, so no cryptography now, two memo hits.
    let after = resolver.sig_memo_stats().unwrap();
    assert_eq!(after.verifications, before.verifications, "{after:?}");
    assert_eq!(after.hits, before.hits + 2, "{after:?}");
    assert_eq!(after.entries, before.entries);
}

#[tokio::test]
async fn sig_memo_bytes_zero_turns_the_memo_off() {
    let lab = common::lab().await;
    let mut limits = common::limits();
    limits.set("sig-memo-bytes", 0).unwrap();
    let mut config = common::config_with(&lab, limits);
    config.trust_anchors = Some(lab.trust_anchor());
    let resolver = Resolver::new(config);
    for qname in ["one.wild.a.tld1.", "two.wild.a.tld1."] {
        let outcome = resolver
            .resolve(&name(qname), RecordType::A, &NullObserver)
            .await
            .unwrap_or_else(|f| panic!("{}", f.error));
        assert_eq!(outcome.security, Security::Secure);
    }
    let stats = resolver.sig_memo_stats().unwrap();
    assert_eq!((stats.hits, stats.entries, stats.bytes), (0, 0, 0));
    // Without the memo the second name's two signatures are verified again.
    let on = common::validating(&lab);
    for qname in ["one.wild.a.tld1.", "two.wild.a.tld1."] {
        on.resolve(&name(qname), RecordType::A, &NullObserver)
            .await
            .unwrap_or_else(|f| panic!("{}", f.error));
    }
    let remembered = on.sig_memo_stats().unwrap();
    assert_eq!(stats.verifications, remembered.verifications + 2);
}
