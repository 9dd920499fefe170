//! The engine's side of temporaries (AMI and snapshot shares, KMS grants,
//! scratch images and keys): recorded in the state database as adapters make
//! them, and swept at the end of every apply and by rollback, so none
//! outlives the run that made it (ARCHITECTURE.md invariant 6).

use crate::context::Context;
use crate::event::Event;
use ferry_aws::{CopyCx, ProgressSink, TempLog, Temporary, TransferProgress};
use ferry_state::{RunId, State};
use std::sync::Arc;

struct StateLog {
    state: Arc<State>,
    run: RunId,
}

impl TempLog for StateLog {
    fn opened(&self, side: &str, t: &Temporary) -> Result<i64, String> {
        let what = serde_json::to_value(t).map_err(|e| e.to_string())?;
        self.state
            .temporary_opened(self.run, side, &what)
            .map_err(|e| e.to_string())
    }

    fn closed(&self, id: i64) -> Result<(), String> {
        self.state.temporary_closed(id).map_err(|e| e.to_string())
    }
}

/// What data-carrying adapters get for `run`.
pub fn copy_cx(cx: &Context, run: RunId) -> CopyCx {
    CopyCx {
        source: cx.source.clone(),
        log: Arc::new(StateLog {
            state: cx.state.clone(),
            run,
        }),
        no_reboot: cx.config.compute.no_reboot,
        s3: cx.config.s3.clone(),
        s3_slots: cx.s3_slots.clone(),
        run,
        progress: cx.events.clone().map(|sink| {
            let sink: ProgressSink = Arc::new(move |p: TransferProgress| {
                let _ = sink.send(Event::Transfer(p));
            });
            sink
        }),
    }
}

/// Withdraws every temporary of `run` still open; returns one error line per
/// temporary that could not be withdrawn (it stays recorded for the next sweep).
pub async fn sweep(cx: &Context, run: RunId) -> Result<usize, Vec<String>> {
    let open = cx
        .state
        .temporaries_open(Some(run))
        .map_err(|e| vec![e.to_string()])?;
    let mut errors = vec![];
    let mut withdrawn = 0;
    for entry in open {
        let t: Temporary = match serde_json::from_value(entry.what.clone()) {
            Ok(t) => t,
            Err(e) => {
                errors.push(format!("temporary {} is unreadable: {e}", entry.id));
                continue;
            }
        };
        let side = if entry.side == cx.source.name {
            &cx.source
        } else {
            &cx.dest
        };
        match cx.registry.withdraw(side, &t).await {
            Ok(()) => {
                if let Err(e) = cx.state.temporary_closed(entry.id) {
                    errors.push(e.to_string());
                    continue;
                }
                withdrawn += 1;
                cx.emit(Event::Message {
                    text: format!("withdrew {} ({})", t.describe(), entry.side),
                });
            }
            Err(e) => errors.push(format!("could not withdraw {}: {e}", t.describe())),
        }
    }
    if errors.is_empty() {
        Ok(withdrawn)
    } else {
        Err(errors)
    }
}
