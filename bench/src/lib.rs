//! ferry's benchmark and reliability tooling (bench/): not part of ferry.
//!
//! - [`proxy`]: the HTTP/1.1 reverse proxy that sits between a client (ferry,
//!   rclone, the AWS CLI) and the emulator, as a pipeline of stages (latency
//!   and a request log today; throttling and fault injection are meant to be
//!   added as further stages by the reliability issue).
//! - [`copy_source`] and [`s3_client`]: shared by the `s3-ceiling` and
//!   `s3-fill` binaries.
//!
//! The binaries live in src/bin/: `ferry-proxy`, `s3-ceiling` (the
//! emulator's own copy rate) and `s3-fill` (many small objects, fast).

pub mod proxy;

use aws_config::{BehaviorVersion, Region};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Characters left as they are in a copy source: RFC 3986's unreserved set and
/// `/`, which S3 reads as the bucket/key separator and keys use as a delimiter.
const COPY_SOURCE_KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// `bucket/key` percent-encoded for the `x-amz-copy-source` header. The SDK
/// sends the value as given, and S3 URL-decodes it, so a key with spaces,
/// `+`, `%` or non-ASCII characters must be encoded by the caller.
pub fn copy_source(bucket: &str, key: &str) -> String {
    format!("{bucket}/{}", utf8_percent_encode(key, COPY_SOURCE_KEEP))
}

/// An S3 client for the emulator (or any endpoint) with credentials from
/// the standard chain. Path-style, because the emulator does not resolve
/// virtual-hosted bucket names.
pub async fn s3_client(endpoint: &str, region: &str) -> aws_sdk_s3::Client {
    let shared = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .endpoint_url(endpoint)
        .load()
        .await;
    let config = aws_sdk_s3::config::Builder::from(&shared)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

#[cfg(test)]
mod tests {
    use super::copy_source;

    #[test]
    fn copy_source_encodes_what_s3_would_decode() {
        assert_eq!(copy_source("b", "dir/obj-1.txt"), "b/dir/obj-1.txt");
        assert_eq!(copy_source("b", "a b+c%d"), "b/a%20b%2Bc%25d");
        assert_eq!(copy_source("b", "été/ü"), "b/%C3%A9t%C3%A9/%C3%BC");
    }
}
