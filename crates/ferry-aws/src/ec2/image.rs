//! Images (AMIs): the ones the source owns are copied into the destination
//! (share, grant the key, CopyImage encrypted under the mapped key, wait,
//! withdraw); public and Amazon images are referenced by owner and name.
//! Each standalone instance also gets an image made of it, keyed
//! `image/<instance id>`, which its destination twin is launched from.

use crate::adapter::{by_ids, parse};
use crate::ratelimit::Class;
use crate::transfer::CopyCx;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use aws_sdk_ec2::types::ResourceType;
use ferry_core::spec::compute::{BlockDevice, ImageRef, ImageSpec, PublicImage};
use ferry_core::{Kind, Ref, Resource};
use std::collections::BTreeMap;

/// How specs name the images behind `ids` (instances, launch templates and
/// configurations): images this account owns are references (migrated);
/// others (public, Amazon, shared with us) by owner and name, to be found
/// again in the destination region. IDs that no longer exist stay
/// references, which the plan then reports as not in the source estate.
pub async fn image_refs(cx: &Side, ids: &[String]) -> Result<BTreeMap<String, ImageRef>> {
    let mut out = BTreeMap::new();
    let mut wanted: Vec<String> = ids.to_vec();
    wanted.sort();
    wanted.dedup();
    wanted.retain(|i| !i.is_empty());
    for chunk in wanted.chunks(100) {
        let found = cx
            .ec2(Class::Read)
            .await
            .describe_images()
            .set_image_ids(Some(chunk.to_vec()))
            .send()
            .await;
        let images = match found {
            Ok(o) => o.images().to_vec(),
            // One unknown ID fails the whole call in AWS: ask one by one.
            Err(e) => {
                let e = cx.err("DescribeImages", e);
                if !e.is_not_found() {
                    return Err(e);
                }
                let mut one_by_one = vec![];
                for id in chunk {
                    match cx
                        .ec2(Class::Read)
                        .await
                        .describe_images()
                        .image_ids(id)
                        .send()
                        .await
                    {
                        Ok(o) => one_by_one.extend(o.images().iter().cloned()),
                        Err(e) => {
                            let e = cx.err("DescribeImages", e);
                            if !e.is_not_found() {
                                return Err(e);
                            }
                        }
                    }
                }
                one_by_one
            }
        };
        for i in images {
            let id = i.image_id().unwrap_or_default().to_string();
            let owner = i.owner_id().unwrap_or_default();
            let r = if owner == cx.info.account {
                ImageRef::Owned(Ref::new(Kind::Image, &id))
            } else {
                ImageRef::Public(PublicImage {
                    owner: owner.to_string(),
                    name: i.name().unwrap_or_default().to_string(),
                })
            };
            out.insert(id, r);
        }
    }
    for id in wanted {
        out.entry(id.clone())
            .or_insert_with(|| ImageRef::Owned(Ref::new(Kind::Image, id)));
    }
    Ok(out)
}

/// The ID to launch from, in `cx`'s region: a migrated image's (already
/// translated) reference, or the newest public image of that owner and name.
pub async fn resolve_image(cx: &Side, image: &ImageRef) -> Result<String> {
    match image {
        ImageRef::Owned(r) => Ok(r.id().to_string()),
        ImageRef::Public(p) => {
            let out = cx
                .ec2(Class::Read)
                .await
                .describe_images()
                .owners(&p.owner)
                .filters(super::filter("name", [p.name.clone()]))
                .send()
                .await
                .map_err(|e| cx.err("DescribeImages", e))?;
            out.images()
                .iter()
                .max_by_key(|i| i.creation_date().unwrap_or_default().to_string())
                .and_then(|i| i.image_id())
                .map(String::from)
                .ok_or_else(|| {
                    cx.invalid(format!(
                        "public image {:?} of owner {} does not exist in {}",
                        p.name, p.owner, cx.info.region
                    ))
                })
        }
    }
}

/// Images this account owns, and (in the source) the image ferry makes of
/// each standalone instance, keyed `image/<instance id>`.
pub struct Image;

const SCRATCH_OF_INSTANCE: &str = "image of ";
const SCRATCH_REENCRYPTED: &str = "re-encrypted ";

async fn list(cx: &Side, lookup: &Lookup) -> Result<Vec<aws_sdk_ec2::types::Image>> {
    let ids: Vec<String> = match lookup {
        Lookup::Ids(ids) => ids
            .iter()
            .filter(|i| i.starts_with("ami-"))
            .cloned()
            .collect(),
        _ => vec![],
    };
    if matches!(lookup, Lookup::Ids(_)) && ids.is_empty() {
        return Ok(vec![]);
    }
    let fetch = |ids: Vec<String>| async move {
        let mut out = vec![];
        let mut req = cx
            .ec2(Class::Read)
            .await
            .describe_images()
            .owners("self")
            .set_filters(match lookup {
                Lookup::SourceTag(_) => Some(super::lookup_filters(lookup, "image-id")),
                _ => None,
            });
        if !ids.is_empty() {
            req = req.set_image_ids(Some(ids));
        }
        let mut pages = req.into_paginator().send();
        while let Some(page) = pages.next().await {
            out.extend(
                page.map_err(|e| cx.err("DescribeImages", e))?
                    .images()
                    .iter()
                    .cloned(),
            );
        }
        Ok(out)
    };
    if ids.is_empty() {
        fetch(vec![]).await
    } else {
        by_ids(&ids, fetch).await
    }
}

/// (encrypted, key id) of every snapshot behind `images`.
async fn encryption(
    cx: &Side,
    images: &[aws_sdk_ec2::types::Image],
) -> Result<BTreeMap<String, (bool, Option<String>)>> {
    let ids: Vec<String> = images
        .iter()
        .flat_map(|i| i.block_device_mappings())
        .filter_map(|b| b.ebs()?.snapshot_id().map(String::from))
        .collect();
    let mut out = BTreeMap::new();
    for chunk in ids.chunks(100) {
        let found = by_ids(chunk, |ids| async move {
            super::carry::snapshot_keys(cx, &ids).await
        })
        .await?;
        for (id, enc, key) in found {
            out.insert(id, (enc, key));
        }
    }
    Ok(out)
}

fn spec_of(
    i: &aws_sdk_ec2::types::Image,
    keys: &BTreeMap<String, (bool, Option<String>)>,
    ebs_default: Option<&str>,
) -> ImageSpec {
    let mut block_devices: Vec<BlockDevice> = i
        .block_device_mappings()
        .iter()
        .map(|b| {
            let ebs = b.ebs();
            let (encrypted, key) = ebs
                .and_then(|e| e.snapshot_id())
                .and_then(|s| keys.get(s).cloned())
                .unwrap_or((ebs.and_then(|e| e.encrypted()).unwrap_or(false), None));
            BlockDevice {
                device_name: b.device_name().unwrap_or_default().to_string(),
                volume_size: ebs.and_then(|e| e.volume_size()),
                volume_type: ebs
                    .and_then(|e| e.volume_type())
                    .map(|t| t.as_str().to_string()),
                iops: ebs.and_then(|e| e.iops()),
                throughput: ebs.and_then(|e| e.throughput()),
                delete_on_termination: ebs.and_then(|e| e.delete_on_termination()),
                encrypted: ebs.map(|_| encrypted),
                kms_key: crate::kms::key_ref(key.as_deref(), ebs_default),
                snapshot: None,
                virtual_name: b.virtual_name().map(String::from),
            }
        })
        .collect();
    block_devices.sort();
    let mut product_codes: Vec<String> = i
        .product_codes()
        .iter()
        .filter_map(|p| p.product_code_id().map(String::from))
        .collect();
    product_codes.sort();
    ImageSpec {
        name: i.name().unwrap_or_default().to_string(),
        description: i.description().filter(|d| !d.is_empty()).map(String::from),
        architecture: i.architecture().map(|a| a.as_str().to_string()),
        virtualization_type: i.virtualization_type().map(|v| v.as_str().to_string()),
        root_device_name: i.root_device_name().map(String::from),
        block_devices,
        product_codes,
        from_instance: None,
        no_reboot: false,
    }
}

/// The Marketplace product codes of an image (none when it is gone).
async fn product_codes_of(cx: &Side, image: &str) -> Result<Vec<String>> {
    let out = cx
        .ec2(Class::Read)
        .await
        .describe_image_attribute()
        .image_id(image)
        .attribute(aws_sdk_ec2::types::ImageAttributeName::ProductCodes)
        .send()
        .await;
    match out.map_err(|e| cx.err("DescribeImageAttribute", e)) {
        Ok(o) => Ok(o
            .product_codes()
            .iter()
            .filter_map(|p| p.product_code_id().map(String::from))
            .collect()),
        Err(e) if e.is_not_found() || e.code() == Some("AuthFailure") => Ok(vec![]),
        Err(e) => Err(e),
    }
}

/// The image ferry makes of each standalone instance (source side only).
async fn instance_images(cx: &Side, only: Option<&[String]>) -> Result<Vec<Resource>> {
    let instances = super::instance::standalone(cx, only).await?;
    let mut launched_from: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for i in &instances {
        if let Some(image) = i.image_id() {
            if !launched_from.contains_key(image) {
                launched_from.insert(image.to_string(), product_codes_of(cx, image).await?);
            }
        }
    }
    Ok(instances
        .into_iter()
        .map(|i| {
            let id = i.instance_id().unwrap_or_default().to_string();
            // An image of an instance keeps the product codes of the image it
            // was launched from (Marketplace software stays Marketplace).
            let mut product_codes: Vec<String> = i
                .product_codes()
                .iter()
                .filter_map(|p| p.product_code_id().map(String::from))
                .chain(
                    i.image_id()
                        .and_then(|im| launched_from.get(im))
                        .into_iter()
                        .flatten()
                        .cloned(),
                )
                .collect();
            product_codes.sort();
            product_codes.dedup();
            let spec = ImageSpec {
                name: format!("ferry-{id}"),
                description: Some(format!("ferry: image of instance {id}")),
                architecture: i.architecture().map(|a| a.as_str().to_string()),
                virtualization_type: i.virtualization_type().map(|v| v.as_str().to_string()),
                root_device_name: i.root_device_name().map(String::from),
                block_devices: vec![],
                product_codes,
                from_instance: Some(id.clone()),
                no_reboot: false,
            };
            let label = super::tag_pairs(i.tags())
                .find(|(k, _)| *k == "Name")
                .map(|(_, v)| v.to_string())
                .unwrap_or_else(|| id.clone());
            let mut r = Resource::with_tags(
                ferry_core::Key::new(Kind::Image, &id),
                ferry_core::spec::to_value(&spec),
                std::iter::empty::<(&str, &str)>(),
            );
            r.name = Some(format!("image of {label}"));
            r
        })
        .collect())
}

#[async_trait]
impl KindAdapter for Image {
    fn kind(&self) -> Kind {
        Kind::Image
    }

    async fn describe(&self, cx: &Side, lookup: &Lookup) -> Result<Vec<Resource>> {
        let images: Vec<_> = list(cx, lookup)
            .await?
            .into_iter()
            .filter(|i| {
                !super::tag_pairs(i.tags()).any(|(k, _)| k == super::carry::TAG_SCRATCH)
                    && is_live(i)
            })
            .collect();
        let keys = encryption(cx, &images).await?;
        let ebs_default = if keys.values().any(|(enc, _)| *enc) {
            crate::kms::ebs_default_key(cx).await?
        } else {
            None
        };
        let mut out: Vec<Resource> = images
            .iter()
            .map(|i| {
                let spec = spec_of(i, &keys, ebs_default.as_deref());
                let mut r = super::resource(
                    Kind::Image,
                    i.image_id().unwrap_or_default(),
                    ferry_core::spec::to_value(&spec),
                    i.tags(),
                );
                if r.name.is_none() {
                    r.name = Some(spec.name.clone());
                }
                r
            })
            .collect();
        // Only the source has instances to carry across.
        if cx.name == "source" {
            match lookup {
                Lookup::All => out.extend(instance_images(cx, None).await?),
                Lookup::Ids(ids) => {
                    let ids: Vec<String> = ids
                        .iter()
                        .filter(|i| i.starts_with("i-"))
                        .cloned()
                        .collect();
                    if !ids.is_empty() {
                        out.extend(instance_images(cx, Some(&ids)).await?);
                    }
                }
                Lookup::SourceTag(_) => {}
            }
        }
        Ok(out)
    }

    async fn create(&self, cx: &Side, want: &Desired) -> Result<String> {
        let s: ImageSpec = parse(cx, Kind::Image, &want.spec)?;
        let copy = super::carry::copy_of(cx, want)?;
        let src = &copy.source;
        let mut opened = super::carry::Opened::default();
        let result = async {
            let mut image_id = match &s.from_instance {
                Some(instance) => image_of_instance(copy, instance, &s, copy.no_reboot).await?,
                None => want.source_id.clone(),
            };
            let snaps = super::carry::snapshot_keys(
                src,
                &super::carry::image_snapshots(src, &image_id).await?,
            )
            .await?;
            if super::carry::uses_default_key(src, &snaps).await? {
                image_id = reencrypt(copy, &image_id, &s.name, &mut opened).await?;
            }
            super::carry::share_image(copy, &image_id, &cx.info.account, &mut opened).await?;
            let encrypted = s.block_devices.iter().any(|b| b.encrypted == Some(true));
            let key = super::carry::dest_key(s.block_devices.iter().map(|b| &b.kms_key));
            let out = cx
                .ec2(Class::CopyImage)
                .await
                .copy_image()
                .source_image_id(&image_id)
                .source_region(&src.info.region)
                .name(&s.name)
                .set_description(s.description.clone())
                .encrypted(encrypted)
                .set_kms_key_id(key.filter(|_| encrypted))
                .client_token(super::carry::client_token(want))
                .set_tag_specifications(super::tag_spec(ResourceType::Image, want).map(|t| vec![t]))
                .send()
                .await
                .map_err(|e| cx.err("CopyImage", e))?;
            let dest_id = out
                .image_id()
                .map(String::from)
                .ok_or_else(|| cx.invalid("CopyImage returned no image id"))?;
            super::carry::tag(cx, &dest_id, super::to_tags(&want.tags)).await?;
            crate::failpoint::hit("image-copy-started");
            super::carry::wait_image(cx, &dest_id).await?;
            Ok::<String, crate::AwsError>(dest_id)
        }
        .await;
        opened.finish(copy, cx, result).await
    }

    async fn converge(
        &self,
        cx: &Side,
        id: &str,
        want: &Desired,
        phase: Phase,
    ) -> Result<Vec<String>> {
        if phase != Phase::Create {
            return Ok(vec![]);
        }
        // Adopted while still copying (a resumed run): wait for it.
        super::carry::wait_image(cx, id).await?;
        super::converge_tags_only(self, cx, id, want).await
    }

    async fn delete(&self, cx: &Side, id: &str) -> Result<()> {
        let snapshots = match super::carry::image_snapshots(cx, id).await {
            Ok(s) => s,
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e),
        };
        crate::transfer::Temporary::ScratchImage {
            image_id: id.to_string(),
            snapshot_ids: snapshots,
        }
        .withdraw(cx)
        .await
    }

    fn actions(&self) -> &'static [&'static str] {
        &[
            "ec2:DescribeImages",
            "ec2:DescribeImageAttribute",
            "ec2:DescribeSnapshots",
            "ec2:DescribeInstances",
            "ec2:CreateImage",
            "ec2:CopyImage",
            "ec2:ModifyImageAttribute",
            "ec2:ModifySnapshotAttribute",
            "ec2:DeregisterImage",
            "ec2:DeleteSnapshot",
            "ec2:CreateTags",
            "ec2:DeleteTags",
            "kms:CreateGrant",
            "kms:RevokeGrant",
            "kms:CreateKey",
            "kms:ScheduleKeyDeletion",
            "kms:ListAliases",
            "kms:DescribeKey",
            "kms:Decrypt",
            "kms:ReEncrypt*",
            "kms:GenerateDataKeyWithoutPlaintext",
        ]
    }

    fn source_actions(&self) -> &'static [&'static str] {
        &[
            "ec2:CreateImage",
            "ec2:CopyImage",
            "ec2:ModifyImageAttribute",
            "ec2:ModifySnapshotAttribute",
            "ec2:DeregisterImage",
            "ec2:DeleteSnapshot",
            "ec2:CreateTags",
            "kms:CreateGrant",
            "kms:RevokeGrant",
            "kms:CreateKey",
            "kms:TagResource",
            "kms:ScheduleKeyDeletion",
        ]
    }
}

/// Neither failed nor deregistered (a pending copy counts: it will be).
fn is_live(i: &aws_sdk_ec2::types::Image) -> bool {
    i.state()
        .is_none_or(|s| !matches!(s.as_str(), "failed" | "deregistered"))
}

/// A source image of our own making, found by its scratch tag (a resumed run
/// reuses what the interrupted one made).
async fn scratch_image(src: &Side, of: &str) -> Result<Option<String>> {
    let out = src
        .ec2(Class::Read)
        .await
        .describe_images()
        .owners("self")
        .filters(super::filter(
            &format!("tag:{}", super::carry::TAG_SCRATCH),
            [of.to_string()],
        ))
        .send()
        .await
        .map_err(|e| src.err("DescribeImages", e))?;
    Ok(out
        .images()
        .iter()
        .find(|i| is_live(i))
        .and_then(|i| i.image_id())
        .map(String::from))
}

/// Records a scratch image (with its snapshots) once it is available. A
/// resumed run records again what it reuses: withdrawing is idempotent.
async fn record_scratch(copy: &CopyCx, image_id: &str) -> Result<()> {
    let src = &copy.source;
    super::carry::wait_image(src, image_id).await?;
    let t = crate::transfer::Temporary::ScratchImage {
        image_id: image_id.to_string(),
        snapshot_ids: super::carry::image_snapshots(src, image_id).await?,
    };
    copy.open(src, &t)?;
    Ok(())
}

/// CreateImage of a source instance, rebooting it unless told not to.
/// Recorded as scratch: the engine deregisters it after the run.
async fn image_of_instance(
    copy: &CopyCx,
    instance: &str,
    s: &ImageSpec,
    no_reboot: bool,
) -> Result<String> {
    let src = &copy.source;
    let of = format!("{SCRATCH_OF_INSTANCE}{instance}");
    if let Some(id) = scratch_image(src, &of).await? {
        record_scratch(copy, &id).await?;
        return Ok(id);
    }
    let out = src
        .ec2(Class::Mutate)
        .await
        .create_image()
        .instance_id(instance)
        .name(&s.name)
        .set_description(s.description.clone())
        .no_reboot(no_reboot)
        .tag_specifications(super::carry::scratch_tags(ResourceType::Image, &of))
        .send()
        .await
        .map_err(|e| src.err("CreateImage", e))?;
    let id = out
        .image_id()
        .map(String::from)
        .ok_or_else(|| src.invalid("CreateImage returned no image id"))?;
    record_scratch(copy, &id).await?;
    Ok(id)
}

/// Copies a default-key image in the source under a scratch customer key,
/// which (unlike the AWS-managed key) can be shared.
async fn reencrypt(
    copy: &CopyCx,
    image_id: &str,
    name: &str,
    opened: &mut super::carry::Opened,
) -> Result<String> {
    let src = &copy.source;
    let of = format!("{SCRATCH_REENCRYPTED}{image_id}");
    if let Some(id) = scratch_image(src, &of).await? {
        record_scratch(copy, &id).await?;
        return Ok(id);
    }
    let key = super::carry::scratch_key(copy, image_id, opened).await?;
    let out = src
        .ec2(Class::CopyImage)
        .await
        .copy_image()
        .source_image_id(image_id)
        .source_region(&src.info.region)
        .name(format!("{name}-ferry-reencrypted"))
        .encrypted(true)
        .kms_key_id(&key)
        .tag_specifications(super::carry::scratch_tags(ResourceType::Image, &of))
        .send()
        .await
        .map_err(|e| src.err("CopyImage", e))?;
    let id = out
        .image_id()
        .map(String::from)
        .ok_or_else(|| src.invalid("CopyImage returned no image id"))?;
    super::carry::tag(src, &id, vec![super::carry::scratch_tag(&of)]).await?;
    record_scratch(copy, &id).await?;
    Ok(id)
}
