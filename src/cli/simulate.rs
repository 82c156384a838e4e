//! PLACEHOLDER: replaced by the simulator work (`recpipe-dse simulate`).
use super::CliError;
/// Arguments.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {}
/// Run.
pub fn run(_args: &SimulateArgs) -> Result<(), CliError> {
    Err(CliError::runtime(anyhow::anyhow!("not built yet")))
}
