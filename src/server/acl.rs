//! Who may ask: the access list of client networks, as CIDR prefixes.
//!
//! A resolver open to the world is an amplifier for reflection attacks
//! (RFC 5358), so the daemon answers only the networks listed and gives
//! everyone else REFUSED. The default is loopback only.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// One network: an address and how many of its leading bits count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

/// A CIDR prefix that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid network `{input}`: {problem} (expected e.g. 192.0.2.0/24 or 2001:db8::/32)")]
pub struct CidrError {
    /// The text given.
    pub input: String,
    /// What is wrong with it.
    pub problem: &'static str,
}

impl Cidr {
    /// The network `address/prefix`; host bits of `address` are cleared.
    /// `None` when `prefix` is longer than the address.
    pub fn new(address: IpAddr, prefix: u8) -> Option<Self> {
        let network = match address {
            IpAddr::V4(v4) => {
                let bits = u32::from(v4) & mask32(prefix)?;
                IpAddr::V4(Ipv4Addr::from(bits))
            }
            IpAddr::V6(v6) => {
                let bits = u128::from(v6) & mask128(prefix)?;
                IpAddr::V6(Ipv6Addr::from(bits))
            }
        };
        Some(Self { network, prefix })
    }

    /// Whether `address` lies in this network. An IPv4-mapped IPv6 address
    /// (`::ffff:a.b.c.d`, what a dual-stack socket reports) counts as its
    /// IPv4 address.
    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, address.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(addr)) => {
                mask32(self.prefix).is_some_and(|mask| u32::from(addr) & mask == u32::from(net))
            }
            (IpAddr::V6(net), IpAddr::V6(addr)) => {
                mask128(self.prefix).is_some_and(|mask| u128::from(addr) & mask == u128::from(net))
            }
            _ => false,
        }
    }
}

/// The netmask of an IPv4 prefix; `None` beyond 32 bits.
fn mask32(prefix: u8) -> Option<u32> {
    match prefix {
        0 => Some(0),
        1..=32 => Some(u32::MAX << (32 - prefix)),
        _ => None,
    }
}

/// The netmask of an IPv6 prefix; `None` beyond 128 bits.
fn mask128(prefix: u8) -> Option<u128> {
    match prefix {
        0 => Some(0),
        1..=128 => Some(u128::MAX << (128 - prefix)),
        _ => None,
    }
}

impl FromStr for Cidr {
    type Err = CidrError;

    /// `ADDR/LEN`, or a bare address meaning that one host.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = |problem| CidrError {
            input: text.to_string(),
            problem,
        };
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address = IpAddr::from_str(address.trim()).map_err(|_| error("not an IP address"))?;
        let full = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => full,
            Some(p) => p
                .trim()
                .parse::<u8>()
                .map_err(|_| error("bad prefix length"))?,
        };
        Cidr::new(address, prefix).ok_or_else(|| error("prefix longer than the address"))
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// The networks allowed to query; everyone else is REFUSED.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acl {
    allow: Vec<Cidr>,
}

impl Acl {
    /// Allows exactly these networks (none at all when empty).
    pub fn new(allow: Vec<Cidr>) -> Self {
        Self { allow }
    }

    /// The default: 127.0.0.0/8 and ::1/128.
    pub fn loopback() -> Self {
        Self::new(vec![
            Cidr {
                network: IpAddr::V4(Ipv4Addr::new(127, 0, 0, 0)),
                prefix: 8,
            },
            Cidr {
                network: IpAddr::V6(Ipv6Addr::LOCALHOST),
                prefix: 128,
            },
        ])
    }

    /// Whether `client` may query.
    pub fn allows(&self, client: IpAddr) -> bool {
        self.allow.iter().any(|cidr| cidr.contains(client))
    }

    /// The allowed networks.
    pub fn networks(&self) -> &[Cidr] {
        &self.allow
    }
}

impl fmt::Display for Acl {
    /// The networks, comma-separated; `none` when empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.allow.is_empty() {
            return f.write_str("none");
        }
        for (i, cidr) in self.allow.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{cidr}")?;
        }
        Ok(())
    }
}

impl Default for Acl {
    fn default() -> Self {
        Self::loopback()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn parses_prefixes_and_bare_hosts() {
        assert_eq!(
            "10.1.2.3/8".parse::<Cidr>().unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(
            "192.0.2.7".parse::<Cidr>().unwrap().to_string(),
            "192.0.2.7/32"
        );
        assert_eq!("::1".parse::<Cidr>().unwrap().to_string(), "::1/128");
        assert_eq!(
            "2001:db8::5/32".parse::<Cidr>().unwrap().to_string(),
            "2001:db8::/32"
        );
        assert_eq!(
            "0.0.0.0/0".parse::<Cidr>().unwrap().to_string(),
            "0.0.0.0/0"
        );
    }

    #[test]
    fn rejects_bad_prefixes() {
        for bad in [
            "",
            "10.0.0.0/33",
            "::/129",
            "10.0.0/8",
            "host/8",
            "10.0.0.0/x",
            "1.2.3.4/-1",
        ] {
            let error = bad.parse::<Cidr>().unwrap_err();
            assert_eq!(error.input, bad);
        }
    }

    #[test]
    fn containment_follows_the_prefix() {
        let net: Cidr = "192.0.2.0/25".parse().unwrap();
        assert!(net.contains(ip("192.0.2.0")));
        assert!(net.contains(ip("192.0.2.127")));
        assert!(!net.contains(ip("192.0.2.128")));
        assert!(!net.contains(ip("2001:db8::1")));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.9")));
        assert!(!all.contains(ip("::1")));
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
    }

    #[test]
    fn default_allows_only_loopback() {
        let acl = Acl::default();
        assert!(acl.allows(ip("127.0.0.1")));
        assert!(acl.allows(ip("127.200.3.4")));
        assert!(acl.allows(ip("::1")));
        assert!(acl.allows(ip("::ffff:127.0.0.1")), "v4-mapped loopback");
        assert!(!acl.allows(ip("::2")));
        assert!(!acl.allows(ip("10.0.0.1")));
        assert!(!acl.allows(ip("::ffff:10.0.0.1")));
    }

    #[test]
    fn empty_acl_allows_nobody() {
        assert!(!Acl::new(Vec::new()).allows(ip("127.0.0.1")));
    }
}
