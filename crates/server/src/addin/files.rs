//! The built add-in (`dist/outlook`, `node addin/outlook/build.mjs`), embedded in the binary
//! at build time, also in debug builds, so the tests serve exactly what ships. The test
//! build (`target/outlook-test`, with the Office.js host double) is never embedded.
//!
//! When `dist/outlook` was not built before the server, the binary embeds nothing: the build
//! prints a warning (`build.rs`), the server logs one at start, and every add-in URL answers
//! 503 with how to fix it. `cargo xtask run` and `cargo xtask test` build the add-in first.

use std::sync::Arc;

use axum::http::HeaderMap;
use axum::response::Response;

use crate::kit::embedded::{self, FileCache, Prepared};

#[derive(rust_embed::Embed)]
#[folder = "../../dist/outlook/"]
#[allow_missing = true]
// The examples are rendered for http://127.0.0.1:8080: served, they would point elsewhere.
#[exclude = "example/*"]
struct Outlook;

/// Whether the add-in was built into this binary.
pub fn built() -> bool {
    Outlook::get("taskpane.html").is_some()
}

/// A file of the build, `None` when absent; `manifest-templates/...` too.
pub fn bytes(path: &str) -> Option<std::borrow::Cow<'static, [u8]>> {
    Outlook::get(path).map(|file| file.data)
}

/// The manifest template `name` (`manifest.xml.tmpl`, `manifest.json.tmpl`).
pub fn template(name: &str) -> Option<String> {
    let data = bytes(&format!("manifest-templates/{name}"))?;
    String::from_utf8(data.into_owned()).ok()
}

/// The Outlook hosts that frame the add-in's pages (Outlook on the web and the new Outlook
/// on Windows, which is Outlook on the web in a window). Classic Outlook and Outlook on Mac
/// load them in their own web view, not in a frame.
pub const OUTLOOK_ORIGINS: &[&str] = &[
    "https://outlook.office.com",
    "https://outlook.office365.com",
    "https://outlook.live.com",
    "https://outlook.cloud.microsoft",
];

/// Office.js and its parts come from Microsoft's CDN, as every add-in page must load them.
pub const OFFICE_JS_ORIGIN: &str = "https://appsforoffice.microsoft.com";

/// Hosts Office.js is seen to load from or report to besides its own CDN (Microsoft
/// publishes no list: office-js issue 1005).
const OFFICE_JS_HELPERS: &str =
    "https://ajax.aspnetcdn.com https://browser.pipe.aria.microsoft.com";

/// The pages' policy: scripts from here and Microsoft's CDNs (the core is WebAssembly),
/// calls to this server, Microsoft sign-in and Microsoft Graph (Sent Items, for the first
/// contact history), framed only by Outlook. Inline styles are
/// allowed: Office.js and the Fluent UI components set them.
pub fn content_security_policy() -> String {
    format!(
        "default-src 'self'; script-src 'self' {OFFICE_JS_ORIGIN} {OFFICE_JS_HELPERS} 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline' {OFFICE_JS_ORIGIN}; img-src 'self' data: {OFFICE_JS_ORIGIN}; \
         connect-src 'self' {OFFICE_JS_HELPERS} https://login.microsoftonline.com https://graph.microsoft.com; \
         frame-src 'self' https://login.microsoftonline.com; object-src 'none'; \
         base-uri 'self'; form-action 'self'; frame-ancestors 'self' {}",
        OUTLOOK_ORIGINS.join(" ")
    )
}

/// The embedded file `path`, prepared once (see [`FileCache`]).
pub async fn prepared(path: &str) -> Option<Arc<Prepared>> {
    static CACHE: FileCache = FileCache::new();
    CACHE.prepared(path, bytes).await
}

/// An embedded file of the add-in, with the add-in pages' policy.
pub fn respond_file(path: &str, file: &Prepared, request: &HeaderMap) -> Response {
    embedded::respond_file(path, file, request, &content_security_policy())
}

/// A rendered file of the add-in (a manifest, the app package).
pub fn respond(name: &str, body: Vec<u8>, request: &HeaderMap) -> Response {
    embedded::respond(name, body, request, &content_security_policy())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pages_may_be_framed_by_outlook_only() {
        let csp = content_security_policy();
        assert!(!csp.contains("frame-ancestors 'none'"));
        for origin in OUTLOOK_ORIGINS {
            assert!(csp.contains(origin), "{origin}");
        }
        assert!(csp.contains(OFFICE_JS_ORIGIN));
    }
}
