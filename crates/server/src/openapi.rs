//! The OpenAPI 3.1 document (utoipa) at `/openapi.json`, and a self-contained docs page at
//! `/docs` (no CDN: recipients' networks and test machines are often offline).
//!
//! The paths come from the routes themselves: every feature registers its handlers with
//! `utoipa_axum::routes!`, so a route cannot be served without being documented; this
//! module adds the title, the shared schemas and the bearer scheme.

use std::sync::Arc;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "leakwatch", description = "Send-time data-leak prevention for e-mail: authentication, message registration, the leak-detection pixel, incidents and the breach register, alerts, privacy (transparency page, objection, retention, audit log, record of processing), the Outlook add-in and its manifests (/addin/outlook/)."),
    components(schemas(
        crate::messages::RegisterMessage, crate::messages::Registered, crate::messages::MessageView,
        crate::messages::MessageList,
        crate::incidents::CreateIncident, crate::incidents::Created, crate::incidents::IncidentView,
        crate::incidents::IncidentList, crate::incidents::UpdateIncident, crate::incidents::Decision,
        crate::pixel::evidence::Evidence, crate::pixel::evidence::ClassEvidence, crate::pixel::evidence::Status,
        crate::incidents::notification::NotificationDraft, crate::incidents::notification::NotificationEdits,
        crate::incidents::notification::Contact, crate::incidents::notification::Timeline, crate::incidents::notification::FirstFetch,
        crate::incidents::notification::PersonalData, crate::incidents::notification::DataKind, crate::incidents::notification::People,
        crate::alerts::http::AlertList, crate::alerts::Alert, crate::alerts::Kind, crate::alerts::Severity,
        crate::alerts::settings::AlertSettings, crate::alerts::settings::Webhook, crate::alerts::settings::WebhookFormat,
        crate::auth::http::LoginRequest, crate::auth::http::LoginResponse, crate::auth::http::Me, crate::auth::http::TenantRef,
        crate::auth::oidc::OidcSettings,
        crate::audit::Entry, crate::audit::AuditPage,
        crate::privacy::settings::PrivacySettings,
        crate::privacy::record::RecordOfProcessing, crate::privacy::record::ControllerDetails,
        crate::privacy::record::TrackingDetails, crate::privacy::record::RetentionDetails,
    )),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// `/openapi.json` and `/docs` for the document the routes made.
pub fn router<S: Clone + Send + Sync + 'static>(doc: utoipa::openapi::OpenApi) -> Router<S> {
    let json = Arc::new(doc);
    // Rendered once; a page that did not render (only a failing `Display` can) is a 500.
    let page =
        Arc::new(docs(&json).map_err(|e| tracing::error!(error = %e, "/docs did not render")));
    Router::new()
        .route(
            "/openapi.json",
            get(move || {
                let json = json.clone();
                async move { Json(json.as_ref().clone()) }
            }),
        )
        .route(
            "/docs",
            get(move || {
                let page = page.clone();
                async move {
                    match page.as_ref() {
                        Ok(page) => Html(page.clone()).into_response(),
                        Err(()) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
                    }
                }
            }),
        )
}

/// The OpenAPI document as a plain HTML reference (`templates/docs.html`).
#[derive(Template)]
#[template(path = "docs.html")]
struct DocsPage<'a> {
    version: &'a str,
    description: &'a str,
    operations: Vec<DocsOperation<'a>>,
}

struct DocsOperation<'a> {
    method: &'static str,
    path: &'a str,
    summary: String,
    responses: Vec<&'a str>,
}

/// Renders the OpenAPI document as a plain HTML reference.
fn docs(doc: &utoipa::openapi::OpenApi) -> Result<String, askama::Error> {
    let mut operations = Vec::new();
    for (path, item) in &doc.paths.paths {
        let methods = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("DELETE", &item.delete),
            ("PATCH", &item.patch),
            ("HEAD", &item.head),
        ];
        for (method, operation) in methods {
            if let Some(op) = operation {
                operations.push(DocsOperation {
                    method,
                    path,
                    summary: op
                        .summary
                        .clone()
                        .or(op.description.clone())
                        .unwrap_or_default(),
                    responses: op.responses.responses.keys().map(String::as_str).collect(),
                });
            }
        }
    }
    DocsPage {
        version: &doc.info.version,
        description: doc.info.description.as_deref().unwrap_or(""),
        operations,
    }
    .render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_docs_page_escapes_the_document() {
        let mut doc = ApiDoc::openapi();
        doc.info.description = Some("<script>alert('x')</script> \"a\" & b".into());
        let html = docs(&doc).unwrap();
        assert!(!html.contains("<script"));
        assert!(html.contains(
            "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &quot;a&quot; &amp; b</p>"
        ));
    }
}
