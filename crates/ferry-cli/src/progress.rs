//! Renders engine events as plain, stable lines on stderr (stdout is kept
//! for the plan, reports and JSON).

use ferry_engine::Event;
use tokio::sync::mpsc;

pub fn spawn(
    enabled: bool,
) -> (
    Option<mpsc::UnboundedSender<Event>>,
    tokio::task::JoinHandle<()>,
) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    let handle = tokio::spawn(async move {
        while let Some(e) = rx.recv().await {
            if enabled {
                if let Some(line) = line(&e) {
                    eprintln!("{line}");
                }
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
    })
}
