//! Key pairs: the public key is imported, never the private key.

use crate::{Desired, KindAdapter, Lookup, Phase, Result, Side};
use async_trait::async_trait;
use ferry_core::{Kind, Resource};

pub struct KeyPair;

#[async_trait]
impl KindAdapter for KeyPair {
    fn kind(&self) -> Kind {
        Kind::KeyPair
    }

    async fn describe(&self, _cx: &Side, _lookup: &Lookup) -> Result<Vec<Resource>> {
        Ok(vec![])
    }

    async fn create(&self, cx: &Side, _want: &Desired) -> Result<String> {
        Err(cx.invalid("KeyPair is not migrated yet"))
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
