//! `xenoplan check FILE...`: parse and validate; print every problem; exit 1 on any error.

use crate::protocol;
use std::path::PathBuf;

/// Arguments of `xenoplan check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Protocol files (or campaign files) to check.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Also run the design check on each valid xenograft protocol: a seeded pilot study that
    /// finds a control that does not grow, an unreachable enrollment window, a pellet that runs
    /// out, dosing volumes above guidance, parameters contradicting their cited source, …
    #[arg(long)]
    pub design: bool,
    /// Seed of the design check's pilot study.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Report unknown keys (and sections of another protocol kind) as warnings instead of
    /// errors, for a file written for a newer xenoplan; each is printed, marked
    /// "(--allow-unknown)", and the run commands still refuse the file.
    #[arg(long)]
    pub allow_unknown: bool,
}

/// Runs `xenoplan check`: diagnostics go to stderr, one `ok` line per valid file to stdout.
pub fn run(args: Args) -> anyhow::Result<()> {
    let mut failed = 0usize;
    let opts = protocol::ParseOptions {
        allow_unknown: args.allow_unknown,
    };
    for f in &args.files {
        if crate::campaign::is_campaign(f) {
            match crate::campaign::load(f) {
                Ok(c) => outln!(
                    "ok: {} (campaign `{}`: {} stages, {} protocols)",
                    f.display(),
                    c.id,
                    c.stages.len(),
                    c.n_protocols()
                ),
                Err(e) => {
                    failed += 1;
                    diagln!("{e}");
                }
            }
            continue;
        }
        match protocol::load_with(f, opts) {
            Ok(l) => {
                for w in &l.warnings {
                    diag!("{w}");
                }
                let n = l.total_warnings;
                let warn = if n == 0 {
                    String::new()
                } else {
                    format!(" ({n} warning{})", if n == 1 { "" } else { "s" })
                };
                outln!(
                    "ok: {} ({} `{}`){warn}",
                    f.display(),
                    l.protocol.kind().as_str(),
                    l.protocol.id
                );
                if args.design && l.protocol.xenograft().is_some() {
                    let d = crate::design_check::check_design(&l.protocol, args.seed, None)
                        .map_err(|e| anyhow::anyhow!("{}: design check: {e}", f.display()))?;
                    out!("{d}");
                }
            }
            Err(e) => {
                failed += 1;
                diagln!("{e}");
            }
        }
    }
    if failed > 0 {
        anyhow::bail!(
            "{failed} of {} protocol file{} failed validation",
            args.files.len(),
            if args.files.len() == 1 { "" } else { "s" }
        );
    }
    Ok(())
}
