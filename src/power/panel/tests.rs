//! Panel power vs PDXpower's PowANOVA table, type I error of the pooled tests, thread
//! independence, the closed form, and the protocol checks of `[panel]`.

use super::*;
use crate::protocol::parse;

const EXAMPLE: &str = include_str!("../../../examples/pdx_panel_power.toml");
const PDXPOWER: &str = include_str!("../../../tests/fixtures/pdxpower/powanova.csv");

fn settings(lines: &[u32], mice: &[u32], reps: u64) -> PanelSettings {
    PanelSettings {
        lines: lines.to_vec(),
        mice: mice.to_vec(),
        reps,
        alpha: 0.05,
        target: 0.8,
        seed: 1,
        threads: 2,
        line_cost: None,
        precision: None,
        start: crate::sim::SimOptions::default().start,
    }
}

fn protocol(text: &str) -> Protocol {
    parse(text, "panel.toml")
        .unwrap_or_else(|e| panic!("{e}"))
        .protocol
}

fn power<'a>(r: &'a PanelPowerResult, test: &str, l: u32, m: u32) -> &'a PanelRow {
    r.rows
        .iter()
        .find(|x| x.endpoint == test && x.n_lines == l && x.mice_per_line == m)
        .unwrap()
}

#[test]
fn matches_pdxpower_powanova_within_4_5_combined_se() {
    let text = EXAMPLE.replace(
        "tests = [\"panel-lme\", \"panel-logrank\", \"panel-cox\", \"panel-aft\"]",
        "tests = [\"panel-lme\"]",
    );
    let p = protocol(&text);
    let r = run_panel_power(&p, &settings(&[3, 5, 10], &[2, 3, 4], 4000), &|_| {}).unwrap();
    let mut checked = 0;
    for line in PDXPOWER.lines().skip(1) {
        let f: Vec<f64> = line.split(',').map(|v| v.parse().unwrap()).collect();
        let (l, m, want, sim) = (f[0] as u32, f[1] as u32, f[2], f[3]);
        let got = power(&r, "panel-lme", l, m);
        let se = (want * (1.0 - want) / 4000.0 + want * (1.0 - want) / sim).sqrt();
        assert!(
            (got.power - want).abs() <= 4.5 * se,
            "{l}×{m}: {} vs PDXpower {want} (4.5 SE = {})",
            got.power,
            4.5 * se
        );
        checked += 1;
    }
    assert_eq!(checked, 9);
    // The least-cost design at 80 %: 10 lines × 4 mice (PDXpower's table: 86 %).
    let rec = r.recommendation.as_ref().unwrap();
    assert_eq!((rec.n_lines, rec.mice_per_line), (10, 4));
}

#[test]
fn pooled_tests_hold_alpha_under_the_null() {
    let text = EXAMPLE.replace(
        "treatment-median-days = { value = 4.8,",
        "treatment-median-days = { value = 2.4,",
    );
    let p = protocol(&text);
    let reps = 4000;
    let r = run_panel_power(&p, &settings(&[3, 10], &[2], reps), &|_| {}).unwrap();
    let limit = 0.05 + 4.0 * (0.05 * 0.95 / reps as f64).sqrt();
    for test in ["panel-lme", "panel-logrank", "panel-cox", "panel-aft"] {
        for l in [3, 10] {
            let row = power(&r, test, l, 2);
            assert!(
                row.power <= limit,
                "{test} at {l}×2: type I {} > {limit}",
                row.power
            );
        }
    }
}

#[test]
fn results_do_not_depend_on_threads_and_precision_adds_rounds() {
    let p = protocol(EXAMPLE);
    let mut s = settings(&[3, 5], &[2, 3], 300);
    s.threads = 1;
    let a = run_panel_power(&p, &s, &|_| {}).unwrap();
    s.threads = 2;
    let b = run_panel_power(&p, &s, &|_| {}).unwrap();
    assert_eq!(a, b);
    s.precision = Some(Precision {
        half_width: 0.02,
        max_reps: 5000,
    });
    let c = run_panel_power(&p, &s, &|_| {}).unwrap();
    let o = c.precision.as_ref().unwrap();
    assert!(o.reached && o.reps > 300, "{o:?}");
    assert!(c.rows.iter().all(|x| 0.5 * (x.ci_high - x.ci_low) <= 0.02));
}

#[test]
fn closed_form_is_the_noncentral_t_of_the_within_line_contrast() {
    let p = protocol(EXAMPLE);
    let panel = p.xenograft().unwrap().panel.as_ref().unwrap();
    // 3 lines × 2 mice: δ = ln 2 / √(2/6) = 1.2006, df = 12 − 3 − 1 = 8.
    let a = analytic_lme_power(panel, 3, 2, 0.05).unwrap();
    let direct = t_test_power(2f64.ln() / (2.0f64 / 6.0).sqrt(), 8.0, 0.05);
    assert_eq!(a, direct);
    assert!((a - 0.1855).abs() < 5e-4, "{a}");
    // Censoring or a line-varying effect: no closed form.
    let cens = protocol(&EXAMPLE.replace(
        "line-variance = { value = 0.1,",
        "follow-up-days = 5\nline-variance = { value = 0.1,",
    ));
    let panel = cens.xenograft().unwrap().panel.as_ref().unwrap();
    assert_eq!(analytic_lme_power(panel, 3, 2, 0.05), None);
}

#[test]
fn panel_sections_are_checked_with_positions() {
    let cases = [
        (
            EXAMPLE.replace("treatment = \"treated\"", "treatment = \"treatd\""),
            "unknown arm of cohort `PDX line` `treatd`; did you mean `treated`?",
        ),
        (
            EXAMPLE.replace("tests = [\"welch-log\"]", "tests = [\"panel-lme\"]"),
            "`panel-lme` is a pooled panel test; list it in `[panel] tests`",
        ),
        (
            EXAMPLE.replace(
                "tests = [\"panel-lme\", \"panel-logrank\", \"panel-cox\", \"panel-aft\"]",
                "tests = [\"panel-slope\"]",
            ),
            "`panel-slope` needs growth curves",
        ),
        (
            EXAMPLE.replace("log-sd = { value = 1.0,", "shape = { value = 1.0,"),
            "distribution = \"log-normal\" needs `log-sd`",
        ),
        (
            EXAMPLE.replace("lines = [3, 5, 10]", "lines = [1, 5]"),
            "panel.toml:",
        ),
    ];
    for (text, want) in cases {
        let e = parse(&text, "panel.toml").unwrap_err().to_string();
        assert!(e.contains(want), "want `{want}` in:\n{e}");
    }
}

#[test]
fn settings_out_of_range_are_errors() {
    let p = protocol(EXAMPLE);
    for (l, m) in [
        (vec![1u32], vec![2u32]),
        (vec![3], vec![0]),
        (vec![], vec![2]),
    ] {
        let e = run_panel_power(&p, &settings(&l, &m, 10), &|_| {});
        assert!(matches!(e, Err(PanelError::Settings(_))), "{l:?} {m:?}");
    }
    let tamr = crate::protocol::load("protocols/tamr_mcf7_xenograft.toml".as_ref()).unwrap();
    let e = run_panel_power(&tamr.protocol, &settings(&[3], &[2], 10), &|_| {});
    assert!(matches!(e, Err(PanelError::NoPanel(_))));
}
