//! Giving memory back after a load. glibc's allocator keeps memory that was
//! freed inside its arenas: after 2000 connections had fetched chunks, the
//! server stayed at 128 MiB for good, and one `malloc_trim` brought it to 16 MiB
//! (docs/BENCHMARKS.md, "Overload"). Trimming during a load would cost time and
//! lock the arenas, so it runs once the server has gone quiet after serving a
//! good number of requests. mimalloc instead started at 76 MiB and ended higher.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

static REQUESTS: AtomicU64 = AtomicU64::new(0);

/// How often the trimmer looks at the request count.
pub const TRIM_CHECK: Duration = Duration::from_secs(5);
/// Fewer requests than this in one check's interval count as quiet.
pub const QUIET_BELOW: u64 = 20;
/// Requests served since the last trim that make another one worth it.
pub const WORTH_AFTER: u64 = 500;

/// Counts one request (the overload gate calls it for each).
pub fn count_request() {
    REQUESTS.fetch_add(1, Ordering::Relaxed);
}

/// Whether to trim now: the last interval was quiet, and enough was served
/// since the last trim for there to be memory to give back.
pub fn should_trim(in_interval: u64, since_trim: u64) -> bool {
    in_interval < QUIET_BELOW && since_trim >= WORTH_AFTER
}

/// Runs for the server's life: every [`TRIM_CHECK`], trims when
/// [`should_trim`] says so.
pub fn spawn_trimmer() -> tokio::task::JoinHandle<()> {
    tokio::spawn(async {
        let mut ticker = tokio::time::interval(TRIM_CHECK);
        let mut last = REQUESTS.load(Ordering::Relaxed);
        let mut at_trim = last;
        loop {
            ticker.tick().await;
            let now = REQUESTS.load(Ordering::Relaxed);
            if should_trim(now.saturating_sub(last), now.saturating_sub(at_trim)) {
                at_trim = now;
                let _ = tokio::task::spawn_blocking(trim).await;
            }
            last = now;
        }
    })
}

/// Returns the allocator's free memory to the system.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn trim() {
    // SAFETY: `malloc_trim` takes a byte count and no pointer, and is safe to
    // call at any time from any thread; glibc locks each arena while it works.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Other allocators give memory back by themselves.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn trim() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_only_when_quiet_after_real_work() {
        // Busy: never in the middle of a load.
        assert!(!should_trim(10_000, 50_000));
        // Quiet, but nothing worth giving back since the last trim.
        assert!(!should_trim(0, 10));
        // Quiet after a load: trim.
        assert!(should_trim(3, 50_000));
    }

    #[test]
    fn trimming_runs() {
        let big: Vec<Vec<u8>> = (0..64).map(|_| vec![1u8; 256 * 1024]).collect();
        drop(big);
        trim();
    }
}
