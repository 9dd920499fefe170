//! The dashboard's token: every request (pages, API, server-sent events,
//! assets) must carry it, as `Authorization: Bearer <token>`, a `?token=`
//! query parameter (what the printed URL holds; the response then sets a
//! cookie so the page's own requests carry it), or that cookie.
//!
//! The server binds loopback by default, but any local process or any web
//! page the user visits can reach loopback: the token is what keeps them out.
//! Requests that change something (POST) must also carry a header a browser
//! only sends from the dashboard's own scripts (`X-Ferry-Request`) or the
//! Bearer header, so another page on localhost cannot make the browser start
//! an apply with the cookie (cookies are shared across a host's ports).

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::RngCore;
use std::sync::Arc;

/// Shortest token a user may choose; a generated one is 256 bits.
pub const MIN_TOKEN_LEN: usize = 16;

/// Header the dashboard's scripts add to every POST.
pub const REQUEST_HEADER: &str = "x-ferry-request";

/// A fresh token: 32 random bytes from the OS-seeded generator, as hex.
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Checks a token given with --token or FERRY_TOKEN. It travels in URLs and
/// cookies, so it is restricted to characters that need no escaping there.
pub fn check_format(token: &str) -> Result<(), String> {
    if token.len() < MIN_TOKEN_LEN {
        return Err(format!(
            "the dashboard token must be at least {MIN_TOKEN_LEN} characters long (it is {}); leave --token out to get a random one",
            token.len()
        ));
    }
    if let Some(c) = token
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~')))
    {
        return Err(format!(
            "the dashboard token may only hold letters, digits and - _ . ~ (found {c:?})"
        ));
    }
    Ok(())
}

/// What the middleware needs to know.
#[derive(Debug, Clone)]
pub struct Guard {
    token: String,
    /// Cookies are not separated by port: the name carries it, so two
    /// dashboards on one host do not overwrite each other's cookie.
    cookie: String,
}

impl Guard {
    pub fn new(token: String, port: u16) -> Guard {
        Guard {
            token,
            cookie: format!("ferry_token_{port}"),
        }
    }

    pub fn cookie_name(&self) -> &str {
        &self.cookie
    }

    fn matches(&self, given: &str) -> bool {
        constant_time_eq(self.token.as_bytes(), given.as_bytes())
    }

    /// How the request proved it knows the token, if it did.
    pub fn check(&self, headers: &HeaderMap, query: Option<&str>) -> Option<Proof> {
        if let Some(b) = bearer(headers) {
            if self.matches(b) {
                return Some(Proof::Bearer);
            }
        }
        if let Some(t) = query.and_then(|q| query_param(q, "token")) {
            if self.matches(&t) {
                return Some(Proof::Query);
            }
        }
        if let Some(c) = cookie(headers, &self.cookie) {
            if self.matches(c) {
                return Some(Proof::Cookie);
            }
        }
        None
    }

    fn set_cookie(&self) -> HeaderValue {
        HeaderValue::from_str(&format!(
            "{}={}; Path=/; HttpOnly; SameSite=Strict",
            self.cookie, self.token
        ))
        .expect("token characters are checked")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    Bearer,
    Query,
    Cookie,
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// One query parameter, percent-decoded.
pub fn query_param(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| percent_decode(v))
}

pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
        match (b[i], hex) {
            (b'+', _) => out.push(b' '),
            (b'%', Some(v)) => {
                out.push(v);
                i += 2;
            }
            (c, _) => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The middleware in front of every route.
pub async fn require_token(State(guard): State<Arc<Guard>>, req: Request, next: Next) -> Response {
    let proof = guard.check(req.headers(), req.uri().query());
    let Some(proof) = proof else {
        return unauthorized();
    };
    let safe = matches!(*req.method(), Method::GET | Method::HEAD);
    if !safe && proof != Proof::Bearer && !req.headers().contains_key(REQUEST_HEADER) {
        return (
            StatusCode::FORBIDDEN,
            "403 Forbidden: requests that change something must come from the dashboard's page (X-Ferry-Request header) or carry Authorization: Bearer <token>\n",
        )
            .into_response();
    }
    let mut res = next.run(req).await;
    if proof == Proof::Query {
        res.headers_mut()
            .append(header::SET_COOKIE, guard.set_cookie());
    }
    res
}

fn unauthorized() -> Response {
    let mut res = (
        StatusCode::UNAUTHORIZED,
        "401 Unauthorized: this ferry dashboard needs its token. Open the URL `ferry serve` printed (it ends in ?token=...), or send Authorization: Bearer <token>.\n",
    )
        .into_response();
    res.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::{get, post};
    use axum::Router;
    use tower::ServiceExt;

    const TOKEN: &str = "0123456789abcdef0123456789abcdef";

    fn app() -> Router {
        let guard = Arc::new(Guard::new(TOKEN.into(), 4000));
        Router::new()
            .route("/", get(|| async { "ok" }))
            .route("/act", post(|| async { "done" }))
            .layer(axum::middleware::from_fn_with_state(guard, require_token))
    }

    async fn send(req: axum::http::Request<Body>) -> Response {
        app().oneshot(req).await.unwrap()
    }

    fn get_req(uri: &str) -> axum::http::request::Builder {
        axum::http::Request::builder().uri(uri)
    }

    #[tokio::test]
    async fn without_the_token_every_request_is_401() {
        for req in [
            get_req("/").body(Body::empty()).unwrap(),
            get_req("/?token=wrong").body(Body::empty()).unwrap(),
            get_req("/?token=").body(Body::empty()).unwrap(),
            get_req("/")
                .header("authorization", "Bearer nope")
                .body(Body::empty())
                .unwrap(),
            get_req("/")
                .header("cookie", format!("ferry_token_4001={TOKEN}"))
                .body(Body::empty())
                .unwrap(),
            get_req("/act")
                .method("POST")
                .header(REQUEST_HEADER, "1")
                .body(Body::empty())
                .unwrap(),
        ] {
            let res = send(req).await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
            assert_eq!(res.headers()[header::WWW_AUTHENTICATE], "Bearer");
            assert!(res.headers().get(header::SET_COOKIE).is_none());
        }
    }

    #[tokio::test]
    async fn the_token_in_the_query_sets_the_cookie_that_then_suffices() {
        let res = send(
            get_req(&format!("/?token={TOKEN}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        let cookie = res.headers()[header::SET_COOKIE].to_str().unwrap();
        assert!(
            cookie.starts_with(&format!("ferry_token_4000={TOKEN};")),
            "{cookie}"
        );
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        let res = send(
            get_req("/")
                .header("cookie", format!("other=1; ferry_token_4000={TOKEN}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers().get(header::SET_COOKIE).is_none());
        let res = send(
            get_req("/")
                .header("authorization", format!("Bearer {TOKEN}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn a_post_with_only_the_cookie_needs_the_dashboard_header() {
        let post = |extra: Option<(&str, String)>| {
            let mut b = get_req("/act")
                .method("POST")
                .header("cookie", format!("ferry_token_4000={TOKEN}"));
            if let Some((k, v)) = extra {
                b = b.header(k, v);
            }
            b.body(Body::empty()).unwrap()
        };
        assert_eq!(send(post(None)).await.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            send(post(Some((REQUEST_HEADER, "1".into()))))
                .await
                .status(),
            StatusCode::OK
        );
        let bearer = get_req("/act")
            .method("POST")
            .header("authorization", format!("bearer {TOKEN}"))
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(bearer).await.status(), StatusCode::OK);
    }

    #[test]
    fn generated_tokens_are_long_random_and_valid() {
        let (a, b) = (generate(), generate());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        check_format(&a).unwrap();
    }

    #[test]
    fn chosen_tokens_are_checked() {
        assert!(check_format("short").unwrap_err().contains("at least 16"));
        assert!(check_format("abcdefghijklmnop;x")
            .unwrap_err()
            .contains("';'"));
        check_format("my-team.token_2024~ok").unwrap();
    }

    #[test]
    fn query_parameters_are_decoded() {
        assert_eq!(
            query_param("a=1&token=x%2Dy&b", "token").as_deref(),
            Some("x-y")
        );
        assert_eq!(query_param("q=a+b%", "q").as_deref(), Some("a b%"));
        assert_eq!(query_param("b", "b").as_deref(), Some(""));
        assert_eq!(query_param("a=1", "token"), None);
    }
}
