//! `leakwatch disclose`: adds the recipient disclosure (and, for tracked HTML, the pixel) to
//! a message body. Contract: `check-v1.md`, section `leakwatch disclose`.
//!
//! Every argument is checked before the body is read and nothing is printed until the result
//! is complete, so an error leaves standard output empty. Errors are one line, exit 2 for
//! bad input (a URL, the format, the language, the policy, the body).

use std::io::Write;
use std::path::{Path, PathBuf};

use leakwatch_core::disclose::{insert_html, insert_text, InfoUrl, Insertion, PixelUrl};
use leakwatch_core::{Lang, Policy};

use crate::error::CliError;
use crate::input::read_input;

#[derive(clap::Args)]
pub struct DiscloseArgs {
    /// Body format: `html` or `text` (required).
    #[arg(long, value_name = "html|text")]
    format: Option<String>,
    /// Link to this message's recipient transparency page, absolute http(s) (required).
    #[arg(long, value_name = "URL")]
    info_url: Option<String>,
    /// The pixel of a tracked message; html only (a text body never gets a pixel).
    #[arg(long, value_name = "URL")]
    pixel_url: Option<String>,
    /// Language of the notice: `nl` or `en` [default: en].
    #[arg(long, value_name = "nl|en")]
    lang: Option<String>,
    /// A policy JSON file whose `disclosure` field (organisation, DPO, texts) is used.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// The message body; standard input when absent or `-`.
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Html,
    Text,
}

pub fn run(args: DiscloseArgs) -> Result<(), CliError> {
    let format = match args.format.as_deref().map(str::trim) {
        Some(f) if f.eq_ignore_ascii_case("html") => Format::Html,
        Some(f) if f.eq_ignore_ascii_case("text") => Format::Text,
        Some(other) => {
            return Err(CliError::invalid_input(format!(
                "--format: unknown format '{other}' (expected html or text)"
            )))
        }
        None => return Err(CliError::invalid_input("--format html|text is required")),
    };
    let info_url = args
        .info_url
        .as_deref()
        .ok_or_else(|| CliError::invalid_input("--info-url URL is required"))?;
    let info_url = InfoUrl::parse(info_url)
        .map_err(|e| CliError::invalid_input(format!("--info-url: {e}")))?;
    let pixel_url = args
        .pixel_url
        .as_deref()
        .map(PixelUrl::parse)
        .transpose()
        .map_err(|e| CliError::invalid_input(format!("--pixel-url: {e}")))?;
    let lang = match args.lang.as_deref() {
        Some(lang) => lang
            .parse::<Lang>()
            .map_err(|e| CliError::invalid_input(format!("--lang: {e}")))?,
        None => Lang::En,
    };
    let policy = match &args.policy {
        Some(path) => read_policy(path)?,
        None => Policy::default(),
    };
    let insertion = Insertion::new(&policy.disclosure, lang, info_url, pixel_url)
        .map_err(|e| CliError::invalid_input(format!("--policy: {e}")))?;

    let body = read_input(args.file.as_deref())?;
    let output = match format {
        // A text body never carries a pixel, whatever --pixel-url says.
        Format::Text => insert_text(&body, insertion.disclosure()),
        Format::Html => {
            insert_html(&body, &insertion)
                .map_err(|e| CliError::invalid_input(format!("cannot add the disclosure: {e}")))?
                .html
        }
    };

    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(output.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| CliError::failure(format!("cannot write standard output: {e}")))
}

/// A policy JSON file; errors name the file and the field.
fn read_policy(path: &Path) -> Result<Policy, CliError> {
    let bytes = std::fs::read(path).map_err(|e| {
        CliError::invalid_input(format!("--policy: cannot read {}: {e}", path.display()))
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        CliError::invalid_input(format!(
            "--policy: {} is not UTF-8 (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })?;
    let mut de = serde_json::Deserializer::from_str(&text);
    let policy: Policy = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        let field = if field == "." {
            String::new()
        } else {
            format!("{field}: ")
        };
        CliError::invalid_input(format!(
            "--policy: {}: {field}{}",
            path.display(),
            e.into_inner()
        ))
    })?;
    de.end()
        .map_err(|e| CliError::invalid_input(format!("--policy: {}: {e}", path.display())))?;
    Ok(policy)
}
