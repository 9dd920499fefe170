//! Forwarding: the proxy's server side, the pipeline around each request, and
//! the unchanged relay to the upstream.
//!
//! What "unchanged" means here, because AWS SigV4 signs the request as the
//! client built it: the method, the raw path and query (percent-encoding
//! untouched), the Host header (the client addressed the proxy and signed
//! that Host; the upstream, the emulator, routes on the path and the
//! credential scope, not on the Host's port) and every end-to-end header are
//! passed through as received. Only hop-by-hop headers (RFC 9110 7.6.1) are
//! dropped, plus `Expect`, because this server already answered the
//! `100-continue` itself; the SDKs do not sign either. Bodies stream in both
//! directions; the one exception is a small form-encoded body (the AWS query
//! protocol), read whole to learn its `Action` for the stages and the log.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use futures::future::BoxFuture;
use hyper::client::HttpConnector;
use hyper::header::{
    HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE,
    EXPECT,
};
use hyper::server::conn::AddrIncoming;
use hyper::service::{make_service_fn, service_fn};
use hyper::{Body, Client, Method, Request, Response, StatusCode, Uri};

use super::classify::{classify, credential_scope, Request as ClassifyRequest};
use super::{text_response, Exchange, Injected, Origin, Pipeline, Stats};

/// Form bodies up to this size are read whole to find their `Action`. Query
/// protocol requests are a few KiB; anything larger streams untouched.
const FORM_BODY_LIMIT: u64 = 1024 * 1024;

/// Hop-by-hop headers: they describe one connection, not the message, so
/// they never cross a proxy (hyper frames each side's body itself).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// The proxy: the upstream it relays to and the stages around each request.
#[derive(Clone)]
pub struct Proxy {
    inner: Arc<Inner>,
}

struct Inner {
    /// `scheme://authority` of the upstream, no path.
    upstream: String,
    client: Client<HttpConnector, Body>,
    pipeline: Pipeline,
    /// The counters served at [`STATS_PATH`], when the pipeline keeps some.
    stats: Option<Stats>,
    next_id: AtomicU64,
}

impl Proxy {
    /// `upstream` is an `http://host:port` URL. A path is refused rather than
    /// prefixed: a prefix would change the path the client signed.
    pub fn new(upstream: &str, pipeline: Pipeline) -> anyhow::Result<Proxy> {
        Proxy::build(upstream, pipeline, None)
    }

    /// A proxy that also serves `stats` (a stage of `pipeline`) at
    /// [`STATS_PATH`].
    pub fn with_stats(upstream: &str, pipeline: Pipeline, stats: Stats) -> anyhow::Result<Proxy> {
        Proxy::build(upstream, pipeline, Some(stats))
    }

    fn build(upstream: &str, pipeline: Pipeline, stats: Option<Stats>) -> anyhow::Result<Proxy> {
        let uri: Uri = upstream
            .parse()
            .with_context(|| format!("--upstream {upstream:?} is not a URL"))?;
        if uri.scheme_str() != Some("http") || uri.authority().is_none() {
            bail!("--upstream {upstream:?}: expected http://HOST:PORT (the emulator speaks plain HTTP)");
        }
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            bail!("--upstream {upstream:?}: give no path; requests keep the path they were signed with");
        }
        let mut connector = HttpConnector::new();
        // Small request heads and responses: without this, Nagle's algorithm
        // would add its own delay on top of the one the benchmark asks for.
        connector.set_nodelay(true);
        let client = Client::builder().build(connector);
        Ok(Proxy {
            inner: Arc::new(Inner {
                upstream: format!("http://{}", uri.authority().expect("checked above")),
                client,
                pipeline,
                stats,
                next_id: AtomicU64::new(1),
            }),
        })
    }

    /// Serves one request: the stages' `before`, the upstream unless a stage
    /// answered, the stages' `after`. Never fails: an unreachable upstream
    /// becomes a 502 that the stages (and the log) see like any response.
    pub async fn handle(&self, request: Request<Body>) -> Response<Body> {
        let received = Instant::now();
        if request.uri().path() == STATS_PATH {
            return self.stats_endpoint(request.method());
        }
        let (mut head, mut body) = request.into_parts();
        let mut action = query_action(head.uri.query());
        if action.is_none() && is_small_form(&head.headers) {
            match hyper::body::to_bytes(body).await {
                Ok(bytes) => {
                    action = form_action(&bytes);
                    body = Body::from(bytes);
                }
                Err(e) => {
                    return text_response(
                        StatusCode::BAD_REQUEST,
                        format!("ferry-proxy: reading the request body: {e}"),
                    )
                }
            }
        }
        let copy_source = header_text(&head.headers, "x-amz-copy-source");
        let target = header_text(&head.headers, "x-amz-target");
        let scope = credential_scope(
            head.headers
                .get(AUTHORIZATION)
                .and_then(|v| v.to_str().ok()),
            head.uri.query(),
        );
        let api = classify(&ClassifyRequest {
            method: &head.method,
            path: head.uri.path(),
            query: head.uri.query(),
            service: scope.as_ref().map(|(_, _, service)| service.as_str()),
            action: action.as_deref(),
            target: target.as_deref(),
            copy_source: copy_source.as_deref(),
        });
        let (caller, region) = match scope {
            Some((caller, region, _)) => (Some(caller), Some(region)),
            None => (None, None),
        };
        let exchange = Exchange {
            id: self.inner.next_id.fetch_add(1, Ordering::Relaxed),
            method: head.method.clone(),
            path: head.uri.path().to_string(),
            query: head.uri.query().map(str::to_string),
            copy_source,
            action,
            target,
            api,
            region,
            caller,
            received,
        };

        let pipeline = &self.inner.pipeline;
        let before = pipeline.before(&exchange).await;
        let (response, origin) = match before.answer {
            Some(answer) => answer,
            None => {
                let path_and_query = head.uri.path_and_query().map_or("/", |p| p.as_str());
                head.uri = format!("{}{}", self.inner.upstream, path_and_query)
                    .parse()
                    .expect("an authority followed by a request's own path and query is a URI");
                strip_hop_by_hop(&mut head.headers);
                head.headers.remove(EXPECT);
                match self
                    .inner
                    .client
                    .request(Request::from_parts(head, body))
                    .await
                {
                    Ok(mut response) => {
                        strip_hop_by_hop(response.headers_mut());
                        (response, Origin::Upstream)
                    }
                    Err(e) => (
                        text_response(
                            StatusCode::BAD_GATEWAY,
                            format!("ferry-proxy: upstream {}: {e}", self.inner.upstream),
                        ),
                        Origin::Unreachable,
                    ),
                }
            }
        };
        pipeline.after(&exchange, before.ran, origin, response)
    }

    /// `GET /__proxy/stats`: the counters as JSON; `DELETE` zeroes them.
    fn stats_endpoint(&self, method: &Method) -> Response<Body> {
        let Some(stats) = &self.inner.stats else {
            return text_response(
                StatusCode::NOT_FOUND,
                "ferry-proxy: no counters in this proxy",
            );
        };
        match *method {
            Method::GET => {
                let mut response = Response::new(Body::from(stats.json().to_string()));
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                response
            }
            Method::DELETE => {
                stats.reset();
                text_response(StatusCode::OK, "counters zeroed")
            }
            _ => text_response(
                StatusCode::METHOD_NOT_ALLOWED,
                "ferry-proxy: GET or DELETE /__proxy/stats",
            ),
        }
    }
}

/// The path of the proxy's own counters.
pub const STATS_PATH: &str = "/__proxy/stats";

/// The error a service returns to make hyper close the connection without
/// writing a response: how a reset or a drop reaches the client.
#[derive(Debug)]
struct Aborted(Injected);

impl std::fmt::Display for Aborted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "connection closed on purpose ({})", self.0.label())
    }
}

impl std::error::Error for Aborted {}

/// Binds `listen` (port 0 picks a free one) and returns the bound address
/// and the server, which runs until `shutdown` completes. Only HTTP/1.1 is
/// spoken: the SDKs and the emulator use it for every AWS API ferry calls.
pub fn serve(
    listen: SocketAddr,
    proxy: Proxy,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<(SocketAddr, BoxFuture<'static, hyper::Result<()>>)> {
    let mut incoming =
        AddrIncoming::bind(&listen).with_context(|| format!("cannot listen on {listen}"))?;
    incoming.set_nodelay(true);
    let bound = incoming.local_addr();
    let make = make_service_fn(move |_conn| {
        let proxy = proxy.clone();
        async move {
            Ok::<_, Infallible>(service_fn(move |request| {
                let proxy = proxy.clone();
                async move {
                    let response = proxy.handle(request).await;
                    match response.extensions().get::<Injected>() {
                        Some(injected) if injected.aborts() => Err(Aborted(*injected)),
                        _ => Ok(response),
                    }
                }
            }))
        }
    });
    let server = hyper::Server::builder(incoming)
        .http1_only(true)
        .serve(make)
        .with_graceful_shutdown(shutdown);
    Ok((bound, Box::pin(server)))
}

/// Removes hop-by-hop headers, including those the Connection header names.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(*name);
    }
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// A form-encoded body with a declared length within [`FORM_BODY_LIMIT`]: the
/// shape of every query-protocol request the SDKs send.
fn is_small_form(headers: &HeaderMap) -> bool {
    let form = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    let length = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    form && length.is_some_and(|n| n <= FORM_BODY_LIMIT)
}

fn query_action(query: Option<&str>) -> Option<String> {
    query.and_then(|q| form_action(q.as_bytes()))
}

fn form_action(form: &[u8]) -> Option<String> {
    form_urlencoded::parse(form)
        .find(|(key, _)| key == "Action")
        .map(|(_, value)| value.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::{Latency, RequestLog};
    use hyper::header::HOST;
    use std::sync::Mutex;
    use std::time::Duration;

    #[test]
    fn hop_by_hop_headers_go_and_end_to_end_ones_stay() {
        let mut headers = HeaderMap::new();
        headers.insert("connection", "keep-alive, x-private".parse().unwrap());
        headers.insert("x-private", "1".parse().unwrap());
        headers.insert("transfer-encoding", "chunked".parse().unwrap());
        headers.insert("x-amz-date", "20261122T000000Z".parse().unwrap());
        headers.insert("host", "127.0.0.1:9".parse().unwrap());
        strip_hop_by_hop(&mut headers);
        let left: Vec<&str> = headers.keys().map(|k| k.as_str()).collect();
        assert_eq!(left, ["x-amz-date", "host"]);
    }

    #[test]
    fn the_action_comes_from_the_query_or_a_small_form() {
        assert_eq!(
            query_action(Some("Action=DescribeVpcs&Version=2016-11-15")).as_deref(),
            Some("DescribeVpcs")
        );
        assert_eq!(query_action(Some("list-type=2&prefix=a")), None);
        assert_eq!(
            form_action(b"Version=2011-06-15&Action=AssumeRole").as_deref(),
            Some("AssumeRole")
        );

        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=utf-8"
                .parse()
                .unwrap(),
        );
        headers.insert(CONTENT_LENGTH, "120".parse().unwrap());
        assert!(is_small_form(&headers));
        headers.insert(
            CONTENT_LENGTH,
            (FORM_BODY_LIMIT + 1).to_string().parse().unwrap(),
        );
        assert!(!is_small_form(&headers), "large bodies stream");
        headers.remove(CONTENT_LENGTH);
        assert!(!is_small_form(&headers), "bodies of unknown length stream");
    }

    #[test]
    fn an_upstream_with_a_path_is_refused() {
        assert!(Proxy::new("http://127.0.0.1:1/prefix", Pipeline::new()).is_err());
        assert!(Proxy::new("https://127.0.0.1:1", Pipeline::new()).is_err());
        assert!(Proxy::new("http://127.0.0.1:1/", Pipeline::new()).is_ok());
    }

    /// What the fake upstream saw of one request.
    #[derive(Debug, Clone)]
    struct Seen {
        uri: String,
        host: Option<String>,
        expect: bool,
        signed: Option<String>,
        body: Vec<u8>,
    }

    /// An upstream that records each request and answers with a streamed
    /// body of 3 chunks.
    async fn upstream() -> (SocketAddr, Arc<Mutex<Vec<Seen>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let make = make_service_fn(move |_| {
            let record = record.clone();
            async move {
                Ok::<_, Infallible>(service_fn(move |request: Request<Body>| {
                    let record = record.clone();
                    async move {
                        let (head, body) = request.into_parts();
                        let body = hyper::body::to_bytes(body).await.unwrap().to_vec();
                        record.lock().unwrap().push(Seen {
                            uri: head.uri.to_string(),
                            host: header_text(&head.headers, "host"),
                            expect: head.headers.contains_key(EXPECT),
                            signed: header_text(&head.headers, "x-amz-content-sha256"),
                            body,
                        });
                        let chunks = futures::stream::iter(
                            ["one,", "two,", "three"].map(|c| Ok::<_, Infallible>(c.to_string())),
                        );
                        let mut response = Response::new(Body::wrap_stream(chunks));
                        *response.status_mut() = StatusCode::CREATED;
                        Ok::<_, Infallible>(response)
                    }
                }))
            }
        });
        let server = hyper::Server::bind(&"127.0.0.1:0".parse().unwrap()).serve(make);
        let addr = server.local_addr();
        tokio::spawn(server);
        (addr, seen)
    }

    #[tokio::test]
    async fn requests_reach_the_upstream_as_signed_and_are_logged() {
        let (upstream_addr, seen) = upstream().await;
        let dir = std::env::temp_dir().join(format!("ferry-proxy-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log_path = dir.join("requests.jsonl");
        let _ = std::fs::remove_file(&log_path);
        let pipeline = Pipeline::new()
            .with(RequestLog::open(&log_path).unwrap())
            .with(Latency::new(Duration::from_millis(30)));
        let proxy = Proxy::new(&format!("http://{upstream_addr}"), pipeline).unwrap();
        let (addr, server) = serve(
            "127.0.0.1:0".parse().unwrap(),
            proxy,
            std::future::pending(),
        )
        .unwrap();
        tokio::spawn(server);

        let client = Client::new();
        // An S3 CopyObject (streamed body of unknown length, a key that needs
        // its percent-encoding kept) and a query-protocol POST.
        let chunks =
            futures::stream::iter(["ab", "cd"].map(|c| Ok::<_, Infallible>(c.to_string())));
        let copy = Request::put(format!("http://{addr}/dst/a%20b%2Bc?x-id=CopyObject"))
            .header(HOST, "signed-host.example:4566")
            .header("x-amz-copy-source", "src/a%20b%2Bc")
            .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
            .header(EXPECT, "100-continue")
            .body(Body::wrap_stream(chunks))
            .unwrap();
        let start = Instant::now();
        let response = client.request(copy).await.unwrap();
        assert!(
            start.elapsed() >= Duration::from_millis(30),
            "the latency stage ran"
        );
        assert_eq!(response.status(), StatusCode::CREATED);
        let body = hyper::body::to_bytes(response.into_body()).await.unwrap();
        assert_eq!(&body[..], b"one,two,three");

        let form = "Action=AssumeRole&Version=2011-06-15";
        let sts = Request::post(format!("http://{addr}/"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(CONTENT_LENGTH, form.len())
            .body(Body::from(form))
            .unwrap();
        let response = client.request(sts).await.unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);

        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].uri, "/dst/a%20b%2Bc?x-id=CopyObject");
        assert_eq!(seen[0].host.as_deref(), Some("signed-host.example:4566"));
        assert_eq!(seen[0].signed.as_deref(), Some("UNSIGNED-PAYLOAD"));
        assert!(!seen[0].expect, "the proxy answers 100-continue itself");
        assert_eq!(seen[0].body, b"abcd");
        assert_eq!(
            seen[1].body,
            form.as_bytes(),
            "a buffered form body is forwarded whole"
        );
        assert_eq!(seen[1].host.as_deref(), Some(addr.to_string().as_str()));

        let lines: Vec<serde_json::Value> = std::fs::read_to_string(&log_path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["method"], "PUT");
        assert_eq!(lines[0]["path"], "/dst/a%20b%2Bc");
        assert_eq!(lines[0]["query"], "x-id=CopyObject");
        assert_eq!(lines[0]["copy_source"], "src/a%20b%2Bc");
        assert_eq!(lines[0]["status"], 201);
        assert_eq!(lines[1]["action"], "AssumeRole");
        assert_eq!(lines[1]["origin"], "upstream");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn an_unreachable_upstream_is_a_502() {
        // A port that was free a moment ago: nothing listens there.
        let free = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let proxy = Proxy::new(&format!("http://{free}"), Pipeline::new()).unwrap();
        let response = proxy
            .handle(
                Request::get("/bucket?list-type=2")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    }
}
