//! wasm-bindgen-test of the shell itself: values cross the JS boundary correctly. The rules
//! are tested natively in the core; here only the conversions and errors.
//! Run in Node: `cargo test -p leakwatch-wasm --target wasm32-unknown-unknown`; in headless
//! Chromium with `WASM_BINDGEN_USE_BROWSER=1` and chromedriver (see `cargo xtask test`).
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

use leakwatch_wasm::{check_draft, version, Checker};

fn js(json: &str) -> JsValue {
    js_sys_json_parse(json)
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = JSON, js_name = parse)]
    fn js_sys_json_parse(text: &str) -> JsValue;
    #[wasm_bindgen(js_namespace = JSON, js_name = stringify)]
    fn json_stringify(value: &JsValue) -> String;
    #[wasm_bindgen(js_name = String)]
    fn js_string(value: &JsValue) -> String;
}

/// The text a JS caller sees for a thrown JsError: `Error: <message>`.
fn thrown(err: wasm_bindgen::JsError) -> String {
    js_string(&JsValue::from(err))
}

fn verdict_json(value: &JsValue) -> serde_json::Value {
    serde_json::from_str(&json_stringify(value)).unwrap()
}

const HISTORY: &str = r#"{
  "policy": {"internal_domains": ["boekhoudpartners.nl"]},
  "history": [{"to": ["Jan Jansen <jan.jansen@klantbedrijf.nl>"]}],
  "contacts": [{"address": "jan.jansen@klantbedrijf.nl", "name": "Jan Jansen"}]
}"#;

#[wasm_bindgen_test]
fn checker_returns_a_plain_verdict_object() {
    let checker = Checker::new(js(HISTORY)).unwrap();
    let message =
        js(r#"{"from": "anna@boekhoudpartners.nl", "to": ["jan.jansen@klantbedrijf.nI"]}"#);
    let verdict = verdict_json(&checker.check(message, Some("nl".into())).unwrap());
    assert_eq!(verdict["verdict"], "warn");
    assert_eq!(verdict["findings"][0]["rule"], "lookalike-domain");
    assert_eq!(
        verdict["findings"][0]["suggestion"],
        "jan.jansen@klantbedrijf.nl"
    );
    assert!(verdict["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("lijkt op"));
    assert_eq!(verdict["track"], true);
    assert_eq!(verdict["sensitive"], serde_json::json!([]));
}

#[wasm_bindgen_test]
fn options_may_be_undefined_and_language_defaults_to_english() {
    let checker = Checker::new(JsValue::UNDEFINED).unwrap();
    let message = js(r#"{"from": "a@b.nl", "to": [{"address": "c@d.nl", "name": "C"}]}"#);
    let verdict = verdict_json(&checker.check(message, None).unwrap());
    assert_eq!(verdict["verdict"], "send");
    assert!(verdict["track_reason"]
        .as_str()
        .unwrap()
        .starts_with("Not tracked"));
}

#[wasm_bindgen_test]
fn add_sent_grows_the_history() {
    let mut checker = Checker::new(JsValue::NULL).unwrap();
    assert_eq!(checker.history_size(), 0);
    checker
        .add_sent(js(
            r#"{"to": ["a@b.nl"], "sent_at": "2026-11-30T10:00:00Z"}"#,
        ))
        .unwrap();
    assert_eq!(checker.history_size(), 1);
    assert!(checker.add_sent(js(r#"{"to": 5}"#)).is_err());
}

#[wasm_bindgen_test]
fn errors_name_the_field() {
    let checker = Checker::new(JsValue::UNDEFINED).unwrap();
    let err = checker
        .check(
            js(r#"{"from": "a@b.nl", "cc": ["ok@b.nl", "broken"]}"#),
            None,
        )
        .err()
        .expect("invalid recipient");
    assert_eq!(thrown(err), "Error: cc[1]: 'broken' has no '@'");
    assert!(Checker::new(js(r#"{"history": 1}"#)).is_err());
    assert!(check_draft(js(r#"{"to": []}"#), None).is_err());
    assert!(checker
        .check(js(r#"{"from": "a@b.nl"}"#), Some("de".into()))
        .is_err());
}

#[wasm_bindgen_test]
fn check_draft_matches_the_checker() {
    let draft = js(r#"{
      "from": "anna@boekhoudpartners.nl",
      "to": ["jan.jansen@klantbedrijf.nI"],
      "policy": {"internal_domains": ["boekhoudpartners.nl"]},
      "history": [{"to": ["Jan Jansen <jan.jansen@klantbedrijf.nl>"]}],
      "contacts": [{"address": "jan.jansen@klantbedrijf.nl", "name": "Jan Jansen"}]
    }"#);
    let one_shot = verdict_json(&check_draft(draft, Some("en".into())).unwrap());
    let checker = Checker::new(js(HISTORY)).unwrap();
    let message =
        js(r#"{"from": "anna@boekhoudpartners.nl", "to": ["jan.jansen@klantbedrijf.nI"]}"#);
    assert_eq!(
        verdict_json(&checker.check(message, Some("en".into())).unwrap()),
        one_shot
    );
    assert!(!version().is_empty());
}

#[wasm_bindgen_test]
fn disclosure_carries_the_pixel_only_with_the_notice() {
    let checker = Checker::new(js(
        r#"{"policy": {"disclosure": {"organization": "Acme"}}}"#,
    ))
    .unwrap();
    let info = "https://lw.example/i/1";
    let rendered = verdict_json(
        &checker
            .disclosure(js(&format!(r#"{{"info_url": "{info}", "lang": "nl"}}"#)))
            .unwrap(),
    );
    assert_eq!(rendered["tracked"], false);
    assert!(rendered["text"].as_str().unwrap().contains("Acme"));
    assert!(!rendered["html"].as_str().unwrap().contains("<img"));
    let tracked = verdict_json(
        &checker
            .disclosure(js(&format!(
                r#"{{"info_url": "{info}", "pixel_url": "https://lw.example/p/x"}}"#
            )))
            .unwrap(),
    );
    let html = tracked["html"].as_str().unwrap();
    assert!(html.contains(r#"src="https://lw.example/p/x""#) && html.contains(info));
    let body = checker
        .disclose_text("Hallo\n", js(&format!(r#"{{"info_url": "{info}"}}"#)))
        .unwrap();
    assert!(body.starts_with("Hallo\n") && body.contains(info));
    let err = checker
        .disclosure(js(r#"{"info_url": "ftp://x"}"#))
        .err()
        .unwrap();
    assert!(thrown(err).contains("info_url"));
}

/// The shell reads JS values with its own small deserializer (`from_js`, for size): numbers,
/// enums, null and nested objects arrive as serde would read the same JSON, and wrong types
/// are refused with serde's words, a float named rather than printed.
#[wasm_bindgen_test]
fn values_are_read_as_serde_reads_json() {
    let options = r#"{"policy": {
        "internal_domains": ["b.nl"], "blocked_domains": ["gmail.com"],
        "thresholds": {"visible_recipients": 3, "visible_group_share": 0.5},
        "severities": {"new-recipient": "off", "blocked-domain": "warn"},
        "tracking": {"scope": "all_external"}
    }}"#;
    let checker = Checker::new(js(options)).map_err(thrown).unwrap();
    let to_blocked = js(r#"{"from": "a@b.nl", "to": ["x@gmail.com"]}"#);
    let verdict = verdict_json(&checker.check(to_blocked, None).unwrap());
    assert_eq!(verdict["verdict"], "warn", "the severity enum was read");
    let to_other = js(r#"{"from": "a@b.nl", "to": ["y@c.nl"]}"#);
    let verdict = verdict_json(&checker.check(to_other, None).unwrap());
    assert_eq!(verdict["track"], true, "the tracking scope was read");

    let refused = |options: &str| thrown(Checker::new(js(options)).err().expect("refused"));
    assert_eq!(
        refused(r#"{"policy": {"thresholds": {"visible_recipients": 2.5}}}"#),
        "Error: invalid checker options: invalid type: a number with a fraction or out of range, expected usize"
    );
    assert_eq!(
        refused(r#"{"policy": {"thresholds": {"visible_recipients": -1}}}"#),
        "Error: invalid checker options: invalid value: integer `-1`, expected usize"
    );
    assert!(
        refused(r#"{"policy": {"severities": {"new-recipient": "loud"}}}"#)
            .contains("unknown variant `loud`")
    );
    assert!(refused(r#"{"policy": {"internal_domains": "b.nl"}}"#)
        .contains("invalid type: string \"b.nl\", expected a sequence"));
}
