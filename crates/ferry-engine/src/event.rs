//! What the engine reports while it works. Renderers (terminal, dashboard)
//! subscribe; the engine never prints.

use ferry_core::protocol::Outcome;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A kind was listed on one side.
    Discovered {
        side: String,
        kind: String,
        count: usize,
    },
    /// A side was fully listed.
    SideDiscovered {
        side: String,
        account: String,
        region: String,
        resources: usize,
        kinds: usize,
    },
    /// A node of the plan started.
    Started {
        node: String,
    },
    /// A node finished: what was done (created, adopted, converged...).
    Finished {
        node: String,
        done: Outcome,
        dest_id: String,
        changes: Vec<String>,
    },
    Failed {
        node: String,
        error: String,
    },
    /// Not run because something it needs failed.
    Stranded {
        node: String,
        because: String,
    },
    /// Rollback progress.
    Deleted {
        key: String,
        dest_id: String,
    },
    Restored {
        key: String,
        dest_id: String,
    },
    Message {
        text: String,
    },
    /// Progress of a bucket's object copy.
    Transfer(ferry_aws::TransferProgress),
    /// An apply run started (or resumed): `work` plan items execute.
    RunStarted {
        run: i64,
        resumed: bool,
        work: usize,
        /// Plan nodes (a resource, and its contents where it has any: what
        /// Started/Finished/Failed/Stranded report) per service, for
        /// progress per service.
        services: BTreeMap<String, usize>,
        /// `account/region` of each side.
        source: String,
        destination: String,
    },
    /// An apply run ended: its state (`succeeded`, `failed`), its summary
    /// (counts, when the executor finished) and its first errors.
    RunEnded {
        run: i64,
        state: String,
        summary: Option<serde_json::Value>,
        errors: Vec<String>,
    },
    /// A rollback of `run` started: `steps` deletions and restorations.
    RollbackStarted {
        run: i64,
        steps: usize,
    },
    /// A rollback ended: `rolled_back` or `rollback_failed`, with the
    /// steps left undone (or why it could not start).
    RollbackEnded {
        run: i64,
        state: String,
        deleted: usize,
        restored: usize,
        errors: Vec<String>,
    },
}

pub type Sink = tokio::sync::mpsc::UnboundedSender<Event>;

/// Sends every event to each of `sinks` (the terminal printer, notifications,
/// the dashboard...). The returned task ends once the returned sender and
/// every clone of it are dropped.
pub fn fan_out(sinks: Vec<Sink>) -> (Sink, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
    let task = tokio::spawn(async move {
        while let Some(e) = rx.recv().await {
            for s in &sinks {
                let _ = s.send(e.clone());
            }
        }
    });
    (tx, task)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fan_out_copies_every_event_to_every_sink_in_order() {
        let (a_tx, mut a) = tokio::sync::mpsc::unbounded_channel();
        let (b_tx, mut b) = tokio::sync::mpsc::unbounded_channel();
        let (tx, task) = fan_out(vec![a_tx, b_tx]);
        for i in 0..3 {
            tx.send(Event::Message {
                text: format!("m{i}"),
            })
            .unwrap();
        }
        drop(tx);
        task.await.unwrap();
        for rx in [&mut a, &mut b] {
            let mut seen = vec![];
            while let Some(Event::Message { text }) = rx.recv().await {
                seen.push(text);
            }
            assert_eq!(seen, ["m0", "m1", "m2"]);
        }
    }

    #[test]
    fn events_serialise_with_their_name() {
        let e = Event::RunEnded {
            run: 4,
            state: "succeeded".into(),
            summary: None,
            errors: vec![],
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["event"], "run_ended");
        assert_eq!(v["run"], 4);
    }
}
