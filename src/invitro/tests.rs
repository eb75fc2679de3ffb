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
    assert!(s.first.shift().unwrap() > 10.0);
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
