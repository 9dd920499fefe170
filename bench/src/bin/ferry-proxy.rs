//! `ferry-proxy`: the bench proxy between a client and the emulator.
//!
//!     ferry-proxy --upstream http://127.0.0.1:PORT [--listen 127.0.0.1:0]
//!                 [--latency-ms 40] [--throttle aws|off|FILE]
//!                 [--throttle-rate 0.1] [--fault-500 0.01] [--drop 0.01]
//!                 [--reset 0.02] [--cut 0.01] [--seed N] [--log requests.jsonl]
//!
//! Prints its own URL (`http://127.0.0.1:PORT`) as the first line of stdout,
//! then serves until killed (SIGTERM or Ctrl-C end it cleanly, printing the
//! counters per class on stderr). Point clients at that URL: they sign
//! requests for the proxy's Host, which it forwards unchanged. The counters
//! are served as JSON at `GET /__proxy/stats`. See bench/README.md.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Parser;
use ferry_bench::proxy::throttle::Scope;
use ferry_bench::proxy::{
    serve, FaultRates, Faults, Latency, Limits, Pipeline, Proxy, RequestLog, Stats, Throttle,
};

#[derive(Parser)]
#[command(
    version,
    about = "HTTP/1.1 reverse proxy for benchmarks and fault tests: latency, AWS-like throttling, \
             seeded faults, a request log and counters per API",
    after_help = "Faults are drawn per API: the n-th call of an API (service:Operation) meets \
                  the fault that (seed, API, n) picks, so a seed replays. Rates are shares of \
                  calls in [0, 1] and add up to at most 1. drop, reset and cut close the \
                  connection without a (whole) response; reset and cut do so after the upstream \
                  ran the request, so a retry repeats a call that took effect.\n\n\
                  Counters: GET /__proxy/stats returns JSON (requests, forwarded, throttled, \
                  faults, errors; in total, per class, per API); DELETE /__proxy/stats zeroes them."
)]
struct Args {
    /// The emulator (or any plain-HTTP endpoint): http://HOST:PORT, no path.
    #[arg(long)]
    upstream: String,
    /// Address to listen on; port 0 picks a free port (printed on stdout).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Milliseconds added to every request before it is forwarded.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Token-bucket throttling: `aws` (AWS's published per-class limits, per
    /// account and region; S3 per bucket), `off`, or a TOML file overriding
    /// the aws limits (`scope = "class"|"action"` and a `[limits]` table of
    /// `"ec2.mutating" = { burst = 50, per_second = 5.0 }`).
    #[arg(long, default_value = "off", value_name = "aws|off|FILE")]
    throttle: String,
    /// One token bucket per class (default) or per API action of each class.
    #[arg(long, value_enum)]
    throttle_scope: Option<Scope>,
    /// Share of calls answered with the service's throttling error
    /// (RequestLimitExceeded, Throttling, SlowDown ...) at random.
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    throttle_rate: f64,
    /// Share of calls answered 500 InternalError (not forwarded).
    #[arg(long = "fault-500", default_value_t = 0.0, value_name = "RATE")]
    fault_500: f64,
    /// Share of calls whose connection is closed before forwarding.
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    drop: f64,
    /// Share of calls forwarded, then the connection closed without the response.
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    reset: f64,
    /// Share of calls forwarded, then the response cut after half its body.
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    cut: f64,
    /// Seed of the fault sequence.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Append one JSON line per request to this file.
    #[arg(long)]
    log: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let rates = FaultRates {
        throttle: args.throttle_rate,
        internal_error: args.fault_500,
        drop: args.drop,
        reset: args.reset,
        cut: args.cut,
    };
    if let Err(e) = rates.check() {
        bail!("{e}");
    }
    let mut limits = match args.throttle.as_str() {
        "off" => None,
        "aws" => Some(Limits::aws()),
        file => Some(Limits::load(file.as_ref())?),
    };
    if let Some(scope) = args.throttle_scope {
        match &mut limits {
            Some(limits) => limits.scope = scope,
            None => bail!("--throttle-scope needs --throttle aws or a file"),
        }
    }

    // The log and the counters come first so they see the response the
    // client finally gets; latency before throttling, as a throttled request
    // still costs its round trip.
    let stats = Stats::new();
    let mut pipeline = Pipeline::new();
    if let Some(path) = &args.log {
        let log = RequestLog::open(path)
            .with_context(|| format!("cannot open --log {}", path.display()))?;
        pipeline = pipeline.with(log);
    }
    pipeline = pipeline.with(stats.clone());
    if args.latency_ms > 0 {
        pipeline = pipeline.with(Latency::new(Duration::from_millis(args.latency_ms)));
    }
    if let Some(limits) = limits {
        pipeline = pipeline.with(Throttle::new(limits));
    }
    if !rates.is_zero() {
        pipeline = pipeline.with(Faults::new(rates, args.seed));
    }
    let proxy = Proxy::with_stats(&args.upstream, pipeline, stats.clone())?;
    let (addr, server) = serve(args.listen, proxy, stopped())?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "http://{addr}")?;
    stdout.flush()?;
    drop(stdout);
    server.await.context("serving")?;
    eprint!("{}", stats.summary());
    Ok(())
}

/// Resolves on SIGTERM or SIGINT, so `kill PID` ends the proxy cleanly.
async fn stopped() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
