//! Runs the in vitro simulator:
//! `cargo run --release --example invitro_demo -- [PROTOCOL.toml | derivation | assay] [SEED] [REPS]`.
//! `derivation` / `assay` use built-in domain values (assumed test numbers); a path loads a
//! protocol file. Outputs go to `output/<protocol-id>/`.
use std::path::{Path, PathBuf};
use xenoplan::invitro::{InvitroOptions, simulate_to_dir, testutil};
use xenoplan::protocol::Body;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let seed = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let reps = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(200);
    let (protocol, path) = match args.get(1).map(String::as_str) {
        None | Some("derivation") => (
            testutil::protocol(Body::Derivation(testutil::derivation())),
            None,
        ),
        Some("assay") => (testutil::protocol(Body::Assay(testutil::assay())), None),
        Some(p) => {
            let loaded = xenoplan::protocol::load(Path::new(p))?;
            (loaded.protocol, Some(PathBuf::from(p)))
        }
    };
    let opts = InvitroOptions {
        seed,
        reps,
        threads: None,
        protocol_path: path,
    };
    let out = Path::new("output").join(&protocol.id);
    let t = std::time::Instant::now();
    let report = simulate_to_dir(&protocol, &opts, &out)?;
    println!("{report}");
    eprintln!("elapsed {:.2} s", t.elapsed().as_secs_f64());
    Ok(())
}
