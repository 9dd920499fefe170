//! `s3-fill`: fills a bucket with many small objects, fast, for benchmarks.
//!
//!     s3-fill --endpoint http://127.0.0.1:PORT --bucket B --count 200000 \
//!             [--size 0] [--prefix obj/] [--start 0] [--concurrency 32]
//!
//! One PutObject per object (S3 has no bulk upload, and the emulator no
//! shortcut that would store objects the way PutObject does), `concurrency`
//! at a time, keys `{prefix}{i:07}` for i in start..start+count, bodies of
//! `size` bytes derived from the key (so ETags differ between objects).
//! Python clients spend more CPU per request than the emulator itself; this
//! one leaves the two cores to the emulator. Credentials come from the
//! environment (the bucket owner's). Prints one JSON line: `objects`,
//! `seconds`, `objects_per_s`; exits 1 if a put failed after the SDK's retries.

use std::time::Instant;

use aws_sdk_s3::primitives::ByteStream;
use clap::Parser;
use futures::stream::{self, StreamExt};

#[derive(Parser)]
#[command(version, about = "Put many small objects into a bucket")]
struct Args {
    #[arg(long)]
    endpoint: String,
    #[arg(long)]
    bucket: String,
    #[arg(long)]
    count: u64,
    /// Body size of each object in bytes.
    #[arg(long, default_value_t = 0)]
    size: usize,
    #[arg(long, default_value = "obj/")]
    prefix: String,
    /// First index (to add objects to a bucket filled before).
    #[arg(long, default_value_t = 0)]
    start: u64,
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    #[arg(long, default_value = "us-east-1")]
    region: String,
}

/// `size` bytes that differ from one key to the next: the key repeated.
fn body(key: &str, size: usize) -> Vec<u8> {
    key.bytes()
        .chain(std::iter::once(b'\n'))
        .cycle()
        .take(size)
        .collect()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(args.concurrency > 0, "--concurrency must be at least 1");
    let client = ferry_bench::s3_client(&args.endpoint, &args.region).await;

    let start = Instant::now();
    let failures: Vec<String> = stream::iter(args.start..args.start + args.count)
        .map(|i| {
            let key = format!("{}{i:07}", args.prefix);
            let request = client
                .put_object()
                .bucket(&args.bucket)
                .body(ByteStream::from(body(&key, args.size)))
                .content_type("text/plain")
                .key(&key);
            async move {
                request
                    .send()
                    .await
                    .err()
                    .map(|e| format!("{key}: {}", aws_sdk_s3::error::DisplayErrorContext(e)))
            }
        })
        .buffer_unordered(args.concurrency)
        .filter_map(|failure| async move { failure })
        .collect()
        .await;
    let seconds = start.elapsed().as_secs_f64();
    for failure in failures.iter().take(5) {
        eprintln!("s3-fill: PutObject {failure}");
    }
    let stored = args.count - failures.len() as u64;
    println!(
        "{}",
        serde_json::json!({"objects": stored, "seconds": seconds, "objects_per_s": stored as f64 / seconds})
    );
    if !failures.is_empty() {
        std::process::exit(1);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn bodies_have_the_size_asked_and_differ_by_key() {
        assert_eq!(super::body("obj/0000001", 0), b"");
        assert_eq!(super::body("k1", 7), b"k1\nk1\nk");
        assert_ne!(super::body("k1", 64), super::body("k2", 64));
    }
}
