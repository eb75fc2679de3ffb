//! `xenoplan list [DIR]`: id, kind and title of every protocol in a folder.

use crate::protocol;
use std::path::PathBuf;

/// Arguments of `xenoplan list`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder to scan for `*.toml` protocols.
    #[arg(default_value = "protocols")]
    pub dir: PathBuf,
}

/// The line naming a file that does not load.
fn invalid(f: &std::path::Path, n: usize) -> String {
    format!(
        "{}: invalid ({n} error{}; run `xenoplan check {}`)",
        f.display(),
        if n == 1 { "" } else { "s" },
        f.display()
    )
}

/// Runs `xenoplan list`: one line per valid protocol (sorted by file name); files that fail to
/// load are named on stderr and make the exit code 1.
pub fn run(args: Args) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(&args.dir)
        .map_err(|e| anyhow::anyhow!("cannot read folder {}: {e}", args.dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().and_then(|x| x.to_str()) == Some("toml"))
        .collect();
    files.sort();
    let mut rows = Vec::new();
    let mut bad = Vec::new();
    for f in &files {
        if crate::campaign::is_campaign(f) {
            match crate::campaign::load(f) {
                Ok(c) => rows.push((c.id.clone(), "campaign", c.title.clone())),
                Err(e) => bad.push(invalid(f, e.errors().count())),
            }
            continue;
        }
        match protocol::load(f) {
            Ok(l) => rows.push((
                l.protocol.id.clone(),
                l.protocol.kind().as_str(),
                l.protocol.title.clone(),
            )),
            Err(e) => bad.push(invalid(f, e.errors().count())),
        }
    }
    let w = rows.iter().map(|r| r.0.len()).max().unwrap_or(2).max(2);
    outln!("{:<w$}  {:<10}  TITLE", "ID", "KIND");
    for (id, kind, title) in &rows {
        outln!("{id:<w$}  {kind:<10}  {title}");
    }
    for b in &bad {
        diagln!("{b}");
    }
    if rows.is_empty() && bad.is_empty() {
        diagln!("no protocol files (*.toml) in {}", args.dir.display());
    }
    if !bad.is_empty() {
        anyhow::bail!(
            "{} protocol file{} in {} could not be loaded",
            bad.len(),
            if bad.len() == 1 { "" } else { "s" },
            args.dir.display()
        );
    }
    Ok(())
}
