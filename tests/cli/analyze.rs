//! `xenoplan analyze`: end to end on a small study (values checked against R), reproducibility,
//! and errors naming the bad line and column.

use crate::{scratch, stderr, stdout, xenoplan};
use std::collections::HashMap;

const STUDY: &str = "tests/fixtures/analysis/study_small.csv";

fn read_csv(path: &std::path::Path) -> (Vec<String>, Vec<HashMap<String, String>>) {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let h: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|rec| {
            h.iter()
                .cloned()
                .zip(rec.unwrap().iter().map(String::from))
                .collect()
        })
        .collect();
    (h, rows)
}

#[test]
fn analyze_study_matches_r_and_writes_every_file() {
    let out = scratch("analyze-study");
    let o = xenoplan(&[
        "analyze",
        STUDY,
        "--control",
        "vehicle",
        "--out",
        out.to_str().unwrap(),
        "--bootstrap-reps",
        "200",
        "--seed",
        "3",
    ]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert!(stdout(&o).contains("analysis day 17"), "{}", stdout(&o));
    for f in [
        "summary.csv",
        "tgi.csv",
        "rate_tc.csv",
        "response.csv",
        "response_summary.csv",
        "endpoints.csv",
        "km.csv",
        "tests.csv",
        "manifest.json",
    ] {
        assert!(out.join(f).is_file(), "missing {f}");
    }
    for f in ["growth", "spaghetti", "tgi", "waterfall", "survival"] {
        for ext in ["svg", "png"] {
            assert!(
                out.join("plots").join(format!("{f}.{ext}")).is_file(),
                "missing plot {f}.{ext}"
            );
        }
    }
    // Contract columns come first.
    let (h, _) = read_csv(&out.join("summary.csv"));
    assert_eq!(
        h[..7],
        [
            "arm",
            "day",
            "n",
            "mean_mm3",
            "sd_mm3",
            "sem_mm3",
            "median_mm3"
        ]
    );
    let (h, _) = read_csv(&out.join("tgi.csv"));
    assert_eq!(
        h[..6],
        [
            "arm",
            "day",
            "tgi_pct",
            "tgi_ci_low",
            "tgi_ci_high",
            "tc_pct"
        ]
    );
    let (h, _) = read_csv(&out.join("response.csv"));
    assert_eq!(
        h[..5],
        [
            "animal_id",
            "arm",
            "best_response_pct",
            "best_avg_response_pct",
            "mrecist"
        ]
    );
    let (h, _) = read_csv(&out.join("endpoints.csv"));
    assert_eq!(h[..4], ["animal_id", "arm", "time_days", "event"]);
    let (h, tests) = read_csv(&out.join("tests.csv"));
    assert_eq!(
        h[..10],
        [
            "hypothesis",
            "kind",
            "comparison",
            "endpoint",
            "test",
            "alternative",
            "statistic",
            "p_value",
            "p_adjusted",
            "family"
        ]
    );
    assert_eq!(tests.len(), 14);
    // No hypothesis declared: each arm vs control, Holm within each test's family.
    assert!(tests.iter().all(|t| t["kind"] == "vs-control"
        && t["alternative"] == "two-sided"
        && t["family"] == t["test_key"]
        && t["adjustment"] == "holm"));

    // R reference (tests/fixtures/analysis/make_study.R): Welch on ln V at day 17, log-rank on
    // 4 x baseline, Welch on slopes (1e-6), lmerTest trt:day (1e-4).
    let (_, refs) = read_csv(&crate::root().join("tests/fixtures/analysis/study_small_ref.csv"));
    assert_eq!(refs.len(), 8);
    for r in &refs {
        let comparison = format!("{} vs vehicle", r["arm"]);
        let got = tests
            .iter()
            .find(|t| t["comparison"] == comparison && t["test_key"] == r["key"])
            .unwrap_or_else(|| panic!("no row for {r:?}"));
        let tol = if r["key"] == "lmm" { 1e-4 } else { 1e-6 };
        for (col, rcol) in [
            ("statistic", "statistic"),
            ("df", "df"),
            ("p_value", "p_value"),
        ] {
            // R's survdiff p is the χ² one; xenoplan's log-rank p is exact at this n (checked
            // against R coin in src/analysis/stats/tests.rs).
            if r["key"] == "logrank" && col == "p_value" {
                continue;
            }
            let (a, b): (f64, f64) = (got[col].parse().unwrap(), r[rcol].parse().unwrap());
            assert!(
                (a - b).abs() <= tol * b.abs(),
                "{comparison} {} {col}: {a} vs R {b}",
                r["key"]
            );
        }
    }
    // Holm over the two comparisons: the larger p stays, the smaller doubles (here).
    let w: Vec<_> = tests
        .iter()
        .filter(|t| t["test_key"] == "welch-log")
        .collect();
    let p: Vec<f64> = w.iter().map(|t| t["p_value"].parse().unwrap()).collect();
    let pa: Vec<f64> = w.iter().map(|t| t["p_adjusted"].parse().unwrap()).collect();
    assert!(
        (pa[1] - 2.0 * p[1]).abs() < 1e-15 && (pa[0] - p[0]).abs() < 1e-15,
        "{p:?} {pa:?}"
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["seed"], 3);
    assert_eq!(m["parameters"]["analysis_days_used"][0]["day"], 17.0);
}

#[test]
fn analyze_is_byte_identical_for_the_same_seed() {
    let a = scratch("analyze-repro-a");
    let b = scratch("analyze-repro-b");
    for d in [&a, &b] {
        let o = xenoplan(&[
            "analyze",
            STUDY,
            "--out",
            d.to_str().unwrap(),
            "--bootstrap-reps",
            "300",
            "--seed",
            "9",
            "--no-lmm",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    for f in [
        "summary.csv",
        "tgi.csv",
        "rate_tc.csv",
        "response.csv",
        "endpoints.csv",
        "km.csv",
        "tests.csv",
    ] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs"
        );
    }
    let (_, tgi) = read_csv(&a.join("tgi.csv"));
    assert!(
        tgi.iter()
            .filter(|r| r["day"] != "0")
            .all(|r| !r["tgi_ci_low"].is_empty()),
        "bootstrap CIs present"
    );
}

#[test]
fn bad_row_fails_with_line_and_column() {
    let d = scratch("analyze-bad");
    let f = d.join("bad.csv");
    std::fs::write(
        &f,
        "animal_id,arm,day,volume_mm3\nA1,vehicle,0,150\nA1,vehicle,3,twelve\n",
    )
    .unwrap();
    let o = xenoplan(&[
        "analyze",
        f.to_str().unwrap(),
        "--control",
        "vehicle",
        "--out",
        d.join("out").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("bad.csv:3") && e.contains("`volume_mm3`") && e.contains("twelve"),
        "{e}"
    );
    assert!(!d.join("out").join("tests.csv").exists());
}

#[test]
fn missing_control_and_missing_columns_are_clear_errors() {
    let o = xenoplan(&[
        "analyze",
        STUDY,
        "--control",
        "saline",
        "--out",
        scratch("analyze-noctl").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("saline") && e.contains("tamoxifen"), "{e}");
    let d = scratch("analyze-nocol");
    let f = d.join("nocol.csv");
    std::fs::write(&f, "animal_id,arm,day\nA,vehicle,0\n").unwrap();
    let o = xenoplan(&["analyze", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("volume_mm3"), "{}", stderr(&o));
    let o = xenoplan(&["analyze", "no/such/file.csv"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(xenoplan(&["analyze"]).status.code(), Some(2));
}

#[test]
fn cohort_column_gives_one_analysis_per_cohort() {
    let d = scratch("analyze-cohorts");
    let text = std::fs::read_to_string(crate::root().join(STUDY)).unwrap();
    let mut out = String::from("cohort,");
    for (i, line) in text.lines().enumerate() {
        if i == 0 {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        for c in ["MCF7", "TamR MCF7"] {
            out.push_str(&format!("{c},{}-{}\n", c.replace(' ', ""), line));
        }
    }
    let f = d.join("two.csv");
    std::fs::write(&f, out).unwrap();
    let o = xenoplan(&[
        "analyze",
        f.to_str().unwrap(),
        "--out",
        d.join("o").to_str().unwrap(),
        "--bootstrap-reps",
        "0",
        "--no-lmm",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let (_, tests) = read_csv(&d.join("o").join("tests.csv"));
    assert_eq!(tests.len(), 24);
    let a: Vec<_> = tests
        .iter()
        .filter(|t| t["cohort"] == "MCF7")
        .map(|t| t["p_value"].clone())
        .collect();
    let b: Vec<_> = tests
        .iter()
        .filter(|t| t["cohort"] == "TamR MCF7")
        .map(|t| t["p_value"].clone())
        .collect();
    assert_eq!(a, b, "identical cohorts give identical tests");
    assert!(
        d.join("o")
            .join("plots")
            .join("waterfall_tamr-mcf7.png")
            .is_file()
    );
}

#[test]
fn synergy_rows_and_time_course_from_the_command_line() {
    let out = scratch("analyze-synergy");
    let o = xenoplan(&[
        "analyze",
        "tests/fixtures/synergy/synergy_data.csv",
        "--control",
        "Control",
        "--synergy",
        "Combination=DrugA,DrugB",
        "--bootstrap-reps",
        "0",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("Combination vs Bliss of DrugA, DrugB (control Control)"),
        "{}",
        stdout(&o)
    );
    let (_, tests) = read_csv(&out.join("tests.csv"));
    let bliss = tests
        .iter()
        .find(|t| t["test_key"] == "bliss-lmm")
        .expect("bliss row");
    assert_eq!(bliss["kind"], "synergy");
    assert_eq!(bliss["family"], "synergy");
    // SynergyLMM at day 30 (tests/fixtures/synergy/synergy_bliss.csv): SS 2.474639.
    let ss: f64 = bliss["statistic"].parse().unwrap();
    assert!((ss - 2.474639).abs() < 1e-3, "{ss}");
    let (_, course) = read_csv(&out.join("synergy.csv"));
    assert_eq!(course.len(), 20, "10 days × Bliss and HSA");

    // A component arm missing from the data is an error naming the data's arms.
    let o = xenoplan(&[
        "analyze",
        "tests/fixtures/synergy/synergy_data.csv",
        "--control",
        "Control",
        "--synergy",
        "Combination=DrugA,DrugC",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("hypothesis `synergy of Combination` (arms Combination, DrugA, DrugC) cannot be tested: no cohort of the data has all its arms (the data's arms: Combination, Control, DrugA, DrugB)"),
        "{}",
        stderr(&o)
    );
    let o = xenoplan(&["analyze", STUDY, "--synergy", "AB"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("cannot read --synergy `AB`: expected COMBINATION=A,B"),
        "{}",
        stderr(&o)
    );
}
