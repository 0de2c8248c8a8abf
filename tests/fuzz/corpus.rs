//! The seed corpora: real DNS messages built with hickory, committed as
//! binary files under `testdata/fuzz/query/` (what clients send the
//! daemon) and `testdata/fuzz/reply/` (what upstream servers send the
//! resolver). [`queries`] and [`replies`] are the generator;
//! `committed_corpus_matches_the_generator` checks the files against it and
//! `ROOTWALK_FUZZ_WRITE_CORPUS=1` rewrites them. Any other file in those
//! directories (a crash found later, saved as `regress-*.bin`) is loaded
//! too and run unmutated on every fuzz run.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use hickory_proto::dnssec::rdata::sig::SigInput;
use hickory_proto::dnssec::rdata::{DNSSECRData, DS, NSEC, RRSIG};
use hickory_proto::dnssec::{Algorithm, DigestType};
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, NS, SOA, TXT};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType, SerialNumber};

/// Where the corpora live, relative to the crate root.
pub fn dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/fuzz")
        .join(kind)
}

/// Every file of a corpus directory, sorted by name.
pub fn load(kind: &str) -> Vec<(String, Vec<u8>)> {
    let mut entries: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir(kind))
        .map(|read| {
            read.filter_map(Result::ok)
                .filter(|e| e.path().is_file())
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    std::fs::read(e.path()).ok().map(|bytes| (name, bytes))
                })
                .collect()
        })
        .unwrap_or_default();
    entries.sort();
    entries
}

fn n(name: &str) -> Name {
    Name::from_str(name).expect("generator names are valid")
}

fn query(id: u16, name: &str, rtype: RecordType) -> Message {
    let mut message = Message::new(id, MessageType::Query, OpCode::Query);
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(n(name), rtype));
    message
}

fn edns(mut message: Message, size: u16, version: u8, dnssec_ok: bool) -> Message {
    let mut edns = Edns::new();
    edns.set_max_payload(size);
    edns.set_version(version);
    edns.set_dnssec_ok(dnssec_ok);
    message.set_edns(edns);
    message
}

fn wire(message: &Message) -> Vec<u8> {
    message.to_vec().expect("generator messages encode")
}

/// The client queries: plain and EDNS, odd opcodes and classes, zero and
/// two questions, meta types, a response, a short packet, names at the
/// length limit, an EDNS option and a query carrying records.
pub fn queries() -> Vec<(&'static str, Vec<u8>)> {
    let mut out = vec![
        (
            "a-plain.bin",
            wire(&query(0x0101, "www.example.com.", RecordType::A)),
        ),
        (
            "aaaa-edns-1232-do.bin",
            wire(&edns(
                query(0x0102, "www.example.com.", RecordType::AAAA),
                1232,
                0,
                true,
            )),
        ),
        (
            "txt-edns-4096.bin",
            wire(&edns(
                query(0x0103, "big.example.org.", RecordType::TXT),
                4096,
                0,
                false,
            )),
        ),
        (
            "mx-edns-tiny-payload.bin",
            wire(&edns(
                query(0x0104, "example.net.", RecordType::MX),
                100,
                0,
                false,
            )),
        ),
        (
            "ns-root-edns-65535.bin",
            wire(&edns(query(0x0105, ".", RecordType::NS), 65535, 0, false)),
        ),
        (
            "a-edns-version-1.bin",
            wire(&edns(
                query(0x0106, "www.example.com.", RecordType::A),
                1232,
                1,
                false,
            )),
        ),
        (
            "any.bin",
            wire(&query(0x0107, "example.com.", RecordType::ANY)),
        ),
        (
            "axfr.bin",
            wire(&query(0x0108, "example.com.", RecordType::AXFR)),
        ),
        (
            "opt-as-question.bin",
            wire(&query(0x0109, "example.com.", RecordType::OPT)),
        ),
        (
            "mixed-case.bin",
            wire(&query(0x010a, "WwW.ExAmPlE.CoM.", RecordType::CNAME)),
        ),
        (
            "ptr-v6.bin",
            wire(&query(
                0x010b,
                "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.",
                RecordType::PTR,
            )),
        ),
    ];
    let long = format!(
        "{}.{}.{}.{}.",
        "a".repeat(63),
        "b".repeat(63),
        "c".repeat(63),
        "d".repeat(61)
    );
    out.push(("name-255.bin", wire(&query(0x0110, &long, RecordType::A))));

    for (file, op) in [
        ("opcode-notify.bin", OpCode::Notify),
        ("opcode-update.bin", OpCode::Update),
        ("opcode-status.bin", OpCode::Status),
    ] {
        let mut message = query(0x0120, "example.com.", RecordType::SOA);
        message.metadata.op_code = op;
        out.push((file, wire(&message)));
    }
    // Opcode 15 (unassigned): patch the header byte.
    let mut unassigned = wire(&query(0x0124, "example.com.", RecordType::A));
    unassigned[2] = (unassigned[2] & 0x87) | (15 << 3);
    out.push(("opcode-15.bin", unassigned));

    let mut two = query(0x0130, "a.example.com.", RecordType::A);
    two.add_query(Query::query(n("b.example.com."), RecordType::AAAA));
    out.push(("two-questions.bin", wire(&two)));
    out.push((
        "no-question.bin",
        wire(&Message::new(0x0131, MessageType::Query, OpCode::Query)),
    ));
    let mut chaos = Query::query(n("version.bind."), RecordType::TXT);
    chaos.set_query_class(DNSClass::CH);
    let mut chaos_query = Message::new(0x0132, MessageType::Query, OpCode::Query);
    chaos_query.add_query(chaos);
    out.push(("chaos-version-bind.bin", wire(&chaos_query)));

    let mut response = query(0x0140, "www.example.com.", RecordType::A);
    response.metadata.message_type = MessageType::Response;
    out.push(("qr-set.bin", wire(&response)));
    out.push((
        "short-11.bin",
        wire(&query(0x0141, "x.", RecordType::A))[..11].to_vec(),
    ));

    // A query carrying an answer and an additional record: names compress
    // against the question.
    let mut carrying = edns(
        query(0x0150, "www.example.com.", RecordType::A),
        1232,
        0,
        false,
    );
    carrying.add_answer(Record::from_rdata(
        n("www.example.com."),
        60,
        RData::A(A::new(192, 0, 2, 1)),
    ));
    carrying.add_additional(Record::from_rdata(
        n("ns.www.example.com."),
        60,
        RData::AAAA(AAAA::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
    ));
    out.push(("with-records.bin", wire(&carrying)));

    // An OPT record with a COOKIE option (RFC 7873, code 10), appended by
    // hand: header ARCOUNT=1, then root name, TYPE=41, CLASS=1232, TTL=0,
    // RDLENGTH=12, option 10 of 8 bytes.
    let mut cookie = wire(&query(0x0151, "www.example.com.", RecordType::A));
    cookie[11] = 1;
    cookie.extend_from_slice(&[0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 12, 0, 10, 0, 8]);
    cookie.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
    out.push(("edns-cookie.bin", cookie));

    // 100 questions, the 99 after the first a compression pointer to it:
    // 600 bytes that decode to 26 KB of names.
    let mut pointers = wire(&query(0x0152, &long, RecordType::A));
    pointers[4..6].copy_from_slice(&100u16.to_be_bytes());
    for _ in 1..100 {
        pointers.extend_from_slice(&[0xC0, 0x0C, 0, 1, 0, 1]);
    }
    out.push(("questions-compressed-100.bin", pointers));
    out
}

fn reply(id: u16, qname: &str, qtype: RecordType, aa: bool) -> Message {
    let mut message = Message::response(id, OpCode::Query);
    message.metadata.authoritative = aa;
    message.add_query(Query::query(n(qname), qtype));
    message
}

fn a(owner: &str, last: u8) -> Record {
    Record::from_rdata(n(owner), 300, RData::A(A::new(192, 0, 2, last)))
}

fn aaaa(owner: &str, last: u16) -> Record {
    Record::from_rdata(
        n(owner),
        300,
        RData::AAAA(AAAA::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, last)),
    )
}

fn ns(owner: &str, target: &str) -> Record {
    Record::from_rdata(n(owner), 172_800, RData::NS(NS(n(target))))
}

fn cname(owner: &str, target: &str) -> Record {
    Record::from_rdata(n(owner), 300, RData::CNAME(CNAME(n(target))))
}

fn soa(owner: &str) -> Record {
    let data = SOA::new(
        n(&format!("ns1.{owner}")),
        n(&format!("hostmaster.{owner}")),
        2024010101,
        7200,
        3600,
        1_209_600,
        300,
    );
    Record::from_rdata(n(owner), 300, RData::SOA(data))
}

/// The upstream replies: referrals with and without glue, answers, CNAME
/// chains in and out of the zone, negative answers with SOA, a big TXT,
/// poison, upward referrals, error rcodes, odd classes and TTLs, a flood
/// of RRsets, a referral with more glued NS names than one reply may
/// store, and DNSSEC: a referral with DS, a signed answer, an NXDOMAIN with
/// NSEC. Names compress, so pointers are everywhere.
pub fn replies() -> Vec<(&'static str, Vec<u8>)> {
    let mut out = Vec::new();

    let mut root = reply(0x0201, "www.example.com.", RecordType::A, false);
    root.metadata.recursion_desired = false;
    for server in ["a.gtld-servers.net.", "b.gtld-servers.net."] {
        root.add_authority(ns("com.", server));
    }
    root.add_additional(a("a.gtld-servers.net.", 30));
    root.add_additional(aaaa("a.gtld-servers.net.", 30));
    root.add_additional(a("b.gtld-servers.net.", 31));
    out.push(("referral-root-to-com.bin", wire(&root)));

    let mut glued = reply(0x0202, "www.example.com.", RecordType::A, false);
    glued.add_authority(ns("example.com.", "ns1.example.com."));
    glued.add_authority(ns("example.com.", "ns2.example.com."));
    glued.add_additional(a("ns1.example.com.", 53));
    glued.add_additional(aaaa("ns1.example.com.", 53));
    glued.add_additional(a("ns2.example.com.", 54));
    out.push(("referral-com-glue.bin", wire(&edns(glued, 1232, 0, false))));

    let mut glueless = reply(0x0203, "www.example.com.", RecordType::A, false);
    glueless.add_authority(ns("example.com.", "ns.provider.net."));
    glueless.add_authority(ns("example.com.", "ns.provider.org."));
    out.push(("referral-glueless.bin", wire(&glueless)));

    let mut answer = reply(0x0204, "www.example.com.", RecordType::A, true);
    for last in 1..=3 {
        answer.add_answer(a("www.example.com.", last));
    }
    answer.add_authority(ns("example.com.", "ns1.example.com."));
    answer.add_additional(a("ns1.example.com.", 53));
    out.push(("answer-a.bin", wire(&answer)));

    let mut chain = reply(0x0205, "www.example.com.", RecordType::A, true);
    chain.add_answer(cname("www.example.com.", "w1.example.com."));
    chain.add_answer(cname("w1.example.com.", "w2.example.com."));
    chain.add_answer(a("w2.example.com.", 7));
    out.push(("cname-chain-in-zone.bin", wire(&chain)));

    let mut out_of_zone = reply(0x0206, "www.example.com.", RecordType::A, true);
    out_of_zone.add_answer(cname("www.example.com.", "cdn.provider.net."));
    out_of_zone.add_answer(a("cdn.provider.net.", 66));
    out.push(("cname-out-of-zone-with-a.bin", wire(&out_of_zone)));

    let mut looped = reply(0x0207, "a.example.com.", RecordType::A, true);
    looped.add_answer(cname("a.example.com.", "b.example.com."));
    looped.add_answer(cname("b.example.com.", "a.example.com."));
    out.push(("cname-loop.bin", wire(&looped)));

    let mut nx = reply(0x0208, "nope.example.com.", RecordType::A, true);
    nx.metadata.response_code = ResponseCode::NXDomain;
    nx.add_authority(soa("example.com."));
    out.push(("nxdomain-soa.bin", wire(&nx)));

    let mut nodata = reply(0x0209, "www.example.com.", RecordType::AAAA, true);
    nodata.add_authority(soa("example.com."));
    out.push(("nodata-soa.bin", wire(&edns(nodata, 1232, 0, true))));

    let mut big = reply(0x020a, "big.example.org.", RecordType::TXT, true);
    for i in 0..16 {
        let text = format!("{i:02}{}", "t".repeat(250));
        big.add_answer(Record::from_rdata(
            n("big.example.org."),
            300,
            RData::TXT(TXT::new(vec![text.clone(), text])),
        ));
    }
    out.push(("big-txt.bin", wire(&edns(big, 4096, 0, false))));

    // Poison: a true answer plus records the server may not speak for.
    let mut poison = reply(0x020b, "www.example.com.", RecordType::A, true);
    poison.add_answer(a("www.example.com.", 1));
    poison.add_answer(a("www.victim.org.", 66));
    poison.add_authority(ns("com.", "ns.evil.net."));
    poison.add_authority(ns("victim.org.", "ns.evil.net."));
    poison.add_additional(a("ns.evil.net.", 66));
    poison.add_additional(a("www.victim.org.", 66));
    out.push(("poison.bin", wire(&poison)));

    let mut upward = reply(0x020c, "www.example.com.", RecordType::A, false);
    upward.add_authority(ns(".", "a.root-servers.net."));
    upward.add_additional(a("a.root-servers.net.", 4));
    out.push(("referral-upward.bin", wire(&upward)));

    for (file, rcode) in [
        ("refused.bin", ResponseCode::Refused),
        ("servfail.bin", ResponseCode::ServFail),
        ("formerr.bin", ResponseCode::FormErr),
    ] {
        let mut error = reply(0x020d, "www.example.com.", RecordType::A, false);
        error.metadata.response_code = rcode;
        out.push((file, wire(&error)));
    }

    let mut classes = reply(0x020e, "www.example.com.", RecordType::A, true);
    let mut chaos = a("www.example.com.", 9);
    chaos.dns_class = DNSClass::CH;
    classes.add_answer(chaos);
    classes.add_answer(a("www.example.com.", 10));
    let mut ttl = a("www.example.com.", 11);
    ttl.ttl = 0x8000_0000;
    classes.add_answer(ttl);
    out.push(("classes-and-ttls.bin", wire(&classes)));

    let mut flood = reply(0x020f, "www.example.com.", RecordType::A, true);
    flood.add_answer(a("www.example.com.", 1));
    for i in 0..200 {
        flood.add_additional(a(&format!("h{i}.example.com."), 2));
    }
    out.push(("rrset-flood.bin", wire(&edns(flood, 65535, 0, false))));

    let mut mx = reply(0x0210, "example.net.", RecordType::MX, true);
    for (pref, host) in [(10, "mx1.example.net."), (20, "mx2.example.net.")] {
        mx.add_answer(Record::from_rdata(
            n("example.net."),
            300,
            RData::MX(MX::new(pref, n(host))),
        ));
        mx.add_additional(a(host, 25));
    }
    out.push(("mx-with-additional.bin", wire(&mx)));

    let mut mixed = reply(0x0211, "WWW.Example.COM.", RecordType::A, false);
    mixed.add_authority(ns("EXAMPLE.com.", "NS1.example.COM."));
    mixed.add_additional(a("ns1.EXAMPLE.com.", 53));
    out.push(("referral-mixed-case.bin", wire(&mixed)));

    let mut tc = reply(0x0212, "big.example.org.", RecordType::TXT, true);
    tc.metadata.truncation = true;
    out.push(("truncated.bin", wire(&tc)));

    let mut two_ns = reply(0x0213, "www.sub.example.com.", RecordType::A, false);
    two_ns.add_authority(ns("sub.example.com.", "ns.sub.example.com."));
    two_ns.add_authority(ns("other.example.com.", "ns.other.example.com."));
    two_ns.add_authority(soa("example.com."));
    two_ns.add_additional(a("ns.sub.example.com.", 1));
    two_ns.add_additional(a("ns.other.example.com.", 2));
    out.push(("referral-two-owners-and-soa.bin", wire(&two_ns)));

    // More RRsets than the resolver stores from one reply: one NS RRset
    // of 80 names, each with its glue. The target scrubs a reply as a
    // zone its bytes pick (`upstream::zone_for`); the ID is chosen so the
    // pick is `com.`, where this is a referral that hits the cap.
    let wide_referral = |id: u16| {
        let mut wide = reply(id, "www.example.com.", RecordType::A, false);
        for i in 0..80 {
            let server = format!("ns{i}.example.com.");
            wide.add_authority(ns("example.com.", &server));
            wide.add_additional(a(&server, 1));
        }
        wire(&edns(wide, 65535, 0, false))
    };
    let com = Name::from_str("com.").unwrap();
    let wide = (0x0214..0x0300)
        .map(wide_referral)
        .find(|bytes| {
            let message = Message::from_vec(bytes).unwrap();
            let qname = message.queries[0].name().clone();
            crate::upstream::zone_for(&qname, &message, crate::mutate::fnv(bytes)) == com
        })
        .expect("an ID whose zone pick is com.");
    out.push(("referral-80-glued-ns.bin", wide));

    // DNSSEC (DO=1): what the scrubber keeps beside the other sections.
    let mut signed_referral = reply(0x0215, "www.example.com.", RecordType::A, false);
    signed_referral.add_authority(ns("example.com.", "ns1.example.com."));
    signed_referral.add_authority(ds("example.com."));
    signed_referral.add_authority(rrsig("example.com.", RecordType::DS, "com."));
    signed_referral.add_additional(a("ns1.example.com.", 53));
    out.push((
        "dnssec-referral-ds.bin",
        wire(&edns(signed_referral, 1232, 0, true)),
    ));

    let mut signed_answer = reply(0x0216, "www.example.com.", RecordType::A, true);
    signed_answer.add_answer(a("www.example.com.", 1));
    signed_answer.add_answer(rrsig("www.example.com.", RecordType::A, "example.com."));
    out.push((
        "dnssec-answer-rrsig.bin",
        wire(&edns(signed_answer, 1232, 0, true)),
    ));

    let mut signed_nx = reply(0x0217, "nope.example.com.", RecordType::A, true);
    signed_nx.metadata.response_code = ResponseCode::NXDomain;
    signed_nx.add_authority(soa("example.com."));
    signed_nx.add_authority(rrsig("example.com.", RecordType::SOA, "example.com."));
    signed_nx.add_authority(nsec("example.com.", "www.example.com."));
    signed_nx.add_authority(rrsig("example.com.", RecordType::NSEC, "example.com."));
    out.push((
        "dnssec-nxdomain-nsec.bin",
        wire(&edns(signed_nx, 1232, 0, true)),
    ));
    out
}

/// A DS record for `owner` (digest bytes made up: nothing here validates).
fn ds(owner: &str) -> Record {
    let data = DS::new(
        4242,
        Algorithm::ECDSAP256SHA256,
        DigestType::SHA256,
        vec![7; 32],
    );
    Record::from_rdata(n(owner), 300, RData::DNSSEC(DNSSECRData::DS(data)))
}

/// An RRSIG over `covered` at `owner` by `signer` (signature made up).
fn rrsig(owner: &str, covered: RecordType, signer: &str) -> Record {
    let input = SigInput {
        type_covered: covered,
        algorithm: Algorithm::ECDSAP256SHA256,
        num_labels: n(owner).num_labels(),
        original_ttl: 300,
        sig_expiration: SerialNumber::new(2_000_000_000),
        sig_inception: SerialNumber::new(1_000_000_000),
        key_tag: 4242,
        signer_name: n(signer),
    };
    let data = RRSIG::from_sig(input, vec![0; 64]);
    Record::from_rdata(n(owner), 300, RData::DNSSEC(DNSSECRData::RRSIG(data)))
}

/// An NSEC at `owner` pointing to `next`, for SOA, NS and NSEC.
fn nsec(owner: &str, next: &str) -> Record {
    let data = NSEC::new(n(next), [RecordType::SOA, RecordType::NS, RecordType::NSEC]);
    Record::from_rdata(n(owner), 300, RData::DNSSEC(DNSSECRData::NSEC(data)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes the generated seeds when `ROOTWALK_FUZZ_WRITE_CORPUS` is set;
    /// otherwise checks that every generated seed is committed unchanged.
    #[test]
    fn committed_corpus_matches_the_generator() {
        let write = std::env::var_os("ROOTWALK_FUZZ_WRITE_CORPUS").is_some();
        for (kind, seeds) in [("query", queries()), ("reply", replies())] {
            let dir = dir(kind);
            if write {
                std::fs::create_dir_all(&dir).expect("create the corpus directory");
            }
            for (file, bytes) in seeds {
                let path = dir.join(file);
                if write {
                    std::fs::write(&path, &bytes).expect("write a seed");
                }
                let committed = std::fs::read(&path).unwrap_or_default();
                assert!(
                    committed == bytes,
                    "{} differs from the generator; rerun with ROOTWALK_FUZZ_WRITE_CORPUS=1",
                    path.display()
                );
            }
        }
    }

    #[test]
    fn seeds_are_what_they_claim() {
        for (file, bytes) in queries() {
            let qr = bytes.len() >= 12 && bytes[2] & 0x80 != 0;
            assert_eq!(qr, file == "qr-set.bin", "{file}");
        }
        for (file, bytes) in replies() {
            let message = Message::from_vec(&bytes).expect("a seed reply parses");
            assert_eq!(
                message.metadata.message_type,
                MessageType::Response,
                "{file}"
            );
            assert_eq!(message.queries.len(), 1, "{file}");
        }
        assert!(load("query").len() >= queries().len());
        assert!(load("reply").len() >= replies().len());
    }
}
