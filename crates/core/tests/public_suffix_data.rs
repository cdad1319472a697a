//! The embedded Public Suffix List is a front-coded form of `data/public_suffix_list.txt`
//! (the readable copy, which is what gets updated). This test regenerates the embedded form
//! and fails when the committed one differs; regenerate with
//! `UPDATE_PUBLIC_SUFFIX=1 cargo test -p leakwatch-core --test public_suffix_data`.

use leakwatch_core::address::{decode_suffix_rules, PUBLIC_SUFFIX_DATA};

fn rules() -> Vec<String> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/public_suffix_list.txt"
    ))
    .unwrap();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//"))
        .map(str::to_string)
        .collect()
}

fn encode(rules: &[String]) -> String {
    let mut reversed: Vec<String> = rules
        .iter()
        .map(|r| r.split('.').rev().collect::<Vec<_>>().join("."))
        .collect();
    reversed.sort();
    reversed.dedup();
    let mut out = String::new();
    let mut previous = "";
    for rule in &reversed {
        let shared = previous
            .bytes()
            .zip(rule.bytes())
            .take_while(|(a, b)| a == b)
            .count()
            .min(40);
        out.push(char::from(b'0' + shared as u8));
        out.push_str(&rule[shared..]);
        out.push('\n');
        previous = rule;
    }
    out
}

#[test]
fn embedded_list_is_the_readable_list_front_coded() {
    let fresh = encode(&rules());
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/public_suffix_list.fc");
    if std::env::var_os("UPDATE_PUBLIC_SUFFIX").is_some() {
        std::fs::write(path, &fresh).unwrap();
    }
    assert!(
        PUBLIC_SUFFIX_DATA == fresh,
        "data/public_suffix_list.fc is stale; regenerate it (see the module docs)"
    );
}

#[test]
fn decoding_gives_back_every_rule() {
    let mut expected = rules();
    expected.sort();
    expected.dedup();
    let mut decoded = decode_suffix_rules(PUBLIC_SUFFIX_DATA);
    decoded.sort();
    assert_eq!(decoded.len(), expected.len());
    assert_eq!(decoded, expected);
}
