//! PLACEHOLDER: replaced by the accelerator work (`recpipe-dse accel eval`).
use super::CliError;
/// Accelerator subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum AccelCommand {
    /// Evaluate one stage.
    Eval,
}
/// Run.
pub fn run(_cmd: &AccelCommand) -> Result<(), CliError> {
    Err(CliError::runtime(anyhow::anyhow!("not built yet")))
}
