//! Recursive Tournament Voting.
//!
//! Split the N candidates into groups of G; the judge votes V times per group; each group's
//! plurality winner advances (ties settled by the configured tie-break); repeat until the
//! wanted number of survivors is left. [`TournamentConfig`] holds every knob,
//! [`schedule`] the round shapes, [`group`] one group's vote as a pure state machine,
//! [`engine`] the round loop shared with the simulation, and [`run_tournament`] plays it
//! with a [`crate::judge::Judge`] and a [`crate::store::CallStore`], recording every vote
//! and group outcome in a [`TournamentResult`].

pub mod config;
pub mod engine;
pub mod group;
pub mod run;
pub mod schedule;

pub use config::{DisplayOrder, Leftover, Pairing, TieBreak, TournamentConfig};
pub use run::{
    CollapsedCandidates, RoundRecord, TournamentInput, TournamentResult, TournamentStats,
    continue_tournament, run_tournament,
};
pub use schedule::{planned_calls, schedule};
