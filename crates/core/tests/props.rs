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

/// Identity numbers are only found next to their keyword: random digit runs of the lengths and
/// groupings the detectors accept (10, 11, 15 digits) never are, whatever their check digits.
mod identity_numbers {
    use super::*;
    use leakwatch_core::sensitive::{scan, DataCategory};

    fn identity_found(text: &str) -> bool {
        scan(&[text])
            .iter()
            .any(|s| s.kind.category() == DataCategory::Identity)
    }

    /// The mod-97 key of a 13-digit NIR body.
    fn nir_key(body: u64) -> u64 {
        97 - body % 97
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1024, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn digit_runs_without_keywords_stay_quiet(
            digits in "[1-9][0-9]{9,14}",
            spaced in any::<bool>(),
            words in "(Rechnung|Auftrag|Dossier|order|facture|referentie|Bestellung vom)",
        ) {
            let number = if spaced {
                digits.as_bytes().chunks(3).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join(" ")
            } else {
                digits.clone()
            };
            let text = format!("{words} {number} ist bezahlt.");
            prop_assert!(!identity_found(&text), "{}", text);
        }

        /// Every well-formed NIR with its key is found next to its keyword, and the same with
        /// any other key is not.
        #[test]
        fn nir_with_keyword_is_found_only_with_the_right_key(
            sex in prop::sample::select(vec![1u64, 2]),
            year in 0u64..100,
            month in 1u64..=12,
            department in 1u64..=95,
            commune in 1u64..=999,
            order in 1u64..=999,
            wrong in 1u64..97,
        ) {
            let body = ((((sex * 100 + year) * 100 + month) * 100 + department) * 1000 + commune) * 1000 + order;
            let key = nir_key(body);
            let text = format!("Numéro de sécurité sociale : {body:013}{key:02}");
            prop_assert!(identity_found(&text), "{}", text);
            let bad = (key + wrong - 1) % 97 + 1;
            prop_assume!(bad != key);
            let text = format!("Numéro de sécurité sociale : {body:013}{bad:02}");
            prop_assert!(!identity_found(&text), "{}", text);
        }

        /// A Belgian national number of any date and sequence is found with its check number,
        /// in both centuries.
        #[test]
        fn belgian_national_number_of_either_century(
            year in 0u64..100,
            month in 1u64..=12,
            day in 1u64..=28,
            sequence in 1u64..=998,
            born_after_2000 in any::<bool>(),
        ) {
            let base = (year * 100 + month) * 100_000 + day * 1000 + sequence;
            let check = 97 - (if born_after_2000 { 2_000_000_000 + base } else { base }) % 97;
            let text = format!("Rijksregisternummer: {base:09}{check:02}");
            prop_assert!(identity_found(&text), "{}", text);
        }
    }
}
