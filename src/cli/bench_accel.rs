//! PLACEHOLDER: replaced by the accel benchmark.
use super::CliError;
/// Arguments.
#[derive(Debug, clap::Args)]
pub struct BenchAccelArgs {}
/// Run.
pub fn run(_args: &BenchAccelArgs) -> Result<(), CliError> {
    Err(CliError::runtime(anyhow::anyhow!("not built yet")))
}
