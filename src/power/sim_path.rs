//! The general path: every replicate is a whole study from the simulator ([`crate::sim`]:
//! implantation, take, growth to the window, enrollment and randomization, dosing, calipers,
//! humane endpoints) analyzed by the same code as `analyze` ([`crate::analysis::analyze`],
//! without bootstrap), so power counts exactly the decisions a lab would make.
//!
//! Streams: replicate r at n per arm uses `stream(seed, [n, r])`. Common random numbers
//! across n are not used here — which animals are enrolled depends on n (the implanted pool
//! and the enrollment day change with it).

use super::design::{Comparison, Endpoint, PowerError, Settings};
use super::engine::{ReplicateModel, Tally};
use crate::analysis::{AnalysisOptions, analyze};
use crate::protocol::{Adjustment, Protocol};
use crate::rng::stream;
use crate::sim::{Engine, StudyBuffer};

/// A protocol ready for whole-study Monte Carlo.
#[derive(Debug)]
pub struct SimModel {
    engine: Engine,
    /// Per comparison: (cohort label as written by `to_dataset`, treated arm name).
    keys: Vec<(String, String)>,
    cohorts: usize,
    n_values: Vec<u32>,
    endpoints: Vec<Endpoint>,
    seed: u64,
    alpha: f64,
    adjust: Adjustment,
    options: AnalysisOptions,
}

impl SimModel {
    /// The whole-study model of `protocol` on its compiled `engine` (built with
    /// [`super::fast::power_sim_options`], so both engines read one plan).
    pub fn new(
        protocol: &Protocol,
        engine: Engine,
        comps: &[Comparison],
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
        let keys = comps
            .iter()
            .map(|c| {
                let cohort = &x.cohorts[c.cohort];
                (
                    if several {
                        cohort.name.clone()
                    } else {
                        String::new()
                    },
                    cohort.arms[c.arm].name.clone(),
                )
            })
            .collect();
        let mut options = AnalysisOptions::new(control);
        options.analysis_day = x.analysis.analysis_day;
        options.set_protocol_endpoints(&x.endpoints);
        options.bootstrap_reps = 0;
        options.run_lmm = settings.endpoints.contains(&Endpoint::Lmm);
        Ok(SimModel {
            engine,
            keys,
            cohorts: x.cohorts.len(),
            n_values: settings.n_values.clone(),
            endpoints: settings.endpoints.clone(),
            seed: settings.seed,
            alpha: settings.alpha,
            adjust: settings.adjust,
            options,
        })
    }
}

/// Per-worker buffers of [`SimModel`].
#[derive(Debug)]
pub struct SimScratch {
    buf: StudyBuffer,
    decisions: Vec<bool>,
}

impl ReplicateModel for SimModel {
    type Scratch = SimScratch;

    fn scratch(&self) -> SimScratch {
        SimScratch {
            buf: StudyBuffer::new(&self.engine),
            decisions: vec![false; self.keys.len()],
        }
    }

    fn empty_tally(&self) -> Tally {
        Tally::new(
            self.n_values.len(),
            self.endpoints.len(),
            self.keys.len(),
            self.cohorts,
        )
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
            }
            let ds = s.buf.to_dataset(&self.engine);
            let Ok(res) = analyze(&ds, &self.options) else {
                tally.failures[slot] += 1;
                continue;
            };
            for (ei, e) in self.endpoints.iter().enumerate() {
                for (ci, (cohort, arm)) in self.keys.iter().enumerate() {
                    let row = res.tests.iter().find(|t| {
                        t.key == e.as_str()
                            && &t.arm == arm
                            && (cohort.is_empty() || &t.cohort == cohort)
                    });
                    let p = row.map_or(f64::NAN, |t| match self.adjust {
                        Adjustment::Holm => t.p_adjusted,
                        Adjustment::None => t.p_value,
                    });
                    s.decisions[ci] = p < self.alpha;
                }
                tally.record(slot, ei, &s.decisions);
            }
        }
    }
}
