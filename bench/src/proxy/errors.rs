//! AWS error responses as each protocol writes them, so the SDK reads a
//! throttled or failed request exactly as it reads AWS's own: the same status,
//! error code and body shape, hence the same retry decision.
//!
//! - EC2 throttling: 503 `RequestLimitExceeded` in EC2's
//!   `<Response><Errors><Error>` document.
//! - Other query services (IAM, STS, ELB, Auto Scaling, CloudWatch): 400
//!   `Throttling` in an `<ErrorResponse>` document.
//! - JSON protocols (KMS, ACM): 400 `ThrottlingException` as `__type`.
//! - S3: 503 `SlowDown` in a bare `<Error>` document.
//! - Every protocol: 500 `InternalError` (S3, EC2: `InternalError`; query and
//!   JSON services: `InternalFailure`, AWS's common error).

use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Body, Response, StatusCode};

use super::classify::{Api, Protocol};

/// The throttling error the API's service returns.
pub fn throttled(api: &Api, id: u64) -> Response<Body> {
    let (slow_down, bad_request) = (StatusCode::SERVICE_UNAVAILABLE, StatusCode::BAD_REQUEST);
    let rate = "Rate exceeded";
    match api.protocol {
        Protocol::Ec2 => ec2(
            slow_down,
            "RequestLimitExceeded",
            "Request limit exceeded.",
            id,
        ),
        Protocol::Query => query(bad_request, "Sender", "Throttling", rate, id),
        Protocol::Json => json(bad_request, "ThrottlingException", rate, id),
        Protocol::S3 => s3(
            slow_down,
            "SlowDown",
            "Please reduce your request rate.",
            id,
        ),
    }
}

/// A 500 internal error in the API's protocol.
pub fn internal_error(api: &Api, request_id: u64) -> Response<Body> {
    let status = StatusCode::INTERNAL_SERVER_ERROR;
    let message = "We encountered an internal error. Please try again.";
    match api.protocol {
        Protocol::Ec2 => ec2(status, "InternalError", message, request_id),
        Protocol::Query => query(status, "Receiver", "InternalFailure", message, request_id),
        Protocol::Json => json(status, "InternalFailure", message, request_id),
        Protocol::S3 => s3(status, "InternalError", message, request_id),
    }
}

/// A request id in AWS's UUID shape, derived from the proxy's sequence
/// number so a log line and a client's error message can be matched.
fn request_id(id: u64) -> String {
    format!("00000000-0000-4000-8000-{id:012x}")
}

/// A response with its content type and, when `id_header` is given, the
/// request id in that header (each protocol names its own).
fn respond(
    status: StatusCode,
    content_type: &'static str,
    id_header: Option<(&'static str, u64)>,
    body: String,
) -> Response<Body> {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Some((name, id)) = id_header {
        let value = HeaderValue::from_str(&request_id(id)).expect("a request id is a header value");
        headers.insert(name, value);
    }
    response
}

fn ec2(status: StatusCode, code: &str, message: &str, id: u64) -> Response<Body> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code>\
         <Message>{message}</Message></Error></Errors><RequestID>{}</RequestID></Response>",
        request_id(id)
    );
    respond(status, "text/xml;charset=UTF-8", None, body)
}

fn query(status: StatusCode, kind: &str, code: &str, message: &str, id: u64) -> Response<Body> {
    let body = format!(
        "<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message>\
         </Error><RequestId>{}</RequestId></ErrorResponse>",
        request_id(id)
    );
    respond(status, "text/xml", Some(("x-amzn-requestid", id)), body)
}

fn json(status: StatusCode, code: &str, message: &str, id: u64) -> Response<Body> {
    let body = serde_json::json!({ "__type": code, "message": message }).to_string();
    let mut response = respond(
        status,
        "application/x-amz-json-1.1",
        Some(("x-amzn-requestid", id)),
        body,
    );
    response.headers_mut().insert(
        "x-amzn-errortype",
        HeaderValue::from_str(code).expect("an error code is a header value"),
    );
    response
}

fn s3(status: StatusCode, code: &str, message: &str, id: u64) -> Response<Body> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message>\
         <RequestId>{}</RequestId><HostId>ferry-proxy</HostId></Error>",
        request_id(id)
    );
    respond(
        status,
        "application/xml",
        Some(("x-amz-request-id", id)),
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(protocol: Protocol) -> Api {
        Api {
            service: "x".into(),
            operation: "Op".into(),
            class: "x.mutating".into(),
            bucket: None,
            protocol,
        }
    }

    async fn text(response: Response<Body>) -> (u16, String) {
        let status = response.status().as_u16();
        let body = hyper::body::to_bytes(response.into_body()).await.unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn each_protocol_throttles_in_its_own_words() {
        let (status, body) = text(throttled(&api(Protocol::Ec2), 1)).await;
        assert_eq!(status, 503);
        assert!(
            body.contains("<Errors><Error><Code>RequestLimitExceeded</Code>"),
            "{body}"
        );
        let (status, body) = text(throttled(&api(Protocol::Query), 2)).await;
        assert_eq!(status, 400);
        assert!(
            body.starts_with("<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>")
        );
        let (status, body) = text(throttled(&api(Protocol::Json), 3)).await;
        assert_eq!(status, 400);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&body).unwrap()["__type"],
            "ThrottlingException"
        );
        let (status, body) = text(throttled(&api(Protocol::S3), 4)).await;
        assert_eq!(status, 503);
        assert!(body.contains("<Error><Code>SlowDown</Code>"), "{body}");
        let (status, body) = text(internal_error(&api(Protocol::Ec2), 5)).await;
        assert_eq!(status, 500);
        assert!(body.contains("<Code>InternalError</Code>"));
        assert!(body.contains("00000000-0000-4000-8000-000000000005"));
    }
}
