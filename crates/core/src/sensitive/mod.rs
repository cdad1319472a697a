//! Sensitive personal data in an outgoing mail: national identity numbers (the Dutch BSN, the
//! Belgian national register number, the German tax id, the French NIR, the NHS number), IBAN,
//! payment card numbers and health information (a GDPR Art. 9 special category).
//!
//! [`scan`] runs at send time over the subject, the plain-text body and the attachment names.
//! Every false alarm teaches the sender to click "send anyway", so each detector validates
//! what it finds (11-check, mod-97 and country format, Luhn with issuer ranges, each identity
//! number's own check digits) and the weak ones (every identity number, Maestro) also need a
//! keyword nearby. Numbers that read as something else (phone
//! numbers, amounts, dates, numbers labelled "KvK", "factuur", "order"...) are skipped.
//!
//! No `regex`: the scanners are hand-written over `char`s, which keeps the wasm module small
//! and makes rules like "not one group of a longer spaced number" explicit.

mod be_rrn;
mod bsn;
mod card;
mod de_steuer_id;
mod fr_nir;
mod health;
mod iban;
mod text;
mod uk_nhs;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::i18n::Lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[serde(rename_all = "kebab-case")]
pub enum SensitiveKind {
    Bsn,
    Iban,
    Card,
    Health,
    /// Belgian national register number (rijksregisternummer, INSZ/NISS, BIS number).
    #[serde(rename = "be-rrn")]
    BeRrn,
    /// German tax identification number (Steuer-ID).
    #[serde(rename = "de-steuer-id")]
    DeSteuerId,
    /// French social security number (NIR).
    #[serde(rename = "fr-nir")]
    FrNir,
    /// UK NHS number.
    #[serde(rename = "uk-nhs")]
    UkNhs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct SensitiveCount {
    pub kind: SensitiveKind,
    pub count: usize,
}

/// GDPR-relevant category of a kind: the national identity numbers -> Identity, Iban/Card ->
/// Financial, Health -> SpecialCategory (Art. 9). Policies and messages reason about categories, because the legal
/// consequence (a special category needs an Art. 9 ground) follows the category, not the kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum DataCategory {
    Identity,
    Financial,
    SpecialCategory,
}

impl SensitiveKind {
    pub fn category(self) -> DataCategory {
        match self {
            SensitiveKind::Bsn
            | SensitiveKind::BeRrn
            | SensitiveKind::DeSteuerId
            | SensitiveKind::FrNir
            | SensitiveKind::UkNhs => DataCategory::Identity,
            SensitiveKind::Iban | SensitiveKind::Card => DataCategory::Financial,
            SensitiveKind::Health => DataCategory::SpecialCategory,
        }
    }

    /// What the sender is told was found, in their language.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            SensitiveKind::Bsn => {
                lang.pick("BSN (citizen service number)", "BSN (burgerservicenummer)")
            }
            SensitiveKind::Iban => lang.pick("IBAN (bank account)", "IBAN (bankrekening)"),
            SensitiveKind::Card => lang.pick("payment card number", "betaalkaartnummer"),
            SensitiveKind::Health => lang.pick("health information", "gezondheidsgegevens"),
            SensitiveKind::BeRrn => lang.pick(
                "Belgian national register number",
                "Belgisch rijksregisternummer",
            ),
            SensitiveKind::DeSteuerId => lang.pick(
                "German tax ID (Steuer-ID)",
                "Duits fiscaal identificatienummer (Steuer-ID)",
            ),
            SensitiveKind::FrNir => lang.pick(
                "French social security number (NIR)",
                "Frans socialezekerheidsnummer (NIR)",
            ),
            SensitiveKind::UkNhs => lang.pick("NHS number", "NHS-nummer (Brits patiëntnummer)"),
        }
    }
}

/// Scans each text separately (keyword proximity never crosses texts) and returns counts per
/// kind, sorted by kind, only kinds with count > 0. Distinct values are counted once per kind
/// (the same IBAN twice counts 1), across all texts: an IBAN in the subject and the body is
/// one IBAN. For health the values are concepts, so "kanker" and "cancer" count 1.
pub fn scan(texts: &[&str]) -> Vec<SensitiveCount> {
    let mut found: BTreeMap<SensitiveKind, BTreeSet<String>> = BTreeMap::new();
    for text in texts {
        for (kind, value) in scan_text(text) {
            found.entry(kind).or_default().insert(value);
        }
    }
    found
        .into_iter()
        .map(|(kind, values)| SensitiveCount {
            kind,
            count: values.len(),
        })
        .collect()
}

/// Replaces the characters of a found IBAN before the number detectors run, so its BBAN digits
/// ("NL91 ABNA 0417 1643 00", "BE68 5390 0754 7034") are not read as a BSN or card. A letter,
/// so anything touching the masked span is glued to a word and ignored too.
const MASK: char = 'X';

/// A detector over the shared number candidates.
type NumberFinder = fn(&[char], &text::Words, &[text::NumberCandidate]) -> Vec<String>;

fn scan_text(text: &str) -> Vec<(SensitiveKind, String)> {
    let mut chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    if chars.iter().any(char::is_ascii_digit) {
        for (range, value) in iban::find(&chars) {
            chars[range].fill(MASK);
            out.push((SensitiveKind::Iban, value));
        }
    }
    let words = text::Words::new(&chars);
    let numbers = text::number_candidates(&chars, &words);
    if !numbers.is_empty() {
        out.extend(
            bsn::find(&chars, &words, &numbers)
                .into_iter()
                .map(|v| (SensitiveKind::Bsn, v)),
        );
        out.extend(
            card::find(&chars, &words, &numbers)
                .into_iter()
                .map(|v| (SensitiveKind::Card, v)),
        );
        let identity_numbers: [(SensitiveKind, NumberFinder); 3] = [
            (SensitiveKind::BeRrn, be_rrn::find),
            (SensitiveKind::DeSteuerId, de_steuer_id::find),
            (SensitiveKind::UkNhs, uk_nhs::find),
        ];
        for (kind, find) in identity_numbers {
            out.extend(
                find(&chars, &words, &numbers)
                    .into_iter()
                    .map(|v| (kind, v)),
            );
        }
    }
    if chars.iter().any(char::is_ascii_digit) {
        out.extend(
            fr_nir::find(&chars, &words)
                .into_iter()
                .map(|v| (SensitiveKind::FrNir, v)),
        );
    }
    out.extend(
        health::find(&chars, &words)
            .into_iter()
            .map(|c| (SensitiveKind::Health, c.to_string())),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(kind: SensitiveKind, count: usize) -> SensitiveCount {
        SensitiveCount { kind, count }
    }

    #[test]
    fn categories_and_labels() {
        assert_eq!(SensitiveKind::Bsn.category(), DataCategory::Identity);
        assert_eq!(SensitiveKind::Iban.category(), DataCategory::Financial);
        assert_eq!(SensitiveKind::Card.category(), DataCategory::Financial);
        assert_eq!(
            SensitiveKind::Health.category(),
            DataCategory::SpecialCategory
        );
        assert_eq!(
            SensitiveKind::Bsn.label(Lang::En),
            "BSN (citizen service number)"
        );
        assert_eq!(
            SensitiveKind::Bsn.label(Lang::Nl),
            "BSN (burgerservicenummer)"
        );
        assert_eq!(SensitiveKind::Iban.label(Lang::En), "IBAN (bank account)");
        assert_eq!(SensitiveKind::Iban.label(Lang::Nl), "IBAN (bankrekening)");
        assert_eq!(SensitiveKind::Card.label(Lang::En), "payment card number");
        assert_eq!(SensitiveKind::Card.label(Lang::Nl), "betaalkaartnummer");
        assert_eq!(SensitiveKind::Health.label(Lang::En), "health information");
        assert_eq!(SensitiveKind::Health.label(Lang::Nl), "gezondheidsgegevens");
    }

    #[test]
    fn national_identity_numbers_are_identity_data_with_labels_in_both_languages() {
        for (kind, name) in [
            (SensitiveKind::BeRrn, "\"be-rrn\""),
            (SensitiveKind::DeSteuerId, "\"de-steuer-id\""),
            (SensitiveKind::FrNir, "\"fr-nir\""),
            (SensitiveKind::UkNhs, "\"uk-nhs\""),
        ] {
            assert_eq!(kind.category(), DataCategory::Identity, "{kind:?}");
            assert_eq!(serde_json::to_string(&kind).unwrap(), name);
            assert_eq!(serde_json::from_str::<SensitiveKind>(name).unwrap(), kind);
            assert_ne!(kind.label(Lang::En), kind.label(Lang::Nl), "{kind:?}");
        }
        // The old names are unchanged.
        assert_eq!(
            serde_json::to_string(&SensitiveKind::Bsn).unwrap(),
            "\"bsn\""
        );
        assert_eq!(
            serde_json::to_string(&SensitiveKind::Health).unwrap(),
            "\"health\""
        );
    }

    #[test]
    fn one_mail_with_the_identity_numbers_of_four_countries() {
        let body = "Rijksregisternummer 85.07.30-033.28; Steuer-ID 86 095 742 719; \
                    numéro de sécurité sociale 2 55 08 14 168 025 38; NHS number 943 476 5919.";
        assert_eq!(
            scan(&[body]),
            [
                count(SensitiveKind::BeRrn, 1),
                count(SensitiveKind::DeSteuerId, 1),
                count(SensitiveKind::FrNir, 1),
                count(SensitiveKind::UkNhs, 1),
            ]
        );
        // The same digits without the keywords are only numbers.
        assert_eq!(
            scan(&[
                "Dossiers 85.07.30-033.28, 86 095 742 719, 2 55 08 14 168 025 38, 943 476 5919."
            ]),
            []
        );
    }

    #[test]
    fn serde_names() {
        assert_eq!(
            serde_json::to_string(&DataCategory::SpecialCategory).unwrap(),
            "\"special_category\""
        );
        assert_eq!(
            serde_json::to_string(&SensitiveKind::Iban).unwrap(),
            "\"iban\""
        );
        assert_eq!(
            serde_json::to_string(&count(SensitiveKind::Card, 2)).unwrap(),
            r#"{"kind":"card","count":2}"#
        );
    }

    #[test]
    fn scan_counts_distinct_values_sorted_by_kind() {
        let subject = "Gegevens van Jan: NL91ABNA0417164300";
        let body = "Beste,\n\nZijn BSN is 123456782 (ook wel 1234.56.782). IBAN: NL91 ABNA 0417 1643 00 \
                    en BE68 5390 0754 7034. Hij is met een burn-out thuis, zie het medisch dossier.\n\
                    Creditcard 4111 1111 1111 1111.";
        let attachments = "BSN_111222333.pdf";
        assert_eq!(
            scan(&[subject, body, attachments]),
            [
                count(SensitiveKind::Bsn, 2),
                count(SensitiveKind::Iban, 2),
                count(SensitiveKind::Card, 1),
                count(SensitiveKind::Health, 2),
            ]
        );
    }

    #[test]
    fn keyword_proximity_does_not_cross_texts() {
        assert_eq!(scan(&["BSN", "123456782"]), []);
        assert_eq!(scan(&["BSN 123456782"]), [count(SensitiveKind::Bsn, 1)]);
        assert_eq!(scan(&["Maestro", "6759649826438453"]), []);
    }

    #[test]
    fn empty_and_clean_input() {
        assert_eq!(scan(&[]), []);
        assert_eq!(scan(&["", "Hallo, tot morgen!"]), []);
    }

    #[test]
    fn iban_digits_are_not_reread_as_bsn_or_card() {
        // The context rules alone already reject these digits (the groups follow "BE68"); the
        // mask keeps it that way should those rules ever be loosened.
        let text = "Kaart en BSN: BE68 5390 0754 7034";
        assert_eq!(scan(&[text]), [count(SensitiveKind::Iban, 1)]);
        assert_eq!(
            scan(&["BSN NL91ABNA0417164300"]),
            [count(SensitiveKind::Iban, 1)]
        );
    }
}
