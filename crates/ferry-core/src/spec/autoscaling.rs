//! Typed specs of Auto Scaling (launch configurations, groups, scaling
//! policies) and CloudWatch metric alarms.
//!
//! Everything that names another resource is a [`Ref`], so the planner sees
//! the dependency and the translator rewrites it: subnets, security groups,
//! images, key pairs (by name), instance profiles (by name), IAM roles (by
//! name), scaling policies (by ARN: alarms name them so), and the groups,
//! instances, volumes, images, load balancers and target groups that metric
//! dimensions name. What ferry does not migrate yet (SNS topics) is a
//! reference too, so the plan reports the resource as a conflict rather
//! than copying half of it.
//!
//! Lists are kept in a canonical order ([`canonical`] methods) so that two
//! reads of equal resources serialise identically, except termination
//! policies, whose order is their meaning.

use super::compute::{BlockDevice, ImageRef, MetadataOptions};
use crate::kind::Kind;
use crate::resource::{Ref, SideInfo};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// A launch configuration. Immutable in AWS: a difference means replacing it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaunchConfigurationSpec {
    pub image: ImageRef,
    pub instance_type: String,
    /// `key_pair/<name>`: key pairs are keyed by name.
    #[serde(default)]
    pub key_pair: Option<Ref>,
    /// Sorted.
    #[serde(default)]
    pub security_groups: Vec<Ref>,
    /// `iam_instance_profile/<name>` (the configuration may hold an ARN).
    #[serde(default)]
    pub instance_profile: Option<Ref>,
    /// Base64, as Auto Scaling returns and takes it.
    #[serde(default)]
    pub user_data: Option<String>,
    /// Sorted by device name. Launch configurations cannot name a KMS key:
    /// encrypted devices use the account's default key, so `kms_key` is
    /// always `None` here.
    #[serde(default)]
    pub block_devices: Vec<BlockDevice>,
    /// Devices of the image suppressed (`NoDevice`), sorted.
    #[serde(default)]
    pub no_devices: Vec<String>,
    /// Detailed monitoring.
    pub monitoring: bool,
    pub ebs_optimized: bool,
    #[serde(default)]
    pub associate_public_ip: Option<bool>,
    #[serde(default)]
    pub metadata: Option<MetadataOptions>,
    /// "default" or "dedicated".
    #[serde(default)]
    pub placement_tenancy: Option<String>,
    #[serde(default)]
    pub spot_price: Option<String>,
}

impl LaunchConfigurationSpec {
    pub fn canonical(mut self) -> Self {
        self.security_groups.sort();
        self.security_groups.dedup();
        self.block_devices.sort();
        self.no_devices.sort();
        self
    }
}

/// The launch template a group launches from, and which version of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaunchTemplateUse {
    pub template: Ref,
    /// "$Default", "$Latest" or a version number; `None` when the group
    /// names none (AWS then uses the default version and reports none).
    #[serde(default)]
    pub version: Option<String>,
}

/// A zone a group without subnets launches in. The field is named
/// `availability_zone` because that is what the translator maps across
/// regions.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Zone {
    pub availability_zone: String,
}

/// An ARN something points at: a reference when it names a resource ferry
/// knows (migrated or not yet supported), the ARN itself otherwise (another
/// account's queue or role, say).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ArnRef {
    Ref(Ref),
    Arn(String),
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LifecycleHookSpec {
    pub name: String,
    /// "autoscaling:EC2_INSTANCE_LAUNCHING" or "...TERMINATING".
    pub transition: String,
    #[serde(default)]
    pub heartbeat_timeout: Option<i32>,
    /// "CONTINUE" or "ABANDON".
    #[serde(default)]
    pub default_result: Option<String>,
    #[serde(default)]
    pub notification_target: Option<ArnRef>,
    #[serde(default)]
    pub role: Option<ArnRef>,
    #[serde(default)]
    pub notification_metadata: Option<String>,
}

/// A scheduled change of the group's sizes. Times are RFC 3339 (UTC); a
/// start time is kept only for one-off actions still to come (AWS refuses
/// times in the past, and reports the next run as the start time of a
/// recurring action, which would never compare equal).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ScheduledActionSpec {
    pub name: String,
    #[serde(default)]
    pub recurrence: Option<String>,
    #[serde(default)]
    pub start_time: Option<String>,
    #[serde(default)]
    pub end_time: Option<String>,
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub min_size: Option<i32>,
    #[serde(default)]
    pub max_size: Option<i32>,
    #[serde(default)]
    pub desired_capacity: Option<i32>,
}

/// An Auto Scaling group: what it launches, where, how many, and the parts
/// that live inside it (tags' propagation, lifecycle hooks, scheduled
/// actions, suspended processes, metrics collection).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutoScalingGroupSpec {
    #[serde(default)]
    pub launch_template: Option<LaunchTemplateUse>,
    #[serde(default)]
    pub launch_configuration: Option<Ref>,
    pub min_size: i32,
    pub max_size: i32,
    pub desired_capacity: i32,
    /// The VPC subnets (VPCZoneIdentifier), sorted.
    #[serde(default)]
    pub subnets: Vec<Ref>,
    /// Zones, only for groups without subnets (with subnets AWS derives
    /// them), sorted.
    #[serde(default)]
    pub zones: Vec<Zone>,
    pub health_check_type: String,
    pub health_check_grace_period: i32,
    pub default_cooldown: i32,
    /// In the order AWS applies them.
    #[serde(default)]
    pub termination_policies: Vec<String>,
    #[serde(default)]
    pub max_instance_lifetime: Option<i32>,
    #[serde(default)]
    pub capacity_rebalance: bool,
    #[serde(default)]
    pub new_instances_protected_from_scale_in: bool,
    #[serde(default)]
    pub default_instance_warmup: Option<i32>,
    /// The name of a custom service-linked role
    /// (`AWSServiceRoleForAutoScaling_<suffix>`); `None` for the default one.
    #[serde(default)]
    pub service_linked_role: Option<String>,
    /// Keys of the user tags copied to the instances the group launches,
    /// sorted (the tags themselves are the resource's tags).
    #[serde(default)]
    pub propagate_at_launch: Vec<String>,
    /// Sorted by name.
    #[serde(default)]
    pub lifecycle_hooks: Vec<LifecycleHookSpec>,
    /// Sorted by name.
    #[serde(default)]
    pub scheduled_actions: Vec<ScheduledActionSpec>,
    /// Sorted.
    #[serde(default)]
    pub suspended_processes: Vec<String>,
    /// Group metrics collected, sorted.
    #[serde(default)]
    pub enabled_metrics: Vec<String>,
    /// `target_group/<arn>`, sorted.
    #[serde(default)]
    pub target_groups: Vec<Ref>,
    /// `classic_load_balancer/<name>`, sorted.
    #[serde(default)]
    pub load_balancers: Vec<Ref>,
}

impl AutoScalingGroupSpec {
    pub fn canonical(mut self) -> Self {
        self.subnets.sort();
        self.subnets.dedup();
        self.zones.sort();
        self.zones.dedup();
        self.propagate_at_launch.sort();
        self.lifecycle_hooks.sort_by(|a, b| a.name.cmp(&b.name));
        self.scheduled_actions.sort_by(|a, b| a.name.cmp(&b.name));
        self.suspended_processes.sort();
        self.enabled_metrics.sort();
        self.enabled_metrics.dedup();
        self.target_groups.sort();
        self.load_balancers.sort();
        self
    }
}

/// The tail of a load balancer's or target group's ARN, as metrics and
/// scaling policies name them: `app/web/50dc..` for a load balancer,
/// `targetgroup/web/73e2..` for a target group. Other references: their ID.
pub fn elb_arn_suffix(r: &Ref) -> &str {
    let id = r.id();
    match r.key.kind {
        Kind::LoadBalancer | Kind::TargetGroup if id.starts_with("arn:") => {
            let resource = id.splitn(6, ':').nth(5).unwrap_or(id);
            resource.strip_prefix("loadbalancer/").unwrap_or(resource)
        }
        _ => id,
    }
}

/// The reference an ARN tail names in `side`: the inverse of
/// [`elb_arn_suffix`]. `None` when the text is no such tail.
pub fn elb_ref_from_suffix(suffix: &str, side: &SideInfo) -> Option<Ref> {
    let arn = |resource: &str| {
        format!(
            "arn:{}:elasticloadbalancing:{}:{}:{resource}",
            side.partition, side.region, side.account
        )
    };
    let parts: Vec<&str> = suffix.split('/').collect();
    match parts.as_slice() {
        ["targetgroup", name, id] if !name.is_empty() && !id.is_empty() => {
            Some(Ref::new(Kind::TargetGroup, arn(suffix)))
        }
        ["app" | "net" | "gwy", name, id] if !name.is_empty() && !id.is_empty() => Some(Ref::new(
            Kind::LoadBalancer,
            arn(&format!("loadbalancer/{suffix}")),
        )),
        _ => None,
    }
}

/// The value of a metric dimension: a reference when it names a resource
/// ferry migrates (the alarm then follows it to the destination), the
/// literal value otherwise.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DimensionValue {
    Ref(Ref),
    Literal(String),
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MetricDimension {
    pub name: String,
    pub value: DimensionValue,
}

impl MetricDimension {
    /// A dimension as CloudWatch reports it in `side`: the values of the
    /// dimensions that name migrated kinds become references. Load
    /// balancers and target groups are named by the tail of their ARN
    /// (`app/web/50dc6c495c0c9188`), which is completed into the ARN they
    /// are keyed by.
    pub fn new(name: &str, value: &str, side: &SideInfo) -> MetricDimension {
        let kind = match name {
            "AutoScalingGroupName" => Some(Kind::AutoScalingGroup),
            "InstanceId" => Some(Kind::Instance),
            "VolumeId" => Some(Kind::Volume),
            "ImageId" => Some(Kind::Image),
            "LoadBalancerName" => Some(Kind::ClassicLoadBalancer),
            _ => None,
        };
        let value = match kind {
            Some(k) if !value.is_empty() => DimensionValue::Ref(Ref::new(k, value)),
            None if matches!(name, "LoadBalancer" | "TargetGroup") => {
                match elb_ref_from_suffix(value, side) {
                    Some(r) => DimensionValue::Ref(r),
                    None => DimensionValue::Literal(value.to_string()),
                }
            }
            _ => DimensionValue::Literal(value.to_string()),
        };
        MetricDimension {
            name: name.to_string(),
            value,
        }
    }

    /// The value to send (a translated reference names the destination).
    pub fn value(&self) -> &str {
        match &self.value {
            DimensionValue::Ref(r) => elb_arn_suffix(r),
            DimensionValue::Literal(s) => s,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepAdjustmentSpec {
    #[serde(default)]
    pub lower_bound: Option<f64>,
    #[serde(default)]
    pub upper_bound: Option<f64>,
    pub scaling_adjustment: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PredefinedMetric {
    /// "ASGAverageCPUUtilization", "ALBRequestCountPerTarget", ...
    pub metric_type: String,
    /// The load balancer and target group an ALB metric is about.
    #[serde(default)]
    pub resource_label: Option<ResourceLabel>,
}

/// `app/<lb name>/<id>/targetgroup/<tg name>/<id>`, as references to both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceLabel {
    pub load_balancer: Ref,
    pub target_group: Ref,
}

impl ResourceLabel {
    /// Reads a label of `side`; `None` when it is not of that form.
    pub fn parse(label: &str, side: &SideInfo) -> Option<ResourceLabel> {
        let at = label.find("/targetgroup/")?;
        Some(ResourceLabel {
            load_balancer: elb_ref_from_suffix(&label[..at], side)?,
            target_group: elb_ref_from_suffix(&label[at + 1..], side)?,
        })
    }

    /// The label to send (translated references name the destination).
    pub fn label(&self) -> String {
        format!(
            "{}/{}",
            elb_arn_suffix(&self.load_balancer),
            elb_arn_suffix(&self.target_group)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomizedMetric {
    pub namespace: String,
    pub metric_name: String,
    #[serde(default)]
    pub statistic: Option<String>,
    #[serde(default)]
    pub unit: Option<String>,
    /// Sorted by name.
    #[serde(default)]
    pub dimensions: Vec<MetricDimension>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetTrackingSpec {
    #[serde(default)]
    pub predefined_metric: Option<PredefinedMetric>,
    #[serde(default)]
    pub customized_metric: Option<CustomizedMetric>,
    pub target_value: f64,
    #[serde(default)]
    pub disable_scale_in: bool,
}

/// A scaling policy of a group. Its ID is its ARN, the name alarms use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalingPolicySpec {
    /// `autoscaling_group/<name>`.
    pub group: Ref,
    pub policy_name: String,
    /// "SimpleScaling", "StepScaling" or "TargetTrackingScaling".
    pub policy_type: String,
    #[serde(default)]
    pub adjustment_type: Option<String>,
    #[serde(default)]
    pub scaling_adjustment: Option<i32>,
    #[serde(default)]
    pub cooldown: Option<i32>,
    #[serde(default)]
    pub min_adjustment_magnitude: Option<i32>,
    /// Sorted by lower bound (none first).
    #[serde(default)]
    pub step_adjustments: Vec<StepAdjustmentSpec>,
    #[serde(default)]
    pub metric_aggregation_type: Option<String>,
    #[serde(default)]
    pub estimated_instance_warmup: Option<i32>,
    #[serde(default)]
    pub target_tracking: Option<TargetTrackingSpec>,
    pub enabled: bool,
}

/// Orders optional bounds with "none" (minus infinity) first.
fn bound_order(a: Option<f64>, b: Option<f64>) -> Ordering {
    let key = |x: Option<f64>| x.unwrap_or(f64::NEG_INFINITY);
    key(a).total_cmp(&key(b))
}

impl ScalingPolicySpec {
    pub fn canonical(mut self) -> Self {
        self.step_adjustments.sort_by(|a, b| {
            bound_order(a.lower_bound, b.lower_bound)
                .then_with(|| bound_order(a.upper_bound, b.upper_bound))
        });
        if let Some(c) = self
            .target_tracking
            .as_mut()
            .and_then(|t| t.customized_metric.as_mut())
        {
            c.dimensions.sort();
        }
        self
    }
}

/// What an alarm does when it changes state.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AlarmAction {
    /// A scaling policy (`scaling_policy/<arn>`) or an SNS topic
    /// (`sns_topic/<arn>`, not migrated yet: the plan reports a conflict).
    Ref(Ref),
    /// An EC2 action (`arn:aws:automate:<region>:ec2:<verb>`), by its verb:
    /// the ARN names the region, so it is made again for the destination.
    Ec2 { ec2_action: String },
}

impl AlarmAction {
    /// How a spec holds an action ARN, or why ferry cannot migrate it.
    pub fn from_arn(arn: &str) -> Result<AlarmAction, String> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        if parts.len() < 6 || parts[0] != "arn" {
            return Err(format!("alarm action {arn:?} is not an ARN"));
        }
        match (parts[2], parts[5]) {
            ("autoscaling", rest) if rest.starts_with("scalingPolicy:") => {
                Ok(AlarmAction::Ref(Ref::new(Kind::ScalingPolicy, arn)))
            }
            ("sns", _) => Ok(AlarmAction::Ref(Ref::new(Kind::SnsTopic, arn))),
            ("automate", verb) if parts[4] == "ec2" => Ok(AlarmAction::Ec2 {
                ec2_action: verb.to_string(),
            }),
            (service, _) => Err(format!(
                "alarm action {arn} is a {service} action, which ferry does not migrate yet"
            )),
        }
    }

    /// The ARN to send in `region` (references already translated).
    pub fn arn(&self, partition: &str, region: &str) -> String {
        match self {
            AlarmAction::Ref(r) => r.id().to_string(),
            AlarmAction::Ec2 { ec2_action } => {
                format!("arn:{partition}:automate:{region}:ec2:{ec2_action}")
            }
        }
    }
}

/// A metric alarm on one metric (metric math alarms are skipped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricAlarmSpec {
    pub namespace: String,
    pub metric_name: String,
    #[serde(default)]
    pub statistic: Option<String>,
    #[serde(default)]
    pub extended_statistic: Option<String>,
    /// Sorted by name.
    #[serde(default)]
    pub dimensions: Vec<MetricDimension>,
    pub period: i32,
    pub evaluation_periods: i32,
    #[serde(default)]
    pub datapoints_to_alarm: Option<i32>,
    pub threshold: f64,
    pub comparison_operator: String,
    #[serde(default)]
    pub treat_missing_data: Option<String>,
    #[serde(default)]
    pub evaluate_low_sample_count_percentile: Option<String>,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub actions_enabled: bool,
    /// Each list sorted.
    #[serde(default)]
    pub alarm_actions: Vec<AlarmAction>,
    #[serde(default)]
    pub ok_actions: Vec<AlarmAction>,
    #[serde(default)]
    pub insufficient_data_actions: Vec<AlarmAction>,
}

impl MetricAlarmSpec {
    pub fn canonical(mut self) -> Self {
        self.dimensions.sort();
        for l in [
            &mut self.alarm_actions,
            &mut self.ok_actions,
            &mut self.insufficient_data_actions,
        ] {
            l.sort();
            l.dedup();
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::refs_in;
    use serde_json::json;

    fn side() -> SideInfo {
        SideInfo {
            account: "111111111111".into(),
            region: "us-east-1".into(),
            partition: "aws".into(),
        }
    }

    #[test]
    fn resource_labels_name_both_resources_and_read_back() {
        let l = ResourceLabel::parse("app/web/1a/targetgroup/tg/2b", &side()).unwrap();
        assert_eq!(l.load_balancer.key.kind, Kind::LoadBalancer);
        assert_eq!(
            l.target_group.id(),
            "arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/tg/2b"
        );
        assert_eq!(l.label(), "app/web/1a/targetgroup/tg/2b");
        assert!(ResourceLabel::parse("nonsense", &side()).is_none());
    }

    #[test]
    fn dimensions_naming_migrated_kinds_are_references() {
        let side = side();
        let d = MetricDimension::new("AutoScalingGroupName", "web", &side);
        assert_eq!(
            d.value,
            DimensionValue::Ref(Ref::new(Kind::AutoScalingGroup, "web"))
        );
        assert_eq!(d.value(), "web");
        assert_eq!(
            serde_json::to_value(&d).unwrap(),
            json!({"name": "AutoScalingGroupName", "value": {"$ref": "autoscaling_group/web"}})
        );
        let i = MetricDimension::new("InstanceId", "i-1", &side);
        assert_eq!(refs_in(&serde_json::to_value(&i).unwrap()).len(), 1);
        let lb = MetricDimension::new("LoadBalancer", "app/x/1", &side);
        assert_eq!(
            serde_json::to_value(&lb).unwrap(),
            json!({"name": "LoadBalancer", "value": {"$ref": "load_balancer/arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/app/x/1"}})
        );
        assert_eq!(lb.value(), "app/x/1");
        let tg = MetricDimension::new("TargetGroup", "targetgroup/t/2", &side);
        assert_eq!(tg.value(), "targetgroup/t/2");
        let lit = MetricDimension::new("LoadBalancer", "odd", &side);
        assert_eq!(
            serde_json::to_value(&lit).unwrap(),
            json!({"name": "LoadBalancer", "value": "odd"})
        );
        let classic = MetricDimension::new("LoadBalancerName", "web-elb", &side);
        assert_eq!(
            classic.value,
            DimensionValue::Ref(Ref::new(Kind::ClassicLoadBalancer, "web-elb"))
        );
        let back: MetricDimension =
            serde_json::from_value(serde_json::to_value(&d).unwrap()).unwrap();
        assert_eq!(back, d);
    }

    #[test]
    fn alarm_actions_by_service() {
        let policy = "arn:aws:autoscaling:us-east-1:111111111111:scalingPolicy:c322761b:autoScalingGroupName/web:policyName/up";
        assert_eq!(
            AlarmAction::from_arn(policy),
            Ok(AlarmAction::Ref(Ref::new(Kind::ScalingPolicy, policy)))
        );
        let topic = "arn:aws:sns:us-east-1:111111111111:ops";
        assert_eq!(
            AlarmAction::from_arn(topic),
            Ok(AlarmAction::Ref(Ref::new(Kind::SnsTopic, topic)))
        );
        let stop = AlarmAction::from_arn("arn:aws:automate:us-east-1:ec2:stop").unwrap();
        assert_eq!(
            serde_json::to_value(&stop).unwrap(),
            json!({"ec2_action": "stop"})
        );
        assert_eq!(
            stop.arn("aws", "eu-west-1"),
            "arn:aws:automate:eu-west-1:ec2:stop"
        );
        let lambda = AlarmAction::from_arn("arn:aws:lambda:us-east-1:111111111111:function:f");
        assert!(lambda.unwrap_err().contains("lambda"));
        assert!(AlarmAction::from_arn("nonsense").is_err());
        let back: AlarmAction = serde_json::from_value(json!({"ec2_action": "reboot"})).unwrap();
        assert_eq!(
            back,
            AlarmAction::Ec2 {
                ec2_action: "reboot".into()
            }
        );
    }

    fn group() -> AutoScalingGroupSpec {
        AutoScalingGroupSpec {
            launch_template: None,
            launch_configuration: Some(Ref::new(Kind::LaunchConfiguration, "lc")),
            min_size: 1,
            max_size: 3,
            desired_capacity: 2,
            subnets: vec![
                Ref::new(Kind::Subnet, "subnet-b"),
                Ref::new(Kind::Subnet, "subnet-a"),
            ],
            zones: vec![],
            health_check_type: "EC2".into(),
            health_check_grace_period: 300,
            default_cooldown: 300,
            termination_policies: vec!["OldestInstance".into(), "Default".into()],
            max_instance_lifetime: None,
            capacity_rebalance: false,
            new_instances_protected_from_scale_in: false,
            default_instance_warmup: None,
            service_linked_role: None,
            propagate_at_launch: vec!["team".into(), "Name".into()],
            lifecycle_hooks: vec![],
            scheduled_actions: vec![
                ScheduledActionSpec {
                    name: "night".into(),
                    recurrence: Some("0 20 * * *".into()),
                    start_time: None,
                    end_time: None,
                    time_zone: None,
                    min_size: Some(0),
                    max_size: None,
                    desired_capacity: Some(0),
                },
                ScheduledActionSpec {
                    name: "morning".into(),
                    recurrence: Some("0 7 * * *".into()),
                    start_time: None,
                    end_time: None,
                    time_zone: None,
                    min_size: Some(1),
                    max_size: None,
                    desired_capacity: Some(2),
                },
            ],
            suspended_processes: vec!["Terminate".into(), "AZRebalance".into()],
            enabled_metrics: vec![],
            target_groups: vec![],
            load_balancers: vec![],
        }
    }

    #[test]
    fn group_lists_are_canonical_but_termination_order_is_kept() {
        let a = group().canonical();
        assert_eq!(a.subnets[0].id(), "subnet-a");
        assert_eq!(a.scheduled_actions[0].name, "morning");
        assert_eq!(a.suspended_processes, vec!["AZRebalance", "Terminate"]);
        assert_eq!(a.propagate_at_launch, vec!["Name", "team"]);
        assert_eq!(a.termination_policies, vec!["OldestInstance", "Default"]);
        let mut b = group();
        b.subnets.reverse();
        b.scheduled_actions.reverse();
        assert_eq!(
            serde_json::to_string(&b.canonical()).unwrap(),
            serde_json::to_string(&a).unwrap()
        );
    }

    #[test]
    fn zones_are_translatable_and_refs_visible_to_the_planner() {
        let mut g = group();
        g.subnets.clear();
        g.zones = vec![Zone {
            availability_zone: "us-east-1a".into(),
        }];
        g.lifecycle_hooks = vec![LifecycleHookSpec {
            name: "drain".into(),
            transition: "autoscaling:EC2_INSTANCE_TERMINATING".into(),
            heartbeat_timeout: Some(300),
            default_result: Some("CONTINUE".into()),
            notification_target: Some(ArnRef::Arn("arn:aws:sqs:us-east-1:999:q".into())),
            role: Some(ArnRef::Ref(Ref::new(Kind::IamRole, "hooks"))),
            notification_metadata: None,
        }];
        let v = serde_json::to_value(&g).unwrap();
        assert_eq!(v["zones"][0]["availability_zone"], "us-east-1a");
        let refs = refs_in(&v);
        assert!(refs.contains(&crate::Key::new(Kind::IamRole, "hooks")));
        assert!(refs.contains(&crate::Key::new(Kind::LaunchConfiguration, "lc")));
        let back: AutoScalingGroupSpec = serde_json::from_value(v).unwrap();
        assert_eq!(back, g);
    }

    #[test]
    fn step_adjustments_sort_by_bounds_with_open_ends_first() {
        let step = |l: Option<f64>, u: Option<f64>, s| StepAdjustmentSpec {
            lower_bound: l,
            upper_bound: u,
            scaling_adjustment: s,
        };
        let p = ScalingPolicySpec {
            group: Ref::new(Kind::AutoScalingGroup, "web"),
            policy_name: "steps".into(),
            policy_type: "StepScaling".into(),
            adjustment_type: Some("ChangeInCapacity".into()),
            scaling_adjustment: None,
            cooldown: None,
            min_adjustment_magnitude: None,
            step_adjustments: vec![
                step(Some(10.0), None, 2),
                step(None, Some(0.0), -1),
                step(Some(0.0), Some(10.0), 1),
            ],
            metric_aggregation_type: Some("Average".into()),
            estimated_instance_warmup: None,
            target_tracking: None,
            enabled: true,
        }
        .canonical();
        let adj: Vec<i32> = p
            .step_adjustments
            .iter()
            .map(|s| s.scaling_adjustment)
            .collect();
        assert_eq!(adj, vec![-1, 1, 2]);
    }

    #[test]
    fn alarm_actions_and_dimensions_are_sorted() {
        let a = MetricAlarmSpec {
            namespace: "AWS/EC2".into(),
            metric_name: "CPUUtilization".into(),
            statistic: Some("Average".into()),
            extended_statistic: None,
            dimensions: vec![
                MetricDimension::new("Zeta", "z", &side()),
                MetricDimension::new("AutoScalingGroupName", "web", &side()),
            ],
            period: 60,
            evaluation_periods: 2,
            datapoints_to_alarm: None,
            threshold: 70.0,
            comparison_operator: "GreaterThanThreshold".into(),
            treat_missing_data: None,
            evaluate_low_sample_count_percentile: None,
            unit: None,
            description: None,
            actions_enabled: true,
            alarm_actions: vec![
                AlarmAction::Ec2 {
                    ec2_action: "stop".into(),
                },
                AlarmAction::Ref(Ref::new(Kind::SnsTopic, "arn:b")),
                AlarmAction::Ref(Ref::new(Kind::SnsTopic, "arn:a")),
            ],
            ok_actions: vec![],
            insufficient_data_actions: vec![],
        }
        .canonical();
        assert_eq!(a.dimensions[0].name, "AutoScalingGroupName");
        assert_eq!(
            a.alarm_actions[0],
            AlarmAction::Ref(Ref::new(Kind::SnsTopic, "arn:a"))
        );
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(v["threshold"], json!(70.0));
        let back: MetricAlarmSpec = serde_json::from_value(v).unwrap();
        assert_eq!(back, a);
    }
}
