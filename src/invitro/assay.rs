//! Plate simulator for dose-response assays and the per-line 4PL fits.
//!
//! A plate holds every line × dose × replicate in that order, row by row (96-well: 8 × 12,
//! 384-well: 16 × 24; more wells continue on further plates). Each well is seeded with a
//! Poisson number of cells (the counting floor of pipetting a suspension), grows for the
//! assay duration according to the line's model, and is read out with multiplicative
//! log-normal noise of the protocol's CV:
//!
//! - **MTT / crystal violet**: absorbance = blank + k·cells·e^ε + N(0, 0.003²), blank-
//!   corrected with the nominal blank (the mean of medium-only wells). k and the blank are
//!   assumed (order of magnitude of published standard curves); since the fit runs on % of
//!   vehicle they do not change the IC50.
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
use crate::protocol::{AssayDesign, AssayLine, Readout};
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

/// A line on the plate.
#[derive(Debug, Clone, PartialEq)]
pub struct LineSpec {
    /// Name in outputs.
    pub name: String,
    /// Dose-response model.
    pub model: LineModel,
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
        }
    }
}

/// One simulated well.
#[derive(Debug, Clone, PartialEq)]
pub struct Well {
    /// Line name.
    pub line: String,
    /// Plate number (1-based).
    pub plate: u32,
    /// Well name, e.g. "B07".
    pub well: String,
    /// Dose, nM.
    pub dose_nm: f64,
    /// Replicate (1-based).
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
    /// Response, % of vehicle.
    pub response_pct: f64,
}

/// Plate geometry (rows, columns) for a plate size.
pub fn plate_geometry(wells: u32) -> (u32, u32) {
    match wells {
        384 => (16, 24),
        96 => (8, 12),
        n => (n.div_ceil(12).max(1), 12),
    }
}

fn row_name(r: u32) -> String {
    let mut s = String::new();
    let mut r = r;
    loop {
        s.insert(0, (b'A' + (r % 26) as u8) as char);
        if r < 26 {
            break;
        }
        r = r / 26 - 1;
    }
    s
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

/// Simulates all wells of the design for `lines`.
pub fn simulate_plate<R: Rng + ?Sized>(
    design: &AssayDesign,
    lines: &[LineSpec],
    rng: &mut R,
) -> Vec<Well> {
    let (rows, cols) = plate_geometry(design.plate_wells);
    let per_plate = rows * cols;
    let cv = design.noise_cv.value.max(0.0);
    let mut wells = Vec::new();
    let mut idx = 0u32;
    for line in lines {
        for &dose in &design.doses_nm {
            for rep in 1..=design.replicates {
                let plate = idx / per_plate + 1;
                let pos = idx % per_plate;
                let (r, c) = (pos / cols, pos % cols);
                idx += 1;
                let edge = r == 0 || c == 0 || r + 1 == rows || c + 1 == cols;
                let seeded = poisson(rng, design.seeding_cells);
                let (mut live, mut dead) =
                    line.model.cells(dose, seeded as f64, design.duration_days);
                if edge {
                    live *= 1.0 - design.edge_effect.clamp(0.0, 1.0);
                    dead *= 1.0 - design.edge_effect.clamp(0.0, 1.0);
                }
                let noise = lognormal_factor(rng, cv);
                let (signal, dead_count) = match design.readout {
                    Readout::Mtt | Readout::CrystalViolet => {
                        let (blank, k) = if design.readout == Readout::Mtt {
                            (MTT_BLANK, MTT_PER_CELL)
                        } else {
                            (CV_BLANK, CV_PER_CELL)
                        };
                        let e = Normal::new(0.0, READER_SD)
                            .map(|n| n.sample(rng))
                            .unwrap_or(0.0);
                        (blank + k * live * noise + e, None)
                    }
                    Readout::SytoxGreen => {
                        let l = poisson(rng, live * noise) as f64;
                        let dc = poisson(rng, DEAD_BACKGROUND * live + dead);
                        (l, Some(dc))
                    }
                };
                wells.push(Well {
                    line: line.name.clone(),
                    plate,
                    well: format!("{}{:02}", row_name(r), c + 1),
                    dose_nm: dose,
                    replicate: rep,
                    edge,
                    seeded,
                    cells: live,
                    signal,
                    dead_count,
                    response_pct: f64::NAN,
                });
            }
        }
    }
    normalize(&mut wells, design.readout, lines);
    wells
}

/// Sets `response_pct` = blank-corrected signal as % of the line's vehicle mean.
fn normalize(wells: &mut [Well], readout: Readout, lines: &[LineSpec]) {
    let blank = match readout {
        Readout::Mtt => MTT_BLANK,
        Readout::CrystalViolet => CV_BLANK,
        Readout::SytoxGreen => 0.0,
    };
    for line in lines {
        let mine: Vec<usize> = (0..wells.len())
            .filter(|&i| wells[i].line == line.name)
            .collect();
        let ref_dose = if mine.iter().any(|&i| wells[i].dose_nm <= 0.0) {
            0.0
        } else {
            mine.iter()
                .map(|&i| wells[i].dose_nm)
                .fold(f64::INFINITY, f64::min)
        };
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
                .filter(|w| w.line == l.name && w.response_pct.is_finite())
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
