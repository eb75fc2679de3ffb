//! In vitro sizing: the null holds α, power grows with the shift, threads do not matter.

use super::*;
use crate::invitro::testutil;

/// A small, fast assay: the test fixture's two lines, one line kept.
fn one_line_assay() -> Assay {
    let mut a = testutil::assay();
    a.lines.truncate(1);
    a
}

fn settings(n: Vec<u32>, reps: u64, fold: f64) -> AssaySettings {
    AssaySettings {
        n_values: n,
        reps,
        alpha: 0.05,
        target: 0.8,
        alpha_source: "test".into(),
        seed: 11,
        threads: 2,
        alternative: Alternative {
            fold_shift: fold,
            max_inhibition_diff: None,
        },
    }
}

fn power_at<'a>(r: &'a AssayPowerResult, n: u32, test: &str) -> &'a AssayPowerRow {
    r.rows
        .iter()
        .find(|x| x.n_per_arm == n && x.endpoint == test)
        .expect("row")
}

#[test]
fn null_shift_rejects_about_alpha() {
    let reps = 800;
    let r = run_assay_power(
        "t",
        &one_line_assay(),
        &settings(vec![3], reps, 1.0),
        &|_| {},
    )
    .expect("runs");
    let row = power_at(&r, 3, "log-ic50-wald");
    // Tolerance from the replicate count: ±4.5 binomial SE around α.
    let se = (0.05f64 * 0.95 / reps as f64).sqrt();
    assert!(
        (row.power - 0.05).abs() < 4.5 * se,
        "type I error {} (± {})",
        row.power,
        4.5 * se
    );
}

#[test]
fn power_grows_with_the_fold_shift() {
    let reps = 300;
    let a = one_line_assay();
    let p = |fold: f64| {
        let r = run_assay_power("t", &a, &settings(vec![2], reps, fold), &|_| {}).expect("runs");
        power_at(&r, 2, "log-ic50-wald").power
    };
    let (p1, p2, p10) = (p(1.0), p(1.6), p(10.0));
    let se = (0.25 / reps as f64).sqrt();
    assert!(p1 + 4.5 * se < p10, "{p1} vs {p10}");
    assert!(
        p1 <= p2 + 4.5 * se && p2 <= p10 + 4.5 * se,
        "{p1} {p2} {p10}"
    );
    assert!(p10 > 0.9, "a 10x shift at n = 2 is detected: {p10}");
}

#[test]
fn rows_do_not_depend_on_the_thread_count() {
    let a = one_line_assay();
    let mut s = settings(vec![2, 3], 40, 3.0);
    s.alternative.max_inhibition_diff = Some(0.2);
    s.threads = 1;
    let one = run_assay_power("t", &a, &s, &|_| {}).expect("runs");
    s.threads = 2;
    let two = run_assay_power("t", &a, &s, &|_| {}).expect("runs");
    assert_eq!(one, two);
    assert_eq!(one.tests, ["log-ic50-wald", "max-inhibition-wald"]);
    assert_eq!(one.rows.len(), 4);
}

#[test]
fn an_n_the_layout_cannot_hold_is_skipped_and_said() {
    let mut a = one_line_assay();
    a.design.layout.arrangement = crate::protocol::Arrangement::LinePerPlate;
    a.design.layout.edges = crate::protocol::EdgeWells::Pbs;
    // 12 doses: 60 inner wells hold 5 replicates.
    let r = run_assay_power("t", &a, &settings(vec![2, 6], 5, 10.0), &|_| {}).expect("runs");
    assert_eq!(r.n_values, [2]);
    assert_eq!(r.skipped.len(), 1);
    assert!(
        r.warnings.iter().any(|w| w.contains("n = 6")),
        "{:?}",
        r.warnings
    );
    let none = run_assay_power("t", &a, &settings(vec![6], 5, 10.0), &|_| {});
    assert!(none.is_err());
}

#[test]
fn a_shift_beyond_the_top_dose_counts_outside_range() {
    let r = run_assay_power("t", &one_line_assay(), &settings(vec![2], 20, 1e5), &|_| {})
        .expect("runs");
    let row = power_at(&r, 2, "log-ic50-wald");
    assert!(row.outside_range > 0, "{row:?}");
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("outside the tested doses"))
    );
}

#[test]
fn bad_settings_are_errors() {
    let a = one_line_assay();
    for s in [
        settings(vec![], 10, 10.0),
        settings(vec![0], 10, 10.0),
        settings(vec![2], 0, 10.0),
        settings(vec![2], 10, -1.0),
        settings(vec![2], 10, f64::NAN),
    ] {
        assert!(run_assay_power("t", &a, &s, &|_| {}).is_err(), "{s:?}");
    }
}

#[test]
fn null_max_inhibition_difference_rejects_about_alpha() {
    let reps = 800;
    let mut s = settings(vec![3], reps, 1.0);
    s.alternative.max_inhibition_diff = Some(0.0);
    let r = run_assay_power("t", &one_line_assay(), &s, &|_| {}).expect("runs");
    let row = power_at(&r, 3, "max-inhibition-wald");
    let se = (0.05f64 * 0.95 / reps as f64).sqrt();
    assert!(
        (row.power - 0.05).abs() < 4.5 * se,
        "type I error {} (± {})",
        row.power,
        4.5 * se
    );
}
