//! `xenoplan timeline`: dated dry run of a protocol.
//!
//! Recipe: load and validate the protocol → build the calendar (start date, weekend policy
//! from the protocol unless `--weekend` overrides it, holidays from the protocol, `--holiday`
//! and `--holidays FILE`) → for every phase ending on a condition, simulate the enrollment day
//! of each cohort (`sim::enrollment_days`, ≥ 200 cohorts by default) → expand → write the files
//! and `manifest.json`.

use crate::output::Manifest;
use crate::protocol::{PhaseEnd, Protocol, WeekendPolicy};
use crate::timeline::{
    Calendar, ConditionEstimate, Estimates, Options, default_enrollment_yield, expand, write_all,
};
use anyhow::{Context, bail};
use jiff::civil::Date;
use std::path::{Path, PathBuf};

/// Weekend / holiday handling on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WeekendArg {
    /// Keep every date; no flag.
    Allow,
    /// Move one-off and sparse recurring events to the next working day (daily dosing stays).
    Shift,
    /// Keep the date and flag weekend/holiday work.
    Flag,
}

/// Arguments of `xenoplan timeline`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:
  xenoplan timeline protocols/tamr_mcf7_xenograft.toml --start 2027-01-04 --out output/timeline")]
pub struct Args {
    /// Protocol file (TOML).
    pub file: PathBuf,
    /// Start date (day 0 of the first phase), YYYY-MM-DD; default: the next Monday.
    #[arg(long, value_parser = super::parse_start)]
    pub start: Option<Date>,
    /// Output directory (default: output/<protocol-id>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// A holiday (YYYY-MM-DD); repeatable.
    #[arg(long = "holiday", value_parser = parse_date)]
    pub holidays: Vec<Date>,
    /// File of holidays: one YYYY-MM-DD per line (first comma-separated field); `#` comments.
    #[arg(long = "holidays")]
    pub holidays_file: Option<PathBuf>,
    /// Weekend policy (overrides the protocol's `[calendar] weekend`).
    #[arg(long, value_enum)]
    pub weekend: Option<WeekendArg>,
    /// Seed of the enrollment simulations.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Simulated cohorts per conditional phase (≥ 200 recommended for the 5–95% range).
    #[arg(long, default_value_t = 400, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub sims: u64,
    /// Fraction of tumour-bearing animals that can be enrolled (animals to implant); default
    /// 0.4 for single-day and 0.8 for rolling enrollment, as the simulator assumes.
    #[arg(long)]
    pub enrollment_yield: Option<f64>,
}

fn parse_date(s: &str) -> Result<Date, String> {
    s.trim()
        .parse::<Date>()
        .map_err(|e| format!("`{s}` is not a date YYYY-MM-DD ({e})"))
}

/// Reads a holiday file: one date per line (first comma- or whitespace-separated field),
/// blank lines and `#` comments ignored, a header line starting with a letter skipped.
pub fn read_holidays(path: &Path) -> anyhow::Result<Vec<Date>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read holidays file {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.split('#').next().unwrap_or("").trim();
        if l.is_empty() {
            continue;
        }
        let field = l
            .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .next()
            .unwrap_or("")
            .trim_matches('"');
        if i == 0 && field.chars().next().is_some_and(|c| c.is_alphabetic()) {
            continue;
        }
        let d =
            parse_date(field).map_err(|e| anyhow::anyhow!("{}:{}: {e}", path.display(), i + 1))?;
        out.push(d);
    }
    Ok(out)
}

fn next_monday() -> Date {
    let today = jiff::Zoned::now().date();
    let off = (7 - i64::from(today.weekday().to_monday_zero_offset())) % 7;
    today
        .checked_add(jiff::Span::new().days(off))
        .unwrap_or(today)
}

/// Simulated enrollment day of every conditional phase, per cohort.
///
/// A cohort that no simulation fills gets the maximum wait as its phase length; the reason is
/// pushed to `unfilled` (shown as a warning and in `timeline.md`).
pub fn simulate_estimates(
    protocol: &Protocol,
    start: Date,
    seed: u64,
    sims: usize,
    unfilled: &mut Vec<String>,
) -> anyhow::Result<Estimates> {
    let mut est = Estimates::default();
    let conditional: Vec<&str> = protocol
        .phases
        .iter()
        .filter(|p| matches!(p.end, PhaseEnd::Until { .. }))
        .map(|p| p.name.as_str())
        .collect();
    if conditional.is_empty() {
        return Ok(est);
    }
    let Some(x) = protocol.xenograft() else {
        bail!(
            "phase `{}` ends on a condition, which only xenograft protocols can simulate",
            conditional[0]
        );
    };
    if conditional.len() > 1 {
        bail!(
            "phases {} all end on a condition; the enrollment simulator handles one conditional phase",
            conditional.join(", ")
        );
    }
    let phase = conditional[0];
    let max_wait = protocol.phase(phase).map_or(0, |p| p.end.max_days());
    for (ci, c) in x.cohorts.iter().enumerate() {
        let days = crate::sim::enrollment_days(protocol, ci, sims, seed, start)
            .with_context(|| format!("simulating enrollment of cohort `{}`", c.name))?;
        let e = match ConditionEstimate::from_samples(phase, &days) {
            Ok(e) => e,
            Err(_) => {
                let msg = format!(
                    "cohort `{}`: none of {} simulated cohorts filled its arms inside the enrollment window within {max_wait} days; events after phase `{phase}` are placed at the maximum wait — implant more animals, widen the window or use rolling enrollment",
                    c.name,
                    days.len()
                );
                diagln!("warning: {msg}");
                unfilled.push(msg);
                ConditionEstimate::unfilled(max_wait, days.len())
            }
        };
        est.insert(phase, &c.name, e);
    }
    Ok(est)
}

/// Runs `xenoplan timeline`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let text = execute(&args)?;
    out!("{text}");
    Ok(())
}

/// Builds and writes the timeline for `args`; returns the text `timeline` prints.
pub fn execute(args: &Args) -> anyhow::Result<String> {
    use std::fmt::Write as _;
    let mut o = String::new();
    let loaded = crate::protocol::load(&args.file).map_err(|e| anyhow::anyhow!("{e}"))?;
    let protocol = &loaded.protocol;
    let enrollment_yield = args
        .enrollment_yield
        .unwrap_or_else(|| default_enrollment_yield(protocol));
    if !(enrollment_yield > 0.0 && enrollment_yield <= 1.0) {
        bail!("--enrollment-yield must be in (0, 1], got {enrollment_yield}");
    }
    let start = args.start.unwrap_or_else(next_monday);
    let policy = match args.weekend {
        Some(WeekendArg::Allow) => WeekendPolicy::Allow,
        Some(WeekendArg::Shift) => WeekendPolicy::ShiftToNextWorkingDay,
        Some(WeekendArg::Flag) => WeekendPolicy::KeepAndFlag,
        None => protocol.calendar.weekend,
    };
    let mut holidays = protocol.calendar.holidays.clone();
    holidays.extend(args.holidays.iter().copied());
    if let Some(f) = &args.holidays_file {
        holidays.extend(read_holidays(f)?);
    }
    holidays.sort();
    holidays.dedup();
    let sims = usize::try_from(args.sims).unwrap_or(usize::MAX);
    if sims < 200 {
        diagln!("warning: --sims {sims} < 200: the 5-95% enrollment range is rough");
    }
    let t0 = std::time::Instant::now();
    let mut unfilled = Vec::new();
    let estimates = simulate_estimates(protocol, start, args.seed, sims, &mut unfilled)?;
    let sim_secs = t0.elapsed().as_secs_f64();
    let options = Options {
        calendar: Calendar::new(start, policy, &holidays),
        enrollment_yield,
    };
    let mut tl = expand(protocol, &options, &estimates)
        .with_context(|| format!("expanding {}", args.file.display()))?;
    tl.notes.extend(unfilled);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(&protocol.id));
    let _lock = crate::output::begin_run(&out)?;
    // RFC 5545 DTSTAMP is the creation time; SOURCE_DATE_EPOCH pins it for reproducible builds.
    let dtstamp = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .unwrap_or_else(jiff::Timestamp::now);
    let files = write_all(protocol, &tl, &out, enrollment_yield, dtstamp)
        .with_context(|| format!("writing {}", out.display()))?;

    let mut m = Manifest::new("timeline").with_input(&args.file, &loaded.bytes);
    m.protocol_id = Some(protocol.id.clone());
    m.seed = Some(args.seed);
    m.files = files.clone();
    m.files.push("manifest.json".into());
    let conds: Vec<serde_json::Value> = tl
        .conditions
        .iter()
        .map(|(ph, co, e, _)| {
            serde_json::json!({
                "phase": ph, "cohort": co, "median_day": e.median_day, "p05": e.p05,
                "p95": e.p95, "n_sims": e.n_sims, "n_failed": e.n_failed
            })
        })
        .collect();
    m.parameters = serde_json::json!({
        "start": start.to_string(),
        "weekend": format!("{policy:?}"),
        "holidays": holidays.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
        "sims": sims,
        "enrollment_yield": enrollment_yield,
        "conditional_phases": conds,
        "events": tl.events.len(),
    });
    m.write(&out)
        .with_context(|| format!("writing {}", out.display()))?;

    let _ = writeln!(
        o,
        "{}: {} events from {} to {} ({} days){}",
        protocol.id,
        tl.events.len(),
        start,
        tl.calendar
            .date(tl.last_day() - 1)
            .map(|d| d.to_string())
            .unwrap_or_default(),
        tl.last_day(),
        if tl.conditions.is_empty() {
            String::new()
        } else {
            format!(
                "; {} enrollment simulations in {sim_secs:.1} s",
                sims * tl.conditions.len()
            )
        }
    );
    for (ph, co, e, s) in &tl.conditions {
        let d = |x: f64| {
            tl.calendar
                .date(s + x.round() as i64)
                .map(|d| d.to_string())
                .unwrap_or_default()
        };
        let _ = writeln!(
            o,
            "  {ph} ({co}): enrollment day {:.1} [5-95%: {:.1}-{:.1}] → {} [{}..{}], {}/{} cohorts not filled",
            e.median_day,
            e.p05,
            e.p95,
            d(e.median_day),
            d(e.p05.floor()),
            d(e.p95.ceil()),
            e.n_failed,
            e.n_sims
        );
    }
    for n in &tl.notes {
        let _ = writeln!(o, "  note: {n}");
    }
    let _ = writeln!(o, "wrote {}/ ({})", out.display(), files.join(", "));
    Ok(o)
}
