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
        experiments: None,
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

#[test]
fn independent_experiments_null_holds_alpha_with_welch() {
    // Fold shift 1: both lines are the same line; Welch's t on k = 3 per-experiment log10
    // IC50s per line rejects α within ±4.5 binomial SE.
    let reps = 1000;
    let mut s = settings(vec![2], reps, 1.0);
    s.experiments = Some(vec![3]);
    let r = run_assay_power("t", &one_line_assay(), &s, &|_| {}).expect("runs");
    assert_eq!(r.tests, ["log-ic50-welch"]);
    let row = power_at(&r, 2, "log-ic50-welch");
    assert_eq!(row.experiments, 3);
    let se = (0.05f64 * 0.95 / reps as f64).sqrt();
    assert!(
        (row.power - 0.05).abs() < 4.5 * se,
        "type I error {} (± {})",
        row.power,
        4.5 * se
    );
}

#[test]
fn more_experiments_buy_power_that_more_wells_cannot() {
    // Between-experiment SD 0.3 log10 dominates the within-experiment SE (≈ 0.05), so a 6x
    // shift needs experiments: k = 2 stays low at any n, k = 5 is high already at n = 2.
    let reps = 300;
    let mut a = one_line_assay();
    a.lines[0].between_experiment_log10_ic50_sd.value = 0.3;
    let mut s = settings(vec![2, 4], reps, 6.0);
    s.experiments = Some(vec![2, 5]);
    let r = run_assay_power("t", &a, &s, &|_| {}).expect("runs");
    let p = |n: u32, k: u32| {
        r.rows
            .iter()
            .find(|x| x.n_per_arm == n && x.experiments == k)
            .expect("row")
            .power
    };
    let se = (0.25 / reps as f64).sqrt();
    assert!(p(2, 5) > p(4, 2) + 4.5 * se, "{} vs {}", p(2, 5), p(4, 2));
    // Doubling the wells at k = 2 changes little (within 4.5 SE of each other).
    assert!(
        (p(4, 2) - p(2, 2)).abs() < 4.5 * (2.0f64).sqrt() * se,
        "{} {}",
        p(2, 2),
        p(4, 2)
    );
    let rec = &r.recommendations[0];
    assert_eq!((rec.n, rec.experiments), (Some(2), Some(5)), "{rec:?}");
}

#[test]
fn independent_experiments_do_not_depend_on_the_thread_count() {
    let a = one_line_assay();
    let mut s = settings(vec![2, 3], 30, 3.0);
    s.alternative.max_inhibition_diff = Some(0.2);
    s.experiments = Some(vec![2, 3]);
    s.threads = 1;
    let one = run_assay_power("t", &a, &s, &|_| {}).expect("runs");
    s.threads = 2;
    let two = run_assay_power("t", &a, &s, &|_| {}).expect("runs");
    assert_eq!(one, two);
    assert_eq!(one.tests, ["log-ic50-welch", "max-inhibition-welch"]);
    assert_eq!(one.rows.len(), 2 * 2 * 2);
    // The single-experiment rows keep their streams: experiments do not change them.
    s.experiments = None;
    let single = run_assay_power("t", &a, &s, &|_| {}).expect("runs");
    assert!(single.rows.iter().all(|x| x.experiments == 1));
}

#[test]
fn one_experiment_cannot_give_a_t_test() {
    let a = one_line_assay();
    for k in [vec![1, 2], vec![], vec![2, MAX_EXPERIMENTS + 1]] {
        let mut s = settings(vec![2], 10, 10.0);
        s.experiments = Some(k.clone());
        let e = run_assay_power("t", &a, &s, &|_| {}).expect_err("refused");
        let msg = e.to_string();
        assert!(msg.contains("--experiments"), "{k:?}: {msg}");
    }
    let mut s = settings(vec![2], 10, 10.0);
    s.experiments = Some(vec![1]);
    let msg = run_assay_power("t", &a, &s, &|_| {})
        .expect_err("refused")
        .to_string();
    assert!(
        msg.contains("needs at least 2 independent experiments"),
        "{msg}"
    );
}

#[test]
fn a_failed_experiment_fails_its_study_and_is_counted() {
    // A shift far beyond the top dose: every shifted fit is an extrapolation.
    let mut s = settings(vec![2], 10, 1e5);
    s.experiments = Some(vec![2]);
    let r = run_assay_power("t", &one_line_assay(), &s, &|_| {}).expect("runs");
    let row = power_at(&r, 2, "log-ic50-welch");
    assert_eq!(row.rejections, 0);
    let failed_studies = row.fit_failed + row.outside_range;
    assert!(failed_studies > 0, "{row:?}");
    // Every failed study holds at least one failed experiment, and no study more than k.
    assert!(
        row.failed_experiments >= failed_studies && row.failed_experiments <= 2 * failed_studies,
        "{row:?}"
    );
    assert!(
        r.warnings.iter().any(|w| w.contains("n = 2 x k = 2")),
        "{:?}",
        r.warnings
    );
}
