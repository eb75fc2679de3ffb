//! Library use of the simulator without the CLI:
//! `cargo run --release --example simulate_study [SEED]`.
//!
//! Builds a two-cohort study in Rust (TamR-MCF-7 keeps growing after pellet removal;
//! parental MCF-7 stops), simulates it with the reusable engine, writes the study files to
//! `output/example-simulate/` and hands the tidy dataset to the analysis layer.
use std::path::Path;
use xenoplan::protocol::{Body, Sourced};
use xenoplan::sim::{
    Engine, SimOptions, StudyBuffer, StudyInfo, fixture, summary_text, write_study,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seed: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let mut protocol = fixture::basic(fixture::gompertz());
    if let Body::Xenograft(x) = &mut protocol.body {
        x.cohorts[0].implantation.animals = Some(60);
        let mut parental = x.cohorts[0].clone();
        parental.name = "MCF-7".into();
        parental.growth_without_estrogen =
            Sourced::new(0.0, "Shafie & Grantham 1981: growth stops without E2");
        x.cohorts.push(parental);
    }
    let engine = Engine::new(&protocol, &SimOptions::default())?;
    let mut buf = StudyBuffer::new(&engine);
    engine.simulate(&mut xenoplan::rng::stream(seed, &[0]), None, &mut buf)?;
    print!("{}", summary_text(&engine, &buf));
    let dir = Path::new("output/example-simulate");
    let files = write_study(
        &engine,
        &buf,
        &StudyInfo {
            title: protocol.title.clone(),
            seed,
        },
        dir,
    )?;
    println!("wrote {} files under {}", files.len(), dir.display());
    let dataset = buf.to_dataset(&engine);
    println!(
        "{} tidy rows ready for xenoplan::analysis",
        dataset.rows.len()
    );
    Ok(())
}
