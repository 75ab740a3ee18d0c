//! SWE-bench grading and the Terminal-Bench verifier.
//!
//! Pure functions first, so that everything but running a container is testable without
//! Docker:
//! - [`spec`]: the per-repository spec table (test command, parser, reinstall step, eval
//!   commands), kept as data in `specs/swe-bench.toml`;
//! - [`patch`]: patch hygiene through git2 (empty, unparsable, leaving the repository) and
//!   the files a patch touches;
//! - [`eval_script`]: the official eval script (v4.1 shape) and the model-patch apply chain;
//! - [`parsers`]: the seven log parsers;
//! - [`grading`]: a log graded against FAIL_TO_PASS / PASS_TO_PASS in [`GradeMode::V41`] or
//!   [`GradeMode::Strict`];
//! - [`report`]: the official `report.json` and run summary shapes;
//! - [`predictions`]: predictions files (JSONL, JSON list, JSON dict), gold and empty.
//!
//! Then the parts that drive a sandbox through the core seam
//! ([`agentscale_core::sandbox::SandboxProvider`]):
//! - [`swe`]: grade one SWE-bench submission in a fresh container ([`swe::grade_swe`]);
//! - [`tb`]: verify a Terminal-Bench task in the agent's container or in a fresh one started
//!   from a snapshot ([`tb::verify`], [`tb::verify_fresh`]).

pub mod error;
pub mod eval_script;
pub mod from_logs;
pub mod grading;
pub mod images;
pub mod mode;
pub mod parsers;
pub mod patch;
pub mod predictions;
pub mod report;
pub mod spec;
pub mod swe;
pub mod tb;

pub use error::GraderError;
pub use mode::GradeMode;
