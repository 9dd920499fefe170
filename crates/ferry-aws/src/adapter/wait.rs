//! Waiting for a resource to reach a state (available, deleted, stable),
//! with a timeout that names what was awaited.

use crate::{AwsError, Result, Side};
use std::time::Duration;

/// The first pause between probes; each is twice the last, up to
/// [`MAX_DELAY`].
const FIRST_DELAY: Duration = Duration::from_millis(200);
const MAX_DELAY: Duration = Duration::from_secs(10);

/// Polls `probe` until it returns Some, with capped backoff; past `timeout`,
/// a [`AwsError::Timeout`] saying `what` was awaited.
pub async fn wait_for<T, F, Fut>(
    cx: &Side,
    what: String,
    timeout: Duration,
    mut probe: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    let start = tokio::time::Instant::now();
    let mut delay = FIRST_DELAY;
    loop {
        if let Some(v) = probe().await? {
            return Ok(v);
        }
        if start.elapsed() > timeout {
            return Err(AwsError::Timeout {
                side: cx.name,
                what,
            });
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(MAX_DELAY);
    }
}
