//! `xenoplan fit`.

/// Arguments of `xenoplan fit`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `xenoplan fit`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`fit` is not yet implemented")
}
