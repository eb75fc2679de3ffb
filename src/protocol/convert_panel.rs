//! Validation and conversion of `[panel]`: the lines (cohorts) and their two arms, the pooled
//! tests from the registry, the default lines × mice grid and the event-time model.

use super::convert::{Ctx, NumRule as R, undefined};
use super::convert_analysis::test_list;
use super::diag::KeyPath;
use super::domain::*;
use super::schema::{FilePanel, FilePanelEventTime, FileSourced};
use crate::model::event_time::EventTimeModel;

/// Spellings of the event-time distribution (also the `enum` of the JSON Schema).
pub(crate) const DISTRIBUTIONS: &[(&str, &str)] = &[
    ("log-normal", "log-normal"),
    ("weibull", "weibull"),
    ("exponential", "exponential"),
];

/// Most lines or mice per line one grid value may ask for (a panel of 200 lines × 200 mice
/// is already far beyond any study; the bound keeps every replicate's buffers small).
pub const MAX_PANEL_GRID: u32 = 200;

/// Converts `[panel]` once the cohorts are known.
pub(crate) fn panel(p: &FilePanel, cx: &mut Ctx<'_>, cohorts: &[Cohort]) -> Option<Panel> {
    let at = KeyPath::root().k("panel");
    let event = p
        .event_time
        .as_ref()
        .and_then(|e| event_time(e, cx, &at.k("event-time")));
    let names = panel_cohorts(p, cx, &at, cohorts);
    for c in cohorts.iter().filter(|c| names.contains(&c.name)) {
        for (arm, key) in [(&p.treatment, "treatment"), (&p.control, "control")] {
            if !c.arms.iter().any(|a| &a.name == arm) {
                let defined: Vec<&str> = c.arms.iter().map(|a| a.name.as_str()).collect();
                undefined(
                    cx,
                    &at.k(key),
                    &format!("arm of cohort `{}`", c.name),
                    arm,
                    &defined,
                );
            }
        }
    }
    if p.treatment == p.control {
        cx.error(
            &at.k("control"),
            "the control must differ from the treatment",
        );
    }
    let tests = panel_tests(p, cx, &at, p.event_time.is_some());
    let simulated_lines = names.len() as u32;
    let default_lines = if p.event_time.is_some() {
        vec![3, 5, 10]
    } else {
        vec![simulated_lines]
    };
    let lines = grid(cx, &p.lines, &at.k("lines"), 2, default_lines);
    if p.event_time.is_none() {
        for (i, &l) in lines.iter().enumerate() {
            if l > simulated_lines && !p.lines.is_empty() {
                cx.error(
                    &at.k("lines").i(i),
                    format!(
                        "{l} lines asked but the panel simulates {simulated_lines} cohorts; add cohorts or use [panel.event-time] to draw lines"
                    ),
                );
            }
        }
    }
    let mice = grid(cx, &p.mice, &at.k("mice"), 1, vec![2, 3, 4]);
    let line_cost = match &p.line_cost {
        Some(c) => cx.src(c, &at.k("line-cost"), R::NonNeg),
        None => Sourced {
            value: 0.0,
            source: "default: a line costs nothing beyond its mice (minimise total animals)".into(),
        },
    };
    let outcome = match (&p.event_time, event) {
        (None, _) => PanelOutcome::Simulated,
        (Some(_), Some(e)) => PanelOutcome::EventTime(e),
        (Some(_), None) => return None,
    };
    if tests.is_empty() || names.is_empty() {
        return None;
    }
    Some(Panel {
        name: p
            .name
            .clone()
            .unwrap_or_else(|| format!("{} vs {} across the panel", p.treatment, p.control)),
        treatment: p.treatment.clone(),
        control: p.control.clone(),
        cohorts: names,
        tests,
        lines,
        mice,
        line_cost,
        outcome,
    })
}

/// The panel's cohorts: as listed (each defined, once), else every cohort. An event-time
/// panel has exactly one (the template of a line); a simulated one at least two.
fn panel_cohorts(p: &FilePanel, cx: &mut Ctx<'_>, at: &KeyPath, cohorts: &[Cohort]) -> Vec<String> {
    let defined: Vec<&str> = cohorts.iter().map(|c| c.name.as_str()).collect();
    let mut names: Vec<String> = Vec::new();
    for (i, n) in p.cohorts.iter().enumerate() {
        if !defined.contains(&n.as_str()) {
            undefined(cx, &at.k("cohorts").i(i), "cohort", n, &defined);
        } else if names.contains(n) {
            cx.error(
                &at.k("cohorts").i(i),
                format!("cohort `{n}` is listed twice"),
            );
        } else {
            names.push(n.clone());
        }
    }
    if p.cohorts.is_empty() {
        names = defined.iter().map(|s| s.to_string()).collect();
    }
    let listed = if p.cohorts.is_empty() {
        at.k("treatment")
    } else {
        at.k("cohorts")
    };
    if p.event_time.is_some() && names.len() != 1 {
        cx.error(
            &listed,
            format!(
                "an event-time panel draws its lines from one template cohort; {} cohorts given — set `cohorts = [\"…\"]` to one",
                names.len()
            ),
        );
    } else if p.event_time.is_none() && names.len() < 2 {
        cx.error(
            &listed,
            "a simulated panel needs at least two cohorts (lines); add cohorts or use [panel.event-time]",
        );
    }
    names
}

/// The pooled tests: panel tests of the registry only; `panel-slope` needs growth curves.
fn panel_tests(p: &FilePanel, cx: &mut Ctx<'_>, at: &KeyPath, event_time: bool) -> Vec<TestKey> {
    if p.tests.is_empty() {
        return vec![TestKey::PanelLme];
    }
    let tests = test_list(cx, &p.tests, &at.k("tests"));
    for (i, t) in tests.iter().enumerate() {
        if !t.is_panel() {
            let panel: Vec<&str> = TestKey::ALL
                .iter()
                .filter(|k| k.is_panel())
                .map(|k| k.as_str())
                .collect();
            cx.error(
                &at.k("tests").i(i),
                format!(
                    "`{}` is not a pooled panel test; use one of {}",
                    t.as_str(),
                    panel.join(", ")
                ),
            );
        } else if event_time && *t == TestKey::PanelSlope {
            cx.error(
                &at.k("tests").i(i),
                "`panel-slope` needs growth curves; an event-time panel has event times only",
            );
        }
    }
    tests
}

/// A grid of counts (each ≥ `min`, ≤ [`MAX_PANEL_GRID`], no repeats), or the default.
fn grid(cx: &mut Ctx<'_>, v: &[i64], at: &KeyPath, min: i64, default: Vec<u32>) -> Vec<u32> {
    if v.is_empty() {
        return default;
    }
    let mut out: Vec<u32> = Vec::new();
    for (i, &x) in v.iter().enumerate() {
        let n = cx.count_max(x, &at.i(i), min, i64::from(MAX_PANEL_GRID));
        if out.contains(&n) {
            cx.error(&at.i(i), format!("{n} is listed twice"));
        } else {
            out.push(n);
        }
    }
    out
}

/// `[panel.event-time]`.
fn event_time(e: &FilePanelEventTime, cx: &mut Ctx<'_>, at: &KeyPath) -> Option<EventTimePanel> {
    let dist = cx.pick(
        &e.distribution,
        &at.k("distribution"),
        "distribution",
        DISTRIBUTIONS,
    );
    let needs = |cx: &mut Ctx<'_>, v: &Option<FileSourced>, key: &str, used: bool| match v {
        Some(s) if used => Some(cx.src(s, &at.k(key), R::Pos)),
        Some(_) => {
            cx.error_key(
                &at.k(key),
                format!(
                    "`{key}` does not apply to distribution = \"{}\"",
                    e.distribution
                ),
            );
            None
        }
        None if used => {
            cx.error(
                &at.k("distribution"),
                format!("distribution = \"{}\" needs `{key}`", e.distribution),
            );
            None
        }
        None => None,
    };
    let log_sd = needs(cx, &e.log_sd, "log-sd", dist == Some("log-normal"));
    let shape = needs(cx, &e.shape, "shape", dist == Some("weibull"));
    let control = cx.src(&e.control_median_days, &at.k("control-median-days"), R::Pos);
    let treated = cx.src(
        &e.treatment_median_days,
        &at.k("treatment-median-days"),
        R::Pos,
    );
    let tau2 = cx.src(&e.line_variance, &at.k("line-variance"), R::NonNeg);
    let by_line = match &e.treatment_by_line_sd {
        Some(s) => cx.src(s, &at.k("treatment-by-line-sd"), R::NonNeg),
        None => Sourced {
            value: 0.0,
            source: "default: a common treatment effect in every line".into(),
        },
    };
    if let Some(f) = e.follow_up_days {
        cx.n(f, &at.k("follow-up-days"), R::Pos);
    }
    let (model, spread) = match dist? {
        "log-normal" => {
            let s = log_sd?;
            (EventTimeModel::LogNormal { log_sd: s.value }, Some(s))
        }
        "weibull" => {
            let s = shape?;
            (EventTimeModel::Weibull { shape: s.value }, Some(s))
        }
        _ => (EventTimeModel::Exponential, None),
    };
    Some(EventTimePanel {
        model,
        spread,
        control_median_days: control,
        treatment_median_days: treated,
        line_variance: tau2,
        treatment_by_line_sd: by_line,
        follow_up_days: e.follow_up_days,
    })
}
