//! The latency stage: every request waits a fixed time before it is
//! forwarded, as if the upstream were that far away.
//!
//! The wait is added once per request, before forwarding, so a client with N
//! requests in flight still gets N requests served concurrently: what it
//! costs a client is what a real network round trip costs, one delay per
//! request it makes in sequence.

use std::time::Duration;

use futures::future::BoxFuture;

use super::{Exchange, Stage, Verdict};

pub struct Latency {
    delay: Duration,
}

impl Latency {
    pub fn new(delay: Duration) -> Self {
        Latency { delay }
    }
}

impl Stage for Latency {
    fn name(&self) -> &'static str {
        "latency"
    }

    fn before<'a>(&'a self, _exchange: &'a Exchange) -> BoxFuture<'a, Verdict> {
        Box::pin(async move {
            tokio::time::sleep(self.delay).await;
            Verdict::Forward
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::Method;
    use std::time::Instant;

    #[tokio::test]
    async fn concurrent_requests_each_wait_once_not_in_turn() {
        let delay = Duration::from_millis(50);
        let stage = Latency::new(delay);
        let exchange = Exchange::bare(Method::GET, "/");
        let start = Instant::now();
        let verdicts = futures::future::join_all((0..16).map(|_| stage.before(&exchange))).await;
        let elapsed = start.elapsed();
        assert!(verdicts.iter().all(|v| matches!(v, Verdict::Forward)));
        assert!(elapsed >= delay, "each request waited ({elapsed:?})");
        // In turn they would take 16 x 50 ms; together they take about one
        // delay (the bound leaves room for a loaded machine).
        assert!(elapsed < delay * 6, "requests waited in turn ({elapsed:?})");
    }
}
