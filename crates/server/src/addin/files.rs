//! The built add-in (`dist/outlook`, `node addin/outlook/build.mjs`), embedded in the binary
//! at build time, also in debug builds, so the tests serve exactly what ships. The test
//! build (`target/outlook-test`, with the Office.js host double) is never embedded.
//!
//! When `dist/outlook` was not built before the server, the binary embeds nothing: the build
//! prints a warning (`build.rs`), the server logs one at start, and every add-in URL answers
//! 503 with how to fix it. `cargo xtask run` and `cargo xtask test` build the add-in first.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use flate2::write::GzEncoder;
use flate2::Compression;
use sha2::{Digest, Sha256};

use crate::kit::html::PagePolicy;

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

/// The `Content-Type` for a file name (what the add-in ships).
pub fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("xml") => "application/xml; charset=utf-8",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        Some("wasm") => "application/wasm",
        Some("zip") => "application/zip",
        _ => "application/octet-stream",
    }
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

/// A strong validator for `body`: part of its SHA-256.
pub fn etag(body: &[u8]) -> String {
    format!("\"{}\"", hex::encode(&Sha256::digest(body)[..16]))
}

/// Whether `If-None-Match` names `etag` (or is `*`); weak comparison, as for GET.
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag == etag)
}

/// Types worth compressing (the images and the zip are compressed already).
fn compressible(name: &str) -> bool {
    !matches!(
        name.rsplit_once('.').map(|(_, ext)| ext),
        Some("png" | "zip") | None
    )
}

/// Whether the client takes gzip (`Accept-Encoding`, a q-value of 0 refuses it).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

/// An embedded file ready to serve: its validator and, for text, its gzipped form, made once
/// per file and process (the event handler is 4 MB as built and the event runtime fetches it
/// at every start: hashing and compressing it per request would be the whole cost).
pub struct Prepared {
    plain: Bytes,
    etag: String,
    gzipped: Option<Bytes>,
}

/// The embedded file `path`, prepared on first use off the async workers (compressing 4 MB
/// at the best level takes a while), `None` when the build has no such file.
pub async fn prepared(path: &str) -> Option<Arc<Prepared>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Prepared>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(done) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(path) {
        return Some(done.clone());
    }
    let data = bytes(path)?;
    let name = path.to_string();
    let made = tokio::task::spawn_blocking(move || prepare(&name, data))
        .await
        .expect("preparing a file does not panic");
    let made = Arc::new(made);
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(path.to_string(), made.clone());
    Some(made)
}

fn prepare(path: &str, data: std::borrow::Cow<'static, [u8]>) -> Prepared {
    let etag = etag(&data);
    let gzipped = compressible(path).then(|| {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        encoder
            .write_all(&data)
            .and_then(|()| encoder.finish())
            .map(Bytes::from)
            .expect("gzip into memory cannot fail")
    });
    let plain = match data {
        std::borrow::Cow::Borrowed(data) => Bytes::from_static(data),
        std::borrow::Cow::Owned(data) => Bytes::from(data),
    };
    Prepared {
        plain,
        etag,
        gzipped,
    }
}

/// An embedded file of the build, gzipped when the client takes it.
pub fn respond_file(path: &str, file: &Prepared, request: &HeaderMap) -> Response {
    if let Some(packed) = file.gzipped.as_ref().filter(|_| accepts_gzip(request)) {
        // The encoded variant has its own validator: a cache must not mix the two.
        let tag = format!("\"{}-gz\"", file.etag.trim_matches('"'));
        let mut response = respond_with(path, packed.clone(), &tag, request);
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        return response;
    }
    let mut response = respond_with(path, file.plain.clone(), &file.etag, request);
    if file.gzipped.is_some() {
        response
            .headers_mut()
            .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

/// `body` as `name` with its type, validator and caching: stored but revalidated on every
/// use (`no-cache`), so an upgraded server's add-in is picked up at once and an unchanged one
/// costs a 304.
pub fn respond(name: &str, body: Vec<u8>, request: &HeaderMap) -> Response {
    let tag = etag(&body);
    respond_with(name, Bytes::from(body), &tag, request)
}

fn respond_with(name: &str, body: Bytes, etag: &str, request: &HeaderMap) -> Response {
    let mut response = if not_modified(request, etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        body.into_response()
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(name)),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
    if name.ends_with(".html") {
        // Written with the other security headers by the HTML layer.
        if let Ok(value) = HeaderValue::from_str(&content_security_policy()) {
            response.extensions_mut().insert(PagePolicy(value));
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_forms() {
        let tag = etag(b"x");
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::IF_NONE_MATCH, value.parse().unwrap());
            not_modified(&headers, &tag)
        };
        assert!(with(&tag));
        assert!(with(&format!("\"other\", W/{tag}")));
        assert!(with("*"));
        assert!(!with("\"other\""));
        assert!(!not_modified(&HeaderMap::new(), &tag));
    }

    #[test]
    fn accept_encoding_forms() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT_ENCODING, value.parse().unwrap());
            accepts_gzip(&headers)
        };
        assert!(with("gzip, deflate, br"));
        assert!(with("br;q=1.0, GZIP;q=0.5"));
        assert!(with("*"));
        assert!(!with("gzip;q=0"));
        assert!(!with("br, identity"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

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
