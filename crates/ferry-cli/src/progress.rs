//! Renders engine events as plain, stable lines on stderr (stdout is kept
//! for the plan, reports and JSON).

use ferry_aws::TransferProgress;
use ferry_core::spec::s3::{human_bytes, thousands};
use ferry_engine::Event;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How often a bucket's copy progress is printed at most.
const TRANSFER_EVERY: Duration = Duration::from_secs(2);

pub fn spawn(
    enabled: bool,
) -> (
    Option<mpsc::UnboundedSender<Event>>,
    tokio::task::JoinHandle<()>,
) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    let handle = tokio::spawn(async move {
        let mut transfers = Transfers::default();
        while let Some(e) = rx.recv().await {
            if !enabled {
                continue;
            }
            let text = match &e {
                Event::Transfer(p) => transfers.line(p, Instant::now()),
                other => line(other),
            };
            if let Some(text) = text {
                eprintln!("{text}");
            }
        }
    });
    (Some(tx), handle)
}

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
        // The command prints the run's outcome itself.
        Event::RunStarted { .. } | Event::RunEnded { .. } => return None,
    })
}

/// Copy progress per bucket: when it started and when it was last printed.
#[derive(Default)]
struct Transfers {
    seen: HashMap<String, (Instant, Option<Instant>)>,
}

impl Transfers {
    /// A line for `p` if one is due: the first report, every
    /// [`TRANSFER_EVERY`], and the last.
    fn line(&mut self, p: &TransferProgress, now: Instant) -> Option<String> {
        let (start, last) = self.seen.entry(p.bucket.clone()).or_insert((now, None));
        if !p.finished && last.is_some_and(|l| now.duration_since(l) < TRANSFER_EVERY) {
            return None;
        }
        *last = Some(now);
        Some(transfer_line(p, now.duration_since(*start)))
    }
}

/// "copying s3_bucket/logs: 1,200/5,000 objects, 12.0 MiB/50.0 MiB, 350 objects/s, 3.5 MiB/s, ETA 11s".
pub fn transfer_line(p: &TransferProgress, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(0.001);
    let total = if p.listing_done { "" } else { "+" };
    let mut s = format!(
        "{:<14} {}: {}/{}{total} objects, {}/{}{total}",
        if p.finished { "copied" } else { "copying" },
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
