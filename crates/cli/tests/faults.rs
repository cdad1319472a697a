//! Faults under load (issue 16), against `leakwatch serve` processes:
//! - the server killed with SIGKILL during a pixel load, on SQLite and on PostgreSQL: every
//!   fetch that was answered is counted (ADR 0004: an answer only after its commit);
//! - a PostgreSQL of the test's own (a private cluster made with `initdb`, never the
//!   machine's shared one) stopped and started during a pixel load: the pixel keeps
//!   answering, the server recovers by itself, and nothing answered is lost;
//! - the mail relay down while alerts queue: every alert mail arrives, once, when it is back.
//!
//! Each load runs `LEAKWATCH_FAULT_SECONDS` (default 4); `tests/faults/run.sh` runs them
//! longer, in a release build, and prints the figures.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::*;

fn load_seconds() -> f64 {
    std::env::var("LEAKWATCH_FAULT_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4.0)
}

/// Fetches in flight at once.
const CONCURRENCY: usize = 16;
/// Tracked messages the load spreads over.
const MESSAGES: usize = 100;

/// Mail clients, a proxy and a scanner, as real fetches come.
const AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36 Edg/124.0 Microsoft Outlook 16.0",
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0",
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
    "Mozilla/5.0 (compatible; Barracuda Sentinel scanner)",
];

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn pixel_urls(client: &reqwest::Client, base: &str, token: &str) -> Vec<String> {
    register(client, base, token, MESSAGES)
        .await
        .into_iter()
        .map(|(_, pixel)| pixel)
        .collect()
}

/// Fetchers that walk the messages' pixels until stopped, counting answered fetches (a 200
/// with the whole GIF) and failed ones (refused, reset, or another status).
struct Load {
    answered: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(urls: Vec<String>) -> Load {
        let urls = Arc::new(urls);
        let answered = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let tasks = (0..CONCURRENCY)
            .map(|worker| {
                let (urls, answered, failed, stop, client) = (
                    urls.clone(),
                    answered.clone(),
                    failed.clone(),
                    stop.clone(),
                    client.clone(),
                );
                tokio::spawn(async move {
                    let mut i = worker;
                    while !stop.load(Ordering::Relaxed) {
                        let url = &urls[i % urls.len()];
                        let agent = AGENTS[i % AGENTS.len()];
                        i += CONCURRENCY + 1;
                        let response = client
                            .get(url)
                            .header("user-agent", agent)
                            .header("x-forwarded-for", "198.51.100.7")
                            .send()
                            .await;
                        let ok = match response {
                            Ok(r) if r.status() == 200 => {
                                r.bytes().await.is_ok_and(|b| b.len() == 43)
                            }
                            _ => false,
                        };
                        if ok {
                            answered.fetch_add(1, Ordering::Relaxed);
                        } else {
                            failed.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                })
            })
            .collect();
        Load {
            answered,
            failed,
            stop,
            tasks,
        }
    }

    fn answered(&self) -> u64 {
        self.answered.load(Ordering::Relaxed)
    }

    async fn finish(mut self) -> (u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        for task in std::mem::take(&mut self.tasks) {
            task.await.unwrap();
        }
        (self.answered(), self.failed.load(Ordering::Relaxed))
    }
}

/// All pixel fetches the database counted.
async fn counted(url: &str) -> u64 {
    use sqlx::Connection;
    let sql = "SELECT CAST(COALESCE(SUM(hits), 0) AS BIGINT) FROM pixel_counts";
    let n: i64 = if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
    };
    n as u64
}

/// One metric's value (summed over its labels) from `/metrics`.
async fn metric(client: &reqwest::Client, base: &str, name: &str) -> f64 {
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("leakwatch-faults-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const FLAT_OUT: [(&str, &str); 1] = [
    // Everything is loopback here, the registration too: no fetch is the sender's own.
    ("LEAKWATCH_PIXEL__SELF_VIEW_SECONDS", "0"),
];

fn killed_under_load(url: &str, backend: &str) {
    let token = acme_with_anna(url);
    let mut server = Server::start_with(url, &FLAT_OUT);
    let rt = runtime();
    let (answered, failed) = rt.block_on(async {
        let client = reqwest::Client::new();
        let urls = pixel_urls(&client, &server.base, &token).await;
        let load = Load::start(urls);
        tokio::time::sleep(Duration::from_secs_f64(load_seconds())).await;
        assert!(load.answered() > 0, "the load got answers");
        server.kill_hard();
        load.finish().await
    });
    let counted = rt.block_on(counted(url));
    println!(
        "SIGKILL under load, {backend}: {answered} fetches answered, {counted} counted, {failed} refused after the kill"
    );
    assert!(
        counted >= answered,
        "{backend}: {} answered fetches were lost",
        answered - counted
    );
    // The rest were committed but not yet answered when the process died.
    assert!(
        counted <= answered + CONCURRENCY as u64,
        "{backend}: {counted} counted for {answered} answered"
    );
    // And it starts again on the same database.
    let again = Server::start_with(url, &FLAT_OUT);
    let ready = rt.block_on(async {
        reqwest::get(format!("{}/readyz", again.base))
            .await
            .unwrap()
            .status()
    });
    assert_eq!(ready, 200);
}

#[test]
fn a_killed_server_loses_no_answered_fetch_on_sqlite() {
    let dir = temp_dir("kill-sqlite");
    let url = format!("sqlite://{}", dir.join("leakwatch.db").display());
    killed_under_load(&url, "SQLite");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_killed_server_loses_no_answered_fetch_on_postgres() {
    let name = format!("leakwatch_faults_kill_{}", std::process::id());
    let url = fresh_postgres_database(&name);
    killed_under_load(&url, "PostgreSQL");
    psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
}

/// A PostgreSQL cluster of the test's own in a temporary directory, on its own port, so
/// that stopping it touches nothing else. As root, its programs run as `postgres`
/// (PostgreSQL refuses to run as root).
struct PrivatePostgres {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
}

impl PrivatePostgres {
    fn init() -> PrivatePostgres {
        let bin = Command::new("pg_config")
            .arg("--bindir")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
            .filter(|dir| dir.join("initdb").exists())
            .or_else(|| {
                // Debian keeps the server's programs out of PATH.
                let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
                    .ok()?
                    .flatten()
                    .map(|e| e.path().join("bin"))
                    .filter(|dir| dir.join("initdb").exists())
                    .collect();
                found.sort();
                found.pop()
            })
            .expect("PostgreSQL's initdb and pg_ctl (Debian: /usr/lib/postgresql/N/bin)");
        let dir = temp_dir("pg");
        let cluster = PrivatePostgres {
            dir,
            bin,
            port: free_port(),
        };
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&cluster.dir)
                .status()
                .unwrap();
            assert!(status.success(), "chown to postgres");
        }
        cluster.run(
            "initdb",
            &[
                "-D",
                &cluster.data().display().to_string(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        cluster.start();
        cluster
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn run(&self, program: &str, args: &[&str]) {
        let path = self.bin.join(program);
        let mut command = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let output = command.args(args).output().unwrap();
        assert!(
            output.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn pg_ctl(&self, args: &[&str]) {
        let data = self.data().display().to_string();
        let log = self.dir.join("postgres.log").display().to_string();
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.display()
        );
        let mut all = vec!["-D", &data, "-l", &log, "-o", &options, "-w"];
        all.extend_from_slice(args);
        self.run("pg_ctl", &all);
    }

    fn start(&self) {
        self.pg_ctl(&["start"]);
    }

    /// A fast shutdown: open connections are ended, as in a failover or a restart.
    fn stop(&self) {
        self.pg_ctl(&["-m", "fast", "stop"]);
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.data().display().to_string();
        let _ = Command::new(self.bin.join("pg_ctl"))
            .args(["-D", &data, "-m", "immediate", "stop"])
            .status();
        if is_root() {
            let _ = Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(self.bin.join("pg_ctl"))
                .args(["-D", &data, "-m", "immediate", "stop"])
                .output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

#[test]
fn the_pixel_outlives_a_postgres_restart_and_loses_nothing_answered() {
    let postgres = PrivatePostgres::init();
    psql_at(&postgres.url("postgres"), "CREATE DATABASE leakwatch");
    let url = postgres.url("leakwatch");
    let token = acme_with_anna(&url);
    let server = Server::start_with(&url, &FLAT_OUT);
    let rt = runtime();
    let third = Duration::from_secs_f64(load_seconds() / 3.0);
    let report = rt.block_on(async {
        let client = reqwest::Client::new();
        let urls = pixel_urls(&client, &server.base, &token).await;
        let load = Load::start(urls);
        tokio::time::sleep(third).await;
        let before = load.answered();
        let down = Instant::now();
        tokio::task::block_in_place(|| postgres.stop());
        tokio::time::sleep(third).await;
        let during = load.answered() - before;
        tokio::task::block_in_place(|| postgres.start());
        let outage = down.elapsed();
        // The server finds its database again by itself.
        let back = Instant::now();
        loop {
            let healthy = client
                .get(format!("{}/healthz", server.base))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200);
            if healthy {
                break;
            }
            assert!(back.elapsed() < Duration::from_secs(30), "no recovery");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let recovery = back.elapsed();
        tokio::time::sleep(third).await;
        let (answered, failed) = load.finish().await;
        let unconfirmed = metric(&client, &server.base, "leakwatch_pixel_unconfirmed_total").await;
        (answered, failed, during, outage, recovery, unconfirmed)
    });
    let (answered, failed, during, outage, recovery, unconfirmed) = report;
    // A graceful stop commits what is still queued.
    drop(server);
    let counted = rt.block_on(counted(&url));
    println!(
        "PostgreSQL down {:.1} s under load: {answered} fetches answered ({during} while it was down), {failed} failed, {counted} counted, {unconfirmed} answered unconfirmed; healthy {:.2} s after it came back",
        outage.as_secs_f64(),
        recovery.as_secs_f64()
    );
    assert_eq!(failed, 0, "every fetch got its GIF");
    assert!(during > 0, "the pixel answered while the database was down");
    assert!(
        counted >= answered,
        "{} answered fetches were lost",
        answered - counted
    );
}

#[test]
fn alert_mails_queued_while_the_relay_is_down_all_arrive_once_it_is_back() {
    let dir = temp_dir("relay");
    let url = format!("sqlite://{}", dir.join("leakwatch.db").display());
    let token = acme_with_anna(&url);
    let relay_port = free_port();
    let relay = format!("smtp://127.0.0.1:{relay_port}");
    let server = Server::start_with(
        &url,
        &[
            ("LEAKWATCH_MAIL__SMARTHOST", &relay),
            ("LEAKWATCH_MAIL__FROM", "leakwatch@acme.nl"),
            ("LEAKWATCH_ALERTS__OUTBOX_POLL_MS", "100"),
            ("LEAKWATCH_ALERTS__RETRY_BASE_SECONDS", "1"),
            ("LEAKWATCH_ALERTS__RETRY_MAX_SECONDS", "2"),
        ],
    );
    const INCIDENTS: usize = 8;
    let rt = runtime();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let messages = register(&client, &server.base, &token, INCIDENTS).await;
        for (message, _) in &messages {
            open_incident(&client, &server.base, &token, message, &[]).await;
        }
        // Wait until every summary mail has failed at least once.
        let deadline = Instant::now() + Duration::from_secs(20);
        while failed_attempts(&url).await < INCIDENTS as i64 {
            assert!(Instant::now() < deadline, "the mails were not tried");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let back = Instant::now();
        let sink = tokio::task::block_in_place(|| leakwatch_testkit::smtp::SmtpSink::start_on(relay_port));
        let mails = sink.wait_for(INCIDENTS, Duration::from_secs(30)).await;
        let delivered_after = back.elapsed();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mails_then = sink.received().len();
        println!(
            "relay down: {INCIDENTS} alert mails queued, all {} delivered {:.1} s after it came back",
            mails.len(),
            delivered_after.as_secs_f64()
        );
        assert_eq!(mails.len(), INCIDENTS);
        assert_eq!(mails_then, INCIDENTS, "each mail once");
        let mut subjects: Vec<String> = mails.iter().map(|m| m.text()).collect();
        subjects.sort();
        subjects.dedup();
        assert_eq!(subjects.len(), INCIDENTS, "one mail per incident");
    });
    drop(server);
    let _ = std::fs::remove_dir_all(Path::new(&dir));
}

/// Outbox rows whose delivery was tried and failed.
async fn failed_attempts(url: &str) -> i64 {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE attempts >= 1 AND delivered_at IS NULL AND last_error IS NOT NULL",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap()
}
