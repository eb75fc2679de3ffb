//! The campaign file format and its validation (positioned diagnostics, as for protocols).

use super::{Activity, Campaign, Link, SourcedDays, Stage, StageKind};
use crate::protocol::diag::{KeyPath, SpanIndex, closest, closest_key, ignored_path};
use crate::protocol::{Body, Diagnostic, LoadError, Loaded, Protocol, Severity};
use std::collections::HashMap;
use std::path::Path;

/// The file as written.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
struct FileCampaign {
    campaign: FileHeader,
    #[serde(default)]
    protocol: Vec<FileProtocol>,
    #[serde(default)]
    activity: Vec<FileActivity>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
struct FileHeader {
    id: String,
    title: String,
    #[serde(default)]
    description: String,
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
struct FileProtocol {
    id: String,
    file: String,
    after: Option<String>,
    lag_days: Option<FileDays>,
    align: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
struct FileActivity {
    id: String,
    title: String,
    after: Option<String>,
    lag_days: Option<FileDays>,
    duration_days: FileDays,
    #[serde(default)]
    details: String,
    cells_for: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
struct FileDays {
    value: i64,
    source: String,
}

/// Valid keys per table (for unknown-key hints).
const TOP_KEYS: &[&str] = &["campaign", "protocol", "activity"];
const HEADER_KEYS: &[&str] = &["id", "title", "description"];
const PROTOCOL_KEYS: &[&str] = &["id", "file", "after", "lag-days", "align"];
const ACTIVITY_KEYS: &[&str] = &[
    "id",
    "title",
    "after",
    "lag-days",
    "duration-days",
    "details",
    "cells-for",
];
const DAYS_KEYS: &[&str] = &["value", "source"];
/// Longest lag or activity accepted: 10 years (a guard against typos, not a lab rule).
const MAX_DAYS: i64 = 3650;

/// Diagnostics collected while validating one campaign file.
struct Cx<'a> {
    label: String,
    text: &'a str,
    spans: SpanIndex<'a>,
    diags: Vec<Diagnostic>,
}

impl Cx<'_> {
    fn error(&mut self, path: &KeyPath, msg: String) {
        let span = self.spans.value(path);
        self.diags.push(Diagnostic::at(
            Severity::Error,
            msg,
            &self.label,
            self.text,
            span,
        ));
    }
    fn error_key(&mut self, path: &KeyPath, msg: String) {
        let span = self.spans.key(path);
        self.diags.push(Diagnostic::at(
            Severity::Error,
            msg,
            &self.label,
            self.text,
            span,
        ));
    }
}

/// Parses and validates campaign `text` read from `path`.
pub(super) fn parse(text: &str, path: &Path) -> Result<Campaign, LoadError> {
    let _lines = crate::protocol::diag::LineScope::new(text);
    let label = path.display().to_string();
    let invalid = |diagnostics| LoadError::Invalid {
        path: path.to_path_buf(),
        diagnostics,
    };
    let (doc, syntax) = toml::de::DeTable::parse_recoverable(text);
    if !syntax.is_empty() {
        let diags = syntax
            .iter()
            .map(|e| {
                let span = e.span().unwrap_or(0..0);
                Diagnostic::at(Severity::Error, e.message().to_string(), &label, text, span)
            })
            .collect();
        return Err(invalid(diags));
    }
    let mut cx = Cx {
        label: label.clone(),
        text,
        spans: SpanIndex::new(&doc),
        diags: Vec::new(),
    };
    let mut ignored: Vec<KeyPath> = Vec::new();
    let de = toml::Deserializer::from(doc.clone());
    let r: Result<FileCampaign, toml::de::Error> =
        serde_ignored::deserialize(de, |p| ignored.push(ignored_path(&p)));
    for p in &ignored {
        unknown_key(&mut cx, p);
    }
    let f = match r {
        Ok(f) => f,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let m = e.message().replace("expected i64", "expected an integer");
            let at = cx.spans.path_at(&span);
            let msg = match &at {
                Some(p) if !p.0.is_empty() => format!("`{p}`: {m}"),
                _ => m,
            };
            cx.diags
                .push(Diagnostic::at(Severity::Error, msg, &label, text, span));
            return Err(invalid(cx.diags));
        }
    };
    let dir = path.parent().unwrap_or(Path::new(""));
    let stages = convert(&f, dir, &mut cx);
    if cx.diags.iter().any(|d| d.is_error()) {
        return Err(invalid(cx.diags));
    }
    Ok(Campaign {
        id: f.campaign.id,
        title: f.campaign.title,
        description: f.campaign.description,
        stages,
        path: path.to_path_buf(),
        bytes: text.as_bytes().to_vec(),
    })
}

/// Unknown key → error with the closest valid key at that place.
fn unknown_key(cx: &mut Cx, p: &KeyPath) {
    let key = p.last_key().unwrap_or("?").to_string();
    let parent = p.parent();
    let place = parent.to_string();
    let valid: &[&str] = match parent.0.as_slice() {
        [] => TOP_KEYS,
        [crate::protocol::diag::Seg::Key(k)] if k == "campaign" => HEADER_KEYS,
        [crate::protocol::diag::Seg::Key(k), _] if k == "protocol" => PROTOCOL_KEYS,
        [crate::protocol::diag::Seg::Key(k), _] if k == "activity" => ACTIVITY_KEYS,
        [_, _, _] => DAYS_KEYS,
        _ => &[],
    };
    let hint = match closest_key(&key, valid.iter().copied()) {
        Some(c) => format!("did you mean `{c}`?"),
        None if valid.is_empty() => "remove it".into(),
        None => format!("valid keys here: {}", valid.join(", ")),
    };
    let at = if place.is_empty() {
        "at top level".to_string()
    } else {
        format!("in `{place}`")
    };
    cx.error_key(p, format!("unknown key `{key}` {at} of a campaign; {hint}"));
}

/// A stage as read, before ordering.
struct Raw {
    id: String,
    path: KeyPath,
    after: Option<Link>,
    lag: SourcedDays,
    kind: StageKind,
}

/// Validates the stages and their links; returns them in dependency order.
fn convert(f: &FileCampaign, dir: &Path, cx: &mut Cx) -> Vec<Stage> {
    let root = KeyPath::root();
    if f.campaign.id.trim().is_empty() {
        cx.error(&root.k("campaign").k("id"), "`id` must not be empty".into());
    }
    let mut raws: Vec<Raw> = Vec::new();
    for (i, p) in f.protocol.iter().enumerate() {
        let at = root.k("protocol").i(i);
        let lag = days(cx, &at.k("lag-days"), p.lag_days.as_ref(), false);
        let after = p.after.as_deref().map(parse_link);
        let loaded = load_linked(cx, &at.k("file"), dir, &p.file);
        if let Some(l) = loaded {
            if let Some(a) = &p.align {
                check_milestone(cx, &at.k("align"), &p.id, &l.protocol, a);
            }
            let kind = StageKind::Protocol {
                loaded: Box::new(l),
                align: p.align.clone(),
            };
            raws.push(Raw {
                id: p.id.clone(),
                path: at,
                after,
                lag,
                kind,
            });
        }
    }
    for (i, a) in f.activity.iter().enumerate() {
        let at = root.k("activity").i(i);
        let lag = days(cx, &at.k("lag-days"), a.lag_days.as_ref(), false);
        let duration = days(cx, &at.k("duration-days"), Some(&a.duration_days), true);
        let cells_for = a.cells_for.as_deref().map(|s| {
            let l = parse_link(s);
            (l.stage, l.milestone.unwrap_or_default())
        });
        raws.push(Raw {
            id: a.id.clone(),
            path: at,
            after: a.after.as_deref().map(parse_link),
            lag,
            kind: StageKind::Activity(Activity {
                title: a.title.clone(),
                duration,
                details: a.details.clone(),
                cells_for,
            }),
        });
    }
    let n_files = f.protocol.len() + f.activity.len();
    if n_files == 0 {
        cx.error(
            &root.k("campaign"),
            "a campaign needs at least one `[[protocol]]` (and may add `[[activity]]` stages)"
                .into(),
        );
    }
    check_ids(cx, &raws);
    if raws.len() < n_files {
        // A linked protocol did not load: its references cannot be checked.
        return Vec::new();
    }
    check_links(cx, &raws);
    order(cx, raws)
}

/// `"stage"` or `"stage: milestone"`.
fn parse_link(s: &str) -> Link {
    match s.split_once(':') {
        Some((a, b)) => Link {
            stage: a.trim().to_string(),
            milestone: Some(b.trim().to_string()),
        },
        None => Link {
            stage: s.trim().to_string(),
            milestone: None,
        },
    }
}

/// A sourced number of days; `required` for durations (> 0); lags may be left out (0).
fn days(cx: &mut Cx, at: &KeyPath, d: Option<&FileDays>, required: bool) -> SourcedDays {
    let Some(d) = d else {
        return SourcedDays {
            days: 0,
            source: String::new(),
        };
    };
    let min = i64::from(required);
    if d.value < min || d.value > MAX_DAYS {
        cx.error(
            &at.k("value"),
            format!(
                "`{}` must be {} and at most {MAX_DAYS} days, got {}",
                at.last_key().unwrap_or("days"),
                if required { "> 0" } else { "≥ 0" },
                d.value
            ),
        );
    }
    if d.source.trim().is_empty() {
        cx.error(
            &at.k("source"),
            "`source` must name the reference, or say `assumed; …` with the reason".into(),
        );
    }
    SourcedDays {
        days: d.value.clamp(0, MAX_DAYS),
        source: d.source.clone(),
    }
}

/// Loads a linked protocol (path relative to the campaign's folder); a problem is an error
/// at `file`.
fn load_linked(cx: &mut Cx, at: &KeyPath, dir: &Path, file: &str) -> Option<Loaded> {
    let path = dir.join(file);
    if super::is_campaign(&path) {
        cx.error(
            at,
            format!(
                "`{}` is a campaign; a campaign links protocol files, not other campaigns",
                path.display()
            ),
        );
        return None;
    }
    match crate::protocol::load(&path) {
        Ok(l) => Some(l),
        Err(LoadError::Io { error, .. }) => {
            cx.error(
                at,
                format!(
                    "cannot read protocol file `{}` ({error}); paths are relative to the campaign file's folder",
                    path.display()
                ),
            );
            None
        }
        Err(e) => {
            let n = e.errors().count();
            cx.error(
                at,
                format!(
                    "protocol file `{}` is invalid ({n} error{}; run `xenoplan check {}`)",
                    path.display(),
                    if n == 1 { "" } else { "s" },
                    path.display()
                ),
            );
            None
        }
    }
}

/// Phase and step names of a protocol: the milestones `after` and `align` may name.
pub(super) fn milestones(p: &Protocol) -> (Vec<&str>, Vec<&str>) {
    let phases = p.phases.iter().map(|ph| ph.name.as_str()).collect();
    let mut steps: Vec<&str> = p.steps.iter().map(|s| s.name.as_str()).collect();
    if let Body::Procedure(pr) = &p.body {
        steps.extend(pr.tasks.iter().map(|t| t.name.as_str()));
    }
    (phases, steps)
}

/// Error unless `name` is a phase or step of protocol stage `stage`.
fn check_milestone(cx: &mut Cx, at: &KeyPath, stage: &str, p: &Protocol, name: &str) {
    let (phases, steps) = milestones(p);
    if phases.contains(&name) || steps.contains(&name) {
        return;
    }
    let hint = closest(name, phases.iter().chain(&steps).copied())
        .map(|c| format!("did you mean `{c}`? "))
        .unwrap_or_default();
    cx.error(
        at,
        format!(
            "protocol stage `{stage}` (`{}`) has no phase or step `{name}`; {hint}phases: {}; steps: {}",
            p.id,
            phases.join(", "),
            if steps.is_empty() {
                "none".to_string()
            } else {
                steps.join(", ")
            }
        ),
    );
}

/// Unique, non-empty stage ids.
fn check_ids(cx: &mut Cx, raws: &[Raw]) {
    let mut seen: HashMap<&str, &KeyPath> = HashMap::new();
    for r in raws {
        if r.id.trim().is_empty() || r.id.contains(':') {
            cx.error(
                &r.path.k("id"),
                format!("stage id `{}` must be non-empty and contain no `:`", r.id),
            );
        } else if let Some(first) = seen.insert(&r.id, &r.path) {
            cx.error(
                &r.path.k("id"),
                format!("stage id `{}` is already used by `{first}`", r.id),
            );
        }
    }
}

/// Every `after` names an existing stage (and a milestone of a protocol stage); every
/// `cells-for` names a protocol stage and one of its cohorts.
fn check_links(cx: &mut Cx, raws: &[Raw]) {
    let ids: Vec<&str> = raws.iter().map(|r| r.id.as_str()).collect();
    for r in raws {
        if let Some(l) = &r.after {
            link_target(cx, &r.path.k("after"), raws, &ids, l);
        }
        if let StageKind::Activity(a) = &r.kind
            && let Some((stage, cohort)) = &a.cells_for
        {
            cells_target(cx, &r.path.k("cells-for"), raws, &ids, stage, cohort);
        }
    }
}

fn unknown_stage(cx: &mut Cx, at: &KeyPath, ids: &[&str], stage: &str) {
    let hint = closest(stage, ids.iter().copied())
        .map(|c| format!("did you mean `{c}`? "))
        .unwrap_or_default();
    cx.error(
        at,
        format!("unknown stage `{stage}`; {hint}stages: {}", ids.join(", ")),
    );
}

fn link_target(cx: &mut Cx, at: &KeyPath, raws: &[Raw], ids: &[&str], l: &Link) {
    let Some(t) = raws.iter().find(|r| r.id == l.stage) else {
        unknown_stage(cx, at, ids, &l.stage);
        return;
    };
    match (&t.kind, &l.milestone) {
        (_, None) => {}
        (StageKind::Protocol { loaded, .. }, Some(m)) => {
            check_milestone(cx, at, &t.id, &loaded.protocol, m)
        }
        (StageKind::Activity(_), Some(m)) => cx.error(
            at,
            format!(
                "stage `{}` is an activity without phases; write `after = \"{}\"` (not `: {m}`)",
                t.id, t.id
            ),
        ),
    }
}

fn cells_target(cx: &mut Cx, at: &KeyPath, raws: &[Raw], ids: &[&str], stage: &str, cohort: &str) {
    let Some(t) = raws.iter().find(|r| r.id == stage) else {
        unknown_stage(cx, at, ids, stage);
        return;
    };
    let x = match &t.kind {
        StageKind::Protocol { loaded, .. } => loaded.protocol.xenograft(),
        StageKind::Activity(_) => None,
    };
    let Some(x) = x else {
        cx.error(
            at,
            format!("`cells-for` names stage `{stage}`, which is not a xenograft protocol"),
        );
        return;
    };
    let names: Vec<&str> = x.cohorts.iter().map(|c| c.name.as_str()).collect();
    if !names.contains(&cohort) {
        cx.error(
            at,
            format!(
                "`cells-for = \"{stage}: {cohort}\"`: stage `{stage}` has no cohort `{cohort}`; cohorts: {}",
                names.join(", ")
            ),
        );
    }
}

/// Stages in dependency order; a cycle of `after` links is an error naming it.
fn order(cx: &mut Cx, raws: Vec<Raw>) -> Vec<Stage> {
    let index: HashMap<&str, usize> = raws
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let parent = |i: usize| -> Option<usize> {
        let l = raws[i].after.as_ref()?;
        index.get(l.stage.as_str()).copied()
    };
    let mut depth = vec![0usize; raws.len()];
    let mut cyclic = false;
    for (i, d) in depth.iter_mut().enumerate() {
        let mut chain = vec![i];
        let mut cur = i;
        while let Some(p) = parent(cur) {
            if let Some(pos) = chain.iter().position(|&c| c == p) {
                // Report each cycle once, at the stage of the cycle listed first in the file.
                let cyc = &chain[pos..];
                if cyc.iter().min() == Some(&i) {
                    let names: Vec<&str> = cyc
                        .iter()
                        .chain(std::iter::once(&p))
                        .map(|&c| raws[c].id.as_str())
                        .collect();
                    cx.error(
                        &raws[i].path.k("after"),
                        format!(
                            "`after` links form a cycle: {}; each stage must follow one that ends before it",
                            names.join(" after ")
                        ),
                    );
                }
                cyclic = true;
                break;
            }
            chain.push(p);
            cur = p;
        }
        *d = chain.len();
    }
    if cyclic {
        return Vec::new();
    }
    let mut idx: Vec<usize> = (0..raws.len()).collect();
    idx.sort_by_key(|&i| depth[i]);
    let mut slots: Vec<Option<Raw>> = raws.into_iter().map(Some).collect();
    idx.into_iter()
        .filter_map(|i| slots[i].take())
        .map(|r| Stage {
            id: r.id,
            after: r.after,
            lag: r.lag,
            kind: r.kind,
        })
        .collect()
}
