//! What the benches that time CPU, not wall time, share.

use std::time::{Duration, Instant};

/// CPU time (user + system) this thread has used so far, to the
/// nanosecond (`CLOCK_THREAD_CPUTIME_ID`; `getrusage` can say no time
/// passed over a few microseconds of work); falls back to wall time where
/// the kernel does not tell.
pub fn thread_cpu() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the struct it is given.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) } != 0 {
        thread_local! { static START: Instant = Instant::now(); }
        return START.with(|start| start.elapsed());
    }
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}
