//! `s3-ceiling`: how fast the endpoint itself copies objects between buckets.
//!
//!     s3-ceiling --endpoint http://127.0.0.1:PORT --source-bucket SRC \
//!                --dest-bucket DST (--keys keys.txt | --list) [--concurrency 16] [--region us-east-1]
//!
//! With `--keys`, issues one CopyObject per key of the key file (one key per
//! line, as stored; keys containing a newline cannot be listed this way),
//! `concurrency` at a time, with nothing else: no listing, no HEAD, no
//! comparison. No copy tool can beat that on the same endpoint with the same
//! concurrency, so it is the denominator of the benchmark's ratios.
//!
//! With `--list`, it learns the keys as any copy tool must: it lists the
//! source (ListObjectsV2, 1,000 keys a page) and copies each key as soon as
//! its page arrives, still with nothing else. That is the most a tool that
//! lists the source once can do on this endpoint: on the emulator a listed
//! key costs a noticeable fraction of a copy. Credentials come from the
//! standard chain (the environment): those of the destination account, which
//! reads the source as a cross-account copy does.
//!
//! Prints one JSON line on stdout: `objects`, `errors`, `seconds` (from the
//! first request to the last answer) and `objects_per_s`. Exits 1 if any copy
//! failed after the SDK's retries.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use aws_sdk_s3::types::MetadataDirective;
use clap::Parser;
use futures::stream::{self, StreamExt};

#[derive(Parser)]
#[command(version, about = "Raw concurrent CopyObject rate of an S3 endpoint")]
struct Args {
    #[arg(long)]
    endpoint: String,
    #[arg(long)]
    source_bucket: String,
    #[arg(long)]
    dest_bucket: String,
    /// File with one object key per line.
    #[arg(long, required_unless_present = "list", conflicts_with = "list")]
    keys: Option<PathBuf>,
    /// List the source bucket for its keys, copying while listing.
    #[arg(long)]
    list: bool,
    /// Copy requests in flight.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    #[arg(long, default_value = "us-east-1")]
    region: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(args.concurrency > 0, "--concurrency must be at least 1");
    let client = ferry_bench::s3_client(&args.endpoint, &args.region).await;
    let start = Instant::now();
    let keys: futures::stream::BoxStream<'_, Result<String, String>> = match &args.keys {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read --keys {}", path.display()))?;
            let keys: Vec<Result<String, String>> = text
                .lines()
                .filter(|k| !k.is_empty())
                .map(|k| Ok(k.to_string()))
                .collect();
            stream::iter(keys).boxed()
        }
        None => stream::unfold(
            client
                .list_objects_v2()
                .bucket(&args.source_bucket)
                .into_paginator()
                .send(),
            |mut pages| async move { pages.next().await.map(|page| (page, pages)) },
        )
        .flat_map(|page| match page {
            Ok(page) => stream::iter(
                page.contents
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|o| o.key.map(Ok))
                    .collect::<Vec<_>>(),
            ),
            Err(e) => stream::iter(vec![Err(format!(
                "ListObjectsV2: {}",
                aws_sdk_s3::error::DisplayErrorContext(e)
            ))]),
        })
        .boxed(),
    };
    let results: Vec<Result<(), String>> = keys
        .map(|key| {
            let client = &client;
            let args = &args;
            async move {
                let key = key?;
                client
                    .copy_object()
                    .bucket(&args.dest_bucket)
                    .key(&key)
                    .copy_source(ferry_bench::copy_source(&args.source_bucket, &key))
                    .metadata_directive(MetadataDirective::Copy)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("{key}: {}", aws_sdk_s3::error::DisplayErrorContext(e)))
            }
        })
        .buffer_unordered(args.concurrency)
        .collect()
        .await;
    let seconds = start.elapsed().as_secs_f64();

    let errors: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    for error in errors.iter().take(5) {
        eprintln!("s3-ceiling: {error}");
    }
    let copied = results.len() - errors.len();
    println!(
        "{}",
        serde_json::json!({
            "objects": copied,
            "errors": errors.len(),
            "seconds": seconds,
            "objects_per_s": copied as f64 / seconds,
            "concurrency": args.concurrency,
        })
    );
    if !errors.is_empty() {
        std::process::exit(1);
    }
    Ok(())
}
