//! What the engine reports while it works. Renderers (terminal, dashboard)
//! subscribe; the engine never prints.

use serde::Serialize;

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
        done: String,
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
}

pub type Sink = tokio::sync::mpsc::UnboundedSender<Event>;
