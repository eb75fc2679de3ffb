//! Power timings (issue 19): `cargo run --release --example bench_power [reps]`.
//!
//! 1. P1 on the tight path (examples/p1_power.toml, n = 3..15, 2 000 replicates, 1 thread);
//! 2. TamR power on the whole-study engine (exposure PK; protocols/tamr_mcf7_xenograft.toml,
//!    n = 4..12, `reps` replicates (default 100), 1 thread), per simulated-and-analyzed study;
//! 3. one REML fit of the random intercept + slope model on a simulated TamR arm pair
//!    (vehicle vs taragarestrant 30 mg/kg, ln volume on day);
//! 4. one simulated TamR study (lean power options), and its analysis.
//!
//! Times are CPU-bound wall times on one thread, best of several runs: on a loaded machine
//! compare with `/usr/bin/time` or `valgrind --tool=callgrind` instead.
use std::path::Path;
use std::time::Instant;
use xenoplan::analysis::stats::lmm::{LmmGroup, fit_reml};
use xenoplan::power::{EngineChoice, Settings, run_power};
use xenoplan::rng::stream;
use xenoplan::sim::{Engine, SimOptions, StudyBuffer};

fn best_of<F: FnMut()>(reps: usize, mut f: F) -> f64 {
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn settings(p: &xenoplan::protocol::Protocol, n: Vec<u32>, reps: u64) -> Settings {
    let x = p.xenograft().expect("xenograft protocol");
    Settings {
        n_values: n,
        reps,
        alpha: x.analysis.alpha,
        target: x.analysis.target_power,
        seed: 1,
        threads: 1,
        endpoints: xenoplan::power::results::default_endpoints(p).expect("endpoints"),
        adjust: x.analysis.adjust,
        joint: false,
        common_random_numbers: true,
        engine: EngineChoice::Auto,
        start: SimOptions::default().start,
        precision: None,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let reps: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let p1 = xenoplan::protocol::load(Path::new("examples/p1_power.toml"))?.protocol;
    let s = settings(&p1, (3..=15).collect(), 2000);
    let t = best_of(3, || {
        run_power(&p1, &s, &|_| {}).expect("P1 power");
    });
    println!(
        "P1 tight path: 13 n × 2000 reps in {:.1} ms ({:.2} µs per study)",
        t * 1e3,
        t * 1e6 / (13.0 * 2000.0)
    );

    let tamr = xenoplan::protocol::load(Path::new("protocols/tamr_mcf7_xenograft.toml"))?.protocol;
    let s = settings(&tamr, (4..=12).collect(), reps);
    let t = best_of(1, || {
        run_power(&tamr, &s, &|_| {}).expect("TamR power");
    });
    let studies = 9.0 * reps as f64;
    println!(
        "TamR power (full engine, exposure PK): 9 n × {reps} reps in {:.2} s ({:.3} ms per study; ×{:.0} for --reps 1000: {:.1} s)",
        t,
        t * 1e3 / studies,
        1000.0 / reps as f64,
        t * 1000.0 / reps as f64
    );

    // One simulated study with the power engine's options, and its analysis.
    let x = tamr.xenograft().expect("xenograft");
    let e = Engine::new(
        &tamr,
        &xenoplan::power::fast::power_sim_options(x, SimOptions::default().start),
    )?;
    let mut b = StudyBuffer::new(&e);
    let mut rep = 0u64;
    let t_sim = best_of(200, || {
        rep += 1;
        e.simulate(&mut stream(1, &[10, rep]), Some(10), &mut b)
            .ok();
    });
    let ds = b.to_dataset(&e);
    // The options `power` analyzes with when no LMM endpoint is asked for.
    let mut opt = xenoplan::analysis::AnalysisOptions::new("vehicle");
    opt.bootstrap_reps = 0;
    opt.run_lmm = false;
    opt.synergy_time_course = false;
    let t_an = best_of(50, || {
        xenoplan::analysis::analyze(&ds, &opt).ok();
    });
    println!(
        "one TamR study (n = 10 per arm, 2 cohorts × 5 arms): simulate {:.1} µs, analyze (no LMM, no bootstrap) {:.1} µs",
        t_sim * 1e6,
        t_an * 1e6
    );

    // One LMM fit: TamR-MCF-7 vehicle vs taragarestrant 30 mg/kg, ln V = β0 + β1·trt + β2·t +
    // β3·trt·t + b0 + b1·t + ε.
    let c = (0..e.cohort_count())
        .find(|&c| e.cohort_name(c) == "TamR-MCF-7")
        .unwrap_or(0);
    let arms: Vec<usize> = (0..e.arm_count(c))
        .filter(|&a| e.is_control(c, a) || e.arm_name(c, a) == "taragarestrant 30 mg/kg")
        .collect();
    let mut data: Vec<(Vec<f64>, Vec<f64>, Vec<f64>)> = Vec::new();
    for &a in &arms {
        let trt = if e.is_control(c, a) { 0.0 } else { 1.0 };
        for j in 0..b.n_enrolled(c, a) {
            let (d, v) = (b.days(c, a, j), b.volumes(c, a, j));
            let (mut xs, mut zs, mut ys) = (Vec::new(), Vec::new(), Vec::new());
            for k in 0..b.visit_count(c, a, j) {
                if v[k] > 0.0 {
                    xs.extend([1.0, trt, d[k], trt * d[k]]);
                    zs.extend([1.0, d[k]]);
                    ys.push(v[k].ln());
                }
            }
            data.push((xs, zs, ys));
        }
    }
    let groups: Vec<LmmGroup<'_>> = data.iter().map(|(x, z, y)| LmmGroup { x, z, y }).collect();
    let t_lmm = best_of(50, || {
        fit_reml(&groups, 4, 2).ok();
    });
    // What the analysis runs per arm pair: the fit plus the Satterthwaite test of trt × time.
    let t_test = best_of(50, || {
        if let Ok(f) = fit_reml(&groups, 4, 2) {
            f.contrast(&[0.0, 0.0, 0.0, 1.0]);
        }
    });
    println!(
        "one LMM fit (random intercept + slope, {} animals, {} readings): {:.0} µs; with the Satterthwaite test of trt × time {:.0} µs",
        groups.len(),
        data.iter().map(|d| d.2.len()).sum::<usize>(),
        t_lmm * 1e6,
        t_test * 1e6
    );
    Ok(())
}
