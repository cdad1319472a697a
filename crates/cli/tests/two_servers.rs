//! Two `leakwatch serve` processes on one PostgreSQL database, as behind a load balancer:
//! an alert raised through one reaches a live stream connected to the other (LISTEN/NOTIFY).

mod support;

use std::time::Duration;

use serde_json::Value;
use support::*;

#[test]
fn an_alert_raised_on_one_server_reaches_a_stream_on_the_other() {
    let name = format!("leakwatch_cli_two_{}", std::process::id());
    let url = fresh_postgres_database(&name);
    let token = acme_with_anna(&url);
    // Only NOTIFY can deliver within the test's wait: the streams' re-read is slower.
    let slow_reread = [("LEAKWATCH_ALERTS__STREAM_REREAD_SECONDS", "60")];
    let first = Server::start_with(&url, &slow_reread);
    let second = Server::start_with(&url, &slow_reread);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = reqwest::Client::new();
        // The stream on the second server.
        let mut stream = client
            .get(format!("{}/api/v1/alerts/stream", second.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(stream.status(), 200);
        let (tx, mut events) = tokio::sync::mpsc::unbounded_channel::<Value>();
        tokio::spawn(async move {
            let mut buffer = String::new();
            while let Ok(Some(chunk)) = stream.chunk().await {
                buffer.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buffer.find("\n\n") {
                    let block: String = buffer.drain(..end + 2).collect();
                    if let Some(data) = block.lines().find_map(|l| l.strip_prefix("data:")) {
                        let _ = tx.send(serde_json::from_str(data.trim()).unwrap());
                    }
                }
            }
        });
        // Everything else through the first server.
        let (message_id, pixel_url) = register(&client, &first.base, &token, 1).await.remove(0);
        let incident = open_incident(
            &client,
            &first.base,
            &token,
            &message_id,
            &["jan0@klantbedrijf.nI"],
        )
        .await;
        let wait = Duration::from_secs(5);
        let summary = tokio::time::timeout(wait, events.recv())
            .await
            .expect("the summary reached the other server")
            .unwrap();
        assert_eq!(summary["kind"], "incident_summary");
        assert_eq!(summary["incident_id"], incident["id"]);
        // The wrong recipient opens it (the pixel is served by the first server).
        let pixel = client
            .get(&pixel_url)
            .header(
                "user-agent",
                "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0",
            )
            .header("x-forwarded-for", "198.51.100.7")
            .send()
            .await
            .unwrap();
        assert_eq!(pixel.status(), 200);
        let open = tokio::time::timeout(wait, events.recv())
            .await
            .expect("the open reached the other server")
            .unwrap();
        assert_eq!(open["kind"], "client_open");
        assert_eq!(open["severity"], "high");
    });
    drop(first);
    drop(second);
    psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
}
