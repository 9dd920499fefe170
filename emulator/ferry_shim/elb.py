"""Load balancing as AWS documents it: Application/Network load balancers,
target groups, listeners (elbv2) and classic load balancers (elb).

Each patch below adds one behaviour of AWS that moto 5.2.5 lacks and that a
migration meets; the README's "Load balancing" section lists them with the
documentation they follow. Nothing here decides anything for ferry.

ELBv2 (API reference of each call, and the Elastic Load Balancing user guides):
  - a Network load balancer's ARN reads ``loadbalancer/net/<name>/<id>`` and a
    Gateway one's ``loadbalancer/gwy/...`` (moto: always ``app/``); listener
    ARNs follow;
  - SubnetMappings keep their Elastic IP (AllocationId, which must exist) or
    private address, reported as AvailabilityZones[].LoadBalancerAddresses;
    an Elastic IP a load balancer holds cannot be released;
  - a load balancer made without a Scheme is internet-facing and says so
    (moto reported none);
  - CreateLoadBalancer is idempotent: the same name with the same settings
    returns the existing load balancer, with other settings it is
    DuplicateLoadBalancerName (moto made a second one of the same name);
  - DeleteLoadBalancer refuses while deletion protection is on;
  - an HTTPS or TLS listener needs a certificate, and only those listeners
    have a security policy (moto gave HTTP listeners one);
  - DescribeListeners reports the default certificate only (the others are
    DescribeListenerCertificates');
  - a target group's LoadBalancerArns are the load balancers whose
    listeners or rules forward to it now (moto appended on every use and
    never removed);
  - targets keep the AvailabilityZone they were registered with;
  - instances terminated by auto scaling leave the target groups they were
    in, as instances terminated through TerminateInstances already did.

Classic load balancers:
  - a load balancer in a VPC lists the zones of its subnets (moto: only the
    zones CreateLoadBalancer was given, none when it was given subnets);
  - a stickiness policy name is unique per load balancer
    (DuplicatePolicyName), and a policy a listener uses cannot be deleted;
  - registering an instance twice registers it once;
  - AdditionalAttributes list each key once (moto appended one more
    desync-mitigation entry on each modification);
  - calls naming a load balancer that does not exist answer
    LoadBalancerNotFound (moto: HTTP 500).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models import EC2Backend
from moto.ec2.models import ec2_backends as _ec2_backends
from moto.elb import responses as elb_responses
from moto.elb.exceptions import ELBClientError as ClassicError
from moto.elb.exceptions import LoadBalancerNotFoundError as ClassicNotFound
from moto.elb.models import ELBBackend
from moto.elbv2 import responses as elbv2_responses
from moto.elbv2.exceptions import ELBClientError
from moto.elbv2.models import (
    AvailabilityZone,
    ELBv2Backend,
    FakeHealthStatus,
    FakeLoadBalancer,
    FakeTargetGroup,
    elbv2_backends,
)

from .common import existing

#: The ARN segment of each load balancer type (ARN format in "Resource types
#: defined by Elastic Load Balancing V2", Service Authorization Reference).
ARN_TYPE = {"application": "app", "network": "net", "gateway": "gwy"}
SECURE_PROTOCOLS = ("HTTPS", "TLS")


def apply() -> None:
    _load_balancers()
    _listeners()
    _target_groups()
    _terminations()
    _classic()


# --- load balancers -------------------------------------------------------------


def _subnet_ids(subnets: list[str] | None, mappings: list[dict[str, Any]] | None) -> list[str]:
    return sorted([*(subnets or []), *(m["SubnetId"] for m in mappings or [])])


def _same_settings(lb: FakeLoadBalancer, kwargs: dict[str, Any], subnets: list[str]) -> bool:
    """What CreateLoadBalancer compares to answer with an existing load
    balancer instead of DuplicateLoadBalancerName."""
    return (
        lb.type == (kwargs.get("loadbalancer_type") or "application")
        and lb.scheme == (kwargs.get("scheme") or "internet-facing")
        and sorted(s.id for s in lb.subnets) == subnets
        and getattr(lb, "subnet_mappings", {}) == _mappings(kwargs.get("subnet_mappings"))
    )


def _mappings(mappings: list[dict[str, Any]] | None) -> dict[str, dict[str, str]]:
    """SubnetId -> what the mapping fixes there (an Elastic IP, a private address)."""
    out = {}
    for m in mappings or []:
        kept = {k: m[k] for k in ("AllocationId", "PrivateIPv4Address") if m.get(k)}
        if kept:
            out[m["SubnetId"]] = kept
    return out


def _addresses(lb: FakeLoadBalancer, subnet_id: str) -> list[dict[str, str]] | None:
    """LoadBalancerAddresses of the load balancer's node in a subnet."""
    fixed = getattr(lb, "subnet_mappings", {}).get(subnet_id)
    if not fixed:
        return None
    if "AllocationId" in fixed:
        ec2 = existing(_ec2_backends, lb.arn.split(":")[4], lb.arn.split(":")[3])
        eip = next((a for a in ec2.addresses if a.allocation_id == fixed["AllocationId"]), None) if ec2 else None
        return [{"IpAddress": eip.public_ip if eip else None, "AllocationId": fixed["AllocationId"]}]
    return [{"PrivateIPv4Address": fixed["PrivateIPv4Address"]}]


def _availability_zones(self: FakeLoadBalancer) -> list[AvailabilityZone]:
    zones = []
    for subnet in self.subnets:
        zone = AvailabilityZone(subnet)
        addresses = _addresses(self, subnet.id)
        if addresses:
            zone.load_balancer_addresses = addresses  # type: ignore[attr-defined]
        zones.append(zone)
    return zones


def _load_balancers() -> None:
    create = ELBv2Backend.create_load_balancer
    delete = ELBv2Backend.delete_load_balancer

    def create_load_balancer(self: ELBv2Backend, name: str, *args: Any, **kwargs: Any) -> FakeLoadBalancer:
        # Positional arguments as moto's signature: security_groups, subnet_ids.
        names = ("security_groups", "subnet_ids", "subnet_mappings", "scheme", "loadbalancer_type", "ip_address_type", "tags")
        kwargs.update(zip(names, args))
        subnets = _subnet_ids(kwargs.get("subnet_ids"), kwargs.get("subnet_mappings"))
        for lb in self.load_balancers.values():
            if lb.name == name:
                if _same_settings(lb, kwargs, subnets):
                    return lb
                raise ELBClientError("DuplicateLoadBalancerName", "A load balancer with the specified name already exists.")
        for allocation in (m.get("AllocationId") for m in kwargs.get("subnet_mappings") or []):
            if allocation and not any(a.allocation_id == allocation for a in self.ec2_backend.addresses):
                raise ELBClientError("AllocationIdNotFound", f"The specified allocation ID does not exist: {allocation}")
        lb = create(self, name, **kwargs)
        lb.scheme = lb.scheme or "internet-facing"  # AWS's default, which moto left unset
        segment = ARN_TYPE.get(lb.type, "app")
        if segment != "app":
            old = lb.arn
            lb.arn = old.replace(":loadbalancer/app/", f":loadbalancer/{segment}/", 1)
            self.load_balancers = OrderedDict((lb.arn if k == old else k, v) for k, v in self.load_balancers.items())
            tags = self.tagging_service.get_tag_dict_for_resource(old)
            self.tagging_service.delete_all_tags_for_resource(old)
            if tags:
                self.tagging_service.tag_resource(lb.arn, [{"Key": k, "Value": v} for k, v in tags.items()])
        lb.subnet_mappings = _mappings(kwargs.get("subnet_mappings"))  # type: ignore[attr-defined]
        return lb

    def delete_load_balancer(self: ELBv2Backend, arn: str) -> None:
        lb = self.load_balancers.get(arn)
        if lb is not None and str(lb.attrs.get("deletion_protection.enabled", "false")).lower() == "true":
            raise ELBClientError(
                "OperationNotPermitted",
                f"Load balancer '{arn}' cannot be deleted because deletion protection is enabled",
            )
        delete(self, arn)

    ELBv2Backend.create_load_balancer = create_load_balancer  # type: ignore[method-assign]
    ELBv2Backend.delete_load_balancer = delete_load_balancer  # type: ignore[method-assign]
    FakeLoadBalancer.availability_zones = property(_availability_zones)  # type: ignore[assignment]

    release = EC2Backend.release_address

    def release_address(self: EC2Backend, address: str | None = None, allocation_id: str | None = None) -> None:
        """An Elastic IP a Network load balancer holds is in use (ReleaseAddress:
        an associated address in a VPC answers InvalidIPAddress.InUse)."""
        eips = self.address_by_ip([address]) if address else self.address_by_allocation([allocation_id])
        held = eips[0].allocation_id
        elbv2 = existing(elbv2_backends, self.account_id, self.region_name)
        for lb in elbv2.load_balancers.values() if elbv2 is not None and held else ():
            if any(m.get("AllocationId") == held for m in getattr(lb, "subnet_mappings", {}).values()):
                raise EC2ClientError("InvalidIPAddress.InUse", f"Address {eips[0].public_ip} is in use by {lb.arn}.")
        release(self, address=address, allocation_id=allocation_id)

    EC2Backend.release_address = release_address  # type: ignore[method-assign]


# --- listeners --------------------------------------------------------------------


def _default_certificate_only(data: list[str]) -> list[dict[str, str]] | None:
    """Listener.Certificates: "[HTTPS or TLS listener] The default certificate
    for the listener." The others are listed by DescribeListenerCertificates."""
    return [{"CertificateArn": cert} for cert in data[:1]] or None


def _listeners() -> None:
    create = ELBv2Backend.create_listener

    def create_listener(
        self: ELBv2Backend,
        load_balancer_arn: str,
        protocol: str,
        port: str,
        ssl_policy: str,
        certificate: str | None,
        actions: list[dict[str, Any]],
        alpn_policy: list[str] | None = None,
        tags: list[dict[str, str]] | None = None,
    ) -> Any:
        secure = (protocol or "").upper() in SECURE_PROTOCOLS
        if secure and not certificate:
            raise ELBClientError(
                "InvalidConfigurationRequest",
                f"You must provide a list containing exactly one certificate if the listener protocol is {protocol.upper()}.",
            )
        return create(
            self, load_balancer_arn, protocol, port, ssl_policy if secure else None, certificate, actions, alpn_policy, tags
        )

    ELBv2Backend.create_listener = create_listener  # type: ignore[method-assign]
    transformers = elbv2_responses.ELBV2Response.RESPONSE_KEY_PATH_TO_TRANSFORMER
    for op in ("CreateListener", "DescribeListeners", "ModifyListener"):
        transformers[f"{op}Output.Listeners.Listener.Certificates"] = _default_certificate_only


# --- target groups ----------------------------------------------------------------


def _routing_load_balancers(self: FakeTargetGroup) -> list[str]:
    """TargetGroup.LoadBalancerArns: the load balancers that route to the
    group, i.e. whose listeners or rules forward to it now."""
    backend = existing(elbv2_backends, self.account_id, self.region_name)
    if backend is None:
        return []
    out = []
    for lb in backend.load_balancers.values():
        uses = (
            self.arn in backend._get_target_group_arns_from(action_data=action.data)
            for listener in lb.listeners.values()
            for rule in listener.rules.values()
            for action in rule.actions
        )
        if any(uses):
            out.append(lb.arn)
    return out


def _target_groups() -> None:
    # __init__ assigns [] and moto appends on each listener or rule: ignore both.
    FakeTargetGroup.load_balancer_arns = property(_routing_load_balancers, lambda self, value: None)  # type: ignore[assignment]

    register = FakeTargetGroup.register

    def register_targets(self: FakeTargetGroup, targets: list[dict[str, Any]]) -> None:
        register(self, targets)
        for target in targets:
            if target.get("AvailabilityZone") and target["Id"] in self.targets:
                self.targets[target["Id"]]["AvailabilityZone"] = target["AvailabilityZone"]

    FakeTargetGroup.register = register_targets  # type: ignore[method-assign]

    health_for = FakeTargetGroup.health_for

    def health(self: FakeTargetGroup, target: dict[str, Any], ec2_backend: Any) -> FakeHealthStatus:
        status = health_for(self, target, ec2_backend)
        registered = self.targets.get(target["Id"]) or {}
        status.availability_zone = registered.get("AvailabilityZone")  # type: ignore[attr-defined]
        return status

    FakeTargetGroup.health_for = health  # type: ignore[method-assign]
    target = FakeHealthStatus.target

    def with_zone(self: FakeHealthStatus) -> dict[str, str]:
        out = target.fget(self)  # type: ignore[attr-defined]
        zone = getattr(self, "availability_zone", None)
        return {**out, "AvailabilityZone": zone} if zone else out

    FakeHealthStatus.target = property(with_zone)  # type: ignore[assignment]


def _terminations() -> None:
    """Auto scaling terminates instances through the EC2 backend, not the
    TerminateInstances API that tells ELBv2; AWS deregisters the instances an
    auto scaling group terminates from its target groups ("Elastic Load
    Balancing and Amazon EC2 Auto Scaling": instances are deregistered
    before they are terminated)."""
    terminate = EC2Backend.terminate_instances

    def terminate_instances(self: EC2Backend, instance_ids: list[str]) -> Any:
        out = terminate(self, instance_ids)
        elbv2 = existing(elbv2_backends, self.account_id, self.region_name)
        if elbv2 is not None:
            elbv2.notify_terminate_instances([instance.id for instance, _ in out])
        return out

    EC2Backend.terminate_instances = terminate_instances  # type: ignore[method-assign]


# --- classic load balancers -----------------------------------------------------------


def _classic() -> None:
    def unique_policy(original: Any) -> Any:
        def create(self: ELBBackend, load_balancer_name: str, policy_name: str, *args: Any) -> Any:
            lb = self.get_load_balancer(load_balancer_name)
            if lb is None:
                raise ClassicNotFound(load_balancer_name)
            if any(p.policy_name == policy_name for p in lb.policies):
                raise ClassicError(
                    "DuplicatePolicyName", f"Policy {policy_name} already exists for load balancer {load_balancer_name}"
                )
            return original(self, load_balancer_name, policy_name, *args)

        return create

    ELBBackend.create_app_cookie_stickiness_policy = unique_policy(ELBBackend.create_app_cookie_stickiness_policy)  # type: ignore[method-assign]
    ELBBackend.create_lb_cookie_stickiness_policy = unique_policy(ELBBackend.create_lb_cookie_stickiness_policy)  # type: ignore[method-assign]

    delete_policy = ELBBackend.delete_load_balancer_policy

    def delete_load_balancer_policy(self: ELBBackend, lb_name: str, policy_name: str) -> None:
        lb = self.get_load_balancer(lb_name)
        if lb is None:
            raise ClassicNotFound(lb_name)
        if any(policy_name in listener.policy_names for listener in lb.listeners) or any(
            policy_name in backend.policy_names for backend in lb.backends
        ):
            raise ClassicError(
                "InvalidConfigurationRequest", f"Cannot delete policy {policy_name}: it is enabled for a listener or back end"
            )
        delete_policy(self, lb_name, policy_name)

    ELBBackend.delete_load_balancer_policy = delete_load_balancer_policy  # type: ignore[method-assign]

    create = ELBBackend.create_load_balancer

    def create_load_balancer(self: ELBBackend, name: str, zones: list[str], *args: Any, **kwargs: Any) -> Any:
        lb = create(self, name, zones, *args, **kwargs)
        _zones_of_subnets(self, lb)
        return lb

    ELBBackend.create_load_balancer = create_load_balancer  # type: ignore[method-assign]
    for method in ("attach_load_balancer_to_subnets", "detach_load_balancer_from_subnets"):
        setattr(ELBBackend, method, _then_zones(getattr(ELBBackend, method)))

    register = ELBBackend.register_instances

    def register_instances(self: ELBBackend, load_balancer_name: str, instance_ids: Any, from_autoscaling: bool = False) -> Any:
        lb = self.get_load_balancer(load_balancer_name)
        if lb is None:
            raise ClassicNotFound(load_balancer_name)
        fresh = [i for i in dict.fromkeys(instance_ids) if i not in lb.instance_ids]
        return register(self, load_balancer_name, fresh, from_autoscaling)

    ELBBackend.register_instances = register_instances  # type: ignore[method-assign]

    modify = ELBBackend.modify_load_balancer_attributes

    def modify_load_balancer_attributes(self: ELBBackend, load_balancer_name: str, **kwargs: Any) -> None:
        modify(self, load_balancer_name, **kwargs)
        attributes = self.get_load_balancer(load_balancer_name).attributes
        attributes["additional_attributes"] = list(dict(attributes["additional_attributes"]).items())

    ELBBackend.modify_load_balancer_attributes = modify_load_balancer_attributes  # type: ignore[method-assign]

    # Calls whose response method dereferences the load balancer unchecked.
    for name in (
        "describe_load_balancer_attributes",
        "modify_load_balancer_attributes",
        "configure_health_check",
        "create_app_cookie_stickiness_policy",
        "create_lb_cookie_stickiness_policy",
        "create_load_balancer_policy",
        "set_load_balancer_policies_of_listener",
        "set_load_balancer_policies_for_backend_server",
        "register_instances_with_load_balancer",
        "deregister_instances_from_load_balancer",
        "apply_security_groups_to_load_balancer",
        "delete_load_balancer_listeners",
        "create_load_balancer_listeners",
    ):
        setattr(elb_responses.ELBResponse, name, _needs_load_balancer(getattr(elb_responses.ELBResponse, name)))


def _zones_of_subnets(backend: ELBBackend, lb: Any) -> None:
    """A load balancer in a VPC is in the zones of its subnets
    (LoadBalancerDescription.AvailabilityZones); moto listed only the zones
    given to CreateLoadBalancer, none when it was given subnets."""
    if lb.subnets:
        ec2 = existing(_ec2_backends, backend.account_id, backend.region_name)
        lb.availability_zones = sorted({ec2.get_subnet(s).availability_zone for s in lb.subnets})


def _then_zones(method: Any) -> Any:
    def changed_subnets(self: ELBBackend, load_balancer_name: str, subnets: list[str]) -> list[str]:
        out = method(self, load_balancer_name, subnets)
        _zones_of_subnets(self, self.get_load_balancer(load_balancer_name))
        return out

    return changed_subnets


def _needs_load_balancer(handler: Any) -> Any:
    def checked(self: elb_responses.ELBResponse) -> Any:
        name = self._get_param("LoadBalancerName")
        if self.elb_backend.get_load_balancer(name) is None:
            raise ClassicNotFound(name)
        return handler(self)

    checked.__name__ = handler.__name__
    return checked
