//! Robustness of the CLI itself: closed pipes, full devices, output folders, limits.

use super::{root, stderr};
use std::process::{Command, Stdio};

const P: &str = "protocols/tamr_mcf7_xenograft.toml";

/// Runs `xenoplan args` with stdout (or stderr) connected to a pipe whose reader is already
/// closed, so every write gets EPIPE.
fn run_into_closed_pipe(args: &[&str], on_stderr: bool) -> std::process::Output {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let mut c = Command::new(env!("CARGO_BIN_EXE_xenoplan"));
    c.args(args).current_dir(root());
    if on_stderr {
        c.stderr(writer).stdout(Stdio::null());
    } else {
        c.stdout(writer).stderr(Stdio::piped());
    }
    c.output().expect("spawn xenoplan")
}

#[test]
fn closed_stdout_is_a_quiet_exit_not_a_panic() {
    for args in [
        vec!["show", P],
        vec!["check", P],
        vec!["schema"],
        vec!["list"],
        vec!["--help"],
    ] {
        let o = run_into_closed_pipe(&args, false);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o), "", "{args:?}");
    }
}

#[test]
fn closed_stderr_keeps_the_exit_code() {
    let bad = "tests/fixtures/bad/duplicate_key.toml";
    let o = run_into_closed_pipe(&["check", bad], true);
    assert_eq!(o.status.code(), Some(1));
    let o = run_into_closed_pipe(&["check", P], true);
    assert_eq!(o.status.code(), Some(0));
}

#[cfg(target_os = "linux")]
#[test]
fn full_stdout_exits_one_with_a_message() {
    for args in [vec!["show", P], vec!["schema"], vec!["--help"]] {
        let full = std::fs::File::create("/dev/full").expect("/dev/full");
        let o = Command::new(env!("CARGO_BIN_EXE_xenoplan"))
            .args(&args)
            .current_dir(root())
            .stdout(full)
            .output()
            .expect("spawn");
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        if args[0] != "--help" {
            assert_eq!(
                stderr(&o),
                "error: cannot write to stdout: No space left on device (os error 28)\n"
            );
        }
    }
}
