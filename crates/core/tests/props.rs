//! Property tests: no input makes the parser or the check panic, and parsing is stable.

use proptest::prelude::*;

use leakwatch_core::address::{parse_mailbox, registrable_domain};
use leakwatch_core::history::parse_rfc3339;
use leakwatch_core::{Checker, Lang, Message, Policy, Recipient, SentMessage};

fn recipient_text() -> impl Strategy<Value = String> {
    prop_oneof![
        // Anything at all.
        any::<String>(),
        // Address-shaped text with odd characters in every part.
        (
            "[a-zA-Z0-9._+\"-]{0,12}",
            "[a-zA-Z0-9.\\-äöüаеі]{0,16}",
            "[a-zA-Z]{0,4}"
        )
            .prop_map(|(l, d, t)| format!("{l}@{d}.{t}")),
        // Display-name forms with quotes, commas and brackets.
        ("[ a-zA-Z,\"\\\\<>]{0,12}", "[a-z.]{1,8}", "[a-z\\-]{1,10}")
            .prop_map(|(n, l, d)| format!("{n} <{l}@{d}.nl>")),
        "xn--[a-z0-9\\-]{0,12}\\.[a-z]{2,3}".prop_map(|d| format!("a@{d}")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    /// The hand-written RFC 3339 parser agrees with the `time` crate, for valid times and
    /// for anything time-shaped.
    #[test]
    fn rfc3339_matches_the_time_crate(
        seconds in -62_135_596_800i64..253_402_300_799i64,
        offset_minutes in -1439i32..1439,
        fraction in prop::option::of(1u32..999_999_999),
    ) {
        use time::format_description::well_known::Rfc3339;
        let offset = time::UtcOffset::from_whole_seconds(offset_minutes * 60).unwrap();
        let mut at = time::OffsetDateTime::from_unix_timestamp(seconds).unwrap().to_offset(offset);
        if let Some(nanos) = fraction {
            at = at.replace_nanosecond(nanos).unwrap();
        }
        let text = at.format(&Rfc3339).unwrap();
        prop_assert_eq!(parse_rfc3339(&text), Some(seconds), "{}", text);
    }

    #[test]
    fn rfc3339_rejects_what_time_rejects(text in "[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,3})?([Zz]|[+-][0-9]{2}:[0-9]{2})?") {
        use time::format_description::well_known::Rfc3339;
        let reference = time::OffsetDateTime::parse(&text, &Rfc3339).ok().map(|t| t.unix_timestamp());
        // Leap seconds: `time` reads :60 as :59, as this parser does.
        prop_assert_eq!(parse_rfc3339(&text), reference, "{}", text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parsing_never_panics(text in recipient_text()) {
        if let Ok(address) = parse_mailbox(&text) {
            // A parsed address re-parses to the same identity.
            let again = parse_mailbox(&address.canonical()).expect("canonical form parses");
            prop_assert_eq!(again.canonical(), address.canonical());
            prop_assert!(!address.registrable.is_empty());
            prop_assert!(address.domain.ends_with(&address.registrable));
        }
    }

    #[test]
    fn registrable_domain_never_panics(domain in "[a-z0-9.\\-]{0,40}") {
        let (registrable, _suffix) = registrable_domain(&domain);
        prop_assert!(domain.ends_with(&registrable) || registrable == domain);
    }

    #[test]
    fn check_never_panics(
        to in prop::collection::vec(recipient_text(), 0..6),
        cc in prop::collection::vec(recipient_text(), 0..3),
        history in prop::collection::vec(prop::collection::vec(recipient_text(), 0..4), 0..8),
        subject in any::<String>(),
        body in any::<String>(),
        attachment in any::<String>(),
    ) {
        let history: Vec<SentMessage> = history
            .into_iter()
            .map(|to| SentMessage { to: to.into_iter().map(Recipient::Text).collect(), ..SentMessage::default() })
            .collect();
        let checker = Checker::new(Policy::default(), &history, &[]);
        let message = Message {
            from: "anna@boekhoudpartners.nl".into(),
            to: to.into_iter().map(Recipient::Text).collect(),
            cc: cc.into_iter().map(Recipient::Text).collect(),
            subject,
            body,
            attachments: vec![leakwatch_core::Attachment { name: attachment, size: None, content_type: None }],
            ..Message::default()
        };
        for lang in Lang::ALL {
            // Either a verdict or a named error; never a panic.
            if let Ok(verdict) = checker.check(&message, lang) {
                let most = verdict.findings.iter().map(|f| f.severity).max();
                let expected = match most {
                    Some(leakwatch_core::Severity::Block) => leakwatch_core::Outcome::Block,
                    Some(leakwatch_core::Severity::Warn) => leakwatch_core::Outcome::Warn,
                    _ => leakwatch_core::Outcome::Send,
                };
                prop_assert_eq!(verdict.verdict, expected);
            }
        }
    }
}
