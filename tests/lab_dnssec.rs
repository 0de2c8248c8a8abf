//! The signed lab, asked with DO=1 and judged by the validator
//! (`rootwalk::validate`) from the lab's own trust anchor: a small
//! validating walk in this file asks each zone's server for DS and DNSKEY
//! down the chain, then checks the answer or the denial proof. Secure for
//! the good zones (NSEC and NSEC3, P-256 and Ed25519, a glueless zone whose
//! server lives in another signed zone), the right bogus reason for each
//! broken zone, insecure for unsigned delegations (NSEC, NSEC3 opt-out);
//! and DO=0 replies free of DNSSEC records.

use std::net::SocketAddr;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hickory_proto::dnssec::rdata::DS;
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, Record, RecordType};
use rootwalk::lab::{Lab, LabConfig};
use rootwalk::validate::keys::{KeyVerdict, TrustedKeys, verify_dnskeys};
use rootwalk::validate::sig::{Verified, verify_rrset};
use rootwalk::validate::{BogusReason, Security, SigBudget, as_ds, nsec, nsec3};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

const WAIT: Duration = Duration::from_secs(2);

fn name(s: &str) -> Name {
    Name::from_str(s).unwrap()
}

async fn lab() -> Lab {
    let config = LabConfig {
        latency: false,
        ..LabConfig::for_tests()
    };
    Lab::start(config).await.unwrap()
}

/// Asks `server` (a lab server name) for `qname`/`qtype`, EDNS with DO as
/// given, over UDP and then TCP if truncated.
async fn ask(lab: &Lab, server: &str, qname: &str, qtype: RecordType, dnssec_ok: bool) -> Message {
    let to = SocketAddr::new(lab.address_of(server).unwrap(), lab.port());
    let mut q = Message::new(rand::random(), MessageType::Query, OpCode::Query);
    q.add_query(Query::query(name(qname), qtype));
    let mut edns = Edns::new();
    edns.set_max_payload(1232);
    edns.set_dnssec_ok(dnssec_ok);
    q.set_edns(edns);
    let bytes = q.to_vec().unwrap();
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.send_to(&bytes, to).await.unwrap();
    let mut buf = vec![0u8; 65_535];
    let (len, _) = tokio::time::timeout(WAIT, socket.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let reply = Message::from_vec(&buf[..len]).unwrap();
    if !reply.metadata.truncation {
        return reply;
    }
    let mut stream = TcpStream::connect(to).await.unwrap();
    stream
        .write_all(&(bytes.len() as u16).to_be_bytes())
        .await
        .unwrap();
    stream.write_all(&bytes).await.unwrap();
    let len = tokio::time::timeout(WAIT, stream.read_u16())
        .await
        .unwrap()
        .unwrap();
    let mut frame = vec![0u8; usize::from(len)];
    stream.read_exact(&mut frame).await.unwrap();
    Message::from_vec(&frame).unwrap()
}

/// The records of `rtype` owned by `owner` and all RRSIGs in `section`.
fn split(section: &[Record], owner: &Name, rtype: RecordType) -> (Vec<Record>, Vec<Record>) {
    let data = section
        .iter()
        .filter(|r| r.record_type() == rtype && r.name == *owner)
        .cloned()
        .collect();
    let sigs = section
        .iter()
        .filter(|r| r.record_type() == RecordType::RRSIG)
        .cloned()
        .collect();
    (data, sigs)
}

fn now() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32
}

/// A validating walk down the lab: `hops` are (zone, server) from the root.
struct Walk<'a> {
    lab: &'a Lab,
    budget: SigBudget,
}

impl<'a> Walk<'a> {
    fn new(lab: &'a Lab) -> Self {
        Self {
            lab,
            budget: SigBudget::default(),
        }
    }

    async fn keys(&mut self, zone: &str, server: &str, ds: &[DS]) -> KeyVerdict {
        let reply = ask(self.lab, server, zone, RecordType::DNSKEY, true).await;
        let (keys, sigs) = split(&reply.answers, &name(zone), RecordType::DNSKEY);
        verify_dnskeys(&name(zone), ds, &[], &keys, &sigs, now(), &mut self.budget)
    }

    /// The NSEC/NSEC3 records of `section`, each RRset's signature checked.
    fn denial(&mut self, section: &[Record], keys: &TrustedKeys) -> Result<Vec<Record>, Security> {
        let mut out = Vec::new();
        for record in section
            .iter()
            .filter(|r| matches!(r.record_type(), RecordType::NSEC | RecordType::NSEC3))
        {
            let (set, sigs) = split(section, &record.name, record.record_type());
            verify_rrset(&set, &sigs, keys, now(), &mut self.budget).map_err(Security::Bogus)?;
            out.push(record.clone());
        }
        Ok(out)
    }

    /// Walks the chain of trust along `hops`: the last zone's keys, or the
    /// verdict where the walk stopped (insecure delegation, bogus).
    async fn chain(&mut self, hops: &[(&str, &str)]) -> Result<TrustedKeys, Security> {
        let anchor = self.lab.trust_anchor().ds_for(&Name::root());
        assert!(!anchor.is_empty(), "the lab's root is signed");
        let (root, root_server) = hops[0];
        let mut keys = match self.keys(root, root_server, &anchor).await {
            KeyVerdict::Secure(keys) => keys,
            other => return Err(other.security()),
        };
        for pair in hops.windows(2) {
            let (parent_server, (child, child_server)) = (pair[0].1, pair[1]);
            let reply = ask(self.lab, parent_server, child, RecordType::DS, true).await;
            let (ds_records, sigs) = split(&reply.answers, &name(child), RecordType::DS);
            if ds_records.is_empty() {
                let proof = self.denial(&reply.authorities, &keys)?;
                let zone = keys.zone().clone();
                let verdict = if proof.iter().any(|r| r.record_type() == RecordType::NSEC3) {
                    nsec3::prove_no_ds(&name(child), &zone, &proof)
                } else {
                    nsec::prove_no_ds(&name(child), &zone, &proof)
                };
                return Err(match verdict {
                    Security::Secure | Security::Insecure => Security::Insecure,
                    other => other,
                });
            }
            verify_rrset(&ds_records, &sigs, &keys, now(), &mut self.budget)
                .map_err(Security::Bogus)?;
            let ds: Vec<DS> = ds_records.iter().filter_map(as_ds).cloned().collect();
            keys = match self.keys(child, child_server, &ds).await {
                KeyVerdict::Secure(keys) => keys,
                other => return Err(other.security()),
            };
        }
        Ok(keys)
    }

    /// The chain along `hops`, then `qname`/`qtype` from the last server:
    /// the verdict on the answer RRset.
    async fn answer(
        &mut self,
        hops: &[(&str, &str)],
        qname: &str,
        qtype: RecordType,
    ) -> Result<Verified, Security> {
        let keys = self.chain(hops).await?;
        let server = hops[hops.len() - 1].1;
        let reply = ask(self.lab, server, qname, qtype, true).await;
        let (data, sigs) = split(&reply.answers, &name(qname), qtype);
        assert!(!data.is_empty(), "{qname} {qtype}: {reply:?}");
        verify_rrset(&data, &sigs, &keys, now(), &mut self.budget).map_err(Security::Bogus)
    }
}

const ROOT: (&str, &str) = (".", "a.root-servers.lab.");
const TLD1: (&str, &str) = ("tld1.", "ns1.nic.tld1.");
const TLD2: (&str, &str) = ("tld2.", "ns1.nic.tld2.");
const TLD3: (&str, &str) = ("tld3.", "ns1.nic.tld3.");
const A_TLD1: (&str, &str) = ("a.tld1.", "ns1.a.tld1.");

fn bogus_code(result: Result<Verified, Security>) -> u16 {
    match result {
        Err(Security::Bogus(reason)) => reason.ede_code(),
        other => panic!("expected bogus, got {other:?}"),
    }
}

#[tokio::test]
async fn trust_anchor_is_the_signed_roots_ds() {
    let lab = lab().await;
    let anchor = lab.trust_anchor();
    let ds = anchor.ds_for(&Name::root());
    assert_eq!(ds.len(), 1);
    let text = anchor.to_text();
    assert!(text.starts_with(". 3600 IN DS "), "{text}");
    let again = rootwalk::validate::anchor::TrustAnchors::parse(&text, "lab-anchor").unwrap();
    assert_eq!(again, anchor);
    // The root's DNSKEY set holds the key it names, signed by it.
    let mut walk = Walk::new(&lab);
    assert!(matches!(
        walk.keys(".", "b.root-servers.lab.", &ds).await,
        KeyVerdict::Secure(_)
    ));
}

#[tokio::test]
async fn signed_zones_validate_down_the_chain() {
    let lab = lab().await;
    let mut walk = Walk::new(&lab);
    // ECDSA and NSEC: . -> tld1 -> a.tld1.
    let ok = walk
        .answer(&[ROOT, TLD1, A_TLD1], "www.a.tld1.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(ok.wildcard, None);
    assert!(ok.ttl <= 3600 && ok.ttl > 0);
    // NSEC3 at tld2 and c.tld2; c.tld2 is glueless and its server,
    // ns.hosting.tld3, lives in the signed (Ed25519) hosting.tld3.
    let c_tld2 = ("c.tld2.", "ns.hosting.tld3.");
    walk.answer(&[ROOT, TLD2, c_tld2], "www.c.tld2.", RecordType::A)
        .await
        .unwrap();
    let hosting = ("hosting.tld3.", "ns.hosting.tld3.");
    walk.answer(&[ROOT, TLD3, hosting], "ns.hosting.tld3.", RecordType::A)
        .await
        .unwrap();
    // The NSEC3 opt-out zone is itself secure.
    let optout = ("optout.tld2.", "ns.optout.tld2.");
    walk.answer(&[ROOT, TLD2, optout], "www.optout.tld2.", RecordType::A)
        .await
        .unwrap();
    assert!(walk.budget.remaining() < rootwalk::validate::MAX_SIG_VERIFICATIONS);
}

#[tokio::test]
async fn each_broken_zone_is_bogus_for_its_reason() {
    let lab = lab().await;
    for (zone, server, code) in [
        ("badsig.tld1.", "ns.badsig.tld1.", 6),
        ("expired.tld1.", "ns.expired.tld1.", 7),
        ("dsmismatch.tld1.", "ns.dsmismatch.tld1.", 9),
        ("zskonly.tld1.", "ns.zskonly.tld1.", 10),
    ] {
        let mut walk = Walk::new(&lab);
        let qname = format!("www.{zone}");
        let result = walk
            .answer(&[ROOT, TLD1, (zone, server)], &qname, RecordType::A)
            .await;
        assert_eq!(bogus_code(result), code, "{zone}");
    }
    // The expired zone's reason says when.
    let mut walk = Walk::new(&lab);
    let result = walk
        .answer(
            &[ROOT, TLD1, ("expired.tld1.", "ns.expired.tld1.")],
            "www.expired.tld1.",
            RecordType::A,
        )
        .await;
    let Err(Security::Bogus(BogusReason::SignatureExpired {
        expiration, now, ..
    })) = result
    else {
        panic!("{result:?}");
    };
    assert!(expiration < now);
}

#[tokio::test]
async fn unsigned_delegations_are_insecure() {
    let lab = lab().await;
    let mut walk = Walk::new(&lab);
    // tld1's NSEC at unsigned.tld1 has NS and no DS.
    let result = walk
        .answer(
            &[ROOT, TLD1, ("unsigned.tld1.", "ns.unsigned.tld1.")],
            "www.unsigned.tld1.",
            RecordType::A,
        )
        .await;
    assert_eq!(result, Err(Security::Insecure));
    // optout.tld2's NSEC3 chain leaves insecure.optout.tld2 out: an
    // opt-out span covers it.
    let result = walk
        .answer(
            &[
                ROOT,
                TLD2,
                ("optout.tld2.", "ns.optout.tld2."),
                ("insecure.optout.tld2.", "ns.insecure.optout.tld2."),
            ],
            "www.insecure.optout.tld2.",
            RecordType::A,
        )
        .await;
    assert_eq!(result, Err(Security::Insecure));
    // hop.tld1's CNAME is secure; its target, in unsigned.tld1, is not.
    let hop = ("hop.tld1.", "ns.hop.tld1.");
    let cname = walk
        .answer(&[ROOT, TLD1, hop], "www.hop.tld1.", RecordType::CNAME)
        .await;
    assert!(cname.is_ok(), "{cname:?}");
    let reply = ask(&lab, "ns.hop.tld1.", "www.hop.tld1.", RecordType::A, true).await;
    assert_eq!(reply.answers[0].record_type(), RecordType::CNAME);
}

#[tokio::test]
async fn negative_answers_and_wildcards_are_proven() {
    let lab = lab().await;
    let mut walk = Walk::new(&lab);
    let keys = walk.chain(&[ROOT, TLD1, A_TLD1]).await.unwrap();
    let zone = name("a.tld1.");
    let server = "ns1.a.tld1.";

    let reply = ask(&lab, server, "nope.a.tld1.", RecordType::A, true).await;
    assert_eq!(reply.metadata.response_code, ResponseCode::NXDomain);
    let proof = walk.denial(&reply.authorities, &keys).unwrap();
    assert!(nsec::prove_nxdomain(&name("nope.a.tld1."), &zone, &proof).is_secure());
    let (soa, sigs) = split(&reply.authorities, &zone, RecordType::SOA);
    verify_rrset(&soa, &sigs, &keys, now(), &mut walk.budget).unwrap();

    for (qname, qtype) in [
        ("www.a.tld1.", RecordType::AAAA),
        ("ent.a.tld1.", RecordType::A),
        ("x.wild.a.tld1.", RecordType::AAAA),
    ] {
        let reply = ask(&lab, server, qname, qtype, true).await;
        assert!(reply.answers.is_empty(), "{qname}");
        let proof = walk.denial(&reply.authorities, &keys).unwrap();
        let verdict = nsec::prove_nodata(&name(qname), qtype, &zone, &proof);
        assert!(verdict.is_secure(), "{qname} {qtype}: {verdict} {proof:?}");
    }

    // A wildcard answer: the RRSIG shows the expansion, an NSEC proves no
    // closer name.
    let reply = ask(&lab, server, "x.wild.a.tld1.", RecordType::A, true).await;
    let (data, sigs) = split(&reply.answers, &name("x.wild.a.tld1."), RecordType::A);
    let ok = verify_rrset(&data, &sigs, &keys, now(), &mut walk.budget).unwrap();
    let wildcard = ok.wildcard.clone().unwrap();
    assert_eq!(wildcard, name("*.wild.a.tld1."));
    let proof = walk.denial(&reply.authorities, &keys).unwrap();
    assert!(nsec::prove_wildcard(&name("x.wild.a.tld1."), &wildcard, &zone, &proof).is_secure());

    // NSEC3 at c.tld2.
    let keys = walk
        .chain(&[ROOT, TLD2, ("c.tld2.", "ns.hosting.tld3.")])
        .await
        .unwrap();
    let zone = name("c.tld2.");
    let reply = ask(
        &lab,
        "ns.hosting.tld3.",
        "nope.c.tld2.",
        RecordType::A,
        true,
    )
    .await;
    assert_eq!(reply.metadata.response_code, ResponseCode::NXDomain);
    let proof = walk.denial(&reply.authorities, &keys).unwrap();
    assert!(nsec3::prove_nxdomain(&name("nope.c.tld2."), &zone, &proof).is_secure());
    let reply = ask(
        &lab,
        "ns.hosting.tld3.",
        "www.c.tld2.",
        RecordType::AAAA,
        true,
    )
    .await;
    let proof = walk.denial(&reply.authorities, &keys).unwrap();
    assert!(nsec3::prove_nodata(&name("www.c.tld2."), RecordType::AAAA, &zone, &proof).is_secure());
}

/// Whether `message` carries any DNSSEC record in any section.
fn has_dnssec(message: &Message) -> bool {
    message
        .answers
        .iter()
        .chain(&message.authorities)
        .chain(&message.additionals)
        .any(|r| {
            matches!(
                r.record_type(),
                RecordType::RRSIG
                    | RecordType::NSEC
                    | RecordType::NSEC3
                    | RecordType::DS
                    | RecordType::DNSKEY
            )
        })
}

#[tokio::test]
async fn do_zero_replies_carry_no_dnssec_records() {
    let lab = lab().await;
    for (server, qname, qtype) in [
        ("a.root-servers.lab.", "www.a.tld1.", RecordType::A),
        ("ns1.nic.tld1.", "www.a.tld1.", RecordType::A),
        ("ns1.a.tld1.", "www.a.tld1.", RecordType::A),
        ("ns1.a.tld1.", "a.tld1.", RecordType::ANY),
        ("ns1.a.tld1.", "nope.a.tld1.", RecordType::A),
        ("ns1.a.tld1.", "x.wild.a.tld1.", RecordType::A),
        ("ns1.nic.tld2.", "nope.tld2.", RecordType::A),
    ] {
        let plain = ask(&lab, server, qname, qtype, false).await;
        assert!(!has_dnssec(&plain), "{server} {qname} {qtype}: {plain:?}");
        assert!(!plain.edns.as_ref().unwrap().flags().dnssec_ok);
        let signed = ask(&lab, server, qname, qtype, true).await;
        assert!(has_dnssec(&signed), "{server} {qname} {qtype}");
        assert!(signed.edns.as_ref().unwrap().flags().dnssec_ok, "DO echoed");
        assert_eq!(plain.metadata.response_code, signed.metadata.response_code);
    }
    // A referral with DO=1 carries the DS set and its RRSIG.
    let referral = ask(&lab, "ns1.nic.tld1.", "www.a.tld1.", RecordType::A, true).await;
    let types: Vec<RecordType> = referral
        .authorities
        .iter()
        .map(Record::record_type)
        .collect();
    assert!(
        types.contains(&RecordType::DS) && types.contains(&RecordType::RRSIG),
        "{types:?}"
    );
}

/// Writes every signed zone of the built-in lab as zone text to the
/// directory `$ROOTWALK_ZONE_DUMP`, for cross-checks with
/// `ldns-verify-zone` or `dnssec-verify`. Ignored: run it by hand.
#[test]
#[ignore]
fn dump_signed_zones_for_external_verifiers() {
    use rootwalk::lab::manifest::{DEFAULT_PREFIX, Source, load};
    let dir = std::env::var("ROOTWALK_ZONE_DUMP").expect("set ROOTWALK_ZONE_DUMP");
    let spec = load(
        Source::Builtin(rootwalk::lab::BUILTIN_FILES),
        DEFAULT_PREFIX,
    )
    .unwrap();
    for served in &spec.zones {
        let zone = served.current();
        if !zone.is_signed() {
            continue;
        }
        let text: String = zone
            .signed_records()
            .iter()
            .map(|r| format!("{r}\n"))
            .collect();
        let file = format!("{dir}/{}zone", zone.origin());
        std::fs::write(file, text).unwrap();
    }
}
