//! Listing goes page by page (ARCHITECTURE.md invariant 8). The emulator ignores
//! MaxResults, so this runs an adapter against a tiny fake EC2 endpoint on
//! loopback that serves a listing in two pages, and checks that ferry asks
//! for bounded pages and follows the token to the end.

use ferry_aws::{Lookup, Registry, Side};
use ferry_core::config::SideConfig;
use ferry_core::Kind;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const IDENTITY: &str = r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/t</Arn><UserId>AID</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>"#;

fn subnets(ids: &[&str], next: Option<&str>) -> String {
    let items: String = ids
        .iter()
        .map(|id| format!("<item><subnetId>{id}</subnetId><vpcId>vpc-1</vpcId><cidrBlock>10.0.0.0/24</cidrBlock><availabilityZone>us-east-1a</availabilityZone><mapPublicIpOnLaunch>false</mapPublicIpOnLaunch><defaultForAz>false</defaultForAz><tagSet/></item>"))
        .collect();
    let token = next
        .map(|t| format!("<nextToken>{t}</nextToken>"))
        .unwrap_or_default();
    format!(
        r#"<DescribeSubnetsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>1</requestId><subnetSet>{items}</subnetSet>{token}</DescribeSubnetsResponse>"#
    )
}

/// Serves requests until the test ends; records each request body.
async fn fake_ec2(seen: Arc<Mutex<Vec<String>>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let (mut sock, _) = listener.accept().await.unwrap();
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                // Read headers, then the body by Content-Length.
                let (head_end, length) = loop {
                    let n = sock.read(&mut chunk).await.unwrap();
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..pos]).to_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap())
                            })
                            .unwrap_or(0);
                        break (pos + 4, length);
                    }
                };
                while buf.len() < head_end + length {
                    let n = sock.read(&mut chunk).await.unwrap();
                    buf.extend_from_slice(&chunk[..n]);
                }
                let body = String::from_utf8_lossy(&buf[head_end..head_end + length]).to_string();
                let reply = if body.contains("Action=GetCallerIdentity") {
                    IDENTITY.to_string()
                } else if body.contains("NextToken=page2") {
                    subnets(&["subnet-3"], None)
                } else {
                    subnets(&["subnet-1", "subnet-2"], Some("page2"))
                };
                seen.lock().unwrap().push(body);
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                    reply.len()
                );
                sock.write_all(resp.as_bytes()).await.unwrap();
            });
        }
    });
    url
}

#[tokio::test]
async fn describe_follows_pages_of_bounded_size() {
    std::env::set_var("AWS_ACCESS_KEY_ID", "fake");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "fake");
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    let seen = Arc::new(Mutex::new(vec![]));
    let url = fake_ec2(seen.clone()).await;
    let cfg = SideConfig {
        region: "us-east-1".into(),
        profile: None,
        role_arn: None,
        external_id: None,
        session_name: None,
        endpoint_url: Some(url),
        endpoints: Default::default(),
    };
    let side = Side::connect("source", &cfg, &Default::default())
        .await
        .unwrap();
    let found = Registry::aws()
        .get(Kind::Subnet)
        .unwrap()
        .describe(&side, &Lookup::All)
        .await
        .unwrap();
    let ids: Vec<&str> = found.iter().map(|r| r.key.id.as_str()).collect();
    assert_eq!(
        ids,
        ["subnet-1", "subnet-2", "subnet-3"],
        "both pages were read"
    );
    let requests: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|b| b.contains("DescribeSubnets"))
        .cloned()
        .collect();
    assert_eq!(requests.len(), 2, "one request per page");
    assert!(
        requests.iter().all(|b| b.contains("MaxResults=100")),
        "pages are bounded: {requests:?}"
    );
    assert!(requests[1].contains("NextToken=page2"));
}
