//! The server commands of contract api-v1: `serve`, `tenant create`, `user add`,
//! `token issue`, as deployment scripts drive them.

mod support;

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use support::{free_port, wait_until_serving};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("leakwatch-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn leakwatch(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_leakwatch"))
        .args(args)
        .current_dir(dir)
        .env_remove("LEAKWATCH_DATABASE_URL")
        .output()
        .expect("leakwatch runs")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn tenant_user_token_on_the_default_database() {
    let dir = temp_dir("admin");
    let first = stdout(&leakwatch(
        &dir,
        &["tenant", "create", "--name", "acme", "--domain", "acme.nl"],
    ));
    assert!(first.contains("created"), "{first}");
    let again = stdout(&leakwatch(
        &dir,
        &["tenant", "create", "--name", "acme", "--domain", "acme.nl"],
    ));
    assert!(again.contains("exists"), "idempotent on the name: {again}");
    stdout(&leakwatch(
        &dir,
        &[
            "user",
            "add",
            "--tenant",
            "acme",
            "--email",
            "Anna@Acme.nl",
            "--admin",
        ],
    ));
    let token = stdout(&leakwatch(
        &dir,
        &[
            "token",
            "issue",
            "--tenant",
            "acme",
            "--email",
            "anna@acme.nl",
            "--ttl",
            "2h",
        ],
    ));
    // Only the token, one line: three base64url parts.
    let token = token.strip_suffix('\n').expect("one line");
    assert_eq!(token.split('.').count(), 3, "{token}");
    assert!(!token.contains(char::is_whitespace));
    assert!(
        dir.join("leakwatch-data/leakwatch.db").exists(),
        "embedded SQLite in the data directory"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn database_url_flag_and_environment() {
    let dir = temp_dir("url");
    let url = format!("sqlite://{}", dir.join("custom.db").display());
    stdout(&leakwatch(
        &dir,
        &[
            "tenant",
            "create",
            "--name",
            "t",
            "--domain",
            "t.nl",
            "--database-url",
            &url,
        ],
    ));
    let output = Command::new(env!("CARGO_BIN_EXE_leakwatch"))
        .args(["user", "add", "--tenant", "t", "--email", "a@t.nl"])
        .current_dir(&dir)
        .env("LEAKWATCH_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(stdout(&output).contains("added"));
    assert!(dir.join("custom.db").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn user_add_takes_a_role() {
    let dir = temp_dir("roles");
    stdout(&leakwatch(
        &dir,
        &["tenant", "create", "--name", "acme", "--domain", "acme.nl"],
    ));
    let add = |args: &[&str]| {
        let mut all = vec![
            "user",
            "add",
            "--tenant",
            "acme",
            "--email",
            "petra@acme.nl",
        ];
        all.extend_from_slice(args);
        leakwatch(&dir, &all)
    };
    let first = stdout(&add(&["--role", "privacy-officer"]));
    assert!(
        first.contains("added") && first.contains("role privacy_officer"),
        "{first}"
    );
    // Without a role an existing user keeps hers; with one she gets it.
    assert!(stdout(&add(&[])).contains("role privacy_officer"));
    assert!(stdout(&add(&["--admin"])).contains("role admin"));
    assert!(stdout(&add(&["--role", "sender"])).contains("role sender"));
    let both = add(&["--admin", "--role", "sender"]);
    assert!(!both.status.success(), "--admin and --role conflict");
    assert!(!add(&["--role", "owner"]).status.success());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn errors_are_one_line_and_non_zero() {
    let dir = temp_dir("errors");
    for args in [
        &["user", "add", "--tenant", "missing", "--email", "a@b.nl"][..],
        &["token", "issue", "--tenant", "missing", "--email", "a@b.nl"],
        &[
            "tenant",
            "create",
            "--name",
            "x",
            "--domain",
            "not a domain",
        ],
        &[
            "token", "issue", "--tenant", "x", "--email", "a@b.nl", "--ttl", "soon",
        ],
        &[
            "tenant",
            "create",
            "--name",
            "x",
            "--domain",
            "x.nl",
            "--database-url",
            "mysql://nope",
        ],
    ] {
        let output = leakwatch(&dir, args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(output.stdout.is_empty(), "{args:?}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn serve_with_no_database_flags_answers_healthz() {
    let dir = temp_dir("serve");
    let listen = format!("127.0.0.1:{}", free_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_leakwatch"))
        .args(["serve", "--listen", &listen])
        .current_dir(&dir)
        .env_remove("LEAKWATCH_DATABASE_URL")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The server says where it serves once it is listening.
    wait_until_serving(&mut child, &listen, Duration::from_secs(20));
    let response = http_get(&listen, "/healthz");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "graceful shutdown on SIGTERM exits 0: {status}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

fn http_get(address: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}
