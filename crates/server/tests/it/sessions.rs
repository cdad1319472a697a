//! The dashboard's browser sessions and the roles, against the real server on SQLite and
//! PostgreSQL: the cookie's attributes, CSRF on every state-changing request, sign-out and
//! expiry, the users API (invite, role, disable, reset; audit-logged), and who may decide
//! an incident. Bearer tokens keep working beside the cookie.

use reqwest::header::{HeaderMap, COOKIE, SET_COOKIE};
use reqwest::Method;
use serde_json::{json, Value};

use leakwatch_testkit::events::SseClient;
use leakwatch_testkit::*;

const PASSWORD: &str = "correct horse battery staple";

/// A signed-in browser: its cookie and CSRF token.
struct Browser {
    cookie: String,
    csrf: String,
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> (u16, HeaderMap, Value) {
    let response = app
        .client
        .post(app.url("/api/v1/auth/session"))
        .json(&json!({"tenant": "acme", "email": email, "password": password}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (
        status,
        headers,
        response.json().await.unwrap_or(Value::Null),
    )
}

async fn browser(app: &TestApp, email: &str, password: &str) -> Browser {
    let (status, headers, body) = sign_in(app, email, password).await;
    assert_eq!(status, 200, "{body}");
    let set = headers[SET_COOKIE].to_str().unwrap();
    Browser {
        cookie: set.split(';').next().unwrap().to_string(),
        csrf: body["csrf_token"].as_str().unwrap().to_string(),
    }
}

/// A request with the cookie, and the CSRF token when `csrf` is true.
async fn call(
    app: &TestApp,
    browser: &Browser,
    method: Method,
    path: &str,
    csrf: bool,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app
        .client
        .request(method, app.url(path))
        .header(COOKIE, &browser.cookie);
    if csrf {
        request = request.header("X-CSRF-Token", &browser.csrf);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Sets the user's password (which ends the tokens issued before it: take a new one with
/// `token_of`).
async fn set_password(app: &TestApp, email: &str) {
    leakwatch_server::accounts::set_password(app.db(), "acme", email, PASSWORD)
        .await
        .unwrap();
}

both_backends!(session_cookie_csrf_and_sign_out, |backend| async move {
    let app = spawn_with(backend, behind_local_proxy).await;
    app.user("acme", "acme.nl", "admin@acme.nl", true).await;
    set_password(&app, "admin@acme.nl").await;
    let admin_token = app.token_of("acme", "admin@acme.nl").await;

    // A wrong password gets the login's one answer and no cookie.
    let (status, headers, _) = sign_in(&app, "admin@acme.nl", "not the password at all").await;
    assert_eq!(status, 401);
    assert!(headers.get(SET_COOKIE).is_none());

    let (status, headers, body) = sign_in(&app, "admin@acme.nl", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["role"], "admin");
    assert_eq!(body["user"]["tenant"]["name"], "acme");
    assert_eq!(body["user"]["tenant"]["time_zone"], "Europe/Amsterdam");
    let set = headers[SET_COOKIE].to_str().unwrap().to_string();
    assert!(set.starts_with("leakwatch_session="), "{set}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=28800"] {
        assert!(set.contains(attribute), "{attribute} missing: {set}");
    }
    // Over plain http the cookie cannot be Secure (the browser would drop it).
    assert!(!set.contains("Secure"), "{set}");
    assert_eq!(headers["cache-control"], "no-store");
    let me = Browser {
        cookie: set.split(';').next().unwrap().to_string(),
        csrf: body["csrf_token"].as_str().unwrap().to_string(),
    };
    // The stored row names the cookie only by its hash.
    let value = me.cookie.split_once('=').unwrap().1.to_string();
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE id_hash = $1")
        .bind(&value)
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);

    // Reading needs only the cookie; a reloaded page gets its CSRF token back.
    let (status, who) = call(&app, &me, Method::GET, "/api/v1/me", false, None).await;
    assert_eq!(status, 200, "{who}");
    assert_eq!(who["email"], "admin@acme.nl");
    let (status, session) = call(&app, &me, Method::GET, "/api/v1/auth/session", false, None).await;
    assert_eq!(status, 200);
    assert_eq!(session["csrf_token"], me.csrf.as_str());

    // Changing needs the CSRF token: without it, or with another, nothing changes.
    let (_, policy) = app.get("/api/v1/tenant/policy", &admin_token).await;
    let mut changed = policy.clone();
    changed["trusted_domains"] = json!(["accountant.nl"]);
    let (status, body) = call(
        &app,
        &me,
        Method::PUT,
        "/api/v1/tenant/policy",
        false,
        Some(changed.clone()),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let forged = Browser {
        cookie: me.cookie.clone(),
        csrf: "A".repeat(me.csrf.len()),
    };
    let (status, _) = call(
        &app,
        &forged,
        Method::PUT,
        "/api/v1/tenant/policy",
        true,
        Some(changed.clone()),
    )
    .await;
    assert_eq!(status, 403);
    let (_, unchanged) = app.get("/api/v1/tenant/policy", &admin_token).await;
    assert_eq!(unchanged, policy);
    let (status, body) = call(
        &app,
        &me,
        Method::PUT,
        "/api/v1/tenant/policy",
        true,
        Some(changed),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // What the dashboard saved is what the add-ins are served with their tokens.
    let (_, served) = app.get("/api/v1/tenant/policy", &admin_token).await;
    assert_eq!(served["trusted_domains"], json!(["accountant.nl"]));

    // A bearer token wins over a cookie: the add-ins' requests are unchanged.
    let response = app
        .client
        .get(app.url("/api/v1/me"))
        .header(COOKIE, "leakwatch_session=nonsense")
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // Sign-out needs the CSRF token too, then the cookie is worth nothing.
    let (status, _) = call(
        &app,
        &me,
        Method::DELETE,
        "/api/v1/auth/session",
        false,
        None,
    )
    .await;
    assert_eq!(status, 403);
    let response = app
        .client
        .delete(app.url("/api/v1/auth/session"))
        .header(COOKIE, &me.cookie)
        .header("X-CSRF-Token", &me.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let cleared = response.headers()[SET_COOKIE].to_str().unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let (status, _) = call(&app, &me, Method::GET, "/api/v1/me", false, None).await;
    assert_eq!(status, 401);

    // A session ends at its expiry, used or not.
    let later = browser(&app, "admin@acme.nl", PASSWORD).await;
    sqlx::query("UPDATE sessions SET expires_at = $1")
        .bind(leakwatch_server::kit::time::now_ms() - 1)
        .execute(&app.db().pool)
        .await
        .unwrap();
    let (status, body) = call(&app, &later, Method::GET, "/api/v1/me", false, None).await;
    assert_eq!(status, 401, "{body}");
    app.finish().await;
});

both_backends!(secure_cookie_over_https, |backend| async move {
    let app = spawn_with(backend, |config| {
        config.public_url = "https://leakwatch.acme.nl".into();
    })
    .await;
    app.user("acme", "acme.nl", "admin@acme.nl", true).await;
    set_password(&app, "admin@acme.nl").await;
    let (status, headers, _) = sign_in(&app, "admin@acme.nl", PASSWORD).await;
    assert_eq!(status, 200);
    let set = headers[SET_COOKIE].to_str().unwrap();
    assert!(set.starts_with("__Host-leakwatch_session="), "{set}");
    assert!(set.contains("Secure"), "{set}");
    app.finish().await;
});

both_backends!(users_roles_and_decisions, |backend| async move {
    let app = spawn_with(backend, behind_local_proxy).await;
    app.user("acme", "acme.nl", "admin@acme.nl", true).await;
    set_password(&app, "admin@acme.nl").await;
    let admin = app.token_of("acme", "admin@acme.nl").await;
    let anna = app.user("acme", "acme.nl", "anna@acme.nl", false).await;
    let boss = browser(&app, "admin@acme.nl", PASSWORD).await;

    // Only admins manage users.
    let (status, _) = app.get("/api/v1/users", &anna).await;
    assert_eq!(status, 403);
    let (status, body) = app
        .post(
            "/api/v1/users",
            &anna,
            &json!({"email": "eve@acme.nl", "role": "admin"}),
        )
        .await;
    assert_eq!(status, 403, "{body}");

    // The admin invites a privacy officer from the dashboard; the one-time password works.
    let (status, body) = call(
        &app,
        &boss,
        Method::POST,
        "/api/v1/users",
        true,
        Some(json!({"email": "Petra@ACME.nl", "role": "privacy_officer"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["user"]["email"], "petra@acme.nl");
    assert_eq!(body["user"]["role"], "privacy_officer");
    assert_eq!(body["user"]["has_password"], true);
    let petra_id = body["user"]["id"].as_str().unwrap().to_string();
    let first_password = body["one_time_password"].as_str().unwrap().to_string();
    let (status, _) = call(
        &app,
        &boss,
        Method::POST,
        "/api/v1/users",
        true,
        Some(json!({"email": "petra@acme.nl"})),
    )
    .await;
    assert_eq!(status, 409);
    let (status, body) = call(
        &app,
        &boss,
        Method::POST,
        "/api/v1/users",
        true,
        Some(json!({"email": "x@acme.nl", "role": "owner"})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let petra = browser(&app, "petra@acme.nl", &first_password).await;

    // Anna reports; she cannot decide, Petra (privacy officer) sees the register and decides.
    let (message, _) = app
        .tracked_message(&anna, &["jan@klantbedrijf.nI"], "Offerte")
        .await;
    let (status, incident) = app
        .post(
            "/api/v1/incidents",
            &anna,
            &json!({"message_id": message, "wrong_recipients": ["jan@klantbedrijf.nI"]}),
        )
        .await;
    assert_eq!(status, 201, "{incident}");
    let path = format!("/api/v1/incidents/{}", incident["id"].as_str().unwrap());
    let response = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&anna)
        .json(&json!({"decision": "notify"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let (status, register) =
        call(&app, &petra, Method::GET, "/api/v1/incidents", false, None).await;
    assert_eq!(status, 200);
    assert_eq!(register["incidents"].as_array().unwrap().len(), 1);
    let (status, decided) = call(
        &app,
        &petra,
        Method::PATCH,
        &path,
        true,
        Some(json!({"decision": "notify"})),
    )
    .await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["status"], "to_notify");
    assert_eq!(decided["decided_by"], "petra@acme.nl");
    // The printable draft opens in her browser with the session alone.
    let response = app
        .client
        .get(app.url(&format!("{path}/notification.html")))
        .header(COOKIE, &petra.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("<html"));
    // She reads the audit log, but is no admin.
    let (status, _) = call(&app, &petra, Method::GET, "/api/v1/audit", false, None).await;
    assert_eq!(status, 200);
    let (status, _) = call(&app, &petra, Method::GET, "/api/v1/users", false, None).await;
    assert_eq!(status, 403);

    // Role change, reset and disabling, each audit-logged.
    let (status, body) = call(
        &app,
        &boss,
        Method::PATCH,
        &format!("/api/v1/users/{petra_id}"),
        true,
        Some(json!({"role": "sender"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["role"], "sender");
    let (status, _) = call(&app, &petra, Method::GET, "/api/v1/audit", false, None).await;
    assert_eq!(status, 403, "the new role applies at once");
    let (status, reset) = call(
        &app,
        &boss,
        Method::POST,
        &format!("/api/v1/users/{petra_id}/password"),
        true,
        None,
    )
    .await;
    assert_eq!(status, 200, "{reset}");
    let (status, _) = call(&app, &petra, Method::GET, "/api/v1/me", false, None).await;
    assert_eq!(status, 401, "a reset ends her sessions");
    let (status, _, _) = sign_in(&app, "petra@acme.nl", &first_password).await;
    assert_eq!(status, 401);
    let second = reset["one_time_password"].as_str().unwrap().to_string();
    let petra = browser(&app, "petra@acme.nl", &second).await;
    let (status, body) = call(
        &app,
        &boss,
        Method::PATCH,
        &format!("/api/v1/users/{petra_id}"),
        true,
        Some(json!({"disabled": true})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["disabled_at"].is_i64(), "{body}");
    let (status, _) = call(&app, &petra, Method::GET, "/api/v1/me", false, None).await;
    assert_eq!(status, 401);
    let (status, _, _) = sign_in(&app, "petra@acme.nl", &second).await;
    assert_eq!(status, 401, "a disabled user cannot sign in");
    let anna_id = leakwatch_server::accounts::find_user(app.db(), "acme", "anna@acme.nl")
        .await
        .unwrap()
        .id;
    let (status, _) = app
        .post(
            &format!("/api/v1/users/{anna_id}/password"),
            &admin,
            &json!(null),
        )
        .await;
    assert_eq!(status, 200);
    let response = app
        .client
        .patch(app.url(&format!("/api/v1/users/{anna_id}")))
        .bearer_auth(&admin)
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (status, _) = app.get("/api/v1/me", &anna).await;
    assert_eq!(status, 401, "a disabled user's tokens stop working");

    // An admin cannot lock herself out.
    let admin_id = leakwatch_server::accounts::find_user(app.db(), "acme", "admin@acme.nl")
        .await
        .unwrap()
        .id;
    let (status, _) = call(
        &app,
        &boss,
        Method::PATCH,
        &format!("/api/v1/users/{admin_id}"),
        true,
        Some(json!({"disabled": true})),
    )
    .await;
    assert_eq!(status, 400);
    let (status, users) = call(&app, &boss, Method::GET, "/api/v1/users", false, None).await;
    assert_eq!(status, 200);
    assert_eq!(users["users"].as_array().unwrap().len(), 3);

    let tenant = leakwatch_server::accounts::tenant_by_name(app.db(), "acme")
        .await
        .unwrap()
        .unwrap();
    let entries = leakwatch_server::audit::list(app.db(), &tenant.id, &Default::default())
        .await
        .unwrap();
    let about_petra: Vec<&str> = entries
        .iter()
        .filter(|e| e.target_id == petra_id)
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(
        about_petra.iter().filter(|a| **a == "user_added").count(),
        1,
        "{about_petra:?}"
    );
    assert_eq!(
        about_petra.iter().filter(|a| **a == "user_changed").count(),
        3,
        "role, reset, disable: {about_petra:?}"
    );
    let petra_actor = entries
        .iter()
        .find(|e| e.target_id == petra_id && e.action == "user_added")
        .unwrap();
    assert!(
        petra_actor.actor.contains("admin@acme.nl"),
        "{}",
        petra_actor.actor
    );
    app.finish().await;
});

both_backends!(alerts_arrive_live_over_the_session, |backend| async move {
    let app = spawn_with(backend, |config| {
        behind_local_proxy(config);
        config.alerts.stream_reread_seconds = 1;
    })
    .await;
    app.user("acme", "acme.nl", "anna@acme.nl", false).await;
    set_password(&app, "anna@acme.nl").await;
    let anna = app.token_of("acme", "anna@acme.nl").await;
    let browser = browser(&app, "anna@acme.nl", PASSWORD).await;
    let url = app.url("/api/v1/alerts/stream");
    let Err(status) = SseClient::connect_with_cookie(&url, "leakwatch_session=forged").await else {
        panic!("a forged cookie opened the stream");
    };
    assert_eq!(status, 401);
    let mut sse = SseClient::connect_with_cookie(&url, &browser.cookie)
        .await
        .expect("the session opens the stream");

    let (message, pixel) = app
        .tracked_message(&anna, &["jan@klantbedrijf.nI"], "Offerte")
        .await;
    let (status, incident) = call(
        &app,
        &browser,
        Method::POST,
        "/api/v1/incidents",
        true,
        Some(json!({"message_id": message, "wrong_recipients": ["jan@klantbedrijf.nI"]})),
    )
    .await;
    assert_eq!(status, 201, "{incident}");
    let id = incident["id"].as_str().unwrap();
    let wait = std::time::Duration::from_secs(10);
    let summary = sse
        .next(wait)
        .await
        .expect("the incident's summary arrives");
    assert_eq!(
        summary.data["kind"], "incident_summary",
        "{:?}",
        summary.data
    );
    assert_eq!(summary.data["incident_id"], id);
    open_from(&app.client, &pixel, "198.51.100.7").await;
    let open = sse
        .next(wait)
        .await
        .expect("the fetch's alert arrives live");
    assert_eq!(open.data["incident_id"], id, "{:?}", open.data);
    assert_eq!(open.data["kind"], "client_open", "{:?}", open.data);
    app.finish().await;
});
