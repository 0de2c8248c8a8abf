//! The question of `resolve` and `trace` read the way dig reads its
//! arguments: words in any order, each recognised by its shape. A word that
//! is a record type (`MX`, or `TYPE65` in RFC 3597 §5 form) is the type, a
//! class (`IN`) the class, `+word` a switch, `@server` the server to start
//! at, anything else the name. `-x ADDR` asks for the reverse name of an
//! IPv4 or IPv6 address (RFC 1035 §3.5, RFC 3596 §2.5).
//!
//! Switches: `+short` (only the answer data), `+trace` (what `trace` does),
//! `+norecurse` (accepted: every query rootwalk sends has RD=0), `+dnssec`
//! (show the RRSIGs after each answer RRset and the NSEC/NSEC3 proof of a
//! negative answer, as `dig +dnssec` does), `+cd` or `+cdflag` (checking
//! disabled: a bogus answer is shown with its verdict instead of failing,
//! RFC 4035 §3.2.2), each with its `+no` form. `+tcp` is refused with the
//! reason; any other switch is named in an error.

use std::net::IpAddr;
use std::str::FromStr;

use hickory_proto::rr::{Name, RecordType};

/// A question as dig-style words describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigQuestion {
    /// The fully qualified name asked.
    pub name: Name,
    /// The type asked: A unless given (PTR with `-x`).
    pub rtype: RecordType,
    /// `+short`: print only the answer data.
    pub short: bool,
    /// `+trace`: show the walk hop by hop.
    pub trace: bool,
    /// `+dnssec`: show the DNSSEC records of the answer (RRSIGs, the proof
    /// of a negative answer).
    pub dnssec: bool,
    /// `+cd`: checking disabled, a bogus answer is given with its verdict.
    pub checking_disabled: bool,
    /// `@server`: the server to start the walk at, as given (an address or
    /// a host name).
    pub server: Option<String>,
}

/// Why the words do not make a question.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuestionError {
    /// Neither a name nor `-x`.
    #[error("no name given: say what to resolve, e.g. `www.example.com A` or `-x 192.0.2.1`")]
    MissingName,
    /// Two words that can only be names.
    #[error(
        "two names given, `{first}` and `{second}`: one question at a time \
         (if `{second}` is meant as a record type, it is not one rootwalk knows)"
    )]
    TwoNames {
        /// The first.
        first: String,
        /// The second.
        second: String,
    },
    /// Two record types.
    #[error("two record types given, `{first}` and `{second}`")]
    TwoTypes {
        /// The first.
        first: String,
        /// The second.
        second: String,
    },
    /// The name is not a domain name.
    #[error("invalid domain name `{name}`: {problem}")]
    BadName {
        /// The word.
        name: String,
        /// What is wrong.
        problem: String,
    },
    /// `TYPEnnn` with a number out of range.
    #[error("unknown record type `{0}` (RFC 3597 form is TYPE0 to TYPE65535)")]
    BadType(String),
    /// A class other than IN.
    #[error("class `{0}` is not supported: rootwalk resolves class IN only")]
    UnsupportedClass(String),
    /// A `+switch` rootwalk does not know.
    #[error(
        "unknown option `{0}` (known: +short, +trace, +norecurse, +dnssec, +cd; refused: +tcp)"
    )]
    UnknownOption(String),
    /// A `+switch` rootwalk knows but cannot honour.
    #[error("`{option}` is not supported: {why}")]
    Unsupported {
        /// The switch.
        option: String,
        /// Why.
        why: &'static str,
    },
    /// `-x` with something that is not an address.
    #[error("`-x {0}`: not an IPv4 or IPv6 address")]
    BadReverse(String),
    /// `-x` and a name.
    #[error("`-x {reverse}` and the name `{name}` both given; use one")]
    ReverseAndName {
        /// The address of `-x`.
        reverse: String,
        /// The name.
        name: String,
    },
    /// `@` alone, or two servers.
    #[error("`{0}`: give one server after `@`, e.g. `@192.0.2.53` or `@ns1.example.net`")]
    BadServer(String),
}

/// Reads `words` (and the address of `-x`, if given) as dig would.
pub fn parse(words: &[String], reverse: Option<&str>) -> Result<DigQuestion, QuestionError> {
    let mut name: Option<&str> = None;
    let mut rtype: Option<(&str, RecordType)> = None;
    let mut switches = Switches::default();
    let mut server: Option<String> = None;
    for word in words {
        let word = word.as_str();
        if let Some(switch) = word.strip_prefix('+') {
            switches.set(switch, word)?;
        } else if let Some(at) = word.strip_prefix('@') {
            if at.is_empty() || server.is_some() {
                return Err(QuestionError::BadServer(word.to_string()));
            }
            server = Some(at.to_string());
        } else if is_class(word) {
            if !word.eq_ignore_ascii_case("IN") {
                return Err(QuestionError::UnsupportedClass(word.to_string()));
            }
        } else if let Some(t) = record_type(word)? {
            if let Some((first, _)) = rtype {
                return Err(QuestionError::TwoTypes {
                    first: first.to_string(),
                    second: word.to_string(),
                });
            }
            rtype = Some((word, t));
        } else if let Some(first) = name {
            return Err(QuestionError::TwoNames {
                first: first.to_string(),
                second: word.to_string(),
            });
        } else {
            name = Some(word);
        }
    }
    let (name, default_type) = match (reverse, name) {
        (Some(addr), Some(name)) => {
            return Err(QuestionError::ReverseAndName {
                reverse: addr.to_string(),
                name: name.to_string(),
            });
        }
        (Some(addr), None) => {
            let ip = IpAddr::from_str(addr.trim())
                .map_err(|_| QuestionError::BadReverse(addr.to_string()))?;
            (reverse_name(ip), RecordType::PTR)
        }
        (None, Some(word)) => (domain_name(word)?, RecordType::A),
        (None, None) => return Err(QuestionError::MissingName),
    };
    let Switches {
        short,
        trace,
        dnssec,
        checking_disabled,
    } = switches;
    Ok(DigQuestion {
        name,
        rtype: rtype.map_or(default_type, |(_, t)| t),
        short,
        trace,
        dnssec,
        checking_disabled,
        server,
    })
}

/// The `+switches` given, the last word for each winning.
#[derive(Debug, Default)]
struct Switches {
    short: bool,
    trace: bool,
    dnssec: bool,
    checking_disabled: bool,
}

impl Switches {
    /// Takes `+switch` (the whole word is `word`).
    fn set(&mut self, switch: &str, word: &str) -> Result<(), QuestionError> {
        let lower = switch.to_ascii_lowercase();
        let (on, name) = match lower.strip_prefix("no") {
            // `+norecurse` is a switch of its own; `+no` alone is unknown.
            Some(rest) if !rest.is_empty() && !lower.starts_with("norec") => (false, rest),
            _ => (true, lower.as_str()),
        };
        match name {
            "short" => self.short = on,
            "trace" => self.trace = on,
            "dnssec" => self.dnssec = on,
            "cd" | "cdflag" => self.checking_disabled = on,
            // Every query rootwalk sends is iterative already (RD=0).
            "norecurse" | "norec" => {}
            "tcp" | "vc" if on => {
                return Err(QuestionError::Unsupported {
                    option: word.to_string(),
                    why: "rootwalk asks over UDP and retries over TCP when a reply is truncated; \
                          a walk over TCP only is not built",
                });
            }
            "tcp" | "vc" => {}
            _ => return Err(QuestionError::UnknownOption(word.to_string())),
        }
        Ok(())
    }
}

/// Whether `word` is a DNS class mnemonic (RFC 1035 §3.2.4) or
/// `CLASSnnn` (RFC 3597 §5).
fn is_class(word: &str) -> bool {
    let upper = word.to_ascii_uppercase();
    matches!(upper.as_str(), "IN" | "CH" | "CHAOS" | "HS" | "HESIOD")
        || upper
            .strip_prefix("CLASS")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The record type `word` names: a mnemonic or `TYPEnnn` (RFC 3597 §5);
/// `None` when it is no type (a name, then).
pub fn record_type(word: &str) -> Result<Option<RecordType>, QuestionError> {
    let upper = word.to_ascii_uppercase();
    if let Some(digits) = upper.strip_prefix("TYPE")
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        return digits
            .parse::<u16>()
            .map(|n| Some(RecordType::from(n)))
            .map_err(|_| QuestionError::BadType(word.to_string()));
    }
    Ok(RecordType::from_str(&upper)
        .ok()
        .filter(|t| !matches!(t, RecordType::Unknown(_))))
}

/// `word` as a fully qualified name.
fn domain_name(word: &str) -> Result<Name, QuestionError> {
    let mut name = Name::from_str(word).map_err(|e| QuestionError::BadName {
        name: word.to_string(),
        problem: e.to_string(),
    })?;
    name.set_fqdn(true);
    Ok(name)
}

/// The reverse-mapping name of `addr`: `4.3.2.1.in-addr.arpa.` for
/// 1.2.3.4 (RFC 1035 §3.5), one nibble a label under `ip6.arpa.` for IPv6
/// (RFC 3596 §2.5).
pub fn reverse_name(addr: IpAddr) -> Name {
    let text = match addr {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}.in-addr.arpa.")
        }
        IpAddr::V6(v6) => {
            let mut text = String::with_capacity(72);
            for byte in v6.octets().iter().rev() {
                text.push_str(&format!("{:x}.{:x}.", byte & 0x0f, byte >> 4));
            }
            text.push_str("ip6.arpa.");
            text
        }
    };
    // Only digits, hex letters and dots: always a valid name.
    Name::from_ascii(&text).unwrap_or_else(|_| Name::root())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_string).collect()
    }

    fn q(text: &str) -> Result<DigQuestion, QuestionError> {
        parse(&words(text), None)
    }

    #[test]
    fn words_in_any_order() {
        for text in [
            "www.example.com MX",
            "MX www.example.com",
            "www.example.com IN MX",
            "IN mx www.example.com",
        ] {
            let got = q(text).unwrap();
            assert_eq!(got.name.to_string(), "www.example.com.", "{text}");
            assert_eq!(got.rtype, RecordType::MX, "{text}");
        }
        assert_eq!(q("www.example.com").unwrap().rtype, RecordType::A);
    }

    #[test]
    fn rfc3597_types_and_classes() {
        assert_eq!(q("x.test TYPE65").unwrap().rtype, RecordType::HTTPS);
        assert_eq!(q("x.test type99").unwrap().rtype, RecordType::from(99));
        assert_eq!(
            q("x.test TYPE70000"),
            Err(QuestionError::BadType("TYPE70000".into()))
        );
        assert_eq!(
            q("x.test CH TXT"),
            Err(QuestionError::UnsupportedClass("CH".into()))
        );
        assert_eq!(
            q("x.test CLASS3"),
            Err(QuestionError::UnsupportedClass("CLASS3".into()))
        );
    }

    #[test]
    fn switches_and_servers() {
        let got = q("+short x.test @192.0.2.1 +norec").unwrap();
        assert!(got.short && !got.trace);
        assert_eq!(got.server.as_deref(), Some("192.0.2.1"));
        assert_eq!(
            q("x.test +bogus"),
            Err(QuestionError::UnknownOption("+bogus".into()))
        );
        assert!(matches!(
            q("x.test +tcp"),
            Err(QuestionError::Unsupported { .. })
        ));
        assert_eq!(q("x.test @"), Err(QuestionError::BadServer("@".into())));
    }

    #[test]
    fn dnssec_and_checking_disabled_switches() {
        let got = q("x.test +dnssec +cd").unwrap();
        assert!(got.dnssec && got.checking_disabled && !got.short);
        let got = q("x.test +CDFLAG +dnssec +nodnssec").unwrap();
        assert!(!got.dnssec && got.checking_disabled, "the last word wins");
        assert!(!q("x.test +cd +nocdflag").unwrap().checking_disabled);
        let plain = q("x.test").unwrap();
        assert!(!plain.dnssec && !plain.checking_disabled);
        assert!(q("x.test +notcp").is_ok(), "TCP off is what rootwalk does");
        assert_eq!(
            q("x.test +no"),
            Err(QuestionError::UnknownOption("+no".into()))
        );
        assert_eq!(
            q("x.test +nobogus"),
            Err(QuestionError::UnknownOption("+nobogus".into()))
        );
    }

    #[test]
    fn mistakes_are_named() {
        assert_eq!(q("MX"), Err(QuestionError::MissingName));
        assert!(matches!(
            q("a.test b.test"),
            Err(QuestionError::TwoNames { .. })
        ));
        assert!(matches!(
            q("a.test A MX"),
            Err(QuestionError::TwoTypes { .. })
        ));
    }

    #[test]
    fn reverse_names() {
        let v4 = parse(&[], Some("192.0.2.1")).unwrap();
        assert_eq!(v4.name.to_string(), "1.2.0.192.in-addr.arpa.");
        assert_eq!(v4.rtype, RecordType::PTR);
        let v6 = parse(&[], Some("2001:db8::1")).unwrap();
        assert_eq!(
            v6.name.to_string(),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."
        );
        assert_eq!(
            parse(&[], Some("nope")),
            Err(QuestionError::BadReverse("nope".into()))
        );
        assert!(matches!(
            parse(&words("x.test"), Some("192.0.2.1")),
            Err(QuestionError::ReverseAndName { .. })
        ));
    }
}
