//! The campaign report page: the dated stages, the campaign's Gantt chart and weekly digest,
//! and a link to each linked protocol's own report (written into a sub-folder per stage).

use super::build::{campaign_timeline_blocks, figure_blocks_of};
use super::html::{Block, Page, Section, Table};
use std::path::Path;

/// One stage as listed on the page.
#[derive(Debug, Clone)]
pub struct StageRow {
    /// Stage id.
    pub id: String,
    /// `protocol <id>` or `activity`.
    pub what: String,
    /// First and last date.
    pub dates: (String, String),
    /// How the stage was placed.
    pub why: String,
    /// Link to the stage's report (`<stage>/index.html`) and its title; `None` for activities.
    pub report: Option<(String, String)>,
    /// Why the stage's report failed, if it did.
    pub failure: Option<String>,
}

/// The whole page of a campaign whose timeline files are in `dir`.
pub fn build_page(title: &str, subtitle: String, dir: &Path, stages: &[StageRow]) -> Page {
    let mut s = Section::new("stages", "Stages");
    s.push(Block::Table(Table {
        caption: "Stages in dependency order (dates from the campaign timeline)".into(),
        header: ["stage", "what", "first day", "last day", "placed"]
            .map(String::from)
            .to_vec(),
        rows: stages
            .iter()
            .map(|r| {
                vec![
                    r.id.clone(),
                    r.what.clone(),
                    r.dates.0.clone(),
                    r.dates.1.clone(),
                    r.why.clone(),
                ]
            })
            .collect(),
    }));
    let mut links = Section::new("reports", "Protocol reports");
    links.push(Block::Para(
        "Each linked protocol has its own report (timeline from its scheduled start, simulation, power), written into the stage's sub-folder:".into(),
    ));
    links.push(Block::Links(
        stages
            .iter()
            .filter_map(|r| {
                let (href, t) = r.report.as_ref()?;
                Some((href.clone(), format!("{}: {t}", r.id)))
            })
            .collect(),
    ));
    let failed: Vec<String> = stages
        .iter()
        .filter_map(|r| Some(format!("{} failed: {}", r.id, r.failure.as_ref()?)))
        .collect();
    if !failed.is_empty() {
        links.push(Block::List(failed));
    }
    let mut tl = Section::new("timeline", "Campaign timeline");
    tl.blocks.extend(figure_blocks_of(
        dir,
        "gantt",
        "Gantt chart of the campaign: each stage's phases and activities as bars (rows `stage: …`)",
    ));
    tl.blocks.extend(campaign_timeline_blocks(dir));
    Page {
        title: title.to_string(),
        subtitle,
        sections: vec![s, links, tl],
    }
}
