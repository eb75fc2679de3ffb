//! `xenoplan timeline`: golden files for the TamR study, RFC 5545 checks of the iCalendar
//! (parsed back by the independent `icalendar` crate), weekend shifting, holidays, the other
//! protocol kinds and input errors.
//!
//! Golden files live in `tests/fixtures/timeline/`; regenerate them after an intended change
//! with `UPDATE_GOLDEN=1 cargo test --test cli timeline`.

use super::{root, scratch, stderr, stdout, xenoplan};
use std::path::Path;

const TAMR: &str = "protocols/tamr_mcf7_xenograft.toml";

fn run_timeline(name: &str, protocol: &str, extra: &[&str]) -> std::path::PathBuf {
    let out = scratch(name);
    let out_s = out.to_string_lossy().into_owned();
    let mut args = vec![
        "timeline",
        protocol,
        "--start",
        "2027-01-04",
        "--seed",
        "7",
        "--sims",
        "200",
        "--out",
        &out_s,
    ];
    args.extend_from_slice(extra);
    let o = xenoplan(&args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        stdout(&o),
        stderr(&o)
    );
    for f in [
        "timeline.csv",
        "timeline.md",
        "timeline.ics",
        "resources.csv",
        "workload.csv",
        "plots/gantt.svg",
        "plots/gantt.png",
        "manifest.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing in {}", out.display());
    }
    out
}

fn golden(out: &Path, file: &str, golden_name: &str) {
    let got = std::fs::read_to_string(out.join(file)).expect("output");
    let path = root().join("tests/fixtures/timeline").join(golden_name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, &got).expect("write golden");
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing golden {}", path.display()));
    if got != want {
        let line = got
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "{file} differs from {golden_name} at line {}:\n got: {}\nwant: {}",
            line + 1,
            got.lines().nth(line).unwrap_or(""),
            want.lines().nth(line).unwrap_or("")
        );
    }
}

fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(path).expect("csv");
    r.records()
        .map(|x| x.expect("record").iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn tamr_golden_files() {
    let out = run_timeline("timeline_tamr", TAMR, &[]);
    golden(&out, "timeline.csv", "tamr_timeline.csv");
    golden(&out, "resources.csv", "tamr_resources.csv");
    golden(&out, "timeline.md", "tamr_timeline.md");
    let header = std::fs::read_to_string(out.join("timeline.csv")).expect("csv");
    assert!(header.starts_with("date,study_day,phase,event,arm,animals,details"));
    let res = std::fs::read_to_string(out.join("resources.csv")).expect("csv");
    assert!(res.starts_with("item,quantity,unit,details"));
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("manifest.json")).expect("manifest"),
    )
    .expect("json");
    assert_eq!(m["protocol_id"], "tamr-mcf7-xenograft");
    assert_eq!(m["seed"], 7);
    assert!(
        m["parameters"]["conditional_phases"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
    // Same seed → byte-identical CSVs.
    let again = run_timeline("timeline_tamr_again", TAMR, &[]);
    for f in [
        "timeline.csv",
        "resources.csv",
        "workload.csv",
        "timeline.md",
    ] {
        assert_eq!(
            std::fs::read(out.join(f)).ok(),
            std::fs::read(again.join(f)).ok(),
            "{f}"
        );
    }
}

/// The TamR protocol with rolling enrollment: the simulator fills the cohorts, so the
/// conditional phase gets a median and a 5–95% range that the events carry.
#[test]
fn tamr_rolling_enrollment_places_events_at_the_simulated_median() {
    let text = std::fs::read_to_string(root().join(TAMR)).expect("protocol");
    assert!(text.contains("mode = \"rolling\""));
    let out = run_timeline("timeline_rolling", TAMR, &[]);
    let rows = csv_rows(&out.join("timeline.csv"));
    let rand: Vec<&Vec<String>> = rows.iter().filter(|r| r[9] == "randomization").collect();
    assert_eq!(rand.len(), 2, "one randomization per cohort");
    for r in &rand {
        assert_eq!(r[1], "0");
        assert!(r[6].contains("enrollment 5-95%: 2027-"), "{r:?}");
    }
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("manifest.json")).expect("manifest"),
    )
    .expect("json");
    for c in m["parameters"]["conditional_phases"]
        .as_array()
        .expect("array")
    {
        assert_eq!(c["n_sims"], 200);
        let (p05, med, p95) = (
            c["p05"].as_f64().unwrap_or(-1.0),
            c["median_day"].as_f64().unwrap_or(-1.0),
            c["p95"].as_f64().unwrap_or(-1.0),
        );
        assert!(0.0 < p05 && p05 <= med && med <= p95 && p95 <= 70.0, "{c}");
        assert!(c["n_failed"].as_u64().unwrap_or(200) < 200);
    }
}

#[test]
fn tamr_ics_is_rfc5545_and_parses_back() {
    let out = run_timeline("timeline_ics", TAMR, &[]);
    let text = std::fs::read_to_string(out.join("timeline.ics")).expect("ics");
    // CRLF everywhere, ≤ 75 octets per physical line.
    assert!(!text.replace("\r\n", "").contains('\n'));
    for line in text.split("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line}", line.len());
    }
    let unfolded = text.replace("\r\n ", "");
    let lines: Vec<&str> = unfolded.split("\r\n").collect();
    assert_eq!(lines[0], "BEGIN:VCALENDAR");
    assert!(lines.contains(&"VERSION:2.0"));
    assert!(lines.iter().any(|l| l.starts_with("PRODID:")));
    let n_events = csv_rows(&out.join("timeline.csv")).len();
    assert_eq!(unfolded.matches("BEGIN:VEVENT").count(), n_events);
    let uids: std::collections::BTreeSet<&&str> =
        lines.iter().filter(|l| l.starts_with("UID:")).collect();
    assert_eq!(uids.len(), n_events, "UIDs must be unique");
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("DTSTAMP:")).count(),
        n_events
    );
    assert!(lines.iter().any(|l| l.starts_with("DTSTART;VALUE=DATE:")));
    // Every VEVENT has UID, DTSTAMP and DTSTART (RFC 5545 §3.6.1).
    for ev in unfolded.split("BEGIN:VEVENT").skip(1) {
        for p in ["UID:", "DTSTAMP:", "DTSTART", "SUMMARY:"] {
            assert!(ev.contains(&format!("\r\n{p}")), "VEVENT without {p}: {ev}");
        }
    }
    let cal: icalendar::Calendar = text.parse().expect("icalendar parses the file");
    let events: Vec<_> = cal.components.iter().filter_map(|c| c.as_event()).collect();
    assert_eq!(events.len(), n_events);
    use icalendar::Component;
    assert!(
        events
            .iter()
            .all(|e| e.get_uid().is_some() && e.get_start().is_some())
    );
}

#[test]
fn weekend_shift_and_holidays() {
    let dir = scratch("timeline_holidays_file");
    let hol = dir.join("holidays.csv");
    std::fs::write(&hol, "date,name\n2027-01-11,made-up holiday # comment\n\n").expect("write");
    let hol_s = hol.to_string_lossy().into_owned();
    let out = run_timeline(
        "timeline_shift",
        TAMR,
        &[
            "--weekend",
            "shift",
            "--holidays",
            &hol_s,
            "--holiday",
            "2027-01-12",
        ],
    );
    let rows = csv_rows(&out.join("timeline.csv"));
    // Columns: date, study_day, phase, event, arm, animals, details, time, cohort, kind, flag.
    for r in &rows {
        let date: jiff::civil::Date = r[0].parse().expect("date");
        let weekend = matches!(
            date.weekday(),
            jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
        );
        let holiday = r[0] == "2027-01-11" || r[0] == "2027-01-12";
        if weekend || holiday {
            // Only daily schedules (dosing, daily health checks) remain on non-working days.
            assert!(r[10] == "weekend" || r[10] == "holiday", "{r:?}");
            assert!(
                r[9] == "dosing" || r[9] == "health-check",
                "non-daily event on a non-working day: {r:?}"
            );
        }
    }
    // The cell implantation planned on Monday 2027-01-11 moved past both holidays.
    let imp = rows
        .iter()
        .find(|r| r[9] == "implantation")
        .expect("implantation");
    assert_eq!(imp[0], "2027-01-13");
    assert!(imp[6].contains("moved from 2027-01-11"), "{imp:?}");
    let m = std::fs::read_to_string(out.join("manifest.json")).expect("manifest");
    assert!(m.contains("2027-01-11") && m.contains("ShiftToNextWorkingDay"));
}

#[test]
fn derivation_and_ngs_protocols_produce_all_files() {
    let out = run_timeline(
        "timeline_deriv",
        "protocols/anastrozole_resistant_mcf7aro.toml",
        &[],
    );
    let rows = csv_rows(&out.join("timeline.csv"));
    let kinds: std::collections::BTreeSet<&str> = rows.iter().map(|r| r[9].as_str()).collect();
    for k in ["passage", "medium-change", "cloning", "assay"] {
        assert!(kinds.contains(k), "derivation lacks {k}: {kinds:?}");
    }
    let first: jiff::civil::Date = rows[0][0].parse().expect("date");
    let last: jiff::civil::Date = rows[rows.len() - 1][0].parse().expect("date");
    let months = first
        .until((jiff::Unit::Day, last))
        .expect("span")
        .get_days();
    assert!(months >= 180, "derivation spans only {months} days");
    let out = run_timeline(
        "timeline_ngs",
        "protocols/ngs_resistance_profiling.toml",
        &[],
    );
    let rows = csv_rows(&out.join("timeline.csv"));
    assert!(rows.iter().all(|r| r[9] == "task" || !r[9].is_empty()));
    // Multi-day tasks are all-day events whose exclusive DTEND lies after DTSTART.
    let text = std::fs::read_to_string(out.join("timeline.ics")).expect("ics");
    let cal: icalendar::Calendar = text.parse().expect("ics parses");
    let events: Vec<_> = cal.components.iter().filter_map(|c| c.as_event()).collect();
    assert_eq!(events.len(), rows.len());
    let unfolded = text.replace("\r\n ", "");
    let multi = unfolded
        .split("BEGIN:VEVENT")
        .skip(1)
        .filter(|ev| {
            let get = |k: &str| ev.split("\r\n").find_map(|l| l.strip_prefix(k)).and_then(|v| v.parse::<u32>().ok());
            matches!((get("DTSTART;VALUE=DATE:"), get("DTEND;VALUE=DATE:")), (Some(a), Some(b)) if b > a + 1)
        })
        .count();
    assert!(multi > 0, "no multi-day task in the NGS calendar");
    for r in rows.iter().filter(|r| r[9] == "task") {
        let d: jiff::civil::Date = r[0].parse().expect("date");
        assert!(
            !matches!(
                d.weekday(),
                jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
            ),
            "{r:?}"
        );
    }
}

#[test]
fn input_errors_exit_codes() {
    let o = xenoplan(&["timeline", TAMR, "--start", "2027-13-01"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = xenoplan(&[
        "timeline",
        "protocols/no_such.toml",
        "--start",
        "2027-01-04",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no_such.toml"), "{}", stderr(&o));
    let dir = scratch("timeline_bad_holidays");
    let hol = dir.join("h.txt");
    std::fs::write(&hol, "2027-01-11\nnot-a-date\n").expect("write");
    let o = xenoplan(&[
        "timeline",
        TAMR,
        "--start",
        "2027-01-04",
        "--holidays",
        &hol.to_string_lossy(),
        "--out",
        &dir.to_string_lossy(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("h.txt:2"), "{}", stderr(&o));
    let o = xenoplan(&["timeline", TAMR, "--weekend", "sometimes"]);
    assert_eq!(o.status.code(), Some(2));
}

const CAMPAIGN: &str = "protocols/campaigns/tamr_campaign.toml";

/// The TamR campaign dates the derivation, its validation, the expansions and the xenograft in
/// one calendar: implantation on the day after the 21-day expansion, which starts one day
/// after the validation read-out (2027-07-12).
#[test]
fn timeline_campaign_dates_derivation_validation_expansion_and_xenograft() {
    let out = scratch("timeline_campaign");
    let out_s = out.to_string_lossy().into_owned();
    let o = xenoplan(&[
        "timeline",
        CAMPAIGN,
        "--start",
        "2027-01-04",
        "--sims",
        "200",
        "--out",
        &out_s,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = stdout(&o);
    for line in [
        "tamr-campaign: 4 stages, ",
        "  tamr-derivation (protocol `tamoxifen-resistant-mcf7-derivation`): 2027-01-04 to 2027-07-12; campaign start",
        "  tamr-expansion (activity): 2027-07-14 to 2027-08-03; after tamr-derivation: validation (last day 2027-07-12) + 1 d lag (assumed;",
        "  tamr-xenograft (protocol `tamr-mcf7-xenograft`): 2027-07-28 to ",
        ", anchor 2027-08-04; after tamr-expansion (last day 2027-08-03)",
    ] {
        assert!(s.contains(line), "missing {line:?} in\n{s}");
    }
    let csv = std::fs::read_to_string(out.join("timeline.csv")).unwrap();
    assert!(csv.starts_with(
        "date,study_day,phase,event,arm,animals,details,time,cohort,kind,flag,protocol\n"
    ));
    let implant: Vec<&str> = csv
        .lines()
        .filter(|l| l.contains(",cell implantation,"))
        .collect();
    assert_eq!(implant.len(), 2, "{implant:?}");
    assert!(
        implant
            .iter()
            .all(|l| l.starts_with("2027-08-04,") && l.ends_with(",tamr-xenograft"))
    );
    assert!(
        csv.lines()
            .any(|l| l.contains("validation assay: mtt read-out") && l.starts_with("2027-07-12,"))
    );
    let res = std::fs::read_to_string(out.join("resources.csv")).unwrap();
    assert!(
        res.starts_with("item,quantity,unit,details,protocol\n"),
        "{res}"
    );
    assert!(res.lines().any(|l| l.starts_with("plates (96-well plate),18,") && l.ends_with(",tamr-derivation")), "{res}");
    assert!(
        res.lines().any(
            |l| l.starts_with("expand TamR-MCF-7 for implantation,21,days,")
                && l.contains("4.980e8 cells")
        ),
        "{res}"
    );
    let ics = std::fs::read_to_string(out.join("timeline.ics")).unwrap();
    assert!(ics.contains("SUMMARY:[tamr-xenograft] cell implantation"));
    for f in [
        "timeline.md",
        "workload.csv",
        "plots/gantt.svg",
        "plots/gantt.png",
        "manifest.json",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let o = xenoplan(&["check", CAMPAIGN]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("ok: protocols/campaigns/tamr_campaign.toml (campaign `tamr-campaign`: 4 stages, 2 protocols)"));
}

/// A campaign with bad links fails `timeline` with the positioned errors of `check`.
#[test]
fn timeline_campaign_with_bad_links_fails_with_positions() {
    let o = xenoplan(&[
        "timeline",
        "tests/fixtures/bad/campaign_bad_links.toml",
        "--out",
        "/nonexistent/x",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("campaign_bad_links.toml:25:9: error: `after` links form a cycle: ship after wait after ship"), "{e}");
    assert!(
        e.contains("campaign_bad_links.toml:13:9: error: protocol stage `derivation`"),
        "{e}"
    );
}

/// The quantity of `item` in a `resources.csv`.
fn resource(out: &Path, item: &str) -> String {
    csv_rows(&out.join("resources.csv"))
        .into_iter()
        .find(|r| r[0] == item)
        .unwrap_or_else(|| panic!("no `{item}` in resources.csv"))[1]
        .clone()
}

/// The bundled Long et al. 2002 study (issue 17): its drug amounts equal the sum over the
/// dated administrations, computed here twice — from the protocol's arithmetic (11 randomized
/// per arm; letrozole 10 µg/day on days 0–83 then 100 µg/day on days 84–258 in its own arm,
/// 10 µg/day for 259 days with tamoxifen; tamoxifen 100 µg/day in two arms) and from the
/// dosing rows of timeline.csv — and its androstenedione from the dated injection rows.
#[test]
fn letrozole_mcf7ca_drugs_are_the_sum_over_dated_administrations() {
    let out = run_timeline(
        "timeline_letrozole",
        "protocols/letrozole_mcf7ca_long2002.toml",
        &[],
    );
    let rows = csv_rows(&out.join("timeline.csv"));
    // From the protocol, flat µg per mouse (no body weight), × 1.2 overage.
    let letrozole_mg = 11.0 * (84.0 * 0.010 + 175.0 * 0.100) + 11.0 * 259.0 * 0.010;
    let tamoxifen_mg = 2.0 * 11.0 * 259.0 * 0.100;
    assert_eq!(
        resource(&out, "letrozole (drug)"),
        format!("{:.1}", letrozole_mg * 1.2)
    );
    assert_eq!(
        resource(&out, "tamoxifen (drug)"),
        format!("{:.1}", tamoxifen_mg * 1.2)
    );
    // From the dated rows: "dosing: <agent> <dose> ug sc" × animals.
    let dated = |agent: &str| -> f64 {
        rows.iter()
            .filter(|r| r[9] == "dosing")
            .filter_map(|r| {
                let rest = r[3].strip_prefix(&format!("dosing: {agent} "))?;
                let ug: f64 = rest.strip_suffix(" ug sc")?.parse().ok()?;
                Some(ug / 1000.0 * r[5].parse::<f64>().ok()?)
            })
            .sum()
    };
    assert!(
        (dated("letrozole") - letrozole_mg).abs() < 1e-9,
        "{}",
        dated("letrozole")
    );
    assert!((dated("tamoxifen") - tamoxifen_mg).abs() < 1e-9);
    let text = std::fs::read_to_string(out.join("resources.csv")).expect("resources");
    // Both dose levels, each with its rule: 11 × (84 + 259) at 10 µg, 11 × 175 at 100 µg.
    assert!(
        text.contains("3773 x 10 ug per mouse (flat dose, not scaled by body weight) = 37.7 mg")
            && text.contains(
                "1925 x 100 ug per mouse (flat dose, not scaled by body weight) = 192.5 mg"
            ),
        "{text}"
    );
    // Androstenedione 0.1 mg/day s.c.: one injection per animal per dated row, from the day
    // of the cells to the end of the study.
    let inj: Vec<&Vec<String>> = rows
        .iter()
        .filter(|r| r[3] == "hormone injection")
        .collect();
    let injections: f64 = inj
        .iter()
        .map(|r| r[5].parse::<f64>().expect("animals"))
        .sum();
    assert_eq!(
        resource(&out, "hormone injections · MCF-7Ca"),
        format!("{injections:.0}")
    );
    assert_eq!(
        resource(&out, "androstenedione 0.1 mg/day s.c. (hormone) · MCF-7Ca"),
        format!("{:.1}", injections * 0.1 * 1.2)
    );
    let first = inj.first().expect("injections");
    let implant = rows
        .iter()
        .find(|r| r[9] == "implantation")
        .expect("implantation");
    assert_eq!(first[0], implant[0], "injections start with the cells");
    assert_eq!(
        inj.last().expect("last")[1],
        "258",
        "and run to the end of treatment"
    );
}

/// The imlunestrant panel (issue 17): E2 pellets are dated and ordered for exactly the four
/// cell-line cohorts with a `[cohorts.hormone]`, re-implanted, and never for the PDX.
#[test]
fn imlunestrant_pellets_are_ordered_for_the_mice_that_get_them() {
    let out = run_timeline(
        "timeline_imlunestrant",
        "protocols/imlunestrant_xenograft_panel.toml",
        &[],
    );
    let rows = csv_rows(&out.join("timeline.csv"));
    for c in ["MCF7", "T47D", "ZR-75-1", "HCC1428"] {
        let pellets: u32 = rows
            .iter()
            .filter(|r| r[9] == "pellet-implant" && r[8] == c)
            .map(|r| r[5].parse::<u32>().expect("animals"))
            .sum();
        assert!(pellets > 0, "{c}");
        assert_eq!(
            resource(&out, &format!("hormone pellets · {c}")),
            pellets.to_string()
        );
        assert!(
            rows.iter()
                .any(|r| r[3] == "hormone pellet re-implant" && r[8] == c),
            "{c}: re-implanted"
        );
    }
    assert!(
        !rows
            .iter()
            .any(|r| r[8] == "ESR1-Y537S PDX"
                && (r[9] == "pellet-implant" || r[9] == "pellet-removal")),
        "no pellets for the PDX"
    );
    let res = std::fs::read_to_string(out.join("resources.csv")).expect("resources");
    assert!(!res.contains("pellets · ESR1-Y537S PDX"), "{res}");
}
