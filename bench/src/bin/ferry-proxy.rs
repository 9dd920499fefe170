//! `ferry-proxy`: the bench proxy between a client and the emulator.
//!
//!     ferry-proxy --upstream http://127.0.0.1:PORT [--listen 127.0.0.1:0]
//!                 [--latency-ms 50] [--log requests.jsonl]
//!
//! Prints its own URL (`http://127.0.0.1:PORT`) as the first line of stdout,
//! then serves until killed (SIGTERM or Ctrl-C end it cleanly). Point clients
//! at that URL: they sign requests for the proxy's Host, which it forwards
//! unchanged. See bench/README.md.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use ferry_bench::proxy::{serve, Latency, Pipeline, Proxy, RequestLog};

#[derive(Parser)]
#[command(
    version,
    about = "HTTP/1.1 reverse proxy for benchmarks: adds latency, logs requests"
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
    /// Append one JSON line per request to this file.
    #[arg(long)]
    log: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // The log comes first so it sees the response the client finally gets.
    let mut pipeline = Pipeline::new();
    if let Some(path) = &args.log {
        let log = RequestLog::open(path)
            .with_context(|| format!("cannot open --log {}", path.display()))?;
        pipeline = pipeline.with(log);
    }
    if args.latency_ms > 0 {
        pipeline = pipeline.with(Latency::new(Duration::from_millis(args.latency_ms)));
    }
    let proxy = Proxy::new(&args.upstream, pipeline)?;
    let (addr, server) = serve(args.listen, proxy, stopped())?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "http://{addr}")?;
    stdout.flush()?;
    drop(stdout);
    server.await.context("serving")?;
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
