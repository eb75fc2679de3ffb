//! `xenoplan fit`: both input layouts, the printed fragment, outputs under `--out`, errors.

use super::{scratch, stderr, stdout, xenoplan};
use rand_distr::{Distribution, Normal};
use std::fmt::Write as _;
use std::path::Path;

/// Truth of the simulated pilot arm: V0 median 150 mm³ (CV 20%), exponential rate 0.1/day
/// (SD 0.02), ln-volume error SD 0.1; Gompertz adds K = 2500 mm³ (CV 30%).
/// (arm, id, [(day, volume)]).
type Animal = (String, String, Vec<(f64, f64)>);

const V0: f64 = 150.0;
const RATE: f64 = 0.1;

/// Simulated animals: (arm, id, [(day, volume)]), twice-weekly visits to day 35; every 5th
/// animal leaves early at day 21; `floor` turns readings at or below it into 0.
fn animals(model: &str, n: usize, seed: u64, floor: f64) -> Vec<Animal> {
    let mut rng = xenoplan::rng::stream(seed, &[]);
    let z = Normal::new(0.0, 1.0).unwrap();
    let sdlog = |cv: f64| (1.0f64 + cv * cv).ln().sqrt();
    (0..n)
        .map(|a| {
            let lv0 = V0.ln() + sdlog(0.2) * z.sample(&mut rng);
            let r_exp = RATE + 0.02 * z.sample(&mut rng);
            let r_g = (0.08f64).ln() + sdlog(0.25) * z.sample(&mut rng);
            let lk = (2500f64).ln() + sdlog(0.3) * z.sample(&mut rng);
            let last = if a % 5 == 4 { 21.0 } else { 35.0 };
            let pts = (0..=10)
                .map(|k| k as f64 * 3.5)
                .filter(|d| *d <= last)
                .map(|d| {
                    let mu = match model {
                        "gompertz" => lk + (lv0 - lk) * (-r_g.exp() * d).exp(),
                        _ => lv0 + r_exp * d,
                    };
                    let v = (mu + 0.1 * z.sample(&mut rng)).exp();
                    (d, if v <= floor { 0.0 } else { v })
                })
                .collect();
            ("vehicle".to_string(), format!("M{a:02}"), pts)
        })
        .collect()
}

fn tidy_csv(animals: &[Animal]) -> String {
    let mut s = String::from("animal_id,arm,day,volume_mm3,status\n");
    for (arm, id, pts) in animals {
        for (d, v) in pts {
            let _ = writeln!(s, "{id},{arm},{d},{v:.3},ok");
        }
    }
    s
}

fn wide_csv(animals: &[Animal]) -> String {
    let mut s = String::from("day");
    for (arm, id, _) in animals {
        let _ = write!(s, ",{arm}:{id}");
    }
    s.push('\n');
    for k in 0..=10 {
        let d = k as f64 * 3.5;
        let _ = write!(s, "{d}");
        for (_, _, pts) in animals {
            match pts.iter().find(|p| p.0 == d) {
                Some((_, v)) => {
                    let _ = write!(s, ",{v:.3}");
                }
                None => s.push(','),
            }
        }
        s.push('\n');
    }
    s
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// Value and (low, high) CI of `key` in the `[cohorts.growth]` table of a fragment.
fn value_of(fragment: &str, key: &str) -> (f64, String) {
    let doc: toml::Table = toml::from_str(fragment).expect("fragment is valid TOML");
    let g = &doc["cohorts"]["growth"][key];
    (
        g["value"].as_float().unwrap(),
        g["source"].as_str().unwrap().to_string(),
    )
}

#[test]
fn tidy_exponential_fit_prints_a_sourced_fragment_and_writes_outputs() {
    let dir = scratch("fit_tidy_exp");
    let data = write(
        &dir,
        "pilot.csv",
        &tidy_csv(&animals("exponential", 24, 11, 0.0)),
    );
    let out = dir.join("out");
    let args = [
        "fit",
        &data,
        "--model",
        "exponential",
        "--out",
        out.to_str().unwrap(),
        "--boot",
        "200",
        "--date",
        "2026-01-02",
    ];
    let o = xenoplan(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let frag = stdout(&o);
    assert!(frag.contains("linear mixed model"), "{frag}");
    let (v0, src) = value_of(&frag, "v0-mm3");
    assert!(
        src.starts_with("fit to pilot.csv: 24 animals, exponential, 2026-01-02; 95% CI "),
        "{src}"
    );
    assert!((v0 - V0).abs() / V0 < 0.15, "v0 {v0}");
    let (rate, src) = value_of(&frag, "rate");
    assert!((rate - RATE).abs() < 0.02, "rate {rate}");
    assert!(src.contains("between-animal SD"), "{src}");
    for f in [
        "fit.toml",
        "fit_parameters.csv",
        "fit_animals.csv",
        "manifest.json",
        "plots/fit.svg",
        "plots/fit.png",
        "plots/fit_residuals.svg",
        "plots/fit_residuals.png",
    ] {
        assert!(out.join(f).is_file(), "missing {f}");
    }
    let params = std::fs::read_to_string(out.join("fit_parameters.csv")).unwrap();
    assert!(
        params.starts_with("parameter,statistic,estimate,se,ci_low,ci_high,unit\n"),
        "{params}"
    );
    assert_eq!(params.lines().count(), 6);
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(
        manifest.contains("\"bootstrap_reps\": 200")
            && manifest.contains("\"bootstrap\": \"parametric\"")
            && manifest.contains("plots/fit.svg"),
        "{manifest}"
    );
    assert!(
        frag.contains("200 bootstrap resamples (parametric"),
        "{frag}"
    );
    // Same seed, same output, whatever the number of threads of the bootstrap.
    let again = xenoplan(&args);
    assert_eq!(stdout(&again), frag);
    let one_thread = std::process::Command::new(env!("CARGO_BIN_EXE_xenoplan"))
        .args(args)
        .current_dir(super::root())
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .unwrap();
    assert_eq!(stdout(&one_thread), frag);
    // Resampling animals gives the same point estimates and different intervals.
    let mut animals_args = args.to_vec();
    animals_args.extend(["--bootstrap", "animals"]);
    let o = xenoplan(&animals_args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let frag_animals = stdout(&o);
    assert!(
        frag_animals.contains("200 bootstrap resamples (animals resampled"),
        "{frag_animals}"
    );
    assert_eq!(value_of(&frag_animals, "rate").0, rate);
    assert_ne!(value_of(&frag_animals, "rate").1, value_of(&frag, "rate").1);
}

#[test]
fn wide_gompertz_with_censored_readings() {
    let dir = scratch("fit_wide_gompertz");
    let data = write(
        &dir,
        "volumes_wide.csv",
        &wide_csv(&animals("gompertz", 20, 5, 140.0)),
    );
    let o = xenoplan(&[
        "fit",
        &data,
        "--model",
        "gompertz",
        "--arm",
        "vehicle",
        "--boot",
        "100",
        "--detection-floor",
        "140",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let frag = stdout(&o);
    assert!(
        frag.contains("two-stage") && frag.contains("treated as left-censored"),
        "{frag}"
    );
    assert!(
        !frag.contains(" 0 at or below the detection floor"),
        "expected censored readings: {frag}"
    );
    let (k, _) = value_of(&frag, "capacity-mm3");
    assert!(k > 1000.0 && k < 6000.0, "K {k}");
    let (r, src) = value_of(&frag, "rate");
    assert!(
        r > 0.04 && r < 0.16 && src.contains("between-animal CV"),
        "{r} {src}"
    );
}

#[test]
fn bad_rows_and_bad_choices_fail_with_exit_one() {
    let dir = scratch("fit_errors");
    let bad = write(
        &dir,
        "bad.csv",
        "day,vehicle:A1,vehicle:A2\n0,100,120\n3.5,abc,150\n",
    );
    let o = xenoplan(&["fit", &bad]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("line 3") && stderr(&o).contains("vehicle:A1"),
        "{}",
        stderr(&o)
    );

    let bad_tidy = write(
        &dir,
        "bad_tidy.csv",
        "animal_id,arm,day,volume_mm3\nA1,v,0,100\nA1,v,x,200\n",
    );
    let o = xenoplan(&["fit", &bad_tidy]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(":3") && stderr(&o).contains("day"),
        "{}",
        stderr(&o)
    );

    let mut two_arms = animals("exponential", 6, 3, 0.0);
    for a in two_arms.iter_mut().take(3) {
        a.0 = "drug".into();
    }
    let two = write(&dir, "two.csv", &tidy_csv(&two_arms));
    let o = xenoplan(&["fit", &two]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("--arm") && stderr(&o).contains("drug, vehicle"),
        "{}",
        stderr(&o)
    );
    let o = xenoplan(&["fit", &two, "--arm", "nope"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no arm named `nope`"), "{}", stderr(&o));
    // Two animals are not enough for a between-animal variance.
    let o = xenoplan(&["fit", &two, "--arm", "drug", "--boot", "10"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let tiny = write(
        &dir,
        "tiny.csv",
        &tidy_csv(&animals("exponential", 2, 3, 0.0)),
    );
    let o = xenoplan(&["fit", &tiny]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("at least 3"), "{}", stderr(&o));

    let o = xenoplan(&["fit", &bad, "--model", "weibull"]);
    assert_eq!(o.status.code(), Some(2));
    let o = xenoplan(&["fit", "no/such/file.csv"]);
    assert_eq!(o.status.code(), Some(1));
}

/// Replaces the `[cohorts.growth]` table of the cohort named `cohort` with `fragment`.
fn paste_growth(protocol: &str, cohort: &str, fragment: &str) -> String {
    let at = protocol
        .find(&format!("name = \"{cohort}\""))
        .expect("cohort in protocol");
    let start = at
        + protocol[at..]
            .find("[cohorts.growth]")
            .expect("growth table");
    let next = start
        + protocol[start..]
            .find("[[cohorts.effects]]")
            .expect("effects after growth");
    format!("{}{}\n{}", &protocol[..start], fragment, &protocol[next..])
}

#[test]
fn fit_to_simulated_tamr_vehicle_recovers_the_protocol_and_pastes_back() {
    let dir = scratch("fit_tamr");
    let sim = dir.join("sim");
    let proto = "protocols/tamr_mcf7_xenograft.toml";
    let o = xenoplan(&[
        "simulate",
        proto,
        "--seed",
        "1",
        "--n-per-arm",
        "30",
        "--out",
        sim.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let animals = sim.join("animals.csv");
    let o = xenoplan(&[
        "fit",
        animals.to_str().unwrap(),
        "--cohort",
        "TamR-MCF-7",
        "--arm",
        "vehicle",
        "--boot",
        "300",
        "--date",
        "2026-01-02",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let frag = stdout(&o);
    // Protocol: TamR rate 0.0578/day with CV 25% (SD ≈ 0.0145/day); the 95% CI must hold it.
    let (rate, src) = value_of(&frag, "rate");
    let ci: Vec<f64> = src
        .split("95% CI ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .split('–')
        .map(|x| x.parse().unwrap())
        .collect();
    assert!(
        ci[0] <= 0.0578 && 0.0578 <= ci[1],
        "rate {rate}, CI {ci:?}: {frag}"
    );
    // Same data through the wide layout gives the same fragment apart from the file name.
    let o = xenoplan(&[
        "fit",
        sim.join("volumes_wide.csv").to_str().unwrap(),
        "--cohort",
        "TamR-MCF-7",
        "--arm",
        "vehicle",
        "--boot",
        "300",
        "--date",
        "2026-01-02",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let wide = stdout(&o);
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with("# data"))
            .collect::<Vec<_>>()
            .join("\n")
            .replace("volumes_wide.csv", "animals.csv")
    };
    assert_eq!(strip(&wide), strip(&frag));

    // Pasting the fragment over the TamR growth table of a copy of the protocol passes
    // `check` and `simulate`.
    let text = std::fs::read_to_string(super::root().join(proto)).unwrap();
    for model in ["exponential", "gompertz"] {
        let o = xenoplan(&[
            "fit",
            animals.to_str().unwrap(),
            "--cohort",
            "TamR-MCF-7",
            "--arm",
            "vehicle",
            "--boot",
            "50",
            "--model",
            model,
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        if model == "gompertz" {
            // TamR vehicle growth is exponential: no plateau in the data, and fit says so.
            assert!(
                stderr(&o).contains("K and its variability are extrapolated")
                    && stdout(&o).contains("# WARNING: the readings stay below half"),
                "{}",
                stderr(&o)
            );
        }
        let pasted = paste_growth(&text, "TamR-MCF-7", &stdout(&o));
        let p = write(&dir, &format!("pasted_{model}.toml"), &pasted);
        let c = xenoplan(&["check", &p]);
        assert_eq!(
            c.status.code(),
            Some(0),
            "{model}: {}\n{}",
            stderr(&c),
            stdout(&c)
        );
        let s = xenoplan(&[
            "simulate",
            &p,
            "--seed",
            "3",
            "--out",
            dir.join(format!("sim_{model}")).to_str().unwrap(),
        ]);
        assert_eq!(s.status.code(), Some(0), "{model}: {}", stderr(&s));
    }
}

/// Effects in user units, end to end on tests/fixtures/effects/user_units.toml (exponential,
/// 40 animals per arm, small spread): `expected-tgi-pct = 70` and `expected-tc-pct = 25` at
/// day 21 are solved to inhibitions 0.465 and 0.680 on the arms' dosing window (first dose at
/// 10:00 of day 0; `show` prints both); the simulated study
/// reads TGI ≈ 70% and T/C ≈ 25% at day 21; `fit --control` on its animals emits
/// `[[cohorts.effects]]` whose inhibitions cover the solved values (and the direct 0.3).
#[test]
fn user_unit_effects_simulate_to_their_tgi_and_fit_control_recovers_them() {
    let fixture = "tests/fixtures/effects/user_units.toml";
    let dir = scratch("fit_user_unit_effects");
    let o = xenoplan(&["show", fixture]);
    assert!(o.status.success(), "{}", stderr(&o));
    let shown = stdout(&o);
    assert!(
        shown.contains("expected TGI 70% at day 21 → inhibition 0.465 (solved for exponential growth: typical on-treatment control rate 0.0990/day, V0 175.0 mm³ at randomization, effect on study days 0.4167–21.42 (first dose to last dose + one interval))"),
        "{shown}"
    );
    assert!(
        shown.contains("expected T/C 25% at day 21 → inhibition 0.680"),
        "{shown}"
    );

    let sim = dir.join("sim");
    let o = xenoplan(&[
        "simulate",
        fixture,
        "--seed",
        "2",
        "--out",
        sim.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let tgi = std::fs::read_to_string(sim.join("tgi.csv")).unwrap();
    let row = |arm: &str| -> Vec<f64> {
        tgi.lines()
            .map(|l| l.split(',').collect::<Vec<_>>())
            .find(|f| f[0] == arm && f[1] == "21")
            .unwrap_or_else(|| panic!("no day-21 row of {arm} in\n{tgi}"))[2..8]
            .iter()
            .map(|x| x.parse().unwrap())
            .collect()
    };
    // tgi_pct, low, high, tc_pct, low, high. Bootstrap SE ≈ 1 point; tolerance 3.
    let a = row("tgi70");
    assert!(
        (a[0] - 70.0).abs() < 3.0 && a[1] <= 70.0 && 70.0 <= a[2],
        "{a:?}"
    );
    let b = row("tc25");
    assert!(
        (b[3] - 25.0).abs() < 2.0 && b[4] <= 25.0 && 25.0 <= b[5],
        "{b:?}"
    );

    let fit_dir = dir.join("fit");
    let o = xenoplan(&[
        "fit",
        sim.join("animals.csv").to_str().unwrap(),
        "--control",
        "control",
        "--boot",
        "100",
        "--date",
        "2026-01-01",
        "--out",
        fit_dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let frag = stdout(&o);
    assert!(
        frag.contains("# Drug effects vs control arm `control` (40 animals): growth-rate inhibition I = 1 − r_T/r_C from the typical exponential rates of a separate fit of each arm (same method); 95% CI: percentile over paired bootstrap replicates of both fits.\n"),
        "{frag}"
    );
    let doc: toml::Table = toml::from_str(&frag).expect("fragment is valid TOML");
    let effects = doc["cohorts"]["effects"]
        .as_array()
        .expect("[[cohorts.effects]]");
    assert_eq!(effects.len(), 3, "{frag}");
    for (arm, truth) in [("tgi70", 0.4559), ("tc25", 0.6667), ("i30", 0.3)] {
        let e = effects
            .iter()
            .find(|e| e["agent"].as_str() == Some(arm))
            .unwrap_or_else(|| panic!("no effect for {arm}: {frag}"));
        assert_eq!(e["mode"].as_str(), Some("direct"));
        let v = e["inhibition"]["value"].as_float().unwrap();
        let src = e["inhibition"]["source"].as_str().unwrap();
        assert!(
            src.starts_with(&format!(
                "fit to animals.csv: arm `{arm}` (40 animals) vs control `control` (40 animals), exponential, 2026-01-01; I = 1 - "
            )),
            "{src}"
        );
        let ci = src
            .split("95% CI ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap();
        let (lo, hi) = ci.split_once('–').unwrap();
        let (lo, hi): (f64, f64) = (lo.parse().unwrap(), hi.parse().unwrap());
        assert!(
            lo <= truth && truth <= hi && (v - truth).abs() < 0.03,
            "{arm}: {v} ({lo}–{hi}) vs {truth}"
        );
    }
    let csv = std::fs::read_to_string(fit_dir.join("fit_effects.csv")).unwrap();
    assert!(csv.starts_with("arm,control,n_treated,n_control,rate_treated,rate_control,inhibition,se,ci_low,ci_high,paired_resamples\n"), "{csv}");
    assert_eq!(csv.lines().count(), 4);

    // --control needs another arm, and the exponential model.
    let o = xenoplan(&[
        "fit",
        sim.join("animals.csv").to_str().unwrap(),
        "--control",
        "control",
        "--arm",
        "i30",
        "--boot",
        "0",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("differ"), "{}", stderr(&o));
}
