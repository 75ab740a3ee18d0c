//! What the verifier needs around `tests/test.sh`: telling a verifier whose own setup failed
//! (a download, an install) from a test run that failed, and the CA bundle of a
//! TLS-intercepting proxy.
//!
//! Terminal-Bench 2.0's `test.sh` scripts install their tools over the network (curl, uv,
//! pytest) without `set -e`, then write reward 0 whenever pytest did not pass — also when
//! pytest never ran because a download failed. [`setup_failure`] finds that case, so it is
//! recorded as a verifier error rather than scored as the agent's failure.

use std::path::Path;

use agentscale_core::sandbox::{Sandbox, SandboxError};

/// Where [`install_ca_bundle`] puts the bundle in a container.
pub const CA_BUNDLE_PATH: &str = "/etc/agentscale/ca-bundle.crt";

/// The variables that point pip, requests, curl, git and OpenSSL at the bundle.
pub const CA_BUNDLE_ENV: [&str; 6] = [
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "PIP_CERT",
    "CURL_CA_BUNDLE",
    "GIT_SSL_CAINFO",
    "UV_NATIVE_TLS",
];

/// Output lines that show a download or an install of the verifier's own tools failed (not a
/// test): DNS, proxy and TLS failures, package indexes that could not be reached, tools that
/// were never installed. Matched case-insensitively.
const SETUP_SIGNATURES: [&str; 16] = [
    "could not resolve host",
    "temporary failure in name resolution",
    "name or service not known",
    "network is unreachable",
    "no matching distribution found",
    "could not find a version that satisfies the requirement",
    "failed to establish a new connection",
    "certificate verify failed",
    "certificate_verify_failed",
    "proxyerror",
    "failed to fetch http",
    "unable to locate package",
    "uv: command not found",
    "uvx: command not found",
    "pytest: command not found",
    "no module named pytest",
];

/// Why a verifier that ended with a reward of 0 did not really run its tests, or `None` when
/// the 0 is a real verdict. `test_sh` is the task's script, `output` what it printed, and
/// `ctrf_written` whether the CTRF report it asks pytest for exists.
pub fn setup_failure(test_sh: &str, output: &str, ctrf_written: bool) -> Option<String> {
    let lower = output.to_lowercase();
    let signature = SETUP_SIGNATURES
        .iter()
        .find(|s| lower.contains(*s))
        .map(|s| {
            let line = output
                .lines()
                .find(|l| l.to_lowercase().contains(s))
                .unwrap_or(s)
                .trim();
            let line: String = line.chars().take(200).collect();
            line
        });
    let wants_ctrf = test_sh.contains("--ctrf");
    match (signature, wants_ctrf && !ctrf_written) {
        (Some(line), true) => Some(format!(
            "the verifier's setup failed before its tests ran (pytest wrote no CTRF report; \
             output: {line:?})"
        )),
        (Some(line), false) => Some(format!(
            "the verifier's setup failed (a download or install; output: {line:?})"
        )),
        (None, true) => Some(
            "the verifier's tests never ran: test.sh asks pytest for a CTRF report and none \
             was written"
                .into(),
        ),
        (None, false) => None,
    }
}

/// The CTRF report path a `test.sh` asks pytest for (`--ctrf PATH`), if any.
pub fn ctrf_path(test_sh: &str) -> Option<String> {
    let mut words = test_sh.split_whitespace();
    while let Some(w) = words.next() {
        if w == "--ctrf" {
            return words
                .next()
                .map(|p| p.trim_matches(['"', '\'']).to_string());
        }
        if let Some(p) = w.strip_prefix("--ctrf=") {
            return Some(p.trim_matches(['"', '\'']).to_string());
        }
    }
    None
}

/// Copy the host's CA bundle into the container at [`CA_BUNDLE_PATH`] and return the
/// environment that points tools at it (for a TLS-intercepting proxy).
pub async fn install_ca_bundle(
    sb: &dyn Sandbox,
    bundle: &Path,
) -> Result<Vec<(String, String)>, SandboxError> {
    let bytes = std::fs::read(bundle).map_err(|e| {
        SandboxError::InvalidRequest(format!(
            "cannot read the CA bundle {} (terminal_bench.ca_bundle): {e}",
            bundle.display()
        ))
    })?;
    sb.write_file(CA_BUNDLE_PATH, &bytes, 0o644).await?;
    Ok(ca_bundle_env())
}

/// The environment of [`install_ca_bundle`].
pub fn ca_bundle_env() -> Vec<(String, String)> {
    CA_BUNDLE_ENV
        .iter()
        .map(|k| {
            let v = if *k == "UV_NATIVE_TLS" {
                "true"
            } else {
                CA_BUNDLE_PATH
            };
            ((*k).to_string(), v.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TB2: &str = "uvx -p 3.13 -w pytest==8.4.1 -w pytest-json-ctrf==0.3.5 \\\n  pytest --ctrf /logs/verifier/ctrf.json /tests/test_outputs.py -rA\n";

    #[test]
    fn a_failed_download_is_a_setup_failure_and_a_failed_test_is_not() {
        let out = "curl: (6) Could not resolve host: astral.sh\n/tests/test.sh: line 9: uvx: command not found\n";
        let why = setup_failure(TB2, out, false).unwrap();
        assert!(why.contains("Could not resolve host: astral.sh"), "{why}");
        assert!(why.contains("CTRF"), "{why}");
        // pytest ran (the report exists) and a test failed: a real 0
        assert_eq!(
            setup_failure(TB2, "FAILED tests/test_outputs.py::test_a\n", true),
            None
        );
        // the report is missing though nothing matched: pytest never ran
        assert!(setup_failure(TB2, "", false).unwrap().contains("never ran"));
        // a service the agent should have started is down: the agent's failure
        let plain = "python3 -m pytest /tests -rA\n";
        assert_eq!(
            setup_failure(
                plain,
                "curl: (7) Failed to connect to localhost port 8080\n",
                false
            ),
            None
        );
        let pip = "ERROR: No matching distribution found for tomli-w==1.0.0\n";
        assert!(
            setup_failure(plain, pip, false)
                .unwrap()
                .contains("tomli-w")
        );
    }

    #[test]
    fn ctrf_paths() {
        assert_eq!(ctrf_path(TB2).as_deref(), Some("/logs/verifier/ctrf.json"));
        assert_eq!(
            ctrf_path("pytest --ctrf='/x/c.json' t.py").as_deref(),
            Some("/x/c.json")
        );
        assert_eq!(ctrf_path("pytest t.py"), None);
    }
}
