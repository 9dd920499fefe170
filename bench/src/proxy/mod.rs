//! The bench proxy: an HTTP/1.1 reverse proxy built as a pipeline of stages.
//!
//! Every request becomes an [`Exchange`] (what the stages may look at: method,
//! raw path and query, the AWS operation it names). The stages' `before` hooks
//! run in order; each may let the request through or answer it itself (a
//! throttling or fault stage would). Unless a stage answered, the request is
//! forwarded unchanged to the upstream. The response then passes through the
//! `after` hooks in reverse order, so the first stage sees the final response
//! (the log stage goes first for that reason), and a stage may replace it (cut
//! its body, say).
//!
//! The forwarding itself ([`forward`]) keeps what AWS SigV4 signs intact: the
//! Host header, the raw path with its percent-encoding, the query string and
//! every end-to-end header travel byte for byte, so requests signed for the
//! proxy's address are valid upstream. Bodies stream both ways.
//!
//! Stages: [`RequestLog`] (a JSON line per request), [`Stats`] (counters per
//! API and class, served at `GET /__proxy/stats`), [`Latency`], [`Throttle`]
//! (AWS's token buckets per API class) and [`Faults`] (seeded 500s,
//! throttling, connection resets and cut responses). A stage that injects
//! something marks the response with an [`Injected`] extension, which the log
//! and the counters read and the server acts on (a reset closes the
//! connection instead of answering).

pub mod classify;
pub mod errors;
pub mod faults;
pub mod forward;
pub mod latency;
pub mod log;
pub mod stats;
pub mod throttle;

use std::sync::Arc;
use std::time::Instant;

use futures::future::BoxFuture;
use hyper::{Body, Method, Response, StatusCode};

pub use classify::Api;
pub use faults::{FaultRates, Faults};
pub use forward::{serve, Proxy};
pub use latency::Latency;
pub use log::RequestLog;
pub use stats::Stats;
pub use throttle::{Limits, Throttle};

/// One request as the stages see it. Built before any stage runs; the body
/// itself is not here (it streams), only what was read from the head, plus
/// the `Action` of a form-encoded query-protocol body (which is small and
/// buffered for that purpose).
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Sequence number in arrival order, from 1.
    pub id: u64,
    pub method: Method,
    /// The request path exactly as received (still percent-encoded).
    pub path: String,
    /// The raw query string, without `?`.
    pub query: Option<String>,
    /// `x-amz-copy-source`: present on CopyObject and UploadPartCopy.
    pub copy_source: Option<String>,
    /// The AWS query-protocol operation (EC2, IAM, STS, ELB, Auto Scaling,
    /// CloudWatch), from the query string or the form body.
    pub action: Option<String>,
    /// `X-Amz-Target`: the operation of JSON-protocol APIs (KMS, ACM...).
    pub target: Option<String>,
    /// The API called and its throttling class.
    pub api: Api,
    /// The region of the SigV4 credential scope.
    pub region: Option<String>,
    /// The access key id that signed the request: it keys per-account
    /// throttling and is never logged, printed or served.
    pub caller: Option<String>,
    pub received: Instant,
}

impl Exchange {
    /// The proxy's own and the emulator's control paths: never throttled or
    /// faulted (tests reset the emulator through them).
    pub fn is_control(&self) -> bool {
        self.path.starts_with("/moto-api") || self.path.starts_with("/__proxy")
    }
}

/// What a stage injected into an exchange, as a response extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Injected {
    /// Refused by a token bucket (the throttle stage) or at random (a fault).
    Throttle,
    /// A 500 InternalError, the upstream never called.
    InternalError,
    /// The connection closed before the request was forwarded: no response.
    Drop,
    /// The upstream served the request, then the connection closed without
    /// the response.
    Reset,
    /// The upstream served the request; the client got the head and part of
    /// the body, then the connection closed.
    Cut,
}

impl Injected {
    pub fn label(self) -> &'static str {
        match self {
            Injected::Throttle => "throttle",
            Injected::InternalError => "internal_error",
            Injected::Drop => "drop",
            Injected::Reset => "reset",
            Injected::Cut => "cut",
        }
    }

    /// Whether the server must close the connection instead of answering.
    pub fn aborts(self) -> bool {
        matches!(self, Injected::Drop | Injected::Reset)
    }
}

#[cfg(test)]
impl Exchange {
    /// An exchange with only a method and a path, for the stages' tests.
    pub(crate) fn bare(method: Method, path: &str) -> Exchange {
        let api = classify::classify(&classify::Request {
            method: &method,
            path,
            query: None,
            service: None,
            action: None,
            target: None,
            copy_source: None,
        });
        Exchange {
            id: 1,
            method,
            path: path.to_string(),
            query: None,
            copy_source: None,
            action: None,
            target: None,
            api,
            region: None,
            caller: None,
            received: Instant::now(),
        }
    }
}

/// Who produced the response a client got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The upstream answered.
    Upstream,
    /// A stage answered without forwarding (its name).
    Stage(&'static str),
    /// The upstream could not be reached or broke off; the proxy answered 502.
    Unreachable,
}

impl Origin {
    pub fn label(self) -> &'static str {
        match self {
            Origin::Upstream => "upstream",
            Origin::Stage(name) => name,
            Origin::Unreachable => "unreachable",
        }
    }
}

/// What a stage decides before forwarding.
pub enum Verdict {
    Forward,
    /// Answer the client with this response; the upstream never sees the
    /// request.
    Answer(Response<Body>),
}

/// A step of the pipeline. Both hooks have pass-through defaults, so a stage
/// implements only what it needs.
pub trait Stage: Send + Sync + 'static {
    /// Short name, recorded as the [`Origin`] when this stage answers.
    fn name(&self) -> &'static str;

    /// Runs before the request is forwarded, in pipeline order. It may wait
    /// (latency, a token bucket) and may answer instead of the upstream.
    fn before<'a>(&'a self, _exchange: &'a Exchange) -> BoxFuture<'a, Verdict> {
        Box::pin(async { Verdict::Forward })
    }

    /// Runs on the response, in reverse pipeline order, whoever produced it.
    fn after(
        &self,
        _exchange: &Exchange,
        _origin: Origin,
        response: Response<Body>,
    ) -> Response<Body> {
        response
    }
}

/// The stages of one proxy, in order.
#[derive(Clone, Default)]
pub struct Pipeline {
    stages: Vec<Arc<dyn Stage>>,
}

impl Pipeline {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, stage: impl Stage) -> Self {
        self.stages.push(Arc::new(stage));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }

    /// Runs the `before` hooks in order. The first stage that answers stops
    /// the walk; its answer comes back with its name. Either way the result
    /// says how many stages ran, for [`Pipeline::after`].
    pub async fn before(&self, exchange: &Exchange) -> Before {
        for (i, stage) in self.stages.iter().enumerate() {
            if let Verdict::Answer(response) = stage.before(exchange).await {
                return Before {
                    ran: i + 1,
                    answer: Some((response, Origin::Stage(stage.name()))),
                };
            }
        }
        Before {
            ran: self.stages.len(),
            answer: None,
        }
    }

    /// Runs the `after` hooks in reverse order, only of the `ran` stages whose
    /// `before` ran (as middleware unwinds): a stage behind one that answered
    /// never saw the request, so it does not see the response either.
    pub fn after(
        &self,
        exchange: &Exchange,
        ran: usize,
        origin: Origin,
        mut response: Response<Body>,
    ) -> Response<Body> {
        for stage in self.stages[..ran].iter().rev() {
            response = stage.after(exchange, origin, response);
        }
        response
    }
}

/// The outcome of [`Pipeline::before`].
pub struct Before {
    /// How many stages' `before` ran.
    pub ran: usize,
    /// The response of the stage that answered, if one did.
    pub answer: Option<(Response<Body>, Origin)>,
}

/// A plain-text response made by the proxy itself.
pub fn text_response(status: StatusCode, text: impl Into<String>) -> Response<Body> {
    let mut response = Response::new(Body::from(text.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Records the order its hooks run in; answers when `answer` is set.
    struct Probe {
        name: &'static str,
        answer: bool,
        calls: Arc<Mutex<Vec<String>>>,
    }

    impl Stage for Probe {
        fn name(&self) -> &'static str {
            self.name
        }
        fn before<'a>(&'a self, _e: &'a Exchange) -> BoxFuture<'a, Verdict> {
            self.calls
                .lock()
                .unwrap()
                .push(format!("before {}", self.name));
            let answer = self.answer;
            Box::pin(async move {
                if answer {
                    Verdict::Answer(text_response(StatusCode::SERVICE_UNAVAILABLE, "slow down"))
                } else {
                    Verdict::Forward
                }
            })
        }
        fn after(&self, _e: &Exchange, origin: Origin, response: Response<Body>) -> Response<Body> {
            self.calls
                .lock()
                .unwrap()
                .push(format!("after {} {}", self.name, origin.label()));
            response
        }
    }

    #[tokio::test]
    async fn stages_run_in_order_and_an_answer_stops_the_walk() {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let probe = |name, answer| Probe {
            name,
            answer,
            calls: calls.clone(),
        };
        let pipeline = Pipeline::new()
            .with(probe("first", false))
            .with(probe("throttle", true))
            .with(probe("never", false));
        let e = Exchange::bare(Method::GET, "/");
        let before = pipeline.before(&e).await;
        assert_eq!(before.ran, 2);
        let (response, origin) = before.answer.expect("the throttle answers");
        assert_eq!(origin, Origin::Stage("throttle"));
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        pipeline.after(&e, before.ran, origin, response);
        assert_eq!(
            *calls.lock().unwrap(),
            [
                "before first",
                "before throttle",
                "after throttle throttle",
                "after first throttle",
            ]
        );
    }
}
