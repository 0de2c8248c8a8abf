//! The validating daemon's DNSSEC protocol details, against the signed
//! lab: CD=1 gets bogus data that everyone else gets SERVFAIL for, from
//! one validation kept for the bogus TTL (RFC 4035 §3.2.2, §4.7); DO=1
//! gets the RRSIGs and the NSEC/NSEC3 proofs, from the cache as from a
//! fresh resolution (RFC 4035 §3.1.1, §3.1.3); a negative answer from the
//! cache keeps its verdict (AD). Each checked against which server was
//! asked what. And an independent check: BIND's `delv`, given the lab's
//! trust anchor, validates what the daemon hands a DO client.

mod common;

use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use common::inproc::{self, ede_of, http_get, query_edns, sample, udp_on};
use hickory_proto::dnssec::rdata::DNSSECRData;
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use rootwalk::lab::Lab;
use rootwalk::server::{self, ServeConfig};
use tokio::net::UdpSocket;

fn name(text: &str) -> Name {
    Name::from_str(text).unwrap()
}

/// A validating daemon on the lab, stopped by [`Daemon::stop`], and the
/// one socket the test asks from.
struct Daemon {
    addr: SocketAddr,
    daemon: inproc::Daemon,
    socket: UdpSocket,
}

/// The flags a test query sets.
#[derive(Clone, Copy, Default)]
struct Flags {
    ad: bool,
    cd: bool,
    dnssec_ok: bool,
}

impl Daemon {
    async fn start(lab: &Lab) -> Daemon {
        let mut resolver = common::config(lab);
        resolver.trust_anchors = Some(lab.trust_anchor());
        let config = ServeConfig {
            listen: vec!["127.0.0.1:0".parse().unwrap()],
            listen_is_default: false,
            udp_sockets: Some(1),
            limits: common::limits(),
            metrics: Some("127.0.0.1:0".parse().unwrap()),
            ..ServeConfig::default()
        };
        let (daemon, listeners) = server::prepare(&config, resolver).await.unwrap();
        let daemon = inproc::Daemon::serve(daemon, listeners);
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        Daemon {
            addr: daemon.addr,
            daemon,
            socket,
        }
    }

    async fn ask(&self, qname: &str, qtype: RecordType, flags: Flags) -> Message {
        let mut query = query_edns(qname, qtype, Some(4096));
        query.metadata.checking_disabled = flags.cd;
        query.metadata.authentic_data = flags.ad;
        if let Some(edns) = query.edns.as_mut() {
            edns.set_dnssec_ok(flags.dnssec_ok);
        }
        udp_on(&self.socket, self.addr, &query).await
    }

    async fn stop(self) {
        self.daemon.stop().await;
    }
}

/// The type an RRSIG covers.
fn covered(record: &Record) -> Option<RecordType> {
    match &record.data {
        RData::DNSSEC(DNSSECRData::RRSIG(sig)) => Some(sig.input().type_covered),
        _ => None,
    }
}

fn types(records: &[Record]) -> Vec<RecordType> {
    records.iter().map(Record::record_type).collect()
}

/// Queries the lab's servers got for (`qname`, `qtype`).
fn asked(lab: &Lab, qname: &str, qtype: RecordType) -> usize {
    let qname = name(qname);
    lab.query_log()
        .iter()
        .filter(|q| q.qname == qname && q.qtype == qtype)
        .count()
}

const CD: Flags = Flags {
    ad: false,
    cd: true,
    dnssec_ok: false,
};
const DO: Flags = Flags {
    ad: false,
    cd: false,
    dnssec_ok: true,
};
const AD: Flags = Flags {
    ad: true,
    cd: false,
    dnssec_ok: false,
};
const PLAIN: Flags = Flags {
    ad: false,
    cd: false,
    dnssec_ok: false,
};

/// AD for secure answers to clients that ask with AD or DO (RFC 6840
/// §5.7-5.8), none for insecure ones, SERVFAIL with the validator's
/// Extended DNS Error for bogus ones.
/// The metrics show the memo of verified signatures at work: names under
/// the signed wildcard each cost a query upstream, and from the second on
/// their signatures (the NSEC's, and the answer's over the wildcard) are
/// found in the memo instead of verified again.
#[tokio::test]
async fn the_metrics_show_signatures_the_memo_spared() {
    let lab = common::lab().await;
    let daemon = Daemon::start(&lab).await;
    // AD asked for, so the reply says whether it validated (RFC 6840 §5.8).
    let flags = Flags {
        ad: true,
        ..Flags::default()
    };
    let first = daemon.ask("one.wild.a.tld1.", RecordType::A, flags).await;
    assert_eq!(first.metadata.response_code, ResponseCode::NoError);
    assert!(first.metadata.authentic_data, "validated: {first:?}");
    let (_, before) = http_get(daemon.daemon.metrics(), "/metrics").await;
    let hits = sample(&before, "rootwalk_sig_memo_hits_total");
    let verified = sample(&before, "rootwalk_sig_memo_verifications_total");
    assert!(verified > 0.0, "{before}");
    assert!(sample(&before, "rootwalk_sig_memo_entries") > 0.0);

    lab.clear_log();
    let second = daemon.ask("two.wild.a.tld1.", RecordType::A, flags).await;
    assert_eq!(second.metadata.response_code, ResponseCode::NoError);
    assert!(second.metadata.authentic_data, "validated: {second:?}");
    // One query upstream, to the zone's server, for the new name.
    let log = lab.query_log();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].qname, name("two.wild.a.tld1."));
    assert!(
        log[0].server_name.to_string().ends_with(".a.tld1."),
        "{log:?}"
    );
    let (_, after) = http_get(daemon.daemon.metrics(), "/metrics").await;
    assert!(
        sample(&after, "rootwalk_sig_memo_hits_total") >= hits + 2.0,
        "{after}"
    );
    assert_eq!(
        sample(&after, "rootwalk_sig_memo_verifications_total"),
        verified,
        "nothing verified again: {after}"
    );
    assert!(sample(&after, "rootwalk_cache_entries{cache=\"rrset\"}") > 0.0);
    daemon.stop().await;
}

#[tokio::test]
async fn secure_answers_get_ad_and_bogus_ones_servfail_with_their_reason() {
    let lab = common::lab().await;
    let daemon = Daemon::start(&lab).await;
    let secure_ad = daemon.ask("www.a.tld1.", RecordType::A, AD).await;
    assert_eq!(secure_ad.metadata.response_code, ResponseCode::NoError);
    assert!(secure_ad.metadata.authentic_data, "AD asked: AD given");
    let secure_do = daemon.ask("www.a.tld1.", RecordType::A, DO).await;
    assert!(secure_do.metadata.authentic_data, "DO set: AD given");
    let secure_plain = daemon.ask("www.a.tld1.", RecordType::A, PLAIN).await;
    assert!(!secure_plain.metadata.authentic_data, "neither: no AD");
    let insecure = daemon.ask("www.unsigned.tld1.", RecordType::A, AD).await;
    assert_eq!(insecure.metadata.response_code, ResponseCode::NoError);
    assert!(!insecure.metadata.authentic_data, "insecure: no AD");
    let bogus = daemon.ask("www.expired.tld1.", RecordType::A, AD).await;
    assert_eq!(bogus.metadata.response_code, ResponseCode::ServFail);
    assert!(bogus.answers.is_empty());
    let ede = ede_of(&bogus).expect("an Extended DNS Error");
    assert_eq!(ede.code, 7, "Signature Expired: {}", ede.text);
    daemon.stop().await;
}

#[tokio::test]
async fn checking_disabled_gets_bogus_data_and_one_validation_serves_both() {
    let lab = common::lab().await;
    let daemon = Daemon::start(&lab).await;

    // Without CD: SERVFAIL saying why (the lab's badsig zone has a
    // corrupted RRSIG over the A RRset).
    let refused = daemon.ask("www.badsig.tld1.", RecordType::A, PLAIN).await;
    assert_eq!(refused.metadata.response_code, ResponseCode::ServFail);
    assert!(refused.answers.is_empty());
    assert_eq!(ede_of(&refused).map(|e| e.code), Some(6), "DNSSEC Bogus");
    let upstream = asked(&lab, "www.badsig.tld1.", RecordType::A);
    assert!(upstream > 0, "the zone's servers were asked");

    // With CD: the data, without AD, from what the first question
    // fetched; no server is asked again.
    let data = daemon.ask("www.badsig.tld1.", RecordType::A, CD).await;
    assert_eq!(data.metadata.response_code, ResponseCode::NoError);
    assert!(data.metadata.checking_disabled, "CD echoed");
    assert!(!data.metadata.authentic_data, "bogus data is never AD");
    assert_eq!(types(&data.answers), [RecordType::A]);
    assert!(
        data.answers.iter().all(|r| r.ttl <= 60),
        "bogus data is kept for the bogus TTL only: {:?}",
        data.answers
    );
    // Without CD again: still SERVFAIL, still no upstream query.
    let again = daemon.ask("www.badsig.tld1.", RecordType::A, PLAIN).await;
    assert_eq!(again.metadata.response_code, ResponseCode::ServFail);
    assert_eq!(ede_of(&again).map(|e| e.code), Some(6));
    assert_eq!(asked(&lab, "www.badsig.tld1.", RecordType::A), upstream);

    // The other order, another kind of breakage: CD first gets the data of
    // a zone whose signatures have expired; then a client without CD gets
    // SERVFAIL from the same validation.
    let data = daemon.ask("www.expired.tld1.", RecordType::A, CD).await;
    assert_eq!(data.metadata.response_code, ResponseCode::NoError);
    assert_eq!(types(&data.answers), [RecordType::A]);
    assert!(!data.metadata.authentic_data);
    let upstream = asked(&lab, "www.expired.tld1.", RecordType::A);
    let refused = daemon.ask("www.expired.tld1.", RecordType::A, PLAIN).await;
    assert_eq!(refused.metadata.response_code, ResponseCode::ServFail);
    assert!(refused.answers.is_empty());
    assert_eq!(
        ede_of(&refused).map(|e| e.code),
        Some(7),
        "the first failure's code"
    );
    assert_eq!(asked(&lab, "www.expired.tld1.", RecordType::A), upstream);

    // CD on secure data changes nothing but the flag: the data, and AD
    // when asked with DO (RFC 6840 §5.9 leaves AD to the resolver's own
    // check, which ran).
    let secure = daemon.ask("www.a.tld1.", RecordType::A, CD).await;
    assert_eq!(secure.metadata.response_code, ResponseCode::NoError);
    assert_eq!(types(&secure.answers), [RecordType::A]);
    let cd_do = Flags { cd: true, ..DO };
    let secure = daemon.ask("www.a.tld1.", RecordType::A, cd_do).await;
    assert!(
        secure.metadata.authentic_data,
        "secure, DO: AD even with CD"
    );
    assert_eq!(types(&secure.answers), [RecordType::A, RecordType::RRSIG]);
    // CD and DO on bogus data: the data with its (bad) RRSIG, never AD.
    let bogus = daemon.ask("www.badsig.tld1.", RecordType::A, cd_do).await;
    assert_eq!(bogus.metadata.response_code, ResponseCode::NoError);
    assert_eq!(types(&bogus.answers), [RecordType::A, RecordType::RRSIG]);
    assert!(!bogus.metadata.authentic_data);

    daemon.stop().await;
}

/// Every broken zone of the lab: SERVFAIL with the Extended DNS Error that
/// names the breakage, and the data to a client that set CD.
#[tokio::test]
async fn each_broken_zone_is_servfail_with_its_ede_and_data_with_cd() {
    let lab = common::lab().await;
    let daemon = Daemon::start(&lab).await;
    for (qname, code) in [
        ("www.badsig.tld1.", 6),
        ("www.expired.tld1.", 7),
        ("www.dsmismatch.tld1.", 9),
        ("www.zskonly.tld1.", 10),
    ] {
        let refused = daemon.ask(qname, RecordType::A, DO).await;
        assert_eq!(
            refused.metadata.response_code,
            ResponseCode::ServFail,
            "{qname}"
        );
        assert_eq!(ede_of(&refused).map(|e| e.code), Some(code), "{qname}");
        let data = daemon.ask(qname, RecordType::A, CD).await;
        assert_eq!(
            data.metadata.response_code,
            ResponseCode::NoError,
            "{qname}"
        );
        assert_eq!(types(&data.answers), [RecordType::A], "{qname}");
        assert!(!data.metadata.authentic_data, "{qname}");
    }
    daemon.stop().await;
}

#[tokio::test]
async fn dnssec_ok_gets_signatures_and_proofs_fresh_and_from_the_cache() {
    let lab = common::lab().await;
    let daemon = Daemon::start(&lab).await;

    for round in ["fresh", "cached"] {
        let signed = daemon.ask("www.a.tld1.", RecordType::A, DO).await;
        assert_eq!(signed.metadata.response_code, ResponseCode::NoError);
        assert!(signed.metadata.authentic_data, "{round}: secure, AD");
        assert_eq!(
            types(&signed.answers),
            [RecordType::A, RecordType::RRSIG],
            "{round}: the RRSIG follows its RRset"
        );
        assert_eq!(covered(&signed.answers[1]), Some(RecordType::A));
        let RData::DNSSEC(DNSSECRData::RRSIG(sig)) = &signed.answers[1].data else {
            unreachable!()
        };
        assert_eq!(sig.input().signer_name, name("a.tld1."));
        assert_eq!(signed.answers[0].ttl, signed.answers[1].ttl, "{round}");
    }
    assert_eq!(
        asked(&lab, "www.a.tld1.", RecordType::A),
        1,
        "the second answer came from the cache"
    );
    // Without DO, no DNSSEC records (RFC 4035 §3.2.1).
    let plain = daemon.ask("www.a.tld1.", RecordType::A, PLAIN).await;
    assert_eq!(types(&plain.answers), [RecordType::A]);
    assert!(!plain.metadata.authentic_data);

    // A CNAME chain: every RRset with its own RRSIG.
    let chain = daemon.ask("alias.a.tld1.", RecordType::A, DO).await;
    assert_eq!(chain.metadata.response_code, ResponseCode::NoError);
    let sigs: Vec<_> = chain.answers.iter().filter_map(covered).collect();
    assert!(sigs.contains(&RecordType::CNAME), "{:?}", chain.answers);
    assert!(sigs.contains(&RecordType::A), "{:?}", chain.answers);

    // Negative answers: the proof rides along, and the verdict too when
    // the answer comes from the cache.
    for (qname, denial) in [
        ("nope.a.tld1.", RecordType::NSEC),
        ("nope.c.tld2.", RecordType::NSEC3),
    ] {
        for round in ["fresh", "cached"] {
            let reply = daemon.ask(qname, RecordType::A, DO).await;
            assert_eq!(
                reply.metadata.response_code,
                ResponseCode::NXDomain,
                "{qname} {round}"
            );
            assert!(reply.metadata.authentic_data, "{qname} {round}: AD");
            let authority = types(&reply.authorities);
            assert!(authority.contains(&RecordType::SOA), "{qname} {round}");
            assert!(
                authority.contains(&denial),
                "{qname} {round}: {authority:?}"
            );
            let signed: Vec<_> = reply.authorities.iter().filter_map(covered).collect();
            assert!(signed.contains(&RecordType::SOA), "{qname} {round}");
            assert!(signed.contains(&denial), "{qname} {round}");
            // Without DO, the SOA alone.
            let plain = daemon.ask(qname, RecordType::A, PLAIN).await;
            assert_eq!(types(&plain.authorities), [RecordType::SOA], "{qname}");
        }
        assert_eq!(asked(&lab, qname, RecordType::A), 1, "{qname}: cached");
    }

    daemon.stop().await;
}

/// `delv` (BIND 9's validating lookup tool, in Debian's bind9-dnsutils)
/// pointed at the daemon validates for itself what a DO client gets: the
/// RRSIGs, the DNSKEY and DS RRsets and the NSEC/NSEC3 proofs rootwalk
/// returns must form a chain from the lab's trust anchor. An independent
/// implementation, so a shared misreading of the RFCs shows up.
#[tokio::test]
async fn delv_validates_what_the_daemon_returns() {
    if std::process::Command::new("delv")
        .arg("-v")
        .output()
        .is_err()
    {
        println!("delv is not installed (apt-get install bind9-dnsutils); skipping");
        return;
    }
    let lab = common::lab().await;
    let daemon = Daemon::start(&lab).await;
    let dir = std::env::temp_dir().join(format!("rootwalk-delv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // The lab's anchor is one DS line: ". 3600 IN DS TAG ALG DIGEST HEX".
    let text = lab.trust_anchor().to_text();
    let fields: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(fields.get(3), Some(&"DS"), "{text}");
    let anchor = dir.join("anchor.conf");
    std::fs::write(
        &anchor,
        format!(
            "trust-anchors {{ \".\" static-ds {} {} {} \"{}\"; }};\n",
            fields[4], fields[5], fields[6], fields[7]
        ),
    )
    .unwrap();
    let port = daemon.addr.port().to_string();
    let cases = [
        ("www.a.tld1.", "; fully validated"),
        ("www.rsa.tld1.", "; fully validated"),
        // NSEC3, glueless.
        ("www.c.tld2.", "; fully validated"),
        ("nope.a.tld1.", "; negative response, fully validated"),
        ("nope.c.tld2.", "; negative response, fully validated"),
        ("www.unsigned.tld1.", "; unsigned answer"),
        ("www.badsig.tld1.", ";; resolution failed"),
    ];
    for (qname, verdict) in cases {
        let args = [
            "@127.0.0.1",
            "-p",
            &port,
            "-a",
            anchor.to_str().unwrap(),
            qname,
            "A",
        ];
        let args: Vec<String> = args.iter().map(ToString::to_string).collect();
        let output = tokio::task::spawn_blocking(move || run_bounded("delv", &args))
            .await
            .unwrap();
        assert!(
            output.contains(verdict),
            "{qname}: delv should say `{verdict}`:\n{output}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    daemon.stop().await;
}

/// Runs `program` with `args`, killed after 30 s; its stdout and stderr.
fn run_bounded(program: &str, args: &[String]) -> String {
    use std::process::{Command, Stdio};
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
