//! `xenoplan list`.

/// Arguments of `xenoplan list`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `xenoplan list`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`list` is not yet implemented")
}
