//! `xenoplan report CAMPAIGN.toml`: the campaign's dated timeline (its own files and Gantt
//! chart in the output folder) and each linked protocol's report in `<out>/<stage-id>/`, from
//! the date the campaign schedules it, on one self-contained page (`index.html`).

use super::{Campaign, CampaignJob, StageKind};
use crate::output::{Manifest, write_atomic};
use crate::report::campaign::{StageRow, build_page};
use crate::study::Observer;
use crate::study::report::ReportJob;
use anyhow::Context;
use std::path::PathBuf;

/// What a campaign report runs: the campaign's timeline settings and each protocol report's.
#[derive(Debug, Clone)]
pub struct CampaignReportJob<'a> {
    /// The campaign and the timeline settings (`each.out` is the campaign's folder).
    pub timeline: CampaignJob<'a>,
    /// Seed, reps, n and threads of every protocol report (`protocol`, `start` and `out` are
    /// set per stage).
    pub seed: u64,
    /// Replicates of each protocol report (`None`: the report defaults).
    pub reps: Option<u64>,
    /// Worker threads.
    pub threads: Option<usize>,
}

/// A written campaign report.
#[derive(Debug, Clone)]
pub struct CampaignReport {
    /// `index.html`.
    pub index: PathBuf,
    /// Stages whose report failed, with the error (shown on the page too).
    pub failures: Vec<(String, String)>,
}

/// Dates the campaign, writes every protocol stage's report into its sub-folder and the
/// campaign page linking them.
pub fn run(job: &CampaignReportJob<'_>, obs: &dyn Observer) -> anyhow::Result<CampaignReport> {
    let c: &Campaign = job.timeline.campaign;
    let tl = super::run(&job.timeline, obs)?;
    let date = |d: i64| {
        tl.timeline
            .calendar
            .date(d)
            .map(|x| x.to_string())
            .unwrap_or_default()
    };
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for (st, d) in c.stages.iter().zip(&tl.stages) {
        let mut row = StageRow {
            id: d.id.clone(),
            what: d
                .protocol_id
                .as_ref()
                .map_or("activity".into(), |p| format!("protocol `{p}`")),
            dates: (date(d.start), date(d.end - 1)),
            why: d.why.clone(),
            report: None,
            failure: None,
        };
        if let StageKind::Protocol { loaded, .. } = &st.kind {
            let mut rj = ReportJob::new(loaded);
            rj.seed = job.seed;
            rj.reps = job.reps;
            rj.threads = job.threads;
            rj.start = tl.timeline.calendar.date(d.start);
            rj.out = Some(tl.out.join(&d.id));
            match crate::study::report::run(&rj, obs) {
                Ok(r) if r.failures.is_empty() => {}
                Ok(r) => row.failure = Some(stage_failures(&r.failures)),
                Err(e) => row.failure = Some(format!("{e:#}")),
            }
            row.report = Some((
                format!("{}/index.html", d.id),
                loaded.protocol.title.clone(),
            ));
            if let Some(f) = &row.failure {
                failures.push((d.id.clone(), f.clone()));
            }
        }
        rows.push(row);
    }
    let subtitle = format!(
        "campaign `{}` · {} stages from {} · seed {} · xenoplan {}",
        c.id,
        rows.len(),
        tl.start,
        job.seed,
        env!("CARGO_PKG_VERSION")
    );
    let page = build_page(&c.title, subtitle, &tl.out, &rows);
    let index = tl.out.join("index.html");
    write_atomic(&index, page.render().as_bytes())
        .with_context(|| format!("writing {}", index.display()))?;
    let mut m = Manifest::new("report").with_input(&c.path, &c.bytes);
    m.protocol_id = Some(c.id.clone());
    m.seed = Some(job.seed);
    m.files = tl.files.clone();
    m.files.extend(
        rows.iter()
            .filter_map(|r| r.report.as_ref().map(|x| x.0.clone())),
    );
    m.files
        .extend(["index.html".to_string(), "manifest.json".to_string()]);
    m.parameters = serde_json::json!({
        "start": tl.start.to_string(),
        "reps": job.reps,
        "stages": rows.iter().map(|r| serde_json::json!({"stage": r.id, "first": r.dates.0, "last": r.dates.1, "report": r.report.as_ref().map(|x| &x.0), "failure": r.failure})).collect::<Vec<_>>(),
    });
    m.write(&tl.out)
        .with_context(|| format!("writing {}", tl.out.display()))?;
    Ok(CampaignReport { index, failures })
}

fn stage_failures(f: &[(String, String)]) -> String {
    f.iter()
        .map(|(s, e)| format!("{s}: {e}"))
        .collect::<Vec<_>>()
        .join("; ")
}
