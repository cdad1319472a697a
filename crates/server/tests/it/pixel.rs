//! The pixel end to end, on SQLite and PostgreSQL: every answered fetch is counted, forged
//! tokens record nothing, fetches are classified, floods are capped, the GIF is served when
//! the database is down or slow, shutdown commits what is in flight, and neither an address
//! nor a user agent is stored anywhere.

use std::time::{Duration, Instant};

use leakwatch_server::kit::config::Config;
use leakwatch_server::kit::db::Backend;
use leakwatch_server::pixel::classify::{Agent, Class};
use leakwatch_server::pixel::token::{self, PixelId};
use leakwatch_server::pixel::{Hit, Outcome, GIF};
use leakwatch_server::Application;
use leakwatch_testkit::*;
use serde_json::{json, Value};
use sqlx::Row;

const OUTLOOK: &str = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)";
const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const GMAIL: &str =
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)";

/// A sender and one tracked message; returns (bearer, message id, pixel URL).
async fn tracked_message(app: &TestApp) -> (String, String, String) {
    let bearer = app
        .user(
            "acme",
            "boekhoudpartners.nl",
            "anna@boekhoudpartners.nl",
            false,
        )
        .await;
    let (id, url) = register(app, &bearer, None).await;
    (bearer, id, url)
}

/// Registers a tracked message, from `forwarded_for` when given (through a trusted proxy).
async fn register(app: &TestApp, bearer: &str, forwarded_for: Option<&str>) -> (String, String) {
    let mut request = app
        .client
        .post(app.url("/api/v1/messages"))
        .bearer_auth(bearer)
        .header("user-agent", THUNDERBIRD)
        .json(&json!({"to": ["jan@klant.nl"], "subject": "Jaarrekening", "track": true}));
    if let Some(xff) = forwarded_for {
        request = request.header("x-forwarded-for", xff);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["track"], true, "{body}");
    (
        body["id"].as_str().unwrap().to_string(),
        body["pixel_url"].as_str().unwrap().to_string(),
    )
}

/// Fetches a pixel URL and checks that the answer is the GIF.
async fn fetch(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    headers: &[(&str, &str)],
) {
    let mut request = client.request(method.clone(), url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    assert_gif(response, method == reqwest::Method::HEAD).await;
}

async fn assert_gif(response: reqwest::Response, head: bool) {
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "image/gif");
    assert!(
        headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("no-store"),
        "{headers:?}"
    );
    assert_eq!(headers["content-length"], "43");
    let body = response.bytes().await.unwrap();
    if head {
        assert!(body.is_empty());
    } else {
        assert_eq!(body.as_ref(), GIF.as_slice());
    }
}

/// The incident API's evidence for a message (opens an incident on it).
async fn evidence(app: &TestApp, bearer: &str, message_id: &str) -> Value {
    let (status, created) = app
        .post(
            "/api/v1/incidents",
            bearer,
            &json!({"message_id": message_id, "wrong_recipients": ["jan@klant.nl"]}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let (status, incident) = app
        .get(
            &format!("/api/v1/incidents/{}", created["id"].as_str().unwrap()),
            bearer,
        )
        .await;
    assert_eq!(status, 200);
    incident["evidence"].clone()
}

fn class_hits(evidence: &Value, class: &str) -> i64 {
    evidence["by_class"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["class"] == class)
        .map(|c| c["hits"].as_i64().unwrap())
        .unwrap_or(0)
}

/// (class, hits, details) per class of a message, from the database.
async fn counts(app: &TestApp, message_id: &str) -> Vec<(String, i64, i64)> {
    sqlx::query(
        "SELECT class, hits, details FROM pixel_counts WHERE message_id = $1 ORDER BY class",
    )
    .bind(message_id)
    .fetch_all(&app.db().pool)
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect()
}

/// (class, agent, network) of the detail rows of a message.
async fn details(app: &TestApp, message_id: &str) -> Vec<(String, String, String)> {
    sqlx::query("SELECT class, agent, network FROM pixel_hits WHERE message_id = $1 ORDER BY id")
        .bind(message_id)
        .fetch_all(&app.db().pool)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

async fn total_rows(app: &TestApp, table: &str) -> i64 {
    sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&app.db().pool)
        .await
        .unwrap()
        .get(0)
}

fn trusting_localhost(config: &mut Config) {
    behind_local_proxy(config);
}

both_backends!(every_answered_fetch_is_counted, |backend| async move {
    let app = spawn(backend).await;
    let (bearer, message, url) = tracked_message(&app).await;
    let mut fetches = tokio::task::JoinSet::new();
    for _ in 0..200 {
        let client = app.client.clone();
        let url = url.clone();
        fetches.spawn(async move {
            fetch(
                &client,
                reqwest::Method::GET,
                &url,
                &[("user-agent", THUNDERBIRD)],
            )
            .await
        });
    }
    let mut answered = 0;
    while let Some(done) = fetches.join_next().await {
        done.unwrap();
        answered += 1;
    }
    assert_eq!(answered, 200);
    let evidence = evidence(&app, &bearer, &message).await;
    assert_eq!(evidence["hits_total"], 200, "{evidence}");
    // A .gif suffix is the same pixel.
    fetch(
        &app.client,
        reqwest::Method::GET,
        &format!("{url}.gif"),
        &[("user-agent", THUNDERBIRD)],
    )
    .await;
    let total: i64 = counts(&app, &message).await.iter().map(|c| c.1).sum();
    assert_eq!(total, 201);
    app.finish().await;
});

both_backends!(forged_tokens_record_nothing, |backend| async move {
    let app = spawn(backend).await;
    let (_, _, url) = tracked_message(&app).await;
    let genuine = url.rsplit('/').next().unwrap().to_string();
    let mut tampered = genuine.clone().into_bytes();
    tampered[31] = if tampered[31] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    // Genuine-looking: the right format, a tag made with another key.
    let other_key = token::issue(b"not the server's key", PixelId::random());
    // Genuine tag, but no message has this pixel id.
    let unknown = token::issue(&app.state.keys().pixel.secret, PixelId::random());
    let long = "A".repeat(4000);
    let tokens = [
        tampered.as_str(),
        other_key.as_str(),
        unknown.as_str(),
        &genuine[..31],
        "x",
        "%00%ff",
        "..%2F..%2Fetc%2Fpasswd",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "not-a-token.gif",
        long.as_str(),
    ];
    for token in tokens {
        let url = app.url(&format!("/p/{token}"));
        fetch(
            &app.client,
            reqwest::Method::GET,
            &url,
            &[("user-agent", THUNDERBIRD)],
        )
        .await;
        fetch(&app.client, reqwest::Method::HEAD, &url, &[]).await;
    }
    // The writer has answered the unknown genuine token (dropped it) before its GIF went
    // out, so nothing is pending.
    assert_eq!(total_rows(&app, "pixel_counts").await, 0);
    assert_eq!(total_rows(&app, "pixel_hits").await, 0);
    app.finish().await;
});

// Issue 16, finding 11: `/p/{token}/` and other odd paths were a JSON 404, POST and OPTIONS
// an empty 405. Every method and every path under /p/ is the GIF; only a valid token
// records, and a method other than GET records a scanner.
both_backends!(
    every_method_and_path_under_p_is_the_gif,
    |backend| async move {
        let app = spawn_with(backend, trusting_localhost).await;
        let (_, message, url) = tracked_message(&app).await;
        let token = url.rsplit('/').next().unwrap().to_string();
        let forged = token::issue(b"not the server's key", PixelId::random());
        let methods = [
            reqwest::Method::GET,
            reqwest::Method::HEAD,
            reqwest::Method::POST,
            reqwest::Method::OPTIONS,
            reqwest::Method::PUT,
            reqwest::Method::DELETE,
            reqwest::Method::PATCH,
            reqwest::Method::from_bytes(b"PROPFIND").unwrap(),
        ];
        let odd = [
            "/p/".to_string(),
            format!("/p/{token}/"),
            format!("/p/{token}.gif/"),
            format!("/p/{token}/x"),
            format!("/p/x/{token}"),
            "/p/a/b/c".to_string(),
            "/p/%00".to_string(),
            "/p/%ff/".to_string(),
            format!("/p/{forged}"),
        ];
        for path in &odd {
            for method in &methods {
                let mut request = app
                    .client
                    .request(method.clone(), app.url(path))
                    .header("user-agent", THUNDERBIRD);
                if *method == reqwest::Method::POST {
                    request = request
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body("a=b");
                }
                let response = request.send().await.unwrap();
                assert_eq!(response.status(), 200, "{method} {path}");
                assert_gif(response, *method == reqwest::Method::HEAD).await;
            }
        }
        assert_eq!(total_rows(&app, "pixel_counts").await, 0);
        assert_eq!(total_rows(&app, "pixel_hits").await, 0);
        // The genuine token, from a mail client elsewhere (not the sender's network, so not a
        // self-view): only the GET is a view.
        let elsewhere = ("x-forwarded-for", "198.51.100.20");
        for method in &methods {
            fetch(
                &app.client,
                method.clone(),
                &url,
                &[("user-agent", THUNDERBIRD), elsewhere],
            )
            .await;
        }
        assert_eq!(
            counts(&app, &message).await,
            vec![
                ("direct".to_string(), 1, 1),
                (
                    "scanner".to_string(),
                    methods.len() as i64 - 1,
                    methods.len() as i64 - 1
                )
            ]
        );
        // A HEAD with .gif is the same pixel, and a scanner.
        fetch(
            &app.client,
            reqwest::Method::HEAD,
            &format!("{url}.gif"),
            &[("user-agent", OUTLOOK), elsewhere],
        )
        .await;
        let agents: Vec<(String, String)> = details(&app, &message)
            .await
            .into_iter()
            .map(|(class, agent, _)| (class, agent))
            .collect();
        assert_eq!(agents.len(), methods.len() + 1);
        assert_eq!(agents[0], ("direct".into(), "thunderbird".into()));
        assert_eq!(agents[1], ("scanner".into(), "thunderbird".into()), "HEAD");
        assert_eq!(
            agents.last().unwrap(),
            &("scanner".to_string(), "outlook".to_string())
        );
        app.finish().await;
    }
);

both_backends!(fetches_are_classified, |backend| async move {
    let app = spawn_with(backend, |config| {
        trusting_localhost(config);
        config.pixel.own_networks = vec!["203.0.113.0/24".parse().unwrap()];
    })
    .await;
    // Registered from 127.0.0.1: the sender's network.
    let (bearer, message, url) = tracked_message(&app).await;
    let get = reqwest::Method::GET;
    let c = &app.client;
    fetch(
        c,
        reqwest::Method::HEAD,
        &url,
        &[
            ("user-agent", OUTLOOK),
            ("x-forwarded-for", "198.51.100.10"),
        ],
    )
    .await;
    fetch(
        c,
        get.clone(),
        &url,
        &[
            (
                "user-agent",
                "Mozilla/5.0 (compatible; Mimecast URL Protect)",
            ),
            ("x-forwarded-for", "198.51.100.11"),
        ],
    )
    .await;
    fetch(
        c,
        get.clone(),
        &url,
        &[
            ("user-agent", "python-requests/2.32.3"),
            ("x-forwarded-for", "198.51.100.11"),
        ],
    )
    .await;
    fetch(
        c,
        get.clone(),
        &url,
        &[
            ("user-agent", CHROME),
            ("sec-purpose", "prefetch"),
            ("x-forwarded-for", "198.51.100.12"),
        ],
    )
    .await;
    fetch(
        c,
        get.clone(),
        &url,
        &[("user-agent", GMAIL), ("x-forwarded-for", "66.249.84.1")],
    )
    .await;
    fetch(
        c,
        get.clone(),
        &url,
        &[
            ("user-agent", "Mozilla/5.0"),
            ("x-forwarded-for", "17.58.1.1"),
        ],
    )
    .await;
    fetch(
        c,
        get.clone(),
        &url,
        &[
            ("user-agent", OUTLOOK),
            ("x-forwarded-for", "198.51.100.13"),
        ],
    )
    .await;
    // The sender's own client, right after sending.
    fetch(c, get.clone(), &url, &[("user-agent", THUNDERBIRD)]).await;
    // The tenant's own network (configured).
    fetch(
        c,
        get.clone(),
        &url,
        &[("user-agent", OUTLOOK), ("x-forwarded-for", "203.0.113.5")],
    )
    .await;
    // A spoofed X-Forwarded-For entry left of the proxy's is not believed: the client is
    // the rightmost untrusted hop.
    fetch(
        c,
        get.clone(),
        &url,
        &[
            ("user-agent", OUTLOOK),
            ("x-forwarded-for", "203.0.113.5, 198.51.100.14"),
        ],
    )
    .await;

    let evidence = evidence(&app, &bearer, &message).await;
    assert_eq!(evidence["hits_total"], 10, "{evidence}");
    assert_eq!(class_hits(&evidence, "scanner"), 4, "{evidence}");
    assert_eq!(class_hits(&evidence, "google_proxy"), 1, "{evidence}");
    assert_eq!(class_hits(&evidence, "apple_privacy"), 1, "{evidence}");
    assert_eq!(class_hits(&evidence, "self_view"), 2, "{evidence}");
    assert_eq!(class_hits(&evidence, "direct"), 2, "{evidence}");
    let agents: Vec<(String, String)> = details(&app, &message)
        .await
        .into_iter()
        .map(|(class, agent, _)| (class, agent))
        .collect();
    let expected = [
        ("scanner", "outlook"),
        ("scanner", "scanner"),
        ("scanner", "library"),
        ("scanner", "chrome"),
        ("google_proxy", "gmail-proxy"),
        ("apple_privacy", "apple-proxy"),
        ("direct", "outlook"),
        ("self_view", "thunderbird"),
        ("self_view", "outlook"),
        ("direct", "outlook"),
    ];
    assert_eq!(
        agents,
        expected
            .map(|(c, a)| (c.to_string(), a.to_string()))
            .to_vec()
    );

    // Long after sending, the sender's network is not a self-view any more.
    let (old, old_url) = register(&app, &bearer, None).await;
    sqlx::query("UPDATE messages SET created_at = created_at - 600000 WHERE id = $1")
        .bind(&old)
        .execute(&app.db().pool)
        .await
        .unwrap();
    fetch(c, get.clone(), &old_url, &[("user-agent", THUNDERBIRD)]).await;
    assert_eq!(counts(&app, &old).await, vec![("direct".to_string(), 1, 1)]);
    app.finish().await;
});

both_backends!(a_flood_is_counted_but_not_kept, |backend| async move {
    let app = spawn_with(backend, |config| config.pixel.detail_cap_per_class = 10).await;
    let (bearer, message, url) = tracked_message(&app).await;
    // 6 waves of 50 concurrent fetches, so the cap is crossed inside and across batches.
    for _ in 0..6 {
        let mut wave = tokio::task::JoinSet::new();
        for _ in 0..50 {
            let client = app.client.clone();
            let url = url.clone();
            wave.spawn(async move {
                fetch(
                    &client,
                    reqwest::Method::GET,
                    &url,
                    &[("user-agent", OUTLOOK), ("x-forwarded-for", "198.51.100.1")],
                )
                .await
            });
        }
        while let Some(done) = wave.join_next().await {
            done.unwrap();
        }
    }
    for _ in 0..3 {
        fetch(
            &app.client,
            reqwest::Method::HEAD,
            &url,
            &[("user-agent", OUTLOOK)],
        )
        .await;
    }
    // Without trusted proxies the X-Forwarded-For is ignored: all from 127.0.0.1, which
    // registered the message: self-views.
    assert_eq!(
        counts(&app, &message).await,
        vec![
            ("scanner".to_string(), 3, 3),
            ("self_view".to_string(), 300, 10)
        ]
    );
    assert_eq!(details(&app, &message).await.len(), 13);
    assert_eq!(evidence(&app, &bearer, &message).await["hits_total"], 303);
    // The counts go away (retention, say) while the writer knows the class as flooded:
    // the next fetches are counted from zero and kept in detail again.
    for table in ["pixel_hits", "pixel_counts"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE message_id = $1"))
            .bind(&message)
            .execute(&app.db().pool)
            .await
            .unwrap();
    }
    for _ in 0..3 {
        fetch(
            &app.client,
            reqwest::Method::GET,
            &url,
            &[("user-agent", OUTLOOK)],
        )
        .await;
    }
    assert_eq!(
        counts(&app, &message).await,
        vec![("self_view".to_string(), 3, 3)]
    );
    assert_eq!(details(&app, &message).await.len(), 3);
    app.finish().await;
});

both_backends!(unflushed_commits_count_the_same, |backend| async move {
    // PostgreSQL's synchronous_commit = off for the writer (SQLite ignores the setting).
    let app = spawn_with(backend, |config| {
        config.pixel.synchronous_commit = false;
        config.pixel.detail_cap_per_class = 5;
    })
    .await;
    let (bearer, message, url) = tracked_message(&app).await;
    let mut fetches = tokio::task::JoinSet::new();
    for _ in 0..150 {
        let client = app.client.clone();
        let url = url.clone();
        fetches.spawn(async move {
            fetch(
                &client,
                reqwest::Method::GET,
                &url,
                &[("user-agent", CHROME)],
            )
            .await
        });
    }
    while let Some(done) = fetches.join_next().await {
        done.unwrap();
    }
    assert_eq!(
        counts(&app, &message).await,
        vec![("self_view".to_string(), 150, 5)]
    );
    assert_eq!(details(&app, &message).await.len(), 5);
    assert_eq!(evidence(&app, &bearer, &message).await["hits_total"], 150);
    app.finish().await;
});

both_backends!(several_servers_share_one_database, |backend| async move {
    let app = spawn_with(backend, |config| config.pixel.detail_cap_per_class = 25).await;
    let (bearer, message, url) = tracked_message(&app).await;
    // A second server on the same database, as behind a load balancer.
    let mut config = app.state.config().clone();
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.database_url = match backend {
        Backend::Sqlite => config.effective_database_url(),
        Backend::Postgres => config.database_url.clone(),
    };
    let second = Application::build(config).await.unwrap();
    let second_base = format!("http://{}", second.local_addr());
    let second_db = second.state().db().clone();
    let (stop_second, stopped) = tokio::sync::oneshot::channel::<()>();
    let second_server = tokio::spawn(second.run_until(async {
        let _ = stopped.await;
    }));
    let token = url.rsplit('/').next().unwrap().to_string();
    let urls = [url.clone(), format!("{second_base}/p/{token}")];
    for _ in 0..4 {
        let mut wave = tokio::task::JoinSet::new();
        for i in 0..100 {
            let client = app.client.clone();
            let url = urls[i % 2].clone();
            wave.spawn(async move {
                fetch(
                    &client,
                    reqwest::Method::GET,
                    &url,
                    &[("user-agent", CHROME)],
                )
                .await
            });
        }
        while let Some(done) = wave.join_next().await {
            done.unwrap();
        }
    }
    let _ = stop_second.send(());
    second_server.await.unwrap().unwrap();
    second_db.pool.close().await;
    assert_eq!(
        counts(&app, &message).await,
        vec![("self_view".to_string(), 400, 25)]
    );
    assert_eq!(details(&app, &message).await.len(), 25);
    assert_eq!(evidence(&app, &bearer, &message).await["hits_total"], 400);
    app.finish().await;
});

both_backends!(
    a_spread_load_is_counted_and_capped_exactly,
    |backend| async move {
        // Many messages and classes in each batch, fetched through two servers on one database:
        // every batch writes many counts and detail rows at once, and the caps hold per
        // (message, class) across both servers' batches.
        let app = spawn_with(backend, |config| {
            config.pixel.detail_cap_per_class = 4;
            config.pixel.self_view_seconds = 0;
        })
        .await;
        let mut config = app.state.config().clone();
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.database_url = match backend {
            Backend::Sqlite => config.effective_database_url(),
            Backend::Postgres => config.database_url.clone(),
        };
        let second = Application::build(config).await.unwrap();
        let second_base = format!("http://{}", second.local_addr());
        let second_db = second.state().db().clone();
        let (stop_second, stopped) = tokio::sync::oneshot::channel::<()>();
        let second_server = tokio::spawn(second.run_until(async {
            let _ = stopped.await;
        }));
        let (bearer, first, first_url) = tracked_message(&app).await;
        let mut messages = vec![(first, first_url)];
        for _ in 1..12 {
            messages.push(register(&app, &bearer, None).await);
        }
        // Per message: 12 Outlook opens, 6 through Gmail's proxy, 3 scanner HEADs, interleaved
        // over messages and servers.
        let kinds: Vec<(reqwest::Method, &str)> =
            std::iter::repeat_n((reqwest::Method::GET, OUTLOOK), 12)
                .chain(std::iter::repeat_n((reqwest::Method::GET, GMAIL), 6))
                .chain(std::iter::repeat_n((reqwest::Method::HEAD, OUTLOOK), 3))
                .collect();
        let mut fetches = tokio::task::JoinSet::new();
        let total = messages.len() * kinds.len();
        for n in 0..total {
            // 5 is coprime with the total (252): a permutation.
            let i = (n * 5) % total;
            let (_, url) = &messages[i % messages.len()];
            let (method, agent) = kinds[i / messages.len()].clone();
            let token = url.rsplit('/').next().unwrap();
            let url = if n % 2 == 0 {
                url.clone()
            } else {
                format!("{second_base}/p/{token}")
            };
            let client = app.client.clone();
            fetches
                .spawn(async move { fetch(&client, method, &url, &[("user-agent", agent)]).await });
        }
        while let Some(done) = fetches.join_next().await {
            done.unwrap();
        }
        let _ = stop_second.send(());
        second_server.await.unwrap().unwrap();
        second_db.pool.close().await;
        for (message, _) in &messages {
            assert_eq!(
                counts(&app, message).await,
                vec![
                    ("direct".to_string(), 12, 4),
                    ("google_proxy".to_string(), 6, 4),
                    ("scanner".to_string(), 3, 3)
                ],
                "{message}"
            );
            let details = details(&app, message).await;
            assert_eq!(details.len(), 11, "{details:?}");
            assert!(
                details.iter().all(|(_, _, network)| network.len() == 22),
                "{details:?}"
            );
        }
        assert_eq!(total_rows(&app, "pixel_hits").await, 12 * 11);
        app.finish().await;
    }
);

both_backends!(
    the_gif_is_served_when_the_database_is_closed,
    |backend| async move {
        let app = spawn(backend).await;
        let (_, _, url) = tracked_message(&app).await;
        app.db().pool.close().await;
        let started = Instant::now();
        fetch(
            &app.client,
            reqwest::Method::GET,
            &url,
            &[("user-agent", THUNDERBIRD)],
        )
        .await;
        fetch(
            &app.client,
            reqwest::Method::GET,
            &app.url("/p/forged"),
            &[],
        )
        .await;
        // Answered on the failure, not after waiting for the commit timeout.
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "{:?}",
            started.elapsed()
        );
        let metrics = app
            .client
            .get(app.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            metrics.contains("leakwatch_pixel_commit_failures_total"),
            "{metrics}"
        );
        assert!(
            metrics.contains("leakwatch_pixel_unconfirmed_total{reason=\"commit_failed\"}"),
            "{metrics}"
        );
        app.finish().await;
    }
);

both_backends!(
    the_gif_is_served_when_the_database_is_slow,
    |backend| async move {
        let app = spawn_with(backend, |config| config.pixel.commit_timeout_ms = 300).await;
        let (bearer, message, url) = tracked_message(&app).await;
        // Another session holds the write lock.
        let mut blocker = app.db().pool.acquire().await.unwrap();
        let lock = match backend {
            Backend::Sqlite => vec!["BEGIN IMMEDIATE"],
            Backend::Postgres => vec!["BEGIN", "LOCK TABLE pixel_counts IN EXCLUSIVE MODE"],
        };
        for statement in lock {
            sqlx::query(statement).execute(&mut *blocker).await.unwrap();
        }
        let started = Instant::now();
        fetch(
            &app.client,
            reqwest::Method::GET,
            &url,
            &[("user-agent", THUNDERBIRD)],
        )
        .await;
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(250) && waited < Duration::from_millis(2000),
            "{waited:?}"
        );
        // Once the lock is gone, the hit is committed after all.
        sqlx::query("ROLLBACK")
            .execute(&mut *blocker)
            .await
            .unwrap();
        drop(blocker);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let total: i64 = counts(&app, &message).await.iter().map(|c| c.1).sum();
            if total == 1 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the slow hit was never committed"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(evidence(&app, &bearer, &message).await["hits_total"], 1);
        app.finish().await;
    }
);

both_backends!(
    stopping_the_server_commits_answered_fetches,
    |backend| async move {
        let mut app = spawn(backend).await;
        let (_, message, url) = tracked_message(&app).await;
        let mut fetches = tokio::task::JoinSet::new();
        for _ in 0..300 {
            let client = app.client.clone();
            let url = url.clone();
            fetches.spawn(async move {
                match client.get(&url).header("user-agent", OUTLOOK).send().await {
                    Ok(response) if response.status() == 200 => response
                        .bytes()
                        .await
                        .map(|b| b.len() == 43)
                        .unwrap_or(false),
                    _ => false,
                }
            });
        }
        // Stop while fetches are in flight (SIGTERM during traffic).
        tokio::time::sleep(Duration::from_millis(30)).await;
        app.stop().await;
        let mut answered = 0;
        while let Some(done) = fetches.join_next().await {
            if done.unwrap() {
                answered += 1;
            }
        }
        let total: i64 = counts(&app, &message).await.iter().map(|c| c.1).sum();
        assert_eq!(total, answered, "every answered fetch is committed");
        assert!(!app.state.pixel().is_running());
        app.finish().await;
    }
);

both_backends!(pipeline_shutdown_drains_the_queue, |backend| async move {
    let app = spawn(backend).await;
    let (_, message, url) = tracked_message(&app).await;
    let token = url.rsplit('/').next().unwrap();
    let pixel = token::verify(&app.state.keys().pixel.secret, token).unwrap();
    let pipeline = app.state.pixel().clone();
    let started = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut records = tokio::task::JoinSet::new();
    for i in 0..500 {
        let pipeline = pipeline.clone();
        let started = started.clone();
        records.spawn(async move {
            started.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            pipeline
                .record(Hit {
                    pixel,
                    at: leakwatch_server::kit::time::now_ms() + i,
                    class: Class::Direct,
                    agent: Agent::Outlook,
                    net: None,
                })
                .await
        });
    }
    // Let some hits reach the queue, then stop in the middle of it.
    while started.load(std::sync::atomic::Ordering::SeqCst) < 50 {
        tokio::task::yield_now().await;
    }
    pipeline.shutdown().await;
    assert!(!pipeline.is_running());
    let mut committed = 0;
    while let Some(outcome) = records.join_next().await {
        match outcome.unwrap() {
            Outcome::Committed => committed += 1,
            Outcome::NotRunning => {}
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert!(committed > 0);
    let total: i64 = counts(&app, &message).await.iter().map(|c| c.1).sum();
    assert_eq!(total, committed);
    // /readyz says so.
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    app.finish().await;
});

/// Every row of every table as text (blobs in hex).
async fn dump(app: &TestApp) -> String {
    let pool = &app.db().pool;
    let tables: Vec<String> = match app.backend() {
        Backend::Sqlite => sqlx::query("SELECT name FROM sqlite_master WHERE type = 'table'"),
        Backend::Postgres => {
            sqlx::query("SELECT CAST(tablename AS TEXT) FROM pg_tables WHERE schemaname = 'public'")
        }
    }
    .fetch_all(pool)
    .await
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect();
    assert!(tables.iter().any(|t| t == "pixel_hits"), "{tables:?}");
    let mut out = String::new();
    for table in tables {
        let query = match app.backend() {
            Backend::Sqlite => {
                let columns: Vec<String> =
                    sqlx::query(&format!("SELECT name FROM pragma_table_info('{table}')"))
                        .fetch_all(pool)
                        .await
                        .unwrap()
                        .iter()
                        .map(|r| r.get(0))
                        .collect();
                let expr = columns
                    .iter()
                    .map(|c| format!("quote(\"{c}\")"))
                    .collect::<Vec<_>>()
                    .join(" || '|' || ");
                format!("SELECT {expr} FROM \"{table}\"")
            }
            Backend::Postgres => format!("SELECT CAST(row_to_json(t) AS TEXT) FROM \"{table}\" t"),
        };
        for row in sqlx::query(&query).fetch_all(pool).await.unwrap() {
            let text: String = row.get(0);
            out.push_str(&table);
            out.push_str(": ");
            out.push_str(&text);
            out.push('\n');
        }
    }
    out.to_lowercase()
}

both_backends!(no_address_or_user_agent_is_stored, |backend| async move {
    let app = spawn_with(backend, trusting_localhost).await;
    let bearer = app
        .user(
            "acme",
            "boekhoudpartners.nl",
            "anna@boekhoudpartners.nl",
            false,
        )
        .await;
    let (message, url) = register(&app, &bearer, Some("198.51.100.23")).await;
    let (local, local_url) = register(&app, &bearer, None).await;
    let probe = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0 LeakwatchProbe/9.9";
    for xff in ["203.0.113.77", "2001:db8:beef:1::7", "::ffff:192.0.2.99"] {
        fetch(
            &app.client,
            reqwest::Method::GET,
            &url,
            &[("user-agent", probe), ("x-forwarded-for", xff)],
        )
        .await;
    }
    fetch(
        &app.client,
        reqwest::Method::GET,
        &local_url,
        &[("user-agent", probe)],
    )
    .await;
    fetch(
        &app.client,
        reqwest::Method::HEAD,
        &local_url,
        &[("user-agent", "curl/8.5.0 LeakwatchProbe")],
    )
    .await;
    evidence(&app, &bearer, &message).await;

    // Something was stored: detail rows with a family and a 22-character network hash.
    let rows = details(&app, &message).await;
    assert_eq!(rows.len(), 3);
    for (_, agent, network) in &rows {
        assert_eq!(agent, "thunderbird");
        assert_eq!(network.len(), 22, "{network}");
    }
    // Three different networks, three different hashes; the mapped address is IPv4.
    assert_ne!(rows[0].2, rows[1].2);
    assert_ne!(rows[1].2, rows[2].2);
    assert_eq!(details(&app, &local).await.len(), 2);

    let dump = dump(&app).await;
    assert!(dump.contains("pixel_hits: "), "{dump}");
    for needle in [
        // Addresses as text, their networks, and the addresses' bytes in hex.
        "127.0.0.1",
        "127.0.0",
        "198.51.100",
        "203.0.113",
        "2001:db8",
        "192.0.2",
        "7f000001",
        "c6336417",
        "cb00714d",
        "20010db8",
        "c0000263",
        // The user agents and their distinctive parts.
        "leakwatchprobe",
        "gecko/20100101",
        "x11; linux",
        "thunderbird/128",
        "curl/8.5.0",
    ] {
        assert!(!dump.contains(needle), "'{needle}' is stored:\n{dump}");
    }
    // The SQLite files themselves (database, WAL) hold none of it either.
    if backend == Backend::Sqlite {
        let dir = app.state.config().data_dir.clone();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            let text = String::from_utf8_lossy(&bytes).to_lowercase();
            for needle in [
                "198.51.100",
                "203.0.113",
                "2001:db8",
                "leakwatchprobe",
                "gecko/20100101",
            ] {
                assert!(!text.contains(needle), "'{needle}' is in {}", dir.display());
            }
        }
    }
    app.finish().await;
});
