//! The server's state: options, the event hub every browser listens to, the
//! progress of the apply this server runs, and the one job (plan, apply,
//! verify) that may run at a time. Jobs use the engine exactly as the CLI
//! does: the same ferry.toml (re-read for every job), the same credential
//! chain, the state lock around an apply from its plan to its end.

use crate::status::{self, Status};
use ferry_core::config::Config;
use ferry_core::plan::Plan;
use ferry_core::verify::Report;
use ferry_engine::run::{self, ApplyRequest, Prepared};
use ferry_engine::{notify, Context, Event};
use ferry_state::{LockGuard, State};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// How long a prepared apply waits for its confirmation (holding the state
/// lock, as the CLI does while it asks) before it is dropped.
pub const CONFIRM_TIMEOUT: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone)]
pub struct Options {
    pub config: PathBuf,
    pub state_dir: PathBuf,
}

/// One server-sent event: its name and its JSON data.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub name: String,
    pub data: Value,
}

/// The apply this server runs (from its confirmation to its end, and after,
/// until the next one): the plan and each node's status, from engine events.
#[derive(Debug, Clone, Serialize)]
pub struct Live {
    pub run: Option<i64>,
    /// awaiting_confirmation, running, succeeded, failed, cancelled
    pub state: String,
    pub nodes: BTreeMap<String, Status>,
    pub summary: Value,
    pub errors: Vec<String>,
    #[serde(skip)]
    pub plan: Arc<Plan>,
    /// Identifies the confirmation the page must send back.
    pub confirm_id: Option<String>,
}

/// The job running or last run, as the pages show it.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Job {
    /// plan, apply, verify
    pub kind: String,
    /// running, awaiting_confirmation, done, failed, cancelled
    pub state: String,
    pub message: String,
    pub started_at: String,
}

impl Job {
    fn busy(&self) -> bool {
        matches!(self.state.as_str(), "running" | "awaiting_confirmation")
    }
}

pub struct VerifyResult {
    pub report: Report,
    pub at: String,
}

/// A prepared apply waiting for its confirmation.
struct Pending {
    id: String,
    cx: Arc<Context>,
    lock: LockGuard,
    prepared: Prepared,
    notify: Option<Notify>,
}

/// `[notify]` for an apply the dashboard runs, as for `ferry apply`: the
/// notifier and the task copying events to it and to the dashboard.
struct Notify {
    notifier: notify::Notifier,
    fan_out: tokio::task::JoinHandle<()>,
}

impl Notify {
    /// Delivers what is still in flight once the run's context is gone.
    async fn finish(self) {
        let _ = self.fan_out.await;
        self.notifier.finish(notify::FLUSH_WITHIN).await;
    }
}

pub struct App {
    pub opts: Options,
    pub hub: broadcast::Sender<Frame>,
    events: mpsc::UnboundedSender<Event>,
    pub live: Mutex<Option<Live>>,
    pub job: Mutex<Job>,
    pub last_plan: Mutex<Option<(Arc<Plan>, String)>>,
    pub last_verify: Mutex<Option<Arc<VerifyResult>>>,
    pending: Mutex<Option<Pending>>,
    state: Mutex<Option<Arc<State>>>,
}

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl App {
    /// The application, and the task that turns engine events into
    /// progress and frames for the browsers (it runs as long as the app).
    pub fn new(opts: Options) -> Arc<App> {
        let (events, mut rx) = mpsc::unbounded_channel::<Event>();
        let (hub, _) = broadcast::channel(4096);
        let app = Arc::new(App {
            opts,
            hub,
            events,
            live: Mutex::new(None),
            job: Mutex::new(Job::default()),
            last_plan: Mutex::new(None),
            last_verify: Mutex::new(None),
            pending: Mutex::new(None),
            state: Mutex::new(None),
        });
        let weak = Arc::downgrade(&app);
        tokio::spawn(async move {
            while let Some(e) = rx.recv().await {
                let Some(app) = weak.upgrade() else { break };
                app.on_event(&e);
            }
        });
        app
    }

    /// The state database, once it exists (opened once, then shared).
    pub fn state(&self) -> Result<Option<Arc<State>>, ferry_state::StateError> {
        let mut s = self.state.lock().expect("state lock");
        if s.is_none() {
            if !self.opts.state_dir.join(ferry_state::DB_FILE).is_file() {
                return Ok(None);
            }
            *s = Some(Arc::new(State::open_existing(&self.opts.state_dir)?));
        }
        Ok(s.clone())
    }

    fn broadcast(&self, name: &str, data: Value) {
        // No receiver is fine: nobody is watching.
        let _ = self.hub.send(Frame {
            name: name.to_string(),
            data,
        });
    }

    /// Records an engine event in the live progress and passes it on.
    pub fn on_event(&self, e: &Event) {
        let data = serde_json::to_value(e).expect("event json");
        let name = data["event"].as_str().unwrap_or("message").to_string();
        if let Some(live) = self.live.lock().expect("live").as_mut() {
            match e {
                Event::Started { node }
                | Event::Finished { node, .. }
                | Event::Failed { node, .. }
                | Event::Stranded { node, .. } => {
                    if let Some(s) = Status::of_event(&name) {
                        live.nodes.insert(node.clone(), s);
                    }
                }
                Event::RunStarted { run, .. } => {
                    live.run = Some(*run);
                    live.state = "running".into();
                }
                Event::RunEnded {
                    state,
                    summary,
                    errors,
                    ..
                } => {
                    live.state = state.clone();
                    live.summary = summary.clone().unwrap_or(Value::Null);
                    live.errors = errors.clone();
                }
                _ => {}
            }
        }
        self.broadcast(&name, data);
    }

    fn set_job(&self, kind: &str, state: &str, message: impl Into<String>) {
        let job = {
            let mut j = self.job.lock().expect("job");
            if j.kind != kind || !j.busy() {
                j.started_at = now();
            }
            j.kind = kind.into();
            j.state = state.into();
            j.message = message.into();
            j.clone()
        };
        self.broadcast("job", serde_json::to_value(&job).expect("job json"));
    }

    /// Claims the one job slot, or says what holds it.
    fn claim(&self, kind: &str, message: &str) -> Result<(), String> {
        {
            let j = self.job.lock().expect("job");
            if j.busy() {
                return Err(format!(
                    "a {} is {} ({}); wait for it to finish{}",
                    j.kind,
                    j.state.replace('_', " "),
                    j.message,
                    if j.state == "awaiting_confirmation" {
                        ", or cancel it on the Apply page"
                    } else {
                        ""
                    }
                ));
            }
        }
        self.set_job(kind, "running", message);
        Ok(())
    }

    async fn connect(&self, read_only: bool) -> Result<Context, String> {
        let config = self.config(read_only)?;
        Context::connect(
            config,
            &self.opts.state_dir,
            read_only,
            Some(self.events.clone()),
        )
        .await
        .map_err(|e| e.to_string())
    }

    /// ferry.toml as it is now (every job re-reads it, as a new command would).
    fn config(&self, read_only: bool) -> Result<Config, String> {
        let config = Config::load(&self.opts.config).map_err(|e| e.to_string())?;
        if read_only && self.state().map_err(|e| e.to_string())?.is_none() {
            return Err(format!(
                "there is no state in {} yet: run a plan and an apply first",
                self.opts.state_dir.display()
            ));
        }
        Ok(config)
    }

    /// A context for an apply, whose events also reach `[notify]`'s targets;
    /// a delivery that fails is a warning on stderr and on the pages.
    async fn connect_apply(&self) -> Result<(Context, Option<Notify>), String> {
        let config = self.config(false)?;
        let events = self.events.clone();
        let warn: notify::Warn = Arc::new(move |text: String| {
            eprintln!("{text}");
            let _ = events.send(Event::Message { text });
        });
        let notifier = notify::Notifier::spawn(&config.notify, warn);
        let (sink, notify) = match notifier {
            Some(notifier) => {
                let (sink, fan_out) =
                    ferry_engine::event::fan_out(vec![self.events.clone(), notifier.sink()]);
                (sink, Some(Notify { notifier, fan_out }))
            }
            None => (self.events.clone(), None),
        };
        let cx = Context::connect(config, &self.opts.state_dir, false, Some(sink))
            .await
            .map_err(|e| e.to_string())?;
        if let Some(n) = &notify {
            n.notifier.attach(&cx.source, &cx.dest);
        }
        Ok((cx, notify))
    }

    /// Runs `work` on a fresh context as job `kind`; `done` keeps its result
    /// and says what came of it.
    fn spawn_job<T, Fut>(
        self: &Arc<Self>,
        kind: &'static str,
        message: &str,
        read_only: bool,
        work: impl FnOnce(Arc<Context>) -> Fut + Send + 'static,
        done: impl FnOnce(&App, T) -> String + Send + 'static,
    ) -> Result<(), String>
    where
        Fut: std::future::Future<Output = Result<T, ferry_engine::EngineError>> + Send,
        T: Send,
    {
        self.claim(kind, message)?;
        let app = self.clone();
        tokio::spawn(async move {
            let r = match app.connect(read_only).await {
                Ok(cx) => work(Arc::new(cx)).await.map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            match r {
                Ok(t) => {
                    let msg = done(&app, t);
                    app.set_job(kind, "done", msg);
                }
                Err(e) => app.set_job(kind, "failed", e),
            }
        });
        Ok(())
    }

    /// Plans afresh (as `ferry plan`) and keeps the plan for the Plan page.
    pub fn start_plan(self: &Arc<Self>) -> Result<(), String> {
        self.spawn_job(
            "plan",
            "discovering both sides and planning",
            false,
            |cx| async move { ferry_engine::planning::make(&cx).await },
            |app, p| {
                let counts = count_line(&p);
                *app.last_plan.lock().expect("plan") = Some((Arc::new(p), now()));
                format!("plan ready: {counts}")
            },
        )
    }

    /// Verifies (as `ferry verify`) and keeps the report for the Verify page.
    pub fn start_verify(self: &Arc<Self>) -> Result<(), String> {
        self.spawn_job(
            "verify",
            "reading both sides and comparing",
            true,
            |cx| async move { ferry_engine::verify::run(&cx).await },
            |app, report| {
                let msg = if report.is_equivalent() {
                    "the destination is equivalent to the source".to_string()
                } else {
                    let differ: usize = report
                        .counts()
                        .iter()
                        .filter(|(k, _)| !matches!(**k, "equivalent" | "skipped"))
                        .map(|(_, v)| v)
                        .sum();
                    let buckets = report.objects.iter().filter(|o| !o.is_equivalent()).count();
                    format!("not equivalent: {differ} resource(s) differ or are missing, {buckets} bucket(s) with objects that differ")
                };
                *app.last_verify.lock().expect("verify") =
                    Some(Arc::new(VerifyResult { report, at: now() }));
                msg
            },
        )
    }

    /// The first half of an apply, as the CLI does it before asking: take
    /// the state lock, resume the interrupted run or plan afresh, and wait
    /// for the confirmation with the plan on the Apply page.
    pub fn start_apply(self: &Arc<Self>, skip_conflicts: bool) -> Result<(), String> {
        self.claim("apply", "taking the state lock and planning")?;
        let app = self.clone();
        tokio::spawn(async move {
            let r = async {
                let (cx, notify) = app.connect_apply().await?;
                let cx = Arc::new(cx);
                let lock = cx
                    .state
                    .lock("apply (ferry serve)")
                    .map_err(|e| e.to_string())?;
                let req = ApplyRequest {
                    plan_file: None,
                    skip_conflicts,
                };
                let prepared = run::prepare(&cx, &req).await.map_err(|e| e.to_string())?;
                Ok::<_, String>((cx, lock, prepared, notify))
            }
            .await;
            let (cx, lock, prepared, notify) = match r {
                Ok(x) => x,
                Err(e) => return app.set_job("apply", "failed", e),
            };
            let plan = Arc::new(prepared.plan.clone());
            *app.last_plan.lock().expect("plan") = Some((plan.clone(), now()));
            if prepared.plan.conflicts().next().is_some() {
                return app.set_job(
                    "apply",
                    "failed",
                    format!(
                        "{} (see the Plan page, which offers to apply without them)",
                        run::conflicts_error()
                    )
                    .replace(" (above)", ""),
                );
            }
            if prepared.is_noop() {
                return app.set_job(
                    "apply",
                    "done",
                    "nothing to do: the destination is up to date",
                );
            }
            let id = crate::auth::generate();
            let message = match prepared.resume {
                Some((run, why)) => format!(
                    "resume run {run} (it {why}): {} change(s) to {}/{}; confirm on the Apply page",
                    prepared.work,
                    prepared.plan.destination.account,
                    prepared.plan.destination.region
                ),
                None => format!(
                    "{} change(s) to {}/{}; confirm on the Apply page",
                    prepared.work,
                    prepared.plan.destination.account,
                    prepared.plan.destination.region
                ),
            };
            *app.live.lock().expect("live") = Some(Live {
                run: prepared.resume.map(|(r, _)| r),
                state: "awaiting_confirmation".into(),
                nodes: status::queued_nodes(&plan),
                summary: Value::Null,
                errors: vec![],
                plan,
                confirm_id: Some(id.clone()),
            });
            *app.pending.lock().expect("pending") = Some(Pending {
                id: id.clone(),
                cx,
                lock,
                prepared,
                notify,
            });
            app.set_job("apply", "awaiting_confirmation", message);
            // Do not hold the lock forever for a page nobody looks at.
            let app2 = app.clone();
            tokio::spawn(async move {
                tokio::time::sleep(CONFIRM_TIMEOUT).await;
                let _ = app2.cancel_apply(&id, "not confirmed within 15 minutes");
            });
        });
        Ok(())
    }

    /// Runs the prepared apply the page confirmed.
    pub fn confirm_apply(self: &Arc<Self>, id: &str) -> Result<(), String> {
        let pending = {
            let mut p = self.pending.lock().expect("pending");
            match p.as_ref() {
                Some(x) if x.id == id => p.take().expect("pending"),
                Some(_) => {
                    return Err(
                        "this confirmation is for another plan: reload the Apply page".into(),
                    )
                }
                None => return Err("no apply is waiting for confirmation".into()),
            }
        };
        if let Some(l) = self.live.lock().expect("live").as_mut() {
            l.state = "running".into();
            l.confirm_id = None;
        }
        self.set_job("apply", "running", "applying");
        let app = self.clone();
        tokio::spawn(async move {
            let Pending {
                cx,
                lock,
                prepared,
                notify,
                ..
            } = pending;
            let r = run::execute(cx, prepared, None).await;
            drop(lock);
            if let Some(n) = notify {
                n.finish().await;
            }
            match r {
                Ok((run, s)) => app.set_job(
                    "apply",
                    "done",
                    format!(
                        "run {run} succeeded: {} created, {} adopted, {} reconciled",
                        s.created, s.adopted, s.converged
                    ),
                ),
                Err(e) => {
                    if let Some(l) = app.live.lock().expect("live").as_mut() {
                        if l.state == "running" {
                            l.state = "failed".into();
                        }
                    }
                    app.set_job("apply", "failed", e.to_string())
                }
            }
        });
        Ok(())
    }

    /// Drops a prepared apply (and so the state lock) without running it.
    pub fn cancel_apply(&self, id: &str, why: &str) -> Result<(), String> {
        let pending = {
            let mut p = self.pending.lock().expect("pending");
            match p.as_ref() {
                Some(x) if x.id == id => p.take(),
                _ => return Err("no such apply is waiting for confirmation".into()),
            }
        };
        drop(pending);
        if let Some(l) = self.live.lock().expect("live").as_mut() {
            l.state = "cancelled".into();
            l.confirm_id = None;
        }
        self.set_job("apply", "cancelled", format!("nothing applied: {why}"));
        Ok(())
    }

    pub fn job(&self) -> Job {
        self.job.lock().expect("job").clone()
    }

    pub fn live(&self) -> Option<Live> {
        self.live.lock().expect("live").clone()
    }

    /// The run the live apply is (once it has a number).
    pub fn live_run(&self) -> Option<i64> {
        self.live.lock().expect("live").as_ref().and_then(|l| l.run)
    }

    pub fn live_json(&self) -> Value {
        match self.live() {
            Some(l) => serde_json::to_value(&l).expect("live json"),
            None => json!(null),
        }
    }
}

/// "3 create, 1 adopt, 12 skip".
pub fn count_line(p: &Plan) -> String {
    let parts: Vec<String> = p.counts().iter().map(|(a, n)| format!("{n} {a}")).collect();
    if parts.is_empty() {
        "empty".into()
    } else {
        parts.join(", ")
    }
}
