//! Unit tests of `src/plot/mod.rs`.

use super::*;

#[test]
fn tick_labels_are_short() {
    use super::xy::tick_label;
    assert_eq!(tick_label(4.0), "4");
    assert_eq!(tick_label(1000.0), "1000");
    assert_eq!(tick_label(0.25), "0.25");
    assert_eq!(tick_label(0.1 + 0.2), "0.3");
    assert_eq!(tick_label(1e6), "1e6");
    assert_eq!(tick_label(2.5e7), "2.5e7");
    assert_eq!(tick_label(0.0), "0");
    assert_eq!(tick_label(-3.5), "-3.5");
}

#[test]
fn xy_chart_writes_svg_and_png_with_text() {
    let dir = std::env::temp_dir().join(format!("xenoplan-plot-{}", std::process::id()));
    let mut chart = XyChart::new("Test growth", "Study day", "Tumor volume (mm³)");
    chart.note = Some("seed 1".into());
    chart.series.push(
        Series::line("vehicle", vec![(0.0, 150.0), (7.0, 300.0), (14.0, 600.0)])
            .with_errors(vec![10.0, 20.0, 40.0]),
    );
    chart.series.push(Series::points(
        "drug",
        vec![(0.0, 150.0), (7.0, 160.0), (14.0, 140.0)],
    ));
    chart.log_y = true;
    let files = save(&chart, &dir.join("growth"), (800, 600)).unwrap();
    let svg = std::fs::read_to_string(&files[0]).unwrap();
    assert!(svg.contains("Test growth") && svg.contains("vehicle"));
    let png = std::fs::read(&files[1]).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn log_axis_labels_only_one_two_five() {
    use crate::plot::xy::log_tick_label;
    let labelled: Vec<String> = [
        10.0, 20.0, 30.0, 50.0, 70.0, 100.0, 200.0, 900.0, 1000.0, 5e6,
    ]
    .iter()
    .map(|v| log_tick_label(*v))
    .collect();
    assert_eq!(
        labelled,
        ["10", "20", "", "50", "", "100", "200", "", "1000", "5e6"]
    );
    assert_eq!(log_tick_label(0.0), "");
}

#[test]
fn first_44_series_never_share_colour_and_pattern_and_control_is_black() {
    let n = PALETTE.len() * Dash::ALL.len();
    assert!(PALETTE.len() >= 10, "a ten-arm study repeats no colour");
    let looks: Vec<(RGBColor, Dash)> = (0..n).map(|i| (color(i), dash(i))).collect();
    for i in 0..n {
        for j in 0..i {
            assert!(looks[i] != looks[j], "series {j} and {i} look the same");
        }
    }
    assert_eq!(color(0), RGBColor(0, 0, 0));
    assert_eq!(dash(0), Dash::Solid);
    // Ten arms: ten distinct colours, all solid.
    let ten: Vec<RGBColor> = (0..10).map(color).collect();
    for i in 0..10 {
        assert!(!ten[..i].contains(&ten[i]), "colour {i} repeats");
        assert_eq!(dash(i), Dash::Solid);
    }
}
