//! Serving files embedded in the binary at build time (the Outlook add-in, the dashboard):
//! a strong validator per file, gzip for text when the client takes it, made once per file
//! and process off the async workers, `no-cache` so an upgraded server's files are picked up
//! at once while an unchanged one costs a 304. Each embedding feature gives its files and
//! the Content-Security-Policy its HTML pages carry.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use flate2::write::GzEncoder;
use flate2::Compression;
use sha2::{Digest, Sha256};

use super::html::PagePolicy;

/// The `Content-Type` for a file name.
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

/// Prepared files by path, one per embedding (a `static`).
pub struct FileCache(OnceLock<Mutex<HashMap<String, Arc<Prepared>>>>);

impl Default for FileCache {
    fn default() -> Self {
        FileCache::new()
    }
}

impl FileCache {
    pub const fn new() -> FileCache {
        FileCache(OnceLock::new())
    }

    /// The embedded file `path` (read by `load`), prepared on first use off the async
    /// workers (compressing 4 MB at the best level takes a while), `None` when the build has
    /// no such file.
    pub async fn prepared(
        &self,
        path: &str,
        load: impl FnOnce(&str) -> Option<Cow<'static, [u8]>>,
    ) -> Option<Arc<Prepared>> {
        let cache = self.0.get_or_init(Default::default);
        if let Some(done) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(path) {
            return Some(done.clone());
        }
        let data = load(path)?;
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
}

fn prepare(path: &str, data: Cow<'static, [u8]>) -> Prepared {
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
        Cow::Borrowed(data) => Bytes::from_static(data),
        Cow::Owned(data) => Bytes::from(data),
    };
    Prepared {
        plain,
        etag,
        gzipped,
    }
}

/// An embedded file, gzipped when the client takes it; an HTML page carries `csp`.
pub fn respond_file(path: &str, file: &Prepared, request: &HeaderMap, csp: &str) -> Response {
    if let Some(packed) = file.gzipped.as_ref().filter(|_| accepts_gzip(request)) {
        // The encoded variant has its own validator: a cache must not mix the two.
        let tag = format!("\"{}-gz\"", file.etag.trim_matches('"'));
        let mut response = respond_with(path, packed.clone(), &tag, request, csp);
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        return response;
    }
    let mut response = respond_with(path, file.plain.clone(), &file.etag, request, csp);
    if file.gzipped.is_some() {
        response
            .headers_mut()
            .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

/// `body` as `name` with its type, validator and caching (a rendered manifest, say).
pub fn respond(name: &str, body: Vec<u8>, request: &HeaderMap, csp: &str) -> Response {
    let tag = etag(&body);
    respond_with(name, Bytes::from(body), &tag, request, csp)
}

fn respond_with(name: &str, body: Bytes, etag: &str, request: &HeaderMap, csp: &str) -> Response {
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
        if let Ok(value) = HeaderValue::from_str(csp) {
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
}
