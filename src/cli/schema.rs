//! `xenoplan schema`: the JSON Schema of the protocol file format (generated with schemars
//! from the file-schema structs, so it cannot drift from the parser).

/// Arguments of `xenoplan schema`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Prints the schema as pretty JSON.
pub fn run(_args: Args) -> anyhow::Result<()> {
    let s = serde_json::to_string_pretty(&crate::protocol::schema::json_schema())?;
    outln!("{s}");
    Ok(())
}
