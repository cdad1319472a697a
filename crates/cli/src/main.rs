//! The `leakwatch` command line. Contracts: `shared/contracts/check-v1.md` (check, disclose)
//! and `api-v1.md` (serve, tenant, user, token). Errors end the process with a one-line
//! message and a non-zero exit code, never a panic.

mod check;
mod disclose;
mod error;
mod input;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

use error::CliError;

#[derive(Parser)]
#[command(name = "leakwatch", version, about = "Send-time data-leak prevention for e-mail")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a draft (JSON, check-v1) and print the verdict as JSON.
    Check(check::CheckArgs),
    /// Add the recipient disclosure (and pixel) to a message body.
    Disclose(disclose::DiscloseArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help/version to stdout and usage errors to stderr itself.
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Disclose(args) => disclose::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("leakwatch: {}", err.message);
            ExitCode::from(err.exit_code)
        }
    }
}
