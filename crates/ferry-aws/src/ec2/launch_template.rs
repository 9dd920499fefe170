//! Launch templates, all versions.

use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use ferry_core::{Kind, Resource};

pub struct LaunchTemplate;

#[async_trait]
impl KindAdapter for LaunchTemplate {
    fn kind(&self) -> Kind {
        Kind::LaunchTemplate
    }

    async fn describe(&self, _cx: &Side, _lookup: &Lookup) -> Result<Vec<Resource>> {
        Ok(vec![])
    }

    async fn create(&self, cx: &Side, _want: &Desired) -> Result<String> {
        Err(cx.invalid("LaunchTemplate is not migrated yet"))
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
