//! Unit tests of `src/invitro/derivation.rs`.

use super::*;
use crate::invitro::testutil;
use crate::protocol::EscalationStep;

fn no_drug_fast_growth() -> Derivation {
    let mut d = testutil::derivation();
    d.start_concentration_nm.value = 0.0;
    d.escalation.clear();
    d.model.death_rate_per_day.value = 0.0;
    d.culture.confluent_cells = 1e15; // no crowding, no passage
    d.duration_days = 10;
    d
}

#[test]
fn growth_without_drug_matches_the_doubling_time() {
    let d = no_drug_fast_growth();
    let run = simulate_derivation(&d, &mut crate::rng::stream(3, &[0]));
    let n0 = run.days[0].total() as f64;
    let n10 = run.last().unwrap().total() as f64;
    let td_h = 24.0 * 10.0 * std::f64::consts::LN_2 / (n10 / n0).ln();
    // 1e6 cells: the relative SD of the growth factor is ~1e-3, so 33 h ± 0.1 h.
    assert!((td_h - 33.0).abs() < 0.1, "doubling {td_h} h");
    assert!((run.last().unwrap().cumulative_doublings - 240.0 / 33.0).abs() < 0.01);
    // Full aromatase inhibition: the estrogen-free doubling time (Wiese 1992: 55 h).
    let gm = GrowthModel::new(&d.model, &d.culture);
    let r = gm.rates(1e9, d.model.ic50_sensitive_nm.value);
    assert!((std::f64::consts::LN_2 * 24.0 / r.birth - 55.0).abs() < 1e-3);
    // No androgen substrate: no estrogen whatever the dose.
    let mut c = d.culture.clone();
    c.substrate_nm = Some(0.0);
    assert_eq!(
        GrowthModel::new(&d.model, &c).estrogen_fraction(0.0, 10.0),
        0.0
    );
}

#[test]
fn birth_death_step_has_the_exact_mean_and_extinction_probability() {
    let rates = Rates {
        birth: 0.5,
        death: 0.3,
    };
    let reps = 40_000;
    let mut rng = crate::rng::stream(11, &[]);
    let draws: Vec<u64> = (0..reps)
        .map(|_| birth_death_step(&mut rng, 1, rates, 2.0))
        .collect();
    let mean = draws.iter().sum::<u64>() as f64 / reps as f64;
    let g: f64 = 0.2;
    let e = (g * 2.0).exp();
    // Kendall 1948: E[X] = e^{gt}, Var = (b + d)/g · e^{gt}(e^{gt} − 1), P(0) = α.
    let var = (0.8 / g) * e * (e - 1.0);
    assert!(
        (mean - e).abs() < 4.0 * (var / reps as f64).sqrt(),
        "mean {mean} vs {e}"
    );
    let alpha = 0.3 * (e - 1.0) / (0.5 * e - 0.3);
    let p0 = draws.iter().filter(|&&x| x == 0).count() as f64 / reps as f64;
    assert!(
        (p0 - alpha).abs() < 4.0 * (alpha * (1.0 - alpha) / reps as f64).sqrt(),
        "P0 {p0} vs {alpha}"
    );
}

#[test]
fn tiny_populations_drift_and_can_die_out() {
    let mut d = testutil::derivation();
    d.culture.seeding_cells = 5.0;
    d.model.resistant_fraction.value = 0.0;
    d.model.switch_rate_per_division.value = 0.0;
    d.start_concentration_nm.value = 30.0; // net growth slightly negative for sensitive cells
    d.model.death_rate_per_day.value = 0.4;
    d.escalation.clear();
    d.duration_days = 60;
    let outcomes: Vec<(Outcome, u64)> = (0..200)
        .map(|r| {
            let run = simulate_derivation(&d, &mut crate::rng::stream(5, &[r]));
            (run.outcome, run.last().unwrap().total())
        })
        .collect();
    let extinct = outcomes.iter().filter(|o| o.0 == Outcome::Extinct).count();
    let alive: Vec<u64> = outcomes
        .iter()
        .filter(|o| o.0 != Outcome::Extinct)
        .map(|o| o.1)
        .collect();
    assert!(extinct > 20 && extinct < 200, "extinct {extinct} of 200");
    // Survivors differ widely: drift, not a deterministic curve.
    let (lo, hi) = (
        alive.iter().min().copied().unwrap_or(0),
        alive.iter().max().copied().unwrap_or(0),
    );
    assert!(hi > 4 * lo.max(1), "survivor sizes {lo}..{hi}");
}

#[test]
fn passages_thin_binomially_and_lose_rare_clones() {
    let mut rng = crate::rng::stream(9, &[]);
    let reps = 20_000;
    // Three resistant cells at a 1:4 split: all lost with probability (3/4)^3.
    let lost = (0..reps)
        .filter(|_| binomial(&mut rng, 3, 0.25) == 0)
        .count() as f64
        / reps as f64;
    let p = 0.75f64.powi(3);
    assert!((lost - p).abs() < 4.0 * (p * (1.0 - p) / reps as f64).sqrt());
}

#[test]
fn same_seed_same_run_different_seed_differs() {
    let d = testutil::derivation();
    let a = simulate_derivation(&d, &mut crate::rng::stream(1, &[0]));
    let b = simulate_derivation(&d, &mut crate::rng::stream(1, &[0]));
    let c = simulate_derivation(&d, &mut crate::rng::stream(2, &[0]));
    assert_eq!(a, b);
    assert_ne!(a.days, c.days);
}

#[test]
fn selection_escalation_and_cloning() {
    let d = testutil::derivation();
    let run = simulate_derivation(&d, &mut crate::rng::stream(1, &[0]));
    assert_eq!(run.outcome, Outcome::Resistant);
    let t = run.time_to_resistance_days.unwrap();
    assert!(
        run.days[t as usize].resistant_fraction() > 0.5
            && run.days[t as usize - 1].resistant_fraction() <= 0.5
    );
    // Growth-recovered step first (at a passage), then the day-180 step.
    assert_eq!(run.escalations.len(), 2);
    assert!(run.escalations[0].0 < 180 && run.escalations[1] == (180, 1000.0));
    let ev = &run.days[run.escalations[0].0 as usize];
    assert_eq!(ev.event, DayEvent::Escalation);
    assert_eq!(run.clones, Some((12, 12)));
    assert!(run.passages > 20);

    // Without any source of resistance the culture never becomes resistant.
    let mut none = d.clone();
    none.model.resistant_fraction.value = 0.0;
    none.model.switch_rate_per_division.value = 0.0;
    none.escalation = vec![EscalationStep {
        concentration_nm: 20.0,
        trigger: EscalationTrigger::Day(30),
    }];
    let r = simulate_derivation(&none, &mut crate::rng::stream(1, &[0]));
    assert_eq!(r.outcome, Outcome::NotResistant);
    assert_eq!(r.time_to_resistance_days, None);
    assert_eq!(r.clones, Some((12, 0)));
}

#[test]
fn switching_feeds_the_adapting_state() {
    let mut d = testutil::derivation();
    d.model.resistant_fraction.value = 0.0;
    d.model.switch_rate_per_division.value = 1e-4;
    d.model.intermediate_ic50_factor = Some(crate::protocol::Sourced::new(5.0, "assumed"));
    d.duration_days = 60;
    let run = simulate_derivation(&d, &mut crate::rng::stream(4, &[0]));
    assert!(run.days.iter().any(|r| r.adapting > 0));
    assert!(run.days.iter().any(|r| r.resistant > 0));
}
