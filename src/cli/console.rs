//! Panic-free stdout/stderr for the commands.
//!
//! `print!` panics when stdout is a closed pipe (`xenoplan show p.toml | head -1`) or a full
//! device (`>/dev/full`), so the commands write through [`out!`]/[`outln!`]/[`diag!`]/
//! [`diagln!`] instead. The first failed write of a stream is remembered and later writes to
//! it are skipped: a closed pipe (EPIPE) means the reader has gone, which is not an error, so
//! the run ends quietly with its own exit code; any other write error (ENOSPC, EIO) makes the
//! run exit 1 (see [`finish`]). Nothing exits from here, so lock guards and staging folders
//! are still dropped normally.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU8, Ordering};

const OK: u8 = 0;
const CLOSED: u8 = 1;
const FAILED: u8 = 2;

static STDOUT: AtomicU8 = AtomicU8::new(OK);
static STDERR: AtomicU8 = AtomicU8::new(OK);
/// First non-EPIPE error on stdout, reported on stderr at the end of the run.
static STDOUT_ERROR: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

fn record(state: &AtomicU8, e: &io::Error) -> bool {
    let s = if e.kind() == io::ErrorKind::BrokenPipe {
        CLOSED
    } else {
        FAILED
    };
    state.store(s, Ordering::Relaxed);
    s == FAILED
}

/// Writes to stdout; never panics (see the module docs).
pub fn write_stdout(args: fmt::Arguments<'_>) {
    if STDOUT.load(Ordering::Relaxed) != OK {
        return;
    }
    let mut lock = io::stdout().lock();
    if let Err(e) = lock.write_fmt(args).and_then(|()| lock.flush()) {
        record_stdout(&e);
    }
}

fn record_stdout(e: &io::Error) {
    if record(&STDOUT, e)
        && let Ok(mut slot) = STDOUT_ERROR.lock()
    {
        slot.get_or_insert_with(|| e.to_string());
    }
}

/// Writes to stderr; never panics (see the module docs).
pub fn write_stderr(args: fmt::Arguments<'_>) {
    if STDERR.load(Ordering::Relaxed) != OK {
        return;
    }
    if let Err(e) = io::stderr().lock().write_fmt(args) {
        record(&STDERR, &e);
    }
}

/// Final flush; `true` when stdout or stderr failed with anything but a closed pipe, i.e.
/// when the run must exit 1 even though the command itself succeeded.
pub fn finish() -> bool {
    if STDOUT.load(Ordering::Relaxed) == OK
        && let Err(e) = io::stdout().lock().flush()
    {
        record_stdout(&e);
    }
    let out_failed = STDOUT.load(Ordering::Relaxed) == FAILED;
    if out_failed {
        let msg = STDOUT_ERROR
            .lock()
            .ok()
            .and_then(|s| s.clone())
            .unwrap_or_default();
        write_stderr(format_args!("error: cannot write to stdout: {msg}\n"));
    }
    out_failed || STDERR.load(Ordering::Relaxed) == FAILED
}

/// `print!` that never panics.
macro_rules! out {
    ($($t:tt)*) => { $crate::cli::console::write_stdout(format_args!($($t)*)) };
}
/// `println!` that never panics.
macro_rules! outln {
    () => { $crate::cli::console::write_stdout(format_args!("\n")) };
    ($($t:tt)*) => {
        $crate::cli::console::write_stdout(format_args!("{}\n", format_args!($($t)*)))
    };
}
/// `eprint!` that never panics.
macro_rules! diag {
    ($($t:tt)*) => { $crate::cli::console::write_stderr(format_args!($($t)*)) };
}
/// `eprintln!` that never panics.
macro_rules! diagln {
    () => { $crate::cli::console::write_stderr(format_args!("\n")) };
    ($($t:tt)*) => {
        $crate::cli::console::write_stderr(format_args!("{}\n", format_args!($($t)*)))
    };
}
