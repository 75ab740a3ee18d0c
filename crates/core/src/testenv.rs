//! Test helpers for tests that need ../shared or a Docker engine.
//!
//! Such tests skip with a printed reason when the resource is absent, and fail instead when CI
//! asks for it: `AGENTSCALE_REQUIRE_SHARED=1` and `AGENTSCALE_REQUIRE_DOCKER=1`.

use std::path::PathBuf;

/// The `shared/` folder beside the project (`<workspace>/../shared`), or `AGENTSCALE_SHARED`
/// when set. `None` when it does not exist.
pub fn shared_dir() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("AGENTSCALE_SHARED") {
        let p = PathBuf::from(p);
        return p.is_dir().then_some(p);
    }
    let ws = workspace_root();
    let p = ws.parent()?.join("shared");
    p.is_dir().then_some(p)
}

/// The workspace root (the folder holding the top-level Cargo.toml).
pub fn workspace_root() -> PathBuf {
    // crates/core -> workspace
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(|p| p.parent())
        .map_or_else(|| PathBuf::from("."), PathBuf::from)
}

fn required(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// A path under ../shared for a test, or `None` (after printing why) when ../shared is absent.
/// Panics when `AGENTSCALE_REQUIRE_SHARED=1` and the path is missing.
pub fn shared_path(test: &str, rel: &str) -> Option<PathBuf> {
    let found = shared_dir().map(|d| d.join(rel)).filter(|p| p.exists());
    if found.is_none() {
        assert!(
            !required("AGENTSCALE_REQUIRE_SHARED"),
            "{test}: ../shared/{rel} is required (AGENTSCALE_REQUIRE_SHARED=1) but missing"
        );
        eprintln!("SKIP {test}: ../shared/{rel} is not available");
    }
    found
}

/// True when the `docker` CLI runs `args` successfully (its output discarded).
fn docker_succeeds(args: &[&str]) -> bool {
    std::process::Command::new("docker")
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// True when a Docker engine answers `docker info`; otherwise prints why the test skips.
/// Panics when `AGENTSCALE_REQUIRE_DOCKER=1` and no engine answers.
pub fn docker_available(test: &str) -> bool {
    let ok = docker_succeeds(&["info", "--format", "{{.ServerVersion}}"]);
    if !ok {
        assert!(
            !required("AGENTSCALE_REQUIRE_DOCKER"),
            "{test}: a Docker engine is required (AGENTSCALE_REQUIRE_DOCKER=1) but `docker info` failed"
        );
        eprintln!("SKIP {test}: no Docker engine (docker info failed)");
    }
    ok
}

/// True when Docker is available and `image` exists locally; otherwise prints why the test
/// skips (and panics when Docker is required: CI builds the images first).
pub fn docker_image_available(test: &str, image: &str) -> bool {
    if !docker_available(test) {
        return false;
    }
    let ok = docker_succeeds(&["image", "inspect", image]);
    if !ok {
        assert!(
            !required("AGENTSCALE_REQUIRE_DOCKER"),
            "{test}: image {image} is required (AGENTSCALE_REQUIRE_DOCKER=1) but missing; \
             run scripts/build-base-image.sh (or `agentscale images build-base`)"
        );
        eprintln!("SKIP {test}: image {image} is missing");
    }
    ok
}

/// The name of agentscale's offline base image (`AGENTSCALE_BASE_IMAGE` overrides).
pub fn base_image() -> String {
    std::env::var("AGENTSCALE_BASE_IMAGE").unwrap_or_else(|_| crate::BASE_IMAGE.to_string())
}

/// True when the program `tool` is on `PATH`; otherwise prints why the test skips. Panics when
/// `AGENTSCALE_REQUIRE_DOCKER=1` (CI installs such tools: `install` says how).
pub fn tool_available(test: &str, tool: &str, install: &str) -> bool {
    let ok = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(tool).is_file()));
    if !ok {
        assert!(
            !required("AGENTSCALE_REQUIRE_DOCKER"),
            "{test}: {tool} is required (AGENTSCALE_REQUIRE_DOCKER=1) but not installed: {install}"
        );
        eprintln!("SKIP {test}: {tool} is not installed ({install})");
    }
    ok
}
