//! What the command-line tests share: the `leakwatch` binary run as a command or as a
//! server process, and PostgreSQL databases of their own.

#![allow(dead_code)] // each test binary uses its part

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use leakwatch_testkit::postgres_admin_url as admin_url;

/// Runs SQL on the machine's PostgreSQL (creating and dropping the tests' databases).
pub fn psql(sql: &str) {
    psql_at(&admin_url(), sql);
}

pub fn psql_at(url: &str, sql: &str) {
    // sqlx is a dev-dependency; a blocking runtime keeps this free of a pool.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(url)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {url}: {e}"));
        sqlx::Executor::execute(&mut conn, sql).await.unwrap();
    });
}

/// A fresh database on the machine's PostgreSQL; returns its URL.
pub fn fresh_postgres_database(name: &str) -> String {
    psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    psql(&format!("CREATE DATABASE {name}"));
    format!("{}/{name}", admin_url().rsplit_once('/').unwrap().0)
}

/// Runs `leakwatch ARGS --database-url URL` and returns what it printed.
pub fn leakwatch(url: &str, args: &[&str]) -> String {
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

/// Tenant "acme" with user anna@acme.nl; returns her token.
pub fn acme_with_anna(url: &str) -> String {
    leakwatch(
        url,
        &["tenant", "create", "--name", "acme", "--domain", "acme.nl"],
    );
    leakwatch(
        url,
        &["user", "add", "--tenant", "acme", "--email", "anna@acme.nl"],
    );
    leakwatch(
        url,
        &[
            "token",
            "issue",
            "--tenant",
            "acme",
            "--email",
            "anna@acme.nl",
        ],
    )
}

/// A free port on loopback (free when asked; the caller binds it soon after).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits for a `leakwatch serve` child (its stderr piped) to say it serves on `listen`, then
/// keeps draining its log so it never blocks on a full pipe. Panics when it does not start.
pub fn wait_until_serving(child: &mut Child, listen: &str, timeout: Duration) {
    let mut stderr = BufReader::new(child.stderr.take().expect("the server's stderr is piped"));
    let deadline = Instant::now() + timeout;
    let mut line = String::new();
    while Instant::now() < deadline {
        line.clear();
        if stderr.read_line(&mut line).unwrap() == 0 || line.contains("serving on") {
            break;
        }
    }
    assert!(line.contains(listen), "the server did not start: {line}");
    std::thread::spawn(move || for _ in stderr.lines() {});
}

/// `leakwatch serve` as its own process.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    pub fn start(url: &str) -> Server {
        Server::start_with(url, &[])
    }

    /// With extra `LEAKWATCH_*` settings.
    pub fn start_with(url: &str, env: &[(&str, &str)]) -> Server {
        let listen = format!("127.0.0.1:{}", free_port());
        let mut child = Command::new(env!("CARGO_BIN_EXE_leakwatch"))
            .args(["serve", "--listen", &listen, "--database-url", url])
            // The recipient's fetches come from another network than the sender's.
            .env("LEAKWATCH_TRUSTED_PROXIES", "[\"127.0.0.1/32\"]")
            .envs(env.iter().copied())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_until_serving(&mut child, &listen, Duration::from_secs(30));
        Server {
            child,
            base: format!("http://{listen}"),
        }
    }

    /// SIGKILL: no graceful shutdown, nothing flushed that was not committed.
    pub fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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

/// Registers `n` tracked messages through the API (each to a lookalike domain, sent anyway);
/// returns their ids and pixel URLs.
pub async fn register(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    n: usize,
) -> Vec<(String, String)> {
    let mut messages = Vec::with_capacity(n);
    for i in 0..n {
        let body: serde_json::Value = client
            .post(format!("{base}/api/v1/messages"))
            .bearer_auth(token)
            .json(&serde_json::json!({"to": [format!("jan{i}@klantbedrijf.nI")], "subject": format!("Loonstrook {i}"), "overridden": true}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["track"], true, "{body}");
        messages.push((
            body["id"].as_str().unwrap().to_string(),
            body["pixel_url"].as_str().unwrap().to_string(),
        ));
    }
    messages
}

/// Reports `message_id` as sent to `wrong` (all its recipients when empty); the incident.
pub async fn open_incident(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    message_id: &str,
    wrong: &[&str],
) -> serde_json::Value {
    let mut body = serde_json::json!({"message_id": message_id});
    if !wrong.is_empty() {
        body["wrong_recipients"] = serde_json::json!(wrong);
    }
    let created = client
        .post(format!("{base}/api/v1/incidents"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    created.json().await.unwrap()
}
