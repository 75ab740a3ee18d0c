//! Loaders for SWE-bench and Terminal-Bench datasets, selection, the registry and downloads.
//!
//! - [`load`] / [`validate`] read a path into a [`Dataset`] of [`agentscale_core::Task`]s:
//!   SWE-bench rows from JSON Lines, a JSON list, a JSON dict keyed by instance id, Parquet, or
//!   a Hugging Face export folder; Terminal-Bench task folders (2.0 and 2.1 `task.toml`).
//!   `validate` collects every [`Problem`]; `load` fails on the first.
//! - The format is detected from the path. A file by its extension (`.jsonl`/`.ndjson`,
//!   `.json`, `.parquet`), else by its first bytes; `task.toml` stands for its folder. A folder:
//!   1. holding `task.toml`, task folders, or `tasks/<task>/task.toml`: Terminal-Bench;
//!   2. a Hugging Face export of the split ([`LoadOptions::split`], default `test`):
//!      `data/<split>-*.parquet` (or `.jsonl`/`.json`), `<split>/*.parquet`,
//!      `<config>/<split>/*.parquet`, `<split>-*.parquet` or `<split>.parquet`;
//!   3. exactly one `*.jsonl`/`*.json`/`*.parquet` at its top level (metadata files such as
//!      `dataset_info.json` do not count).
//! - Every task id follows one rule ([`ids`]): 1 to 128 characters, runs of ASCII letters and
//!   digits joined by `.`, `_`, `__` or dashes, so that ids name folders and images safely and
//!   distinctly; a row breaking it is a validation error.
//! - [`Selection`] filters, slices and samples tasks (filter → slice → sample).
//! - [`open`] resolves a path or registry name and loads it (what `--dataset` should call).
//! - [`Registry`] names known datasets (`datasets/registry.toml`, compiled in) and resolves
//!   names to local copies; [`fetch`] downloads one through a [`Downloader`] and verifies it.
//!
//! ```no_run
//! use agentscale_datasets::{LoadOptions, Selection, load};
//! let ds = load("../shared/datasets/swe-bench-verified/test-00000-of-00001.parquet".as_ref(),
//!               &LoadOptions::default())?;
//! let mut sel = Selection::default();
//! sel.add_filter("repo=sympy/sympy")?;
//! sel.sample = Some(10);
//! let ten = ds.select(&sel)?;
//! assert_eq!(ten.len(), 10);
//! # Ok::<(), agentscale_datasets::DatasetError>(())
//! ```

mod dataset;
mod detect;
mod error;
mod fetch;
pub mod ids;
mod registry;
mod selection;
pub mod swe;
pub mod tb;

pub use dataset::{
    Dataset, Findings, Format, Lacking, LoadOptions, Summary, Validation, load, validate,
};
pub use error::{DatasetError, Problem};
pub use fetch::{Downloader, Fetched, fetch, sha256_file};
pub use ids::check_id;
pub use registry::{
    DATA_DIR_ENV, EMBEDDED_REGISTRY, FETCH_MARKER, REGISTRY_ENV, Registry, RegistryEntry, Resolved,
    Source, default_data_dir, open,
};
pub use selection::{Selection, Slice};
