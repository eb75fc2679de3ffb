//! Protocol commands (`check`, `list`, `show`, `schema`): bundled protocols are clean, every
//! fixture in tests/fixtures/bad/ fails with its exact, positioned message, and no mutated
//! protocol makes the binary panic.

use crate::{stderr, stdout, xenoplan};

/// Every bad fixture with the exact diagnostics (`line:col: severity: message`) it produces.
const PINNED: &[(&str, &[&str])] = &[
    (
        "alpha_out_of_range",
        &[r#"95:9: error: `alpha` must be strictly between 0 and 1, got 1.5"#],
    ),
    (
        "bid_on_pellet",
        &[
            r#"70:87: error: frequency `bid` is not possible for route `pellet`: a slow-release pellet is implanted once (use "once", or q<N>d to replace it)"#,
        ],
    ),
    (
        "bid_times_mismatch",
        &[r#"70:101: error: frequency `bid` needs 2 times, got 1"#],
    ),
    (
        "both_duration_and_until",
        &[r#"14:1: error: phase `treatment` has both `duration-days` and `until`; keep one"#],
    ),
    (
        "cv_and_sd",
        &[r#"53:35: error: give either `cv` (log-normal) or `sd` (normal), not both"#],
    ),
    (
        "derivation_missing_section",
        &[
            r#"95:2: warning: unknown key `kultur` at top level is ignored; did you mean `culture`?"#,
            r#"11:8: error: kind = "derivation" requires a `[culture]` section"#,
        ],
    ),
    (
        "duplicate_arm_names",
        &[r#"68:8: error: duplicate arm name `vehicle` (first defined on line 62)"#],
    ),
    ("duplicate_key", &[r#"70:1: error: duplicate key"#]),
    (
        "duplicate_phase_names",
        &[r#"17:8: error: duplicate phase name `treatment` (first defined on line 12)"#],
    ),
    (
        "effect_on_vehicle",
        &[
            r#"56:9: error: `vehicle` is a vehicle and cannot have a drug effect"#,
            r#"70:17: warning: agent `drug` has no [[cohorts.effects]] entry in cohort `MCF-7`; it will act like a vehicle"#,
        ],
    ),
    (
        "empty_source",
        &[r#"42:48: error: empty `source`: cite the reference or write "assumed; <why>""#],
    ),
    (
        "enrollment_min_gt_max",
        &[r#"80:11: error: enrollment window min-mm3 (300) is greater than max-mm3 (100)"#],
    ),
    (
        "escalation_not_increasing",
        &[
            r#"114:20: error: escalation to 200 nM is not above the previous concentration (250 nM)"#,
        ],
    ),
    (
        "exposure_without_pk",
        &[r#"57:8: error: exposure-driven effect needs PK: add [agents.pk] to agent `drug`"#],
    ),
    (
        "growth_missing_param",
        &[r#"51:9: error: growth model `logistic` needs `capacity-mm3`"#],
    ),
    (
        "huge_value",
        &[r#"47:13: error: `volume-ul` must be > 0, got inf"#],
    ),
    (
        "invalid_id",
        &[
            r#"3:6: error: invalid id `Bad Fixture`: use kebab-case (a-z, 0-9, '-'), it names the output folder"#,
        ],
    ),
    (
        "invalid_time",
        &[r#"70:101: error: invalid time `25:00`; expected HH:MM (24 h)"#],
    ),
    (
        "invalid_weekday",
        &[r#"76:32: error: unknown weekday `mnd`; expected mon, tue, wed, thu, fri, sat or sun"#],
    ),
    (
        "missing_section",
        &[r#"4:8: error: kind = "xenograft" requires a `[endpoints]` section"#],
    ),
    (
        "misspelled_key",
        &[
            r#"70:15: error: `cohorts[0].arms[1].treatments[0]`: missing field `frequency`"#,
            r#"70:74: warning: unknown key `frequncy` in `cohorts[0].arms[1].treatments[0]` is ignored; did you mean `frequency`?"#,
        ],
    ),
    (
        "nan_value",
        &[r#"53:18: error: `rate` must be a finite number, got NaN"#],
    ),
    (
        "negative_cv",
        &[r#"53:29: error: `cv` must be ≥ 0, got -0.25"#],
    ),
    (
        "negative_dose",
        &[r#"70:40: error: `dose` must be > 0, got -10"#],
    ),
    (
        "no_control",
        &[
            r#"38:8: error: cohort `MCF-7` has no control arm: mark exactly one arm `control = true`"#,
        ],
    ),
    ("not_utf8", &[r#"3:13: error: file is not valid UTF-8"#]),
    (
        "probability_gt_1",
        &[r#"41:23: error: `take-rate` must be between 0 and 1, got 1.2"#],
    ),
    (
        "procedure_cycle",
        &[r#"17:9: error: dependency cycle through task `extract`"#],
    ),
    (
        "step_after_phase_end",
        &[r#"20:7: error: day 40 is after the end of phase `treatment` (28 days)"#],
    ),
    (
        "task_unknown_dependency",
        &[r#"21:10: error: unknown task `extraction`; did you mean `extract`?"#],
    ),
    (
        "truncated",
        &[r#"58:21: error: unclosed inline table, expected `}`"#],
    ),
    (
        "two_controls",
        &[
            r#"69:11: error: cohort `MCF-7` has 2 control arms (`vehicle`, `drug`); exactly one is allowed"#,
        ],
    ),
    (
        "unit_invalid_for_route",
        &[
            r#"70:51: error: unit `mg/kg` is not valid for route `pellet`: a pellet holds a fixed amount per animal (use mg or ug)"#,
        ],
    ),
    (
        "unknown_agent",
        &[r#"70:25: error: unknown agent `drugg`; did you mean `drug`?"#],
    ),
    (
        "unknown_arm_reference",
        &[r#"22:7: error: unknown arm `vehicel`; did you mean `vehicle`?"#],
    ),
    (
        "unknown_frequency",
        &[r#"70:86: error: unknown frequency `bdi`; did you mean `bid`?"#],
    ),
    (
        "unknown_kind",
        &[r#"4:8: error: unknown protocol kind `xenografts`; did you mean `xenograft`?"#],
    ),
    (
        "unknown_phase_in_step",
        &[r#"19:9: error: unknown phase `dosing`; defined: growth, treatment"#],
    ),
    (
        "unknown_test",
        &[r#"94:10: error: unknown test `welch-logg`; did you mean `welch-log`?"#],
    ),
    (
        "unknown_unit",
        &[r#"70:51: error: unknown dose unit `mg/m2`; expected one of mg/kg, ug/kg, mg, ug"#],
    ),
    (
        "until_undefined_measurement",
        &[
            r#"9:25: error: ending condition on undefined measurement `volume`; define it in [[measurements]]"#,
        ],
    ),
    (
        "weekdays_missing",
        &[r#"75:13: error: frequency = "weekdays" needs `weekdays = ["mon", "thu"]`"#],
    ),
    (
        "window_min_gt_max",
        &[r#"9:43: error: window min (250) is greater than max (200)"#],
    ),
    (
        "wrong_type",
        &[
            r#"69:5: error: `cohorts[0].arms[1].n`: invalid type: string "eight", expected an integer"#,
        ],
    ),
    (
        "zero_duration",
        &[r#"13:17: error: `duration-days` must be > 0, got 0"#],
    ),
];

fn bundled() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(crate::root().join("protocols"))
        .expect("protocols/")
        .map(|e| {
            format!(
                "protocols/{}",
                e.expect("entry").file_name().to_string_lossy()
            )
        })
        .filter(|p| p.ends_with(".toml"))
        .collect();
    v.sort();
    v.push("examples/p1_power.toml".into());
    v
}

#[test]
fn check_passes_every_bundled_protocol_without_warnings() {
    let files = bundled();
    assert!(files.len() >= 8);
    let mut args = vec!["check"];
    args.extend(files.iter().map(String::as_str));
    let o = xenoplan(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "", "warnings or errors on bundled protocols");
    assert_eq!(
        stdout(&o).lines().filter(|l| l.starts_with("ok: ")).count(),
        files.len()
    );
}

#[test]
fn every_bad_fixture_fails_with_its_pinned_messages() {
    let dir = crate::root().join("tests/fixtures/bad");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .map(|n| n.trim_end_matches(".toml").to_string())
        .collect();
    on_disk.sort();
    let pinned: Vec<String> = PINNED.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(
        on_disk, pinned,
        "every fixture must be pinned (and every pin must exist)"
    );
    assert!(PINNED.len() >= 25);
    for (name, expected) in PINNED {
        let path = format!("tests/fixtures/bad/{name}.toml");
        let o = xenoplan(&["check", &path]);
        assert_eq!(o.status.code(), Some(1), "{name}: {}", stderr(&o));
        let err = stderr(&o);
        let got: Vec<String> = err
            .lines()
            .filter(|l| {
                l.starts_with(&format!("{path}:"))
                    && (l.contains(": error: ") || l.contains(": warning: "))
            })
            .map(|l| l[path.len() + 1..].to_string())
            .collect();
        assert_eq!(
            got,
            expected.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            "{name}"
        );
        // Each diagnostic shows the source line and a caret under the span.
        assert!(
            err.lines()
                .any(|l| l.trim_start().starts_with("| ") && l.contains('^')),
            "{name}: no caret\n{err}"
        );
        assert!(err.contains("failed validation"), "{name}");
    }
}

#[test]
fn misspelled_key_wrong_type_and_truncation_render_in_full() {
    let o = xenoplan(&["check", "tests/fixtures/bad/wrong_type.toml"]);
    let err = stderr(&o);
    let expected = "tests/fixtures/bad/wrong_type.toml:69:5: error: `cohorts[0].arms[1].n`: invalid type: string \"eight\", expected an integer\n   |\n69 | n = \"eight\"\n   |     ^^^^^^^\n";
    assert!(err.starts_with(expected), "{err}");
    let o = xenoplan(&["check", "tests/fixtures/bad/misspelled_key.toml"]);
    let err = stderr(&o);
    assert!(
        err.contains("did you mean `frequency`?\n   |\n70 | "),
        "{err}"
    );
    let o = xenoplan(&["check", "tests/fixtures/bad/truncated.toml"]);
    assert!(
        stderr(&o).contains("truncated.toml:58:21: error: unclosed inline table"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn check_reports_all_files_and_fails_once() {
    let o = xenoplan(&[
        "check",
        "protocols/tamr_mcf7_xenograft.toml",
        "tests/fixtures/bad/no_control.toml",
        "nope.toml",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("ok: protocols/tamr_mcf7_xenograft.toml"));
    let err = stderr(&o);
    assert!(
        err.contains("no_control.toml:38:8: error: cohort `MCF-7` has no control arm"),
        "{err}"
    );
    assert!(err.contains("nope.toml: cannot read protocol"), "{err}");
    assert!(
        err.contains("2 of 3 protocol files failed validation"),
        "{err}"
    );
}

#[test]
fn check_prints_warnings_but_passes() {
    let dir = crate::scratch("protocol_warn");
    let text = std::fs::read_to_string(crate::root().join("examples/p1_power.toml")).expect("read");
    let p = dir.join("w.toml");
    std::fs::write(
        &p,
        text.replacen("[animals]\n", "[animals]\nstrian = \"x\"\n", 1),
    )
    .expect("write");
    let o = xenoplan(&["check", p.to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stderr(&o).contains(
            "warning: unknown key `strian` in `animals` is ignored; did you mean `strain`?"
        ),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).contains("(1 warning)"));
}

#[test]
fn list_shows_all_bundled_protocols_of_all_kinds() {
    let o = xenoplan(&["list"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = stdout(&o);
    let lines: Vec<&str> = s.lines().collect();
    assert!(lines[0].starts_with("ID") && lines[0].contains("KIND") && lines[0].contains("TITLE"));
    assert!(lines.len() > 7, "{s}");
    for kind in ["xenograft", "derivation", "assay", "procedure"] {
        assert!(
            lines
                .iter()
                .any(|l| l.split_whitespace().nth(1) == Some(kind)),
            "{kind} missing: {s}"
        );
    }
    assert!(s.contains("tamr-mcf7-xenograft"));
    let o = xenoplan(&["list", "tests/fixtures/bad"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no_control.toml: invalid (1 error"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn show_prints_every_parameter_with_its_source() {
    let o = xenoplan(&["show", "protocols/tamr_mcf7_xenograft.toml"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = stdout(&o);
    for needle in [
        "3. treatment            28 days  ← study day 0",
        "until `calipers` in 150–200 (max wait 70 days)",
        "[Shafie & Grantham 1981: after E2 withdrawal growth stops without regression]",
        "fulvestrant 200 mg/kg IM QW, days 0–end (treatment)",
        "taragarestrant 30 mg/kg PO QD",
        "pk.half-life-h             6",
        "error: diameter CV         0.063",
        "Western blot: ERα",
    ] {
        assert!(s.contains(needle), "missing {needle:?} in\n{s}");
    }
    for f in bundled() {
        let o = xenoplan(&["show", &f]);
        assert_eq!(o.status.code(), Some(0), "{f}: {}", stderr(&o));
    }
    let o = xenoplan(&["show", "tests/fixtures/bad/truncated.toml"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn schema_is_json_describing_the_format() {
    let o = xenoplan(&["schema"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("schema is JSON");
    assert_eq!(v["title"], "xenoplan protocol");
    let props = v["properties"].as_object().expect("properties");
    for k in [
        "protocol",
        "phases",
        "steps",
        "cohorts",
        "arms",
        "derivation",
        "tasks",
    ] {
        assert!(props.contains_key(k), "{k}");
    }
}
