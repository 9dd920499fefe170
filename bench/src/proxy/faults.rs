//! The fault stage: seeded failures at given rates.
//!
//! Kinds, and what the upstream saw of the request:
//!
//! | kind | client sees | upstream ran it |
//! | --- | --- | --- |
//! | `throttle` | the service's throttling error (errors.rs) | no |
//! | `internal_error` | 500 InternalError | no |
//! | `drop` | the connection closed, no response | no |
//! | `reset` | the connection closed, no response | yes (the response is lost) |
//! | `cut` | the response head and half its body, then the connection closed | yes |
//!
//! `reset` and `cut` are the hard cases for a client: the call took effect
//! and the client cannot know it, so its retry must not make a second
//! resource. A response without a body to cut (HEAD, empty) is reset instead.
//!
//! Determinism: the n-th call of an API (`service:Operation`) draws
//! `uniform(seed, API, n)`, a pure function, so the same client making the
//! same calls meets the same faults at the same calls, whatever the
//! interleaving of other APIs' calls. One draw picks at most one kind: the
//! rates are slices of [0, 1) in the table's order.

use std::collections::HashMap;
use std::sync::Mutex;

use futures::future::BoxFuture;
use hyper::body::Bytes;
use hyper::header::{HeaderValue, CONTENT_LENGTH};
use hyper::{Body, Method, Response};

use super::{errors, Exchange, Injected, Origin, Stage, Verdict};

/// Rates in [0, 1], one per kind; their sum at most 1.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FaultRates {
    pub throttle: f64,
    pub internal_error: f64,
    pub drop: f64,
    pub reset: f64,
    pub cut: f64,
}

impl FaultRates {
    fn slices(&self) -> [(Injected, f64); 5] {
        [
            (Injected::Throttle, self.throttle),
            (Injected::InternalError, self.internal_error),
            (Injected::Drop, self.drop),
            (Injected::Reset, self.reset),
            (Injected::Cut, self.cut),
        ]
    }

    pub fn check(&self) -> Result<(), String> {
        for (kind, rate) in self.slices() {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!(
                    "the {} rate {rate} is not within 0..1",
                    kind.label()
                ));
            }
        }
        let total: f64 = self.slices().iter().map(|(_, r)| r).sum();
        if total > 1.0 + 1e-9 {
            return Err(format!("the fault rates add up to {total}, more than 1"));
        }
        Ok(())
    }

    pub fn is_zero(&self) -> bool {
        self.slices().iter().all(|(_, r)| *r == 0.0)
    }

    /// The kind a draw in [0, 1) falls on, if any.
    pub fn pick(&self, draw: f64) -> Option<Injected> {
        let mut edge = 0.0;
        for (kind, rate) in self.slices() {
            edge += rate;
            if draw < edge {
                return Some(kind);
            }
        }
        None
    }
}

/// FNV-1a: a hash that stays the same across Rust releases and platforms
/// (std's hasher promises neither), so a seed replays on any build.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// SplitMix64's finaliser: spreads close inputs over the whole range.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The draw of the `n`-th call of `api` under `seed`, in [0, 1).
pub fn uniform(seed: u64, api: &str, n: u64) -> f64 {
    let bits = mix(mix(seed ^ fnv1a(api)) ^ n);
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

pub struct Faults {
    rates: FaultRates,
    seed: u64,
    /// Calls seen per API, for the draws.
    calls: Mutex<HashMap<String, u64>>,
    /// Resets and cuts decided before forwarding, applied to the response.
    pending: Mutex<HashMap<u64, Injected>>,
}

impl Faults {
    pub fn new(rates: FaultRates, seed: u64) -> Faults {
        Faults {
            rates,
            seed,
            calls: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
        }
    }

    /// The fault (if any) for the next call of this exchange's API.
    pub fn decide(&self, exchange: &Exchange) -> Option<Injected> {
        let key = exchange.api.key();
        let n = {
            let mut calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
            let count = calls.entry(key.clone()).or_insert(0);
            *count += 1;
            *count
        };
        self.rates.pick(uniform(self.seed, &key, n))
    }
}

impl Stage for Faults {
    fn name(&self) -> &'static str {
        "fault"
    }

    fn before<'a>(&'a self, exchange: &'a Exchange) -> BoxFuture<'a, Verdict> {
        let verdict = match (!exchange.is_control())
            .then(|| self.decide(exchange))
            .flatten()
        {
            None => Verdict::Forward,
            Some(Injected::Throttle) => Verdict::Answer(marked(
                errors::throttled(&exchange.api, exchange.id),
                Injected::Throttle,
            )),
            Some(Injected::InternalError) => Verdict::Answer(marked(
                errors::internal_error(&exchange.api, exchange.id),
                Injected::InternalError,
            )),
            Some(Injected::Drop) => {
                Verdict::Answer(marked(Response::new(Body::empty()), Injected::Drop))
            }
            Some(later @ (Injected::Reset | Injected::Cut)) => {
                self.pending
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(exchange.id, later);
                Verdict::Forward
            }
        };
        Box::pin(async move { verdict })
    }

    fn after(
        &self,
        exchange: &Exchange,
        origin: Origin,
        response: Response<Body>,
    ) -> Response<Body> {
        let pending = self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&exchange.id);
        match (pending, origin) {
            (Some(Injected::Reset), Origin::Upstream) => marked(response, Injected::Reset),
            (Some(Injected::Cut), Origin::Upstream) => cut(&exchange.method, response),
            _ => response,
        }
    }
}

fn marked(mut response: Response<Body>, injected: Injected) -> Response<Body> {
    response.extensions_mut().insert(injected);
    response
}

/// The response with its full Content-Length but only the first half of its
/// body, then a body error, which makes the server close the connection
/// mid-body. The body is read whole first, to know its length.
fn cut(method: &Method, response: Response<Body>) -> Response<Body> {
    let declared = response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if *method == Method::HEAD || declared == Some(0) {
        return marked(response, Injected::Reset);
    }
    let (mut parts, body) = response.into_parts();
    parts.headers.remove(CONTENT_LENGTH);
    let stream = futures::stream::once(async move {
        hyper::body::to_bytes(body)
            .await
            .map_err(|e| std::io::Error::other(format!("reading the upstream body: {e}")))
    });
    let halves = futures::StreamExt::flat_map(stream, |whole| {
        let items: Vec<Result<Bytes, std::io::Error>> = match whole {
            Ok(bytes) => vec![
                Ok(bytes.slice(..bytes.len() / 2)),
                Err(std::io::Error::other(
                    "ferry-proxy: response cut (injected fault)",
                )),
            ],
            Err(e) => vec![Err(e)],
        };
        futures::stream::iter(items)
    });
    if let Some(length) = declared {
        parts
            .headers
            .insert(CONTENT_LENGTH, HeaderValue::from(length));
    }
    let mut response = Response::from_parts(parts, Body::wrap_stream(halves));
    response.extensions_mut().insert(Injected::Cut);
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::classify::{Api, Protocol};

    fn call(operation: &str) -> Exchange {
        let mut e = Exchange::bare(Method::POST, "/");
        e.api = Api {
            service: "ec2".into(),
            operation: operation.into(),
            class: "ec2.mutating".into(),
            bucket: None,
            protocol: Protocol::Ec2,
        };
        e
    }

    fn sequence(faults: &Faults, operation: &str, n: usize) -> Vec<Option<Injected>> {
        (0..n).map(|_| faults.decide(&call(operation))).collect()
    }

    const RATES: FaultRates = FaultRates {
        throttle: 0.1,
        internal_error: 0.02,
        drop: 0.0,
        reset: 0.05,
        cut: 0.03,
    };

    #[test]
    fn a_seed_replays_the_same_faults_per_api_whatever_the_interleaving() {
        let first = Faults::new(RATES, 42);
        let a = sequence(&first, "CreateVpc", 500);
        let b = sequence(&first, "CreateSubnet", 500);
        // Another run interleaves the two APIs differently: same faults per API.
        let second = Faults::new(RATES, 42);
        let mut a2 = Vec::new();
        let mut b2 = Vec::new();
        for i in 0..500 {
            b2.push(second.decide(&call("CreateSubnet")));
            if i % 2 == 0 {
                b2.push(second.decide(&call("CreateSubnet")));
            }
            a2.push(second.decide(&call("CreateVpc")));
        }
        b2.truncate(500);
        assert_eq!((a, b), (a2, b2.clone()));
        let other_seed = sequence(&Faults::new(RATES, 43), "CreateSubnet", 500);
        assert_ne!(b2, other_seed, "another seed, other faults");
    }

    #[test]
    fn faults_come_at_their_rates() {
        let faults = Faults::new(RATES, 7);
        let drawn = sequence(&faults, "DescribeVpcs", 20_000);
        let share = |kind| drawn.iter().filter(|d| **d == Some(kind)).count() as f64 / 20_000.0;
        assert!(
            (share(Injected::Throttle) - 0.10).abs() < 0.01,
            "{}",
            share(Injected::Throttle)
        );
        assert!((share(Injected::InternalError) - 0.02).abs() < 0.005);
        assert!((share(Injected::Reset) - 0.05).abs() < 0.006);
        assert!((share(Injected::Cut) - 0.03).abs() < 0.005);
        assert_eq!(share(Injected::Drop), 0.0);
        assert!(sequence(&Faults::new(FaultRates::default(), 7), "X", 1000)
            .iter()
            .all(Option::is_none));
    }

    #[test]
    fn rates_are_checked() {
        assert!(RATES.check().is_ok());
        assert!(FaultRates {
            reset: 1.5,
            ..Default::default()
        }
        .check()
        .is_err());
        assert!(FaultRates {
            reset: 0.6,
            cut: 0.6,
            ..Default::default()
        }
        .check()
        .is_err());
        assert!(FaultRates {
            throttle: -0.1,
            ..Default::default()
        }
        .check()
        .is_err());
        assert_eq!(RATES.pick(0.05), Some(Injected::Throttle));
        assert_eq!(RATES.pick(0.11), Some(Injected::InternalError));
        assert_eq!(RATES.pick(0.15), Some(Injected::Reset));
        assert_eq!(RATES.pick(0.19), Some(Injected::Cut));
        assert_eq!(RATES.pick(0.2), None);
    }

    #[tokio::test]
    async fn a_cut_response_keeps_its_length_and_loses_half_its_body() {
        let mut upstream = Response::new(Body::from("0123456789"));
        upstream
            .headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from(10u64));
        let response = cut(&Method::GET, upstream);
        assert_eq!(response.headers()[CONTENT_LENGTH], "10");
        assert_eq!(
            response.extensions().get::<Injected>(),
            Some(&Injected::Cut)
        );
        let mut body = response.into_body();
        let first = hyper::body::HttpBody::data(&mut body)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&first[..], b"01234");
        assert!(hyper::body::HttpBody::data(&mut body)
            .await
            .unwrap()
            .is_err());

        let head = cut(&Method::HEAD, Response::new(Body::empty()));
        assert_eq!(head.extensions().get::<Injected>(), Some(&Injected::Reset));
    }
}
