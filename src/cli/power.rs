//! `xenoplan power`.

/// Arguments of `xenoplan power`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `xenoplan power`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`power` is not yet implemented")
}
