//! The timeline stage: a protocol's dated dry run written to a folder.
//!
//! Recipe: build the calendar (start date, the protocol's weekend policy unless the job
//! overrides it, the protocol's holidays plus the job's) → for every phase ending on a
//! condition, simulate the enrollment day of each cohort (`sim::enrollment_days`, ≥ 200
//! cohorts recommended) → expand → write the files and `manifest.json`.

use super::Observer;
use crate::output::Manifest;
use crate::protocol::{Loaded, PhaseEnd, Protocol, WeekendPolicy};
use crate::timeline::{
    Calendar, ConditionEstimate, Estimates, Options, Timeline, expand, write_all,
};
use anyhow::{Context, bail};
use jiff::civil::Date;
use std::path::{Path, PathBuf};

/// What to build: the protocol and the calendar options.
#[derive(Debug, Clone)]
pub struct TimelineJob<'a> {
    /// The loaded protocol.
    pub protocol: &'a Loaded,
    /// Day 0 of the first phase; `None` = the next Monday (today when it is a Monday).
    pub start: Option<Date>,
    /// Output folder; `None` = `output/<protocol-id>/`.
    pub out: Option<PathBuf>,
    /// Holidays added to the protocol's.
    pub holidays: Vec<Date>,
    /// A file of further holidays ([`read_holidays`]).
    pub holidays_file: Option<PathBuf>,
    /// Weekend policy; `None` = the protocol's `[calendar] weekend`.
    pub weekend: Option<WeekendPolicy>,
    /// Seed of the enrollment simulations.
    pub seed: u64,
    /// Simulated cohorts per conditional phase.
    pub sims: usize,
    /// Fraction of tumour-bearing animals that can be enrolled; `None` = the simulator's
    /// default for the enrollment mode.
    pub enrollment_yield: Option<f64>,
}

impl<'a> TimelineJob<'a> {
    /// The defaults of `xenoplan timeline` for `protocol`.
    pub fn new(protocol: &'a Loaded) -> Self {
        TimelineJob {
            protocol,
            start: None,
            out: None,
            holidays: Vec::new(),
            holidays_file: None,
            weekend: None,
            seed: 1,
            sims: 400,
            enrollment_yield: None,
        }
    }
}

/// A built and written timeline.
#[derive(Debug, Clone)]
pub struct TimelineRun {
    /// The expanded timeline (events, spans, conditional-phase estimates, notes).
    pub timeline: Timeline,
    /// Day 0.
    pub start: Date,
    /// Folder written.
    pub out: PathBuf,
    /// Files written (relative to `out`), without `manifest.json`.
    pub files: Vec<String>,
    /// Simulated cohorts per conditional phase.
    pub sims: usize,
    /// Wall time of the enrollment simulations, seconds.
    pub sim_secs: f64,
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

/// A `YYYY-MM-DD` date, with the message every command shows for a bad one.
pub fn parse_date(s: &str) -> Result<Date, String> {
    s.trim()
        .parse::<Date>()
        .map_err(|e| format!("`{s}` is not a date YYYY-MM-DD ({e})"))
}

/// The next Monday from today's local date (today when it is a Monday).
pub(crate) fn next_monday() -> Date {
    let today = jiff::Zoned::now().date();
    let off = (7 - i64::from(today.weekday().to_monday_zero_offset())) % 7;
    today
        .checked_add(jiff::Span::new().days(off))
        .unwrap_or(today)
}

/// Simulated enrollment day of every conditional phase, per cohort.
///
/// A cohort that no simulation fills gets the maximum wait as its phase length; the reason is
/// noted to `obs` and pushed to `unfilled` (shown in `timeline.md`).
pub fn simulate_estimates(
    protocol: &Protocol,
    start: Date,
    seed: u64,
    sims: usize,
    unfilled: &mut Vec<String>,
    obs: &dyn Observer,
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
                obs.note(&format!("warning: {msg}"));
                unfilled.push(msg);
                ConditionEstimate::unfilled(max_wait, days.len())
            }
        };
        est.insert(phase, &c.name, e);
    }
    Ok(est)
}

/// A timeline built in memory (not written): what [`run`] writes, and what a campaign
/// ([`crate::campaign`]) shifts onto its own calendar.
#[derive(Debug, Clone)]
pub struct Built {
    /// The expanded timeline.
    pub timeline: Timeline,
    /// Day 0.
    pub start: Date,
    /// Weekend policy used.
    pub policy: WeekendPolicy,
    /// Holidays used (protocol's and job's, sorted).
    pub holidays: Vec<Date>,
    /// Wall time of the enrollment simulations, seconds.
    pub sim_secs: f64,
}

/// Builds the timeline of `job` in memory: calendar, enrollment simulations, expansion.
pub fn build(job: &TimelineJob<'_>, obs: &dyn Observer) -> anyhow::Result<Built> {
    let loaded = job.protocol;
    let protocol = &loaded.protocol;
    if let Some(y) = job.enrollment_yield
        && !(y > 0.0 && y <= 1.0)
    {
        bail!("--enrollment-yield must be in (0, 1], got {y}");
    }
    let animals = crate::sim::animals::protocol_plans(protocol, job.enrollment_yield);
    let start = job.start.unwrap_or_else(next_monday);
    let policy = job.weekend.unwrap_or(protocol.calendar.weekend);
    let mut holidays = protocol.calendar.holidays.clone();
    holidays.extend(job.holidays.iter().copied());
    if let Some(f) = &job.holidays_file {
        holidays.extend(read_holidays(f)?);
    }
    holidays.sort();
    holidays.dedup();
    let sims = job.sims;
    if sims < 200 {
        obs.note(&format!(
            "warning: --sims {sims} < 200: the 5-95% enrollment range is rough"
        ));
    }
    let t0 = std::time::Instant::now();
    let mut unfilled = Vec::new();
    let estimates = simulate_estimates(protocol, start, job.seed, sims, &mut unfilled, obs)?;
    let sim_secs = t0.elapsed().as_secs_f64();
    let options = Options {
        calendar: Calendar::new(start, policy, &holidays),
        animals,
    };
    let mut tl = expand(protocol, &options, &estimates)
        .with_context(|| format!("expanding {}", loaded.path.display()))?;
    tl.notes.extend(unfilled);
    Ok(Built {
        timeline: tl,
        start,
        policy,
        holidays,
        sim_secs,
    })
}

/// Builds and writes the timeline of `job`.
pub fn run(job: &TimelineJob<'_>, obs: &dyn Observer) -> anyhow::Result<TimelineRun> {
    let loaded = job.protocol;
    let protocol = &loaded.protocol;
    let Built {
        timeline: tl,
        start,
        policy,
        holidays,
        sim_secs,
    } = build(job, obs)?;
    let sims = job.sims;
    let out = job
        .out
        .clone()
        .unwrap_or_else(|| super::default_out(&protocol.id));
    let _lock = crate::output::begin_run(&out)?;
    // RFC 5545 DTSTAMP is the creation time; SOURCE_DATE_EPOCH pins it for reproducible builds.
    let dtstamp = super::source_timestamp();
    let files = write_all(protocol, &tl, &out, dtstamp)
        .with_context(|| format!("writing {}", out.display()))?;

    let mut m = Manifest::new("timeline").with_input(&loaded.path, &loaded.bytes);
    m.protocol_id = Some(protocol.id.clone());
    m.seed = Some(job.seed);
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
        "animals": tl.animals.iter().map(|p| serde_json::json!({
            "cohort": p.cohort, "enrollment_yield": p.enrollment_yield,
            "yield_source": p.yield_source, "implant": p.implant_total
        })).collect::<Vec<_>>(),
        "conditional_phases": conds,
        "events": tl.events.len(),
    });
    m.write(&out)
        .with_context(|| format!("writing {}", out.display()))?;
    Ok(TimelineRun {
        timeline: tl,
        start,
        out,
        files,
        sims,
        sim_secs,
    })
}

impl TimelineRun {
    /// The text `xenoplan timeline` prints: span, enrollment estimates, notes, files.
    pub fn text(&self) -> String {
        use std::fmt::Write as _;
        let tl = &self.timeline;
        let mut o = String::new();
        let _ = writeln!(
            o,
            "{}: {} events from {} to {} ({} days){}",
            tl.protocol_id,
            tl.events.len(),
            self.start,
            tl.calendar
                .date(tl.last_day() - 1)
                .map(|d| d.to_string())
                .unwrap_or_default(),
            tl.last_day(),
            if tl.conditions.is_empty() {
                String::new()
            } else {
                format!(
                    "; {} enrollment simulations in {:.1} s",
                    self.sims * tl.conditions.len(),
                    self.sim_secs
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
        let _ = writeln!(
            o,
            "wrote {}/ ({})",
            self.out.display(),
            self.files.join(", ")
        );
        o
    }
}
