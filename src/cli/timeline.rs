//! `xenoplan timeline`.

/// Arguments of `xenoplan timeline`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `xenoplan timeline`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`timeline` is not yet implemented")
}
