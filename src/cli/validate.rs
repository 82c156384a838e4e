//! PLACEHOLDER: `recpipe-dse validate`.
use super::CliError;
/// Arguments.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {}
/// Run.
pub fn run(_args: &ValidateArgs) -> Result<(), CliError> {
    Err(CliError::runtime(anyhow::anyhow!("not built yet")))
}
