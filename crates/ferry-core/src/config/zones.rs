//! `[zones]`: source availability zone to destination availability zone,
//! each checked against its side's region.

use std::collections::BTreeMap;

use toml::Spanned;

use super::side::CheckedSide;
use super::values::zone_region;
use super::Checker;

impl Checker<'_> {
    pub(super) fn zones(
        &mut self,
        raw: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
        source: &CheckedSide,
        destination: &CheckedSide,
    ) -> BTreeMap<String, String> {
        let mut zones = BTreeMap::new();
        for (from, to) in raw.unwrap_or_default() {
            self.zone(&from, "source", source);
            self.zone(&to, "destination", destination);
            zones.insert(from.into_inner(), to.into_inner());
        }
        zones
    }

    fn zone(&mut self, zone: &Spanned<String>, side: &str, expected: &CheckedSide) {
        let name = zone.get_ref();
        let Some(region) = zone_region(name) else {
            self.error_at(
                zone.span().start,
                format!(
                    "invalid availability zone {name:?}: expected a region followed by one letter, like us-east-1a"
                ),
                None,
            );
            return;
        };
        if expected.region_ok && region != expected.config.region {
            self.error_at(
                zone.span().start,
                format!(
                    "zone {name:?} is not in the {side} region {}",
                    expected.config.region
                ),
                Some("[zones] maps source zones (keys) to destination zones (values)".to_string()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::testing::*;

    #[test]
    fn zones_are_checked_against_both_regions() {
        assert_err(
            &with("[zones]\n\"us-east-1\" = \"eu-west-1a\"\n"),
            6,
            1,
            "invalid availability zone \"us-east-1\"",
        );
        assert_err(
            &with("[zones]\n\"us-east-1a\" = \"eu-west-1-a\"\n"),
            6,
            16,
            "invalid availability zone \"eu-west-1-a\"",
        );
        let e = assert_err(
            &with("[zones]\n\"us-west-2a\" = \"eu-west-1a\"\n"),
            6,
            1,
            "zone \"us-west-2a\" is not in the source region us-east-1",
        );
        assert!(e.hint.is_some());
        assert_err(
            &with("[zones]\n\"us-east-1a\" = \"us-east-1b\"\n"),
            6,
            16,
            "zone \"us-east-1b\" is not in the destination region eu-west-1",
        );
        // An invalid region is reported once, not once more per zone.
        assert_err(
            "[source]\nregion = \"nowhere\"\n[destination]\nregion = \"eu-west-1\"\n[zones]\n\"us-east-1a\" = \"eu-west-1a\"\n",
            2,
            10,
            "invalid region",
        );
    }
}
