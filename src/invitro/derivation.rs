//! Population simulator for the derivation of a drug-resistant line.
//!
//! # Model
//!
//! The culture holds up to three subpopulations — sensitive (S), optionally adapting (A), and
//! resistant (R) — counted as whole cells. Time advances in steps of one day.
//!
//! **Drug effect through estrogen.** For an aromatase inhibitor (the culture lists an
//! androgen substrate such as testosterone), estrogen is made by the cells' aromatase from the
//! substrate; the drug inhibits aromatase with a Hill curve, so the fraction of estrogen left
//! for a subpopulation with IC50 `K` is `f(C) = 1 / (1 + (C/K)^h)`. Without any substrate
//! (`substrate_nm = 0`) no estrogen is made, `f = 0`. When the culture lists no substrate the
//! drug is taken to act on ER signalling directly with the same Hill curve (e.g. a SERM/SERD in
//! estrogen-containing medium). The estrogen fraction sets the division (birth) rate between
//! the rates of the two doubling times measured by Wiese et al. 1992 (33 h with 10 pM E2, 55 h
//! without), and full deprivation adds a death rate:
//!
//! ```text
//! birth(C) = ln2·24/Td_without + (ln2·24/Td_with − ln2·24/Td_without)·f(C)   [1/day]
//! death(C) = death_rate_per_day · (1 − f(C))
//! ```
//!
//! Resistant cells follow the same curve with their (higher) IC50 `ic50_resistant_nm`, the
//! adapting state with `ic50_sensitive_nm · intermediate_ic50_factor`. Births slow down near
//! confluence, `birth · max(0, 1 − (N/N_confluent)^4)` (θ-logistic crowding with θ = 4 —
//! assumed; MCF-7 stays in near-exponential log phase until close to confluence, which is why
//! cultures are split at ~80%; evaluated at the start of each day).
//!
//! **Stochastic births and deaths.** Each subpopulation moves over one day by the exact
//! transition law of a linear birth–death process (Kendall 1948, Ann Math Stat 19:1;
//! Bailey 1964, *The Elements of Stochastic Processes*, §8.6): of `n` cells, each founds a
//! lineage that survives the day with probability `1 − α`, and a surviving lineage has a
//! geometric size with parameter `β`, where with `g = b − d`, `E = e^{g·t}`:
//! `α = d(E − 1)/(bE − d)`, `β = b(E − 1)/(bE − d)` (both `bt/(1 + bt)` when `b = d`).
//! So `X = K + NegBin(K, 1 − β)`, `K ~ Binomial(n, 1 − α)`, drawn as a Poisson–Gamma mixture.
//! Large populations behave deterministically; a handful of cells drift and can die out.
//!
//! **Where resistance comes from.** A pre-existing resistant fraction at seeding (binomial draw
//! of the seeded cells; selection of a pre-existing clone is the documented mechanism,
//! PMC2732824) plus rare switching at division: the number of switching divisions in a day is
//! Poisson with mean `μ · expected divisions`. With an adapting state, S → A and A → R both
//! switch at rate μ; without it S → R directly.
//!
//! **Culture handling.** Seeding with `seeding_cells`; a passage whenever the culture reaches
//! `passage_at_confluence · confluent_cells`, keeping each cell with probability
//! `1/split_ratio` (binomial thinning per subpopulation, so rare clones can be lost); medium
//! changes every `medium_change_days` (fresh drug; the drug is taken as constant between
//! changes — assumed; anastrozole is chemically stable in medium over days). Dose escalation
//! follows the protocol's steps in order: a `Day(d)` step on day d (done with a medium
//! change), a `GrowthRecovered` step at the first passage where the population doubling time
//! since the previous passage is below the threshold. At the end, single-cell cloning picks
//! `clones` cells, each resistant with the resistant fraction of the population.

use crate::protocol::{
    ArmKind, Culture, Derivation, DerivationModel, EscalationStep, EscalationTrigger, SplitArm,
};
use rand::Rng;
use rand_distr::{Binomial, Distribution, Gamma, Poisson};

/// Resistant fraction above which a culture counts as resistant (issue 7: > 50%).
pub const RESISTANT_THRESHOLD: f64 = 0.5;

/// Exponent θ of the θ-logistic crowding term (assumed; see module docs).
pub const CROWDING_THETA: i32 = 4;

/// Division and death rates per day of one subpopulation at one concentration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    /// Division rate, 1/day.
    pub birth: f64,
    /// Death rate, 1/day.
    pub death: f64,
}

impl Rates {
    /// Net exponential growth rate, 1/day.
    pub fn net(&self) -> f64 {
        self.birth - self.death
    }
}

/// The per-subpopulation dose response of a derivation model.
#[derive(Debug, Clone, PartialEq)]
pub struct GrowthModel {
    /// Division rate with full estrogen, 1/day.
    pub r_with: f64,
    /// Division rate without estrogen, 1/day.
    pub r_without: f64,
    /// Extra death rate at full deprivation, 1/day.
    pub death: f64,
    /// Hill coefficient of aromatase (or ER) inhibition.
    pub hill: f64,
    /// Whether estrogen can be made or is supplied at all (false: substrate concentration 0).
    pub estrogen_source: bool,
    /// Division rate of adapting / resistant cells relative to sensitive ones without drug
    /// (fitness cost; 1 = none).
    pub fitness_off_drug: f64,
    /// Probability per division that an adapting / resistant cell reverts to sensitive
    /// without drug (0 = none).
    pub reversion: f64,
}

impl GrowthModel {
    /// Builds the growth model of a derivation protocol.
    pub fn new(m: &DerivationModel, culture: &Culture) -> Self {
        let per_day = |td_h: f64| std::f64::consts::LN_2 * 24.0 / td_h;
        GrowthModel {
            r_with: per_day(m.doubling_h_with_e2.value),
            r_without: per_day(m.doubling_h_without_e2.value),
            death: m.death_rate_per_day.value.max(0.0),
            hill: m.hill.value,
            estrogen_source: culture.substrate.is_none()
                || culture.substrate_nm.is_none_or(|s| s > 0.0),
            fitness_off_drug: m.fitness_off_drug.as_ref().map_or(1.0, |f| f.value),
            reversion: m
                .reversion_rate_per_division
                .as_ref()
                .map_or(0.0, |r| r.value.clamp(0.0, 1.0)),
        }
    }

    /// Remaining estrogen (signalling) fraction for IC50 `ic50` at concentration `c` (nM).
    pub fn estrogen_fraction(&self, c: f64, ic50: f64) -> f64 {
        if !self.estrogen_source {
            return 0.0;
        }
        if c <= 0.0 {
            return 1.0;
        }
        1.0 / (1.0 + (c / ic50).powf(self.hill))
    }

    /// Rates of a subpopulation with IC50 `ic50` at concentration `c`.
    pub fn rates(&self, c: f64, ic50: f64) -> Rates {
        let f = self.estrogen_fraction(c, ic50);
        Rates {
            birth: self.r_without + (self.r_with - self.r_without) * f,
            death: self.death * (1.0 - f),
        }
    }
}

impl GrowthModel {
    /// Rates of a subpopulation at `c`: [`GrowthModel::rates`], with the fitness cost of
    /// resistance on the division rate of adapting / resistant cells (`resistant_state`) in
    /// medium without drug. Under drug the cost is taken as masked by the benefit (assumed).
    pub fn subpop_rates(&self, c: f64, ic50: f64, resistant_state: bool) -> Rates {
        let mut r = self.rates(c, ic50);
        if resistant_state && c <= 0.0 {
            r.birth *= self.fitness_off_drug;
        }
        r
    }
}

/// Draws the size after `t` days of a linear birth–death process started from `n` cells
/// (exact law, see module docs).
pub fn birth_death_step<R: Rng + ?Sized>(rng: &mut R, n: u64, rates: Rates, t: f64) -> u64 {
    if n == 0 {
        return 0;
    }
    let (b, d) = (rates.birth.max(0.0), rates.death.max(0.0));
    let g = b - d;
    let (alpha, beta) = if (g * t).abs() < 1e-9 {
        let q = b * t / (1.0 + b * t);
        (q, q)
    } else {
        let e = (g * t).exp();
        let den = b * e - d;
        (d * (e - 1.0) / den, b * (e - 1.0) / den)
    };
    let alpha = alpha.clamp(0.0, 1.0);
    let beta = beta.clamp(0.0, 1.0 - 1e-15);
    let k = match Binomial::new(n, 1.0 - alpha) {
        Ok(bin) => bin.sample(rng),
        Err(_) => return 0,
    };
    if k == 0 || beta <= 0.0 {
        return k;
    }
    // NegBin(k, 1 − β) failures = Poisson(Gamma(k, β/(1 − β))).
    let lambda = match Gamma::new(k as f64, beta / (1.0 - beta)) {
        Ok(gd) => gd.sample(rng),
        Err(_) => return k,
    };
    k + poisson(rng, lambda)
}

/// Poisson draw as an integer (0 for non-positive or non-finite means).
pub fn poisson<R: Rng + ?Sized>(rng: &mut R, lambda: f64) -> u64 {
    if lambda.is_nan() || lambda <= 0.0 || !lambda.is_finite() {
        return 0;
    }
    match Poisson::new(lambda.min(Poisson::<f64>::MAX_LAMBDA)) {
        Ok(p) => {
            let v: f64 = p.sample(rng);
            v as u64
        }
        Err(_) => 0,
    }
}

/// Binomial draw (0 on invalid p).
pub fn binomial<R: Rng + ?Sized>(rng: &mut R, n: u64, p: f64) -> u64 {
    if n == 0 || p.is_nan() || p <= 0.0 {
        return 0;
    }
    Binomial::new(n, p.min(1.0))
        .map(|b| b.sample(rng))
        .unwrap_or(0)
}

/// What happened on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayEvent {
    /// Nothing recorded.
    None,
    /// Seeding (day 0).
    Seeding,
    /// Passage (split).
    Passage,
    /// Medium change.
    MediumChange,
    /// Dose escalation (with a medium change or passage).
    Escalation,
    /// The culture died out.
    Extinct,
    /// An arm's flask seeded from the culture (first record of an arm).
    Split,
    /// Drug withdrawn (start of a holiday; fresh drug-free medium).
    DrugWithdrawn,
    /// Drug back after a holiday.
    Rechallenge,
}

impl DayEvent {
    /// Name written in `population.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            DayEvent::None => "",
            DayEvent::Seeding => "seeding",
            DayEvent::Passage => "passage",
            DayEvent::MediumChange => "medium-change",
            DayEvent::Escalation => "dose-escalation",
            DayEvent::Extinct => "extinct",
            DayEvent::Split => "split",
            DayEvent::DrugWithdrawn => "drug-holiday",
            DayEvent::Rechallenge => "rechallenge",
        }
    }
}

/// One day of the culture (recorded after that day's growth and handling).
#[derive(Debug, Clone, PartialEq)]
pub struct DayRecord {
    /// Day of the derivation (0 = seeding).
    pub day: u32,
    /// Sensitive cells in the vessel.
    pub sensitive: u64,
    /// Adapting cells.
    pub adapting: u64,
    /// Resistant cells.
    pub resistant: u64,
    /// Drug concentration in the medium, nM.
    pub drug_nm: f64,
    /// Passages so far.
    pub passage: u32,
    /// Event of the day (after the passage, the counts are those kept).
    pub event: DayEvent,
    /// Cumulative population doublings since seeding (splits accounted for).
    pub cumulative_doublings: f64,
}

impl DayRecord {
    /// Cells in the vessel.
    pub fn total(&self) -> u64 {
        self.sensitive + self.adapting + self.resistant
    }
    /// Resistant fraction (NaN when the culture is empty).
    pub fn resistant_fraction(&self) -> f64 {
        let t = self.total();
        if t == 0 {
            f64::NAN
        } else {
            self.resistant as f64 / t as f64
        }
    }
}

/// How a derivation run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Resistant fraction > 50% at the end.
    Resistant,
    /// The culture died out.
    Extinct,
    /// Cells remain but the resistant fraction is ≤ 50% at the end.
    NotResistant,
}

impl Outcome {
    /// True for extinction or no resistance by the end.
    pub fn failed(self) -> bool {
        self != Outcome::Resistant
    }
    /// Name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Resistant => "resistant",
            Outcome::Extinct => "extinct",
            Outcome::NotResistant => "not-resistant",
        }
    }
}

/// Result of one derivation run.
#[derive(Debug, Clone, PartialEq)]
pub struct DerivationRun {
    /// Daily records, day 0 to the last simulated day.
    pub days: Vec<DayRecord>,
    /// First day with resistant fraction > 50%.
    pub time_to_resistance_days: Option<u32>,
    /// Total passages.
    pub passages: u32,
    /// Days on which the concentration stepped up, with the new concentration.
    pub escalations: Vec<(u32, f64)>,
    /// Outcome.
    pub outcome: Outcome,
    /// Clones picked / of which resistant (None without cloning or after extinction).
    pub clones: Option<(u32, u32)>,
}

impl DerivationRun {
    /// The last record.
    pub fn last(&self) -> Option<&DayRecord> {
        self.days.last()
    }
}

/// Per-subpopulation IC50s (S, A, R) of a derivation model, nM.
pub fn subpop_ic50s(m: &DerivationModel) -> [f64; 3] {
    let s = m.ic50_sensitive_nm.value;
    let a = m
        .intermediate_ic50_factor
        .as_ref()
        .map_or(s, |f| s * f.value);
    [s, a, m.ic50_resistant_nm.value]
}

/// What one run reads from the protocol, once.
struct RunCx<'a> {
    d: &'a Derivation,
    gm: GrowthModel,
    ic50: [f64; 3],
    has_adapting: bool,
    /// Switching probability per division (S → A → R, or S → R).
    mu: f64,
    capacity: f64,
    passage_at: f64,
    keep: f64,
}

impl<'a> RunCx<'a> {
    fn new(d: &'a Derivation) -> Self {
        let cul = &d.culture;
        let capacity = cul.confluent_cells.max(1.0);
        RunCx {
            d,
            gm: GrowthModel::new(&d.model, cul),
            ic50: subpop_ic50s(&d.model),
            has_adapting: d.model.intermediate_ic50_factor.is_some(),
            mu: d.model.switch_rate_per_division.value.clamp(0.0, 1.0),
            capacity,
            passage_at: (cul.passage_at_confluence * capacity).max(1.0),
            keep: (1.0 / cul.split_ratio.max(1.0)).min(1.0),
        }
    }
}

/// The culture's state between days.
#[derive(Debug, Clone)]
struct Pool {
    pop: [u64; 3],
    conc: f64,
    passages: u32,
    last_feed: u32,
    cum_doublings: f64,
    /// Day of the last split (or seeding) and the cells kept then, for the growth-recovered
    /// trigger.
    since_split: (u32, f64),
}

impl Pool {
    fn record(&self, day: u32, event: DayEvent) -> DayRecord {
        DayRecord {
            day,
            sensitive: self.pop[0],
            adapting: self.pop[1],
            resistant: self.pop[2],
            drug_nm: self.conc,
            passage: self.passages,
            event,
            cumulative_doublings: self.cum_doublings,
        }
    }
}

/// Expected divisions in one day of `n` cells growing at `r` (the switching opportunities).
fn expected_births(n: u64, r: Rates) -> f64 {
    let g = r.net();
    if g.abs() < 1e-9 {
        n as f64 * r.birth
    } else {
        n as f64 * r.birth * (g.exp() - 1.0) / g
    }
}

/// One day of growth of `pool` with switching (and reversion off drug).
fn grow_day<R: Rng + ?Sized>(cx: &RunCx, pool: &mut Pool, rng: &mut R) {
    let pop = pool.pop;
    let total_before: u64 = pop.iter().sum();
    let crowd = (1.0 - (total_before as f64 / cx.capacity).powi(CROWDING_THETA)).max(0.0);
    let mut new = [0u64; 3];
    let mut switched = [0u64; 3]; // cells leaving state i for i + 1 (or S → R)
    let mut births = [0.0f64; 3];
    for i in 0..3 {
        if pop[i] == 0 {
            continue;
        }
        let mut r = cx.gm.subpop_rates(pool.conc, cx.ic50[i], i > 0);
        r.birth *= crowd;
        new[i] = birth_death_step(rng, pop[i], r, 1.0);
        births[i] = expected_births(pop[i], r);
        if i < 2 && cx.mu > 0.0 {
            switched[i] = poisson(rng, cx.mu * births[i]).min(new[i]);
        }
    }
    let total_after_growth: u64 = new.iter().sum();
    if cx.has_adapting {
        new[0] -= switched[0];
        new[1] += switched[0];
        new[1] -= switched[1].min(new[1]);
        new[2] += switched[1];
    } else {
        new[0] -= switched[0];
        new[2] += switched[0];
    }
    revert(cx, pool.conc, births, &mut new, rng);
    pool.pop = new;
    if total_before > 0 && total_after_growth > 0 {
        pool.cum_doublings += (total_after_growth as f64 / total_before as f64).log2();
    }
}

/// Off drug, adapting and resistant cells revert to the sensitive state: Poisson with mean
/// `reversion rate · expected divisions` (no draw without reversion or under drug, so such
/// runs keep their random stream).
fn revert<R: Rng + ?Sized>(
    cx: &RunCx,
    conc: f64,
    births: [f64; 3],
    new: &mut [u64; 3],
    rng: &mut R,
) {
    let rate = cx.gm.reversion;
    if rate <= 0.0 || conc > 0.0 {
        return;
    }
    for i in 1..3 {
        if new[i] > 0 {
            let k = poisson(rng, rate * births[i]).min(new[i]);
            new[i] -= k;
            new[0] += k;
        }
    }
}

/// Where the day's drug concentration comes from.
enum DrugPlan<'a> {
    /// The protocol's escalation steps, from step `next`.
    Protocol {
        steps: &'a [EscalationStep],
        next: usize,
    },
    /// An arm's schedule after the split on `split_day`, from `at_split` nM.
    Arm {
        kind: &'a ArmKind,
        split_day: u32,
        at_split: f64,
    },
}

impl DrugPlan<'_> {
    /// The concentration change due at the start of `day` (fresh medium that day), if any.
    fn scheduled(&mut self, day: u32, conc: f64) -> Option<(f64, DayEvent)> {
        match self {
            DrugPlan::Protocol { steps, next } => {
                let step = steps.get(*next)?;
                let EscalationTrigger::Day(at) = step.trigger else {
                    return None;
                };
                (day >= at).then(|| {
                    *next += 1;
                    (step.concentration_nm, DayEvent::Escalation)
                })
            }
            DrugPlan::Arm {
                kind,
                split_day,
                at_split,
            } => {
                let c = kind.concentration(*at_split, day - *split_day);
                let event = if c <= 0.0 {
                    DayEvent::DrugWithdrawn
                } else if conc <= 0.0 {
                    DayEvent::Rechallenge
                } else {
                    DayEvent::Escalation
                };
                (c != conc).then_some((c, event))
            }
        }
    }

    /// The growth-recovered step due at a passage on `day` (protocol plan only).
    fn recovered(
        &mut self,
        day: u32,
        pool: &Pool,
        total: f64,
        last_step: Option<u32>,
    ) -> Option<f64> {
        let DrugPlan::Protocol { steps, next } = self else {
            return None;
        };
        let step = steps.get(*next)?;
        let EscalationTrigger::GrowthRecovered { doubling_h } = step.trigger else {
            return None;
        };
        // Judged on growth since the previous split, and only when that whole interval ran at
        // the current concentration (a split that follows an escalation by a day says nothing
        // about growth at the new dose).
        let (since, kept) = pool.since_split;
        let elapsed = f64::from(day - since);
        if last_step.is_some_and(|d| since < d) || elapsed <= 0.0 || total <= kept {
            return None;
        }
        let td_h = 24.0 * elapsed * std::f64::consts::LN_2 / (total / kept).ln();
        (td_h < doubling_h).then(|| {
            *next += 1;
            step.concentration_nm
        })
    }
}

/// Runs days `first..=last` of `pool` under `plan`, recording each day into `run`.
fn run_days<R: Rng + ?Sized>(
    cx: &RunCx,
    pool: &mut Pool,
    plan: &mut DrugPlan,
    (first, last): (u32, u32),
    run: &mut DerivationRun,
    rng: &mut R,
) {
    let cul = &cx.d.culture;
    for day in first..=last {
        let mut event = DayEvent::None;
        // A scheduled change: new drug (or none) is added with a medium change that day.
        if let Some((c, ev)) = plan.scheduled(day, pool.conc) {
            pool.conc = c;
            run.escalations.push((day, c));
            pool.last_feed = day;
            event = ev;
        }
        grow_day(cx, pool, rng);
        let total: u64 = pool.pop.iter().sum();
        if total == 0 {
            run.outcome = Outcome::Extinct;
            run.days.push(pool.record(day, DayEvent::Extinct));
            return;
        }
        if total as f64 >= cx.passage_at {
            let last_step = run.escalations.last().map(|e| e.0);
            if let Some(c) = plan.recovered(day, pool, total as f64, last_step) {
                pool.conc = c;
                run.escalations.push((day, c));
                event = DayEvent::Escalation;
            }
            for p in pool.pop.iter_mut() {
                *p = binomial(rng, *p, cx.keep);
            }
            pool.passages += 1;
            pool.last_feed = day;
            pool.since_split = (day, pool.pop.iter().sum::<u64>() as f64);
            if event == DayEvent::None {
                event = DayEvent::Passage;
            }
        } else if cul.medium_change_days > 0 && day - pool.last_feed >= cul.medium_change_days {
            pool.last_feed = day;
            if event == DayEvent::None {
                event = DayEvent::MediumChange;
            }
        }
        let rec = pool.record(day, event);
        if run.time_to_resistance_days.is_none() && rec.resistant_fraction() > RESISTANT_THRESHOLD {
            run.time_to_resistance_days = Some(day);
        }
        let empty = rec.total() == 0;
        run.days.push(rec);
        if empty {
            // A split can leave nothing behind when only a few cells were passaged.
            run.outcome = Outcome::Extinct;
            if let Some(last) = run.days.last_mut() {
                last.event = DayEvent::Extinct;
            }
            return;
        }
    }
}

/// The outcome by the last record and the clones picked at the end.
fn finish<R: Rng + ?Sized>(d: &Derivation, pool: &Pool, run: &mut DerivationRun, rng: &mut R) {
    run.passages = pool.passages;
    if run.outcome != Outcome::Extinct {
        let frac = run.days.last().map_or(0.0, |r| r.resistant_fraction());
        run.outcome = if frac > RESISTANT_THRESHOLD {
            Outcome::Resistant
        } else {
            Outcome::NotResistant
        };
    }
    run.clones = match (&d.cloning, run.outcome) {
        (Some(c), o) if o != Outcome::Extinct => {
            let frac = run.days.last().map_or(0.0, |r| r.resistant_fraction());
            Some((c.clones, binomial(rng, c.clones as u64, frac) as u32))
        }
        _ => None,
    };
}

fn empty_run(first: DayRecord) -> DerivationRun {
    DerivationRun {
        days: vec![first],
        time_to_resistance_days: None,
        passages: 0,
        escalations: Vec::new(),
        outcome: Outcome::NotResistant,
        clones: None,
    }
}

/// Runs one derivation with the given random stream.
pub fn simulate_derivation<R: Rng + ?Sized>(d: &Derivation, rng: &mut R) -> DerivationRun {
    let cx = RunCx::new(d);
    let seed_n = d.culture.seeding_cells.max(0.0).round() as u64;
    let r0 = binomial(
        rng,
        seed_n,
        d.model.resistant_fraction.value.clamp(0.0, 1.0),
    );
    let mut pool = Pool {
        pop: [seed_n - r0, 0, r0],
        conc: d.start_concentration_nm.value.max(0.0),
        passages: 0,
        last_feed: 0,
        cum_doublings: 0.0,
        since_split: (0, seed_n as f64),
    };
    let mut run = empty_run(pool.record(0, DayEvent::Seeding));
    let mut plan = DrugPlan::Protocol {
        steps: &d.escalation,
        next: 0,
    };
    run_days(
        &cx,
        &mut pool,
        &mut plan,
        (1, d.duration_days),
        &mut run,
        rng,
    );
    finish(d, &pool, &mut run, rng);
    run
}

/// Runs one arm of a split: a flask seeded on `from.day` with `arm.fraction` of the cells of
/// record `from` (binomial thinning per state), then the arm's drug schedule to the end of the
/// derivation. Day 0 of the returned run is the split (event `split`); its time to resistance
/// counts from the derivation's day 0. `None` when the split day has no cells.
pub fn simulate_arm<R: Rng + ?Sized>(
    d: &Derivation,
    arm: &SplitArm,
    from: &DayRecord,
    rng: &mut R,
) -> Option<DerivationRun> {
    if from.total() == 0 || from.day >= d.duration_days {
        return None;
    }
    let cx = RunCx::new(d);
    let f = arm.fraction.clamp(0.0, 1.0);
    let pop = [from.sensitive, from.adapting, from.resistant].map(|n| binomial(rng, n, f));
    let mut pool = Pool {
        pop,
        conc: from.drug_nm,
        passages: from.passage,
        last_feed: from.day,
        cum_doublings: from.cumulative_doublings,
        since_split: (from.day, pop.iter().sum::<u64>() as f64),
    };
    let mut run = empty_run(pool.record(from.day, DayEvent::Split));
    if run.days[0].resistant_fraction() > RESISTANT_THRESHOLD {
        run.time_to_resistance_days = Some(from.day);
    }
    let mut plan = DrugPlan::Arm {
        kind: &arm.kind,
        split_day: from.day,
        at_split: from.drug_nm,
    };
    run_days(
        &cx,
        &mut pool,
        &mut plan,
        (from.day + 1, d.duration_days),
        &mut run,
        rng,
    );
    finish(d, &pool, &mut run, rng);
    Some(run)
}

#[cfg(test)]
mod tests;
