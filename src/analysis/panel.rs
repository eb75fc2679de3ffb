//! Pooled tests of a panel (`[panel]`): one treatment vs its control across several lines
//! (cell lines or PDX models) with a few mice per line per arm.
//!
//! - `panel-lme`: y = β₀ + β₁·treated + b_line + ε by REML ([`stats::line_mixed`]), Wald t
//!   with nlme's containment df — PDXpower's `PowANOVA` (`lme(log(Y) ~ Tx, random = ~1|ID)`).
//!   y is ln(volume) at the analysis day, or ln(time to event). As PDXpower (`bootfit.R`:
//!   `Data[Data$status == 1, ]`) only observed events enter the event-time fit, which biases
//!   it when a design censors: `power` says so, and the censoring-aware tests below apply.
//! - `panel-slope`: the same model on per-animal growth rates (random slopes nested in line,
//!   fitted in two stages: OLS slope per animal, then the line model).
//! - `panel-logrank`: log-rank stratified by line with the within-line permutation p-value
//!   ([`stats::logrank_stratified_permutation`]; the χ² reference rejects 6.7 % at α = 5 % with
//!   3 lines × 2 mice).
//! - `panel-cox`: Cox model with a baseline hazard per line ([`stats::cox`]); a line frailty
//!   is not fitted (the reason is in `stats::cox`).
//! - `panel-aft`: parametric AFT with right censoring and a fixed effect per line
//!   ([`stats::aft`], `survreg(Surv(t, e) ~ tx + factor(line))`): the censoring-aware
//!   counterpart of `panel-lme` on event times (line effects fixed, not random).
//!
//! Every test here is two-sided; the estimate is in the direction "treated − control" on its
//! scale (log outcome, growth rate) or the log hazard ratio (Cox).

use super::stats::aft::{AftData, AftDist, aft_fit};
use super::stats::cox::{CoxData, CoxOptions, cox_fit};
use super::stats::line_mixed::LineMixedData;
use super::stats::{StratumPair, logrank_stratified_permutation};
use super::{AnalysisOptions, animal_slope, default_analysis_day, time_to_endpoint};
use super::{AnalysisResult, TestRow};
use crate::data::Animal;
use crate::protocol::{Adjustment, Panel, PanelOutcome, Role, TestKey};

/// One panel data set: per animal its line, arm and outcomes (reused across replicates).
#[derive(Debug, Clone, Default)]
pub struct PanelSample {
    /// Number of lines (line indices are 0..n_lines).
    pub n_lines: usize,
    /// Line of each animal.
    pub line: Vec<usize>,
    /// True for the treated arm, false for the control.
    pub treated: Vec<bool>,
    /// Log outcome of the line model: ln V at the analysis day, or ln T of an observed event;
    /// NaN when the animal has none (no reading, censored).
    pub log_outcome: Vec<f64>,
    /// Growth rate (slope of ln V per day); NaN when not estimable or not modelled.
    pub slope: Vec<f64>,
    /// Time to event or censoring.
    pub time: Vec<f64>,
    /// True when `time` is an event.
    pub event: Vec<bool>,
    /// Distribution of the `panel-aft` model (the event-time panel's; log-normal otherwise).
    pub aft: AftDist,
}

impl PanelSample {
    /// Empties the sample for `n_lines` lines (buffers keep their capacity).
    pub fn clear(&mut self, n_lines: usize) {
        self.n_lines = n_lines;
        self.line.clear();
        self.treated.clear();
        self.log_outcome.clear();
        self.slope.clear();
        self.time.clear();
        self.event.clear();
    }

    /// Adds one animal.
    pub fn push(&mut self, line: usize, treated: bool, o: AnimalOutcome) {
        self.line.push(line);
        self.treated.push(treated);
        self.log_outcome.push(o.log_outcome);
        self.slope.push(o.slope);
        self.time.push(o.time);
        self.event.push(o.event);
    }

    /// Animals in the sample.
    pub fn len(&self) -> usize {
        self.line.len()
    }

    /// True when no animal was added.
    pub fn is_empty(&self) -> bool {
        self.line.is_empty()
    }

    /// Fraction of animals whose time is censored.
    pub fn censored_fraction(&self) -> f64 {
        if self.event.is_empty() {
            return 0.0;
        }
        self.event.iter().filter(|e| !**e).count() as f64 / self.event.len() as f64
    }
}

/// The outcomes of one animal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnimalOutcome {
    /// See [`PanelSample::log_outcome`].
    pub log_outcome: f64,
    /// See [`PanelSample::slope`].
    pub slope: f64,
    /// See [`PanelSample::time`].
    pub time: f64,
    /// See [`PanelSample::event`].
    pub event: bool,
}

/// Which cohorts are the lines of a simulated panel and which arms are compared.
#[derive(Debug, Clone, Copy)]
pub struct PanelArms<'a> {
    /// Cohort name of each line, in line order.
    pub lines: &'a [&'a str],
    /// Treated arm.
    pub treatment: &'a str,
    /// Control arm.
    pub control: &'a str,
}

/// Fills `s` from simulated or measured animals: per line (cohort), its analysis day (the
/// fixed one, else the cohort's default rule), then per animal of the two arms ln V at that
/// day, the growth rate to it and the time to the endpoint — the same per-animal rules as
/// `analyze` ([`super::time_to_endpoint`], [`super::animal_slope`]).
pub fn fill_from_animals(
    animals: &[Animal],
    arms: PanelArms<'_>,
    opt: &AnalysisOptions,
    s: &mut PanelSample,
    control_buf: &mut Vec<usize>,
) {
    s.clear(arms.lines.len());
    let floor = opt.log_floor_mm3;
    for (line, cohort) in arms.lines.iter().enumerate() {
        control_buf.clear();
        control_buf.extend(
            (0..animals.len())
                .filter(|&i| animals[i].cohort == *cohort && animals[i].arm == arms.control),
        );
        let day = opt.analysis_day.unwrap_or_else(|| {
            let refs: Vec<&Animal> = control_buf.iter().map(|&i| &animals[i]).collect();
            default_analysis_day(&refs, opt.on_study_fraction)
        });
        for a in animals.iter().filter(|a| a.cohort == *cohort) {
            let treated = a.arm == arms.treatment;
            if !treated && a.arm != arms.control {
                continue;
            }
            let (time, event) = time_to_endpoint(a, opt.endpoint, opt.burden);
            s.push(
                line,
                treated,
                AnimalOutcome {
                    log_outcome: a
                        .at_analysis_day(day)
                        .map_or(f64::NAN, |v| v.max(floor).ln()),
                    slope: animal_slope(a, floor, day),
                    time,
                    event,
                },
            );
        }
    }
}

/// Result of one pooled test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PanelTestResult {
    /// Treated − control on the test's scale (log hazard ratio for Cox; O − E of the treated
    /// arm for the log-rank).
    pub estimate: f64,
    /// Test statistic (t, z, or χ²(1) for the log-rank).
    pub statistic: f64,
    /// Degrees of freedom of the t reference (line models); `None` otherwise.
    pub df: Option<f64>,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Between-line variance estimate τ̂² (line models).
    pub tau2: Option<f64>,
}

/// `(treated, control)` `(time, event)` pairs of one line.
type StratumBuf = (Vec<(f64, bool)>, Vec<(f64, bool)>);

/// Reusable buffers of [`panel_test`].
#[derive(Debug, Default)]
pub struct PanelScratch {
    x: Vec<f64>,
    y: Vec<f64>,
    g: Vec<usize>,
    remap: Vec<usize>,
    strata: Vec<StratumBuf>,
    cox_x: Vec<f64>,
    events: Vec<bool>,
}

/// Runs the pooled test `t` on `s`; an error says why it could not be computed.
pub fn panel_test(
    t: TestKey,
    s: &PanelSample,
    w: &mut PanelScratch,
) -> Result<PanelTestResult, String> {
    match t {
        TestKey::PanelLme => line_model(s, &s.log_outcome, w),
        TestKey::PanelSlope => line_model(s, &s.slope, w),
        TestKey::PanelLogrank => stratified_logrank(s, w),
        TestKey::PanelCox => stratified_cox(s, w),
        TestKey::PanelAft => line_aft(s, w),
        other => Err(format!("`{}` is not a panel test", other.as_str())),
    }
}

/// y = β₀ + β₁·treated + b_line + ε on the animals with a finite `y`; lines without any such
/// animal are left out (their index compacted) so the containment df counts real lines.
fn line_model(s: &PanelSample, y: &[f64], w: &mut PanelScratch) -> Result<PanelTestResult, String> {
    w.x.clear();
    w.y.clear();
    w.g.clear();
    w.remap.clear();
    w.remap.resize(s.n_lines, usize::MAX);
    let mut lines = 0;
    for (i, &yi) in y.iter().enumerate().take(s.len()) {
        if !yi.is_finite() {
            continue;
        }
        let l = compact_line(&mut w.remap, &mut lines, s.line[i]);
        w.x.push(1.0);
        w.x.push(f64::from(u8::from(s.treated[i])));
        w.y.push(yi);
        w.g.push(l);
    }
    if lines < 2 {
        return Err(format!("{lines} line(s) with data; a line model needs two"));
    }
    let data = LineMixedData::new(&w.x, &w.y, &w.g, lines).map_err(|e| e.to_string())?;
    let fit = data.fit().map_err(|e| e.to_string())?;
    let c = fit.contrast(&[0.0, 1.0]);
    if !c.p_value.is_finite() {
        return Err("the line model gave no finite p-value (no residual variance)".into());
    }
    Ok(PanelTestResult {
        estimate: c.estimate,
        statistic: c.statistic,
        df: Some(c.df),
        p_value: c.p_value,
        tau2: Some(fit.tau2),
    })
}

/// Index of line `l` among the lines with data so far (a new line gets the next index), so
/// that lines without data drop out of the models and their df.
fn compact_line(remap: &mut [usize], seen: &mut usize, l: usize) -> usize {
    if remap[l] == usize::MAX {
        remap[l] = *seen;
        *seen += 1;
    }
    remap[l]
}

fn fill_strata(s: &PanelSample, w: &mut PanelScratch) {
    if w.strata.len() < s.n_lines {
        w.strata.resize_with(s.n_lines, Default::default);
    }
    for (a, b) in &mut w.strata {
        a.clear();
        b.clear();
    }
    for i in 0..s.len() {
        let (treated, control) = &mut w.strata[s.line[i]];
        let v = (s.time[i], s.event[i]);
        if s.treated[i] {
            treated.push(v)
        } else {
            control.push(v)
        }
    }
}

fn stratified_logrank(s: &PanelSample, w: &mut PanelScratch) -> Result<PanelTestResult, String> {
    fill_strata(s, w);
    let pairs: Vec<StratumPair<'_>> = w.strata[..s.n_lines]
        .iter()
        .map(|(a, b)| (a.as_slice(), b.as_slice()))
        .collect();
    let r = logrank_stratified_permutation(&pairs).map_err(|e| e.to_string())?;
    Ok(PanelTestResult {
        estimate: r.observed1 - r.expected1,
        statistic: r.statistic,
        df: None,
        p_value: r.p_value,
        tau2: None,
    })
}

fn stratified_cox(s: &PanelSample, w: &mut PanelScratch) -> Result<PanelTestResult, String> {
    w.cox_x.clear();
    w.cox_x
        .extend(s.treated.iter().map(|&t| f64::from(u8::from(t))));
    let data = CoxData {
        time: &s.time,
        event: &s.event,
        x: &w.cox_x,
        p: 1,
        strata: Some(&s.line),
    };
    let fit = cox_fit(&data, &CoxOptions::default()).map_err(|e| e.to_string())?;
    let c = fit.coefs[0];
    Ok(PanelTestResult {
        estimate: c.estimate,
        statistic: c.z,
        df: None,
        p_value: c.p_value,
        tau2: None,
    })
}

/// The pooled comparison `analyze` tests when the protocol's `[panel]` has its lines as
/// simulated (or measured) cohorts: one `tests.csv` row per pooled test, family `panel`.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelPlan {
    /// Name of the pooled comparison (`hypothesis` column).
    pub name: String,
    /// Treated arm.
    pub treatment: String,
    /// Control arm.
    pub control: String,
    /// Cohorts that are the lines.
    pub lines: Vec<String>,
    /// Pooled tests, the first primary.
    pub tests: Vec<TestKey>,
}

impl PanelPlan {
    /// The plan of a `[panel]` whose lines are cohorts; `None` for an event-time panel (its
    /// lines are drawn by `power`, there are no cohorts to analyze).
    pub fn of(p: &Panel) -> Option<PanelPlan> {
        matches!(p.outcome, PanelOutcome::Simulated).then(|| PanelPlan {
            name: p.name.clone(),
            treatment: p.treatment.clone(),
            control: p.control.clone(),
            lines: p.cohorts.clone(),
            tests: p.tests.clone(),
        })
    }
}

/// Family name of the pooled rows in `tests.csv` (its method: `[analysis.families] panel`,
/// else the plan's default).
pub const PANEL_FAMILY: &str = "panel";

/// Appends one `tests.csv` row per pooled test of `plan` to `res` (lines absent from the data
/// are named in a warning and left out; a test that cannot be computed gets a NaN row and a
/// warning), then adjusts the rows as one family by `method`.
pub fn panel_rows(
    animals: &[Animal],
    plan: &PanelPlan,
    opt: &AnalysisOptions,
    method: Adjustment,
    res: &mut AnalysisResult,
) {
    let (present, missing): (Vec<&str>, Vec<&str>) =
        plan.lines.iter().map(String::as_str).partition(|l| {
            animals
                .iter()
                .any(|a| a.cohort == *l && a.arm == plan.control)
        });
    if !missing.is_empty() {
        res.warnings.push(format!(
            "panel `{}`: line(s) {} have no `{}` animals in the data and are left out of the pooled tests",
            plan.name,
            missing.join(", "),
            plan.control
        ));
    }
    let arms = PanelArms {
        lines: &present,
        treatment: &plan.treatment,
        control: &plan.control,
    };
    let (mut s, mut buf, mut w) = (PanelSample::default(), Vec::new(), PanelScratch::default());
    fill_from_animals(animals, arms, opt, &mut s, &mut buf);
    let start = res.tests.len();
    for (i, &t) in plan.tests.iter().enumerate() {
        let outcome = panel_test(t, &s, &mut w);
        if let Err(why) = &outcome {
            res.warnings.push(format!(
                "panel `{}`: {} could not be computed ({why}); its row in tests.csv is empty",
                plan.name,
                t.as_str()
            ));
        }
        res.tests.push(pooled_row(
            plan,
            t,
            &s,
            outcome.ok(),
            (i, present.len()),
            opt,
        ));
    }
    let rows = &mut res.tests[start..];
    let p: Vec<f64> = rows.iter().map(|r| r.p_value).collect();
    for (r, a) in rows.iter_mut().zip(super::stats::adjust(&p, method)) {
        r.p_adjusted = a;
        r.adjustment = method.as_str();
    }
}

/// The `tests.csv` row of pooled test `t` (`index` among the panel's tests, `lines` entered).
fn pooled_row(
    plan: &PanelPlan,
    t: TestKey,
    s: &PanelSample,
    r: Option<PanelTestResult>,
    (index, lines): (usize, usize),
    opt: &AnalysisOptions,
) -> TestRow {
    let used: &dyn Fn(usize) -> bool = match t {
        TestKey::PanelLme => &|i| s.log_outcome[i].is_finite(),
        TestKey::PanelSlope => &|i| s.slope[i].is_finite(),
        _ => &|i| s.time[i].is_finite(),
    };
    let count = |treated: bool| {
        (0..s.len())
            .filter(|&i| s.treated[i] == treated && used(i))
            .count()
    };
    let endpoint = match t {
        TestKey::PanelLme => "ln(volume) at each line's analysis day".to_string(),
        TestKey::PanelSlope => "growth rate (ln volume per day) to each line's analysis day".into(),
        _ => format!("time to {}", opt.describe_endpoint()),
    };
    let r = r.unwrap_or(PanelTestResult {
        estimate: f64::NAN,
        statistic: f64::NAN,
        df: None,
        p_value: f64::NAN,
        tau2: None,
    });
    // Wald-type tests: SE = estimate / statistic; the log-rank χ² has none.
    let se = match t {
        TestKey::PanelLogrank => f64::NAN,
        _ => r.estimate / r.statistic,
    };
    TestRow {
        cohort: format!("panel ({lines} lines)"),
        hypothesis: plan.name.clone(),
        kind: crate::protocol::HypothesisKind::Panel.as_str().into(),
        role: if index == 0 {
            Role::Primary
        } else {
            Role::Secondary
        },
        alternative: crate::protocol::Alternative::TwoSided.as_str(),
        family: PANEL_FAMILY.into(),
        comparison: format!(
            "{} vs {} across {lines} lines",
            plan.treatment, plan.control
        ),
        arm: plan.treatment.clone(),
        endpoint,
        key: t,
        test: t.info().label.into(),
        statistic: r.statistic,
        p_value: r.p_value,
        p_adjusted: f64::NAN,
        adjustment: "",
        df: r.df.unwrap_or(f64::NAN),
        estimate: r.estimate,
        se,
        n_treated: count(true),
        n_control: count(false),
    }
}

/// log T = β₀ + β₁·treated + Σ γ_l·[line = l] + σW with right censoring (lines without a
/// finite time left out, the first remaining line the reference).
fn line_aft(s: &PanelSample, w: &mut PanelScratch) -> Result<PanelTestResult, String> {
    w.remap.clear();
    w.remap.resize(s.n_lines, usize::MAX);
    w.g.clear();
    let mut lines = 0;
    for i in (0..s.len()).filter(|&i| s.time[i].is_finite() && s.time[i] > 0.0) {
        compact_line(&mut w.remap, &mut lines, s.line[i]);
        w.g.push(i);
    }
    if lines == 0 {
        return Err("no animal with a time to event".into());
    }
    let p = lines; // treated + (lines − 1) line indicators
    w.x.clear();
    w.y.clear();
    w.events.clear();
    for &i in &w.g {
        w.x.push(f64::from(u8::from(s.treated[i])));
        let l = w.remap[s.line[i]];
        w.x.extend((1..lines).map(|k| f64::from(u8::from(k == l))));
        w.y.push(s.time[i]);
        w.events.push(s.event[i]);
    }
    let data = AftData {
        time: &w.y,
        event: &w.events,
        x: &w.x,
        p,
    };
    let fit = aft_fit(&data, s.aft).map_err(|e| e.to_string())?;
    let c = fit.coefs[1];
    // Small-sample reference: with d events and k = p + 1 coefficients, t = z·√((d − k)/d) on
    // d − k df. Uncensored log-normal this is exactly the OLS t test (ML σ̂² = RSS/n, so
    // z = t·√(n/(n − k))); with censoring or Weibull errors events stand in for n (assumed; the
    // Wald z rejected 2–3× α with 3 lines × 2 mice).
    let d = w.events.iter().filter(|&&e| e).count() as f64;
    let k = (p + 1) as f64;
    if d - k < 1.0 {
        return Err(format!(
            "{d} events for {k} coefficients (treatment, {lines} lines): no residual df"
        ));
    }
    let t = c.z * ((d - k) / d).sqrt();
    Ok(PanelTestResult {
        estimate: c.estimate,
        statistic: t,
        df: Some(d - k),
        p_value: crate::numeric::dist::t_two_sided(t, d - k),
        tau2: None,
    })
}

#[cfg(test)]
mod tests;
