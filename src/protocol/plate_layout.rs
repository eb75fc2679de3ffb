//! Plate layout of a dose-response assay: which plate and well holds each line × dose ×
//! replicate, which wells are blanks and which are left as PBS. The one owner of the rule:
//! the plate simulator places its wells here, the timeline counts plates and medium from
//! here, and the protocol check calls [`plan`] to reject an impossible layout.
//!
//! Rules:
//! - usable wells are every well, or the inner wells when `edge-wells = "pbs"` (the outer
//!   ring is filled with PBS against evaporation: 96 → 60, 384 → 308);
//! - the last `blank-wells` usable wells (row-major) of every plate are medium-only blanks;
//! - a plate never holds part of a dose series: a line continues on the next plate only at a
//!   replicate boundary, so every plate holding a line holds that line's vehicle wells (when
//!   the series has dose 0) and the response is normalized to the same plate's vehicle;
//! - `arrangement = "line-per-plate"` puts each line on its own plate with all its wells; a
//!   line that does not fit is an error (never a silent split).

use super::{Arrangement, AssayDesign, EdgeWells};
use std::fmt;

/// Rows × columns of a standard plate (ANSI/SLAS 1-2004 footprints).
pub fn plate_geometry(wells: u32) -> (u32, u32) {
    match wells {
        6 => (2, 3),
        12 => (3, 4),
        24 => (4, 6),
        48 => (6, 8),
        384 => (16, 24),
        1536 => (32, 48),
        _ => (8, 12),
    }
}

/// True for a well on the outer ring of a `rows` × `cols` plate (0-based position).
pub fn is_edge(rows: u32, cols: u32, r: u32, c: u32) -> bool {
    r == 0 || c == 0 || r + 1 == rows || c + 1 == cols
}

/// Well name, e.g. row 1, column 6 → "B07" (rows A…Z, AA…).
pub fn well_name(r: u32, c: u32) -> String {
    let mut s = String::new();
    let mut r = r;
    loop {
        s.insert(0, (b'A' + (r % 26) as u8) as char);
        if r < 26 {
            break;
        }
        r = r / 26 - 1;
    }
    format!("{s}{:02}", c + 1)
}

/// A well position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// Plate number (1-based).
    pub plate: u32,
    /// Row (0-based; 0 = A).
    pub row: u32,
    /// Column (0-based; 0 = 1).
    pub col: u32,
}

/// A sample well: line, dose and replicate at a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    /// Position.
    pub slot: Slot,
    /// Index of the line.
    pub line: usize,
    /// Index of the dose in the design's series.
    pub dose: usize,
    /// Replicate (1-based).
    pub replicate: u32,
}

/// Every assigned well of an assay.
#[derive(Debug, Clone, PartialEq)]
pub struct PlateMap {
    /// Rows and columns of a plate.
    pub rows: u32,
    /// Columns of a plate.
    pub cols: u32,
    /// Plates used.
    pub plates: u32,
    /// Sample wells, in line, then plate, then dose, then replicate order.
    pub samples: Vec<Placed>,
    /// Blank (medium-only) wells.
    pub blanks: Vec<Slot>,
    /// PBS-filled edge wells on all plates.
    pub pbs_wells: u32,
}

/// Why a layout cannot hold the design.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayoutError {
    /// Excluding edges leaves no well (6-, 12-well plates).
    NoInnerWells {
        /// Plate size.
        plate_wells: u32,
    },
    /// The blanks take every usable well.
    BlanksFillPlate {
        /// Blank wells asked.
        blanks: u32,
        /// Usable wells per plate.
        usable: u32,
    },
    /// One dose series (all doses of one replicate) is larger than a plate's sample wells.
    SeriesTooLong {
        /// Doses.
        doses: u32,
        /// Sample wells per plate.
        capacity: u32,
    },
    /// Line per plate: a line's doses × replicates exceed a plate's sample wells.
    LineTooLarge {
        /// Doses × replicates.
        wells: u32,
        /// Doses.
        doses: u32,
        /// Replicates.
        replicates: u32,
        /// Sample wells per plate.
        capacity: u32,
    },
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayoutError::NoInnerWells { plate_wells } => write!(
                f,
                "a {plate_wells}-well plate has no inner wells: edge-wells = \"pbs\" leaves none for samples"
            ),
            LayoutError::BlanksFillPlate { blanks, usable } => write!(
                f,
                "{blanks} blank wells take all {usable} usable wells of a plate; use fewer blanks"
            ),
            LayoutError::SeriesTooLong { doses, capacity } => write!(
                f,
                "one dose series ({doses} doses) does not fit the {capacity} sample wells of a plate; \
                 use fewer doses, a larger plate or fewer blanks"
            ),
            LayoutError::LineTooLarge {
                wells,
                doses,
                replicates,
                capacity,
            } => {
                let max = capacity / doses.max(&1);
                write!(
                    f,
                    "arrangement = \"line-per-plate\": {doses} doses x {replicates} replicates = {wells} wells \
                     do not fit the {capacity} sample wells of a plate; at most {max} replicate(s), \
                     or arrangement = \"packed\", a larger plate or fewer blanks"
                )
            }
        }
    }
}

impl std::error::Error for LayoutError {}

/// Usable positions (row, column) of one plate, row-major.
fn usable_positions(rows: u32, cols: u32, edges: EdgeWells) -> Vec<(u32, u32)> {
    (0..rows)
        .flat_map(|r| (0..cols).map(move |c| (r, c)))
        .filter(|&(r, c)| edges == EdgeWells::Samples || !is_edge(rows, cols, r, c))
        .collect()
}

/// Places every line × dose × replicate of `design` for `n_lines` lines.
pub fn plan(design: &AssayDesign, n_lines: usize) -> Result<PlateMap, LayoutError> {
    let (rows, cols) = plate_geometry(design.plate_wells);
    let lay = design.layout;
    let positions = usable_positions(rows, cols, lay.edges);
    let usable = positions.len() as u32;
    if usable == 0 {
        return Err(LayoutError::NoInnerWells {
            plate_wells: design.plate_wells,
        });
    }
    if lay.blank_wells >= usable {
        return Err(LayoutError::BlanksFillPlate {
            blanks: lay.blank_wells,
            usable,
        });
    }
    let capacity = usable - lay.blank_wells;
    let doses = design.doses_nm.len() as u32;
    let reps = design.replicates;
    if doses > capacity {
        return Err(LayoutError::SeriesTooLong { doses, capacity });
    }
    if lay.arrangement == Arrangement::LinePerPlate && doses * reps > capacity {
        return Err(LayoutError::LineTooLarge {
            wells: doses * reps,
            doses,
            replicates: reps,
            capacity,
        });
    }
    let mut samples = Vec::with_capacity(n_lines * (doses * reps) as usize);
    let mut plate = 0u32; // 0 = no plate started
    let mut used = capacity; // forces a first plate
    for line in 0..n_lines {
        if lay.arrangement == Arrangement::LinePerPlate {
            used = capacity;
        }
        let mut next_rep = 1u32;
        while next_rep <= reps {
            let fit = (capacity - used) / doses.max(1);
            if fit == 0 {
                plate += 1;
                used = 0;
                continue;
            }
            let chunk = fit.min(reps - next_rep + 1);
            for dose in 0..doses {
                for rep in next_rep..next_rep + chunk {
                    let (row, col) = positions[used as usize];
                    used += 1;
                    samples.push(Placed {
                        slot: Slot { plate, row, col },
                        line,
                        dose: dose as usize,
                        replicate: rep,
                    });
                }
            }
            next_rep += chunk;
        }
    }
    let blanks = (1..=plate)
        .flat_map(|p| {
            positions[capacity as usize..]
                .iter()
                .map(move |&(row, col)| Slot { plate: p, row, col })
        })
        .collect();
    let pbs_wells = match lay.edges {
        EdgeWells::Samples => 0,
        EdgeWells::Pbs => plate * (rows * cols - usable),
    };
    Ok(PlateMap {
        rows,
        cols,
        plates: plate,
        samples,
        blanks,
        pbs_wells,
    })
}

#[cfg(test)]
mod tests;
