//! PLACEHOLDER: replaced by the sim benchmark.
use super::CliError;
/// Arguments.
#[derive(Debug, clap::Args)]
pub struct BenchSimArgs {}
/// Run.
pub fn run(_args: &BenchSimArgs) -> Result<(), CliError> {
    Err(CliError::runtime(anyhow::anyhow!("not built yet")))
}
