"""An independent reader of an account-region's load balancing, in the manner
of tests/inventory.py and tests/compute_inventory.py.

    read_lb(session, region) -> {kind: {key: record}}

Kinds are ``KINDS``: Application/Network load balancers, target groups,
listeners and rules (keyed by ARN), classic load balancers (keyed by name)
and the attachments of auto scaling groups (keyed by group name). Read with
boto3 only, normalised so that two equivalent estates read the same:

  - a forward action is its target groups with their weights and the group
    stickiness, however it was written (``TargetGroupArn``, or a
    ``ForwardConfig``); the weight of a lone group is left out (it carries no
    meaning); a rule condition is its field, header name and values (sorted),
    from ``Values`` or from the typed config, whichever AWS reports; query
    strings read ``key=value``;
  - a target group's registered targets leave out the instances of auto
    scaling groups: the group registers them, and its instances differ by
    nature (``attachments`` records that every instance of the group is
    registered instead); a classic load balancer's instances likewise;
  - a listener's certificates are its default and the others
    (DescribeListenerCertificates), by ARN;
  - left out: DNS names and hosted zones (AWS picks them), Elastic IP
    addresses (the allocation is kept), creation times, states, and tags
    with ``aws:`` or ``ferry:`` keys.

    translate(src_inventory, mapping, src_account, dst_account, src_region, dst_region)

rewrites a source read into the destination's terms through ferry's mapping
(compute_inventory.full_mapping); every load balancing and certificate ARN
must be mapped as a whole.
"""

from __future__ import annotations

from typing import Any

import compute_inventory as ci
from inventory import TranslatedInventory, _canonical

KINDS = ("load_balancers", "target_groups", "listeners", "rules", "classic_load_balancers", "attachments")

Inventory = dict[str, dict[str, dict[str, Any]]]

#: ARNs that name a whole resource: the mapping must hold each of them.
WHOLE_ARNS = ("arn:aws:elasticloadbalancing:", "arn:aws:acm:")


# --- actions and conditions ---------------------------------------------------------


def _forward(action: dict[str, Any]) -> dict[str, Any]:
    config = action.get("ForwardConfig") or {}
    groups = [{"target_group": g["TargetGroupArn"], "weight": g.get("Weight", 1)} for g in config.get("TargetGroups", [])]
    if not groups and action.get("TargetGroupArn"):
        groups = [{"target_group": action["TargetGroupArn"], "weight": 1}]
    if len(groups) == 1:
        groups[0].pop("weight")
    sticky = config.get("TargetGroupStickinessConfig") or {}
    return {"target_groups": groups, "stickiness": sticky.get("DurationSeconds") if sticky.get("Enabled") else None}


def action(a: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": a["Type"]}
    if a.get("Order") is not None:
        out["order"] = a["Order"]
    if a["Type"] == "forward":
        out["forward"] = _forward(a)
    elif a["Type"] == "redirect":
        out["redirect"] = {snake(k): v for k, v in a["RedirectConfig"].items()}
    elif a["Type"] == "fixed-response":
        out["fixed_response"] = {snake(k): v for k, v in a["FixedResponseConfig"].items()}
    else:
        out["raw"] = {k: v for k, v in a.items() if k not in ("Type", "Order")}
    return out


def snake(name: str) -> str:
    """``StatusCode`` -> ``status_code``."""
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def actions(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """In the order AWS performs them (a list, kept in that order)."""
    return [action(a) for a in sorted(items, key=lambda a: a.get("Order", 0))]


CONFIG = {
    "host-header": "HostHeaderConfig",
    "path-pattern": "PathPatternConfig",
    "http-header": "HttpHeaderConfig",
    "http-request-method": "HttpRequestMethodConfig",
    "source-ip": "SourceIpConfig",
    "query-string": "QueryStringConfig",
}


def condition(c: dict[str, Any]) -> dict[str, Any]:
    field = c["Field"]
    config = c.get(CONFIG.get(field, ""), {})
    values = config.get("Values") or c.get("Values") or []
    if field == "query-string":
        values = [f"{v.get('Key', '')}={v['Value']}" for v in values]
    out = {"field": field, "values": sorted(values)}
    if field == "http-header":
        out["header"] = config.get("HttpHeaderName")
    return out


# --- the reader -------------------------------------------------------------------


class _Reader:
    def __init__(self, session, region: str) -> None:
        self.elbv2 = session.client("elbv2", region_name=region)
        self.elb = session.client("elb", region_name=region)
        self.autoscaling = session.client("autoscaling", region_name=region)
        self.groups = list(ci._pages(self.autoscaling, "describe_auto_scaling_groups", "AutoScalingGroups"))
        #: Instances of auto scaling groups: registered by their group.
        self.group_instances = {i["InstanceId"] for g in self.groups for i in g.get("Instances", [])}
        self.lbs = list(ci._pages(self.elbv2, "describe_load_balancers", "LoadBalancers"))
        self.tgs = list(ci._pages(self.elbv2, "describe_target_groups", "TargetGroups"))
        self.listener_list = [
            listener
            for lb in self.lbs
            for listener in ci._pages(self.elbv2, "describe_listeners", "Listeners", LoadBalancerArn=lb["LoadBalancerArn"])
        ]
        self.classics = list(ci._pages(self.elb, "describe_load_balancers", "LoadBalancerDescriptions"))

    def raw_tags(self, arns: list[str], classic: bool = False) -> dict[str, list[dict[str, str]]]:
        """Every tag of each ELBv2 ARN (or classic load balancer name), 20 a call."""
        out = {}
        for start in range(0, len(arns), 20):
            if classic:
                found = self.elb.describe_tags(LoadBalancerNames=arns[start : start + 20])["TagDescriptions"]
                out.update((d["LoadBalancerName"], d.get("Tags", [])) for d in found)
            else:
                found = self.elbv2.describe_tags(ResourceArns=arns[start : start + 20])["TagDescriptions"]
                out.update((d["ResourceArn"], d.get("Tags", [])) for d in found)
        return out

    def tags_of(self, arns: list[str], classic: bool = False) -> dict[str, dict[str, str]]:
        """User tags (no aws: or ferry: keys) of each ARN or name."""
        return {arn: ci._tags(tags) for arn, tags in self.raw_tags(arns, classic).items()}

    def rule_list(self) -> list[tuple[str, dict[str, Any]]]:
        """(listener ARN, rule) of every rule but the listeners' defaults."""
        return [
            (listener["ListenerArn"], rule)
            for listener in self.listener_list
            for rule in ci._pages(self.elbv2, "describe_rules", "Rules", ListenerArn=listener["ListenerArn"])
            if not rule.get("IsDefault")
        ]

    def read(self) -> Inventory:
        return {kind: _canonical(getattr(self, kind)()) for kind in KINDS}

    def load_balancers(self) -> dict[str, Any]:
        tags = self.tags_of([lb["LoadBalancerArn"] for lb in self.lbs])
        out = {}
        for lb in self.lbs:
            arn = lb["LoadBalancerArn"]
            attributes = self.elbv2.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]
            addresses = {}
            for zone in lb.get("AvailabilityZones", []):
                for address in zone.get("LoadBalancerAddresses", []):
                    addresses[zone["SubnetId"]] = address.get("AllocationId") or address.get("PrivateIPv4Address")
            out[arn] = {
                "name": lb["LoadBalancerName"],
                "type": lb["Type"],
                "scheme": lb.get("Scheme"),
                "ip_address_type": lb.get("IpAddressType"),
                "vpc": lb.get("VpcId"),
                "subnets": sorted(z["SubnetId"] for z in lb.get("AvailabilityZones", [])),
                "zones": sorted(z["ZoneName"] for z in lb.get("AvailabilityZones", [])),
                "addresses": addresses,
                "security_groups": sorted(lb.get("SecurityGroups", [])),
                "attributes": {a["Key"]: a["Value"] for a in attributes},
                "tags": tags.get(arn, {}),
            }
        return out

    def target_groups(self) -> dict[str, Any]:
        tags = self.tags_of([tg["TargetGroupArn"] for tg in self.tgs])
        out = {}
        for tg in self.tgs:
            arn = tg["TargetGroupArn"]
            attributes = self.elbv2.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]
            health = self.elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
            out[arn] = {
                "name": tg["TargetGroupName"],
                "target_type": tg.get("TargetType"),
                "protocol": tg.get("Protocol"),
                "protocol_version": tg.get("ProtocolVersion"),
                "port": tg.get("Port"),
                "vpc": tg.get("VpcId"),
                "ip_address_type": tg.get("IpAddressType"),
                "health_check": ci._drop_none(
                    {
                        "enabled": tg.get("HealthCheckEnabled"),
                        "protocol": tg.get("HealthCheckProtocol"),
                        "port": tg.get("HealthCheckPort"),
                        "path": tg.get("HealthCheckPath"),
                        "interval": tg.get("HealthCheckIntervalSeconds"),
                        "timeout": tg.get("HealthCheckTimeoutSeconds"),
                        "healthy": tg.get("HealthyThresholdCount"),
                        "unhealthy": tg.get("UnhealthyThresholdCount"),
                        "matcher": tg.get("Matcher"),
                    }
                ),
                "attributes": {a["Key"]: a["Value"] for a in attributes},
                "targets": [
                    ci._drop_none({"id": t["Id"], "port": t.get("Port"), "zone": t.get("AvailabilityZone")})
                    for t in (h["Target"] for h in health)
                    if t["Id"] not in self.group_instances
                ],
                "load_balancers": sorted(tg.get("LoadBalancerArns", [])),
                "tags": tags.get(arn, {}),
            }
        return out

    def listeners(self) -> dict[str, Any]:
        tags = self.tags_of([listener["ListenerArn"] for listener in self.listener_list])
        out = {}
        for listener in self.listener_list:
            arn = listener["ListenerArn"]
            default = [c["CertificateArn"] for c in listener.get("Certificates", [])]
            extra = []
            if default:
                listed = ci._pages(self.elbv2, "describe_listener_certificates", "Certificates", ListenerArn=arn)
                extra = sorted(c["CertificateArn"] for c in listed if not c.get("IsDefault") and c["CertificateArn"] not in default)
            out[arn] = ci._drop_none(
                {
                    "load_balancer": listener["LoadBalancerArn"],
                    "port": listener.get("Port"),
                    "protocol": listener.get("Protocol"),
                    "ssl_policy": listener.get("SslPolicy"),
                    "certificate": default[0] if default else None,
                    "extra_certificates": extra,
                    "alpn_policy": listener.get("AlpnPolicy") or None,
                    "default_actions": actions(listener.get("DefaultActions", [])),
                    "tags": tags.get(arn, {}),
                }
            )
        return out

    def rules(self) -> dict[str, Any]:
        found = self.rule_list()
        tags = self.tags_of([rule["RuleArn"] for _, rule in found])
        return {
            rule["RuleArn"]: {
                "listener": listener,
                "priority": int(rule["Priority"]),
                "conditions": [condition(c) for c in rule.get("Conditions", [])],
                "actions": actions(rule.get("Actions", [])),
                "tags": tags.get(rule["RuleArn"], {}),
            }
            for listener, rule in found
        }

    def classic_load_balancers(self) -> dict[str, Any]:
        tags = self.tags_of([lb["LoadBalancerName"] for lb in self.classics], classic=True)
        out = {}
        for lb in self.classics:
            name = lb["LoadBalancerName"]
            attributes = self.elb.describe_load_balancer_attributes(LoadBalancerName=name)["LoadBalancerAttributes"]
            draining = attributes.get("ConnectionDraining", {})
            access = attributes.get("AccessLog", {})
            policies = lb.get("Policies", {})
            out[name] = {
                "scheme": lb.get("Scheme"),
                "vpc": lb.get("VPCId"),
                "subnets": sorted(lb.get("Subnets", [])),
                "zones": sorted(lb.get("AvailabilityZones", [])),
                "security_groups": sorted(lb.get("SecurityGroups", [])),
                "listeners": [
                    ci._drop_none(
                        {
                            "protocol": d["Listener"]["Protocol"],
                            "port": d["Listener"]["LoadBalancerPort"],
                            "instance_protocol": d["Listener"].get("InstanceProtocol"),
                            "instance_port": d["Listener"]["InstancePort"],
                            "certificate": d["Listener"].get("SSLCertificateId"),
                            "policies": sorted(d.get("PolicyNames", [])),
                        }
                    )
                    for d in lb.get("ListenerDescriptions", [])
                ],
                "health_check": lb.get("HealthCheck"),
                "attributes": {
                    "cross_zone": attributes.get("CrossZoneLoadBalancing", {}).get("Enabled"),
                    "draining": draining.get("Timeout") if draining.get("Enabled") else None,
                    "idle_timeout": attributes.get("ConnectionSettings", {}).get("IdleTimeout"),
                    "access_log": {k: v for k, v in access.items() if k != "Enabled"} if access.get("Enabled") else None,
                },
                "policies": [
                    *({"name": p["PolicyName"], "cookie": "app", "cookie_name": p.get("CookieName")} for p in policies.get("AppCookieStickinessPolicies", [])),
                    *(
                        {"name": p["PolicyName"], "cookie": "lb", "expiration": p.get("CookieExpirationPeriod")}
                        for p in policies.get("LBCookieStickinessPolicies", [])
                    ),
                    *({"name": p, "cookie": None} for p in policies.get("OtherPolicies", [])),
                ],
                "instances": sorted(i["InstanceId"] for i in lb.get("Instances", []) if i["InstanceId"] not in self.group_instances),
                "tags": tags.get(name, {}),
            }
        return out

    def attachments(self) -> dict[str, Any]:
        """Per auto scaling group: what it is attached to, and whether each
        of its instances is registered there (the group's doing)."""
        registered_in_tg: dict[str, set[str]] = {}
        for tg in self.tgs:
            health = self.elbv2.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]
            registered_in_tg[tg["TargetGroupArn"]] = {h["Target"]["Id"] for h in health}
        registered_in_elb = {lb["LoadBalancerName"]: {i["InstanceId"] for i in lb.get("Instances", [])} for lb in self.classics}
        out = {}
        for g in self.groups:
            members = {i["InstanceId"] for i in g.get("Instances", [])}
            tgs, elbs = g.get("TargetGroupARNs", []), g.get("LoadBalancerNames", [])
            if not tgs and not elbs:
                continue
            out[g["AutoScalingGroupName"]] = {
                "instances": len(members),
                "target_groups": {arn: members <= registered_in_tg.get(arn, set()) for arn in tgs},
                "load_balancers": {name: members <= registered_in_elb.get(name, set()) for name in elbs},
                "health_check": g.get("HealthCheckType"),
            }
        return out


def read_lb(session, region: str) -> Inventory:
    """Every load balancing resource in one account-region, normalised."""
    return _Reader(session, region).read()


def ferry_sources(session, region: str) -> list[str]:
    """The ferry:source tag of every load balancing resource in the account:
    what rollback must leave none of."""
    reader = _Reader(session, region)
    arns = (
        [lb["LoadBalancerArn"] for lb in reader.lbs]
        + [tg["TargetGroupArn"] for tg in reader.tgs]
        + [listener["ListenerArn"] for listener in reader.listener_list]
        + [rule["RuleArn"] for _, rule in reader.rule_list()]
    )
    tags = [*reader.raw_tags(arns).values(), *reader.raw_tags([lb["LoadBalancerName"] for lb in reader.classics], classic=True).values()]
    return sorted(t["Value"] for found in tags for t in found if t["Key"] == "ferry:source")


# --- translation ----------------------------------------------------------------------


def translate(
    src_inventory: Inventory,
    mapping: dict[str, str],
    src_account: str,
    dst_account: str,
    src_region: str,
    dst_region: str,
) -> TranslatedInventory:
    """The source read as the destination should read, through ferry's
    `mapping` ("kind/id" keys): compute_inventory.translate's rewriting, and
    every load balancing or certificate ARN the mapping lacks is listed in
    ``unmapped`` (its account and region would otherwise be rewritten into an
    ARN that looks right)."""
    ids = ci.flat(mapping)
    whole: set[str] = set()

    def collect(value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                collect(k)
                collect(v)
        elif isinstance(value, list):
            for v in value:
                collect(v)
        elif isinstance(value, str) and value.startswith(WHOLE_ARNS) and value not in ids:
            whole.add(value)

    collect(src_inventory)
    result = ci.translate(src_inventory, mapping, src_account, dst_account, src_region, dst_region)
    result.unmapped |= whole
    return result


select = ci.select
compare = ci.compare
