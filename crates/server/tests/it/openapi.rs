//! The OpenAPI document and the router agree. The paths of the document come from the
//! routes (`utoipa_axum::routes!`); this checks it from both sides: every documented
//! operation is served (a request is not answered by the fallback), the operations are
//! exactly those of contract api-v1, and no feature registers a route around `routes!`.

use std::path::Path;

use leakwatch_testkit::*;
use serde_json::Value;

/// Contract api-v1's operations, the Outlook add-in's files and the dashboard's, as the
/// document lists them.
const OPERATIONS: &[(&str, &str)] = &[
    ("get", "/"),
    ("get", "/addin/outlook/config.json"),
    ("get", "/addin/outlook/leakwatch-outlook.zip"),
    ("get", "/addin/outlook/manifest.json"),
    ("get", "/addin/outlook/manifest.xml"),
    ("get", "/addin/outlook/wasm/{file}"),
    ("get", "/addin/outlook/{file}"),
    ("get", "/api/v1/alerts"),
    ("get", "/api/v1/alerts/stream"),
    ("get", "/api/v1/audit"),
    ("post", "/api/v1/auth/login"),
    ("delete", "/api/v1/auth/session"),
    ("get", "/api/v1/auth/session"),
    ("post", "/api/v1/auth/session"),
    ("post", "/api/v1/auth/session/entra"),
    ("get", "/api/v1/incidents"),
    ("post", "/api/v1/incidents"),
    ("get", "/api/v1/incidents/{id}"),
    ("patch", "/api/v1/incidents/{id}"),
    ("get", "/api/v1/incidents/{id}/notification"),
    ("put", "/api/v1/incidents/{id}/notification"),
    ("get", "/api/v1/incidents/{id}/notification.html"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/messages"),
    ("post", "/api/v1/messages"),
    ("get", "/api/v1/messages/{id}"),
    ("get", "/api/v1/tenant/alerts"),
    ("put", "/api/v1/tenant/alerts"),
    ("post", "/api/v1/tenant/alerts/test"),
    ("get", "/api/v1/tenant/checklist"),
    ("delete", "/api/v1/tenant/oidc"),
    ("get", "/api/v1/tenant/oidc"),
    ("put", "/api/v1/tenant/oidc"),
    ("get", "/api/v1/tenant/policy"),
    ("put", "/api/v1/tenant/policy"),
    ("get", "/api/v1/tenant/privacy"),
    ("put", "/api/v1/tenant/privacy"),
    ("get", "/api/v1/tenant/record-of-processing"),
    ("get", "/api/v1/tenant/simulation"),
    ("get", "/api/v1/tenant/stats"),
    ("get", "/api/v1/users"),
    ("post", "/api/v1/users"),
    ("patch", "/api/v1/users/{id}"),
    ("post", "/api/v1/users/{id}/password"),
    ("get", "/app.css"),
    ("get", "/app.js"),
    ("get", "/config.json"),
    ("get", "/chunks/{file}"),
    ("get", "/entra-redirect.html"),
    ("get", "/entra-redirect.js"),
    ("get", "/entra.js"),
    ("get", "/healthz"),
    ("get", "/i/confirm/{token}"),
    ("post", "/i/confirm/{token}"),
    ("get", "/i/{id}"),
    ("post", "/i/{id}/objection"),
    ("get", "/metrics"),
    ("get", "/p/{token}"),
    ("get", "/readyz"),
    ("get", "/wasm/{file}"),
];

fn documented(doc: &Value) -> Vec<(String, String)> {
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete", "head"] {
            if item.get(method).is_some() {
                operations.push((method.to_string(), path.clone()));
            }
        }
    }
    operations.sort();
    operations
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_operation_is_served_and_no_more() {
    let app = spawn(Backend::Sqlite).await;
    let (status, doc) = app.get("/openapi.json", "").await;
    assert_eq!(status, 200);
    let operations = documented(&doc);
    let mut expected: Vec<(String, String)> = OPERATIONS
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    expected.sort();
    assert_eq!(operations, expected);
    for (method, path) in &operations {
        let concrete = path
            .replace("{id}", "x")
            .replace("{token}", "x")
            .replace("{file}", "x");
        let response = app
            .client
            .request(method.to_uppercase().parse().unwrap(), app.url(&concrete))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        assert_ne!(
            status, 405,
            "{method} {path}: the router has no such method"
        );
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_ne!(
            body["error"]["message"], "route not found",
            "{method} {path} is documented but answered by the fallback"
        );
    }
    // An undocumented path is answered by the fallback, so the check above can fail.
    let (status, body) = app.get("/api/v1/nothing-here", "").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["message"], "route not found");
    app.finish().await;
}

/// Routes registered with a plain `.route(...)` would be served but not documented; only
/// the document's own two pages (`/openapi.json`, `/docs`) are.
#[test]
fn features_register_routes_only_through_routes_macro() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let mut plain = Vec::new();
    for file in files {
        if file.ends_with("openapi.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.contains(".route(") && !line.trim_start().starts_with("//") {
                plain.push(format!("{}:{}", file.display(), n + 1));
            }
        }
    }
    assert!(plain.is_empty(), "routes outside `routes!`: {plain:?}");
}

/// `/docs` reads as a reference: the operations by tag, their parameters, and the routes'
/// Markdown rendered (backticks were shown as text).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_page_groups_by_tag_and_renders_markdown() {
    let app = spawn(Backend::Sqlite).await;
    let html = app
        .client
        .get(app.url("/docs"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(r#"<h2 id="tag-incidents">incidents</h2>"#),
        "{html}"
    );
    assert!(
        html.contains("<td><code>id</code></td><td>path</td><td>yes</td>"),
        "{html}"
    );
    assert!(html.contains("<code>"), "{html}");
    assert!(!html.contains('`'), "a backtick left as text");
    assert!(
        html.contains(r#"<a href="/">/</a>"#),
        "a link to the dashboard"
    );
    app.finish().await;
}

/// Parameters are documented where they are read: a path parameter is in its path's
/// template, and the rest are query or header parameters (query structs read through the
/// kit's `ApiQuery` once defaulted to path parameters, all of them required).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parameters_are_documented_where_they_are_read() {
    let app = spawn(Backend::Sqlite).await;
    let (_, doc) = app.get("/openapi.json", "").await;
    let mut wrong = Vec::new();
    let mut queries = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let name = parameter["name"].as_str().unwrap();
                match parameter["in"].as_str().unwrap() {
                    "path" if !path.contains(&format!("{{{name}}}")) => {
                        wrong.push(format!("{method} {path}: {name}"))
                    }
                    "query" => queries += 1,
                    _ => {}
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "path parameters not in their path: {wrong:?}"
    );
    assert!(queries >= 10, "query parameters documented: {queries}");
    app.finish().await;
}
