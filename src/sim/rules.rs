//! In-study rules as the simulator applies them: an animal's dose holidays on body-weight
//! loss (`[dose-modification]`) and a cohort's early end on an arm's volume
//! (`[study-stop]`).

use super::buffer::{EndReason, MAX_HOLIDAYS, Slot, StudyBuffer};
use super::engine::{Animal, Engine};
use super::plan::{ArmPlan, DoseModPlan, EffectPlan, tox_day_step};

/// One animal's dosing under `[dose-modification]`: holidays, reduced dose, stop, and its
/// drug-induced body-weight deficit stepped day by day (the plan's per-arm tables assume
/// every planned dose is given). Without a rule it gives every dose.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DoseState {
    /// Dosing resumes at this study time (−∞: no holiday yet).
    pub resume_t: f64,
    /// Direct effects are paused until `resume_t`.
    paused: bool,
    /// Dosing stopped for good.
    stopped: bool,
    /// Holidays taken.
    taken: u32,
    /// Fraction of the protocol dose given now (toxicity scales with it).
    factor: f64,
    /// ln body-weight deficit before study day `day`.
    deficit: f64,
    day: u32,
}

impl DoseState {
    /// Full dosing, no deficit.
    pub fn new() -> Self {
        DoseState {
            resume_t: f64::NEG_INFINITY,
            paused: false,
            stopped: false,
            taken: 0,
            factor: 1.0,
            deficit: 0.0,
            day: 0,
        }
    }

    /// Whether a dose planned at study time `t` is given.
    #[inline]
    pub fn gives(&self, t: f64) -> bool {
        !self.stopped && t >= self.resume_t
    }

    /// True (once) when a holiday's end falls at or before `t`: the caller advances to
    /// `resume_t` and lets direct effects act again.
    #[inline]
    pub fn resume_due(&mut self, t: f64) -> bool {
        if self.paused && !self.stopped && self.resume_t <= t {
            self.paused = false;
            return true;
        }
        false
    }

    /// Whether a loss read at study time `t` may start a holiday (or stop dosing): not
    /// during a holiday and not after dosing stopped.
    #[inline]
    pub fn can_pause(&self, t: f64) -> bool {
        !self.stopped && t >= self.resume_t
    }

    /// The deficit (ln factor ≤ 0) at visit day `vd`: each day before it adds its toxic
    /// doses × the dose fraction when they are given, else recovers ([`tox_day_step`]).
    pub fn deficit(&mut self, tox_day: &[f64], rec: f64, vd: u32) -> f64 {
        while self.day < vd {
            let d = self.day;
            let given = !self.stopped && f64::from(d) >= self.resume_t;
            let inc = if given {
                tox_day.get(d as usize).copied().unwrap_or(0.0) * self.factor
            } else {
                0.0
            };
            self.deficit = tox_day_step(self.deficit, inc, rec);
            self.day += 1;
        }
        self.deficit
    }

    /// A loss at or over the threshold on visit day `vd`: a holiday of `m.holiday_days` days
    /// while holidays remain, else dosing stops; recorded in `slot`.
    pub fn pause(&mut self, m: &DoseModPlan, vd: u32, slot: &mut Slot) {
        let day = u16::try_from(vd).unwrap_or(u16::MAX);
        if self.taken < m.max_holidays {
            if (slot.holidays as usize) < MAX_HOLIDAYS {
                slot.holiday_days[slot.holidays as usize] = day;
                slot.holidays += 1;
            }
            self.taken += 1;
            self.resume_t = f64::from(vd) + f64::from(m.holiday_days);
            self.paused = true;
        } else {
            self.stopped = true;
            slot.dosing_stopped = Some(day);
        }
    }

    /// After a holiday dosing resumes at `m.resume` × the protocol dose: PK doses, direct
    /// effects (inhibition and kill × the fraction: a linear dose-response, assumed; an
    /// exposure-driven effect follows the lower concentrations instead) and toxicity.
    pub fn reduce(&mut self, m: &DoseModPlan, arm: &ArmPlan, orig: &Animal, an: &mut Animal) {
        if self.stopped {
            return;
        }
        self.factor = m.resume;
        for (k, t) in arm.treats.iter().enumerate() {
            an.dose_mg[k] = orig.dose_mg[k] * m.resume;
            if let EffectPlan::Direct { .. } = t.effect {
                an.inh[k] = orig.inh[k] * m.resume;
                an.kill[k] = orig.kill[k] * m.resume;
            }
        }
    }
}

impl Engine {
    /// Applies cohort `c`'s `[study-stop]` rule to its simulated animals: the first caliper
    /// day on which the deciding arm's mean (or median) measured volume over its animals
    /// read that day (and those that left before on a humane endpoint, at their last
    /// reading) reaches the limit ends the study — readings after it are dropped and
    /// the animals still on study complete there. `days`/`vals` are reused scratch.
    pub(crate) fn study_stop(
        &self,
        c: usize,
        buf: &mut StudyBuffer,
        days: &mut Vec<f64>,
        vals: &mut Vec<f64>,
    ) {
        buf.cohorts[c].stop_day = None;
        let Some(sp) = self.plan.cohorts[c].stop else {
            return;
        };
        let arm0 = buf.cohort_arm0[c];
        let slots = |buf: &StudyBuffer, a: usize| {
            buf.arm_base[arm0 + a]..buf.arm_base[arm0 + a] + buf.arm_n[arm0 + a]
        };
        days.clear();
        for s in slots(buf, sp.arm) {
            let n = buf.slots[s].n_visits as usize;
            days.extend_from_slice(&buf.day[s * buf.stride..s * buf.stride + n]);
        }
        days.sort_by(f64::total_cmp);
        days.dedup();
        let mut stop = None;
        for &d in days.iter() {
            vals.clear();
            for s in slots(buf, sp.arm) {
                let n = buf.slots[s].n_visits as usize;
                let row = s * buf.stride;
                let k = match buf.day[row..row + n].iter().position(|&x| x == d) {
                    Some(k) => k,
                    // An animal that left earlier on a humane endpoint still belongs to the
                    // arm's mean, with its last reading (it left because it was large).
                    None if n > 0
                        && buf.day[row + n - 1] < d
                        && buf.slots[s].end != EndReason::Completed =>
                    {
                        n - 1
                    }
                    None => continue,
                };
                let v = buf.vol[row + k];
                vals.push(if buf.log_volumes { v.exp() } else { v });
            }
            if !vals.is_empty() && statistic(vals, sp.median) >= sp.volume {
                stop = Some(d);
                break;
            }
        }
        let Some(stop) = stop else { return };
        if stop >= f64::from(self.plan.horizon) {
            return;
        }
        buf.cohorts[c].stop_day = Some(stop as u32);
        let arms = self.plan.cohorts[c].arms.len();
        for a in 0..arms {
            for s in slots(buf, a) {
                self.truncate_at(buf, s, stop);
            }
        }
    }

    /// Drops slot `s`'s readings after study day `stop` (the study ended then).
    fn truncate_at(&self, buf: &mut StudyBuffer, s: usize, stop: f64) {
        let slot = buf.slots[s];
        let row = s * buf.stride;
        let n = slot.n_visits as usize;
        let keep = buf.day[row..row + n]
            .iter()
            .take_while(|&&d| d <= stop)
            .count();
        let mut slot = slot;
        if keep < n {
            slot.n_visits = keep as u16;
            slot.last_day = if keep > 0 {
                buf.day[row + keep - 1]
            } else {
                0.0
            };
            slot.end = EndReason::Completed;
            self.clear_tail(buf, s, keep);
        }
        if slot.event_day > stop {
            slot.event_day = f64::NAN;
        }
        let kept = slot.holiday_days[..slot.holidays as usize]
            .iter()
            .take_while(|&&d| f64::from(d) <= stop)
            .count();
        slot.holidays = kept as u8;
        if slot.dosing_stopped.is_some_and(|d| f64::from(d) > stop) {
            slot.dosing_stopped = None;
        }
        buf.slots[s] = slot;
    }
}

/// Mean or median of `v` (reordered for the median).
fn statistic(v: &mut [f64], median: bool) -> f64 {
    if !median {
        return v.iter().sum::<f64>() / v.len() as f64;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        0.5 * (v[m - 1] + v[m])
    }
}
