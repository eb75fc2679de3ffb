//! Synergy on measured data against SynergyLMM (`lmmModel(grwth_model = "exp")` +
//! `lmmSynergy(method = "Bliss" | "HSA")`): tests/fixtures/synergy/lmm_synergy.R wrote the data
//! and the reference tables.

use crate::analysis::hypotheses::{HypothesisPlan, synergy_hypothesis};
use crate::analysis::pipeline::{AnalysisOptions, analyze};
use crate::protocol::TestKey;
use std::collections::HashMap;

fn fixture(name: &str) -> Vec<HashMap<String, String>> {
    let path = format!(
        "{}/tests/fixtures/synergy/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut r = csv::Reader::from_path(&path).expect("fixture");
    let h: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    r.records()
        .map(|rec| {
            let rec = rec.expect("row");
            h.iter()
                .cloned()
                .zip(rec.iter().map(String::from))
                .collect()
        })
        .collect()
}

fn num(row: &HashMap<String, String>, k: &str) -> f64 {
    row[k].parse().unwrap_or_else(|_| panic!("{k}: {}", row[k]))
}

fn close(a: f64, b: f64, rel: f64, what: &str) {
    assert!(
        (a - b).abs() <= rel * b.abs().max(1e-12),
        "{what}: xenoplan {a} vs SynergyLMM {b}"
    );
}

#[test]
fn bliss_and_hsa_match_synergylmm_at_every_time_point() {
    let bytes = std::fs::read(format!(
        "{}/tests/fixtures/synergy/synergy_data.csv",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("data");
    let ds = crate::analysis::parse_dataset(&bytes, "synergy_data.csv").expect("parses");
    let mut opt = AnalysisOptions::new("Control");
    opt.bootstrap_reps = 0;
    opt.plan = HypothesisPlan::default();
    opt.plan
        .hypotheses
        .push(synergy_hypothesis("Combination=DrugA,DrugB").expect("spec"));
    let res = analyze(&ds, &opt).expect("analyzes");
    for (key, file) in [
        (TestKey::BlissLmm, "synergy_bliss.csv"),
        (TestKey::HsaLmm, "synergy_hsa.csv"),
    ] {
        let refs = fixture(file);
        let ours: Vec<_> = res.synergy.iter().filter(|r| r.key == key).collect();
        assert_eq!(ours.len(), refs.len(), "{file}: one row per time point");
        for (o, r) in ours.iter().zip(&refs) {
            let p = &o.point;
            let what = |c: &str| format!("{file} day {}: {c}", p.day);
            assert_eq!(p.day, num(r, "time"));
            assert_eq!(p.n_obs as f64, num(r, "n_obs"));
            close(
                p.estimate,
                num(r, "contrast_estimate"),
                1e-3,
                &what("estimate"),
            );
            close(p.se, num(r, "contrast_se"), 1e-3, &what("SE"));
            close(p.score, num(r, "ss"), 1e-3, &what("synergy score"));
            close(p.p_wald, num(r, "ss_p"), 1e-3, &what("Wald p"));
            assert!(p.p_value >= p.p_wald, "{}: t p below z p", what("p"));
            close(
                p.combination_index,
                num(r, "ci"),
                1e-3,
                &what("combination index"),
            );
            close(
                p.combination_index_ci.0,
                num(r, "ci_lwr"),
                1e-3,
                &what("CI low"),
            );
            close(
                p.combination_index_ci.1,
                num(r, "ci_upr"),
                1e-3,
                &what("CI high"),
            );
        }
        // The tests.csv row is the fit at the analysis day (the last day here).
        let row = res.tests.iter().find(|t| t.key == key).expect("row");
        let last = refs.last().expect("rows");
        close(
            row.statistic,
            num(last, "ss"),
            1e-3,
            "tests.csv synergy score",
        );
        // tests.csv uses the t p-value; with every animal read on the same days the
        // Satterthwaite df is that of a one-way ANOVA of per-animal slopes, M − 4 = 28.
        assert!((row.df - 28.0).abs() < 0.01, "df {}", row.df);
        let t = crate::numeric::dist::t_two_sided(row.statistic, row.df);
        close(row.p_value, t, 1e-12, "tests.csv p = t(SS, df)");
        assert_eq!(row.kind, "synergy");
        assert_eq!(row.family, "synergy");
    }
}
