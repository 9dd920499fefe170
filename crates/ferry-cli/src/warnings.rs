//! Warnings ferry's libraries log with `tracing::warn!` / `error!` (a
//! temporary grant that could not be withdrawn, a route ferry does not know,
//! a Batch Operations job that could not be cancelled ...): printed on stderr
//! as `warning: ...` lines, through the progress display once there is one,
//! so live bars are not torn. Only ferry's own crates are heard: the SDK's
//! and HTTP stack's logs stay off (they can be noisy, and ferry never prints
//! what it did not write itself).

use ferry_engine::notify::Warn;
use std::fmt::{Debug, Write as _};
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// Where warnings go: stderr until [`route`] hands them to the progress
/// display.
type Route = Arc<Mutex<Option<Warn>>>;

static ROUTE: std::sync::OnceLock<Route> = std::sync::OnceLock::new();

/// Installs the process-wide subscriber (once; later calls do nothing).
pub fn install() {
    let route = ROUTE.get_or_init(Route::default).clone();
    let subscriber = tracing_subscriber::registry().with(Warnings { route });
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// Sends warnings through `warn` (the progress display's) from now on.
pub fn route(warn: Warn) {
    if let Some(r) = ROUTE.get() {
        *r.lock().unwrap() = Some(warn);
    }
}

struct Warnings {
    route: Route,
}

impl<S: Subscriber> Layer<S> for Warnings {
    fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
        *metadata.level() <= Level::WARN && metadata.target().starts_with("ferry")
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut text = Text::default();
        event.record(&mut text);
        let line = format!("warning: {}", text.finish());
        let route = self.route.lock().unwrap().clone();
        match route {
            Some(warn) => warn(line),
            None => eprintln!("{line}"),
        }
    }
}

/// An event's message, then its other fields as `name=value`.
#[derive(Default)]
struct Text {
    message: String,
    fields: Vec<String>,
}

impl Text {
    fn finish(self) -> String {
        if self.fields.is_empty() {
            self.message
        } else {
            format!("{} ({})", self.message, self.fields.join(", "))
        }
    }
}

impl Visit for Text {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.fields.push(format!("{}={value}", field.name()));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            self.fields.push(format!("{}={value:?}", field.name()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn captured(f: impl FnOnce()) -> Vec<String> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let warn: Warn = Arc::new(move |line: String| sink.lock().unwrap().push(line));
        let route: Route = Arc::new(Mutex::new(Some(warn)));
        let subscriber = tracing_subscriber::registry().with(Warnings { route });
        tracing::subscriber::with_default(subscriber, f);
        let lines = seen.lock().unwrap().clone();
        lines
    }

    #[test]
    fn ferry_warnings_are_printed_with_their_fields_and_nothing_else() {
        let lines = captured(|| {
            tracing::warn!(target: "ferry_aws::s3", "grant of bucket {} stays recorded", "b");
            tracing::error!(target: "ferry_engine", route = ?("0.0.0.0/0", 7), table = "rtb-1", "route skipped");
            tracing::info!(target: "ferry_aws", "not a warning");
            tracing::warn!(target: "aws_smithy_runtime", "the SDK's own");
        });
        assert_eq!(
            lines,
            vec![
                "warning: grant of bucket b stays recorded".to_string(),
                "warning: route skipped (route=(\"0.0.0.0/0\", 7), table=rtb-1)".to_string(),
            ]
        );
    }
}
