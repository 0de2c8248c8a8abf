//! What the kernel says about this process's UDP sockets: the ones open
//! (`/proc/net/udp`) and how each is registered with epoll (the fdinfo of
//! every epoll instance the process holds). Linux only.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

/// epoll's "readable" and "writable" event bits.
pub const EPOLLIN: u32 = 0x001;
pub const EPOLLOUT: u32 = 0x004;

/// One IPv4 UDP socket in this network namespace.
#[derive(Debug, Clone, Copy)]
pub struct UdpSocketInfo {
    pub local: SocketAddr,
    /// The address it is connected to (0.0.0.0:0 when not connected).
    pub remote: SocketAddr,
    pub inode: u64,
}

/// Every IPv4 UDP socket `/proc/net/udp` lists. The kernel writes the
/// list a page at a time, so while sockets open and close a socket can be
/// missed: callers look again before concluding one is absent.
pub fn udp_sockets() -> Vec<UdpSocketInfo> {
    let table = std::fs::read_to_string("/proc/net/udp").unwrap_or_default();
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            Some(UdpSocketInfo {
                local: address(fields.get(1)?)?,
                remote: address(fields.get(2)?)?,
                inode: fields.get(9)?.parse().ok()?,
            })
        })
        .collect()
}

/// `0100007F:0035` as 127.0.0.1:53: the kernel prints the address's
/// network-order bytes read as a native integer, and the port as a number.
fn address(text: &str) -> Option<SocketAddr> {
    let (ip, port) = text.split_once(':')?;
    let ip = u32::from_str_radix(ip, 16).ok()?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let ip = Ipv4Addr::from(ip.to_ne_bytes());
    Some(SocketAddr::V4(SocketAddrV4::new(ip, port)))
}

/// The inode of the socket behind this process's descriptor `fd`, as
/// `/proc/net/udp` and [`epoll_masks`] name sockets.
pub fn socket_inode(fd: i32) -> Option<u64> {
    let link = std::fs::read_link(format!("/proc/self/fd/{fd}")).ok()?;
    let link = link.to_string_lossy();
    link.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// The event masks with which the socket `inode` is registered in this
/// process's epoll instances: one per registration, none when it has no
/// descriptor here or is in no epoll set.
pub fn epoll_masks(inode: u64) -> Vec<u32> {
    let target = format!("socket:[{inode}]");
    let mut socket_fds = Vec::new();
    let mut epoll_fds = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fd")
        .into_iter()
        .flatten()
        .flatten()
    {
        let Ok(link) = std::fs::read_link(entry.path()) else {
            continue;
        };
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let link = link.to_string_lossy();
        if link == target {
            socket_fds.push(fd);
        } else if link == "anon_inode:[eventpoll]" {
            epoll_fds.push(fd);
        }
    }
    let mut masks = Vec::new();
    for epoll in epoll_fds {
        let Ok(info) = std::fs::read_to_string(format!("/proc/self/fdinfo/{epoll}")) else {
            continue;
        };
        // "tfd:       12 events:       19 data: ..." per registration.
        for line in info.lines() {
            let mut words = line.split_whitespace();
            if words.next() != Some("tfd:") {
                continue;
            }
            let fd = words.next().and_then(|w| w.parse::<u32>().ok());
            let events = words
                .next()
                .filter(|w| *w == "events:")
                .and_then(|_| words.next())
                .and_then(|w| u32::from_str_radix(w, 16).ok());
            if let (Some(fd), Some(events)) = (fd, events)
                && socket_fds.contains(&fd)
            {
                masks.push(events);
            }
        }
    }
    masks
}
