//! The manifest templates rendered for this deployment, by the same rules as
//! `addin/outlook/manifest/render.mjs` (the add-in's build renders its examples with that;
//! `tests/it/addin.rs` renders the same inputs with both and compares):
//!
//! - `{{base_url}}`: the public URL, without trailing slashes (a path prefix is kept);
//! - `{{base_host}}`: its host and port (the unified manifest's `validDomains`);
//! - `{{send_mode}}` / `{{send_mode_xml}}`: `promptUser`/`softBlock`, `PromptUser`/`SoftBlock`.
//!
//! The URL must be `https://`, or `http://` only on 127.0.0.1 or localhost (Office loads
//! add-ins from https only; plain http is for development), without credentials, query or
//! fragment; a placeholder left after rendering is an error.

use url::Url;

/// How Outlook treats a send the add-in stops (`OnMessageSend`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendMode {
    /// The user may send anyway.
    PromptUser,
    /// No way round a stop while the add-in runs; sent when the add-in is unavailable.
    SoftBlock,
}

impl SendMode {
    /// `softBlock` when the policy can block (under `promptUser` Outlook would offer "Send
    /// anyway" for a block too); warnings stay overridable under both (ADR 0008).
    pub fn for_policy(policy: &leakwatch_core::Policy) -> SendMode {
        if leakwatch_core::policy_can_block(policy) {
            SendMode::SoftBlock
        } else {
            SendMode::PromptUser
        }
    }

    /// The unified manifest's spelling.
    pub fn json(self) -> &'static str {
        match self {
            SendMode::PromptUser => "promptUser",
            SendMode::SoftBlock => "softBlock",
        }
    }

    /// The XML manifest's spelling.
    pub fn xml(self) -> &'static str {
        match self {
            SendMode::PromptUser => "PromptUser",
            SendMode::SoftBlock => "SoftBlock",
        }
    }

    pub fn parse(text: &str) -> Option<SendMode> {
        match text {
            "promptUser" => Some(SendMode::PromptUser),
            "softBlock" => Some(SendMode::SoftBlock),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("the public URL is not a URL: {0}")]
    NotAUrl(String),
    #[error("the public URL must be https:// (http:// only for 127.0.0.1 or localhost): {0}")]
    NotHttps(String),
    #[error("the public URL must not carry credentials, a query or a fragment: {0}")]
    Extras(String),
    #[error("the public URL has characters a manifest cannot carry: {0}")]
    Characters(String),
    #[error("unknown placeholder {0}")]
    Placeholder(String),
}

/// The checked base URL: `href` without trailing slashes, and its host (with a port other
/// than the scheme's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    pub href: String,
    pub host: String,
}

impl BaseUrl {
    pub fn parse(text: &str) -> Result<BaseUrl, RenderError> {
        let url = Url::parse(text).map_err(|_| RenderError::NotAUrl(text.into()))?;
        let host = url.host_str().unwrap_or_default();
        let local = host == "127.0.0.1" || host == "localhost";
        if !(url.scheme() == "https" || (url.scheme() == "http" && local)) {
            return Err(RenderError::NotHttps(text.into()));
        }
        if !url.username().is_empty()
            || url.password().is_some_and(|p| !p.is_empty())
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err(RenderError::Extras(text.into()));
        }
        let href = url.as_str();
        // JavaScript's \s, of which only ASCII can occur in a serialised URL.
        if href.chars().any(|c| "\"<>&' \t\n\u{b}\u{c}\r".contains(c)) {
            return Err(RenderError::Characters(text.into()));
        }
        let host = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        };
        Ok(BaseUrl {
            href: href.trim_end_matches('/').to_string(),
            host,
        })
    }
}

/// `template` with the placeholders filled in.
pub fn render(template: &str, base: &BaseUrl, mode: SendMode) -> Result<String, RenderError> {
    let out = template
        .replace("{{base_url}}", &base.href)
        .replace("{{base_host}}", &base.host)
        .replace("{{send_mode}}", mode.json())
        .replace("{{send_mode_xml}}", mode.xml());
    match leftover(&out) {
        Some(placeholder) => Err(RenderError::Placeholder(placeholder.into())),
        None => Ok(out),
    }
}

/// The first `{{...}}` (no `}` inside) in `text`, as render.mjs's `/\{\{[^}]*\}\}/` finds it.
fn leftover(text: &str) -> Option<&str> {
    let mut from = 0;
    while let Some(at) = text[from..].find("{{").map(|i| from + i) {
        let inner = at + 2;
        let close = text[inner..].find('}').map(|i| inner + i)?;
        if text[close..].starts_with("}}") {
            return Some(&text[at..close + 2]);
        }
        from = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(text: &str) -> BaseUrl {
        BaseUrl::parse(text).unwrap()
    }

    #[test]
    fn the_url_rules() {
        for bad in [
            "http://leakwatch.example.nl",
            "ftp://x.nl",
            "not a url",
            "https://u:p@x.nl",
            "https://u@x.nl",
            "https://x.nl/?a=1",
            "https://x.nl/?",
            "https://x.nl/#",
            "https://x.nl/it's",
            "http://[::1]:8080",
        ] {
            assert!(BaseUrl::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            base("http://127.0.0.1:8080/"),
            BaseUrl {
                href: "http://127.0.0.1:8080".into(),
                host: "127.0.0.1:8080".into()
            }
        );
        assert_eq!(base("https://x.nl:443/lw//").href, "https://x.nl/lw");
        assert_eq!(base("https://x.nl:443/lw//").host, "x.nl");
        assert_eq!(base("https://x.nl:8443").host, "x.nl:8443");
        assert_eq!(base("https://x.nl/\"><x").href, "https://x.nl/%22%3E%3Cx");
    }

    #[test]
    fn placeholders_are_filled_and_leftovers_refused() {
        let out = render(
            "{{base_url}}|{{base_host}}|{{send_mode}}|{{send_mode_xml}}",
            &base("https://x.nl:8443/lw/"),
            SendMode::SoftBlock,
        )
        .unwrap();
        assert_eq!(out, "https://x.nl:8443/lw|x.nl:8443|softBlock|SoftBlock");
        let b = base("https://x.nl");
        assert_eq!(
            render("a {{other}} b", &b, SendMode::PromptUser),
            Err(RenderError::Placeholder("{{other}}".into()))
        );
        assert_eq!(
            render("{{{a}}", &b, SendMode::PromptUser),
            Err(RenderError::Placeholder("{{{a}}".into()))
        );
        assert!(render("{{a}b}} {", &b, SendMode::PromptUser).is_ok());
    }

    #[test]
    fn the_send_mode_follows_the_policy() {
        let mut policy = leakwatch_core::Policy::default();
        assert_eq!(SendMode::for_policy(&policy), SendMode::PromptUser);
        policy.blocked_domains.push("concurrent.nl".into());
        assert_eq!(SendMode::for_policy(&policy), SendMode::SoftBlock);
    }
}
