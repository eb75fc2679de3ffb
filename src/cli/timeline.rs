//! `xenoplan timeline`: dated dry run of a protocol (`study::timeline`).

use crate::protocol::WeekendPolicy;
use crate::study::timeline::{TimelineJob, parse_date};
use jiff::civil::Date;
use std::path::PathBuf;

/// Weekend / holiday handling on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WeekendArg {
    /// Keep every date; no flag.
    Allow,
    /// Move one-off and sparse recurring events to the next working day (daily dosing stays).
    Shift,
    /// Keep the date and flag weekend/holiday work.
    Flag,
}

/// Arguments of `xenoplan timeline`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:
  xenoplan timeline protocols/tamr_mcf7_xenograft.toml --start 2027-01-04 --out output/timeline")]
pub struct Args {
    /// Protocol file (TOML), or a campaign file (a `[campaign]` table linking protocols).
    pub file: PathBuf,
    /// Start date (day 0 of the first phase), YYYY-MM-DD; default: the next Monday.
    #[arg(long, value_parser = super::parse_start)]
    pub start: Option<Date>,
    /// Output directory (default: output/<protocol-id>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// A holiday (YYYY-MM-DD); repeatable.
    #[arg(long = "holiday", value_parser = parse_date)]
    pub holidays: Vec<Date>,
    /// File of holidays: one YYYY-MM-DD per line (first comma-separated field); `#` comments.
    #[arg(long = "holidays")]
    pub holidays_file: Option<PathBuf>,
    /// Weekend policy (overrides the protocol's `[calendar] weekend`).
    #[arg(long, value_enum)]
    pub weekend: Option<WeekendArg>,
    /// Seed of the enrollment simulations.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Simulated cohorts per conditional phase (≥ 200 recommended for the 5–95% range).
    #[arg(long, default_value_t = 400, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub sims: u64,
    /// Fraction of tumour-bearing animals that can be enrolled (animals to implant); default
    /// 0.4 for single-day and 0.8 for rolling enrollment, as the simulator assumes.
    #[arg(long)]
    pub enrollment_yield: Option<f64>,
}

/// Runs `xenoplan timeline` on a protocol or, when the file has a `[campaign]` table, on a
/// campaign ([`crate::campaign`]).
pub fn run(args: Args) -> anyhow::Result<()> {
    if crate::campaign::is_campaign(&args.file) {
        let campaign = crate::campaign::load(&args.file).map_err(|e| anyhow::anyhow!("{e}"))?;
        // Any linked protocol stands in for `each.protocol`: the campaign sets it per stage.
        let Some(first) = campaign.first_protocol() else {
            anyhow::bail!("{}: the campaign links no protocol", args.file.display());
        };
        let job = crate::campaign::CampaignJob {
            campaign: &campaign,
            each: job(&args, first),
        };
        let run = crate::campaign::run(&job, &super::Console::default())?;
        out!("{}", run.text());
        return Ok(());
    }
    let loaded = crate::protocol::load(&args.file).map_err(|e| anyhow::anyhow!("{e}"))?;
    let run = crate::study::timeline::run(&job(&args, &loaded), &super::Console::default())?;
    out!("{}", run.text());
    Ok(())
}

/// The timeline settings of `args` for `loaded`.
fn job<'a>(args: &Args, loaded: &'a crate::protocol::Loaded) -> TimelineJob<'a> {
    TimelineJob {
        protocol: loaded,
        start: args.start,
        out: args.out.clone(),
        holidays: args.holidays.clone(),
        holidays_file: args.holidays_file.clone(),
        weekend: args.weekend.map(|w| match w {
            WeekendArg::Allow => WeekendPolicy::Allow,
            WeekendArg::Shift => WeekendPolicy::ShiftToNextWorkingDay,
            WeekendArg::Flag => WeekendPolicy::KeepAndFlag,
        }),
        seed: args.seed,
        sims: usize::try_from(args.sims).unwrap_or(usize::MAX),
        enrollment_yield: args.enrollment_yield,
    }
}
