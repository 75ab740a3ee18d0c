//! The experiment config: TOML tables ([`types`]), a span-carrying document ([`doc`]), a
//! schema validator that reports every problem at once ([`schema`]), the loading pipeline
//! with profiles, `--set` overrides and sweeps ([`load`]), semantic checks ([`checks`]), the
//! resolved form written to a run directory ([`resolved`]), and the agent's `reference`
//! profile with the settings that differ from mini-swe-agent ([`reference`]).
//!
//! ```text
//! file.toml ─▶ doc (values + places) ─▶ profiles ─▶ --set ─▶ schema check ─▶ ExperimentConfig
//!                                                                  │               │
//!                                        every problem, with its place      checks, sweep
//! ```

pub mod checks;
pub mod doc;
pub mod load;
pub mod models;
pub mod reference;
pub mod resolved;
pub mod schema;
pub mod terminal_bench;
pub mod types;

pub use load::{ConfigError, Issue, LoadOptions, LoadedConfig, SweepPoint, load, load_str};
pub use reference::{
    AgentProfile, DisplayOrder, ReferenceDiff, ShellMode, UnpricedPolicy, reference_diff,
    render_reference_diff,
};
pub use terminal_bench::{TbNetwork, TerminalBenchSection};
pub use types::*;

/// The JSON schema of [`ExperimentConfig`] (what `configs/schema.json` holds).
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator()
        .into_root_schema_for::<ExperimentConfig>();
    schema.to_value()
}

/// The schema as the pretty JSON text checked in at `configs/schema.json`.
pub fn json_schema_text() -> String {
    let mut s = serde_json::to_string_pretty(&json_schema()).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;
