//! Cross-engine property test: on random designs the tight path can run, its power equals the
//! whole-study simulator's within Monte Carlo error at every n, endpoint and comparison.
//!
//! Designs vary what the two engines once disagreed about: Bliss combinations with negative
//! and positive interactions, kill rates, caliper weekdays of every kind on every start
//! weekday, an analysis day before or at the last visit, each endpoint the tight path
//! computes, V0 and growth-rate variability of both kinds, a detection floor, Holm or none.
//! Tolerance: |p_tight − p_full| ≤ 4.5 combined binomial SE (pooled p̄, R replicates each).
//!
//! The always-on version tries a few designs at a few hundred replicates; the slow one
//! (`cargo test --release --lib cross_engine_slow -- --ignored --nocapture`) many more, and
//! prints the designs tried and the worst |z|.

use super::START;
use crate::power::design::{Endpoint, EngineChoice, Settings};
use crate::power::results::run_power;
use crate::power::testkit::p1_protocol;
use crate::protocol::*;
use jiff::civil::Weekday;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};

/// One random eligible design.
#[derive(Debug, Clone)]
struct Case {
    /// Growth-rate inhibition of each single-agent arm.
    inhibitions: Vec<f64>,
    /// A combination of agents 0 and 1 with this Bliss interaction (needs two agents).
    interaction: Option<f64>,
    /// Kill rate (1/day) of the first agent.
    kill: f64,
    /// Caliper weekdays (Monday = 0).
    weekdays: Vec<u8>,
    /// Days from Monday 2027-01-04 to the protocol start.
    start_offset: u8,
    /// Fixed analysis day, or the default (last visit).
    analysis_day: Option<u32>,
    endpoints: Vec<Endpoint>,
    v0_normal: bool,
    rate_lognormal: bool,
    floor_mm3: f64,
    holm: bool,
    /// Clock hour of every dose on day 0 (the direct effects switch on at the first dose;
    /// the tight path grows the control rate until then, as the simulator does).
    dose_hour: u8,
}

fn case() -> impl Strategy<Value = Case> {
    (
        proptest::collection::vec(0.0..0.7f64, 1..=3),
        proptest::option::of(-1.0..1.0f64),
        prop_oneof![Just(0.0), 0.0..0.03f64],
        proptest::sample::subsequence((0u8..7).collect::<Vec<_>>(), 2..=4),
        0u8..7,
        proptest::option::of(14u32..=28),
        proptest::sample::subsequence(
            vec![
                Endpoint::WelchLog,
                Endpoint::Mwu,
                Endpoint::Slope,
                Endpoint::Auc,
            ],
            1..=3,
        ),
        any::<bool>(),
        any::<bool>(),
        prop_oneof![Just(0.0), Just(60.0)],
        any::<bool>(),
        0u8..24,
    )
        .prop_map(
            |(
                inhibitions,
                interaction,
                kill,
                weekdays,
                start_offset,
                analysis_day,
                endpoints,
                v0_normal,
                rate_lognormal,
                floor_mm3,
                holm,
                dose_hour,
            )| Case {
                interaction: interaction.filter(|_| inhibitions.len() >= 2),
                inhibitions,
                kill,
                weekdays,
                start_offset,
                analysis_day,
                endpoints,
                v0_normal,
                rate_lognormal,
                floor_mm3,
                holm,
                dose_hour,
            },
        )
}

fn weekday(i: u8) -> Weekday {
    Weekday::Monday.wrapping_add(i64::from(i))
}

/// The protocol of a case: bench P1's cohort with the case's arms, calipers and models.
fn protocol(c: &Case) -> Protocol {
    let mut p = p1_protocol(&vec![1.0; c.inhibitions.len()]);
    let Body::Xenograft(x) = &mut p.body else {
        unreachable!("p1 is a xenograft")
    };
    let cohort = &mut x.cohorts[0];
    for (i, arm) in cohort.arms.iter_mut().skip(1).enumerate() {
        arm.name = format!("drug{}", i + 1);
        arm.treatments[0].schedule.times =
            vec![jiff::civil::Time::constant(c.dose_hour as i8, 0, 0, 0)];
    }
    for (k, e) in cohort.effects.iter_mut().enumerate() {
        e.mode = EffectMode::Direct {
            inhibition: Param::fixed(c.inhibitions[k], "test"),
            kill_rate_per_day: Param::fixed(if k == 0 { c.kill } else { 0.0 }, "test"),
        };
    }
    if let Some(alpha) = c.interaction {
        let mut combo = cohort.arms[1].clone();
        combo.name = "combo".into();
        combo.treatments.push(cohort.arms[2].treatments[0].clone());
        combo.interaction = alpha;
        cohort.arms.push(combo);
    }
    let GrowthModel::Exponential { v0_mm3, rate } = &mut cohort.growth else {
        unreachable!("p1 grows exponentially")
    };
    if c.v0_normal {
        v0_mm3.variability = Variability::Normal { sd: 25.0 };
    }
    if c.rate_lognormal {
        rate.variability = Variability::LogNormal { cv: 0.25 };
    }
    x.measurements[0].schedule.frequency = Frequency::Weekdays {
        days: c.weekdays.iter().map(|&d| weekday(d)).collect(),
    };
    x.caliper.detection_floor_mm3 = Sourced::new(c.floor_mm3, "test");
    x.analysis.analysis_day = c.analysis_day.map(f64::from);
    x.analysis.adjust = if c.holm {
        Adjustment::Holm
    } else {
        Adjustment::None
    };
    p
}

fn settings(c: &Case, engine: EngineChoice, reps: u64) -> Settings {
    Settings {
        n_values: vec![3, 6],
        reps,
        alpha: 0.05,
        target: 0.8,
        seed: 13,
        threads: 2,
        endpoints: c.endpoints.clone(),
        adjust: if c.holm {
            Adjustment::Holm
        } else {
            Adjustment::None
        },
        joint: false,
        common_random_numbers: true,
        engine,
        precision: None,
        start: START
            .checked_add(jiff::Span::new().days(i64::from(c.start_offset)))
            .expect("date"),
    }
}

/// Largest |z| over the rows of both engines for case `c`, or `None` when the design is not
/// eligible for the tight path (too sparse a visit grid for the analysis day).
fn worst_z(c: &Case, reps: u64) -> Option<(f64, String)> {
    let p = protocol(c);
    let tight = match run_power(&p, &settings(c, EngineChoice::Tight, reps), &|_| {}) {
        Ok(r) => r,
        Err(crate::power::PowerError::NotTight(_)) => return None,
        Err(e) => panic!("tight engine failed: {e} for {c:?}"),
    };
    let full = run_power(&p, &settings(c, EngineChoice::Full, reps), &|_| {})
        .expect("the full engine runs every design the tight path runs");
    assert_eq!(tight.rows.len(), full.rows.len());
    let mut worst = (0.0, String::new());
    for (a, b) in tight.rows.iter().zip(&full.rows) {
        assert_eq!(
            (a.n_per_arm, &a.comparison, &a.endpoint),
            (b.n_per_arm, &b.comparison, &b.endpoint)
        );
        let pbar = 0.5 * (a.power + b.power);
        let se = (2.0 * pbar * (1.0 - pbar) / reps as f64).sqrt();
        let diff = (a.power - b.power).abs();
        let z = if diff == 0.0 {
            0.0
        } else {
            diff / se.max(1e-12)
        };
        if z > worst.0 {
            worst = (
                z,
                format!(
                    "n={} {} {}: tight {} full {}",
                    a.n_per_arm, a.comparison, a.endpoint, a.power, b.power
                ),
            );
        }
    }
    Some(worst)
}

fn run_cases(cases: u32, reps: u64) {
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/power/tests/cross_engine.proptest-regressions"
        )))),
        ..Config::default()
    });
    let tried = std::cell::Cell::new(0u32);
    let worst = std::cell::RefCell::new((0.0f64, String::new()));
    let result = runner.run(&case(), |c| {
        let Some((z, what)) = worst_z(&c, reps) else {
            return Ok(());
        };
        tried.set(tried.get() + 1);
        if z > worst.borrow().0 {
            *worst.borrow_mut() = (z, what.clone());
        }
        prop_assert!(z <= 4.5, "|z| = {z:.2} ({what}) for {c:?}");
        Ok(())
    });
    let (z, what) = worst.into_inner();
    eprintln!(
        "cross-engine: {} eligible designs of {cases} tried, {reps} reps each; worst |z| = {z:.2} ({what})",
        tried.get()
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(tried.get() * 2 >= cases, "too few eligible designs");
}

#[test]
fn cross_engine_power_agrees() {
    run_cases(6, 400);
}

#[test]
#[ignore]
fn cross_engine_slow() {
    run_cases(60, 4000);
}

/// The three designs of issue 13 (tests/fixtures/power/engines): the tight path and the
/// whole-study simulator agree, and the Tue/Fri design reads day 25, not nothing.
#[test]
fn issue_designs_agree_across_engines() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/power/engines");
    for file in [
        "bliss_antagonism.toml",
        "calipers_tue_fri.toml",
        "auc_early_analysis_day.toml",
    ] {
        let p = crate::protocol::load(std::path::Path::new(dir).join(file).as_path())
            .expect("fixture loads")
            .protocol;
        let reps = 600;
        let mut s = super::settings(vec![4, 8], reps, 2);
        s.endpoints = if file.starts_with("auc") {
            vec![Endpoint::Auc, Endpoint::Slope, Endpoint::WelchLog]
        } else {
            vec![Endpoint::WelchLog]
        };
        s.engine = EngineChoice::Tight;
        let tight = run_power(&p, &s, &|_| {}).expect("tight");
        s.engine = EngineChoice::Full;
        let full = run_power(&p, &s, &|_| {}).expect("full");
        for (a, b) in tight.rows.iter().zip(&full.rows) {
            let pbar = 0.5 * (a.power + b.power);
            let se = (2.0 * pbar * (1.0 - pbar) / reps as f64).sqrt().max(1e-9);
            assert!(
                (a.power - b.power).abs() <= 4.5 * se,
                "{file} n={} {} {}: tight {} full {}",
                a.n_per_arm,
                a.comparison,
                a.endpoint,
                a.power,
                b.power
            );
            // Every design has a real effect somewhere: the full engine finds it too.
            assert!(b.power.is_finite());
        }
        assert!(full.rows.iter().any(|r| r.power > 0.5), "{file}");
    }
}
