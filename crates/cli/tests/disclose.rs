//! `leakwatch disclose` as outside tools drive it: the built binary, stdin/FILE in, the body
//! on stdout, one-line errors with exit 2 and nothing on stdout.

use std::path::PathBuf;
use std::process::Output;

use assert_cmd::Command;

const INFO: &str = "https://lw.example.nl/i/tok42";
const PIXEL: &str = "https://lw.example.nl/p/tok42";

fn leakwatch(args: &[&str], stdin: &[u8]) -> Output {
    // assert_cmd tolerates a process that exits before reading its input (a bad argument).
    Command::cargo_bin("leakwatch")
        .unwrap()
        .arg("disclose")
        .args(args)
        .write_stdin(stdin)
        .output()
        .unwrap()
}

fn ok(args: &[&str], stdin: &str) -> String {
    let out = leakwatch(args, stdin.as_bytes());
    assert!(
        out.status.success(),
        "{args:?}: exit {:?}, stderr {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty());
    String::from_utf8(out.stdout).unwrap()
}

/// Exit 2, one line on stderr, nothing on stdout.
fn invalid(args: &[&str], stdin: &[u8]) -> String {
    let out = leakwatch(args, stdin);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?}: stdout not empty");
    assert!(
        stderr.ends_with('\n') && stderr.matches('\n').count() == 1,
        "{args:?}: stderr is not one line: {stderr:?}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("leakwatch-cli-disclose-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn html_gets_disclosure_and_pixel_at_the_end_of_the_body() {
    let body = "<html><body><p>Hoi</p><!-- </body> --></body></html>\n";
    let out = ok(
        &[
            "--format",
            "html",
            "--info-url",
            INFO,
            "--pixel-url",
            PIXEL,
            "--lang",
            "nl",
        ],
        body,
    );
    let start = out.find(r#"<div data-leakwatch="disclosure""#).unwrap();
    assert_eq!(&out[..start], "<html><body><p>Hoi</p><!-- </body> -->");
    assert!(out.ends_with("</div></body></html>\n"));
    assert!(out.contains("Privacymelding"));
    assert!(out.contains(&format!(r#"<a href="{INFO}""#)));
    assert_eq!(
        out.matches(&format!(
            r#"<img src="{PIXEL}" width="1" height="1" alt="" "#
        ))
        .count(),
        1
    );
}

#[test]
fn html_from_a_file_without_pixel() {
    let path = temp_file("body.html", b"<div dir=\"ltr\">Hi</div>");
    let out = ok(
        &[
            "--format",
            "html",
            "--info-url",
            INFO,
            path.to_str().unwrap(),
        ],
        "",
    );
    assert!(out.starts_with("<div dir=\"ltr\">Hi</div><div data-leakwatch=\"disclosure\""));
    assert!(out.contains("Privacy notice"), "English by default");
    assert!(!out.contains("<img"));
}

#[test]
fn text_gets_the_notice_and_never_a_pixel() {
    let out = ok(
        &["--format", "text", "--info-url", INFO, "--pixel-url", PIXEL],
        "Hi Sam,\n\nSee attached.\n",
    );
    let notice = out.strip_prefix("Hi Sam,\n\nSee attached.\n\n").unwrap();
    assert!(notice.starts_with("Privacy notice: "));
    assert!(notice.ends_with(&format!("{INFO}\n")));
    assert_eq!(notice.matches('\n').count(), 1);
    assert!(!out.contains(PIXEL) && !out.contains("<img"));
}

#[test]
fn idempotent_on_its_own_output() {
    let html = ["--format", "html", "--info-url", INFO, "--pixel-url", PIXEL];
    let once = ok(&html, "<html><body><p>a</p></body></html>");
    assert_eq!(ok(&html, &once), once);
    let text = ["--format", "text", "--info-url", INFO, "--lang", "nl"];
    let once = ok(&text, "Hoi");
    assert_eq!(ok(&text, &once), once);
}

#[test]
fn earlier_pixels_in_quoted_content_are_removed() {
    let body = concat!(
        "<body><p>Reply</p><blockquote><p>old</p>",
        r#"<img src="https://lw.example.nl/p/oldtok" width="1" height="1">"#,
        r#"<img src="https://lw.example.nl/logo.png"></blockquote></body>"#
    );
    let out = ok(
        &["--format", "html", "--info-url", INFO, "--pixel-url", PIXEL],
        body,
    );
    assert!(!out.contains("oldtok"));
    assert!(out.contains(
        "<blockquote><p>old</p><img src=\"https://lw.example.nl/logo.png\"></blockquote>"
    ));
}

#[test]
fn policy_texts_are_used() {
    let policy = temp_file(
        "policy.json",
        br#"{"internal_domains": ["example.nl"],
             "disclosure": {"organization": "Smit & Zonen", "dpo_contact": "fg@smit.example",
                            "text": {"nl": "Van {organization}, FG {dpo}: {info_url}"}}}"#,
    );
    let out = ok(
        &[
            "--format",
            "html",
            "--lang",
            "nl",
            "--info-url",
            INFO,
            "--policy",
            policy.to_str().unwrap(),
        ],
        "<p>x</p>",
    );
    assert!(
        out.contains("Van Smit &amp; Zonen, FG fg@smit.example: <a href="),
        "{out}"
    );
    let out = ok(
        &[
            "--format",
            "text",
            "--lang",
            "nl",
            "--info-url",
            INFO,
            "--policy",
            policy.to_str().unwrap(),
        ],
        "x",
    );
    assert_eq!(
        out,
        format!("x\n\nVan Smit & Zonen, FG fg@smit.example: {INFO}\n")
    );
}

#[test]
fn bad_urls_exit_2() {
    for url in [
        "lw.example.nl/i/x",
        "/i/x",
        "javascript:alert(1)",
        "ftp://lw.example.nl/i/x",
        "https://lw.example.nl/i/a b",
        "https://lw.example.nl/i/\"x",
        "https://lw.example.nl/i/'x",
        "https://user@lw.example.nl/i/x",
        "",
    ] {
        let err = invalid(&["--format", "html", "--info-url", url], b"<p>x</p>");
        assert!(err.contains("--info-url"), "{err}");
        let err = invalid(
            &["--format", "text", "--info-url", INFO, "--pixel-url", url],
            b"x",
        );
        assert!(err.contains("--pixel-url"), "{err}");
    }
}

#[test]
fn non_utf8_exits_2() {
    let bytes = b"<p>caf\xe9</p>";
    let err = invalid(&["--format", "html", "--info-url", INFO], bytes);
    assert!(err.contains("UTF-8"), "{err}");
    let path = temp_file("latin1.txt", bytes);
    let err = invalid(
        &[
            "--format",
            "text",
            "--info-url",
            INFO,
            path.to_str().unwrap(),
        ],
        b"",
    );
    assert!(err.contains("UTF-8"), "{err}");
}

#[test]
fn other_invalid_input_exits_2_with_one_line() {
    let cases: &[(&[&str], &str)] = &[
        (&["--info-url", INFO], "--format"),
        (&["--format", "xml", "--info-url", INFO], "--format"),
        (&["--format", "html"], "--info-url"),
        (
            &["--format", "html", "--info-url", INFO, "--lang", "de"],
            "--lang",
        ),
        (
            &[
                "--format",
                "html",
                "--info-url",
                INFO,
                "/nonexistent/body.html",
            ],
            "cannot read",
        ),
        (
            &[
                "--format",
                "html",
                "--info-url",
                INFO,
                "--policy",
                "/nonexistent/p.json",
            ],
            "--policy",
        ),
    ];
    for (args, needle) in cases {
        let err = invalid(args, b"<p>x</p>");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let bad_json = temp_file("bad.json", br#"{"disclosure": {"organization": 5}}"#);
    let err = invalid(
        &[
            "--format",
            "html",
            "--info-url",
            INFO,
            "--policy",
            bad_json.to_str().unwrap(),
        ],
        b"<p>x</p>",
    );
    assert!(err.contains("disclosure.organization"), "{err}");
    let bad_text = temp_file(
        "bad-text.json",
        br#"{"disclosure": {"text": {"en": "no link here"}}}"#,
    );
    let err = invalid(
        &[
            "--format",
            "html",
            "--info-url",
            INFO,
            "--policy",
            bad_text.to_str().unwrap(),
        ],
        b"<p>x</p>",
    );
    assert!(
        err.contains("disclosure.text.en") && err.contains("{info_url}"),
        "{err}"
    );
    let err = invalid(
        &["--format", "html", "--info-url", INFO],
        b"<select><xmp><script>x</script></select>",
    );
    assert!(err.contains("ambiguous"), "{err}");
}
