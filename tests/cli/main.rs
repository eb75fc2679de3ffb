//! The one integration-test binary: runs the real `xenoplan` CLI on the bundled protocols and on
//! broken inputs, and pins outputs and error messages. One module per area.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod analyze;
mod power;
mod protocol;
mod report;
mod robust;
// Issue 18, hostile inputs (kept apart from robust.rs for merging).
mod robust_inputs;
mod structure;
mod timeline;

/// Repository root (tests run with the package root as working directory).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `xenoplan` with `args` from the repository root.
pub fn xenoplan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xenoplan"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("spawn xenoplan")
}

/// stdout as UTF-8.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr as UTF-8.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh empty scratch directory under the target dir, unique per test name.
pub fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

#[test]
fn help_lists_every_subcommand_and_exits_zero() {
    let o = xenoplan(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let s = stdout(&o);
    for c in [
        "list", "check", "show", "schema", "timeline", "simulate", "analyze", "power", "fit",
        "report",
    ] {
        assert!(s.contains(c), "help misses {c}: {s}");
    }
}

#[test]
fn usage_error_exits_two() {
    let o = xenoplan(&["no-such-command"]);
    assert_eq!(o.status.code(), Some(2));
}
mod fit;
mod simulate;
