//! The transparency page and the record of processing in a real browser (headless
//! Chromium): screenshots in both languages as artifacts (`target/artifacts/*.png`), and the
//! rendered DOM checked for the visible text of each language. `cargo xtask test` installs
//! Debian's `chromium`; `LEAKWATCH_CHROMIUM` names another binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use leakwatch_server::kit::db::Backend;
use leakwatch_testkit::smtp::SmtpSink;
use leakwatch_testkit::*;
use serde_json::json;

fn chromium() -> PathBuf {
    let path = std::env::var_os("LEAKWATCH_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.exists(),
        "{} not found: install Debian's chromium (cargo xtask test does) or set LEAKWATCH_CHROMIUM",
        path.display()
    );
    path
}

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs headless Chromium with `args` then `url`, killed after a minute; returns stdout.
fn run_chromium(args: &[String], url: &str) -> String {
    let profile = std::env::temp_dir().join(format!(
        "leakwatch_chromium_{}",
        leakwatch_server::kit::ids::random_id().replace(['-', '_'], "")
    ));
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--lang=en-US",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut out).ok();
        out
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "chromium failed: {status}");
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = std::fs::remove_dir_all(&profile);
    reader.join().unwrap()
}

/// Takes a screenshot and checks it is a real, non-blank PNG of the window's size.
fn screenshot(url: &str, name: &str) -> Vec<u8> {
    let path = artifacts().join(name);
    let _ = std::fs::remove_file(&path);
    run_chromium(
        &[
            format!("--screenshot={}", path.display()),
            "--window-size=1000,1600".into(),
        ],
        url,
    );
    let png = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), (1000, 1600));
    // A blank page of that size compresses to a few kilobytes; text and colour do not.
    assert!(png.len() > 40_000, "{name} is only {} bytes", png.len());
    png
}

/// The DOM after rendering, as text without tags.
fn visible_text(url: &str) -> String {
    let dom = run_chromium(&["--dump-dom".into()], url);
    assert!(dom.contains("</html>"), "{dom}");
    leakwatch_testkit::visible_text(&dom)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_transparency_page_in_a_browser() {
    let sink = SmtpSink::start();
    let app = spawn_with(Backend::Sqlite, |c| {
        c.mail.smarthost = sink.url();
        c.privacy.retention_interval_seconds = 0;
    })
    .await;
    let admin = app
        .user("voorbeeld", "voorbeeld.nl", "fg@voorbeeld.nl", true)
        .await;
    let sender = app
        .user("voorbeeld", "voorbeeld.nl", "anna@voorbeeld.nl", false)
        .await;
    let (status, body) = app
        .client
        .put(app.url("/api/v1/tenant/policy"))
        .bearer_auth(&admin)
        .json(&json!({"internal_domains": ["voorbeeld.nl"],
                      "disclosure": {"organization": "Gemeente Voorbeeld", "dpo_contact": "fg@voorbeeld.nl"},
                      "tracking": {"scope": "at_risk", "exclude_domains": [".de"]}}))
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .unwrap();
    assert_eq!(status, 200, "{:?}", body.text().await);
    let response = app
        .client
        .put(app.url("/api/v1/tenant/privacy"))
        .bearer_auth(&admin)
        .json(
            &json!({"retention_days": 30, "controller_contact": "Postbus 123, 1000 AB Voorbeeld",
                      "processors": ["Voorbeeld Hosting B.V. (hosting of the server)"]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (status, message) = app
        .post(
            "/api/v1/messages",
            &sender,
            &json!({"to": ["jan@klant.nl"], "subject": "Uw dossier", "track": true}),
        )
        .await;
    assert_eq!(status, 201);
    let info = message["info_url"].as_str().unwrap().to_string();

    // The pages as served, beside the screenshots.
    for lang in ["nl", "en"] {
        let html = app
            .client
            .get(format!("{info}?lang={lang}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        std::fs::write(artifacts().join(format!("transparency-{lang}.html")), html).unwrap();
    }
    let url = move |lang: &str| format!("{info}?lang={lang}");
    // Chromium blocks on the server, which runs on this runtime: run it beside.
    let (nl_png, nl_text, en_png, en_text) = tokio::task::spawn_blocking(move || {
        (
            screenshot(&url("nl"), "transparency-nl.png"),
            visible_text(&url("nl")),
            screenshot(&url("en"), "transparency-en.png"),
            visible_text(&url("en")),
        )
    })
    .await
    .unwrap();
    assert_ne!(nl_png, en_png);
    for needle in [
        "Privacyverklaring",
        "Lekdetectie in e-mail van Gemeente Voorbeeld",
        "In het kort",
        "Functionaris gegevensbescherming: fg@voorbeeld.nl",
        "30 dagen na verzending",
        "Nooit uw IP-adres",
        "Nee zeggen: volg e-mail aan mij niet",
        "Stuur bevestigingslink",
        "Autoriteit Persoonsgegevens",
        "Het openen van deze pagina wordt niet vastgelegd.",
        "English",
    ] {
        assert!(
            nl_text.contains(needle),
            "nl: {needle} not shown in: {nl_text}"
        );
    }
    for needle in [
        "Privacy notice",
        "Leak detection in e-mail from Gemeente Voorbeeld",
        "At a glance",
        "Data protection officer: fg@voorbeeld.nl",
        "30 days after sending",
        "Never your IP address",
        "Say no: do not track e-mail to me",
        "Send confirmation link",
        "Dutch Data Protection Authority",
        "Opening this page is not recorded.",
        "Nederlands",
    ] {
        assert!(
            en_text.contains(needle),
            "en: {needle} not shown in: {en_text}"
        );
    }
    assert!(!en_text.contains("Lekdetectie") && !nl_text.contains("Leak detection in"));

    // The record of processing, as a DPO prints it (saved, then opened from the file).
    for lang in ["nl", "en"] {
        let html = app
            .client
            .get(app.url(&format!(
                "/api/v1/tenant/record-of-processing?format=html&lang={lang}"
            )))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let file = artifacts().join(format!("record-of-processing-{lang}.html"));
        std::fs::write(&file, html).unwrap();
        let file_url = format!("file://{}", file.canonicalize().unwrap().display());
        let name = format!("record-of-processing-{lang}.png");
        let text = tokio::task::spawn_blocking(move || {
            screenshot(&file_url, &name);
            visible_text(&file_url)
        })
        .await
        .unwrap();
        let heading = if lang == "nl" {
            "Verwerkingsregister: lekdetectie"
        } else {
            "Record of processing: leak detection"
        };
        assert!(text.contains(heading), "{text}");
        assert!(text.contains("Gemeente Voorbeeld") && text.contains("30(1)(g)"));
    }
    app.finish().await;
}
