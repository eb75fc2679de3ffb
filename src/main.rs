//! Thin binary: all logic lives in the library; see `xenoplan::cli`.
fn main() -> std::process::ExitCode {
    xenoplan::cli::main()
}
