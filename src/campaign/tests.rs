//! Unit tests of campaign validation and scheduling.

use super::*;
use crate::study::Quiet;
use crate::study::timeline::TimelineJob;

fn repo(p: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// A campaign file in a temporary folder whose `file =` paths point at the bundled protocols.
fn campaign(body: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    let protocols = repo("protocols").display().to_string();
    let text = format!(
        "[campaign]\nid = \"c\"\ntitle = \"t\"\n\n{}",
        body.replace("@", &protocols)
    );
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn error_text(path: &std::path::Path) -> String {
    match load(path) {
        Ok(_) => panic!("{} loaded", path.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bundled_campaign_implants_after_validation_lag_and_expansion() {
    let c = load(&repo("protocols/campaigns/tamr_campaign.toml")).unwrap();
    let first = c.first_protocol().unwrap();
    let mut each = TimelineJob::new(first);
    each.start = Some(jiff::civil::date(2027, 1, 4));
    each.sims = 50;
    let run = schedule::schedule(&CampaignJob { campaign: &c, each }, &Quiet).unwrap();
    let tl = &run.timeline;
    let stage = |id: &str| run.stages.iter().find(|s| s.id == id).unwrap();
    // End of the derivation's validation phase (its MTT read-out) in the campaign's days.
    let deriv = tl
        .events
        .iter()
        .filter(|e| e.protocol.as_deref() == Some("tamr-derivation") && e.phase == "validation")
        .map(|e| e.day + 1)
        .max()
        .unwrap();
    let exp = &c.stages.iter().find(|s| s.id == "tamr-expansion").unwrap();
    let StageKind::Activity(a) = &exp.kind else {
        panic!("activity")
    };
    assert_eq!(stage("tamr-expansion").start, deriv + exp.lag.days);
    let implant: Vec<i64> = tl
        .events
        .iter()
        .filter(|e| {
            e.protocol.as_deref() == Some("tamr-xenograft") && e.label == "cell implantation"
        })
        .map(|e| e.day)
        .collect();
    assert_eq!(implant.len(), 2, "both cohorts are implanted");
    for d in implant {
        assert_eq!(d, deriv + exp.lag.days + a.duration.days);
    }
    // The mice arrive (acclimation) before the implantation, during the expansion.
    let x = stage("tamr-xenograft");
    assert!(x.start < x.anchor && x.start > stage("tamr-expansion").start);
    assert!(tl.events.iter().all(|e| e.protocol.is_some()));
    // Every stage's resources are listed, tagged with the stage.
    for id in ["tamr-derivation", "tamr-expansion", "tamr-xenograft"] {
        assert!(run.resources.iter().any(|(_, s)| s == id), "{id}");
    }
    let cells = run
        .resources
        .iter()
        .find(|(r, _)| r.item == "expand TamR-MCF-7 for implantation")
        .unwrap();
    assert!(
        cells.0.details.contains("cells to reach"),
        "{}",
        cells.0.details
    );
}

#[test]
fn cycle_is_an_error_naming_it() {
    let (_d, p) = campaign(
        r#"[[protocol]]
id = "x"
file = "@/tamr_mcf7_xenograft.toml"
after = "b"

[[activity]]
id = "a"
title = "a"
after = "x"
duration-days = { value = 1, source = "assumed" }

[[activity]]
id = "b"
title = "b"
after = "a"
duration-days = { value = 1, source = "assumed" }
"#,
    );
    let e = error_text(&p);
    assert!(
        e.contains("error: `after` links form a cycle: x after b after a after x"),
        "{e}"
    );
    assert_eq!(e.matches("cycle").count(), 1, "reported once: {e}");
}

#[test]
fn unknown_milestone_lists_phases_and_steps() {
    let (_d, p) = campaign(
        r#"[[protocol]]
id = "d"
file = "@/tamoxifen_resistant_mcf7_derivation.toml"

[[protocol]]
id = "x"
file = "@/tamr_mcf7_xenograft.toml"
after = "d: validaton"
align = "implantation"
"#,
    );
    let e = error_text(&p);
    assert!(
        e.contains("c.toml:12:9: error: protocol stage `d` (`tamoxifen-resistant-mcf7-derivation`) has no phase or step `validaton`; did you mean `validation`? phases: expansion, selection, validation; steps: bank parental stock"),
        "{e}"
    );
    assert!(
        e.contains("c.toml:13:9: error: protocol stage `x` (`tamr-mcf7-xenograft`) has no phase or step `implantation`"),
        "{e}"
    );
    assert!(e.contains("cell implantation"), "{e}");
}

#[test]
fn missing_file_unknown_stage_and_bad_numbers_are_errors() {
    let (_d, p) = campaign(
        r#"[[protocol]]
id = "d"
file = "no_such.toml"

[[activity]]
id = "a"
title = "a"
after = "e"
duration-days = { value = 0, source = "" }
"#,
    );
    let e = error_text(&p);
    assert!(e.contains("error: cannot read protocol file"), "{e}");
    assert!(e.contains("no_such.toml"), "{e}");
    assert!(e.contains("`duration-days` must be > 0"), "{e}");
    assert!(e.contains("`source` must name the reference"), "{e}");
}

#[test]
fn protocols_are_not_campaigns() {
    assert!(is_campaign(&repo("protocols/campaigns/tamr_campaign.toml")));
    assert!(!is_campaign(&repo("protocols/tamr_mcf7_xenograft.toml")));
    assert!(!is_campaign(&repo("no/such/file.toml")));
}

/// (line, col, message) of every error of a campaign that must not load.
fn positioned(path: &std::path::Path) -> Vec<(usize, usize, String)> {
    match load(path) {
        Ok(_) => panic!("{} loaded", path.display()),
        Err(e) => e
            .errors()
            .map(|d| (d.line, d.col, d.message.clone()))
            .collect(),
    }
}

#[test]
fn file_format_errors_point_at_their_key() {
    // Lines 1–4 are the header the helper writes; the body starts on line 5. A misspelled
    // key is an error at the key, and the field it leaves missing an error at its table.
    let (_d, p) = campaign(
        r#"[[protocol]]
id = "x"
file = "@/tamr_mcf7_xenograft.toml"

[[activity]]
id = "a"
title = "a"
after = "x"
duraton-days = { value = 3, source = "assumed" }
"#,
    );
    assert_eq!(
        positioned(&p),
        [
            (
                13,
                1,
                "unknown key `duraton-days` in `activity[0]` of a campaign; did you mean `duration-days`?"
                    .to_string()
            ),
            (9, 1, "`activity`: missing field `duration-days`".to_string()),
        ]
    );
}

#[test]
fn convert_errors_point_at_their_key_or_value() {
    let (_d, p) = campaign(
        r#"[[protocol]]
id = "x"
file = "@/tamr_mcf7_xenograft.toml"

[[protocol]]
id = "x"
file = "@/tamoxifen_resistant_mcf7_derivation.toml"

[[activity]]
id = "a"
title = "a"
after = "x"
duration-days = { value = 3, source = "assumed" }
lag-days = { value = -2, source = " " }
"#,
    );
    let e = positioned(&p);
    let find = |needle: &str| {
        e.iter()
            .find(|(_, _, m)| m.contains(needle))
            .unwrap_or_else(|| panic!("no `{needle}` in {e:?}"))
            .clone()
    };
    let (l, c, _) = find("stage id `x` is already used");
    assert_eq!((l, c), (10, 6));
    let (l, c, m) = find("`lag-days` must be ≥ 0");
    assert_eq!((l, c), (18, 22), "{m}");
    let (l, c, _) = find("`source` must name the reference");
    assert_eq!((l, c), (18, 35));
    assert_eq!(e.len(), 3, "{e:?}");
}

#[test]
fn link_errors_point_at_after_and_cells_for() {
    let (_d, p) = campaign(
        r#"[[protocol]]
id = "d"
file = "@/tamoxifen_resistant_mcf7_derivation.toml"

[[activity]]
id = "a"
title = "a"
after = "d"
duration-days = { value = 3, source = "assumed" }
cells-for = "d: MCF-7"

[[activity]]
id = "b"
title = "b"
after = "a: expansion"
duration-days = { value = 3, source = "assumed" }
"#,
    );
    let e = positioned(&p);
    assert_eq!(
        e,
        [
            (
                14,
                13,
                "`cells-for` names stage `d`, which is not a xenograft protocol".to_string()
            ),
            (
                19,
                9,
                "stage `a` is an activity without phases; write `after = \"a\"` (not `: expansion`)"
                    .to_string()
            ),
        ]
    );
}
