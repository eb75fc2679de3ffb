//! `xenoplan simulate`: contract files, reproducibility, biology visible in the outputs, and
//! errors.

use super::{scratch, stderr, stdout, xenoplan};
use std::collections::BTreeMap;
use std::path::Path;

const TAMR: &str = "protocols/tamr_mcf7_xenograft.toml";

fn sim(out: &Path, seed: &str) -> std::process::Output {
    xenoplan(&[
        "simulate",
        TAMR,
        "--seed",
        seed,
        "--out",
        out.to_str().unwrap(),
    ])
}

#[test]
fn tamr_writes_every_contract_file_and_prints_day0_volumes() {
    let d = scratch("simulate-tamr");
    let o = sim(&d, "1");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("cohort TamR-MCF-7") && out.contains("day-0 volume") && out.contains("takes"),
        "{out}"
    );
    for f in [
        "animals.csv",
        "volumes_wide.csv",
        "enrollment.csv",
        "manifest.json",
    ] {
        assert!(d.join(f).is_file(), "{f} missing");
    }
    for c in ["mcf-7", "tamr-mcf-7"] {
        for p in ["growth", "spaghetti", "spaghetti_log"] {
            for ext in ["svg", "png"] {
                assert!(
                    d.join(format!("plots/{p}_{c}.{ext}")).is_file(),
                    "plots/{p}_{c}.{ext}"
                );
            }
        }
    }
    let animals = std::fs::read_to_string(d.join("animals.csv")).unwrap();
    assert!(animals.starts_with(
        "animal_id,arm,day,date,length_mm,width_mm,volume_mm3,body_weight_g,status,cohort\n"
    ));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["seed"], 1);
    assert_eq!(m["protocol_id"], "tamr-mcf7-xenograft");
    assert!(
        m["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "animals.csv")
    );
}

#[test]
fn same_seed_is_byte_identical_and_another_seed_differs() {
    let (a, b, c) = (
        scratch("simulate-seed-a"),
        scratch("simulate-seed-b"),
        scratch("simulate-seed-c"),
    );
    assert_eq!(sim(&a, "7").status.code(), Some(0));
    assert_eq!(sim(&b, "7").status.code(), Some(0));
    assert_eq!(sim(&c, "8").status.code(), Some(0));
    for f in [
        "animals.csv",
        "volumes_wide.csv",
        "enrollment.csv",
        "plots/growth_tamr-mcf-7.svg",
    ] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f}"
        );
    }
    assert_ne!(
        std::fs::read(a.join("animals.csv")).unwrap(),
        std::fs::read(c.join("animals.csv")).unwrap()
    );
    // The manifest differs only by the command line (the output folder).
    let strip = |p: &Path| {
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(p.join("manifest.json")).unwrap())
                .unwrap();
        v["command_line"] = serde_json::Value::Null;
        v
    };
    assert_eq!(strip(&a), strip(&b));
}

/// Mean ln(volume) change from day 0 to `day` per (cohort, arm), over animals measured then.
fn log_growth(animals: &str, day: &str) -> BTreeMap<(String, String), f64> {
    let mut v0: BTreeMap<String, f64> = BTreeMap::new();
    let mut acc: BTreeMap<(String, String), (f64, usize)> = BTreeMap::new();
    for line in animals.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let vol: f64 = f[6].parse().unwrap_or(0.0);
        if f[2] == "0" {
            v0.insert(f[0].to_string(), vol);
        } else if f[2] == day && vol > 0.0 {
            let e = acc.entry((f[9].to_string(), f[1].to_string())).or_default();
            e.0 += (vol / v0[f[0]]).ln();
            e.1 += 1;
        }
    }
    acc.into_iter()
        .map(|(k, (s, n))| (k, s / n as f64))
        .collect()
}

#[test]
fn vehicle_grows_serds_grow_less_and_parental_mcf7_stalls() {
    let d = scratch("simulate-biology");
    assert_eq!(sim(&d, "3").status.code(), Some(0));
    let animals = std::fs::read_to_string(d.join("animals.csv")).unwrap();
    // Day 14 (before humane endpoints remove the largest vehicle tumors). Calipers are
    // Mon/Thu, so day 14 exists whatever weekday day 0 falls on.
    let g = log_growth(&animals, "14");
    let key = |c: &str, a: &str| g[&(c.to_string(), a.to_string())];
    let veh = key("TamR-MCF-7", "vehicle");
    assert!(veh > 0.5, "TamR vehicle grows: {g:?}");
    assert!(
        key("TamR-MCF-7", "taragarestrant 30 mg/kg") < veh - 0.3,
        "{g:?}"
    );
    assert!(key("TamR-MCF-7", "fulvestrant") < veh - 0.2, "{g:?}");
    // Tamoxifen does not stop TamR tumors.
    assert!(key("TamR-MCF-7", "tamoxifen") > 0.5 * veh, "{g:?}");
    // Parental MCF-7: the pellet comes out at randomization and growth stops (stasis).
    assert!(key("MCF-7", "vehicle").abs() < 0.25, "{g:?}");
}

#[test]
fn in_vitro_protocols_simulate_and_procedures_are_refused() {
    let d = scratch("simulate-invitro");
    let o = xenoplan(&[
        "simulate",
        "protocols/anastrozole_resistant_mcf7aro.toml",
        "--reps",
        "3",
        "--out",
        d.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for f in [
        "population.csv",
        "ic50.csv",
        "assay.csv",
        "plots/population.svg",
        "plots/dose_response.png",
        "manifest.json",
    ] {
        assert!(d.join(f).is_file(), "{f}");
    }
    assert!(stdout(&o).contains("IC50 fold shift"), "{}", stdout(&o));
    let o = xenoplan(&[
        "simulate",
        "protocols/ngs_resistance_profiling.toml",
        "--out",
        scratch("simulate-proc").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("procedure"), "{}", stderr(&o));
}

#[test]
fn bad_inputs_exit_with_contract_codes() {
    let o = xenoplan(&["simulate", "protocols/no_such_file.toml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no_such_file.toml"), "{}", stderr(&o));
    let o = xenoplan(&["simulate", TAMR, "--n-per-arm", "0"]);
    assert_eq!(o.status.code(), Some(2));
    let o = xenoplan(&["simulate", TAMR, "--start", "2027-13-01"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn n_per_arm_override_and_p1_bench_protocol() {
    let d = scratch("simulate-p1");
    let o = xenoplan(&[
        "simulate",
        "examples/p1_power.toml",
        "--seed",
        "2",
        "--n-per-arm",
        "5",
        "--out",
        d.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let animals = std::fs::read_to_string(d.join("animals.csv")).unwrap();
    // 4 arms × 5 animals × 9 visits, no dropout in P1.
    assert_eq!(animals.lines().count(), 1 + 4 * 5 * 9);
    assert!(
        !d.join("enrollment.csv").exists(),
        "no pre-treatment phase in P1"
    );
}

/// `analyze` on the `animals.csv` written by `simulate`, with the options `simulate` used
/// (recorded in its manifest), reproduces every analysis table byte for byte.
#[test]
fn analyze_on_simulated_animals_reproduces_simulate_tables() {
    let d = scratch("simulate-then-analyze");
    let sim = d.join("sim");
    let o = xenoplan(&[
        "simulate",
        "protocols/tamr_mcf7_xenograft.toml",
        "--seed",
        "3",
        "--bootstrap-reps",
        "200",
        "--out",
        sim.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sim.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(
        m["parameters"]["analysis"]["endpoint"]
            .as_str()
            .map(|s| s.contains("700")),
        Some(true),
        "{m}"
    );
    let ana = d.join("ana");
    let o = xenoplan(&[
        "analyze",
        sim.join("animals.csv").to_str().unwrap(),
        "--control",
        "vehicle",
        "--endpoint-volume",
        "700",
        "--endpoint-diameter",
        "12",
        "--seed",
        "3",
        "--bootstrap-reps",
        "200",
        // The protocol's hypotheses: measured data get the family the simulation used.
        "--hypotheses",
        "protocols/tamr_mcf7_xenograft.toml",
        "--out",
        ana.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
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
            std::fs::read(sim.join(f)).unwrap(),
            std::fs::read(ana.join(f)).unwrap(),
            "{f} differs"
        );
    }
}

/// The TamR parental MCF-7 control stops growing after pellet removal: no TGI is printed for
/// it (empty cells, no |TGI| > 1000%) and stderr says why and what to use instead.
#[test]
fn tgi_of_a_non_growing_control_is_blank_with_a_warning() {
    let d = scratch("sim-tamr-tgi");
    let o = xenoplan(&[
        "simulate",
        "protocols/tamr_mcf7_xenograft.toml",
        "--bootstrap-reps",
        "50",
        "--no-lmm",
        "--out",
        d.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("warning: cohort `MCF-7`: TGI not computed at the analysis day")
            && e.contains("Compare volumes instead (T/C, Welch on ln V)"),
        "{e}"
    );
    let csv = std::fs::read_to_string(d.join("tgi.csv")).expect("tgi.csv");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let cols: Vec<usize> = ["tgi_pct", "tgi_ci_low", "tgi_ci_high", "tc_pct"]
        .iter()
        .map(|c| header.iter().position(|h| h == c).expect("column"))
        .collect();
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        for &c in &cols {
            if let Ok(v) = f[c].parse::<f64>() {
                assert!(v.abs() <= 1000.0, "{l}");
            }
        }
    }
}

/// The bundled 4-OHT TamR derivation checks the pool monthly: `ic50_over_time.csv` and its
/// figure are written and listed, and the file is byte-identical whatever `--threads` is.
#[test]
fn tamr_derivation_writes_the_ic50_trajectory_independently_of_threads() {
    let file = "protocols/tamoxifen_resistant_mcf7_derivation.toml";
    let run = |threads: &str| {
        let d = scratch(&format!("simulate-ic50-checks-{threads}"));
        let o = xenoplan(&[
            "simulate",
            file,
            "--reps",
            "4",
            "--threads",
            threads,
            "--out",
            d.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        (d, stdout(&o))
    };
    let (one, text) = run("1");
    let (two, _) = run("2");
    let csv = std::fs::read(one.join("ic50_over_time.csv")).expect("ic50_over_time.csv");
    assert_eq!(csv, std::fs::read(two.join("ic50_over_time.csv")).unwrap());
    let csv = String::from_utf8(csv).unwrap();
    // 4 runs × 6 monthly checks (days 28..168) × (parental + derived) rows.
    let days: Vec<&str> = csv
        .lines()
        .skip(1)
        .filter(|l| l.starts_with("1,"))
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(
        days,
        [
            "28", "28", "56", "56", "84", "84", "112", "112", "140", "140", "168", "168"
        ]
    );
    for f in ["plots/ic50_over_time.svg", "plots/ic50_over_time.png"] {
        assert!(one.join(f).is_file(), "{f}");
    }
    let manifest = std::fs::read_to_string(one.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"ic50_over_time.csv\""), "{manifest}");
    assert!(
        text.contains("IC50 checks, run 1") && text.contains("    day 168: TamR-MCF-7"),
        "{text}"
    );
    assert!(text.contains("IC50 shift ≥ 10x"), "{text}");
}
