//! Notifications (`[notify]`): a message to an SNS topic and/or a webhook
//! when an apply or a rollback starts and ends, with its counts and first
//! errors. An event consumer like the terminal printer: it never holds up the
//! run (each target delivers from its own task, in order), a delivery that
//! fails is a warning, never an error, and [`Notifier::finish`] waits a
//! bounded time for what is still in flight before the command exits.

pub mod message;
pub mod webhook;

use crate::event::{Event, Sink};
use ferry_aws::sns::Topic;
use ferry_aws::Side;
use ferry_core::config::{redact_url, NotifyConfig};
use message::{Composer, Message, Route};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};

/// How a warning reaches the user (the terminal printer, so it does not
/// tear an animated progress display).
pub type Warn = Arc<dyn Fn(String) + Send + Sync>;

/// How long [`Notifier::finish`] waits, by default, for deliveries in flight.
pub const FLUSH_WITHIN: Duration = Duration::from_secs(5);

enum Target {
    Sns(Topic),
    Webhook(Box<webhook::Webhook>),
}

impl Target {
    /// How warnings name it: an ARN is no secret; a webhook shows only its host.
    fn label(&self, url: Option<&str>) -> String {
        match self {
            Target::Sns(t) => format!("SNS topic {}", t.arn),
            Target::Webhook(_) => format!("webhook {}", redact_url(url.unwrap_or_default())),
        }
    }

    async fn deliver(&self, m: &Message, sides: &OnceLock<(Side, Side)>) -> Result<(), String> {
        match self {
            Target::Webhook(w) => w.post(&m.body).await,
            Target::Sns(topic) => {
                let (source, dest) = sides.get().ok_or(
                    "no AWS session to publish with (the command ended before connecting)",
                )?;
                let side = publisher(topic, source, dest);
                let body = serde_json::to_string_pretty(&m.body).expect("message json");
                ferry_aws::sns::publish(side, topic, &m.subject, &body)
                    .await
                    .map(drop)
                    .map_err(|e| e.to_string())
            }
        }
    }
}

/// The side whose account the topic is in publishes (its credentials can
/// be allowed by the topic's own account); the destination otherwise, whose
/// role `ferry bootstrap` gives sns:Publish.
fn publisher<'a>(topic: &Topic, source: &'a Side, dest: &'a Side) -> &'a Side {
    if dest.info.account != topic.account && source.info.account == topic.account {
        source
    } else {
        dest
    }
}

pub struct Notifier {
    sink: Sink,
    sides: Arc<OnceLock<(Side, Side)>>,
    /// Messages not yet delivered, per target label.
    pending: Vec<(String, Arc<AtomicUsize>)>,
    task: JoinHandle<()>,
    warn: Warn,
}

impl Notifier {
    /// Starts the consumer; `None` when `[notify]` names no target.
    pub fn spawn(config: &NotifyConfig, warn: Warn) -> Option<Notifier> {
        let mut targets = vec![];
        if let Some(arn) = &config.sns_topic_arn {
            // The configuration checked the ARN already.
            if let Some(topic) = Topic::parse(arn) {
                let t = Target::Sns(topic);
                targets.push((t.label(None), t));
            }
        }
        if let Some(url) = &config.webhook_url {
            let t = Target::Webhook(Box::new(webhook::Webhook::new(url)));
            targets.push((t.label(Some(url)), t));
        }
        if targets.is_empty() {
            return None;
        }
        let sides: Arc<OnceLock<(Side, Side)>> = Arc::default();
        let mut queues = vec![];
        let mut pending = vec![];
        let mut workers = JoinSet::new();
        for (label, target) in targets {
            let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
            let count = Arc::new(AtomicUsize::new(0));
            queues.push((tx, count.clone()));
            pending.push((label.clone(), count.clone()));
            let (sides, warn) = (sides.clone(), warn.clone());
            workers.spawn(async move {
                while let Some(m) = rx.recv().await {
                    if let Err(e) = target.deliver(&m, &sides).await {
                        warn(format!(
                            "warning: {} not delivered to {label}: {e} (notifications never stop a run)",
                            what(&m)
                        ));
                    }
                    count.fetch_sub(1, Ordering::SeqCst);
                }
            });
        }
        let (sink, mut events) = mpsc::unbounded_channel::<Event>();
        let route_from = sides.clone();
        let task = tokio::spawn(async move {
            let mut composer = Composer::default();
            while let Some(e) = events.recv().await {
                if composer.route.source.is_empty() {
                    if let Some((s, d)) = route_from.get() {
                        composer.route = Route {
                            source: format!("{}/{}", s.info.account, s.info.region),
                            destination: format!("{}/{}", d.info.account, d.info.region),
                        };
                    }
                }
                if let Some(m) = composer.compose(&e, &crate::discover::now()) {
                    for (queue, count) in &queues {
                        count.fetch_add(1, Ordering::SeqCst);
                        let _ = queue.send(m.clone());
                    }
                }
            }
            drop(queues);
            while workers.join_next().await.is_some() {}
        });
        Some(Notifier {
            sink,
            sides,
            pending,
            task,
            warn,
        })
    }

    /// Where events go (one of the sinks given to [`crate::event::fan_out`]).
    pub fn sink(&self) -> Sink {
        self.sink.clone()
    }

    /// Gives the SNS target the sessions to publish with, once connected.
    pub fn attach(&self, source: &Side, dest: &Side) {
        let _ = self.sides.set((source.clone(), dest.clone()));
    }

    /// Waits up to `within` for the messages still in flight, once every
    /// sender of events is gone; what is left then is given up with a
    /// warning naming the targets.
    pub async fn finish(self, within: Duration) {
        let Notifier {
            sink,
            pending,
            mut task,
            warn,
            ..
        } = self;
        drop(sink);
        if tokio::time::timeout(within, &mut task).await.is_err() {
            task.abort();
            let late: Vec<&str> = pending
                .iter()
                .filter(|(_, n)| n.load(Ordering::SeqCst) > 0)
                .map(|(label, _)| label.as_str())
                .collect();
            warn(format!(
                "warning: notifications to {} not delivered within {}s; gave up on them",
                if late.is_empty() {
                    "their targets".to_string()
                } else {
                    late.join(" and ")
                },
                within.as_secs()
            ));
        }
    }
}

/// "the start message of run 3", for warnings.
fn what(m: &Message) -> String {
    let which = match m.body["event"].as_str().unwrap_or_default() {
        "run_started" => "start message",
        "run_ended" => "end message",
        "rollback_started" => "rollback start message",
        _ => "rollback end message",
    };
    format!("the {which} of run {}", m.body["run"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn collect() -> (Warn, Arc<Mutex<Vec<String>>>) {
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let s = seen.clone();
        (Arc::new(move |w| s.lock().unwrap().push(w)), seen)
    }

    #[test]
    fn nothing_to_notify_without_targets() {
        let (warn, _) = collect();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let _guard = rt.enter();
        assert!(Notifier::spawn(&NotifyConfig::default(), warn).is_none());
    }

    #[tokio::test]
    async fn an_unreachable_webhook_is_a_warning_without_its_token() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let (warn, seen) = collect();
        let config = NotifyConfig {
            sns_topic_arn: None,
            webhook_url: Some(format!("http://127.0.0.1:{port}/hook?token=secret-token")),
        };
        let n = Notifier::spawn(&config, warn).unwrap();
        n.sink()
            .send(Event::RollbackStarted { run: 7, steps: 1 })
            .unwrap();
        n.finish(FLUSH_WITHIN).await;
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert!(
            seen[0].starts_with(&format!(
                "warning: the rollback start message of run 7 not delivered to webhook http://127.0.0.1:{port}/…: "
            )),
            "{}",
            seen[0]
        );
        assert!(!seen[0].contains("secret-token"));
    }

    #[tokio::test]
    async fn finish_gives_up_after_the_bound() {
        // Accepts connections and never answers.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _hold = tokio::spawn(async move {
            let mut held = vec![];
            while let Ok((s, _)) = listener.accept().await {
                held.push(s);
            }
        });
        let (warn, seen) = collect();
        let config = NotifyConfig {
            sns_topic_arn: None,
            webhook_url: Some(format!("http://{addr}/slow")),
        };
        let n = Notifier::spawn(&config, warn).unwrap();
        n.sink()
            .send(Event::RollbackStarted { run: 1, steps: 1 })
            .unwrap();
        let t0 = std::time::Instant::now();
        n.finish(Duration::from_secs(1)).await;
        assert!(t0.elapsed() < Duration::from_secs(3));
        let seen = seen.lock().unwrap();
        assert_eq!(
            seen.as_slice(),
            [format!(
                "warning: notifications to webhook http://{addr}/… not delivered within 1s; gave up on them"
            )]
        );
    }
}
