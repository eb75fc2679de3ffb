//! Dating a campaign: each stage in dependency order; a protocol stage is dated by its own
//! timeline ([`crate::study::timeline::build`]) started so that its `align` milestone (or its
//! first day) lands on the anchor = end of what it follows + lag; the shifted timelines and
//! the activities are merged into one [`Timeline`] and written with the single-protocol
//! writers ([`crate::timeline::write_files`]).

use super::{Activity, Campaign, Stage, StageKind};
use crate::output::Manifest;
use crate::protocol::{EventKind, WeekendPolicy};
use crate::study::Observer;
use crate::study::timeline::{Built, TimelineJob, build};
use crate::timeline::{
    Calendar, Event, ResourceRow, Span, SpanKind, Timeline, cells_to_prepare, resources,
};
use anyhow::{Context, bail};
use jiff::civil::Date;
use std::path::PathBuf;

/// What to date: the campaign and the settings applied to every linked protocol.
#[derive(Debug, Clone)]
pub struct CampaignJob<'a> {
    /// The loaded campaign.
    pub campaign: &'a Campaign,
    /// Settings of each protocol's timeline: `start` is the campaign's start (`None` = the
    /// next Monday) and `out` its folder (`None` = `output/<campaign-id>/`); `protocol` is
    /// replaced by each linked protocol and `start` by its scheduled start.
    pub each: TimelineJob<'a>,
}

/// The dated stage of a campaign.
#[derive(Debug, Clone, PartialEq)]
pub struct DatedStage {
    /// Stage id.
    pub id: String,
    /// Protocol id, or `None` for an activity.
    pub protocol_id: Option<String>,
    /// First day (offset from the campaign start; may be before the anchor for an aligned
    /// protocol, e.g. mice arriving before implantation).
    pub start: i64,
    /// Day the stage's anchor (its `align` milestone, or its first day) falls on.
    pub anchor: i64,
    /// Day after the last day.
    pub end: i64,
    /// How the anchor was found (what it follows, the lag and its source).
    pub why: String,
}

/// A dated and written campaign.
#[derive(Debug, Clone)]
pub struct CampaignRun {
    /// The merged timeline (events tagged with their protocol ids).
    pub timeline: Timeline,
    /// Stages in dependency order with their days.
    pub stages: Vec<DatedStage>,
    /// `resources.csv` rows with the stage of each (`all` for sums over stages).
    pub resources: Vec<(ResourceRow, String)>,
    /// Campaign start (day 0).
    pub start: Date,
    /// Folder written.
    pub out: PathBuf,
    /// Files written (relative to `out`), without `manifest.json`.
    pub files: Vec<String>,
}

/// One dated stage while the campaign is built.
struct Placed {
    dated: DatedStage,
    /// The stage's own timeline (protocol stages), its day offset in the campaign.
    built: Option<Built>,
}

/// Dates every stage of `job` (in memory).
pub fn schedule(job: &CampaignJob<'_>, obs: &dyn Observer) -> anyhow::Result<CampaignRun> {
    let c = job.campaign;
    let start = job
        .each
        .start
        .unwrap_or_else(crate::study::timeline::next_monday);
    let mut placed: Vec<Placed> = Vec::new();
    for st in &c.stages {
        let (anchor, why) = anchor_of(st, &placed, start)?;
        let p = match &st.kind {
            StageKind::Activity(a) => Placed {
                dated: DatedStage {
                    id: st.id.clone(),
                    protocol_id: None,
                    start: anchor,
                    anchor,
                    end: anchor + a.duration.days,
                    why,
                },
                built: None,
            },
            StageKind::Protocol { loaded, align } => {
                place_protocol(job, st, loaded, align.as_deref(), start, anchor, why, obs)?
            }
        };
        if p.dated.start < 0 {
            bail!(
                "stage `{}` would start {} day(s) before the campaign start {start} (its `align` milestone comes {} day(s) after its first day); start the campaign earlier or add lag to what it follows",
                st.id,
                -p.dated.start,
                p.dated.anchor - p.dated.start
            );
        }
        placed.push(p);
    }
    let tl = merge(c, job, start, &placed)?;
    let resources = campaign_resources(c, &placed, &tl);
    Ok(CampaignRun {
        timeline: tl,
        stages: placed.into_iter().map(|p| p.dated).collect(),
        resources,
        start,
        out: job
            .each
            .out
            .clone()
            .unwrap_or_else(|| crate::study::default_out(&c.id)),
        files: Vec::new(),
    })
}

/// Day of a stage's anchor: the end of what it follows (+ lag), or day 0 (+ lag).
fn anchor_of(st: &Stage, placed: &[Placed], start: Date) -> anyhow::Result<(i64, String)> {
    let lag = st.lag.days;
    let lag_text = if lag == 0 && st.lag.source.is_empty() {
        String::new()
    } else {
        format!(" + {lag} d lag ({})", st.lag.source)
    };
    let Some(l) = &st.after else {
        return Ok((lag, format!("campaign start{lag_text}")));
    };
    let Some(t) = placed.iter().find(|p| p.dated.id == l.stage) else {
        // `load` orders stages after what they follow; this is a guard, not a user error.
        bail!("stage `{}` is dated before `{}`", st.id, l.stage);
    };
    let end = match (&l.milestone, &t.built) {
        (None, _) => t.dated.end,
        (Some(m), Some(b)) => {
            let (_, e) = milestone_days(&b.timeline, m)
                .with_context(|| format!("stage `{}`: no event of `{l}` was dated", st.id))?;
            t.dated.start + e
        }
        (Some(_), None) => bail!("stage `{}` is an activity without milestones", l.stage),
    };
    let last = start
        .checked_add(jiff::Span::new().days(end - 1))
        .map(|d| d.to_string())
        .unwrap_or_else(|_| format!("day {}", end - 1));
    Ok((end + lag, format!("after {l} (last day {last}){lag_text}")))
}

/// First day and day after the last day of milestone `name` (a phase or step) in `tl`:
/// every event of that phase or with that label, and every bar of that name.
pub fn milestone_days(tl: &Timeline, name: &str) -> Option<(i64, i64)> {
    let ev = tl
        .events
        .iter()
        .filter(|e| e.phase == name || e.label == name)
        .map(|e| (e.day, e.end_day.unwrap_or(e.day + 1)));
    let sp = tl
        .spans
        .iter()
        .filter(|s| s.label == name || s.label.starts_with(&format!("{name} (")))
        .map(|s| (s.start, s.end));
    ev.chain(sp)
        .fold(None, |acc: Option<(i64, i64)>, (a, b)| match acc {
            None => Some((a, b)),
            Some((x, y)) => Some((x.min(a), y.max(b))),
        })
}

/// Dates protocol stage `st` so that its `align` milestone (or first day) falls on `anchor`.
#[allow(clippy::too_many_arguments)]
fn place_protocol(
    job: &CampaignJob<'_>,
    st: &Stage,
    loaded: &crate::protocol::Loaded,
    align: Option<&str>,
    start: Date,
    anchor: i64,
    why: String,
    obs: &dyn Observer,
) -> anyhow::Result<Placed> {
    let date_of = |d: i64| -> anyhow::Result<Date> {
        start
            .checked_add(jiff::Span::new().days(d))
            .with_context(|| format!("stage `{}`: day {d} is out of the calendar", st.id))
    };
    let build_at = |d: i64| -> anyhow::Result<Built> {
        let mut j = job.each.clone();
        j.protocol = loaded;
        j.start = Some(date_of(d)?);
        j.out = None;
        build(&j, obs).with_context(|| format!("stage `{}`", st.id))
    };
    let lead = |b: &Built| -> anyhow::Result<i64> {
        match align {
            None => Ok(0),
            Some(m) => milestone_days(&b.timeline, m)
                .map(|(a, _)| a)
                .with_context(|| {
                    format!("stage `{}`: `align = \"{m}\"` has no dated event", st.id)
                }),
        }
    };
    let mut built = build_at(anchor)?;
    let mut first = anchor - lead(&built)?;
    if first != anchor {
        built = build_at(first)?;
        // Weekend shifts depend on the start weekday: re-aim once if the milestone moved.
        let moved = first + lead(&built)? - anchor;
        if moved != 0 {
            first -= moved;
            built = build_at(first)?;
        }
    }
    let got = first + lead(&built)?;
    let mut why = why;
    if got != anchor {
        why.push_str(&format!(
            "; `{}` falls on day {got}, not {anchor}, after the protocol's weekend shifts",
            align.unwrap_or("start")
        ));
    }
    Ok(Placed {
        dated: DatedStage {
            id: st.id.clone(),
            protocol_id: Some(loaded.protocol.id.clone()),
            start: first,
            anchor: got,
            end: first + built.timeline.last_day(),
            why,
        },
        built: Some(built),
    })
}

/// The campaign's calendar: the job's weekend policy, else the first protocol's; the
/// holidays of every protocol timeline.
fn campaign_calendar(job: &CampaignJob<'_>, start: Date, placed: &[Placed]) -> Calendar {
    let builts: Vec<&Built> = placed.iter().filter_map(|p| p.built.as_ref()).collect();
    let policy = job
        .each
        .weekend
        .or(builts.first().map(|b| b.policy))
        .unwrap_or(WeekendPolicy::KeepAndFlag);
    let mut holidays: Vec<Date> = builts.iter().flat_map(|b| b.holidays.clone()).collect();
    holidays.sort();
    holidays.dedup();
    Calendar::new(start, policy, &holidays)
}

/// One timeline of every stage: events and bars shifted to the campaign's days, each tagged
/// with its stage id (events: `protocol`; bars and Gantt rows: `<stage>: …`).
fn merge(
    c: &Campaign,
    job: &CampaignJob<'_>,
    start: Date,
    placed: &[Placed],
) -> anyhow::Result<Timeline> {
    let calendar = campaign_calendar(job, start, placed);
    let mut tl = Timeline::empty(c.id.clone(), c.title.clone(), calendar);
    for (p, st) in placed.iter().zip(&c.stages) {
        match (&p.built, &st.kind) {
            (Some(b), _) => shift_into(&mut tl, &b.timeline, p.dated.start, &st.id),
            (None, StageKind::Activity(a)) => {
                activity_into(&mut tl, &p.dated, a, cells_needed(c, a, placed))
            }
            (None, StageKind::Protocol { .. }) => {}
        }
    }
    for e in &mut tl.events {
        e.date = tl
            .calendar
            .date(e.day)
            .with_context(|| format!("day {} is out of the calendar", e.day))?;
        e.flag = if tl.calendar.policy == WeekendPolicy::Allow {
            None
        } else {
            tl.calendar.flag(e.day)
        };
    }
    tl.events.sort_by_key(|e| (e.day, e.time));
    Ok(tl)
}

/// Adds stage `id`'s timeline `from`, shifted by `offset` days.
fn shift_into(tl: &mut Timeline, from: &Timeline, offset: i64, id: &str) {
    for e in &from.events {
        let mut e = e.clone();
        e.day += offset;
        e.end_day = e.end_day.map(|d| d + offset);
        e.series = format!("{id}: {}", e.series);
        e.protocol = Some(id.to_string());
        tl.events.push(e);
    }
    for s in &from.spans {
        tl.spans.push(Span {
            label: format!("{id}: {}", s.label),
            kind: s.kind,
            start: s.start + offset,
            end: s.end + offset,
            uncertain: s.uncertain.map(|(a, b)| (a + offset, b + offset)),
        });
    }
    for (ph, co, e, s) in &from.conditions {
        tl.conditions
            .push((format!("{id}: {ph}"), co.clone(), *e, s + offset));
    }
    tl.notes
        .extend(from.notes.iter().map(|n| format!("{id}: {n}")));
}

/// Cells an activity expands for (`cells-for`), from the target protocol's animal plan
/// (stages and `placed` are in the same order), with the arithmetic.
fn cells_needed(c: &Campaign, a: &Activity, placed: &[Placed]) -> Option<(f64, String)> {
    let (stage, cohort) = a.cells_for.as_ref()?;
    let i = c.stages.iter().position(|s| &s.id == stage)?;
    let StageKind::Protocol { loaded, .. } = &c.stages[i].kind else {
        return None;
    };
    let x = loaded.protocol.xenograft()?;
    let (ci, co) = x
        .cohorts
        .iter()
        .enumerate()
        .find(|(_, k)| &k.name == cohort)?;
    let plan = placed.get(i)?.built.as_ref()?.timeline.animals.get(ci)?;
    let n = cells_to_prepare(co, plan.implant_total)?;
    Some((
        n,
        format!(
            "{} animals of `{stage}: {cohort}` x {:.2e} cells, with the prep overage",
            plan.implant_total,
            co.implantation.cells.unwrap_or(f64::NAN)
        ),
    ))
}

/// Adds an activity as one multi-day event and one bar.
fn activity_into(tl: &mut Timeline, d: &DatedStage, a: &Activity, cells: Option<(f64, String)>) {
    let mut details = a.details.trim().trim_end_matches('.').to_string();
    details.push_str(&format!(
        "{}{} days ({}); {}",
        if details.is_empty() { "" } else { "; " },
        a.duration.days,
        a.duration.source,
        d.why
    ));
    if let Some((n, t)) = cells {
        details.push_str(&format!("; {n:.2e} cells needed ({t})"));
    }
    tl.events.push(Event {
        day: d.start,
        date: crate::timeline::EPOCH,
        time: None,
        end_day: Some(d.end),
        study_day: 0,
        phase: d.id.clone(),
        kind: EventKind::Task,
        label: a.title.clone(),
        cohort: None,
        arm: None,
        animals: None,
        details,
        flag: None,
        series: format!("{}: {}", d.id, a.title),
        hands_on_h: None,
        protocol: Some(d.id.clone()),
    });
    tl.spans.push(Span {
        label: format!("{}: {}", d.id, a.title),
        kind: SpanKind::Activity,
        start: d.start,
        end: d.end,
        uncertain: None,
    });
}

/// `resources.csv` of a campaign: every protocol stage's own rows (its timeline's
/// [`resources`]) tagged with the stage id, one row per activity, then one `all` row per
/// item and unit listed by more than one stage, summed.
fn campaign_resources(
    c: &Campaign,
    placed: &[Placed],
    tl: &Timeline,
) -> Vec<(ResourceRow, String)> {
    let mut out: Vec<(ResourceRow, String)> = Vec::new();
    for (p, st) in placed.iter().zip(&c.stages) {
        match (&st.kind, &p.built) {
            (StageKind::Protocol { loaded, .. }, Some(b)) => out.extend(
                resources(&loaded.protocol, &b.timeline)
                    .into_iter()
                    .map(|r| (r, st.id.clone())),
            ),
            (StageKind::Activity(a), _) => {
                let cells = cells_needed(c, a, placed);
                let when = |d: i64| {
                    tl.calendar
                        .date(d)
                        .map(|d| d.to_string())
                        .unwrap_or_default()
                };
                out.push((
                    ResourceRow {
                        item: a.title.clone(),
                        quantity: a.duration.days.to_string(),
                        unit: "days".into(),
                        details: format!(
                            "{} to {} ({}){}",
                            when(p.dated.start),
                            when(p.dated.end - 1),
                            a.duration.source,
                            cells
                                .map(|(n, t)| format!("; {n:.3e} cells to reach: {t}"))
                                .unwrap_or_default()
                        ),
                    },
                    st.id.clone(),
                ))
            }
            _ => {}
        }
    }
    out.extend(sums(&out));
    out
}

/// One `all` row per (item, unit) with a number in more than one stage.
fn sums(rows: &[(ResourceRow, String)]) -> Vec<(ResourceRow, String)> {
    let mut keys: Vec<(&str, &str)> = Vec::new();
    for (r, _) in rows {
        if !keys.contains(&(r.item.as_str(), r.unit.as_str())) {
            keys.push((&r.item, &r.unit));
        }
    }
    let mut out = Vec::new();
    for (item, unit) in keys {
        let same: Vec<&(ResourceRow, String)> = rows
            .iter()
            .filter(|(r, _)| r.item == item && r.unit == unit)
            .collect();
        let nums: Vec<f64> = same
            .iter()
            .filter_map(|(r, _)| r.quantity.parse::<f64>().ok())
            .collect();
        if same.len() < 2 || nums.len() < same.len() {
            continue;
        }
        let decimals = same
            .iter()
            .map(|(r, _)| r.quantity.split_once('.').map_or(0, |(_, f)| f.len()))
            .max()
            .unwrap_or(0);
        let stages: Vec<&str> = same.iter().map(|(_, s)| s.as_str()).collect();
        out.push((
            ResourceRow {
                item: item.to_string(),
                quantity: crate::output::fmt_f(nums.iter().sum(), decimals),
                unit: unit.to_string(),
                details: format!("sum over stages {}", stages.join(", ")),
            },
            "all".to_string(),
        ));
    }
    out
}

/// Dates and writes the campaign of `job`: the single-protocol files (`timeline.csv` with a
/// `protocol` column, `.md`, `.ics`, `workload.csv`, Gantt chart), `resources.csv` with a
/// `protocol` column, and `manifest.json`.
pub fn run(job: &CampaignJob<'_>, obs: &dyn Observer) -> anyhow::Result<CampaignRun> {
    let c = job.campaign;
    let mut run = schedule(job, obs)?;
    let out = run.out.clone();
    let _lock = crate::output::begin_run(&out)?;
    let dtstamp = crate::study::source_timestamp();
    let files = crate::timeline::write_files(&run.timeline, &out, dtstamp)
        .with_context(|| format!("writing {}", out.display()))?;
    let header: Vec<String> = ["item", "quantity", "unit", "details", "protocol"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let rows: Vec<Vec<String>> = run
        .resources
        .iter()
        .map(|(r, s)| {
            vec![
                r.item.clone(),
                r.quantity.clone(),
                r.unit.clone(),
                r.details.clone(),
                s.clone(),
            ]
        })
        .collect();
    crate::output::write_csv_rows(&out.join("resources.csv"), &header, &rows)
        .with_context(|| format!("writing {}", out.display()))?;
    let mut m = Manifest::new("timeline").with_input(&c.path, &c.bytes);
    m.protocol_id = Some(c.id.clone());
    m.seed = Some(job.each.seed);
    m.files = files.clone();
    m.files.push("manifest.json".into());
    let stages: Vec<serde_json::Value> = c
        .stages
        .iter()
        .zip(&run.stages)
        .map(|(s, d)| {
            let file = match &s.kind {
                StageKind::Protocol { loaded, .. } => Some(loaded.path.display().to_string()),
                StageKind::Activity(_) => None,
            };
            serde_json::json!({
                "stage": d.id, "protocol": d.protocol_id, "file": file,
                "start": run.timeline.calendar.date(d.start).map(|x| x.to_string()),
                "anchor_day": d.anchor, "start_day": d.start, "end_day": d.end, "why": d.why,
            })
        })
        .collect();
    m.parameters = serde_json::json!({
        "start": run.start.to_string(),
        "weekend": format!("{:?}", run.timeline.calendar.policy),
        "sims": job.each.sims,
        "stages": stages,
        "events": run.timeline.events.len(),
    });
    m.write(&out)
        .with_context(|| format!("writing {}", out.display()))?;
    run.files = files;
    Ok(run)
}

impl CampaignRun {
    /// The text `xenoplan timeline` prints for a campaign: span, one line per stage, notes,
    /// files.
    pub fn text(&self) -> String {
        use std::fmt::Write as _;
        let tl = &self.timeline;
        let date = |d: i64| {
            tl.calendar
                .date(d)
                .map(|d| d.to_string())
                .unwrap_or_default()
        };
        let mut o = String::new();
        let _ = writeln!(
            o,
            "{}: {} stages, {} events from {} to {} ({} days)",
            tl.protocol_id,
            self.stages.len(),
            tl.events.len(),
            self.start,
            date(tl.last_day() - 1),
            tl.last_day()
        );
        for s in &self.stages {
            let what = match &s.protocol_id {
                Some(p) => format!("protocol `{p}`"),
                None => "activity".to_string(),
            };
            let anchor = if s.anchor == s.start {
                String::new()
            } else {
                format!(", anchor {}", date(s.anchor))
            };
            let _ = writeln!(
                o,
                "  {} ({what}): {} to {}{anchor}; {}",
                s.id,
                date(s.start),
                date(s.end - 1),
                s.why
            );
        }
        for (ph, co, e, s) in &tl.conditions {
            let _ = writeln!(
                o,
                "  {ph} ({co}): enrollment day {:.1} [5-95%: {:.1}-{:.1}] → {}",
                e.median_day,
                e.p05,
                e.p95,
                date(s + e.median_day.round() as i64)
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
