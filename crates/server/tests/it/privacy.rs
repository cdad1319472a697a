//! Privacy by design, against the real server on SQLite and PostgreSQL: the recipients'
//! transparency page, objection through a mailed link (a real SMTP server receives it),
//! the tracking modes at registration, retention with a controllable clock, the audit log
//! API and its export, the privacy settings and the Art. 30 record.

use std::time::Duration;

use leakwatch_server::accounts;
use leakwatch_server::kit::clock::Clock;
use leakwatch_server::kit::db::Backend;
use leakwatch_server::kit::time::now_ms;
use leakwatch_server::privacy::run_retention;
use leakwatch_testkit::smtp::SmtpSink;
use leakwatch_testkit::*;
use serde_json::{json, Value};
use sqlx::Row;

const DAY: i64 = 86_400_000;
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Every table of the schema, for "nothing was written" checks.
const TABLES: &[&str] = &[
    "tenants",
    "users",
    "signing_keys",
    "messages",
    "pixel_counts",
    "pixel_hits",
    "network_keys",
    "incidents",
    "alerts",
    "outbox",
    "audit_log",
    "objections",
    "objection_requests",
    "job_leases",
];

async fn row_counts(app: &TestApp) -> Vec<(&'static str, i64)> {
    let mut counts = Vec::new();
    for table in TABLES {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&app.db().pool)
            .await
            .unwrap();
        counts.push((*table, n));
    }
    counts
}

async fn put(app: &TestApp, path: &str, token: &str, body: &Value) -> (u16, Value) {
    let response = app
        .client
        .put(app.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Registers a message; returns the response body.
async fn register(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, body) = app.post("/api/v1/messages", token, &body).await;
    assert_eq!(status, 201, "{body}");
    body
}

/// Registers a message the sender asks to track; returns (id, pixel URL, info URL).
async fn tracked(app: &TestApp, token: &str, to: &[&str]) -> (String, String, String) {
    let body = register(
        app,
        token,
        json!({"to": to, "subject": "Jaarrekening", "track": true}),
    )
    .await;
    assert_eq!(body["track"], true, "{body}");
    (
        body["id"].as_str().unwrap().to_string(),
        body["pixel_url"].as_str().unwrap().to_string(),
        body["info_url"].as_str().unwrap().to_string(),
    )
}

/// Fetches a pixel as a mail client does.
async fn fetch(app: &TestApp, pixel_url: &str) {
    let response = app
        .client
        .get(pixel_url)
        .header("user-agent", THUNDERBIRD)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.bytes().await.unwrap().len(), 43);
}

/// Every fetch recorded for a message.
async fn hits(app: &TestApp, message_id: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(
        "SELECT CAST(COALESCE(SUM(hits), 0) AS BIGINT) FROM pixel_counts WHERE message_id = $1",
    )
    .bind(message_id)
    .fetch_one(&app.db().pool)
    .await
    .unwrap()
}

async fn exists(app: &TestApp, table: &str, column: &str, id: &str) -> bool {
    sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table} WHERE {column} = $1"))
        .bind(id)
        .fetch_one(&app.db().pool)
        .await
        .unwrap()
        > 0
}

async fn audit(app: &TestApp, action: &str) -> Vec<(String, Value)> {
    sqlx::query("SELECT actor, detail FROM audit_log WHERE action = $1 ORDER BY seq")
        .bind(action)
        .fetch_all(&app.db().pool)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let detail: String = r.try_get("detail").unwrap();
            (
                r.try_get("actor").unwrap(),
                serde_json::from_str(&detail).unwrap(),
            )
        })
        .collect()
}

/// A page as a browser gets it.
async fn page(app: &TestApp, url: &str, accept_language: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(url);
    if let Some(lang) = accept_language {
        request = request.header("accept-language", lang);
    }
    request.send().await.unwrap()
}

/// The value of the first `attr="..."` in some HTML, unescaped.
fn attribute(html: &str, attr: &str) -> Option<String> {
    let start = html.find(&format!("{attr}=\""))? + attr.len() + 2;
    let end = start + html[start..].find('"')?;
    Some(html[start..end].replace("&amp;", "&"))
}

fn assert_page_headers(response: &reqwest::Response, lang: &str) {
    let h = response.headers();
    assert_eq!(h["content-security-policy"], CSP);
    assert_eq!(h["content-type"], "text/html; charset=utf-8");
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["content-language"], lang);
}

const ORG: &str = "Gemeente <Voorbeeld> & Zonen";

/// Tenant `acme`: an admin and a sender; the admin names the organisation and the DPO and
/// sets 14 days of retention. Returns (admin token, sender token).
async fn acme(app: &TestApp) -> (String, String) {
    let admin = app.user("acme", "acme.nl", "dpo@acme.nl", true).await;
    let sender = app.user("acme", "acme.nl", "anna@acme.nl", false).await;
    let (status, body) = put(
        app,
        "/api/v1/tenant/policy",
        &admin,
        &json!({"internal_domains": ["acme.nl"],
                "disclosure": {"organization": ORG, "dpo_contact": "fg@acme.nl"},
                "tracking": {"scope": "at_risk", "exclude_domains": [".de"]}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = put(
        app,
        "/api/v1/tenant/privacy",
        &admin,
        &json!({"retention_days": 14, "controller_contact": "Postbus 1, 1000 AA Amsterdam"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    (admin, sender)
}

both_backends!(
    the_transparency_page_tells_and_records_nothing,
    |backend| async move {
        let app = spawn_with(backend, |c| c.privacy.retention_interval_seconds = 0).await;
        let (_, sender) = acme(&app).await;
        let (id, pixel, info) = tracked(&app, &sender, &["jan@klant.nl"]).await;
        assert_eq!(info, app.url(&format!("/i/{id}")));
        fetch(&app, &pixel).await;
        let before = row_counts(&app).await;

        // Dutch by ?lang=, English by Accept-Language, each with the switch to the other.
        let nl = page(&app, &format!("{info}?lang=nl"), Some("en-GB,en")).await;
        assert_eq!(nl.status(), 200);
        assert_page_headers(&nl, "nl");
        let nl = nl.text().await.unwrap();
        let en = page(&app, &info, Some("en-US,en;q=0.9,nl;q=0.5")).await;
        assert_page_headers(&en, "en");
        let en = en.text().await.unwrap();
        let escaped = "Gemeente &lt;Voorbeeld&gt; &amp; Zonen";
        for (html, words) in [
            (
                &nl,
                [
                    "Lekdetectie in e-mail van",
                    "14 dagen",
                    "Functionaris gegevensbescherming",
                    "bezwaar",
                    "Autoriteit Persoonsgegevens",
                    "Nooit uw IP-adres",
                    "artikel 6, lid 1, onder f",
                    "Postbus 1, 1000 AA Amsterdam",
                ],
            ),
            (
                &en,
                [
                    "Leak detection in e-mail from",
                    "14 days",
                    "Data protection officer",
                    "object",
                    "Dutch Data Protection Authority",
                    "Never your IP address",
                    "Article 6(1)(f)",
                    "Postbus 1, 1000 AA Amsterdam",
                ],
            ),
        ] {
            assert!(html.contains(escaped), "the organisation, escaped");
            assert!(!html.contains(ORG), "never unescaped");
            assert!(html.contains("mailto:fg@acme.nl"));
            assert!(html.contains("https://autoriteitpersoonsgegevens.nl/"));
            assert!(
                html.contains("<code>.de</code>"),
                "the exclusions are listed"
            );
            assert!(
                html.contains("five years") || html.contains("5 jaar") || html.contains("5 years")
            );
            for word in words {
                assert!(html.contains(word), "{word} missing");
            }
            assert!(!html.contains("<script") && !html.contains("<img") && !html.contains("src="));
            // Nothing about the message itself.
            assert!(!html.contains("Jaarrekening") && !html.contains("jan@klant.nl"));
            assert!(!html.contains("anna@acme.nl"));
        }
        assert!(nl.contains("<html lang=\"nl\">") && nl.contains("href=\"?lang=en\""));
        assert!(en.contains("<html lang=\"en\">") && en.contains("href=\"?lang=nl\""));
        // Accept-Language alone picks Dutch too.
        let by_header = page(&app, &info, Some("nl-NL,nl;q=0.9"))
            .await
            .text()
            .await
            .unwrap();
        assert!(by_header.contains("Lekdetectie"));

        // An unknown id: the generic page, same status and headers, no organisation, no form.
        for unknown in [
            "AAAAAAAAAAAAAAAAAAAAAA",
            "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
            &"x".repeat(500),
        ] {
            let response = page(&app, &app.url(&format!("/i/{unknown}")), Some("en")).await;
            assert_eq!(response.status(), 200);
            assert_page_headers(&response, "en");
            let html = response.text().await.unwrap();
            assert!(html.contains("the organisation that sent you the e-mail"));
            assert!(
                !html.contains("Gemeente") && !html.contains("<form") && !html.contains("<script>")
            );
            assert!(html.contains("Autoriteit Persoonsgegevens"));
        }

        // Viewing recorded nothing: every table as before, and no fetch for the message.
        assert_eq!(row_counts(&app).await, before);
        assert_eq!(hits(&app, &id).await, 1);
        app.finish().await;
    }
);

/// The confirmation link in the sink's `n`th mail, which must go to `address`.
async fn link_for(sink: &SmtpSink, n: usize, address: &str) -> String {
    let mails = sink.wait_for(n, Duration::from_secs(15)).await;
    assert!(
        mails.len() >= n,
        "{} mail(s) arrived, expected {n}",
        mails.len()
    );
    let mail = &mails[n - 1];
    assert_eq!(mail.rcpt_tos.len(), 1);
    assert!(
        mail.rcpt_tos[0].eq_ignore_ascii_case(address),
        "{:?}",
        mail.rcpt_tos
    );
    let links = mail.links();
    assert_eq!(links.len(), 1, "{}", mail.plain_text());
    links[0].clone()
}

/// Asks for an objection on the page of `info`, as the form posts it.
async fn object(app: &TestApp, info: &str, lang: &str, address: &str) -> (u16, String) {
    object_on(app, &app.url(""), info, lang, address).await
}

/// [`object`], posting the form to the server at `server` (one of several on the database).
async fn object_on(
    app: &TestApp,
    server: &str,
    info: &str,
    lang: &str,
    address: &str,
) -> (u16, String) {
    let html = page(app, &format!("{info}?lang={lang}"), None)
        .await
        .text()
        .await
        .unwrap();
    let action = attribute(&html, "action").expect("the page has the objection form");
    // The action is relative to /i/{id}.
    let url = format!("{server}/i/{action}");
    let response = app
        .client
        .post(url)
        .form(&[("address", address)])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

both_backends!(
    an_objection_stops_the_pixel_and_the_investigation_goes_on,
    |backend| async move {
        let sink = SmtpSink::start();
        let app = spawn_with(backend, |c| {
            c.mail.smarthost = sink.url();
            c.mail.from = "privacy@leakwatch.test".into();
        })
        .await;
        let (_, sender) = acme(&app).await;
        // Already sent: one to Jan alone, one to Jan and Piet, one to Jan and a colleague.
        let (alone, alone_pixel, info) =
            tracked(&app, &sender, &["Jan Jansen <jan@klant.nl>"]).await;
        let (shared, shared_pixel, _) =
            tracked(&app, &sender, &["jan@klant.nl", "piet@klant.nl"]).await;
        let (internal, internal_pixel, _) =
            tracked(&app, &sender, &["jan@klant.nl", "kees@acme.nl"]).await;
        for pixel in [&alone_pixel, &shared_pixel, &internal_pixel] {
            fetch(&app, pixel).await;
        }
        assert_eq!(hits(&app, &alone).await, 1);

        // Jan objects on the page, in Dutch, typing his address another way.
        let (status, html) = object(&app, &info, "nl", "JAN+nieuws@Klant.NL").await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Kijk in uw mailbox") && html.contains("JAN+nieuws@Klant.NL"));
        // Nothing changes before the link is followed.
        assert!(!register(
            &app,
            &sender,
            json!({"to": ["jan@klant.nl"], "track": true})
        )
        .await["pixel_url"]
            .is_null());

        let link = link_for(&sink, 1, "JAN+nieuws@Klant.NL").await;
        let mail = &sink.received()[0];
        assert_eq!(mail.mail_from, "privacy@leakwatch.test");
        assert!(
            mail.subject().contains("Bevestig uw bezwaar") && mail.subject().contains(ORG),
            "{}",
            mail.subject()
        );
        assert_eq!(mail.header("MIME-Version").as_deref(), Some("1.0"));
        assert!(mail
            .header("Message-ID")
            .is_some_and(|id| id.ends_with("@leakwatch.test>")));
        assert!(
            link.starts_with(&app.url("/i/confirm/")) && link.ends_with("?lang=nl"),
            "{link}"
        );
        // The address is kept nowhere, only its keyed hash.
        for table in ["objections", "objection_requests"] {
            let rows = sqlx::query(&format!("SELECT * FROM {table}"))
                .fetch_all(&app.db().pool)
                .await
                .unwrap();
            for row in rows {
                for i in 0..sqlx::Row::len(&row) {
                    if let Ok(text) = row.try_get::<String, _>(i) {
                        assert!(
                            !text.to_lowercase().contains("jan")
                                && !text.to_lowercase().contains("klant"),
                            "{table}: {text}"
                        );
                    }
                }
            }
        }

        // Following the link shows a button; only pressing it confirms.
        let confirm_page = app.client.get(&link).send().await.unwrap();
        assert_eq!(confirm_page.status(), 200);
        assert_page_headers(&confirm_page, "nl");
        let confirm_html = confirm_page.text().await.unwrap();
        assert!(
            confirm_html.contains("<form method=\"post\">") && confirm_html.contains("Bevestig")
        );
        assert!(
            audit(&app, "objection_confirmed").await.is_empty(),
            "a GET confirms nothing"
        );
        let done = app.client.post(&link).send().await.unwrap();
        assert_eq!(done.status(), 200);
        let done = done.text().await.unwrap();
        assert!(done.contains("Uw bezwaar is vastgelegd"), "{done}");

        // Mail already sent to Jan stays recorded until its period ends (ADR 0013): Jan may be
        // the wrong recipient, and the message to him alone is exactly the one whose opening
        // a leak investigation needs.
        fetch(&app, &alone_pixel).await;
        fetch(&app, &alone_pixel).await;
        assert_eq!(hits(&app, &alone).await, 3);
        let (_, view) = app.get(&format!("/api/v1/messages/{alone}"), &sender).await;
        assert_eq!(view["track"], true);
        fetch(&app, &internal_pixel).await;
        assert_eq!(hits(&app, &internal).await, 2);
        fetch(&app, &shared_pixel).await;
        assert_eq!(hits(&app, &shared).await, 2);

        // New mail to Jan: no pixel, the disclosure's page still; the reason says so.
        for to in [
            json!(["jan@klant.nl"]),
            json!(["Jan@KLANT.nl", "piet@klant.nl"]),
            json!(["jan+x@klant.nl"]),
        ] {
            let body = register(
                &app,
                &sender,
                json!({"to": to, "overridden": true, "track": true, "lang": "en"}),
            )
            .await;
            assert_eq!(body["track"], false, "{body}");
            assert!(body.get("pixel_url").is_none(), "{body}");
            assert!(body["info_url"]
                .as_str()
                .unwrap()
                .starts_with(&app.url("/i/")));
            assert!(
                body["track_reason"].as_str().unwrap().contains("objected"),
                "{body}"
            );
        }
        // Others are tracked as before; so is Jan by another tenant (the objection is acme's).
        assert_eq!(
            register(
                &app,
                &sender,
                json!({"to": ["piet@klant.nl"], "track": true})
            )
            .await["track"],
            true
        );
        let other = app.user("beta", "beta.nl", "bob@beta.nl", false).await;
        assert_eq!(
            register(&app, &other, json!({"to": ["jan@klant.nl"], "track": true})).await["track"],
            true
        );

        // The link works once.
        let again = app.client.post(&link).send().await.unwrap();
        assert_eq!(again.status(), 410);
        assert_eq!(app.client.get(&link).send().await.unwrap().status(), 410);
        let forged = app
            .client
            .post(app.url("/i/confirm/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 404);
        let entries = audit(&app, "objection_confirmed").await;
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].0, "recipient");
        assert_eq!(entries[0].1, json!({"new": true}));
        assert_eq!(sink.received().len(), 1, "no other mail was sent");
        app.finish().await;
    }
);

both_backends!(
    objection_links_expire_and_requests_are_limited,
    |backend| async move {
        let sink = SmtpSink::start();
        let clock = Clock::manual(now_ms());
        let app = spawn_with_clock(backend, clock, |c| {
            c.mail.smarthost = sink.url();
            c.privacy.objection_ip_burst = 4;
            c.privacy.objection_address_burst = 2;
            c.privacy.objection_link_ttl_seconds = 3_600;
            c.privacy.retention_interval_seconds = 0;
        })
        .await;
        let (_, sender) = acme(&app).await;
        let (_, _, info) = tracked(&app, &sender, &["jan@klant.nl"]).await;

        // Not an address: the form again, with the error, and no mail.
        let (status, html) = object(&app, &info, "en", "jan at klant").await;
        assert_eq!(status, 400);
        assert!(
            html.contains("That is not an e-mail address")
                && html.contains("value=\"jan at klant\"")
        );

        // A link older than its lifetime does nothing.
        assert_eq!(object(&app, &info, "en", "jan@klant.nl").await.0, 200);
        let link = link_for(&sink, 1, "jan@klant.nl").await;
        app.clock().advance(3_600_000 + 1);
        assert_eq!(app.client.get(&link).send().await.unwrap().status(), 410);
        assert_eq!(app.client.post(&link).send().await.unwrap().status(), 410);
        assert!(audit(&app, "objection_confirmed").await.is_empty());

        // Per address: two mails, then 429 (the same address in another spelling included).
        assert_eq!(object(&app, &info, "en", "Jan@Klant.nl").await.0, 200);
        let (status, html) = object(&app, &info, "en", "jan+spam@klant.nl").await;
        assert_eq!(status, 429, "{html}");
        assert!(html.contains("Too many requests"));
        // Per network: four requests in all, then 429 for any address.
        let (status, _) = object(&app, &info, "en", "piet@klant.nl").await;
        assert_eq!(status, 429, "the fifth request from this network");
        assert_eq!(sink.wait_for(2, Duration::from_secs(10)).await.len(), 2);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(sink.received().len(), 2, "only two mails went out");

        // The expired request is deleted by retention.
        let report = run_retention(app.state.privacy()).await.unwrap();
        assert_eq!(report.objection_requests, 1);
        app.finish().await;
    }
);

// Issue 17: the form's limits were per process, so N servers sent N times the mails.
both_backends!(
    objection_limits_are_shared_by_the_servers_on_one_database,
    |backend| async move {
        let sink = SmtpSink::start();
        let app = spawn_with(backend, |c| {
            c.mail.smarthost = sink.url();
            c.privacy.objection_ip_burst = 3;
            c.privacy.objection_address_burst = 2;
        })
        .await;
        let (_, sender) = acme(&app).await;
        let (_, _, info) = tracked(&app, &sender, &["jan@klant.nl", "piet@klant.nl"]).await;
        let sibling = app.sibling().await;
        let (first, second) = (app.url(""), sibling.url(""));
        // One mail per server for the address, then its budget is spent on both.
        assert_eq!(
            object_on(&app, &first, &info, "en", "jan@klant.nl").await.0,
            200
        );
        assert_eq!(
            object_on(&app, &second, &info, "en", "Jan@Klant.nl")
                .await
                .0,
            200
        );
        let (status, html) = object_on(&app, &first, &info, "en", "jan+x@klant.nl").await;
        assert_eq!(
            status, 429,
            "the address's third request, on the first server: {html}"
        );
        // Three requests from this network in all, then 429 on either server.
        let (status, _) = object_on(&app, &second, &info, "nl", "piet@klant.nl").await;
        assert_eq!(
            status, 429,
            "the network's fourth request, on the second server"
        );
        assert_eq!(sink.wait_for(2, Duration::from_secs(10)).await.len(), 2);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            sink.received().len(),
            2,
            "two mails in all, not two per server"
        );
        let buckets: Vec<String> = sqlx::query_scalar("SELECT bucket FROM rate_limits")
            .fetch_all(&app.db().pool)
            .await
            .unwrap();
        assert!(buckets.iter().any(|b| b.starts_with("objection-client:")));
        assert!(buckets.iter().any(|b| b.starts_with("objection-address:")));
        for bucket in &buckets {
            assert!(
                !bucket.contains("klant") && !bucket.contains('@') && !bucket.contains("127.0"),
                "{bucket}"
            );
        }
        sibling.stop().await;
        app.finish().await;
    }
);

both_backends!(
    without_a_mail_relay_the_page_says_whom_to_write_to,
    |backend| async move {
        let app = spawn(backend).await;
        let (_, sender) = acme(&app).await;
        let (id, _, info) = tracked(&app, &sender, &["jan@klant.nl"]).await;
        let html = page(&app, &info, Some("en")).await.text().await.unwrap();
        assert!(
            !html.contains("<form")
                && html.contains("not available")
                && html.contains("fg@acme.nl")
        );
        let response = app
            .client
            .post(app.url(&format!("/i/{id}/objection")))
            .form(&[("address", "jan@klant.nl")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 503);
        assert_eq!(
            row_counts(&app)
                .await
                .iter()
                .find(|(t, _)| *t == "objection_requests")
                .unwrap()
                .1,
            0
        );
        app.finish().await;
    }
);

// Tracking decisions over the registration endpoint, mode by mode.
both_backends!(
    each_tracking_mode_decides_at_registration,
    |backend| async move {
        let app = spawn(backend).await;
        let admin = app.user("acme", "acme.nl", "dpo@acme.nl", true).await;
        let sender = app.user("acme", "acme.nl", "anna@acme.nl", false).await;
        let warn = json!([{"rule": "lookalike-domain", "severity": "warn", "recipients": ["jan@klant.nl"], "message": "m"}]);
        let block = json!([{"rule": "blocked-domain", "severity": "block", "recipients": ["jan@klant.nl"], "message": "m"}]);
        let bsn = json!([{"kind": "bsn", "count": 1}]);
        // (what, body, tracked under off, at_risk, external_personal_data, all_external)
        let cases: Vec<(&str, Value, [bool; 4])> = vec![
            (
                "plain",
                json!({"to": ["jan@klant.nl"]}),
                [false, false, false, true],
            ),
            (
                "attachments",
                json!({"to": ["jan@klant.nl"], "has_attachments": true}),
                [false, false, true, true],
            ),
            (
                "iban",
                json!({"to": ["jan@klant.nl"], "sensitive": [{"kind": "iban", "count": 2}]}),
                [false, false, true, true],
            ),
            (
                "bsn",
                json!({"to": ["jan@klant.nl"], "sensitive": bsn}),
                [false, true, true, true],
            ),
            (
                "health",
                json!({"to": ["jan@klant.nl"], "sensitive": [{"kind": "health", "count": 1}]}),
                [false, true, true, true],
            ),
            (
                "overridden",
                json!({"to": ["jan@klant.nl"], "overridden": true}),
                [false, true, true, true],
            ),
            (
                "a warning finding",
                json!({"to": ["jan@klant.nl"], "findings": warn}),
                [false, true, true, true],
            ),
            (
                "blocked",
                json!({"to": ["jan@klant.nl"], "findings": block, "sensitive": bsn}),
                [false; 4],
            ),
            (
                "internal",
                json!({"to": ["kees@acme.nl"], "cc": ["an@sub.acme.nl"], "sensitive": bsn}),
                [false; 4],
            ),
            (
                "trusted is external",
                json!({"to": ["piet@partner.nl"], "sensitive": bsn}),
                [false, true, true, true],
            ),
            (
                "excluded TLD",
                json!({"to": ["hans@firma.de"], "sensitive": bsn, "overridden": true}),
                [false; 4],
            ),
            (
                "excluded domain's subdomain",
                json!({"to": ["an@mail.partner.be"], "overridden": true}),
                [false; 4],
            ),
            (
                "one excluded in bcc",
                json!({"to": ["jan@klant.nl"], "bcc": ["hans@firma.de"], "sensitive": bsn}),
                [false; 4],
            ),
            (
                ".dev is not .de",
                json!({"to": ["jan@firma.dev"], "sensitive": bsn}),
                [false, true, true, true],
            ),
            (
                "forced",
                json!({"to": ["jan@klant.nl"], "track": true}),
                [false, true, true, true],
            ),
            (
                "forced to excluded",
                json!({"to": ["hans@firma.de"], "track": true}),
                [false; 4],
            ),
            (
                "declined",
                json!({"to": ["jan@klant.nl"], "sensitive": bsn, "track": false}),
                [false; 4],
            ),
        ];
        for (i, scope) in ["off", "at_risk", "external_personal_data", "all_external"]
            .iter()
            .enumerate()
        {
            let (status, body) = put(
                &app,
                "/api/v1/tenant/policy",
                &admin,
                &json!({"internal_domains": ["acme.nl"], "trusted_domains": ["partner.nl"],
                    "disclosure": {"organization": "Acme"},
                    "tracking": {"scope": scope, "exclude_domains": [".de", "partner.be"]}}),
            )
            .await;
            assert_eq!(status, 200, "{body}");
            let (_, policy) = app.get("/api/v1/tenant/policy", &sender).await;
            assert_eq!(policy["tracking"]["scope"], *scope);
            for (what, body, expect) in &cases {
                let response = register(&app, &sender, body.clone()).await;
                assert_eq!(
                    response["track"], expect[i],
                    "{what} under {scope}: {response}"
                );
                let info = response["info_url"]
                    .as_str()
                    .expect("always a transparency page");
                match response.get("pixel_url").and_then(Value::as_str) {
                    Some(pixel) => {
                        assert!(
                            expect[i],
                            "{what} under {scope}: a pixel for an untracked message"
                        );
                        // The disclosure goes with the pixel: the core renders them only together.
                        use leakwatch_core::disclose::{Disclosure, InfoUrl, PixelUrl};
                        let disclosure = Disclosure::new(
                            &serde_json::from_value(policy["disclosure"].clone()).unwrap(),
                            leakwatch_core::Lang::Nl,
                            InfoUrl::parse(info).unwrap(),
                        )
                        .unwrap()
                        .track(PixelUrl::parse(pixel).unwrap());
                        let html = disclosure.html_snippet();
                        let notice = html.find(info).expect("the notice links the page");
                        let img = html
                            .find(&format!("<img src=\"{pixel}\""))
                            .expect("the pixel");
                        assert!(notice < img && html.contains("Acme"), "{html}");
                    }
                    None => assert!(!expect[i], "{what} under {scope}: tracked without a pixel"),
                }
            }
        }
        app.finish().await;
    }
);

/// Alert and outbox rows for an incident, as the alert engine writes them.
async fn alert_for(app: &TestApp, incident: &str, message: &str) {
    let row = sqlx::query("SELECT tenant_id, sender_id FROM messages WHERE id = $1")
        .bind(message)
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    let tenant: String = row.try_get("tenant_id").unwrap();
    let user: String = row.try_get("sender_id").unwrap();
    let id = leakwatch_server::kit::ids::random_id();
    sqlx::query("INSERT INTO alerts (id, tenant_id, user_id, incident_id, kind, severity, dedupe_key, payload, created_at) VALUES ($1, $2, $3, $4, 'opened', 'warn', $5, '{}', 0)")
        .bind(&id).bind(&tenant).bind(&user).bind(incident).bind(format!("opened:{incident}"))
        .execute(&app.db().pool).await.unwrap();
    let seq: i64 = sqlx::query_scalar("SELECT seq FROM alerts WHERE id = $1")
        .bind(&id)
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO outbox (alert_seq, channel, target, next_attempt_at, created_at) VALUES ($1, 'mail', 'anna@acme.nl', 0, 0)")
        .bind(seq).execute(&app.db().pool).await.unwrap();
}

both_backends!(
    retention_deletes_what_is_past_its_period,
    |backend| async move {
        let start = now_ms();
        let app = spawn_with_clock(backend, Clock::manual(start), |c| {
            c.privacy.retention_interval_seconds = 0;
            // The alert engine's time-based rules stay out of the way of the counts.
            c.alerts.tick_seconds = 3_600;
        })
        .await;
        let sender = app.user("acme", "acme.nl", "anna@acme.nl", false).await;
        let (old, old_pixel, _) = tracked(&app, &sender, &["jan@klant.nl"]).await;
        fetch(&app, &old_pixel).await;
        fetch(&app, &old_pixel).await;
        let untracked = register(&app, &sender, json!({"to": ["jan@klant.nl"]})).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let (evidence, evidence_pixel, _) = tracked(&app, &sender, &["piet@klant.nl"]).await;
        fetch(&app, &evidence_pixel).await;
        let (status, incident) = app
            .post(
                "/api/v1/incidents",
                &sender,
                &json!({"message_id": evidence, "wrong_recipients": ["piet@klant.nl"]}),
            )
            .await;
        assert_eq!(status, 201, "{incident}");
        let incident = incident["id"].as_str().unwrap().to_string();
        alert_for(&app, &incident, &evidence).await;
        // Tenant beta keeps a week.
        let beta_admin = app.user("beta", "beta.nl", "dpo@beta.nl", true).await;
        let beta = app.user("beta", "beta.nl", "bob@beta.nl", false).await;
        let (status, _) = put(
            &app,
            "/api/v1/tenant/privacy",
            &beta_admin,
            &json!({"retention_days": 7}),
        )
        .await;
        assert_eq!(status, 200);
        let (beta_message, beta_pixel, _) = tracked(&app, &beta, &["jan@klant.nl"]).await;
        fetch(&app, &beta_pixel).await;
        // An objection request that expires in a day.
        let tenant: String = sqlx::query_scalar("SELECT id FROM tenants WHERE name = 'acme'")
            .fetch_one(&app.db().pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO objection_requests (token_hash, tenant_id, address_hash, created_at, expires_at) VALUES ('t', $1, 'h', $2, $3)")
        .bind(&tenant).bind(start).bind(start + DAY).execute(&app.db().pool).await.unwrap();
        let old_hits: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM pixel_hits WHERE message_id = $1")
                .bind(&old)
                .fetch_one(&app.db().pool)
                .await
                .unwrap();
        assert_eq!(old_hits, 2);

        // Day 8: beta's week is over; acme's 30 days are not.
        app.clock().advance(8 * DAY);
        let report = run_retention(app.state.privacy()).await.unwrap();
        assert!(report.ran);
        let by_tenant = |report: &leakwatch_server::privacy::RetentionReport, id: &str| {
            report
                .tenants
                .iter()
                .find(|t| t.tenant_id == id)
                .unwrap()
                .deleted
        };
        assert_eq!(by_tenant(&report, &tenant).messages, 0);
        assert_eq!(
            (
                report.total.messages,
                report.total.pixel_counts,
                report.total.pixel_hits
            ),
            (1, 1, 1)
        );
        assert_eq!(report.objection_requests, 1);
        assert!(!exists(&app, "messages", "id", &beta_message).await);
        assert!(exists(&app, "messages", "id", &old).await);

        // Day 31: acme's old messages go with their fetches; the incident's stays, evidence too;
        // a message of yesterday stays.
        app.clock().advance(23 * DAY);
        let recent = register(&app, &sender, json!({"to": ["jan@klant.nl"]})).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        sqlx::query("UPDATE messages SET created_at = $1 WHERE id = $2")
            .bind(app.clock().now_ms() - DAY)
            .bind(&recent)
            .execute(&app.db().pool)
            .await
            .unwrap();
        let report = run_retention(app.state.privacy()).await.unwrap();
        let acme = by_tenant(&report, &tenant);
        assert_eq!(
            (acme.messages, acme.pixel_counts, acme.pixel_hits),
            (2, 1, 2),
            "{report:?}"
        );
        assert_eq!((acme.incidents, acme.alerts, acme.outbox), (0, 0, 0));
        for gone in [&old, &untracked] {
            assert!(!exists(&app, "messages", "id", gone).await);
            assert!(!exists(&app, "pixel_counts", "message_id", gone).await);
            assert!(!exists(&app, "pixel_hits", "message_id", gone).await);
        }
        assert!(exists(&app, "messages", "id", &recent).await);
        assert_eq!(
            hits(&app, &evidence).await,
            1,
            "the incident's evidence is kept"
        );
        let (status, view) = app
            .get(&format!("/api/v1/incidents/{incident}"), &sender)
            .await;
        assert_eq!(status, 200);
        assert_eq!(view["evidence"]["hits_total"], 1);
        let entries = audit(&app, "retention_applied").await;
        let last = &entries.last().unwrap().1;
        assert_eq!(entries.last().unwrap().0, "retention");
        assert_eq!(last["deleted"]["messages"], 2);
        assert_eq!(last["retention_days"], 30);
        // Nothing more to do: nothing deleted, no entry.
        let again = run_retention(app.state.privacy()).await.unwrap();
        assert!(again.total.is_zero());
        assert_eq!(audit(&app, "retention_applied").await.len(), entries.len());

        // Five years after the incident: it goes, with its alerts (ours and any the alert
        // engine raised), their outbox rows, its message and fetches.
        let alerts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM alerts WHERE incident_id = $1")
            .bind(&incident)
            .fetch_one(&app.db().pool)
            .await
            .unwrap();
        let outbox: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE alert_seq IN (SELECT seq FROM alerts WHERE incident_id = $1)",
        )
        .bind(&incident)
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
        assert!(alerts >= 1 && outbox >= 1);
        app.clock().advance(5 * 365 * DAY);
        let report = run_retention(app.state.privacy()).await.unwrap();
        let acme = by_tenant(&report, &tenant);
        assert_eq!(
            (acme.incidents, acme.alerts, acme.outbox),
            (1, alerts as u64, outbox as u64),
            "{report:?}"
        );
        assert_eq!(
            (acme.messages, acme.pixel_counts, acme.pixel_hits),
            (2, 1, 1)
        );
        assert!(!exists(&app, "incidents", "id", &incident).await);
        assert!(!exists(&app, "messages", "id", &evidence).await);
        for table in [
            "messages",
            "pixel_counts",
            "pixel_hits",
            "incidents",
            "alerts",
            "outbox",
        ] {
            let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(&app.db().pool)
                .await
                .unwrap();
            assert_eq!(n, 0, "{table}");
        }
        // The audit log itself is kept.
        assert!(audit(&app, "retention_applied").await.len() >= 3);
        app.finish().await;
    }
);

both_backends!(retention_runs_on_schedule, |backend| async move {
    let start = now_ms();
    let app = spawn_with_clock(backend, Clock::manual(start), |c| {
        c.privacy.retention_interval_seconds = 1
    })
    .await;
    let sender = app.user("acme", "acme.nl", "anna@acme.nl", false).await;
    let (id, pixel, _) = tracked(&app, &sender, &["jan@klant.nl"]).await;
    fetch(&app, &pixel).await;
    // On a loaded machine the GIF may be answered at commit_timeout, before the commit: the
    // hit must be stored before the clock passes the retention period, or it would be
    // dropped with its message and the count below would be 0.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let stored: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM pixel_hits WHERE message_id = $1")
                .bind(&id)
                .fetch_one(&app.db().pool)
                .await
                .unwrap();
        if stored == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the fetch was not stored"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(
        exists(&app, "messages", "id", &id).await,
        "not past its period yet"
    );
    app.clock().advance(31 * DAY);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while exists(&app, "messages", "id", &id).await {
        assert!(std::time::Instant::now() < deadline, "the job did not run");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let entries = audit(&app, "retention_applied").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].1["deleted"]["pixel_hits"], 1);
    app.finish().await;
});

both_backends!(
    retention_is_harmless_when_run_at_once,
    |backend| async move {
        let start = now_ms();
        let app = spawn_with_clock(backend, Clock::manual(start), |c| {
            c.privacy.retention_interval_seconds = 0
        })
        .await;
        let sender = app.user("acme", "acme.nl", "anna@acme.nl", false).await;
        let mut ids = Vec::new();
        for _ in 0..5 {
            let (id, pixel, _) = tracked(&app, &sender, &["jan@klant.nl"]).await;
            fetch(&app, &pixel).await;
            ids.push(id);
        }
        app.clock().advance(31 * DAY);
        // Another server holds the lease: this one skips.
        sqlx::query(
            "INSERT INTO job_leases (name, holder, until) VALUES ('retention', 'other', $1)",
        )
        .bind(now_ms() + 60_000)
        .execute(&app.db().pool)
        .await
        .unwrap();
        let skipped = run_retention(app.state.privacy()).await.unwrap();
        assert!(!skipped.ran && skipped.total.is_zero());
        assert!(exists(&app, "messages", "id", &ids[0]).await);
        sqlx::query("UPDATE job_leases SET until = 0")
            .execute(&app.db().pool)
            .await
            .unwrap();
        // Two at once (as two servers would): no error, each message deleted once.
        let (a, b) = tokio::join!(
            run_retention(app.state.privacy()),
            run_retention(app.state.privacy())
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert!(a.ran || b.ran);
        assert_eq!(a.total.messages + b.total.messages, 5);
        assert_eq!(a.total.pixel_hits + b.total.pixel_hits, 5);
        assert_eq!(a.deferred + b.deferred, 0);
        // A second server on the same database: nothing left to do, and it hashes objecting
        // addresses with the same key.
        let second = app.sibling().await;
        let report = run_retention(second.state.privacy()).await.unwrap();
        assert!(report.ran && report.total.is_zero());
        assert_eq!(
            second
                .state
                .privacy()
                .privacy()
                .hasher()
                .hash("t", "jan@klant.nl"),
            app.state
                .privacy()
                .privacy()
                .hasher()
                .hash("t", "jan@klant.nl")
        );
        second.stop().await;
        let runs_that_deleted = [&a, &b].iter().filter(|r| r.total.messages > 0).count();
        assert_eq!(
            audit(&app, "retention_applied").await.len(),
            runs_that_deleted
        );
        app.finish().await;
    }
);

both_backends!(
    the_audit_log_shows_and_exports_every_change,
    |backend| async move {
        let app = spawn(backend).await;
        let admin = app.user("acme", "acme.nl", "dpo@acme.nl", true).await;
        let sender = app.user("acme", "acme.nl", "anna@acme.nl", false).await;
        let policy = json!({"internal_domains": ["acme.nl"], "disclosure": {"organization": "Acme, \"the\" firm"}});
        assert_eq!(
            put(&app, "/api/v1/tenant/policy", &admin, &policy).await.0,
            200
        );
        assert_eq!(
            put(
                &app,
                "/api/v1/tenant/privacy",
                &admin,
                &json!({"retention_days": 20})
            )
            .await
            .0,
            200
        );
        let oidc = app
            .client
            .delete(app.url("/api/v1/tenant/oidc"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(oidc.status(), 204);
        // The command line's changes.
        let (kees, _) = accounts::add_user(app.db(), "acme", "kees@acme.nl", false)
            .await
            .unwrap();
        accounts::set_password(
            app.db(),
            "acme",
            "kees@acme.nl",
            "correct horse battery staple",
        )
        .await
        .unwrap();
        accounts::clear_password(app.db(), "acme", "kees@acme.nl")
            .await
            .unwrap();
        accounts::add_user(app.db(), "acme", "kees@acme.nl", true)
            .await
            .unwrap();
        // Another tenant's changes stay its own.
        let other = app.user("beta", "beta.nl", "dpo@beta.nl", true).await;
        assert_eq!(
            put(&app, "/api/v1/tenant/privacy", &other, &json!({}))
                .await
                .0,
            200
        );

        let (status, _) = app.get("/api/v1/audit", &sender).await;
        assert_eq!(status, 403, "senders may not read the log");
        let (status, page) = app.get("/api/v1/audit", &admin).await;
        assert_eq!(status, 200, "{page}");
        let entries = page["entries"].as_array().unwrap().clone();
        assert!(page.get("next_after").is_none());
        let actions: Vec<(&str, &str)> = entries
            .iter()
            .map(|e| (e["action"].as_str().unwrap(), e["actor"].as_str().unwrap()))
            .collect();
        assert_eq!(
            actions,
            vec![
                ("user_added", "cli"), // dpo@acme.nl, by the test's setup
                ("user_added", "cli"), // anna
                ("policy_changed", "dpo@acme.nl"),
                ("privacy_settings_changed", "dpo@acme.nl"),
                ("oidc_changed", "dpo@acme.nl"),
                ("user_added", "cli"),
                ("user_changed", "cli"),
                ("user_changed", "cli"),
                ("user_changed", "cli"),
            ]
        );
        let seqs: Vec<i64> = entries.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "oldest first");
        let kees_entries: Vec<&Value> = entries
            .iter()
            .filter(|e| e["target_id"] == kees.id.as_str())
            .collect();
        assert_eq!(
            kees_entries[1]["detail"],
            json!({"email": "kees@acme.nl", "password": "set"})
        );
        assert_eq!(
            kees_entries[3]["detail"],
            json!({"email": "kees@acme.nl", "role": "admin"})
        );
        assert_eq!(
            entries[2]["detail"]["disclosure"]["organization"],
            "Acme, \"the\" firm"
        );
        assert!(!page.to_string().contains("horse"), "never the password");
        assert!(entries.iter().all(|e| e["at"].as_i64().unwrap() > 0));

        // Filters: action, target, time (ms and RFC 3339), paging.
        let (_, only) = app.get("/api/v1/audit?action=policy_changed", &admin).await;
        assert_eq!(only["entries"].as_array().unwrap().len(), 1);
        let (_, target) = app
            .get(&format!("/api/v1/audit?target={}", kees.id), &admin)
            .await;
        assert_eq!(target["entries"].as_array().unwrap().len(), 4);
        let (_, none) = app.get("/api/v1/audit?until=1000", &admin).await;
        assert!(none["entries"].as_array().unwrap().is_empty());
        let (_, none) = app
            .get("/api/v1/audit?since=2999-01-01T00:00:00Z", &admin)
            .await;
        assert!(none["entries"].as_array().unwrap().is_empty());
        let (_, all) = app
            .get(
                "/api/v1/audit?since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00Z",
                &admin,
            )
            .await;
        assert_eq!(all["entries"].as_array().unwrap().len(), entries.len());
        let mut paged = Vec::new();
        let mut after = 0;
        loop {
            let (_, page) = app
                .get(&format!("/api/v1/audit?limit=4&after={after}"), &admin)
                .await;
            paged.extend(page["entries"].as_array().unwrap().iter().cloned());
            match page["next_after"].as_i64() {
                Some(next) => after = next,
                None => break,
            }
        }
        assert_eq!(paged, entries);
        for bad in [
            "since=yesterday",
            "limit=0",
            "limit=5000",
            "after=x",
            "format=xml",
        ] {
            let (status, body) = app.get(&format!("/api/v1/audit?{bad}"), &admin).await;
            assert_eq!(status, 400, "{bad}: {body}");
            assert_eq!(body["error"]["code"], "bad_request");
        }

        // The CSV export: every entry, quoted where needed, and itself in the log.
        let response = app
            .client
            .get(app.url("/api/v1/audit?format=csv"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"],
            "text/csv; charset=utf-8"
        );
        assert!(response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"leakwatch-audit-"));
        let csv = response.text().await.unwrap();
        let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(
            lines[0],
            "seq,at,actor,actor_id,action,target_type,target_id,detail"
        );
        assert_eq!(lines.len(), entries.len() + 1);
        assert!(
            lines[3].contains(",policy_changed,tenant,")
                && lines[3].contains("\"\"Acme, \\\"\"the\\\"\" firm\"\""),
            "{}",
            lines[3]
        );
        assert!(
            lines[1].split(',').nth(1).unwrap().ends_with('Z'),
            "RFC 3339 times"
        );
        let exported = audit(&app, "audit_exported").await;
        assert_eq!(exported.len(), 1);
        assert_eq!(exported[0].0, "dpo@acme.nl");
        assert_eq!(exported[0].1["rows"], entries.len());
        // The other tenant sees only its own.
        let (_, theirs) = app.get("/api/v1/audit", &other).await;
        let theirs: Vec<&str> = theirs["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(theirs, vec!["user_added", "privacy_settings_changed"]);
        app.finish().await;
    }
);

both_backends!(privacy_settings_for_admins, |backend| async move {
    let app = spawn(backend).await;
    let admin = app.user("acme", "acme.nl", "dpo@acme.nl", true).await;
    let sender = app.user("acme", "acme.nl", "anna@acme.nl", false).await;
    let (status, defaults) = app.get("/api/v1/tenant/privacy", &admin).await;
    assert_eq!(status, 200);
    assert_eq!(
        defaults,
        json!({"retention_days": 30, "register_retention_days": 1826, "time_zone": "Europe/Amsterdam"})
    );
    assert_eq!(app.get("/api/v1/tenant/privacy", &sender).await.0, 403);
    assert_eq!(
        put(
            &app,
            "/api/v1/tenant/privacy",
            &sender,
            &json!({"retention_days": 1})
        )
        .await
        .0,
        403
    );
    for bad in [
        json!({"retention_days": 0}),
        json!({"retention_days": 400}),
        json!({"retention_days": 90, "register_retention_days": 60}),
        json!({"processors": ["x\u{202e}"]}),
        json!({"retention_days": "many"}),
    ] {
        let (status, body) = put(&app, "/api/v1/tenant/privacy", &admin, &bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let settings = json!({"retention_days": 10, "register_retention_days": 730, "controller_contact": "Acme B.V., Postbus 1", "processors": ["Hoster B.V. (hosting)"], "time_zone": "Europe/Amsterdam"});
    let (status, saved) = put(&app, "/api/v1/tenant/privacy", &admin, &settings).await;
    assert_eq!((status, &saved), (200, &settings));
    assert_eq!(app.get("/api/v1/tenant/privacy", &admin).await.1, settings);
    let entries = audit(&app, "privacy_settings_changed").await;
    assert_eq!(entries, vec![("dpo@acme.nl".to_string(), settings)]);
    app.finish().await;
});

both_backends!(
    the_record_of_processing_follows_the_policy,
    |backend| async move {
        let app = spawn(backend).await;
        let (admin, sender) = acme(&app).await;
        let (status, body) = put(&app, "/api/v1/tenant/policy", &admin, &json!({
        "internal_domains": ["acme.nl"], "disclosure": {"organization": "Gemeente Voorbeeld", "dpo_contact": "fg@voorbeeld.nl"},
        "tracking": {"scope": "external_personal_data", "exclude_domains": [".de"]}})).await;
        assert_eq!(status, 200, "{body}");
        put(&app, "/api/v1/tenant/privacy", &admin, &json!({"retention_days": 21, "register_retention_days": 1826, "processors": ["Hoster B.V."]})).await;
        assert_eq!(
            app.get("/api/v1/tenant/record-of-processing?format=json", &sender)
                .await
                .0,
            403
        );
        let (status, en) = app
            .get(
                "/api/v1/tenant/record-of-processing?format=json&lang=en",
                &admin,
            )
            .await;
        assert_eq!(status, 200, "{en}");
        assert_eq!(en["lang"], "en");
        assert_eq!(en["controller"]["name"], "Gemeente Voorbeeld");
        assert_eq!(en["dpo"], "fg@voorbeeld.nl");
        assert_eq!(en["tracking"]["scope"], "external_personal_data");
        assert_eq!(en["tracking"]["exclude_domains"], json!([".de"]));
        assert!(en["tracking"]["description"]
            .as_str()
            .unwrap()
            .contains("personal data or attachments"));
        assert!(en["tracking"]["description"]
            .as_str()
            .unwrap()
            .contains(".de"));
        assert_eq!(en["retention"]["fetch_records_and_messages_days"], 21);
        assert_eq!(en["retention"]["breach_register_days"], 1826);
        let text = en.to_string();
        for needle in [
            "6(1)(f)",
            "6(1)(c)",
            "Art. 33",
            "Recipients of tracked e-mail",
            "Senders",
            "user-agent family",
            "None. No personal data is transferred",
            "21 days",
            "5 years",
            "Hoster B.V.",
            "not HTTPS",
        ] {
            assert!(text.contains(needle), "{needle} missing from {text}");
        }
        let (_, nl) = app
            .get(
                "/api/v1/tenant/record-of-processing?format=json&lang=nl",
                &admin,
            )
            .await;
        assert_eq!(nl["lang"], "nl");
        let text = nl.to_string();
        for needle in [
            "gerechtvaardigd belang",
            "wettelijke plicht",
            "Ontvangers buiten de organisatie",
            "21 dagen",
            "5 jaar",
            "Geen.",
        ] {
            assert!(text.contains(needle), "{needle} missing from {text}");
        }
        let html = app
            .client
            .get(app.url("/api/v1/tenant/record-of-processing?lang=nl"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(html.status(), 200);
        assert_page_headers(&html, "nl");
        let html = html.text().await.unwrap();
        for needle in [
            "Verwerkingsregister: lekdetectie",
            "Art. 30(1)(a)",
            "Art. 30(1)(g)",
            "Gemeente Voorbeeld",
            "mailto:fg@voorbeeld.nl",
            "@media print",
        ] {
            assert!(html.contains(needle), "{needle} missing");
        }
        assert_eq!(
            app.get("/api/v1/tenant/record-of-processing?format=xml", &admin)
                .await
                .0,
            400
        );
        app.finish().await;
    }
);

#[tokio::test]
async fn the_openapi_document_lists_the_privacy_endpoints() {
    let app = spawn(Backend::Sqlite).await;
    let (_, doc) = app.get("/openapi.json", "").await;
    for (path, method) in [
        ("/i/{id}", "get"),
        ("/i/{id}/objection", "post"),
        ("/i/confirm/{token}", "get"),
        ("/i/confirm/{token}", "post"),
        ("/api/v1/audit", "get"),
        ("/api/v1/tenant/privacy", "get"),
        ("/api/v1/tenant/privacy", "put"),
        ("/api/v1/tenant/record-of-processing", "get"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} missing"
        );
    }
    for schema in [
        "PrivacySettings",
        "AuditPage",
        "Entry",
        "RecordOfProcessing",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
    app.finish().await;
}

async fn request_rows(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM objection_requests")
        .fetch_one(&app.db().pool)
        .await
        .unwrap()
}

// Issue 16, findings 5 and 8: the form mails only the message's own recipients (and answers
// an address that was none of them the same, without mail), and an address the mailer cannot
// write to is refused before anything is stored (it gave a 503 and an orphan request row).
both_backends!(
    objections_mail_only_the_message_s_recipients,
    |backend| async move {
        let sink = SmtpSink::start();
        let app = spawn_with(backend, |c| {
            c.mail.smarthost = sink.url();
            c.mail.from = "privacy@leakwatch.test".into();
        })
        .await;
        let (_, sender) = acme(&app).await;
        let (_, _, info) = tracked(&app, &sender, &["jan@klant.nl", "\"a,b\"@klant.nl"]).await;
        let (status, stranger) = object(&app, &info, "en", "someone@elsewhere.example").await;
        let (_, recipient) = object(&app, &info, "en", "Jan@Klant.nl").await;
        assert_eq!(status, 200, "{stranger}");
        // The same page either way (but for the address typed).
        assert_eq!(
            stranger.replace("someone@elsewhere.example", "X"),
            recipient.replace("Jan@Klant.nl", "X")
        );
        let mails = sink.wait_for(1, Duration::from_secs(5)).await;
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].rcpt_tos, ["Jan@Klant.nl"]);
        assert_eq!(
            request_rows(&app).await,
            1,
            "only the recipient's request is kept"
        );

        let (status, html) = object(&app, &info, "en", "\"a,b\"@klant.nl").await;
        assert_eq!(status, 400, "{html}");
        assert!(html.contains("That is not an e-mail address"), "{html}");
        assert_eq!(request_rows(&app).await, 1, "nothing stored for it");
        assert_eq!(sink.received().len(), 1);
        app.finish().await;
    }
);

// Issue 18: an address with letters outside ASCII before the @, which a relay without
// SMTPUTF8 (the tests' aiosmtpd) refuses, gets a lasting answer with what can be done instead
// of "try again later", and no request row is left behind.
both_backends!(
    an_address_the_relay_refuses_for_good_gets_a_lasting_answer,
    |backend| async move {
        let sink = SmtpSink::start();
        let app = spawn_with(backend, |c| {
            c.mail.smarthost = sink.url();
            c.mail.from = "privacy@leakwatch.test".into();
        })
        .await;
        let (_, sender) = acme(&app).await;
        let (id, _, info) = tracked(&app, &sender, &["jürgen@klant.nl"]).await;
        for (lang, words, again) in [
            (
                "en",
                "This address cannot receive the confirmation link",
                "Trying again will not help",
            ),
            (
                "nl",
                "Dit adres kan de bevestigingslink niet ontvangen",
                "Opnieuw proberen helpt niet",
            ),
        ] {
            let (status, html) = object(&app, &info, lang, "jürgen@klant.nl").await;
            assert_eq!(status, 422, "{html}");
            assert!(html.contains(words) && html.contains(again), "{html}");
            assert!(
                html.contains(&format!("href=\"/i/{id}?lang={lang}\"")),
                "{html}"
            );
            assert!(!html.contains("later"), "{html}");
        }
        assert_eq!(request_rows(&app).await, 0, "no orphan request");
        assert!(sink.received().is_empty());
        app.finish().await;
    }
);

// Issue 18: the notice's link opens the page in the notice's language.
both_backends!(
    the_info_link_names_the_notice_s_language,
    |backend| async move {
        let app = spawn(backend).await;
        let (_, sender) = acme(&app).await;
        for (lang, header) in [("nl", "nl"), ("en", "en")] {
            let body = register(
                &app,
                &sender,
                json!({"to": ["jan@klant.nl"], "track": true, "lang": lang}),
            )
            .await;
            let info = body["info_url"].as_str().unwrap();
            assert!(info.ends_with(&format!("?lang={lang}")), "{info}");
            // Whatever the reader's browser asks for.
            let response = app
                .client
                .get(info)
                .header(
                    "accept-language",
                    if lang == "nl" { "en-US" } else { "nl-NL" },
                )
                .send()
                .await
                .unwrap();
            assert_eq!(response.headers()["content-language"], header);
        }
        let body = register(&app, &sender, json!({"to": ["jan@klant.nl"]})).await;
        assert!(!body["info_url"].as_str().unwrap().contains('?'), "{body}");
        app.finish().await;
    }
);

// Issue 18: the page names who receives the data and the processors (GDPR Art. 13(1)(e)),
// names the organisation once before its contact details, ends no sentence with a double
// full stop after "B.V.", and its Dutch has no English in it.
both_backends!(
    the_page_names_recipients_and_processors_and_reads_cleanly,
    |backend| async move {
        let app = spawn(backend).await;
        let admin = app.user("acme", "acme.nl", "dpo@acme.nl", true).await;
        let sender = app.user("acme", "acme.nl", "anna@acme.nl", false).await;
        let (status, body) = put(
            &app,
            "/api/v1/tenant/policy",
            &admin,
            &json!({"internal_domains": ["acme.nl"], "disclosure": {"organization": "Acme B.V."},
                    "tracking": {"scope": "all_external"}}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = put(
            &app,
            "/api/v1/tenant/privacy",
            &admin,
            &json!({"controller_contact": "Acme B.V.\nPostbus 1\n1000 AA Amsterdam.",
                    "processors": ["Hostingbedrijf Noord B.V. (servers, Amsterdam)"]}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (_, _, info) = tracked(&app, &sender, &["jan@klant.nl"]).await;
        for (lang, heading) in [
            ("en", "Who receives the data"),
            ("nl", "Wie de gegevens ontvangt"),
        ] {
            let html = page(&app, &format!("{info}?lang={lang}"), None)
                .await
                .text()
                .await
                .unwrap();
            let text = visible_text(&html);
            assert!(text.contains(heading), "{text}");
            assert!(
                text.contains("Hostingbedrijf Noord B.V. (servers, Amsterdam)"),
                "{text}"
            );
            assert!(!text.contains(".."), "a double full stop: {text}");
            assert!(
                !text.contains("Acme B.V., Acme B.V.") && !text.contains("Acme B.V.: Acme B.V."),
                "{text}"
            );
            assert!(
                text.contains("Acme B.V., Postbus 1, 1000 AA Amsterdam."),
                "{text}"
            );
            if lang == "nl" {
                for english in ["keyed hash", "hash", "Who ", "the data"] {
                    assert!(
                        !text.contains(english),
                        "English in the Dutch page: {english}"
                    );
                }
            }
        }
        // Without processors the page says none were named (and whom to ask).
        let (status, _) = put(&app, "/api/v1/tenant/privacy", &admin, &json!({})).await;
        assert_eq!(status, 200);
        let html = page(&app, &format!("{info}?lang=en"), None)
            .await
            .text()
            .await
            .unwrap();
        assert!(
            visible_text(&html).contains("has named no processor"),
            "{html}"
        );
        // The Dutch record of processing has no English term either.
        let record = app
            .client
            .get(app.url("/api/v1/tenant/record-of-processing?lang=nl&format=json"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!record.contains("keyed"), "{record}");
        app.finish().await;
    }
);

// The tenant's time zone: Europe/Amsterdam until an admin sets another in the privacy
// settings; `/api/v1/me` and the session answer carry it for the dashboard; a name the
// time-zone database does not know is refused in words and changes nothing.
both_backends!(the_time_zone_is_a_tenant_setting, |backend| async move {
    let app = spawn(backend).await;
    let admin = app.user("acme", "acme.nl", "dpo@acme.nl", true).await;
    let sender = app.user("acme", "acme.nl", "anna@acme.nl", false).await;
    let other = app.user("klant", "klant.nl", "it@klant.nl", true).await;
    let zone_of = |me: &Value| me["tenant"]["time_zone"].as_str().map(String::from);
    let (status, me) = app.get("/api/v1/me", &sender).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(zone_of(&me).as_deref(), Some("Europe/Amsterdam"), "{me}");

    for (bad, shown) in [
        (
            "Mars/Olympus_Mons",
            "'Mars/Olympus_Mons' is not a time zone",
        ),
        ("+01:00", "'+01:00' is not a time zone"),
        ("", "is empty"),
    ] {
        let (status, body) = put(
            &app,
            "/api/v1/tenant/privacy",
            &admin,
            &json!({"time_zone": bad}),
        )
        .await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["error"]["code"], "bad_request");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with("invalid time_zone: ")
                && message.contains(shown)
                && message.contains("such as Europe/Amsterdam"),
            "{message}"
        );
    }
    let (status, body) = put(
        &app,
        "/api/v1/tenant/privacy",
        &admin,
        &json!({"time_zone": 1}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        zone_of(&app.get("/api/v1/me", &sender).await.1).as_deref(),
        Some("Europe/Amsterdam"),
        "a refused zone changes nothing"
    );

    // Any spelling of a known name is saved canonically, and a sender only reads it.
    assert_eq!(
        put(
            &app,
            "/api/v1/tenant/privacy",
            &sender,
            &json!({"time_zone": "Asia/Tokyo"})
        )
        .await
        .0,
        403
    );
    let (status, saved) = put(
        &app,
        "/api/v1/tenant/privacy",
        &admin,
        &json!({"retention_days": 14, "time_zone": "america/new_york"}),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["time_zone"], "America/New_York");
    let (_, shown) = app.get("/api/v1/tenant/privacy", &admin).await;
    assert_eq!(
        (&shown["time_zone"], &shown["retention_days"]),
        (&json!("America/New_York"), &json!(14))
    );
    assert_eq!(
        zone_of(&app.get("/api/v1/me", &sender).await.1).as_deref(),
        Some("America/New_York")
    );
    assert_eq!(
        zone_of(&app.get("/api/v1/me", &other).await.1).as_deref(),
        Some("Europe/Amsterdam"),
        "another tenant keeps its own"
    );
    let entries = audit(&app, "privacy_settings_changed").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].1["time_zone"], "America/New_York");
    // Stored in the tenant's own column, not twice.
    let row = sqlx::query("SELECT privacy, time_zone FROM tenants WHERE name = 'acme'")
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    let privacy: String = row.try_get("privacy").unwrap();
    assert!(!privacy.contains("time_zone"), "{privacy}");
    assert_eq!(
        row.try_get::<String, _>("time_zone").unwrap(),
        "America/New_York"
    );
    app.finish().await;
});
