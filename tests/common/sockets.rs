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

/// This process's descriptors and what each refers to
/// (`socket:[123]`, `anon_inode:[eventpoll]`, a path).
fn descriptors() -> Vec<(u32, String)> {
    std::fs::read_dir("/proc/self/fd")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let link = std::fs::read_link(entry.path()).ok()?;
            let fd = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((fd, link.to_string_lossy().into_owned()))
        })
        .collect()
}

/// This process's descriptors for the socket `inode`.
pub fn socket_fds(inode: u64) -> Vec<u32> {
    let target = format!("socket:[{inode}]");
    descriptors()
        .into_iter()
        .filter(|(_, link)| *link == target)
        .map(|(fd, _)| fd)
        .collect()
}

/// The event masks with which the socket `inode` is registered in this
/// process's epoll instances: one per registration, none when it has no
/// descriptor here or is in no epoll set.
pub fn epoll_masks(inode: u64) -> Vec<u32> {
    let target = format!("socket:[{inode}]");
    let mut socket_fds = Vec::new();
    let mut epoll_fds = Vec::new();
    for (fd, link) in descriptors() {
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

/// A thread of this process asleep in a system call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocked {
    pub thread: u32,
    /// The call's number (`libc::SYS_*`).
    pub call: i64,
    /// Its first argument: the descriptor, for the calls that take one.
    pub first: u64,
}

/// Every thread named `name` that is asleep in a system call, as
/// `/proc/self/task/*/syscall` shows it; a thread running at that moment
/// is left out.
pub fn blocked_threads(name: &str) -> Vec<Blocked> {
    std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|task| {
            let comm = std::fs::read_to_string(task.path().join("comm")).ok()?;
            if comm.trim_end() != name {
                return None;
            }
            let thread = task.file_name().to_str()?.parse().ok()?;
            // "299 0x9 0x7f... ..." while in a call; "running" otherwise.
            let syscall = std::fs::read_to_string(task.path().join("syscall")).ok()?;
            let mut words = syscall.split_whitespace();
            let call = words.next()?.parse().ok().filter(|call: &i64| *call >= 0)?;
            let first = u64::from_str_radix(words.next()?.trim_start_matches("0x"), 16).ok()?;
            Some(Blocked {
                thread,
                call,
                first,
            })
        })
        .collect()
}

/// Whether `call` is one of the calls with which a runtime waits on epoll.
pub fn is_epoll_wait(call: i64) -> bool {
    #[cfg(target_arch = "x86_64")]
    if call == libc::SYS_epoll_wait {
        return true;
    }
    call == libc::SYS_epoll_pwait || call == libc::SYS_epoll_pwait2
}

/// The thread of the daemon listening on `addr` that is asleep right now
/// in `recvmmsg` on that socket (see `server::udp`'s idle wait). Other
/// daemons run in the same test process: the descriptor tells them apart.
pub fn asleep_in_socket(addr: SocketAddr) -> Option<Blocked> {
    let fds: Vec<u64> = udp_sockets()
        .iter()
        .filter(|s| s.local == addr)
        .flat_map(|s| socket_fds(s.inode))
        .map(u64::from)
        .collect();
    blocked_threads(UDP_THREAD)
        .into_iter()
        .find(|b| b.call == libc::SYS_recvmmsg && fds.contains(&b.first))
}

/// Looks every 10 ms, for up to 3 s, for the thread of the daemon on
/// `addr` asleep in its socket (see [`asleep_in_socket`]).
pub async fn await_asleep_in_socket(addr: SocketAddr) -> Option<Blocked> {
    for _ in 0..300 {
        if let Some(asleep) = asleep_in_socket(addr) {
            return Some(asleep);
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    None
}

/// Looks every 10 ms, for up to 3 s, until the receive thread of `asleep`
/// is asleep in its socket again; whether it was seen so.
pub async fn await_back_in_socket(asleep: Blocked) -> bool {
    for _ in 0..300 {
        if receive_thread(asleep.thread) == Some(asleep) {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    false
}

/// What the receive thread `thread` is asleep in, if anything.
pub fn receive_thread(thread: u32) -> Option<Blocked> {
    blocked_threads(UDP_THREAD)
        .into_iter()
        .find(|b| b.thread == thread)
}

/// How many times this process's thread `thread` has gone to sleep of its
/// own accord (`voluntary_ctxt_switches`): each is a wait that ended in a
/// wake-up.
pub fn voluntary_switches(thread: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/self/task/{thread}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("voluntary_ctxt_switches:"))?
        .trim()
        .parse()
        .ok()
}

/// The name the daemon gives its UDP receive threads.
const UDP_THREAD: &str = "rootwalk-udp";
