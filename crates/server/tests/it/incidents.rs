//! Incidents over the real server: the lifecycle and the breach register, privacy by design
//! (evidence only through incidents, every view audit-logged), the notification draft.

use leakwatch_testkit::*;
use serde_json::{json, Value};

async fn patch(app: &TestApp, path: &str, token: &str, body: &Value) -> (u16, Value) {
    let response = app
        .client
        .patch(app.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn audit_actions(app: &TestApp, tenant: &str) -> Vec<(String, String, String)> {
    let tenant = leakwatch_server::accounts::tenant_by_name(app.db(), tenant)
        .await
        .unwrap()
        .unwrap();
    leakwatch_server::audit::list(app.db(), &tenant.id, &Default::default())
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.actor, e.action, e.target_id))
        .collect()
}

both_backends!(incident_lifecycle_and_register, |backend| async move {
    let app = spawn_with(backend, behind_local_proxy).await;
    let anna = app.user("acme", "acme.nl", "anna@acme.nl", false).await;
    let (message, pixel) = app
        .tracked_message(
            &anna,
            &["jan@klantbedrijf.nI", "piet@klantbedrijf.nl"],
            "Dossier <Jansen>",
        )
        .await;
    open_from(&app.client, &pixel, "198.51.100.7").await;

    // Before any incident the sender sees that the message is tracked, never its fetches.
    let (status, view) = app.get(&format!("/api/v1/messages/{message}"), &anna).await;
    assert_eq!(status, 200);
    assert_eq!(view["track"], true);
    assert!(
        view.get("evidence").is_none() && view.get("incident_id").is_none(),
        "{view}"
    );

    // Wrong recipients must be recipients of the message.
    let (status, body) = app
        .post(
            "/api/v1/incidents",
            &anna,
            &json!({"message_id": message, "wrong_recipients": ["someone@else.nl"]}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not a recipient"));

    let (status, created) = app
        .post("/api/v1/incidents", &anna, &json!({"message_id": message, "wrong_recipients": ["jan@klantbedrijf.nI"], "description": "Typo in the domain"}))
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(
        created["deadline_at"].as_i64().unwrap() - created["aware_at"].as_i64().unwrap(),
        72 * 3600 * 1000
    );
    let (status, _) = app
        .post(
            "/api/v1/incidents",
            &anna,
            &json!({"message_id": message, "wrong_recipients": ["jan@klantbedrijf.nI"]}),
        )
        .await;
    assert_eq!(status, 409, "one incident per message");

    let (status, incident) = app.get(&format!("/api/v1/incidents/{id}"), &anna).await;
    assert_eq!(status, 200, "{incident}");
    assert_eq!(incident["status"], "open");
    assert_eq!(incident["subject"], "Dossier <Jansen>");
    assert_eq!(incident["wrong_recipients"], json!(["jan@klantbedrijf.nI"]));
    let evidence = &incident["evidence"];
    assert_eq!(evidence["hits_total"], 1);
    assert_eq!(evidence["status"], "opened_in_mail_client");
    assert_eq!(evidence["distinct_clients"], 1);
    assert_eq!(evidence["possible_forwarding"], false);
    let direct = evidence["by_class"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["class"] == "direct")
        .unwrap();
    assert_eq!(direct["hits"], 1);
    assert_eq!(direct["distinct_clients"], 1);
    let (_, view) = app.get(&format!("/api/v1/messages/{message}"), &anna).await;
    assert_eq!(view["incident_id"], id.as_str());

    // Another sender of the tenant sees nothing of it; an admin does, through the register.
    let bob = app.user("acme", "acme.nl", "bob@acme.nl", false).await;
    assert_eq!(
        app.get(&format!("/api/v1/incidents/{id}"), &bob).await.0,
        404
    );
    assert_eq!(
        app.get(&format!("/api/v1/messages/{message}"), &bob)
            .await
            .0,
        404
    );
    let (_, bobs) = app.get("/api/v1/incidents", &bob).await;
    assert_eq!(bobs["incidents"], json!([]));
    let dpo = app.user("acme", "acme.nl", "dpo@acme.nl", true).await;
    let (status, register) = app.get("/api/v1/incidents", &dpo).await;
    assert_eq!(status, 200);
    assert_eq!(register["incidents"].as_array().unwrap().len(), 1);
    assert_eq!(register["incidents"][0]["id"], id.as_str());
    // Another tenant's admin sees nothing.
    let other = app.user("other", "other.nl", "admin@other.nl", true).await;
    assert_eq!(
        app.get(&format!("/api/v1/incidents/{id}"), &other).await.0,
        404
    );

    // The decision: not notifying needs a reason (Art. 33(5)); notified_at needs "notify".
    let path = format!("/api/v1/incidents/{id}");
    let (status, body) = patch(&app, &path, &dpo, &json!({"decision": "no_notify"})).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("decision_reason"));
    let (status, _) = patch(
        &app,
        &path,
        &dpo,
        &json!({"notified_at": created["aware_at"]}),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = patch(&app, &path, &dpo, &json!({"no_such_field": 1})).await;
    assert_eq!(status, 400);
    let (status, decided) = patch(&app, &path, &dpo, &json!({"decision": "notify"})).await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["status"], "to_notify");
    assert_eq!(decided["decided_by"], "dpo@acme.nl");
    let (status, filed) = patch(
        &app,
        &path,
        &dpo,
        &json!({"notified_at": created["aware_at"], "authority_reference": "AP-2026-123"}),
    )
    .await;
    assert_eq!(status, 200, "{filed}");
    assert_eq!(filed["status"], "notified");
    assert_eq!(filed["authority_reference"], "AP-2026-123");
    let (_, notified) = app.get("/api/v1/incidents?status=notified", &dpo).await;
    assert_eq!(notified["incidents"].as_array().unwrap().len(), 1);
    let (_, open) = app.get("/api/v1/incidents?status=open", &dpo).await;
    assert_eq!(open["incidents"], json!([]));

    // A second, undecided incident that is then decided against notifying, with its reason:
    // it stays in the register.
    let (second, _) = app
        .tracked_message(&anna, &["kees@client.nl"], "Offerte")
        .await;
    let (_, created2) = app
        .post(
            "/api/v1/incidents",
            &anna,
            &json!({"message_id": second, "wrong_recipients": ["kees@client.nl"]}),
        )
        .await;
    let id2 = created2["id"].as_str().unwrap();
    // Whether to notify is not the sender's call: her decision is refused and changes nothing.
    let decision = json!({"decision": "no_notify", "decision_reason": "Only a quotation without personal data"});
    let (status, body) = patch(&app, &format!("/api/v1/incidents/{id2}"), &anna, &decision).await;
    assert_eq!(status, 403, "{body}");
    let (_, still) = app.get(&format!("/api/v1/incidents/{id2}"), &anna).await;
    assert_eq!(still["status"], "open", "{still}");
    for field in [
        json!({"notified_at": 1}),
        json!({"authority_reference": "AP-1"}),
        json!({"decision_reason": "x"}),
    ] {
        let (status, body) = patch(&app, &format!("/api/v1/incidents/{id2}"), &anna, &field).await;
        assert_eq!(status, 403, "{field}: {body}");
    }
    // She may still correct what she reported.
    let (status, body) = patch(
        &app,
        &format!("/api/v1/incidents/{id2}"),
        &anna,
        &json!({"description": "Sent to Kees by mistake"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, kept) = patch(&app, &format!("/api/v1/incidents/{id2}"), &dpo, &decision).await;
    assert_eq!(status, 200, "{kept}");
    assert_eq!(kept["status"], "not_notified");
    let (_, register) = app.get("/api/v1/incidents", &dpo).await;
    let statuses: Vec<&str> = register["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["not_notified", "notified"]);
    assert_eq!(
        register["incidents"][0]["decision_reason"],
        "Only a quotation without personal data"
    );

    // Every view of evidence, and every change, is in the audit log with who did it.
    let log = audit_actions(&app, "acme").await;
    let has = |actor: &str, action: &str, target: &str| {
        log.iter()
            .any(|(a, x, t)| a == actor && x == action && t == target)
    };
    assert!(has("anna@acme.nl", "incident_opened", &id));
    assert!(has("anna@acme.nl", "evidence_viewed", &id));
    assert!(
        has("dpo@acme.nl", "evidence_viewed", ""),
        "the register view: {log:?}"
    );
    assert!(has("dpo@acme.nl", "incident_updated", &id));
    assert!(
        !log.iter().any(|(a, _, _)| a == "bob@acme.nl"),
        "bob saw nothing: {log:?}"
    );
    app.finish().await;
});

both_backends!(
    notification_draft_prefilled_edited_printed,
    |backend| async move {
        let app = spawn_with(backend, behind_local_proxy).await;
        let anna = app.user("acme", "acme.nl", "anna@acme.nl", false).await;
        let dpo = app.user("acme", "acme.nl", "dpo@acme.nl", true).await;
        // The tenant's public name and DPO, from its policy.
        let (_, mut policy) = app.get("/api/v1/tenant/policy", &anna).await;
        policy["disclosure"]["organization"] = json!("Acme Accountants");
        policy["disclosure"]["dpo_contact"] = json!("privacy@acme.nl");
        let response = app
            .client
            .put(app.url("/api/v1/tenant/policy"))
            .bearer_auth(&anna)
            .json(&policy)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "senders cannot change the policy");
        let response = app
            .client
            .put(app.url("/api/v1/tenant/policy"))
            .bearer_auth(&dpo)
            .json(&policy)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);

        let (message, pixel) = app
            .tracked_message(&anna, &["jan@klantbedrijf.nI"], "Loonstrook")
            .await;
        // A scanner first, then a mail client.
        app.client
            .head(&pixel)
            .header("user-agent", "Mozilla/5.0 (compatible; Barracuda)")
            .header("x-forwarded-for", "192.0.2.10")
            .send()
            .await
            .unwrap();
        open_from(&app.client, &pixel, "198.51.100.7").await;
        let (_, created) = app
            .post(
                "/api/v1/incidents",
                &anna,
                &json!({"message_id": message, "wrong_recipients": ["jan@klantbedrijf.nI"]}),
            )
            .await;
        let id = created["id"].as_str().unwrap();
        let path = format!("/api/v1/incidents/{id}/notification");

        let (status, draft) = app.get(&path, &anna).await;
        assert_eq!(status, 200, "{draft}");
        assert_eq!(draft["contact"]["organization"], "Acme Accountants");
        assert_eq!(draft["contact"]["dpo"], "privacy@acme.nl");
        assert_eq!(draft["contact"]["contact_email"], "anna@acme.nl");
        assert_eq!(
            draft["what_happened"],
            "Personal data sent to the wrong recipient (e-mail)."
        );
        assert_eq!(draft["evidence_status"], "opened_in_mail_client");
        assert_eq!(draft["timeline"]["aware_at"], created["aware_at"]);
        assert_eq!(draft["timeline"]["deadline_at"], created["deadline_at"]);
        let firsts = draft["timeline"]["first_fetches"].as_array().unwrap();
        assert!(firsts.iter().any(|f| f["class"] == "direct"), "{draft}");
        let kinds: Vec<&str> = draft["personal_data"]["kinds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["bsn", "health"]);
        assert_eq!(
            draft["personal_data"]["special_categories"], true,
            "health data is Art. 9 data"
        );
        assert_eq!(draft["people"]["min"], 2, "two BSNs name two people");
        assert_eq!(draft["people"]["max"], 3);
        assert!(draft["consequences"]
            .as_str()
            .unwrap()
            .contains("opened in a mail client"));
        assert_eq!(draft["data_subjects_informed"], Value::Null);
        assert_eq!(draft["edited"], json!([]));

        // Edits are kept field by field; invalid ones are refused.
        let put = |body: Value| {
            let app = &app;
            let path = path.clone();
            let token = anna.clone();
            async move {
                let r = app
                    .client
                    .put(app.url(&path))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                (status, r.json::<Value>().await.unwrap_or(Value::Null))
            }
        };
        let (status, _) = put(json!({"people_min": 5, "people_max": 2})).await;
        assert_eq!(status, 400);
        let (status, _) = put(json!({"nonsense": true})).await;
        assert_eq!(status, 400);
        let (status, edited) = put(json!({"measures": "Asked the recipient to delete it; they confirmed <in writing>.", "people_max": 4})).await;
        assert_eq!(status, 200, "{edited}");
        let (status, edited) =
            put(json!({"data_subjects_informed": true, "contact_phone": "+31 20 123 4567"})).await;
        assert_eq!(status, 200);
        assert_eq!(
            edited["measures"],
            "Asked the recipient to delete it; they confirmed <in writing>."
        );
        assert_eq!(edited["people"]["max"], 4);
        assert_eq!(edited["data_subjects_informed"], true);
        assert_eq!(edited["contact"]["contact_phone"], "+31 20 123 4567");
        let mut fields: Vec<&str> = edited["edited"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        fields.sort();
        assert_eq!(
            fields,
            [
                "contact_phone",
                "data_subjects_informed",
                "measures",
                "people_max"
            ]
        );

        // Printable, in the order of the authority's form, escaped, in either language.
        for (lang, headings) in [
            (
                "en",
                [
                    "Contact details",
                    "Timeline",
                    "What happened",
                    "Personal data involved",
                    "Number of people involved",
                    "Consequences",
                    "Measures taken",
                    "Are the people involved informed?",
                ],
            ),
            (
                "nl",
                [
                    "Contactgegevens",
                    "Tijdlijn",
                    "Wat is er gebeurd",
                    "Betrokken persoonsgegevens",
                    "Aantal betrokken personen",
                    "Gevolgen",
                    "Genomen maatregelen",
                    "Zijn de betrokkenen geïnformeerd?",
                ],
            ),
        ] {
            let response = app
                .client
                .get(app.url(&format!("{path}.html?lang={lang}")))
                .bearer_auth(&anna)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            assert!(response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"));
            let html = response.text().await.unwrap();
            let mut at = 0;
            for heading in headings {
                let found = html[at..]
                    .find(heading)
                    .unwrap_or_else(|| panic!("{lang}: '{heading}' missing or out of order"));
                at += found;
            }
            assert!(
                html.contains("&lt;in writing&gt;") && !html.contains("<in writing>"),
                "escaped"
            );
            assert!(html.contains("Acme Accountants") && html.contains("privacy@acme.nl"));
        }
        assert_eq!(
            app.client
                .get(app.url(&format!("{path}.html")))
                .send()
                .await
                .unwrap()
                .status(),
            401
        );
        let bob = app.user("acme", "acme.nl", "bob@acme.nl", false).await;
        assert_eq!(app.get(&path, &bob).await.0, 404);

        let log = audit_actions(&app, "acme").await;
        assert!(log
            .iter()
            .any(|(a, x, t)| a == "anna@acme.nl" && x == "notification_edited" && t == id));
        assert!(log
            .iter()
            .any(|(a, x, _)| a == "dpo@acme.nl" && x == "policy_changed"));
        assert!(
            log.iter()
                .filter(|(_, x, t)| x == "evidence_viewed" && t == id)
                .count()
                >= 5
        );
        app.finish().await;
    }
);

both_backends!(concurrent_reports_open_one_incident, |backend| async move {
    let app = spawn_with(backend, behind_local_proxy).await;
    let anna = app.user("acme", "acme.nl", "anna@acme.nl", false).await;
    let (message, _) = app
        .tracked_message(&anna, &["jan@klantbedrijf.nI"], "Twice")
        .await;
    let mut reports = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let client = app.client.clone();
        let url = app.url("/api/v1/incidents");
        let token = anna.clone();
        let body = json!({"message_id": message, "wrong_recipients": ["jan@klantbedrijf.nI"]});
        reports.spawn(async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
    }
    let mut statuses = reports.join_all().await;
    statuses.sort();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409, 409, 409]);
    let (_, list) = app.get("/api/v1/incidents", &anna).await;
    assert_eq!(list["incidents"].as_array().unwrap().len(), 1);
    let (_, alerts) = app.get("/api/v1/alerts", &anna).await;
    assert_eq!(alerts["alerts"].as_array().unwrap().len(), 1, "one summary");
    app.finish().await;
});

// The draft's timeline in the tenant's time zone, to the second (issue 18): sending, the
// first fetch and awareness within one minute read in their order, not as one minute in UTC.
both_backends!(
    the_notification_timeline_is_in_seconds_in_the_tenants_zone,
    |backend| async move {
        // Friday 4 December 2026, 19:43:07 UTC (20:43:07 in Amsterdam).
        let t0 = 1_796_413_387_000;
        let clock = leakwatch_server::kit::clock::Clock::manual(t0);
        let app = spawn_with_clock(backend, clock.clone(), behind_local_proxy).await;
        let anna = app.user("acme", "acme.nl", "anna@acme.nl", false).await;
        let admin = app.user("acme", "acme.nl", "it@acme.nl", true).await;
        let (message, pixel) = app
            .tracked_message(&anna, &["jan@klantbedrijf.nI"], "Loonstrook")
            .await;
        clock.advance(34_000);
        open_from(&app.client, &pixel, "198.51.100.7").await;
        clock.advance(10_000);
        let (status, created) = app
            .post(
                "/api/v1/incidents",
                &anna,
                &json!({"message_id": message, "wrong_recipients": ["jan@klantbedrijf.nI"]}),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().unwrap();
        let path = format!("/api/v1/incidents/{id}/notification");
        // The pixel writer commits the fetch in the background.
        let mut draft = Value::Null;
        for _ in 0..100 {
            draft = app.get(&path, &anna).await.1;
            if draft["timeline"]["first_fetches"]
                .as_array()
                .is_some_and(|f| !f.is_empty())
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(draft["time_zone"], "Europe/Amsterdam", "{draft}");
        assert_eq!(draft["timeline"]["sent_at"], t0);
        assert_eq!(draft["timeline"]["first_fetches"][0]["at"], t0 + 34_000);
        assert_eq!(draft["timeline"]["aware_at"], t0 + 44_000);

        let printed = |lang: &'static str| {
            let app = &app;
            let anna = anna.clone();
            let path = path.clone();
            async move {
                let response = app
                    .client
                    .get(app.url(&format!("{path}.html?lang={lang}")))
                    .bearer_auth(&anna)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200);
                response.text().await.unwrap()
            }
        };
        let in_order = |html: &str, rows: &[String]| {
            let mut at = 0;
            for row in rows {
                let found = html[at..]
                    .find(row.as_str())
                    .unwrap_or_else(|| panic!("'{row}' missing or out of order:\n{html}"));
                at += found + row.len();
            }
            assert!(!html.contains(" UTC<"), "{html}");
        };
        let row = |label: &str, at: &str| format!("<tr><th>{label}</th><td>{at}</td></tr>");
        in_order(
            &printed("nl").await,
            &[
                row(
                    "Verzonden",
                    "4 december 2026 om 20:43:07 (Europe/Amsterdam, UTC+1)",
                ),
                row(
                    "Eerste ophaling (mailprogramma)",
                    "4 december 2026 om 20:43:41 (Europe/Amsterdam, UTC+1)",
                ),
                row(
                    "Ontdekt",
                    "4 december 2026 om 20:43:51 (Europe/Amsterdam, UTC+1)",
                ),
                row(
                    "Uiterste meldtermijn (72 uur)",
                    "7 december 2026 om 20:43:51 (Europe/Amsterdam, UTC+1)",
                ),
            ],
        );
        let nl = printed("nl").await;
        assert!(
            nl.contains("voordat u het indient") && !nl.contains(" je "),
            "formal Dutch: {nl}"
        );

        // The admin moves the tenant to New York: the draft follows.
        let (status, body) = app
            .put(
                "/api/v1/tenant/privacy",
                &admin,
                &json!({"time_zone": "America/New_York"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            app.get(&path, &anna).await.1["time_zone"],
            "America/New_York"
        );
        in_order(
            &printed("en").await,
            &[
                row(
                    "Sent",
                    "4 December 2026, 14:43:07 (America/New_York, UTC-5)",
                ),
                row(
                    "First fetch (mail client)",
                    "4 December 2026, 14:43:41 (America/New_York, UTC-5)",
                ),
                row(
                    "Aware",
                    "4 December 2026, 14:43:51 (America/New_York, UTC-5)",
                ),
                row(
                    "Deadline (72 hours)",
                    "7 December 2026, 14:43:51 (America/New_York, UTC-5)",
                ),
            ],
        );
        app.finish().await;
    }
);

// Issue 18: the draft follows the authority's form where it fell short (the kind of
// notification, the nature of the breach, the group of people, measures in place before,
// international aspects, the contact person's role, possible forwarding) and the mitigation
// checklist writes "measures taken" until someone edits that.
both_backends!(
    the_draft_follows_the_authority_s_form_and_the_checklist_feeds_the_measures,
    |backend| async move {
        let app = spawn_with(backend, behind_local_proxy).await;
        let anna = app.user("acme", "acme.nl", "anna@acme.nl", false).await;
        let (message, _) = app
            .tracked_message(&anna, &["jan@klantbedrijf.nI"], "Loonstrook")
            .await;
        let (_, created) = app
            .post(
                "/api/v1/incidents",
                &anna,
                &json!({"message_id": message, "wrong_recipients": ["jan@klantbedrijf.nI"]}),
            )
            .await;
        let id = created["id"].as_str().unwrap();
        let path = format!("/api/v1/incidents/{id}/notification?lang=en");
        let (status, draft) = app.get(&path, &anna).await;
        assert_eq!(status, 200, "{draft}");
        assert_eq!(draft["notification_kind"], "new");
        assert_eq!(draft["nature"], json!(["confidentiality"]));
        assert_eq!(draft["possible_forwarding"], false);
        assert_eq!(draft["measures"], "");
        assert!(draft["measures_before"]
            .as_str()
            .unwrap()
            .contains("check at sending"));

        let (status, draft) = app
            .put(
                &path,
                &anna,
                &json!({"mitigation": {"asked_to_delete": true, "deletion_confirmed": true},
                        "contact_role": "Privacy officer", "notification_kind": "preliminary",
                        "group_description": "Employees of a client", "international": "None"}),
            )
            .await;
        assert_eq!(status, 200, "{draft}");
        assert_eq!(
            draft["measures"],
            "The wrong recipient was asked to delete the message. The wrong recipient confirmed deleting it."
        );
        assert_eq!(draft["contact"]["contact_role"], "Privacy officer");
        // An edited "measures taken" is kept over the checklist.
        let (_, draft) = app
            .put(
                &path,
                &anna,
                &json!({"measures": "Asked by phone; deleted."}),
            )
            .await;
        assert_eq!(draft["measures"], "Asked by phone; deleted.");
        for bad in [
            json!({"notification_kind": "first"}),
            json!({"nature": []}),
            json!({"nature": ["secrecy"]}),
        ] {
            let (status, body) = app.put(&path, &anna, &bad).await;
            assert_eq!(status, 400, "{bad}: {body}");
        }
        // The printable page in words, in both languages, with no code on it.
        for (lang, words) in [
            (
                "en",
                [
                    "Preliminary notification",
                    "confidentiality (data seen by someone not entitled to it)",
                    "Number of wrong recipients",
                    "Possibly forwarded",
                    "No sign of it",
                    "Role",
                    "Privacy officer",
                    "&#9745; Wrong recipient asked to delete the message",
                    "&#9744; Recall attempted",
                ],
            ),
            (
                "nl",
                [
                    "Voorlopige melding",
                    "vertrouwelijkheid",
                    "Aantal verkeerde ontvangers",
                    "Mogelijk doorgestuurd",
                    "Geen aanwijzing",
                    "Functie",
                    "Privacy officer",
                    "&#9745; Verkeerde ontvanger gevraagd het bericht te verwijderen",
                    "&#9744; Terughalen geprobeerd",
                ],
            ),
        ] {
            let html = app
                .client
                .get(app.url(&format!(
                    "/api/v1/incidents/{id}/notification.html?lang={lang}"
                )))
                .bearer_auth(&anna)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            for word in words {
                assert!(html.contains(word), "{lang}: {word} missing in {html}");
            }
            for code in [
                "preliminary",
                "follow_up",
                "asked_to_delete",
                "possible_forwarding",
            ] {
                assert!(!html.contains(code), "{lang}: the code {code} on the page");
            }
        }
        app.finish().await;
    }
);
