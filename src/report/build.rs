//! Assembles the report page from an output folder written by the other commands.

use super::html::{Block, Page, Section, Table};
use super::{
    methods::{arrive_facts, methods_blocks},
    summary::protocol_blocks,
};
use crate::protocol::{Protocol, ProtocolKind};
use crate::sim::animals::AnimalPlan;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Facts shown under the title and the texts produced while running the stages.
#[derive(Debug, Clone, Default)]
pub struct ReportInfo {
    /// Seed used by simulation and power.
    pub seed: u64,
    /// Monte Carlo replicates used by power (0 = power not run).
    pub power_reps: usize,
    /// Timeline start date.
    pub start: String,
    /// Report date (YYYY-MM-DD).
    pub date: String,
    /// Text printed by the simulation stage (enrollment, in vitro summaries).
    pub simulate_text: String,
    /// Recommended n and animals to implant, as printed by `power`.
    pub power_summary: String,
    /// The sample-size justification paragraph (for an ethics / IACUC application).
    pub justification: String,
    /// The panel power table, recommendation and warnings (`[panel]` protocols).
    pub panel_summary: String,
    /// The panel's sample-size justification.
    pub panel_justification: String,
    /// Animals to order and implant per cohort at the protocol's arm sizes (the timeline's
    /// plans: the same numbers as `resources.csv` and the simulated pool).
    pub animal_plans: Vec<AnimalPlan>,
    /// The same computation at the n per arm recommended by `power`.
    pub power_animal_plans: Vec<AnimalPlan>,
    /// Stages that failed, with their error, shown in the report instead of hiding them.
    pub failures: Vec<(String, String)>,
    /// Wall time per stage, seconds.
    pub timings: Vec<(String, f64)>,
}

/// SVG figures under `dir/plots` whose file stem starts with `prefix`, sorted by name.
fn figures(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir.join("plots"))
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "svg"))
                .filter(|p| {
                    p.file_stem()
                        .is_some_and(|s| s.to_string_lossy().starts_with(prefix))
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn figure_blocks(dir: &Path, prefix: &str, caption: &str) -> Vec<Block> {
    figures(dir, prefix)
        .into_iter()
        .filter_map(|p| {
            let svg = std::fs::read_to_string(&p).ok()?;
            let stem = p.file_stem()?.to_string_lossy().into_owned();
            let png = format!("plots/{stem}.png");
            let suffix = stem
                .strip_prefix(prefix)
                .unwrap_or("")
                .trim_start_matches('_')
                .replace('_', " ");
            let cap = if suffix.is_empty() {
                caption.to_string()
            } else {
                format!("{caption} ({suffix})")
            };
            Some(Block::Figure {
                svg,
                caption: cap,
                png_link: Some(png),
            })
        })
        .collect()
}

fn csv_table(dir: &Path, file: &str, caption: &str, max_rows: Option<usize>) -> Option<Block> {
    let p = dir.join(file);
    if !p.exists() {
        return None;
    }
    Table::from_csv(&p, caption, max_rows)
        .ok()
        .filter(|t| !t.rows.is_empty())
        .map(Block::Table)
}

/// Weekly digest of `timeline.csv`: one row per week with its dates, study days and the count
/// of each event type (the full event list stays in the CSV / Markdown / iCalendar files).
fn weekly_timeline(dir: &Path) -> Option<Block> {
    let mut rdr = csv::Reader::from_path(dir.join("timeline.csv")).ok()?;
    let headers = rdr.headers().ok()?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (cd, cs, ce, cp) = (
        col("date")?,
        col("study_day")?,
        col("event")?,
        col("phase")?,
    );
    // week key (Monday date) → (first date, last date, min day, max day, phases, event counts)
    type Week = (
        String,
        String,
        i64,
        i64,
        Vec<String>,
        BTreeMap<String, usize>,
    );
    let mut weeks: BTreeMap<String, Week> = BTreeMap::new();
    for rec in rdr.records().flatten() {
        let date = rec.get(cd).unwrap_or("").to_string();
        let Ok(d) = date.parse::<jiff::civil::Date>() else {
            continue;
        };
        let monday = d
            .checked_sub(jiff::Span::new().days(i64::from(d.weekday().to_monday_zero_offset())))
            .ok()?;
        let day: i64 = rec
            .get(cs)
            .and_then(|s| s.trim().parse::<f64>().ok())
            .map(|x| x as i64)
            .unwrap_or(0);
        let w = weeks.entry(monday.to_string()).or_insert_with(|| {
            (
                date.clone(),
                date.clone(),
                day,
                day,
                Vec::new(),
                BTreeMap::new(),
            )
        });
        if date < w.0 {
            w.0 = date.clone();
        }
        if date > w.1 {
            w.1 = date.clone();
        }
        w.2 = w.2.min(day);
        w.3 = w.3.max(day);
        let phase = rec.get(cp).unwrap_or("").to_string();
        if !phase.is_empty() && !w.4.contains(&phase) {
            w.4.push(phase);
        }
        *w.5.entry(rec.get(ce).unwrap_or("").to_string())
            .or_default() += 1;
    }
    if weeks.is_empty() {
        return None;
    }
    let rows = weeks
        .into_iter()
        .map(|(monday, (first, last, d0, d1, phases, counts))| {
            let events = counts
                .iter()
                .map(|(k, n)| format!("{k} ×{n}"))
                .collect::<Vec<_>>()
                .join(", ");
            vec![
                monday,
                format!("{first} – {last}"),
                format!("{d0} to {d1}"),
                phases.join(", "),
                events,
            ]
        })
        .collect();
    Some(Block::Table(Table {
        caption: "Timeline by week (event counts; every event with its date is in timeline.csv, timeline.md and timeline.ics)".into(),
        header: vec!["week of".into(), "dates".into(), "study days".into(), "phases".into(), "events".into()],
        rows,
    }))
}

/// The protocol section: identity, seed, start and every parameter with its source.
fn summary_section(protocol: &Protocol, info: &ReportInfo) -> Section {
    let kind = protocol.kind();
    let mut s = Section::new("summary", "Protocol");
    // The first reference is the seed document; the full list closes the protocol section.
    let refs = protocol
        .references
        .first()
        .map(|r| r.citation.clone())
        .unwrap_or_default();
    s.push(Block::Facts(vec![
        ("id".into(), protocol.id.clone()),
        ("kind".into(), kind.as_str().into()),
        (
            "seed document".into(),
            if refs.is_empty() { "—".into() } else { refs },
        ),
        ("seed".into(), info.seed.to_string()),
        ("timeline start".into(), info.start.clone()),
    ]));
    s.blocks.extend(protocol_blocks(protocol));
    s
}

/// The one mouse total of the page and how the power analysis' number relates to it; `None`
/// without animals (in vitro).
pub fn animal_sentence(plans: &[AnimalPlan], at_power: &[AnimalPlan]) -> Option<String> {
    if plans.is_empty() {
        return None;
    }
    let total: u32 = plans.iter().map(|p| p.implant_total).sum();
    let per: Vec<String> = plans
        .iter()
        .map(|p| format!("{} {}", p.cohort, p.implant_total))
        .collect();
    let mut out = format!(
        "Mice: {total} to order and implant ({}) for the protocol's arm sizes, spares included — one computation gives resources.csv, the timeline's animal counts and the simulated study's implanted pool (the simulation then randomizes n per arm: it models no non-endpoint attrition).",
        per.join(", ")
    );
    for q in at_power {
        let Some(p) = plans.iter().find(|p| p.cohort == q.cohort) else {
            continue;
        };
        if q.implant_total != p.implant_total {
            out.push_str(&format!(
                " At the n = {} per arm that the power analysis recommends for {} (the protocol has n = {}), the same computation gives {} instead of {}.",
                q.n_per_arm, q.cohort, p.n_per_arm, q.implant_total, p.implant_total
            ));
        }
    }
    Some(out)
}

/// Gantt chart, weekly digest and resources.
fn timeline_section(dir: &Path, info: &ReportInfo) -> Section {
    let mut s = Section::new("timeline", "Timeline and resources");
    if let Some(t) = animal_sentence(&info.animal_plans, &info.power_animal_plans) {
        s.push(Block::Para(t));
    }
    s.blocks.extend(figure_blocks(
        dir,
        "gantt",
        "Gantt chart: phases as bars, recurring events as ticks, uncertain windows shaded",
    ));
    s.blocks.extend(weekly_timeline(dir));
    s.blocks.extend(csv_table(
        dir,
        "resources.csv",
        "Resources to order and prepare",
        None,
    ));
    s
}

/// The simulated study and the power sections of a xenograft protocol.
fn xenograft_sections(dir: &Path, info: &ReportInfo) -> [Section; 2] {
    let mut s = Section::new("study", "Simulated study");
    if !info.simulate_text.is_empty() {
        s.push(Block::Pre(info.simulate_text.clone()));
    }
    // The study's figures, then its tables (file, caption, row cap), in reading order.
    for (stem, caption) in [
        ("growth", "Tumor volume, mean ± SEM per arm"),
        ("spaghetti", "Every animal, colored by arm"),
        (
            "body_weight",
            "Body weight, mean ± SEM % change from baseline, with the weight-loss limit",
        ),
        ("tgi", "TGI% over time with bootstrap 95% CI"),
        ("waterfall", "Best response per animal (mRECIST bands)"),
        ("survival", "Kaplan–Meier time to endpoint"),
    ] {
        s.blocks.extend(figure_blocks(dir, stem, caption));
    }
    for (file, caption, rows) in [
        (
            "tests.csv",
            "Tests, each arm vs its control (raw and Holm-adjusted p-values)",
            None,
        ),
        ("tgi.csv", "TGI and T/C by arm and day", Some(60)),
        ("response.csv", "mRECIST per animal", Some(80)),
        (
            "summary.csv",
            "Tumor volume summary by arm and day",
            Some(60),
        ),
        (
            "dose_modifications.csv",
            "Dose holidays per animal ([dose-modification]): how many, the study day each started, and when dosing stopped",
            Some(120),
        ),
        (
            "study_stop.csv",
            "Study stop ([study-stop]): the fixed end and the day this simulated study ended",
            None,
        ),
    ] {
        s.blocks.extend(csv_table(dir, file, caption, rows));
    }
    let study = s;

    let mut s = Section::new("power", "Power and arm size");
    s.blocks.extend(figure_blocks(
        dir,
        "power",
        "Monte Carlo power vs n per arm with Wilson 95% band",
    ));
    if !info.power_summary.is_empty() {
        s.push(Block::Pre(info.power_summary.clone()));
    }
    if !info.justification.is_empty() {
        s.push(Block::Para(
            "Sample-size justification (to paste into an ethics / IACUC application):".into(),
        ));
        s.push(Block::Callout(info.justification.clone()));
    }
    s.blocks.extend(csv_table(
        dir,
        "power.csv",
        "Power by n per arm, comparison and endpoint",
        Some(120),
    ));
    s.blocks.extend(csv_table(
        dir,
        "stop_days.csv",
        "Day the simulated studies ended under [study-stop], by n per arm (the fixed end when the rule was not met)",
        Some(120),
    ));
    [study, s]
}

/// The panel power section (`panel/`, written by the panel stage): power of the pooled test
/// vs mice per line for each number of lines, the recommended lines × mice, its paragraph.
fn panel_section(dir: &Path, info: &ReportInfo) -> Option<Section> {
    let pdir = dir.join("panel");
    if !pdir.join("power.csv").exists() {
        return None;
    }
    let mut s = Section::new("panel", "Panel: lines × mice per line");
    for mut b in figure_blocks(
        &pdir,
        "power",
        "Pooled-test power vs mice per arm per line, one curve per number of lines (Wilson 95% band)",
    ) {
        if let Block::Figure { png_link, .. } = &mut b {
            *png_link = png_link.take().map(|l| format!("panel/{l}"));
        }
        s.push(b);
    }
    if !info.panel_summary.is_empty() {
        s.push(Block::Pre(info.panel_summary.clone()));
    }
    if !info.panel_justification.is_empty() {
        s.push(Block::Callout(info.panel_justification.clone()));
    }
    s.blocks.extend(csv_table(
        &pdir,
        "power.csv",
        "Panel power by lines, mice per line and pooled test (panel/power.csv)",
        Some(120),
    ));
    Some(s)
}

/// The figures `dir/plots/<prefix>*.svg` as blocks (for the campaign page).
pub(super) fn figure_blocks_of(dir: &Path, prefix: &str, caption: &str) -> Vec<Block> {
    figure_blocks(dir, prefix, caption)
}

/// The campaign page's weekly digest and resources (the single-protocol tables).
pub(super) fn campaign_timeline_blocks(dir: &Path) -> Vec<Block> {
    let mut v: Vec<Block> = weekly_timeline(dir).into_iter().collect();
    v.extend(csv_table(
        dir,
        "resources.csv",
        "Resources of every stage (`all`: sums over stages)",
        None,
    ));
    v
}

/// The simulated derivation or assay section.
fn invitro_section(dir: &Path, kind: ProtocolKind, info: &ReportInfo) -> Section {
    let mut s = Section::new(
        "invitro",
        if kind == ProtocolKind::Derivation {
            "Simulated derivation"
        } else {
            "Simulated assay"
        },
    );
    // A warning of the summary (time to resistance outside the cited range) is shown first.
    for w in info
        .simulate_text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("WARNING: "))
    {
        s.push(Block::Callout(format!("Warning: {w}")));
    }
    if !info.simulate_text.is_empty() {
        s.push(Block::Pre(info.simulate_text.clone()));
    }
    s.blocks.extend(figure_blocks(
        dir,
        "population",
        "Cells (log scale), resistant fraction and drug over time",
    ));
    s.blocks.extend(figure_blocks(
        dir,
        "dose_response",
        "Dose response with fitted four-parameter logistic curves",
    ));
    s.blocks.extend(csv_table(
        dir,
        "ic50.csv",
        "IC50 estimates with 95% CI",
        None,
    ));
    s.blocks.extend(ic50_trajectory_blocks(dir));
    s.blocks.extend(csv_table(
        dir,
        "arms.csv",
        "Arms after the split, per replicate: outcome and last IC50 check",
        Some(60),
    ));
    s.blocks.extend(csv_table(
        dir,
        "replicates.csv",
        "Replicate derivations",
        Some(40),
    ));
    s.blocks.extend(figure_blocks(
        dir,
        "power",
        "In vitro power by replicate wells per condition (Wilson 95% CI bands)",
    ));
    if !info.power_summary.is_empty() {
        s.push(Block::Pre(info.power_summary.clone()));
    }
    if !info.justification.is_empty() {
        s.push(Block::Para(info.justification.clone()));
    }
    s
}

/// The derivation's repeated IC50 checks: `plots/ic50_over_time` and run 1's checks as a
/// table (censored IC50s shown as "> top dose"; the full table of every run is
/// `ic50_over_time.csv`).
fn ic50_trajectory_blocks(dir: &Path) -> Vec<Block> {
    let mut v = figure_blocks(
        dir,
        "ic50_over_time",
        "IC50 of the pool and of the parental line at each check, with the tested dose range",
    );
    if let Some(rows) = crate::invitro::checks::trajectory_rows(dir).filter(|r| !r.is_empty()) {
        v.push(Block::Table(Table {
            caption: "IC50 checks, run 1 (all runs: ic50_over_time.csv)".into(),
            header: [
                "day",
                "line",
                "IC50 (95% CI)",
                "fold shift vs parental",
                "resistant fraction",
            ]
            .map(String::from)
            .to_vec(),
            rows: rows.into_iter().map(|r| r.to_vec()).collect(),
        }));
    }
    v
}

/// Failed stages and timings, when there are any.
fn run_section(info: &ReportInfo) -> Option<Section> {
    if !info.failures.is_empty() || !info.timings.is_empty() {
        let mut s = Section::new("run", "Run details");
        if !info.failures.is_empty() {
            s.push(Block::List(
                info.failures
                    .iter()
                    .map(|(stage, e)| format!("{stage} failed: {e}"))
                    .collect(),
            ));
        }
        if !info.timings.is_empty() {
            s.push(Block::Facts(
                info.timings
                    .iter()
                    .map(|(k, t)| (k.clone(), format!("{t:.2} s")))
                    .collect(),
            ));
        }
        return Some(s);
    }
    None
}

/// The design check's findings (`design_check.csv`, written by the power stage), first on
/// the page: a study that cannot answer its question is said before its numbers.
fn design_section(dir: &Path) -> Option<Section> {
    let p = dir.join("design_check.csv");
    if !p.exists() {
        return None;
    }
    let mut s = Section::new("design", "Design check");
    let rows = std::fs::read_to_string(&p)
        .ok()?
        .lines()
        .count()
        .saturating_sub(1);
    if rows == 0 {
        s.push(Block::Para(
            "No findings: the pilot study shows no problem the design check knows of.".into(),
        ));
    } else {
        s.push(Block::Para(format!(
            "{rows} finding(s) from the protocol and a seeded pilot study (`xenoplan check --design`). A problem means the study cannot answer its question as written; a warning is likely to cost animals or bias a number."
        )));
        if let Some(t) = csv_table(dir, "design_check.csv", "Design check findings", None) {
            s.push(t);
        }
    }
    Some(s)
}

/// Builds the whole page for `protocol` from the files in `dir`.
pub fn build_page(protocol: &Protocol, dir: &Path, info: &ReportInfo) -> Page {
    let kind = protocol.kind();
    let mut sections = Vec::new();

    sections.extend(design_section(dir));
    sections.push(summary_section(protocol, info));
    sections.push(timeline_section(dir, info));
    match kind {
        ProtocolKind::Xenograft => {
            sections.extend(xenograft_sections(dir, info));
            sections.extend(panel_section(dir, info));
        }
        ProtocolKind::Derivation | ProtocolKind::Assay => {
            sections.push(invitro_section(dir, kind, info))
        }
        ProtocolKind::Procedure => {}
    }

    sections.extend(run_section(info));

    if let Some(facts) = arrive_facts(protocol) {
        let mut s = Section::new("arrive", "ARRIVE 2.0 items");
        s.blocks.push(Block::Para(
            "The ARRIVE 2.0 guideline items this protocol answers (Percie du Sert et al., PLoS Biol 2020;18:e3000410), numbered as in the guideline; items 7 (statistical methods) and 9 (experimental procedures) are the methods below and the protocol summary above.".into(),
        ));
        s.blocks.push(Block::Facts(facts));
        sections.push(s);
    }
    let mut s = Section::new("methods", "Methods and definitions");
    s.blocks = methods_blocks(kind);
    sections.push(s);

    Page {
        title: protocol.title.clone(),
        subtitle: format!(
            "{} protocol `{}` · seed {} · xenoplan {} · {}",
            kind.as_str(),
            protocol.id,
            info.seed,
            env!("CARGO_PKG_VERSION"),
            info.date
        ),
        sections,
    }
}
