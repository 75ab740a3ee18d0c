//! The Docker sandbox backend of agentscale, through bollard.
//!
//! The main type is [`DockerProvider`], the Docker implementation of
//! [`agentscale_core::sandbox::SandboxProvider`]; it is built from a [`DockerConfig`] (the
//! `[sandbox]` table of an experiment) and starts [`DockerSandbox`]es, the Docker
//! implementation of [`agentscale_core::sandbox::Sandbox`].
//!
//! - commands run under `timeout -k` inside the container, their output captured head + tail
//!   within a cap ([`exec`](crate::exec), [`capture::HeadTail`]);
//! - files move through tar archives ([`archive`]);
//! - every container is labelled (`agentscale`, run id, pid, hostname), removed by `close`, by
//!   [`DockerProvider::shutdown`], by the signal handler ([`cleanup::install_signal_handler`])
//!   and, when a run died, by the sweep the next run makes ([`labels::stale_reason`]);
//! - engines are reached over a unix socket, TCP, TCP with TLS or SSH ([`connect::Endpoint`]);
//!   a pool of them is scheduled fairly with per-host limits ([`pool::Scheduler`]);
//! - images are prepared, built by content hash, imported, pulled, listed and pruned
//!   ([`images`]), and the offline base image is built by an embedded script
//!   ([`images::base`]);
//! - [`doctor`] checks an installation and [`bench`] measures the backend against the docker
//!   CLI and the raw Engine API ([`rawapi`]).
//!
//! ```no_run
//! use std::time::Duration;
//! use agentscale_core::sandbox::{ExecRequest, SandboxProvider, SandboxSpec};
//! # async fn demo() -> Result<(), agentscale_core::sandbox::SandboxError> {
//! let provider = agentscale_sandbox::DockerConfig::default().build()?;
//! let sb = provider
//!     .start(&SandboxSpec { image: agentscale_core::BASE_IMAGE.into(), ..SandboxSpec::default() })
//!     .await?;
//! let out = sb.exec(&ExecRequest::shell("echo hi", Duration::from_secs(10))).await?;
//! assert_eq!(out.stdout, "hi\n");
//! sb.close().await?;
//! # Ok(()) }
//! ```

pub mod archive;
pub mod bench;
pub mod capture;
pub mod cleanup;
pub mod config;
pub mod connect;
pub mod derive;
pub mod doctor;
mod exec;
pub mod images;
pub mod labels;
pub mod pool;
mod provider;
pub mod rawapi;
mod runner;
mod sandbox;

pub use cleanup::{hold_if_interrupted, install_signal_handler, shutdown_all};
pub use config::{DockerConfig, HostConfig, RegistryAuthEnv, TlsFiles};
pub use provider::{DockerProvider, HostStatus};
pub use sandbox::DockerSandbox;
