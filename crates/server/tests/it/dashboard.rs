//! The dashboard's server side, against the real server on SQLite and PostgreSQL: the page
//! and its assets served from the binary with their security headers, and the endpoints only
//! the dashboard uses (the set-up checklist, the charts' figures, the simulator's input),
//! each for the roles it is meant for. The pages themselves are tested in a real browser by
//! web/test/dashboard.test.mjs.

use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use serde_json::{json, Value};

use leakwatch_testkit::*;

/// A user of `admin_token`'s tenant with `role`, signed in with its one-time password:
/// its bearer token.
async fn member(app: &TestApp, admin_token: &str, email: &str, role: &str) -> String {
    let (status, invited) = app
        .post(
            "/api/v1/users",
            admin_token,
            &json!({"email": email, "role": role}),
        )
        .await;
    assert_eq!(status, 201, "{invited}");
    let (status, login) = app
        .post(
            "/api/v1/auth/login",
            "",
            &json!({"tenant": "acme", "email": email, "password": invited["one_time_password"]}),
        )
        .await;
    assert_eq!(status, 200, "{login}");
    login["token"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_is_served_at_the_root_with_its_headers() {
    let app = spawn(Backend::Sqlite).await;
    let page = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let headers = page.headers().clone();
    assert_eq!(headers[CONTENT_TYPE], "text/html; charset=utf-8");
    let csp = headers[CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let scripts = csp
        .split(';')
        .find(|d| d.trim().starts_with("script-src"))
        .unwrap();
    assert!(!scripts.contains("unsafe-inline"), "{csp}");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    let html = page.text().await.unwrap();
    assert!(
        html.contains(r#"<script type="module" src="app.js"></script>"#),
        "{html}"
    );
    assert!(!html.contains("<script>"), "no inline script");

    let script = app
        .client
        .get(app.url("/app.js"))
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    assert_eq!(
        script.headers()[CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(script.headers()[CONTENT_ENCODING], "gzip");
    let wasm = app
        .client
        .get(app.url("/wasm/leakwatch_wasm_bg.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(wasm.status(), 200);
    assert_eq!(wasm.headers()[CONTENT_TYPE], "application/wasm");
    let missing = app
        .client
        .get(app.url("/chunks/nothing.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    // The API's own unknown routes still answer the API's JSON error.
    let (status, body) = app.get("/api/v1/nothing-here", "").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
    app.finish().await;
}

both_backends!(
    the_checklist_says_what_lawful_use_still_lacks,
    |backend| async move {
        let app = spawn_with(backend, |config| {
            config.public_url = "https://leakwatch.acme.nl".into();
        })
        .await;
        let admin = app.user("acme", "acme.nl", "admin@acme.nl", true).await;
        let items = |body: &Value| -> Vec<(String, bool)> {
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    (
                        i["item"].as_str().unwrap().to_string(),
                        i["done"].as_bool().unwrap(),
                    )
                })
                .collect()
        };
        let (status, body) = app.get("/api/v1/tenant/checklist", &admin).await;
        assert_eq!(status, 200, "{body}");
        let owned = |list: &[(&str, bool)]| -> Vec<(String, bool)> {
            list.iter().map(|(n, d)| (n.to_string(), *d)).collect()
        };
        assert_eq!(
            items(&body),
            owned(&[
                ("organization", false),
                ("controller_contact", false),
                ("dpo", false),
                ("mail_relay", false),
                ("https", true),
            ])
        );
        let (_, mut policy) = app.get("/api/v1/tenant/policy", &admin).await;
        policy["disclosure"] = json!({"organization": "Acme BV", "dpo_contact": "fg@acme.nl"});
        let (status, body) = app.put("/api/v1/tenant/policy", &admin, &policy).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = app
            .put(
                "/api/v1/tenant/privacy",
                &admin,
                &json!({"controller_contact": "Acme BV, Postbus 1, 1000 AA Amsterdam"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let (_, mut alerting) = app.get("/api/v1/tenant/alerts", &admin).await;
        alerting["smarthost"] = json!("smtp://mail.acme.nl:587");
        alerting["mail_from"] = json!("leakwatch@acme.nl");
        let (status, body) = app.put("/api/v1/tenant/alerts", &admin, &alerting).await;
        assert_eq!(status, 200, "{body}");
        let (_, body) = app.get("/api/v1/tenant/checklist", &admin).await;
        assert!(items(&body).iter().all(|(_, done)| *done), "{body}");
        let sender = member(&app, &admin, "anna@acme.nl", "sender").await;
        let (status, _) = app.get("/api/v1/tenant/checklist", &sender).await;
        assert_eq!(status, 403);
        app.finish().await;
    }
);

both_backends!(
    the_stats_count_warnings_per_rule_and_week,
    |backend| async move {
        let app = spawn(backend).await;
        let admin = app.user("acme", "acme.nl", "admin@acme.nl", true).await;
        let sender = member(&app, &admin, "anna@acme.nl", "sender").await;
        let officer = member(&app, &admin, "fg@acme.nl", "privacy_officer").await;
        let finding = |rule: &str, severity: &str| json!({"rule": rule, "severity": severity, "recipients": ["jan@klant.nl"], "message": "m"});
        for (findings, overridden) in [
            (
                vec![
                    finding("lookalike-domain", "warn"),
                    finding("new-recipient", "info"),
                ],
                true,
            ),
            (vec![finding("lookalike-domain", "block")], false),
            (
                vec![
                    finding("personal-address", "warn"),
                    finding("personal-address", "warn"),
                ],
                true,
            ),
            (vec![], false),
        ] {
            let (status, body) = app
            .post(
                "/api/v1/messages",
                &sender,
                &json!({"to": ["jan@klant.nl"], "subject": "Offerte", "findings": findings, "overridden": overridden}),
            )
            .await;
            assert_eq!(status, 201, "{body}");
        }
        let (message, _) = app
            .tracked_message(&sender, &["jan@klant.nI"], "Salaris")
            .await;
        let (status, incident) = app
            .post(
                "/api/v1/incidents",
                &sender,
                &json!({"message_id": message, "wrong_recipients": ["jan@klant.nI"]}),
            )
            .await;
        assert_eq!(status, 201, "{incident}");

        let (status, stats) = app.get("/api/v1/tenant/stats?weeks=4", &officer).await;
        assert_eq!(status, 200, "{stats}");
        let counted: Vec<(String, i64, i64)> = stats["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| {
                (
                    w["rule"].as_str().unwrap().to_string(),
                    w["shown"].as_i64().unwrap(),
                    w["overridden"].as_i64().unwrap(),
                )
            })
            .collect();
        // Information findings are not warnings; a rule counts once per message.
        assert_eq!(
            counted,
            vec![
                ("lookalike-domain".to_string(), 3, 2),
                ("personal-address".to_string(), 1, 1),
            ]
        );
        let week = stats["warnings"][0]["week_start"].as_i64().unwrap();
        assert_eq!(
            week.rem_euclid(7 * 24 * 3600 * 1000),
            4 * 24 * 3600 * 1000,
            "a Monday, 00:00 UTC"
        );
        assert_eq!(stats["incidents"].as_array().unwrap().len(), 1);
        assert!(stats["incidents"][0]["decided_at"].is_null());
        let text = stats.to_string();
        assert!(
            !text.contains("Offerte") && !text.contains("klant"),
            "counts only: {text}"
        );

        let (status, _) = app.get("/api/v1/tenant/stats", &sender).await;
        assert_eq!(status, 403);
        let (status, body) = app.get("/api/v1/tenant/stats?weeks=0", &admin).await;
        assert_eq!(status, 400);
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("weeks must be from 1 to 104"),
            "{body}"
        );
        app.finish().await;
    }
);

both_backends!(
    the_simulator_gets_recipients_and_rules_never_contents,
    |backend| async move {
        let app = spawn(backend).await;
        let admin = app.user("acme", "acme.nl", "admin@acme.nl", true).await;
        let sender = member(&app, &admin, "anna@acme.nl", "sender").await;
        let officer = member(&app, &admin, "fg@acme.nl", "privacy_officer").await;
        for to in ["jan@klant.nl", "Jan Jansen <jan@klant.nI>"] {
            let (status, body) = app
            .post(
                "/api/v1/messages",
                &sender,
                &json!({"to": [to], "cc": ["piet@acme.nl"], "subject": "Jaarrekening geheim",
                    "findings": [{"rule": "lookalike-domain", "severity": "warn", "recipients": [to], "message": "m"}],
                    "overridden": false}),
            )
            .await;
            assert_eq!(status, 201, "{body}");
        }
        let (status, input) = app.get("/api/v1/tenant/simulation?days=7", &admin).await;
        assert_eq!(status, 200, "{input}");
        assert_eq!(input["days"], 7);
        assert_eq!(input["truncated"], false);
        let messages = input["messages"].as_array().unwrap();
        assert_eq!(messages.len(), 2);
        // Oldest first, recipients as registered, the rules shown.
        assert_eq!(messages[0]["to"], json!(["jan@klant.nl"]));
        assert_eq!(messages[1]["to"], json!(["Jan Jansen <jan@klant.nI>"]));
        assert_eq!(messages[1]["cc"], json!(["piet@acme.nl"]));
        assert_eq!(messages[1]["sender"], "anna@acme.nl");
        assert_eq!(messages[1]["findings"], json!(["lookalike-domain"]));
        assert!(
            !input.to_string().contains("Jaarrekening"),
            "no subject: {input}"
        );
        // Reading the tenant's mail is audit-logged.
        let (status, audit) = app
            .get("/api/v1/audit?action=registered_mail_read", &admin)
            .await;
        assert_eq!(status, 200, "{audit}");
        assert_eq!(audit["entries"].as_array().unwrap().len(), 1, "{audit}");
        assert_eq!(audit["entries"][0]["detail"]["messages"], 2);

        let (status, _) = app.get("/api/v1/tenant/simulation", &officer).await;
        assert_eq!(status, 403);
        let (status, body) = app.get("/api/v1/tenant/simulation?days=91", &admin).await;
        assert_eq!(status, 400, "{body}");
        app.finish().await;
    }
);
