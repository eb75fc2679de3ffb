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
    let block = block_size(reps);
    let blocks = reps.div_ceil(block);
    let work = || {
        let partial: Vec<Tally> = (0..blocks)
            .into_par_iter()
            .map(|b| {
                let mut scratch = model.scratch();
                let mut tally = model.empty_tally();
                let start = b * block;
                let end = (start + block).min(reps);
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
