//! Plate simulator for dose-response assays and the per-line 4PL fits.
//!
//! Wells are placed by the design's plate layout ([`crate::protocol::plate_layout`]: plate size, edges left
//! as PBS, blanks, lines per plate). Each well is seeded with a
//! Poisson number of cells (the counting floor of pipetting a suspension), grows for the
//! assay duration according to the line's model, and is read out with multiplicative
//! log-normal noise of the protocol's CV:
//!
//! - **MTT / crystal violet**: absorbance = blank + k·cells·e^ε + N(0, 0.003²), blank-
//!   corrected with the nominal blank (the mean of medium-only wells). k and the blank are
//!   assumed (order of magnitude of published standard curves); since the fit runs on % of
//!   vehicle they do not change the IC50. Blank wells (medium only) read blank + N(0, 0.003²);
//!   a plate with blanks is corrected with their mean, otherwise with the nominal blank.
//! - **Sytox Green**: whole-well live count Poisson(cells·e^ε), dead count
//!   Poisson(0.05·cells + dead cells), 0.05 assumed (≈ 95% viability of untreated cultures).
//!
//! Edge wells (outer rows and columns) lose a fraction `edge_effect` of their cells
//! (evaporation). Responses are expressed as % of the mean vehicle (dose 0) signal of the same
//! line (or of the lowest dose when the design has no vehicle) and fitted on log10 dose with
//! [`fit_4pl_relative`](super::fit::fit_4pl_relative): the noise of all three readouts is
//! roughly proportional to the signal, so an unweighted fit would give miscalibrated CIs
//! (71% coverage of the nominal 95% for the MCF7-like line of the unit test, 93–95% weighted); 1/ŷ² weighting restores them.

use super::derivation::{GrowthModel, poisson};
use super::fit::{Fit4pl, FitError, fit_4pl_relative};
use crate::protocol::plate_layout::{self as layout, LayoutError, Slot};
use crate::protocol::{AssayDesign, AssayLine, Readout, Variability};
use rand::Rng;
use rand_distr::{Distribution, Normal};

/// Blank absorbance of MTT wells (assumed; typical medium + reagent background).
const MTT_BLANK: f64 = 0.06;
/// MTT absorbance per cell (assumed; ~0.75 OD for 50,000 cells, linear range).
const MTT_PER_CELL: f64 = 1.5e-5;
/// Blank absorbance of crystal-violet wells (assumed).
const CV_BLANK: f64 = 0.05;
/// Crystal-violet absorbance per cell (assumed).
const CV_PER_CELL: f64 = 1.0e-5;
/// SD of the additive plate-reader noise, OD (assumed).
const READER_SD: f64 = 0.003;
/// Background dead fraction in Sytox counts (assumed; ≈ 95% viability untreated).
const DEAD_BACKGROUND: f64 = 0.05;

/// How a line's cell number depends on dose.
#[derive(Debug, Clone, PartialEq)]
pub enum LineModel {
    /// Endpoint model of an assay protocol: cells at the end
    /// `n0·(1 + (2^(t/Td) − 1)·(1 − Imax·C^h/(C^h + IC50^h)))`, so the readout is a 4PL in
    /// dose whose midpoint is the line's IC50 (a relative IC50).
    Endpoint {
        /// IC50, nM.
        ic50: f64,
        /// Hill coefficient.
        hill: f64,
        /// Doubling time in assay medium, h.
        doubling_h: f64,
        /// Fraction of growth removed at saturating dose (0–1).
        max_inhibition: f64,
    },
    /// Mechanistic model of a derivation: a mixture of subpopulations (fraction, IC50 nM),
    /// each growing at the derivation model's net rate for the dose.
    Mechanistic {
        /// Growth model of the derivation.
        growth: GrowthModel,
        /// (fraction of seeded cells, IC50 nM).
        subpops: Vec<(f64, f64)>,
    },
}

impl LineModel {
    /// Expected (live, dead) cells after `t_days` from `n0` seeded cells at dose `c` nM.
    pub fn cells(&self, c: f64, n0: f64, t_days: f64) -> (f64, f64) {
        match self {
            LineModel::Endpoint {
                ic50,
                hill,
                doubling_h,
                max_inhibition,
            } => {
                let h = if c <= 0.0 {
                    0.0
                } else {
                    1.0 / (1.0 + (ic50 / c).powf(*hill))
                };
                let fold = 2f64.powf(24.0 * t_days / doubling_h);
                (n0 * (1.0 + (fold - 1.0) * (1.0 - max_inhibition * h)), 0.0)
            }
            LineModel::Mechanistic { growth, subpops } => {
                let mut live = 0.0;
                let mut dead = 0.0;
                for &(frac, ic50) in subpops {
                    let r = growth.rates(c, ic50);
                    let g = r.net();
                    let n = n0 * frac;
                    live += n * (g * t_days).exp();
                    dead += if g.abs() < 1e-12 {
                        n * r.death * t_days
                    } else {
                        n * r.death * ((g * t_days).exp() - 1.0) / g
                    };
                }
                (live, dead)
            }
        }
    }
}

/// What changes in a line from one independent experiment to the next (another thaw or
/// passage, serum batch, day): the experiment's IC50 and maximal inhibition around the line's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExperimentVariability {
    /// SD of the experiment's log10 IC50 shift (normal): IC50 × 10^(sd·z).
    pub log10_ic50_sd: f64,
    /// Variability of the maximal inhibition (log-normal `cv` around the value as median, or
    /// normal `sd`), clamped to 0–1.
    pub max_inhibition: Variability,
}

impl ExperimentVariability {
    /// No between-experiment variability (every experiment runs the line's own values).
    pub const NONE: ExperimentVariability = ExperimentVariability {
        log10_ic50_sd: 0.0,
        max_inhibition: Variability::None,
    };
}

/// A line on the plate.
#[derive(Debug, Clone, PartialEq)]
pub struct LineSpec {
    /// Name in outputs.
    pub name: String,
    /// Dose-response model.
    pub model: LineModel,
    /// Between-experiment variability, drawn by [`LineSpec::in_experiment`] when several
    /// independent experiments are simulated (a single plate run uses the model as is).
    pub between: ExperimentVariability,
}

impl LineSpec {
    /// The line of an assay protocol.
    pub fn from_assay_line(l: &AssayLine) -> Self {
        LineSpec {
            name: l.name.clone(),
            model: LineModel::Endpoint {
                ic50: l.ic50_nm.value,
                hill: l.hill.value,
                doubling_h: l.doubling_h.value,
                max_inhibition: l.max_inhibition.value.clamp(0.0, 1.0),
            },
            between: ExperimentVariability {
                log10_ic50_sd: l.between_experiment_log10_ic50_sd.value,
                max_inhibition: l.max_inhibition.variability,
            },
        }
    }

    /// The line as run in one independent experiment: two standard normal draws from `rng`
    /// (always both, so the stream does not depend on which variabilities are zero) shift
    /// its IC50 by 10^(sd·z₁) and its maximal inhibition by its variability (z₂), clamped to
    /// 0–1. A mechanistic (derivation) line has no between-experiment model and is returned
    /// unchanged after the same two draws.
    pub fn in_experiment<R: Rng + ?Sized>(&self, rng: &mut R) -> LineSpec {
        let z1: f64 = rand_distr::StandardNormal.sample(rng);
        let z2: f64 = rand_distr::StandardNormal.sample(rng);
        let mut out = self.clone();
        if let LineModel::Endpoint {
            ic50,
            max_inhibition,
            ..
        } = &mut out.model
        {
            *ic50 *= 10f64.powf(self.between.log10_ic50_sd * z1);
            let m = match self.between.max_inhibition {
                Variability::None => *max_inhibition,
                Variability::LogNormal { cv } => {
                    *max_inhibition * ((1.0 + cv * cv).ln().sqrt() * z2).exp()
                }
                Variability::Normal { sd } => *max_inhibition + sd * z2,
            };
            *max_inhibition = m.clamp(0.0, 1.0);
        }
        out
    }
}

/// One of several independent experiments: each line's experiment values are drawn first
/// ([`LineSpec::in_experiment`], in line order), then the plates are simulated with them by
/// [`simulate_plate`]. `rng` is that experiment's own stream, so experiment e of a series is
/// the same whatever else runs. Returns the wells and the lines as run.
pub fn simulate_experiment<R: Rng + ?Sized>(
    design: &AssayDesign,
    lines: &[LineSpec],
    rng: &mut R,
) -> Result<(Vec<Well>, Vec<LineSpec>), LayoutError> {
    let run: Vec<LineSpec> = lines.iter().map(|l| l.in_experiment(rng)).collect();
    let wells = simulate_plate(design, &run, rng)?;
    Ok((wells, run))
}

/// What a well holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WellRole {
    /// Cells of a line at a dose.
    Sample,
    /// Medium only (blank correction).
    Blank,
}

impl WellRole {
    /// Name in `assay.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            WellRole::Sample => "sample",
            WellRole::Blank => "blank",
        }
    }
}

/// One simulated well.
#[derive(Debug, Clone, PartialEq)]
pub struct Well {
    /// Sample or blank.
    pub role: WellRole,
    /// Line name (empty for a blank).
    pub line: String,
    /// Plate number (1-based).
    pub plate: u32,
    /// Well name, e.g. "B07".
    pub well: String,
    /// Dose, nM (0 for a blank).
    pub dose_nm: f64,
    /// Replicate (1-based; 0 for a blank).
    pub replicate: u32,
    /// Outer-row/column well.
    pub edge: bool,
    /// Cells seeded.
    pub seeded: u64,
    /// Expected live cells at read-out (before readout noise).
    pub cells: f64,
    /// Raw signal (absorbance, or live count for Sytox Green).
    pub signal: f64,
    /// Dead count (Sytox Green only).
    pub dead_count: Option<u64>,
    /// Response, % of the same plate's vehicle (NaN for a blank).
    pub response_pct: f64,
}

fn lognormal_factor<R: Rng + ?Sized>(rng: &mut R, cv: f64) -> f64 {
    if cv <= 0.0 {
        return 1.0;
    }
    let s2 = (1.0 + cv * cv).ln();
    Normal::new(-s2 / 2.0, s2.sqrt())
        .map(|n| n.sample(rng).exp())
        .unwrap_or(1.0)
}

/// Nominal blank and absorbance per cell of an absorbance readout (`None` for counts).
fn absorbance(readout: Readout) -> Option<(f64, f64)> {
    match readout {
        Readout::Mtt => Some((MTT_BLANK, MTT_PER_CELL)),
        Readout::CrystalViolet => Some((CV_BLANK, CV_PER_CELL)),
        Readout::SytoxGreen => None,
    }
}

/// Raw read-out of a well holding `live` and `dead` expected cells.
fn read_well<R: Rng + ?Sized>(
    readout: Readout,
    live: f64,
    dead: f64,
    cv: f64,
    rng: &mut R,
) -> (f64, Option<u64>) {
    let noise = lognormal_factor(rng, cv);
    match absorbance(readout) {
        Some((blank, k)) => {
            let e = Normal::new(0.0, READER_SD)
                .map(|n| n.sample(rng))
                .unwrap_or(0.0);
            (blank + k * live * noise + e, None)
        }
        None => {
            let l = poisson(rng, live * noise) as f64;
            let dc = poisson(rng, DEAD_BACKGROUND * live + dead);
            (l, Some(dc))
        }
    }
}

/// Simulates all wells of the design for `lines`, placed by the design's plate layout
/// ([`layout::plan`]): samples first (line, plate, dose, replicate order), then blanks.
pub fn simulate_plate<R: Rng + ?Sized>(
    design: &AssayDesign,
    lines: &[LineSpec],
    rng: &mut R,
) -> Result<Vec<Well>, LayoutError> {
    let map = layout::plan(design, lines.len())?;
    let cv = design.noise_cv.value.max(0.0);
    let keep = 1.0 - design.edge_effect.clamp(0.0, 1.0);
    let mut wells = Vec::with_capacity(map.samples.len() + map.blanks.len());
    for p in &map.samples {
        let line = &lines[p.line];
        let dose = design.doses_nm[p.dose];
        let Slot { plate, row, col } = p.slot;
        let edge = layout::is_edge(map.rows, map.cols, row, col);
        let seeded = poisson(rng, design.seeding_cells);
        let (mut live, mut dead) = line.model.cells(dose, seeded as f64, design.duration_days);
        if edge {
            live *= keep;
            dead *= keep;
        }
        let (signal, dead_count) = read_well(design.readout, live, dead, cv, rng);
        wells.push(Well {
            role: WellRole::Sample,
            line: line.name.clone(),
            plate,
            well: layout::well_name(row, col),
            dose_nm: dose,
            replicate: p.replicate,
            edge,
            seeded,
            cells: live,
            signal,
            dead_count,
            response_pct: f64::NAN,
        });
    }
    for s in &map.blanks {
        let (signal, dead_count) = read_well(design.readout, 0.0, 0.0, cv, rng);
        wells.push(Well {
            role: WellRole::Blank,
            line: String::new(),
            plate: s.plate,
            well: layout::well_name(s.row, s.col),
            dose_nm: 0.0,
            replicate: 0,
            edge: layout::is_edge(map.rows, map.cols, s.row, s.col),
            seeded: 0,
            cells: 0.0,
            signal,
            dead_count,
            response_pct: f64::NAN,
        });
    }
    normalize(&mut wells, design.readout);
    Ok(wells)
}

/// Sets `response_pct` = blank-corrected signal as % of the mean vehicle (dose 0, or the
/// line's lowest dose when the design has no vehicle) of the same line on the same plate.
/// The blank is the mean of the plate's blank wells, or the readout's nominal blank on a
/// plate without blanks.
fn normalize(wells: &mut [Well], readout: Readout) {
    let nominal = absorbance(readout).map_or(0.0, |(b, _)| b);
    let plates = wells.iter().map(|w| w.plate).max().unwrap_or(0);
    for plate in 1..=plates {
        let on: Vec<usize> = (0..wells.len())
            .filter(|&i| wells[i].plate == plate)
            .collect();
        let blanks: Vec<f64> = on
            .iter()
            .filter(|&&i| wells[i].role == WellRole::Blank)
            .map(|&i| wells[i].signal)
            .collect();
        let blank = if blanks.is_empty() || absorbance(readout).is_none() {
            nominal
        } else {
            blanks.iter().sum::<f64>() / blanks.len() as f64
        };
        let mut names: Vec<&str> = Vec::new();
        for &i in &on {
            if wells[i].role == WellRole::Sample && !names.contains(&wells[i].line.as_str()) {
                names.push(&wells[i].line);
            }
        }
        let names: Vec<String> = names.into_iter().map(String::from).collect();
        for name in &names {
            let mine: Vec<usize> = on
                .iter()
                .copied()
                .filter(|&i| wells[i].role == WellRole::Sample && &wells[i].line == name)
                .collect();
            let ref_dose = mine
                .iter()
                .map(|&i| wells[i].dose_nm.max(0.0))
                .fold(f64::INFINITY, f64::min);
            let refs: Vec<f64> = mine
                .iter()
                .filter(|&&i| wells[i].dose_nm.max(0.0) == ref_dose)
                .map(|&i| wells[i].signal - blank)
                .collect();
            let mean = refs.iter().sum::<f64>() / refs.len().max(1) as f64;
            for &i in &mine {
                wells[i].response_pct = if mean > 0.0 {
                    100.0 * (wells[i].signal - blank) / mean
                } else {
                    f64::NAN
                };
            }
        }
    }
}

/// The 4PL fit of one line.
#[derive(Debug, Clone, PartialEq)]
pub struct LineFit {
    /// Line name.
    pub line: String,
    /// The fit, or why it failed.
    pub fit: Result<Fit4pl, FitError>,
}

/// Fits a 4PL to each line's responses.
pub fn fit_lines(wells: &[Well], lines: &[LineSpec]) -> Vec<LineFit> {
    lines
        .iter()
        .map(|l| {
            let (d, y): (Vec<f64>, Vec<f64>) = wells
                .iter()
                .filter(|w| {
                    w.role == WellRole::Sample && w.line == l.name && w.response_pct.is_finite()
                })
                .map(|w| (w.dose_nm, w.response_pct))
                .unzip();
            LineFit {
                line: l.name.clone(),
                fit: fit_4pl_relative(&d, &y),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
