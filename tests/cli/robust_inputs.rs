//! Robustness on hostile inputs (issue 18, second part): diagnostics linear in the file size,
//! sanitized default folders, OS errors printed once, CSV duplicates and trailing columns,
//! spreadsheet-formula cells in CSV outputs, size estimates before large runs.
//!
//! A separate module (not appended to `robust.rs`) to keep merges with parallel work simple.

use super::{root, scratch, stderr, stdout, xenoplan};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const P: &str = "protocols/tamr_mcf7_xenograft.toml";

/// A ~300 KB protocol: the bundled TamR study with thousands of unknown top-level keys, one
/// enormous line (a 120 000-character unknown key), an unknown key inside `[protocol]` and
/// one type error (`id` given as a number).
fn huge_broken_protocol() -> String {
    let base = std::fs::read_to_string(root().join(P)).expect("bundled protocol");
    let mut out = String::new();
    let mut inserted = false;
    for line in base.lines() {
        if !inserted && line.starts_with('[') {
            for k in 0..6000 {
                out.push_str(&format!("unknwn-key-{k} = {k}\n"));
            }
            out.push_str(&"k".repeat(120_000));
            out.push_str(" = 1\n");
            inserted = true;
        }
        out.push_str(line);
        out.push('\n');
        if line == "[protocol]" {
            out.push_str("title-typo = 1\n");
        }
    }
    // A type error: `id` must be a string.
    out.replacen("\nid = \"", "\nid = 12345 # \"", 1)
}

#[test]
fn a_huge_broken_protocol_is_checked_fast_with_bounded_output() {
    let dir = scratch("robust_inputs_huge");
    let text = huge_broken_protocol();
    assert!(text.len() > 250_000, "{}", text.len());
    let f = dir.join("huge.toml");
    std::fs::write(&f, &text).unwrap();
    let t = Instant::now();
    let o = xenoplan(&["check", "--allow-unknown", f.to_str().unwrap()]);
    let took = t.elapsed();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(took < Duration::from_secs(2), "check took {took:?}");
    // 50 diagnostics of at most ~2 × 60 characters of source each, plus the summary.
    assert!(
        o.stderr.len() < 40_000,
        "{} bytes of stderr",
        o.stderr.len()
    );
    assert!(
        err.contains("`protocol.id`: invalid type: integer `12345`, expected a string"),
        "{err}"
    );
    assert!(err.contains("… and "), "{err}");
    assert!(err.contains("more not shown ("), "{err}");
    assert!(err.contains("the first 50 are listed)"), "{err}");
    // The enormous key is quoted clipped, with no hint search and a clipped message.
    assert!(!err.contains(&"k".repeat(200)), "{err}");
    assert!(
        err.contains(&format!("unknown key `{}…`", "k".repeat(40))),
        "{err}"
    );
    let summary = err.lines().rev().nth(1).unwrap_or_default();
    assert!(
        summary.ends_with(": 1 error, 6002 warnings"),
        "summary line: {summary}"
    );

    // `list` on a folder holding it: one short line for the broken file, the good one listed.
    std::fs::copy(root().join(P), dir.join("good.toml")).unwrap();
    let t = Instant::now();
    let o = xenoplan(&["list", dir.to_str().unwrap()]);
    assert!(t.elapsed() < Duration::from_secs(2));
    // Without --allow-unknown each unknown key is an error too.
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("tamr-mcf7-xenograft"), "{}", stdout(&o));
    assert!(o.stderr.len() < 1_000, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("huge.toml: invalid (6003 errors; run `xenoplan check"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_valid_protocol_with_many_unknown_keys_prints_a_bounded_warning_list() {
    let dir = scratch("robust_inputs_many_warnings");
    let base = std::fs::read_to_string(root().join(P)).unwrap();
    let extra: String = (0..3000).map(|k| format!("zz-{k} = {k}\n")).collect();
    let f = dir.join("noisy.toml");
    std::fs::write(&f, format!("{extra}{base}")).unwrap();
    let o = xenoplan(&["check", "--allow-unknown", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("(3000 warnings)"), "{}", stdout(&o));
    let err = stderr(&o);
    assert_eq!(err.matches(": warning: ").count(), 51, "{err}");
    assert!(
        err.contains(
            "warning: … and 2950 more warnings not shown (the first 50 are listed; the next one is here)"
        ),
        "{err}"
    );
}

#[test]
fn a_protocol_file_over_the_size_limit_is_refused_without_reading_it() {
    let dir = scratch("robust_inputs_size_limit");
    let f = dir.join("big.toml");
    let file = std::fs::File::create(&f).unwrap();
    file.set_len(5 << 20).unwrap();
    let o = xenoplan(&["check", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(
            "big.toml:1:1: error: the file is larger than 4 MiB, the limit for a protocol"
        ),
        "{}",
        stderr(&o)
    );
}

#[cfg(target_os = "linux")]
#[test]
fn an_os_error_is_printed_once() {
    let dir = scratch("robust_inputs_os_error");
    let file = dir.join("not-a-folder");
    std::fs::write(&file, "x").unwrap();
    let o = xenoplan(&["simulate", P, "--out", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        format!(
            "error: cannot write {}: File exists (os error 17)\n",
            file.display()
        )
    );
    let o = xenoplan(&["check", "no/such/protocol.toml"]);
    assert_eq!(
        stderr(&o).matches("os error 2").count(),
        1,
        "{}",
        stderr(&o)
    );
    let o = xenoplan(&["fit", "no/such/data.csv"]);
    assert_eq!(
        stderr(&o).matches("os error 2").count(),
        1,
        "{}",
        stderr(&o)
    );
}

/// Three vehicle and three treated animals on days 0, 7 and 14; the treated arm is named
/// `arm` (CSV-quoted as needed by the caller) and its tumors shrink (negative responses).
fn small_study(arm: &str) -> String {
    let mut s = String::from("animal_id,arm,day,volume_mm3\n");
    for (id, v) in [("V1", 100.0), ("V2", 110.0), ("V3", 90.0)] {
        for (d, f) in [(0, 1.0), (7, 2.5), (14, 4.0)] {
            s.push_str(&format!("{id},vehicle,{d},{}\n", v * f));
        }
    }
    for (id, v) in [("T1", 100.0), ("T2", 105.0), ("T3", 95.0)] {
        for (d, f) in [(0, 1.0), (7, 0.8), (14, 0.6)] {
            s.push_str(&format!("{id},{arm},{d},{}\n", v * f));
        }
    }
    s
}

fn xenoplan_in(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xenoplan"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("spawn xenoplan")
}

#[test]
fn analyze_default_folder_comes_from_a_sanitized_stem() {
    let dir = scratch("robust_inputs_stem");
    let data = small_study("drug");
    for (name, folder) in [
        ("..csv", "analysis"),
        ("...csv", "analysis"),
        ("a b;c$.csv", "a_b_c_"),
        (".hidden.csv", "hidden"),
    ] {
        std::fs::write(dir.join(name), &data).unwrap();
        let o = xenoplan_in(
            &dir,
            &["analyze", name, "--bootstrap-reps", "0", "--no-lmm"],
        );
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
        let out = dir.join("output").join(folder);
        assert!(
            out.join("manifest.json").is_file(),
            "{name} → {}",
            out.display()
        );
        assert!(
            stdout(&o).contains(&format!("output/{folder}")),
            "{name}: {}",
            stdout(&o)
        );
        // Nothing written into the current folder or next to `output/`.
        assert!(!dir.join("summary.csv").exists(), "{name}");
        assert!(!dir.join("output").join("summary.csv").exists(), "{name}");
        std::fs::remove_dir_all(&out).unwrap();
    }
}

#[test]
fn formula_like_text_cells_are_quoted_and_numbers_are_not() {
    let dir = scratch("robust_inputs_formula");
    let data = dir.join("study.csv");
    std::fs::write(&data, small_study("\"=HYPERLINK(\"\"x\"\")\"")).unwrap();
    let out = dir.join("out");
    let o = xenoplan(&[
        "analyze",
        data.to_str().unwrap(),
        "--bootstrap-reps",
        "0",
        "--no-lmm",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert!(
        summary.contains("\n\"'=HYPERLINK(\"\"x\"\")\",0,3,"),
        "{summary}"
    );
    assert!(!summary.contains("\n\"=HYPERLINK"), "{summary}");
    for f in ["summary.csv", "tgi.csv", "response.csv", "tests.csv"] {
        let t = std::fs::read_to_string(out.join(f)).unwrap();
        assert!(!t.contains(",=") && !t.contains("\"=H"), "{f}: {t}");
    }
    // Negative numbers stay numbers (no quote): the shrinking arm's best response is -40%.
    let response = std::fs::read_to_string(out.join("response.csv")).unwrap();
    assert!(response.contains(",-40.0000,"), "{response}");
    assert!(!response.contains("'-"), "{response}");
    // A cell already quoted by xenoplan (`'=…`, e.g. re-analyzing its own animals.csv) is
    // read as the real name and quoted once on output, never twice.
    let quoted = dir.join("quoted.csv");
    std::fs::write(&quoted, small_study("\"'=HYPERLINK(\"\"x\"\")\"")).unwrap();
    let out2 = dir.join("out2");
    let o = xenoplan(&[
        "analyze",
        quoted.to_str().unwrap(),
        "--bootstrap-reps",
        "0",
        "--no-lmm",
        "--out",
        out2.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("arms vehicle, =HYPERLINK(\"x\")"),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        std::fs::read_to_string(out2.join("summary.csv")).unwrap(),
        summary
    );
}

#[test]
fn duplicate_readings_identical_warn_conflicting_fail_naming_both_lines() {
    let dir = scratch("robust_inputs_dups");
    let mut data = small_study("drug");
    data.push_str("V1,vehicle,7,250\n");
    let f = dir.join("dup.csv");
    std::fs::write(&f, &data).unwrap();
    let args = |out: &Path| {
        vec![
            "analyze".to_string(),
            f.display().to_string(),
            "--bootstrap-reps".into(),
            "0".into(),
            "--no-lmm".into(),
            "--out".into(),
            out.display().to_string(),
        ]
    };
    let a = args(&dir.join("o1"));
    let o = xenoplan(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!(
            "warning: {}: line 20 repeats line 3 (animal `V1`, day 7, same values); counted once",
            f.display()
        )),
        "{}",
        stderr(&o)
    );
    data.push_str("V1,vehicle,7,260\n");
    std::fs::write(&f, &data).unwrap();
    let a = args(&dir.join("o2"));
    let o = xenoplan(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        format!(
            "error: {}: animal `V1` has two different readings on day 7: line 3 (volume 250) and line 21 (volume 260); correct or remove one\n",
            f.display()
        )
    );
}

#[test]
fn wide_layout_accepts_trailing_empty_columns_and_rejects_conflicting_days() {
    let dir = scratch("robust_inputs_wide");
    let wide =
        std::fs::read_to_string(root().join("tests/fixtures/fit/gompertz_wide.csv")).unwrap();
    // Excel exports a few empty columns past the data.
    let padded: String = wide.lines().map(|l| format!("{l},,,\n")).collect();
    let f = dir.join("padded.csv");
    std::fs::write(&f, &padded).unwrap();
    let o = xenoplan(&[
        "fit",
        f.to_str().unwrap(),
        "--model",
        "gompertz",
        "--boot",
        "0",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // A value under an empty header is not silently dropped.
    let mut lines: Vec<String> = padded.lines().map(str::to_string).collect();
    lines[2].push('5');
    let f2 = dir.join("stray.csv");
    std::fs::write(&f2, lines.join("\n")).unwrap();
    let o = xenoplan(&[
        "fit",
        f2.to_str().unwrap(),
        "--model",
        "gompertz",
        "--boot",
        "0",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let ncol = wide.lines().next().unwrap().split(',').count();
    assert!(
        stderr(&o).contains(&format!(
            "line 3: a value in column {} but the header has {ncol} columns",
            ncol + 3
        )),
        "{}",
        stderr(&o)
    );
    // The same day twice with different readings: an error naming both lines.
    let mut lines: Vec<&str> = wide.lines().collect();
    let day0 = lines[1].to_string();
    let changed = day0.replacen(",", ",1", 2).replacen(",1", ",", 1);
    lines.push(&changed);
    let f3 = dir.join("twice.csv");
    std::fs::write(&f3, lines.join("\n")).unwrap();
    let o = xenoplan(&[
        "fit",
        f3.to_str().unwrap(),
        "--model",
        "gompertz",
        "--boot",
        "0",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("has two different readings on day 0: line 2 (volume "),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains(&format!("and line {} (volume ", lines.len())),
        "{}",
        stderr(&o)
    );
}

#[test]
fn an_unusually_large_run_prints_its_estimated_size_first() {
    use std::io::BufRead;
    let dir = scratch("robust_inputs_estimate");
    let mut child = Command::new(env!("CARGO_BIN_EXE_xenoplan"))
        .args([
            "power",
            "examples/p1_power.toml",
            "--n",
            "2..10000",
            "--reps",
            "1000000",
            "--threads",
            "2",
            "--out",
            dir.join("big").to_str().unwrap(),
        ])
        .current_dir(root())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut first = String::new();
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    err.read_line(&mut first).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        first.starts_with("power: large run: estimated ")
            && first.contains(" h (")
            && first.ends_with(
                " simulated readings); continuing (limits: README \"Limits and output folders\")\n"
            ),
        "{first}"
    );
    // An ordinary run says nothing of the kind.
    let o = xenoplan(&[
        "power",
        "examples/p1_power.toml",
        "--reps",
        "200",
        "--out",
        dir.join("small").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("large run"), "{}", stderr(&o));
}
