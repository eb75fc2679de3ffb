//! In-study rules: dose-scaled toxicity and recovery, dose holidays animal by animal, and
//! the study stop rule, each against an independent statement of the documented rule.

use super::{quiet, run, x};
use crate::protocol::*;
use crate::sim::fixture::{self, arm, treatment};
use crate::sim::{EndReason, Engine, StudyBuffer};

const LN09: f64 = -0.10536051565782628; // ln(0.9): 10 %/week

/// The basic fixture without noise, a fixed 20 g mouse gaining 0.03 g/day, no humane
/// weight-loss limit, and the drug losing 10 %/week of body weight.
fn toxic() -> Protocol {
    let mut p = fixture::basic(GrowthModel::Exponential {
        v0_mm3: Param::fixed(30.0, "test"),
        rate: Param::fixed(0.08, "test"),
    });
    quiet(&mut p);
    let x = x(&mut p);
    x.animals.body_weight_g = Param::fixed(20.0, "test");
    x.endpoints.max_weight_loss_pct = None;
    x.endpoints.max_volume_mm3 = None;
    x.endpoints.max_diameter_mm = None;
    x.agents[1].weight_loss_pct_per_week = Some(Sourced::new(10.0, "test"));
    p
}

/// ln(measured weight / untreated weight) of every visit of animal `j` of arm `a`.
fn deficits(b: &StudyBuffer, a: usize, j: usize) -> Vec<(f64, f64)> {
    let n = b.visit_count(0, a, j);
    (0..n)
        .map(|k| {
            let t = b.days(0, a, j)[k];
            (t, (b.body_weights(0, a, j)[k] / (20.0 + 0.03 * t)).ln())
        })
        .collect()
}

#[test]
fn weight_loss_scales_with_the_dose_given_at_a_reference_dose() {
    let mut p = toxic();
    {
        let x = x(&mut p);
        x.agents[1].weight_loss_reference = Some(DoseLevel {
            dose: 30.0,
            unit: DoseUnit::MgPerKg,
        });
        let c = &mut x.cohorts[0];
        c.arms[1] = arm(
            "drug 3",
            false,
            4,
            vec![treatment("drug", 3.0, fixture::qd())],
        );
        c.arms.push(arm(
            "drug 30",
            false,
            4,
            vec![treatment("drug", 30.0, fixture::qd())],
        ));
    }
    let (_, b) = run(&p, 3, None);
    for (a, dose) in [(1, 3.0), (2, 30.0)] {
        for (t, d) in deficits(&b, a, 0) {
            // Doses on days 0..27, each before the visits after it.
            let expect = t.min(28.0) * LN09 / 7.0 * dose / 30.0;
            assert!(
                (d - expect).abs() < 1e-12,
                "arm {a} day {t}: {d} vs {expect}"
            );
        }
    }
    // 30 mg/kg loses 10× the ln weight of 3 mg/kg (the old per-agent rule lost the same).
    let (l3, l30) = (deficits(&b, 1, 0), deficits(&b, 2, 0));
    let last = l3.len() - 1;
    assert!((l30[last].1 / l3[last].1 - 10.0).abs() < 1e-9);
    // Without a reference dose the loss holds at whatever dose is given (the old meaning).
    x(&mut p).agents[1].weight_loss_reference = None;
    let (_, b) = run(&p, 3, None);
    let (l3, l30) = (deficits(&b, 1, 0), deficits(&b, 2, 0));
    assert_eq!(l3, l30);
}

#[test]
fn weight_recovers_after_dosing_stops_at_the_stated_rate() {
    let mut p = toxic();
    // Dosing days 0..13 only.
    x(&mut p).cohorts[0].arms[1].treatments[0].schedule.end_day = Some(13);
    let (_, still) = run(&p, 5, None);
    x(&mut p).animals.weight_recovery_pct_per_week = Some(Sourced::new(99.0, "test"));
    let (_, back) = run(&p, 5, None);
    let (s, r) = (deficits(&still, 1, 0), deficits(&back, 1, 0));
    let mut recovering = 0;
    for (k, ((t, ds), (_, dr))) in s.iter().zip(&r).enumerate() {
        if *t <= 14.0 {
            // Every day before the visit was a dosing day: no recovery yet.
            assert!((ds - dr).abs() < 1e-12, "day {t}");
        } else {
            // Without recovery the loss stays once dosing has stopped; with it the weight
            // climbs back towards (never above) the untreated weight.
            if s[k - 1].0 > 14.0 {
                assert!((ds - s[k - 1].1).abs() < 1e-12, "day {t}");
            }
            assert!(*dr > *ds && *dr <= 1e-12, "day {t}: {dr} vs {ds}");
            recovering += 1;
        }
    }
    assert!(recovering >= 3);
    // 99 %/week closes the deficit within days: the last weight is the untreated one.
    assert!(r.last().is_some_and(|(_, d)| d.abs() < 1e-12));
    assert!(s.last().is_some_and(|(_, d)| *d < -0.1));
}

/// The documented holiday rule, stated independently of the engine: per visit, step the
/// days (a given dose adds its ln loss × the dose fraction, others recover nothing here),
/// read the weight, and on a loss ≥ threshold outside a holiday start one (or stop dosing
/// after `max` holidays).
fn expected_holidays(
    visits: &[f64],
    rate: f64,
    rule: &DoseModification,
) -> (Vec<f64>, Vec<u16>, Option<u16>) {
    let (mut l, mut day) = (0.0, 0u32);
    let (mut resume, mut factor, mut stopped) = (f64::NEG_INFINITY, 1.0, None);
    let (mut bw, mut holidays) = (Vec::new(), Vec::new());
    for &t in visits {
        while f64::from(day) < t {
            if day < 28 && f64::from(day) >= resume && stopped.is_none() {
                l += rate * factor;
            }
            day += 1;
        }
        let w = (20.0 + 0.03 * t) * f64::exp(l);
        bw.push(w);
        let loss = (1.0 - w / bw[0]) * 100.0;
        if t > 0.0 && loss >= rule.weight_loss_pct.value && t >= resume && stopped.is_none() {
            if holidays.len() < rule.max_holidays as usize {
                holidays.push(t as u16);
                resume = t + f64::from(rule.holiday_days);
                factor = rule.resume_dose_fraction;
            } else {
                stopped = Some(t as u16);
            }
        }
    }
    (bw, holidays, stopped)
}

fn holiday_rule() -> DoseModification {
    DoseModification {
        weight_loss_pct: Sourced::new(8.0, "test"),
        holiday_days: 3,
        resume_dose_fraction: 0.5,
        max_holidays: 1,
        arms: Vec::new(),
    }
}

#[test]
fn dose_holidays_follow_the_rule_animal_by_animal_and_the_weight_responds() {
    let mut p = toxic();
    let (_, plain) = run(&p, 9, None);
    x(&mut p).dose_modification = Some(holiday_rule());
    let (e, b) = run(&p, 9, None);
    let rule = holiday_rule();
    let mut took = 0;
    for j in 0..b.n_enrolled(0, 1) {
        let n = b.visit_count(0, 1, j);
        let visits = &b.days(0, 1, j)[..n];
        let (bw, hol, stop) = expected_holidays(visits, LN09 / 7.0, &rule);
        for (k, w) in bw.iter().enumerate() {
            let got = b.body_weights(0, 1, j)[k];
            assert!(
                (got - w).abs() < 1e-9 * w,
                "animal {j} visit {k}: {got} vs {w}"
            );
        }
        assert_eq!(b.holiday_days(0, 1, j), hol.as_slice());
        assert_eq!(b.dosing_stopped(0, 1, j), stop);
        took += hol.len();
        // The holiday pauses the direct effect: the tumor ends larger than without it.
        let (v, v0) = (b.volumes(0, 1, j)[n - 1], plain.volumes(0, 1, j)[n - 1]);
        assert!(v > v0 * 1.02, "animal {j}: {v} vs {v0}");
    }
    assert!(
        took >= b.n_enrolled(0, 1),
        "every drug animal takes its holiday"
    );
    // The second trigger (after one holiday) stops dosing in this design.
    assert!((0..b.n_enrolled(0, 1)).all(|j| b.dosing_stopped(0, 1, j).is_some()));
    // The vehicle arm is untouched (no drug: the rule does not apply) and no draw moved.
    for j in 0..b.n_enrolled(0, 0) {
        assert!(b.holiday_days(0, 0, j).is_empty());
        assert_eq!(b.volumes(0, 0, j), plain.volumes(0, 0, j));
    }
    assert!(!e.is_fast_path(0));
}

#[test]
fn a_holiday_skips_pk_doses_of_an_exposure_driven_effect() {
    let mut p = toxic();
    x(&mut p).cohorts[0].effects[0].mode = EffectMode::Exposure {
        emax: Param::fixed(0.9, "test"),
        ec50_ng_ml: Param::fixed(50.0, "test"),
        hill: 1.0,
        target: EffectTarget::Growth,
    };
    // The reference integrates by RK4 as a rule-bearing arm does (no quadrature tables).
    let e = Engine::new(&p, &crate::sim::SimOptions::default())
        .expect("engine")
        .with_rk4_exposure();
    let mut plain = StudyBuffer::new(&e);
    e.simulate(&mut crate::rng::stream(11, &[0]), None, &mut plain)
        .expect("simulate");
    x(&mut p).dose_modification = Some(holiday_rule());
    let (_, b) = run(&p, 11, None);
    for j in 0..b.n_enrolled(0, 1) {
        let n = b.visit_count(0, 1, j);
        assert!(!b.holiday_days(0, 1, j).is_empty());
        let first = f64::from(b.holiday_days(0, 1, j)[0]);
        for k in 0..n {
            let (t, v, v0) = (
                b.days(0, 1, j)[k],
                b.volumes(0, 1, j)[k],
                plain.volumes(0, 1, j)[k],
            );
            if t <= first {
                // Same doses so far.
                assert!((v - v0).abs() < 1e-12 * v0, "day {t}: {v} vs {v0}");
            }
        }
        let (v, v0) = (b.volumes(0, 1, j)[n - 1], plain.volumes(0, 1, j)[n - 1]);
        assert!(v > v0 * 1.02, "animal {j}: {v} vs {v0}");
    }
}

#[test]
fn study_stops_on_the_first_day_the_control_mean_reaches_the_volume() {
    let mut p = toxic();
    let (e, full) = run(&p, 13, None);
    // The vehicle mean from the unstopped study (the same streams: the stop only cuts).
    let days: Vec<f64> = full.days(0, 0, 0)[..full.visit_count(0, 0, 0)].to_vec();
    let n0 = full.n_enrolled(0, 0);
    let mean_at = |k: usize| (0..n0).map(|j| full.volumes(0, 0, j)[k]).sum::<f64>() / n0 as f64;
    let k_stop = (0..days.len())
        .find(|&k| mean_at(k) >= 600.0)
        .expect("vehicle reaches 600 mm³");
    assert!(k_stop > 0 && days[k_stop] < f64::from(e.horizon_days()));
    x(&mut p).study_stop = Some(StudyStop {
        arm: None,
        statistic: StopStatistic::Mean,
        volume_mm3: 600.0,
    });
    let (_, b) = run(&p, 13, None);
    assert_eq!(b.cohort(0).stop_day, Some(days[k_stop] as u32));
    for a in 0..2 {
        for j in 0..b.n_enrolled(0, a) {
            let n = b.visit_count(0, a, j);
            assert_eq!(n, k_stop + 1);
            assert_eq!(b.volumes(0, a, j)[..n], full.volumes(0, a, j)[..n]);
            assert!(b.volumes(0, a, j)[n..].iter().all(|v| v.is_nan()));
            assert_eq!(b.last_day(0, a, j), days[k_stop]);
            assert_eq!(b.end_reason(0, a, j), EndReason::Completed);
        }
    }
    // A limit never reached: the study runs to its fixed end, unchanged.
    x(&mut p).study_stop = Some(StudyStop {
        arm: Some("drug 10 mg/kg".into()),
        statistic: StopStatistic::Median,
        volume_mm3: 1e9,
    });
    let (_, b) = run(&p, 13, None);
    assert_eq!(b.cohort(0).stop_day, None);
    assert_eq!(b.volumes(0, 1, 0), full.volumes(0, 1, 0));
}

#[test]
fn animals_gone_on_the_humane_limit_count_in_the_stop_mean_at_their_last_reading() {
    let mut p = toxic();
    x(&mut p).endpoints.max_volume_mm3 = Some(Sourced::new(400.0, "test"));
    // Rates that differ between animals, so they reach the limit on different days.
    x(&mut p).cohorts[0].growth = GrowthModel::Exponential {
        v0_mm3: Param::fixed(30.0, "test"),
        rate: Param::new(0.08, 0.4, "test"),
    };
    let (_, full) = run(&p, 17, None);
    let n0 = full.n_enrolled(0, 0);
    // The arm's mean on day d: animals read that day, and those gone before at their last
    // reading (`locf`), or only those read that day.
    let mean_on = |d: f64, locf: bool| {
        let v: Vec<f64> = (0..n0)
            .filter_map(|j| {
                let n = full.visit_count(0, 0, j);
                let days = &full.days(0, 0, j)[..n];
                match days.iter().position(|&x| x == d) {
                    Some(k) => Some(full.volumes(0, 0, j)[k]),
                    None if locf && days[n - 1] < d => Some(full.volumes(0, 0, j)[n - 1]),
                    None => None,
                }
            })
            .collect();
        v.iter().sum::<f64>() / v.len().max(1) as f64
    };
    let days: Vec<f64> = full
        .days(0, 0, 0)
        .iter()
        .copied()
        .filter(|d| d.is_finite())
        .collect();
    let first = |locf: bool, v: f64| days.iter().copied().find(|&d| mean_on(d, locf) >= v);
    // A stop volume at which the two readings differ: the large animals have left at
    // 400 mm³ and those still read are smaller or larger than the arm as a whole.
    let v = (41..120)
        .map(|k| f64::from(k) * 10.0)
        .find(|&v| first(true, v) != first(false, v))
        .expect("a stop volume that tells the two rules apart");
    x(&mut p).study_stop = Some(StudyStop {
        arm: Some("vehicle".into()),
        statistic: StopStatistic::Mean,
        volume_mm3: v,
    });
    let (_, b) = run(&p, 17, None);
    assert_eq!(
        b.cohort(0).stop_day,
        first(true, v).map(|d| d as u32),
        "{v}"
    );
}
