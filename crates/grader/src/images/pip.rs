//! The host's package-index settings, carried into offline SWE-bench images so that `pip`
//! works behind a TLS-intercepting proxy or a private index, during the image build and in
//! every container made from the image (the official eval script's reinstall step downloads
//! build dependencies).
//!
//! [`PipSettings::from_host`] reads them the way pip does: the `PIP_CERT`, `PIP_INDEX_URL`,
//! `PIP_EXTRA_INDEX_URL` and `PIP_TRUSTED_HOST` variables, then the config files
//! (`$PIP_CONFIG_FILE`, `/etc/pip.conf`, `/etc/xdg/pip/pip.conf`, `~/.config/pip/pip.conf`,
//! `~/.pip/pip.conf`; later files win, as in pip), keys `cert`, `index-url`,
//! `extra-index-url` and `trusted-host` of `[global]` and `[install]`. A CA bundle given
//! explicitly (`--ca-bundle`) replaces the detected one.

use std::path::{Path, PathBuf};

use crate::error::GraderError;

/// Package-index settings for the images.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PipSettings {
    /// The CA bundle pip verifies TLS with, and where it came from.
    pub ca_bundle: Option<(PathBuf, String)>,
    /// `index-url`.
    pub index_url: Option<String>,
    /// `extra-index-url` values.
    pub extra_index_urls: Vec<String>,
    /// `trusted-host` values.
    pub trusted_hosts: Vec<String>,
}

/// Where the image keeps the host's CA bundle.
pub const IMAGE_CA_PATH: &str = "/etc/agentscale/pip-ca-bundle.crt";

impl PipSettings {
    /// The settings pip on this host uses; `ca_bundle` (an explicit file) replaces the detected
    /// CA bundle.
    pub fn from_host(ca_bundle: Option<&Path>) -> Result<Self, GraderError> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let home = env("HOME").map(PathBuf::from);
        let mut files: Vec<PathBuf> = vec!["/etc/xdg/pip/pip.conf".into(), "/etc/pip.conf".into()];
        if let Some(h) = &home {
            files.push(h.join(".pip/pip.conf"));
            files.push(h.join(".config/pip/pip.conf"));
        }
        if let Some(f) = env("PIP_CONFIG_FILE") {
            files.push(f.into());
        }
        let mut s = Self::default();
        for f in files {
            if let Ok(text) = std::fs::read_to_string(&f) {
                s.merge_config(&text, &f.display().to_string());
            }
        }
        if let Some(c) = env("PIP_CERT") {
            s.ca_bundle = Some((c.into(), "PIP_CERT".into()));
        }
        if let Some(u) = env("PIP_INDEX_URL") {
            s.index_url = Some(u);
        }
        if let Some(u) = env("PIP_EXTRA_INDEX_URL") {
            s.extra_index_urls = u.split_whitespace().map(String::from).collect();
        }
        if let Some(u) = env("PIP_TRUSTED_HOST") {
            s.trusted_hosts = u.split_whitespace().map(String::from).collect();
        }
        if let Some(p) = ca_bundle {
            s.ca_bundle = Some((p.to_path_buf(), "--ca-bundle".into()));
        }
        if let Some((p, from)) = &s.ca_bundle
            && !p.is_file()
        {
            return Err(GraderError::Io {
                path: p.display().to_string(),
                message: format!(
                    "the CA bundle named by {from} is not a file; give the right one with \
                     --ca-bundle FILE"
                ),
            });
        }
        Ok(s)
    }

    /// Apply one pip config file's `[global]` and `[install]` keys.
    pub fn merge_config(&mut self, text: &str, origin: &str) {
        let mut section = String::new();
        let mut last_key: Option<String> = None;
        for raw in text.lines() {
            let line = raw.trim_end();
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
                continue;
            }
            if t.starts_with('[') && t.ends_with(']') {
                section = t[1..t.len() - 1].trim().to_lowercase();
                last_key = None;
                continue;
            }
            if section != "global" && section != "install" {
                continue;
            }
            // A continuation line (indented) adds a value to the last key.
            if raw.starts_with([' ', '\t']) && !t.contains('=') {
                if let Some(k) = &last_key {
                    self.set(k, t, origin, true);
                }
                continue;
            }
            let Some((k, v)) = t.split_once('=').or_else(|| t.split_once(':')) else {
                continue;
            };
            let key = k.trim().to_lowercase().replace('_', "-");
            self.set(&key, v.trim(), origin, false);
            last_key = Some(key);
        }
    }

    fn set(&mut self, key: &str, value: &str, origin: &str, more: bool) {
        let values: Vec<String> = value.split_whitespace().map(String::from).collect();
        match key {
            "cert" if !value.is_empty() => {
                self.ca_bundle = Some((value.into(), origin.to_string()));
            }
            "index-url" if !value.is_empty() => self.index_url = Some(value.to_string()),
            "extra-index-url" => {
                if !more {
                    self.extra_index_urls.clear();
                }
                self.extra_index_urls.extend(values);
            }
            "trusted-host" => {
                if !more {
                    self.trusted_hosts.clear();
                }
                self.trusted_hosts.extend(values);
            }
            _ => {}
        }
    }

    /// The `/etc/pip.conf` the image gets (empty when there is nothing to say).
    pub fn pip_conf(&self) -> String {
        let mut lines = Vec::new();
        if self.ca_bundle.is_some() {
            lines.push(format!("cert = {IMAGE_CA_PATH}"));
        }
        if let Some(u) = &self.index_url {
            lines.push(format!("index-url = {u}"));
        }
        if !self.extra_index_urls.is_empty() {
            lines.push(format!(
                "extra-index-url = {}",
                self.extra_index_urls.join(" ")
            ));
        }
        if !self.trusted_hosts.is_empty() {
            lines.push(format!("trusted-host = {}", self.trusted_hosts.join(" ")));
        }
        if lines.is_empty() {
            return String::new();
        }
        format!(
            "# The package-index settings of the host that built this image (agentscale).\n[global]\n{}\n",
            lines.join("\n")
        )
    }

    /// The CA bundle's bytes, if one is set.
    pub fn ca_bytes(&self) -> Result<Option<Vec<u8>>, GraderError> {
        let Some((p, _)) = &self.ca_bundle else {
            return Ok(None);
        };
        std::fs::read(p).map(Some).map_err(|e| GraderError::Io {
            path: p.display().to_string(),
            message: format!("reading the CA bundle: {e}"),
        })
    }

    /// One line for logs: what was found and where.
    pub fn describe(&self) -> String {
        let ca = self.ca_bundle.as_ref().map_or_else(
            || "no extra CA bundle".to_string(),
            |(p, from)| format!("CA bundle {} (from {from})", p.display()),
        );
        let index = self
            .index_url
            .as_deref()
            .map_or_else(|| "the default index".to_string(), |u| format!("index {u}"));
        format!("{ca}, {index}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pip_config_files_are_read_as_pip_reads_them() {
        let mut s = PipSettings::default();
        s.merge_config(
            "[global]\ncert = /etc/ssl/certs/ca-certificates.crt\nindex_url = https://idx/simple\n\
             extra-index-url =\n    https://a/simple\n    https://b/simple\n[freeze]\ncert = /nope\n",
            "/etc/pip.conf",
        );
        assert_eq!(
            s.ca_bundle,
            Some((
                "/etc/ssl/certs/ca-certificates.crt".into(),
                "/etc/pip.conf".into()
            ))
        );
        assert_eq!(s.index_url.as_deref(), Some("https://idx/simple"));
        assert_eq!(
            s.extra_index_urls,
            vec!["https://a/simple", "https://b/simple"]
        );
        let conf = s.pip_conf();
        assert!(conf.contains(&format!("cert = {IMAGE_CA_PATH}")), "{conf}");
        assert!(
            conf.contains("extra-index-url = https://a/simple https://b/simple"),
            "{conf}"
        );
        assert_eq!(PipSettings::default().pip_conf(), "");
    }

    #[test]
    fn a_missing_bundle_is_a_clear_error() {
        let e = PipSettings::from_host(Some(Path::new("/nonexistent/ca.pem")))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/nonexistent/ca.pem") && e.contains("--ca-bundle"),
            "{e}"
        );
    }
}
