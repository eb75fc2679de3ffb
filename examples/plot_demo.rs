//! Renders a demo growth chart (checks fonts and layout): `cargo run --example plot_demo`.
use xenoplan::plot::{RefLine, Series, XyChart, save};
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut c = XyChart::new(
        "TamR-MCF-7: tumor growth (mean ± SEM)",
        "Study day",
        "Tumor volume (mm³)",
    );
    c.note = Some("xenoplan · seed 1".into());
    c.series.push(
        Series::line(
            "vehicle",
            (0..10)
                .map(|i| (i as f64 * 3.5, 175.0 * (0.09 * i as f64 * 3.5).exp()))
                .collect(),
        )
        .with_errors(vec![20.0; 10]),
    );
    c.series.push(
        Series::line(
            "taragarestrant 10 mg/kg",
            (0..10)
                .map(|i| (i as f64 * 3.5, 175.0 * (0.02 * i as f64 * 3.5).exp()))
                .collect(),
        )
        .with_errors(vec![15.0; 10]),
    );
    c.ref_lines.push(RefLine {
        at: 1000.0,
        horizontal: true,
        label: "endpoint 1000 mm³".into(),
    });
    save(&c, std::path::Path::new("output/demo/growth"), (900, 600))?;
    Ok(())
}
