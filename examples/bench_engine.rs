//! Engine throughput: `cargo run --release --example bench_engine`.
//!
//! 1. Gompertz, 10 000 animals × 30 daily caliper visits, general engine (diameters, body
//!    weight), one thread.
//! 2. Bench P1 (../shared/bench/P1.md): exponential, AtBaseline, log-volume error, 4 arms ×
//!    n = 15 × 9 visits, lean options, many replicates on one thread.
//! 3. A single-day-enrollment study of the TamR-like fixture (implantation → enrollment →
//!    treatment), per study.
use std::time::Instant;
use xenoplan::protocol::{Body, EnrollmentMode, Frequency, PhaseEnd};
use xenoplan::rng::stream;
use xenoplan::sim::{Engine, SimOptions, StudyBuffer, fixture};

fn best_of<F: FnMut()>(reps: usize, mut f: F) -> f64 {
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `bench_engine p1` runs only the P1 part (for profiling).
    let only_p1 = std::env::args().nth(1).as_deref() == Some("p1");
    if !only_p1 {
        gompertz()?;
    }
    p1()?;
    if !only_p1 {
        study()?;
        tamr()?;
    }
    Ok(())
}

/// The bundled TamR protocol end to end (load, simulate, write CSVs and plots), by stage.
fn tamr() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::path::Path::new("protocols/tamr_mcf7_xenograft.toml");
    let t0 = Instant::now();
    let loaded = xenoplan::protocol::load(path)?;
    let t_load = t0.elapsed().as_secs_f64();
    let e = Engine::new(&loaded.protocol, &SimOptions::default())?;
    let mut b = StudyBuffer::new(&e);
    let t_sim = best_of(10, || {
        e.simulate(&mut stream(1, &[0]), None, &mut b).ok();
    });
    let dir = std::env::temp_dir().join("xenoplan-bench-tamr");
    let info = xenoplan::sim::StudyInfo {
        title: loaded.protocol.id.clone(),
        seed: 1,
    };
    let t1 = Instant::now();
    let ds = b.to_dataset(&e);
    let t_ds = t1.elapsed().as_secs_f64();
    let t2 = Instant::now();
    xenoplan::sim::write_study(&e, &b, &info, &dir)?;
    let t_write = t2.elapsed().as_secs_f64();
    let t3 = Instant::now();
    xenoplan::sim::write_growth_plots(&e, &ds, &info, &dir)?;
    let t_plots = t3.elapsed().as_secs_f64();
    // How often the protocol's single-day enrollment fills every arm (timeline helper input).
    for c in 0..e.cohort_count() {
        let t4 = Instant::now();
        let days = xenoplan::sim::enrollment_days(
            &loaded.protocol,
            c,
            200,
            1,
            xenoplan::sim::SimOptions::default().start,
        )?;
        let filled: Vec<f64> = days.iter().flatten().copied().collect();
        let mean = filled.iter().sum::<f64>() / filled.len().max(1) as f64;
        println!(
            "  enrollment_days {}: {}/200 cohorts filled within the max wait (mean day {:.1}); {:.1} ms",
            e.cohort_name(c),
            filled.len(),
            mean,
            t4.elapsed().as_secs_f64() * 1e3
        );
    }
    println!(
        "TamR protocol: load {:.1} ms, simulate {:.2} ms, dataset {:.2} ms, all files {:.1} ms (of which the 6 plots ≈ {:.1} ms)",
        t_load * 1e3,
        t_sim * 1e3,
        t_ds * 1e3,
        t_write * 1e3,
        t_plots * 1e3
    );
    Ok(())
}

fn gompertz() -> Result<(), Box<dyn std::error::Error>> {
    // 1. Gompertz 10 000 × 30.
    let mut p = fixture::basic(fixture::gompertz());
    p.phases.remove(1);
    p.phases[1].end = PhaseEnd::Fixed { days: 29 };
    if let Body::Xenograft(x) = &mut p.body {
        x.enrollment.mode = EnrollmentMode::AtBaseline;
        x.measurements[0].schedule.frequency = Frequency::Daily { per_day: 1 };
        x.measurements[0].phases = vec!["treatment".into()];
        x.endpoints.max_volume_mm3 = None;
        x.endpoints.max_diameter_mm = None;
        x.endpoints.max_weight_loss_pct = None;
    }
    let e = Engine::new(&p, &SimOptions::default())?;
    assert_eq!(e.baseline_visit_days().len(), 30);
    let mut b = StudyBuffer::new(&e);
    let mut seed = 0;
    let t = best_of(5, || {
        seed += 1;
        e.simulate(&mut stream(seed, &[0]), Some(5000), &mut b).ok();
    });
    let av = 10_000.0 * 30.0;
    println!(
        "gompertz 10000 animals x 30 visits: {:.1} ms ({:.1} ns per animal-visit)",
        t * 1e3,
        t * 1e9 / av
    );
    Ok(())
}

fn p1() -> Result<(), Box<dyn std::error::Error>> {
    // 2. Bench P1.
    let p = fixture::p1(15);
    let e = Engine::new(&p, &SimOptions::lean())?;
    assert!(e.is_fast_path(0));
    let mut b = StudyBuffer::new(&e);
    let reps = 20_000u64;
    let t = best_of(3, || {
        for r in 0..reps {
            e.simulate(&mut stream(1, &[15, r]), Some(15), &mut b).ok();
        }
    });
    let av = reps as f64 * 4.0 * 15.0 * 9.0;
    // Normals per study: per animal 2 (V0, rate) + 9 (visits).
    let normals = reps as f64 * 4.0 * 15.0 * 11.0;
    println!(
        "bench P1 {reps} studies x 60 animals x 9 visits: {:.1} ms ({:.2} ns per animal-visit, {:.0} M normals/s incl. stream setup)",
        t * 1e3,
        t * 1e9 / av,
        normals / t / 1e6
    );

    // Reference: the same number of bare ziggurat normals from one stream.
    let mut rng = stream(1, &[0]);
    let mut acc = 0.0;
    let t_ref = best_of(3, || {
        for _ in 0..normals as u64 {
            acc += rand::RngExt::sample::<f64, _>(&mut rng, rand_distr::StandardNormal);
        }
    });
    println!(
        "  reference: {normals:.0} bare normals {:.1} ms ({:.0} M/s) [{acc:.0}]",
        t_ref * 1e3,
        normals / t_ref / 1e6
    );
    Ok(())
}

fn study() -> Result<(), Box<dyn std::error::Error>> {
    // 3. Whole single-day study of the fixture.
    let p = fixture::basic(fixture::gompertz());
    let e = Engine::new(&p, &SimOptions::default())?;
    let mut b = StudyBuffer::new(&e);
    let t = best_of(20, || {
        e.simulate(&mut stream(3, &[0]), None, &mut b).ok();
    });
    println!(
        "fixture study (implantation, single-day enrollment, 2 arms x 8): {:.3} ms",
        t * 1e3
    );
    Ok(())
}
