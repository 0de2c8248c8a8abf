//! The least a UDP DNS server can cost on this machine: threads that each
//! sleep in `recvmmsg` on their own `SO_REUSEPORT` socket and send every
//! query straight back with QR set, nothing looked up, nothing parsed.
//! `benches/serve-vs-unbound-costs.sh` runs it at the same fixed rate as
//! the two servers, so their CPU per cached answer can be read against
//! what the kernel alone takes (receiving, sleeping and being woken,
//! sending, and delivering the reply to dnsperf).
//!
//! Usage: `cargo run --release --example udp_floor -- PORT THREADS SECONDS`
//! (listens on 127.0.0.1:PORT; prints "ready" when listening and stops by
//! itself after SECONDS). Linux only.

#[cfg(target_os = "linux")]
mod floor {
    use std::net::{SocketAddr, UdpSocket};
    use std::os::fd::AsRawFd;
    use std::time::{Duration, Instant};

    /// Datagrams one `recvmmsg` takes at most, as `rootwalk serve` reads.
    const SLOTS: usize = 16;
    /// Room for a query; anything longer is cut and still echoed.
    const SLOT_BYTES: usize = 2048;
    /// How often a thread with nothing to read looks at its deadline.
    const IDLE_WAIT: Duration = Duration::from_millis(200);

    pub fn run(port: u16, threads: usize, seconds: u64) -> Result<(), String> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let until = Instant::now() + Duration::from_secs(seconds);
        let mut sockets = Vec::new();
        for _ in 0..threads {
            sockets.push(bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?);
        }
        println!("ready");
        let workers: Vec<_> = sockets
            .into_iter()
            .map(|socket| std::thread::spawn(move || echo(&socket, until)))
            .collect();
        for worker in workers {
            worker.join().map_err(|_| "a thread panicked".to_string())?;
        }
        Ok(())
    }

    fn bind(addr: SocketAddr) -> std::io::Result<UdpSocket> {
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)?;
        socket.set_reuse_port(true)?;
        socket.bind(&addr.into())?;
        socket.set_read_timeout(Some(IDLE_WAIT))?;
        Ok(socket.into())
    }

    /// Echoes what `socket` receives until `until`.
    fn echo(socket: &UdpSocket, until: Instant) {
        let fd = socket.as_raw_fd();
        let mut buffers = vec![0u8; SLOTS * SLOT_BYTES];
        while Instant::now() < until {
            // SAFETY: all-zero is a valid value of these plain C structs.
            let mut names: [libc::sockaddr_storage; SLOTS] = unsafe { std::mem::zeroed() };
            // SAFETY: as above.
            let mut headers: [libc::mmsghdr; SLOTS] = unsafe { std::mem::zeroed() };
            let mut vectors: [libc::iovec; SLOTS] = std::array::from_fn(|slot| libc::iovec {
                iov_base: buffers[slot * SLOT_BYTES..].as_mut_ptr().cast(),
                iov_len: SLOT_BYTES,
            });
            for ((header, name), vector) in headers.iter_mut().zip(&mut names).zip(&mut vectors) {
                header.msg_hdr.msg_name = std::ptr::from_mut(name).cast();
                header.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as u32;
                header.msg_hdr.msg_iov = vector;
                header.msg_hdr.msg_iovlen = 1;
            }
            // SAFETY: each header points at a name and an iovec that live
            // until the call returns, each iovec at its own SLOT_BYTES of
            // `buffers`. It blocks for the first datagram (at most
            // IDLE_WAIT), then takes what else is waiting.
            let count = unsafe {
                libc::recvmmsg(
                    fd,
                    headers.as_mut_ptr(),
                    SLOTS as libc::c_uint,
                    libc::MSG_WAITFORONE,
                    std::ptr::null_mut(),
                )
            };
            let Ok(count) = usize::try_from(count) else {
                continue;
            };
            for (slot, header) in headers[..count.min(SLOTS)].iter().enumerate() {
                let start = slot * SLOT_BYTES;
                let length = (header.msg_len as usize).min(SLOT_BYTES);
                let datagram = &mut buffers[start..start + length];
                if datagram.len() < 12 {
                    continue;
                }
                datagram[2] |= 0x80; // QR
                // SAFETY: the datagram and the sender's address the kernel
                // wrote are valid for the call.
                unsafe {
                    libc::sendto(
                        fd,
                        datagram.as_ptr().cast(),
                        datagram.len(),
                        libc::MSG_DONTWAIT,
                        header.msg_hdr.msg_name.cast(),
                        header.msg_hdr.msg_namelen,
                    );
                }
            }
        }
    }
}

#[cfg(target_os = "linux")]
fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = match args.as_slice() {
        [port, threads, seconds] => port
            .parse::<u16>()
            .ok()
            .zip(
                threads
                    .parse::<usize>()
                    .ok()
                    .filter(|t| (1..=64).contains(t)),
            )
            .zip(seconds.parse::<u64>().ok()),
        _ => None,
    };
    let Some(((port, threads), seconds)) = parsed else {
        eprintln!("usage: udp_floor PORT THREADS(1-64) SECONDS");
        return std::process::ExitCode::from(2);
    };
    match floor::run(port, threads, seconds) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("udp_floor: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("udp_floor: Linux only");
}
