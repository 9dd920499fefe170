//! Routes, binding and serving. Every route sits behind the token check
//! (auth.rs), assets included.

use crate::app::{App, Options};
use crate::auth::{self, Guard};
use crate::pages;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

const APP_JS: &str = include_str!("assets/app.js");
const STYLE_CSS: &str = include_str!("assets/style.css");

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{addr} is already in use (another ferry serve, or another program); choose another port with --port, or --port 0 for any free one")]
    InUse { addr: SocketAddr },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the dashboard server stopped: {0}")]
    Serve(std::io::Error),
}

/// Binds the listening socket (so a taken port is reported before anything
/// is printed).
pub async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, ServeError> {
    tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            ServeError::InUse { addr }
        } else {
            ServeError::Bind { addr, source: e }
        }
    })
}

/// The whole application behind its token.
pub fn router(app: Arc<App>, token: String, port: u16) -> Router {
    let guard = Arc::new(Guard::new(token, port));
    Router::new()
        .route("/", get(runs))
        .route("/runs/{id}", get(run))
        .route("/runs/{id}/graph.svg", get(run_svg))
        .route("/runs/{id}/rollback", get(rollback))
        .route("/plan", get(plan))
        .route("/plan/graph.svg", get(plan_svg))
        .route("/apply", get(apply))
        .route("/apply/graph.svg", get(apply_svg))
        .route("/mapping", get(mapping))
        .route("/verify", get(verify))
        .route("/events", get(events))
        .route("/assets/app.js", get(app_js))
        .route("/assets/style.css", get(style_css))
        .route("/api/runs", get(api_runs))
        .route("/api/runs/{id}", get(api_run))
        .route("/api/live", get(api_live))
        .route("/api/job", get(api_job))
        .route("/api/mapping", get(api_mapping))
        .route("/api/plan", get(api_plan_get).post(api_plan))
        .route("/api/verify", get(api_verify_get).post(api_verify))
        .route("/api/apply", post(api_apply))
        .route("/api/apply/confirm", post(api_apply_confirm))
        .route("/api/apply/cancel", post(api_apply_cancel))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            guard,
            auth::require_token,
        ))
        .with_state(app)
}

/// Serves until the process ends. (No graceful shutdown: browsers keep
/// their event streams open, which would hold it forever.)
pub async fn serve(
    listener: tokio::net::TcpListener,
    opts: Options,
    token: String,
) -> Result<(), ServeError> {
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let app = App::new(opts);
    axum::serve(listener, router(app, token, port))
        .await
        .map_err(ServeError::Serve)
}

type S = State<Arc<App>>;

fn not_found_text(what: &str) -> Response {
    (StatusCode::NOT_FOUND, format!("404 Not Found: {what}\n")).into_response()
}

async fn not_found() -> Response {
    not_found_text("no such page; start from /")
}

fn svg(body: String) -> Response {
    (
        [(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("page task")
}

async fn runs(State(app): S) -> Html<String> {
    Html(blocking(move || pages::runs_page(&app)).await)
}

async fn run(State(app): S, Path(id): Path<i64>) -> Response {
    match blocking(move || pages::run_page(&app, id)).await {
        Some(h) => Html(h).into_response(),
        None => not_found_text(&format!("there is no run {id}")),
    }
}

async fn run_svg(State(app): S, Path(id): Path<i64>) -> Response {
    match blocking(move || pages::run_svg(&app, id)).await {
        Some(s) => svg(s),
        None => not_found_text(&format!("there is no run {id}")),
    }
}

async fn rollback(State(app): S, Path(id): Path<i64>) -> Response {
    match pages::rollback_page(&app, id).await {
        Some(h) => Html(h).into_response(),
        None => not_found_text(&format!("there is no run {id}")),
    }
}

async fn plan(State(app): S) -> Html<String> {
    Html(pages::plan_page(&app))
}

async fn plan_svg(State(app): S) -> Response {
    let last = app.last_plan.lock().expect("plan").clone();
    match last {
        Some((p, _)) => svg(crate::svg::render(
            &p,
            &crate::status::item_statuses(&p, &crate::status::queued_nodes(&p)),
        )),
        None => not_found_text("no plan yet: press Plan"),
    }
}

async fn apply(State(app): S) -> Html<String> {
    Html(pages::apply_page(&app))
}

async fn apply_svg(State(app): S) -> Response {
    match app.live() {
        Some(l) => svg(crate::svg::render(
            &l.plan,
            &crate::status::item_statuses(&l.plan, &l.nodes),
        )),
        None => not_found_text("no apply in this session"),
    }
}

async fn mapping(State(app): S, Query(q): Query<HashMap<String, String>>) -> Html<String> {
    let q = q.get("q").cloned().unwrap_or_default();
    Html(blocking(move || pages::mapping_page(&app, &q)).await)
}

async fn verify(State(app): S) -> Html<String> {
    Html(pages::verify_page(&app))
}

#[derive(Deserialize)]
struct EventsQuery {
    run: Option<i64>,
}

async fn events(State(app): S, Query(q): Query<EventsQuery>) -> impl IntoResponse {
    crate::sse::response(app, q.run)
}

async fn app_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        APP_JS,
    )
        .into_response()
}

async fn style_css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        STYLE_CSS,
    )
        .into_response()
}

fn json_err(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(json!({"error": msg.into()}))).into_response()
}

async fn api_runs(State(app): S) -> Response {
    match blocking(move || pages::runs_json(&app)).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => json_err(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

async fn api_run(State(app): S, Path(id): Path<i64>) -> Response {
    match blocking(move || pages::run_json(&app, id)).await {
        Some(v) => Json(v).into_response(),
        None => json_err(StatusCode::NOT_FOUND, format!("there is no run {id}")),
    }
}

async fn api_live(State(app): S) -> Response {
    Json(app.live_json()).into_response()
}

async fn api_job(State(app): S) -> Response {
    Json(app.job()).into_response()
}

async fn api_mapping(State(app): S) -> Response {
    let r = blocking(move || match app.state() {
        Ok(Some(s)) => s.map_all().map_err(|e| e.to_string()),
        Ok(None) => Ok(vec![]),
        Err(e) => Err(e.to_string()),
    })
    .await;
    match r {
        Ok(v) => Json(v).into_response(),
        Err(e) => json_err(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

async fn api_plan_get(State(app): S) -> Response {
    let last = app.last_plan.lock().expect("plan").clone();
    match last {
        Some((p, _)) => Json(json!(*p)).into_response(),
        None => json_err(
            StatusCode::NOT_FOUND,
            "no plan yet: POST /api/plan makes one",
        ),
    }
}

async fn api_verify_get(State(app): S) -> Response {
    let last = app.last_verify.lock().expect("verify").clone();
    match last {
        Some(v) => Json(json!({
            "at": v.at,
            "equivalent": v.report.is_equivalent(),
            "counts": v.report.counts(),
            "report": v.report,
        }))
        .into_response(),
        None => json_err(
            StatusCode::NOT_FOUND,
            "not verified yet: POST /api/verify runs it",
        ),
    }
}

fn started(r: Result<(), String>) -> Response {
    match r {
        Ok(()) => (StatusCode::ACCEPTED, Json(json!({"started": true}))).into_response(),
        Err(e) => json_err(StatusCode::CONFLICT, e),
    }
}

async fn api_plan(State(app): S) -> Response {
    started(app.start_plan())
}

async fn api_verify(State(app): S) -> Response {
    started(app.start_verify())
}

#[derive(Deserialize)]
struct ApplyQuery {
    #[serde(default)]
    skip_conflicts: bool,
}

async fn api_apply(State(app): S, Query(q): Query<ApplyQuery>) -> Response {
    started(app.start_apply(q.skip_conflicts))
}

#[derive(Deserialize)]
struct ConfirmQuery {
    id: String,
}

async fn api_apply_confirm(State(app): S, Query(q): Query<ConfirmQuery>) -> Response {
    started(app.confirm_apply(&q.id))
}

async fn api_apply_cancel(State(app): S, Query(q): Query<ConfirmQuery>) -> Response {
    match app.cancel_apply(&q.id, "cancelled on the Apply page") {
        Ok(()) => Json(json!({"cancelled": true})).into_response(),
        Err(e) => json_err(StatusCode::CONFLICT, e),
    }
}
