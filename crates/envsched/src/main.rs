//! The `envsched` binary: wires the crates together. It holds no business rules.
//!
//! # Layout
//!
//! | module | owns |
//! |---|---|
//! | `cli` | the command line (clap) |
//! | `inputs` | reading config, bookings and observed files, with errors naming the file |
//! | `commands` | `plan`, `apply`, `demo`, `check`, `run`, `healthcheck` |
//! | `daemon` | the `run` loop: single-flight cycles, wake-ups, shutdown (its tests run on a paused clock) |
//! | `preflight` | the AWS half of `check`, also run when the daemon starts |
//! | `http` | `/live`, `/ready`, `/metrics`, the status page, the webhook route |
//! | `telemetry` | JSON logs and metrics, written by named events (a folder: `logging`, `events`, `summary`) |
//! | `render` | text and JSON output of plans and of the demo |
//!
//! Exit codes: 0 ok; 1 error (bad input, failed action); 2 changes pending
//! (`plan --detailed-exitcode`).

mod cli;
mod commands;
mod daemon;
mod http;
mod inputs;
mod preflight;
mod render;
mod telemetry;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
