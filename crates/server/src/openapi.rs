//! The OpenAPI 3.1 document (utoipa) at `/openapi.json`, and a self-contained docs page at
//! `/docs` (no CDN: recipients' networks and test machines are often offline).
//!
//! The paths come from the routes themselves: every feature registers its handlers with
//! `utoipa_axum::routes!`, so a route cannot be served without being documented; this
//! module adds the title, the shared schemas and the bearer scheme.

use std::sync::Arc;

use axum::response::Html;
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
    let page = Arc::new(docs(&json));
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
                async move { Html(page.as_ref().clone()) }
            }),
        )
}

/// Renders the OpenAPI document as a plain HTML reference.
fn docs(doc: &utoipa::openapi::OpenApi) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut rows = String::new();
    for (path, item) in &doc.paths.paths {
        let operations = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("DELETE", &item.delete),
            ("PATCH", &item.patch),
            ("HEAD", &item.head),
        ];
        for (method, operation) in operations {
            if let Some(op) = operation {
                let summary = op
                    .summary
                    .clone()
                    .or(op.description.clone())
                    .unwrap_or_default();
                let responses: Vec<String> = op.responses.responses.keys().cloned().collect();
                rows.push_str(&format!(
                    "<tr><td><code>{method}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>\n",
                    escape(path),
                    escape(&summary),
                    responses.join(", ")
                ));
            }
        }
    }
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>leakwatch API</title>\
         <style>body{{font:15px/1.5 system-ui,sans-serif;margin:2rem;color:#222}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}}</style></head><body>\
         <h1>leakwatch API {}</h1><p>{}</p><p>Machine-readable: <a href=\"/openapi.json\">/openapi.json</a> (OpenAPI {}).</p>\
         <table><tr><th>method</th><th>path</th><th>what</th><th>responses</th></tr>{rows}</table></body></html>",
        escape(&doc.info.version),
        escape(doc.info.description.as_deref().unwrap_or("")),
        "3.1"
    )
}
