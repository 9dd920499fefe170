//! Planner tests on small hand-built snapshots.

use super::*;
use serde_json::{json, Value};

fn side(a: &str, r: &str) -> SideInfo {
    SideInfo {
        account: a.into(),
        region: r.into(),
        partition: "aws".into(),
    }
}

fn res(kind: Kind, id: &str, name: &str, spec: Value) -> Resource {
    Resource::with_tags(Key::new(kind, id), spec, [("Name", name)])
}

fn default_res(kind: Kind, id: &str, spec: Value) -> Resource {
    let mut r = Resource::with_tags(Key::new(kind, id), spec, []);
    r.default = true;
    r
}

fn snap(s: SideInfo, zones: &[&str], rs: Vec<Resource>) -> Snapshot {
    Snapshot {
        side: s,
        taken_at: String::new(),
        kinds: crate::kind::SUPPORTED.to_vec(),
        zones: zones.iter().map(|z| z.to_string()).collect(),
        resources: rs,
    }
}

fn input() -> PlanInput<'static> {
    PlanInput {
        kinds: crate::kind::SUPPORTED.iter().copied().collect(),
        ..Default::default()
    }
}

fn sg(id: &str, name: &str, vpc: &str, ingress_from: &[&str]) -> Resource {
    let ingress: Vec<Value> = ingress_from
        .iter()
        .map(|g| json!({"protocol": "tcp", "from_port": 80, "to_port": 80, "peer": {"group": {"$ref": format!("security_group/{g}")}}}))
        .collect();
    res(
        Kind::SecurityGroup,
        id,
        name,
        json!({"group_name": name, "description": "d", "vpc": {"$ref": format!("vpc/{vpc}")}, "ingress": ingress, "egress": []}),
    )
}

/// A small estate: a VPC with a subnet, its default group, and two groups
/// that reference each other.
fn source() -> Snapshot {
    snap(
        side("111111111111", "us-east-1"),
        &["us-east-1a", "us-east-1b"],
        vec![
            res(
                Kind::Vpc,
                "vpc-1",
                "app",
                json!({"cidr_block": "10.0.0.0/16", "secondary_cidr_blocks": []}),
            ),
            res(
                Kind::Subnet,
                "subnet-1",
                "a",
                json!({"vpc": {"$ref": "vpc/vpc-1"}, "cidr_block": "10.0.1.0/24", "availability_zone": "us-east-1a"}),
            ),
            default_res(
                Kind::SecurityGroup,
                "sg-d",
                json!({"group_name": "default", "description": "default", "vpc": {"$ref": "vpc/vpc-1"}, "ingress": [], "egress": []}),
            ),
            sg("sg-ping", "ping", "vpc-1", &["sg-pong"]),
            sg("sg-pong", "pong", "vpc-1", &["sg-ping"]),
        ],
    )
}

fn empty_dest(region: &str) -> Snapshot {
    snap(
        side("222222222222", region),
        &["us-east-1a", "us-east-1b", "eu-west-1a"],
        vec![{
            let mut v = res(
                Kind::Vpc,
                "vpc-def",
                "",
                json!({"cidr_block": "172.31.0.0/16"}),
            );
            v.default = true;
            v
        }],
    )
}

#[test]
fn fresh_estate_creates_everything_and_adopts_defaults() {
    let p = build(&source(), &empty_dest("us-east-1"), &input());
    let by: BTreeMap<String, Action> = p
        .items
        .iter()
        .map(|i| (i.key.id.clone(), i.action))
        .collect();
    assert_eq!(by["vpc-1"], Action::Create);
    assert_eq!(by["subnet-1"], Action::Create);
    assert_eq!(
        by["sg-d"],
        Action::Adopt,
        "default group is mapped, not created"
    );
    assert_eq!(by["sg-ping"], Action::Create);
    let sub = p.item(&Key::new(Kind::Subnet, "subnet-1")).unwrap();
    assert_eq!(sub.depends_on, vec![Key::new(Kind::Vpc, "vpc-1")]);
}

#[test]
fn reference_cycles_are_broken_in_two_phases() {
    let p = build(&source(), &empty_dest("us-east-1"), &input());
    let ping = p.item(&Key::new(Kind::SecurityGroup, "sg-ping")).unwrap();
    assert_eq!(
        ping.depends_on,
        vec![Key::new(Kind::Vpc, "vpc-1")],
        "the group itself needs only its VPC"
    );
    assert_eq!(
        ping.contents_depend_on,
        vec![Key::new(Kind::SecurityGroup, "sg-pong")]
    );
    let mut g = p.graph().expect("acyclic once split");
    // Both groups can be created before either's rules.
    let mut order = vec![];
    while !g.is_finished() {
        for i in g.take_ready(usize::MAX) {
            order.push(g.node(i).to_string());
            g.complete(i);
        }
    }
    let pos = |s: &str| order.iter().position(|x| x == s).unwrap();
    assert!(pos("security_group/sg-pong") < pos("security_group/sg-ping#contents"));
    assert!(pos("security_group/sg-ping") < pos("security_group/sg-pong#contents"));
    assert!(pos("vpc/vpc-1") < pos("subnet/subnet-1"));
}

#[test]
fn overlapping_cidr_is_a_conflict_that_spreads_to_dependents() {
    let mut dest = empty_dest("us-east-1");
    dest.resources.push(res(
        Kind::Vpc,
        "vpc-x",
        "legacy",
        json!({"cidr_block": "10.0.0.0/8"}),
    ));
    let p = build(&source(), &dest, &input());
    let vpc = p.item(&Key::new(Kind::Vpc, "vpc-1")).unwrap();
    assert_eq!(vpc.action, Action::Conflict);
    assert!(
        vpc.reason.contains("overlaps 10.0.0.0/8 of vpc-x (legacy)"),
        "{}",
        vpc.reason
    );
    let sub = p.item(&Key::new(Kind::Subnet, "subnet-1")).unwrap();
    assert_eq!(sub.action, Action::Conflict);
    assert!(sub.reason.contains("depends on vpc/vpc-1"));
    let mut skipped = p.clone();
    skipped.skip_conflicts();
    assert_eq!(
        skipped.graph().unwrap().len(),
        0,
        "nothing left to run once the VPC is skipped"
    );
}

#[test]
fn resources_found_by_tag_are_adopted_and_mapped_ones_checked() {
    let src = source();
    let mut dest = empty_dest("us-east-1");
    let mut v = res(
        Kind::Vpc,
        "vpc-9",
        "app",
        json!({"cidr_block": "10.0.0.0/16", "secondary_cidr_blocks": []}),
    );
    v.ferry_source = Some(src.side.arn(&Key::new(Kind::Vpc, "vpc-1")));
    dest.resources.push(v);
    let p = build(&src, &dest, &input());
    let vpc = p.item(&Key::new(Kind::Vpc, "vpc-1")).unwrap();
    assert_eq!(
        (vpc.action, vpc.dest_id.as_deref()),
        (Action::Adopt, Some("vpc-9"))
    );
    assert_eq!(
        p.item(&Key::new(Kind::Subnet, "subnet-1")).unwrap().action,
        Action::Create
    );

    // Once mapped: equal is skipped, different is an update.
    let mut inp = input();
    inp.mapping.insert(Key::new(Kind::Vpc, "vpc-1"), "vpc-9");
    let p = build(&src, &dest, &inp);
    let vpc = p.item(&Key::new(Kind::Vpc, "vpc-1")).unwrap();
    assert_eq!(vpc.action, Action::Skip, "{}", vpc.reason);
    assert!(vpc.reason.starts_with("up to date"));
    dest.resources.last_mut().unwrap().spec["secondary_cidr_blocks"] = json!(["10.1.0.0/16"]);
    let p = build(&src, &dest, &inp);
    let vpc = p.item(&Key::new(Kind::Vpc, "vpc-1")).unwrap();
    assert_eq!(vpc.action, Action::Update);
    assert!(
        vpc.reason.contains("secondary_cidr_blocks"),
        "{}",
        vpc.reason
    );
}

#[test]
fn group_name_taken_in_an_existing_vpc_is_a_conflict() {
    let mut src = source();
    let mut dv = default_res(
        Kind::Vpc,
        "vpc-def-src",
        json!({"cidr_block": "172.31.0.0/16"}),
    );
    dv.name = None;
    src.resources.push(dv);
    src.resources.push(sg("sg-web", "web", "vpc-def-src", &[]));
    let mut dest = empty_dest("us-east-1");
    dest.resources.push(sg("sg-theirs", "web", "vpc-def", &[]));
    let p = build(&src, &dest, &input());
    let v = p.item(&Key::new(Kind::Vpc, "vpc-def-src")).unwrap();
    assert_eq!(
        (v.action, v.dest_id.as_deref()),
        (Action::Adopt, Some("vpc-def"))
    );
    let web = p.item(&Key::new(Kind::SecurityGroup, "sg-web")).unwrap();
    assert_eq!(web.action, Action::Conflict);
    assert!(
        web.reason
            .contains("\"web\" is already taken in vpc-def by sg-theirs"),
        "{}",
        web.reason
    );
}

#[test]
fn unsupported_and_missing_references_are_conflicts() {
    let mut src = source();
    src.resources.push(res(Kind::RouteTable, "rtb-1", "rt", json!({
        "vpc": {"$ref": "vpc/vpc-1"}, "main": false, "associations": [],
        "routes": [{"destination": {"cidr": "10.9.0.0/16"}, "target": {"$ref": "transit_gateway/tgw-1"}}]
    })));
    src.resources.push(res(Kind::Subnet, "subnet-x", "x", json!({"vpc": {"$ref": "vpc/vpc-elsewhere"}, "cidr_block": "10.0.1.0/24", "availability_zone": "us-east-1a"})));
    let p = build(&src, &empty_dest("us-east-1"), &input());
    let rt = p.item(&Key::new(Kind::RouteTable, "rtb-1")).unwrap();
    assert_eq!(rt.action, Action::Conflict);
    assert!(
        rt.reason.contains("unsupported kind transit_gateway"),
        "{}",
        rt.reason
    );
    let sx = p.item(&Key::new(Kind::Subnet, "subnet-x")).unwrap();
    assert!(
        sx.reason.contains("not in the source estate"),
        "{}",
        sx.reason
    );
}

#[test]
fn scope_exclusions_skip_and_block_dependents() {
    let mut src = source();
    src.resources[0]
        .tags
        .insert("ferry:skip".into(), "true".into());
    let mut inp = input();
    inp.exclude_tags.insert("ferry:skip".into(), "true".into());
    let p = build(&src, &empty_dest("us-east-1"), &inp);
    assert_eq!(
        p.item(&Key::new(Kind::Vpc, "vpc-1")).unwrap().action,
        Action::Skip
    );
    assert_eq!(
        p.item(&Key::new(Kind::Subnet, "subnet-1")).unwrap().action,
        Action::Conflict
    );
    let mut only = input();
    only.kinds = [Kind::Vpc].into();
    let p = build(&source(), &empty_dest("us-east-1"), &only);
    assert_eq!(p.items.len(), 1);
}

#[test]
fn a_zone_without_counterpart_is_a_conflict_across_regions() {
    let mut src = source();
    src.resources[1].spec["availability_zone"] = json!("us-east-1f");
    let mut dest = empty_dest("eu-west-1");
    dest.side.region = "eu-west-1".into();
    dest.zones = vec!["eu-west-1a".into(), "eu-west-1b".into()];
    let p = build(&src, &dest, &input());
    let sub = p.item(&Key::new(Kind::Subnet, "subnet-1")).unwrap();
    assert_eq!(sub.action, Action::Conflict);
    assert!(sub.reason.contains("[zones]"), "{}", sub.reason);
    let mut inp = input();
    inp.zones.insert("us-east-1f".into(), "eu-west-1b".into());
    let p = build(&src, &dest, &inp);
    assert_eq!(
        p.item(&Key::new(Kind::Subnet, "subnet-1")).unwrap().action,
        Action::Create
    );
}

#[test]
fn plans_round_trip_through_json() {
    let p = build(&source(), &empty_dest("us-east-1"), &input());
    let text = serde_json::to_string(&p).unwrap();
    let back: Plan = serde_json::from_str(&text).unwrap();
    assert_eq!(back, p);
}

#[test]
fn defaults_without_a_counterpart_zone_are_skipped_not_conflicts() {
    let mut src = source();
    let mut ds = default_res(
        Kind::Subnet,
        "subnet-def-f",
        json!({"vpc": {"$ref": "vpc/vpc-1"}, "cidr_block": "172.31.80.0/20", "availability_zone": "us-east-1f"}),
    );
    ds.default = true;
    src.resources.push(ds);
    let mut dest = empty_dest("eu-west-1");
    dest.side.region = "eu-west-1".into();
    dest.zones = vec!["eu-west-1a".into()];
    let p = build(&src, &dest, &input());
    let item = p.item(&Key::new(Kind::Subnet, "subnet-def-f")).unwrap();
    assert_eq!(item.action, Action::Skip);
    assert!(item.reason.contains("no counterpart"), "{}", item.reason);
}

#[test]
fn iam_is_skipped_when_only_the_region_changes() {
    let mut src = source();
    src.resources.push(res(
        Kind::IamRole,
        "app",
        "",
        json!({"path": "/", "trust_policy": {}, "max_session_duration": 3600}),
    ));
    let mut dest = empty_dest("eu-west-1");
    dest.side = side("111111111111", "eu-west-1");
    dest.resources.push(res(
        Kind::IamRole,
        "app",
        "",
        json!({"path": "/", "trust_policy": {}, "max_session_duration": 3600}),
    ));
    let p = build(&src, &dest, &input());
    let role = p.item(&Key::new(Kind::IamRole, "app")).unwrap();
    assert_eq!(role.action, Action::Skip, "{}", role.reason);
    assert!(role.reason.contains("global"));
    // Into another account the same role is a name conflict.
    let mut other = dest.clone();
    other.side.account = "222222222222".into();
    let p = build(&src, &other, &input());
    assert_eq!(
        p.item(&Key::new(Kind::IamRole, "app")).unwrap().action,
        Action::Conflict
    );
}

fn image(id: &str, name: &str, extra: Value) -> Resource {
    let mut spec = json!({"name": name, "block_devices": [], "product_codes": []});
    for (k, v) in extra.as_object().unwrap() {
        spec[k] = v.clone();
    }
    res(Kind::Image, id, name, spec)
}

#[test]
fn marketplace_images_and_taken_image_names_are_conflicts() {
    let src = snap(
        side("111111111111", "us-east-1"),
        &[],
        vec![
            image("ami-m", "market", json!({"product_codes": ["abc123"]})),
            image("ami-t", "taken", json!({})),
            image("ami-ok", "fine", json!({})),
        ],
    );
    let dst = snap(
        side("222222222222", "us-east-1"),
        &[],
        vec![image("ami-other", "taken", json!({}))],
    );
    let p = build(&src, &dst, &input());
    let m = p.item(&Key::new(Kind::Image, "ami-m")).unwrap();
    assert_eq!(m.action, Action::Conflict);
    assert!(
        m.reason.contains("marketplace image") && m.reason.contains("abc123"),
        "{}",
        m.reason
    );
    let t = p.item(&Key::new(Kind::Image, "ami-t")).unwrap();
    assert_eq!(t.action, Action::Conflict);
    assert!(
        t.reason.contains("already taken") && t.reason.contains("ami-other"),
        "{}",
        t.reason
    );
    assert_eq!(
        p.item(&Key::new(Kind::Image, "ami-ok")).unwrap().action,
        Action::Create
    );
}

#[test]
fn compute_options_shape_instance_images_and_private_ips() {
    let src = snap(
        side("111111111111", "us-east-1"),
        &[],
        vec![
            image("i-1", "ferry-i-1", json!({"from_instance": "i-1"})),
            res(
                Kind::Instance,
                "i-1",
                "web",
                json!({"image": {"$ref": "image/i-1"}, "private_ip": "10.0.1.5"}),
            ),
        ],
    );
    let dst = snap(side("222222222222", "us-east-1"), &[], vec![]);
    let p = build(&src, &dst, &input());
    let img = p.item(&Key::new(Kind::Image, "i-1")).unwrap();
    assert_eq!(img.resource.spec["no_reboot"], false);
    assert!(
        img.notes.iter().any(|n| n.contains("rebooting")),
        "{:?}",
        img.notes
    );
    let inst = p.item(&Key::new(Kind::Instance, "i-1")).unwrap();
    assert!(inst.resource.spec.get("private_ip").is_none());
    assert_eq!(inst.depends_on, vec![Key::new(Kind::Image, "i-1")]);

    let kept = PlanInput {
        no_reboot: true,
        keep_private_ips: true,
        ..input()
    };
    let p = build(&src, &dst, &kept);
    let img = p.item(&Key::new(Kind::Image, "i-1")).unwrap();
    assert_eq!(img.resource.spec["no_reboot"], true);
    assert!(img.notes.iter().any(|n| n.contains("without rebooting")));
    let inst = p.item(&Key::new(Kind::Instance, "i-1")).unwrap();
    assert_eq!(inst.resource.spec["private_ip"], "10.0.1.5");
    assert!(inst.notes.iter().any(|n| n.contains("10.0.1.5")));
}

#[test]
fn launch_template_name_taken_in_the_destination_is_a_conflict() {
    let lt = |id: &str| {
        res(
            Kind::LaunchTemplate,
            id,
            "web",
            json!({"name": "web", "default_version": 1, "versions": [{"data": {"instance_type": "t3.micro"}}]}),
        )
    };
    let src = snap(side("111111111111", "us-east-1"), &[], vec![lt("lt-1")]);
    let mut dest = snap(
        side("222222222222", "us-east-1"),
        &[],
        vec![lt("lt-theirs")],
    );
    let p = build(&src, &dest, &input());
    let item = p.item(&Key::new(Kind::LaunchTemplate, "lt-1")).unwrap();
    assert_eq!(item.action, Action::Conflict);
    assert!(
        item.reason.contains(
            "launch template name \"web\" is already taken in the destination by lt-theirs"
        ),
        "{}",
        item.reason
    );

    // The one ferry made for it is adopted, not a conflict; once mapped, checked.
    dest.resources[0].ferry_source = Some(src.side.arn(&Key::new(Kind::LaunchTemplate, "lt-1")));
    let p = build(&src, &dest, &input());
    let item = p.item(&Key::new(Kind::LaunchTemplate, "lt-1")).unwrap();
    assert_eq!(item.action, Action::Adopt, "{}", item.reason);
    let mut inp = input();
    inp.mapping
        .insert(Key::new(Kind::LaunchTemplate, "lt-1"), "lt-theirs");
    let p = build(&src, &dest, &inp);
    let item = p.item(&Key::new(Kind::LaunchTemplate, "lt-1")).unwrap();
    assert_eq!(item.action, Action::Skip, "{}", item.reason);

    // Another name is free.
    dest.resources[0].ferry_source = None;
    dest.resources[0].spec["name"] = json!("api");
    let p = build(&src, &dest, &input());
    let item = p.item(&Key::new(Kind::LaunchTemplate, "lt-1")).unwrap();
    assert_eq!(item.action, Action::Create, "{}", item.reason);
}

#[test]
fn iam_references_resolve_to_themselves_when_only_the_region_changes() {
    let src = snap(
        side("111111111111", "us-east-1"),
        &[],
        vec![
            res(
                Kind::IamInstanceProfile,
                "web",
                "web",
                json!({"role": null}),
            ),
            res(
                Kind::Instance,
                "i-1",
                "web",
                json!({"instance_profile": {"$ref": "iam_instance_profile/web"}}),
            ),
        ],
    );
    let dst = snap(side("111111111111", "eu-west-1"), &[], vec![]);
    let p = build(&src, &dst, &input());
    let profile = p.item(&Key::new(Kind::IamInstanceProfile, "web")).unwrap();
    assert_eq!(profile.action, Action::Skip);
    let inst = p.item(&Key::new(Kind::Instance, "i-1")).unwrap();
    assert_eq!(inst.action, Action::Create, "{}", inst.reason);
    let t = Translator {
        source: &src.side,
        dest: &dst.side,
        zones: &BTreeMap::new(),
        dest_zones: &[],
        mapping: &Mapping::default(),
        buckets: &BTreeMap::new(),
    };
    let out = t.spec(&inst.resource.spec);
    assert!(out.is_complete());
    assert_eq!(
        out.value["instance_profile"]["$ref"],
        "iam_instance_profile/web"
    );
}

const SRC_CERT: &str = "arn:aws:acm:us-east-1:111111111111:certificate/c-1";
const DST_CERT: &str = "arn:aws:acm:eu-west-1:222222222222:certificate/d-9";

fn cert(arn: &str, domain: &str) -> Resource {
    default_res(
        Kind::Certificate,
        arn,
        json!({"domain_name": domain, "subject_alternative_names": [domain]}),
    )
}

/// A load balancer, its HTTPS listener serving `cert`, and an unused certificate.
fn https_estate() -> Snapshot {
    let lb = "arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/app/web/1";
    snap(
        side("111111111111", "us-east-1"),
        &[],
        vec![
            cert(SRC_CERT, "www.example.com"),
            cert(
                "arn:aws:acm:us-east-1:111111111111:certificate/unused",
                "old.example.com",
            ),
            res(
                Kind::LoadBalancer,
                lb,
                "",
                json!({"name": "web", "type": "application", "subnets": []}),
            ),
            res(
                Kind::Listener,
                "arn:aws:elasticloadbalancing:us-east-1:111111111111:listener/app/web/1/443",
                "",
                json!({"load_balancer": {"$ref": format!("load_balancer/{lb}")}, "port": 443,
                       "certificate": {"$ref": format!("certificate/{SRC_CERT}")}}),
            ),
        ],
    )
}

#[test]
fn certificates_map_to_the_destination_one_for_the_same_names() {
    let src = https_estate();
    let mut dest = snap(side("222222222222", "eu-west-1"), &[], vec![]);
    let listener = Key::new(
        Kind::Listener,
        "arn:aws:elasticloadbalancing:us-east-1:111111111111:listener/app/web/1/443",
    );

    // Missing: a conflict that says what to do, spreading to the listener.
    let p = build(&src, &dest, &input());
    let c = p.item(&Key::new(Kind::Certificate, SRC_CERT)).unwrap();
    assert_eq!(c.action, Action::Conflict);
    assert!(
        c.reason.contains("has no certificate for www.example.com")
            && c.reason.contains("request or import one in ACM"),
        "{}",
        c.reason
    );
    let l = p.item(&listener).unwrap();
    assert_eq!(l.action, Action::Conflict);
    assert!(
        l.reason.contains("has no certificate for www.example.com"),
        "{}",
        l.reason
    );
    // The load balancer itself still migrates.
    let lb = p
        .items
        .iter()
        .find(|i| i.key.kind == Kind::LoadBalancer)
        .unwrap();
    assert_eq!(lb.action, Action::Create);
    // A certificate nothing serves needs no counterpart.
    let unused = p
        .item(&Key::new(
            Kind::Certificate,
            "arn:aws:acm:us-east-1:111111111111:certificate/unused",
        ))
        .unwrap();
    assert_eq!(unused.action, Action::Skip, "{}", unused.reason);

    // Present (same names): mapped, never created, and the listener follows.
    dest.resources.push(cert(DST_CERT, "www.example.com"));
    dest.resources.push(cert(
        "arn:aws:acm:eu-west-1:222222222222:certificate/other",
        "api.example.com",
    ));
    let p = build(&src, &dest, &input());
    let c = p.item(&Key::new(Kind::Certificate, SRC_CERT)).unwrap();
    assert_eq!(c.action, Action::Adopt, "{}", c.reason);
    assert_eq!(c.dest_id.as_deref(), Some(DST_CERT));
    assert!(c.reason.contains("private keys never move"), "{}", c.reason);
    assert_eq!(p.item(&listener).unwrap().action, Action::Create);

    // A certificate that is not issued does not count.
    dest.resources[0].skip = Some("certificate is EXPIRED".into());
    let p = build(&src, &dest, &input());
    let c = p.item(&Key::new(Kind::Certificate, SRC_CERT)).unwrap();
    assert_eq!(c.action, Action::Conflict, "{}", c.reason);
}

#[test]
fn load_balancer_and_target_group_names_taken_are_conflicts() {
    let tg = |arn: &str| {
        res(
            Kind::TargetGroup,
            arn,
            "",
            json!({"name": "web", "target_type": "instance"}),
        )
    };
    let src = snap(
        side("111111111111", "us-east-1"),
        &[],
        vec![tg(
            "arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/web/1",
        )],
    );
    let dest = snap(
        side("222222222222", "us-east-1"),
        &[],
        vec![tg(
            "arn:aws:elasticloadbalancing:us-east-1:222222222222:targetgroup/web/9",
        )],
    );
    let p = build(&src, &dest, &input());
    let item = &p.items[0];
    assert_eq!(item.action, Action::Conflict);
    assert!(
        item.reason
            .contains("target group name \"web\" is already taken in the destination by arn:aws:elasticloadbalancing:us-east-1:222222222222:targetgroup/web/9"),
        "{}",
        item.reason
    );
}

fn bucket(name: &str, spec: Value) -> Resource {
    Resource::with_tags(Key::new(Kind::Bucket, name), spec, [])
}

fn objects(count: u64, digest: &str) -> Value {
    json!({"count": count, "bytes": count * 10, "digest": digest})
}

#[test]
fn buckets_get_their_naming_names_and_policies_follow_them() {
    let src = snap(
        side("111111111111", "us-east-1"),
        &[],
        vec![
            bucket(
                "assets",
                json!({"versioning": "enabled", "objects": objects(3, "d"),
                       "policy": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                                                  "Action": "s3:GetObject", "Resource": "arn:aws:s3:::logs/*"}]},
                       "logging": {"target": {"$ref": "s3_bucket/logs"}, "prefix": "assets/"}}),
            ),
            bucket("logs", json!({"objects": objects(0, "e")})),
        ],
    );
    let dst = snap(side("222222222222", "eu-west-1"), &[], vec![]);
    let mut i = input();
    i.naming.buckets.insert("logs".into(), "logs-copy".into());
    let p = build(&src, &dst, &i);
    let hash = crate::naming::bucket_name(&i.naming, "assets", &src.side, &dst.side).unwrap();
    assert!(
        hash.starts_with("assets-") && hash.len() == "assets-".len() + 6,
        "{hash}"
    );
    assert_eq!(p.buckets["assets"], hash);
    assert_eq!(p.buckets["logs"], "logs-copy");
    let a = p.item(&Key::new(Kind::Bucket, "assets")).unwrap();
    assert_eq!(a.action, Action::Create, "{}", a.reason);
    // The logging target is a contents dependency: it may be the bucket itself.
    assert_eq!(a.contents_depend_on, vec![Key::new(Kind::Bucket, "logs")]);
    assert!(
        a.notes
            .iter()
            .any(|n| n == &format!("destination bucket name: {hash}")),
        "{:?}",
        a.notes
    );
    assert!(
        a.notes.iter().any(|n| n == "objects: 3 objects, 30 B"),
        "{:?}",
        a.notes
    );
    assert!(
        a.notes.iter().any(|n| n.contains("only current versions")),
        "{:?}",
        a.notes
    );
    // Policies name the destination account and bucket.
    let t = Translator {
        source: &src.side,
        dest: &dst.side,
        zones: &BTreeMap::new(),
        dest_zones: &[],
        mapping: &Mapping::default(),
        buckets: &p.buckets,
    };
    let out = t.spec(&a.resource.spec);
    assert_eq!(
        out.value["policy"]["Statement"][0]["Resource"],
        "arn:aws:s3:::logs-copy/*"
    );
    assert_eq!(
        out.value["policy"]["Statement"][0]["Principal"]["AWS"],
        "arn:aws:iam::222222222222:root"
    );
}

#[test]
fn bucket_names_taken_here_or_elsewhere_are_conflicts() {
    let src = snap(
        side("111111111111", "us-east-1"),
        &[],
        vec![
            bucket("mine", json!({"objects": objects(1, "a")})),
            bucket("theirs", json!({"objects": objects(1, "a")})),
            bucket(
                "uses-mine",
                json!({"objects": objects(1, "a"), "logging": {"target": {"$ref": "s3_bucket/mine"}, "prefix": ""}}),
            ),
        ],
    );
    let mut i = input();
    i.naming.buckets.insert("mine".into(), "mine-copy".into());
    i.naming
        .buckets
        .insert("theirs".into(), "theirs-copy".into());
    i.taken_buckets
        .insert("theirs-copy".into(), "another AWS account".into());
    let dst = snap(
        side("222222222222", "us-east-1"),
        &[],
        vec![bucket("mine-copy", json!({"objects": objects(0, "")}))],
    );
    let p = build(&src, &dst, &i);
    let mine = p.item(&Key::new(Kind::Bucket, "mine")).unwrap();
    assert_eq!(mine.action, Action::Conflict);
    assert!(
        mine.reason
            .contains("\"mine-copy\" already exists in the destination account"),
        "{}",
        mine.reason
    );
    let theirs = p.item(&Key::new(Kind::Bucket, "theirs")).unwrap();
    assert_eq!(theirs.action, Action::Conflict);
    assert!(
        theirs
            .reason
            .contains("\"theirs-copy\" is taken by another AWS account"),
        "{}",
        theirs.reason
    );
    assert!(
        theirs.reason.contains("[naming.buckets]"),
        "{}",
        theirs.reason
    );
    let uses = p.item(&Key::new(Kind::Bucket, "uses-mine")).unwrap();
    assert_eq!(uses.action, Action::Conflict);
    assert!(
        uses.reason.contains("depends on s3_bucket/mine"),
        "{}",
        uses.reason
    );
}

#[test]
fn a_mapped_bucket_is_up_to_date_only_when_its_listing_is_the_same() {
    let src = snap(
        side("111111111111", "us-east-1"),
        &[],
        vec![bucket(
            "b",
            json!({"versioning": "disabled", "objects": objects(2, "same")}),
        )],
    );
    let mut i = input();
    i.mapping.insert(Key::new(Kind::Bucket, "b"), "b-copy");
    let dst = |o: Value| {
        snap(
            side("222222222222", "us-east-1"),
            &[],
            vec![bucket(
                "b-copy",
                json!({"versioning": "disabled", "objects": o}),
            )],
        )
    };
    let p = build(&src, &dst(objects(2, "same")), &i);
    assert_eq!(p.items[0].action, Action::Skip, "{}", p.items[0].reason);
    let p = build(&src, &dst(objects(2, "other")), &i);
    assert_eq!(p.items[0].action, Action::Update);
    assert!(
        p.items[0]
            .reason
            .contains("objects (2 in the source, 2 in the destination"),
        "{}",
        p.items[0].reason
    );
}

#[test]
fn large_buckets_are_offered_to_batch_operations() {
    let src = snap(
        side("111111111111", "us-east-1"),
        &[],
        vec![bucket("big", json!({"objects": objects(50, "x")}))],
    );
    let dst = snap(side("222222222222", "us-east-1"), &[], vec![]);
    let mut i = input();
    i.s3.batch_objects = 50;
    let p = build(&src, &dst, &i);
    assert!(
        p.items[0]
            .notes
            .iter()
            .any(|n| n.contains("set [s3] batch = true")),
        "{:?}",
        p.items[0].notes
    );
    i.s3.batch = true;
    let p = build(&src, &dst, &i);
    assert!(
        p.items[0]
            .notes
            .iter()
            .any(|n| n.starts_with("copied with S3 Batch Operations")),
        "{:?}",
        p.items[0].notes
    );
}

#[test]
fn a_bucket_logs_once_its_target_has_its_policy() {
    let src = snap(
        side("111111111111", "us-east-1"),
        &[],
        vec![
            bucket(
                "app",
                json!({"objects": objects(1, "a"), "logging": {"target": {"$ref": "s3_bucket/logs"}, "prefix": ""}}),
            ),
            bucket(
                "logs",
                json!({"objects": objects(0, "b"), "logging": {"target": {"$ref": "s3_bucket/logs"}, "prefix": "self/"}}),
            ),
            bucket(
                "ping",
                json!({"objects": objects(0, "c"), "logging": {"target": {"$ref": "s3_bucket/pong"}, "prefix": ""}}),
            ),
            bucket(
                "pong",
                json!({"objects": objects(0, "d"), "logging": {"target": {"$ref": "s3_bucket/ping"}, "prefix": ""}}),
            ),
        ],
    );
    let dst = snap(side("222222222222", "us-east-1"), &[], vec![]);
    let p = build(&src, &dst, &input());
    let mut dag = p
        .graph()
        .expect("no cycle, even for buckets logging to each other or themselves");
    let node = |k: &str, phase: Phase| Node {
        key: Key::new(Kind::Bucket, k),
        phase,
    };
    let mut order = vec![];
    loop {
        let ready = dag.take_ready(usize::MAX);
        if ready.is_empty() {
            break;
        }
        for i in ready {
            order.push(dag.node(i).clone());
            dag.complete(i);
        }
    }
    let at = |n: &Node| order.iter().position(|o| o == n).unwrap();
    assert!(at(&node("logs", Phase::Contents)) < at(&node("app", Phase::Contents)));
}
