//! Integration tests of the grader (one binary): real logs and datasets from ../shared (skip
//! when absent), the demo dataset, and grading against a real Docker engine (skip when
//! absent; `AGENTSCALE_REQUIRE_SHARED=1` / `AGENTSCALE_REQUIRE_DOCKER=1` turn skips into
//! failures).

mod grader {
    pub mod common;
    mod composio;
    pub mod demo_dataset;
    mod docker_env;
    mod docker_swe;
    mod docker_tb;
    mod eval_snapshots;
    mod props;
}
