//! Benchmark P1 (../shared/bench/P1.md) through the library, phase by phase.
//!
//! ```text
//! cargo run --release --example bench_p1 -- [REPS] [THREADS] [RUNS]
//! ```
//! Loads `examples/p1_power.toml`, then for common random numbers (the `power` default) and
//! independent streams per (n, replicate) times: the Monte Carlo sweep n = 3..15, the
//! closed-form cross-check and assembling, and writing power.csv + plots to a temp folder.
//! Reports the best of RUNS and the cost per simulated animal-visit. For the whole-process
//! figure run the binary itself:
//! `hyperfine 'target/release/xenoplan power examples/p1_power.toml --n 3..15 --reps 20000 --threads 2'`.

use std::time::Instant;
use xenoplan::power::{self, FastDesign, FastModel, Settings, UnitPlan, engine};
use xenoplan::protocol::Adjustment;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let reps: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let threads: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2);
    let runs: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(5);

    let t0 = Instant::now();
    let loaded = xenoplan::protocol::load(std::path::Path::new("examples/p1_power.toml"))?;
    let protocol = loaded.protocol;
    let load_time = t0.elapsed();
    let n_values: Vec<u32> = (3..=15).collect();
    let arms = 4u64;
    let visits = 9u64;
    println!(
        "P1: n 3..15, {reps} reps, {threads} threads, best of {runs} runs (protocol load {load_time:.2?})"
    );
    for crn in [true, false] {
        let settings = Settings {
            n_values: n_values.clone(),
            reps,
            alpha: 0.05,
            target: 0.8,
            seed: 1,
            threads,
            endpoints: vec![power::Endpoint::WelchLog],
            adjust: Adjustment::None,
            joint: false,
            common_random_numbers: crn,
            engine: power::EngineChoice::Tight,
            start: xenoplan::sim::SimOptions::default().start,
            precision: None,
        };
        let units = UnitPlan::new(&protocol, &settings)?;
        let model = FastModel::new(
            FastDesign::from_protocol(&protocol, &units, settings.start)?,
            &units,
            &settings,
        )?;
        let mut best_mc = f64::INFINITY;
        let mut tally = None;
        for _ in 0..runs {
            let t = Instant::now();
            let tl = engine::run(&model, reps, threads, &|_| {})?;
            best_mc = best_mc.min(t.elapsed().as_secs_f64());
            tally = Some(tl);
        }
        let Some(tally) = tally else { continue };
        let t = Instant::now();
        let losses = vec![
            power::Losses {
                take_rate: 1.0,
                enrollment_yield: 1.0,
                yield_source: "at-baseline".into(),
                attrition: 0.0,
                spare_fraction: 0.0,
            };
            model.design.cohorts
        ];
        let result = power::results::assemble(
            &protocol,
            &settings,
            &units,
            &power::results::EngineRun {
                tally: &tally,
                design: Some(&model.design),
                closed_form: Some(&model.design),
                losses: &losses,
                engine: "bench",
            },
        );
        let assemble_time = t.elapsed().as_secs_f64();
        let dir = std::env::temp_dir().join(format!("xenoplan-bench-p1-{}", std::process::id()));
        let t = Instant::now();
        power::results::write_outputs(&result, &dir)?;
        let write_time = t.elapsed().as_secs_f64();
        let _ = std::fs::remove_dir_all(&dir);
        // Animals simulated: CRN simulates n_max per arm once per replicate; independent
        // streams simulate every n separately.
        let animals_per_rep: u64 = if crn {
            15 * arms
        } else {
            n_values.iter().map(|&n| u64::from(n)).sum::<u64>() * arms
        };
        let animal_visits = animals_per_rep * visits * reps;
        let normals = animals_per_rep * (visits + 2) * reps;
        println!(
            "  {:<28} MC {:>8.1} ms  ({:>6.0} M animal-visits, {:>6.0} M normals; {:.2} ns per animal-visit wall, {:.2} ns CPU-equivalent at {threads} threads)  analytic+assemble {:>6.1} ms  outputs {:>6.1} ms",
            if crn {
                "common random numbers"
            } else {
                "independent (n, rep) streams"
            },
            best_mc * 1e3,
            animal_visits as f64 / 1e6,
            normals as f64 / 1e6,
            best_mc * 1e9 / animal_visits as f64,
            best_mc * 1e9 * threads as f64 / animal_visits as f64,
            assemble_time * 1e3,
            write_time * 1e3
        );
        let at = |n: u32, c: &str| {
            result
                .rows
                .iter()
                .find(|r| r.n_per_arm == n && r.comparison.starts_with(c))
        };
        for n in [5, 10, 15] {
            for c in ["x0.8", "x0.6"] {
                if let Some(r) = at(n, c) {
                    let a = r
                        .analytic
                        .map_or((f64::NAN, f64::NAN), |a| (a.pooled_t, a.welch));
                    println!(
                        "      n={n:>2} {c}: MC {:.4} [{:.4}, {:.4}]  nct t-test {:.4}  exact Welch {:.4}",
                        r.power, r.ci_low, r.ci_high, a.0, a.1
                    );
                }
            }
        }
    }
    Ok(())
}
