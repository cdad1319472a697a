//! Alerts over the real server: each rule fires once, on the live stream and in the list;
//! mail reaches a real SMTP server; webhooks are signed and retried; the outbox survives a
//! restart; an alert raised on one server reaches a stream connected to another.

use std::time::Duration;

use leakwatch_server::kit::clock::Clock;
use leakwatch_server::kit::outbound::Resolver;
use leakwatch_testkit::events::{SseClient, WebhookReceiver};
use leakwatch_testkit::smtp::SmtpSink;
use leakwatch_testkit::*;
use serde_json::{json, Value};

const HOUR: i64 = 3600 * 1000;
const WAIT: Duration = Duration::from_secs(10);

fn fast(config: &mut leakwatch_server::Config) {
    behind_local_proxy(config);
    // Tests drive the time-based rules themselves (`tick`); keep the periodic one away.
    config.alerts.tick_seconds = 3600;
    config.alerts.outbox_poll_ms = 50;
    config.alerts.retry_base_seconds = 1;
    config.alerts.stream_reread_seconds = 1;
    // The tests' webhook receivers listen on loopback.
    config.outbound.allow_private = true;
}

async fn tracked(app: &TestApp, token: &str, to: &str, subject: &str) -> (String, String) {
    let (status, body) = app
        .post(
            "/api/v1/messages",
            token,
            &json!({"to": [to], "subject": subject, "overridden": true, "lang": "en"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["track"], true, "{body}");
    (
        body["id"].as_str().unwrap().into(),
        body["pixel_url"].as_str().unwrap().into(),
    )
}

async fn incident(app: &TestApp, token: &str, message: &str, wrong: &str) -> String {
    let (status, body) = app
        .post(
            "/api/v1/incidents",
            token,
            &json!({"message_id": message, "wrong_recipients": [wrong]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().into()
}

async fn stream(app: &TestApp, token: &str) -> SseClient {
    SseClient::connect(&app.url("/api/v1/alerts/stream"), Some(token), None)
        .await
        .expect("the stream connects")
}

async fn expect(sse: &mut SseClient, kind: &str, incident: &str) -> Value {
    let event = sse
        .next(WAIT)
        .await
        .unwrap_or_else(|| panic!("no {kind} alert arrived"));
    assert_eq!(event.event, "alert");
    assert_eq!(event.data["kind"], kind, "{:?}", event.data);
    assert_eq!(event.data["incident_id"], incident);
    assert_eq!(event.id, event.data["seq"].to_string());
    event.data
}

both_backends!(each_rule_fires_once, |backend| async move {
    let clock = Clock::manual(leakwatch_server::kit::time::now_ms());
    let app = spawn_with_clock(backend, clock.clone(), fast).await;
    let anna = app.user("acme", "acme.nl", "anna@acme.nl", false).await;
    let mut sse = stream(&app, &anna).await;

    // A: opened before and after the report, then by a second client (forwarding).
    let (a_msg, a_pixel) = tracked(&app, &anna, "jan@klantbedrijf.nI", "Jaarrekening A").await;
    open_from(&app.client, &a_pixel, "198.51.100.7").await;
    let a = incident(&app, &anna, &a_msg, "jan@klantbedrijf.nI").await;
    let summary = expect(&mut sse, "incident_summary", &a).await;
    assert_eq!(summary["evidence_status"], "opened_in_mail_client");
    // A minute later (the manual clock stands still otherwise).
    clock.advance(60_000);
    assert_eq!(summary["severity"], "normal");
    assert!(summary["title"]
        .as_str()
        .unwrap()
        .contains("Jaarrekening A"));
    open_from(&app.client, &a_pixel, "198.51.100.7").await;
    let open = expect(&mut sse, "client_open", &a).await;
    assert_eq!(open["severity"], "high");
    // The same client again: nothing new.
    open_from(&app.client, &a_pixel, "198.51.100.7").await;
    sse.assert_quiet(Duration::from_millis(600)).await;
    open_from(&app.client, &a_pixel, "203.0.113.50").await;
    let forwarded = expect(&mut sse, "possible_forwarding", &a).await;
    assert!(forwarded["body"].as_str().unwrap().contains("2 different"));
    open_from(&app.client, &a_pixel, "192.0.2.99").await;
    sse.assert_quiet(Duration::from_millis(600)).await;

    // B: reported at once, never opened.
    let (b_msg, _) = tracked(&app, &anna, "kees@client.nl", "Offerte B").await;
    let b = incident(&app, &anna, &b_msg, "kees@client.nl").await;
    let summary = expect(&mut sse, "incident_summary", &b).await;
    assert_eq!(summary["evidence_status"], "not_opened");

    // Time passes: 23 hours, nothing; 24, "not opened" for B only (A was opened).
    clock.advance(23 * HOUR);
    assert_eq!(tick(&app).await, 0);
    clock.advance(HOUR + 1000);
    assert_eq!(tick(&app).await, 1);
    expect(&mut sse, "not_opened", &b).await;
    assert_eq!(tick(&app).await, 0);
    // B is decided (by the privacy officer); at 48 hours only A is still undecided.
    let dpo = app.user("acme", "acme.nl", "dpo@acme.nl", true).await;
    let r = app
        .client
        .patch(app.url(&format!("/api/v1/incidents/{b}")))
        .bearer_auth(&dpo)
        .json(&json!({"decision": "no_notify", "decision_reason": "A quotation, no personal data"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    clock.advance(24 * HOUR);
    assert_eq!(tick(&app).await, 1);
    let reminder = expect(&mut sse, "undecided_reminder", &a).await;
    assert_eq!(reminder["severity"], "high");
    assert_eq!(tick(&app).await, 0);
    sse.assert_quiet(Duration::from_millis(300)).await;

    // The list has each alert exactly once, in order; `after` pages.
    let (_, list) = app.get("/api/v1/alerts", &anna).await;
    let kinds: Vec<&str> = list["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "incident_summary",
            "client_open",
            "possible_forwarding",
            "incident_summary",
            "not_opened",
            "undecided_reminder"
        ]
    );
    let third = list["alerts"][2]["seq"].as_i64().unwrap();
    let (_, rest) = app
        .get(&format!("/api/v1/alerts?after={third}"), &anna)
        .await;
    assert_eq!(rest["alerts"].as_array().unwrap().len(), 3);
    // Nobody else gets them.
    let bob = app.user("acme", "acme.nl", "bob@acme.nl", false).await;
    let (_, bobs) = app.get("/api/v1/alerts", &bob).await;
    assert_eq!(bobs["alerts"], json!([]));
    app.finish().await;
});

both_backends!(the_stream_authenticates_and_replays, |backend| async move {
    let app = spawn_with(backend, fast).await;
    let anna = app.user("acme", "acme.nl", "anna@acme.nl", false).await;
    let url = app.url("/api/v1/alerts/stream");
    assert_eq!(SseClient::connect(&url, None, None).await.err(), Some(401));
    assert_eq!(
        SseClient::connect(&url, Some("not.a.token"), None)
            .await
            .err(),
        Some(401)
    );
    assert_eq!(
        SseClient::connect(&format!("{url}?scope=tenant"), Some(&anna), None)
            .await
            .err(),
        Some(403)
    );
    let (m1, _) = tracked(&app, &anna, "jan@klant.nl", "One").await;
    let i1 = incident(&app, &anna, &m1, "jan@klant.nl").await;
    let (m2, _) = tracked(&app, &anna, "piet@klant.nl", "Two").await;
    let i2 = incident(&app, &anna, &m2, "piet@klant.nl").await;
    // EventSource style: the token in the query; Last-Event-ID resumes after the first.
    let (_, list) = app.get("/api/v1/alerts", &anna).await;
    let first = list["alerts"][0]["seq"].to_string();
    let mut resumed = SseClient::connect(&format!("{url}?access_token={anna}"), None, Some(&first))
        .await
        .unwrap();
    expect(&mut resumed, "incident_summary", &i2).await;
    resumed.assert_quiet(Duration::from_millis(300)).await;
    let mut all = SseClient::connect(&format!("{url}?after=0"), Some(&anna), None)
        .await
        .unwrap();
    expect(&mut all, "incident_summary", &i1).await;
    expect(&mut all, "incident_summary", &i2).await;
    // An admin's tenant-wide stream sees every sender's alerts, and is audit-logged.
    let dpo = app.user("acme", "acme.nl", "dpo@acme.nl", true).await;
    let mut tenant = SseClient::connect(&format!("{url}?scope=tenant&after=0"), Some(&dpo), None)
        .await
        .unwrap();
    expect(&mut tenant, "incident_summary", &i1).await;
    let tenant_id = leakwatch_server::accounts::tenant_by_name(app.db(), "acme")
        .await
        .unwrap()
        .unwrap()
        .id;
    let log = leakwatch_server::audit::list(app.db(), &tenant_id, &Default::default())
        .await
        .unwrap();
    assert!(log
        .iter()
        .any(|e| e.action == "alert_stream_opened" && e.actor == "dpo@acme.nl"));
    app.finish().await;
});

both_backends!(alerts_are_mailed_to_the_sender, |backend| async move {
    let sink = SmtpSink::start();
    let url = sink.url();
    let app = spawn_with(backend, |c| {
        fast(c);
        c.mail.smarthost = url;
        c.mail.from = "leakwatch@acme.nl".into();
    })
    .await;
    let anna = app.user("acme", "acme.nl", "anna@acme.nl", false).await;
    let (message, pixel) =
        tracked(&app, &anna, "jan@klantbedrijf.nI", "Loonstroken december").await;
    let id = incident(&app, &anna, &message, "jan@klantbedrijf.nI").await;
    let mails = sink.wait_for(1, WAIT).await;
    assert_eq!(mails.len(), 1, "the summary is mailed");
    let summary = &mails[0];
    assert_eq!(summary.mail_from, "leakwatch@acme.nl");
    assert_eq!(summary.rcpt_tos, ["anna@acme.nl"]);
    let subject = summary.header("subject").unwrap();
    assert!(
        subject.contains("[leakwatch]") && subject.contains("Incident created"),
        "{subject}"
    );
    let text = summary.text();
    assert!(text.contains(&id), "{text}");
    assert!(
        text.contains("not opened") && text.contains("Deadline"),
        "{text}"
    );
    open_from(&app.client, &pixel, "198.51.100.7").await;
    let mails = sink.wait_for(2, WAIT).await;
    assert_eq!(mails.len(), 2, "the client open is mailed");
    assert!(mails[1].header("subject").unwrap().contains("Opened"));
    assert!(mails[1].text().contains("opened in a mail client"));
    // Delivered rows are marked so; nothing is sent twice.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.received().len(), 2);
    app.finish().await;
});

/// Registers a tracked message in the given language; its id and pixel URL.
async fn tracked_in(
    app: &TestApp,
    token: &str,
    to: &str,
    subject: &str,
    lang: &str,
) -> (String, String) {
    let (status, body) = app
        .post(
            "/api/v1/messages",
            token,
            &json!({"to": [to], "subject": subject, "overridden": true, "lang": lang}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    (
        body["id"].as_str().unwrap().into(),
        body["pixel_url"].as_str().unwrap().into(),
    )
}

/// The words of a text, lower case.
fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect()
}

/// A Dutch mail addresses the sender formally, as the add-ins do, and has no English line.
fn assert_formal_dutch(text: &str) {
    let informal = ["je", "jij", "jou", "jouw", "jullie"];
    let english = [
        "the",
        "your",
        "you",
        "deadline",
        "gdpr",
        "incident opened",
        "add-in",
        "open the",
        "opened",
        "record",
        "decision",
        "leak detection",
    ];
    for line in text.lines() {
        let line_words = words(line);
        for word in informal {
            assert!(
                !line_words.iter().any(|w| w == word),
                "informal '{word}' in the Dutch mail: {line}\n{text}"
            );
        }
        let lower = line.to_lowercase();
        for phrase in english {
            let found = if phrase.contains(' ') || phrase.contains('-') {
                lower.contains(phrase)
            } else {
                line_words.iter().any(|w| w == phrase)
            };
            assert!(
                !found,
                "English '{phrase}' in the Dutch mail: {line}\n{text}"
            );
        }
    }
}

/// An English mail has no Dutch line.
fn assert_english(text: &str) {
    for phrase in [
        "uw",
        "u",
        "het",
        "meldtermijn",
        "avg",
        "invoegtoepassing",
        "besluit",
    ] {
        for line in text.lines() {
            assert!(
                !words(line).iter().any(|w| w == phrase),
                "Dutch '{phrase}' in the English mail: {line}\n{text}"
            );
        }
    }
}

fn assert_mail_headers(mail: &leakwatch_testkit::smtp::Received, domain: &str) {
    let message_id = mail.header("Message-ID").expect("a Message-ID");
    assert!(
        message_id.starts_with('<') && message_id.ends_with(&format!("@{domain}>")),
        "{message_id}"
    );
    assert_eq!(mail.header("MIME-Version").as_deref(), Some("1.0"));
}

// The mail as a sender reads it (issue 18): all in her language, formal Dutch ("u", as the
// add-ins), times in the tenant's time zone (Europe/Amsterdam by default, another when the
// admin set one), "created" rather than "opened" for the incident, and a Message-ID of the
// sending domain and MIME-Version.
both_backends!(
    alert_mails_read_in_the_senders_language_and_the_tenants_time,
    |backend| async move {
        let sink = SmtpSink::start();
        let url = sink.url();
        // Friday 4 December 2026, 19:43:07 UTC: 20:43 in Amsterdam, 14:43 in New York.
        let t0 = 1_796_413_387_000;
        let clock = Clock::manual(t0);
        let app = spawn_with_clock(backend, clock.clone(), |c| {
            fast(c);
            c.mail.smarthost = url;
            c.mail.from = "leakwatch@acme.nl".into();
        })
        .await;
        let anna = app.user("acme", "acme.nl", "anna@acme.nl", false).await;
        let (message, pixel) = tracked_in(&app, &anna, "jan@klant.nl", "Loonstroken", "nl").await;
        let (status, created) = app
            .post(
                "/api/v1/incidents",
                &anna,
                &json!({"message_id": message, "wrong_recipients": ["jan@klant.nl"]}),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["deadline_at"], t0 + 72 * HOUR);
        let id = created["id"].as_str().unwrap();
        let mails = sink.wait_for(1, WAIT).await;
        assert_eq!(mails.len(), 1, "the summary is mailed");
        let summary = &mails[0];
        assert_eq!(
            summary.subject(),
            "[leakwatch] Incident aangemaakt: \u{201c}Loonstroken\u{201d}"
        );
        let text = summary.plain_text().replace("\r\n", "\n");
        // 7 December 19:43 UTC, in Amsterdam's winter time: in the body and the mail's line.
        let deadline = "7 december 2026 om 20:43 (Europe/Amsterdam, UTC+1)";
        assert!(
            text.contains(&format!(
                "\nIncident: {id}\nUiterste meldtermijn (AVG art. 33): {deadline}\n"
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "Stand van zaken: niet geopend. Uiterste meldtermijn (AVG art. 33): {deadline}."
            )),
            "{text}"
        );
        assert!(
            text.contains("Open de leakwatch-invoegtoepassing om het incident te bekijken en uw besluit vast te leggen."),
            "{text}"
        );
        assert!(!text.contains("UTC\n") && !text.contains(" UTC "), "{text}");
        assert_formal_dutch(&text);
        assert_mail_headers(summary, "acme.nl");

        // A mail client opens it 70 seconds later: the open and the deadline in Dutch time.
        clock.advance(70_000);
        open_from(&app.client, &pixel, "198.51.100.7").await;
        let mails = sink.wait_for(2, WAIT).await;
        assert_eq!(mails.len(), 2, "the client open is mailed");
        let open = &mails[1];
        assert_eq!(
            open.subject(),
            "[leakwatch] Geopend: uw verkeerd verstuurde bericht \u{201c}Loonstroken\u{201d}"
        );
        let text = open.plain_text().replace("\r\n", "\n");
        assert!(
            text.contains(&format!(
                "Het bericht dat u als verkeerd verstuurd hebt gemeld, is op 4 december 2026 om 20:44 (Europe/Amsterdam, UTC+1) geopend in een mailprogramma. Besluit vóór {deadline} of u het datalek meldt"
            )),
            "{text}"
        );
        assert_formal_dutch(&text);
        assert_mail_headers(open, "acme.nl");

        // Another tenant whose admin chose New York; its sender writes English.
        let admin = app.user("beta", "beta.us", "it@beta.us", true).await;
        let bob = app.user("beta", "beta.us", "bob@beta.us", false).await;
        let (status, body) = app
            .put(
                "/api/v1/tenant/privacy",
                &admin,
                &json!({"time_zone": "America/New_York"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let (message, _) = tracked_in(&app, &bob, "kim@client.com", "Payroll", "en").await;
        let (status, created) = app
            .post(
                "/api/v1/incidents",
                &bob,
                &json!({"message_id": message, "wrong_recipients": ["kim@client.com"]}),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        let mails = sink.wait_for(3, WAIT).await;
        assert_eq!(mails.len(), 3, "bob's summary is mailed");
        let english = &mails[2];
        assert_eq!(english.rcpt_tos, ["bob@beta.us"]);
        assert_eq!(
            english.subject(),
            "[leakwatch] Incident created: \u{201c}Payroll\u{201d}"
        );
        let text = english.plain_text().replace("\r\n", "\n");
        // Deadline 7 December 19:44:17 UTC: 14:44 in New York.
        let deadline = "7 December 2026, 14:44 (America/New_York, UTC-5)";
        assert!(
            text.contains(&format!(
                "So far: not opened. Deadline for notification (GDPR Art. 33): {deadline}."
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "Notification deadline (GDPR Art. 33): {deadline}\n"
            )),
            "{text}"
        );
        assert!(
            text.contains(
                "Open the leakwatch add-in to see the incident and record your decision."
            ),
            "{text}"
        );
        assert!(!text.contains("Europe/Amsterdam"), "{text}");
        assert_english(&text);
        // The server's sender address, whichever tenant.
        assert_mail_headers(english, "acme.nl");
        app.finish().await;
    }
);

fn verify(secret: &str, delivery: &leakwatch_testkit::events::Delivery) {
    use hmac::{Hmac, Mac};
    let timestamp = delivery.headers["x-leakwatch-timestamp"].to_str().unwrap();
    let signature = delivery.headers["x-leakwatch-signature"].to_str().unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(&delivery.body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(signature, expected, "the signature verifies");
}

both_backends!(webhooks_are_signed_and_retried, |backend| async move {
    let app = spawn_with(backend, fast).await;
    let anna = app.user("acme", "acme.nl", "anna@acme.nl", false).await;
    let dpo = app.user("acme", "acme.nl", "dpo@acme.nl", true).await;
    let flaky = WebhookReceiver::start(1).await;
    let chat = WebhookReceiver::start(0).await;
    let secret = "s3cret-s3cret-s3cret";
    let settings = json!({"webhooks": [
        {"url": flaky.url, "secret": secret, "format": "json"},
        {"url": chat.url, "secret": "another-secret-value", "format": "chat"}
    ]});
    let put = |body: Value, token: String| {
        let app = &app;
        async move {
            let r = app
                .client
                .put(app.url("/api/v1/tenant/alerts"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    assert_eq!(put(settings.clone(), anna.clone()).await.0, 403);
    let (status, body) = put(
        json!({"webhooks": [{"url": "ftp://x", "secret": secret}]}),
        dpo.clone(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, saved) = put(settings, dpo.clone()).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(
        saved["webhooks"][0]["secret"], "********",
        "secrets are not read back"
    );

    let (message, _) = tracked(&app, &anna, "jan@klantbedrijf.nI", "Medisch dossier").await;
    let id = incident(&app, &anna, &message, "jan@klantbedrijf.nI").await;
    let got = flaky.wait_for_success(1, WAIT).await;
    assert_eq!(got.len(), 2, "one failure, one retry: {got:?}");
    assert_eq!((got[0].answered, got[1].answered), (500, 204));
    for delivery in &got {
        verify(secret, delivery);
        assert_eq!(
            delivery.headers["x-leakwatch-dedupe-key"],
            format!("incident_summary:{id}").as_str()
        );
    }
    // The retry waited (retry_base_seconds = 1) and carried the same alert.
    let t0: i64 = got[0].headers["x-leakwatch-timestamp"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let t1: i64 = got[1].headers["x-leakwatch-timestamp"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(t1 - t0 >= 1, "backoff between attempts");
    let body: Value = serde_json::from_slice(&got[1].body).unwrap();
    assert_eq!(body["event"], "alert");
    assert_eq!(body["alert"]["kind"], "incident_summary");
    assert_eq!(body["alert"]["incident_id"], id.as_str());
    assert!(
        !String::from_utf8_lossy(&got[1].body).contains("Medisch"),
        "no subject in webhooks"
    );
    let chats = chat.wait_for_success(1, WAIT).await;
    assert_eq!(chats.len(), 1);
    verify("another-secret-value", &chats[0]);
    let text: Value = serde_json::from_slice(&chats[0].body).unwrap();
    assert!(
        text["text"].as_str().unwrap().contains("incident summary"),
        "{text}"
    );

    // Saving the settings again with the mask keeps the secret.
    let (_, read) = app.get("/api/v1/tenant/alerts", &dpo).await;
    assert_eq!(put(read, dpo.clone()).await.0, 200);
    let (m2, _) = tracked(&app, &anna, "kees@client.nl", "Two").await;
    incident(&app, &anna, &m2, "kees@client.nl").await;
    let got = flaky.wait_for_success(2, WAIT).await;
    verify(secret, got.last().unwrap());
    app.finish().await;
});

both_backends!(the_outbox_survives_a_restart, |backend| async move {
    // A receiver that is down until after the restart: its port is reserved, then freed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let mut app = spawn_with(backend, |c| {
        fast(c);
        c.alerts.retry_base_seconds = 2;
    })
    .await;
    let anna = app.user("acme", "acme.nl", "anna@acme.nl", false).await;
    let dpo = app.user("acme", "acme.nl", "dpo@acme.nl", true).await;
    let r = app
        .client
        .put(app.url("/api/v1/tenant/alerts"))
        .bearer_auth(&dpo)
        .json(&json!({"webhooks": [{"url": url, "secret": "restart-secret-0001"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (message, _) = tracked(&app, &anna, "jan@klant.nl", "Restart").await;
    let id = incident(&app, &anna, &message, "jan@klant.nl").await;
    // Wait for the first, failed attempt.
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let row: (i64, Option<String>) = {
            let r = sqlx::query("SELECT attempts, last_error FROM outbox")
                .fetch_one(&app.db().pool)
                .await
                .unwrap();
            (
                sqlx::Row::get(&r, "attempts"),
                sqlx::Row::get(&r, "last_error"),
            )
        };
        if row.0 >= 1 && row.1.is_some() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no failed attempt");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.restart(|_| {}).await;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let receiver = tokio::spawn(async move {
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send(
                        headers["x-leakwatch-dedupe-key"]
                            .to_str()
                            .unwrap()
                            .to_string(),
                    );
                    axum::http::StatusCode::OK
                }
            }),
        );
        axum::serve(listener, app).await.unwrap();
    });
    let key = tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("delivered after the restart")
        .unwrap();
    assert_eq!(key, format!("incident_summary:{id}"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = sqlx::query("SELECT attempts, delivered_at FROM outbox")
        .fetch_one(&app.db().pool)
        .await
        .unwrap();
    assert!(sqlx::Row::get::<Option<i64>, _>(&r, "delivered_at").is_some());
    // The failed attempt, then (after the restart, once the backoff passed) the delivery;
    // a slow restart may add one more failed attempt before the receiver listens.
    assert!(sqlx::Row::get::<i64, _>(&r, "attempts") >= 2);
    assert!(rx.try_recv().is_err(), "delivered once");
    receiver.abort();
    app.finish().await;
});

both_backends!(
    an_alert_reaches_a_stream_on_another_server,
    |backend| async move {
        let app = spawn_with(backend, fast).await;
        let anna = app.user("acme", "acme.nl", "anna@acme.nl", false).await;
        let other = app.sibling().await;
        let mut sse = SseClient::connect(&other.url("/api/v1/alerts/stream"), Some(&anna), None)
            .await
            .unwrap();
        let (message, pixel) = tracked(&app, &anna, "jan@klantbedrijf.nI", "Across").await;
        let id = incident(&app, &anna, &message, "jan@klantbedrijf.nI").await;
        // With PostgreSQL this comes by NOTIFY at once; with SQLite by the stream's re-read.
        let within = if app.backend() == leakwatch_server::kit::db::Backend::Postgres {
            Duration::from_secs(3)
        } else {
            Duration::from_secs(20)
        };
        let event = sse
            .next(within)
            .await
            .expect("the alert reached the other server's stream");
        assert_eq!(event.data["kind"], "incident_summary");
        assert_eq!(event.data["incident_id"], id.as_str());
        // A fetch on the first server, evaluated there, alerts on the second.
        let pixel_on_other = pixel.clone();
        open_from(&app.client, &pixel_on_other, "198.51.100.7").await;
        let event = sse
            .next(within)
            .await
            .expect("the client open reached the other server");
        assert_eq!(event.data["kind"], "client_open");
        other.stop().await;
        app.finish().await;
    }
);

/// The operator's default: tenants' webhooks and relays reach public addresses only.
fn strict(config: &mut leakwatch_server::Config) {
    fast(config);
    config.outbound.allow_private = false;
}

// Issue 16, findings 1 and 2: every form of a non-public webhook or relay target the attack
// run got through is refused when saved, in words, in the API's JSON error.
both_backends!(
    webhooks_and_relays_in_private_networks_are_refused_when_saved,
    |backend| async move {
        let names = Resolver::table()
            .with("localhost", &["127.0.0.1", "::1"])
            .with("evil.test", &["127.0.0.1"])
            .with("mapped.test", &["::ffff:10.0.0.1"])
            .with("127.0.0.1.wildcard.test", &["127.0.0.1"]);
        let app = spawn_with_resolver(backend, names, strict).await;
        let dpo = app.user("acme", "acme.nl", "dpo@acme.nl", true).await;
        let secret = "0123456789abcdef";
        let refused = |settings: Value| {
            let (app, dpo) = (&app, dpo.clone());
            async move {
                let (status, body) = app.put("/api/v1/tenant/alerts", &dpo, &settings).await;
                assert_eq!(status, 400, "{settings}: {body}");
                assert_eq!(body["error"]["code"], "bad_request", "{body}");
                body["error"]["message"].as_str().unwrap().to_string()
            }
        };
        for (url, words) in [
            (
                "http://localhost:8080/h",
                "'localhost' resolves to 127.0.0.1, a loopback address",
            ),
            (
                "http://evil.test:8080/h",
                "'evil.test' resolves to 127.0.0.1, a loopback address",
            ),
            (
                "http://[::ffff:0.0.0.0]:8080/h",
                "::ffff:0.0.0.0 is an IPv4-mapped form of 0.0.0.0",
            ),
            (
                "http://[::ffff:169.254.169.254]/latest/meta-data",
                "169.254.169.254, a link-local address",
            ),
            (
                "http://[::ffff:100.64.0.1]/h",
                "100.64.0.1, a carrier-grade NAT (shared) address",
            ),
            ("http://0.1.2.3/h", "0.1.2.3 is a 'this network' address"),
            (
                "https://mapped.test/h",
                "an IPv4-mapped form of 10.0.0.1, a private-network address",
            ),
            (
                "https://127.0.0.1.wildcard.test/h",
                "resolves to 127.0.0.1, a loopback address",
            ),
        ] {
            let message = refused(json!({"webhooks": [{"url": url, "secret": secret}]})).await;
            assert!(
                message.starts_with("webhooks[0].url: ") && message.contains(words),
                "{url}: {message}"
            );
            assert!(message.contains("outbound.allow_private"), "{message}");
        }
        for (relay, words) in [
            ("smtp://127.0.0.1:2525", "127.0.0.1 is a loopback address"),
            (
                "smtp://10.0.0.1:25",
                "10.0.0.1 is a private-network address",
            ),
            ("smtp://evil.test:25", "'evil.test' resolves to 127.0.0.1"),
            (
                "smtp://mapped.test:587?tls=required",
                "an IPv4-mapped form of 10.0.0.1",
            ),
        ] {
            let message = refused(json!({"smarthost": relay})).await;
            assert!(
                message.starts_with("smarthost: ") && message.contains(words),
                "{relay}: {message}"
            );
        }
        // Nothing was saved.
        let (_, shown) = app.get("/api/v1/tenant/alerts", &dpo).await;
        assert_eq!(shown["webhooks"], json!([]));
        assert_eq!(shown["smarthost"], "");
        app.finish().await;
    }
);

// A tenant's own relay, named by a host name, is reached at the address the rule checked
// (here loopback, which the operator allows); the mail arrives.
both_backends!(
    a_tenant_s_relay_is_reached_at_its_checked_address,
    |backend| async move {
        let sink = SmtpSink::start();
        let names = Resolver::table().with("relay.acme.test", &["127.0.0.1"]);
        let app = spawn_with_resolver(backend, names, fast).await;
        let anna = app.user("acme", "acme.nl", "anna@acme.nl", false).await;
        let dpo = app.user("acme", "acme.nl", "dpo@acme.nl", true).await;
        let relay = sink.url().replace("127.0.0.1", "relay.acme.test");
        let (status, body) = app
            .put(
                "/api/v1/tenant/alerts",
                &dpo,
                &json!({"smarthost": relay, "mail_from": "alerts@acme.nl"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let (message, _) = tracked(&app, &anna, "jan@klant.nl", "Via de eigen relay").await;
        incident(&app, &anna, &message, "jan@klant.nl").await;
        let mails = sink.wait_for(1, WAIT).await;
        assert_eq!(
            mails.len(),
            1,
            "the summary went through the tenant's relay"
        );
        assert_eq!(mails[0].mail_from, "alerts@acme.nl");
        assert_eq!(mails[0].rcpt_tos, ["anna@acme.nl"]);
        app.finish().await;
    }
);

// A name that was public when the settings were saved and resolves to loopback when an
// alert is delivered (DNS rebinding): neither the webhook nor the relay is connected to,
// and the deliveries fail at once with the reason in words.
both_backends!(
    webhooks_and_relays_are_checked_again_when_delivered,
    |backend| async move {
        let names = Resolver::table()
            .with("hooks.rebind.test", &["8.8.8.8"])
            .with("relay.rebind.test", &["8.8.4.4"]);
        let app = spawn_with_resolver(backend, names.clone(), strict).await;
        let anna = app.user("acme", "acme.nl", "anna@acme.nl", false).await;
        let dpo = app.user("acme", "acme.nl", "dpo@acme.nl", true).await;
        let hook = WebhookReceiver::start(0).await;
        let relay = Tripwire::start().await;
        let settings = json!({
            "webhooks": [{"url": hook.url.replace("127.0.0.1", "hooks.rebind.test"), "secret": "rebind-secret-0001"}],
            "smarthost": format!("smtp://relay.rebind.test:{}", relay.port),
        });
        let (status, body) = app.put("/api/v1/tenant/alerts", &dpo, &settings).await;
        assert_eq!(status, 200, "public when saved: {body}");
        let loopback: [std::net::IpAddr; 1] = ["127.0.0.1".parse().unwrap()];
        names.set("hooks.rebind.test", &loopback);
        names.set("relay.rebind.test", &loopback);

        let (message, _) = tracked(&app, &anna, "jan@klant.nl", "Rebound").await;
        incident(&app, &anna, &message, "jan@klant.nl").await;
        let deadline = std::time::Instant::now() + WAIT;
        let rows = loop {
            let rows: Vec<(String, Option<i64>, Option<String>, i64)> = sqlx::query(
                "SELECT channel, failed_at, last_error, attempts FROM outbox ORDER BY channel",
            )
            .fetch_all(&app.db().pool)
            .await
            .unwrap()
            .iter()
            .map(|r| {
                use sqlx::Row;
                (r.get(0), r.get(1), r.get(2), r.get(3))
            })
            .collect();
            if rows.len() == 2 && rows.iter().all(|r| r.1.is_some()) {
                break rows;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "not given up: {rows:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        for (channel, name) in [
            ("mail", "relay.rebind.test"),
            ("webhook", "hooks.rebind.test"),
        ] {
            let row = rows.iter().find(|r| r.0 == channel).unwrap();
            let error = row.2.as_deref().unwrap();
            assert!(
                error.contains(&format!(
                    "'{name}' resolves to 127.0.0.1, a loopback address"
                )),
                "{channel}: {error}"
            );
            assert_eq!(row.3, 1, "{channel}: refused, not retried");
        }
        assert!(
            hook.deliveries.lock().unwrap().is_empty(),
            "the webhook was not called"
        );
        assert_eq!(relay.connections(), 0, "the relay was not connected to");
        app.finish().await;
    }
);

/// Runs the time-based rules once; how many alerts they raised.
async fn tick(app: &TestApp) -> usize {
    leakwatch_server::alerts::rules::tick(app.state.alerts())
        .await
        .unwrap()
}

// "Send a test": one message over each channel as saved, at once, with how each went; a
// sender may not ask.
both_backends!(
    a_test_goes_over_each_channel_and_says_how_it_went,
    |backend| async move {
        let sink = SmtpSink::start();
        let app = spawn_with(backend, fast).await;
        let anna = app.user("acme", "acme.nl", "anna@acme.nl", false).await;
        let dpo = app.user("acme", "acme.nl", "dpo@acme.nl", true).await;
        let good = WebhookReceiver::start(0).await;
        let failing = WebhookReceiver::start(usize::MAX).await;
        let settings = json!({
            "smarthost": sink.url(), "mail_from": "alerts@acme.nl",
            "webhooks": [{"url": good.url, "secret": "test-secret-00001"},
                         {"url": failing.url, "secret": "test-secret-00002", "format": "chat"}],
        });
        let (status, body) = app.put("/api/v1/tenant/alerts", &dpo, &settings).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = app
            .post("/api/v1/tenant/alerts/test", &dpo, &json!({}))
            .await;
        assert_eq!(status, 200, "{body}");
        let results = body["results"].as_array().unwrap();
        assert_eq!(results.len(), 3, "{body}");
        assert_eq!(results[0]["channel"], "mail");
        assert_eq!(results[0]["target"], "dpo@acme.nl");
        assert_eq!(results[0]["delivered"], true, "{body}");
        assert_eq!(results[1]["delivered"], true, "{body}");
        assert_eq!(results[2]["delivered"], false);
        assert_eq!(results[2]["problem"], "answered");
        assert_eq!(results[2]["status"], 500);
        let mails = sink.wait_for(1, WAIT).await;
        assert_eq!(mails[0].rcpt_tos, ["dpo@acme.nl"]);
        assert!(mails[0].subject().contains("Test alert"));
        let got = good.got();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].headers["x-leakwatch-event"], "test");
        assert!(got[0].headers["x-leakwatch-signature"]
            .to_str()
            .unwrap()
            .starts_with("sha256="));
        let chat: Value = serde_json::from_slice(&failing.got()[0].body).unwrap();
        assert!(chat["text"].as_str().unwrap().contains("test"), "{chat}");
        // Nothing went through the outbox: no alert, no row.
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
            .fetch_one(&app.db().pool)
            .await
            .unwrap();
        assert_eq!(rows, 0);
        let (status, _) = app
            .post("/api/v1/tenant/alerts/test", &anna, &json!({}))
            .await;
        assert_eq!(status, 403);
        app.finish().await;
    }
);
