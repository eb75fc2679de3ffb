//! The pooled tests call the one owner of each method: results equal the direct calls.

use super::*;
use crate::analysis::stats::line_mixed::fit_line_mixed;

fn sample() -> PanelSample {
    // 4 lines × 3 mice per arm, line offsets and a treatment effect of 0.6 on the log scale.
    let mut s = PanelSample::default();
    s.clear(5); // line 4 stays empty: compacted away
    let noise = [
        0.3, -0.2, 0.1, -0.4, 0.25, 0.05, -0.1, 0.35, -0.3, 0.2, 0.0, -0.15,
    ];
    let mut k = 0;
    for line in 0..4 {
        for treated in [false, true] {
            for _ in 0..3 {
                let y = 1.0 + 0.2 * line as f64 + if treated { 0.6 } else { 0.0 } + noise[k % 12];
                k += 1;
                s.push(
                    line,
                    treated,
                    AnimalOutcome {
                        log_outcome: y,
                        slope: 0.05 * y,
                        time: y.exp(),
                        event: k % 5 != 0,
                    },
                );
            }
        }
    }
    s
}

#[test]
fn line_model_is_the_line_mixed_fit_on_the_data() {
    let s = sample();
    let mut w = PanelScratch::default();
    let r = panel_test(TestKey::PanelLme, &s, &mut w).unwrap();
    let x: Vec<f64> = s
        .treated
        .iter()
        .flat_map(|&t| [1.0, f64::from(u8::from(t))])
        .collect();
    let f = fit_line_mixed(&x, &s.log_outcome, &s.line, 4).unwrap();
    let c = f.contrast(&[0.0, 1.0]);
    assert_eq!(r.estimate, c.estimate);
    assert_eq!(r.p_value, c.p_value);
    // Containment df: N − lines − 1 = 24 − 4 − 1 (the empty fifth line does not count).
    assert_eq!(r.df, Some(19.0));
    assert!(r.estimate > 0.3 && r.estimate < 0.9, "{}", r.estimate);
}

#[test]
fn stratified_tests_use_lines_as_strata() {
    let s = sample();
    let mut w = PanelScratch::default();
    let lr = panel_test(TestKey::PanelLogrank, &s, &mut w).unwrap();
    let mut pairs: Vec<StratumBuf> = vec![Default::default(); 5];
    for i in 0..s.len() {
        let v = (s.time[i], s.event[i]);
        if s.treated[i] {
            pairs[s.line[i]].0.push(v)
        } else {
            pairs[s.line[i]].1.push(v)
        }
    }
    let refs: Vec<StratumPair<'_>> = pairs
        .iter()
        .map(|(a, b)| (a.as_slice(), b.as_slice()))
        .collect();
    let direct = crate::analysis::stats::logrank_stratified_permutation(&refs).unwrap();
    assert_eq!(lr.p_value, direct.p_value);
    let cox = panel_test(TestKey::PanelCox, &s, &mut w).unwrap();
    // Treated animals live longer: hazard ratio below 1.
    assert!(cox.estimate < 0.0, "{}", cox.estimate);
    assert!(cox.p_value > 0.0 && cox.p_value < 1.0);
}

#[test]
fn too_few_lines_and_foreign_tests_are_errors() {
    let mut s = PanelSample::default();
    s.clear(1);
    for treated in [false, true] {
        s.push(
            0,
            treated,
            AnimalOutcome {
                log_outcome: 1.0,
                slope: f64::NAN,
                time: 1.0,
                event: true,
            },
        );
    }
    let mut w = PanelScratch::default();
    let e = panel_test(TestKey::PanelLme, &s, &mut w).unwrap_err();
    assert!(e.contains("needs two"), "{e}");
    let e = panel_test(TestKey::WelchLog, &s, &mut w).unwrap_err();
    assert!(e.contains("not a panel test"), "{e}");
}

/// Three lines × 3 mice per arm, exponential growth with a line offset and a treatment effect.
fn panel_animals() -> Vec<Animal> {
    let mut out = Vec::new();
    let noise = [0.1, -0.05, 0.02, -0.08, 0.06, 0.0, 0.04, -0.03, 0.07];
    for (l, line) in ["L1", "L2", "L3"].iter().enumerate() {
        for (arm, rate) in [("vehicle", 0.08), ("drug", 0.03)] {
            for m in 0..3 {
                let k = (l * 3 + m) % 9;
                let days: Vec<f64> = vec![0.0, 7.0, 14.0, 21.0];
                let volumes: Vec<f64> = days
                    .iter()
                    .map(|d| {
                        150.0 * (0.1 * l as f64 + (rate + 0.01 * noise[k]) * d + noise[k]).exp()
                    })
                    .collect();
                out.push(Animal {
                    id: format!("{line}-{arm}-{m}"),
                    cohort: (*line).into(),
                    arm: arm.into(),
                    mean_diameters: vec![f64::NAN; days.len()],
                    days,
                    volumes,
                    baseline: 0,
                });
            }
        }
    }
    out
}

#[test]
fn analyze_adds_one_pooled_row_per_panel_test_and_names_missing_lines() {
    let animals = panel_animals();
    let mut opt = AnalysisOptions::new("vehicle");
    opt.bootstrap_reps = 0;
    opt.plan.panel = Some(PanelPlan {
        name: "drug across lines".into(),
        treatment: "drug".into(),
        control: "vehicle".into(),
        lines: vec!["L1".into(), "L2".into(), "L3".into(), "L4".into()],
        tests: vec![
            TestKey::PanelLme,
            TestKey::PanelSlope,
            TestKey::PanelLogrank,
        ],
    });
    let res = crate::analysis::analyze_animals(&animals, &opt).unwrap();
    let rows: Vec<&TestRow> = res
        .tests
        .iter()
        .filter(|t| t.family == PANEL_FAMILY)
        .collect();
    assert_eq!(rows.len(), 3);
    assert!(
        res.warnings
            .iter()
            .any(|w| w.contains("line(s) L4 have no `vehicle` animals")),
        "{:?}",
        res.warnings
    );
    // The row is the pooled test on the same sample (the one owner of the method).
    let mut s = PanelSample::default();
    let names = ["L1", "L2", "L3"];
    let arms = PanelArms {
        lines: &names,
        treatment: "drug",
        control: "vehicle",
    };
    fill_from_animals(&animals, arms, &opt, &mut s, &mut Vec::new());
    let direct = panel_test(TestKey::PanelLme, &s, &mut PanelScratch::default()).unwrap();
    let lme = rows[0];
    assert_eq!(
        (lme.key, lme.p_value, lme.estimate),
        (TestKey::PanelLme, direct.p_value, direct.estimate)
    );
    assert_eq!(
        (lme.n_treated, lme.n_control, lme.cohort.as_str()),
        (9, 9, "panel (3 lines)")
    );
    assert!(lme.estimate < 0.0 && lme.p_value < 0.01, "{lme:?}");
    // Holm over the three pooled rows; the first test is the primary one.
    let p: Vec<f64> = rows.iter().map(|r| r.p_value).collect();
    let holm = crate::analysis::stats::holm(&p);
    assert!(
        rows.iter()
            .zip(&holm)
            .all(|(r, h)| r.p_adjusted == *h && r.adjustment == "holm")
    );
    assert_eq!(lme.role, Role::Primary);
    assert_eq!(rows[1].role, Role::Secondary);
}

#[test]
fn line_aft_matches_survreg_with_line_factors() {
    let t = [
        2.1, 3.4, 1.2, 5.5, 4.1, 7.9, 1.8, 2.6, 3.3, 3.9, 6.2, 2.9, 0.9, 1.7, 2.2, 2.8, 4.4, 3.1,
        3.0, 4.2, 2.5, 6.6, 8.0, 5.1,
    ];
    let e = [
        1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1,
    ];
    let fixture = include_str!("../../../tests/fixtures/pdxpower/panel_aft.csv");
    for row in fixture.lines().skip(1) {
        let f: Vec<&str> = row.split(',').collect();
        let censored = f[1] == "TRUE";
        let mut s = PanelSample::default();
        s.clear(4);
        s.aft = if f[0] == "weibull" {
            AftDist::Weibull
        } else {
            AftDist::LogNormal
        };
        for i in 0..24 {
            let event = !censored || e[i] == 1;
            let o = AnimalOutcome {
                log_outcome: f64::NAN,
                slope: f64::NAN,
                time: t[i],
                event,
            };
            s.push(i / 6, (i / 3) % 2 == 1, o);
        }
        let r = panel_test(TestKey::PanelAft, &s, &mut PanelScratch::default()).unwrap();
        let (est, z, d): (f64, f64, f64) = (
            f[2].parse().unwrap(),
            f[3].parse().unwrap(),
            f[4].parse().unwrap(),
        );
        assert!(
            (r.estimate - est).abs() < 1e-6 * est.abs(),
            "{row}: {}",
            r.estimate
        );
        let t_want = z * ((d - 5.0) / d).sqrt();
        assert!(
            (r.statistic - t_want).abs() < 1e-5 * t_want.abs(),
            "{row}: {}",
            r.statistic
        );
        assert_eq!(r.df, Some(d - 5.0));
    }
}
