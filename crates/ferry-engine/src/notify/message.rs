//! What a notification says: a one-line subject (an SNS subject, a chat
//! line) and a JSON body, made from the run events. Pure, so the wording is
//! tested without a network.

use crate::event::Event;
use serde_json::{json, Map, Value};

/// How many errors a message carries at most.
pub const MAX_ERRORS: usize = 5;

/// One message to deliver to every target.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub subject: String,
    pub body: Value,
}

/// What the messages of a command say about where it runs: `account/region`
/// of each side.
#[derive(Debug, Clone, Default)]
pub struct Route {
    pub source: String,
    pub destination: String,
}

/// Turns run events into messages, remembering when each run started.
#[derive(Debug, Default)]
pub struct Composer {
    /// Set by [`Event::RunStarted`]; for a rollback, by the caller.
    pub route: Route,
    /// (run, started_at) of the apply or rollback in progress.
    started: Option<(i64, String)>,
}

impl Composer {
    pub fn new(route: Route) -> Composer {
        Composer {
            route,
            started: None,
        }
    }

    /// The message for `e`, if it is one people are told about; `now` is
    /// the RFC 3339 time it is composed at.
    pub fn compose(&mut self, e: &Event, now: &str) -> Option<Message> {
        match e {
            Event::RunStarted {
                run,
                resumed,
                work,
                services,
                source,
                destination,
            } => {
                self.route = Route {
                    source: source.clone(),
                    destination: destination.clone(),
                };
                self.started = Some((*run, now.to_string()));
                let verb = if *resumed { "resumed" } else { "started" };
                let subject = format!("ferry run {run} {verb}: {work} change(s) to make");
                Some(self.message(
                    subject,
                    json!({
                        "event": "run_started",
                        "operation": "apply",
                        "run": run,
                        "state": "running",
                        "resumed": resumed,
                        "counts": {"work": work, "services": services},
                        "errors": [],
                    }),
                    now,
                    None,
                ))
            }
            Event::RunEnded {
                run,
                state,
                summary,
                errors,
            } => {
                let counts = summary.as_ref().map(counts_of).unwrap_or_default();
                let n = |k: &str| counts.get(k).and_then(Value::as_u64).unwrap_or(0);
                // What was made and what went wrong; adoptions (AWS defaults,
                // mostly) and the rest are in the body, so the subject fits
                // SNS's 100 characters with the route.
                let mut said = vec![];
                if !counts.is_empty() {
                    said.push(format!("{} created", n("created")));
                    said.push(format!("{} failed", n("failed")));
                    if n("stranded") > 0 {
                        said.push(format!("{} not run", n("stranded")));
                    }
                }
                let subject = if said.is_empty() {
                    format!("ferry run {run} {state}")
                } else {
                    format!("ferry run {run} {state}: {}", said.join(", "))
                };
                let started = self.take_start(*run);
                Some(self.message(
                    subject,
                    json!({
                        "event": "run_ended",
                        "operation": "apply",
                        "run": run,
                        "state": state,
                        "counts": counts,
                        "errors": first(errors),
                    }),
                    now,
                    Some(started),
                ))
            }
            Event::RollbackStarted { run, steps } => {
                self.started = Some((*run, now.to_string()));
                Some(self.message(
                    format!("ferry run {run} rollback started: {steps} step(s)"),
                    json!({
                        "event": "rollback_started",
                        "operation": "rollback",
                        "run": run,
                        "state": "rolling_back",
                        "counts": {"steps": steps},
                        "errors": [],
                    }),
                    now,
                    None,
                ))
            }
            Event::RollbackEnded {
                run,
                state,
                deleted,
                restored,
                errors,
            } => {
                let verb = if errors.is_empty() {
                    "rolled back"
                } else {
                    "rollback failed"
                };
                let mut subject =
                    format!("ferry run {run} {verb}: {deleted} deleted, {restored} restored");
                if !errors.is_empty() {
                    subject.push_str(&format!(", {} error(s)", errors.len()));
                }
                let started = self.take_start(*run);
                Some(self.message(
                    subject,
                    json!({
                        "event": "rollback_ended",
                        "operation": "rollback",
                        "run": run,
                        "state": state,
                        "counts": {"deleted": deleted, "restored": restored},
                        "errors": first(errors),
                    }),
                    now,
                    Some(started),
                ))
            }
            _ => None,
        }
    }

    fn take_start(&mut self, run: i64) -> Option<String> {
        match self.started.take() {
            Some((r, at)) if r == run => Some(at),
            _ => None,
        }
    }

    /// Adds the route to the subject and the common fields to the body:
    /// `ended` is `None` for a start, `Some(started_at)` for an end.
    fn message(
        &self,
        subject: String,
        mut body: Value,
        now: &str,
        ended: Option<Option<String>>,
    ) -> Message {
        let subject = format!(
            "{subject} ({} -> {})",
            self.route.source, self.route.destination
        );
        let b = body.as_object_mut().expect("an object");
        b.insert("source".into(), json!(self.route.source));
        b.insert("destination".into(), json!(self.route.destination));
        match ended {
            None => {
                b.insert("started_at".into(), json!(now));
            }
            Some(started) => {
                b.insert("started_at".into(), json!(started));
                b.insert("ended_at".into(), json!(now));
            }
        }
        b.insert("subject".into(), json!(subject));
        // Chat webhooks (Slack, Mattermost, Teams workflows) show `text`.
        let mut text = subject.clone();
        for e in b["errors"].as_array().into_iter().flatten() {
            text.push_str(&format!("\n- {}", e.as_str().unwrap_or_default()));
        }
        b.insert("text".into(), json!(text));
        Message { subject, body }
    }
}

/// The counts of an apply summary (errors and call counts are not counts
/// people read in a message).
fn counts_of(summary: &Value) -> Map<String, Value> {
    summary
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| !matches!(k.as_str(), "errors" | "api_calls"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

fn first(errors: &[String]) -> Vec<String> {
    errors.iter().take(MAX_ERRORS).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    const SRC: &str = "111111111111/us-east-1";
    const DST: &str = "222222222222/eu-west-1";

    fn started(run: i64) -> Event {
        Event::RunStarted {
            run,
            resumed: false,
            work: 14,
            services: BTreeMap::from([("ec2".into(), 12), ("s3".into(), 2)]),
            source: SRC.into(),
            destination: DST.into(),
        }
    }

    #[test]
    fn a_run_gets_a_start_and_an_end_message() {
        let mut c = Composer::default();
        let m = c.compose(&started(3), "2024-05-01T10:00:00Z").unwrap();
        assert_eq!(
            m.subject,
            "ferry run 3 started: 14 change(s) to make (111111111111/us-east-1 -> 222222222222/eu-west-1)"
        );
        assert_eq!(m.body["event"], "run_started");
        assert_eq!(m.body["state"], "running");
        assert_eq!(m.body["counts"]["services"]["ec2"], 12);
        assert_eq!(m.body["source"], SRC);
        assert_eq!(m.body["destination"], DST);
        assert_eq!(m.body["started_at"], "2024-05-01T10:00:00Z");
        assert_eq!(m.body["text"], m.subject);

        let end = Event::RunEnded {
            run: 3,
            state: "succeeded".into(),
            summary: Some(
                json!({"created": 12, "adopted": 2, "converged": 0, "changes": 30,
                "failed": 0, "stranded": 0, "errors": [], "api_calls": [10, 20]}),
            ),
            errors: vec![],
        };
        let m = c.compose(&end, "2024-05-01T10:02:00Z").unwrap();
        assert_eq!(
            m.subject,
            "ferry run 3 succeeded: 12 created, 0 failed (111111111111/us-east-1 -> 222222222222/eu-west-1)"
        );
        assert!(m.subject.len() <= ferry_aws::sns::MAX_SUBJECT);
        assert_eq!(m.body["counts"]["adopted"], 2);
        assert_eq!(m.body["counts"]["created"], 12);
        assert_eq!(m.body["counts"]["changes"], 30);
        assert!(m.body["counts"].get("api_calls").is_none());
        assert_eq!(m.body["started_at"], "2024-05-01T10:00:00Z");
        assert_eq!(m.body["ended_at"], "2024-05-01T10:02:00Z");
        assert_eq!(m.body["run"], 3);
    }

    #[test]
    fn a_failed_run_says_what_failed_first() {
        let mut c = Composer::default();
        c.compose(&started(4), "t0");
        let errors: Vec<String> = (0..8).map(|i| format!("vpc/vpc-{i}: boom")).collect();
        let m = c
            .compose(
                &Event::RunEnded {
                    run: 4,
                    state: "failed".into(),
                    summary: Some(json!({"created": 5, "adopted": 0, "converged": 1,
                        "failed": 2, "stranded": 3, "errors": errors})),
                    errors: errors.clone(),
                },
                "t1",
            )
            .unwrap();
        assert!(
            m.subject
                .starts_with("ferry run 4 failed: 5 created, 2 failed, 3 not run ("),
            "{}",
            m.subject
        );
        assert_eq!(m.body["errors"].as_array().unwrap().len(), MAX_ERRORS);
        assert!(m.body["text"]
            .as_str()
            .unwrap()
            .ends_with("\n- vpc/vpc-4: boom"));
        // A run that could not execute at all has no counts.
        let m = c
            .compose(
                &Event::RunEnded {
                    run: 5,
                    state: "failed".into(),
                    summary: None,
                    errors: vec!["the plan cannot be ordered".into()],
                },
                "t2",
            )
            .unwrap();
        assert!(
            m.subject.starts_with("ferry run 5 failed ("),
            "{}",
            m.subject
        );
        assert_eq!(m.body["started_at"], Value::Null, "no start seen for run 5");
    }

    #[test]
    fn rollbacks_are_told_too() {
        let mut c = Composer::new(Route {
            source: SRC.into(),
            destination: DST.into(),
        });
        let m = c
            .compose(&Event::RollbackStarted { run: 2, steps: 9 }, "t0")
            .unwrap();
        assert_eq!(
            m.subject,
            "ferry run 2 rollback started: 9 step(s) (111111111111/us-east-1 -> 222222222222/eu-west-1)"
        );
        let m = c
            .compose(
                &Event::RollbackEnded {
                    run: 2,
                    state: "rollback_failed".into(),
                    deleted: 7,
                    restored: 1,
                    errors: vec!["subnet/subnet-1 (subnet-9): DependencyViolation".into()],
                },
                "t1",
            )
            .unwrap();
        assert!(m
            .subject
            .starts_with("ferry run 2 rollback failed: 7 deleted, 1 restored, 1 error(s) ("));
        assert_eq!(m.body["state"], "rollback_failed");
        assert_eq!(m.body["counts"]["deleted"], 7);
        assert_eq!(m.body["started_at"], "t0");
    }

    #[test]
    fn other_events_are_not_messages() {
        let mut c = Composer::default();
        for e in [
            Event::Started {
                node: "vpc/vpc-1".into(),
            },
            Event::Message { text: "x".into() },
        ] {
            assert_eq!(c.compose(&e, "t"), None);
        }
    }
}
