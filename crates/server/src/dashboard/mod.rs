//! The web dashboard (`web/`, built into `dist/web` by `node web/build.mjs`), embedded in the
//! binary at build time and served at `/`: a single page that works with the API over the
//! browser session (ADR 0009). Its pages carry a policy without inline script, are never
//! framed and send no referrer.
//!
//! When `dist/web` was not built before the server, the binary embeds nothing: the build
//! prints a warning (`build.rs`) and `/` answers 503 saying how to build it.

use crate::kit::json::ApiPath;
use axum::extract::{FromRef, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::addin::{ClientConfig, MicrosoftSignIn};
use crate::kit::embedded::{self, FileCache};

#[derive(rust_embed::Embed)]
#[folder = "../../dist/web/"]
#[allow_missing = true]
struct Dashboard;

/// Whether the dashboard was built into this binary.
pub fn built() -> bool {
    Dashboard::get("index.html").is_some()
}

/// Scripts and styles from here only (no inline script; Fluent UI sets inline styles), the
/// core's WebAssembly, calls to this server, the disclosure preview in a sandboxed `srcdoc`
/// frame, never framed itself.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    MicrosoftSignIn: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(page))
        .routes(routes!(client_config))
        .routes(routes!(entra_script))
        .routes(routes!(entra_redirect))
        .routes(routes!(entra_redirect_script))
        .routes(routes!(script))
        .routes(routes!(styles))
        .routes(routes!(chunk))
        .routes(routes!(core_file))
}

/// The dashboard's page (sign-in, then the pages of the user's role).
#[utoipa::path(get, path = "/", tag = "dashboard",
    responses((status = 200, description = "The dashboard's page", content_type = "text/html"),
        (status = 503, description = "The dashboard is not built into this server")))]
pub async fn page(headers: HeaderMap) -> Response {
    serve("index.html".into(), headers).await
}

/// What the sign-in page needs to offer "Sign in with Microsoft": the deployment's Entra
/// app (`[outlook]`, the same registration as the Outlook add-in's, with this page's address
/// as a single-page-application redirect URI); `null` offers passwords only.
#[utoipa::path(get, path = "/config.json", tag = "dashboard",
    responses((status = 200, body = ClientConfig)))]
pub async fn client_config(State(sign_in): State<MicrosoftSignIn>) -> Response {
    let mut response = axum::Json(sign_in.client_config()).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// Microsoft's sign-in library and the page's use of it, loaded only when a user chooses
/// "Sign in with Microsoft".
#[utoipa::path(get, path = "/entra.js", tag = "dashboard",
    responses((status = 200, description = "The script", content_type = "text/javascript")))]
pub async fn entra_script(headers: HeaderMap) -> Response {
    serve("entra.js".into(), headers).await
}

/// The empty page Microsoft's sign-in window returns to; the dashboard reads the answer
/// from it and closes it.
#[utoipa::path(get, path = "/entra-redirect.html", tag = "dashboard",
    responses((status = 200, description = "An empty page", content_type = "text/html")))]
pub async fn entra_redirect(headers: HeaderMap) -> Response {
    serve("entra-redirect.html".into(), headers).await
}

/// The redirect page's script: MSAL's bridge back to the window that opened it.
#[utoipa::path(get, path = "/entra-redirect.js", tag = "dashboard",
    responses((status = 200, description = "The script", content_type = "text/javascript")))]
pub async fn entra_redirect_script(headers: HeaderMap) -> Response {
    serve("entra-redirect.js".into(), headers).await
}

/// The dashboard's script.
#[utoipa::path(get, path = "/app.js", tag = "dashboard",
    responses((status = 200, description = "The script", content_type = "text/javascript")))]
pub async fn script(headers: HeaderMap) -> Response {
    serve("app.js".into(), headers).await
}

/// The dashboard's styles.
#[utoipa::path(get, path = "/app.css", tag = "dashboard",
    responses((status = 200, description = "The styles", content_type = "text/css")))]
pub async fn styles(headers: HeaderMap) -> Response {
    serve("app.css".into(), headers).await
}

/// A part of the script loaded by the page that needs it (the charts).
#[utoipa::path(get, path = "/chunks/{file}", tag = "dashboard",
    params(("file" = String, Path, description = "The part's file name")),
    responses((status = 200, description = "The part", content_type = "text/javascript"),
        (status = 404, description = "No such part")))]
pub async fn chunk(ApiPath(file): ApiPath<String>, headers: HeaderMap) -> Response {
    serve(format!("chunks/{file}"), headers).await
}

/// The WebAssembly core, for the disclosure preview and the policy simulator.
#[utoipa::path(get, path = "/wasm/{file}", tag = "dashboard",
    params(("file" = String, Path, description = "leakwatch_wasm.js or leakwatch_wasm_bg.wasm")),
    responses((status = 200, description = "The core's file"), (status = 404, description = "No such file")))]
pub async fn core_file(ApiPath(file): ApiPath<String>, headers: HeaderMap) -> Response {
    serve(format!("wasm/{file}"), headers).await
}

async fn serve(path: String, headers: HeaderMap) -> Response {
    static CACHE: FileCache = FileCache::new();
    if !built() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "The dashboard is not built into this server. Build it with `cargo xtask wasm` and \
             `node web/build.mjs` (`cargo xtask run` does both), then build the server again.\n",
        )
            .into_response();
    }
    let Some(file) = CACHE
        .prepared(&path, |p| Dashboard::get(p).map(|f| f.data))
        .await
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // The HTML layer adds X-Frame-Options and the referrer policy to the page.
    embedded::respond_file(&path, &file, &headers, CONTENT_SECURITY_POLICY)
}
