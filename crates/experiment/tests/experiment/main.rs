//! Integration tests of the experiment crate: configs in configs/, whole runs with the fake
//! sandbox and the mock model server, infrastructure faults, and (with Docker) the demo.

mod common;
mod configs;
mod docker_runs;
mod docker_tmux;
mod fake_runs;
mod infra;
mod interrupt;
mod leakage;
mod live_verify;
