//! `xenoplan show`.

/// Arguments of `xenoplan show`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `xenoplan show`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`show` is not yet implemented")
}
