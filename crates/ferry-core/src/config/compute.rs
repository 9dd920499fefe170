//! `[compute]`: how instances are carried across, through an image of each.

use serde::{Deserialize, Serialize};

/// How instances are carried across (`[compute]`).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ComputeConfig {
    /// Make the image of a running instance without rebooting it. Off by
    /// default: a reboot gives a consistent file system; the plan says which.
    pub no_reboot: bool,
    /// Launch destination instances with their source private IPs (the
    /// subnets keep their CIDRs, so the addresses are free in a new estate).
    pub keep_private_ips: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
pub(super) struct RawCompute {
    no_reboot: Option<bool>,
    keep_private_ips: Option<bool>,
}

/// Both switches are plain booleans (serde has checked their type), so there
/// is nothing to report: absent means off.
pub(super) fn convert(raw: Option<RawCompute>) -> ComputeConfig {
    raw.map(|c| ComputeConfig {
        no_reboot: c.no_reboot.unwrap_or(false),
        keep_private_ips: c.keep_private_ips.unwrap_or(false),
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::*;

    #[test]
    fn compute_switches_default_to_off() {
        assert_eq!(parse(MINIMAL).unwrap().compute, ComputeConfig::default());
        let c = parse(&with("[compute]\nno_reboot = true\n")).unwrap();
        assert!(c.compute.no_reboot && !c.compute.keep_private_ips);
        assert_err(
            &with("[compute]\nkeep_private_ips = \"yes\"\n"),
            6,
            20,
            "invalid type: string \"yes\", expected a boolean",
        );
    }
}
