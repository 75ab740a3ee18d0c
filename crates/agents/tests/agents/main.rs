//! Integration tests of agentscale-agents: the loops against the in-process fake sandbox and
//! scripted models, the mini-swe-agent import of real trajectories, and end-to-end runs
//! against a real Docker engine (skipped without one, required in CI).

mod util;

mod bash_loop;
mod e2e_bash;
mod e2e_demo;
mod e2e_tmux;
mod mini_real;
mod oracle_fake;
mod reference_fake;
mod replies;
mod tmux_fake;
