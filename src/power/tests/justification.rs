//! The justification paragraph states what was assumed, with numbers computed here
//! independently: the TGI of each assumed effect at the analysis day (closed form for a direct
//! effect, a separate PK quadrature for an exposure-driven one, and the simulator itself with
//! every variability switched off), the SDs, the n grid, the primary hypothesis, attrition
//! and the expected-null control.

use super::settings;
use crate::output::fmt_value;
use crate::power::assumed::{arm_assumptions, effect_day};
use crate::power::justification::n_grid_text;
use crate::power::results::{default_endpoints, run_power};
use crate::protocol::{Protocol, parse};

fn tamr_text() -> String {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/protocols/tamr_mcf7_xenograft.toml"
    );
    std::fs::read_to_string(p).expect("read TamR")
}

fn tamr() -> Protocol {
    parse(&tamr_text(), "tamr.toml")
        .expect("TamR parses")
        .protocol
}

/// TGI% of exponential growth at rate `g` with the rate scaled by (1 − inh) over `t` days.
fn exp_tgi(g: f64, inh: f64, t: f64) -> f64 {
    (1.0 - (((1.0 - inh) * g * t).exp() - 1.0) / ((g * t).exp() - 1.0)) * 100.0
}

/// Mean Hill inhibition over [0, t] of the typical TamR animal at `dose_mg_kg` PO QD 10:00
/// (taragarestrant: ka 1/h, t½ 6 h, V 5 L/kg, F 0.5; Emax 0.95, EC50 200 ng/mL, Hill 1) by
/// the Bateman function summed over doses and Simpson's rule on 1-minute steps.
fn taragarestrant_mean_inhibition(dose_mg_kg: f64, t: f64) -> f64 {
    let (ka, ke) = (24.0, std::f64::consts::LN_2 / 6.0 * 24.0);
    let c = |s: f64| -> f64 {
        (0..28)
            .map(|d| f64::from(d) + 10.0 / 24.0)
            .filter(|&td| td <= s)
            .map(|td| {
                let u = s - td;
                0.5 * dose_mg_kg / 5.0 * ka / (ka - ke)
                    * ((-ke * u).exp() - (-ka * u).exp())
                    * 1000.0
            })
            .sum()
    };
    let e = |s: f64| 0.95 * c(s) / (200.0 + c(s));
    let n = (t * 1440.0) as usize; // even
    let h = t / n as f64;
    let sum: f64 = (0..=n)
        .map(|k| {
            let w = if k == 0 || k == n {
                1.0
            } else if k % 2 == 1 {
                4.0
            } else {
                2.0
            };
            w * e(k as f64 * h)
        })
        .sum();
    sum * h / 3.0 / t
}

#[test]
fn n_grid_names_every_simulated_n() {
    assert_eq!(n_grid_text(&[4, 6, 8, 10, 12]), "4, 6, 8, 10, 12");
    assert_eq!(n_grid_text(&[3, 4, 5]), "3, 4, 5");
    assert_eq!(
        n_grid_text(&(3..=15).collect::<Vec<_>>()),
        "3, 4, …, 15 (every n)"
    );
    assert_eq!(n_grid_text(&[5]), "5");
}

#[test]
fn assumed_tgi_matches_independent_computations() {
    let p = tamr();
    assert_eq!(
        effect_day(&p),
        Some(28.0),
        "no analysis day: end of treatment"
    );
    let a = arm_assumptions(&p, 28.0);
    let arm = |c: &str, n: &str| {
        a.iter()
            .find(|s| s.cohort == c && s.arm == n)
            .unwrap_or_else(|| panic!("{c}/{n}"))
    };
    // Direct: on from the first dose (day 0, 10:00) — inhibition 0.1 over 27.58 of 28 days.
    let g = 0.0578;
    let tam = exp_tgi(g, 0.1 * (28.0 - 10.0 / 24.0) / 28.0, 28.0);
    assert!((arm("TamR-MCF-7", "tamoxifen").tgi_pct.unwrap() - tam).abs() < 1e-9);
    let fulv = arm("TamR-MCF-7", "fulvestrant");
    assert!(
        (fulv.tgi_pct.unwrap() - exp_tgi(g, 0.5 * (28.0 - 10.0 / 24.0) / 28.0, 28.0)).abs() < 1e-9
    );
    // Exposure-driven: an independent quadrature of the PK and Hill model.
    for (name, dose) in [
        ("taragarestrant 10 mg/kg", 10.0),
        ("taragarestrant 30 mg/kg", 30.0),
    ] {
        let s = arm("TamR-MCF-7", name);
        let inh = taragarestrant_mean_inhibition(dose, 28.0);
        assert!(
            (s.inhibition - inh).abs() < 2e-5,
            "{name}: {} vs {inh}",
            s.inhibition
        );
        assert!((s.tgi_pct.unwrap() - exp_tgi(g, inh, 28.0)).abs() < 5e-3);
    }
    // Parental MCF-7 stops growing when the pellet is removed: no TGI, said why.
    let m = arm("MCF-7", "tamoxifen");
    assert_eq!(m.tgi_pct, None);
    assert!(m.note.as_deref().unwrap().contains("does not grow"));
}

/// The simulator, with every between-animal and measurement variability removed, gives each
/// arm the TGI the justification states (exponential growth: exact up to quadrature).
#[test]
fn assumed_tgi_is_what_the_simulator_does_to_a_typical_animal() {
    let text = regex_lite_strip_cv(&tamr_text())
        .replace("cv = { value = 0.063", "cv = { value = 0.0")
        .replace(
            "value = 12, source = \"Workman",
            "value = 40, source = \"Workman",
        )
        .replace(
            "max-volume-mm3 = { value = 1500",
            "max-volume-mm3 = { value = 9000",
        );
    let p = parse(&text, "typical.toml")
        .expect("variability-free TamR parses")
        .protocol;
    let engine = crate::sim::Engine::new(&p, &crate::sim::SimOptions::default()).unwrap();
    let mut buf = crate::sim::StudyBuffer::new(&engine);
    engine
        .simulate(&mut crate::rng::stream(3, &[0]), Some(3), &mut buf)
        .unwrap();
    let ds = buf.to_dataset(&engine);
    let mean_at = |arm: &str, day: f64| {
        let v: Vec<f64> = ds
            .rows
            .iter()
            .filter(|r| r.cohort == "TamR-MCF-7" && r.arm == arm && r.day == day)
            .filter_map(|r| r.volume_mm3)
            .collect();
        assert!(!v.is_empty(), "{arm} at day {day}");
        v.iter().sum::<f64>() / v.len() as f64
    };
    let last = ds
        .rows
        .iter()
        .filter(|r| r.cohort == "TamR-MCF-7")
        .map(|r| r.day)
        .fold(0.0, f64::max);
    let (c0, c1) = (mean_at("vehicle", 0.0), mean_at("vehicle", last));
    for s in arm_assumptions(&p, last)
        .iter()
        .filter(|s| s.cohort == "TamR-MCF-7")
    {
        let (t0, t1) = (mean_at(&s.arm, 0.0), mean_at(&s.arm, last));
        let sim = (1.0 - (t1 - t0) / (c1 - c0)) * 100.0;
        let stated = s.tgi_pct.unwrap();
        assert!(
            (sim - stated).abs() < 5e-3,
            "{}: simulator {sim}, stated {stated}",
            s.arm
        );
    }
}

/// Removes every `cv = …,` / `, cv = …` of the parameters (the protocol as its typical animal).
fn regex_lite_strip_cv(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut l = line.to_string();
        while let Some(i) = l.find(", cv = ") {
            if l[..i].contains("error = ") {
                break;
            }
            let rest = &l[i + 7..];
            let end = rest.find([',', ' ', '}']).unwrap_or(rest.len());
            l.replace_range(i..i + 7 + end, "");
        }
        out.push_str(&l);
        out.push('\n');
    }
    out
}

#[test]
fn tamr_justification_states_every_assumption() {
    let p = tamr();
    let mut s = settings(vec![4, 6, 8], 60, 2);
    s.endpoints = default_endpoints(&p).unwrap();
    let r = run_power(&p, &s, &|_| {}).unwrap();
    let j = &r.justification;
    let a = arm_assumptions(&p, 28.0);
    let tgi = |arm: &str| {
        let s = a
            .iter()
            .find(|s| s.cohort == "TamR-MCF-7" && s.arm == arm)
            .unwrap();
        format!("{arm}: TGI {}% at day 28", fmt_value(s.tgi_pct.unwrap()))
    };
    let tam = fmt_value(exp_tgi(0.0578, 0.1 * (28.0 - 10.0 / 24.0) / 28.0, 28.0));
    let sd_rate = format!("SD of ln {:.3}", (1.0f64 + 0.25 * 0.25).ln().sqrt());
    let sd_caliper = format!("SD of ln V ≈ {}", fmt_value(5f64.sqrt() * 0.063));
    for needle in [
        format!("tamoxifen: TGI {tam}% at day 28"),
        tgi("taragarestrant 10 mg/kg"),
        tgi("taragarestrant 30 mg/kg"),
        tgi("fulvestrant"),
        "Emax 0.95".into(),
        "EC50 (ng/mL) 200".into(),
        "growth-rate inhibition 0.5".into(),
        "time-averaged growth-rate inhibition".into(),
        sd_rate,
        sd_caliper,
        "caliper error CV 0.063 per diameter".into(),
        "n = 4, 6, 8 animals per arm".into(),
        "60 complete studies per n".into(),
        "The primary hypothesis was tested: taragarestrant 30 vs vehicle (vs-control; TamR-MCF-7: taragarestrant 30 mg/kg vs vehicle".into(),
        "also tested, not sized on: slope, logrank".into(),
        "non-endpoint attrition of 5% (assumed; non-endpoint losses".into(),
        "`tamoxifen in TamR (expected negative)` (TamR-MCF-7: tamoxifen vs vehicle) is expected not to differ".into(),
        format!("the model assumes TGI {tam}% at day 28 for `tamoxifen`"),
        "TGI undefined at day 28: the typical control tumor does not grow".into(),
    ] {
        assert!(j.contains(&needle), "paragraph lacks `{needle}`:\n{j}");
    }
    assert!(!j.contains("4 to 8"), "{j}");
}
