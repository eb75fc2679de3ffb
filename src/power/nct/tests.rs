//! Unit tests of `src/power/nct.rs`.

use super::*;

fn fixture(name: &str) -> Vec<Vec<f64>> {
    let path = format!("{}/tests/fixtures/power/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("fixture present");
    text.lines()
        .skip(1)
        .map(|l| {
            l.split(',')
                .map(|v| v.parse::<f64>().expect("number"))
                .collect()
        })
        .collect()
}

#[test]
fn nct_cdf_matches_scipy() {
    let rows = fixture("nct_cdf.csv");
    assert_eq!(rows.len(), 892);
    let mut worst = 0.0_f64;
    for r in &rows {
        let got = nct_cdf(r[0], r[1], r[2]);
        let err = (got - r[3]).abs();
        worst = worst.max(err);
        assert!(
            err <= 1e-9,
            "nct_cdf({}, {}, {}) = {got}, scipy {}",
            r[0],
            r[1],
            r[2],
            r[3]
        );
    }
    eprintln!("worst |nct_cdf − scipy| = {worst:e}");
}

#[test]
fn central_case_matches_t() {
    for &df in &[1.0, 3.0, 18.0] {
        for &t in &[-2.0, -0.3, 0.0, 1.1, 4.0] {
            assert!((nct_cdf(t, df, 0.0) - t_cdf(t, df)).abs() < 1e-12);
        }
    }
}

#[test]
fn t_quantiles_and_power_match_scipy() {
    for r in fixture("t_power.csv") {
        let (df, delta, alpha, tc, power) = (r[0], r[1], r[2], r[3], r[4]);
        let q = t_quantile(1.0 - alpha / 2.0, df);
        assert!(
            (q - tc).abs() < 1e-9 * tc,
            "t_quantile df={df} alpha={alpha}: {q} vs {tc}"
        );
        let p = t_test_power(delta, df, alpha);
        assert!(
            (p - power).abs() < 1e-9,
            "power df={df} delta={delta} alpha={alpha}: {p} vs {power}"
        );
    }
}

#[test]
fn exact_welch_power_matches_scipy_quadrature() {
    let rows = fixture("welch_equal_n.csv");
    assert_eq!(rows.len(), 18 + 39);
    for r in rows {
        let got = welch_power_equal_n(r[1], r[0] as u32, r[2]);
        assert!(
            (got - r[3]).abs() < 1e-7,
            "n={} delta={}: {got} vs {}",
            r[0],
            r[1],
            r[3]
        );
    }
}

#[test]
fn p_value_is_consistent_with_cdf() {
    let t = 2.3;
    let df = 11.7;
    assert!((t_two_sided_p(t, df) - 2.0 * (1.0 - t_cdf(t, df))).abs() < 1e-13);
    assert!(t_quantile(0.5, 4.0) == 0.0);
    assert!(nct_cdf(f64::NAN, 3.0, 1.0).is_nan());
    assert!(nct_cdf(1.0, -3.0, 1.0).is_nan());
}
