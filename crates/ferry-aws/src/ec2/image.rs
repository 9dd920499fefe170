//! Images (AMIs).

use crate::ratelimit::Class;
use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use ferry_core::spec::compute::{ImageRef, PublicImage};
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

pub struct Image;

#[async_trait]
impl KindAdapter for Image {
    fn kind(&self) -> Kind {
        Kind::Image
    }

    async fn describe(&self, _cx: &Side, _lookup: &Lookup) -> Result<Vec<Resource>> {
        Ok(vec![])
    }

    async fn create(&self, cx: &Side, _want: &Desired) -> Result<String> {
        Err(cx.invalid("Image is not migrated yet"))
    }

    async fn converge(
        &self,
        _cx: &Side,
        _id: &str,
        _want: &Desired,
        _phase: Phase,
    ) -> Result<Vec<String>> {
        Ok(vec![])
    }

    async fn delete(&self, _cx: &Side, _id: &str) -> Result<()> {
        Ok(())
    }

    fn actions(&self) -> &'static [&'static str] {
        &[]
    }
}
