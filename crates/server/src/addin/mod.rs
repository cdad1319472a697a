//! The Outlook add-in served by the server itself, so that one binary is the whole
//! deployment: the built files under `/addin/outlook/` (embedded, [`files`]) and the two
//! manifests, plus the unified manifest's app package, rendered for this server's public
//! URL ([`manifest`]), which an admin gives to the Microsoft 365 admin centre.
//!
//! The send mode comes from a tenant's policy (`?tenant=NAME`): `softBlock` when it can
//! block, else `promptUser`. Without `?tenant=` the manifests say `softBlock`, the mode that
//! keeps every block a block (warnings can be sent anyway under both, ADR 0008).

pub mod files;
pub mod manifest;
pub mod sign_in;

use std::io::Write;

use axum::extract::{FromRef, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use leakwatch_core::Lang;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts;
use crate::kit::config::PublicUrl;
use crate::kit::db::Db;
use crate::kit::error::error_response;
use crate::kit::html::negotiate;
use crate::kit::json::{ApiPath, ApiQuery};
use manifest::{BaseUrl, SendMode};
pub use sign_in::{ClientConfig, MicrosoftSignIn};

/// The app package's name (the unified manifest with its two icons).
pub const APP_PACKAGE: &str = "leakwatch-outlook.zip";

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Db: FromRef<S>,
    PublicUrl: FromRef<S>,
    MicrosoftSignIn: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(client_config))
        .routes(routes!(manifest_xml))
        .routes(routes!(manifest_json))
        .routes(routes!(app_package))
        .routes(routes!(file))
        .routes(routes!(wasm_file))
}

/// Whether this binary carries the add-in, and where its manifest is: for the start-up line.
pub fn status(public_url: &str) -> Result<String, String> {
    if !files::built() {
        return Err(not_built_text(Lang::En));
    }
    BaseUrl::parse(public_url)
        .map(|base| format!("{}/addin/outlook/manifest.xml", base.href))
        .map_err(|_| bad_url_text(Lang::En, public_url))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ManifestQuery {
    /// The tenant (its name, as in `leakwatch tenant create --name`) whose policy sets the
    /// send mode; without it `softBlock`.
    tenant: Option<String>,
    /// The language of an error message (`nl`, `en`); else `Accept-Language`.
    lang: Option<String>,
}

/// The add-in-only XML manifest for this server (Outlook on the web, new and classic
/// Outlook on Windows, Outlook on Mac; sideloading or the admin centre).
#[utoipa::path(get, path = "/addin/outlook/manifest.xml", tag = "addin", params(ManifestQuery),
    responses((status = 200, description = "The manifest", content_type = "application/xml"),
        (status = 304, description = "Unchanged (If-None-Match)"),
        (status = 404, description = "No such tenant"),
        (status = 503, description = "The add-in is not built into this server, or its public URL is not https")))]
pub async fn manifest_xml(
    State(db): State<Db>,
    State(public_url): State<PublicUrl>,
    ApiQuery(query): ApiQuery<ManifestQuery>,
    headers: HeaderMap,
) -> Response {
    match rendered(&db, &public_url, &query, &headers, "manifest.xml.tmpl").await {
        Ok(xml) => files::respond("manifest.xml", xml.into_bytes(), &headers),
        Err(response) => response,
    }
}

/// The unified manifest (JSON) for this server; its app package is `leakwatch-outlook.zip`.
#[utoipa::path(get, path = "/addin/outlook/manifest.json", tag = "addin", params(ManifestQuery),
    responses((status = 200, description = "The manifest", content_type = "application/json"),
        (status = 304, description = "Unchanged (If-None-Match)"),
        (status = 404, description = "No such tenant"),
        (status = 503, description = "The add-in is not built into this server, or its public URL is not https")))]
pub async fn manifest_json(
    State(db): State<Db>,
    State(public_url): State<PublicUrl>,
    ApiQuery(query): ApiQuery<ManifestQuery>,
    headers: HeaderMap,
) -> Response {
    match rendered(&db, &public_url, &query, &headers, "manifest.json.tmpl").await {
        Ok(json) => files::respond("manifest.json", json.into_bytes(), &headers),
        Err(response) => response,
    }
}

/// The unified manifest's app package: `manifest.json` with `color.png` and `outline.png`,
/// what the Microsoft 365 admin centre (Integrated apps) uploads.
#[utoipa::path(get, path = "/addin/outlook/leakwatch-outlook.zip", tag = "addin", params(ManifestQuery),
    responses((status = 200, description = "The app package", content_type = "application/zip"),
        (status = 304, description = "Unchanged (If-None-Match)"),
        (status = 404, description = "No such tenant"),
        (status = 503, description = "The add-in is not built into this server, or its public URL is not https")))]
pub async fn app_package(
    State(db): State<Db>,
    State(public_url): State<PublicUrl>,
    ApiQuery(query): ApiQuery<ManifestQuery>,
    headers: HeaderMap,
) -> Response {
    let json = match rendered(&db, &public_url, &query, &headers, "manifest.json.tmpl").await {
        Ok(json) => json,
        Err(response) => return response,
    };
    let mut entries = vec![("manifest.json", json.into_bytes())];
    for icon in ["color.png", "outline.png"] {
        match files::bytes(icon) {
            Some(data) => entries.push((icon, data.into_owned())),
            None => return not_built(lang_of(&query, &headers)),
        }
    }
    match zip(&entries) {
        Ok(body) => {
            let mut response = files::respond(APP_PACKAGE, body, &headers);
            response.headers_mut().insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"leakwatch-outlook.zip\""),
            );
            response
        }
        Err(err) => crate::kit::error::ApiError::Internal(err).into_response(),
    }
}

/// What the task pane reads next to itself: the Entra app for "Sign in with Microsoft 365"
/// (null when the operator configured none: password sign-in only).
#[utoipa::path(get, path = "/addin/outlook/config.json", tag = "addin",
    responses((status = 200, description = "The task pane's sign-in settings", body = sign_in::ClientConfig)))]
pub async fn client_config(State(sign_in): State<MicrosoftSignIn>) -> Response {
    let mut response = axum::Json(sign_in.client_config()).into_response();
    // A changed registration must reach open task panes at their next load.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// A file of the add-in: the task pane and event pages, their scripts, the icons.
#[utoipa::path(get, path = "/addin/outlook/{file}", tag = "addin",
    params(("file" = String, Path, description = "e.g. taskpane.html, launchevent.js, icon-32.png")),
    responses((status = 200, description = "The file, with its type and ETag"),
        (status = 304, description = "Unchanged (If-None-Match)"),
        (status = 404, description = "No such file"),
        (status = 503, description = "The add-in is not built into this server")))]
pub async fn file(ApiPath(file): ApiPath<String>, headers: HeaderMap) -> Response {
    serve_file(&file, &headers).await
}

/// The core's WebAssembly package the task pane checks with.
#[utoipa::path(get, path = "/addin/outlook/wasm/{file}", tag = "addin",
    params(("file" = String, Path, description = "leakwatch_wasm.js or leakwatch_wasm_bg.wasm")),
    responses((status = 200, description = "The file, with its type and ETag"),
        (status = 304, description = "Unchanged (If-None-Match)"),
        (status = 404, description = "No such file"),
        (status = 503, description = "The add-in is not built into this server")))]
pub async fn wasm_file(ApiPath(file): ApiPath<String>, headers: HeaderMap) -> Response {
    serve_file(&format!("wasm/{file}"), &headers).await
}

async fn serve_file(path: &str, headers: &HeaderMap) -> Response {
    let lang = negotiate(None, headers);
    if !files::built() {
        return not_built(lang);
    }
    // The templates are the server's input, not the add-in's files.
    if path.starts_with("manifest-templates/") {
        return no_such_file(lang, path);
    }
    match files::prepared(path).await {
        Some(file) => files::respond_file(path, &file, headers),
        None => no_such_file(lang, path),
    }
}

fn lang_of(query: &ManifestQuery, headers: &HeaderMap) -> Lang {
    negotiate(query.lang.as_deref(), headers)
}

/// A manifest template rendered for this server and the tenant's send mode, or the error
/// response that says why not.
async fn rendered(
    db: &Db,
    public_url: &PublicUrl,
    query: &ManifestQuery,
    headers: &HeaderMap,
    template: &str,
) -> Result<String, Response> {
    let lang = lang_of(query, headers);
    let Some(text) = files::template(template) else {
        return Err(not_built(lang));
    };
    let mode = match query.tenant.as_deref().map(str::trim) {
        None | Some("") => SendMode::SoftBlock,
        Some(name) => match accounts::tenant_by_name(db, name).await {
            Ok(Some(tenant)) => SendMode::for_policy(&tenant.policy),
            Ok(None) => return Err(unknown_tenant(lang, name)),
            Err(err) => return Err(crate::kit::error::ApiError::from(err).into_response()),
        },
    };
    let base = BaseUrl::parse(public_url.as_str()).map_err(|_| {
        error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            &bad_url_text(lang, public_url.as_str()),
        )
    })?;
    manifest::render(&text, &base, mode).map_err(|e| {
        crate::kit::error::ApiError::Internal(anyhow::anyhow!("manifest {template}: {e}"))
            .into_response()
    })
}

/// A zip of `entries`, deflated, with fixed times so the same input gives the same bytes
/// (and the same ETag).
fn zip(entries: &[(&str, Vec<u8>)]) -> anyhow::Result<Vec<u8>> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    for (name, data) in entries {
        writer.start_file(*name, options)?;
        writer.write_all(data)?;
    }
    Ok(writer.finish()?.into_inner())
}

fn not_built_text(lang: Lang) -> String {
    match lang {
        Lang::En => "The Outlook add-in is not built into this server. Build it (node addin/outlook/build.mjs, after cargo xtask wasm; cargo xtask run does both) and then build the server again.".into(),
        Lang::Nl => "De Outlook-invoegtoepassing is niet in deze server ingebouwd. Bouw haar (node addin/outlook/build.mjs, na cargo xtask wasm; cargo xtask run doet beide) en bouw daarna de server opnieuw.".into(),
    }
}

fn bad_url_text(lang: Lang, url: &str) -> String {
    match lang {
        Lang::En => format!("The Outlook add-in needs this server's public URL (public_url, --public-url) to be https:// (http:// only for 127.0.0.1 or localhost), without credentials, query or fragment. Now: {url}."),
        Lang::Nl => format!("De Outlook-invoegtoepassing heeft een publieke URL van deze server (public_url, --public-url) nodig die met https:// begint (http:// alleen voor 127.0.0.1 of localhost), zonder inloggegevens, query of fragment. Nu: {url}."),
    }
}

fn not_built(lang: Lang) -> Response {
    error_response(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        &not_built_text(lang),
    )
}

fn unknown_tenant(lang: Lang, name: &str) -> Response {
    let message = match lang {
        Lang::En => format!("There is no organisation (tenant) named \"{name}\" on this server. Leave out ?tenant= for the manifest without a tenant policy."),
        Lang::Nl => format!("Er is op deze server geen organisatie (tenant) met de naam \"{name}\". Laat ?tenant= weg voor het manifest zonder beleid van een organisatie."),
    };
    error_response(StatusCode::NOT_FOUND, "not_found", &message)
}

fn no_such_file(lang: Lang, path: &str) -> Response {
    let message = match lang {
        Lang::En => format!("The Outlook add-in has no file {path}."),
        Lang::Nl => format!("De Outlook-invoegtoepassing heeft geen bestand {path}."),
    };
    error_response(StatusCode::NOT_FOUND, "not_found", &message)
}
