//! The `envsched` binary: wires the crates together. It holds no business rules.
//!
//! # Layout
//!
//! | module | owns |
//! |---|---|
//! | `cli` | the command line (clap) |
//! | `inputs` | reading config, bookings and observed files, with errors naming the file |
//! | `commands` | `plan`, `apply`, `demo`, `check`, `run`, `healthcheck` |
//! | `setup` | `init` and `sync-options`: the bookings database and its component options |
//! | `daemon` | the `run` loop: single-flight cycles, wake-ups, shutdown (its tests run on a paused clock) |
//! | `preflight` | the AWS half of `check`, also run when the daemon starts |
//! | `http` | `/live`, `/ready`, `/metrics`, the status page and `/status.json` (one model: `view`; HTML and SVG: `page`), the webhook route |
//! | `telemetry` | JSON logs and metrics, written by named events (a folder: `logging`, `events`, `summary`) |
//! | `render` | text and JSON output of plans and of the demo |
//!
//! Exit codes: 0 ok; 1 error (bad input, failed action); 2 changes pending
//! (`plan --detailed-exitcode`).

/// `print!` to stdout, except that a reader which went away (`envsched plan | head`) is not an
/// error: the rest of the output is dropped and the command carries on (an `apply` still
/// writes back to Notion and releases its lease), as ripgrep and coreutils behave.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::write_stdout(format_args!($($arg)*))
    };
}

/// `println!` to stdout, as [`out!`] does it.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

mod cli;
mod commands;
mod daemon;
mod http;
mod inputs;
mod preflight;
mod render;
mod setup;
mod telemetry;

use std::process::ExitCode;

/// mimalloc, not the system allocator: a cycle at 10,000 targets makes and drops a few
/// hundred thousand small strings and vectors, and glibc's malloc spent half of the
/// planning time consolidating its free lists (`cargo bench -p envsched-core --bench plan`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

/// Writes to stdout; a closed pipe ends the output quietly, another failure is said once on
/// stderr.
fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, Ordering};
    static GONE: AtomicBool = AtomicBool::new(false);
    if GONE.load(Ordering::Relaxed) {
        return;
    }
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        GONE.store(true, Ordering::Relaxed);
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write to stdout: {e}");
        }
    }
}

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
