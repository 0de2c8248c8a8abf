//! CPU time of one upstream UDP exchange (`Transport::exchange`): encode
//! the query, make and connect a fresh socket, send, wait for the reply,
//! read and decode it, close the socket. The other end is a responder
//! thread on loopback that echoes each query back as a response (QR=1),
//! padded to the reply size asked for: 100 bytes and 1,200 bytes (an
//! EDNS-sized referral).
//!
//! The figure is the CPU time (user + system) of the thread running the
//! exchange (`getrusage(RUSAGE_THREAD)`), not wall time: the wait for the
//! responder costs no CPU, and other work on the machine moves it less.
//!
//! Run: `cargo bench --bench transport`.

use std::hint::black_box;
use std::net::{SocketAddr, UdpSocket};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use hickory_proto::op::Query;
use hickory_proto::rr::{Name, RecordType};
use rootwalk::net::Transport;

#[path = "support/cpu.rs"]
mod cpu;

/// A loopback responder: answers every datagram with the same bytes, QR
/// set, and `pad` zero bytes appended (past the message's sections, which
/// the decoder ignores), until dropped.
struct Responder {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Responder {
    fn start(pad: usize) -> Option<Self> {
        let socket = UdpSocket::bind("127.0.0.1:0").ok()?;
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .ok()?;
        let addr = socket.local_addr().ok()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut buf = vec![0u8; 65_535];
            while !stopped.load(Ordering::Relaxed) {
                let Ok((len, from)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                if len < 12 {
                    continue;
                }
                buf[2] |= 0x80;
                let end = (len + pad).min(buf.len());
                buf[len..end].fill(0);
                let _ = socket.send_to(&buf[..end], from);
            }
        });
        Some(Self {
            addr,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn exchange(c: &mut Criterion) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    let transport = Transport::new(Duration::from_secs(2), 1232);
    let question = Query::query(
        Name::from_str("www.a.tld1.").unwrap_or_else(|_| Name::root()),
        RecordType::A,
    );
    let mut group = c.benchmark_group("udp exchange");
    for (label, pad) in [("100 B reply", 60), ("1200 B reply", 1160)] {
        let Some(responder) = Responder::start(pad) else {
            return;
        };
        group.bench_function(BenchmarkId::from_parameter(label), |b| {
            b.iter_custom(|iters| {
                let started = cpu::thread_cpu();
                for _ in 0..iters {
                    runtime.block_on(async {
                        let reply = transport.exchange(responder.addr, &question).await;
                        black_box(reply.map(|r| r.bytes).unwrap_or(0))
                    });
                }
                cpu::thread_cpu().saturating_sub(started)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, exchange);
criterion_main!(benches);
