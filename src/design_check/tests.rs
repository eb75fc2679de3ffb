//! Unit tests of the design check on the bundled protocols.

use super::*;

fn load(path: &str) -> Protocol {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    crate::protocol::load(&root.join(path))
        .expect("bundled protocol")
        .protocol
}

#[test]
fn tamr_parental_cohort_is_named_for_its_non_growing_control() {
    let p = load("protocols/tamr_mcf7_xenograft.toml");
    let d = check_design(&p, 1, None).unwrap();
    let f = d
        .findings
        .iter()
        .find(|f| f.check == "control-does-not-grow")
        .unwrap_or_else(|| panic!("{d}"));
    assert_eq!(f.level, Level::Problem);
    assert_eq!(f.cohort, "MCF-7");
    assert!(
        f.finding.contains("growth-without-estrogen = 0"),
        "{}",
        f.finding
    );
    // The TamR cohort grows without estrogen: no such finding for it.
    assert!(
        !d.findings
            .iter()
            .any(|f| f.check == "control-does-not-grow" && f.cohort != "MCF-7"),
        "{d}"
    );
    // Both contradictions of the cited sources the issue names.
    let contra: Vec<_> = d
        .findings
        .iter()
        .filter(|f| f.check == "contradicts-source")
        .map(|f| f.finding.as_str())
        .collect();
    assert!(contra.iter().any(|t| t.contains("Telang")), "{d}");
    assert!(contra.iter().any(|t| t.contains("Shafie")), "{d}");
    // Problems sort first.
    assert_eq!(d.findings[0].level, Level::Problem);
}

#[test]
fn co_administered_oral_volumes_add_up_per_administration() {
    // Imlunestrant and abemaciclib are both given by gavage at the default morning time,
    // 10 mL/kg each: 20 mL/kg at once.
    let p = load("protocols/imlunestrant_xenograft_panel.toml");
    let d = check_design(&p, 1, None).unwrap();
    let f = d
        .findings
        .iter()
        .find(|f| f.check == "dosing-volume" && f.cohort == "MCF7")
        .unwrap_or_else(|| panic!("{d}"));
    assert!(
        f.finding
            .contains("`imlunestrant + abemaciclib`: 20 mL/kg po at"),
        "{}",
        f.finding
    );
    assert!(
        f.finding.contains("(imlunestrant + abemaciclib)"),
        "{}",
        f.finding
    );
    assert_eq!(f.level, Level::Warning);
    // Amcenestrant BID at 08:00/18:00 and palbociclib at 12:00, 10 mL/kg each: every
    // administration is within good practice, and 30 mL/kg a day is below the maximum.
    let p = load("protocols/amcenestrant_hci013_pdx.toml");
    let d = check_design(&p, 1, None).unwrap();
    assert!(
        !d.findings.iter().any(|f| f.check == "dosing-volume"),
        "{d}"
    );
}

#[test]
fn findings_are_reproducible_and_written_as_csv() {
    let p = load("protocols/tamr_mcf7_xenograft.toml");
    let a = check_design(&p, 3, None).unwrap();
    let b = check_design(&p, 3, None).unwrap();
    assert_eq!(a, b);
    let dir = std::env::temp_dir().join(format!("xenoplan-design-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    a.write_csv(&dir).unwrap();
    let csv = std::fs::read_to_string(dir.join("design_check.csv")).unwrap();
    assert!(
        csv.starts_with("severity,cohort,arm,check,finding,action\n"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), a.findings.len() + 1);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn in_vitro_protocols_are_refused() {
    let p = load("protocols/camizestrant_proliferation_assay.toml");
    assert!(matches!(
        check_design(&p, 1, None),
        Err(DesignCheckError::NotXenograft(_))
    ));
}
