//! `xenoplan power`: outputs, determinism across thread counts, JSON summary, errors.

use super::{scratch, stderr, stdout, xenoplan};

fn run_p1(dir: &std::path::Path, threads: &str, extra: &[&str]) -> std::process::Output {
    let out = dir.to_str().expect("utf-8 path");
    let mut args = vec![
        "power",
        "examples/p1_power.toml",
        "--n",
        "3..15",
        "--reps",
        "3000",
        "--seed",
        "7",
        "--threads",
        threads,
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    xenoplan(&args)
}

#[test]
fn p1_power_csv_is_byte_identical_for_one_and_two_threads() {
    let d1 = scratch("power-p1-t1");
    let d2 = scratch("power-p1-t2");
    let o1 = run_p1(&d1, "1", &[]);
    let o2 = run_p1(&d2, "2", &[]);
    assert_eq!(o1.status.code(), Some(0), "{}", stderr(&o1));
    assert_eq!(o2.status.code(), Some(0), "{}", stderr(&o2));
    let a = std::fs::read(d1.join("power.csv")).expect("power.csv");
    let b = std::fs::read(d2.join("power.csv")).expect("power.csv");
    assert_eq!(a, b, "power.csv differs between --threads 1 and 2");
    let text = String::from_utf8(a).expect("utf-8");
    assert!(text.starts_with("n_per_arm,comparison,endpoint,power,ci_low,ci_high,reps"));
    assert_eq!(text.lines().count(), 1 + 13 * 3);
    for f in ["plots/power.svg", "plots/power.png", "manifest.json"] {
        assert!(d1.join(f).is_file(), "missing {f}");
    }
    let manifest = std::fs::read_to_string(d1.join("manifest.json")).expect("manifest");
    assert!(manifest.contains("\"seed\": 7") && manifest.contains("\"protocol_id\": \"p1-power\""));
    // The text report carries the analytic cross-check and the recommendation.
    let s = stdout(&o1);
    assert!(
        s.contains("t (nct)") && s.contains("Recommended n per arm"),
        "{s}"
    );
    assert!(s.contains("Sample-size justification"), "{s}");
    // n = 10, x0.8: noncentral t 0.3743 (P1.md ≈ 0.37).
    let row = text
        .lines()
        .find(|l| l.starts_with("10,x0.8 vs control,"))
        .expect("row");
    let cols: Vec<&str> = row.split(',').collect();
    assert_eq!(cols[7], "0.374301");
    let p: f64 = cols[3].parse().expect("power");
    assert!(
        (p - 0.369).abs() < 4.5 * (0.369f64 * 0.631 / 3000.0).sqrt(),
        "{row}"
    );
}

#[test]
fn json_summary_on_stdout() {
    let d = scratch("power-p1-json");
    let o = run_p1(&d, "2", &["--json", "--joint"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value =
        serde_json::from_str(&stdout(&o)).expect("stdout is one JSON document");
    assert_eq!(v["protocol_id"], "p1-power");
    assert_eq!(v["reps"], 3000);
    let recs = v["recommendations"].as_array().expect("recommendations");
    assert_eq!(recs.len(), 4, "3 comparisons + joint");
    let x06 = recs
        .iter()
        .find(|r| r["comparison"] == "x0.6 vs control")
        .expect("x0.6");
    let n = x06["n_per_arm"].as_u64().expect("reached");
    assert!((7..=9).contains(&n), "{x06}");
    assert!(
        v["justification"]
            .as_str()
            .expect("text")
            .contains("3000 complete studies")
    );
    assert_eq!(v["animal_plans"][0]["n_per_arm"], n);
}

#[test]
fn bad_settings_exit_one_with_a_message() {
    let d = scratch("power-bad");
    let out = d.to_str().expect("utf-8");
    for (args, needle) in [
        (vec!["--n", "9..3"], "n range"),
        (vec!["--n", "1..4"], "at least 2"),
        (vec!["--alpha", "1.5"], "alpha"),
        (vec!["--reps", "0"], "reps"),
        (vec!["--endpoint", "ttest"], "unknown endpoint `ttest`"),
        (vec!["--threads", "0"], "threads"),
        (
            vec!["--precision", "0.7"],
            "--precision must be a Wilson half-width in (0, 0.5), e.g. 0.01; got 0.7",
        ),
        (
            vec!["--reps", "1000", "--precision", "0.01", "--max-reps", "300"],
            "--max-reps (300) is below --reps (1000): the first round is --reps replicates",
        ),
    ] {
        let mut a = vec!["power", "examples/p1_power.toml", "--out", out];
        a.extend_from_slice(&args);
        let o = xenoplan(&a);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
    }
    let o = xenoplan(&["power", "no/such/file.toml", "--out", out]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no/such/file.toml"), "{}", stderr(&o));
    let o = xenoplan(&["power", "examples/p1_power.toml", "--adjust", "sidak"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!d.join("power.csv").exists(), "no output on failure");
}

#[test]
fn whole_study_path_runs_on_the_tamr_protocol() {
    let d = scratch("power-tamr");
    let out = d.to_str().expect("utf-8");
    let o = xenoplan(&[
        "power",
        "protocols/tamr_mcf7_xenograft.toml",
        "--n",
        "4,6",
        "--reps",
        "6",
        "--endpoint",
        "welch-log,mwu",
        "--threads",
        "2",
        "--out",
        out,
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert!(
        v["engine"]
            .as_str()
            .expect("engine")
            .starts_with("full simulator")
    );
    let csv = std::fs::read_to_string(d.join("power.csv")).expect("power.csv");
    // The protocol declares its hypotheses (TamR-MCF-7 only); --endpoint keeps their
    // welch-log tests: 2 n × 4 hypotheses (mwu is not among their tests).
    assert_eq!(csv.lines().count(), 1 + 2 * 4, "{csv}");
    assert!(
        csv.lines().skip(1).all(|l| l.contains(",welch-log,")),
        "{csv}"
    );
    let plans = v["animal_plans"].as_array().expect("plans");
    assert_eq!(
        plans.len(),
        1,
        "only the cohort with a primary hypothesis is sized"
    );
    for p in plans {
        let y = p["enrollment_yield"].as_f64().expect("yield");
        assert!(y > 0.0 && y <= 1.0, "{p}");
        assert!(
            p["yield_source"]
                .as_str()
                .expect("src")
                .contains("pilot simulation:")
        );
        assert!(
            p["implant_total"].as_u64().expect("n") >= p["enrolled_total"].as_u64().expect("n")
        );
    }
}

/// `--engine tight` on a design outside the tight path names every reason and exits 1;
/// `--engine full` on an eligible design runs whole studies and says so in power.csv.
#[test]
fn engine_choice_is_explicit() {
    let d = scratch("power-engine-tight");
    let o = xenoplan(&[
        "power",
        "protocols/tamr_mcf7_xenograft.toml",
        "--n",
        "4",
        "--reps",
        "10",
        "--engine",
        "tight",
        "--out",
        d.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains(
            "the tight power path cannot run this design: enrollment from an implanted pool"
        ) && e.contains("(use --engine full or auto)"),
        "{e}"
    );
    let d = scratch("power-engine-full");
    let o = xenoplan(&[
        "power",
        "examples/p1_power.toml",
        "--n",
        "3",
        "--reps",
        "20",
        "--engine",
        "full",
        "--out",
        d.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let csv = std::fs::read_to_string(d.join("power.csv")).expect("power.csv");
    let header: Vec<&str> = csv.lines().next().unwrap_or("").split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "engine")
        .expect("engine column");
    assert!(
        csv.lines()
            .skip(1)
            .all(|l| l.split(',').nth(col) == Some("full")),
        "{csv}"
    );
    let manifest = std::fs::read_to_string(d.join("manifest.json")).expect("manifest");
    assert!(manifest.contains("\"engine_key\": \"full\""), "{manifest}");
}

/// `--scenario all` sizes the protocol as written and under the optimistic and pessimistic
/// scalings, and says so in the text, the paragraph and the manifest.
#[test]
fn scenarios_show_how_the_recommendation_moves() {
    let d = scratch("power-scenarios");
    let o = xenoplan(&[
        "power",
        "examples/p1_power.toml",
        "--n",
        "3..12",
        "--reps",
        "400",
        "--scenario",
        "all",
        "--out",
        d.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("Robustness (recommended n per arm; scenario factors assumed):"),
        "{text}"
    );
    for line in [
        "  expected     effects ×1     variability ×1 ",
        "  optimistic   effects ×1.25  variability ×0.8 ",
        "  pessimistic  effects ×0.75  variability ×1.25",
    ] {
        assert!(text.contains(line), "{line}\n{text}");
    }
    assert!(text.contains("Robustness (scenario factors assumed): expected (effects ×1"));
    let manifest = std::fs::read_to_string(d.join("manifest.json")).expect("manifest");
    assert!(manifest.contains("\"pessimistic\""), "{manifest}");
}

#[test]
fn combination_protocol_sizes_each_declared_hypothesis() {
    // The bundled 10-arm camizestrant study: the primary family is "each combination beats
    // both of its agents" (intersection–union), so the recommendation comes from those four.
    let d = scratch("power-camizestrant");
    let o = xenoplan(&[
        "power",
        "protocols/camizestrant_combinations_pdx.toml",
        "--n",
        "4..8",
        "--reps",
        "100",
        "--endpoint",
        "welch-log",
        "--endpoint",
        "mwu",
        "--out",
        d.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    for h in ["palbociclib", "alpelisib", "everolimus", "capivasertib"] {
        let line = format!("  camizestrant + {h} beats each agent");
        assert!(text.contains(&line), "{line}\n{text}");
    }
    // `--endpoint` keeps the declared welch-log tests, says that mwu is declared nowhere and
    // that the bliss-lmm synergy hypotheses are left out.
    assert!(
        text.contains(
            "warning: --endpoint mwu: no declared hypothesis uses this test, so it is not sized"
        ),
        "{text}"
    );
    assert!(
        text.contains("warning: hypothesis `camizestrant + palbociclib synergy` is not sized: none of its tests is among the selected --endpoint values"),
        "{text}"
    );
    // The justification states each assumed effect as its parameter and as TGI at the day.
    assert!(
        text.contains("camizestrant 10 mg/kg: TGI 70% at day 28, from camizestrant growth-rate inhibition 0.5426 (expected TGI 70% at day 28"),
        "{text}"
    );
    assert!(
        text.contains("palbociclib 50 mg/kg: TGI 65.92% at day 28, from palbociclib growth-rate inhibition 0.5, log-normal between-animal CV 25% (SD of ln 0.246) (assumed; cytostatic CDK4/6 inhibition)"),
        "{text}"
    );
    assert!(
        text.contains("Group sizes simulated: n = 4, 5, 6, 7, 8 animals per arm"),
        "{text}"
    );
    let csv = std::fs::read_to_string(d.join("power.csv")).expect("power.csv");
    let header = csv.lines().next().expect("header");
    let cols: Vec<&str> = header.split(',').collect();
    let kind = cols.iter().position(|c| *c == "kind").expect("kind column");
    let sizing = cols
        .iter()
        .position(|c| *c == "sizing")
        .expect("sizing column");
    let combos = csv
        .lines()
        .skip(1)
        .filter(|l| {
            let f: Vec<&str> = l.split(',').collect();
            f[kind] == "combination-vs-components" && f[sizing] == "true"
        })
        .count();
    assert_eq!(
        combos,
        4 * 5,
        "4 sizing combination hypotheses × n = 4..8\n{csv}"
    );
}

#[test]
fn precision_adds_replicates_until_every_interval_is_narrow_enough() {
    let d = scratch("power-precision");
    // run_p1 starts from --reps 3000.
    let o = run_p1(&d, "2", &["--precision", "0.01"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let line = text
        .lines()
        .find(|l| l.starts_with("precision: every Wilson 95% half-width <= 0.01 after "))
        .unwrap_or_else(|| panic!("{text}"));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("manifest.json")).unwrap()).unwrap();
    let reps = m["parameters"]["reps"].as_u64().expect("reps");
    assert!(reps > 3000, "{line}");
    assert!(
        line.contains(&format!("after {reps} replicates per n (")),
        "{line}"
    );
    assert_eq!(m["parameters"]["reps_requested"], 3000);
    assert_eq!(m["parameters"]["precision"]["reached"], true);
    let capped = scratch("power-precision-cap");
    let o = run_p1(
        &capped,
        "1",
        &["--precision", "0.005", "--max-reps", "3000"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("warning: --precision 0.005 not reached: widest Wilson 95% half-width"),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("after the cap of 3000 replicates per n; raise --max-reps"));
}

#[test]
fn panel_grid_writes_lines_by_mice_and_pins_its_messages() {
    let d = scratch("power-panel");
    let out = d.to_str().expect("utf-8 path");
    let args = [
        "power",
        "examples/pdx_panel_power.toml",
        "--lines",
        "3,10",
        "--mice",
        "2",
        "--reps",
        "400",
        "--out",
        out,
    ];
    let o = xenoplan(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = stdout(&o);
    assert!(s.starts_with("panel power: pdx-panel-power"), "{s}");
    assert!(
        s.contains("lines  mice animals  test             power  95% CI (Wilson)    analytic"),
        "{s}"
    );
    assert!(
        s.contains("Panel sample size (treated vs control across the PDX panel)"),
        "{s}"
    );
    let csv = std::fs::read_to_string(d.join("power.csv")).expect("power.csv");
    assert!(csv.starts_with(
        "n_per_arm,comparison,endpoint,power,ci_low,ci_high,reps,engine,n_lines,mice_per_line,total_animals,rejections,not_computable,failures,analytic_power"
    ));
    // 2 cells × 4 tests; 10 lines × 2 mice = 20 per arm, 40 animals.
    assert_eq!(csv.lines().count(), 1 + 8);
    assert!(
        csv.lines()
            .any(|l| l.starts_with("20,") && l.contains(",panel-lme,") && l.contains(",10,2,40,"))
    );
    for f in ["plots/power.svg", "plots/power.png", "manifest.json"] {
        assert!(d.join(f).is_file(), "missing {f}");
    }
    // The same grid is byte-identical on one thread.
    let d1 = scratch("power-panel-t1");
    let mut a1 = args.to_vec();
    a1[9] = d1.to_str().expect("utf-8 path");
    a1.extend_from_slice(&["--threads", "1"]);
    assert_eq!(xenoplan(&a1).status.code(), Some(0));
    assert_eq!(
        csv,
        std::fs::read_to_string(d1.join("power.csv")).expect("power.csv")
    );
}

#[test]
fn panel_flags_are_refused_where_they_mean_nothing() {
    let o = xenoplan(&["power", "examples/p1_power.toml", "--lines", "3"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("protocol `p1-power` declares no [panel]; --lines/--mice size a panel"),
        "{}",
        stderr(&o)
    );
    let o = xenoplan(&[
        "power",
        "examples/pdx_panel_power.toml",
        "--lines",
        "3",
        "--n",
        "4..6",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("--n cannot be combined with a panel run"),
        "{}",
        stderr(&o)
    );
    let o = xenoplan(&["power", "examples/pdx_panel_power.toml", "--lines", "1"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("1 lines: a panel has 2 to 200 lines"),
        "{}",
        stderr(&o)
    );
}

/// `power` on the bundled camizestrant assay (small --reps: the messages, not the numbers).
fn run_assay(dir: &std::path::Path, threads: &str, extra: &[&str]) -> std::process::Output {
    let out = dir.to_str().expect("utf-8 path");
    let mut args = vec![
        "power",
        "protocols/camizestrant_proliferation_assay.toml",
        "--seed",
        "3",
        "--threads",
        threads,
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    xenoplan(&args)
}

#[test]
fn assay_power_recommends_replicate_wells_for_a_10x_shift() {
    let d = scratch("power-assay");
    let o = run_assay(&d, "2", &["--n", "2..3", "--reps", "100"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = stdout(&o);
    assert!(s.contains("effect: an IC50 fold shift of 10x"), "{s}");
    assert!(
        s.contains("Recommended replicate wells per condition: n = 2 (power ")
            && s.contains("— MCF7 IC50 x10 vs MCF7, log-ic50-wald"),
        "{s}"
    );
    assert!(
        s.contains("Wald test of the difference of the fitted log10 IC50"),
        "{s}"
    );
    let csv = std::fs::read_to_string(d.join("power.csv")).expect("power.csv");
    assert!(csv.starts_with(
        "n_per_arm,comparison,endpoint,power,ci_low,ci_high,reps,engine,wells_per_condition,rejections,fit_failed,outside_range"
    ));
    // 2 lines × 2 n × 1 test.
    assert_eq!(csv.lines().count(), 1 + 4);
    for f in ["plots/power.svg", "plots/power.png", "manifest.json"] {
        assert!(d.join(f).is_file(), "missing {f}");
    }
    let m = std::fs::read_to_string(d.join("manifest.json")).expect("manifest");
    assert!(
        m.contains("\"kind\": \"assay\"") && m.contains("\"fold_shift\": 10.0"),
        "{m}"
    );
}

#[test]
fn assay_power_is_byte_identical_for_one_and_two_threads() {
    let (d1, d2) = (scratch("power-assay-t1"), scratch("power-assay-t2"));
    let extra = ["--n", "2,3", "--reps", "40", "--max-inhibition-diff", "0.3"];
    let o1 = run_assay(&d1, "1", &extra);
    let o2 = run_assay(&d2, "2", &extra);
    assert_eq!(o1.status.code(), Some(0), "{}", stderr(&o1));
    assert_eq!(o2.status.code(), Some(0), "{}", stderr(&o2));
    let a = std::fs::read(d1.join("power.csv")).expect("power.csv");
    let b = std::fs::read(d2.join("power.csv")).expect("power.csv");
    assert_eq!(a, b, "power.csv differs between --threads 1 and 2");
    let text = String::from_utf8(a).expect("utf-8");
    assert!(text.contains(",max-inhibition-wald,"), "{text}");
}

#[test]
fn assay_power_says_which_n_the_layout_cannot_hold() {
    let d = scratch("power-assay-layout");
    let o = run_assay(&d, "2", &["--n", "5,6", "--reps", "10"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = stdout(&o);
    assert!(
        s.contains("warning: n = 6 replicate wells per condition skipped: the protocol's plate layout cannot hold it"),
        "{s}"
    );
}

#[test]
fn assay_power_refuses_options_it_does_not_use() {
    let d = scratch("power-assay-bad");
    let o = run_assay(&d, "1", &["--endpoint", "welch-log", "--reps", "5"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("--endpoint cannot be used on an assay protocol"),
        "{}",
        stderr(&o)
    );
    let o = run_assay(&d, "1", &["--fold-shift", "0", "--reps", "5"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("--fold-shift must be a positive number"),
        "{}",
        stderr(&o)
    );
    let o = xenoplan(&["power", "examples/p1_power.toml", "--fold-shift", "10"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o)
            .contains("--fold-shift, --max-inhibition-diff and --experiments size assay protocols")
    );
}

#[test]
fn assay_power_sizes_wells_times_independent_experiments() {
    let d = scratch("power-assay-experiments");
    let o = run_assay(
        &d,
        "2",
        &["--n", "2", "--experiments", "2..3", "--reps", "60"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = stdout(&o);
    assert!(
        s.contains("Recommended design: n = 2 replicate wells per condition x k = 3 independent experiments (power ")
            && s.contains("— MCF7 IC50 x10 vs MCF7, log-ic50-welch"),
        "{s}"
    );
    assert!(
        s.contains("Welch's two-sample t test on the k per-experiment log10 IC50s"),
        "{s}"
    );
    let csv = std::fs::read_to_string(d.join("power.csv")).expect("power.csv");
    // The contract and earlier columns keep their places; experiments are appended.
    assert!(
        csv.starts_with("n_per_arm,comparison,endpoint,power,ci_low,ci_high,reps,engine,wells_per_condition,rejections,fit_failed,outside_range,wells_per_line,plates,line,fold_shift,max_inhibition_diff,alpha,experiments,failed_experiments\n"),
        "{csv}"
    );
    // 2 lines × 2 k × 1 n.
    assert_eq!(csv.lines().count(), 1 + 4);
    assert!(
        csv.lines().skip(1).all(|l| l.contains(",log-ic50-welch,")),
        "{csv}"
    );
    let o = run_assay(&d, "1", &["--experiments", "1..3", "--reps", "5"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("--experiments 1: the Welch t test on per-experiment IC50s needs at least 2 independent experiments per line"),
        "{}",
        stderr(&o)
    );
}

/// `power` on in vitro derivations (with and without split arms), a procedure and a
/// campaign: exit 1 with what power sizes and what to run instead, never a panic.
#[test]
fn power_on_a_derivation_says_what_it_can_size() {
    for f in [
        "protocols/tamoxifen_resistant_mcf7_holiday.toml",
        "protocols/tamoxifen_resistant_mcf7_derivation.toml",
    ] {
        for extra in [&[][..], &["--lines", "3"][..]] {
            let mut args = vec!["power", f, "--reps", "5"];
            args.extend_from_slice(extra);
            let o = xenoplan(&args);
            assert_eq!(o.status.code(), Some(1), "{f} {extra:?}: {}", stderr(&o));
            let e = stderr(&o);
            assert!(
                e.contains(": `power` sizes xenograft protocols (animals per arm, or lines x mice of a [panel]) and assay protocols (replicate wells per condition, and with --experiments independent experiments); a derivation protocol has no comparison of groups to size: its replicate runs (`xenoplan simulate FILE --reps N`)"),
                "{f}: {e}"
            );
            assert!(e.contains("write that check as an assay protocol"), "{e}");
            assert_eq!(e.lines().count(), 1, "one message: {e}");
        }
    }
    let o = xenoplan(&["power", "protocols/ngs_resistance_profiling.toml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("a procedure protocol schedules steps (`xenoplan timeline`) and has no comparison of groups to size"),
        "{}",
        stderr(&o)
    );
    let o = xenoplan(&["power", "protocols/campaigns/tamr_campaign.toml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("tamr_campaign.toml is a campaign file: `power` sizes one protocol"),
        "{}",
        stderr(&o)
    );
}

/// Slow statistical check (≈ 30 s): at fold shift 1 the log-IC50 Wald test rejects α within
/// 4.5 binomial SE at every n, on the bundled assay's real layout.
#[test]
#[ignore = "slow: 2000 experiments per n and line; run with --ignored"]
fn assay_power_null_holds_alpha() {
    let d = scratch("power-assay-null");
    let o = run_assay(
        &d,
        "2",
        &[
            "--n",
            "1..5",
            "--reps",
            "2000",
            "--fold-shift",
            "1",
            "--max-inhibition-diff",
            "0",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let csv = std::fs::read_to_string(d.join("power.csv")).expect("power.csv");
    let tol = 4.5 * (0.05f64 * 0.95 / 2000.0).sqrt();
    for line in csv.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        let p: f64 = cols[3].parse().expect("power");
        assert!((p - 0.05).abs() < tol, "{line}");
    }
}
