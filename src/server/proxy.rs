//! The PROXY protocol, version 2 (HAProxy's `proxy-protocol.txt` §2.2),
//! as dnsdist sends it in front of its backends: a binary header before
//! each UDP datagram and at the start of each TCP connection, naming the
//! client the proxy received the query from.
//!
//! Only addresses in `proxy-protocol-from` may send it; from them the
//! header is required (a datagram or connection without one is dropped),
//! and the access list, the logs and the per-client limits then see the
//! client it names. From anyone else the bytes are DNS as usual, so a
//! client cannot claim another's address. A `LOCAL` header (the proxy's
//! own health checks) or one with an unspecified or Unix address family
//! leaves the proxy as the client. Replies go back to the proxy without a
//! header, as dnsdist expects.
//!
//! TLVs after the addresses are skipped; the whole header is at most
//! [`MAX_PROXY_HEADER`] bytes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The 12 bytes every version 2 header starts with.
pub const SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";

/// Fixed part: signature, version and command, family and protocol,
/// length.
pub const FIXED_LEN: usize = 16;

/// Largest header accepted, TLVs included. dnsdist sends the addresses
/// and a few small TLVs (well under 100 bytes); the format allows 64 KB,
/// which is not worth reading before a 512-byte DNS question.
pub const MAX_PROXY_HEADER: usize = 512;

/// A parsed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyHeader {
    /// The client the proxy speaks for; `None` for a `LOCAL` command or an
    /// address family without IP addresses.
    pub source: Option<SocketAddr>,
    /// The header's length: where the DNS message starts.
    pub len: usize,
}

/// Why bytes are not a usable header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyError {
    /// More bytes are needed (TCP: read on).
    #[error("incomplete PROXY header")]
    Incomplete,
    /// Not a PROXY v2 header, or a malformed one.
    #[error("bad PROXY v2 header: {0}")]
    Bad(&'static str),
    /// Longer than [`MAX_PROXY_HEADER`].
    #[error("PROXY header longer than {MAX_PROXY_HEADER} bytes")]
    TooLong,
}

/// Reads the header at the start of `bytes`.
pub fn parse(bytes: &[u8]) -> Result<ProxyHeader, ProxyError> {
    let available = bytes.len().min(SIGNATURE.len());
    if bytes[..available] != SIGNATURE[..available] {
        return Err(ProxyError::Bad("no PROXY v2 signature"));
    }
    let [.., version_command, family_protocol, high, low] = match bytes.get(..FIXED_LEN) {
        Some(fixed) => <[u8; FIXED_LEN]>::try_from(fixed).map_err(|_| ProxyError::Incomplete)?,
        None => return Err(ProxyError::Incomplete),
    };
    if version_command >> 4 != 2 {
        return Err(ProxyError::Bad("version is not 2"));
    }
    let local = match version_command & 0x0f {
        0 => true,
        1 => false,
        _ => return Err(ProxyError::Bad("unknown command")),
    };
    let len = FIXED_LEN + usize::from(u16::from_be_bytes([high, low]));
    if len > MAX_PROXY_HEADER {
        return Err(ProxyError::TooLong);
    }
    let body = bytes.get(FIXED_LEN..len).ok_or(ProxyError::Incomplete)?;
    let source = match family_protocol >> 4 {
        1 => {
            let a = body
                .get(..12)
                .ok_or(ProxyError::Bad("short IPv4 addresses"))?;
            let ip = Ipv4Addr::new(a[0], a[1], a[2], a[3]);
            Some(SocketAddr::new(
                IpAddr::V4(ip),
                u16::from_be_bytes([a[8], a[9]]),
            ))
        }
        2 => {
            let a = body
                .get(..36)
                .ok_or(ProxyError::Bad("short IPv6 addresses"))?;
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&a[..16]);
            let ip = Ipv6Addr::from(octets);
            Some(SocketAddr::new(
                IpAddr::V6(ip),
                u16::from_be_bytes([a[32], a[33]]),
            ))
        }
        0 | 3 => None,
        _ => return Err(ProxyError::Bad("unknown address family")),
    };
    Ok(ProxyHeader {
        source: if local { None } else { source },
        len,
    })
}

/// A `PROXY` header for a query from `source` to `destination` (both of
/// one family) over UDP (`datagram`) or TCP, without TLVs: what dnsdist
/// sends. For tests and tools.
pub fn header(source: SocketAddr, destination: SocketAddr, datagram: bool) -> Vec<u8> {
    let protocol = if datagram { 0x02 } else { 0x01 };
    let mut out = SIGNATURE.to_vec();
    out.push(0x21);
    let mut addresses = Vec::with_capacity(36);
    let family = match (source.ip(), destination.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            addresses.extend_from_slice(&s.octets());
            addresses.extend_from_slice(&d.octets());
            0x10
        }
        (s, d) => {
            let v6 = |ip: IpAddr| match ip {
                IpAddr::V4(v4) => v4.to_ipv6_mapped(),
                IpAddr::V6(v6) => v6,
            };
            addresses.extend_from_slice(&v6(s).octets());
            addresses.extend_from_slice(&v6(d).octets());
            0x20
        }
    };
    addresses.extend_from_slice(&source.port().to_be_bytes());
    addresses.extend_from_slice(&destination.port().to_be_bytes());
    out.push(family | protocol);
    // At most 36 bytes of addresses.
    out.extend_from_slice(&(addresses.len() as u16).to_be_bytes());
    out.extend_from_slice(&addresses);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn ipv4_and_ipv6_headers_name_the_client() {
        let v4 = header(addr("192.0.2.7:5300"), addr("127.0.0.1:53"), true);
        assert_eq!(v4.len(), 28);
        let mut datagram = v4.clone();
        datagram.extend_from_slice(b"dns");
        let parsed = parse(&datagram).unwrap();
        assert_eq!(parsed.source, Some(addr("192.0.2.7:5300")));
        assert_eq!(&datagram[parsed.len..], b"dns");

        let v6 = header(addr("[2001:db8::1]:1234"), addr("[::1]:53"), false);
        assert_eq!(v6.len(), 52);
        assert_eq!(parse(&v6).unwrap().source, Some(addr("[2001:db8::1]:1234")));
    }

    #[test]
    fn tlvs_are_skipped_and_local_names_no_one() {
        let mut with_tlv = header(addr("192.0.2.7:1"), addr("127.0.0.1:53"), true);
        with_tlv[15] += 5;
        with_tlv.extend_from_slice(&[0x04, 0x00, 0x02, 0xab, 0xcd]);
        with_tlv.push(0xff);
        let parsed = parse(&with_tlv).unwrap();
        assert_eq!(parsed.len, 33);
        assert_eq!(parsed.source, Some(addr("192.0.2.7:1")));

        let mut local = header(addr("192.0.2.7:1"), addr("127.0.0.1:53"), true);
        local[12] = 0x20;
        assert_eq!(parse(&local).unwrap().source, None);
    }

    #[test]
    fn bad_short_and_long_headers_are_refused() {
        let good = header(addr("192.0.2.7:1"), addr("127.0.0.1:53"), false);
        assert_eq!(parse(&good[..5]), Err(ProxyError::Incomplete));
        assert_eq!(parse(&good[..20]), Err(ProxyError::Incomplete));
        assert!(matches!(
            parse(b"\x12\x34\x01\x00"),
            Err(ProxyError::Bad(_))
        ));
        let mut v1 = good.clone();
        v1[12] = 0x11;
        assert!(matches!(parse(&v1), Err(ProxyError::Bad(_))));
        let mut command = good.clone();
        command[12] = 0x2f;
        assert!(matches!(parse(&command), Err(ProxyError::Bad(_))));
        let mut family = good.clone();
        family[13] = 0x41;
        assert!(matches!(parse(&family), Err(ProxyError::Bad(_))));
        let mut short = good.clone();
        short[15] = 4;
        assert!(matches!(parse(&short[..20]), Err(ProxyError::Bad(_))));
        let mut long = good;
        long[14] = 0x02;
        assert_eq!(parse(&long), Err(ProxyError::TooLong));
    }
}
