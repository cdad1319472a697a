//! `leakwatch disclose` (placeholder until issue 3 lands).

use crate::error::CliError;

#[derive(clap::Args)]
pub struct DiscloseArgs {}

pub fn run(_args: DiscloseArgs) -> Result<(), CliError> {
    Err(CliError::failure("disclose is not built yet"))
}
