//! Exports of a timeline: `timeline.csv` rows, `timeline.md` (one table per week, peak days
//! flagged) and `timeline.ics` (RFC 5545, written here).

use super::{DayLoad, Timeline, workload};
use crate::output::fmt_f;
use jiff::civil::Date;
use std::fmt::Write as _;

/// Header of `timeline.csv`: the contract columns first, then extras.
pub const TIMELINE_CSV_HEADER: [&str; 11] = [
    "date",
    "study_day",
    "phase",
    "event",
    "arm",
    "animals",
    "details",
    "time",
    "cohort",
    "kind",
    "flag",
];

/// True when the events carry protocol ids (a campaign timeline).
fn has_protocols(tl: &Timeline) -> bool {
    tl.events.iter().any(|e| e.protocol.is_some())
}

/// Header of `timeline.csv` for `tl`: [`TIMELINE_CSV_HEADER`], plus `protocol` in a campaign.
pub fn timeline_csv_header(tl: &Timeline) -> Vec<String> {
    let mut h: Vec<String> = TIMELINE_CSV_HEADER.iter().map(|s| s.to_string()).collect();
    if has_protocols(tl) {
        h.push("protocol".into());
    }
    h
}

/// Rows of `timeline.csv` (same order as [`timeline_csv_header`]).
pub fn timeline_csv_rows(tl: &Timeline) -> Vec<Vec<String>> {
    let campaign = has_protocols(tl);
    tl.events
        .iter()
        .map(|e| {
            let mut r = vec![
                e.date.to_string(),
                e.study_day.to_string(),
                e.phase.clone(),
                e.label.clone(),
                e.arm.clone().unwrap_or_default(),
                e.animals.map(|a| a.to_string()).unwrap_or_default(),
                e.details.clone(),
                e.time.map(hhmm).unwrap_or_default(),
                e.cohort.clone().unwrap_or_default(),
                e.kind.as_str().to_string(),
                e.flag.map(|f| f.as_str().to_string()).unwrap_or_default(),
            ];
            if campaign {
                r.push(e.protocol.clone().unwrap_or_default());
            }
            r
        })
        .collect()
}

fn hhmm(t: jiff::civil::Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn weekday(d: Date) -> &'static str {
    crate::protocol::weekday_abbrev(d.weekday())
}

/// `timeline.md`: summary, conditional phases, then one table per ISO week with the events
/// and a workload line per date; peak days are marked **PEAK**.
pub fn markdown(tl: &Timeline) -> String {
    let loads = workload(tl);
    let mut s = String::new();
    let cal = &tl.calendar;
    let _ = writeln!(s, "# Timeline: {}\n", tl.title);
    let _ = writeln!(
        s,
        "Protocol `{}`, start {} ({}), weekend policy `{:?}`, {} events.\n",
        tl.protocol_id,
        cal.start,
        weekday(cal.start),
        cal.policy,
        tl.events.len()
    );
    md_phases(&mut s, tl);
    md_conditions(&mut s, tl);
    if !tl.notes.is_empty() {
        let _ = writeln!(s, "## Notes\n");
        for n in &tl.notes {
            let _ = writeln!(s, "- {n}");
        }
        s.push('\n');
    }
    let _ = writeln!(
        s,
        "Peak days (**PEAK**): procedures on the date ≥ the 90th percentile over all dates with events. Procedures count one per animal for animal work. Weekend/holiday work is marked ⚠.\n"
    );
    md_weeks(&mut s, tl, &loads);
    s
}

/// The "Phases" table of [`markdown`].
fn md_phases(s: &mut String, tl: &Timeline) {
    let cal = &tl.calendar;
    if !tl.spans.is_empty() {
        let _ = writeln!(
            s,
            "## Phases\n\n| phase | kind | start | end | days |\n|---|---|---|---|---|"
        );
        for sp in &tl.spans {
            let a = cal
                .date(sp.start)
                .map(|d| d.to_string())
                .unwrap_or_default();
            let b = cal
                .date(sp.end - 1)
                .map(|d| d.to_string())
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "| {} | {:?} | {a} | {b} | {} |",
                md_cell(&sp.label),
                sp.kind,
                sp.end - sp.start
            );
        }
        s.push('\n');
    }
}

/// The "Conditional phases (simulated)" table of [`markdown`].
fn md_conditions(s: &mut String, tl: &Timeline) {
    let cal = &tl.calendar;
    if !tl.conditions.is_empty() {
        let _ = writeln!(
            s,
            "## Conditional phases (simulated)\n\nEvents after a conditional phase are placed at the median enrollment day; the 5–95% range is in each event's details.\n\n| phase | cohort | median day | 5% | 95% | median date | 5–95% dates | simulations | not filled |\n|---|---|---|---|---|---|---|---|---|"
        );
        for (ph, co, e, start) in &tl.conditions {
            let d = |x: f64| {
                cal.date(start + x.round() as i64)
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {}..{} | {} | {} |",
                md_cell(ph),
                md_cell(co),
                fmt_f(e.median_day, 1),
                fmt_f(e.p05, 1),
                fmt_f(e.p95, 1),
                d(e.median_day),
                cal.date(start + e.p05.floor() as i64)
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                cal.date(start + e.p95.ceil() as i64)
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                e.n_sims,
                e.n_failed
            );
        }
        s.push('\n');
    }
}

/// One table per ISO week of [`markdown`]: every event, with each day's workload row.
fn md_weeks(s: &mut String, tl: &Timeline, loads: &[DayLoad]) {
    let mut week: Option<(i16, i8)> = None;
    for (i, e) in tl.events.iter().enumerate() {
        let iso = e.date.iso_week_date();
        let key = (iso.year(), iso.week());
        if week != Some(key) {
            week = Some(key);
            let monday = e
                .date
                .checked_sub(
                    jiff::Span::new().days(i64::from(e.date.weekday().to_monday_zero_offset())),
                )
                .unwrap_or(e.date);
            let _ = writeln!(
                s,
                "\n## Week {}-W{:02} (from {monday})\n\n| date | | study day | time | event | cohort | arm | animals | details | flag |\n|---|---|---|---|---|---|---|---|---|---|",
                key.0, key.1
            );
        }
        let load: Option<&DayLoad> = loads.iter().find(|l| l.day == e.day);
        let first_of_day = i == 0 || tl.events[i - 1].day != e.day;
        let mut flag = String::new();
        if let Some(f) = e.flag {
            flag.push_str(&format!("⚠ {}", f.as_str()));
        }
        if first_of_day && load.is_some_and(|l| l.peak) {
            if !flag.is_empty() {
                flag.push(' ');
            }
            flag.push_str("**PEAK**");
        }
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            if first_of_day {
                e.date.to_string()
            } else {
                String::new()
            },
            if first_of_day { weekday(e.date) } else { "" },
            e.study_day,
            e.time.map(hhmm).unwrap_or_default(),
            md_cell(&e.label),
            md_cell(e.cohort.as_deref().unwrap_or("")),
            md_cell(e.arm.as_deref().unwrap_or("")),
            e.animals.map(|a| a.to_string()).unwrap_or_default(),
            md_cell(&e.details),
            flag
        );
        let last_of_day = tl.events.get(i + 1).is_none_or(|n| n.day != e.day);
        if last_of_day && let Some(l) = load {
            let kinds: Vec<String> = l.by_kind.iter().map(|(k, v)| format!("{k} {v}")).collect();
            let mut w = format!("procedures {} ({})", l.procedures, kinds.join(", "));
            if l.animals > 0 {
                w.push_str(&format!(", animals handled {}", l.animals));
            }
            if l.hands_on_h > 0.0 {
                w.push_str(&format!(", hands-on {} h", fmt_f(l.hands_on_h, 1)));
            }
            let _ = writeln!(
                s,
                "| | | | | *workload* | | | {} | {} | {} |",
                if l.animals > 0 {
                    l.animals.to_string()
                } else {
                    String::new()
                },
                w,
                if l.peak { "**PEAK**" } else { "" }
            );
        }
    }
}

/// Escapes a TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma, newline.
pub fn ics_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            ';' => o.push_str("\\;"),
            ',' => o.push_str("\\,"),
            '\n' => o.push_str("\\n"),
            '\r' => {}
            _ => o.push(c),
        }
    }
    o
}

/// Folds a content line at 75 octets (RFC 5545 §3.1): continuation lines start with one
/// space; never splits a UTF-8 character. Every line ends with CRLF.
pub fn ics_fold(line: &str, out: &mut String) {
    let bytes = line.as_bytes();
    let mut start = 0;
    let mut limit = 75;
    while bytes.len() - start > limit {
        let mut cut = start + limit;
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push_str(&line[start..cut]);
        out.push_str("\r\n ");
        start = cut;
        limit = 74; // the leading space counts
    }
    out.push_str(&line[start..]);
    out.push_str("\r\n");
}

fn ics_date(d: Date) -> String {
    format!("{:04}{:02}{:02}", d.year(), d.month(), d.day())
}

/// Duration given to timed events (BID doses): assumed; 30 minutes per dosing round.
const TIMED_EVENT_MINUTES: i64 = 30;

/// `timeline.ics`: one VEVENT per event. All-day events use `VALUE=DATE` (DTEND exclusive);
/// timed events (BID doses) use floating local time. `dtstamp` is the creation time (UTC).
pub fn ics(tl: &Timeline, dtstamp: jiff::Timestamp) -> String {
    let mut s = String::new();
    let stamp = dtstamp.strftime("%Y%m%dT%H%M%SZ").to_string();
    for l in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        &format!(
            "PRODID:-//xenoplan//xenoplan {}//EN",
            env!("CARGO_PKG_VERSION")
        ),
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        &format!("X-WR-CALNAME:{}", ics_escape(&tl.title)),
    ] {
        ics_fold(l, &mut s);
    }
    for (i, e) in tl.events.iter().enumerate() {
        ics_fold("BEGIN:VEVENT", &mut s);
        ics_fold(
            &format!(
                "UID:{}-{:05}-{}@xenoplan",
                tl.protocol_id,
                i + 1,
                ics_date(e.date)
            ),
            &mut s,
        );
        ics_fold(&format!("DTSTAMP:{stamp}"), &mut s);
        match e.time {
            Some(t) => {
                let start = e.date.to_datetime(t);
                let end = start
                    .checked_add(jiff::Span::new().minutes(TIMED_EVENT_MINUTES))
                    .unwrap_or(start);
                let f = |d: jiff::civil::DateTime| {
                    format!(
                        "{}T{:02}{:02}{:02}",
                        ics_date(d.date()),
                        d.hour(),
                        d.minute(),
                        d.second()
                    )
                };
                ics_fold(&format!("DTSTART:{}", f(start)), &mut s);
                ics_fold(&format!("DTEND:{}", f(end)), &mut s);
            }
            None => {
                let end_day = e.end_day.unwrap_or(e.day + 1);
                let end = tl.calendar.date(end_day).unwrap_or(e.date);
                ics_fold(&format!("DTSTART;VALUE=DATE:{}", ics_date(e.date)), &mut s);
                ics_fold(&format!("DTEND;VALUE=DATE:{}", ics_date(end)), &mut s);
            }
        }
        let mut summary = match &e.protocol {
            Some(p) => format!("[{p}] {}", e.label),
            None => e.label.clone(),
        };
        if let Some(a) = &e.arm {
            summary.push_str(&format!(" [{a}]"));
        }
        if let Some(c) = &e.cohort {
            summary.push_str(&format!(" ({c})"));
        }
        ics_fold(&format!("SUMMARY:{}", ics_escape(&summary)), &mut s);
        let mut desc = format!("Study day {}; phase {}", e.study_day, e.phase);
        if let Some(n) = e.animals {
            desc.push_str(&format!("; {n} animals"));
        }
        if !e.details.is_empty() {
            desc.push('\n');
            desc.push_str(&e.details);
        }
        if let Some(f) = e.flag {
            desc.push_str(&format!("\n{} work", f.as_str()));
        }
        ics_fold(&format!("DESCRIPTION:{}", ics_escape(&desc)), &mut s);
        ics_fold(
            &format!("CATEGORIES:{}", ics_escape(e.kind.as_str())),
            &mut s,
        );
        ics_fold("TRANSP:TRANSPARENT", &mut s);
        ics_fold("END:VEVENT", &mut s);
    }
    ics_fold("END:VCALENDAR", &mut s);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_respects_75_octets_and_utf8() {
        let line = format!("DESCRIPTION:{}", "µ".repeat(100));
        let mut s = String::new();
        ics_fold(&line, &mut s);
        for l in s.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75, "{} octets", l.len());
        }
        let unfolded = s.replace("\r\n ", "");
        assert_eq!(unfolded.trim_end_matches("\r\n"), line);
    }

    #[test]
    fn escape_text() {
        assert_eq!(ics_escape("a;b,c\\d\ne"), "a\\;b\\,c\\\\d\\ne");
    }
}
