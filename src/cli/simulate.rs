//! `xenoplan simulate`.

/// Arguments of `xenoplan simulate`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `xenoplan simulate`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`simulate` is not yet implemented")
}
