//! Unit tests of `src/invitro/assay.rs`.

use super::*;
use crate::invitro::testutil;

#[test]
fn endpoint_model_is_a_4pl_with_the_line_ic50_as_midpoint() {
    let m = LineModel::Endpoint {
        ic50: 5.0,
        hill: 1.0,
        doubling_h: 24.0,
        max_inhibition: 0.8,
    };
    let (top, _) = m.cells(0.0, 1000.0, 3.0);
    assert!((top - 8000.0).abs() < 1e-9);
    let (bottom, _) = m.cells(1e12, 1000.0, 3.0);
    assert!((bottom - 1000.0 * (1.0 + 7.0 * 0.2)).abs() < 1e-3);
    let (mid, _) = m.cells(5.0, 1000.0, 3.0);
    assert!((mid - 0.5 * (top + bottom)).abs() < 1e-6);
}

#[test]
fn plate_layout_and_edge_effect() {
    let mut design = testutil::design(Readout::Mtt);
    design.edge_effect = 0.3;
    design.noise_cv.value = 0.0;
    let lines = vec![LineSpec {
        name: "L".into(),
        model: LineModel::Endpoint {
            ic50: 1.0,
            hill: 1.0,
            doubling_h: 30.0,
            max_inhibition: 0.9,
        },
        between: ExperimentVariability::NONE,
    }];
    let wells = simulate_plate(&design, &lines, &mut crate::rng::stream(1, &[])).unwrap();
    assert_eq!(wells.len(), 36);
    assert_eq!(wells[0].well, "A01");
    assert_eq!(wells[13].well, "B02");
    assert!(wells[0].edge && !wells[13].edge);
    // Edge wells hold 30% fewer cells than the model predicts, inner wells exactly it.
    for w in &wells {
        let expected = lines[0]
            .model
            .cells(w.dose_nm, w.seeded as f64, design.duration_days)
            .0;
        let factor = if w.edge { 0.7 } else { 1.0 };
        assert!(
            (w.cells - factor * expected).abs() < 1e-9 * expected,
            "{}",
            w.well
        );
    }
}

#[test]
fn fitted_ic50_recovers_the_line_ic50_within_its_ci() {
    // Sytox counts from a large plate: the endpoint model's IC50 is the 4PL midpoint.
    let mut hits = 0;
    let reps = 100;
    for r in 0..reps {
        let a = testutil::assay();
        let lines: Vec<LineSpec> = a.lines.iter().map(LineSpec::from_assay_line).collect();
        let wells = simulate_plate(&a.design, &lines, &mut crate::rng::stream(2, &[r])).unwrap();
        let fits = fit_lines(&wells, &lines);
        for (lf, truth) in fits.iter().zip([1.0, 5.0]) {
            let f = lf.fit.as_ref().unwrap();
            if f.ic50_ci_low <= truth && truth <= f.ic50_ci_high {
                hits += 1;
            }
        }
    }
    let rate = hits as f64 / (2 * reps) as f64;
    // Nominal 95% ± 4 SE over 200 intervals.
    let se = (0.95f64 * 0.05 / 200.0).sqrt();
    assert!((rate - 0.95).abs() < 4.0 * se, "coverage {rate}");
}

#[test]
fn readouts_produce_their_signals() {
    let lines = vec![LineSpec {
        name: "L".into(),
        model: LineModel::Endpoint {
            ic50: 1.0,
            hill: 1.0,
            doubling_h: 30.0,
            max_inhibition: 0.9,
        },
        between: ExperimentVariability::NONE,
    }];
    for readout in [Readout::Mtt, Readout::CrystalViolet, Readout::SytoxGreen] {
        let wells = simulate_plate(
            &testutil::design(readout),
            &lines,
            &mut crate::rng::stream(1, &[]),
        )
        .unwrap();
        let vehicle: Vec<f64> = wells
            .iter()
            .filter(|w| w.dose_nm == 0.0)
            .map(|w| w.response_pct)
            .collect();
        let mean = vehicle.iter().sum::<f64>() / vehicle.len() as f64;
        assert!((mean - 100.0).abs() < 1e-9);
        assert_eq!(
            wells[0].dead_count.is_some(),
            readout == Readout::SytoxGreen
        );
        assert!(wells.iter().all(|w| w.signal.is_finite()));
    }
}

#[test]
fn inner_wells_with_blanks_keep_samples_off_the_edge_and_blank_correct_per_plate() {
    let mut design = testutil::design(Readout::Mtt);
    design.edge_effect = 0.3;
    design.layout = crate::protocol::PlateLayout {
        edges: crate::protocol::EdgeWells::Pbs,
        blank_wells: 4,
        arrangement: crate::protocol::Arrangement::LinePerPlate,
    };
    let a = testutil::assay();
    let lines: Vec<LineSpec> = a.lines.iter().map(LineSpec::from_assay_line).collect();
    let wells = simulate_plate(&design, &lines, &mut crate::rng::stream(5, &[])).unwrap();
    let samples: Vec<&Well> = wells
        .iter()
        .filter(|w| w.role == WellRole::Sample)
        .collect();
    let blanks: Vec<&Well> = wells.iter().filter(|w| w.role == WellRole::Blank).collect();
    assert_eq!(samples.len(), 2 * 12 * 3);
    assert_eq!(blanks.len(), 2 * 4);
    assert!(
        wells.iter().all(|w| !w.edge),
        "PBS layout puts nothing on the edge"
    );
    // One line per plate, each with its own vehicle wells at ~100%.
    for (i, l) in lines.iter().enumerate() {
        let mine: Vec<&&Well> = samples.iter().filter(|w| w.line == l.name).collect();
        assert!(mine.iter().all(|w| w.plate == i as u32 + 1));
        let veh: Vec<f64> = mine
            .iter()
            .filter(|w| w.dose_nm == 0.0)
            .map(|w| w.response_pct)
            .collect();
        let m = veh.iter().sum::<f64>() / veh.len() as f64;
        assert!((m - 100.0).abs() < 1e-9, "vehicle mean {m}");
    }
    // Blanks read the blank absorbance (reader noise only).
    for b in &blanks {
        assert!(
            (b.signal - MTT_BLANK).abs() < 5.0 * READER_SD,
            "{}",
            b.signal
        );
    }
    assert!(fit_lines(&wells, &lines).iter().all(|f| f.fit.is_ok()));
}

#[test]
fn each_experiment_draws_its_own_ic50_and_max_inhibition() {
    let line = LineSpec {
        name: "L".into(),
        model: LineModel::Endpoint {
            ic50: 10.0,
            hill: 1.0,
            doubling_h: 30.0,
            max_inhibition: 0.9,
        },
        between: ExperimentVariability {
            log10_ic50_sd: 0.25,
            max_inhibition: crate::protocol::Variability::Normal { sd: 0.2 },
        },
    };
    let draws = 4000;
    let (mut logs, mut maxes) = (Vec::new(), Vec::new());
    for e in 0..draws {
        let run = line.in_experiment(&mut crate::rng::stream(5, &[e]));
        let LineModel::Endpoint {
            ic50,
            max_inhibition,
            ..
        } = run.model
        else {
            panic!("endpoint model");
        };
        logs.push(ic50.log10());
        maxes.push(max_inhibition);
    }
    // Mean and sample variance inline: `analysis` sits above `invitro` in the layers.
    let m = logs.iter().sum::<f64>() / logs.len() as f64;
    let v = logs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (logs.len() - 1) as f64;
    // SE of the mean 0.25/√N; SE of the SD ≈ sd/√(2N).
    let n = draws as f64;
    assert!((m - 1.0).abs() < 4.5 * 0.25 / n.sqrt(), "mean {m}");
    assert!(
        (v.sqrt() - 0.25).abs() < 4.5 * 0.25 / (2.0 * n).sqrt(),
        "sd {}",
        v.sqrt()
    );
    assert!(maxes.iter().all(|x| (0.0..=1.0).contains(x)));
    assert!(maxes.contains(&1.0), "0.9 + 0.2 z is clamped at 1");
    // Without variability every experiment runs the line as written.
    let fixed = LineSpec {
        between: ExperimentVariability::NONE,
        ..line.clone()
    };
    assert_eq!(
        fixed.in_experiment(&mut crate::rng::stream(5, &[1])).model,
        fixed.model
    );
}
