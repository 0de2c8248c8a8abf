//! The trace as one JSON document (`--format json`), and back.
//!
//! # Schema (version 1)
//!
//! The document is [`Trace`] serialized with serde; field names are stable
//! within a schema version (fields are only added within one: `dnssec`
//! came in version 1, the facts of its notes later in version 1). Times are integer microseconds (`*_us`), so the
//! document round-trips exactly. Optional fields are left out when absent.
//!
//! ```text
//! Trace {
//!   schema: 1,
//!   question: { name: "www.c.tld2.", type: "A" },
//!   outcome: { rcode: "NOERROR" | "NXDOMAIN" | "SERVFAIL", error?: string,
//!              answers: [Record],
//!              dnssec?: "secure" | "insecure" | "bogus: REASON" | "indeterminate" },
//!                                       // dnssec: only when the resolver validated
//!   resolutions: [Resolution],          // the client resolution first
//!   summary: {
//!     hops, upstream_queries, side_resolutions, timeouts: int,
//!     bytes: int, wall_time_us: int,
//!     critical_path: [{ hop, resolution, depth: int, zone, server_name,
//!                       address: string, duration_us: int }]
//!   },
//!   all_servers?: [{                    // only with --all-servers
//!     zone, qname, type: string,
//!     servers: [{ name, address, reply: string, lame, unreachable: bool }],
//!     disagreement: bool
//!   }]
//! }
//! Resolution {
//!   id: int, purpose: "client" | "target",
//!   for_zone?: string,                  // target: the zone needing a server address
//!   parent_hop?: int,                   // target: the hop whose referral needed it
//!   qname, qtype: string,
//!   status: "completed" | "failed" | "abandoned",
//!   rcode?: string, error?: string, start_us: int, elapsed_us?: int,
//!   cache_hits: [{ what: string, at_us: int }], cnames: [{ from, to }],
//!   hops: [Hop]
//! }
//! Hop {
//!   id: int, zone, qname, qtype, server_name, address: string, port: int,
//!   address_source: "hints" | "glue" | "cache" | "side_resolution",
//!   address_resolution?: int,           // id of the side resolution that found it
//!   sent_us: int,
//!   result: "referral" | "answer" | "lame" | "timeout" | "error" | "unknown",
//!   response?: { rcode, flags: [string], transport: "udp" | "tcp",
//!                tcp_fallback: bool, bytes, rtt_us: int,
//!                counts: { answer, authority, additional }, ignored_replies: int },
//!   error?: string,
//!   dropped: [{ record, reason: string }],
//!   referral?: { zone, servers: [{ name, glue: [address] }], records: [Record] },
//!   lame?: { kind: "upward_referral" | "sideways_referral" | "other",
//!            reason: string, referred_to?: string },
//!   answer: [Record],
//!   side_resolutions: [Resolution],     // nested, recursively
//!   skipped?: [{ name, zone, reason: string }],  // NS names never tried
//!   dnssec?: [{                         // only when the resolver validated
//!     subject: string,                  // a zone "a.tld1." or an RRset "www.a.tld1. A"
//!     status: "secure" | "insecure" | "bogus" | "pending" | "indeterminate",
//!     text: string,                     // the engine's line, e.g. "a.tld1.: DS 12345/13/2 -> DNSKEY to fetch (...)"
//!     reason?: string, ede?: int,       // bogus: why, and the RFC 8914 code
//!     ds?: [{ key_tag, algorithm, digest_type: int,
//!             anchor?: true,            // a trust anchor, not the parent's DS
//!             matched?: bool }],        // a key of the zone matches it (absent before the keys are fetched)
//!     keys?: [{ key_tag, algorithm, flags: int, role: "ksk" | "zsk",
//!               ds_matched, signed_key_set: bool, revoked?: true }],
//!     signatures?: [{ owner, type_covered, signer: string, key_tag, algorithm: int,
//!                     inception, expiration: int,  // seconds since the epoch
//!                     verified: bool }],           // the RRSIG that proved its RRset
//!     denial?: [{ kind: "nsec" | "nsec3", owner, next: string, types: [string],
//!                 opt_out?: bool, iterations?: int }]  // NSEC3 only
//!   }]
//! }
//! Record { name, ttl: int, class, type, data: string }
//! ```
//!
//! When the resolver validated and the zones are signed, the outcome also
//! carries `signatures?: [Record]` (the RRSIGs over the answer's RRsets,
//! RRset by RRset) and `proof?: [Record]` (the SOA's RRSIGs, the NSEC or
//! NSEC3 records and theirs, for a negative answer).

use super::RenderError;
use crate::trace::tree::Trace;

/// The trace as a pretty-printed JSON document, newline-terminated.
pub fn render(trace: &Trace) -> Result<String, RenderError> {
    let mut text = serde_json::to_string_pretty(trace)?;
    text.push('\n');
    Ok(text)
}

/// Reads a document written by [`render`].
pub fn parse(text: &str) -> Result<Trace, RenderError> {
    Ok(serde_json::from_str(text)?)
}
