//! The replicate engine: rayon over blocks of replicates on a local thread pool, integer
//! rejection counts per (n, endpoint, comparison), reduced in block order.
//!
//! Determinism: a replicate's random numbers depend only on (seed, n or the CRN tag,
//! replicate) — never on the thread that runs it — and all tallies are integers, so the
//! result is identical for any thread count. Memory is bounded: one scratch buffer per block
//! in flight and one small tally per block; no study is kept.

use rayon::prelude::*;

/// Rejection counts of a set of replicates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Number of n values.
    pub n_count: usize,
    /// Number of decision units ([`super::units::Unit`]).
    pub unit_count: usize,
    /// Replicates counted per n value.
    pub reps: Vec<u64>,
    /// Replicates whose simulation or analysis failed (counted as not significant), per n.
    pub failures: Vec<u64>,
    /// Rejections, index `[n][unit]` flattened.
    pub rejections: Vec<u64>,
    /// Replicates where the unit's test could not be computed (NaN p: not a rejection, and
    /// reported as such), `[n][unit]`.
    pub not_computable: Vec<u64>,
    /// Replicates where every sizing unit was rejected, per n.
    pub joint: Vec<u64>,
    /// Animals implanted in the simulated pools (for the enrollment yield), per cohort.
    pub implanted: Vec<u64>,
    /// Implanted animals whose tumor took, per cohort.
    pub took: Vec<u64>,
    /// Animals that took and reached the enrollment window in time, per cohort.
    pub eligible: Vec<u64>,
    /// Studies ending on each study day under a `[study-stop]` rule, `[n][cohort][day]`
    /// flattened, days 0..=`stop_len` − 1 (the last = the fixed end); empty without a rule.
    pub stop_days: Vec<u64>,
    /// Days per (n, cohort) in `stop_days`.
    pub stop_len: usize,
}

impl Tally {
    /// An empty tally with the given layout.
    pub fn new(n_count: usize, unit_count: usize, cohorts: usize) -> Self {
        Tally {
            n_count,
            unit_count,
            reps: vec![0; n_count],
            failures: vec![0; n_count],
            rejections: vec![0; n_count * unit_count],
            not_computable: vec![0; n_count * unit_count],
            joint: vec![0; n_count],
            implanted: vec![0; cohorts],
            took: vec![0; cohorts],
            eligible: vec![0; cohorts],
            stop_days: Vec::new(),
            stop_len: 0,
        }
    }

    /// This tally with a stop-day histogram of `len` days per (n, cohort).
    pub fn with_stop_days(mut self, len: usize) -> Self {
        self.stop_days = vec![0; self.n_count * self.implanted.len() * len];
        self.stop_len = len;
        self
    }

    /// Counts one study of cohort `c` at n index `n` ending on study day `day`.
    #[inline]
    pub fn record_stop(&mut self, n: usize, c: usize, day: usize) {
        let cohorts = self.implanted.len();
        if let Some(v) = self
            .stop_days
            .get_mut((n * cohorts + c) * self.stop_len + day.min(self.stop_len.saturating_sub(1)))
        {
            *v += 1;
        }
    }

    /// Flat index of `[n][unit]`.
    #[inline]
    pub fn idx(&self, n: usize, unit: usize) -> usize {
        n * self.unit_count + unit
    }

    /// Records the decisions of one replicate at one n: `rejected[u]`, the p-values (NaN =
    /// not computable) and which units size the study (for the joint count).
    #[inline]
    pub fn record(&mut self, n: usize, rejected: &[bool], p: &[f64], sizing: &[bool]) {
        let mut all = sizing.iter().any(|&s| s);
        for (u, &r) in rejected.iter().enumerate() {
            let i = self.idx(n, u);
            if r {
                self.rejections[i] += 1;
            } else if sizing[u] {
                all = false;
            }
            if p[u].is_nan() {
                self.not_computable[i] += 1;
            }
        }
        if all {
            self.joint[n] += 1;
        }
    }

    /// Adds `other` (same layout) into `self`.
    pub fn add(&mut self, other: &Tally) {
        let add = |a: &mut Vec<u64>, b: &Vec<u64>| a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        add(&mut self.reps, &other.reps);
        add(&mut self.failures, &other.failures);
        add(&mut self.rejections, &other.rejections);
        add(&mut self.not_computable, &other.not_computable);
        add(&mut self.joint, &other.joint);
        add(&mut self.implanted, &other.implanted);
        add(&mut self.took, &other.took);
        add(&mut self.eligible, &other.eligible);
        add(&mut self.stop_days, &other.stop_days);
    }
}

/// A model that simulates and tests one replicate.
pub trait ReplicateModel: Sync {
    /// Per-worker buffers, reused across replicates (no allocation per replicate).
    type Scratch: Send;
    /// Fresh buffers.
    fn scratch(&self) -> Self::Scratch;
    /// An empty tally with this model's layout.
    fn empty_tally(&self) -> Tally;
    /// Simulates replicate `rep` (at every n of the grid) and records its decisions.
    fn replicate(&self, rep: u64, scratch: &mut Self::Scratch, tally: &mut Tally);
}

/// Largest block of replicates: the unit of parallel work and of progress reporting.
pub const BLOCK: u64 = 256;

/// Replicates per block for a run of `reps`: about 16 blocks (so that two threads share
/// even small runs and progress moves), at least 8 and at most [`BLOCK`] replicates. It
/// depends on `reps` only, never on the thread count; tallies are integer sums, so the
/// result is the same for any block size anyway.
pub fn block_size(reps: u64) -> u64 {
    (reps / 16).clamp(8, BLOCK)
}

/// Runs `reps` replicates of `model` on `threads` worker threads; `progress` is called with
/// the number of replicates just finished (from worker threads).
pub fn run<M: ReplicateModel>(
    model: &M,
    reps: u64,
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Tally, rayon::ThreadPoolBuildError> {
    run_range(model, 0..reps, threads, progress)
}

/// Runs replicates `reps.start..reps.end` (their streams depend on the replicate number only,
/// so two consecutive ranges add up to exactly the tally of their union).
pub fn run_range<M: ReplicateModel>(
    model: &M,
    reps: std::ops::Range<u64>,
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Tally, rayon::ThreadPoolBuildError> {
    let block = block_size(reps.end - reps.start);
    let blocks = (reps.end - reps.start).div_ceil(block);
    let work = || {
        let partial: Vec<Tally> = (0..blocks)
            .into_par_iter()
            .map(|b| {
                let mut scratch = model.scratch();
                let mut tally = model.empty_tally();
                let start = reps.start + b * block;
                let end = (start + block).min(reps.end);
                for rep in start..end {
                    model.replicate(rep, &mut scratch, &mut tally);
                }
                progress(end - start);
                tally
            })
            .collect();
        // Fixed-order reduction (integers: exact whatever the order, but keep it explicit).
        let mut total = model.empty_tally();
        for t in &partial {
            total.add(t);
        }
        total
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    Ok(pool.install(work))
}

/// `power --precision`: replicates are added until every reported power's Wilson 95 %
/// interval has at most this half-width, or the cap is reached.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Precision {
    /// Target half-width of every reported power's Wilson 95 % interval (e.g. 0.01).
    pub half_width: f64,
    /// Largest number of replicates per n.
    pub max_reps: u64,
}

impl Precision {
    /// Checks the target against the first round of `reps` replicates.
    pub fn validate(&self, reps: u64) -> Result<(), String> {
        if !(self.half_width > 0.0 && self.half_width < 0.5) {
            return Err(format!(
                "--precision must be a Wilson half-width in (0, 0.5), e.g. 0.01; got {}",
                self.half_width
            ));
        }
        if self.max_reps < reps {
            return Err(format!(
                "--max-reps ({}) is below --reps ({}): the first round is --reps replicates",
                self.max_reps, reps
            ));
        }
        Ok(())
    }
}

/// How a precision-targeted run ended (written to `manifest.json`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PrecisionOutcome {
    /// The target half-width.
    pub half_width_target: f64,
    /// The replicate cap.
    pub max_reps: u64,
    /// Replicates run per n.
    pub reps: u64,
    /// Rounds of replicates (the first is `--reps`).
    pub rounds: u32,
    /// Widest Wilson 95 % half-width among the reported powers at the end.
    pub widest_half_width: f64,
    /// Whether every half-width reached the target.
    pub reached: bool,
    /// The stopping rule in words.
    pub rule: String,
}

/// Widest Wilson 95 % half-width over every (n, unit) power and, with `joint`, every joint
/// power of `t`, and the replicates per n that the widest cell's estimate needs for the
/// target `h` (normal approximation n = z²·p(1 − p)/h², p from the Wilson centre).
fn widest(t: &Tally, joint: bool, h: f64) -> (f64, u64) {
    let z = crate::numeric::dist::Z_975;
    let mut worst = (0.0f64, 0u64);
    let mut cell = |k: u64, n: u64| {
        if n == 0 {
            return;
        }
        let (lo, hi) = super::wilson::wilson95(k, n);
        let w = 0.5 * (hi - lo);
        if w > worst.0 {
            let p = 0.5 * (lo + hi);
            worst = (w, (z * z * p * (1.0 - p) / (h * h)).ceil() as u64);
        }
    };
    for ni in 0..t.n_count {
        for u in 0..t.unit_count {
            cell(t.rejections[t.idx(ni, u)], t.reps[ni]);
        }
        if joint {
            cell(t.joint[ni], t.reps[ni]);
        }
    }
    worst
}

/// Runs `first` replicates, then adds rounds until the widest reported half-width is at most
/// `target.half_width` or `target.max_reps` replicates have run. Each round runs up to the
/// estimated need (+10 %, rounded up to a multiple of [`BLOCK`], at least one block more and at
/// most four times the replicates so far). The rule reads only the integer tallies, so the
/// replicates run — and every number — are the same for any thread count.
pub fn run_to_precision<M: ReplicateModel>(
    model: &M,
    first: u64,
    target: Precision,
    joint: bool,
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(Tally, PrecisionOutcome), rayon::ThreadPoolBuildError> {
    let mut done = first.min(target.max_reps);
    let mut tally = run_range(model, 0..done, threads, progress)?;
    let mut rounds = 1;
    loop {
        let (w, need) = widest(&tally, joint, target.half_width);
        if w <= target.half_width || done >= target.max_reps {
            let outcome = PrecisionOutcome {
                half_width_target: target.half_width,
                max_reps: target.max_reps,
                reps: done,
                rounds,
                widest_half_width: w,
                reached: w <= target.half_width,
                rule: format!(
                    "replicates added in rounds (to the estimated need + 10%, multiples of {BLOCK}, at most 4x per round) until every reported power's Wilson 95% half-width is <= {} or {} replicates per n",
                    target.half_width, target.max_reps
                ),
            };
            return Ok((tally, outcome));
        }
        let want = ((need as f64 * 1.1).ceil() as u64).div_ceil(BLOCK) * BLOCK;
        let next = want
            .max(done + BLOCK)
            .min(done.saturating_mul(4))
            .min(target.max_reps);
        tally.add(&run_range(model, done..next, threads, progress)?);
        done = next;
        rounds += 1;
    }
}
