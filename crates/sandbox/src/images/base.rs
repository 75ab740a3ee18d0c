//! The offline base image: `scripts/build-base-image.sh` is embedded in the binary and run
//! through `bash`, so `agentscale images build-base` works outside the repository. The script
//! is idempotent (it exits at once when the image exists, unless forced).

use std::process::Stdio;

use agentscale_core::sandbox::SandboxError;

/// The script, as committed in `scripts/build-base-image.sh`.
pub const SCRIPT: &str = include_str!("../../../../scripts/build-base-image.sh");

/// Options of a base-image build.
#[derive(Debug, Clone, Default)]
pub struct BaseImageOptions {
    /// Rebuild even when the image exists.
    pub force: bool,
    /// The tag (default [`agentscale_core::BASE_IMAGE`] or `AGENTSCALE_BASE_IMAGE`).
    pub tag: Option<String>,
    /// A Debian mirror URL.
    pub mirror: Option<String>,
    /// The Debian suite (default bookworm).
    pub suite: Option<String>,
    /// Debian packages added to the script's list (comma-separated).
    pub extra_packages: Option<String>,
    /// `DOCKER_HOST` for the script's docker commands (default: inherited).
    pub docker_host: Option<String>,
}

impl BaseImageOptions {
    /// The script's arguments.
    pub fn args(&self) -> Vec<String> {
        let mut a = Vec::new();
        if self.force {
            a.push("--force".into());
        }
        for (flag, v) in [
            ("--tag", &self.tag),
            ("--mirror", &self.mirror),
            ("--suite", &self.suite),
            ("--extra-packages", &self.extra_packages),
        ] {
            if let Some(v) = v {
                a.push(flag.to_string());
                a.push(v.clone());
            }
        }
        a
    }
}

/// Run the embedded script with `bash -c` (so that it works outside the repository), its
/// output going to our stderr. Exit status 3 of
/// the script (no engine) becomes [`SandboxError::EngineUnavailable`]; other failures
/// [`SandboxError::BuildFailed`] with the script's last lines.
pub async fn build_base_image(opts: &BaseImageOptions) -> Result<(), SandboxError> {
    let tag = opts
        .tag
        .clone()
        .unwrap_or_else(agentscale_core::testenv::base_image);
    let mut cmd = tokio::process::Command::new("bash");
    cmd.arg("-c")
        .arg(SCRIPT)
        .arg("build-base-image.sh")
        .args(opts.args())
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(h) = &opts.docker_host {
        cmd.env("DOCKER_HOST", h);
    }
    let mut child = cmd.spawn().map_err(|e| SandboxError::BuildFailed {
        image: tag.clone(),
        message: format!("cannot run bash: {e}"),
    })?;
    let stderr = child.stderr.take();
    let tail = tokio::spawn(async move {
        use tokio::io::AsyncBufReadExt as _;
        let mut last = std::collections::VecDeque::new();
        if let Some(s) = stderr {
            let mut lines = tokio::io::BufReader::new(s).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("{line}");
                last.push_back(line);
                if last.len() > 30 {
                    last.pop_front();
                }
            }
        }
        last.into_iter().collect::<Vec<_>>().join("\n")
    });
    let status = child
        .wait()
        .await
        .map_err(|e| SandboxError::backend("build-base", e))?;
    let last = tail.await.unwrap_or_default();
    match status.code() {
        Some(0) => Ok(()),
        Some(3) => Err(SandboxError::EngineUnavailable {
            endpoint: opts
                .docker_host
                .clone()
                .or_else(|| std::env::var("DOCKER_HOST").ok())
                .unwrap_or_else(|| crate::connect::DEFAULT_SOCKET.into()),
            message: last,
        }),
        code => Err(SandboxError::BuildFailed {
            image: tag,
            message: format!(
                "scripts/build-base-image.sh exited with {}:\n{last}",
                code.map_or_else(|| "a signal".to_string(), |c| c.to_string())
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_is_embedded_and_arguments_are_passed() {
        assert!(SCRIPT.starts_with("#!/usr/bin/env bash"));
        assert!(SCRIPT.contains("debootstrap"));
        let o = BaseImageOptions {
            force: true,
            tag: Some("x/y:z".into()),
            ..BaseImageOptions::default()
        };
        assert_eq!(o.args(), vec!["--force", "--tag", "x/y:z"]);
    }
}
