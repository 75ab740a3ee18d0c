//! Stopping a run before its work is done, without losing or spoiling any of it.
//!
//! The main type is [`StopToken`]: every [`super::Orchestrator`] has one
//! ([`super::Orchestrator::stop_token`]). It reads as stopped once someone calls
//! [`StopToken::stop`] (a budget running out, a test) or once the process received SIGINT or
//! SIGTERM ([`agentscale_sandbox::cleanup::interrupted`]: the signal handler is removing our
//! containers and will end the process).
//!
//! What stopping means for the work in flight is the [`Interrupted`] outcome: a rollout, grade,
//! summary or selection step that ends (in any way) or fails while the run is stopping is
//! *interrupted*, never an infrastructure failure. Nothing of it is stored (an
//! `interrupted` event is logged), its retries are not spent, no new work starts, and the next
//! process of the run (`agentscale run` on the same run directory) does it again from the
//! start. Work that finished before the stop stays stored and is reused.

use std::sync::{Arc, OnceLock};

use serde::Serialize;

/// Why a run stops before its work is done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum StopReason {
    /// SIGINT (Ctrl-C) or SIGTERM: the process is ending.
    Signal,
    /// A budget ran out (cost, tokens, time); the text says which and how much.
    Budget(String),
    /// Stopped by the program itself (tests, embedding code), with a reason.
    Requested(String),
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Signal => f.write_str("interrupted by a signal (Ctrl-C or SIGTERM)"),
            Self::Budget(why) => write!(f, "stopped by a budget: {why}"),
            Self::Requested(why) => write!(f, "stopped: {why}"),
        }
    }
}

/// The outcome of a piece of work cut off by a stop: not a failure, not stored, redone when
/// the run resumes. Carried by [`super::RunError::Interrupted`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error(
    "{reason}; finished work is kept: run the same command again to resume (the work that was \
     cut off is redone)"
)]
pub struct Interrupted {
    /// Why the run stopped.
    pub reason: StopReason,
}

/// A shared, clonable "stop now" flag of one run (see the module documentation).
#[derive(Debug, Clone, Default)]
pub struct StopToken {
    reason: Arc<OnceLock<StopReason>>,
}

impl StopToken {
    /// A token that is not stopped.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stop the run; the first reason given is kept. Work in flight ends as interrupted and
    /// no new work starts.
    pub fn stop(&self, reason: StopReason) {
        let _ = self.reason.set(reason);
    }

    /// Why the run is stopping, or `None` while it goes on. A signal received by the process
    /// counts for every token.
    pub fn reason(&self) -> Option<StopReason> {
        if let Some(r) = self.reason.get() {
            return Some(r.clone());
        }
        agentscale_sandbox::cleanup::interrupted().then_some(StopReason::Signal)
    }

    /// True once the run is stopping.
    pub fn is_stopped(&self) -> bool {
        self.reason().is_some()
    }

    /// `Err(Interrupted)` once the run is stopping, else `Ok(())`: the check made before
    /// starting, retrying or recording work.
    pub fn check(&self) -> Result<(), Interrupted> {
        match self.reason() {
            Some(reason) => Err(Interrupted { reason }),
            None => Ok(()),
        }
    }
}

/// How many of a stored item's infrastructure failures spent a retry: all of them, except
/// attempts refused because our own provider was shutting down (stored by versions before
/// interruptions were told apart, when a stopping run spent its retries on them). A resume
/// retries a stored failure while this is at most `experiment.infra_retries`.
pub fn retries_spent(failures: &[String]) -> u32 {
    let n = failures
        .iter()
        .filter(|e| !e.contains(agentscale_sandbox::cleanup::SHUTTING_DOWN))
        .count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_of_a_shutting_down_provider_spend_no_retry() {
        let f = vec![
            "starting a sandbox: container gone".to_string(),
            format!(
                "starting a sandbox: start: {}",
                agentscale_sandbox::cleanup::SHUTTING_DOWN
            ),
        ];
        assert_eq!(retries_spent(&f), 1);
        assert_eq!(retries_spent(&[]), 0);
    }

    #[test]
    fn the_first_reason_wins_and_clones_share_it() {
        let t = StopToken::new();
        assert!(t.check().is_ok());
        let c = t.clone();
        c.stop(StopReason::Budget("cost $5.00 of $5.00".into()));
        t.stop(StopReason::Requested("later".into()));
        let e = t.check().unwrap_err();
        assert_eq!(e.reason, StopReason::Budget("cost $5.00 of $5.00".into()));
        assert!(e.to_string().contains("budget"), "{e}");
        assert!(e.to_string().contains("resume"), "{e}");
    }
}
