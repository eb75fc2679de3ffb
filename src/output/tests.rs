//! Unit tests of `src/output.rs`.

use super::*;

#[test]
fn atomic_write_replaces_and_leaves_no_temp() {
    let dir = std::env::temp_dir().join(format!("xenoplan-out-{}", std::process::id()));
    let p = dir.join("a.csv");
    write_atomic(&p, b"x\n1\n").unwrap();
    write_atomic(&p, b"x\n2\n").unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"x\n2\n");
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn sha_and_fmt() {
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(fmt_f(1.23456, 2), "1.23");
    assert_eq!(fmt_f(f64::NAN, 2), "");
}

#[test]
fn fmt_value_four_significant_digits() {
    for (x, want) in [
        (175.0, "175"),
        (0.09902102579427789, "0.09902"),
        (12345.6, "12346"),
        (0.025, "0.025"),
        (5e6, "5e6"),
        (0.000123456, "1.235e-4"),
        (-2.5, "-2.5"),
        (0.0, "0"),
        (1.0, "1"),
        (f64::NAN, "NaN"),
    ] {
        assert_eq!(fmt_value(x), want, "{x}");
    }
}

#[test]
fn significant_digits() {
    assert_eq!(fmt_sig_real(0.098765, 3), "0.0988");
    assert_eq!(fmt_sig_real(152.34, 4), "152.3");
    assert_eq!(fmt_sig_real(1523.4, 3), "1523.0");
    assert_eq!(fmt_sig_real(0.0, 3), "0.0");
    assert_eq!(fmt_sig_real(f64::NAN, 3), "nan");
    // CSV form: trailing zeros kept, no forced point, empty when missing, ≤ 12 decimals.
    assert_eq!(fmt_sig(0.0990, 3), "0.0990");
    assert_eq!(fmt_sig(123456.7, 6), "123457");
    assert_eq!(fmt_sig(0.0, 6), "0");
    assert_eq!(fmt_sig(f64::INFINITY, 6), "");
    assert_eq!(fmt_sig(1.234e-9, 6), "0.000000001234");
}
