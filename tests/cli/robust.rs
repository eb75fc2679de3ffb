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

/// Seed recorded in `dir/manifest.json`, or `None` when the folder has no manifest.
fn manifest_seed(dir: &std::path::Path) -> Option<u64> {
    let b = std::fs::read(dir.join("manifest.json")).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&b).expect("manifest is JSON");
    assert_eq!(v["complete"], true, "a manifest is written last, complete");
    v["seed"].as_u64()
}

fn simulate_cmd(seed: &str, out: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xenoplan"));
    c.args([
        "simulate",
        P,
        "--seed",
        seed,
        "--n-per-arm",
        "40",
        "--no-lmm",
    ])
    .arg("--out")
    .arg(out)
    .current_dir(root())
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    c
}

fn temp_files(dir: &std::path::Path) -> Vec<String> {
    let mut v = Vec::new();
    for d in [dir.to_path_buf(), dir.join("plots")] {
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.contains("tmp") {
                v.push(n);
            }
        }
    }
    v
}

#[test]
fn killed_rerun_never_leaves_a_manifest_of_another_run() {
    let base = super::scratch("robust_kill");
    let reference = base.join("ref2");
    let o = simulate_cmd("2", &reference).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let want = std::fs::read(reference.join("animals.csv")).unwrap();
    let d = base.join("d");
    for (i, delay_ms) in [5u64, 40, 120, 250].into_iter().enumerate() {
        let o = simulate_cmd("1", &d).output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        let seed1 = std::fs::read(d.join("animals.csv")).unwrap();
        let mut child = simulate_cmd("2", &d).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let status = child.wait().unwrap();
        match manifest_seed(&d) {
            None => assert!(
                !status.success(),
                "try {i}: a finished run wrote no manifest"
            ),
            Some(2) => assert_eq!(std::fs::read(d.join("animals.csv")).unwrap(), want),
            // Killed before it touched the folder (a loaded machine may not even have started
            // it): the seed-1 run must then still be whole.
            Some(1) => assert_eq!(
                std::fs::read(d.join("animals.csv")).unwrap(),
                seed1,
                "try {i}: manifest says seed 1 but animals.csv changed"
            ),
            Some(s) => panic!("try {i}: manifest says seed {s}"),
        }
    }
    // The next run cleans what killed runs left.
    let o = simulate_cmd("2", &d).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(temp_files(&d), Vec::<String>::new());
    assert_eq!(manifest_seed(&d), Some(2));
}

#[test]
fn a_second_run_into_a_locked_folder_is_refused() {
    let d = super::scratch("robust_lock");
    std::fs::create_dir_all(&d).unwrap();
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(d.join(".xenoplan.lock"))
        .unwrap();
    lock.try_lock().expect("test takes the lock");
    let o = simulate_cmd("1", &d).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let want = format!(
        "error: {} is in use by another xenoplan run (lock {}/.xenoplan.lock); wait for it to finish or choose another --out\n",
        d.display(),
        d.display()
    );
    assert_eq!(stderr(&o), want);
    drop(lock);
    let o = simulate_cmd("1", &d).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn concurrent_runs_never_mix_outputs() {
    let base = super::scratch("robust_concurrent");
    let mut want = Vec::new();
    for s in ["1", "2"] {
        let r = base.join(format!("ref{s}"));
        assert!(simulate_cmd(s, &r).output().unwrap().status.success());
        want.push(std::fs::read(r.join("animals.csv")).unwrap());
    }
    let d = base.join("d");
    for _ in 0..3 {
        let a = simulate_cmd("1", &d).spawn().unwrap();
        let b = simulate_cmd("2", &d).spawn().unwrap();
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        for o in [&a, &b] {
            assert!(
                o.status.success() || stderr(o).contains("is in use by another xenoplan run"),
                "{}",
                stderr(o)
            );
        }
        let seed = manifest_seed(&d).expect("one run finished") as usize;
        assert_eq!(
            std::fs::read(d.join("animals.csv")).unwrap(),
            want[seed - 1]
        );
    }
}

#[test]
fn a_planted_symlink_at_a_temp_name_is_never_followed() {
    let d = super::scratch("robust_symlink");
    let victim = d.join("victim");
    std::fs::write(&victim, "keep\n").unwrap();
    let out = d.join("out");
    std::fs::create_dir_all(&out).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&victim, out.join(".tgi.csv.tmp-1234")).unwrap();
    let o = simulate_cmd("1", &out).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep\n");
    assert_eq!(temp_files(&out), Vec::<String>::new());
}

/// Reproducers of issue 18: values that once panicked, aborted or hung are refused by `check`
/// with their position (first line of the diagnostic pinned).
#[test]
fn protocol_limits_are_checked_with_positions() {
    let cases = [
        (
            "n_huge",
            "165:5: error: `n` must be at most 10000, got 4294967295",
        ),
        (
            "max_wait_huge",
            "60:75: error: `max-wait-days` must be at most 100000, got 4294967295",
        ),
        (
            "task_duration_huge",
            "26:17: error: `duration-days` must be at most 100000 days, got 10000000",
        ),
        (
            "task_duration_u32",
            "26:17: error: `duration-days` must be at most 100000 days, got 4294967296",
        ),
        (
            "dose_huge",
            "77:16: error: `design.doses-nm[1]` = 1e306 is outside the supported range: 0 or a magnitude between 1e-15 and 1e12",
        ),
        (
            "take_rate_denormal",
            "198:23: error: `take-rate` = 5e-324 is outside the supported range: 0 or a magnitude between 1e-15 and 1e12",
        ),
        (
            "take_rate_small",
            "198:23: error: `take-rate` must be at least 0.01 (the study implants n / take-rate animals), got 0.001",
        ),
    ];
    for (name, want) in cases {
        let f = format!("tests/fixtures/limits/{name}.toml");
        let o = super::xenoplan(&["check", &f]);
        assert_eq!(o.status.code(), Some(1), "{name}");
        let first = stderr(&o).lines().next().unwrap_or("").to_string();
        assert_eq!(first, format!("{f}:{want}"), "{name}");
    }
}

#[test]
fn command_line_sizes_are_capped() {
    let cases: [(&[&str], &str); 4] = [
        (
            &["power", P, "--threads", "10000"],
            "error: invalid value '10000' for '--threads <THREADS>': 10000 is not in 0..=256",
        ),
        (
            &["power", P, "--reps", "1000000000000"],
            "error: invalid value '1000000000000' for '--reps <REPS>': 1000000000000 is not in 0..=1000000",
        ),
        (
            &["simulate", P, "--start", "9999-12-01"],
            "error: invalid value '9999-12-01' for '--start <START>': 9999-12-01: the start year must be between 1900 and 2200",
        ),
        (
            &["timeline", P, "--start", "9999-12-01"],
            "error: invalid value '9999-12-01' for '--start <START>': 9999-12-01: the start year must be between 1900 and 2200",
        ),
    ];
    for (args, want) in cases {
        let o = super::xenoplan(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert_eq!(stderr(&o).lines().next(), Some(want), "{args:?}");
    }
    let o = super::xenoplan(&["power", P, "--n", "3..4000000000"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("each n at most 10000"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn two_reports_with_one_seed_give_identical_html() {
    let d = super::scratch("robust_report_repro");
    let mut pages = Vec::new();
    for run in ["a", "b"] {
        let out = d.join(run);
        let out = out.to_str().unwrap();
        let o = super::xenoplan(&["report", "protocols/tmt_proteomics.toml", "--out", out]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stderr(&o).contains("timing: timeline: "), "{}", stderr(&o));
        pages.push(std::fs::read(d.join(run).join("index.html")).unwrap());
    }
    assert!(
        pages[0] == pages[1],
        "index.html differs between two identical runs"
    );
}
