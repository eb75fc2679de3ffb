//! `xenoplan check`.

/// Arguments of `xenoplan check`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `xenoplan check`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`check` is not yet implemented")
}
