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
        crate::incidents::notification::Mitigation,
        crate::alerts::http::AlertList, crate::alerts::Alert, crate::alerts::AlertTexts, crate::alerts::AlertText, crate::alerts::Kind, crate::alerts::Severity,
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

/// The OpenAPI document as an HTML reference (`templates/docs.html`): the operations by tag,
/// each with its description, parameters and answers.
#[derive(Template)]
#[template(path = "docs.html")]
struct DocsPage<'a> {
    version: &'a str,
    description: String,
    tags: Vec<DocsTag<'a>>,
}

struct DocsTag<'a> {
    name: String,
    operations: Vec<DocsOperation<'a>>,
}

struct DocsOperation<'a> {
    method: &'static str,
    path: &'a str,
    anchor: String,
    /// Markdown rendered to HTML, raw HTML in it escaped.
    description: String,
    parameters: Vec<DocsParameter>,
    request: Option<String>,
    responses: Vec<(String, String)>,
}

struct DocsParameter {
    name: String,
    place: &'static str,
    required: bool,
    description: String,
}

/// Markdown (the routes' doc comments) as HTML. HTML written in the Markdown is shown as
/// text, never passed through: the page must not carry markup it did not make.
pub fn markdown(text: &str) -> String {
    use pulldown_cmark::{html, Event, Parser};
    let events = Parser::new(text).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    out
}

fn schema_name(content: &utoipa::openapi::Content) -> String {
    use utoipa::openapi::RefOr;
    match &content.schema {
        Some(RefOr::Ref(r)) => r
            .ref_location
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string(),
        Some(RefOr::T(_)) | None => String::new(),
    }
}

/// Renders the OpenAPI document as an HTML reference.
fn docs(doc: &utoipa::openapi::OpenApi) -> Result<String, askama::Error> {
    use std::collections::BTreeMap;
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::RefOr;
    let mut by_tag: BTreeMap<String, Vec<DocsOperation>> = BTreeMap::new();
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
            let Some(op) = operation else { continue };
            let text = [op.summary.as_deref(), op.description.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("\n\n");
            let parameters = op
                .parameters
                .iter()
                .flatten()
                .map(|p| DocsParameter {
                    name: p.name.clone(),
                    place: match p.parameter_in {
                        ParameterIn::Path => "path",
                        ParameterIn::Query => "query",
                        ParameterIn::Header => "header",
                        ParameterIn::Cookie => "cookie",
                    },
                    required: matches!(p.required, utoipa::openapi::Required::True),
                    description: markdown(p.description.as_deref().unwrap_or_default()),
                })
                .collect();
            let request = op.request_body.as_ref().map(|body| {
                body.content
                    .iter()
                    .map(|(kind, content)| match schema_name(content) {
                        name if name.is_empty() => kind.clone(),
                        name => format!("{kind}: {name}"),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            });
            let responses = op
                .responses
                .responses
                .iter()
                .map(|(status, response)| {
                    let words = match response {
                        RefOr::T(r) => {
                            let schema =
                                r.content.values().map(schema_name).find(|n| !n.is_empty());
                            match schema {
                                Some(name) if r.description.is_empty() => name,
                                Some(name) => format!("{} ({name})", r.description),
                                None => r.description.clone(),
                            }
                        }
                        RefOr::Ref(r) => r.ref_location.clone(),
                    };
                    (status.clone(), markdown(&words))
                })
                .collect();
            let tag = op
                .tags
                .as_ref()
                .and_then(|t| t.first().cloned())
                .unwrap_or_else(|| "other".into());
            by_tag.entry(tag).or_default().push(DocsOperation {
                method,
                path,
                anchor: format!(
                    "{}-{}",
                    method.to_lowercase(),
                    path.replace(['/', '{', '}', '.'], "-").trim_matches('-')
                ),
                description: markdown(&text),
                parameters,
                request,
                responses,
            });
        }
    }
    DocsPage {
        version: &doc.info.version,
        description: markdown(doc.info.description.as_deref().unwrap_or("")),
        tags: by_tag
            .into_iter()
            .map(|(name, operations)| DocsTag { name, operations })
            .collect(),
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
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn markdown_in_the_descriptions_is_rendered_and_html_in_it_is_text() {
        assert_eq!(
            markdown("Takes `lang` (**nl** or en)."),
            "<p>Takes <code>lang</code> (<strong>nl</strong> or en).</p>\n"
        );
        let html = markdown("a <img src=x onerror=alert(1)> b\n\n<div>block</div>");
        assert!(!html.contains("<img") && !html.contains("<div"), "{html}");
        assert!(
            html.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{html}"
        );
    }
}
