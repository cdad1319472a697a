//! The tracking modes (`policy.tracking.scope`) and exclusions, through the public API:
//! `tracking::decide` as the server calls it, and the whole send-time check as the add-ins
//! run it. What each mode promises (README, docs/privacy.md):
//! - `off`: nothing is tracked;
//! - `at_risk` (default): external mail sent despite a warning, or carrying identity (BSN) or
//!   special-category (health) data; not financial data or attachments alone;
//! - `external_personal_data`: also any personal data (IBAN, card) or attachments;
//! - `all_external`: every message with a recipient outside the tenant;
//! - never internal mail, never blocked mail, never mail with a recipient at an excluded
//!   domain (`klant.de` with subdomains, or a top-level domain written `.de`).

use leakwatch_core::address::{parse_mailbox, Address};
use leakwatch_core::check::check_draft;
use leakwatch_core::policy::{TrackingPolicy, TrackingScope};
use leakwatch_core::sensitive::{SensitiveCount, SensitiveKind};
use leakwatch_core::tracking::{decide, refusal, TrackingInput};
use leakwatch_core::{Draft, Lang, Outcome, Policy};
use serde_json::json;

use TrackingScope::{AllExternal, AtRisk, ExternalPersonalData, Off};

const SCOPES: [TrackingScope; 4] = [Off, AtRisk, ExternalPersonalData, AllExternal];

#[derive(Clone, Copy)]
struct Case {
    name: &'static str,
    to: &'static [&'static str],
    warned: bool,
    blocked: bool,
    data: &'static [SensitiveKind],
    attachments: bool,
    /// Tracked under off, at_risk, external_personal_data, all_external.
    expect: [bool; 4],
}

const EXCLUDE: [&str; 2] = [".de", "partner.be"];

const CASES: &[Case] = &[
    Case {
        name: "plain external mail",
        to: &["jan@klant.nl"],
        warned: false,
        blocked: false,
        data: &[],
        attachments: false,
        expect: [false, false, false, true],
    },
    Case {
        name: "an attachment",
        to: &["jan@klant.nl"],
        warned: false,
        blocked: false,
        data: &[],
        attachments: true,
        expect: [false, false, true, true],
    },
    Case {
        name: "an IBAN (financial)",
        to: &["jan@klant.nl"],
        warned: false,
        blocked: false,
        data: &[SensitiveKind::Iban],
        attachments: false,
        expect: [false, false, true, true],
    },
    Case {
        name: "a card number (financial)",
        to: &["jan@klant.nl"],
        warned: false,
        blocked: false,
        data: &[SensitiveKind::Card],
        attachments: false,
        expect: [false, false, true, true],
    },
    Case {
        name: "a BSN (identity)",
        to: &["jan@klant.nl"],
        warned: false,
        blocked: false,
        data: &[SensitiveKind::Bsn],
        attachments: false,
        expect: [false, true, true, true],
    },
    Case {
        name: "health data (special category)",
        to: &["jan@klant.nl"],
        warned: false,
        blocked: false,
        data: &[SensitiveKind::Health],
        attachments: false,
        expect: [false, true, true, true],
    },
    Case {
        name: "sent despite a warning",
        to: &["jan@klant.nl"],
        warned: true,
        blocked: false,
        data: &[],
        attachments: false,
        expect: [false, true, true, true],
    },
    Case {
        name: "blocked",
        to: &["jan@klant.nl"],
        warned: true,
        blocked: true,
        data: &[SensitiveKind::Bsn],
        attachments: true,
        expect: [false; 4],
    },
    Case {
        name: "nobody outside",
        to: &[],
        warned: true,
        blocked: false,
        data: &[SensitiveKind::Bsn],
        attachments: true,
        expect: [false; 4],
    },
    Case {
        name: "an excluded top-level domain",
        to: &["hans@firma.de"],
        warned: true,
        blocked: false,
        data: &[SensitiveKind::Bsn],
        attachments: true,
        expect: [false; 4],
    },
    Case {
        name: "a subdomain of an excluded domain",
        to: &["an@mail.partner.be"],
        warned: true,
        blocked: false,
        data: &[],
        attachments: false,
        expect: [false; 4],
    },
    Case {
        name: "one excluded recipient among others",
        to: &["jan@klant.nl", "hans@firma.de"],
        warned: true,
        blocked: false,
        data: &[],
        attachments: false,
        expect: [false; 4],
    },
    Case {
        name: ".dev is not .de",
        to: &["jan@firma.dev"],
        warned: false,
        blocked: false,
        data: &[SensitiveKind::Bsn],
        attachments: false,
        expect: [false, true, true, true],
    },
    Case {
        name: "notpartner.be is not partner.be",
        to: &["jan@notpartner.be"],
        warned: true,
        blocked: false,
        data: &[],
        attachments: false,
        expect: [false, true, true, true],
    },
    Case {
        name: "de.nl is not .de",
        to: &["jan@de.nl"],
        warned: false,
        blocked: false,
        data: &[],
        attachments: false,
        expect: [false, false, false, true],
    },
];

fn policy(scope: TrackingScope) -> TrackingPolicy {
    TrackingPolicy {
        scope,
        exclude_domains: EXCLUDE.iter().map(|d| d.to_string()).collect(),
    }
}

#[test]
fn each_mode_decides_as_documented() {
    let mut failures = Vec::new();
    for case in CASES {
        let addresses: Vec<Address> = case.to.iter().map(|a| parse_mailbox(a).unwrap()).collect();
        let outside: Vec<&Address> = addresses.iter().collect();
        let sensitive: Vec<SensitiveCount> = case
            .data
            .iter()
            .map(|&kind| SensitiveCount { kind, count: 1 })
            .collect();
        let input = TrackingInput {
            outside: &outside,
            warned: case.warned,
            blocked: case.blocked,
            sensitive: &sensitive,
            has_attachments: case.attachments,
        };
        for (scope, expected) in SCOPES.iter().zip(case.expect) {
            for lang in Lang::ALL {
                let (track, reason) = decide(&policy(*scope), lang, &input);
                if track != expected {
                    failures.push(format!(
                        "{} under {scope:?}: tracked {track}, reason {reason}",
                        case.name
                    ));
                }
                assert!(!reason.is_empty());
                // `refusal` is what a client's `track: true` cannot get past.
                let refused = refusal(&policy(*scope), lang, &input).is_some();
                let never = case.expect == [false; 4];
                if refused != (never || *scope == Off) {
                    failures.push(format!("{} under {scope:?}: refusal {refused}", case.name));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn reasons_name_the_rule_that_decided() {
    let jan = parse_mailbox("jan@klant.nl").unwrap();
    let hans = parse_mailbox("hans@firma.de").unwrap();
    let input = |outside: &[&Address], warned, data: &[SensitiveCount]| {
        decide(
            &policy(AtRisk),
            Lang::En,
            &TrackingInput {
                outside,
                warned,
                blocked: false,
                sensitive: data,
                has_attachments: false,
            },
        )
        .1
    };
    assert!(input(&[&jan], true, &[]).contains("despite a warning"));
    let bsn = [SensitiveCount {
        kind: SensitiveKind::Bsn,
        count: 1,
    }];
    assert!(input(&[&jan], false, &bsn).contains("identity or special-category"));
    assert!(input(&[&jan, &hans], true, &bsn).contains("firma.de"));
    assert!(input(&[&jan], false, &[]).contains("no risk"));
    let (_, off) = decide(
        &policy(Off),
        Lang::Nl,
        &TrackingInput {
            outside: &[&jan],
            warned: true,
            blocked: false,
            sensitive: &bsn,
            has_attachments: true,
        },
    );
    assert!(off.contains("uit"), "{off}");
}

/// The default policy is `at_risk` with no exclusions.
#[test]
fn the_default_is_at_risk() {
    assert_eq!(
        Policy::default().tracking,
        TrackingPolicy {
            scope: AtRisk,
            exclude_domains: vec![]
        }
    );
    let parsed: Policy =
        serde_json::from_value(json!({"tracking": {"scope": "all_external"}})).unwrap();
    assert_eq!(parsed.tracking.scope, AllExternal);
    assert!(parsed.tracking.exclude_domains.is_empty());
}

/// A sender with some history, so that known contacts do not warn.
fn draft(to: &[&str], subject: &str, body: &str, attachments: &[&str]) -> Draft {
    let history: Vec<_> = (0..6)
        .map(|i| json!({"to": ["Jan Jansen <jan@klant.nl>"], "subject": format!("Overleg {i}"), "sent_at": format!("2026-01-0{}T10:00:00Z", i + 1)}))
        .collect();
    serde_json::from_value(json!({
        "from": "anna@acme.nl",
        "to": to,
        "subject": subject,
        "body": body,
        "attachments": attachments.iter().map(|a| json!({"name": a})).collect::<Vec<_>>(),
        "history": history,
        "contacts": [{"address": "jan@klant.nl", "name": "Jan Jansen"}, {"address": "hans@firma.de", "name": "Hans"}],
        "policy": {"internal_domains": ["acme.nl"], "trusted_domains": ["partner.nl"],
                   "tracking": {"scope": "at_risk", "exclude_domains": [".de"]}},
    }))
    .unwrap()
}

/// The whole check, as the add-ins run it: the verdict's `track` follows the mode.
#[test]
fn the_send_time_check_follows_the_mode() {
    let cases: [(&str, Draft, [bool; 4]); 6] = [
        (
            "normal mail to an established contact",
            draft(&["jan@klant.nl"], "Afspraak", "Tot dinsdag.", &[]),
            [false, false, false, true],
        ),
        (
            "an attachment to an established contact",
            draft(
                &["jan@klant.nl"],
                "Stukken",
                "Zie bijlage.",
                &["notulen.pdf"],
            ),
            [false, false, true, true],
        ),
        (
            "a lookalike domain, sent anyway",
            draft(
                &["jan@klantt.nl"],
                "Stukken",
                "Zie bijlage.",
                &["jaarrekening.pdf"],
            ),
            [false, true, true, true],
        ),
        (
            "internal mail with a BSN",
            draft(&["kees@acme.nl"], "Dossier", "BSN 111222333", &[]),
            [false; 4],
        ),
        (
            "an excluded country's recipient",
            draft(&["hans@firma.de"], "Stukken", "Zie bijlage.", &["x.pdf"]),
            [false; 4],
        ),
        (
            "a trusted partner is still external",
            draft(&["piet@partner.nl"], "Stukken", "Zie bijlage.", &["x.pdf"]),
            [false, false, true, true],
        ),
    ];
    let names = ["off", "at_risk", "external_personal_data", "all_external"];
    for (what, base, expected) in cases {
        for (scope, expect) in names.iter().zip(expected) {
            let mut d = base.clone();
            d.policy.tracking.scope = serde_json::from_value(json!(scope)).unwrap();
            let verdict = check_draft(&d, Lang::En).unwrap();
            assert_eq!(
                verdict.track, expect,
                "{what} under {scope}: verdict {:?}, findings {:?}, reason {}",
                verdict.verdict, verdict.findings, verdict.track_reason
            );
        }
    }
    // The lookalike case is tracked because it warned, not by chance.
    let warned = check_draft(
        &draft(
            &["jan@klantt.nl"],
            "Stukken",
            "Zie bijlage.",
            &["jaarrekening.pdf"],
        ),
        Lang::En,
    )
    .unwrap();
    assert_eq!(warned.verdict, Outcome::Warn);
    assert!(
        warned.track_reason.contains("despite a warning"),
        "{}",
        warned.track_reason
    );
}
