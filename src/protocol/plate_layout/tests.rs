//! Unit tests of `src/invitro/layout.rs`.

use super::*;
use crate::invitro::testutil;
use crate::protocol::{PlateLayout, Readout};
use proptest::prelude::*;
use std::collections::HashSet;

fn design(plate_wells: u32, doses: usize, reps: u32, layout: PlateLayout) -> AssayDesign {
    let mut d = testutil::design(Readout::Mtt);
    d.plate_wells = plate_wells;
    d.doses_nm = (0..doses).map(|i| i as f64).collect();
    d.replicates = reps;
    d.layout = layout;
    d
}

const INNER: PlateLayout = PlateLayout {
    edges: EdgeWells::Pbs,
    blank_wells: 0,
    arrangement: Arrangement::Packed,
};

#[test]
fn well_names_and_geometry() {
    assert_eq!(plate_geometry(96), (8, 12));
    assert_eq!(plate_geometry(384), (16, 24));
    assert_eq!(plate_geometry(6), (2, 3));
    assert_eq!(well_name(0, 0), "A01");
    assert_eq!(well_name(1, 6), "B07");
    assert_eq!(well_name(27, 23), "AB24");
}

#[test]
fn camizestrant_layout_uses_the_inner_60_wells_one_line_per_plate() {
    // 2 lines x 11 doses x 3 replicates = 33 wells per line; packed continues the second
    // line at a replicate boundary: 33 + two series of 11 = 55 wells on plate 1.
    let d = design(96, 11, 3, INNER);
    let m = plan(&d, 2).unwrap();
    assert_eq!(m.plates, 2);
    let first_plate_line1 = m
        .samples
        .iter()
        .filter(|p| p.line == 1 && p.slot.plate == 1)
        .count();
    assert_eq!(
        first_plate_line1, 22,
        "two whole replicate series of line 2 on plate 1"
    );
    assert_eq!(m.pbs_wells, 2 * 36);
    assert_eq!(
        well_name(m.samples[0].slot.row, m.samples[0].slot.col),
        "B02"
    );
    let per_plate = PlateLayout {
        arrangement: Arrangement::LinePerPlate,
        blank_wells: 3,
        ..INNER
    };
    let m = plan(&design(96, 11, 3, per_plate), 2).unwrap();
    assert_eq!(m.plates, 2);
    assert!(m.samples.iter().all(|p| p.slot.plate == p.line as u32 + 1));
    assert_eq!(m.blanks.len(), 6);
    // Blanks are the last inner wells: G09, G10, G11.
    let b: Vec<String> = m.blanks[..3]
        .iter()
        .map(|s| well_name(s.row, s.col))
        .collect();
    assert_eq!(b, ["G09", "G10", "G11"]);
}

#[test]
fn impossible_line_per_plate_is_an_error_not_a_split() {
    let lay = PlateLayout {
        arrangement: Arrangement::LinePerPlate,
        ..INNER
    };
    // 11 doses x 6 replicates = 66 > 60 inner wells.
    let e = plan(&design(96, 11, 6, lay), 1).unwrap_err();
    assert_eq!(
        e,
        LayoutError::LineTooLarge {
            wells: 66,
            doses: 11,
            replicates: 6,
            capacity: 60
        }
    );
    assert!(e.to_string().contains("at most 5 replicate(s)"), "{e}");
    // Packed splits it at a replicate boundary instead: 5 series on plate 1, 1 on plate 2.
    let m = plan(&design(96, 11, 6, INNER), 1).unwrap();
    assert_eq!(m.plates, 2);
    assert_eq!(m.samples.iter().filter(|p| p.slot.plate == 2).count(), 11);
    assert!(matches!(
        plan(&design(6, 2, 1, INNER), 1),
        Err(LayoutError::NoInnerWells { .. })
    ));
    let blanks = PlateLayout {
        blank_wells: 60,
        ..INNER
    };
    assert!(matches!(
        plan(&design(96, 2, 1, blanks), 1),
        Err(LayoutError::BlanksFillPlate { .. })
    ));
    assert!(matches!(
        plan(&design(96, 61, 1, INNER), 1),
        Err(LayoutError::SeriesTooLong { .. })
    ));
}

proptest! {
    /// No sample or blank of a layout that excludes edges lies on the outer ring; no well is
    /// used twice; every line × dose × replicate is placed once; every plate holding a line
    /// holds all its doses (its own vehicle).
    #[test]
    fn layouts_respect_edges_and_place_every_well_once(
        big in any::<bool>(),
        doses in 1usize..14,
        reps in 1u32..9,
        lines in 1usize..5,
        blanks in 0u32..6,
        edges in any::<bool>(),
        per_plate in any::<bool>(),
    ) {
        let layout = PlateLayout {
            edges: if edges { EdgeWells::Pbs } else { EdgeWells::Samples },
            blank_wells: blanks,
            arrangement: if per_plate { Arrangement::LinePerPlate } else { Arrangement::Packed },
        };
        let plate_wells = if big { 384 } else { 96 };
        let d = design(plate_wells, doses, reps, layout);
        let m = match plan(&d, lines) {
            Ok(m) => m,
            Err(e) => {
                // Only line-per-plate can be impossible with these sizes.
                prop_assert!(matches!(e, LayoutError::LineTooLarge { .. }), "{}", e);
                return Ok(());
            }
        };
        let (rows, cols) = (m.rows, m.cols);
        let all: Vec<Slot> = m.samples.iter().map(|p| p.slot).chain(m.blanks.iter().copied()).collect();
        if edges {
            for s in &all {
                prop_assert!(!is_edge(rows, cols, s.row, s.col), "{:?}", s);
            }
        }
        let unique: HashSet<(u32, u32, u32)> = all.iter().map(|s| (s.plate, s.row, s.col)).collect();
        prop_assert_eq!(unique.len(), all.len());
        prop_assert_eq!(m.samples.len(), lines * doses * reps as usize);
        let triples: HashSet<(usize, usize, u32)> = m.samples.iter().map(|p| (p.line, p.dose, p.replicate)).collect();
        prop_assert_eq!(triples.len(), m.samples.len());
        prop_assert_eq!(m.blanks.len() as u32, m.plates * blanks);
        for p in &m.samples {
            let on_plate = m.samples.iter().filter(|q| q.line == p.line && q.slot.plate == p.slot.plate && q.dose == 0).count();
            prop_assert!(on_plate > 0, "line {} on plate {} has no first-dose well", p.line, p.slot.plate);
            if per_plate {
                prop_assert!(m.samples.iter().filter(|q| q.line == p.line).all(|q| q.slot.plate == p.slot.plate));
            }
        }
    }
}
