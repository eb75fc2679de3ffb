//! Unit tests of `src/power/wilson.rs`.

use super::*;

#[test]
fn matches_scipy_reference() {
    let path = format!(
        "{}/tests/fixtures/power/wilson.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).expect("fixture");
    let mut n_rows = 0;
    for line in text.lines().skip(1) {
        let v: Vec<f64> = line
            .split(',')
            .map(|s| s.parse().expect("number"))
            .collect();
        let (lo, hi) = wilson95(v[0] as u64, v[1] as u64);
        assert!(
            (lo - v[2]).abs() < 1e-12 && (hi - v[3]).abs() < 1e-12,
            "{line}: {lo} {hi}"
        );
        n_rows += 1;
    }
    assert_eq!(n_rows, 8);
    assert!(wilson95(0, 0).0.is_nan());
}
