//! The TOML fragment printed by `xenoplan fit`, to paste into a protocol's cohort growth
//! section. Every value carries `source = "fit to <file>: <n> animals, <model>, <date>"` with
//! its confidence interval in the source text; the method, exclusions and censoring go in
//! comments above it.

use super::{Estimate, FitResult, VariabilityKind};
use crate::output::fmt_sig_real;

fn ci(e: &Estimate, digits: usize) -> String {
    if e.ci_low.is_finite() && e.ci_high.is_finite() {
        format!(
            "{}–{}",
            fmt_sig_real(e.ci_low, digits),
            fmt_sig_real(e.ci_high, digits)
        )
    } else {
        "not computed".into()
    }
}

/// Protocol key of a parameter (the file format is kebab-case).
fn key(name: &str) -> String {
    name.replace('_', "-")
}

/// Escapes a string for a TOML basic string.
fn toml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Renders the fragment. `file` is the data file name as given, `date` the fit date
/// (YYYY-MM-DD).
pub fn render(r: &FitResult, file: &str, date: &str) -> String {
    let n = r.series.len();
    let model = r.model.name();
    let base = format!("fit to {file}: {n} animals, {model}, {date}");
    let level = format!("{:.0}%", r.level * 100.0);
    let mut out = String::new();
    out.push_str(&format!(
        "# xenoplan fit {}: {model} model",
        env!("CARGO_PKG_VERSION")
    ));
    if !r.arm.is_empty() {
        out.push_str(&format!(", arm `{}`", r.arm));
    }
    if !r.cohort.is_empty() {
        out.push_str(&format!(", cohort `{}`", r.cohort));
    }
    out.push('\n');
    out.push_str(&format!("# method: {}; seed {}\n", r.method, r.seed));
    out.push_str(&format!(
        "# data: {n} animals, {} readings ({} at or below the detection floor{}, treated as left-censored), {} missing skipped, {} animals left before the last day\n",
        r.n_readings,
        r.n_censored,
        r.floor_mm3.map(|f| format!(" of {} mm³", fmt_sig_real(f, 3))).unwrap_or_default(),
        r.n_missing,
        r.n_left_early
    ));
    for w in &r.warnings {
        out.push_str(&format!("# WARNING: {w}\n"));
    }
    for (id, why) in &r.excluded {
        out.push_str(&format!("# excluded animal {id}: {why}\n"));
    }
    out.push_str("# v0-mm3 is the volume at day 0 of the data: when the pilot's day 0 is randomization rather than first palpation, keep the protocol's v0-mm3 (or its latency) and paste rate/capacity only.\n");
    out.push_str("# Variability: cv = CV of a log-normal random effect; sd = SD of an additive normal one.\n");
    out.push_str("# Paste the table below over the cohort's [cohorts.growth] table (after its [[cohorts]] header).\n");
    if r.params.len() > 1 {
        let names: Vec<&str> = r.params.iter().map(|p| p.name).collect();
        let mut corr = Vec::new();
        for a in 0..names.len() {
            for b in a + 1..names.len() {
                corr.push(format!(
                    "{}~{} {:.2}",
                    key(names[a]),
                    key(names[b]),
                    r.correlation[a][b]
                ));
            }
        }
        out.push_str(&format!(
            "# random-effect correlations (not used by protocols): {}\n",
            corr.join(", ")
        ));
    }
    out.push_str("[cohorts.growth]\n");
    out.push_str(&format!("model = {}\n", toml_str(model)));
    for p in &r.params {
        let (vkey, what) = match p.kind {
            VariabilityKind::LogNormalCv => ("cv", "CV"),
            VariabilityKind::NormalSd => ("sd", "SD"),
        };
        let src = format!(
            "{base}; {level} CI {} {}, between-animal {what} {} ({level} CI {})",
            ci(&p.typical, 3),
            p.unit,
            fmt_sig_real(p.variability.value, 3),
            ci(&p.variability, 3)
        );
        out.push_str(&format!(
            "{} = {{ value = {}, {vkey} = {}, source = {} }}\n",
            key(p.name),
            fmt_sig_real(p.typical.value, 4),
            fmt_sig_real(p.variability.value, 3),
            toml_str(&src)
        ));
    }
    // The caliper error lives in the protocol-wide [caliper] table, which already has an
    // `error` key: a second one would be a TOML error, so it is given as a line to swap in.
    let src = format!("{base}; {level} CI {}", ci(&r.residual_sd, 3));
    out.push_str("\n# Residual error of ln(volume). To use it, replace the `error = …` line of [caliper] with:\n");
    out.push_str(&format!(
        "# error = {{ model = \"log-volume\", sd = {{ value = {}, source = {} }} }}\n",
        fmt_sig_real(r.residual_sd.value, 3),
        toml_str(&src)
    ));
    out
}

/// Renders the `[[cohorts.effects]]` entries of treated arms fitted against the control
/// `control` (see [`super::effects`]), to paste after the cohort's growth table.
pub fn render_effects(
    effects: &[super::effects::ArmEffect],
    control: &FitResult,
    file: &str,
    date: &str,
) -> String {
    let level = format!("{:.0}%", control.level * 100.0);
    let mut out = String::new();
    out.push_str(&format!(
        "\n# Drug effects vs control arm `{}` ({} animals): growth-rate inhibition I = 1 − r_T/r_C from the typical exponential rates of a separate fit of each arm (same method); {level} CI: percentile over paired bootstrap replicates of both fits.\n",
        control.arm,
        control.series.len()
    ));
    out.push_str("# `agent` is the arm name: replace it with the protocol's agent of that arm (one entry per agent; a combination arm's rate is Bliss of its agents).\n");
    for e in effects {
        for w in &e.warnings {
            out.push_str(&format!("# WARNING ({}): {w}\n", e.arm));
        }
        let src = format!(
            "fit to {file}: arm `{}` ({} animals) vs control `{}` ({} animals), exponential, {date}; I = 1 - {}/{} per day; {level} CI {} ({} paired resamples)",
            e.arm,
            e.n_treated,
            control.arm,
            control.series.len(),
            fmt_sig_real(e.rate_treated, 3),
            fmt_sig_real(e.rate_control, 3),
            ci(&e.inhibition, 2),
            e.pairs
        );
        out.push_str("[[cohorts.effects]]\n");
        out.push_str(&format!("agent = {}\n", toml_str(&e.arm)));
        out.push_str("mode = \"direct\"\n");
        out.push_str(&format!(
            "inhibition = {{ value = {}, source = {} }}\n",
            fmt_sig_real(e.inhibition.value.clamp(0.0, 1.0), 3),
            toml_str(&src)
        ));
        out.push_str(&format!(
            "source = {}\n",
            toml_str(&format!("fit to {file}, {date}"))
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_strings_escape_quotes_and_backslashes() {
        assert_eq!(toml_str("a\"b\\c"), "\"a\\\"b\\\\c\"");
    }
}
