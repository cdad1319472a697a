//! From a recipient's pixel fetch to the `client_open` alert on the sender's live stream,
//! over real HTTP against the real server: the fetch is committed by the pixel writer, the
//! evaluator reads the incident's evidence, the alert and its outbox rows are committed,
//! published (PostgreSQL: NOTIFY, heard back on LISTEN) and written to the stream.
//!
//! `cargo bench -p leakwatch-server --bench alert_latency` runs 300 fetches per backend
//! (SQLite, PostgreSQL on 127.0.0.1:5432) and prints p50/p99/max; `cargo test --benches`
//! runs 10 each, to keep the benchmark working. Each fetch opens a fresh incident, because
//! the rule fires once per incident.

use std::time::{Duration, Instant};

use leakwatch_server::auth::{issue_token, AuthUser};
use leakwatch_server::kit::ids::random_id;
use leakwatch_server::{accounts, Application, Config};
use serde_json::{json, Value};

const THUNDERBIRD: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0";

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let rounds = if full { 300 } else { 10 };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for backend in ["sqlite", "postgres"] {
        let mut latencies = rt.block_on(run(backend, rounds));
        latencies.sort();
        let pct = |p: f64| {
            latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1]
        };
        println!(
            "alert_latency/{backend}: {} fetches, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
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

async fn run(backend: &str, rounds: usize) -> Vec<Duration> {
    let name = format!(
        "leakwatch_bench_{}",
        random_id().to_lowercase().replace(['-', '_'], "")
    );
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        ..Config::default()
    };
    let dir = std::env::temp_dir().join(&name);
    match backend {
        "sqlite" => config.data_dir = dir.clone(),
        _ => {
            use sqlx::Connection;
            let mut conn =
                sqlx::PgConnection::connect("postgres://postgres@127.0.0.1:5432/postgres")
                    .await
                    .expect("PostgreSQL on 127.0.0.1:5432");
            sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
                .await
                .unwrap();
            config.database_url = format!("postgres://postgres@127.0.0.1:5432/{name}");
        }
    }
    let app = Application::build(config).await.expect("the server builds");
    let base = format!("http://{}", app.local_addr());
    let state = app.state().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    accounts::create_tenant(state.db(), "bench", "bench.nl")
        .await
        .unwrap();
    let (user, _) = accounts::add_user(state.db(), "bench", "anna@bench.nl", false)
        .await
        .unwrap();
    let token = issue_token(
        state.keys(),
        &AuthUser {
            user_id: user.id,
            tenant_id: user.tenant_id,
            email: user.email,
            role: user.role,
        },
        3600,
    )
    .unwrap();
    let client = reqwest::Client::new();
    let mut stream = client
        .get(format!("{base}/api/v1/alerts/stream"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (tx, mut events) = tokio::sync::mpsc::unbounded_channel::<(Instant, Value)>();
    let reader = tokio::spawn(async move {
        let mut buffer = String::new();
        while let Ok(Some(chunk)) = stream.chunk().await {
            let at = Instant::now();
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let block: String = buffer.drain(..end + 2).collect();
                if let Some(data) = block.lines().find_map(|l| l.strip_prefix("data:")) {
                    let _ = tx.send((at, serde_json::from_str(data.trim()).unwrap()));
                }
            }
        }
    });
    let mut latencies = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let registered: Value = client
            .post(format!("{base}/api/v1/messages"))
            .bearer_auth(&token)
            .json(
                &json!({"to": [format!("client{i}@klant.nl")], "subject": "s", "overridden": true}),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let incident: Value = client
            .post(format!("{base}/api/v1/incidents"))
            .bearer_auth(&token)
            .json(&json!({"message_id": registered["id"], "wrong_recipients": [format!("client{i}@klant.nl")]}))
            .send().await.unwrap().json().await.unwrap();
        // The incident's summary first.
        let (_, summary) = events.recv().await.unwrap();
        assert_eq!(summary["kind"], "incident_summary");
        // Incidents count opens after they were opened, by the millisecond.
        tokio::time::sleep(Duration::from_millis(2)).await;
        let started = Instant::now();
        let pixel = client
            .get(registered["pixel_url"].as_str().unwrap())
            .header("user-agent", THUNDERBIRD)
            .header("x-forwarded-for", "198.51.100.7")
            .send()
            .await
            .unwrap();
        assert_eq!(pixel.status(), 200);
        let (at, open) = tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .expect("the alert arrives")
            .unwrap();
        assert_eq!(open["kind"], "client_open");
        assert_eq!(open["incident_id"], incident["id"]);
        latencies.push(at - started);
    }
    reader.abort();
    let _ = stop.send(());
    let _ = server.await;
    state.db().pool.close().await;
    if backend == "sqlite" {
        let _ = std::fs::remove_dir_all(dir);
    } else {
        use sqlx::Connection;
        if let Ok(mut conn) =
            sqlx::PgConnection::connect("postgres://postgres@127.0.0.1:5432/postgres").await
        {
            let _ = sqlx::Executor::execute(
                &mut conn,
                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
            )
            .await;
        }
    }
    latencies
}
