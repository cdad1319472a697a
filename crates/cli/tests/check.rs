//! `leakwatch check` as outside tools drive it (contract check-v1).

use std::process::Output;

use assert_cmd::Command;

use serde_json::{json, Value};

fn leakwatch(args: &[&str], stdin: &[u8]) -> Output {
    // assert_cmd tolerates a process that exits before reading its input.
    Command::cargo_bin("leakwatch")
        .unwrap()
        .args(args)
        .write_stdin(stdin)
        .output()
        .unwrap()
}

fn check(draft: &Value, args: &[&str]) -> Value {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    let out = leakwatch(&all, draft.to_string().as_bytes());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON verdict on stdout")
}

fn contract_example() -> Value {
    json!({
        "from": "anna@boekhoudpartners.nl",
        "to": ["jan.jansen@klantbedrijf.nI"],
        "subject": "Jaarrekening",
        "attachments": [{"name": "Jaarrekening_2025.pdf", "size": 120000, "content_type": "application/pdf"}],
        "history": [
            {"to": ["Jan Jansen <jan.jansen@klantbedrijf.nl>"], "subject": "Btw", "sent_at": "2026-11-02T10:00:00Z"},
            {"to": ["\"Jansen, Jan\" <jan.jansen@klantbedrijf.nl>"], "cc": [{"address": "kees@boekhoudpartners.nl", "name": "Kees"}]}
        ],
        "contacts": [{"address": "jan.jansen@klantbedrijf.nl", "name": "Jan Jansen"}],
        "policy": {"internal_domains": ["boekhoudpartners.nl"], "trusted_domains": []},
        "some_future_field": {"ignored": true}
    })
}

#[test]
fn contract_example_gives_the_lookalike_warning() {
    let verdict = check(&contract_example(), &[]);
    assert_eq!(verdict["verdict"], "warn");
    let finding = &verdict["findings"][0];
    assert_eq!(finding["rule"], "lookalike-domain");
    assert_eq!(finding["severity"], "warn");
    assert_eq!(finding["recipients"], json!(["jan.jansen@klantbedrijf.nI"]));
    assert_eq!(finding["suggestion"], "jan.jansen@klantbedrijf.nl");
    assert!(finding["message"]
        .as_str()
        .unwrap()
        .contains("klantbedrijf.nl"));
    assert_eq!(verdict["track"], true);
    assert!(verdict["track_reason"].as_str().unwrap().len() > 5);
    assert_eq!(verdict["sensitive"], json!([]));
}

#[test]
fn dutch_messages() {
    let verdict = check(&contract_example(), &["--lang", "nl"]);
    let message = verdict["findings"][0]["message"].as_str().unwrap();
    assert!(message.contains("lijkt op"), "{message}");
    assert!(verdict["track_reason"]
        .as_str()
        .unwrap()
        .contains("Gevolgd"));
}

#[test]
fn reads_a_file_and_normal_mail_sends() {
    let dir = std::env::temp_dir().join(format!("leakwatch-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("draft.json");
    let mut draft = contract_example();
    draft["to"] = json!(["jan.jansen@klantbedrijf.nl"]);
    std::fs::write(&path, draft.to_string()).unwrap();
    let out = leakwatch(&["check", path.to_str().unwrap()], b"");
    assert!(out.status.success());
    let verdict: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verdict["verdict"], "send");
    assert_eq!(verdict["findings"], json!([]));
    assert_eq!(verdict["track"], false);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn minimal_draft() {
    let verdict = check(&json!({"from": "a@b.nl", "to": ["c@d.nl"]}), &[]);
    assert_eq!(verdict["verdict"], "send");
}

/// Invalid input: exit 2, one line on stderr naming field and reason, nothing on stdout.
#[test]
fn invalid_input_is_exit_2_with_one_line() {
    let cases: &[(&[u8], &str)] = &[
        (b"{\"to\": [\"a@b.nl\"]}", "from"),
        (b"{\"from\": \"a@b.nl\", \"to\": [\"jan\"]}", "to[0]"),
        (
            b"{\"from\": \"a@b.nl\", \"cc\": [\"ok@b.nl\", \"Jan <jan@b.nl\"]}",
            "cc[1]",
        ),
        (b"{\"from\": \"a@b.nl\", \"to\": [42]}", "to[0]"),
        (b"{\"from\": \"not an address\"}", "from"),
        (
            b"{\"from\": \"a@b.nl\", \"attachments\": [{\"size\": 1}]}",
            "attachments[0]",
        ),
        (
            b"{\"from\": \"a@b.nl\", \"policy\": {\"thresholds\": {\"visible_recipients\": -1}}}",
            "policy.thresholds.visible_recipients",
        ),
        (
            b"{\"from\": \"a@b.nl\", \"policy\": {\"tracking\": {\"scope\": \"sometimes\"}}}",
            "policy.tracking.scope",
        ),
        (
            b"{\"from\": \"a@b.nl\", \"history\": [{\"sent_at\": 5}]}",
            "history[0].sent_at",
        ),
        (b"not json", "JSON"),
        (b"{\"from\": \"a@b.nl\"} trailing", "trailing"),
        (b"", "JSON"),
        (b"{\"from\": \"a@b.nl\", \"subject\": \"\xff\"}", "UTF-8"),
    ];
    for (input, names) in cases {
        let out = leakwatch(&["check"], input);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}: {stderr}",
            String::from_utf8_lossy(input)
        );
        assert!(out.stdout.is_empty(), "nothing on stdout");
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
        assert!(stderr.contains(names), "{stderr} should name {names}");
        assert!(!stderr.contains("panicked"));
    }
}

#[test]
fn bad_arguments_are_exit_2_with_one_line() {
    for args in [
        &["check", "--lang", "de"][..],
        &["check", "/nonexistent/draft.json"],
        &["frobnicate"],
    ] {
        let out = leakwatch(args, b"{}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(out.stdout.is_empty());
    }
}
