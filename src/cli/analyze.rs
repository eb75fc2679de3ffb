//! `xenoplan analyze`.

/// Arguments of `xenoplan analyze`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `xenoplan analyze`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`analyze` is not yet implemented")
}
