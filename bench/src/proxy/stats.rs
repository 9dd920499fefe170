//! The counting stage: requests, throttling and faults per API and per class.
//!
//! It runs first (beside the log), so it sees every response as the client
//! gets it, with the [`Injected`] mark of the stage that made it. The counts
//! are served as JSON at `GET /__proxy/stats` (`DELETE` zeroes them, so a
//! benchmark can count one phase alone) and printed when the proxy stops.
//!
//! ```json
//! {"total": {"requests": 120, "forwarded": 104, "throttled": 3, "faults": {"throttle": 11, ...}},
//!  "classes": {"ec2.mutating": {...}}, "apis": {"ec2:CreateVpc": {"class": "ec2.mutating", ...}}}
//! ```
//!
//! `throttled` counts refusals by the token buckets, `faults.throttle` random
//! throttling; `forwarded` counts requests the upstream served (resets and
//! cuts included: the upstream ran them); `errors` counts upstream answers
//! with a status of 400 or more.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use hyper::{Body, Response};
use serde_json::{json, Value};

use super::{Exchange, Injected, Origin, Stage};

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub requests: u64,
    pub forwarded: u64,
    pub throttled: u64,
    pub errors: u64,
    pub fault_throttle: u64,
    pub internal_error: u64,
    pub drop: u64,
    pub reset: u64,
    pub cut: u64,
}

impl Counts {
    fn add(&mut self, origin: Origin, injected: Option<Injected>, status: u16) {
        self.requests += 1;
        match (origin, injected) {
            (Origin::Stage("throttle"), _) => self.throttled += 1,
            (_, Some(Injected::Throttle)) => self.fault_throttle += 1,
            (_, Some(Injected::InternalError)) => self.internal_error += 1,
            (_, Some(Injected::Drop)) => self.drop += 1,
            (_, Some(Injected::Reset)) => self.reset += 1,
            (_, Some(Injected::Cut)) => self.cut += 1,
            _ => {}
        }
        if origin == Origin::Upstream {
            self.forwarded += 1;
            if status >= 400 && !matches!(injected, Some(Injected::Reset)) {
                self.errors += 1;
            }
        }
    }

    pub fn faults(&self) -> u64 {
        self.fault_throttle + self.internal_error + self.drop + self.reset + self.cut
    }

    fn json(&self) -> Value {
        json!({
            "requests": self.requests,
            "forwarded": self.forwarded,
            "throttled": self.throttled,
            "errors": self.errors,
            "faults": {
                "throttle": self.fault_throttle,
                "internal_error": self.internal_error,
                "drop": self.drop,
                "reset": self.reset,
                "cut": self.cut,
            },
        })
    }
}

#[derive(Default)]
struct Table {
    total: Counts,
    classes: BTreeMap<String, Counts>,
    /// API key -> (class, counts).
    apis: BTreeMap<String, (String, Counts)>,
}

/// Shared counters: the stage and the stats endpoint hold clones.
#[derive(Clone, Default)]
pub struct Stats {
    table: Arc<Mutex<Table>>,
}

impl Stats {
    pub fn new() -> Stats {
        Stats::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn record(
        &self,
        exchange: &Exchange,
        origin: Origin,
        injected: Option<Injected>,
        status: u16,
    ) {
        let api = &exchange.api;
        let mut table = self.lock();
        table.total.add(origin, injected, status);
        table
            .classes
            .entry(api.class.clone())
            .or_default()
            .add(origin, injected, status);
        table
            .apis
            .entry(api.key())
            .or_insert_with(|| (api.class.clone(), Counts::default()))
            .1
            .add(origin, injected, status);
    }

    pub fn total(&self) -> Counts {
        self.lock().total
    }

    pub fn reset(&self) {
        *self.lock() = Table::default();
    }

    pub fn json(&self) -> Value {
        let table = self.lock();
        let classes: serde_json::Map<String, Value> = table
            .classes
            .iter()
            .map(|(k, c)| (k.clone(), c.json()))
            .collect();
        let apis: serde_json::Map<String, Value> = table
            .apis
            .iter()
            .map(|(k, (class, c))| {
                let mut v = c.json();
                v["class"] = json!(class);
                (k.clone(), v)
            })
            .collect();
        json!({ "total": table.total.json(), "classes": classes, "apis": apis })
    }

    /// A table for humans, one line per class, for stderr at shutdown.
    pub fn summary(&self) -> String {
        let table = self.lock();
        let mut out = format!(
            "{:<36} {:>9} {:>9} {:>9} {:>7}\n",
            "class", "requests", "throttled", "faults", "errors"
        );
        let rows = table
            .classes
            .iter()
            .map(|(k, c)| (k.as_str(), c))
            .chain(std::iter::once(("total", &table.total)));
        for (name, c) in rows {
            out.push_str(&format!(
                "{:<36} {:>9} {:>9} {:>9} {:>7}\n",
                name,
                c.requests,
                c.throttled,
                c.faults(),
                c.errors
            ));
        }
        out
    }
}

impl Stage for Stats {
    fn name(&self) -> &'static str {
        "stats"
    }

    fn after(
        &self,
        exchange: &Exchange,
        origin: Origin,
        response: Response<Body>,
    ) -> Response<Body> {
        if !exchange.is_control() {
            let injected = response.extensions().get::<Injected>().copied();
            self.record(exchange, origin, injected, response.status().as_u16());
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::Method;

    #[test]
    fn counts_split_by_api_and_class() {
        let stats = Stats::new();
        let mut create = Exchange::bare(Method::PUT, "/bucket");
        create.api.operation = "CreateBucket".into();
        let get = Exchange::bare(Method::GET, "/bucket/key");
        stats.record(&create, Origin::Upstream, None, 200);
        stats.record(
            &create,
            Origin::Stage("throttle"),
            Some(Injected::Throttle),
            503,
        );
        stats.record(
            &create,
            Origin::Stage("fault"),
            Some(Injected::Throttle),
            503,
        );
        stats.record(&create, Origin::Upstream, Some(Injected::Reset), 200);
        stats.record(&get, Origin::Upstream, Some(Injected::Cut), 200);
        stats.record(&get, Origin::Upstream, None, 404);

        let v = stats.json();
        assert_eq!(v["total"]["requests"], 6);
        assert_eq!(v["total"]["forwarded"], 4);
        assert_eq!(v["total"]["errors"], 1);
        let bucket = &v["apis"]["s3:CreateBucket"];
        assert_eq!(bucket["class"], "s3.write");
        assert_eq!(
            (bucket["requests"].as_u64(), bucket["throttled"].as_u64()),
            (Some(4), Some(1))
        );
        assert_eq!(bucket["faults"]["throttle"], 1);
        assert_eq!(bucket["faults"]["reset"], 1);
        assert_eq!(v["classes"]["s3.read"]["faults"]["cut"], 1);
        assert_eq!(stats.total().faults(), 3);
        assert!(stats.summary().contains("s3.write"));
        stats.reset();
        assert_eq!(stats.total(), Counts::default());
    }
}
