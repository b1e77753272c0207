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

/// `mi_option_purge_delay` in the mimalloc 3 that libmimalloc-sys 0.1.49 builds (the enum's
/// 16th member; its Rust bindings do not name it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Freed memory goes back to the OS at once, not a second later. A daemon cycle at 10,000
/// targets allocates and frees some 20 MiB within a second; with mimalloc's default delay,
/// those pages stayed resident between cycles and the idle RSS was 106 MiB instead of the
/// heap's 35 (`IDLE_CLUSTERS=167 IDLE_ROWS=2000 cargo bench -p envsched --bench idle`).
/// `MIMALLOC_PURGE_DELAY` in the environment still wins for an experiment.
fn return_freed_memory_at_once() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets an integer option of the allocator; any value is valid for it.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
    }
}

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
    return_freed_memory_at_once();
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The option number names the purge delay: mimalloc 3's default for it is 1,000 ms, and
    /// no neighbouring option defaults to that. A libmimalloc-sys that renumbers its options
    /// fails here instead of setting another option to 0.
    #[test]
    fn the_option_set_at_start_is_mimallocs_purge_delay() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        // SAFETY: reads an integer option of the allocator.
        let delay = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(delay, 1000, "option {MI_OPTION_PURGE_DELAY} is not the purge delay");
        return_freed_memory_at_once();
        // SAFETY: as above.
        assert_eq!(unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) }, 0);
    }
}
