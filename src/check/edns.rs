//! EDNS compliance of each serving address (RFC 6891), judged as the 2019
//! EDNS flag day tests (ednscomp) did from three probes of the apex SOA
//! ([`super::probe::EdnsView`]): plain EDNS0 must come back with an OPT
//! record, an unknown EDNS version with BADVERS and an OPT of version 0,
//! an unknown option must be ignored. One cause, one finding: a server
//! without EDNS gets `edns-unsupported` only, not the two others as well.
//! Pure and unit-tested.

use std::collections::BTreeMap;

use hickory_proto::op::ResponseCode;

use super::findings::{Code, Finding, Observations, ServerRef, Severity, finding, list};
use super::probe::{EDNS_PROBE_OPTION, EDNS_PROBE_VERSION, EdnsReply, EdnsView};
use crate::trace::tree::rcode_name;

/// The `edns-unsupported`, `edns-version` and `edns-option` findings,
/// each naming every address that failed it, grouped by what was seen.
pub fn edns_findings(obs: &Observations, out: &mut Vec<Finding>) {
    type Groups = BTreeMap<(Code, String), Vec<ServerRef>>;
    let mut groups: Groups = BTreeMap::new();
    for (server, view) in &obs.edns {
        if let Some((code, seen)) = problem(view) {
            groups
                .entry((code, seen))
                .or_default()
                .push(ServerRef::from(server));
        }
    }
    for ((code, seen), servers) in groups {
        let (severity, rfc, what) = match code {
            Code::EdnsUnsupported => (
                Severity::Warning,
                "RFC 6891 §7",
                "a plain EDNS0 query gets no OPT record back".to_string(),
            ),
            Code::EdnsVersion => (
                Severity::Notice,
                "RFC 6891 §6.1.3",
                format!(
                    "an EDNS version {EDNS_PROBE_VERSION} query does not get BADVERS with an OPT of version 0"
                ),
            ),
            _ => (
                Severity::Notice,
                "RFC 6891 §6.1.2",
                format!(
                    "a query with the unknown EDNS option {EDNS_PROBE_OPTION} is not answered as without it"
                ),
            ),
        };
        out.push(finding(
            severity,
            code,
            format!("{}: {what} ({seen})", list(&servers)),
            servers,
            Some(rfc),
        ));
    }
}

/// The first thing `view` shows wrong, with what was seen.
fn problem(view: &EdnsView) -> Option<(Code, String)> {
    match &view.plain {
        // Silence is the lame and timeout rules' business; the server
        // answered the lame-check questions, so EDNS itself is at fault.
        EdnsReply::NoReply(why) => return Some((Code::EdnsUnsupported, why.clone())),
        EdnsReply::Reply {
            opt_version: None,
            rcode,
            ..
        } => {
            return Some((
                Code::EdnsUnsupported,
                format!("{} without OPT", rcode_name(*rcode)),
            ));
        }
        EdnsReply::Reply { .. } => {}
    }
    let version_ok = matches!(
        view.version,
        EdnsReply::Reply {
            rcode: ResponseCode::BADVERS,
            opt_version: Some(0),
            answered: false,
            ..
        }
    );
    if !version_ok {
        return Some((Code::EdnsVersion, seen(&view.version)));
    }
    let option_ok = match (&view.plain, &view.option) {
        (
            EdnsReply::Reply {
                rcode: plain_rcode,
                answered: plain_answered,
                ..
            },
            EdnsReply::Reply {
                rcode,
                opt_version: Some(0),
                answered,
                echoed_option: false,
            },
        ) => rcode == plain_rcode && answered == plain_answered,
        _ => false,
    };
    if !option_ok {
        return Some((Code::EdnsOption, seen(&view.option)));
    }
    None
}

/// What a reply was, in a few words.
fn seen(reply: &EdnsReply) -> String {
    match reply {
        EdnsReply::NoReply(why) => why.clone(),
        EdnsReply::Reply {
            rcode,
            opt_version,
            answered,
            echoed_option,
        } => {
            let opt = match opt_version {
                Some(v) => format!("OPT version {v}"),
                None => "no OPT".to_string(),
            };
            let rcode = match rcode {
                ResponseCode::BADVERS => "BADVERS".to_string(),
                other => rcode_name(*other),
            };
            let mut what = format!("{rcode}, {opt}");
            if *answered {
                what.push_str(", with the SOA");
            }
            if *echoed_option {
                what.push_str(", option echoed");
            }
            what
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(rcode: ResponseCode, opt: Option<u8>, answered: bool) -> EdnsReply {
        EdnsReply::Reply {
            rcode,
            opt_version: opt,
            answered,
            echoed_option: false,
        }
    }

    fn compliant() -> EdnsView {
        EdnsView {
            plain: reply(ResponseCode::NoError, Some(0), true),
            version: reply(ResponseCode::BADVERS, Some(0), false),
            option: reply(ResponseCode::NoError, Some(0), true),
        }
    }

    #[test]
    fn a_compliant_server_has_no_problem() {
        assert_eq!(problem(&compliant()), None);
    }

    #[test]
    fn formerr_without_opt_is_unsupported_and_only_that() {
        let view = EdnsView {
            plain: reply(ResponseCode::FormErr, None, false),
            version: reply(ResponseCode::FormErr, None, false),
            option: reply(ResponseCode::FormErr, None, false),
        };
        let (code, seen) = problem(&view).unwrap();
        assert_eq!(code, Code::EdnsUnsupported);
        assert!(seen.contains("without OPT"), "{seen}");
        let silent = EdnsView {
            plain: EdnsReply::NoReply("no reply".into()),
            ..view
        };
        assert_eq!(problem(&silent).unwrap().0, Code::EdnsUnsupported);
    }

    #[test]
    fn a_version_1_query_must_get_badvers_with_version_0() {
        for wrong in [
            reply(ResponseCode::NoError, Some(0), true),
            reply(ResponseCode::BADVERS, Some(1), false),
            reply(ResponseCode::BADVERS, None, false),
            reply(ResponseCode::FormErr, Some(0), false),
            EdnsReply::NoReply("no reply".into()),
        ] {
            let view = EdnsView {
                version: wrong.clone(),
                ..compliant()
            };
            assert_eq!(
                problem(&view).map(|p| p.0),
                Some(Code::EdnsVersion),
                "{wrong:?}"
            );
        }
    }

    #[test]
    fn an_unknown_option_must_be_ignored() {
        let echoed = EdnsReply::Reply {
            rcode: ResponseCode::NoError,
            opt_version: Some(0),
            answered: true,
            echoed_option: true,
        };
        for wrong in [
            reply(ResponseCode::FormErr, Some(0), false),
            reply(ResponseCode::NoError, None, true),
            echoed,
            EdnsReply::NoReply("no reply".into()),
        ] {
            let view = EdnsView {
                option: wrong.clone(),
                ..compliant()
            };
            assert_eq!(
                problem(&view).map(|p| p.0),
                Some(Code::EdnsOption),
                "{wrong:?}"
            );
        }
    }
}
