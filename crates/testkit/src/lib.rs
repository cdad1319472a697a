//! Test support for the server's tests, the command line's and the benchmarks: the real
//! server on port 0, against a fresh SQLite file or a fresh PostgreSQL database on
//! 127.0.0.1:5432 (one database per test, dropped by `finish`); the alert-stream client and
//! a webhook receiver ([`events`]); an SMTP sink ([`smtp`]); the common fixtures (a tenant
//! with a user, a tracked message, a mail client behind a trusted local proxy).
//!
//! Not part of any shipped binary (`publish = false`, a dev-dependency only).

use std::net::SocketAddr;

use leakwatch_server::accounts;
use leakwatch_server::app::AppState;
use leakwatch_server::auth::{issue_token, AuthUser};
use leakwatch_server::kit::clock::Clock;
use leakwatch_server::kit::config::Config;
use leakwatch_server::kit::db::Db;
use leakwatch_server::kit::ids::random_id;
use leakwatch_server::kit::outbound::Resolver;
use leakwatch_server::Application;
use serde_json::Value;
use sqlx::Connection;

pub mod events;
pub mod fixtures;
pub mod smtp;

pub use leakwatch_server::kit::db::Backend;

/// A mail client's user agent: its fetches are `direct`.
pub const THUNDERBIRD: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0";

/// Fetches a pixel as a mail client on the network of `ip` (sent as `X-Forwarded-For`, so
/// the app must trust 127.0.0.1 as a proxy).
pub async fn open_from(client: &reqwest::Client, url: &str, ip: &str) {
    let response = client
        .get(url)
        .header("user-agent", THUNDERBIRD)
        .header("x-forwarded-for", ip)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// A TCP port on 127.0.0.1 that counts the connections made to it and answers none: proof
/// that the server did not connect where it must not.
pub struct Tripwire {
    pub port: u16,
    connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Tripwire {
    pub async fn start() -> Tripwire {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = connections.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                drop(stream);
            }
        });
        Tripwire {
            port,
            connections,
            task,
        }
    }

    pub fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for Tripwire {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub const POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub struct TestApp {
    pub address: SocketAddr,
    pub base: String,
    pub state: AppState,
    pub client: reqwest::Client,
    backend: Backend,
    config: Config,
    clock: Clock,
    resolver: Resolver,
    cleanup: Cleanup,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

enum Cleanup {
    Dir(std::path::PathBuf),
    Database(String),
}

/// The PostgreSQL admin URL: `LEAKWATCH_TEST_POSTGRES` or the machine's trust-auth server.
/// An HTML page's text as a reader sees it: the body without its tags, the usual entities
/// decoded, runs of white space as one space.
pub fn visible_text(html: &str) -> String {
    let body = &html[html.find("<body").unwrap_or(0)..];
    let mut text = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn postgres_admin_url() -> String {
    std::env::var("LEAKWATCH_TEST_POSTGRES").unwrap_or_else(|_| POSTGRES_ADMIN_URL.to_string())
}

pub async fn spawn(backend: Backend) -> TestApp {
    spawn_with(backend, |_| {}).await
}

pub async fn spawn_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> TestApp {
    spawn_with_clock(backend, Clock::system(), configure).await
}

/// With a manual clock for tests of time-based rules and jobs (`app.clock().advance(..)`).
pub async fn spawn_with_clock(
    backend: Backend,
    clock: Clock,
    configure: impl FnOnce(&mut Config),
) -> TestApp {
    spawn_full(backend, clock, Resolver::system(), configure).await
}

/// With a table of names for the server's outgoing connections to tenants' hosts
/// (`Resolver::table().with("evil.test", &["127.0.0.1"])`), instead of the system's.
pub async fn spawn_with_resolver(
    backend: Backend,
    resolver: Resolver,
    configure: impl FnOnce(&mut Config),
) -> TestApp {
    spawn_full(backend, Clock::system(), resolver, configure).await
}

async fn spawn_full(
    backend: Backend,
    clock: Clock,
    resolver: Resolver,
    configure: impl FnOnce(&mut Config),
) -> TestApp {
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Config::default()
    };
    let cleanup = fresh_store(backend, &mut config).await;
    configure(&mut config);
    let (address, state, shutdown, server) =
        start(config.clone(), clock.clone(), resolver.clone()).await;
    TestApp {
        address,
        base: format!("http://{address}"),
        state,
        client: reqwest::Client::new(),
        backend,
        config,
        clock,
        resolver,
        cleanup,
        shutdown: Some(shutdown),
        server: Some(server),
    }
}

/// A fresh store for one test: an SQLite file in a new temporary directory, or a new
/// PostgreSQL database; `config` is pointed at it.
async fn fresh_store(backend: Backend, config: &mut Config) -> Cleanup {
    let name = format!(
        "leakwatch_test_{}",
        random_id().to_lowercase().replace(['-', '_'], "")
    );
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(&name);
            config.data_dir = dir.clone();
            Cleanup::Dir(dir)
        }
        Backend::Postgres => {
            let admin_url = postgres_admin_url();
            let mut conn = sqlx::PgConnection::connect(&admin_url)
                .await
                .expect("PostgreSQL on 127.0.0.1:5432");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("create test database");
            let base = admin_url
                .rsplit_once('/')
                .map(|(b, _)| b.to_string())
                .unwrap();
            config.database_url = format!("{base}/{name}");
            Cleanup::Database(name)
        }
    }
}

impl Cleanup {
    async fn run(&self) {
        match self {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Database(name) => {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&postgres_admin_url()).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                }
            }
        }
    }
}

/// A fresh, migrated database without a server, for the parts that run without HTTP (the
/// alert engine, the account store). Dropped by [`TestDb::finish`].
pub struct TestDb {
    pub db: Db,
    pub config: Config,
    cleanup: Cleanup,
}

impl TestDb {
    pub async fn create(backend: Backend) -> TestDb {
        let mut config = Config::default();
        let cleanup = fresh_store(backend, &mut config).await;
        let db = Db::connect(&config.effective_database_url())
            .await
            .expect("the database connects");
        TestDb {
            db,
            config,
            cleanup,
        }
    }

    pub async fn finish(self) {
        self.db.pool.close().await;
        self.cleanup.run().await;
    }
}

/// Trusts the loopback proxy, so tests can send `X-Forwarded-For` as a proxy in front of
/// the server would (see [`open_from`]).
pub fn behind_local_proxy(config: &mut Config) {
    config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
}

type Started = (
    SocketAddr,
    AppState,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
);

async fn start(config: Config, clock: Clock, resolver: Resolver) -> Started {
    let db = Db::connect(&config.effective_database_url())
        .await
        .expect("the database connects");
    let app = Application::build_with_resolver(config, db, clock, resolver)
        .await
        .expect("the application builds");
    let address = app.local_addr();
    let state = app.state().clone();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    (address, state, tx, server)
}

impl TestApp {
    pub fn clock(&self) -> &Clock {
        self.state.clock()
    }

    pub fn db(&self) -> &Db {
        self.state.db()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A bearer token for an existing user, issued now (after a password change, say, which
    /// ends the tokens issued before it).
    pub async fn token_of(&self, tenant: &str, email: &str) -> String {
        let user = accounts::find_user(self.db(), tenant, email).await.unwrap();
        self.token_for(user)
    }

    fn token_for(&self, user: accounts::User) -> String {
        let auth = AuthUser {
            user_id: user.id,
            tenant_id: user.tenant_id,
            email: user.email,
            role: user.role,
        };
        issue_token(self.state.keys(), &auth, 3600).unwrap()
    }

    /// A tenant with one user; returns that user's bearer token.
    pub async fn user(&self, tenant: &str, domain: &str, email: &str, admin: bool) -> String {
        accounts::create_tenant(self.db(), tenant, domain)
            .await
            .unwrap();
        let (user, _) = accounts::add_user(self.db(), tenant, email, admin)
            .await
            .unwrap();
        self.token_for(user)
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> (u16, Value) {
        let response = self
            .client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn put(&self, path: &str, token: &str, body: &Value) -> (u16, Value) {
        let response = self
            .client
            .put(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let response = self
            .client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A tracked message from `token`'s user to `to`, the sender having overridden a
    /// warning, with sensitive-data counts: (message id, pixel URL).
    pub async fn tracked_message(
        &self,
        token: &str,
        to: &[&str],
        subject: &str,
    ) -> (String, String) {
        let (status, body) = self
            .post(
                "/api/v1/messages",
                token,
                &serde_json::json!({"to": to, "subject": subject,
                        "findings": [{"rule": "lookalike-domain", "severity": "warn", "recipients": [to[0]], "message": "m"}],
                        "overridden": true, "sensitive": [{"kind": "bsn", "count": 2}, {"kind": "health", "count": 1}]}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["track"], true, "{body}");
        (
            body["id"].as_str().unwrap().to_string(),
            body["pixel_url"].as_str().unwrap().to_string(),
        )
    }

    /// Stops the server (committing in-flight hits) and removes the test's database.
    pub async fn finish(mut self) {
        self.stop().await;
        self.state.db().pool.close().await;
        self.cleanup.run().await;
    }

    /// Stops the server and starts it again on the same database (a new port), as after a
    /// deployment or a crash-free restart; `configure` may change settings first.
    pub async fn restart(&mut self, configure: impl FnOnce(&mut Config)) {
        self.stop().await;
        self.state.db().pool.close().await;
        configure(&mut self.config);
        let (address, state, shutdown, server) = start(
            self.config.clone(),
            self.clock.clone(),
            self.resolver.clone(),
        )
        .await;
        self.address = address;
        self.base = format!("http://{address}");
        self.state = state;
        self.shutdown = Some(shutdown);
        self.server = Some(server);
    }

    /// A second server on the same database (as behind a load balancer), sharing the clock.
    pub async fn sibling(&self) -> Sibling {
        let (address, state, shutdown, server) = start(
            self.config.clone(),
            self.clock.clone(),
            self.resolver.clone(),
        )
        .await;
        Sibling {
            base: format!("http://{address}"),
            state,
            shutdown: Some(shutdown),
            server: Some(server),
        }
    }

    /// Graceful shutdown, as on SIGTERM.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("server ran");
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }
}

/// Another server on a test's database.
pub struct Sibling {
    pub base: String,
    pub state: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Sibling {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("server ran");
        }
        self.state.db().pool.close().await;
    }
}

/// Runs a test body against both backends.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                ($body)($crate::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                ($body)($crate::Backend::Postgres).await
            }
        }
    };
}
