//! The `leakwatch` command line. Contracts: `docs/contracts/check-v1.md` (check, disclose)
//! and `api-v1.md` (serve, tenant, user, token). Errors end the process with a one-line
//! message and a non-zero exit code, never a panic.

mod check;
mod disclose;
mod error;
mod input;
mod server;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

// The server's request path allocates small, short-lived buffers on every thread; mimalloc's
// per-thread pages cost less than glibc's arenas there (bench/README.md, issue 17).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "leakwatch",
    version,
    about = "Send-time data-leak prevention for e-mail"
)]
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
    /// Run the server.
    Serve(server::ServeArgs),
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(server::TenantCommand),
    /// Manage users.
    #[command(subcommand)]
    User(server::UserCommand),
    /// Issue bearer tokens, rotate the signing key.
    #[command(subcommand)]
    Token(server::TokenCommand),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            if !err.use_stderr() {
                // --help and --version
                let _ = err.print();
                return ExitCode::SUCCESS;
            }
            // Usage errors: the contract wants one line, clap renders several.
            let rendered = err.render().to_string();
            let first = rendered
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("usage error");
            eprintln!("leakwatch: {}", first.trim_start_matches("error: "));
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Disclose(args) => disclose::run(args),
        Command::Serve(args) => server::serve(args),
        Command::Tenant(command) => server::tenant(command),
        Command::User(command) => server::user(command),
        Command::Token(command) => server::token(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("leakwatch: {}", err.message);
            ExitCode::from(err.exit_code)
        }
    }
}
