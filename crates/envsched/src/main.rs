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

/// Options of the mimalloc 3 that libmimalloc-sys 0.1.49 builds, by their place in its
/// `mi_option_e` (its Rust bindings do not name them): `mi_option_arena_eager_commit`,
/// `mi_option_purge_delay` and `mi_option_page_full_retain`. The test below pins the numbers.
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
const MI_OPTION_PAGE_FULL_RETAIN: libmimalloc_sys::mi_option_t = 36;

/// The options envsched sets to 0, each with the variable that overrides it.
const ZEROED_OPTIONS: [(libmimalloc_sys::mi_option_t, &std::ffi::CStr); 3] = [
    (MI_OPTION_ARENA_EAGER_COMMIT, c"MIMALLOC_ARENA_EAGER_COMMIT"),
    (MI_OPTION_PURGE_DELAY, c"MIMALLOC_PURGE_DELAY"),
    (MI_OPTION_PAGE_FULL_RETAIN, c"MIMALLOC_PAGE_FULL_RETAIN"),
];

/// The allocator holds what it uses and no more: its arena is committed as it is used
/// rather than all at once, no emptied pages are kept per size class, and freed pages go
/// back to the OS at once instead of 1 s later. With mimalloc's defaults, the daemon idle at
/// 10,020 services and 2,000 rows sat at 106 MiB RSS over a heap of about 35; with these, 53
/// (`IDLE_CLUSTERS=167 IDLE_ROWS=2000 cargo bench -p envsched --bench idle`). The price is
/// page faults while planning: 36–49 ms instead of 24–28 for a 10,000-target cycle (medians
/// of the plan bench with these three as `MIMALLOC_*` variables), within its 50 ms. Tried
/// and measured worse: a 100 ms delay with a forced collect after each cycle (61 MiB), and
/// the 1 s delay during a cycle with 0 and a collect between cycles (73 MiB). A `MIMALLOC_*`
/// variable in the environment still wins for its option.
///
/// This runs from `.init_array`, before `main`: Rust's runtime allocates before `main` (that
/// first allocation reserves mimalloc's arena) and mimalloc sets up the main thread's heap
/// when the process loads, so options set in `main` reached neither (measured: 76 MiB idle
/// at 10,020 services). It must not allocate: the names are C strings read with `getenv`.
extern "C" fn hold_no_more_than_used() {
    unsafe extern "C" {
        fn getenv(name: *const std::ffi::c_char) -> *const std::ffi::c_char;
    }
    for (option, var) in ZEROED_OPTIONS {
        // SAFETY: getenv reads the environment, which nothing writes this early; setting an
        // integer option of the allocator is valid at any time and 0 is valid for these.
        unsafe {
            if getenv(var.as_ptr()).is_null() {
                libmimalloc_sys::mi_option_set(option, 0);
            }
        }
    }
}

#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static SET_ALLOCATOR_OPTIONS: extern "C" fn() = hold_no_more_than_used;

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
    #[cfg(not(target_os = "linux"))]
    hold_no_more_than_used();
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

    /// The options are set before `main` (this test binary runs the same `.init_array`
    /// entry), and their numbers name what they are meant to: each sits between neighbours
    /// that still read mimalloc 3's defaults. A libmimalloc-sys that renumbers its options
    /// fails here instead of setting other options to 0.
    #[test]
    fn the_allocator_options_are_set_before_main() {
        // SAFETY: reads integer options of the allocator.
        let get = |o| unsafe { libmimalloc_sys::mi_option_get(o) };
        if ZEROED_OPTIONS.iter().any(|(_, var)| var.to_str().is_ok_and(|v| std::env::var_os(v).is_some())) {
            return;
        }
        let around = |o| [o - 1, o, o + 1].map(get);
        assert_eq!(
            around(MI_OPTION_ARENA_EAGER_COMMIT),
            [1, 0, 1],
            "deprecated_eager_commit, arena_eager_commit (default 2), purge_decommits"
        );
        assert_eq!(
            around(MI_OPTION_PURGE_DELAY),
            [1, 0, 0],
            "deprecated_eager_commit_delay, purge_delay (default 1000), use_numa_nodes"
        );
        assert_eq!(
            around(MI_OPTION_PAGE_FULL_RETAIN),
            [0, 0, 4],
            "page_reclaim_on_free, page_full_retain (default 2), page_max_candidates"
        );
    }
}
