//! The HTTP API of contract api-v1 against the real server, on SQLite and PostgreSQL.

use leakwatch_testkit::*;
use serde_json::json;

both_backends!(registers_a_tracked_message, |backend| async move {
    let app = spawn(backend).await;
    let token = app
        .user(
            "acme",
            "boekhoudpartners.nl",
            "anna@boekhoudpartners.nl",
            false,
        )
        .await;
    let (status, body) = app
        .post(
            "/api/v1/messages",
            &token,
            &json!({"to": ["Jan <jan@klant.nl>"], "cc": [], "bcc": [], "subject": "Jaarrekening",
                    "findings": [{"rule": "lookalike-domain", "severity": "warn", "recipients": ["jan@klant.nl"], "message": "m"}],
                    "overridden": true}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["track"], true);
    let pixel = body["pixel_url"].as_str().unwrap();
    assert!(pixel.starts_with(&format!("{}/p/", app.base)), "{pixel}");
    assert!(body["info_url"].as_str().unwrap().starts_with(&app.base));
    let id = body["id"].as_str().unwrap();
    let (status, view) = app.get(&format!("/api/v1/messages/{id}"), &token).await;
    assert_eq!(status, 200);
    assert_eq!(view["track"], true);
    assert_eq!(view["subject"], "Jaarrekening");
    // The info page the disclosure links to exists and names the tenant.
    let page = app
        .client
        .get(body["info_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("acme"));
    app.finish().await;
});

both_backends!(tracking_follows_the_tenant_policy, |backend| async move {
    let app = spawn(backend).await;
    let token = app
        .user(
            "acme",
            "boekhoudpartners.nl",
            "anna@boekhoudpartners.nl",
            false,
        )
        .await;
    let register = |body: serde_json::Value| {
        let app = &app;
        let token = &token;
        async move { app.post("/api/v1/messages", token, &body).await }
    };
    // Normal external mail: not at risk, not tracked, no pixel.
    let (status, body) = register(
        json!({"to": ["jan@klant.nl"], "subject": "Hoi", "findings": [], "overridden": false}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(body["track"], false);
    assert!(body.get("pixel_url").is_none());
    // Internal mail is never tracked, even on request.
    let (_, body) = register(json!({"to": ["kees@boekhoudpartners.nl"], "track": true})).await;
    assert_eq!(body["track"], false);
    assert!(body["track_reason"].as_str().unwrap().contains("Internal"));
    // A client may force tracking where the policy allows it.
    let (_, body) = register(json!({"to": ["jan@klant.nl"], "track": true})).await;
    assert_eq!(body["track"], true);
    assert!(body["pixel_url"].is_string());
    // Identity data going out is tracked under at_risk.
    let (_, body) = register(
        json!({"to": ["jan@klant.nl"], "sensitive": [{"kind": "bsn", "count": 1}], "lang": "nl"}),
    )
    .await;
    assert_eq!(body["track"], true);
    assert!(body["track_reason"]
        .as_str()
        .unwrap()
        .starts_with("Gevolgd"));
    app.finish().await;
});

both_backends!(client_mistakes_are_4xx_json, |backend| async move {
    let app = spawn(backend).await;
    let token = app
        .user(
            "acme",
            "boekhoudpartners.nl",
            "anna@boekhoudpartners.nl",
            false,
        )
        .await;
    for (body, code) in [
        (json!({"to": ["jan"]}), "bad_request"),
        (json!({"to": []}), "bad_request"),
        (json!({"to": "jan@klant.nl"}), "bad_request"),
        (
            json!({"to": ["a@b.nl"], "overridden": "yes"}),
            "bad_request",
        ),
    ] {
        let (status, error) = app.post("/api/v1/messages", &token, &body).await;
        assert_eq!(status, 400, "{body}: {error}");
        assert_eq!(error["error"]["code"], code);
        assert!(error["error"]["message"].as_str().unwrap().len() > 3);
    }
    // Not JSON at all, and too large.
    let response = app
        .client
        .post(app.url("/api/v1/messages"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let big = json!({"to": ["a@b.nl"], "subject": "x".repeat(300_000)});
    let (status, error) = app.post("/api/v1/messages", &token, &big).await;
    assert_eq!(status, 413, "{error}");
    assert_eq!(error["error"]["code"], "payload_too_large");
    // Unknown route and unknown message.
    let (status, error) = app.get("/api/v1/nothing", &token).await;
    assert_eq!(status, 404);
    assert_eq!(error["error"]["code"], "not_found");
    let (status, _) = app.get("/api/v1/messages/doesnotexist", &token).await;
    assert_eq!(status, 404);
    app.finish().await;
});

both_backends!(incidents_follow_the_contract, |backend| async move {
    let app = spawn(backend).await;
    let token = app
        .user(
            "acme",
            "boekhoudpartners.nl",
            "anna@boekhoudpartners.nl",
            false,
        )
        .await;
    let (_, message) = app
        .post(
            "/api/v1/messages",
            &token,
            &json!({"to": ["jan@klant.nl", "piet@elders.nl"], "track": true}),
        )
        .await;
    let message_id = message["id"].as_str().unwrap();
    let (status, incident) = app
        .post(
            "/api/v1/incidents",
            &token,
            &json!({"message_id": message_id, "wrong_recipients": ["piet@elders.nl"]}),
        )
        .await;
    assert_eq!(status, 201, "{incident}");
    let id = incident["id"].as_str().unwrap();
    let (status, view) = app.get(&format!("/api/v1/incidents/{id}"), &token).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["message_id"], message_id);
    assert_eq!(view["evidence"]["hits_total"], 0);
    assert_eq!(
        view["deadline_at"].as_i64().unwrap() - view["aware_at"].as_i64().unwrap(),
        72 * 3600 * 1000
    );
    // Not a recipient of the message.
    let (status, _) = app
        .post(
            "/api/v1/incidents",
            &token,
            &json!({"message_id": message_id, "wrong_recipients": ["x@y.nl"]}),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = app
        .post(
            "/api/v1/incidents",
            &token,
            &json!({"message_id": "nope", "wrong_recipients": []}),
        )
        .await;
    assert_eq!(status, 404);
    app.finish().await;
});

both_backends!(
    another_tenants_resources_are_invisible,
    |backend| async move {
        let app = spawn(backend).await;
        let anna = app
            .user(
                "acme",
                "boekhoudpartners.nl",
                "anna@boekhoudpartners.nl",
                false,
            )
            .await;
        let admin_other = app.user("other", "other.nl", "boss@other.nl", true).await;
        let colleague = app
            .user(
                "acme",
                "boekhoudpartners.nl",
                "kees@boekhoudpartners.nl",
                false,
            )
            .await;
        let (_, message) = app
            .post(
                "/api/v1/messages",
                &anna,
                &json!({"to": ["jan@klant.nl"], "track": true}),
            )
            .await;
        let message_id = message["id"].as_str().unwrap();
        let (_, incident) = app
            .post(
                "/api/v1/incidents",
                &anna,
                &json!({"message_id": message_id, "wrong_recipients": ["jan@klant.nl"]}),
            )
            .await;
        let incident_id = incident["id"].as_str().unwrap();
        for token in [&admin_other, &colleague] {
            let (status, _) = app
                .get(&format!("/api/v1/messages/{message_id}"), token)
                .await;
            assert_eq!(status, 404);
            let (status, _) = app
                .get(&format!("/api/v1/incidents/{incident_id}"), token)
                .await;
            assert_eq!(status, 404);
            let (status, _) = app
                .post(
                    "/api/v1/incidents",
                    token,
                    &json!({"message_id": message_id, "wrong_recipients": []}),
                )
                .await;
            assert_eq!(status, 404);
        }
        app.finish().await;
    }
);

both_backends!(health_metrics_and_openapi, |backend| async move {
    let app = spawn(backend).await;
    for path in ["/healthz", "/readyz"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 200);
    let doc: serde_json::Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/v1/messages",
        "/api/v1/incidents",
        "/api/v1/incidents/{id}",
        "/p/{token}",
        "/healthz",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
    let docs = app
        .client
        .get(app.url("/docs"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(docs.contains("/api/v1/messages"));
    app.finish().await;
});

both_backends!(cors_allows_only_the_add_in_origins, |backend| async move {
    let app = spawn_with(backend, |c| {
        c.cors_origins = vec!["https://addin.example".into()]
    })
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/messages"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
    };
    let allowed = preflight("https://addin.example").await.unwrap();
    assert_eq!(
        allowed
            .headers()
            .get("access-control-allow-origin")
            .unwrap(),
        "https://addin.example"
    );
    let denied = preflight("https://evil.example").await.unwrap();
    assert!(denied
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    app.finish().await;
});

#[tokio::test]
async fn healthz_is_503_when_the_database_is_gone() {
    let app = spawn(leakwatch_server::kit::db::Backend::Sqlite).await;
    app.state.db().pool.close().await;
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable");
    app.finish().await;
}

// Issue 16, finding 12: every policy threshold has a range, named in the error; the
// stored policy is unchanged by a refused one.
both_backends!(
    policy_thresholds_outside_their_range_are_refused,
    |backend| async move {
        let app = spawn(backend).await;
        let admin = app.user("acme", "acme.nl", "admin@acme.nl", true).await;
        let (_, policy) = app.get("/api/v1/tenant/policy", &admin).await;
        for (field, value, range) in [
            ("lookalike_max_distance", json!(4294967295u64), "0 to 5"),
            ("visible_group_share", json!(1.5), "0 to 1"),
            ("visible_recipients", json!(1), "2 to 10000"),
            ("established_messages", json!(0), "1 to 1000"),
        ] {
            let mut bad = policy.clone();
            bad["thresholds"][field] = value;
            let (status, body) = app.put("/api/v1/tenant/policy", &admin, &bad).await;
            assert_eq!(status, 400, "{field}");
            let message = body["error"]["message"].as_str().unwrap();
            assert!(
                message.contains(&format!("thresholds.{field}")) && message.contains(range),
                "{field}: {message}"
            );
        }
        let (_, stored) = app.get("/api/v1/tenant/policy", &admin).await;
        assert_eq!(stored, policy);
        let mut fine = policy.clone();
        fine["thresholds"]["lookalike_max_distance"] = json!(3);
        let (status, _) = app.put("/api/v1/tenant/policy", &admin, &fine).await;
        assert_eq!(status, 200);
        app.finish().await;
    }
);

// Issue 16, finding 9: a malformed query string is the API's JSON 400, not plain text.
both_backends!(
    malformed_query_strings_answer_the_json_error,
    |backend| async move {
        let app = spawn(backend).await;
        let token = app.user("acme", "acme.nl", "anna@acme.nl", false).await;
        for path in [
            "/api/v1/messages?before=xyz",
            "/api/v1/alerts?after=abc",
            "/api/v1/incidents?status=42&limit=many",
        ] {
            let response = app
                .client
                .get(app.url(path))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 400, "{path}");
            let kind = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_string();
            assert!(kind.starts_with("application/json"), "{path}: {kind}");
            let body: serde_json::Value = response.json().await.unwrap();
            assert!(body["error"]["message"].is_string(), "{path}: {body}");
        }
        app.finish().await;
    }
);
