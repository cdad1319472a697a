//! Bad input, on SQLite and PostgreSQL alike (issue 16, finding 4): a NUL character
//! (U+0000), which PostgreSQL's text cannot store, is refused with the API's JSON 400 before
//! any query, wherever it comes in (a JSON body, the path, the query string, a form), on
//! authenticated and unauthenticated routes; and every extractor's own error is that JSON
//! error too.

use leakwatch_testkit::*;
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::Row;

/// The answer must be the API's JSON 400 with a message that names `words`.
async fn assert_json_400(response: reqwest::Response, what: &str, words: &str) {
    assert_eq!(response.status(), 400, "{what}");
    let kind = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(kind.starts_with("application/json"), "{what}: {kind}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request", "{what}: {body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(words), "{what}: {message}");
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query(sql)
        .fetch_one(&app.db().pool)
        .await
        .unwrap()
        .get(0)
}

both_backends!(
    nul_characters_are_refused_before_any_query,
    |backend| async move {
        let app = spawn(backend).await;
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
        let incident = incident["id"].as_str().unwrap().to_string();
        let messages = count(&app, "SELECT COUNT(*) FROM messages").await;
        let nul = "NUL character (U+0000)";

        // JSON bodies, with and without a bearer token.
        let bodies: Vec<(Method, String, bool, Value)> = vec![
            (
                Method::POST,
                "/api/v1/messages".into(),
                true,
                json!({"to": ["jan@klant.nl"], "subject": "Jaar\u{0}rekening", "track": true}),
            ),
            (
                Method::POST,
                "/api/v1/incidents".into(),
                true,
                json!({"message_id": message, "description": "oeps\u{0}"}),
            ),
            (
                Method::PATCH,
                format!("/api/v1/incidents/{incident}"),
                true,
                json!({"description": "\u{0}"}),
            ),
            (
                Method::PATCH,
                format!("/api/v1/incidents/{incident}"),
                true,
                json!({"decision": "notify", "authority_reference": "AP-\u{0}-1"}),
            ),
            (
                Method::POST,
                "/api/v1/auth/login".into(),
                false,
                json!({"tenant": "acme\u{0}", "email": "dpo@acme.nl", "password": "x"}),
            ),
            (
                Method::POST,
                "/api/v1/auth/session".into(),
                false,
                json!({"tenant": "acme\u{0}", "email": "dpo@acme.nl", "password": "x"}),
            ),
            // In a key, where serde ignores it (an unknown field) but a store might not.
            (
                Method::POST,
                "/api/v1/auth/login".into(),
                false,
                json!({"tenant": "acme", "email": "dpo@acme.nl", "password": "x", "\u{0}": 1}),
            ),
        ];
        for (method, path, bearer, body) in bodies {
            let mut request = app
                .client
                .request(method.clone(), app.url(&path))
                .json(&body);
            if bearer {
                request = request.bearer_auth(&admin);
            }
            let what = format!("{method} {path} {body}");
            assert_json_400(request.send().await.unwrap(), &what, nul).await;
        }

        // Path parameters, query values and the objection form, with and without a token.
        let nul_id = "a%00b";
        let requests: Vec<(Method, String, bool, Option<&str>)> = vec![
            (
                Method::GET,
                format!("/api/v1/messages/{nul_id}"),
                true,
                None,
            ),
            (
                Method::GET,
                format!("/api/v1/incidents/{nul_id}"),
                true,
                None,
            ),
            (
                Method::GET,
                format!("/api/v1/incidents/{nul_id}/notification"),
                true,
                None,
            ),
            (
                Method::GET,
                format!("/api/v1/incidents/{nul_id}/notification.html"),
                true,
                None,
            ),
            (
                Method::POST,
                format!("/api/v1/users/{nul_id}/password"),
                true,
                None,
            ),
            (Method::GET, "/api/v1/audit?action=%00".into(), true, None),
            (
                Method::GET,
                "/api/v1/incidents?status=open%00".into(),
                true,
                None,
            ),
            (
                Method::GET,
                "/addin/outlook/manifest.xml?tenant=acme%00".into(),
                false,
                None,
            ),
            (Method::GET, format!("/i/{nul_id}"), false, None),
            (Method::GET, format!("/i/confirm/{nul_id}"), false, None),
            (Method::POST, format!("/i/confirm/{nul_id}"), false, None),
            (
                Method::POST,
                format!("/i/{nul_id}/objection"),
                false,
                Some("address=jan%40klant.nl"),
            ),
            (
                Method::POST,
                format!("/i/{message}/objection"),
                false,
                Some("address=jan%00%40klant.nl"),
            ),
        ];
        for (method, path, bearer, form) in requests {
            let mut request = app.client.request(method.clone(), app.url(&path));
            if bearer {
                request = request.bearer_auth(&admin);
            }
            if let Some(form) = form {
                request = request
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(form);
            }
            let what = format!("{method} {path} {form:?}");
            assert_json_400(request.send().await.unwrap(), &what, nul).await;
        }

        // Nothing was stored or changed.
        assert_eq!(count(&app, "SELECT COUNT(*) FROM messages").await, messages);
        let (status, view) = app
            .get(&format!("/api/v1/incidents/{incident}"), &admin)
            .await;
        assert_eq!(status, 200);
        assert_eq!(view["description"], "", "{view}");
        assert!(view["authority_reference"].is_null(), "{view}");
        assert_eq!(
            count(&app, "SELECT COUNT(*) FROM objection_requests").await,
            0
        );
        // The same requests without the NUL are served.
        let (status, body) = app
            .post(
                "/api/v1/messages",
                &admin,
                &json!({"to": ["jan@klant.nl"], "subject": "a\\u0000b"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        app.finish().await;
    }
);

both_backends!(extractor_errors_are_the_json_error, |backend| async move {
    let app = spawn(backend).await;
    let token = app.user("acme", "acme.nl", "anna@acme.nl", false).await;
    let (message, _) = app.tracked_message(&token, &["jan@klant.nl"], "Hoi").await;
    // (method, path, the body with its type, words of the message)
    type Case = (
        Method,
        String,
        Option<(&'static str, &'static str)>,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        // A path parameter that is not UTF-8.
        (Method::GET, "/api/v1/messages/%ff".into(), None, "UTF-8"),
        (Method::GET, "/i/%ff".into(), None, "UTF-8"),
        // An unpaired surrogate in a JSON string.
        (
            Method::POST,
            "/api/v1/messages".into(),
            Some((
                "application/json",
                r#"{"to": ["jan@klant.nl"], "subject": "\ud800"}"#,
            )),
            "hex escape",
        ),
        // A form that is not a form.
        (
            Method::POST,
            format!("/i/{message}/objection"),
            Some(("application/json", r#"{"address": "jan@klant.nl"}"#)),
            "x-www-form-urlencoded",
        ),
        (
            Method::POST,
            format!("/i/{message}/objection"),
            Some(("application/x-www-form-urlencoded", "address=a&address=b")),
            "address",
        ),
    ];
    for (method, path, body, words) in cases {
        let mut request = app
            .client
            .request(method.clone(), app.url(&path))
            .bearer_auth(&token);
        if let Some((kind, body)) = body {
            request = request.header("content-type", kind).body(body);
        }
        let what = format!("{method} {path} {body:?}");
        assert_json_400(request.send().await.unwrap(), &what, words).await;
    }
    app.finish().await;
});
