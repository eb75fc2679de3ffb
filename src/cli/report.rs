//! `xenoplan report`.

/// Arguments of `xenoplan report`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `xenoplan report`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`report` is not yet implemented")
}
