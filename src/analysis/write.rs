//! Writing the analysis tables (../shared/CONTRACT.md columns first, extra columns after).

use super::AnalysisError;
use super::pipeline::AnalysisResult;
use crate::output::{fmt_f, write_csv_rows};
use std::path::Path;

/// Full-precision float (shortest round-trip representation); empty cell when not finite.
fn g(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        String::new()
    }
}

/// Four decimals (volumes, percentages).
fn f4(x: f64) -> String {
    fmt_f(x, 4)
}

fn header(cols: &[&str]) -> Vec<String> {
    cols.iter().map(|s| s.to_string()).collect()
}

/// One CSV table: its file name, its columns and its rows.
struct Table {
    name: &'static str,
    cols: &'static [&'static str],
    rows: Vec<Vec<String>>,
}

/// Writes `summary.csv`, `tgi.csv`, `rate_tc.csv`, `response.csv`, `response_summary.csv`,
/// `endpoints.csv`, `km.csv` and `tests.csv` (and `synergy.csv` when there are synergy
/// hypotheses) into `dir`; returns the file names written.
pub fn write_outputs(res: &AnalysisResult, dir: &Path) -> Result<Vec<String>, AnalysisError> {
    let mut tables = vec![
        summary_table(res),
        tgi_table(res),
        rate_tc_table(res),
        response_table(res),
        response_summary_table(res),
        endpoints_table(res),
        km_table(res),
        tests_table(res),
    ];
    if !res.synergy.is_empty() {
        tables.push(synergy_table(res));
    }
    let mut files = Vec::new();
    for t in tables {
        write_csv_rows(&dir.join(t.name), &header(t.cols), &t.rows)?;
        files.push(t.name.to_string());
    }
    Ok(files)
}

/// `summary.csv`: per arm (and cohort) and day: n, mean, SD, SEM and median volume.
fn summary_table(res: &AnalysisResult) -> Table {
    Table {
        name: "summary.csv",
        cols: &[
            "arm",
            "day",
            "n",
            "mean_mm3",
            "sd_mm3",
            "sem_mm3",
            "median_mm3",
            "cohort",
        ],
        rows: res
            .summary
            .iter()
            .map(|r| {
                vec![
                    r.arm.clone(),
                    g(r.day),
                    r.n.to_string(),
                    f4(r.mean),
                    f4(r.sd),
                    f4(r.sem),
                    f4(r.median),
                    r.cohort.clone(),
                ]
            })
            .collect(),
    }
}

/// `tgi.csv`: per treated arm and day: TGI and T/C with their bootstrap intervals.
fn tgi_table(res: &AnalysisResult) -> Table {
    Table {
        name: "tgi.csv",
        cols: &[
            "arm",
            "day",
            "tgi_pct",
            "tgi_ci_low",
            "tgi_ci_high",
            "tc_pct",
            "tc_ci_low",
            "tc_ci_high",
            "n_treated",
            "n_control",
            "cohort",
        ],
        rows: res
            .tgi
            .iter()
            .map(|r| {
                vec![
                    r.arm.clone(),
                    g(r.day),
                    f4(r.tgi_pct),
                    f4(r.tgi_ci.0),
                    f4(r.tgi_ci.1),
                    f4(r.tc_pct),
                    f4(r.tc_ci.0),
                    f4(r.tc_ci.1),
                    r.n_treated.to_string(),
                    r.n_control.to_string(),
                    r.cohort.clone(),
                ]
            })
            .collect(),
    }
}

/// `rate_tc.csv`: per treated arm: the rate-based T/C (mean per-animal growth rates).
fn rate_tc_table(res: &AnalysisResult) -> Table {
    Table {
        name: "rate_tc.csv",
        cols: &[
            "arm",
            "n_treated",
            "n_control",
            "rate_treated_per_day",
            "rate_control_per_day",
            "duration_days",
            "tc_rate_pct",
            "tc_rate_ci_low",
            "tc_rate_ci_high",
            "cohort",
        ],
        rows: res
            .rate_tc
            .iter()
            .map(|r| {
                vec![
                    r.arm.clone(),
                    r.n_treated.to_string(),
                    r.n_control.to_string(),
                    fmt_f(r.rate_treated, 6),
                    fmt_f(r.rate_control, 6),
                    g(r.duration_days),
                    f4(r.tc_rate_pct),
                    f4(r.tc_rate_ci.0),
                    f4(r.tc_rate_ci.1),
                    r.cohort.clone(),
                ]
            })
            .collect(),
    }
}

/// `response.csv`: per animal: best response, best average response and the mRECIST class.
fn response_table(res: &AnalysisResult) -> Table {
    Table {
        name: "response.csv",
        cols: &[
            "animal_id",
            "arm",
            "best_response_pct",
            "best_avg_response_pct",
            "mrecist",
            "cohort",
        ],
        rows: res
            .response
            .iter()
            .map(|r| {
                vec![
                    r.animal_id.clone(),
                    r.arm.clone(),
                    f4(r.best_response_pct),
                    f4(r.best_avg_response_pct),
                    r.mrecist
                        .map(|m| m.as_str().to_string())
                        .unwrap_or_default(),
                    r.cohort.clone(),
                ]
            })
            .collect(),
    }
}

/// `response_summary.csv`: per arm: mRECIST counts, response and disease-control rates.
fn response_summary_table(res: &AnalysisResult) -> Table {
    Table {
        name: "response_summary.csv",
        cols: &[
            "arm",
            "n_evaluable",
            "mCR",
            "mPR",
            "mSD",
            "mPD",
            "not_evaluable",
            "response_rate_pct",
            "cohort",
            "disease_control_pct",
        ],
        rows: res
            .response_counts
            .iter()
            .map(|r| {
                let mut v = vec![r.arm.clone(), r.evaluable().to_string()];
                v.extend(r.counts.iter().map(|c| c.to_string()));
                v.extend([
                    r.not_evaluable.to_string(),
                    f4(r.response_rate_pct()),
                    r.cohort.clone(),
                    f4(r.disease_control_pct()),
                ]);
                v
            })
            .collect(),
    }
}

/// `endpoints.csv`: per animal: time to endpoint or censoring.
fn endpoints_table(res: &AnalysisResult) -> Table {
    Table {
        name: "endpoints.csv",
        cols: &["animal_id", "arm", "time_days", "event", "cohort"],
        rows: res
            .endpoints
            .iter()
            .map(|r| {
                vec![
                    r.animal_id.clone(),
                    r.arm.clone(),
                    g(r.time_days),
                    (r.event as u8).to_string(),
                    r.cohort.clone(),
                ]
            })
            .collect(),
    }
}

/// `km.csv`: per arm: the Kaplan–Meier curve, one row per event or censoring time.
fn km_table(res: &AnalysisResult) -> Table {
    Table {
        name: "km.csv",
        cols: &[
            "arm",
            "time_days",
            "n_risk",
            "n_event",
            "n_censor",
            "survival",
            "std_err",
            "cohort",
        ],
        rows: res
            .km
            .iter()
            .flat_map(|c| {
                c.points.iter().map(move |p| {
                    vec![
                        c.arm.clone(),
                        g(p.time),
                        p.n_risk.to_string(),
                        p.n_event.to_string(),
                        p.n_censor.to_string(),
                        fmt_f(p.survival, 6),
                        fmt_f(p.std_err, 6),
                        c.cohort.clone(),
                    ]
                })
            })
            .collect(),
    }
}

/// `tests.csv`: one row per hypothesis test (the contract columns, then key, adjustment, role).
fn tests_table(res: &AnalysisResult) -> Table {
    Table {
        name: "tests.csv",
        cols: &[
            "hypothesis",
            "kind",
            "comparison",
            "endpoint",
            "test",
            "alternative",
            "statistic",
            "p_value",
            "p_adjusted",
            "family",
            "df",
            "estimate",
            "se",
            "n_treated",
            "n_control",
            "cohort",
            "test_key",
            "adjustment",
            "role",
        ],
        rows: res
            .tests
            .iter()
            .map(|r| {
                vec![
                    r.hypothesis.clone(),
                    r.kind.clone(),
                    r.comparison.clone(),
                    r.endpoint.clone(),
                    r.test.clone(),
                    r.alternative.to_string(),
                    g(r.statistic),
                    g(r.p_value),
                    g(r.p_adjusted),
                    r.family.clone(),
                    g(r.df),
                    g(r.estimate),
                    g(r.se),
                    r.n_treated.to_string(),
                    r.n_control.to_string(),
                    r.cohort.clone(),
                    r.key.as_str().to_string(),
                    r.adjustment.to_string(),
                    r.role.as_str().to_string(),
                ]
            })
            .collect(),
    }
}

/// `synergy.csv`: per synergy hypothesis and reading day: the refitted LMM synergy score.
fn synergy_table(res: &AnalysisResult) -> Table {
    Table {
        name: "synergy.csv",
        cols: &[
            "cohort",
            "hypothesis",
            "test_key",
            "day",
            "n_obs",
            "estimate",
            "se",
            "synergy_score",
            "synergy_score_low",
            "synergy_score_high",
            "p_value",
            "df",
            "p_value_wald_z",
            "combination_index",
            "combination_index_low",
            "combination_index_high",
        ],
        rows: res
            .synergy
            .iter()
            .map(|r| {
                let p = &r.point;
                vec![
                    r.cohort.clone(),
                    r.hypothesis.clone(),
                    r.key.as_str().to_string(),
                    g(p.day),
                    p.n_obs.to_string(),
                    g(p.estimate),
                    g(p.se),
                    g(p.score),
                    g(p.score_ci.0),
                    g(p.score_ci.1),
                    g(p.p_value),
                    g(p.df),
                    g(p.p_wald),
                    g(p.combination_index),
                    g(p.combination_index_ci.0),
                    g(p.combination_index_ci.1),
                ]
            })
            .collect(),
    }
}

/// Definitions of every derived quantity, recorded in `manifest.json`.
pub fn definitions() -> serde_json::Value {
    serde_json::json!({
        "tgi_pct": "(1 - (T_t - T_0)/(C_t - C_0)) * 100 on arm means; T_0, C_0 = mean baseline volumes (last measurement at day <= 0); DeltaT/DeltaC definition (../shared/DOMAIN.md), not Xeva's TGI(); empty when the control mean grew by less than 20% of its baseline (MIN_CONTROL_GROWTH_FOR_TGI: the ratio would divide by noise)",
        "tc_pct": "mean T_t / mean C_t * 100",
        "ci": "bootstrap 95% percentile interval, animals resampled with replacement within arm; replicate b uses rng stream (seed, [cohort index, b])",
        "tc_rate_pct": "100 * exp((mean rate T - mean rate C) * t), rate = per-animal OLS slope of ln volume on day, t = analysis day (rate-based T/C, Hather et al. Cancer Inform 2014;13(S4):65)",
        "mrecist": "Gao et al. Nat Med 2015 as coded in Bioconductor Xeva: dVol_t = 100 (V_t - V_0)/V_0; BR = min dVol_t for t >= 10 d after baseline; BAR = min over t >= 10 d of the running mean of dVol from baseline to t; mCR BR<-95 & BAR<-40; mPR BR<-50 & BAR<-20; mSD BR<35 & BAR<30; else mPD",
        "analysis_day": "last day with >= 80% of the control animals measured (invivoSyn), unless --day",
        "auc": "trapezoid AUC of ln(V/V_0) from baseline to the animal's last visit",
        "p_value": "for the row's alternative: two-sided, or one-sided (greater / less benefit of the first arm: smaller or slower tumors, later endpoint, more responses, synergy) as half the two-sided p in the observed direction, 1 - half otherwise (exact for the symmetric null distributions used)",
        "p_adjusted": "within the row's family (column family) in its cohort by the family's method (column adjustment): Holm step-down; Bonferroni min(1, m p); none; fixed-sequence max of the p-values up to and including the row in testing order (primary first, then declaration order). Default hypotheses (none declared): each arm vs control, family = the test, Holm",
        "synergy_csv": "per synergy hypothesis and reading day: the LMM refitted on readings up to that day (SynergyLMM lmmSynergy); estimate = b_AB - null rate (< 0 synergy); synergy_score = -estimate/SE with 95% interval +-1.959964; p_value two-sided t with Satterthwaite df (used in tests.csv); p_value_wald_z SynergyLMM's normal-reference p; combination_index = exp(estimate * t), t = days since baseline (< 1 synergy)",
        "hypothesis_kinds": "vs-control: arm vs the cohort's control; pairwise: first arm vs second; combination-vs-components: the combination vs each component (component rows, not adjusted) and an intersection-union row (largest component p) that carries the decision; dose-trend: Jonckheere-Terpstra on volume at the analysis day or OLS of per-animal growth rate on log dose; synergy: exponential-growth LMM on ln(V/V0) with a random slope per animal, statistic = synergy score SS = (null - b_AB)/SE (SynergyLMM), Bliss null b_A + b_B - b_C, HSA null min(b_A, b_B)"
    })
}
