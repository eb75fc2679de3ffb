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
        "caliper_cv_percent",
        &[
            r#"89:47: error: `cv` must be at most 1, got 6.3: a caliper error is a fraction (published 0.03–0.2, Jensen et al. 2008); at 1 one SD is a factor e on each diameter"#,
        ],
    ),
    (
        "calipers_not_in_growth_phase",
        &[
            r#"78:10: error: calipers are not taken during phase `growth`, which ends on the enrollment window: add it to `phases`"#,
        ],
    ),
    (
        "campaign_bad_links",
        &[
            r#"27:1: error: unknown key `lag-day` in `activity[1]` of a campaign; did you mean `lag-days`?"#,
            r#"13:9: error: protocol stage `derivation` (`tamoxifen-resistant-mcf7-derivation`) has no phase or step `valdation`; did you mean `validation`? phases: expansion, selection, validation; steps: bank parental stock, start 4-OHT, monthly IC50 check, monthly freeze-down, MTT plates"#,
            r#"19:9: error: unknown stage `thaw`; stages: derivation, xenograft, expansion, ship, wait"#,
            r#"25:9: error: `after` links form a cycle: ship after wait after ship; each stage must follow one that ends before it"#,
        ],
    ),
    (
        "check_days_not_increasing",
        &[
            r#"136:23: error: check day 56 is not after the previous day (84); `check-days` must be strictly increasing"#,
        ],
    ),
    (
        "conditional_day0_phase",
        &[
            r#"14:1: error: the day-0 phase `treatment` ends on a condition; treatment is simulated over fixed days from study day 0: give it `duration-days` (and end the growth phase before it on the window)"#,
        ],
    ),
    (
        "control_names_differ",
        &[
            r#"98:8: error: control arm `control` of cohort `T47D` is named differently from the first cohort's control `vehicle`; the analysis compares every cohort with one control name"#,
        ],
    ),
    (
        "cv_and_sd",
        &[r#"53:35: error: give either `cv` (log-normal) or `sd` (normal), not both"#],
    ),
    (
        "cycle_malformed",
        &[
            r#"70:86: error: unknown frequency `5on2of-bid`: a dosing cycle is written <N>on<M>off — N dosing days then M days off, counted from the first dose (5on2off, 4on3off, 21on7off for "3 weeks on, 1 off") — optionally followed by -bid, -tid or -qid"#,
        ],
    ),
    (
        "cycle_without_days_off",
        &[
            r#"70:86: error: dosing cycle `5on0off` has no day off, which is dosing every day: write "qd" (or "bid", "tid", "qid")"#,
        ],
    ),
    (
        "derivation_missing_section",
        &[
            r#"95:2: error: unknown key `kultur` at top level; did you mean `culture`?"#,
            r#"11:8: error: kind = "derivation" requires a `[culture]` section"#,
        ],
    ),
    (
        "detection_floor_above_window",
        &[
            r#"91:33: error: detection floor 5000 mm³ is above the enrollment window's upper bound 200 mm³: readings below the floor are 0 mm³, so no tumor small enough to enrol is ever read; expected a floor below the window"#,
        ],
    ),
    (
        "dosing_in_growth_phase",
        &[
            r#"71:100: error: dosing phase `growth` of arm `drug` is not a treatment phase (the day-0 phase or a fixed phase after it)"#,
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
        "hormone_after_cells",
        &[
            r#"54:23: error: `implant-offset-days` = 3 starts the estrogen supply after the cells, which the simulator does not model (tumors are grown under support from implantation): give it on or before the day of the cells (≤ 0, e.g. -1)"#,
        ],
    ),
    (
        "hormone_key_of_other_kind",
        &[
            r#"54:1: error: `release-days` is for kind = "pellet"; this supply is kind = "injection" (remove it or change `kind`)"#,
        ],
    ),
    (
        "hormone_reimplant_gap",
        &[
            r#"54:24: error: a pellet re-implanted every 90 days with a 60-day release leaves the tumors without estrogen for 30 days before each replacement; re-implant at most every 60 days"#,
        ],
    ),
    (
        "huge_value",
        &[r#"47:13: error: `volume-ul` must be > 0, got inf"#],
    ),
    (
        "hypotheses",
        &[
            r#"143:9: error: unknown arm `A + C`; did you mean `A + B`?"#,
            r#"148:8: error: a `synergy` hypothesis lists 3 arms: [combination, drug A, drug B]; found 2"#,
            r#"154:10: error: test `bliss-lmm` cannot test a `pairwise` hypothesis; use one of welch-log, mwu, slope, auc, lmm, logrank, response"#,
            r#"159:9: error: `control` is the control of cohort `example`; a `vs-control` hypothesis compares against it implicitly — list the treated arms only"#,
            r#"163:8: error: unknown hypothesis kind `synergie`; did you mean `synergy`?"#,
            r#"138:1: error: family `tertiary` has no hypothesis; set `family = "tertiary"` on a hypothesis or remove the entry"#,
        ],
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
            r#"70:74: error: unknown key `frequncy` in `cohorts[0].arms[1].treatments[0]`; did you mean `frequency`?"#,
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
        "observer_bias_minus_one",
        &[
            r#"90:27: error: `observer-bias` must be > -1 and ≤ 1 (a fraction of the true volume), got -1: −1 reads every tumor as 0 mm³, and a reading more than twice the true volume is a wrong formula or unit, not an observer's bias"#,
        ],
    ),
    (
        "pellet_step_in_xenograft",
        &[
            r#"24:8: error: step kind `pellet-implant`: in a xenograft protocol hormone pellets are dated from each cohort's [cohorts.hormone] (`implant-offset-days`, `reimplant-every-days`, `removal`), which the simulator and resources read too (cohorts with one: MCF-7); remove this step"#,
        ],
    ),
    (
        "plate_layout_too_small",
        &[
            r#"79:14: error: arrangement = "line-per-plate": 11 doses x 6 replicates = 66 wells do not fit the 57 sample wells of a plate; at most 5 replicate(s), or arrangement = "packed", a larger plate or fewer blanks"#,
        ],
    ),
    (
        "probability_gt_1",
        &[r#"41:23: error: `take-rate` must be between 0 and 1, got 1.2"#],
    ),
    (
        "procedure_cycle",
        &[r#"17:9: error: dependency cycle through task `extract`"#],
    ),
    (
        "rolling_without_growth_phase",
        &[
            r#"85:8: error: single-day or rolling enrollment needs a phase ending on the enrollment window (`until`) before the day-0 phase; use mode = "at-baseline" or add that phase"#,
        ],
    ),
    (
        "several_type_errors",
        &[
            r#"25:7: error: `animals.sex`: invalid type: integer `1`, expected a string"#,
            r#"47:13: error: `cohorts[0].implantation.volume-ul`: invalid type: string "100", expected a number"#,
            r#"64:5: error: `cohorts[0].arms[0].n`: invalid type: string "eight", expected an integer"#,
            r#"69:5: error: `cohorts[0].arms[1].n`: invalid type: string "eight", expected an integer"#,
            r#"94:9: error: `analysis.tests`: invalid type: string "welch-log", expected a sequence"#,
        ],
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
        "too_many_treatments",
        &[r#"71:1: error: arm `drug` has 5 treatments; at most 4 per arm are simulated"#],
    ),
    (
        "truncated",
        &[r#"58:21: error: unclosed inline table, expected `}`"#],
    ),
    (
        "two_conditional_phases",
        &[
            r#"19:1: error: phase `follow-up` is a second phase ending on a condition; the simulator handles one (the growth phase ending on the enrollment window, before the day-0 phase): give this phase `duration-days`"#,
        ],
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
        "weight_gain_negative",
        &[
            r#"28:35: error: `weight-gain-g-per-day` = -0.5 takes a 20 g mouse to -24.0 g by day 88 (the longest this protocol can run): below half its weight; a steady loss belongs in the agents' `weight-loss-pct-per-week`, and the baseline gain should be ≥ -0.1136 g/day"#,
        ],
    ),
    (
        "weight_noise_cv_large",
        &[
            r#"29:29: error: `weight-noise-cv` must be at most 0.1, got 0.5: a reading is weight × (1 + cv·z), negative for z < −1/cv (2.3% of readings at cv = 0.5); day-to-day noise of a mouse is 1–3%"#,
        ],
    ),
    (
        "window_min_gt_max",
        &[r#"9:43: error: window min (250) is greater than max (200)"#],
    ),
    (
        "window_overgrown",
        &[
            r#"51:10: error: cohort `MCF-7`: the typical tumor (every parameter at its median, exponential growth, V0 500.0 mm³ after 5.00 days latency; caliper bias +0, detection floor 20 mm³) never reads inside the enrollment window 150–200 mm³ within the maximum wait of 60 days: it first reads 500.0 mm³ on day 5, already above the window's upper bound (every tumor would be overgrown); expected growth, caliper and window under which the typical tumor enters the window before the wait ends"#,
        ],
    ),
    (
        "window_unreachable",
        &[
            r#"51:10: error: cohort `MCF-7`: the typical tumor (every parameter at its median, exponential growth, V0 1.000e-6 mm³ after 5.00 days latency; caliper bias +0, detection floor 20 mm³) never reads inside the enrollment window 150–200 mm³ within the maximum wait of 60 days: it stays below the detection floor (20 mm³) throughout; expected growth, caliper and window under which the typical tumor enters the window before the wait ends"#,
        ],
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
    let mut examples: Vec<String> = std::fs::read_dir(crate::root().join("examples"))
        .expect("examples/")
        .map(|e| {
            format!(
                "examples/{}",
                e.expect("entry").file_name().to_string_lossy()
            )
        })
        .filter(|p| p.ends_with(".toml"))
        .collect();
    examples.sort();
    v.sort();
    v.extend(examples);
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
fn unknown_keys_are_errors_unless_allowed_explicitly() {
    let dir = crate::scratch("protocol_warn");
    let text = std::fs::read_to_string(crate::root().join("examples/p1_power.toml")).expect("read");
    let p = dir.join("w.toml");
    std::fs::write(
        &p,
        text.replacen("[animals]\n", "[animals]\nstrian = \"x\"\n", 1),
    )
    .expect("write");
    let f = p.to_str().expect("utf8");
    let o = xenoplan(&["check", f]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("error: unknown key `strian` in `animals`; did you mean `strain`?"),
        "{}",
        stderr(&o)
    );
    let o = xenoplan(&["check", "--allow-unknown", f]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stderr(&o).contains(
            "warning: unknown key `strian` in `animals` is ignored (--allow-unknown); did you mean `strain`?"
        ),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).contains("(1 warning)"));
    // The issue's cases: a misspelled humane endpoint points at the real key; a key of another
    // process gets no misleading hint (only the keys valid there).
    let tamr = std::fs::read_to_string(crate::root().join("protocols/tamr_mcf7_xenograft.toml"))
        .expect("read");
    std::fs::write(
        &p,
        tamr.replacen("max-volume-mm3 = ", "max-volume-mm = ", 1),
    )
    .expect("write");
    let o = xenoplan(&["check", f]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(
            "error: unknown key `max-volume-mm` in `endpoints`; did you mean `max-volume-mm3`?"
        ),
        "{}",
        stderr(&o)
    );
    let der =
        std::fs::read_to_string(crate::root().join("protocols/anastrozole_resistant_mcf7aro.toml"))
            .expect("read");
    std::fs::write(
        &p,
        der.replacen(
            "[model]\n",
            "[model]\nreversion-rate-per-divison = { value = 0.1, source = \"x\" }\n",
            1,
        ),
    )
    .expect("write");
    let o = xenoplan(&["check", f]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err.contains(
            "error: unknown key `reversion-rate-per-divison` in `model`; did you mean `reversion-rate-per-division`?"
        ),
        "{err}"
    );
    // The hint names the key of the same process, never the opposite one.
    assert!(!err.contains("switch-rate"), "{err}");
    // Same kind only: a table is not a typo of a number-valued key.
    std::fs::write(
        &p,
        tamr.replacen(
            "event-volume-mm3 = 700",
            "event-volume-mm3 = 700\nevent-volume = { value = 1 }",
            1,
        ),
    )
    .expect("write");
    let o = xenoplan(&["check", f]);
    assert!(
        stderr(&o).contains("unknown key `event-volume` in `endpoints`; valid keys here:"),
        "{}",
        stderr(&o)
    );
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
fn list_shows_campaigns_with_their_kind_and_names_invalid_ones() {
    let o = xenoplan(&["list", "protocols/campaigns"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = stdout(&o);
    let row = s
        .lines()
        .find(|l| l.starts_with("tamr-campaign"))
        .unwrap_or_else(|| panic!("{s}"));
    assert_eq!(row.split_whitespace().nth(1), Some("campaign"), "{row}");
    assert!(row.contains("TamR-MCF-7"), "{row}");
    // A campaign that does not load is named, with the command that shows why.
    let d = crate::scratch("list-campaigns");
    std::fs::write(
        d.join("c.toml"),
        "[campaign]\nid = \"c\"\ntitle = \"t\"\n\n[[protocol]]\nid = \"x\"\nfile = \"missing.toml\"\n",
    )
    .expect("write");
    let dir = d.to_str().expect("utf-8 path");
    let o = xenoplan(&["list", dir]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("c.toml: invalid (1 error; run `xenoplan check "),
        "{e}"
    );
    // The campaign's error itself, positioned at the `file` value.
    let c = d.join("c.toml");
    let o = xenoplan(&["check", c.to_str().expect("utf-8 path")]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("c.toml:7:8: error: cannot read protocol file `"),
        "{e}"
    );
    assert!(
        e.contains("paths are relative to the campaign file's folder"),
        "{e}"
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

// ---------------------------------------------------------------- mutation (no-panic) tests

use rand::RngExt;

/// Replacement values for numbers: non-finite, extreme, negative, zero, overflow, wrong type.
const NUMBER_SWAPS: &[&str] = &[
    "nan",
    "-nan",
    "inf",
    "-inf",
    "1e308",
    "-1e308",
    "1e-320",
    "0",
    "-1",
    "99999999999999999999",
    "\"12\"",
    "true",
    "[]",
    "{}",
];

/// Spans of numeric literals that are values (`= 12.5`), as byte ranges.
fn number_spans(text: &str) -> Vec<std::ops::Range<usize>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 2 < b.len() {
        if b[i] == b'=' && b[i + 1] == b' ' && (b[i + 2].is_ascii_digit() || b[i + 2] == b'-') {
            let s = i + 2;
            let mut e = s + 1;
            while e < b.len()
                && (b[e].is_ascii_alphanumeric()
                    || b[e] == b'.'
                    || b[e] == b'-'
                    || b[e] == b'+'
                    || b[e] == b'_')
            {
                e += 1;
            }
            out.push(s..e);
            i = e;
        } else {
            i += 1;
        }
    }
    out
}

/// One random mutation of `bytes` (bytes, so invalid UTF-8 is produced too).
fn mutate(bytes: &[u8], rng: &mut xenoplan::rng::XRng) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    match rng.random_range(0..8u32) {
        // Truncation anywhere (possibly inside a multi-byte character).
        0 => bytes[..rng.random_range(0..bytes.len().max(1))].to_vec(),
        // Byte flips.
        1 => {
            let mut v = bytes.to_vec();
            for _ in 0..rng.random_range(1..4) {
                if v.is_empty() {
                    break;
                }
                let i = rng.random_range(0..v.len());
                v[i] = rng.random_range(0..=255u8);
            }
            v
        }
        // Deleted line (deleted keys, headers).
        2 if !lines.is_empty() => {
            let k = rng.random_range(0..lines.len());
            lines
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != k)
                .map(|(_, l)| *l)
                .collect::<Vec<_>>()
                .join("\n")
                .into_bytes()
        }
        // Number → string / NaN / inf / 1e308 / …
        3 | 4 => {
            let spans = number_spans(&text);
            if spans.is_empty() {
                return bytes.to_vec();
            }
            let r = spans[rng.random_range(0..spans.len())].clone();
            let swap = if rng.random_range(0..3u32) == 0 {
                format!("\"{}\"", &text[r.clone()])
            } else {
                NUMBER_SWAPS[rng.random_range(0..NUMBER_SWAPS.len())].to_string()
            };
            format!("{}{}{}", &text[..r.start], swap, &text[r.end..]).into_bytes()
        }
        // Duplicated line (duplicate keys / tables).
        5 if !lines.is_empty() => {
            let k = rng.random_range(0..lines.len());
            let mut v: Vec<&str> = lines.clone();
            v.insert(k, lines[k]);
            v.join("\n").into_bytes()
        }
        // Swapped lines (keys moved into other tables).
        6 if lines.len() > 1 => {
            let mut v: Vec<&str> = lines.clone();
            let a = rng.random_range(0..v.len());
            let b = rng.random_range(0..v.len());
            v.swap(a, b);
            v.join("\n").into_bytes()
        }
        // Replaced string value (unknown names, units, references).
        _ => {
            let mut v = text.clone().into_bytes();
            if let Some(p) = text
                .match_indices("= \"")
                .map(|(i, _)| i)
                .nth(rng.random_range(0..50))
            {
                let junk: &[u8] = [&b"zz"[..], b"", b"\\u0000", b"mg/kg", b"treatment", b"\xc3"]
                    [rng.random_range(0..6)];
                let at = p + 3;
                v.splice(at..at, junk.iter().copied());
            }
            v
        }
    }
}

fn sources() -> Vec<(String, Vec<u8>)> {
    bundled()
        .into_iter()
        .map(|f| {
            let b = std::fs::read(crate::root().join(&f)).expect("read");
            (f, b)
        })
        .collect()
}

/// Runs the library parser on `per_file` mutants of each bundled protocol (1–3 stacked
/// mutations each) and asserts it never panics. Returns the number of inputs run.
fn library_mutants(seed: u64, per_file: u64) -> u64 {
    let mut ran = 0;
    for (fi, (name, bytes)) in sources().iter().enumerate() {
        for k in 0..per_file {
            let mut rng = xenoplan::rng::stream(seed, &[fi as u64, k]);
            let mut m = bytes.clone();
            for _ in 0..rng.random_range(1..4u32) {
                m = mutate(&m, &mut rng);
            }
            let text = String::from_utf8_lossy(&m).into_owned();
            let r = std::panic::catch_unwind(|| {
                match xenoplan::protocol::parse(&text, "mutant.toml") {
                    Ok(l) => l
                        .warnings
                        .iter()
                        .map(|w| w.to_string().len())
                        .sum::<usize>(),
                    Err(e) => e.to_string().len() + e.errors().count(),
                }
            });
            assert!(
                r.is_ok(),
                "panic on mutant {k} of {name} (seed {seed}):\n{text}"
            );
            ran += 1;
        }
    }
    ran
}

#[test]
fn mutated_protocols_never_panic_the_parser() {
    // 500 mutants per bundled file (≥ 9 files); the ignored test below runs 10 000 per file.
    let files = sources().len() as u64;
    assert!(files >= 9, "bundled protocols and examples: {files}");
    let ran = library_mutants(20_261_122, 500);
    assert_eq!(ran, 500 * files);
}

#[test]
#[ignore = "long: 90 000 mutants; run with --ignored --release"]
fn mutated_protocols_never_panic_the_parser_long() {
    let ran = library_mutants(7, 10_000);
    eprintln!("ran {ran} mutants");
}

#[test]
fn mutated_protocols_exit_zero_or_one_from_the_cli() {
    let dir = crate::scratch("protocol_mutants");
    let mut files = Vec::new();
    for (fi, (_, bytes)) in sources().iter().enumerate() {
        for k in 0..6u64 {
            let mut rng = xenoplan::rng::stream(99, &[fi as u64, k]);
            let m = mutate(bytes, &mut rng);
            let p = dir.join(format!("m{fi}_{k}.toml"));
            std::fs::write(&p, m).expect("write");
            files.push(p.to_string_lossy().into_owned());
        }
    }
    for f in &files {
        for cmd in ["check", "show"] {
            let o = xenoplan(&[cmd, f]);
            let code = o.status.code();
            assert!(
                matches!(code, Some(0) | Some(1)),
                "{cmd} {f}: exit {code:?}\n{}",
                stderr(&o)
            );
        }
    }
    // All at once too: one failing file makes the run fail with 1, never 101.
    let mut args = vec!["check"];
    args.extend(files.iter().map(String::as_str));
    let o = xenoplan(&args);
    assert!(matches!(o.status.code(), Some(0) | Some(1)));
}

// ---------------------------------------------------------------- schema test

/// Validates every bundled protocol (TOML → JSON) against the `schema` output with an
/// independent JSON Schema implementation (the `jsonschema` crate), and checks the schema
/// rejects a wrong type, so it is not vacuous.
#[test]
fn bundled_protocols_validate_against_the_schema_output() {
    let o = xenoplan(&["schema"]);
    assert_eq!(o.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    let validator = jsonschema::validator_for(&schema).expect("the schema itself is valid");
    for f in bundled() {
        let text = std::fs::read_to_string(crate::root().join(&f)).expect("read");
        let value: toml::Value = toml::from_str(&text).expect("toml");
        let json = serde_json::to_value(&value).expect("to json");
        let errors: Vec<String> = validator
            .iter_errors(&json)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{f}: {errors:?}");
    }
    let text = std::fs::read_to_string(crate::root().join("tests/fixtures/bad/wrong_type.toml"))
        .expect("read");
    let json =
        serde_json::to_value(toml::from_str::<toml::Value>(&text).expect("toml")).expect("json");
    assert!(
        !validator.is_valid(&json),
        "schema must reject n = \"eight\""
    );
    // Closed tables and closed value sets: a misspelled key or value anywhere fails, as in
    // `check`; every frequency spelling `check` accepts validates.
    let tamr = std::fs::read_to_string(crate::root().join("protocols/tamr_mcf7_xenograft.toml"))
        .expect("read");
    let as_json = |text: &str| {
        serde_json::to_value(toml::from_str::<toml::Value>(text).expect("toml")).expect("json")
    };
    for (old, new) in [
        ("max-volume-mm3 = ", "max-volume-mm = "),
        ("[husbandry]\n", "[husbandry]\nspare = 1\n"),
        ("kind = \"caliper\"", "kind = \"calliper\""),
        ("route = \"im\"", "route = \"intramuscular\""),
        ("mode = \"rolling\"", "mode = \"roling\""),
        ("frequency = \"qw\"", "frequency = \"bdi\""),
        ("\"welch-log\", \"mwu\"", "\"welch-logg\", \"mwu\""),
    ] {
        assert!(tamr.contains(old), "{old}");
        let bad = as_json(&tamr.replacen(old, new, 1));
        assert!(!validator.is_valid(&bad), "schema accepts {new:?}");
    }
    for f in [
        "once",
        "qd",
        "daily",
        "bid",
        "tid",
        "qid",
        "q3d",
        "q10d",
        "qw",
        "weekly",
        "q2w",
        "5on2off",
        "4on3off",
        "21on7off",
        "5on2off-bid",
        "5on2off bid",
    ] {
        let text = tamr.replacen("frequency = \"qw\"", &format!("frequency = \"{f}\""), 1);
        assert!(validator.is_valid(&as_json(&text)), "schema rejects {f}");
        let p = crate::scratch("schema_freq").join("f.toml");
        std::fs::write(&p, &text).expect("write");
        let o = xenoplan(&["check", p.to_str().expect("utf8")]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "check rejects {f}: {}",
            stderr(&o)
        );
    }
}

#[test]
fn check_design_names_the_tamr_parental_cohort_problem() {
    let o = xenoplan(&["check", "--design", "protocols/tamr_mcf7_xenograft.toml"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains(
            "Design check (tamr-mcf7-xenograft; pilot study of 20+ animals per arm, seed 1):"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "  problem [control-does-not-grow] MCF-7: the control arm `vehicle` goes from a mean"
        ),
        "{text}"
    );
    assert!(
        text.contains("    → keep estrogen support during treatment, compare on regression"),
        "{text}"
    );
    // In vitro protocols have no design check: `ok` only.
    let o = xenoplan(&[
        "check",
        "--design",
        "protocols/anastrozole_resistant_mcf7aro.toml",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stdout(&o).contains("Design check"), "{}", stdout(&o));
}
