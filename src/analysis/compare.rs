//! The computation of every registered test ([`TestKey`]) on the animals of a cohort.
//!
//! Each arm's per-animal values (volume at the analysis day, growth rate, AUC, time to
//! endpoint, mRECIST class) are computed once ([`ArmValues`]); a two-arm test then compares
//! two arms, a trend test ordered arms, a synergy test four. Every result carries the sign of
//! the observed effect in the benefit direction so one-sided alternatives are read off it
//! ([`crate::protocol::Alternative::p_from_two_sided`]).

use super::pipeline::{
    AnalysisOptions, Animal, Mrecist, animal_auc, animal_slope, lmm_interaction, mrecist,
    time_to_endpoint,
};
use super::stats;
use super::stats::lmm::{LmmGroup, fit_reml};
use crate::protocol::TestKey;

/// Per-animal values of one arm, computed once per cohort.
#[derive(Debug, Clone)]
pub struct ArmValues<'a> {
    /// The arm's animals.
    pub animals: Vec<&'a Animal>,
    /// Volume standing for the analysis day, per animal that has one.
    pub at_day: Vec<f64>,
    /// ln of `at_day` (floored).
    pub log_at_day: Vec<f64>,
    /// Finite per-animal growth rates (slope of ln V to the analysis day), /day.
    pub slopes: Vec<f64>,
    /// Finite per-animal AUC of ln(V/V0) to the analysis day.
    pub aucs: Vec<f64>,
    /// Time to endpoint and whether it is an event, per animal.
    pub ends: Vec<(f64, bool)>,
    /// mRECIST class per animal (`None` = not evaluable).
    pub response: Vec<Option<Mrecist>>,
}

/// Which per-animal endpoint vectors of [`ArmValues`] a set of tests reads; the others stay
/// empty (power analyzes thousands of studies and most plans read two or three endpoints).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    slopes: bool,
    aucs: bool,
    ends: bool,
    response: bool,
}

impl Needs {
    /// The vectors `tests` read (volumes at the analysis day and the animals are always kept).
    pub fn of(tests: impl IntoIterator<Item = TestKey>) -> Needs {
        let mut n = Needs::default();
        for t in tests {
            // Exhaustive on purpose: a new test must say which vectors it reads.
            match t {
                TestKey::Slope | TestKey::TrendSlope => n.slopes = true,
                TestKey::Auc => n.aucs = true,
                TestKey::Logrank => n.ends = true,
                TestKey::Response => n.response = true,
                TestKey::WelchLog
                | TestKey::Mwu
                | TestKey::Lmm
                | TestKey::Jonckheere
                | TestKey::BlissLmm
                | TestKey::HsaLmm
                | TestKey::PanelLme
                | TestKey::PanelSlope
                | TestKey::PanelLogrank
                | TestKey::PanelCox
                | TestKey::PanelAft => {}
            }
        }
        n
    }
}

impl<'a> ArmValues<'a> {
    /// Values of `animals` for the analysis day `day`: the vectors `needs` names.
    pub fn new(animals: &[&'a Animal], day: f64, opt: &AnalysisOptions, needs: Needs) -> Self {
        let floor = opt.log_floor_mm3;
        let at_day: Vec<f64> = animals
            .iter()
            .filter_map(|a| a.at_analysis_day(day))
            .collect();
        let finite = |f: &dyn Fn(&Animal) -> f64| -> Vec<f64> {
            animals
                .iter()
                .map(|a| f(a))
                .filter(|x| x.is_finite())
                .collect()
        };
        ArmValues {
            log_at_day: at_day.iter().map(|v| v.max(floor).ln()).collect(),
            at_day,
            slopes: if needs.slopes {
                finite(&|a| animal_slope(a, floor, day))
            } else {
                Vec::new()
            },
            aucs: if needs.aucs {
                finite(&|a| animal_auc(a, floor, day))
            } else {
                Vec::new()
            },
            ends: if needs.ends {
                animals
                    .iter()
                    .map(|a| time_to_endpoint(a, opt.endpoint, opt.burden))
                    .collect()
            } else {
                Vec::new()
            },
            response: if needs.response {
                animals
                    .iter()
                    .map(|a| mrecist(a, opt.response_min_day).2)
                    .collect()
            } else {
                Vec::new()
            },
            animals: animals.to_vec(),
        }
    }
}

/// One computed test.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// What is compared (e.g. "ln(volume) at day 21").
    pub endpoint: String,
    /// Test name (with the method used, e.g. exact or asymptotic).
    pub test: String,
    /// Test statistic (synergy: the synergy score, estimate / SE).
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_two: f64,
    /// Degrees of freedom, NaN where not defined.
    pub df: f64,
    /// Effect estimate (first arm − reference on the test's scale; odds ratio for Fisher).
    pub estimate: f64,
    /// Standard error of the estimate, NaN where not defined.
    pub se: f64,
    /// Positive when the observed effect favours the first arm (smaller, slower, later, more
    /// responses, synergy), negative against it, NaN when undefined.
    pub benefit: f64,
    /// Animals of the first arm used.
    pub n_first: usize,
    /// Animals of the reference arm(s) used.
    pub n_reference: usize,
}

impl Outcome {
    /// A test that could not be computed, saying why (NaN p-value: never a rejection).
    pub fn not_computable(why: &str) -> Outcome {
        Outcome::nan(why.to_string(), "not computable")
    }

    fn nan(endpoint: String, test: &str) -> Outcome {
        Outcome {
            endpoint,
            test: test.into(),
            statistic: f64::NAN,
            p_two: f64::NAN,
            df: f64::NAN,
            estimate: f64::NAN,
            se: f64::NAN,
            benefit: f64::NAN,
            n_first: 0,
            n_reference: 0,
        }
    }
}

/// Day text of endpoint descriptions ("21", "20.50").
pub fn day_text(day: f64) -> String {
    crate::output::fmt_f(day, if day.fract() == 0.0 { 0 } else { 2 })
}

fn welch(endpoint: String, a: &[f64], b: &[f64]) -> Outcome {
    let w = stats::welch_t(a, b);
    Outcome {
        endpoint,
        test: "Welch t-test".into(),
        statistic: w.statistic,
        p_two: w.p_value,
        df: w.df,
        estimate: w.estimate,
        se: w.se,
        benefit: -w.estimate,
        n_first: a.len(),
        n_reference: b.len(),
    }
}

/// A two-arm test of `t` (first arm) against `c` (reference). `key` must be a two-arm test.
pub fn two_arm(
    key: TestKey,
    t: &ArmValues<'_>,
    c: &ArmValues<'_>,
    day: f64,
    opt: &AnalysisOptions,
) -> Outcome {
    let d = day_text(day);
    match key {
        TestKey::WelchLog => welch(
            format!("ln(volume) at day {d}"),
            &t.log_at_day,
            &c.log_at_day,
        ),
        TestKey::Slope => welch(
            format!("growth rate (slope of ln volume to day {d}, /day)"),
            &t.slopes,
            &c.slopes,
        ),
        TestKey::Auc => welch(
            format!("AUC of ln(V/V0) to day {d} (day)"),
            &t.aucs,
            &c.aucs,
        ),
        TestKey::Mwu => {
            let m = stats::mann_whitney_u(&t.at_day, &c.at_day);
            let centre = (t.at_day.len() * c.at_day.len()) as f64 / 2.0;
            Outcome {
                endpoint: format!("volume at day {d}"),
                test: format!("Mann-Whitney U ({})", m.method.as_str()),
                statistic: m.statistic,
                p_two: m.p_value,
                df: f64::NAN,
                estimate: f64::NAN,
                se: f64::NAN,
                // U₁ below its null mean: the first arm's volumes rank lower.
                benefit: centre - m.statistic,
                n_first: t.at_day.len(),
                n_reference: c.at_day.len(),
            }
        }
        TestKey::Lmm => {
            let endpoint = format!("ln(volume) treatment x day, days <= {d}");
            let label = "LMM REML, random intercept + slope; Satterthwaite df";
            if !opt.run_lmm {
                return Outcome::nan(endpoint, label);
            }
            let r = lmm_interaction(&t.animals, &c.animals, opt.log_floor_mm3, day);
            Outcome {
                endpoint,
                test: label.into(),
                statistic: r.statistic,
                p_two: r.p_value,
                df: r.df,
                estimate: r.estimate,
                se: r.se,
                benefit: -r.estimate,
                n_first: t.animals.len(),
                n_reference: c.animals.len(),
            }
        }
        TestKey::Logrank => {
            // Exact permutation p-value at small n: the χ² approximation rejects too often.
            let l = stats::logrank_exact(&t.ends, &c.ends);
            Outcome {
                endpoint: format!("time to endpoint ({})", opt.describe_endpoint()),
                test: if l.exact {
                    "log-rank, exact permutation p"
                } else {
                    "log-rank, chi-square p"
                }
                .into(),
                statistic: l.statistic,
                p_two: l.p_value,
                df: 1.0,
                estimate: l.observed1 - l.expected1,
                se: f64::NAN,
                // Fewer events than expected in the first arm.
                benefit: l.expected1 - l.observed1,
                n_first: t.ends.len(),
                n_reference: c.ends.len(),
            }
        }
        TestKey::Response => {
            let count = |v: &[Option<Mrecist>]| {
                let r = v
                    .iter()
                    .filter(|m| matches!(m, Some(Mrecist::Cr | Mrecist::Pr)))
                    .count() as u64;
                let p = v
                    .iter()
                    .filter(|m| matches!(m, Some(Mrecist::Sd | Mrecist::Pd)))
                    .count() as u64;
                (r, p)
            };
            let (a, b) = count(&t.response);
            let (cc, dd) = count(&c.response);
            let f = stats::fisher_exact_2x2(a, b, cc, dd);
            // Response proportions, first arm minus reference.
            let pa = a as f64 / (a + b) as f64;
            let pc = cc as f64 / (cc + dd) as f64;
            Outcome {
                endpoint: "objective response (mCR+mPR vs mSD+mPD)".into(),
                test: "Fisher exact".into(),
                statistic: f.odds_ratio,
                p_two: f.p_value,
                df: f64::NAN,
                estimate: f.odds_ratio,
                se: f64::NAN,
                benefit: pa - pc,
                n_first: (a + b) as usize,
                n_reference: (cc + dd) as usize,
            }
        }
        _ => Outcome::nan(format!("{} is not a two-arm test", key.as_str()), ""),
    }
}

/// Log-dose scores for a trend (Tukey, Ciminera & Heyse 1985, arithmetic–logarithmic
/// scaling): ln(dose) for positive doses; a zero dose (vehicle) one log step below the lowest
/// positive dose (the step between the two lowest positive doses, or ln 10 with only one).
pub fn log_dose_scores(doses: &[f64]) -> Vec<f64> {
    let mut pos: Vec<f64> = doses.iter().copied().filter(|&d| d > 0.0).collect();
    pos.sort_by(f64::total_cmp);
    pos.dedup();
    let step = if pos.len() >= 2 {
        (pos[1] / pos[0]).ln()
    } else {
        std::f64::consts::LN_10
    };
    let low = pos.first().map_or(0.0, |d| d.ln()) - step;
    doses
        .iter()
        .map(|&d| if d > 0.0 { d.ln() } else { low })
        .collect()
}

/// A dose-trend test over `arms` ordered by dose (`doses`, one per arm).
pub fn dose_trend(key: TestKey, arms: &[ArmValues<'_>], doses: &[f64], day: f64) -> Outcome {
    let d = day_text(day);
    let n_first = arms.last().map_or(0, |a| a.animals.len());
    let n_reference = arms.iter().map(|a| a.animals.len()).sum::<usize>() - n_first;
    match key {
        TestKey::Jonckheere => {
            // Order the arms by dose (the hypothesis lists them so; doses may say otherwise).
            let mut order: Vec<usize> = (0..arms.len()).collect();
            order.sort_by(|&a, &b| doses[a].total_cmp(&doses[b]));
            let groups: Vec<&[f64]> = order.iter().map(|&i| arms[i].at_day.as_slice()).collect();
            let (j, z, p) = stats::jonckheere(&groups);
            Outcome {
                endpoint: format!("volume at day {d}, ordered by dose"),
                test: "Jonckheere-Terpstra (normal approximation, tie corrected)".into(),
                statistic: j,
                p_two: p,
                df: f64::NAN,
                estimate: z,
                se: f64::NAN,
                // Volumes decreasing with dose is the benefit.
                benefit: -z,
                n_first,
                n_reference,
            }
        }
        TestKey::TrendSlope => {
            let scores = log_dose_scores(doses);
            let (mut x, mut y) = (Vec::new(), Vec::new());
            for (a, &s) in arms.iter().zip(&scores) {
                for &r in &a.slopes {
                    x.push(s);
                    y.push(r);
                }
            }
            let fit = stats::ols_slope_test(&x, &y);
            Outcome {
                endpoint: format!("growth rate to day {d} vs ln(dose)"),
                test: "OLS trend in log dose (t on n − 2 df)".into(),
                statistic: fit.t,
                p_two: fit.p_value,
                df: fit.df,
                estimate: fit.slope,
                se: fit.se,
                benefit: -fit.slope,
                n_first,
                n_reference,
            }
        }
        _ => Outcome::nan(format!("{} is not a trend test", key.as_str()), ""),
    }
}

/// The four arms of a synergy test.
#[derive(Debug, Clone, Copy)]
pub struct SynergyArms<'s, 'a> {
    /// Control (vehicle).
    pub control: &'s [&'a Animal],
    /// Drug A alone.
    pub a: &'s [&'a Animal],
    /// Drug B alone.
    pub b: &'s [&'a Animal],
    /// The combination.
    pub ab: &'s [&'a Animal],
}

/// Synergy on exponential growth rates from the linear mixed model of SynergyLMM
/// (`lmmModel(grwth_model = "exp")`): ln RTV_ij = β_g(i)·t_ij + b_i·t_ij + ε_ij with RTV = V/V0
/// (V0 the baseline reading), one fixed slope per group, a random slope per animal, no
/// intercept (ln RTV = 0 at baseline; the baseline row itself carries no information and is
/// dropped), fitted by REML on the readings from baseline to `until`.
/// Bliss: the null β_AB = β_A + β_B − β_C (Demidenko & Miller 2019: independent actions on
/// exponential rates add); HSA: β_AB = min(β_A, β_B) (the better single agent, the smaller
/// rate). The contrast δ = (null) − β_AB > 0 means the combination grows slower than the null:
/// synergy. Returns the synergy score SS = δ/SE as the statistic (SynergyLMM's `lmmSynergy`)
/// and the two-sided p-value of t with Satterthwaite df (lmerTest's; SynergyLMM's normal
/// reference is anti-conservative at small n — its value is in [`SynergyPoint::p_wald`]).
pub fn synergy(key: TestKey, arms: SynergyArms<'_, '_>, floor: f64, until: f64) -> Outcome {
    let d = day_text(until);
    let endpoint = format!("ln(V/V0) growth rates, days <= {d}");
    let label = match key {
        TestKey::BlissLmm => "Bliss synergy, LMM on log RTV (REML; t, Satterthwaite df)",
        TestKey::HsaLmm => "HSA synergy, LMM on log RTV (REML; t, Satterthwaite df)",
        _ => return Outcome::nan(endpoint, ""),
    };
    let Some(fit) = synergy_fit(arms, floor, until) else {
        return Outcome::nan(endpoint, label);
    };
    let Some(l) = synergy_contrast(key, &fit.beta) else {
        return Outcome::nan(endpoint, label);
    };
    let c = fit.contrast(&l);
    // SS as SynergyLMM; the p-value from t with Satterthwaite df (SynergyLMM's Wald z rejects
    // 7.3% of null studies at 4 animals per arm, src/analysis/tests/hypothesis_calibration.rs;
    // its z p-value is kept in synergy.csv).
    let ss = c.estimate / c.se;
    Outcome {
        endpoint,
        test: label.into(),
        statistic: ss,
        p_two: c.p_value,
        df: c.df,
        estimate: c.estimate,
        se: c.se,
        benefit: c.estimate,
        n_first: arms.ab.len(),
        n_reference: arms.control.len() + arms.a.len() + arms.b.len(),
    }
}

/// The contrast L of δ = (null rate) − β_AB on the fit's slopes (control, A, B, AB): Bliss
/// β_A + β_B − β_C − β_AB; HSA min(β_A, β_B) − β_AB, the single agent picked from `slopes`.
fn synergy_contrast(key: TestKey, slopes: &[f64]) -> Option<[f64; 4]> {
    match key {
        TestKey::BlissLmm => Some([-1.0, 1.0, 1.0, -1.0]),
        TestKey::HsaLmm if slopes[1] <= slopes[2] => Some([0.0, 1.0, 0.0, -1.0]),
        TestKey::HsaLmm => Some([0.0, 0.0, 1.0, -1.0]),
        _ => None,
    }
}

/// One time point of a synergy hypothesis (SynergyLMM `lmmSynergy`'s table): the model refitted
/// on the readings up to `day`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SynergyPoint {
    /// Study day (the last reading included).
    pub day: f64,
    /// Observations in the fit (baseline rows excluded).
    pub n_obs: usize,
    /// β_AB − null rate (SynergyLMM's contrast estimate; < 0 = synergy), /day.
    pub estimate: f64,
    /// Its standard error.
    pub se: f64,
    /// Synergy score SS = −estimate / SE (> 0 synergy).
    pub score: f64,
    /// 95% interval of SS (± 1.959964).
    pub score_ci: (f64, f64),
    /// Two-sided p-value, t with Satterthwaite df (the calibrated one `tests.csv` uses).
    pub p_value: f64,
    /// Satterthwaite df.
    pub df: f64,
    /// Two-sided Wald z p-value (SynergyLMM's `lmmSynergy`).
    pub p_wald: f64,
    /// Combination index exp(estimate · t), t = days since baseline (< 1 synergy).
    pub combination_index: f64,
    /// Its 95% interval, exp((estimate ± 1.959964·SE)·t).
    pub combination_index_ci: (f64, f64),
}

/// The synergy test at every reading day after baseline (SynergyLMM's time course): the
/// model is refitted on the readings up to each day; the HSA single agent is the one with the
/// smaller rate in the fit of all readings (as SynergyLMM picks it once, from the full
/// model). Days where the model cannot be fitted are left out.
pub fn synergy_over_time(key: TestKey, arms: SynergyArms<'_, '_>, floor: f64) -> Vec<SynergyPoint> {
    let all = [arms.control, arms.a, arms.b, arms.ab];
    let mut days: Vec<f64> = all
        .iter()
        .flat_map(|g| g.iter())
        .flat_map(|a| a.days[a.baseline + 1..].iter().copied())
        .collect();
    days.sort_by(f64::total_cmp);
    days.dedup();
    let Some(&last) = days.last() else {
        return Vec::new();
    };
    let t0 = all
        .iter()
        .flat_map(|g| g.iter())
        .map(|a| a.day0())
        .fold(f64::INFINITY, f64::min);
    let Some(l) = synergy_fit(arms, floor, last).and_then(|f| synergy_contrast(key, &f.beta))
    else {
        return Vec::new();
    };
    const Z: f64 = crate::numeric::dist::Z_975;
    days.iter()
        .filter_map(|&day| {
            let fit = synergy_fit(arms, floor, day)?;
            let c = fit.contrast(&l);
            let (est, se) = (-c.estimate, c.se);
            if !(se > 0.0 && est.is_finite()) {
                return None;
            }
            let score = -est / se;
            let t = day - t0;
            Some(SynergyPoint {
                day,
                n_obs: fit.n_obs,
                estimate: est,
                se,
                score,
                score_ci: (score - Z, score + Z),
                p_value: c.p_value,
                df: c.df,
                p_wald: crate::numeric::dist::normal_two_sided(score),
                combination_index: (est * t).exp(),
                combination_index_ci: (((est - Z * se) * t).exp(), ((est + Z * se) * t).exp()),
            })
        })
        .collect()
}

/// The exponential-growth LMM of [`synergy`]: fixed slopes (control, A, B, AB), a random slope
/// per animal, no intercept. `None` when it cannot be fitted.
pub fn synergy_fit(
    arms: SynergyArms<'_, '_>,
    floor: f64,
    until: f64,
) -> Option<stats::lmm::LmmFit> {
    let mut store: Vec<(Vec<f64>, Vec<f64>, Vec<f64>)> = Vec::new();
    for (g, group) in [arms.control, arms.a, arms.b, arms.ab]
        .into_iter()
        .enumerate()
    {
        for a in group {
            let (mut x, mut z, mut y) = (Vec::new(), Vec::new(), Vec::new());
            let (d0, v0) = (a.day0(), a.v0().max(floor));
            for i in a.baseline + 1..a.days.len() {
                let t = a.days[i] - d0;
                if a.days[i] > until {
                    break;
                }
                let mut row = [0.0; 4];
                row[g] = t;
                x.extend(row);
                z.push(t);
                y.push((a.volumes[i].max(floor) / v0).ln());
            }
            if !y.is_empty() {
                store.push((x, z, y));
            }
        }
    }
    let groups: Vec<LmmGroup> = store.iter().map(|(x, z, y)| LmmGroup { x, z, y }).collect();
    fit_reml(&groups, 4, 1).ok()
}
