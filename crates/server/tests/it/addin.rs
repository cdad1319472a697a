//! The Outlook add-in as the server serves it: every URL in the served manifests answers
//! 200 with the right type, ids and icons agree between the XML and JSON manifests and the
//! app package, the send mode follows the tenant's policy, caching and framing headers, and
//! the Rust rendering equals `addin/outlook/manifest/render.mjs` on the same inputs.
//! Needs `dist/outlook` built before the server (`cargo xtask test` does).

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

use leakwatch_server::addin;
use leakwatch_server::addin::manifest::{render, BaseUrl, SendMode};
use leakwatch_testkit::*;
use serde_json::{json, Value};

fn workspace() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Every `http(s)://` URL in `text` (ended by a quote, `<` or white space).
fn urls(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in text.match_indices("http") {
        let rest = &text[at..];
        if !(rest.starts_with("http://") || rest.starts_with("https://")) {
            continue;
        }
        let end = rest
            .find(|c: char| c == '"' || c == '<' || c.is_whitespace())
            .unwrap_or(rest.len());
        found.insert(rest[..end].to_string());
    }
    found
}

fn expected_type(url: &str) -> &'static str {
    match url.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("png") => "image/png",
        other => panic!("a manifest names an unexpected kind of file: {url} ({other:?})"),
    }
}

async fn fetch(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app.client.get(app.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

both_backends!(
    every_url_in_the_served_manifests_is_served,
    |backend| async move {
        let app = spawn(backend).await;
        assert!(
            addin::files::built(),
            "dist/outlook must be built before the server"
        );

        let xml = fetch(&app, "/addin/outlook/manifest.xml", &[]).await;
        assert_eq!(xml.status(), 200);
        assert_eq!(
            header(&xml, "content-type"),
            "application/xml; charset=utf-8"
        );
        let xml = xml.text().await.unwrap();
        let json = fetch(&app, "/addin/outlook/manifest.json", &[]).await;
        assert_eq!(json.status(), 200);
        assert_eq!(header(&json, "content-type"), "application/json");
        let json_text = json.text().await.unwrap();
        let manifest: Value = serde_json::from_str(&json_text).unwrap();

        // Without a tenant: softBlock, in both spellings.
        assert!(xml.contains(r#"SendMode="SoftBlock""#));
        assert_eq!(
            manifest["extensions"][0]["autoRunEvents"][0]["events"][3]["options"]["sendMode"],
            "softBlock"
        );
        // This server's address everywhere, nothing left of the templates.
        assert!(!xml.contains("{{") && !json_text.contains("{{"));
        assert_eq!(manifest["validDomains"], json!([app.address.to_string()]));

        // Every URL on this server, in both manifests, is answered with its type.
        let mut served = BTreeSet::new();
        for url in urls(&xml).into_iter().chain(urls(&json_text)) {
            if !url.starts_with(&app.base) || url.contains("/json-schemas/") {
                continue;
            }
            let path = &url[app.base.len()..];
            if !path.starts_with("/addin/outlook/") {
                // The app domain, the developer's and support links (the site, not the
                // add-in), and the template's comment.
                continue;
            }
            let response = fetch(&app, path, &[]).await;
            assert_eq!(response.status(), 200, "{url}");
            assert_eq!(
                header(&response, "content-type"),
                expected_type(&url),
                "{url}"
            );
            served.insert(path.to_string());
        }
        for path in [
            "/addin/outlook/taskpane.html",
            "/addin/outlook/launchevent.html",
            "/addin/outlook/launchevent.js",
            "/addin/outlook/icon-16.png",
            "/addin/outlook/icon-80.png",
            "/addin/outlook/icon-128.png",
        ] {
            assert!(served.contains(path), "the manifests name {path}");
        }

        // The same add-in in both: id, handlers, the task pane button.
        let id = manifest["id"].as_str().unwrap();
        assert!(xml.contains(&format!("<Id>{id}</Id>")), "same id");
        for action in manifest["extensions"][0]["runtimes"][0]["actions"]
            .as_array()
            .unwrap()
        {
            let name = action["id"].as_str().unwrap();
            assert!(xml.contains(&format!(r#"FunctionName="{name}""#)), "{name}");
        }
        assert!(xml.contains(r#"id="leakwatchOpenPane""#));
        assert_eq!(
            manifest["extensions"][0]["ribbons"][0]["tabs"][0]["groups"][0]["controls"][0]["id"],
            "leakwatchOpenPane"
        );

        // The app package: this manifest and the two icons it names, which are the served ones.
        let package = fetch(&app, "/addin/outlook/leakwatch-outlook.zip", &[]).await;
        assert_eq!(package.status(), 200);
        assert_eq!(header(&package, "content-type"), "application/zip");
        assert!(header(&package, "content-disposition").contains("leakwatch-outlook.zip"));
        let bytes = package.bytes().await.unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
        let mut names: Vec<String> = zip.file_names().map(String::from).collect();
        names.sort();
        assert_eq!(names, ["color.png", "manifest.json", "outline.png"]);
        let mut packed = String::new();
        zip.by_name("manifest.json")
            .unwrap()
            .read_to_string(&mut packed)
            .unwrap();
        assert_eq!(packed, json_text);
        for icon in ["color", "outline"] {
            let name = manifest["icons"][icon].as_str().unwrap();
            let mut data = Vec::new();
            zip.by_name(name).unwrap().read_to_end(&mut data).unwrap();
            let served = fetch(&app, &format!("/addin/outlook/{name}"), &[]).await;
            assert_eq!(
                served.bytes().await.unwrap().as_ref(),
                data.as_slice(),
                "{name}"
            );
        }
        app.finish().await;
    }
);

both_backends!(
    the_send_mode_follows_the_tenant_policy,
    |backend| async move {
        let app = spawn(backend).await;
        let token = app.user("acme", "acme.nl", "anna@acme.nl", true).await;
        let mode = |tenant: &'static str| {
            let app = &app;
            async move {
                let path = format!("/addin/outlook/manifest.xml?tenant={tenant}");
                let xml = fetch(app, &path, &[]).await.text().await.unwrap();
                let path = format!("/addin/outlook/manifest.json?tenant={tenant}");
                let json: Value = fetch(app, &path, &[]).await.json().await.unwrap();
                let json = json["extensions"][0]["autoRunEvents"][0]["events"][3]["options"]
                    ["sendMode"]
                    .as_str()
                    .unwrap()
                    .to_string();
                let xml = if xml.contains(r#"SendMode="SoftBlock""#) {
                    "softBlock"
                } else if xml.contains(r#"SendMode="PromptUser""#) {
                    "promptUser"
                } else {
                    panic!("no send mode in {xml}")
                };
                assert_eq!(xml, json, "both manifests say the same");
                json
            }
        };
        assert_eq!(
            mode("acme").await,
            "promptUser",
            "nothing in the policy blocks"
        );
        let response = app
            .client
            .put(app.url("/api/v1/tenant/policy"))
            .bearer_auth(&token)
            .json(&json!({"internal_domains": ["acme.nl"], "blocked_domains": ["concurrent.nl"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(mode("acme").await, "softBlock", "a blocked domain blocks");

        // An unknown tenant: a 404 in the contract's shape, in the reader's language.
        let response = fetch(
            &app,
            "/addin/outlook/manifest.json?tenant=nobody",
            &[("accept-language", "nl-NL,nl;q=0.9")],
        )
        .await;
        assert_eq!(response.status(), 404);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("geen organisatie") && message.contains("nobody"),
            "{message}"
        );
        let body: Value = fetch(
            &app,
            "/addin/outlook/leakwatch-outlook.zip?tenant=nobody",
            &[],
        )
        .await
        .json()
        .await
        .unwrap();
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no organisation"));
        app.finish().await;
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caching_types_and_framing() {
    let app = spawn(Backend::Sqlite).await;
    let page = fetch(&app, "/addin/outlook/taskpane.html", &[]).await;
    assert_eq!(page.status(), 200);
    assert_eq!(header(&page, "cache-control"), "no-cache");
    assert_eq!(header(&page, "x-content-type-options"), "nosniff");
    let csp = header(&page, "content-security-policy");
    assert!(!csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        csp.contains("frame-ancestors 'self' https://outlook.office.com"),
        "{csp}"
    );
    assert!(
        csp.contains("script-src 'self' https://appsforoffice.microsoft.com"),
        "{csp}"
    );
    assert!(
        header(&page, "x-frame-options").is_empty(),
        "Outlook frames it"
    );
    let etag = header(&page, "etag");
    assert!(etag.starts_with('"') && etag.len() > 10, "{etag}");
    let again = fetch(
        &app,
        "/addin/outlook/taskpane.html",
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(again.status(), 304);
    assert_eq!(header(&again, "etag"), etag);
    let other = fetch(
        &app,
        "/addin/outlook/taskpane.js",
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(other.status(), 200, "another file's tag does not match");
    assert_eq!(
        header(&other, "content-type"),
        "text/javascript; charset=utf-8"
    );
    let manifest = fetch(&app, "/addin/outlook/manifest.xml", &[]).await;
    let tag = header(&manifest, "etag");
    let again = fetch(
        &app,
        "/addin/outlook/manifest.xml",
        &[("if-none-match", &tag)],
    )
    .await;
    assert_eq!(again.status(), 304, "a manifest is revalidated too");

    for (path, kind) in [
        (
            "/addin/outlook/wasm/leakwatch_wasm_bg.wasm",
            "application/wasm",
        ),
        (
            "/addin/outlook/wasm/leakwatch_wasm.js",
            "text/javascript; charset=utf-8",
        ),
        ("/addin/outlook/taskpane.css", "text/css; charset=utf-8"),
        ("/addin/outlook/naa.js", "text/javascript; charset=utf-8"),
    ] {
        let response = fetch(&app, path, &[]).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(header(&response, "content-type"), kind, "{path}");
    }
    // Gzip for a client that takes it (the event handler: about 4 MB as built), with its own
    // validator; the same bytes once unpacked.
    let plain = fetch(&app, "/addin/outlook/launchevent.js", &[]).await;
    assert!(header(&plain, "content-encoding").is_empty());
    assert_eq!(header(&plain, "vary"), "accept-encoding");
    let plain_tag = header(&plain, "etag");
    let plain = plain.bytes().await.unwrap();
    let packed = fetch(
        &app,
        "/addin/outlook/launchevent.js",
        &[("accept-encoding", "gzip, deflate, br")],
    )
    .await;
    assert_eq!(header(&packed, "content-encoding"), "gzip");
    assert_eq!(
        header(&packed, "content-type"),
        "text/javascript; charset=utf-8"
    );
    let packed_tag = header(&packed, "etag");
    assert_ne!(packed_tag, plain_tag);
    let packed = packed.bytes().await.unwrap();
    let mut unpacked = Vec::new();
    flate2::read::GzDecoder::new(packed.as_ref())
        .read_to_end(&mut unpacked)
        .unwrap();
    assert_eq!(unpacked, plain.as_ref());
    assert!(
        packed.len() * 3 < plain.len(),
        "{} of {} bytes",
        packed.len(),
        plain.len()
    );
    eprintln!(
        "launchevent.js: {} bytes, {} gzipped",
        plain.len(),
        packed.len()
    );
    let again = fetch(
        &app,
        "/addin/outlook/launchevent.js",
        &[("accept-encoding", "gzip"), ("if-none-match", &packed_tag)],
    )
    .await;
    assert_eq!(again.status(), 304);
    let icon = fetch(
        &app,
        "/addin/outlook/icon-32.png",
        &[("accept-encoding", "gzip")],
    )
    .await;
    assert!(
        header(&icon, "content-encoding").is_empty(),
        "a PNG is not packed again"
    );

    // Test-only files, the templates and the 127.0.0.1 examples are not served.
    for path in [
        "/addin/outlook/harness.html",
        "/addin/outlook/office-host-double.js",
        "/addin/outlook/manifest-templates/manifest.xml.tmpl",
        "/addin/outlook/example/manifest.xml",
        "/addin/outlook/wasm/nothing.js",
    ] {
        let response = fetch(&app, path, &[]).await;
        assert_eq!(response.status(), 404, "{path}");
    }
    app.finish().await;
}

/// The manifests can only be rendered for a URL Office loads add-ins from.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_http_public_url_is_refused_with_a_reason() {
    let app = spawn_with(Backend::Sqlite, |config| {
        config.public_url = "http://leakwatch.example.nl".into();
    })
    .await;
    let response = fetch(&app, "/addin/outlook/manifest.xml", &[]).await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("https://") && message.contains("http://leakwatch.example.nl"),
        "{message}"
    );
    assert!(addin::status("http://leakwatch.example.nl").is_err());
    app.finish().await;
}

/// `config.json` names the deployment's Entra app for the task pane's Microsoft sign-in,
/// with the default scope on the public host, and says null when none is configured.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_json_names_the_entra_app_only_when_one_is_configured() {
    let app = spawn(Backend::Sqlite).await;
    let response = fetch(&app, "/addin/outlook/config.json", &[]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "cache-control"), "no-cache");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"entra": null}));
    app.finish().await;

    let app = spawn_with(Backend::Sqlite, |config| {
        config.outlook.entra_client_id = "3F2B1C9E-0000-4000-8000-00000000ABCD".into();
    })
    .await;
    let host = app.url("").trim_start_matches("http://").to_string();
    let body: Value = fetch(&app, "/addin/outlook/config.json", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body,
        json!({"entra": {
            "client_id": "3f2b1c9e-0000-4000-8000-00000000abcd",
            "scope": format!("api://{host}/3f2b1c9e-0000-4000-8000-00000000abcd/access_as_user"),
            "authority": "https://login.microsoftonline.com/common",
            "graph_scopes": ["Mail.ReadBasic"],
        }})
    );
    app.finish().await;
}

/// The same inputs through render.mjs (Node) and the server's render: the same text, or
/// both refuse.
#[test]
fn rendering_follows_render_mjs() {
    let dir = workspace().join("addin/outlook/manifest");
    let mut templates: Vec<String> = ["manifest.xml.tmpl", "manifest.json.tmpl"]
        .iter()
        .map(|name| std::fs::read_to_string(dir.join(name)).unwrap())
        .collect();
    templates.extend(
        [
            "{{base_url}}|{{base_host}}|{{send_mode}}|{{send_mode_xml}}",
            "{{base_url}}{{base_url}} {{other}}",
            "{{{a}}",
            "{{a}b}} {",
            "{{",
        ]
        .map(String::from),
    );
    let bases = [
        "https://leakwatch.example.nl",
        "https://leakwatch.example.nl/",
        "https://proxy.example.nl/leakwatch//",
        "https://LEAKWATCH.Example.NL:443/x",
        "https://leakwatch.example.nl:8443",
        "https://bücher.example/lw",
        "https://x.nl/a b",
        "https://x.nl/\"><x",
        "https://x.nl/it's",
        "https://x.nl/{{base_host}}",
        "http://127.0.0.1:8080",
        "http://localhost:3000/",
        "http://127.1:8080",
        "http://leakwatch.example.nl",
        "http://[::1]:8080",
        "https://[::1]:8443",
        "ftp://x.nl",
        "not a url",
        "https://u:p@x.nl",
        "https://u@x.nl",
        "https://x.nl/?a=1",
        "https://x.nl/?",
        "https://x.nl/#top",
        "https://x.nl/#",
        " https://x.nl/ ",
    ];
    let mut cases = Vec::new();
    for template in &templates {
        for base in bases {
            for mode in ["promptUser", "softBlock", "block"] {
                cases.push(json!({"template": template, "baseUrl": base, "sendMode": mode}));
            }
        }
    }
    let script = r#"
        const { render } = await import(new URL(`file://${process.env.RENDER_MJS}`));
        let input = "";
        for await (const chunk of process.stdin) input += chunk;
        const out = JSON.parse(input).map((c) => {
          try { return { ok: render(c.template, c) }; } catch (e) { return { err: e.message }; }
        });
        process.stdout.write(JSON.stringify(out));
    "#;
    let mut node = Command::new("node")
        .args(["--input-type=module", "-e", script])
        .env("RENDER_MJS", dir.join("render.mjs"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node on PATH (cargo xtask setup installs it)");
    serde_json::to_writer(node.stdin.take().unwrap(), &cases).unwrap();
    let output = node.wait_with_output().unwrap();
    assert!(output.status.success(), "node failed");
    let answers: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(answers.len(), cases.len());
    let mut rendered = 0;
    for (case, answer) in cases.iter().zip(&answers) {
        let ours = SendMode::parse(case["sendMode"].as_str().unwrap())
            .ok_or(())
            .and_then(|mode| {
                let base = BaseUrl::parse(case["baseUrl"].as_str().unwrap()).map_err(|_| ())?;
                render(case["template"].as_str().unwrap(), &base, mode).map_err(|_| ())
            });
        match (ours, answer.get("ok")) {
            (Ok(text), Some(theirs)) => {
                assert_eq!(text, theirs.as_str().unwrap(), "{}", case["baseUrl"]);
                rendered += 1;
            }
            (Err(()), None) => {}
            (ours, _) => panic!(
                "{} {} on {:?}: Rust {ours:?}, render.mjs {answer}",
                case["baseUrl"],
                case["sendMode"],
                &case["template"].as_str().unwrap()
                    [..20.min(case["template"].as_str().unwrap().len())]
            ),
        }
    }
    assert!(rendered > 50, "enough inputs render at all ({rendered})");
}
