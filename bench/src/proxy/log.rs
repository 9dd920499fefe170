//! The request log stage: one JSON line per request, appended to a file.
//!
//! It is the first stage of the pipeline, so it sees the response the client
//! finally gets (status and who produced it), and it writes when the response
//! head is ready, before the body streams. Each line goes out in a single
//! `write` on a file opened for appending, unbuffered: lines never
//! interleave, and a proxy that is killed (the benchmarks kill it) has lost
//! nothing it answered. At the request rates of the emulator (hundreds per
//! second) that write costs microseconds.
//!
//! Fields: `id`, `method`, `path` (raw, percent-encoded as sent), `query`
//! (raw, or null), `copy_source` (the `x-amz-copy-source` header: CopyObject
//! and UploadPartCopy), `action` (query-protocol APIs), `target`
//! (`X-Amz-Target`, JSON-protocol APIs), `api` (`service:Operation`, see
//! classify.rs) and `class` (its throttling class), `status`, `origin`
//! (`upstream`, the name of a stage that answered, or `unreachable`),
//! `fault` (what a stage injected: `throttle`, `internal_error`, `drop`,
//! `reset`, `cut`; null when nothing was; for a reset `status` is the
//! upstream's, which the client never saw, and for a drop it is null) and
//! `ms` (time from arrival to the response head, latency stage included) and
//! `at` (arrival, milliseconds since the Unix epoch: where the time of a
//! tool's run goes). The caller's access key id is never written.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use hyper::{Body, Response};
use serde_json::json;

use super::{Exchange, Injected, Origin, Stage};

pub struct RequestLog {
    file: Mutex<File>,
}

impl RequestLog {
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(RequestLog {
            file: Mutex::new(file),
        })
    }

    /// The JSON line for one exchange, newline included.
    pub fn line(
        exchange: &Exchange,
        origin: Origin,
        status: u16,
        injected: Option<Injected>,
    ) -> String {
        let ms = exchange.received.elapsed().as_secs_f64() * 1000.0;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0);
        let mut line = json!({
            "id": exchange.id,
            "method": exchange.method.as_str(),
            "path": exchange.path,
            "query": exchange.query,
            "copy_source": exchange.copy_source,
            "action": exchange.action,
            "target": exchange.target,
            "api": exchange.api.key(),
            "class": exchange.api.class,
            // A dropped connection never had a status.
            "status": (injected != Some(Injected::Drop)).then_some(status),
            "origin": origin.label(),
            "fault": injected.map(Injected::label),
            "ms": (ms * 10.0).round() / 10.0,
            "at": ((now - ms) * 10.0).round() / 10.0,
        })
        .to_string();
        line.push('\n');
        line
    }
}

impl Stage for RequestLog {
    fn name(&self) -> &'static str {
        "log"
    }

    fn after(
        &self,
        exchange: &Exchange,
        origin: Origin,
        response: Response<Body>,
    ) -> Response<Body> {
        let injected = response.extensions().get::<Injected>().copied();
        let line = Self::line(exchange, origin, response.status().as_u16(), injected);
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Err(e) = file.write_all(line.as_bytes()) {
            // The benchmark reads request counts from this file: a silent gap
            // would skew them, so say so (once per failed line).
            eprintln!("ferry-proxy: cannot append to the request log: {e}");
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::Method;

    #[test]
    fn a_line_names_the_operation_and_the_outcome() {
        let exchange = Exchange {
            id: 7,
            copy_source: Some("src/a%20b".into()),
            ..Exchange::bare(Method::PUT, "/dst/a%20b")
        };
        let line = RequestLog::line(&exchange, Origin::Upstream, 200, Some(Injected::Cut));
        assert!(line.ends_with('\n') && !line.trim_end().contains('\n'));
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["id"], 7);
        assert_eq!(value["method"], "PUT");
        assert_eq!(value["path"], "/dst/a%20b");
        assert_eq!(value["query"], serde_json::Value::Null);
        assert_eq!(value["copy_source"], "src/a%20b");
        assert_eq!(value["status"], 200);
        assert_eq!(value["origin"], "upstream");
        assert_eq!(value["api"], exchange.api.key());
        assert_eq!(value["class"], "s3.write");
        assert_eq!(value["fault"], "cut");
        let dropped =
            RequestLog::line(&exchange, Origin::Stage("fault"), 200, Some(Injected::Drop));
        let dropped: serde_json::Value = serde_json::from_str(&dropped).unwrap();
        assert_eq!(
            dropped["status"],
            serde_json::Value::Null,
            "a drop had no status"
        );
        assert!(value["ms"].as_f64().unwrap() >= 0.0);
    }
}
