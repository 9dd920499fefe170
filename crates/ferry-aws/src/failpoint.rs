//! Crash points for the crash-safety tests: `FERRY_FAILPOINT=name:n` makes
//! the process kill itself (SIGKILL, no cleanup) the n-th time it passes the
//! named point. `FERRY_FAILPOINT_LOG=FILE` appends the name of every point
//! passed to FILE, one a line, so a test can count the points of a whole run
//! and draw kill points from them. Unset, a failpoint costs two atomic loads.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

static SPEC: OnceLock<Option<(String, u64)>> = OnceLock::new();
static HITS: AtomicU64 = AtomicU64::new(0);
static LOG: OnceLock<Option<Mutex<std::fs::File>>> = OnceLock::new();

fn log() -> &'static Option<Mutex<std::fs::File>> {
    LOG.get_or_init(|| {
        let path = std::env::var_os("FERRY_FAILPOINT_LOG")?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .ok()?;
        Some(Mutex::new(file))
    })
}

fn spec() -> &'static Option<(String, u64)> {
    SPEC.get_or_init(|| {
        let v = std::env::var("FERRY_FAILPOINT").ok()?;
        let (name, n) = v.split_once(':')?;
        Some((name.to_string(), n.parse().ok()?))
    })
}

/// Points: `after-intent` (journal written, AWS not called), `after-create`
/// (AWS created it, the journal does not know yet), `after-converge`,
/// `image-copy-started` (CopyImage issued in the destination, not waited for),
/// `bucket-created` (CreateBucket done, the bucket not yet tagged) and
/// `object-copied` (a CopyObject of the object sync answered).
pub fn hit(name: &str) {
    if let Some(file) = log() {
        let mut file = file.lock().unwrap_or_else(|p| p.into_inner());
        let _ = file.write_all(format!("{name}\n").as_bytes());
    }
    if let Some((want, n)) = spec() {
        if want == name && HITS.fetch_add(1, Ordering::SeqCst) + 1 == *n {
            // SAFETY: kill(2) on our own pid has no memory-safety preconditions.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
        }
    }
}
