//! Unit tests of loading: bundled protocols load, diagnostics are positioned.

use super::*;

fn repo(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(p)
}

#[test]
fn tamr_loads() {
    let l = load(&repo("protocols/tamr_mcf7_xenograft.toml")).unwrap_or_else(|e| panic!("{e}"));
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let x = l.protocol.xenograft().expect("xenograft");
    assert_eq!(l.protocol.id, "tamr-mcf7-xenograft");
    assert_eq!(x.cohorts.len(), 2);
}

#[test]
fn p1_loads() {
    let l = load(&repo("examples/p1_power.toml")).unwrap_or_else(|e| panic!("{e}"));
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let x = l.protocol.xenograft().expect("xenograft");
    assert_eq!(x.cohorts[0].arms.len(), 4);
}
