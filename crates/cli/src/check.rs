//! `leakwatch check` (in progress).

use crate::error::CliError;

#[derive(clap::Args)]
pub struct CheckArgs {}

pub fn run(_args: CheckArgs) -> Result<(), CliError> {
    Err(CliError::failure("check is not built yet"))
}
