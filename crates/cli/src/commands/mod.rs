//! One module per verb. [`dispatch`] routes a parsed command line to it.

pub mod bench;
pub mod dataset;
pub mod demo;
pub mod doctor;
pub mod dry_run;
pub mod grade;
pub mod images;
pub mod images_swe;
pub mod import;
pub mod leaderboard;
pub mod model;
pub mod report;
pub mod run;
pub mod run_folder;
pub mod select;

use crate::cli::{Cli, Command};

/// Run the command; `Ok` carries the exit code.
pub async fn dispatch(cli: Cli) -> anyhow::Result<u8> {
    let g = &cli.global;
    match cli.command {
        Command::Dataset(a) => dataset::run(a, g).await,
        Command::Run(a) => run::run(a, g).await,
        Command::Demo(a) => demo::run(a, g).await,
        Command::Grade(a) => grade::run(a, g).await,
        Command::Select(a) => select::run(a, g).await,
        Command::Report(a) => report::run(a, g).await,
        Command::Leaderboard(a) => leaderboard::run(a, g).await,
        Command::Import(a) => import::run(a, g).await,
        Command::Model(a) => model::run(a, g).await,
        Command::Images(a) => images::run(a, g).await,
        Command::Doctor(a) => doctor::run(a, g).await,
        Command::Bench(a) => bench::run(a, g).await,
    }
}
