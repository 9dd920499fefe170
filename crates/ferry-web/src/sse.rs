//! Server-sent events: `GET /events` streams every engine event of the jobs
//! this server runs (named by the event: `started`, `finished`, `failed`,
//! `run_started`...; data is the event's JSON) and `job` updates. With
//! `?run=N` for a run this server is not running (an apply the CLI runs in
//! another process, or a finished one), it also polls that run's journal in
//! the state database and sends what changed in the same vocabulary, with
//! `"run": N` and `"polled": true` added, so the page has one way to follow
//! a run whoever runs it. A browser that falls behind gets `resync`.

use crate::app::{App, Frame};
use crate::status::{self, Status};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use ferry_core::plan::Plan;
use ferry_state::RunState;
use futures::stream::{self, Stream};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// How often a followed run's journal is read.
pub const POLL: Duration = Duration::from_millis(700);

/// The SSE form of a frame.
pub fn to_sse(f: &Frame) -> SseEvent {
    SseEvent::default()
        .event(f.name.clone())
        .data(f.data.to_string())
}

/// What the journal shows of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Polled {
    pub state: RunState,
    pub nodes: BTreeMap<String, Status>,
    pub summary: Value,
}

/// Reads run `run`'s status from the state database.
pub fn poll_run(app: &App, run: i64) -> Option<Polled> {
    let state = app.state().ok()??;
    let rec = state.run(run).ok()??;
    let plan: Plan = serde_json::from_value(rec.plan).ok()?;
    let journal = state.journal(run).ok()?;
    Some(Polled {
        state: rec.state,
        nodes: status::from_journal(&status::queued_nodes(&plan), &journal, rec.state),
        summary: rec.summary,
    })
}

/// The frames that take a page from `before` to `now` for run `run`.
pub fn diff(run: i64, before: Option<&Polled>, now: &Polled) -> Vec<Frame> {
    let mut out = vec![];
    for (node, s) in &now.nodes {
        if before.and_then(|b| b.nodes.get(node)) == Some(s) {
            continue;
        }
        let name = match s {
            Status::Running => "started",
            Status::Done => "finished",
            Status::Failed => "failed",
            Status::Stranded => "stranded",
            Status::Queued => "queued",
            Status::Skipped => continue,
        };
        out.push(Frame {
            name: name.into(),
            data: json!({"event": name, "node": node, "run": run, "polled": true}),
        });
    }
    if before.map(|b| (b.state, &b.summary)) != Some((now.state, &now.summary)) {
        out.push(Frame {
            name: "run_state".into(),
            data: json!({"event": "run_state", "run": run, "state": now.state, "summary": now.summary, "polled": true}),
        });
    }
    out
}

struct Follow {
    app: Arc<App>,
    rx: tokio::sync::broadcast::Receiver<Frame>,
    run: Option<i64>,
    last: Option<Polled>,
    tick: tokio::time::Interval,
    queue: std::collections::VecDeque<Frame>,
}

/// The event stream of one browser.
pub fn stream(app: Arc<App>, run: Option<i64>) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let f = Follow {
        rx: app.hub.subscribe(),
        app,
        run,
        last: None,
        tick,
        queue: Default::default(),
    };
    stream::unfold(f, |mut f| async move {
        loop {
            if let Some(frame) = f.queue.pop_front() {
                return Some((Ok(to_sse(&frame)), f));
            }
            tokio::select! {
                r = f.rx.recv() => match r {
                    Ok(frame) => return Some((Ok(to_sse(&frame)), f)),
                    Err(RecvError::Lagged(_)) => {
                        let frame = Frame { name: "resync".into(), data: json!({"event": "resync"}) };
                        return Some((Ok(to_sse(&frame)), f));
                    }
                    Err(RecvError::Closed) => return None,
                },
                _ = f.tick.tick(), if f.run.is_some() => {
                    let run = f.run.expect("run");
                    // The server's own apply reports itself through events.
                    if f.app.live_run() == Some(run) {
                        f.last = None;
                        continue;
                    }
                    let app = f.app.clone();
                    let now = tokio::task::spawn_blocking(move || poll_run(&app, run)).await.ok().flatten();
                    if let Some(now) = now {
                        f.queue.extend(diff(run, f.last.as_ref(), &now));
                        f.last = Some(now);
                    }
                }
            }
        }
    })
}

pub fn response(
    app: Arc<App>,
    run: Option<i64>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    Sse::new(stream(app, run)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Options;
    use axum::body::Body;
    use axum::response::IntoResponse;
    use ferry_engine::Event;
    use http_body_util::BodyExt;

    async fn next_chunk(body: &mut Body) -> String {
        let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
            .await
            .expect("a frame in time")
            .expect("stream open")
            .expect("frame");
        String::from_utf8(frame.into_data().expect("data").to_vec()).unwrap()
    }

    #[tokio::test]
    async fn engine_events_are_framed_with_their_name_and_json_data() {
        let dir = tempfile::tempdir().unwrap();
        let app = App::new(Options {
            config: dir.path().join("ferry.toml"),
            state_dir: dir.path().join(".ferry"),
        });
        let res = response(app.clone(), None).into_response();
        assert_eq!(res.headers()["content-type"], "text/event-stream");
        let mut body = res.into_body();
        // The stream subscribes when built: events sent now reach it.
        app.on_event(&Event::Started {
            node: "vpc/vpc-1".into(),
        });
        app.on_event(&Event::Message {
            text: "two\nlines".into(),
        });
        assert_eq!(
            next_chunk(&mut body).await,
            "event: started\ndata: {\"event\":\"started\",\"node\":\"vpc/vpc-1\"}\n\n"
        );
        // JSON never holds a raw newline, so one data line per event.
        assert_eq!(
            next_chunk(&mut body).await,
            "event: message\ndata: {\"event\":\"message\",\"text\":\"two\\nlines\"}\n\n"
        );
    }

    #[test]
    fn polling_sends_only_what_changed() {
        let nodes = |v: &[(&str, Status)]| -> BTreeMap<String, Status> {
            v.iter().map(|(k, s)| (k.to_string(), *s)).collect()
        };
        let a = Polled {
            state: RunState::Running,
            nodes: nodes(&[("vpc/v", Status::Running), ("subnet/s", Status::Queued)]),
            summary: Value::Null,
        };
        let first = diff(7, None, &a);
        let names: Vec<&str> = first.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["queued", "started", "run_state"]);
        assert_eq!(first[1].data["node"], "vpc/v");
        assert_eq!(first[1].data["run"], 7);
        assert_eq!(first[1].data["polled"], true);
        assert!(diff(7, Some(&a), &a).is_empty());
        let b = Polled {
            state: RunState::Succeeded,
            nodes: nodes(&[("vpc/v", Status::Done), ("subnet/s", Status::Done)]),
            summary: json!({"created": 2}),
        };
        let next = diff(7, Some(&a), &b);
        let names: Vec<&str> = next.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["finished", "finished", "run_state"]);
        assert_eq!(next[2].data["state"], "succeeded");
        assert_eq!(next[2].data["summary"]["created"], 2);
    }
}
