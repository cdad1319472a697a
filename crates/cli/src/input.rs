//! Reading the input of `check` and `disclose`: a file or standard input, as UTF-8.

use std::io::Read;
use std::path::Path;

use crate::error::CliError;

/// Reads FILE, or standard input when FILE is absent or `-`. Not UTF-8 is invalid input.
pub fn read_input(file: Option<&Path>) -> Result<String, CliError> {
    let mut bytes = Vec::new();
    match file {
        Some(path) if path != Path::new("-") => {
            bytes = std::fs::read(path).map_err(|err| {
                CliError::invalid_input(format!("cannot read {}: {err}", path.display()))
            })?;
        }
        _ => {
            std::io::stdin()
                .read_to_end(&mut bytes)
                .map_err(|err| CliError::failure(format!("cannot read standard input: {err}")))?;
        }
    }
    String::from_utf8(bytes).map_err(|err| {
        CliError::invalid_input(format!(
            "input is not UTF-8 (invalid byte at offset {})",
            err.utf8_error().valid_up_to()
        ))
    })
}
