//! Unit tests of `src/invitro/checks.rs`.

use super::*;
use crate::invitro::{Ic50, InvitroOptions, run_replicates, simulate_to_dir, testutil};
use crate::protocol::{Body, ValidationChecks};
use std::path::PathBuf;

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("xenoplan-checks-{name}-{}", std::process::id()))
}

/// The test derivation with a check every 30 days and a 10x target.
fn with_checks() -> Derivation {
    let mut d = testutil::derivation();
    d.duration_days = 240;
    d.checks = Some(ValidationChecks {
        days: (1..=8).map(|k| 30 * k).collect(),
        target_fold_shift: Some(10.0),
    });
    d
}

#[test]
fn every_replicate_has_one_check_per_scheduled_day() {
    let d = with_checks();
    let results = run_replicates(&d, 5, 4, Some(2)).unwrap();
    for r in &results {
        let days: Vec<u32> = r.checks.iter().map(|c| c.day).collect();
        assert_eq!(days, d.checks.as_ref().unwrap().days, "rep {}", r.rep);
    }
    // Without a schedule nothing is checked.
    let plain = run_replicates(&testutil::derivation(), 5, 2, Some(1)).unwrap();
    assert!(plain.iter().all(|r| r.checks.is_empty()));
}

/// A large pre-existing resistant fraction and no switching: selection under continued drug
/// makes the population's resistant fraction and IC50 climb from check to check (the culture
/// holds ~1e6–1e7 cells, so the fractions are close to the deterministic ones).
#[test]
fn ic50_rises_with_the_resistant_fraction_under_continued_drug() {
    let mut d = with_checks();
    d.escalation.clear();
    d.start_concentration_nm.value = 100.0;
    d.duration_days = 120;
    d.checks = Some(ValidationChecks {
        days: (1..=12).map(|k| 10 * k).collect(),
        target_fold_shift: Some(10.0),
    });
    d.model.resistant_fraction.value = 1e-5;
    d.model.switch_rate_per_division.value = 0.0;
    let r = &run_replicates(&d, 11, 1, Some(1)).unwrap()[0];
    let frac: Vec<f64> = r.checks.iter().map(|c| c.fractions.unwrap()[2]).collect();
    assert!(frac.windows(2).all(|w| w[1] >= w[0] - 0.02), "{frac:?}");
    assert!(frac[0] < 0.2 && *frac.last().unwrap() > 0.9, "{frac:?}");
    let ic50 = |c: &CheckResult| c.ic50.as_ref().unwrap()[1].ic50;
    let (first, last) = (ic50(&r.checks[0]), ic50(r.checks.last().unwrap()));
    // Sensitive IC50 10 nM, resistant 1000 nM: the trajectory spans most of that shift.
    assert!(first < 40.0, "first check {first} nM");
    assert!(last > 10.0 * first && last > 300.0, "{first} → {last} nM");
    let shift = r.checks.last().unwrap().shift().unwrap();
    assert!(shift.value > 20.0 && !shift.lower_bound, "{shift:?}");
    let reached = first_day_reaching(&r.checks, 10.0).expect("10x reached");
    assert!(reached > 10 && reached <= 120, "{reached}");
}

#[test]
fn a_check_above_the_top_dose_is_censored_and_its_shift_a_lower_bound() {
    let mut d = with_checks();
    // Resistant IC50 30 µM on a plate topping out at 10 µM (as in the final-validation test),
    // a resistant majority from the second month and little readout noise.
    d.model.ic50_resistant_nm.value = 3e4;
    d.model.resistant_fraction.value = 1e-3;
    if let Some(v) = d.validation.as_mut() {
        v.noise_cv.value = 0.02;
    }
    let p = testutil::protocol(Body::Derivation(d));
    let dir = tmp("censored");
    let rep = simulate_to_dir(&p, &InvitroOptions::default(), &dir).unwrap();
    let crate::invitro::ReportBody::Derivation(s) = &rep.body else {
        panic!("kind")
    };
    let censored = |c: &&CheckResult| {
        c.ic50
            .as_ref()
            .is_some_and(|[_, d]| d.value.is_some_and(|v| !v.reached()))
    };
    let last = s
        .first
        .checks
        .iter()
        .rfind(censored)
        .expect("a censored check");
    assert!(
        last.day >= 150,
        "only early checks censored: {:?}",
        s.first.checks
    );
    let [_, derived] = last.ic50.as_ref().unwrap();
    assert_eq!(derived.ic50, 1e4, "reported at the top dose");
    assert!(derived.ci_low.is_nan() && derived.ci_high.is_nan());
    assert!(last.shift().unwrap().lower_bound);
    let csv = std::fs::read_to_string(dir.join("ic50_over_time.csv")).unwrap();
    let head = format!("1,{},Res-Ana,10000.0,,,>,", last.day);
    let row = csv.lines().find(|l| l.starts_with(&head)).expect(&head);
    assert!(row.contains(",>=,"), "{row}");
    let text = rep.to_string();
    let line = format!(
        "day {}: Res-Ana > 1.0e4 nM (not reached: above the top tested dose); shift ≥ ",
        last.day
    );
    assert!(text.contains(&line), "{text}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn target_counts_lower_bounds_only_when_the_bound_reaches_it() {
    let row = |v: Ic50| Ic50Row {
        line: "x".into(),
        ic50: v.bound_nm(),
        ci_low: f64::NAN,
        ci_high: f64::NAN,
        hill: 1.0,
        top: 100.0,
        bottom: 0.0,
        note: String::new(),
        top_dose_nm: 100.0,
        value: Some(v),
    };
    let check = |day: u32, derived: Ic50| CheckResult {
        day,
        fractions: Some([1.0, 0.0, 0.0]),
        drug_nm: 10.0,
        ic50: Some([row(Ic50::Reached(2.0)), row(derived)]),
    };
    let above = Ic50::classify(500.0, 100.0);
    let checks = [
        check(28, Ic50::Reached(10.0)),
        check(56, above),
        check(84, Ic50::Reached(90.0)),
    ];
    // 56: at least 50x.
    assert_eq!(first_day_reaching(&checks, 40.0), Some(56));
    // 56's bound (50x) says nothing about 60x; 84 is 45x: never reached.
    assert_eq!(first_day_reaching(&checks, 60.0), None);
    assert_eq!(first_day_reaching(&checks, 5.0), Some(28));
}

#[test]
fn checks_leave_the_other_outputs_unchanged_and_ignore_the_thread_count() {
    let plain = testutil::protocol(Body::Derivation(testutil::derivation()));
    let mut d = testutil::derivation();
    d.checks = with_checks().checks;
    let checked = testutil::protocol(Body::Derivation(d));
    let opts = |threads| InvitroOptions {
        seed: 4,
        reps: 3,
        threads: Some(threads),
        ..Default::default()
    };
    let (a, b, c) = (tmp("plain"), tmp("checked1"), tmp("checked2"));
    simulate_to_dir(&plain, &opts(1), &a).unwrap();
    let rep = simulate_to_dir(&checked, &opts(1), &b).unwrap();
    simulate_to_dir(&checked, &opts(2), &c).unwrap();
    for f in ["population.csv", "ic50.csv", "assay.csv", "replicates.csv"] {
        let x = std::fs::read(a.join(f)).unwrap();
        assert_eq!(
            x,
            std::fs::read(b.join(f)).unwrap(),
            "{f} changed by the checks"
        );
    }
    assert!(!a.join("ic50_over_time.csv").exists());
    let one = std::fs::read(b.join("ic50_over_time.csv")).unwrap();
    assert_eq!(one, std::fs::read(c.join("ic50_over_time.csv")).unwrap());
    // 3 replicates × 8 checks × (parental + derived) rows, or one row for a dead culture.
    let text = String::from_utf8(one).unwrap();
    assert!(text.starts_with(
        "rep,day,line,ic50_nM,ci_low_nM,ci_high_nM,qualifier,fold_shift,fold_shift_qualifier,resistant_fraction"
    ));
    assert!(text.lines().count() > 3 * 8, "{text}");
    for f in [
        "ic50_over_time.csv",
        "plots/ic50_over_time.svg",
        "plots/ic50_over_time.png",
    ] {
        assert!(rep.files.iter().any(|x| x == f), "{f} not listed");
        assert!(b.join(f).is_file(), "{f}");
    }
    let manifest = std::fs::read_to_string(b.join("manifest.json")).unwrap();
    assert!(manifest.contains("ic50_over_time.csv"));
    let summary = rep.to_string();
    assert!(summary.contains("IC50 checks, run 1") && summary.contains("day 30: Res-Ana"));
    assert!(summary.contains("IC50 shift ≥ 10x"), "{summary}");
    for d in [a, b, c] {
        std::fs::remove_dir_all(&d).ok();
    }
}
