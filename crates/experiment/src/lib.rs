//! Experiment configs, sweeps, the run orchestrator and the resumable run store.
//!
//! - [`config`]: the TOML config (strict: every problem reported at once with its file, line
//!   and key path), profiles, `--set` overrides, sweeps, the JSON schema, `run.toml`;
//! - [`store`]: the run directory: an append-only event log (the source of truth for resume)
//!   and one atomically written file per artifact, keyed by what made it;
//! - [`orchestrator`]: the pipeline of METHOD.md for every task and system, with separate
//!   limits for containers, model calls and grading, and infrastructure retries counted apart;
//! - [`backends`]: the sandbox provider, model stacks and grader built from a config;
//! - [`run`]: preparing and running (or resuming) a run from a config file or run directory;
//! - [`reselect`]: another selection configuration on a run's stored rollouts;
//! - [`tables`]: the store as the report crate's tables, and [`tables::load_run`];
//! - [`demo`]: the built-in scripted models;
//! - [`swe_images`]: the image of every SWE-bench instance: official (local or pulled) or
//!   built offline from a repository mirror.

pub mod backends;
pub mod config;
pub mod demo;
pub mod estimate;
pub mod orchestrator;
pub mod reselect;
pub mod run;
pub mod store;
pub mod swe_images;
pub mod tables;

pub use orchestrator::{Orchestrator, RunError, RunSummary};
pub use tables::load_run;
