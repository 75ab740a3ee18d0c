//! The `agentscale` command line: clap types in [`cli`], one file per verb in [`commands`],
//! exit codes in [`exit`]. Logs and progress go to stderr (tracing; `-v`, `RUST_LOG`); data
//! goes to stdout (`--json` for machine output).

pub mod cli;
pub mod commands;
pub mod exit;
pub mod logging;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

/// Parse `args`, run the command, and map the outcome to an exit code.
pub fn main<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                exit::USAGE.into()
            } else {
                exit::SUCCESS.into()
            };
        }
    };
    logging::init(cli.global.verbose, cli.global.quiet);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit::FAILURE.into();
        }
    };
    let result = runtime.block_on(async {
        // Ctrl-C / SIGTERM remove our containers before the process exits (code 130 / 143).
        if let Err(e) = agentscale_sandbox::install_signal_handler() {
            tracing::warn!("cannot watch for Ctrl-C: {e}");
        }
        let result = commands::dispatch(cli).await;
        // An error caused by the cleanup itself (a container removed under a command) must
        // not end the process before the cleanup is done.
        agentscale_sandbox::hold_if_interrupted().await;
        result
    });
    match result {
        Ok(code) => code.into(),
        Err(e) => {
            eprintln!("error: {}", exit::render(&e));
            exit::code_for(&e).into()
        }
    }
}
