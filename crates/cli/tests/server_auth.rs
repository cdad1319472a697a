//! `leakwatch user password` and `leakwatch tenant oidc` against a fresh SQLite database.

use std::process::Output;

use assert_cmd::Command;

use leakwatch_server::accounts;
use leakwatch_server::kit::db::Db;

struct Temp(std::path::PathBuf);

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_db() -> (Temp, String) {
    let dir = std::env::temp_dir().join(format!(
        "leakwatch_cli_auth_{}_{}",
        std::process::id(),
        leakwatch_server::kit::ids::random_id().replace(['-', '_'], "")
    ));
    let url = format!("sqlite://{}", dir.join("leakwatch.db").display());
    (Temp(dir), url)
}

fn leakwatch(url: &str, args: &[&str], stdin: &[u8]) -> Output {
    Command::cargo_bin("leakwatch")
        .unwrap()
        .args(args)
        .env("LEAKWATCH_DATABASE_URL", url)
        .write_stdin(stdin)
        .output()
        .unwrap()
}

fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn assert_usage_error(out: &Output, needle: &str) {
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains(needle), "{stderr}");
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn user_password_reads_the_first_line_of_stdin() {
    let (_temp, url) = temp_db();
    let email = "anna@boekhoudpartners.nl";
    let pw = |stdin: &[u8]| {
        leakwatch(
            &url,
            &["user", "password", "--tenant", "acme", "--email", email],
            stdin,
        )
    };
    assert_ok(&leakwatch(
        &url,
        &[
            "tenant",
            "create",
            "--name",
            "acme",
            "--domain",
            "boekhoudpartners.nl",
        ],
        b"",
    ));
    assert_ok(&leakwatch(
        &url,
        &[
            "user", "add", "--tenant", "acme", "--email", email, "--admin",
        ],
        b"",
    ));
    assert_usage_error(&pw(b""), "no password");
    assert_usage_error(&pw(b"\n"), "no password");
    assert_usage_error(&pw(b"short\n"), "too short");
    assert_usage_error(&pw(b"123456789\nmore lines\n"), "too short");
    let out = leakwatch(
        &url,
        &[
            "user",
            "password",
            "--tenant",
            "acme",
            "--email",
            "nobody@boekhoudpartners.nl",
        ],
        b"correct horse battery staple\n",
    );
    assert_usage_error(&out, "no user");
    let out = pw(b"correct horse battery staple\r\nsecond line is ignored\n");
    assert_ok(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("password set"));
    let hash = stored_hash(&url, email).expect("a hash was stored");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(leakwatch_server::kit::password::verify_blocking(
        "correct horse battery staple",
        &hash
    ));
    // --clear removes it.
    assert_ok(&leakwatch(
        &url,
        &[
            "user", "password", "--tenant", "acme", "--email", email, "--clear",
        ],
        b"",
    ));
    let cleared = stored_hash(&url, email);
    assert_eq!(cleared, None);
}

fn stored_hash(url: &str, email: &str) -> Option<String> {
    runtime().block_on(async {
        let db = Db::connect(url).await.unwrap();
        let hash = sqlx::query_scalar("SELECT password_hash FROM users WHERE email = $1")
            .bind(email)
            .fetch_one(&db.pool)
            .await
            .unwrap();
        db.pool.close().await;
        hash
    })
}

#[test]
fn tenant_oidc_sets_and_clears_the_settings() {
    let (_temp, url) = temp_db();
    let tid = "0b1e8f7a-3c2d-4e5f-8a9b-1c2d3e4f5a6b";
    let issuer = format!("https://login.microsoftonline.com/{tid}/v2.0");
    let jwks = format!("https://login.microsoftonline.com/{tid}/discovery/v2.0/keys");
    assert_ok(&leakwatch(
        &url,
        &[
            "tenant",
            "create",
            "--name",
            "acme",
            "--domain",
            "boekhoudpartners.nl",
        ],
        b"",
    ));
    let oidc = |jwks: &str, name: &str| {
        leakwatch(
            &url,
            &[
                "tenant",
                "oidc",
                "--name",
                name,
                "--issuer",
                &issuer,
                "--audience",
                "api://addin/1",
                "--jwks-uri",
                jwks,
                "--tid",
                tid,
            ],
            b"",
        )
    };
    assert_usage_error(&oidc("http://keys.example.com/", "acme"), "jwks_uri");
    assert_usage_error(&oidc(&jwks, "nope"), "no tenant");
    assert_usage_error(
        &leakwatch(&url, &["tenant", "oidc", "--name", "acme"], b""),
        "required",
    );
    assert_ok(&oidc(&jwks, "acme"));
    let stored = runtime().block_on(async {
        let db = Db::connect(&url).await.unwrap();
        let tenant = accounts::tenant_by_name(&db, "acme")
            .await
            .unwrap()
            .unwrap();
        let settings = leakwatch_server::auth::oidc::tenant_oidc(&db, &tenant.id)
            .await
            .unwrap();
        db.pool.close().await;
        settings
    });
    let stored = stored.expect("settings stored");
    assert_eq!(stored.issuer, issuer);
    assert_eq!(stored.jwks_uri, jwks);
    assert_eq!(stored.tenant_id, tid);
    assert_eq!(stored.audience, "api://addin/1");
    // A directory belongs to one tenant.
    assert_ok(&leakwatch(
        &url,
        &[
            "tenant", "create", "--name", "klant", "--domain", "klant.nl",
        ],
        b"",
    ));
    assert_usage_error(&oidc(&jwks, "klant"), "another tenant");
    assert_ok(&leakwatch(
        &url,
        &["tenant", "oidc", "--name", "acme", "--clear"],
        b"",
    ));
    assert_ok(&oidc(&jwks, "klant"));
}
