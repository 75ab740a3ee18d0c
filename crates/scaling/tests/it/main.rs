//! Integration tests of agentscale-scaling (one binary; modules by topic).

// Short names (t, c, j, r) for the task, candidates, judge and result read best in tests.
#![allow(clippy::many_single_char_names)]

mod common;
mod leakage;
mod metrics;
mod parsers;
mod pdr;
mod prompts;
mod real_data;
mod summarizer;
mod tournament;
