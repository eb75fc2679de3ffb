//! Fuzz harness (proptest) over protocol text and CSV input: random mutations of the bundled
//! protocols and of two CSV layouts — byte flips, line (key) deletions and duplications,
//! values replaced by extremes (0, 5e-324, 1e308, -1, NaN, inf, 4294967295, huge strings,
//! deep nesting). Asserts: no panic, a bounded time per input, bounded diagnostics, and every
//! error carries a position (`line:col` for protocols, a line for CSV).
//!
//! Bounded: 1024 protocol and 1024 CSV cases (about a second in `cargo test --release`). Failing
//! cases are persisted in `fuzz.proptest-regressions` next to this file (committed) and re-run
//! first; the hand-made corpus in `tests/fixtures/robust/` and `tests/fixtures/bad/` is run
//! on every test run as well.

use super::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};
use std::time::{Duration, Instant};

/// Longest time one input may take to parse (a release build parses a bundled protocol in
/// about a millisecond; the bound catches hangs and quadratic blow-ups, not noise).
const MAX_PARSE: Duration = Duration::from_secs(2);

const EXTREMES: &[&str] = &[
    "0",
    "5e-324",
    "1e308",
    "-1",
    "nan",
    "inf",
    "-inf",
    "4294967295",
    "18446744073709551616",
    "-9223372036854775808",
    "1e-12",
    "\"\"",
    "[]",
    "{}",
    "true",
    "1979-05-27",
];

fn regressions() -> Option<Box<dyn proptest::test_runner::FailurePersistence>> {
    Some(Box::new(FileFailurePersistence::Direct(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/protocol/tests/fuzz.proptest-regressions"
    ))))
}

fn bundled() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = std::fs::read_dir(repo("protocols"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// One text mutation; positions are taken modulo the text (or line count) when applied.
#[derive(Debug, Clone)]
enum Mutation {
    /// XOR one byte (may break UTF-8: the text is then read lossily, as `load` does).
    FlipByte(usize, u8),
    /// Remove a line (deletes a key or a table header).
    DeleteLine(usize),
    /// Repeat a line (duplicate keys, duplicate tables).
    DuplicateLine(usize),
    /// Replace the value of the k-th `key = value` line with an extreme.
    Value(usize, usize),
    /// Replace the value of the k-th `key = value` line with a huge string or number.
    Huge(usize, usize),
    /// Insert an unknown key with a long name.
    UnknownKey(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(p, b)| Mutation::FlipByte(p, b)),
        any::<usize>().prop_map(Mutation::DeleteLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), 0..EXTREMES.len()).prop_map(|(k, v)| Mutation::Value(k, v)),
        (any::<usize>(), 0usize..4).prop_map(|(k, v)| Mutation::Huge(k, v)),
        (any::<usize>(), 1usize..5000).prop_map(|(k, n)| Mutation::UnknownKey(k, n)),
    ]
}

fn huge(kind: usize) -> String {
    match kind {
        0 => format!("\"{}\"", "x".repeat(100_000)),
        1 => "9".repeat(5_000),
        2 => format!("[{}]", vec!["1e308"; 5_000].join(", ")),
        _ => format!("{}{}", "[".repeat(2_000), "]".repeat(2_000)),
    }
}

fn apply(text: &str, m: &Mutation) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let n = lines.len().max(1);
    let assignments: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with('#') && l.contains(" = "))
        .map(|(i, _)| i)
        .collect();
    let replace_value = |k: usize, v: &str| -> String {
        if assignments.is_empty() {
            return text.to_string();
        }
        let i = assignments[k % assignments.len()];
        let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        let (key, _) = lines[i].split_once(" = ").unwrap();
        out[i] = format!("{key} = {v}");
        out.join("\n")
    };
    match *m {
        Mutation::FlipByte(p, b) => {
            let mut bytes = text.as_bytes().to_vec();
            if !bytes.is_empty() {
                let p = p % bytes.len();
                bytes[p] ^= b;
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Mutation::DeleteLine(p) => {
            let mut out = lines.clone();
            out.remove(p % n);
            out.join("\n")
        }
        Mutation::DuplicateLine(p) => {
            let mut out = lines.clone();
            out.insert(p % n, lines[p % n]);
            out.join("\n")
        }
        Mutation::Value(k, v) => replace_value(k, EXTREMES[v]),
        Mutation::Huge(k, v) => replace_value(k, &huge(v)),
        Mutation::UnknownKey(p, len) => {
            let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            out.insert(p % n, format!("{} = 1", "q".repeat(len)));
            out.join("\n")
        }
    }
}

/// Parses `text` and checks the invariants; `Err` describes the violation.
fn check_protocol(text: &str, label: &str) -> Result<(), String> {
    let t = Instant::now();
    let r = parse(text, label);
    let took = t.elapsed();
    if took > MAX_PARSE {
        return Err(format!("parse took {took:?}"));
    }
    let nlines = text.lines().count() + 1;
    let diags: Vec<Diagnostic> = match &r {
        Ok(l) => l.warnings.clone(),
        Err(e) => {
            let shown = e.to_string();
            if shown.len() > 200_000 {
                return Err(format!("{} bytes of diagnostics", shown.len()));
            }
            if e.errors().next().is_none() {
                return Err(format!("invalid without an error: {shown}"));
            }
            e.diagnostics().to_vec()
        }
    };
    for d in &diags {
        if d.line == 0 || d.col == 0 || d.line > nlines {
            return Err(format!("bad position {}:{} in {d}", d.line, d.col));
        }
        let head = format!("{label}:{}:{}: ", d.line, d.col);
        if !d.to_string().starts_with(&head) {
            return Err(format!("no `{head}` prefix: {d}"));
        }
        if d.line_text.chars().count() > 2 * diag::WINDOW + 2 + diag::WINDOW {
            return Err(format!("unclipped line: {} chars", d.line_text.len()));
        }
    }
    Ok(())
}

#[test]
fn fuzz_protocol_mutations_never_panic_and_errors_are_positioned() {
    let files = bundled();
    assert!(files.len() >= 5);
    let mut runner = TestRunner::new(Config {
        cases: 1024,
        failure_persistence: regressions(),
        ..Config::default()
    });
    let strategy = (0..files.len(), proptest::collection::vec(mutation(), 1..=4));
    let result = runner.run(&strategy, |(f, muts)| {
        let mut text = files[f].1.clone();
        for m in &muts {
            text = apply(&text, m);
        }
        let r = check_protocol(&text, "mutant.toml");
        prop_assert!(r.is_ok(), "{}: {:?}: {}", files[f].0, muts, r.unwrap_err());
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// The hand-made corpus: every file in `tests/fixtures/robust/`, `bad/` and `limits/`.
#[test]
fn fuzz_corpus_protocols_are_positioned() {
    let mut n = 0;
    for dir in [
        "tests/fixtures/robust",
        "tests/fixtures/bad",
        "tests/fixtures/limits",
    ] {
        for e in std::fs::read_dir(repo(dir)).unwrap().flatten() {
            let p = e.path();
            if p.extension().is_none_or(|x| x != "toml") {
                continue;
            }
            let bytes = std::fs::read(&p).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            if let Err(e) = check_protocol(&text, "corpus.toml") {
                panic!("{}: {e}", p.display());
            }
            n += 1;
        }
    }
    assert!(n >= 10, "{n} corpus files");
}

// --- CSV input -------------------------------------------------------------------------

fn tidy_seed() -> String {
    std::fs::read_to_string(repo("tests/fixtures/analysis/study_small.csv")).unwrap()
}

fn wide_seed() -> String {
    std::fs::read_to_string(repo("tests/fixtures/fit/gompertz_wide.csv")).unwrap()
}

const CSV_EXTREMES: &[&str] = &[
    "",
    "0",
    "5e-324",
    "1e308",
    "-1",
    "NaN",
    "inf",
    "4294967295",
    "1e400",
    "\"",
    "=1+1",
    "'=x",
    "NA",
    " ",
    "\u{feff}",
    "-0",
];

#[derive(Debug, Clone)]
enum CsvMutation {
    FlipByte(usize, u8),
    DeleteLine(usize),
    DuplicateLine(usize),
    /// Replace cell (line, column) by an extreme.
    Cell(usize, usize, usize),
    /// Append empty (or not) trailing columns to every line.
    Trailing(usize, bool),
    /// A huge cell.
    Huge(usize, usize),
}

fn csv_mutation() -> impl Strategy<Value = CsvMutation> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(p, b)| CsvMutation::FlipByte(p, b)),
        any::<usize>().prop_map(CsvMutation::DeleteLine),
        any::<usize>().prop_map(CsvMutation::DuplicateLine),
        (any::<usize>(), any::<usize>(), 0..CSV_EXTREMES.len())
            .prop_map(|(l, c, v)| CsvMutation::Cell(l, c, v)),
        (1usize..4, any::<bool>()).prop_map(|(n, v)| CsvMutation::Trailing(n, v)),
        (any::<usize>(), any::<usize>()).prop_map(|(l, c)| CsvMutation::Huge(l, c)),
    ]
}

fn apply_csv(text: &str, m: &CsvMutation) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let n = lines.len().max(1);
    let mut set_cell = |l: usize, c: usize, v: &str| {
        if lines.is_empty() {
            return;
        }
        let l = l % n;
        let mut cells: Vec<String> = lines[l].split(',').map(str::to_string).collect();
        let c = c % cells.len();
        cells[c] = v.to_string();
        lines[l] = cells.join(",");
    };
    match *m {
        CsvMutation::FlipByte(p, b) => {
            let mut bytes = text.as_bytes().to_vec();
            if !bytes.is_empty() {
                let p = p % bytes.len();
                bytes[p] ^= b;
            }
            return String::from_utf8_lossy(&bytes).into_owned();
        }
        CsvMutation::DeleteLine(p) => {
            if !lines.is_empty() {
                lines.remove(p % n);
            }
        }
        CsvMutation::DuplicateLine(p) => {
            if !lines.is_empty() {
                let l = lines[p % n].clone();
                lines.insert(p % n, l);
            }
        }
        CsvMutation::Cell(l, c, v) => set_cell(l, c, CSV_EXTREMES[v]),
        CsvMutation::Huge(l, c) => set_cell(l, c, &"7".repeat(100_000)),
        CsvMutation::Trailing(k, value) => {
            for (i, l) in lines.iter_mut().enumerate() {
                for _ in 0..k {
                    l.push(',');
                    if value && i == 2 {
                        l.push('5');
                    }
                }
            }
        }
    }
    lines.join("\n")
}

/// True when an error message names a place: `file:LINE:` or `line LINE`.
fn positioned(msg: &str) -> bool {
    let digits_after = |s: &str, pat: &str| {
        s.match_indices(pat).any(|(i, _)| {
            s[i + pat.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit())
        })
    };
    digits_after(msg, ".csv:") || digits_after(msg, "line ")
}

fn check_csv(bytes: &[u8]) -> Result<(), String> {
    let path = std::path::Path::new("mutant.csv");
    let t = Instant::now();
    let tidy = crate::analysis::csv_in::parse_dataset_with_warnings(bytes, "mutant.csv");
    let any = crate::fit::read::read_bytes_with_warnings(path, bytes);
    let took = t.elapsed();
    if took > MAX_PARSE {
        return Err(format!("reading took {took:?}"));
    }
    if let Err(e) = &tidy {
        let m = e.to_string();
        if !positioned(&m) {
            return Err(format!("tidy error without a line: {m}"));
        }
    }
    if let Err(e) = &any {
        let m = e.to_string();
        if !positioned(&m) && !m.contains("the file is empty") {
            return Err(format!("fit reader error without a line: {m}"));
        }
    }
    Ok(())
}

#[test]
fn fuzz_csv_mutations_never_panic_and_errors_name_a_line() {
    let seeds = [tidy_seed(), wide_seed()];
    let mut runner = TestRunner::new(Config {
        cases: 1024,
        failure_persistence: regressions(),
        ..Config::default()
    });
    let strategy = (0..2usize, proptest::collection::vec(csv_mutation(), 1..=4));
    let result = runner.run(&strategy, |(s, muts)| {
        let mut text = seeds[s].clone();
        for m in &muts {
            text = apply_csv(&text, m);
        }
        let r = check_csv(text.as_bytes());
        prop_assert!(r.is_ok(), "seed {s}: {:?}: {}", muts, r.unwrap_err());
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn fuzz_corpus_csv_files_are_positioned() {
    let mut n = 0;
    for e in std::fs::read_dir(repo("tests/fixtures/robust"))
        .unwrap()
        .flatten()
    {
        let p = e.path();
        if p.extension().is_none_or(|x| x != "csv") {
            continue;
        }
        if let Err(e) = check_csv(&std::fs::read(&p).unwrap()) {
            panic!("{}: {e}", p.display());
        }
        n += 1;
    }
    assert!(n >= 3, "{n} corpus files");
}
