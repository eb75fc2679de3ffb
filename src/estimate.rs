//! A rough size of a run before it starts, so an unusually large `simulate` or `power` says
//! what it is about to cost instead of silently using gigabytes or an hour.
//!
//! The estimate is counts × per-unit costs measured on the release build (2-core machine,
//! 2026-12-02, see the constants): one *reading* is one animal at one visit slot. The caps of
//! README "Limits and output folders" still apply; this only informs. A line is printed only
//! above [`NOTE_BYTES`] or [`NOTE_SECONDS`].

use crate::power::{EngineChoice, Settings};
use crate::sim::Engine;

/// Print the estimate when a run is expected to use more memory than this…
pub const NOTE_BYTES: u64 = 1 << 30;
/// …or to take longer than this (seconds).
pub const NOTE_SECONDS: f64 = 30.0;

/// `simulate`: bytes per enrolled reading (study buffer, dataset rows, CSV text and the
/// analysis' per-animal copies): TamR MCF-7 at `--n-per-arm` 1000 and 5000, peak RSS 202 MB
/// and 941 MB for 0.9e5 and 4.5e5 enrolled readings.
const SIM_BYTES_PER_READING: f64 = 2100.0;
/// `simulate`: seconds per simulated reading of an implanted animal, simulation + writing +
/// figures + analysis without the LMM or bootstrap: 2.2 s and 9.8 s for 1.5e5 and 7.6e5
/// readings (same runs).
const SIM_SECONDS_PER_READING: f64 = 1.3e-5;
/// `power`: bytes per enrolled reading of one replicate, per thread (lean simulator options;
/// p1_power peaks at 11 MB, mostly the binary).
const POWER_BYTES_PER_READING: f64 = 200.0;
/// `power --engine full`: seconds per implanted reading (p1_power, n 5..10, 2000 reps:
/// 8.1e6 readings in 6.4 s on one thread).
const POWER_FULL_SECONDS_PER_READING: f64 = 8.0e-7;
/// `power`, tight path (also assumed for `--engine auto`): seconds per enrolled reading
/// (p1_power, n 5..10, 200 000 reps: 3.2e8 readings in 0.64 s on one thread).
const POWER_TIGHT_SECONDS_PER_READING: f64 = 2.0e-9;

/// Expected cost of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunSize {
    /// Animal-visit readings simulated.
    pub readings: f64,
    /// Peak memory, bytes.
    pub bytes: f64,
    /// Wall time on one core, seconds.
    pub seconds: f64,
}

/// (enrolled, implanted) animals of one study with `n_per_arm` (protocol sizes when `None`).
fn animals(engine: &Engine, n_per_arm: Option<usize>) -> (f64, f64) {
    let mut enrolled = 0.0;
    let mut implanted = 0.0;
    for c in 0..engine.cohort_count() {
        for a in 0..engine.arm_count(c) {
            enrolled += n_per_arm.unwrap_or_else(|| engine.protocol_n(c, a)) as f64;
        }
        implanted += engine.implanted(c, n_per_arm) as f64;
    }
    (enrolled, implanted.max(enrolled))
}

/// Size of one `simulate` study.
pub fn simulate(engine: &Engine, n_per_arm: Option<usize>) -> RunSize {
    let (enrolled, implanted) = animals(engine, n_per_arm);
    let visits = engine.max_visits().max(1) as f64;
    RunSize {
        readings: implanted * visits,
        bytes: enrolled * visits * SIM_BYTES_PER_READING,
        seconds: implanted * visits * SIM_SECONDS_PER_READING,
    }
}

/// Size of a `power` run with `settings` (time on one core; divided by the thread count).
pub fn power(engine: &Engine, settings: &Settings) -> RunSize {
    let visits = engine.max_visits().max(1) as f64;
    let mut readings = 0.0;
    let mut per_thread_bytes: f64 = 0.0;
    for &n in &settings.n_values {
        let (enrolled, implanted) = animals(engine, Some(n as usize));
        let full = settings.engine == EngineChoice::Full;
        readings += settings.reps as f64 * if full { implanted } else { enrolled } * visits;
        per_thread_bytes = per_thread_bytes.max(enrolled * visits * POWER_BYTES_PER_READING);
    }
    let per_reading = if settings.engine == EngineChoice::Full {
        POWER_FULL_SECONDS_PER_READING
    } else {
        POWER_TIGHT_SECONDS_PER_READING
    };
    RunSize {
        readings,
        bytes: per_thread_bytes * settings.threads.max(1) as f64,
        seconds: readings * per_reading / settings.threads.max(1) as f64,
    }
}

/// [`note`] for a `power` run of `protocol` (`None` for a small run or a protocol the
/// simulator cannot compile; `power` then reports that itself).
pub fn power_note(protocol: &crate::protocol::Protocol, settings: &Settings) -> Option<String> {
    let x = protocol.xenograft()?;
    let opts = crate::power::fast::power_sim_options(x, settings.start);
    let engine = Engine::new(protocol, &opts).ok()?;
    note("power", &power(&engine, settings))
}

/// The stderr line for an unusually large run (`None` below [`NOTE_BYTES`] and
/// [`NOTE_SECONDS`]), e.g. `simulate: large run: about 3.2 GB of memory and 2 min (5.4e6
/// simulated readings); continuing`.
pub fn note(command: &str, size: &RunSize) -> Option<String> {
    if size.bytes < NOTE_BYTES as f64 && size.seconds < NOTE_SECONDS {
        return None;
    }
    let mem = if size.bytes >= 1e9 {
        format!("{:.1} GB", size.bytes / 1e9)
    } else {
        format!("{:.0} MB", (size.bytes / 1e6).max(1.0))
    };
    let time = if size.seconds >= 5400.0 {
        format!("{:.1} h", size.seconds / 3600.0)
    } else if size.seconds >= 90.0 {
        format!("{:.0} min", size.seconds / 60.0)
    } else {
        format!("{:.0} s", size.seconds.max(1.0))
    };
    Some(format!(
        "{command}: large run: estimated {mem} of memory and {time} ({} simulated readings); continuing (limits: README \"Limits and output folders\")",
        crate::output::fmt_value(size.readings)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn note_only_above_the_thresholds() {
        let small = RunSize {
            readings: 1e4,
            bytes: 1e6,
            seconds: 0.1,
        };
        assert_eq!(note("simulate", &small), None);
        let big = RunSize {
            readings: 5.4e6,
            bytes: 3.2e9,
            seconds: 120.0,
        };
        assert_eq!(
            note("simulate", &big).unwrap(),
            "simulate: large run: estimated 3.2 GB of memory and 2 min (5.4e6 simulated readings); continuing (limits: README \"Limits and output folders\")"
        );
        let slow = RunSize {
            readings: 1e9,
            bytes: 2e8,
            seconds: 7200.0,
        };
        assert!(
            note("power", &slow)
                .unwrap()
                .contains("200 MB of memory and 2.0 h")
        );
    }

    #[test]
    fn simulate_size_grows_with_n() {
        let p = crate::protocol::load(std::path::Path::new("protocols/tamr_mcf7_xenograft.toml"))
            .unwrap();
        let e = Engine::new(&p.protocol, &crate::sim::SimOptions::default()).unwrap();
        let a = simulate(&e, Some(10));
        let b = simulate(&e, Some(10_000));
        assert!(b.bytes > 500.0 * a.bytes, "{a:?} {b:?}");
        assert!(note("simulate", &a).is_none());
    }
}
