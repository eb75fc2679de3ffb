//! Unit tests of `src/invitro/mod.rs`.

use super::*;

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("xenoplan-invitro-{name}-{}", std::process::id()))
}

#[test]
fn replicates_do_not_depend_on_thread_count() {
    let mut d = testutil::derivation();
    d.duration_days = 120;
    let a = run_replicates(&d, 3, 8, Some(1)).unwrap();
    let b = run_replicates(&d, 3, 8, Some(2)).unwrap();
    assert_eq!(a, b);
    assert_eq!(
        a.iter().map(|r| r.rep).collect::<Vec<_>>(),
        (0..8).collect::<Vec<_>>()
    );
    assert_ne!(a[0], a[1]);
}

#[test]
fn derivation_writes_all_files_and_is_reproducible() {
    let p = testutil::protocol(Body::Derivation(testutil::derivation()));
    let opts = InvitroOptions {
        seed: 1,
        reps: 4,
        ..Default::default()
    };
    let (d1, d2) = (tmp("der1"), tmp("der2"));
    let rep = simulate_to_dir(&p, &opts, &d1).unwrap();
    simulate_to_dir(&p, &opts, &d2).unwrap();
    for f in [
        "population.csv",
        "plots/population.svg",
        "plots/population.png",
        "assay.csv",
        "ic50.csv",
        "plots/dose_response.svg",
        "plots/dose_response.png",
        "replicates.csv",
        "summary.txt",
        "manifest.json",
    ] {
        assert!(rep.files.iter().any(|x| x == f), "{f} not listed");
        let a = std::fs::read(d1.join(f)).unwrap();
        if f.ends_with(".csv") || f.ends_with(".txt") {
            assert_eq!(a, std::fs::read(d2.join(f)).unwrap(), "{f} differs");
        }
    }
    let pop = std::fs::read_to_string(d1.join("population.csv")).unwrap();
    assert!(pop.starts_with("day,total_cells,resistant_fraction,drug_nM,passage"));
    let ic = std::fs::read_to_string(d1.join("ic50.csv")).unwrap();
    assert!(ic.starts_with("line,ic50,ci_low,ci_high,hill,top,bottom"));
    assert_eq!(ic.lines().count(), 3);
    let text = rep.to_string();
    assert!(
        text.contains("IC50 fold shift")
            && text.contains("Over 4 runs")
            && text.contains("failed runs"),
        "{text}"
    );
    let ReportBody::Derivation(s) = &rep.body else {
        panic!("kind")
    };
    assert!(s.first.shift().unwrap().value > 10.0);
    std::fs::remove_dir_all(&d1).ok();
    std::fs::remove_dir_all(&d2).ok();
}

#[test]
fn assay_protocol_writes_its_files() {
    let p = testutil::protocol(Body::Assay(testutil::assay()));
    let dir = tmp("assay");
    let rep = simulate_to_dir(&p, &InvitroOptions::default(), &dir).unwrap();
    assert!(dir.join("plots/dose_response.png").exists() && dir.join("manifest.json").exists());
    assert!(!dir.join("population.csv").exists());
    let ic = std::fs::read_to_string(dir.join("ic50.csv")).unwrap();
    assert!(ic.contains("\nMCF7,") && ic.contains("\nCAMA-1,"));
    assert!(rep.to_string().contains("IC50 MCF7"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn rejects_other_kinds_and_bad_options() {
    let p = testutil::protocol(Body::Procedure(crate::protocol::Procedure {
        tasks: Vec::new(),
        samples: 1,
    }));
    assert!(matches!(
        simulate_to_dir(&p, &InvitroOptions::default(), &tmp("x")),
        Err(InvitroError::WrongKind { .. })
    ));
    let a = testutil::protocol(Body::Assay(testutil::assay()));
    let bad = InvitroOptions {
        reps: 0,
        ..Default::default()
    };
    assert!(matches!(
        simulate_to_dir(&a, &bad, &tmp("y")),
        Err(InvitroError::InvalidOption(_))
    ));
}

#[test]
fn ic50_above_the_top_dose_is_censored_and_its_shift_a_lower_bound() {
    assert_eq!(Ic50::classify(50.0, 100.0), Ic50::Reached(50.0));
    let above = Ic50::classify(400.0, 100.0);
    assert!(!above.reached());
    assert_eq!(above.bound_nm(), 100.0);
    assert_eq!(above.qualifier(), ">");
    let s = FoldShift::of(Some(Ic50::Reached(2.0)), Some(above)).unwrap();
    assert_eq!((s.value, s.lower_bound), (50.0, true));
    assert_eq!(s.label(), "≥ 50x");
    // A censored parental IC50 bounds the ratio in neither direction.
    assert_eq!(FoldShift::of(Some(above), Some(Ic50::Reached(2.0))), None);
    let exact = |v| FoldShift {
        value: v,
        lower_bound: false,
    };
    let bound = |v| FoldShift {
        value: v,
        lower_bound: true,
    };
    // 2 of 5 censored: the median (3rd of 5) is exact, the 95th percentile is not reached,
    // even though the censored bounds (1.5) are numerically below the exact values.
    let i = Interval::of_shifts([
        exact(10.0),
        exact(20.0),
        exact(30.0),
        bound(1.5),
        bound(1.5),
    ])
    .unwrap();
    assert_eq!((i.n, i.censored), (5, 2));
    assert_eq!(i.median, 30.0);
    assert!(i.high.is_infinite());
    assert_eq!(i.low, 10.0 + 0.2 * 10.0);
    let i = Interval::of_shifts([exact(10.0), bound(1.0), bound(1.0)]).unwrap();
    assert!(i.median.is_infinite());
}

#[test]
fn derivation_with_a_short_dose_range_reports_not_reached() {
    let mut d = testutil::derivation();
    // Resistant cells' IC50 30 µM on a plate topping out at 10 µM (as 52 of 100 runs of the
    // bundled anastrozole derivation do).
    d.model.ic50_resistant_nm.value = 3e4;
    let p = testutil::protocol(Body::Derivation(d));
    let dir = tmp("censored");
    let rep = simulate_to_dir(&p, &InvitroOptions::default(), &dir).unwrap();
    let ReportBody::Derivation(s) = &rep.body else {
        panic!("kind")
    };
    let derived = s.first.ic50_derived.expect("derived fit");
    assert!(!derived.reached(), "{derived:?}");
    let text = rep.to_string();
    assert!(
        text.contains("not reached: above the top tested dose"),
        "{text}"
    );
    assert!(
        text.contains("(lower bound: the derived IC50 lies above the top dose)"),
        "{text}"
    );
    let ic = std::fs::read_to_string(dir.join("ic50.csv")).unwrap();
    assert!(ic.lines().nth(2).unwrap().contains(",>,"), "{ic}");
    std::fs::remove_dir_all(&dir).ok();
}
