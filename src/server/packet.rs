//! One client message in, a verdict out; an outcome in, wire bytes out.
//! Pure: no sockets, no clocks, no resolver.
//!
//! The checks follow RFC 1035 §4.1.1 and RFC 6891: a packet whose header
//! cannot be read, or that is itself a response, gets no reply at all (a
//! reply could feed a reflection loop); anything else with a readable header
//! gets an answer, FORMERR when the rest does not parse.

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{DNSClass, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder, BinEncodable, BinEncoder};

use super::ede::Ede;
use super::local::LocalAnswer;
use crate::resolve::{Failure, Outcome, ResolveError};
use crate::validate::{Security, covered_type};

/// Length of the fixed DNS header (RFC 1035 §4.1.1).
pub const HEADER_LEN: usize = 12;

/// UDP payload limit for a client without EDNS (RFC 1035 §4.2.1).
pub const UDP_PAYLOAD_PLAIN: usize = 512;

/// The largest UDP reply the daemon sends and the size it advertises in its
/// OPT record, even to clients offering more: 1232 bytes fits the IPv6
/// minimum MTU without fragmentation (DNS Flag Day 2020).
pub const UDP_PAYLOAD_MAX: u16 = 1232;

/// Largest message the 2-byte TCP length prefix can carry (RFC 1035 §4.2.2).
pub const TCP_MESSAGE_MAX: usize = u16::MAX as usize;

/// The only EDNS version there is (RFC 6891 §6.1.3); higher gets BADVERS.
const EDNS_VERSION: u8 = 0;

/// What to do with one client message.
#[derive(Debug)]
pub enum Verdict {
    /// No reply: shorter than a header, or a response (QR=1).
    Drop,
    /// Reply at once with this (FORMERR, NOTIMP, REFUSED, BADVERS).
    Reply(Box<Message>),
    /// A well-formed question to resolve.
    Resolve(Box<ClientQuery>),
}

/// A well-formed query and its one question.
#[derive(Debug, Clone)]
pub struct ClientQuery {
    /// The message as received.
    pub message: Message,
    /// Its single question.
    pub question: Query,
}

/// Reads a client message and decides what it deserves. `allowed` is the
/// ACL's verdict on the sender: a refused client still gets FORMERR for
/// garbage (cheap, no resolution), but never a resolution.
pub fn judge(bytes: &[u8], allowed: bool) -> Verdict {
    if bytes.len() < HEADER_LEN || bytes[2] & 0x80 != 0 {
        return Verdict::Drop;
    }
    let message = match Message::from_vec(bytes) {
        Ok(message) if message.metadata.message_type == MessageType::Query => message,
        Ok(_) => return Verdict::Drop,
        Err(_) => return Verdict::Reply(Box::new(formerr_from_header(bytes))),
    };
    if !allowed {
        return Verdict::Reply(Box::new(error_reply(&message, ResponseCode::Refused)));
    }
    match check(&message) {
        Ok(question) => Verdict::Resolve(Box::new(ClientQuery { message, question })),
        Err(rcode) => {
            let mut reply = error_reply(&message, rcode);
            if message.queries.len() > 1 {
                // Echoing dozens of questions could not fit a datagram and
                // would turn the FORMERR into a SERVFAIL; the header says
                // what was wrong.
                reply.queries.clear();
            }
            Verdict::Reply(Box::new(reply))
        }
    }
}

/// The FORMERR for a message whose header is readable but whose body is
/// not: ID, opcode and RD echoed, no question (it could not be read).
fn formerr_from_header(bytes: &[u8]) -> Message {
    let id = u16::from_be_bytes([bytes[0], bytes[1]]);
    let op_code = OpCode::from_u8((bytes[2] >> 3) & 0x0f);
    let mut reply = Message::error_msg(id, op_code, ResponseCode::FormErr);
    reply.metadata.recursion_desired = bytes[2] & 0x01 != 0;
    reply.metadata.recursion_available = true;
    reply
}

/// The single question of an acceptable query, or the rcode refusing it.
fn check(message: &Message) -> Result<Query, ResponseCode> {
    if message.metadata.op_code != OpCode::Query {
        return Err(ResponseCode::NotImp);
    }
    if let Some(edns) = &message.edns
        && edns.version() > EDNS_VERSION
    {
        return Err(ResponseCode::BADVERS);
    }
    let [question] = message.queries.as_slice() else {
        return Err(ResponseCode::FormErr);
    };
    if question.query_class() != DNSClass::IN {
        return Err(ResponseCode::Refused);
    }
    match question.query_type() {
        // Meta types that make no sense as a question (RFC 6895 §3.1).
        RecordType::OPT | RecordType::TSIG | RecordType::SIG | RecordType::Unknown(0) => {
            Err(ResponseCode::FormErr)
        }
        // A recursive resolver does not transfer zones.
        RecordType::AXFR | RecordType::IXFR => Err(ResponseCode::Refused),
        _ => Ok(question.clone()),
    }
}

/// The reply skeleton for `query`: its ID, opcode, RD and CD echoed,
/// RA=1, its question, and an OPT record when it sent one, with the DO bit
/// copied from the query's (RFC 3225 §3: the reply's DO MUST match).
pub fn response_to(query: &Message) -> Message {
    let mut reply = Message::response(query.metadata.id, query.metadata.op_code);
    reply.metadata.recursion_desired = query.metadata.recursion_desired;
    reply.metadata.checking_disabled = query.metadata.checking_disabled;
    reply.metadata.recursion_available = true;
    reply.add_queries(query.queries.iter().cloned());
    if query.edns.is_some() {
        let mut edns = Edns::new();
        edns.set_max_payload(UDP_PAYLOAD_MAX);
        edns.set_version(EDNS_VERSION);
        edns.set_dnssec_ok(dnssec_ok(query));
        reply.set_edns(edns);
    }
    reply
}

/// Whether `query` set the DO bit (RFC 3225 §3).
pub fn dnssec_ok(query: &Message) -> bool {
    query.edns.as_ref().is_some_and(|e| e.flags().dnssec_ok)
}

/// A SERVFAIL to `query` saying why: an Extended DNS Error (RFC 8914) in
/// its OPT, when the client sent one (without EDNS there is nowhere to put
/// it).
pub fn servfail_reply(query: &Message, why: &Ede) -> Message {
    let mut reply = error_reply(query, ResponseCode::ServFail);
    if let Some(edns) = reply.edns.as_mut() {
        edns.options_mut().insert(why.option());
    }
    reply
}

/// The reply to `query` from a local zone: authoritative (AA=1), as
/// Unbound's local data.
pub fn local_reply(query: &Message, local: LocalAnswer) -> Message {
    let mut reply = error_reply(query, local.rcode);
    reply.metadata.authoritative = local.rcode != ResponseCode::Refused;
    reply.answers = local.answers;
    reply.authorities = local.authorities;
    reply
}

/// An empty reply to `query` with `rcode`.
pub fn error_reply(query: &Message, rcode: ResponseCode) -> Message {
    let mut reply = response_to(query);
    reply.metadata.response_code = rcode;
    reply
}

/// The reply to a resolved query: the outcome's rcode and sections (with
/// an Extended DNS Error saying so when it is stale, RFC 8767 §6), or
/// SERVFAIL with an Extended DNS Error naming why the resolution failed.
///
/// DNSSEC (RFC 4035 §3.2): a bogus answer goes only to a client that set
/// CD; any other gets SERVFAIL with the Extended DNS Error the validator
/// named (RFC 8914 §4.7–4.13). A client that set DO gets the RRSIGs after
/// each RRset and the proof of a negative answer in the authority
/// section. AD is set on a secure answer for a client that set AD or DO.
pub fn answer_reply(query: &Message, result: &Result<Outcome, Failure>) -> Message {
    match result {
        Ok(outcome) => {
            if let Security::Bogus(reason) = &outcome.security
                && !query.metadata.checking_disabled
            {
                let error = ResolveError::Bogus(reason.clone());
                return servfail_reply(query, &Ede::for_error(&error));
            }
            let mut reply = error_reply(query, outcome.rcode);
            if dnssec_ok(query) {
                reply.answers = with_signatures(&outcome.answers, &outcome.signatures);
                reply.authorities = outcome.authorities.clone();
                reply.authorities.extend(outcome.proof.iter().cloned());
            } else {
                reply.answers = outcome.answers.clone();
                reply.authorities = outcome.authorities.clone();
            }
            // RFC 6840 §5.7-5.8: AD for a validated answer, to a client
            // that asked with AD or DO set.
            let asked_dnssec = query.metadata.authentic_data || dnssec_ok(query);
            reply.metadata.authentic_data = asked_dnssec && outcome.security.is_secure();
            if outcome.stale
                && let Some(edns) = reply.edns.as_mut()
            {
                edns.options_mut().insert(stale_ede(outcome.rcode).option());
            }
            reply
        }
        Err(failure) => servfail_reply(query, &Ede::for_error(&failure.error)),
    }
}

/// `records` with each RRset followed by the RRSIGs in `signatures` that
/// cover it (same owner, covered type the set's); a signature that covers
/// none of them is left out.
fn with_signatures(records: &[Record], signatures: &[Record]) -> Vec<Record> {
    if signatures.is_empty() {
        return records.to_vec();
    }
    let mut out = Vec::with_capacity(records.len() + signatures.len());
    for (at, record) in records.iter().enumerate() {
        out.push(record.clone());
        let set = (&record.name, record.record_type());
        let last_of_set = records
            .get(at + 1)
            .is_none_or(|next| (&next.name, next.record_type()) != set);
        if last_of_set {
            out.extend(
                signatures
                    .iter()
                    .filter(|sig| &sig.name == set.0 && covered_type(sig) == Some(set.1))
                    .cloned(),
            );
        }
    }
    out
}

/// The Extended DNS Error a stale answer with `rcode` carries (RFC 8767
/// §6): Stale NXDOMAIN Answer for an NXDOMAIN, else Stale Answer.
pub fn stale_ede(rcode: ResponseCode) -> Ede {
    if rcode == ResponseCode::NXDomain {
        Ede::new(
            super::ede::STALE_NXDOMAIN_ANSWER,
            "expired NXDOMAIN served: the zone's servers did not answer in time",
        )
    } else {
        Ede::new(
            super::ede::STALE_ANSWER,
            "expired data served: the zone's servers did not answer in time",
        )
    }
}

/// The payload limit for UDP replies to `query` (RFC 6891 §6.2.5): 512
/// without EDNS, else the client's size within 512..=[`UDP_PAYLOAD_MAX`].
pub fn udp_limit(query: &Message) -> usize {
    match &query.edns {
        None => UDP_PAYLOAD_PLAIN,
        Some(edns) => usize::from(edns.max_payload().clamp(512, UDP_PAYLOAD_MAX)),
    }
}

/// The size limit a reply must fit, and how it is made to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// A datagram of at most this many bytes (see [`udp_limit`]): a reply
    /// too big is cut to header, question and OPT with TC=1 (RFC 2181 §9),
    /// and the client retries over TCP.
    Datagram(usize),
    /// A TCP message (at most [`TCP_MESSAGE_MAX`] bytes): a reply too big
    /// loses whole RRsets from the end, never part of one; TC means nothing
    /// over TCP, so it is not set. If not even one answer RRset fits, the
    /// reply is SERVFAIL.
    Stream,
}

impl Limit {
    /// The largest reply, in bytes.
    pub fn bytes(self) -> usize {
        match self {
            Limit::Datagram(bytes) => bytes.min(TCP_MESSAGE_MAX),
            Limit::Stream => TCP_MESSAGE_MAX,
        }
    }
}

/// Wire bytes of an encoded reply, and whether it had to be cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// What to send: always a message that parses whole, within the limit.
    pub bytes: Vec<u8>,
    /// The full reply did not fit: TC=1 over UDP, RRsets left out over TCP.
    pub truncated: bool,
    /// The rcode sent (SERVFAIL when the reply could not be encoded).
    pub rcode: ResponseCode,
}

/// Encodes `reply` within `limit` (see [`Limit`]): as is when it fits, else
/// cut to fit. Every result is decoded again before it is returned and
/// must parse to the records it was made of, with its OPT, and nothing
/// after them: hickory's encoder, asked for more than 65,535 bytes, stops
/// mid-record and sets TC, and such bytes must never reach a client. When
/// nothing else fits, a SERVFAIL with the question (and OPT); `None` only
/// if not even that can be encoded.
pub fn encode(reply: &Message, limit: Limit) -> Option<Encoded> {
    let rcode = reply.metadata.response_code;
    let max = limit.bytes();
    if let Some(bytes) = checked(reply, max) {
        return Some(Encoded {
            bytes,
            truncated: false,
            rcode,
        });
    }
    let cut = match limit {
        Limit::Datagram(_) => checked(&reply.truncate(), max),
        Limit::Stream => cut_at_rrsets(reply, max),
    };
    if let Some(bytes) = cut {
        return Some(Encoded {
            bytes,
            truncated: true,
            rcode,
        });
    }
    let mut servfail = reply.truncate();
    servfail.metadata.truncation = false;
    servfail.metadata.response_code = ResponseCode::ServFail;
    servfail.metadata.recursion_available = true;
    let mut bare = Message::error_msg(
        reply.metadata.id,
        reply.metadata.op_code,
        ResponseCode::ServFail,
    );
    bare.metadata.recursion_desired = reply.metadata.recursion_desired;
    bare.metadata.recursion_available = true;
    let bytes = checked(&servfail, max).or_else(|| checked(&bare, max))?;
    Some(Encoded {
        bytes,
        truncated: false,
        rcode: ResponseCode::ServFail,
    })
}

/// `message` encoded, if that is at most `max` bytes and decodes to the
/// same header flags, the same number of records in every section, the
/// same OPT presence and no trailing bytes.
fn checked(message: &Message, max: usize) -> Option<Vec<u8>> {
    let bytes = bounded(message, max)?;
    let whole = bytes.len() <= max && counts_match(&bytes, message) && decodes_to(&bytes, message);
    whole.then_some(bytes)
}

/// `message` encoded by an encoder told `max` (see [`within`]): a message
/// too big costs at most `max` bytes of encoding, however many records it
/// has. What comes out may lack records (hickory leaves the rest of a
/// section out when the next record does not fit, and counts only those it
/// wrote), so it is not to be sent unchecked.
fn bounded(message: &Message, max: usize) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    message.emit(&mut within(&mut bytes, max)).ok()?;
    Some(bytes)
}

/// Whether `bytes` decode to `message` whole: the same header flags, the
/// same number of records in every section, the same OPT presence and no
/// trailing bytes.
fn decodes_to(bytes: &[u8], message: &Message) -> bool {
    let mut decoder = BinDecoder::new(bytes);
    let Ok(decoded) = Message::read(&mut decoder) else {
        return false;
    };
    decoder.is_empty()
        && decoded.metadata.truncation == message.metadata.truncation
        && u16::from(decoded.metadata.response_code) == u16::from(message.metadata.response_code)
        && decoded.queries.len() == message.queries.len()
        && decoded.answers.len() == message.answers.len()
        && decoded.authorities.len() == message.authorities.len()
        && decoded.additionals.len() == message.additionals.len()
        && decoded.edns.is_some() == message.edns.is_some()
}

/// An encoder into `bytes` whose emits fail once the message would pass
/// `max` bytes (at most [`TCP_MESSAGE_MAX`], the most a DNS message can
/// be), instead of hickory's default of 65,535.
fn within(bytes: &mut Vec<u8>, max: usize) -> BinEncoder<'_> {
    let mut encoder = BinEncoder::new(bytes);
    encoder.set_max_size(u16::try_from(max).unwrap_or(u16::MAX));
    encoder
}

/// Whether the header of `bytes` counts every question and record of
/// `message` (its OPT among the additionals). A quick refusal of what did
/// not fit: hickory's encoder, out of room, leaves records out and counts
/// only those it wrote.
fn counts_match(bytes: &[u8], message: &Message) -> bool {
    let count = |at: usize| {
        bytes
            .get(at..at + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
    };
    let additionals = message.additionals.len()
        + usize::from(message.edns.is_some())
        + usize::from(message.signature.is_some());
    count(4) == Some(message.queries.len())
        && count(6) == Some(message.answers.len())
        && count(8) == Some(message.authorities.len())
        && count(10) == Some(additionals)
}

/// The longest prefix of `reply`'s RRsets (answer, then authority, then
/// additional section, each in order) that encodes within `max`, short of
/// all of them (the caller found the whole reply does not fit). `None`
/// when not even the first answer RRset fits (a reply without any of its
/// answers would claim NODATA).
///
/// A prefix encodes to the first bytes of any longer prefix's encoding
/// (names are only compressed against what came before), so one pass that
/// encodes record after record, within `max` less the OPT that goes after
/// them, finds where the last RRset that fits whole ends
/// ([`rrset_ends_within`]); the prefix is then encoded and checked once.
/// Both cost at most `max` bytes of encoding, however big the reply.
fn cut_at_rrsets(reply: &Message, max: usize) -> Option<Vec<u8>> {
    let mut skeleton = reply.truncate();
    skeleton.metadata.truncation = false;
    let (ends, all_fit) = rrset_ends_within(&skeleton, records_of(reply), max)?;
    let least = usize::from(!reply.answers.is_empty());
    let sets = if all_fit {
        // The whole reply fits by size but failed its check: keep all but
        // the last RRset, as the search for a shorter prefix always did.
        ends.len().saturating_sub(1).max(least)
    } else if ends.len() < least {
        return None;
    } else {
        ends.len()
    };
    let keep = match sets.checked_sub(1) {
        Some(last) => *ends.get(last)?,
        None => 0,
    };
    let mut message = skeleton;
    for (section, record) in records_of(reply).take(keep) {
        let into = match section {
            Section::Answer => &mut message.answers,
            Section::Authority => &mut message.authorities,
            Section::Additional => &mut message.additionals,
        };
        into.push(record.clone());
    }
    checked(&message, max)
}

/// `reply`'s records in wire order, each with its section.
fn records_of(reply: &Message) -> impl Iterator<Item = (Section, &Record)> {
    [
        (Section::Answer, &reply.answers),
        (Section::Authority, &reply.authorities),
        (Section::Additional, &reply.additionals),
    ]
    .into_iter()
    .flat_map(|(section, records)| records.iter().map(move |record| (section, record)))
}

/// Encodes `records` after `skeleton`'s header and question, as
/// [`Message`]'s encoding would, until the next would leave no room
/// within `max` for the skeleton's OPT. Returns where each RRset that fit
/// whole ends (as a count of records), and whether every record fit;
/// `None` when not even the skeleton fits. A record unlike the one before
/// (section, owner, type or class) starts a new RRset.
fn rrset_ends_within<'r>(
    skeleton: &Message,
    records: impl Iterator<Item = (Section, &'r Record)>,
    max: usize,
) -> Option<(Vec<usize>, bool)> {
    let bare = checked(skeleton, max)?;
    let mut bytes = Vec::new();
    let mut encoder = within(&mut bytes, max);
    // The header is written last, so its place is all that matters here.
    encoder.emit_vec(&[0; HEADER_LEN]).ok()?;
    encoder.emit_all(skeleton.queries.iter()).ok()?;
    // The OPT: always the same bytes, wherever it lands (its owner is the
    // root, which is never compressed).
    let tail = bare.len().checked_sub(encoder.offset())?;
    encoder.set_max_size(u16::try_from(max.checked_sub(tail)?).unwrap_or(u16::MAX));
    let mut ends = Vec::new();
    let mut previous: Option<(Section, &Record)> = None;
    let mut count = 0;
    for (section, record) in records {
        if let Some((prev_section, prev)) = previous
            && !(section == prev_section
                && record.name == prev.name
                && record.record_type() == prev.record_type()
                && record.dns_class == prev.dns_class)
        {
            ends.push(count);
        }
        if record.emit(&mut encoder).is_err() {
            return Some((ends, false));
        }
        previous = Some((section, record));
        count += 1;
    }
    if count > 0 {
        ends.push(count);
    }
    Some((ends, true))
}

/// The section a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Answer,
    Authority,
    Additional,
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use hickory_proto::rr::rdata::{A, SOA, TXT};
    use hickory_proto::rr::{Name, RData, Record};

    use super::*;
    use crate::resolve::ResolveError;
    use crate::resolve::Stats;

    fn query(name: &str, rtype: RecordType) -> Message {
        let mut message = Message::new(0x1234, MessageType::Query, OpCode::Query);
        message.metadata.recursion_desired = true;
        message.add_query(Query::query(Name::from_ascii(name).unwrap(), rtype));
        message
    }

    fn with_edns(mut message: Message, size: u16) -> Message {
        let mut edns = Edns::new();
        edns.set_max_payload(size);
        message.set_edns(edns);
        message
    }

    fn reply_of(verdict: Verdict) -> Message {
        match verdict {
            Verdict::Reply(reply) => *reply,
            other => panic!("expected a reply, got {other:?}"),
        }
    }

    #[test]
    fn short_packets_and_responses_are_dropped() {
        assert!(matches!(judge(&[], true), Verdict::Drop));
        assert!(matches!(judge(&[0; 11], true), Verdict::Drop));
        let mut response = query("www.a.tld1.", RecordType::A);
        response.metadata.message_type = MessageType::Response;
        assert!(matches!(
            judge(&response.to_vec().unwrap(), true),
            Verdict::Drop
        ));
    }

    #[test]
    fn garbage_after_a_header_gets_formerr_with_the_id() {
        let mut bytes = vec![0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0];
        bytes.extend_from_slice(&[0xff, 0xff, 0xff]);
        let reply = reply_of(judge(&bytes, true));
        assert_eq!(reply.metadata.id, 0xabcd);
        assert_eq!(reply.metadata.response_code, ResponseCode::FormErr);
        assert_eq!(reply.metadata.message_type, MessageType::Response);
        assert!(reply.metadata.recursion_desired);
        assert!(reply.queries.is_empty());
    }

    #[test]
    fn a_good_query_is_resolved() {
        let bytes = query("www.a.tld1.", RecordType::A).to_vec().unwrap();
        match judge(&bytes, true) {
            Verdict::Resolve(q) => {
                assert_eq!(q.question.name(), &Name::from_str("www.a.tld1.").unwrap());
                assert_eq!(q.message.metadata.id, 0x1234);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn refused_clients_get_refused_with_the_question() {
        let bytes = query("www.a.tld1.", RecordType::A).to_vec().unwrap();
        let reply = reply_of(judge(&bytes, false));
        assert_eq!(reply.metadata.response_code, ResponseCode::Refused);
        assert_eq!(reply.queries.len(), 1);
        assert_eq!(reply.metadata.id, 0x1234);
    }

    #[test]
    fn header_checks_pick_the_right_rcode() {
        let mut notify = query("a.tld1.", RecordType::SOA);
        notify.metadata.op_code = OpCode::Notify;
        assert_eq!(
            reply_of(judge(&notify.to_vec().unwrap(), true))
                .metadata
                .response_code,
            ResponseCode::NotImp
        );

        let empty = Message::new(7, MessageType::Query, OpCode::Query);
        assert_eq!(
            reply_of(judge(&empty.to_vec().unwrap(), true))
                .metadata
                .response_code,
            ResponseCode::FormErr
        );

        let mut two = query("a.tld1.", RecordType::A);
        two.add_query(Query::query(
            Name::from_str("b.tld1.").unwrap(),
            RecordType::A,
        ));
        assert_eq!(
            reply_of(judge(&two.to_vec().unwrap(), true))
                .metadata
                .response_code,
            ResponseCode::FormErr
        );

        let mut chaos = Message::new(7, MessageType::Query, OpCode::Query);
        let mut q = Query::query(Name::from_str("version.bind.").unwrap(), RecordType::TXT);
        q.set_query_class(DNSClass::CH);
        chaos.add_query(q);
        assert_eq!(
            reply_of(judge(&chaos.to_vec().unwrap(), true))
                .metadata
                .response_code,
            ResponseCode::Refused
        );

        let axfr = query("a.tld1.", RecordType::AXFR);
        assert_eq!(
            reply_of(judge(&axfr.to_vec().unwrap(), true))
                .metadata
                .response_code,
            ResponseCode::Refused
        );
    }

    #[test]
    fn unknown_edns_version_gets_badvers() {
        let mut message = with_edns(query("a.tld1.", RecordType::A), 1232);
        if let Some(edns) = message.edns.as_mut() {
            edns.set_version(1);
        }
        let reply = reply_of(judge(&message.to_vec().unwrap(), true));
        let decoded =
            Message::from_vec(&encode(&reply, Limit::Datagram(512)).unwrap().bytes).unwrap();
        assert_eq!(u16::from(decoded.metadata.response_code), 16);
        assert!(decoded.edns.is_some());
    }

    #[test]
    fn replies_echo_the_header_and_set_ra() {
        let q = with_edns(query("WwW.a.tld1.", RecordType::A), 4096);
        let outcome = Outcome {
            rcode: ResponseCode::NoError,
            answers: vec![Record::from_rdata(
                Name::from_str("www.a.tld1.").unwrap(),
                300,
                RData::A(A::new(192, 0, 2, 10)),
            )],
            authorities: Vec::new(),
            signatures: Vec::new(),
            proof: Vec::new(),
            stats: Stats::default(),
            security: crate::validate::Security::Indeterminate,
            stale: false,
        };
        let reply = answer_reply(&q, &Ok(outcome));
        let bytes = encode(&reply, Limit::Datagram(udp_limit(&q)))
            .unwrap()
            .bytes;
        let decoded = Message::from_vec(&bytes).unwrap();
        assert_eq!(decoded.metadata.id, 0x1234);
        assert!(decoded.metadata.recursion_desired);
        assert!(decoded.metadata.recursion_available);
        assert!(!decoded.metadata.authoritative);
        assert_eq!(decoded.queries[0].name().to_string(), "WwW.a.tld1.");
        assert_eq!(decoded.answers.len(), 1);
        assert_eq!(
            decoded.edns.as_ref().map(Edns::max_payload),
            Some(UDP_PAYLOAD_MAX)
        );
    }

    #[test]
    fn failures_are_servfail_and_negative_answers_keep_the_soa() {
        let q = query("nope.a.tld1.", RecordType::A);
        let failure = Failure {
            error: ResolveError::RecentFailure,
            stats: Stats::default(),
        };
        assert_eq!(
            answer_reply(&q, &Err(failure)).metadata.response_code,
            ResponseCode::ServFail
        );
        let zone = Name::from_str("a.tld1.").unwrap();
        let soa = SOA::new(zone.clone(), zone.clone(), 1, 3600, 600, 86400, 300);
        let outcome = Outcome {
            rcode: ResponseCode::NXDomain,
            answers: Vec::new(),
            authorities: vec![Record::from_rdata(zone, 300, RData::SOA(soa))],
            signatures: Vec::new(),
            proof: Vec::new(),
            stats: Stats::default(),
            security: crate::validate::Security::Indeterminate,
            stale: false,
        };
        let reply = answer_reply(&q, &Ok(outcome));
        assert_eq!(reply.metadata.response_code, ResponseCode::NXDomain);
        assert_eq!(reply.authorities.len(), 1);
        assert!(reply.edns.is_none());
    }

    #[test]
    fn big_replies_are_truncated_to_the_limit() {
        let big_txt = TXT::new(vec!["x".repeat(200); 10]);
        let name = Name::from_str("big.a.tld1.").unwrap();
        let outcome = Outcome {
            rcode: ResponseCode::NoError,
            answers: vec![Record::from_rdata(name, 300, RData::TXT(big_txt))],
            authorities: Vec::new(),
            signatures: Vec::new(),
            proof: Vec::new(),
            stats: Stats::default(),
            security: crate::validate::Security::Indeterminate,
            stale: false,
        };
        for (q, limit) in [
            (query("big.a.tld1.", RecordType::TXT), 512),
            (with_edns(query("big.a.tld1.", RecordType::TXT), 1000), 1000),
            (
                with_edns(query("big.a.tld1.", RecordType::TXT), 65000),
                1232,
            ),
            (with_edns(query("big.a.tld1.", RecordType::TXT), 100), 512),
        ] {
            assert_eq!(udp_limit(&q), limit);
            let reply = answer_reply(&q, &Ok(outcome.clone()));
            let encoded = encode(&reply, Limit::Datagram(udp_limit(&q))).unwrap();
            assert!(encoded.truncated);
            assert!(encoded.bytes.len() <= limit);
            let decoded = Message::from_vec(&encoded.bytes).unwrap();
            assert!(decoded.metadata.truncation);
            assert!(decoded.answers.is_empty());
            assert_eq!(decoded.queries.len(), 1);
            assert_eq!(decoded.edns.is_some(), q.edns.is_some());
        }
        let q = query("big.a.tld1.", RecordType::TXT);
        let full = encode(&answer_reply(&q, &Ok(outcome)), Limit::Stream).unwrap();
        assert!(!full.truncated);
        assert!(full.bytes.len() > 2000);
    }

    /// `count` TXT records of `len` bytes each under `owner`: one RRset.
    fn txt_set(owner: &str, count: usize, len: usize) -> Vec<Record> {
        let name = Name::from_str(owner).unwrap();
        (0..count)
            .map(|i| {
                let text = format!("{i:06}{}", "x".repeat(len.saturating_sub(6)));
                Record::from_rdata(name.clone(), 300, RData::TXT(TXT::new(vec![text])))
            })
            .collect()
    }

    fn huge_reply(edns: bool, answers: Vec<Record>) -> Message {
        let mut q = query("big.a.tld1.", RecordType::TXT);
        if edns {
            q = with_edns(q, 1232);
        }
        let outcome = Outcome {
            rcode: ResponseCode::NoError,
            answers,
            authorities: Vec::new(),
            signatures: Vec::new(),
            proof: Vec::new(),
            stats: Stats::default(),
            security: crate::validate::Security::Indeterminate,
            stale: false,
        };
        answer_reply(&q, &Ok(outcome))
    }

    /// Decodes `bytes` whole (no trailing junk) and checks the limit.
    fn decode_whole(bytes: &[u8], limit: Limit) -> Message {
        assert!(
            bytes.len() <= limit.bytes(),
            "{} > {}",
            bytes.len(),
            limit.bytes()
        );
        let mut decoder = BinDecoder::new(bytes);
        let message = Message::read(&mut decoder).unwrap();
        assert!(decoder.is_empty(), "trailing bytes after the message");
        message
    }

    #[test]
    fn hickory_alone_sends_a_broken_message_past_64k() {
        // What the daemon used to send: hickory stops mid-record at
        // 65,535 bytes and sets TC, leaving junk or half a record.
        let reply = huge_reply(true, txt_set("big.a.tld1.", 3000, 40));
        let raw = reply.to_vec().unwrap();
        let decoded = Message::from_vec(&raw)
            .map(|m| (m.metadata.truncation, m.answers.len(), m.edns.is_some()));
        assert_ne!(
            decoded.ok(),
            Some((false, 3000, true)),
            "hickory fits it after all"
        );
    }

    #[test]
    fn an_answer_rrset_too_big_for_tcp_is_servfail_with_question_and_opt() {
        for edns in [true, false] {
            let reply = huge_reply(edns, txt_set("big.a.tld1.", 3000, 40));
            let encoded = encode(&reply, Limit::Stream).unwrap();
            let decoded = decode_whole(&encoded.bytes, Limit::Stream);
            assert_eq!(decoded.metadata.response_code, ResponseCode::ServFail);
            assert_eq!(encoded.rcode, ResponseCode::ServFail);
            assert!(!decoded.metadata.truncation, "no TC over TCP");
            assert!(decoded.answers.is_empty());
            assert_eq!(decoded.queries.len(), 1);
            assert_eq!(decoded.edns.is_some(), edns, "OPT kept");
            assert_eq!(decoded.metadata.id, 0x1234);
        }
    }

    #[test]
    fn too_big_for_tcp_is_cut_at_an_rrset_boundary() {
        let mut answers = txt_set("a.big.a.tld1.", 300, 60);
        answers.extend(txt_set("b.big.a.tld1.", 300, 60));
        answers.extend(txt_set("c.big.a.tld1.", 300, 60));
        let reply = huge_reply(true, answers);
        assert!(checked(&reply, TCP_MESSAGE_MAX).is_none(), "fits whole");
        let encoded = encode(&reply, Limit::Stream).unwrap();
        assert!(encoded.truncated);
        assert_eq!(encoded.rcode, ResponseCode::NoError);
        let decoded = decode_whole(&encoded.bytes, Limit::Stream);
        assert!(!decoded.metadata.truncation, "no TC over TCP");
        assert_eq!(decoded.answers.len(), 600, "the first two RRsets, whole");
        assert!(decoded.edns.is_some(), "OPT kept");
        assert_eq!(
            decoded.answers[599].name,
            Name::from_str("b.big.a.tld1.").unwrap()
        );
    }

    #[test]
    fn too_big_for_udp_is_the_question_and_opt_with_tc() {
        let reply = huge_reply(true, txt_set("big.a.tld1.", 3000, 40));
        let limit = Limit::Datagram(1232);
        let encoded = encode(&reply, limit).unwrap();
        let decoded = decode_whole(&encoded.bytes, limit);
        assert!(encoded.truncated && decoded.metadata.truncation);
        assert!(decoded.answers.is_empty());
        assert_eq!(decoded.queries.len(), 1);
        assert!(decoded.edns.is_some());
    }

    #[test]
    fn every_reply_parses_and_fits_whatever_its_rrsets() {
        use rand::rngs::StdRng;
        use rand::{RngExt, SeedableRng};
        let mut rng = StdRng::seed_from_u64(13);
        for round in 0..30 {
            let mut answers = Vec::new();
            for set in 0..rng.random_range(1..5) {
                let owner = format!("s{set}.big.a.tld1.");
                let count = rng.random_range(1..900);
                answers.extend(txt_set(&owner, count, rng.random_range(6..120)));
            }
            let edns = rng.random_bool(0.7);
            let reply = huge_reply(edns, answers.clone());
            let udp = Limit::Datagram(rng.random_range(512..=usize::from(UDP_PAYLOAD_MAX)));
            for limit in [udp, Limit::Stream] {
                let encoded = encode(&reply, limit).unwrap();
                let decoded = decode_whole(&encoded.bytes, limit);
                assert_eq!(decoded.edns.is_some(), edns, "round {round}: OPT");
                assert_eq!(decoded.queries.len(), 1);
                assert_eq!(
                    u16::from(decoded.metadata.response_code),
                    u16::from(encoded.rcode)
                );
                // Whatever was kept is a prefix of the answer, whole RRsets.
                let kept = decoded.answers.len();
                assert_eq!(
                    decoded.answers[..],
                    answers[..kept]
                        .iter()
                        .map(|r| {
                            let mut r = r.clone();
                            r.ttl = 300;
                            r
                        })
                        .collect::<Vec<_>>()[..]
                );
                if kept > 0 && kept < answers.len() {
                    assert_ne!(
                        answers[kept - 1].name,
                        answers[kept].name,
                        "cut inside an RRset"
                    );
                }
                if matches!(limit, Limit::Datagram(_)) && encoded.truncated {
                    assert!(decoded.metadata.truncation && kept == 0);
                }
                if limit == Limit::Stream {
                    assert!(!decoded.metadata.truncation);
                }
            }
        }
    }

    /// The cut as it was found before: each candidate prefix built and
    /// encoded whole, by bisection, with hickory's own size limit. The
    /// one-pass cut must give the same bytes.
    fn cut_by_bisection(reply: &Message, max: usize) -> Option<Vec<u8>> {
        let unbounded = |message: &Message| {
            let bytes = message.to_vec().ok()?;
            (bytes.len() <= max && decodes_to(&bytes, message)).then_some(bytes)
        };
        let records: Vec<(Section, &Record)> = records_of(reply).collect();
        let mut ends: Vec<usize> = Vec::new();
        for at in 1..=records.len() {
            let same = records.get(at).is_some_and(|(section, record)| {
                let (prev_section, prev) = records[at - 1];
                *section == prev_section
                    && record.name == prev.name
                    && record.record_type() == prev.record_type()
                    && record.dns_class == prev.dns_class
            });
            if !same {
                ends.push(at);
            }
        }
        let prefix = |sets: usize| -> Message {
            let keep = if sets == 0 { 0 } else { ends[sets - 1] };
            let mut message = reply.truncate();
            message.metadata.truncation = false;
            for (section, record) in &records[..keep] {
                match section {
                    Section::Answer => message.answers.push((*record).clone()),
                    Section::Authority => message.authorities.push((*record).clone()),
                    Section::Additional => message.additionals.push((*record).clone()),
                }
            }
            message
        };
        let least = usize::from(!reply.answers.is_empty());
        let mut fits = unbounded(&prefix(least))?;
        let (mut low, mut high) = (least, ends.len());
        while high - low > 1 {
            let mid = low + (high - low) / 2;
            match unbounded(&prefix(mid)) {
                Some(bytes) => {
                    low = mid;
                    fits = bytes;
                }
                None => high = mid,
            }
        }
        Some(fits)
    }

    /// `sets` RRsets of `per_set` A records each, under distinct owners.
    fn a_sets(sets: usize, per_set: usize) -> Vec<Record> {
        (0..sets)
            .flat_map(|set| {
                let owner = Name::from_str(&format!("s{set}.big.a.tld1.")).unwrap();
                (0..per_set).map(move |i| {
                    let ip = std::net::Ipv4Addr::from(0x0a00_0000 | (set * per_set + i) as u32);
                    Record::from_rdata(owner.clone(), 300, RData::A(A(ip)))
                })
            })
            .collect()
    }

    #[test]
    fn a_huge_reply_is_refused_after_at_most_its_limit_in_bytes() {
        let reply = huge_reply(true, a_sets(50, 100));
        assert!(reply.to_vec().unwrap().len() > 60_000, "not huge");
        for max in [512, 1232, 20_000] {
            let bytes = bounded(&reply, max).unwrap();
            assert!(
                bytes.len() <= max,
                "{} bytes encoded for {max}",
                bytes.len()
            );
            assert!(checked(&reply, max).is_none());
        }
    }

    #[test]
    fn five_thousand_a_records_are_tc_over_udp_and_the_same_cut_over_tcp() {
        for edns in [true, false] {
            let reply = huge_reply(edns, a_sets(50, 100));
            let limit = Limit::Datagram(if edns { 1232 } else { UDP_PAYLOAD_PLAIN });
            let encoded = encode(&reply, limit).unwrap();
            let decoded = decode_whole(&encoded.bytes, limit);
            assert!(encoded.truncated && decoded.metadata.truncation);
            assert_eq!(encoded.rcode, ResponseCode::NoError);
            assert_eq!(decoded.metadata.response_code, ResponseCode::NoError);
            assert!(decoded.answers.is_empty());
            assert_eq!(decoded.queries.len(), 1);
            assert_eq!(decoded.edns.is_some(), edns);

            let encoded = encode(&reply, Limit::Stream).unwrap();
            assert!(encoded.truncated);
            assert_eq!(encoded.rcode, ResponseCode::NoError);
            let decoded = decode_whole(&encoded.bytes, Limit::Stream);
            assert!(!decoded.metadata.truncation);
            assert!(decoded.answers.len() >= 2000, "{}", decoded.answers.len());
            assert_eq!(decoded.answers.len() % 100, 0, "cut inside an RRset");
            assert_eq!(decoded.edns.is_some(), edns);
            assert_eq!(
                Some(encoded.bytes),
                cut_by_bisection(&reply, TCP_MESSAGE_MAX)
            );
        }
        // One RRset of 5,000: nothing fits over TCP, as before.
        let reply = huge_reply(true, a_sets(1, 5000));
        assert_eq!(cut_at_rrsets(&reply, TCP_MESSAGE_MAX), None);
        assert_eq!(cut_by_bisection(&reply, TCP_MESSAGE_MAX), None);
        let encoded = encode(&reply, Limit::Stream).unwrap();
        assert_eq!(encoded.rcode, ResponseCode::ServFail);
    }

    #[test]
    fn the_one_pass_cut_is_the_bisection_cut_in_every_section() {
        use rand::rngs::StdRng;
        use rand::{RngExt, SeedableRng};
        let mut rng = StdRng::seed_from_u64(21);
        for round in 0..60 {
            let mut sections: [Vec<Record>; 3] = Default::default();
            for (at, section) in sections.iter_mut().enumerate() {
                for set in 0..rng.random_range(0..6) {
                    let owner = format!("s{set}.x{at}.big.a.tld1.");
                    let count = rng.random_range(1..60);
                    if rng.random_bool(0.5) {
                        section.extend(txt_set(&owner, count, rng.random_range(6..120)));
                    } else {
                        section.extend(a_sets(1, count).into_iter().map(|mut r| {
                            r.name = Name::from_str(&owner).unwrap();
                            r
                        }));
                    }
                }
            }
            let [answers, authorities, additionals] = sections;
            let mut reply = huge_reply(rng.random_bool(0.7), answers);
            reply.authorities = authorities;
            reply.additionals = additionals;
            let max = rng.random_range(100..=20_000);
            assert_eq!(
                cut_at_rrsets(&reply, max),
                cut_by_bisection(&reply, max),
                "round {round}, max {max}"
            );
        }
    }

    #[test]
    fn random_bytes_never_panic_and_get_a_verdict_by_the_rules() {
        use rand::rngs::StdRng;
        use rand::{RngExt, SeedableRng};
        let mut rng = StdRng::seed_from_u64(7);
        let template = with_edns(query("www.a.tld1.", RecordType::A), 1232)
            .to_vec()
            .unwrap();
        for _ in 0..50_000 {
            let bytes: Vec<u8> = if rng.random_bool(0.5) {
                (0..rng.random_range(0..64)).map(|_| rng.random()).collect()
            } else {
                let mut b = template.clone();
                for _ in 0..rng.random_range(1..6) {
                    let at = rng.random_range(0..b.len());
                    b[at] = rng.random();
                }
                b
            };
            match judge(&bytes, rng.random_bool(0.9)) {
                Verdict::Drop => assert!(bytes.len() < HEADER_LEN || bytes[2] & 0x80 != 0),
                Verdict::Reply(reply) => {
                    assert_eq!(reply.metadata.id, u16::from_be_bytes([bytes[0], bytes[1]]));
                    assert_ne!(reply.metadata.response_code, ResponseCode::NoError);
                    let encoded = encode(&reply, Limit::Datagram(UDP_PAYLOAD_PLAIN)).unwrap();
                    assert!(encoded.bytes.len() <= UDP_PAYLOAD_PLAIN);
                }
                Verdict::Resolve(q) => {
                    assert_eq!(q.question.query_class(), DNSClass::IN);
                    assert_eq!(q.message.queries.len(), 1);
                }
            }
        }
    }
}
