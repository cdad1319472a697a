//! The OpenAPI 3.1 document (utoipa) at `/openapi.json`, and a self-contained docs page at
//! `/docs` (no CDN: recipients' networks and test machines are often offline).

use axum::response::Html;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "leakwatch", description = "Send-time data-leak prevention for e-mail: authentication, message registration, the leak-detection pixel, incidents and the breach register, alerts, privacy (transparency page, objection, retention, audit log, record of processing)."),
    paths(
        api::messages::register, api::messages::list, api::messages::show,
        api::incidents::create, api::incidents::list, api::incidents::show, api::incidents::update,
        crate::notification::show, crate::notification::edit, crate::notification::printable,
        api::alerts::list, api::alerts::stream, api::alerts::show_settings, api::alerts::set_settings,
        api::auth::login, api::auth::me,
        api::tenant::show_oidc, api::tenant::set_oidc, api::tenant::clear_oidc,
        api::tenant::show_policy, api::tenant::set_policy,
        api::health::healthz, api::health::readyz, api::health::metrics,
        crate::pixel::pixel,
        crate::privacy::page::show, crate::privacy::objection::request,
        crate::privacy::objection::confirm_page, crate::privacy::objection::confirm,
        crate::privacy::audit_api::list,
        crate::privacy::settings::show, crate::privacy::settings::set,
        crate::privacy::record::show,
    ),
    components(schemas(
        api::messages::RegisterMessage, api::messages::Registered, api::messages::MessageView,
        api::messages::MessageList,
        api::incidents::CreateIncident, api::incidents::Created, api::incidents::IncidentView,
        api::incidents::IncidentList, api::incidents::UpdateIncident, api::incidents::Decision,
        crate::evidence::Evidence, crate::evidence::ClassEvidence, crate::evidence::Status,
        crate::notification::NotificationDraft, crate::notification::NotificationEdits,
        crate::notification::Contact, crate::notification::Timeline, crate::notification::FirstFetch,
        crate::notification::PersonalData, crate::notification::DataKind, crate::notification::People,
        api::alerts::AlertList, crate::alerts::Alert, crate::alerts::Kind, crate::alerts::Severity,
        crate::alerts::settings::AlertSettings, crate::alerts::settings::Webhook, crate::alerts::settings::WebhookFormat,
        api::auth::LoginRequest, api::auth::LoginResponse, api::auth::Me, api::auth::TenantRef,
        crate::oidc::OidcSettings,
        crate::audit::Entry, crate::privacy::audit_api::AuditPage,
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

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .route("/docs", get(docs))
}

/// Renders the OpenAPI document as a plain HTML reference.
async fn docs() -> Html<String> {
    let doc = ApiDoc::openapi();
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
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>leakwatch API</title>\
         <style>body{{font:15px/1.5 system-ui,sans-serif;margin:2rem;color:#222}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}}</style></head><body>\
         <h1>leakwatch API {}</h1><p>{}</p><p>Machine-readable: <a href=\"/openapi.json\">/openapi.json</a> (OpenAPI {}).</p>\
         <table><tr><th>method</th><th>path</th><th>what</th><th>responses</th></tr>{rows}</table></body></html>",
        escape(&doc.info.version),
        escape(doc.info.description.as_deref().unwrap_or("")),
        "3.1"
    ))
}
