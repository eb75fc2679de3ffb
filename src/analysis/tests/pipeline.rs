//! Hand-computed checks of the analysis tables.

use crate::analysis::pipeline::*;
use crate::data::{Dataset, Observation};

fn obs(id: &str, arm: &str, day: f64, v: Option<f64>) -> Observation {
    Observation {
        animal_id: id.into(),
        cohort: String::new(),
        arm: arm.into(),
        day,
        length_mm: None,
        width_mm: None,
        volume_mm3: v,
        body_weight_g: None,
    }
}

fn small() -> Dataset {
    let mut rows = Vec::new();
    for (id, arm, vols) in [
        ("c1", "vehicle", [100.0, 200.0, 300.0, 400.0]),
        ("c2", "vehicle", [100.0, 250.0, 450.0, 600.0]),
        ("t1", "drug", [100.0, 50.0, 2.0, 1.0]),
        ("t2", "drug", [120.0, 150.0, 180.0, 459.0]),
    ] {
        for (d, v) in [0.0, 3.0, 10.0, 14.0].iter().zip(vols) {
            rows.push(obs(id, arm, *d, Some(v)));
        }
    }
    Dataset { rows }
}

#[test]
fn tgi_tc_and_summary_by_hand() {
    let mut o = AnalysisOptions::new("vehicle");
    o.bootstrap_reps = 0;
    o.endpoint = EndpointRule::Volume(450.0);
    let r = analyze(&small(), &o).unwrap();
    // Control ΔC at day 14 = 500 − 100 = 400; treated: T0 = 110, T14 = 230, ΔT = 120.
    let row = r.tgi.iter().find(|t| t.day == 14.0).unwrap();
    assert!((row.tgi_pct - 70.0).abs() < 1e-12, "{row:?}");
    assert!((row.tc_pct - 46.0).abs() < 1e-12);
    assert!(row.tgi_ci.0.is_nan());
    let s = r
        .summary
        .iter()
        .find(|s| s.arm == "vehicle" && s.day == 14.0)
        .unwrap();
    assert_eq!(s.n, 2);
    assert!(
        (s.mean - 500.0).abs() < 1e-12
            && (s.sd - 141.421_356_237_309_5).abs() < 1e-9
            && (s.median - 500.0).abs() < 1e-12
    );
    assert_eq!(r.cohorts[0].analysis_day, 14.0);
    assert_eq!(r.cohorts[0].arms, vec!["vehicle", "drug"]);
}

#[test]
fn mrecist_and_endpoints_by_hand() {
    let mut o = AnalysisOptions::new("vehicle");
    o.bootstrap_reps = 0;
    o.endpoint = EndpointRule::Volume(450.0);
    let r = analyze(&small(), &o).unwrap();
    // t1: ΔVol 0, −50, −98, −99 → BR −99, running means 0, −25, −49.33, −61.75 → BAR −61.75: mCR.
    let t1 = r.response.iter().find(|x| x.animal_id == "t1").unwrap();
    assert!(
        (t1.best_response_pct + 99.0).abs() < 1e-12
            && (t1.best_avg_response_pct + 61.75).abs() < 1e-12
    );
    assert_eq!(t1.mrecist, Some(Mrecist::Cr));
    // t2: ΔVol 0, 25, 50, 282.5 → BR 50, BAR min(75/3, 357.5/4) = 25 → mPD (BR ≥ 35).
    let t2 = r.response.iter().find(|x| x.animal_id == "t2").unwrap();
    assert_eq!(t2.mrecist, Some(Mrecist::Pd));
    assert!((t2.best_avg_response_pct - 25.0).abs() < 1e-12);
    assert_eq!(Mrecist::classify(-60.0, -25.0), Mrecist::Pr);
    assert_eq!(Mrecist::classify(20.0, 29.0), Mrecist::Sd);
    // Endpoint 450 mm³: c2 at day 10, t2 at day 14, c1 and t1 censored at 14.
    let e = |id: &str| {
        r.endpoints
            .iter()
            .find(|x| x.animal_id == id)
            .map(|x| (x.time_days, x.event))
            .unwrap()
    };
    assert_eq!(e("c2"), (10.0, true));
    assert_eq!(e("t2"), (14.0, true));
    assert_eq!(e("c1"), (14.0, false));
    assert_eq!(
        r.tests
            .iter()
            .filter(|t| t.comparison == "drug vs vehicle")
            .count(),
        7
    );
}

#[test]
fn analysis_day_follows_control_dropout_and_override() {
    let mut d = small();
    // Add three control animals that leave after day 3: 2 of 5 (40%) measured on days 10 and 14.
    for id in ["c3", "c4", "c5"] {
        d.rows.push(obs(id, "vehicle", 0.0, Some(100.0)));
        d.rows.push(obs(id, "vehicle", 3.0, Some(180.0)));
        d.rows.push(obs(id, "vehicle", 10.0, None));
    }
    let mut o = AnalysisOptions::new("vehicle");
    o.bootstrap_reps = 0;
    assert_eq!(analyze(&d, &o).unwrap().cohorts[0].analysis_day, 3.0);
    o.analysis_day = Some(10.0);
    let r = analyze(&d, &o).unwrap();
    let w = r
        .tests
        .iter()
        .find(|t| t.key == crate::protocol::TestKey::WelchLog)
        .unwrap();
    assert_eq!((w.n_treated, w.n_control), (2, 2));
    assert!(w.endpoint.contains("day 10"));
}

#[test]
fn bootstrap_is_reproducible_and_brackets_the_estimate() {
    let mut d = small();
    for k in 0..6 {
        let id = format!("x{k}");
        for (day, f) in [
            (0.0, 1.0),
            (3.0, 1.3),
            (10.0, 2.0 + 0.1 * k as f64),
            (14.0, 2.5 + 0.2 * k as f64),
        ] {
            d.rows.push(obs(
                &id,
                if k % 2 == 0 { "vehicle" } else { "drug" },
                day,
                Some(100.0 * f),
            ));
        }
    }
    let mut o = AnalysisOptions::new("vehicle");
    o.bootstrap_reps = 400;
    o.seed = 7;
    let a = analyze(&d, &o).unwrap();
    let b = analyze(&d, &o).unwrap();
    assert_eq!(
        format!("{a:?}"),
        format!("{b:?}"),
        "same seed, same result (NaN-aware)"
    );
    for row in a.tgi.iter().filter(|t| t.day > 0.0) {
        assert!(
            row.tgi_ci.0 <= row.tgi_pct && row.tgi_pct <= row.tgi_ci.1,
            "{row:?}"
        );
        assert!(
            row.tc_ci.0 <= row.tc_pct && row.tc_pct <= row.tc_ci.1,
            "{row:?}"
        );
    }
    o.seed = 8;
    assert_ne!(
        format!("{:?}", analyze(&d, &o).unwrap().tgi),
        format!("{:?}", a.tgi)
    );
}

#[test]
fn missing_control_is_an_error_naming_arms() {
    let e = analyze(&small(), &AnalysisOptions::new("saline"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("saline") && e.contains("vehicle") && e.contains("drug"),
        "{e}"
    );
}

#[test]
fn cohorts_are_analyzed_separately() {
    let mut d = small();
    let mut other = small();
    for r in &mut other.rows {
        r.cohort = "B".into();
        r.animal_id = format!("B{}", r.animal_id);
    }
    for r in &mut d.rows {
        r.cohort = "A".into();
    }
    d.rows.extend(other.rows);
    let mut o = AnalysisOptions::new("vehicle");
    o.bootstrap_reps = 0;
    let r = analyze(&d, &o).unwrap();
    assert_eq!(r.cohorts.len(), 2);
    assert_eq!(r.tests.len(), 14);
    assert!(
        r.tests
            .iter()
            .filter(|t| t.cohort == "B")
            .all(|t| t.p_adjusted == t.p_value || t.p_value.is_nan())
    );
}

#[test]
fn tgi_is_not_computed_when_the_control_does_not_grow() {
    // Control 150 → 170 mm³ (+13%): TGI would divide by 20 mm³ of noise.
    let (g, t) = tgi_tc(150.0, 160.0, 150.0, 170.0);
    assert!(g.is_nan());
    assert!((t - 160.0 / 170.0 * 100.0).abs() < 1e-12);
    // Control 150 → 300 mm³: defined, (1 − 10/150)·100.
    let (g, _) = tgi_tc(150.0, 160.0, 150.0, 300.0);
    assert!((g - (1.0 - 10.0 / 150.0) * 100.0).abs() < 1e-12);
}
