//! Root hints: where a cold resolver starts (RFC 8109), built in or read
//! from a file in the `named.root` format, and written back in that format.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::Path;
use std::str::FromStr;

use hickory_proto::rr::Name;

/// Reading root hints failed.
#[derive(Debug, thiserror::Error)]
pub enum HintsError {
    /// The file could not be read.
    #[error("cannot read root hints {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// A line is not a valid hints record.
    #[error("{source_name}:{line}: {problem}")]
    Syntax {
        /// The file or input name.
        source_name: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// No server with an address was found.
    #[error("{source_name}: no root server with an address")]
    Empty {
        /// The file or input name.
        source_name: String,
    },
}

/// One root server named in the hints, with its addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HintServer {
    /// The server's host name, e.g. `a.root-servers.net.`.
    pub name: Name,
    /// Its IPv4 and IPv6 addresses.
    pub addrs: Vec<IpAddr>,
}

/// The root name servers a resolver primes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootHints {
    /// The servers, in file order.
    pub servers: Vec<HintServer>,
}

/// IANA's root hints (named.root, last changed 2023-11-27 when b.root moved).
const IANA_ROOTS: &[(&str, &str, &str)] = &[
    ("a", "198.41.0.4", "2001:503:ba3e::2:30"),
    ("b", "170.247.170.2", "2801:1b8:10::b"),
    ("c", "192.33.4.12", "2001:500:2::c"),
    ("d", "199.7.91.13", "2001:500:2d::d"),
    ("e", "192.203.230.10", "2001:500:a8::e"),
    ("f", "192.5.5.241", "2001:500:2f::f"),
    ("g", "192.112.36.4", "2001:500:12::d0d"),
    ("h", "198.97.190.53", "2001:500:1::53"),
    ("i", "192.36.148.17", "2001:7fe::53"),
    ("j", "192.58.128.30", "2001:503:c27::2:30"),
    ("k", "193.0.14.129", "2001:7fd::1"),
    ("l", "199.7.83.42", "2001:500:9f::42"),
    ("m", "202.12.27.33", "2001:dc3::35"),
];

impl RootHints {
    /// The built-in IANA root hints.
    pub fn iana() -> Self {
        let servers = IANA_ROOTS
            .iter()
            .filter_map(|(letter, v4, v6)| {
                let name = Name::from_ascii(format!("{letter}.root-servers.net.")).ok()?;
                let addrs = [v4, v6].iter().filter_map(|a| a.parse().ok()).collect();
                Some(HintServer { name, addrs })
            })
            .collect();
        Self { servers }
    }

    /// Reads a hints file in `named.root` format.
    pub fn from_file(path: &Path) -> Result<Self, HintsError> {
        let text = std::fs::read_to_string(path).map_err(|source| HintsError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses `named.root` text: `. NS name` lines and `name A|AAAA addr`
    /// lines, with optional TTL and class, `;` comments. `source` names the
    /// input in error messages.
    pub fn parse(text: &str, source: &str) -> Result<Self, HintsError> {
        let mut hints = RootHints {
            servers: Vec::new(),
        };
        let mut addrs: Vec<(Name, IpAddr)> = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = raw.split(';').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let bad = |problem: String| HintsError::Syntax {
                source_name: source.to_string(),
                line: index + 1,
                problem,
            };
            let fields: Vec<&str> = line.split_whitespace().collect();
            // owner [ttl] [class] type rdata
            let mut rest = &fields[1..];
            if rest
                .first()
                .is_some_and(|f| f.chars().all(|c| c.is_ascii_digit()))
            {
                rest = &rest[1..];
            }
            if rest.first().is_some_and(|f| f.eq_ignore_ascii_case("IN")) {
                rest = &rest[1..];
            }
            let [rtype, rdata] = rest else {
                return Err(bad(format!(
                    "expected `owner [ttl] [class] type data`, got `{line}`"
                )));
            };
            let owner = Name::from_str(fields[0])
                .map_err(|e| bad(format!("bad owner name `{}`: {e}", fields[0])))?;
            match rtype.to_ascii_uppercase().as_str() {
                "NS" => {
                    if !owner.is_root() {
                        return Err(bad(format!("NS record for `{owner}`, expected `.`")));
                    }
                    let name = Name::from_str(rdata)
                        .map_err(|e| bad(format!("bad NS name `{rdata}`: {e}")))?;
                    hints.servers.push(HintServer {
                        name,
                        addrs: Vec::new(),
                    });
                }
                "A" | "AAAA" => {
                    let addr: IpAddr = rdata
                        .parse()
                        .map_err(|_| bad(format!("bad address `{rdata}`")))?;
                    if addr.is_ipv4() != rtype.eq_ignore_ascii_case("A") {
                        return Err(bad(format!("{rtype} record with address `{addr}`")));
                    }
                    addrs.push((owner, addr));
                }
                other => return Err(bad(format!("unexpected record type `{other}`"))),
            }
        }
        for (owner, addr) in addrs {
            if let Some(server) = hints.servers.iter_mut().find(|s| s.name == owner) {
                server.addrs.push(addr);
            }
        }
        hints.servers.retain(|s| !s.addrs.is_empty());
        if hints.servers.is_empty() {
            return Err(HintsError::Empty {
                source_name: source.to_string(),
            });
        }
        Ok(hints)
    }

    /// Writes the hints in `named.root` format.
    pub fn to_named_root(&self) -> String {
        let mut out = String::from("; root hints written by rootwalk\n");
        for server in &self.servers {
            let _ = writeln!(
                out,
                ".                        3600000  NS    {}",
                server.name
            );
        }
        for server in &self.servers {
            for addr in &server.addrs {
                let rtype = if addr.is_ipv4() { "A   " } else { "AAAA" };
                let _ = writeln!(
                    out,
                    "{:<24} 3600000  {rtype}  {addr}",
                    server.name.to_string()
                );
            }
        }
        out
    }

    /// Every address of every server, IPv4 first.
    pub fn addresses(&self) -> Vec<(Name, IpAddr)> {
        let mut all: Vec<(Name, IpAddr)> = self
            .servers
            .iter()
            .flat_map(|s| s.addrs.iter().map(move |a| (s.name.clone(), *a)))
            .collect();
        all.sort_by_key(|(_, a)| a.is_ipv6());
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iana_hints_have_thirteen_servers_with_both_families() {
        let hints = RootHints::iana();
        assert_eq!(hints.servers.len(), 13);
        assert!(hints.servers.iter().all(|s| s.addrs.len() == 2));
    }

    #[test]
    fn round_trips_through_named_root_format() {
        let hints = RootHints::iana();
        let text = hints.to_named_root();
        assert_eq!(RootHints::parse(&text, "test").unwrap(), hints);
    }

    #[test]
    fn parses_without_ttl_or_class_and_ignores_comments() {
        let text = "; comment\n. NS a.root.lab.\na.root.lab. IN A 127.0.0.9 ; trailing\n";
        let hints = RootHints::parse(text, "t").unwrap();
        assert_eq!(
            hints.servers[0].addrs,
            vec!["127.0.0.9".parse::<IpAddr>().unwrap()]
        );
    }

    #[test]
    fn errors_name_the_line_and_problem() {
        let text = ". NS a.root.lab.\na.root.lab. A not-an-address\n";
        let err = RootHints::parse(text, "hints.txt").unwrap_err().to_string();
        assert!(err.contains("hints.txt:2"), "{err}");
        assert!(err.contains("not-an-address"), "{err}");
        let err = RootHints::parse("a.root.lab. AAAA 127.0.0.1\n", "h").unwrap_err();
        assert!(err.to_string().contains("AAAA record"), "{err}");
    }

    #[test]
    fn servers_without_addresses_are_dropped_and_none_left_is_an_error() {
        assert!(matches!(
            RootHints::parse(". NS a.x.\n", "h"),
            Err(HintsError::Empty { .. })
        ));
    }
}
