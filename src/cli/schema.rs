//! `xenoplan schema`.

/// Arguments of `xenoplan schema`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `xenoplan schema`.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`schema` is not yet implemented")
}
