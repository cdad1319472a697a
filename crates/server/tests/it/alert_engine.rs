//! The alert engine on its own: a database, a manual clock, a mailer and its settings, no
//! HTTP server. The rules are called directly; the running engine is fed as the pixel
//! writer feeds it, and its outbox delivers to a real SMTP server.

use std::time::Duration;

use leakwatch_server::alerts::{rules, AlertEngine, EngineDeps, Kind};
use leakwatch_server::kit::clock::Clock;
use leakwatch_server::kit::config::MailConfig;
use leakwatch_server::kit::mail::Mailer;
use leakwatch_server::kit::outbound::{Outbound, Resolver};
use leakwatch_testkit::fixtures::{self, alert_kinds};
use leakwatch_testkit::smtp::SmtpSink;
use leakwatch_testkit::*;

const HOUR: i64 = 3600 * 1000;
/// 2026-12-01 09:00 UTC.
const T0: i64 = 1_796_115_600_000;

fn engine(test: &TestDb, clock: &Clock, mail: MailConfig) -> AlertEngine {
    AlertEngine::new(EngineDeps {
        db: test.db.clone(),
        clock: clock.clone(),
        mailer: Mailer::from_config(&mail).unwrap(),
        settings: test.config.alerts.clone(),
        mail_settings: mail,
        database_url: test.config.effective_database_url(),
        outbound: Outbound::new(&test.config.outbound, Resolver::system()),
    })
}

both_backends!(
    time_based_rules_fire_once_on_the_clock,
    |backend| async move {
        let test = TestDb::create(backend).await;
        let clock = Clock::manual(T0);
        let engine = engine(&test, &clock, MailConfig::default());
        let anna = fixtures::sender(&test.db, "anna@acme.nl").await;
        let message =
            fixtures::tracked_message(&test.db, &anna, &["jan@klant.nl"], "Jaarrekening", T0).await;
        let incident =
            fixtures::incident(&test.db, &anna, &message, &["jan@klant.nl"], T0 + HOUR).await;

        clock.set(T0 + 2 * HOUR);
        assert_eq!(rules::tick(&engine).await.unwrap(), 0, "nothing is due yet");
        // The tenant's defaults: not opened after 24 h, undecided after 48 h of awareness.
        clock.set(T0 + 25 * HOUR);
        assert_eq!(rules::tick(&engine).await.unwrap(), 1);
        assert_eq!(alert_kinds(&test.db, &incident).await, ["not_opened"]);
        assert_eq!(
            rules::tick(&engine).await.unwrap(),
            0,
            "each rule fires once"
        );
        clock.set(T0 + 50 * HOUR);
        assert_eq!(rules::tick(&engine).await.unwrap(), 1);
        assert_eq!(
            alert_kinds(&test.db, &incident).await,
            ["not_opened", "undecided_reminder"]
        );
        test.finish().await;
    }
);

both_backends!(
    an_open_after_the_report_raises_one_alert,
    |backend| async move {
        let test = TestDb::create(backend).await;
        let clock = Clock::manual(T0);
        let engine = engine(&test, &clock, MailConfig::default());
        let anna = fixtures::sender(&test.db, "anna@acme.nl").await;
        let message =
            fixtures::tracked_message(&test.db, &anna, &["jan@klant.nl"], "Offerte", T0).await;
        // Opened before the report: that is the summary's business, not an alert.
        fixtures::fetch(
            &test.db,
            &message,
            "direct",
            "outlook",
            "net-a",
            T0 + 60_000,
        )
        .await;
        let incident =
            fixtures::incident(&test.db, &anna, &message, &["jan@klant.nl"], T0 + HOUR).await;
        let messages = || [message.clone()].into_iter().collect();
        rules::on_fetches(&engine, messages()).await.unwrap();
        assert!(alert_kinds(&test.db, &incident).await.is_empty());

        fixtures::fetch(
            &test.db,
            &message,
            "direct",
            "outlook",
            "net-a",
            T0 + 2 * HOUR,
        )
        .await;
        rules::on_fetches(&engine, messages()).await.unwrap();
        rules::on_fetches(&engine, messages()).await.unwrap();
        assert_eq!(alert_kinds(&test.db, &incident).await, ["client_open"]);

        // Two networks for one wrong recipient: possibly forwarded.
        fixtures::fetch(
            &test.db,
            &message,
            "direct",
            "thunderbird",
            "net-b",
            T0 + 3 * HOUR,
        )
        .await;
        rules::on_fetches(&engine, messages()).await.unwrap();
        assert_eq!(
            alert_kinds(&test.db, &incident).await,
            ["client_open", "possible_forwarding"]
        );
        // Both languages are kept, each with the plural it needs; the alert's own text is
        // the message's language (English here).
        let payload: String = sqlx::query_scalar(
            "SELECT payload FROM alerts WHERE incident_id = $1 AND kind = 'possible_forwarding'",
        )
        .bind(&incident)
        .fetch_one(&test.db.pool)
        .await
        .unwrap();
        let alert: leakwatch_server::alerts::Alert = serde_json::from_str(&payload).unwrap();
        let texts = alert.texts.expect("both languages are kept");
        assert_eq!(
            texts.en.body,
            "The message was opened by 2 different mail clients or networks, for 1 wrong recipient. It may have been forwarded."
        );
        assert_eq!(
            texts.nl.body,
            "Het bericht is geopend door 2 verschillende mailprogramma's of netwerken, bij 1 verkeerde ontvanger. Het kan zijn doorgestuurd."
        );
        assert!(texts
            .nl
            .title
            .starts_with("Mogelijk doorgestuurd: \u{201c}"));
        assert_eq!((alert.title, alert.body), (texts.en.title, texts.en.body));
        test.finish().await;
    }
);

both_backends!(
    the_running_engine_alerts_on_committed_fetches,
    |backend| async move {
        let test = TestDb::create(backend).await;
        let sink = SmtpSink::start();
        let clock = Clock::manual(T0);
        let mail = MailConfig {
            smarthost: sink.url(),
            from: "leakwatch@acme.nl".into(),
            ..MailConfig::default()
        };
        let engine = engine(&test, &clock, mail);
        let anna = fixtures::sender(&test.db, "anna@acme.nl").await;
        let message =
            fixtures::tracked_message(&test.db, &anna, &["jan@klant.nl"], "Loonstrook", T0).await;
        let incident =
            fixtures::incident(&test.db, &anna, &message, &["jan@klant.nl"], T0 + HOUR).await;
        engine.start().await.unwrap();
        let mut live = engine.alerts().subscribe();

        // As the pixel writer does after a commit.
        fixtures::fetch(
            &test.db,
            &message,
            "direct",
            "outlook",
            "net-a",
            T0 + 2 * HOUR,
        )
        .await;
        engine.alerts().feed().push([message.as_str()]);

        let published = tokio::time::timeout(Duration::from_secs(10), live.recv())
            .await
            .expect("an alert within 10 s")
            .unwrap();
        assert_eq!(published.alert.kind, Kind::ClientOpen);
        assert_eq!(published.alert.incident_id, incident);
        assert_eq!(published.user_id, anna.id.as_str());
        assert_eq!(published.alert.created_at, T0, "the engine's clock");
        let mails = sink.wait_for(1, Duration::from_secs(10)).await;
        assert_eq!(mails.len(), 1, "the outbox delivered the alert");
        assert_eq!(mails[0].rcpt_tos, ["anna@acme.nl"]);
        assert!(
            mails[0].subject().contains("Loonstrook"),
            "{}",
            mails[0].subject()
        );
        let message_id = mails[0].header("Message-ID").expect("a Message-ID");
        assert!(
            message_id.starts_with('<') && message_id.ends_with('>') && message_id.contains('@'),
            "{message_id}"
        );
        assert_eq!(mails[0].header("MIME-Version").as_deref(), Some("1.0"));
        engine.shutdown().await;
        test.finish().await;
    }
);
