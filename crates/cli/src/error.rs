//! One error type for every subcommand: a one-line message and the exit code.

#[derive(Debug)]
pub struct CliError {
    pub exit_code: u8,
    pub message: String,
}

impl CliError {
    /// Bad input from the user (exit 2, as the contracts require).
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self {
            exit_code: 2,
            message: one_line(message.into()),
        }
    }

    /// Anything else that went wrong (exit 1).
    pub fn failure(message: impl Into<String>) -> Self {
        Self {
            exit_code: 1,
            message: one_line(message.into()),
        }
    }
}

/// Contract: the message on standard error is a single line.
fn one_line(message: String) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}
