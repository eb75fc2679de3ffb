//! `xenoplan power`: Monte Carlo power per comparison and endpoint, the recommended arm size,
//! animals to implant and a sample-size justification paragraph (`study::power`).

use crate::study::power::PowerJob;
use std::path::PathBuf;

/// Arguments of `xenoplan power`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  xenoplan power examples/p1_power.toml --n 3..15 --reps 20000 --threads 2\n  xenoplan power examples/p1_power.toml --n 4..10 --reps 4000 --engine full   # whole simulated studies\n  xenoplan power examples/p1_power.toml --n 3..15 --reps 1000 --precision 0.01   # add replicates until every CI half-width <= 1 point\n  xenoplan power examples/pdx_panel_power.toml --lines 3,5,10 --mice 2,3,4 --reps 4000   # PDX panel: lines x mice per line"
)]
pub struct Args {
    /// Protocol file (xenograft, or assay for in vitro sizing).
    pub file: PathBuf,
    /// Animals per arm to evaluate: `A..B` (inclusive), `N`, or a list `4,6,8` (default 3..15).
    #[arg(long = "n")]
    pub n: Option<String>,
    /// Panel design: numbers of lines to size, comma-separated (`[panel]` protocols; default:
    /// the panel's `lines`). Sizes lines × mice per line instead of n per arm.
    #[arg(long, value_delimiter = ',')]
    pub lines: Vec<u32>,
    /// Panel design: mice per arm per line, comma-separated (default: the panel's `mice`).
    #[arg(long, value_delimiter = ',')]
    pub mice: Vec<u32>,
    /// Panel design: cost of one more line counted in mice (default: the panel's
    /// `line-cost`, else 0 = minimise animals).
    #[arg(long)]
    pub line_cost: Option<f64>,
    /// Size the protocol's `[panel]` on its own grid (implied by --lines or --mice).
    #[arg(long)]
    pub panel: bool,
    /// Simulated studies per n (default 1000: Wilson CI half-width ≤ 3.1 points; assumed).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(0..=super::MAX_REPS))]
    pub reps: u64,
    /// Target Wilson 95% CI half-width of every reported power (e.g. 0.01): after --reps,
    /// replicates are added in deterministic rounds until it is reached (recorded in
    /// manifest.json; the same for any thread count).
    #[arg(long)]
    pub precision: Option<f64>,
    /// Replicate cap of --precision.
    #[arg(long, default_value_t = crate::study::power::DEFAULT_MAX_REPS, value_parser = clap::value_parser!(u64).range(1..=super::MAX_REPS))]
    pub max_reps: u64,
    /// Two-sided significance level (default: the protocol's analysis plan).
    #[arg(long)]
    pub alpha: Option<f64>,
    /// Target power (default: the protocol's analysis plan).
    #[arg(long)]
    pub target: Option<f64>,
    /// Seed of every random stream.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_parser = super::parse_threads)]
    pub threads: Option<usize>,
    /// Endpoints, comma-separated: welch-log, mwu, slope, auc, lmm, logrank, response (default:
    /// the protocol's analysis plan; the first is primary).
    #[arg(long, value_delimiter = ',')]
    pub endpoint: Vec<String>,
    /// Multiplicity adjustment of every family the protocol does not set (default: the
    /// protocol's `[analysis] adjust`).
    #[arg(long, value_parser = ["holm", "bonferroni", "none", "fixed-sequence"])]
    pub adjust: Option<String>,
    /// Also size for every comparison significant in the same study.
    #[arg(long)]
    pub joint: bool,
    /// Independent random streams per (n, replicate) instead of common random numbers across n.
    #[arg(long)]
    pub no_crn: bool,
    /// Power engine: `auto` (the tight path when the compiled design is eligible, else whole
    /// simulated studies), `tight` (error when not eligible) or `full`.
    #[arg(long, default_value = "auto", value_parser = ["auto", "tight", "full"])]
    pub engine: String,
    /// Calendar date of the protocol's first day (YYYY-MM-DD), on which weekday caliper
    /// schedules are placed; default Monday 2027-01-04 (as `simulate`).
    #[arg(long)]
    pub start: Option<jiff::civil::Date>,
    /// Robustness scenario: `expected` (the protocol as written), `optimistic` (effects ×1.25,
    /// variability ×0.8), `pessimistic` (effects ×0.75, variability ×1.25) or `all` (expected,
    /// with the recommended n under the other two; factors assumed).
    #[arg(long, default_value = "expected", value_parser = ["expected", "optimistic", "pessimistic", "all"])]
    pub scenario: String,
    /// In vitro sizing (assay protocols): IC50 fold shift to detect, shifted / reference
    /// line (default 10).
    #[arg(long)]
    pub fold_shift: Option<f64>,
    /// In vitro sizing (assay protocols): also detect a maximal inhibition lower by this
    /// fraction of growth (e.g. 0.2), tested on the fitted maximal inhibition 1 − bottom/top.
    #[arg(long, allow_hyphen_values = true)]
    pub max_inhibition_diff: Option<f64>,
    /// In vitro sizing (assay protocols): independent experiments per line to size, `A..B`,
    /// `K` or a list, each ≥ 2 (Welch t test on the per-experiment IC50s; default: one
    /// experiment, Wald test within it).
    #[arg(long)]
    pub experiments: Option<String>,
    /// Print the JSON summary on stdout (instead of the text report).
    #[arg(long)]
    pub json: bool,
    /// Output folder (default `output/<protocol-id>/`).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Runs `xenoplan power`.
pub fn run(args: Args) -> anyhow::Result<()> {
    // A campaign would otherwise fail as a protocol with unknown top-level keys.
    if crate::campaign::is_campaign(&args.file) {
        anyhow::bail!(
            "{} is a campaign file: `power` sizes one protocol; run it on a xenograft or assay protocol the campaign links (its `file =` entries)",
            args.file.display()
        );
    }
    let loaded = crate::protocol::load(&args.file)?;
    for w in &loaded.warnings {
        diag!("{w}");
    }
    if loaded.protocol.kind() == crate::protocol::ProtocolKind::Assay {
        return run_assay(args, &loaded);
    }
    if args.fold_shift.is_some() || args.max_inhibition_diff.is_some() || args.experiments.is_some()
    {
        anyhow::bail!(
            "--fold-shift, --max-inhibition-diff and --experiments size assay protocols; {} is a {} protocol",
            loaded.protocol.id,
            loaded.protocol.kind().as_str()
        );
    }
    if args.panel || !args.lines.is_empty() || !args.mice.is_empty() || args.line_cost.is_some() {
        return run_panel(args, &loaded);
    }
    let job = PowerJob {
        protocol: &loaded,
        n: args.n.unwrap_or_else(|| "3..15".into()),
        reps: args.reps,
        precision: args.precision,
        max_reps: args.max_reps,
        alpha: args.alpha,
        target: args.target,
        seed: args.seed,
        threads: args.threads,
        endpoints: args.endpoint,
        adjust: args.adjust,
        joint: args.joint,
        common_random_numbers: !args.no_crn,
        engine: args.engine,
        start: args.start,
        scenario: args.scenario,
        out: args.out,
    };
    let run = crate::study::power::run(&job, &super::Console::default())?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&run.json())?);
    } else {
        out!("{}", run.text());
    }
    Ok(())
}

/// `power` on an assay protocol: replicate wells per condition for an IC50 shift. Options of
/// the xenograft engines are refused rather than ignored.
fn run_assay(args: Args, loaded: &crate::protocol::Loaded) -> anyhow::Result<()> {
    let not_assay: Vec<&str> = [
        ("--lines", !args.lines.is_empty()),
        ("--mice", !args.mice.is_empty()),
        ("--line-cost", args.line_cost.is_some()),
        ("--panel", args.panel),
        ("--precision", args.precision.is_some()),
        ("--endpoint", !args.endpoint.is_empty()),
        ("--adjust", args.adjust.is_some()),
        ("--joint", args.joint),
        ("--no-crn", args.no_crn),
        ("--engine", args.engine != "auto"),
        ("--start", args.start.is_some()),
        ("--scenario", args.scenario != "expected"),
    ]
    .into_iter()
    .filter_map(|(k, on)| on.then_some(k))
    .collect();
    if !not_assay.is_empty() {
        anyhow::bail!(
            "{} cannot be used on an assay protocol: in vitro sizing takes --n (replicate wells per condition), --reps, --alpha, --target, --fold-shift, --max-inhibition-diff, --experiments, --seed, --threads",
            not_assay.join(", ")
        );
    }
    let mut job = crate::study::assay_power::AssayPowerJob::new(loaded);
    job.n = args.n;
    job.reps = args.reps;
    job.alpha = args.alpha;
    job.target = args.target;
    job.fold_shift = args.fold_shift;
    job.max_inhibition_diff = args.max_inhibition_diff;
    job.experiments = args.experiments;
    job.seed = args.seed;
    job.threads = args.threads;
    job.out = args.out;
    let run = crate::study::assay_power::run(&job, &super::Console::default())?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&run.json())?);
    } else {
        out!("{}", run.text());
    }
    Ok(())
}

/// `power --lines … --mice …`: the panel grid. Options of the per-arm engine are refused
/// rather than ignored.
fn run_panel(args: Args, loaded: &crate::protocol::Loaded) -> anyhow::Result<()> {
    let not_panel: Vec<&str> = [
        ("--n", args.n.is_some()),
        ("--endpoint", !args.endpoint.is_empty()),
        ("--adjust", args.adjust.is_some()),
        ("--joint", args.joint),
        ("--no-crn", args.no_crn),
        ("--engine", args.engine != "auto"),
        ("--scenario", args.scenario != "expected"),
    ]
    .into_iter()
    .filter_map(|(k, on)| on.then_some(k))
    .collect();
    if !not_panel.is_empty() {
        anyhow::bail!(
            "{} cannot be combined with a panel run (--lines/--mice/--line-cost/--panel): the panel sizes lines × mice per line with the tests of [panel]",
            not_panel.join(", ")
        );
    }
    let mut job = crate::study::panel::PanelJob::new(loaded);
    job.lines = args.lines;
    job.mice = args.mice;
    job.reps = args.reps;
    job.precision = args
        .precision
        .map(|half_width| crate::power::engine::Precision {
            half_width,
            max_reps: args.max_reps,
        });
    job.alpha = args.alpha;
    job.target = args.target;
    job.line_cost = args.line_cost;
    job.seed = args.seed;
    job.threads = args.threads;
    job.start = args.start;
    job.out = args.out;
    let run = crate::study::panel::run(&job, &super::Console::default())?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&run.json())?);
    } else {
        out!("{}", run.text());
    }
    Ok(())
}
