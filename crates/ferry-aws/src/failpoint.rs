//! Crash points for the crash-safety tests: `FERRY_FAILPOINT=name:n` makes
//! the process kill itself (SIGKILL, no cleanup) the n-th time it passes the
//! named point. Unset, a failpoint costs one atomic load.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

static SPEC: OnceLock<Option<(String, u64)>> = OnceLock::new();
static HITS: AtomicU64 = AtomicU64::new(0);

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
/// and `bucket-created` (CreateBucket done, the bucket not yet tagged).
pub fn hit(name: &str) {
    if let Some((want, n)) = spec() {
        if want == name && HITS.fetch_add(1, Ordering::SeqCst) + 1 == *n {
            // SAFETY: kill(2) on our own pid has no memory-safety preconditions.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
        }
    }
}
