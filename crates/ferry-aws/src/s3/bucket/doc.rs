//! What the setting files whose configuration is a nested AWS document
//! (CORS, lifecycle, website, notifications) share: those documents are
//! read into serde mirrors with AWS's field names (as `aws s3api` prints
//! them), normalised (empty strings, `false` flags and empty lists left out,
//! unordered lists sorted), stored in the spec as JSON, and sent back
//! through the SDK types from the same mirrors, so what converge writes
//! reads back equal.

use crate::{Result, Side};
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use serde_json::Value;

/// A document built for the SDK, or why it cannot be.
pub type Built<T> = std::result::Result<T, String>;

/// A document of the spec in its mirror type.
pub fn parse<T: serde::de::DeserializeOwned>(v: &Value) -> Built<T> {
    serde_json::from_value(v.clone()).map_err(|e| e.to_string())
}

/// The SDK form of one document of the spec (`what` names it in errors).
pub fn sdk_one<D: serde::de::DeserializeOwned, T>(
    cx: &Side,
    what: &str,
    v: &Value,
    sdk: impl Fn(&D) -> Built<T>,
) -> Result<T> {
    parse::<D>(v)
        .and_then(|d| sdk(&d))
        .map_err(|e| cx.invalid(format!("{what}: {e}")))
}

/// The SDK form of a list of documents of the spec (CORS or lifecycle
/// rules; `what` names one in errors).
pub fn sdk_all<D: serde::de::DeserializeOwned, T>(
    cx: &Side,
    what: &str,
    list: &[Value],
    sdk: impl Fn(&D) -> Built<T>,
) -> Result<Vec<T>> {
    list.iter().map(|v| sdk_one(cx, what, v, &sdk)).collect()
}

/// A mirror as the spec stores it.
pub fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("documents serialise")
}

/// A list without its empty strings.
pub fn list(l: &[String]) -> Vec<String> {
    l.iter().filter(|s| !s.is_empty()).cloned().collect()
}

pub fn date(d: Option<&DateTime>) -> Option<String> {
    d.and_then(|d| d.fmt(Format::DateTime).ok())
}

pub fn sdk_date(s: &Option<String>) -> Built<Option<DateTime>> {
    s.as_deref()
        .map(|s| DateTime::from_str(s, Format::DateTime).map_err(|e| format!("date {s}: {e}")))
        .transpose()
}

pub fn built<T>(
    r: std::result::Result<T, aws_smithy_types::error::operation::BuildError>,
) -> Built<T> {
    r.map_err(|e| e.to_string())
}

/// For `skip_serializing_if`: a `false` flag is left out.
pub fn no(b: &bool) -> bool {
    !*b
}
