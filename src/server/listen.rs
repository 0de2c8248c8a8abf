//! Binding the listen addresses: on each, a group of UDP sockets sharing
//! the port through `SO_REUSEPORT` (one receive loop each, so every worker
//! thread reads datagrams of its own) and one TCP listener at the same port.
//!
//! # Who owns the port
//!
//! `SO_REUSEPORT` lets any socket of the same user that also sets it bind
//! the same address, and the kernel then splits datagrams between them. A
//! second daemon (or an Unbound with `so-reuseport: yes`) started on a port
//! already served would therefore bind without error and silently take
//! half the queries. To keep "port in use" an error, the first bind on an
//! explicit port is a probe without `SO_REUSEPORT`: it fails with "address
//! in use" when anyone holds the port, with or without the option, and is
//! closed before the group binds. (A process binding in the instant between
//! the two could still slip in; that window is microseconds at start-up.)
//! On port 0 the kernel picks a free port, so no probe is needed: the first
//! socket binds port 0 and the others the port it got.

use std::net::SocketAddr;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::TcpListener;
use tracing::warn;

use super::error::ServeError;

/// Most UDP sockets bound per listen address. Each has a receive loop (a
/// task) and a kernel buffer; more than a few per core only costs memory.
pub const MAX_UDP_SOCKETS: usize = 64;

/// Tries at port 0 (the kernel's choice): the port it gives UDP may be
/// taken for TCP, and then both are bound again on a new port.
pub const PORT_ZERO_ATTEMPTS: u32 = 8;

/// The sockets the daemon serves, bound by the caller (tests bind port 0).
#[derive(Debug, Default)]
pub struct Listeners {
    /// UDP sockets, non-blocking, one receive thread each; several may
    /// share one address. Plain std sockets: each is registered with the
    /// runtime of the thread that serves it.
    pub udp: Vec<std::net::UdpSocket>,
    /// TCP listeners, one accept loop each.
    pub tcp: Vec<TcpListener>,
    /// The metrics endpoint, if one was asked for.
    pub metrics: Option<TcpListener>,
    /// The control socket, if one was asked for.
    pub control: Option<super::control::ControlListener>,
}

impl Listeners {
    /// The addresses actually bound (UDP first, each address once, then
    /// TCP, then metrics).
    pub fn local_addrs(&self) -> Vec<(&'static str, SocketAddr)> {
        let mut udp: Vec<SocketAddr> = Vec::new();
        for addr in self.udp.iter().filter_map(|s| s.local_addr().ok()) {
            if !udp.contains(&addr) {
                udp.push(addr);
            }
        }
        let tcp = self
            .tcp
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .map(|a| ("TCP", a));
        let metrics = self
            .metrics
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .map(|a| ("metrics", a));
        udp.into_iter()
            .map(|a| ("UDP", a))
            .chain(tcp)
            .chain(metrics)
            .collect()
    }
}

/// The number of UDP sockets per address when none is configured: one per
/// worker thread of the current tokio runtime (1 outside a runtime).
pub fn default_udp_sockets() -> usize {
    tokio::runtime::Handle::try_current()
        .map(|handle| handle.metrics().num_workers())
        .unwrap_or(1)
        .clamp(1, MAX_UDP_SOCKETS)
}

/// Binds, on every address in `addrs`, `udp_sockets` UDP sockets sharing
/// the port (clamped to 1..=[`MAX_UDP_SOCKETS`]) and one TCP listener; TCP
/// takes the port UDP got, so port 0 gives one port for both. With
/// `defaults`, an IPv6 address the host lacks (no `::1`, IPv6 disabled) is
/// skipped with a warning instead of failing: the built-in default must
/// work on IPv4-only hosts, but an address the operator asked for must not
/// silently vanish. Must run inside a tokio runtime (for TCP).
pub async fn bind(
    addrs: &[SocketAddr],
    defaults: bool,
    udp_sockets: usize,
) -> Result<Listeners, ServeError> {
    let count = udp_sockets.clamp(1, MAX_UDP_SOCKETS);
    let mut listeners = Listeners::default();
    'addresses: for &addr in addrs {
        let mut attempts = 1;
        let (group, tcp) = loop {
            let group = match bind_udp_group(addr, count) {
                Ok(group) => group,
                Err(source) if defaults && addr.is_ipv6() && unavailable(&source) => {
                    warn!("skipping default listen address {addr}: {source}");
                    continue 'addresses;
                }
                Err(source) => {
                    return Err(ServeError::Bind {
                        addr,
                        transport: "UDP",
                        source,
                    });
                }
            };
            let bound = match group.first().map(std::net::UdpSocket::local_addr) {
                Some(Ok(bound)) => bound,
                Some(Err(source)) => {
                    return Err(ServeError::Bind {
                        addr,
                        transport: "UDP",
                        source,
                    });
                }
                None => return Err(ServeError::NoListeners),
            };
            match TcpListener::bind(bound).await {
                Ok(tcp) => break (group, tcp),
                // The kernel chose a port free for UDP only: choose again.
                Err(source)
                    if addr.port() == 0
                        && source.kind() == std::io::ErrorKind::AddrInUse
                        && attempts < PORT_ZERO_ATTEMPTS =>
                {
                    attempts += 1;
                }
                Err(source) => {
                    return Err(ServeError::Bind {
                        addr: bound,
                        transport: "TCP",
                        source,
                    });
                }
            }
        };
        listeners.udp.extend(group);
        listeners.tcp.push(tcp);
    }
    if listeners.udp.is_empty() {
        return Err(ServeError::NoListeners);
    }
    Ok(listeners)
}

/// The TCP listener of the metrics endpoint on `addr`.
pub async fn bind_metrics(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr,
            transport: "metrics HTTP",
            source,
        })
}

/// `count` (at least 1) UDP sockets on `addr` with `SO_REUSEPORT`, after a
/// probe that the port is free (see the module doc).
fn bind_udp_group(addr: SocketAddr, count: usize) -> std::io::Result<Vec<std::net::UdpSocket>> {
    let mut addr = addr;
    if addr.port() != 0 {
        drop(std::net::UdpSocket::bind(addr)?);
    }
    let mut group = Vec::with_capacity(count);
    for _ in 0..count {
        let socket = reuse_port_socket(addr)?;
        addr = socket.local_addr()?;
        group.push(socket);
    }
    Ok(group)
}

/// One non-blocking UDP socket bound to `addr` with `SO_REUSEPORT` set
/// before the bind (where the platform has it).
fn reuse_port_socket(addr: SocketAddr) -> std::io::Result<std::net::UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    #[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    Ok(socket.into())
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
        let listeners = bind(&[addr], false, 3).await.unwrap();
        assert_eq!(listeners.udp.len(), 3);
        let ports: Vec<u16> = listeners
            .udp
            .iter()
            .map(|s| s.local_addr().unwrap().port())
            .collect();
        assert!(ports.iter().all(|&p| p == ports[0] && p != 0), "{ports:?}");
        let addrs = listeners.local_addrs();
        assert_eq!(addrs.len(), 2, "{addrs:?}");
        assert_eq!(addrs[0].1, addrs[1].1);
    }

    #[tokio::test]
    async fn a_busy_port_is_an_error_naming_the_address() {
        let taken = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = taken.local_addr().unwrap();
        let error = bind(&[addr], true, 2).await.unwrap_err();
        assert!(error.to_string().contains(&addr.to_string()), "{error}");
    }

    #[tokio::test]
    async fn a_port_held_with_so_reuseport_is_busy_too() {
        // Another daemon with SO_REUSEPORT on the port: without the probe
        // the group would join it and take half its queries.
        let other = bind(&["127.0.0.1:0".parse().unwrap()], false, 2)
            .await
            .unwrap();
        let addr = other.udp[0].local_addr().unwrap();
        let error = bind(&[addr], false, 2).await.unwrap_err();
        assert!(
            matches!(
                &error,
                ServeError::Bind {
                    transport: "UDP",
                    ..
                }
            ),
            "{error}"
        );
    }

    #[tokio::test]
    async fn the_socket_count_is_clamped() {
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        assert_eq!(bind(&[addr], false, 0).await.unwrap().udp.len(), 1);
        assert!(default_udp_sockets() >= 1);
    }

    #[tokio::test]
    async fn an_absent_address_is_an_error_unless_it_is_a_default() {
        // 192.0.2.1 (TEST-NET-1) is on no interface here.
        let absent: SocketAddr = "192.0.2.1:0".parse().unwrap();
        let error = bind(&[absent], false, 1).await.unwrap_err();
        assert!(error.to_string().contains("192.0.2.1"), "{error}");
        // Defaults skip only IPv6, so an IPv4 default still fails.
        assert!(bind(&[absent], true, 1).await.is_err());
        assert!(matches!(
            bind(&[], true, 1).await,
            Err(ServeError::NoListeners)
        ));
    }
}
