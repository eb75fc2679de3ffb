//! Unit tests of `src/power/design.rs`.

use super::*;

#[test]
fn n_ranges() {
    assert_eq!(parse_n_range("3..5").unwrap(), vec![3, 4, 5]);
    assert_eq!(parse_n_range("3..=4").unwrap(), vec![3, 4]);
    assert_eq!(parse_n_range("8").unwrap(), vec![8]);
    assert_eq!(parse_n_range("8, 4,6").unwrap(), vec![4, 6, 8]);
    assert!(parse_n_range("5..3").is_err());
    assert!(parse_n_range("x").is_err());
}

#[test]
fn endpoints_round_trip() {
    for e in Endpoint::ALL {
        assert_eq!(Endpoint::parse(e.as_str()).unwrap(), e);
    }
    assert!(Endpoint::parse("ttest").is_none());
}
