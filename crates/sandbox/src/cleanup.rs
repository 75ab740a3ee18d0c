//! Removing our containers when the process ends: every [`crate::DockerProvider`] registers
//! itself here; [`shutdown_all`] removes the live containers of all of them, and
//! [`install_signal_handler`] does so on Ctrl-C (SIGINT) or SIGTERM before the process exits
//! (status 130 or 143); [`interrupted`] tells the work still running that what fails now was
//! cut off by us (the orchestrator records it as interrupted, not as a failure). Containers of runs that died without cleaning up (SIGKILL, power loss)
//! are removed by the sweep the next run makes on each host.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use agentscale_core::sandbox::SandboxError;

use crate::provider::{Inner, remove_ours_by_label, shutdown_inner};

fn registry() -> &'static Mutex<Vec<Weak<Inner>>> {
    static R: OnceLock<Mutex<Vec<Weak<Inner>>>> = OnceLock::new();
    R.get_or_init(|| Mutex::new(Vec::new()))
}

/// Remember a provider (weakly) for [`shutdown_all`].
pub(crate) fn register(inner: &Arc<Inner>) {
    if let Ok(mut r) = registry().lock() {
        r.retain(|w| w.strong_count() > 0);
        r.push(Arc::downgrade(inner));
    }
}

/// The message of a sandbox start refused because its provider is shutting down (part of
/// the error's text). Work refused so was cut off by our own shutdown, not by the
/// infrastructure.
pub const SHUTTING_DOWN: &str = "the provider is shutting down";

/// Remove the containers of every provider of this process — the live ones, those that create
/// requests in flight make (waiting up to 30 s for them), and any other container labelled
/// with this process on an engine we are connected to (whatever its state, `Created`
/// included) — and return how many were removed. Providers refuse new sandboxes afterwards.
pub async fn shutdown_all() -> usize {
    let providers: Vec<Arc<Inner>> = registry()
        .lock()
        .map(|r| r.iter().filter_map(Weak::upgrade).collect())
        .unwrap_or_default();
    let futs = providers
        .iter()
        .map(|i| shutdown_inner(i, Duration::from_secs(30)));
    let mut n: usize = futures_util::future::join_all(futs).await.into_iter().sum();
    for p in &providers {
        n += remove_ours_by_label(p).await;
    }
    n
}

/// How many containers the providers of this process have running.
pub fn live_count() -> usize {
    registry().lock().map_or(0, |r| {
        r.iter()
            .filter_map(Weak::upgrade)
            .map(|i| i.live.lock().map_or(0, |l| l.len()))
            .sum()
    })
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Whether a SIGINT or SIGTERM arrived and the handler is removing containers.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Wait forever when interrupted: the signal handler removes the containers and exits the
/// process itself. Call it when work ends (with any outcome) before returning from `main`, so
/// that an error caused by the cleanup (a container removed under a command) does not end the
/// process before the cleanup is done. Returns at once otherwise.
pub async fn hold_if_interrupted() {
    if interrupted() {
        std::future::pending::<()>().await;
    }
}

/// On SIGINT or SIGTERM: remove every live container of this process (at most 60 s), then
/// exit with 130 (SIGINT) or 143 (SIGTERM). Call once from inside the tokio runtime (the CLI
/// and the orchestrator do); later calls do nothing.
pub fn install_signal_handler() -> Result<(), SandboxError> {
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return Ok(());
    }
    let handle = tokio::runtime::Handle::try_current().map_err(|_| {
        SandboxError::InvalidRequest("install_signal_handler needs a tokio runtime".into())
    })?;
    let fail = |e: std::io::Error| SandboxError::backend("signal", e);
    let _guard = handle.enter();
    let mut int =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).map_err(fail)?;
    let mut term =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).map_err(fail)?;
    handle.spawn(async move {
        let code = tokio::select! {
            _ = int.recv() => 130,
            _ = term.recv() => 143,
        };
        INTERRUPTED.store(true, Ordering::SeqCst);
        let n = live_count();
        if n > 0 {
            eprintln!("agentscale: interrupted; removing {n} containers before exit");
        }
        let removed = tokio::time::timeout(Duration::from_mins(1), shutdown_all()).await;
        if removed.is_err() {
            eprintln!(
                "agentscale: containers could not all be removed within 60 s; the next run's sweep removes the rest"
            );
        }
        std::process::exit(code);
    });
    Ok(())
}
