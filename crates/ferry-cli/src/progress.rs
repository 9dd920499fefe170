//! Renders engine events on stderr (stdout is kept for the plan, reports and
//! JSON), in one of three modes:
//!
//! - plain: stable lines, one per thing done, plus a status line per service
//!   (done/total, rate, ETA) or bucket copy at most every few seconds. What
//!   scripts, CI logs and tests see; the default when stderr is not a terminal.
//! - animated (auto, on a terminal): the same history lines scroll above a
//!   live bar per service (during discovery and apply) and per bucket copy.
//! - none: nothing.
//!
//! [`Tracker`] is the pure part: it turns timed events into lines and keeps
//! the per-service counts both displays draw from.

use crate::cli::Progress;
use ferry_aws::TransferProgress;
use ferry_core::spec::s3::{human_bytes, thousands};
use ferry_core::{Kind, Node};
use ferry_engine::event::Sink;
use ferry_engine::Event;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How often a bucket's copy progress is printed at most.
const TRANSFER_EVERY: Duration = Duration::from_secs(2);

/// How often a service's (or a side's discovery) status line is printed at
/// most in plain mode. Short runs print none.
const STATUS_EVERY: Duration = Duration::from_secs(10);

/// Completions within this window set a service's current rate.
const RATE_WINDOW: Duration = Duration::from_secs(30);

/// Both sides list every kind in scope.
const SIDES: usize = 2;

/// A line of output: `Log` lines are the history (printed in every mode);
/// `Status` lines report progress, which the animated display draws as bars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Log(String),
    Status(String),
}

/// The terminal printer: where events go, and how warnings (of
/// notifications) reach the user without tearing the display.
pub struct Printer {
    sink: Sink,
    task: tokio::task::JoinHandle<()>,
    bars: Option<MultiProgress>,
}

impl Printer {
    /// `kinds` are the kinds in scope (their count per service is what
    /// discovery lists).
    pub fn spawn(mode: Progress, kinds: &BTreeSet<Kind>) -> Printer {
        let (sink, mut rx) = mpsc::unbounded_channel::<Event>();
        let animated = mode == Progress::Auto && std::io::stderr().is_terminal();
        let bars = animated.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        let mut tracker = Tracker::new(kinds_per_service(kinds));
        let task = match (&bars, mode) {
            (_, Progress::None) => tokio::spawn(async move { while rx.recv().await.is_some() {} }),
            (Some(mp), _) => {
                let mut display = Animated::new(mp.clone());
                let (shown, watch) = tokio::sync::watch::channel(false);
                let _ = BARS_SHOWN.set(watch);
                tokio::spawn(async move {
                    let mut tick = tokio::time::interval(Duration::from_millis(500));
                    loop {
                        tokio::select! {
                            e = rx.recv() => {
                                let Some(e) = e else { break };
                                // Everything queued at once, then one redraw.
                                let now = Instant::now();
                                let mut next = Some(e);
                                while let Some(e) = next {
                                    for l in tracker.event(&e, now) {
                                        if let Line::Log(text) = l {
                                            display.println(&text);
                                        }
                                    }
                                    next = rx.try_recv().ok();
                                }
                                display.sync(&tracker, now);
                            }
                            _ = tick.tick() => display.sync(&tracker, Instant::now()),
                        }
                        shown.send_replace(!display.bars.is_empty() || !rx.is_empty());
                    }
                    display.clear();
                    shown.send_replace(false);
                })
            }
            (None, _) => {
                let (pending, watch) = tokio::sync::watch::channel(false);
                let _ = BARS_SHOWN.set(watch);
                tokio::spawn(async move {
                    while let Some(e) = rx.recv().await {
                        for l in tracker.event(&e, Instant::now()) {
                            let (Line::Log(text) | Line::Status(text)) = l;
                            eprintln!("{text}");
                        }
                        pending.send_replace(!rx.is_empty());
                    }
                    pending.send_replace(false);
                })
            }
        };
        Printer { sink, task, bars }
    }

    pub fn sink(&self) -> Sink {
        self.sink.clone()
    }

    /// Prints a warning above the bars (or as a plain line), in every mode.
    pub fn warner(&self) -> ferry_engine::notify::Warn {
        let bars = self.bars.clone();
        Arc::new(move |text: String| match &bars {
            Some(mp) => mp.suspend(|| eprintln!("{text}")),
            None => eprintln!("{text}"),
        })
    }

    /// Waits until every event sent is printed (once all senders are gone).
    pub async fn finish(self) {
        drop(self.sink);
        let _ = self.task.await;
    }
}

/// Whether the display shows bars or has events still to show: see
/// [`settle`].
static BARS_SHOWN: std::sync::OnceLock<tokio::sync::watch::Receiver<bool>> =
    std::sync::OnceLock::new();

/// Waits, briefly, until the display has caught up with the engine and
/// shows no bars, so that what the command prints on stdout next (the plan,
/// a report, a run's outcome) comes after the lines it follows and is not
/// drawn over by bars. Returns at once with `--progress none`.
pub async fn settle() {
    let Some(shown) = BARS_SHOWN.get() else {
        return;
    };
    let mut shown = shown.clone();
    // Events emitted just before are on their way through the fan-out.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let _ = tokio::time::timeout(Duration::from_secs(1), shown.wait_for(|s| !s)).await;
}

/// Kinds listed per service (kinds without an adapter are never listed).
pub fn kinds_per_service(kinds: &BTreeSet<Kind>) -> BTreeMap<&'static str, usize> {
    let registry = ferry_aws::Registry::aws();
    let mut m = BTreeMap::new();
    for k in kinds.iter().filter(|k| registry.get(**k).is_some()) {
        *m.entry(k.service()).or_default() += 1;
    }
    m
}

/// The service of a plan node (`vpc/vpc-1`, `route_table/rtb-1#contents`).
fn service_of(node: &str) -> Option<&'static str> {
    Node::parse(node).map(|n| n.key.kind.service())
}

/// One service's share of an apply run.
#[derive(Debug, Clone)]
pub struct Service {
    pub total: usize,
    pub done: usize,
    pub failed: usize,
    pub stranded: usize,
    pub running: usize,
    first_start: Option<Instant>,
    /// Completion times within [`RATE_WINDOW`].
    recent: VecDeque<Instant>,
    last_status: Option<Instant>,
}

impl Service {
    fn new(total: usize) -> Service {
        Service {
            total,
            done: 0,
            failed: 0,
            stranded: 0,
            running: 0,
            first_start: None,
            recent: VecDeque::new(),
            last_status: None,
        }
    }

    pub fn ended(&self) -> usize {
        self.done + self.failed + self.stranded
    }

    pub fn is_complete(&self) -> bool {
        self.ended() >= self.total
    }

    /// Steps per second over the last [`RATE_WINDOW`] (or since the first
    /// step started, when that is shorter); `None` before a second has passed.
    fn rate(&self, now: Instant) -> Option<f64> {
        let since = now.checked_duration_since(self.first_start?)?;
        let window = since.min(RATE_WINDOW).as_secs_f64();
        if window < 1.0 {
            return None;
        }
        let n = self
            .recent
            .iter()
            .filter(|t| now.saturating_duration_since(**t) <= RATE_WINDOW)
            .count();
        Some(n as f64 / window)
    }

    /// "5/12 done, 3 running, 1 failed, 1.2/s, ETA 6s" (what is known).
    fn status(&self, now: Instant) -> String {
        let mut s = format!("{}/{} done", self.done, self.total);
        if self.running > 0 {
            s.push_str(&format!(", {} running", self.running));
        }
        self.push_failures(&mut s);
        if self.first_start.is_none() {
            s.push_str(", queued");
        } else if let Some(rate) = self.rate(now).filter(|r| *r > 0.0) {
            let left = self.total.saturating_sub(self.ended()) as f64 / rate;
            s.push_str(&format!(
                ", {rate:.1}/s, ETA {}",
                clock(Duration::from_secs_f64(left))
            ));
        }
        s
    }

    fn push_failures(&self, s: &mut String) {
        if self.failed > 0 {
            s.push_str(&format!(", {} failed", self.failed));
        }
        if self.stranded > 0 {
            s.push_str(&format!(", {} not run", self.stranded));
        }
    }
}

/// Discovery of one side: kinds listed per service, resources found.
#[derive(Debug, Clone, Default)]
struct SideListing {
    kinds: usize,
    resources: usize,
    by_service: BTreeMap<&'static str, (usize, usize)>,
    done: bool,
    started: Option<Instant>,
    last_status: Option<Instant>,
}

/// The state both displays draw from, fed with timed events.
pub struct Tracker {
    kinds: BTreeMap<&'static str, usize>,
    sides: BTreeMap<String, SideListing>,
    services: BTreeMap<&'static str, Service>,
    transfers: Transfers,
}

impl Tracker {
    pub fn new(kinds: BTreeMap<&'static str, usize>) -> Tracker {
        Tracker {
            kinds,
            sides: BTreeMap::new(),
            services: BTreeMap::new(),
            transfers: Transfers::default(),
        }
    }

    /// Records `e` (seen at `now`) and returns what to print for it.
    pub fn event(&mut self, e: &Event, now: Instant) -> Vec<Line> {
        let mut out = vec![];
        match e {
            Event::Discovered { side, kind, count } => {
                let total: usize = self.kinds.values().sum();
                let l = self.sides.entry(side.clone()).or_default();
                if l.done {
                    // A second listing of this side (verify after plan...).
                    *l = SideListing::default();
                }
                let started = *l.started.get_or_insert(now);
                l.kinds += 1;
                l.resources += count;
                if let Some(service) = Kind::parse(kind).map(Kind::service) {
                    let entry = l.by_service.entry(service).or_default();
                    entry.0 += 1;
                    entry.1 += count;
                }
                if due(l.last_status.unwrap_or(started), now, STATUS_EVERY) {
                    l.last_status = Some(now);
                    out.push(Line::Status(format!(
                        "{:<14} {side}: {}/{total} kinds, {} resources",
                        "listing",
                        l.kinds,
                        thousands(l.resources as u64)
                    )));
                }
            }
            Event::SideDiscovered { side, .. } => {
                self.sides.entry(side.clone()).or_default().done = true;
                out.extend(line(e).map(Line::Log));
            }
            Event::RunStarted {
                run,
                resumed,
                services,
                ..
            } => {
                self.services = services
                    .iter()
                    .filter_map(|(name, n)| Some((service_name(name)?, Service::new(*n))))
                    .collect();
                let steps: usize = services.values().sum();
                let each: Vec<String> = services.iter().map(|(s, n)| format!("{s} {n}")).collect();
                out.push(Line::Log(format!(
                    "run {run} {}: {steps} step(s) ({})",
                    if *resumed { "resumed" } else { "started" },
                    each.join(", ")
                )));
            }
            Event::Started { node } => {
                if let Some(s) = self.service(node) {
                    s.running += 1;
                    s.first_start.get_or_insert(now);
                }
            }
            Event::Finished { node, .. }
            | Event::Failed { node, .. }
            | Event::Stranded { node, .. } => {
                out.extend(line(e).map(Line::Log));
                let Some(name) = service_of(node) else {
                    return out;
                };
                let Some(s) = self.services.get_mut(name) else {
                    return out;
                };
                match e {
                    Event::Finished { .. } => s.done += 1,
                    Event::Failed { .. } => s.failed += 1,
                    _ => s.stranded += 1,
                }
                if !matches!(e, Event::Stranded { .. }) {
                    s.running = s.running.saturating_sub(1);
                    s.recent.push_back(now);
                    while s
                        .recent
                        .front()
                        .is_some_and(|t| now.saturating_duration_since(*t) > RATE_WINDOW)
                    {
                        s.recent.pop_front();
                    }
                }
                let first = s.first_start.unwrap_or(now);
                if s.is_complete() {
                    let mut text = format!("{:<14} {name}: {}/{}", "done", s.done, s.total);
                    s.push_failures(&mut text);
                    text.push_str(&format!(
                        " in {}",
                        clock(now.saturating_duration_since(first))
                    ));
                    out.push(Line::Log(text));
                } else if due(s.last_status.unwrap_or(first), now, STATUS_EVERY) {
                    s.last_status = Some(now);
                    out.push(Line::Status(format!(
                        "{:<14} {name}: {}",
                        "progress",
                        s.status(now)
                    )));
                }
            }
            Event::RunEnded { .. } => {
                // Whatever did not report its end will not any more.
                self.services.clear();
                self.transfers.latest.clear();
            }
            Event::Transfer(p) => {
                out.extend(self.transfers.line(p, now).map(|text| {
                    if p.finished {
                        Line::Log(text)
                    } else {
                        Line::Status(text)
                    }
                }));
            }
            other => out.extend(line(other).map(Line::Log)),
        }
        out
    }

    fn service(&mut self, node: &str) -> Option<&mut Service> {
        self.services.get_mut(service_of(node)?)
    }

    /// Whether a side is being listed right now.
    fn listing(&self) -> bool {
        self.sides.values().any(|l| !l.done)
    }
}

/// The `&'static str` of a service name the engine sent.
fn service_name(name: &str) -> Option<&'static str> {
    ferry_core::kind::SUPPORTED
        .iter()
        .map(|k| k.service())
        .find(|s| *s == name)
}

fn due(last: Instant, now: Instant, every: Duration) -> bool {
    now.saturating_duration_since(last) >= every
}

/// The history line of an event, if it has one.
pub fn line(e: &Event) -> Option<String> {
    Some(match e {
        Event::Discovered { .. } => return None,
        Event::SideDiscovered {
            side,
            account,
            region,
            resources,
            kinds,
        } => {
            format!("discovered {side} {account}/{region}: {resources} resources of {kinds} kinds")
        }
        Event::Started { .. } => return None,
        Event::Finished {
            node,
            done,
            dest_id,
            changes,
        } => {
            let mut s = format!("{done:<14} {node} -> {dest_id}");
            for c in changes {
                s.push_str(&format!("\n               - {c}"));
            }
            s
        }
        Event::Failed { node, error } => format!("{:<14} {node}: {error}", "FAILED"),
        Event::Stranded { node, because } => {
            format!("{:<14} {node} (needs {because}, which failed)", "not run")
        }
        // KMS keeps a deleted key for a waiting period (7 days at least).
        Event::Deleted { key, dest_id } if key.starts_with("kms_key/") => format!(
            "{:<14} {dest_id} (from {key}): scheduled for deletion in 7 days",
            "deleted"
        ),
        Event::Deleted { key, dest_id } => format!("{:<14} {dest_id} (from {key})", "deleted"),
        Event::Restored { key, dest_id } => format!(
            "{:<14} {dest_id} (AWS default mapped from {key})",
            "restored"
        ),
        Event::Message { text } => text.clone(),
        // Rendered with their rate by [`Transfers`].
        Event::Transfer(_) => return None,
        // The command prints the outcome of runs and rollbacks itself; the
        // run's start is told by [`Tracker`], with its steps per service.
        Event::RunStarted { .. }
        | Event::RunEnded { .. }
        | Event::RollbackStarted { .. }
        | Event::RollbackEnded { .. } => return None,
    })
}

/// Copy progress per bucket: when it started, when it was last printed, and
/// the latest report (for the animated display).
#[derive(Default)]
struct Transfers {
    seen: HashMap<String, (Instant, Option<Instant>)>,
    latest: BTreeMap<String, (TransferProgress, Instant)>,
}

impl Transfers {
    /// A line for `p` if one is due: the first report, every
    /// [`TRANSFER_EVERY`], and the last.
    fn line(&mut self, p: &TransferProgress, now: Instant) -> Option<String> {
        let (start, last) = self.seen.entry(p.bucket.clone()).or_insert((now, None));
        let start = *start;
        self.latest.insert(p.bucket.clone(), (p.clone(), start));
        if !p.finished && last.is_some_and(|l| now.duration_since(l) < TRANSFER_EVERY) {
            return None;
        }
        *last = Some(now);
        Some(transfer_line(p, now.duration_since(start)))
    }
}

/// "copying s3_bucket/logs: 1,200/5,000 objects, 12.0 MiB/50.0 MiB, 350 objects/s, 3.5 MiB/s, ETA 11s".
pub fn transfer_line(p: &TransferProgress, elapsed: Duration) -> String {
    format!(
        "{:<14} {}",
        if p.finished { "copied" } else { "copying" },
        transfer_text(p, elapsed)
    )
}

/// [`transfer_line`] without its label.
fn transfer_text(p: &TransferProgress, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(0.001);
    let total = if p.listing_done { "" } else { "+" };
    let mut s = format!(
        "{}: {}/{}{total} objects, {}/{}{total}",
        p.bucket,
        thousands(p.copied_objects),
        thousands(p.to_copy_objects),
        human_bytes(p.copied_bytes),
        human_bytes(p.to_copy_bytes),
    );
    let up_to_date = p.listed_objects.saturating_sub(p.to_copy_objects);
    if up_to_date > 0 {
        s.push_str(&format!(" ({} already up to date)", thousands(up_to_date)));
    }
    let objects_rate = p.copied_objects as f64 / secs;
    let bytes_rate = p.copied_bytes as f64 / secs;
    // A rate over less than a second says nothing.
    if secs < 1.0 {
        if p.finished {
            s.push_str(" in under a second");
        }
        return s;
    }
    s.push_str(&format!(
        ", {objects_rate:.0} objects/s, {}/s",
        human_bytes(bytes_rate as u64)
    ));
    if p.finished {
        s.push_str(&format!(" in {}", clock(elapsed)));
    } else if p.listing_done && p.copied_objects > 0 {
        // Whichever of objects and bytes has further to go sets the pace.
        let left_objects =
            p.to_copy_objects.saturating_sub(p.copied_objects) as f64 / objects_rate.max(1e-9);
        let left_bytes = if bytes_rate > 0.0 {
            p.to_copy_bytes.saturating_sub(p.copied_bytes) as f64 / bytes_rate
        } else {
            0.0
        };
        s.push_str(&format!(
            ", ETA {}",
            clock(Duration::from_secs_f64(left_objects.max(left_bytes)))
        ));
    }
    s
}

/// 75 s -> "1m15s"; 3700 s -> "1h01m40s".
fn clock(d: Duration) -> String {
    let t = d.as_secs();
    match (t / 3600, (t / 60) % 60, t % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m{s:02}s"),
        (h, m, s) => format!("{h}h{m:02}m{s:02}s"),
    }
}

/// The live display: history lines scroll above one bar per service being
/// listed or applied and per bucket being copied; a bar goes when its work
/// ends (its history line says how it ended).
struct Animated {
    mp: MultiProgress,
    bars: BTreeMap<String, ProgressBar>,
}

impl Animated {
    fn new(mp: MultiProgress) -> Animated {
        Animated {
            mp,
            bars: BTreeMap::new(),
        }
    }

    fn println(&self, text: &str) {
        let _ = self.mp.println(text);
    }

    /// The bar `id`, made on first use.
    fn bar(&mut self, id: &str, prefix: &str) -> &ProgressBar {
        let mp = &self.mp;
        self.bars.entry(id.to_string()).or_insert_with(|| {
            let style = ProgressStyle::with_template(
                "{prefix:<20} [{bar:16}] {pos:>5}/{len:<5} {wide_msg}",
            )
            .expect("progress template")
            .progress_chars("=> ");
            let bar = mp.add(ProgressBar::new(0).with_style(style));
            bar.set_prefix(prefix.to_string());
            bar
        })
    }

    /// Shows the tracker's state: adds, updates and removes bars.
    fn sync(&mut self, t: &Tracker, now: Instant) {
        let mut keep: BTreeSet<String> = BTreeSet::new();
        if t.listing() {
            for (service, kinds) in &t.kinds {
                let (listed, found) = t
                    .sides
                    .values()
                    .filter_map(|l| l.by_service.get(service))
                    .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
                let id = format!("list/{service}");
                let bar = self.bar(&id, &format!("listing {service}"));
                bar.set_length((kinds * SIDES) as u64);
                bar.set_position(listed as u64);
                bar.set_message(format!("kinds, {} resources", thousands(found as u64)));
                keep.insert(id);
            }
        }
        for (service, s) in t.services.iter().filter(|(_, s)| !s.is_complete()) {
            let id = format!("apply/{service}");
            let bar = self.bar(&id, service);
            bar.set_length(s.total as u64);
            bar.set_position(s.ended() as u64);
            let status = s.status(now);
            // The counts are the bar's own; the rest is the message.
            let message = status.split_once(" done").map_or("", |(_, m)| m);
            bar.set_message(message.trim_start_matches(", ").to_string());
            keep.insert(id);
        }
        for (bucket, (p, start)) in t.transfers.latest.iter().filter(|(_, (p, _))| !p.finished) {
            let id = format!("copy/{bucket}");
            let bar = self.bar(
                &id,
                &format!("copying {}", bucket.trim_start_matches("s3_bucket/")),
            );
            bar.set_length(p.to_copy_objects);
            bar.set_position(p.copied_objects);
            let text = transfer_text(p, now.saturating_duration_since(*start));
            let after = text.split_once(" objects").map_or("", |(_, m)| m);
            bar.set_message(format!("objects{after}"));
            keep.insert(id);
        }
        let gone: Vec<String> = self
            .bars
            .keys()
            .filter(|id| !keep.contains(*id))
            .cloned()
            .collect();
        for id in gone {
            if let Some(bar) = self.bars.remove(&id) {
                bar.finish_and_clear();
                self.mp.remove(&bar);
            }
        }
    }

    fn clear(&mut self) {
        for (_, bar) in std::mem::take(&mut self.bars) {
            bar.finish_and_clear();
        }
        let _ = self.mp.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_core::protocol::Outcome;

    fn progress(copied: u64, finished: bool) -> TransferProgress {
        TransferProgress {
            bucket: "s3_bucket/logs".into(),
            listed_objects: 120,
            listed_bytes: 120 * 1024,
            listing_done: true,
            to_copy_objects: 100,
            to_copy_bytes: 100 * 1024,
            copied_objects: copied,
            copied_bytes: copied * 1024,
            finished,
        }
    }

    #[test]
    fn transfer_lines_say_done_total_rate_and_eta() {
        assert_eq!(
            transfer_line(&progress(50, false), Duration::from_secs(10)),
            "copying        s3_bucket/logs: 50/100 objects, 50.0 KiB/100.0 KiB (20 already up to date), 5 objects/s, 5.0 KiB/s, ETA 10s"
        );
        assert_eq!(
            transfer_line(&progress(100, true), Duration::from_secs(75)),
            "copied         s3_bucket/logs: 100/100 objects, 100.0 KiB/100.0 KiB (20 already up to date), 1 objects/s, 1.3 KiB/s in 1m15s"
        );
        let mut listing = progress(0, false);
        listing.listing_done = false;
        assert!(transfer_line(&listing, Duration::from_secs(1)).contains("0/100+ objects"));
        assert!(
            transfer_line(&progress(100, true), Duration::from_millis(300))
                .ends_with("in under a second")
        );
    }

    #[test]
    fn transfer_lines_are_throttled_but_the_last_always_shows() {
        let mut t = Transfers::default();
        let t0 = Instant::now();
        assert!(t.line(&progress(1, false), t0).is_some());
        assert!(t
            .line(&progress(2, false), t0 + Duration::from_millis(500))
            .is_none());
        assert!(t
            .line(&progress(3, false), t0 + Duration::from_secs(3))
            .is_some());
        assert!(t
            .line(&progress(100, true), t0 + Duration::from_secs(3))
            .is_some());
    }

    #[test]
    fn nodes_belong_to_services() {
        assert_eq!(service_of("vpc/vpc-1"), Some("ec2"));
        assert_eq!(service_of("route_table/rtb-1#contents"), Some("ec2"));
        assert_eq!(service_of("iam_role/ops"), Some("iam"));
        assert_eq!(service_of("s3_bucket/logs"), Some("s3"));
        assert_eq!(service_of("nonsense"), None);
        let kinds = ferry_core::kind::select(&["vpc".into(), "s3".into()], &[]);
        let per = kinds_per_service(&kinds);
        assert_eq!(per.get("s3"), Some(&1));
        assert!(per["ec2"] >= 1);
    }

    #[test]
    fn service_status_has_rate_and_eta() {
        let t0 = Instant::now();
        let mut s = Service::new(10);
        assert_eq!(s.status(t0), "0/10 done, queued");
        s.first_start = Some(t0);
        s.running = 2;
        assert_eq!(s.status(t0), "0/10 done, 2 running");
        for i in 1..=4 {
            s.done += 1;
            s.recent.push_back(t0 + Duration::from_secs(i));
        }
        // 4 in 4 s: 1/s, 6 left.
        assert_eq!(
            s.status(t0 + Duration::from_secs(4)),
            "4/10 done, 2 running, 1.0/s, ETA 6s"
        );
        // Only the last 30 s count: at 64 s none of them do.
        s.failed = 1;
        assert_eq!(
            s.status(t0 + Duration::from_secs(64)),
            "4/10 done, 2 running, 1 failed"
        );
    }

    /// The plain output of a fixed run: discovery, an apply with a failure
    /// and what it strands, and a bucket copy. Scripts and tests read these
    /// lines: a change here is a change of interface.
    #[test]
    fn plain_output_of_a_run_is_stable() {
        let kinds = BTreeMap::from([("ec2", 3), ("s3", 1)]);
        let mut t = Tracker::new(kinds);
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_millis(s);
        let node = |n: &str| n.to_string();
        let copy = |copied: u64, finished: bool| {
            Event::Transfer(TransferProgress {
                bucket: "s3_bucket/logs".into(),
                listed_objects: 5_000,
                listed_bytes: 5_000 * 10_240,
                listing_done: copied > 0,
                to_copy_objects: 4_000,
                to_copy_bytes: 4_000 * 10_240,
                copied_objects: copied,
                copied_bytes: copied * 10_240,
                finished,
            })
        };
        let mut events: Vec<(u64, Event)> = vec![];
        for (i, (side, kind, n)) in [
            ("source", "vpc", 2),
            ("destination", "vpc", 1),
            ("source", "subnet", 4),
            ("source", "security_group", 3),
            ("source", "s3_bucket", 1),
            ("destination", "subnet", 1),
            ("destination", "security_group", 1),
            ("destination", "s3_bucket", 0),
        ]
        .into_iter()
        .enumerate()
        {
            // Listing is slow: the fourth kind arrives 12 s in.
            events.push((
                i as u64 * 4_000,
                Event::Discovered {
                    side: side.into(),
                    kind: kind.into(),
                    count: n,
                },
            ));
        }
        events.push((28_000, side_done("source", 10)));
        events.push((28_100, side_done("destination", 3)));
        events.push((
            30_000,
            Event::RunStarted {
                run: 3,
                resumed: false,
                work: 5,
                services: BTreeMap::from([("ec2".into(), 4), ("s3".into(), 2)]),
                source: "111111111111/us-east-1".into(),
                destination: "222222222222/eu-west-1".into(),
            },
        ));
        for (ms, n) in [
            (30_000, "vpc/vpc-1"),
            (30_000, "s3_bucket/logs"),
            (30_000, "vpc/vpc-2"),
        ] {
            events.push((ms, Event::Started { node: node(n) }));
        }
        events.push((31_000, finished("vpc/vpc-1", "vpc-9", Outcome::Created)));
        events.push((
            31_000,
            Event::Started {
                node: node("subnet/subnet-1"),
            },
        ));
        events.push((
            32_000,
            finished("s3_bucket/logs", "logs-a1b2c3", Outcome::Created),
        ));
        events.push((
            32_000,
            Event::Started {
                node: node("s3_bucket/logs#contents"),
            },
        ));
        events.push((32_500, copy(0, false)));
        events.push((33_000, copy(400, false)));
        events.push((34_000, copy(1_000, false)));
        events.push((
            41_000,
            Event::Failed {
                node: node("vpc/vpc-2"),
                error: "VpcLimitExceeded: too many VPCs".into(),
            },
        ));
        events.push((
            41_000,
            Event::Stranded {
                node: node("subnet/subnet-2"),
                because: node("vpc/vpc-2"),
            },
        ));
        events.push((42_000, copy(2_000, false)));
        events.push((
            42_500,
            finished("subnet/subnet-1", "subnet-9", Outcome::Created),
        ));
        events.push((52_000, copy(4_000, true)));
        events.push((
            52_000,
            Event::Finished {
                node: node("s3_bucket/logs#contents"),
                done: Outcome::Updated,
                dest_id: "logs-a1b2c3".into(),
                changes: vec!["copied 4,000 objects (39.1 MiB)".into()],
            },
        ));
        events.push((
            52_000,
            Event::RunEnded {
                run: 3,
                state: "failed".into(),
                summary: None,
                errors: vec![],
            },
        ));
        let mut out = String::new();
        for (ms, e) in &events {
            for l in t.event(e, at(*ms)) {
                let (Line::Log(text) | Line::Status(text)) = l;
                out.push_str(&text);
                out.push('\n');
            }
        }
        let expected = "\
listing        source: 3/4 kinds, 9 resources
listing        destination: 2/4 kinds, 2 resources
discovered source 111111111111/us-east-1: 10 resources of 4 kinds
discovered destination 222222222222/eu-west-1: 3 resources of 4 kinds
run 3 started: 6 step(s) (ec2 4, s3 2)
created        vpc/vpc-1 -> vpc-9
created        s3_bucket/logs -> logs-a1b2c3
copying        s3_bucket/logs: 0/4,000+ objects, 0 B/39.1 MiB+ (1,000 already up to date)
FAILED         vpc/vpc-2: VpcLimitExceeded: too many VPCs
progress       ec2: 1/4 done, 1 running, 1 failed, 0.2/s, ETA 11s
not run        subnet/subnet-2 (needs vpc/vpc-2, which failed)
copying        s3_bucket/logs: 2,000/4,000 objects, 19.5 MiB/39.1 MiB (1,000 already up to date), 211 objects/s, 2.1 MiB/s, ETA 9s
created        subnet/subnet-1 -> subnet-9
done           ec2: 2/4, 1 failed, 1 not run in 12s
copied         s3_bucket/logs: 4,000/4,000 objects, 39.1 MiB/39.1 MiB (1,000 already up to date), 205 objects/s, 2.0 MiB/s in 19s
updated        s3_bucket/logs#contents -> logs-a1b2c3
               - copied 4,000 objects (39.1 MiB)
done           s3: 2/2 in 22s
";
        assert_eq!(out, expected);
    }

    fn side_done(side: &str, resources: usize) -> Event {
        let account = if side == "source" {
            "111111111111/us-east-1"
        } else {
            "222222222222/eu-west-1"
        };
        let (account, region) = account.split_once('/').unwrap();
        Event::SideDiscovered {
            side: side.into(),
            account: account.into(),
            region: region.into(),
            resources,
            kinds: 4,
        }
    }

    fn finished(node: &str, dest: &str, done: Outcome) -> Event {
        Event::Finished {
            node: node.into(),
            done,
            dest_id: dest.into(),
            changes: vec![],
        }
    }
}
