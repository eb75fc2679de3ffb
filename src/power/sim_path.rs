//! The general path: every replicate is a whole study from the simulator ([`crate::sim`]:
//! implantation, take, growth to the window, enrollment and randomization, dosing, calipers,
//! humane endpoints) analyzed by the same code as `analyze` ([`crate::analysis::analyze_animals`],
//! without bootstrap or descriptive tables), so power counts exactly the decisions a lab would
//! make.
//!
//! Streams: replicate r at n per arm uses `stream(seed, [n, r])`. Common random numbers
//! across n are not used here — which animals are enrolled depends on n (the implanted pool
//! and the enrollment day change with it).

use super::design::{Endpoint, PowerError, Settings};
use super::engine::{ReplicateModel, Tally};
use super::units::UnitPlan;
use crate::analysis::{AnalysisOptions, analyze_animals};
use crate::protocol::Protocol;
use crate::rng::stream;
use crate::sim::{Engine, StudyBuffer};

/// A protocol ready for whole-study Monte Carlo.
#[derive(Debug)]
pub struct SimModel {
    engine: Engine,
    /// Per unit: (cohort label as written by `to_dataset`, hypothesis, test).
    keys: Vec<(String, String, Endpoint)>,
    units: UnitPlan,
    sizing: Vec<bool>,
    cohorts: usize,
    n_values: Vec<u32>,
    seed: u64,
    alpha: f64,
    options: AnalysisOptions,
}

impl SimModel {
    /// The whole-study model of `protocol` on its compiled `engine` (built with
    /// [`super::fast::power_sim_options`], so both engines read one plan).
    pub fn new(
        protocol: &Protocol,
        engine: Engine,
        units: &UnitPlan,
        settings: &Settings,
    ) -> Result<SimModel, PowerError> {
        settings.validate()?;
        let x = protocol
            .xenograft()
            .ok_or_else(|| PowerError::NotXenograft(protocol.id.clone()))?;
        let controls: Vec<&str> = x
            .cohorts
            .iter()
            .map(|c| c.control().name.as_str())
            .collect();
        let control = controls.first().copied().unwrap_or("control");
        if controls.iter().any(|c| *c != control) {
            return Err(PowerError::Unsupported(format!(
                "the analysis needs one control arm name for every cohort; found {}",
                controls.join(", ")
            )));
        }
        let several = x.cohorts.len() > 1;
        let keys = units
            .units
            .iter()
            .map(|u| {
                (
                    if several {
                        u.cohort_name.clone()
                    } else {
                        String::new()
                    },
                    u.hypothesis.clone(),
                    u.test,
                )
            })
            .collect();
        let mut options = AnalysisOptions::new(control);
        options.analysis_day = x.analysis.analysis_day;
        options.set_protocol_endpoints(&x.endpoints);
        options.bootstrap_reps = 0;
        options.run_lmm = units.units.iter().any(|u| u.test == Endpoint::Lmm);
        options.plan = units.plan.clone();
        options.synergy_time_course = false;
        options.descriptive_tables = false;
        Ok(SimModel {
            engine,
            keys,
            sizing: units.units.iter().map(|u| u.sizing).collect(),
            units: units.clone(),
            cohorts: x.cohorts.len(),
            n_values: settings.n_values.clone(),
            seed: settings.seed,
            alpha: settings.alpha,
            options,
        })
    }
}

/// Per-worker buffers of [`SimModel`].
#[derive(Debug)]
pub struct SimScratch {
    buf: StudyBuffer,
    animals: Vec<crate::data::Animal>,
    readings: Vec<crate::data::Reading>,
    p: Vec<f64>,
    decisions: Vec<bool>,
    family: Vec<(f64, usize)>,
}

impl ReplicateModel for SimModel {
    type Scratch = SimScratch;

    fn scratch(&self) -> SimScratch {
        SimScratch {
            buf: StudyBuffer::new(&self.engine),
            animals: Vec::new(),
            readings: Vec::new(),
            p: vec![f64::NAN; self.keys.len()],
            decisions: vec![false; self.keys.len()],
            family: Vec::with_capacity(self.keys.len()),
        }
    }

    fn empty_tally(&self) -> Tally {
        let t = Tally::new(self.n_values.len(), self.keys.len(), self.cohorts);
        if (0..self.cohorts).any(|c| self.engine.stop_rule(c).is_some()) {
            // Days 0..=fixed end.
            t.with_stop_days(self.engine.horizon_days() as usize + 1)
        } else {
            t
        }
    }

    fn replicate(&self, rep: u64, s: &mut SimScratch, tally: &mut Tally) {
        for (slot, &n) in self.n_values.iter().enumerate() {
            let mut rng = stream(self.seed, &[u64::from(n), rep]);
            tally.reps[slot] += 1;
            if self
                .engine
                .simulate(&mut rng, Some(n as usize), &mut s.buf)
                .is_err()
            {
                tally.failures[slot] += 1;
                continue;
            }
            for c in 0..self.cohorts {
                let o = s.buf.cohort(c);
                tally.implanted[c] += o.implanted as u64;
                tally.took[c] += o.takes as u64;
                tally.eligible[c] += o.eligible as u64;
                if tally.stop_len > 0 {
                    let day = o.stop_day.unwrap_or(self.engine.horizon_days());
                    tally.record_stop(slot, c, day as usize);
                }
            }
            s.buf
                .fill_animals(&self.engine, &mut s.animals, &mut s.readings);
            let Ok(res) = analyze_animals(&s.animals, &self.options) else {
                tally.failures[slot] += 1;
                continue;
            };
            // The decision rows: members of a family (component rows are not).
            for (u, (cohort, hypothesis, test)) in self.keys.iter().enumerate() {
                s.p[u] = res
                    .tests
                    .iter()
                    .find(|t| {
                        t.key == *test
                            && &t.hypothesis == hypothesis
                            && !t.family.is_empty()
                            && (cohort.is_empty() || &t.cohort == cohort)
                    })
                    .map_or(f64::NAN, |t| t.p_value);
            }
            self.units
                .decide(&s.p, self.alpha, &mut s.family, &mut s.decisions);
            tally.record(slot, &s.decisions, &s.p, &self.sizing);
        }
    }
}
