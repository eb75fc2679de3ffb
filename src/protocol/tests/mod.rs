//! Unit tests of loading: bundled protocols load, diagnostics are positioned.

use super::*;

fn repo(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(p)
}

#[test]
fn tamr_loads() {
    let l = load(&repo("protocols/tamr_mcf7_xenograft.toml")).unwrap_or_else(|e| panic!("{e}"));
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let x = l.protocol.xenograft().expect("xenograft");
    assert_eq!(l.protocol.id, "tamr-mcf7-xenograft");
    assert_eq!(x.cohorts.len(), 2);
}

#[test]
fn p1_loads() {
    let l = load(&repo("examples/p1_power.toml")).unwrap_or_else(|e| panic!("{e}"));
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let x = l.protocol.xenograft().expect("xenograft");
    assert_eq!(x.cohorts[0].arms.len(), 4);
}

#[test]
fn every_bundled_protocol_loads_without_warnings() {
    let mut kinds = std::collections::HashSet::new();
    let mut n = 0;
    for e in std::fs::read_dir(repo("protocols")).expect("protocols dir") {
        let p = e.expect("entry").path();
        if p.extension().and_then(|x| x.to_str()) != Some("toml") {
            continue;
        }
        let l = load(&p).unwrap_or_else(|e| panic!("{e}"));
        assert!(l.warnings.is_empty(), "{}: {:?}", p.display(), l.warnings);
        kinds.insert(l.protocol.kind());
        n += 1;
    }
    assert!(n >= 7, "only {n} protocols");
    assert_eq!(kinds.len(), 4, "all four kinds present");
}

#[test]
fn tamr_numbers_reach_the_domain() {
    let l = load(&repo("protocols/tamr_mcf7_xenograft.toml")).unwrap_or_else(|e| panic!("{e}"));
    let x = l.protocol.xenograft().expect("xenograft");
    let mcf7 = x.cohort("MCF-7").expect("MCF-7");
    let tamr = x.cohort("TamR-MCF-7").expect("TamR");
    assert_eq!(mcf7.growth_without_estrogen.value, 0.0);
    assert_eq!(tamr.growth_without_estrogen.value, 1.0);
    assert_eq!(mcf7.arms.len(), 5);
    assert_eq!(mcf7.control().name, "vehicle");
    assert_eq!(
        mcf7.hormone.as_ref().map(|h| h.removal.clone()),
        Some(PelletRemoval::AtRandomization)
    );
    let fulv = &mcf7.arms[4].treatments[0];
    assert_eq!(
        (fulv.dose, fulv.unit, fulv.route),
        (200.0, DoseUnit::MgPerKg, Route::Im)
    );
    assert_eq!(fulv.schedule.frequency, Frequency::EveryNDays { n: 7 });
    assert_eq!(fulv.phase, "treatment");
    let cal = x.caliper_measurement().expect("calipers");
    assert_eq!(
        cal.schedule.frequency,
        Frequency::Weekdays {
            days: vec![jiff::civil::Weekday::Monday, jiff::civil::Weekday::Thursday]
        }
    );
    assert_eq!(
        (
            x.enrollment.min_mm3,
            x.enrollment.max_mm3,
            x.enrollment.max_wait_days
        ),
        (150.0, 200.0, 70)
    );
    assert_eq!(l.protocol.day0_phase(), 2);
    assert!(
        x.agent("taragarestrant")
            .and_then(|a| a.pk.as_ref())
            .is_some()
    );
}

#[test]
fn p1_encodes_the_benchmark() {
    let l = load(&repo("examples/p1_power.toml")).unwrap_or_else(|e| panic!("{e}"));
    let x = l.protocol.xenograft().expect("xenograft");
    let c = &x.cohorts[0];
    let GrowthModel::Exponential { v0_mm3, rate } = &c.growth else {
        panic!("exponential")
    };
    assert_eq!(v0_mm3.value, 175.0);
    let Variability::LogNormal { cv } = v0_mm3.variability else {
        panic!("lognormal v0")
    };
    assert!(((1.0 + cv * cv).ln().sqrt() - 0.15).abs() < 1e-12);
    assert!((rate.value - std::f64::consts::LN_2 / 7.0).abs() < 1e-15);
    assert_eq!(
        rate.variability,
        Variability::Normal {
            sd: 0.25 * std::f64::consts::LN_2 / 7.0
        }
    );
    let inh: Vec<f64> = ["treatment-0.8", "treatment-0.6", "treatment-0.4"]
        .iter()
        .map(|a| match &c.effect(a).expect("effect").mode {
            EffectMode::Direct { inhibition, .. } => inhibition.value,
            _ => f64::NAN,
        })
        .collect();
    assert_eq!(inh, vec![0.2, 0.4, 0.6]);
    assert_eq!(x.enrollment.mode, EnrollmentMode::AtBaseline);
    assert_eq!(c.take_rate.value, 1.0);
    assert!(matches!(&x.caliper.error, CaliperError::LogVolume { sd } if sd.value == 0.10));
    assert_eq!(x.analysis.tests, vec![TestKey::WelchLog]);
    assert_eq!(
        (x.analysis.alpha, x.analysis.adjust, x.analysis.analysis_day),
        (0.05, Adjustment::None, Some(28.0))
    );
    assert!(x.endpoints.max_volume_mm3.is_none() && x.endpoints.max_diameter_mm.is_none());
}

#[test]
fn misspelled_key_warns_with_closest_key() {
    let text = std::fs::read_to_string(repo("examples/p1_power.toml")).expect("read");
    let bad = text.replacen("event-volume-mm3 = ", "event-volume-mm = ", 1);
    match parse(&bad, "p1.toml") {
        Err(e) => {
            let s = e.to_string();
            assert!(s.contains("did you mean `event-volume-mm3`?"), "{s}");
        }
        Ok(_) => panic!("missing required key must fail"),
    }
    let warn = text.replacen("[animals]\n", "[animals]\nstrian = \"x\"\n", 1);
    let e = parse(&warn, "p1.toml").expect_err("unknown keys are errors");
    let msgs: Vec<&str> = e.errors().map(|d| d.message.as_str()).collect();
    assert_eq!(
        msgs,
        ["unknown key `strian` in `animals`; did you mean `strain`?"]
    );
    let opts = ParseOptions {
        allow_unknown: true,
    };
    let l = parse_with(&warn, "p1.toml", opts).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(l.warnings.len(), 1);
    assert!(l.warnings[0].message.contains(
        "unknown key `strian` in `animals` is ignored (--allow-unknown); did you mean `strain`?"
    ));
}

#[test]
fn semantic_errors_are_all_collected() {
    let text = std::fs::read_to_string(repo("protocols/tamr_mcf7_xenograft.toml")).expect("read");
    let bad = text
        .replace("min = 150, max = 200", "min = 250, max = 200")
        .replace("dose = 30,", "dose = -30,");
    let e = parse(&bad, "t.toml").expect_err("must fail");
    let msgs: Vec<&str> = e.errors().map(|d| d.message.as_str()).collect();
    assert!(
        msgs.iter()
            .any(|m| m.contains("window min (250) is greater than max (200)")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("`dose` must be > 0, got -30")),
        "{msgs:?}"
    );
}

#[test]
fn valid_keys_come_from_the_schema_at_any_depth() {
    let root = KeyPath::root();
    let top = valid_keys(&root);
    assert!(top.contains(&"protocol".to_string()) && top.contains(&"cohorts".to_string()));
    let t = valid_keys(&root.k("cohorts").i(0).k("arms").i(2).k("treatments").i(0));
    for k in [
        "agent",
        "dose",
        "unit",
        "route",
        "frequency",
        "times",
        "weekdays",
    ] {
        assert!(t.contains(&k.to_string()), "{k} in {t:?}");
    }
    let pk = valid_keys(&root.k("agents").i(0).k("pk"));
    assert_eq!(
        pk,
        vec![
            "bioavailability",
            "half-life-h",
            "ka-per-h",
            "volume-l-per-kg"
        ]
    );
    assert!(valid_keys(&root.k("nope")).is_empty());
}

#[test]
fn spans_point_at_values_keys_and_nearest_ancestor() {
    let text = "[a]\nb = [ { c = 1 }, { c = 22 } ]\n";
    let (doc, errs) = toml::de::DeTable::parse_recoverable(text);
    assert!(errs.is_empty());
    let s = SpanIndex::new(&doc);
    let p = KeyPath::root().k("a").k("b").i(1).k("c");
    assert_eq!(&text[s.value(&p)], "22");
    assert_eq!(&text[s.key(&p)], "c");
    assert!(s.exists(&p));
    let missing = KeyPath::root().k("a").k("b").i(1).k("zz");
    assert!(!s.exists(&missing));
    assert_eq!(&text[s.value(&missing)], "{ c = 22 }");
    assert_eq!(s.path_at(&s.value(&p)), Some(p));
}

#[test]
fn io_error_names_the_file() {
    let e = load(Path::new("/definitely/not/here.toml")).expect_err("missing file");
    assert!(
        e.to_string()
            .starts_with("/definitely/not/here.toml: cannot read protocol"),
        "{e}"
    );
    assert!(e.diagnostics().is_empty());
}

mod fuzz;

/// The anastrozole derivation with `extra` lines appended to `[validation]`.
fn anastrozole_with_validation(extra: &str) -> String {
    let text = std::fs::read_to_string(repo("protocols/anastrozole_resistant_mcf7aro.toml"))
        .expect("read");
    let anchor = "blank-wells = 3\n";
    assert!(text.contains(anchor));
    text.replacen(anchor, &format!("{anchor}{extra}"), 1)
}

#[test]
fn check_days_merge_the_interval_and_the_list() {
    let text = anastrozole_with_validation(
        "check-every-days = 90\ncheck-days = [28, 60, 90]\ntarget-fold-shift = 10\n",
    );
    let l = parse(&text, "a.toml").unwrap_or_else(|e| panic!("{e}"));
    let Body::Derivation(d) = &l.protocol.body else {
        panic!("derivation")
    };
    let c = d.checks.as_ref().expect("checks");
    assert_eq!(c.days, [28, 60, 90, 180, 270]);
    assert_eq!(c.target_fold_shift, Some(10.0));
    let plain = load(&repo("protocols/anastrozole_resistant_mcf7aro.toml")).expect("load");
    let Body::Derivation(d) = &plain.protocol.body else {
        panic!("derivation")
    };
    assert_eq!(d.checks, None);
}

#[test]
fn impossible_check_days_are_positioned_errors() {
    let text = anastrozole_with_validation(
        "check-every-days = 0\ncheck-days = [28, 28, 14, 300, 0]\ntarget-fold-shift = 0.5\n",
    );
    let e = parse(&text, "a.toml").expect_err("must fail");
    let line = |key: &str| text.lines().position(|l| l.starts_with(key)).unwrap() + 1;
    let (every, list, target) = (
        line("check-every-days"),
        line("check-days"),
        line("target-fold-shift"),
    );
    let got: Vec<(usize, usize, &str)> = e
        .errors()
        .map(|d| (d.line, d.col, d.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                every,
                20,
                "`check-every-days` must be an integer ≥ 1, got 0"
            ),
            (
                list,
                19,
                "check day 28 is listed twice (28); `check-days` must be strictly increasing"
            ),
            (
                list,
                23,
                "check day 14 is not after the previous day (28); `check-days` must be strictly increasing"
            ),
            (
                list,
                27,
                "check day 300 is after the end of the derivation (270 days)"
            ),
            (list, 32, "check day 0 must be ≥ 1 (day 0 is the seeding)"),
            (
                target,
                21,
                "`target-fold-shift` must be > 1 (derived IC50 above the parental), got 0.5"
            ),
        ]
    );
    let long = anastrozole_with_validation("check-every-days = 300\n");
    let e = parse(&long, "a.toml").expect_err("must fail");
    let msgs: Vec<&str> = e.errors().map(|d| d.message.as_str()).collect();
    assert_eq!(
        msgs,
        ["`check-every-days` = 300 is longer than the derivation (270 days): no check would run"]
    );
}

#[test]
fn an_assay_design_refuses_check_keys() {
    let text = std::fs::read_to_string(repo("protocols/camizestrant_proliferation_assay.toml"))
        .expect("read");
    let bad = text.replacen("[design]\n", "[design]\ncheck-days = [7]\n", 1);
    assert_ne!(bad, text);
    let e = parse(&bad, "c.toml").expect_err("must fail");
    let msgs: Vec<&str> = e.errors().map(|d| d.message.as_str()).collect();
    assert_eq!(
        msgs,
        [
            "`check-days` belongs to a derivation's `[validation]` (IC50 checks on the deriving population); an assay protocol runs its plate once"
        ]
    );
}

#[test]
fn between_experiment_variability_defaults_and_bad_values_are_positioned() {
    let text = std::fs::read_to_string(repo("protocols/camizestrant_proliferation_assay.toml"))
        .expect("read");
    let ok = parse(&text, "c.toml").expect("bundled assay");
    let Body::Assay(a) = &ok.protocol.body else {
        panic!("assay")
    };
    assert_eq!(a.lines[0].between_experiment_log10_ic50_sd.value, 0.2);
    // Omitted: the assumed default, with its source.
    let key = "between-experiment-log10-ic50-sd = { value = 0.2, source = \"assumed; as MCF7 (2-3-fold between experiments), n/f for CAMA-1\" }\n";
    let omitted = text.replacen(key, "", 1);
    assert_ne!(omitted, text);
    let o = parse(&omitted, "c.toml").expect("default");
    let Body::Assay(a) = &o.protocol.body else {
        panic!("assay")
    };
    assert_eq!(
        a.lines[1].between_experiment_log10_ic50_sd,
        Sourced::new(
            DEFAULT_BETWEEN_EXPERIMENT_LOG10_IC50_SD,
            DEFAULT_BETWEEN_EXPERIMENT_SOURCE
        )
    );
    // A fold SD in place of log10 units is an error at the value.
    let bad = text.replacen(
        "between-experiment-log10-ic50-sd = { value = 0.2,",
        "between-experiment-log10-ic50-sd = { value = 3,",
        1,
    );
    let e = parse(&bad, "c.toml").expect_err("must fail");
    let d: Vec<_> = e.errors().collect();
    assert_eq!(d.len(), 1);
    assert!(
        d[0].message.contains("is in log10 units") && d[0].message.contains("3 is more than 2"),
        "{}",
        d[0].message
    );
    assert!(d[0].line_text.contains("value = 3"), "{}", d[0].line_text);
    let under: String = d[0]
        .line_text
        .chars()
        .skip(d[0].caret_at)
        .take(d[0].width)
        .collect();
    assert_eq!(under, "3", "{}", d[0].line_text);
}

/// The bundled holiday derivation with `from` replaced by `to` (once): its errors as
/// (line, message), and the 1-based line of `marker` in the changed text.
fn holiday_errors(from: &str, to: &str, marker: &str) -> (Vec<(usize, String)>, usize) {
    let text = std::fs::read_to_string(repo("protocols/tamoxifen_resistant_mcf7_holiday.toml"))
        .expect("read");
    let bad = text.replacen(from, to, 1);
    assert_ne!(bad, text, "`{from}` not in the protocol");
    let line = bad
        .lines()
        .position(|l| l.contains(marker))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("no `{marker}`"));
    let e = parse(&bad, "h.toml").expect_err("must fail");
    let errs = e.errors().map(|d| (d.line, d.message.clone())).collect();
    (errs, line)
}

#[test]
fn split_key_errors_are_positioned() {
    let holiday = "kind = \"holiday\"\nholiday-days = 112\nrechallenge = true\n";
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "[split]\nday = 168\n",
            "[split]\nday = 400\n",
            "day = 400",
            "split day 400 is not before the end of the derivation (336 days): the arms would have no day to run",
        ),
        (
            "[split]\nday = 168\n",
            "[split]\n",
            "[split]",
            "give exactly one of `day = N` or `at = \"target-fold-shift\"`",
        ),
        (
            "kind = \"holiday\"\n",
            "kind = \"holidy\"\n",
            "holidy",
            "unknown arm kind `holidy`; did you mean `holiday`?",
        ),
        (
            holiday,
            "kind = \"holiday\"\nrechallenge = true\n",
            "rechallenge = true",
            "`rechallenge = true` needs `holiday-days`: the drug comes back when the holiday ends",
        ),
        (
            holiday,
            "kind = \"holiday\"\nholiday-days = 400\nrechallenge = true\n",
            "holiday-days = 400",
            "a holiday of 400 days does not end within the derivation (336 days); leave `holiday-days` out for a holiday to the end",
        ),
        (
            "concentrations-nm = [300, 1000]",
            "concentrations-nm = [300, 200]",
            "concentrations-nm = [300, 200]",
            "200 nM is not above the previous concentration (300 nM)",
        ),
        (
            "name = \"escalate\"\nkind = \"escalate\"\n",
            "name = \"escalate\"\nkind = \"escalate\"\nfraction = 0.5\n",
            "fraction = 0.5",
            "arm fractions add up to 1.1666666666666665 so far; the arms share the cells at the split, at most 1 in all",
        ),
    ];
    for &(from, to, marker, message) in cases {
        let (errs, line) = holiday_errors(from, to, marker);
        assert_eq!(errs.len(), 1, "{to}: {errs:?}");
        assert!(errs[0].1.contains(message), "{to}: {errs:?}");
        assert_eq!(errs[0].0, line, "{to}: {errs:?}");
    }
    // A key of another arm kind: an error at that key.
    let (errs, _) = holiday_errors(
        holiday,
        "kind = \"holiday\"\nholiday-days = 112\nrechallenge = true\nevery-days = 28\n",
        "every-days = 28",
    );
    let text = std::fs::read_to_string(repo("protocols/tamoxifen_resistant_mcf7_holiday.toml"))
        .expect("read");
    let holiday_arm_line = text
        .lines()
        .position(|l| l == "rechallenge = true")
        .expect("line")
        + 2;
    assert_eq!(
        errs,
        [(
            holiday_arm_line,
            "`every-days` does not apply to a `holiday` arm".to_string()
        )]
    );
    // Two arms of one name: the duplicate is an error at its name.
    let (errs, _) = holiday_errors(
        "name = \"escalate\"\n",
        "name = \"holiday\"\n",
        "kind = \"escalate\"",
    );
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].1.contains("holiday"), "{errs:?}");
}

#[test]
fn expected_null_hypotheses_parse_and_bad_values_are_positioned() {
    let text = std::fs::read_to_string(repo("protocols/tamr_mcf7_xenograft.toml")).expect("read");
    let p = parse(&text, "t.toml").expect("TamR parses");
    let x = p.protocol.xenograft().expect("xenograft");
    let tam = x
        .analysis
        .hypotheses
        .iter()
        .find(|h| h.name == "tamoxifen in TamR (expected negative)")
        .expect("tamoxifen hypothesis");
    assert_eq!(tam.expected, Expectation::Null);
    assert_eq!(x.analysis.hypotheses[0].expected, Expectation::Effect);
    // An unknown value: an error at the value, naming the choices.
    let bad = text.replace("expected = \"null\"", "expected = \"nul\"");
    let e = parse(&bad, "t.toml").expect_err("must fail");
    let line = bad
        .lines()
        .position(|l| l.starts_with("expected = \"nul\""))
        .unwrap()
        + 1;
    let d = e.errors().next().expect("one error");
    assert_eq!((d.line, d.col), (line, 12), "{}", d.message);
    assert!(
        d.message.contains("nul") && d.message.contains("null"),
        "{}",
        d.message
    );
    // Without a role it is secondary; an explicit primary is an error at the role.
    let no_role = text.replace("role = \"secondary\"\nexpected", "expected");
    let p = parse(&no_role, "t.toml").expect("role defaults to secondary");
    let x = p.protocol.xenograft().expect("xenograft");
    assert!(
        x.analysis
            .hypotheses
            .iter()
            .any(|h| h.expected == Expectation::Null && h.role == Role::Secondary)
    );
    let primary = text.replace(
        "role = \"secondary\"\nexpected",
        "role = \"primary\"\nexpected",
    );
    let e = parse(&primary, "t.toml").expect_err("primary expected-null must fail");
    assert!(
        e.errors()
            .any(|d| d.message.contains("expected-null control") && d.message.contains("role")),
        "{e}"
    );
}

#[test]
fn in_study_rules_are_checked_with_their_positions() {
    let text = std::fs::read_to_string(repo("protocols/tamr_mcf7_xenograft.toml")).expect("read");
    let bad = format!(
        "{text}\n[dose-modification]\nweight-loss-pct = {{ value = 25, source = \"t\" }}\nholiday-days = 0\nresume-dose-fraction = 1.5\nmax-holidays = 99\narms = [\"vehicel\"]\ntreshold = 3\n\n[study-stop]\narm = \"nope\"\nstatistic = \"mode\"\nvolume-mm3 = -5\n"
    );
    let e = parse(&bad, "t.toml").expect_err("must fail");
    let appended = text.lines().count();
    let line_of = |needle: &str| {
        bad.lines()
            .skip(appended)
            .position(|l| l.starts_with(needle))
            .map(|i| i + appended + 1)
            .unwrap_or(0)
    };
    let errs: Vec<(usize, &str)> = e.errors().map(|d| (d.line, d.message.as_str())).collect();
    for (needle, msg) in [
        (
            "weight-loss-pct",
            "is not below the humane `[endpoints] max-weight-loss-pct`",
        ),
        ("holiday-days", "holiday-days"),
        ("resume-dose-fraction", "in (0, 1]"),
        ("max-holidays", "max-holidays"),
        ("arms", "unknown arm `vehicel`; did you mean `vehicle`?"),
        ("treshold", "unknown key `treshold` in `dose-modification`"),
        ("arm =", "unknown arm `nope`"),
        ("statistic", "mode"),
        ("volume-mm3", "`volume-mm3` must be > 0"),
    ] {
        let line = line_of(needle);
        assert!(
            errs.iter().any(|(l, m)| m.contains(msg) && *l == line),
            "{needle} (line {line}): {errs:?}"
        );
    }
    // A reference dose needs the loss it refers to.
    let bad = text.replacen(
        "[[agents]]\nname = \"vehicle\"",
        "[[agents]]\nname = \"vehicle\"\nweight-loss-reference-dose = { dose = 3, unit = \"mg/kgg\" }",
        1,
    );
    assert_ne!(bad, text);
    let e = parse(&bad, "t.toml").expect_err("must fail");
    let msgs: Vec<&str> = e.errors().map(|d| d.message.as_str()).collect();
    assert!(
        msgs.iter()
            .any(|m| m.contains("`weight-loss-pct-per-week`, which is not given")),
        "{msgs:?}"
    );
    assert!(msgs.iter().any(|m| m.contains("mg/kgg")), "{msgs:?}");
}
