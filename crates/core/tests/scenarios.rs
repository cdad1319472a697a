//! The realistic scenario table: how real senders slip, and the normal mail that must pass
//! without a warning. Each scenario in `scenarios/scenarios.json` is checked against a sender
//! profile (`scenarios/profile-*.json`); the expected verdict and the exact set of rules that
//! warn are asserted. The same files drive the Node parity tests of the WebAssembly build.

use serde_json::{json, Map, Value};

use leakwatch_core::check::check_draft;
use leakwatch_core::{Draft, Lang, Severity};

fn load(name: &str) -> Value {
    let path = format!("{}/tests/scenarios/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The sender profiles: an accountant in the Netherlands, a German tax advisory office, the
/// HR department of a Belgian hospital and a US software consultancy.
const PROFILES: &[&str] = &["accountant", "steuerberater", "hr-hospital", "consultancy"];

/// The scenario's draft on top of its profile (history, contacts, policy, from). Profile
/// `none` is the accountant on a fresh install: no history, no address book.
pub fn full_draft(scenario: &Value, profiles: &Map<String, Value>) -> Value {
    let mut draft: Map<String, Value> = match scenario["profile"].as_str() {
        Some("none") => {
            let mut base = profiles["accountant"].as_object().unwrap().clone();
            base.insert("history".into(), json!([]));
            base.insert("contacts".into(), json!([]));
            base
        }
        Some(name) if profiles.contains_key(name) => profiles[name].as_object().unwrap().clone(),
        other => panic!("unknown profile {other:?}"),
    };
    for (key, value) in scenario["draft"].as_object().unwrap() {
        draft.insert(key.clone(), value.clone());
    }
    if let Some(patch) = scenario.get("policy").and_then(Value::as_object) {
        let policy = draft
            .entry("policy")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .unwrap();
        for (key, value) in patch {
            policy.insert(key.clone(), value.clone());
        }
    }
    Value::Object(draft)
}

#[test]
fn scenario_table() {
    let scenarios = load("scenarios.json");
    let profiles: Map<String, Value> = PROFILES
        .iter()
        .map(|name| (name.to_string(), load(&format!("profile-{name}.json"))))
        .collect();
    let scenarios = scenarios.as_array().unwrap();
    let warn = scenarios
        .iter()
        .filter(|s| s["expect"]["verdict"] != "send")
        .count();
    assert!(scenarios.len() >= 40, "at least 40 scenarios");
    assert!(
        warn * 2 >= scenarios.len() - 2 && warn * 2 <= scenarios.len() + 2,
        "about half must warn"
    );

    let mut failures = Vec::new();
    for scenario in scenarios {
        let name = scenario["name"].as_str().unwrap();
        let draft: Draft = serde_json::from_value(full_draft(scenario, &profiles))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        for lang in Lang::ALL {
            let verdict = check_draft(&draft, lang).unwrap_or_else(|e| panic!("{name}: {e}"));
            let got_verdict = serde_json::to_value(verdict.verdict).unwrap();
            let mut got_rules: Vec<&str> = verdict
                .findings
                .iter()
                .filter(|f| f.severity >= Severity::Warn)
                .map(|f| f.rule.as_str())
                .collect();
            got_rules.sort_unstable();
            got_rules.dedup();
            let expect = &scenario["expect"];
            let want_rules: Vec<&str> = expect["rules"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap())
                .collect();
            let mut wrong = got_verdict != expect["verdict"] || got_rules != want_rules;
            if let Some(track) = expect.get("track") {
                wrong |= json!(verdict.track) != *track;
            }
            if wrong {
                failures.push(format!(
                    "{name} [{}]: expected {} {:?} track {:?}, got {} {:?} track {}\n  {:#?}",
                    lang.code(),
                    expect["verdict"],
                    want_rules,
                    expect.get("track"),
                    got_verdict,
                    got_rules,
                    verdict.track,
                    verdict.findings
                ));
            }
            for finding in &verdict.findings {
                assert!(!finding.message.is_empty(), "{name}: empty message");
                assert!(
                    !finding.recipients.is_empty() || finding.rule == "sensitive-content",
                    "{name}: {} names no recipient",
                    finding.rule
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} scenario(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
