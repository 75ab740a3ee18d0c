//! Integration tests of agentscale-datasets (one binary): the real datasets in ../shared,
//! every input format through the public API, and property tests that no input panics.

mod common;
mod formats;
mod fuzz;
mod ids;
mod shared;
