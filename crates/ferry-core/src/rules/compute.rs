//! Planning rules of the compute kinds: images that cannot be copied or
//! whose name is taken, `[compute]` options, and fields that only say how a
//! resource is made.

use super::{field_name, name_taken, typed, KindRules, PlanCx};
use crate::kind::Kind;
use crate::plan::{Action, PlanInput, PlanItem};
use crate::spec::compute::{ImageSpec, InstanceSpec, VolumeSpec};
use crate::spec::templates::LaunchTemplateSpec;
use serde_json::Value;

pub struct KeyPair;

impl KindRules for KeyPair {
    /// Deleted after launch: EC2 has no public key to import.
    fn absent_reference(&self) -> Option<&'static str> {
        Some("not in the source account, so no public key is available to import (ferry never handles private keys); import the public key in the destination and drop the instance from [scope], or relaunch it with another key")
    }
}

pub struct Image;

impl KindRules for Image {
    /// The image ferry makes of an instance holds whatever CreateImage
    /// captures of its volumes: it is compared by what identifies it, the
    /// instance by its own spec.
    fn uncompared_fields(&self, spec: &Value) -> Vec<&'static str> {
        let from = field_name(|s: &ImageSpec| &s.from_instance, "from_instance");
        let devices = field_name(|s: &ImageSpec| &s.block_devices, "block_devices");
        let mut fields = vec![from, NO_REBOOT];
        if typed::<ImageSpec>(spec).is_some_and(|i| i.from_instance.is_some()) {
            fields.push(devices);
        }
        fields
    }

    fn apply_options(&self, item: &mut PlanItem, input: &PlanInput) {
        let of_instance = typed::<ImageSpec>(&item.resource.spec).map(|i| i.from_instance);
        if !matches!(of_instance, Some(Some(_))) {
            return;
        }
        if let Some(m) = item.resource.spec.as_object_mut() {
            m.insert(NO_REBOOT.into(), Value::Bool(input.no_reboot));
        }
        item.notes.push(if input.no_reboot {
            "made without rebooting the instance ([compute] no_reboot = true): the file system may not be consistent".into()
        } else {
            "made by rebooting the instance for a consistent file system ([compute] no_reboot = false)".into()
        });
    }

    fn conflicts(&self, item: &PlanItem, cx: &PlanCx) -> Vec<String> {
        let Some(spec) = typed::<ImageSpec>(&item.resource.spec) else {
            return vec![];
        };
        let mut out = vec![];
        if !spec.product_codes.is_empty() {
            out.push(format!(
                "marketplace image (product codes {}): AWS does not copy it to another account; rebuild it in the destination from its Marketplace listing",
                spec.product_codes.join(", ")
            ));
        }
        if item.action == Action::Create {
            if let Some(other) = cx.dest.of_kind(Kind::Image).find(|d| {
                typed::<ImageSpec>(&d.spec).is_some_and(|d| d.name == spec.name)
                    && !cx.claimed.contains(&d.key.id)
            }) {
                out.push(format!(
                    "image name {:?} is already taken in the destination by {}",
                    spec.name, other.key.id
                ));
            }
        }
        out
    }
}

/// [`ImageSpec::no_reboot`], set by `[compute] no_reboot` on the images ferry
/// makes of instances.
const NO_REBOOT: &str = field_name(|s: &ImageSpec| &s.no_reboot, "no_reboot");

pub struct Volume;

impl KindRules for Volume {
    fn uncompared_fields(&self, _spec: &Value) -> Vec<&'static str> {
        vec![field_name(
            |s: &VolumeSpec| &s.source_snapshot,
            "source_snapshot",
        )]
    }
}

pub struct Instance;

impl KindRules for Instance {
    fn uncompared_fields(&self, _spec: &Value) -> Vec<&'static str> {
        vec![PRIVATE_IP]
    }

    fn apply_options(&self, item: &mut PlanItem, input: &PlanInput) {
        let spec = &mut item.resource.spec;
        if input.keep_private_ips {
            if let Some(ip) = spec.get(PRIVATE_IP).and_then(Value::as_str) {
                item.notes.push(format!(
                    "keeps its private IP {ip} ([compute] keep_private_ips)"
                ));
            }
        } else if let Some(m) = spec.as_object_mut() {
            m.remove(PRIVATE_IP);
        }
    }
}

/// [`InstanceSpec::private_ip`], dropped from the plan's spec unless
/// `[compute] keep_private_ips`.
const PRIVATE_IP: &str = field_name(|s: &InstanceSpec| &s.private_ip, "private_ip");

pub struct LaunchTemplate;

impl KindRules for LaunchTemplate {
    fn conflicts(&self, item: &PlanItem, cx: &PlanCx) -> Vec<String> {
        name_taken(item, cx, |spec| {
            spec.get(field_name(|s: &LaunchTemplateSpec| &s.name, "name"))
                .and_then(Value::as_str)
                .map(String::from)
        })
    }
}
