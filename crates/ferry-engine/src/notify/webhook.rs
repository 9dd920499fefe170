//! Delivers a message to a webhook: one JSON POST, answered with a 2xx.
//! hyper with rustls (the same stack the AWS SDK already builds), with short
//! timeouts so an unreachable endpoint costs seconds, not minutes.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// Connecting, and the whole request.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

pub struct Webhook {
    url: String,
    client: Result<Client<Https, Full<Bytes>>, String>,
}

impl Webhook {
    pub fn new(url: &str) -> Webhook {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let client = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
            .map(|b| {
                let https = b.https_or_http().enable_http1().wrap_connector(http);
                Client::builder(TokioExecutor::new()).build(https)
            })
            .map_err(|e| format!("cannot load this machine's trusted certificates: {e}"));
        Webhook {
            url: url.to_string(),
            client,
        }
    }

    /// POSTs `body`; the error says what went wrong without the URL (which
    /// may carry a token).
    pub async fn post(&self, body: &serde_json::Value) -> Result<(), String> {
        let client = self.client.as_ref().map_err(Clone::clone)?;
        let request = hyper::Request::post(&self.url)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(
                hyper::header::USER_AGENT,
                concat!("ferry/", env!("CARGO_PKG_VERSION")),
            )
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|_| "the URL cannot be requested".to_string())?;
        let response = tokio::time::timeout(REQUEST_TIMEOUT, async {
            let response = client.request(request).await.map_err(describe)?;
            let status = response.status();
            // Read the (small) answer so the connection closes cleanly.
            let _ = response.into_body().collect().await;
            Ok::<_, String>(status)
        })
        .await
        .map_err(|_| format!("no answer within {}s", REQUEST_TIMEOUT.as_secs()))??;
        if response.is_success() {
            Ok(())
        } else {
            Err(format!("answered HTTP {response}"))
        }
    }
}

/// The innermost cause (connection refused, DNS, TLS), which is what tells
/// the user what to fix; hyper's own wrapping adds nothing.
fn describe(e: hyper_util::client::legacy::Error) -> String {
    let mut cause: &dyn std::error::Error = &e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let text = cause.to_string();
    if e.is_connect() && !text.contains("connect") {
        format!("cannot connect: {text}")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A one-request HTTP server answering `status`, returning what it got.
    async fn server(status: &'static str) -> (String, tokio::task::JoinHandle<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/hook/secret-token",
            listener.local_addr().unwrap()
        );
        let task = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut got = vec![];
            let mut buf = [0u8; 4096];
            loop {
                let n = s.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length: ")
                                .map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    if body.len() >= len {
                        break;
                    }
                }
            }
            let answer =
                format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            s.write_all(answer.as_bytes()).await.unwrap();
            String::from_utf8_lossy(&got).to_string()
        });
        (url, task)
    }

    #[tokio::test]
    async fn posts_json_and_wants_a_2xx() {
        let (url, got) = server("204 No Content").await;
        Webhook::new(&url)
            .post(&serde_json::json!({"run": 1}))
            .await
            .unwrap();
        let got = got.await.unwrap();
        assert!(
            got.starts_with("POST /hook/secret-token HTTP/1.1\r\n"),
            "{got}"
        );
        assert!(got
            .to_ascii_lowercase()
            .contains("content-type: application/json"));
        assert!(got.ends_with("{\"run\":1}"));

        let (url, _) = server("500 Internal Server Error").await;
        let e = Webhook::new(&url)
            .post(&serde_json::json!({}))
            .await
            .unwrap_err();
        assert_eq!(e, "answered HTTP 500 Internal Server Error");
    }

    #[tokio::test]
    async fn an_unreachable_hook_is_an_error_without_the_url() {
        // Bind and drop: nothing listens on this port any more.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let e = Webhook::new(&format!("http://127.0.0.1:{port}/secret-token"))
            .post(&serde_json::json!({}))
            .await
            .unwrap_err();
        assert!(e.contains("refused"), "{e}");
        assert!(!e.contains("secret-token"), "{e}");
    }
}
