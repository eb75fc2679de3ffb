//! Campaigns: several protocols (and campaign-level activities such as expanding cells for
//! implantation) linked into one dated dry run — e.g. derive TamR-MCF-7 (months) → validate →
//! expand → implant the xenograft.
//!
//! A campaign file is TOML with a top-level `[campaign]` table ([`is_campaign`]); [`load`]
//! parses and validates it with the protocols' positioned diagnostics (unknown keys, bad
//! references, cycles and unreadable linked files are errors naming what exists) and loads
//! every linked protocol. [`schedule::run`] dates each linked protocol with the single-protocol
//! timeline ([`crate::study::timeline::build`], shifted to its start) and writes one calendar.

mod file;
pub mod report;
pub mod schedule;

pub use schedule::{CampaignJob, CampaignRun, run};

use crate::protocol::{LoadError, Loaded};
use std::path::{Path, PathBuf};

/// A validated campaign with its linked protocols loaded.
#[derive(Debug, Clone)]
pub struct Campaign {
    /// Campaign id (default output folder `output/<id>/`).
    pub id: String,
    /// Title.
    pub title: String,
    /// Free text.
    pub description: String,
    /// Stages in dependency order (every stage after the one it follows).
    pub stages: Vec<Stage>,
    /// Path as given.
    pub path: PathBuf,
    /// File bytes (sha256 in the manifest).
    pub bytes: Vec<u8>,
}

/// One stage of a campaign: a linked protocol or a campaign-level activity.
#[derive(Debug, Clone)]
pub struct Stage {
    /// Stage id, unique in the campaign.
    pub id: String,
    /// What this stage follows; `None` = it starts on the campaign's start date (+ lag).
    pub after: Option<Link>,
    /// Days between the end of `after` and this stage's anchor.
    pub lag: SourcedDays,
    /// Protocol or activity.
    pub kind: StageKind,
}

/// A number of days with its source (every campaign number is sourced or marked assumed).
#[derive(Debug, Clone, PartialEq)]
pub struct SourcedDays {
    /// Days.
    pub days: i64,
    /// Source, or `"assumed; …"`; empty only for a lag of 0 left out of the file.
    pub source: String,
}

/// A reference to the end of a stage or of one of a protocol stage's phases / steps.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// Stage id.
    pub stage: String,
    /// Phase or step name of that stage's protocol; `None` = the whole stage.
    pub milestone: Option<String>,
}

impl std::fmt::Display for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.milestone {
            Some(m) => write!(f, "{}: {m}", self.stage),
            None => f.write_str(&self.stage),
        }
    }
}

/// What a stage is.
#[derive(Debug, Clone)]
pub enum StageKind {
    /// A protocol file dated by its own timeline.
    Protocol {
        /// The loaded protocol.
        loaded: Box<Loaded>,
        /// Phase or step of this protocol placed on the anchor date (`None`: its first day).
        align: Option<String>,
    },
    /// A campaign-level activity of a fixed duration (cell expansion, shipping, …).
    Activity(Activity),
}

/// A campaign-level activity.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    /// Label on the calendar and the Gantt chart.
    pub title: String,
    /// Duration.
    pub duration: SourcedDays,
    /// Free text (shown in the event details).
    pub details: String,
    /// Cells this activity expands: (protocol stage id, cohort); the campaign computes them
    /// from that protocol's animal plan ([`crate::timeline::cells_to_prepare`]).
    pub cells_for: Option<(String, String)>,
}

impl Campaign {
    /// The first linked protocol (in dependency order).
    pub fn first_protocol(&self) -> Option<&Loaded> {
        self.stages.iter().find_map(|s| match &s.kind {
            StageKind::Protocol { loaded, .. } => Some(loaded.as_ref()),
            StageKind::Activity(_) => None,
        })
    }
    /// Number of linked protocols.
    pub fn n_protocols(&self) -> usize {
        self.stages
            .iter()
            .filter(|s| matches!(s.kind, StageKind::Protocol { .. }))
            .count()
    }
}

/// True when `path` is a campaign file (TOML with a top-level `[campaign]` table); false for
/// protocols and for files that cannot be read or parsed (the protocol loader reports those).
pub fn is_campaign(path: &Path) -> bool {
    let Ok(text) = read_capped(path) else {
        return false;
    };
    let (doc, _) = toml::de::DeTable::parse_recoverable(&text);
    doc.get_ref().get("campaign").is_some()
}

/// Reads a campaign or protocol file up to [`crate::protocol::MAX_PROTOCOL_BYTES`] (+1 byte,
/// so a larger file is detected without reading it whole).
fn read_capped(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(crate::protocol::MAX_PROTOCOL_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > crate::protocol::MAX_PROTOCOL_BYTES {
        return Err(std::io::Error::other(format!(
            "the file is larger than {} MiB, the limit for a campaign",
            crate::protocol::MAX_PROTOCOL_BYTES >> 20
        )));
    }
    String::from_utf8(bytes).map_err(|_| std::io::Error::other("file is not valid UTF-8"))
}

/// Reads and validates a campaign file and every protocol it links (paths relative to the
/// campaign file's folder). Every problem is reported, positioned, in one error.
pub fn load(path: &Path) -> Result<Campaign, LoadError> {
    let text = read_capped(path).map_err(|error| LoadError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    file::parse(&text, path)
}

#[cfg(test)]
mod tests;
