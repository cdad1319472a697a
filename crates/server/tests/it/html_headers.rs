//! Every HTML response carries the security headers, from the one layer that sets them
//! (issue 16, finding 10: the printable notification draft and `/docs` had none): the
//! pages' Content-Security-Policy (no script at all, no framing) or, for the Outlook
//! add-in's pages (framed by Outlook) and the dashboard's (its own script), theirs,
//! `nosniff` and `no-referrer`.

use std::collections::BTreeSet;

use leakwatch_testkit::*;
use reqwest::Method;
use serde_json::{json, Value};

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or_default()
}

/// The documented operations that answer HTML (a `text/html` response, or HTML in the
/// words of one), as (method, path).
fn html_operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let html = operation["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .any(|(_, response)| {
                    response["content"].get("text/html").is_some()
                        || response["description"]
                            .as_str()
                            .is_some_and(|d| d.contains("HTML"))
                });
            if html {
                found.insert((method.clone(), path.clone()));
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_html_route_carries_the_security_headers() {
    let app = spawn(Backend::Sqlite).await;
    let admin = app.user("acme", "acme.nl", "dpo@acme.nl", true).await;
    let (message, _) = app
        .tracked_message(&admin, &["jan@klant.nl"], "Jaarrekening")
        .await;
    let (status, incident) = app
        .post(
            "/api/v1/incidents",
            &admin,
            &json!({"message_id": message, "wrong_recipients": ["jan@klant.nl"]}),
        )
        .await;
    assert_eq!(status, 201, "{incident}");
    let incident = incident["id"].as_str().unwrap();

    // (documented method and path, the request, its form body)
    let pages: Vec<(&str, &str, Method, String, Option<&str>)> = vec![
        ("get", "/i/{id}", Method::GET, format!("/i/{message}"), None),
        ("get", "/i/{id}", Method::GET, "/i/unknown".into(), None),
        (
            "post",
            "/i/{id}/objection",
            Method::POST,
            format!("/i/{message}/objection"),
            Some("address=not-an-address"),
        ),
        (
            "post",
            "/i/{id}/objection",
            Method::POST,
            format!("/i/{message}/objection"),
            Some("address=jan%40klant.nl"),
        ),
        (
            "get",
            "/i/confirm/{token}",
            Method::GET,
            "/i/confirm/unknown".into(),
            None,
        ),
        (
            "post",
            "/i/confirm/{token}",
            Method::POST,
            "/i/confirm/unknown".into(),
            None,
        ),
        (
            "get",
            "/api/v1/tenant/record-of-processing",
            Method::GET,
            "/api/v1/tenant/record-of-processing".into(),
            None,
        ),
        (
            "get",
            "/api/v1/incidents/{id}/notification.html",
            Method::GET,
            format!("/api/v1/incidents/{incident}/notification.html"),
            None,
        ),
        ("get", "/docs", Method::GET, "/docs".into(), None),
    ];
    let mut covered = BTreeSet::new();
    for (method, documented, request_method, path, form) in &pages {
        covered.insert((method.to_string(), documented.to_string()));
        let mut request = app
            .client
            .request(request_method.clone(), app.url(path))
            .bearer_auth(&admin);
        if let Some(form) = form {
            request = request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form.to_string());
        }
        let response = request.send().await.unwrap();
        let what = format!("{request_method} {path} ({})", response.status());
        assert!(
            header(&response, "content-type").starts_with("text/html"),
            "{what}"
        );
        assert_eq!(header(&response, "content-security-policy"), CSP, "{what}");
        assert_eq!(header(&response, "x-frame-options"), "DENY", "{what}");
        assert_eq!(
            header(&response, "x-content-type-options"),
            "nosniff",
            "{what}"
        );
        assert_eq!(
            header(&response, "referrer-policy"),
            "no-referrer",
            "{what}"
        );
        // The policy allows no script, and no page has one.
        let html = response.text().await.unwrap();
        assert!(!html.to_lowercase().contains("<script"), "{what}");
    }

    // The dashboard's page has its own policy (its script and the core's WebAssembly from
    // here, no inline script) and is never framed either.
    let response = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "content-security-policy"),
        leakwatch_server::dashboard::CONTENT_SECURITY_POLICY
    );
    assert_eq!(header(&response, "x-frame-options"), "DENY");
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    assert_eq!(header(&response, "referrer-policy"), "no-referrer");
    covered.insert(("get".into(), "/".into()));
    let response = app
        .client
        .get(app.url("/entra-redirect.html"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "content-security-policy"),
        leakwatch_server::dashboard::CONTENT_SECURITY_POLICY
    );
    assert_eq!(header(&response, "x-frame-options"), "DENY");
    covered.insert(("get".into(), "/entra-redirect.html".into()));
    // Every documented HTML route is among them (a new one must be added here).
    let (_, doc) = app.get("/openapi.json", "").await;
    let mut html = html_operations(&doc);
    html.insert(("get".into(), "/docs".into()));
    let missing: Vec<_> = html.difference(&covered).collect();
    assert!(missing.is_empty(), "HTML routes not checked: {missing:?}");

    // The add-in's pages have their own policy (scripts from Microsoft's CDN, framed by
    // Outlook) and the same other headers, also when unchanged (304).
    for page in ["taskpane.html", "launchevent.html"] {
        let url = app.url(&format!("/addin/outlook/{page}"));
        let response = app.client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200, "{page}");
        let etag = header(&response, "etag").to_string();
        for response in [
            response,
            app.client
                .get(&url)
                .header("if-none-match", etag)
                .send()
                .await
                .unwrap(),
        ] {
            let csp = header(&response, "content-security-policy");
            assert!(
                csp.contains("frame-ancestors 'self' https://outlook.office.com"),
                "{page}: {csp}"
            );
            assert!(
                !csp.split(';')
                    .any(|d| d.trim().starts_with("script-src") && d.contains("'unsafe-inline'")),
                "{page}: {csp}"
            );
            assert_eq!(header(&response, "x-frame-options"), "", "{page}");
            assert_eq!(header(&response, "x-content-type-options"), "nosniff");
            assert_eq!(header(&response, "referrer-policy"), "no-referrer");
        }
    }

    // What is not HTML is left alone.
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(header(&response, "content-security-policy"), "");
    app.finish().await;
}
