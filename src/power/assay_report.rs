//! From an in vitro sizing result ([`super::assay`]) to what a scientist reads: `power.csv`
//! (the contract columns, then the in vitro counts), `plots/power.{svg,png}`, the printed
//! table, the recommendation and the justification paragraph.

use super::assay::{AssayPowerResult, AssayPowerRow};
use crate::invitro::figures::fmt_num;
use crate::output::{OutputError, fmt_f, write_csv_rows};
use crate::plot::{Band, Legend, PlotError, RefLine, Series, XyChart};
use std::fmt::Write;
use std::path::Path;

/// Engine key of `power.csv` and `manifest.json`.
pub const ENGINE_KEY: &str = "assay-mc";

/// Writes `power.csv`: `n_per_arm` (= replicate wells per condition), `comparison`,
/// `endpoint` (the test), `power`, `ci_low`, `ci_high`, `reps`, `engine`, then the counts of
/// significant, failed and out-of-range experiments, wells per line, plates per experiment,
/// α and the effect sized, then (appended, so the columns before keep their places) the
/// independent experiments per line and the untestable experiments.
pub fn write_assay_csv(r: &AssayPowerResult, path: &Path) -> Result<(), OutputError> {
    let header = [
        "n_per_arm",
        "comparison",
        "endpoint",
        "power",
        "ci_low",
        "ci_high",
        "reps",
        "engine",
        "wells_per_condition",
        "rejections",
        "fit_failed",
        "outside_range",
        "wells_per_line",
        "plates",
        "line",
        "fold_shift",
        "max_inhibition_diff",
        "alpha",
        "experiments",
        "failed_experiments",
    ];
    let alt = r.alternative;
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
                ENGINE_KEY.to_string(),
                x.n_per_arm.to_string(),
                x.rejections.to_string(),
                x.fit_failed.to_string(),
                x.outside_range.to_string(),
                x.wells_per_line.to_string(),
                x.plates.to_string(),
                x.line.clone(),
                crate::output::fmt_sig(alt.fold_shift, 6),
                alt.max_inhibition_diff
                    .map(|d| crate::output::fmt_sig(d, 6))
                    .unwrap_or_default(),
                crate::output::fmt_sig(r.alpha, 6),
                x.experiments.to_string(),
                x.failed_experiments.to_string(),
            ]
        })
        .collect();
    write_csv_rows(path, &header, &rows)
}

/// Power vs replicate wells per condition, one curve (with its Wilson band) per comparison
/// and test; the target as a horizontal line.
pub fn assay_chart(r: &AssayPowerResult) -> XyChart {
    let mut chart = XyChart::new(
        &format!("In vitro power — {}", r.protocol_id),
        "Replicate wells per condition",
        &format!("Power (two-sided α = {})", r.alpha),
    );
    chart.y_range = Some((0.0, 1.0));
    chart.integer_x = true;
    chart.legend = Legend::Outside;
    chart.subtitle = Some(if welch(r) {
        "Welch t test on the per-experiment 4PL fits of k independent experiments; bands: Wilson 95% CI"
            .to_string()
    } else {
        "Wald test on the two 4PL fits of each simulated experiment; bands: Wilson 95% CI"
            .to_string()
    });
    chart.note = Some(format!(
        "{} simulated experiments per n · seed {}",
        r.reps, r.seed
    ));
    let mut keys: Vec<(&str, &str, u32)> = Vec::new();
    for x in &r.rows {
        if !keys.contains(&(x.comparison.as_str(), x.endpoint.as_str(), x.experiments)) {
            keys.push((&x.comparison, &x.endpoint, x.experiments));
        }
    }
    for (i, (c, e, k)) in keys.into_iter().enumerate() {
        let pts: Vec<&AssayPowerRow> = r
            .rows
            .iter()
            .filter(|x| x.comparison == c && x.endpoint == e && x.experiments == k)
            .collect();
        let label = if k > 1 {
            format!("{c} ({e}, k = {k})")
        } else {
            format!("{c} ({e})")
        };
        chart.bands.push(Band {
            points: pts
                .iter()
                .map(|p| (f64::from(p.n_per_arm), p.ci_low, p.ci_high))
                .collect(),
            color: i + 1,
            label: None,
        });
        chart.series.push(
            Series::line(
                &label,
                pts.iter()
                    .map(|p| (f64::from(p.n_per_arm), p.power))
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
pub fn write_assay_outputs(r: &AssayPowerResult, dir: &Path) -> Result<Vec<String>, PlotError> {
    write_assay_csv(r, &dir.join("power.csv"))?;
    super::panel_report::save_power_figure(&assay_chart(r), dir)
}

/// Whether independent experiments were sized (Welch t test over experiments).
fn welch(r: &AssayPowerResult) -> bool {
    r.experiments.iter().any(|&k| k > 1)
}

/// The effect sized, in words.
fn effect_text(r: &AssayPowerResult) -> String {
    let mut e = format!(
        "an IC50 fold shift of {}x",
        fmt_num(r.alternative.fold_shift)
    );
    if let Some(d) = r.alternative.max_inhibition_diff {
        let _ = write!(
            e,
            " and a maximal inhibition lower by {} (fraction of growth)",
            fmt_num(d)
        );
    }
    e
}

/// The table, warnings, recommendations and justification (`xenoplan power` on an assay).
pub fn assay_text(r: &AssayPowerResult) -> String {
    let mut o = String::new();
    let unit = if welch(r) {
        "simulated studies per n, k and line"
    } else {
        "simulated experiments per n and line"
    };
    let _ = writeln!(
        o,
        "assay power: {} — {} {unit}, α = {}, target {} ({}), seed {}",
        r.protocol_id, r.reps, r.alpha, r.target, r.alpha_source, r.seed
    );
    let _ = writeln!(o, "effect: {}", effect_text(r));
    let w = r
        .rows
        .iter()
        .map(|x| x.comparison.chars().count())
        .max()
        .unwrap_or(10)
        .max(10);
    // One table; studies of several experiments add a leading k column.
    let k = welch(r);
    let (k_head, tw) = if k { ("  k ", 20) } else { ("", 19) };
    let _ = writeln!(
        o,
        "\n{k_head}{:>3}  {:<w$} {:<tw$} {:>7}  {:<17} {:>6} {:>7}",
        "n", "comparison", "test", "power", "95% CI (Wilson)", "failed", "outside"
    );
    for x in &r.rows {
        let k_cell = if k {
            format!("{:>3} ", x.experiments)
        } else {
            String::new()
        };
        let _ = writeln!(
            o,
            "{k_cell}{:>3}  {:<w$} {:<tw$} {:>7.4}  [{:.4}, {:.4}] {:>6} {:>7}",
            x.n_per_arm,
            x.comparison,
            x.endpoint,
            x.power,
            x.ci_low,
            x.ci_high,
            x.fit_failed,
            x.outside_range
        );
    }
    let _ = writeln!(
        o,
        "{}",
        if k {
            "k: independent experiments per line; n: replicate wells per condition (line × dose) in each; failed / outside: studies with an experiment whose fit failed or hit a bound / whose IC50 lay outside the tested doses (both count as not significant)."
        } else {
            "n: replicate wells per condition (line × dose); failed: fits that failed or hit a bound; outside: an IC50 outside the tested doses (both count as not significant)."
        }
    );
    o.push('\n');
    o.push_str(&summary_text(r));
    let _ = writeln!(o, "\n{}", justification(r));
    o
}

/// Warnings and the recommendations (the report shows them beside the figure).
pub fn summary_text(r: &AssayPowerResult) -> String {
    let mut o = String::new();
    for w in &r.warnings {
        let _ = writeln!(o, "warning: {w}");
    }
    let grid = r
        .n_values
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    if welch(r) {
        let ks = r
            .experiments
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let _ = writeln!(
            o,
            "Fewest independent experiments k, then fewest replicate wells n, with simulated power ≥ {}:",
            r.target
        );
        for rec in &r.recommendations {
            match (rec.n, rec.experiments, rec.power, rec.ci) {
                (Some(n), Some(k), Some(p), Some((lo, hi))) => {
                    let _ = writeln!(
                        o,
                        "Recommended design: n = {n} replicate wells per condition x k = {k} independent experiments (power {p:.3} [{lo:.3}, {hi:.3}]) — {}, {}",
                        rec.comparison, rec.endpoint
                    );
                }
                _ => {
                    let _ = writeln!(
                        o,
                        "Recommended design: not reached within n = {grid} x k = {ks} — {}, {}",
                        rec.comparison, rec.endpoint
                    );
                }
            }
        }
        return o;
    }
    let _ = writeln!(
        o,
        "Smallest n with simulated power ≥ {} (one experiment per n, Wald test within it; `--experiments 2..6` sizes independent experiments with a Welch t test on their IC50s):",
        r.target
    );
    for rec in &r.recommendations {
        match (rec.n, rec.power, rec.ci) {
            (Some(n), Some(p), Some((lo, hi))) => {
                let _ = writeln!(
                    o,
                    "Recommended replicate wells per condition: n = {n} (power {p:.3} [{lo:.3}, {hi:.3}]) — {}, {}",
                    rec.comparison, rec.endpoint
                );
            }
            _ => {
                let _ = writeln!(
                    o,
                    "Recommended replicate wells per condition: not reached within n = {grid} — {}, {}",
                    rec.comparison, rec.endpoint
                );
            }
        }
    }
    o
}

/// The sample-size justification paragraph.
pub fn justification(r: &AssayPowerResult) -> String {
    if welch(r) {
        return format!(
            "In vitro sample size: to detect {} between a line and the same line shifted, each simulated study runs k = {} independent experiments of n replicate wells per dose on the protocol's design and plate layout; in each experiment both lines take that experiment's IC50 (the line's between-experiment SD of log10 IC50) and maximal inhibition (its between-experiment variability), drawn for each line on its own, the readout is simulated with the assay simulator of `simulate` and each line is fitted separately with the same 1/ŷ²-weighted four-parameter logistic; the test is Welch's two-sample t test on the k per-experiment log10 IC50s (maximal inhibition 1 − bottom/top for a max-inhibition difference) of the two lines, two-sided α = {} (Welch 1947; the experiment, not the well, is the unit of replication: Motulsky 2018, Lazic 2010). A study with an experiment whose fit failed or whose IC50 lay outside the tested doses counts as not significant. The recommendation is the fewest experiments, then the fewest wells, reaching the target (an experiment costs more than a well; assumed). {} studies per n, k and line, seed {}; power with Wilson 95% CIs.",
            effect_text(r),
            r.experiments
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            r.alpha,
            r.reps,
            r.seed
        );
    }
    format!(
        "In vitro sample size: to detect {} between a line and the same line shifted, each simulated experiment plates both lines on the protocol's design and plate layout with n replicate wells per dose, simulates the readout with the assay simulator of `simulate` and fits each line with the same 1/ŷ²-weighted four-parameter logistic; the test is a Wald test of the difference of the fitted log10 IC50 (maximal inhibition 1 − bottom/top, delta-method SE, for a max-inhibition difference) with SE² = SE₁² + SE₂² from each fit's asymptotic covariance and Satterthwaite df, two-sided α = {} (Motulsky & Christopoulos 2004, comparing best-fit values of two fits; Satterthwaite 1946). Experiments whose fit failed or whose IC50 lay outside the tested doses count as not significant. {} experiments per n and line, seed {}; power with Wilson 95% CIs.",
        effect_text(r),
        r.alpha,
        r.reps,
        r.seed
    )
}
