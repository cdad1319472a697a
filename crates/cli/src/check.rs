//! `leakwatch check [FILE]`: one check-v1 Draft in (JSON), one Verdict out (JSON). Exit 0
//! whatever the verdict; invalid input exits 2 with a one-line message naming the field.

use std::path::PathBuf;

use leakwatch_core::{check::check_draft, Draft, Lang};

use crate::error::CliError;
use crate::input::read_input;

#[derive(clap::Args)]
pub struct CheckArgs {
    /// The draft as JSON; standard input when absent or `-`.
    file: Option<PathBuf>,
    /// Language of the messages.
    #[arg(long, default_value = "en", value_parser = parse_lang)]
    lang: Lang,
    /// Indent the JSON output.
    #[arg(long)]
    pretty: bool,
}

fn parse_lang(value: &str) -> Result<Lang, String> {
    value
        .parse()
        .map_err(|e: leakwatch_core::i18n::UnknownLang| e.to_string())
}

pub fn run(args: CheckArgs) -> Result<(), CliError> {
    let text = read_input(args.file.as_deref())?;
    let draft = parse_draft(&text)?;
    let verdict = check_draft(&draft, args.lang)
        .map_err(|e| CliError::invalid_input(format!("invalid draft: {e}")))?;
    let json = if args.pretty {
        serde_json::to_string_pretty(&verdict)
    } else {
        serde_json::to_string(&verdict)
    }
    .map_err(|e| CliError::failure(format!("cannot write the verdict: {e}")))?;
    println!("{json}");
    Ok(())
}

/// Parses the Draft, naming the path of the offending field in the error.
pub fn parse_draft(text: &str) -> Result<Draft, CliError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|err| {
            let path = err.path().to_string();
            let inner = err.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                CliError::invalid_input(format!("invalid draft: not valid JSON: {inner}"))
            } else if path == "." || path.is_empty() {
                CliError::invalid_input(format!("invalid draft: {inner}"))
            } else {
                CliError::invalid_input(format!("invalid draft: {path}: {inner}"))
            }
        })
        .and_then(|draft: Draft| {
            // Trailing garbage after the object is a mistake too.
            deserializer
                .end()
                .map_err(|e| CliError::invalid_input(format!("invalid draft: {e}")))?;
            Ok(draft)
        })
}
