//! Two `leakwatch serve` processes on one PostgreSQL database, as behind a load balancer:
//! an alert raised through one reaches a live stream connected to the other (LISTEN/NOTIFY).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use leakwatch_testkit::postgres_admin_url as admin_url;

fn psql(sql: &str) {
    // sqlx is a dev-dependency; a blocking runtime keeps this test free of a pool.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&admin_url())
            .await
            .expect("PostgreSQL on 127.0.0.1:5432");
        sqlx::Executor::execute(&mut conn, sql).await.unwrap();
    });
}

fn leakwatch(url: &str, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_leakwatch"))
        .args(args)
        .args(["--database-url", url])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(url: &str) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let listen = format!("127.0.0.1:{port}");
        let mut child = Command::new(env!("CARGO_BIN_EXE_leakwatch"))
            .args(["serve", "--listen", &listen, "--database-url", url])
            // The recipient's fetches come from another network than the sender's.
            .env("LEAKWATCH_TRUSTED_PROXIES", "[\"127.0.0.1/32\"]")
            // Only NOTIFY can deliver within the test's wait: the streams' re-read is slower.
            .env("LEAKWATCH_ALERTS__STREAM_REREAD_SECONDS", "60")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut line = String::new();
        while Instant::now() < deadline {
            line.clear();
            if stderr.read_line(&mut line).unwrap() == 0 || line.contains("serving on") {
                break;
            }
        }
        assert!(line.contains(&listen), "the server did not start: {line}");
        // Keep draining its log so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in stderr.lines() {});
        Server {
            child,
            base: format!("http://{listen}"),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

#[test]
fn an_alert_raised_on_one_server_reaches_a_stream_on_the_other() {
    let name = format!("leakwatch_cli_two_{}", std::process::id());
    psql(&format!("DROP DATABASE IF EXISTS {name}"));
    psql(&format!("CREATE DATABASE {name}"));
    let url = format!("{}/{name}", admin_url().rsplit_once('/').unwrap().0);
    leakwatch(
        &url,
        &["tenant", "create", "--name", "acme", "--domain", "acme.nl"],
    );
    leakwatch(
        &url,
        &["user", "add", "--tenant", "acme", "--email", "anna@acme.nl"],
    );
    let token = leakwatch(
        &url,
        &[
            "token",
            "issue",
            "--tenant",
            "acme",
            "--email",
            "anna@acme.nl",
        ],
    );
    let first = Server::start(&url);
    let second = Server::start(&url);

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
        let registered: Value = client
            .post(format!("{}/api/v1/messages", first.base))
            .bearer_auth(&token)
            .json(&json!({"to": ["jan@klantbedrijf.nI"], "subject": "Jaarrekening", "overridden": true}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(registered["track"], true, "{registered}");
        let created = client
            .post(format!("{}/api/v1/incidents", first.base))
            .bearer_auth(&token)
            .json(&json!({"message_id": registered["id"], "wrong_recipients": ["jan@klantbedrijf.nI"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        let incident: Value = created.json().await.unwrap();
        let wait = Duration::from_secs(5);
        let summary = tokio::time::timeout(wait, events.recv()).await.expect("the summary reached the other server").unwrap();
        assert_eq!(summary["kind"], "incident_summary");
        assert_eq!(summary["incident_id"], incident["id"]);
        // The wrong recipient opens it (the pixel is served by the first server).
        let pixel = client
            .get(registered["pixel_url"].as_str().unwrap())
            .header("user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0")
            .header("x-forwarded-for", "198.51.100.7")
            .send()
            .await
            .unwrap();
        assert_eq!(pixel.status(), 200);
        let open = tokio::time::timeout(wait, events.recv()).await.expect("the open reached the other server").unwrap();
        assert_eq!(open["kind"], "client_open");
        assert_eq!(open["severity"], "high");
    });
    drop(first);
    drop(second);
    psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
}
