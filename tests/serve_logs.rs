//! What `rootwalk serve` tells its operator on stderr (issue 15): at info
//! one start-up line naming listen addresses, ACL, root hints and cache
//! size; at debug one line per client query, inside its `query` span,
//! with duration, RCODE and, for a SERVFAIL, the reason.

mod common;

use common::daemon::{Daemon, query, udp};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

#[test]
fn info_names_what_runs_in_one_start_up_line() {
    let daemon = Daemon::start(
        &[
            "--lab",
            "--listen",
            "127.0.0.1:0",
            "--udp-sockets",
            "1",
            "--allow",
            "127.0.0.0/8",
            "--allow",
            "192.0.2.0/24",
            "--cache-size",
            "5M",
        ],
        &[("RUST_LOG", "info")],
    );
    let line = daemon.stderr_line_with("rootwalk serve starting");
    assert!(line.contains(" INFO "), "{line}");
    assert!(
        line.contains(&format!("{} (UDP), {} (TCP)", daemon.addr, daemon.addr)),
        "{line}"
    );
    assert!(line.contains("acl=127.0.0.0/8, 192.0.2.0/24"), "{line}");
    assert!(line.contains("root_hints=\"lab (in-process)\""), "{line}");
    assert!(line.contains("cache_bytes=5242880"), "{line}");
    assert!(
        !line.contains('\u{1b}'),
        "no ANSI colour off a terminal: {line}"
    );
}

#[test]
fn debug_logs_one_line_per_query_with_duration_rcode_and_servfail_reason() {
    let daemon = Daemon::start(
        &["--lab", "--listen", "127.0.0.1:0", "--udp-sockets", "1"],
        &[("RUST_LOG", "warn,rootwalk::server::handler=debug")],
    );
    let ok = udp(daemon.addr, &query("www.a.tld1.", RecordType::A));
    assert_eq!(ok.metadata.response_code, ResponseCode::NoError);
    let line = daemon.stderr_line_with("reply");
    assert!(
        line.contains("qname=www.a.tld1. qtype=A"),
        "in the query span: {line}"
    );
    assert!(line.contains("rcode=No Error"), "{line}");
    assert!(line.contains("duration_us="), "{line}");
    assert!(!line.contains("reason="), "{line}");

    let failed = udp(daemon.addr, &query("www.x.tld2.", RecordType::A));
    assert_eq!(failed.metadata.response_code, ResponseCode::ServFail);
    let line = daemon.stderr_line_with("qname=www.x.tld2.");
    assert!(line.contains("reply"), "{line}");
    assert!(line.contains("rcode=Server Failure"), "{line}");
    assert!(line.contains("duration_us="), "{line}");
    assert!(line.contains("reason="), "the SERVFAIL says why: {line}");
}
