//! Binding the listen addresses: UDP and TCP on each, at the same port.

use std::net::SocketAddr;

use tokio::net::{TcpListener, UdpSocket};
use tracing::warn;

use super::error::ServeError;

/// The sockets the daemon serves, bound by the caller (tests bind port 0).
#[derive(Debug, Default)]
pub struct Listeners {
    /// UDP sockets, one receive loop each.
    pub udp: Vec<UdpSocket>,
    /// TCP listeners, one accept loop each.
    pub tcp: Vec<TcpListener>,
}

impl Listeners {
    /// The addresses actually bound (UDP first, then TCP).
    pub fn local_addrs(&self) -> Vec<(&'static str, SocketAddr)> {
        let udp = self
            .udp
            .iter()
            .filter_map(|s| s.local_addr().ok())
            .map(|a| ("UDP", a));
        let tcp = self
            .tcp
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .map(|a| ("TCP", a));
        udp.chain(tcp).collect()
    }
}

/// Binds UDP and TCP on every address in `addrs`; TCP takes the port UDP
/// got, so port 0 gives one port for both. With `defaults`, an IPv6
/// address the host lacks (no `::1`, IPv6 disabled) is skipped with a
/// warning instead of failing: the built-in default must work on IPv4-only
/// hosts, but an address the operator asked for must not silently vanish.
pub async fn bind(addrs: &[SocketAddr], defaults: bool) -> Result<Listeners, ServeError> {
    let mut listeners = Listeners::default();
    for &addr in addrs {
        let udp = match UdpSocket::bind(addr).await {
            Ok(socket) => socket,
            Err(source) if defaults && addr.is_ipv6() && unavailable(&source) => {
                warn!("skipping default listen address {addr}: {source}");
                continue;
            }
            Err(source) => {
                return Err(ServeError::Bind {
                    addr,
                    transport: "UDP",
                    source,
                });
            }
        };
        let bound = udp.local_addr().map_err(|source| ServeError::Bind {
            addr,
            transport: "UDP",
            source,
        })?;
        let tcp = TcpListener::bind(bound)
            .await
            .map_err(|source| ServeError::Bind {
                addr: bound,
                transport: "TCP",
                source,
            })?;
        listeners.udp.push(udp);
        listeners.tcp.push(tcp);
    }
    if listeners.udp.is_empty() {
        return Err(ServeError::NoListeners);
    }
    Ok(listeners)
}

/// Whether a bind error means the address does not exist on this host.
fn unavailable(error: &std::io::Error) -> bool {
    /// EAFNOSUPPORT on Linux: the kernel has IPv6 switched off.
    const ADDRESS_FAMILY_NOT_SUPPORTED: i32 = 97;
    matches!(
        error.kind(),
        std::io::ErrorKind::AddrNotAvailable | std::io::ErrorKind::Unsupported
    ) || error.raw_os_error() == Some(ADDRESS_FAMILY_NOT_SUPPORTED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn port_zero_gives_udp_and_tcp_the_same_port() {
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let listeners = bind(&[addr], false).await.unwrap();
        let addrs = listeners.local_addrs();
        assert_eq!(addrs.len(), 2);
        assert_eq!(addrs[0].1, addrs[1].1);
        assert_ne!(addrs[0].1.port(), 0);
    }

    #[tokio::test]
    async fn a_busy_port_is_an_error_naming_the_address() {
        let taken = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = taken.local_addr().unwrap();
        let error = bind(&[addr], true).await.unwrap_err();
        assert!(error.to_string().contains(&addr.to_string()), "{error}");
    }

    #[tokio::test]
    async fn an_absent_address_is_an_error_unless_it_is_a_default() {
        // 192.0.2.1 (TEST-NET-1) is on no interface here.
        let absent: SocketAddr = "192.0.2.1:0".parse().unwrap();
        let error = bind(&[absent], false).await.unwrap_err();
        assert!(error.to_string().contains("192.0.2.1"), "{error}");
        // Defaults skip only IPv6, so an IPv4 default still fails.
        assert!(bind(&[absent], true).await.is_err());
        assert!(matches!(
            bind(&[], true).await,
            Err(ServeError::NoListeners)
        ));
    }
}
