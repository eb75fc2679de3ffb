//! From panel rejection counts to what a scientist reads: rows with Wilson CIs and the closed
//! form, the least-cost recommendation, warnings, the justification paragraph; and the files
//! `power.csv` (contract columns + `n_lines,mice_per_line`) and `plots/power.{svg,png}`.

use super::engine::{PrecisionOutcome, Tally};
use super::panel::{
    PanelPowerResult, PanelRecommendation, PanelRow, PanelSettings, analytic_lme_power,
};
use super::wilson::wilson95;
use crate::model::event_time::EventTimeModel;
use crate::output::{OutputError, fmt_f, write_csv_rows};
use crate::plot::{Band, Legend, PlotError, RefLine, Series, XyChart, save};
use crate::protocol::{Panel, PanelOutcome, Protocol, TestKey};
use std::path::Path;

/// Builds the result of a finished run.
pub(crate) fn assemble(
    protocol: &Protocol,
    panel: &Panel,
    s: &PanelSettings,
    tally: &Tally,
    precision: Option<PrecisionOutcome>,
) -> PanelPowerResult {
    let cells: Vec<(u32, u32)> = s
        .lines
        .iter()
        .flat_map(|&l| s.mice.iter().map(move |&m| (l, m)))
        .collect();
    let mut rows = Vec::new();
    for (slot, &(l, m)) in cells.iter().enumerate() {
        for (u, &t) in panel.tests.iter().enumerate() {
            let i = tally.idx(slot, u);
            let (k, n) = (tally.rejections[i], tally.reps[slot]);
            let (lo, hi) = wilson95(k, n);
            rows.push(PanelRow {
                n_lines: l,
                mice_per_line: m,
                n_per_arm: l * m,
                total_animals: 2 * l * m,
                comparison: panel.name.clone(),
                endpoint: t.as_str().to_string(),
                power: if n > 0 { k as f64 / n as f64 } else { f64::NAN },
                ci_low: lo,
                ci_high: hi,
                reps: n,
                rejections: k,
                not_computable: tally.not_computable[i],
                failures: tally.failures[slot],
                analytic_power: if t == TestKey::PanelLme {
                    analytic_lme_power(panel, l, m, s.alpha)
                } else {
                    None
                },
            });
        }
    }
    let line_cost = match s.line_cost {
        Some(c) => (c, "--line-cost".to_string()),
        None => (panel.line_cost.value, panel.line_cost.source.clone()),
    };
    let primary = panel.tests[0].as_str();
    let recommendation = recommend(&rows, primary, s.target, line_cost.0);
    let mut r = PanelPowerResult {
        protocol_id: protocol.id.clone(),
        comparison: panel.name.clone(),
        model: model_text(panel),
        tests: panel.tests.iter().map(|t| t.as_str().to_string()).collect(),
        lines: s.lines.clone(),
        mice: s.mice.clone(),
        reps: precision.as_ref().map_or(s.reps, |p| p.reps),
        precision,
        alpha: s.alpha,
        target: s.target,
        seed: s.seed,
        line_cost,
        rows,
        recommendation,
        warnings: warnings(panel),
        justification: String::new(),
    };
    r.warnings.extend(row_warnings(&r.rows));
    r.justification = justification(&r, panel);
    r
}

/// The cheapest cell (animals + line cost × lines) whose primary-test power reaches the
/// target; ties go to fewer lines, then higher power.
fn recommend(
    rows: &[PanelRow],
    primary: &str,
    target: f64,
    line_cost: f64,
) -> Option<PanelRecommendation> {
    rows.iter()
        .filter(|r| r.endpoint == primary && r.power >= target)
        .map(|r| {
            let cost = f64::from(r.total_animals) + line_cost * f64::from(r.n_lines);
            (cost, r)
        })
        .min_by(|(ca, a), (cb, b)| {
            ca.total_cmp(cb)
                .then(a.n_lines.cmp(&b.n_lines))
                .then(b.power.total_cmp(&a.power))
        })
        .map(|(cost, r)| PanelRecommendation {
            n_lines: r.n_lines,
            mice_per_line: r.mice_per_line,
            total_animals: r.total_animals,
            cost,
            power: r.power,
            ci: (r.ci_low, r.ci_high),
        })
}

/// The data model in words, with every number's source.
fn model_text(panel: &Panel) -> String {
    match &panel.outcome {
        PanelOutcome::Simulated => format!(
            "each line is one of the protocol's cohorts ({}) run through the whole-study simulator at m mice per arm; with fewer lines than cohorts the lines are drawn without replacement per simulated panel",
            panel.cohorts.join(", ")
        ),
        PanelOutcome::EventTime(e) => {
            let dist = match e.model {
                EventTimeModel::LogNormal { .. } => "log-normal",
                EventTimeModel::Weibull { .. } => "Weibull",
                EventTimeModel::Exponential => "exponential",
            };
            let spread = match (&e.spread, e.model) {
                (Some(s), EventTimeModel::LogNormal { .. }) => {
                    format!(", σ = {} ({})", s.value, s.source)
                }
                (Some(s), _) => format!(", shape {} ({})", s.value, s.source),
                (None, _) => String::new(),
            };
            let by_line = if e.treatment_by_line_sd.value > 0.0 {
                format!(
                    "; treatment effect varies by line with SD {} on log time ({})",
                    e.treatment_by_line_sd.value, e.treatment_by_line_sd.source
                )
            } else {
                "; a common treatment effect".to_string()
            };
            let censor = match e.follow_up_days {
                Some(f) => format!("; censored at day {f}"),
                None => "; every event observed (no censoring)".to_string(),
            };
            format!(
                "{dist} event times: control median {} d ({}), treated median {} d ({}), ratio {:.3}{spread}; between-line variance τ² = {} ({}){by_line}{censor}",
                e.control_median_days.value,
                e.control_median_days.source,
                e.treatment_median_days.value,
                e.treatment_median_days.source,
                e.treatment_median_days.value / e.control_median_days.value,
                e.line_variance.value,
                e.line_variance.source
            )
        }
    }
}

fn warnings(panel: &Panel) -> Vec<String> {
    let mut w = Vec::new();
    if let Some(e) = panel.event_time()
        && let Some(f) = e.follow_up_days
        && panel.tests.contains(&TestKey::PanelLme)
    {
        w.push(format!(
            "panel-lme fits the observed events only (as PDXpower's PowANOVA); with censoring at day {f} it is biased toward no effect — size on panel-logrank, panel-cox or panel-aft, or follow up until every event is observed"
        ));
    }
    if let Some(e) = panel.event_time()
        && e.treatment_by_line_sd.value > 0.0
        && panel.tests.contains(&TestKey::PanelLme)
    {
        w.push("the treatment effect varies by line but panel-lme fits a common effect (random intercept only): its type I error can exceed α; the closed form is not given".to_string());
    }
    w
}

/// Why a pooled test may not be computable in a simulated panel.
fn not_computable_reason(test: &str) -> &'static str {
    match TestKey::parse(test) {
        Some(TestKey::PanelLme) => {
            "fewer than two lines with a reading at the analysis day, or no residual variance"
        }
        Some(TestKey::PanelSlope) => {
            "fewer than two lines with an estimable growth rate, or no residual variance"
        }
        Some(TestKey::PanelLogrank) => {
            "no event, or no line with both arms at risk at an event time"
        }
        Some(TestKey::PanelAft) => {
            "fewer events than coefficients (treatment + one per line), or a non-converging fit"
        }
        _ => "no event, or a monotone Cox likelihood when a line's arms separate",
    }
}

/// One warning per test that could not always be computed, listing its cells.
fn row_warnings(rows: &[PanelRow]) -> Vec<String> {
    let mut w = Vec::new();
    let mut tests: Vec<&str> = Vec::new();
    for r in rows.iter().filter(|r| r.not_computable > 0) {
        if !tests.contains(&r.endpoint.as_str()) {
            tests.push(&r.endpoint);
        }
    }
    for test in tests {
        let cells: Vec<String> = rows
            .iter()
            .filter(|r| r.endpoint == test && r.not_computable > 0)
            .map(|r| {
                format!(
                    "{} of {} at {} × {}",
                    r.not_computable, r.reps, r.n_lines, r.mice_per_line
                )
            })
            .collect();
        w.push(format!(
            "{test} could not be computed in some simulated panels (lines × mice per line: {}; {}); they count as not significant",
            cells.join(", "),
            not_computable_reason(test)
        ));
    }
    let primary = rows.first().map(|r| r.endpoint.as_str());
    for r in rows
        .iter()
        .filter(|r| r.failures > 0 && Some(r.endpoint.as_str()) == primary)
    {
        w.push(format!(
            "{} of {} simulated studies failed at {} lines × {} mice per line; they count as not significant",
            r.failures, r.reps, r.n_lines, r.mice_per_line
        ));
    }
    w
}

fn justification(r: &PanelPowerResult, panel: &Panel) -> String {
    let primary = panel.tests[0];
    let grid = format!(
        "{} cells: {} lines × {} mice per arm per line",
        r.lines.len() * r.mice.len(),
        join(&r.lines),
        join(&r.mice)
    );
    let sizing = match &r.recommendation {
        Some(rec) => format!(
            "A panel of {} lines × {} mice per arm per line ({} animals in the two arms) gives a simulated power of {:.2} (95% CI {:.2}–{:.2}); it is the least-cost design among the {grid} reaching the target power {}, with cost = animals + {} mice per line ({}).",
            rec.n_lines,
            rec.mice_per_line,
            rec.total_animals,
            rec.power,
            rec.ci.0,
            rec.ci.1,
            r.target,
            r.line_cost.0,
            r.line_cost.1
        ),
        None => format!(
            "No design among the {grid} reaches the target power {}; add lines (they shrink the between-line part of the error) or mice.",
            r.target
        ),
    };
    format!(
        "Panel sample size ({}): the pooled effect was tested by {} ({}) at two-sided α = {}, {} simulated panels per cell (seed {}). {sizing} Data model: {}.",
        r.comparison,
        primary.test_description(),
        primary.as_str(),
        r.alpha,
        r.reps,
        r.seed,
        r.model
    )
}

fn join(v: &[u32]) -> String {
    v.iter().map(u32::to_string).collect::<Vec<_>>().join("/")
}

/// Writes the panel `power.csv`: the contract columns, then the engine, `n_lines`,
/// `mice_per_line`, the animals, counts and the closed form.
pub fn write_panel_csv(r: &PanelPowerResult, path: &Path) -> Result<(), OutputError> {
    let header = [
        "n_per_arm",
        "comparison",
        "endpoint",
        "power",
        "ci_low",
        "ci_high",
        "reps",
        "engine",
        "n_lines",
        "mice_per_line",
        "total_animals",
        "rejections",
        "not_computable",
        "failures",
        "analytic_power",
    ];
    let engine = engine_key(r);
    let rows: Vec<Vec<String>> = r
        .rows
        .iter()
        .map(|x| {
            vec![
                x.n_per_arm.to_string(),
                x.comparison.clone(),
                x.endpoint.clone(),
                fmt_f(x.power, 6),
                fmt_f(x.ci_low, 6),
                fmt_f(x.ci_high, 6),
                x.reps.to_string(),
                engine.to_string(),
                x.n_lines.to_string(),
                x.mice_per_line.to_string(),
                x.total_animals.to_string(),
                x.rejections.to_string(),
                x.not_computable.to_string(),
                x.failures.to_string(),
                x.analytic_power.map(|a| fmt_f(a, 6)).unwrap_or_default(),
            ]
        })
        .collect();
    write_csv_rows(path, &header, &rows)
}

/// `panel-event-time` or `panel-full` (the whole-study simulator).
pub fn engine_key(r: &PanelPowerResult) -> &'static str {
    if r.model.contains("event times") {
        "panel-event-time"
    } else {
        "panel-full"
    }
}

/// Power of the primary test vs mice per line, one curve (with its Wilson band) per number of
/// lines; the target as a horizontal line.
pub fn panel_chart(r: &PanelPowerResult) -> XyChart {
    let primary = &r.tests[0];
    let mut chart = XyChart::new(
        &format!("Panel power — {}", r.comparison),
        "Mice per arm per line",
        &format!("Power of {primary} (α = {})", r.alpha),
    );
    chart.y_range = Some((0.0, 1.0));
    chart.integer_x = true;
    // Legend beside the data, so neither the curves nor the target label are covered.
    chart.legend = Legend::Outside;
    chart.subtitle = Some("One curve per number of lines; bands: Wilson 95% CI".to_string());
    chart.note = Some(format!(
        "{} simulated panels per cell · seed {}",
        r.reps, r.seed
    ));
    for (i, &l) in r.lines.iter().enumerate() {
        let pts: Vec<&PanelRow> = r
            .rows
            .iter()
            .filter(|x| x.n_lines == l && &x.endpoint == primary)
            .collect();
        chart.bands.push(Band {
            points: pts
                .iter()
                .map(|p| (f64::from(p.mice_per_line), p.ci_low, p.ci_high))
                .collect(),
            color: i + 1,
            label: None,
        });
        chart.series.push(
            Series::line(
                &format!("{l} lines"),
                pts.iter()
                    .map(|p| (f64::from(p.mice_per_line), p.power))
                    .collect(),
            )
            .with_color(i + 1),
        );
    }
    chart.ref_lines.push(RefLine {
        at: r.target,
        horizontal: true,
        label: format!("target {}", r.target),
    });
    chart
}

/// Writes `power.csv` and `plots/power.{svg,png}`; returns the relative paths.
pub fn write_panel_outputs(r: &PanelPowerResult, dir: &Path) -> Result<Vec<String>, PlotError> {
    write_panel_csv(r, &dir.join("power.csv"))?;
    save_power_figure(&panel_chart(r), dir)
}

/// Saves a power chart as `plots/power.{svg,png}` under `dir` (one size for every power
/// figure); returns `power.csv` and the figures' paths relative to `dir`.
pub(crate) fn save_power_figure<F: crate::plot::Figure>(
    chart: &F,
    dir: &Path,
) -> Result<Vec<String>, PlotError> {
    let mut out = vec!["power.csv".to_string()];
    for f in save(chart, &dir.join("plots").join("power"), (1000, 650))? {
        if let Ok(rel) = f.strip_prefix(dir) {
            out.push(rel.display().to_string());
        }
    }
    Ok(out)
}

/// The text `xenoplan power --lines … --mice …` prints.
pub fn panel_text(r: &PanelPowerResult) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "panel power: {} — {} ({} simulated panels per cell, α = {}, target {}, seed {})",
        r.protocol_id, r.comparison, r.reps, r.alpha, r.target, r.seed
    );
    let _ = writeln!(o, "model: {}", r.model);
    let _ = writeln!(
        o,
        "\n{:>5} {:>5} {:>7}  {:<14} {:>7}  {:<17} {:>9}",
        "lines", "mice", "animals", "test", "power", "95% CI (Wilson)", "analytic"
    );
    for x in &r.rows {
        let _ = writeln!(
            o,
            "{:>5} {:>5} {:>7}  {:<14} {:>7.4}  [{:.4}, {:.4}] {:>9}",
            x.n_lines,
            x.mice_per_line,
            x.total_animals,
            x.endpoint,
            x.power,
            x.ci_low,
            x.ci_high,
            x.analytic_power
                .map(|a| format!("{a:.4}"))
                .unwrap_or_default()
        );
    }
    if r.rows.iter().any(|x| x.analytic_power.is_some()) {
        let _ = writeln!(
            o,
            "analytic: noncentral t of the within-line effect, Var = 2σ²/(lines·mice), df = 2·lines·mice − lines − 1."
        );
    }
    o.push('\n');
    o.push_str(&summary_text(r));
    let _ = writeln!(o, "\n{}", r.justification);
    o
}

/// The recommendation and warnings (the report shows them beside the figure).
pub fn summary_text(r: &PanelPowerResult) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    for w in &r.warnings {
        let _ = writeln!(o, "warning: {w}");
    }
    match &r.recommendation {
        Some(rec) => {
            let _ = writeln!(
                o,
                "Recommended panel: {} lines × {} mice per arm per line = {} animals (power {:.3} [{:.3}, {:.3}], cost {})",
                rec.n_lines,
                rec.mice_per_line,
                rec.total_animals,
                rec.power,
                rec.ci.0,
                rec.ci.1,
                rec.cost
            );
        }
        None => {
            let _ = writeln!(
                o,
                "Recommended panel: target {} not reached on the grid",
                r.target
            );
        }
    }
    o
}
