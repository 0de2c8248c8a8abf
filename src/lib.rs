//! rootwalk: a recursive DNS resolver that walks delegations from the root
//! and shows its work.
//!
//! # Layout
//!
//! The engine, which knows nothing of who asks:
//!
//! - [`config`]: every limit that protects the resolver, as documented
//!   constants and the [`config::Limits`] in force; where upstream queries
//!   go ([`config::UpstreamConfig`]).
//! - [`resolve`]: the iterative engine. Root hints and priming, the
//!   bailiwick scrubber, response classification, delegation points, side
//!   resolution of glueless name servers, and the walk that ties them; its
//!   errors ([`resolve::ResolveError`], [`resolve::hints::HintsError`]).
//! - [`cache`]: RRsets ranked by credibility (RFC 2181 §5.4.1), negative
//!   answers (RFC 2308), per-server RTT and lameness. Knows nothing of
//!   `resolve`.
//! - [`net`]: UDP and TCP exchanges with upstream servers: random ports and
//!   IDs, strict reply matching, TC=1 retried over TCP.
//! - [`trace`]: the observer the engine reports typed events to, the
//!   recorder that turns them into a tree, and its renderers.
//! - [`validate`]: DNSSEC validation as pure functions (trust anchors,
//!   DS/DNSKEY, RRSIGs, NSEC and NSEC3 proofs), with the KeyTrap limits.
//!
//! The faces, on top:
//!
//! - [`server`]: the stub-facing daemon (`rootwalk serve`): UDP and TCP
//!   listeners, access list, coalescing of identical questions, shutdown;
//!   configured by a [`server::ServeConfig`] built in code or from its file.
//! - [`lab`]: the embedded simulated DNS hierarchy on loopback.
//! - [`check`]: `rootwalk check ZONE`, the delegation health check: every
//!   parent server and every name-server address asked directly, findings
//!   with severities and RFCs.
//! - [`mod@bench`]: cold resolutions of glued and glueless delegations.
//! - [`cli`], [`operation`]: the command line; `cli` turns clap's structs
//!   into the library's configuration types, `operation` runs each command
//!   and is the one place that knows every error ([`operation::CliError`]);
//!   [`question`] reads the dig-style words of `resolve` and `trace`.
//!
//! Layers point one way: `resolve` uses `cache`, `net` and `trace`; none of
//! those knows `resolve`; no engine module names a face, and the daemon and
//! the lab never name the command line (`tests/layers.rs` enforces it).
//! `ARCHITECTURE.md` walks one client query from the socket to the wire and
//! back, naming the file at each step.

#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod bench;
pub mod cache;
pub mod check;
pub mod cli;
pub mod config;
pub mod lab;
pub mod net;
pub mod operation;
pub mod question;
pub mod resolve;
pub mod server;
pub mod trace;
pub mod validate;
