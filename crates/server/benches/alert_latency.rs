//! From a recipient's pixel fetch to the `client_open` alert on the sender's live stream,
//! over real HTTP against the real server: the fetch is committed by the pixel writer, the
//! evaluator reads the incident's evidence, the alert and its outbox rows are committed,
//! published (PostgreSQL: NOTIFY, heard back on LISTEN) and written to the stream.
//!
//! `cargo bench -p leakwatch-server --bench alert_latency` runs 300 fetches per backend
//! (SQLite, PostgreSQL on 127.0.0.1:5432) and prints p50/p99/max; `cargo test --benches`
//! runs 10 each, to keep the benchmark working. Each fetch opens a fresh incident, because
//! the rule fires once per incident.

//!
//! The server, its database (one per run: an SQLite file, or a PostgreSQL database on
//! `LEAKWATCH_TEST_POSTGRES`, default `postgres://postgres@127.0.0.1:5432/postgres`) and the
//! stream client come from `leakwatch-testkit`.

use std::time::{Duration, Instant};

use leakwatch_testkit::events::SseClient;
use leakwatch_testkit::{behind_local_proxy, spawn_with, Backend, THUNDERBIRD};
use serde_json::json;

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let rounds = if full { 300 } else { 10 };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let mut latencies = rt.block_on(run(backend, rounds));
        latencies.sort();
        let pct = |p: f64| {
            latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1]
        };
        println!(
            "alert_latency/{}: {} fetches, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            match backend {
                Backend::Sqlite => "sqlite",
                Backend::Postgres => "postgres",
            },
            latencies.len(),
            ms(pct(0.50)),
            ms(pct(0.99)),
            ms(*latencies.last().unwrap())
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn run(backend: Backend, rounds: usize) -> Vec<Duration> {
    let app = spawn_with(backend, behind_local_proxy).await;
    let token = app.user("bench", "bench.nl", "anna@bench.nl", false).await;
    let mut events = SseClient::connect(&app.url("/api/v1/alerts/stream"), Some(&token), None)
        .await
        .expect("the stream connects");
    let mut latencies = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let (status, registered) = app
            .post(
                "/api/v1/messages",
                &token,
                &json!({"to": [format!("client{i}@klant.nl")], "subject": "s", "overridden": true}),
            )
            .await;
        assert_eq!(status, 201, "{registered}");
        let (status, incident) = app
            .post(
                "/api/v1/incidents",
                &token,
                &json!({"message_id": registered["id"], "wrong_recipients": [format!("client{i}@klant.nl")]}),
            )
            .await;
        assert_eq!(status, 201, "{incident}");
        // The incident's summary first.
        let summary = events
            .next(Duration::from_secs(10))
            .await
            .expect("the summary");
        assert_eq!(summary.data["kind"], "incident_summary");
        // Incidents count opens after they were opened, by the millisecond.
        tokio::time::sleep(Duration::from_millis(2)).await;
        let started = Instant::now();
        let pixel = app
            .client
            .get(registered["pixel_url"].as_str().unwrap())
            .header("user-agent", THUNDERBIRD)
            .header("x-forwarded-for", "198.51.100.7")
            .send()
            .await
            .unwrap();
        assert_eq!(pixel.status(), 200);
        let open = events
            .next(Duration::from_secs(10))
            .await
            .expect("the alert arrives");
        let arrived = Instant::now();
        assert_eq!(open.data["kind"], "client_open");
        assert_eq!(open.data["incident_id"], incident["id"]);
        latencies.push(arrived - started);
    }
    drop(events);
    app.finish().await;
    latencies
}
