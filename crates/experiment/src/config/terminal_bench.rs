//! `[terminal_bench]`: how Terminal-Bench rollouts run and are verified (network, tmux,
//! diagnostic snapshots, a proxy's CA bundle). Every key has a default, and a config that
//! leaves the table out keeps its run id.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Network of Terminal-Bench containers (the agent's, which the verifier also runs in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TbNetwork {
    /// As the task's `environment.allow_internet` says (true when absent, as in Harbor).
    #[default]
    Task,
    /// Always on.
    On,
    /// Always off.
    Off,
}

/// `[terminal_bench]`: Terminal-Bench rollouts are verified where they ran, right after the
/// agent stops (as Harbor does); these keys say how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TerminalBenchSection {
    /// Network of the rollout container and its verifier: `task` (the task's
    /// `allow_internet`), `on` or `off`. SWE-bench follows `sandbox.network` instead.
    #[serde(default)]
    pub network: TbNetwork,
    /// Also commit each rollout's final container to an image before it is verified (a
    /// diagnostic, removed once the task is graded; grading falls back to it only for a
    /// rollout without a live verification).
    #[serde(default)]
    pub snapshots: bool,
    /// Install tmux (with the image's package manager) when a task image lacks it and the
    /// tmux agent runs; the result is cached as a derived image, so a task installs it once.
    #[serde(default = "yes")]
    pub install_tmux: bool,
    /// A CA bundle (PEM) copied into networked containers, with `SSL_CERT_FILE`, `PIP_CERT`,
    /// `REQUESTS_CA_BUNDLE`, `CURL_CA_BUNDLE` and `GIT_SSL_CAINFO` pointing at it: for
    /// networks behind a TLS-intercepting proxy (e.g. `/etc/ssl/certs/ca-certificates.crt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<PathBuf>,
}

fn yes() -> bool {
    true
}

impl Default for TerminalBenchSection {
    fn default() -> Self {
        Self {
            network: TbNetwork::Task,
            snapshots: false,
            install_tmux: true,
            ca_bundle: None,
        }
    }
}

impl TerminalBenchSection {
    /// True when every key has its default (the table is then left out of `run.toml`).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// Whether a task's containers get network.
    pub fn network_for(&self, allow_internet: bool) -> bool {
        match self.network {
            TbNetwork::Task => allow_internet,
            TbNetwork::On => true,
            TbNetwork::Off => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_follows_the_task_unless_overridden() {
        let mut s = TerminalBenchSection::default();
        assert!(s.is_default());
        assert!(s.network_for(true) && !s.network_for(false));
        s.network = TbNetwork::Off;
        assert!(!s.network_for(true));
        s.network = TbNetwork::On;
        assert!(s.network_for(false) && !s.is_default());
        let parsed: TerminalBenchSection =
            toml::from_str("network = \"off\"\nsnapshots = true").unwrap();
        assert_eq!(parsed.network, TbNetwork::Off);
        assert!(parsed.snapshots && parsed.install_tmux);
        assert!(toml::from_str::<TerminalBenchSection>("netwrk = \"on\"").is_err());
    }
}
