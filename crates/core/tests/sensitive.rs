//! The sensitive-data scan through its public API: ordinary business mail must produce
//! nothing (warning fatigue is a defect), real data must be found, and no input may panic.

use leakwatch_core::sensitive::{scan, SensitiveCount, SensitiveKind};
use proptest::prelude::*;

/// Ordinary business sentences, Dutch and English, full of numbers that look like something.
/// Several numbers are chosen to pass a check on purpose (see `the_traps_are_real`).
const ORDINARY: &[&str] = &[
    // Order, invoice and customer numbers.
    "Bedankt voor je bestelling! Ordernummer 4000123412341234 wordt morgen verzonden.",
    "Your order 9000123456789016 has shipped and will arrive on Tuesday.",
    "Factuur 2024-00123 van 15-01-2024 staat open, graag betalen binnen 14 dagen.",
    "Invoice INV-2024-0042 for EUR 1.250,00 is attached.",
    "Uw klantnummer is 123456782; vermeld dit bij contact.",
    "Reference 8000123456789018 belongs to your return request.",
    "Zending 6759649826438453 is onderweg naar het distributiecentrum.",
    "We verwerken geen BSN. Uw dossiernummer is 123456782.",
    // Phone numbers.
    "Bel me even op 06-12345678 als je er bent.",
    "Call me on +31 6 1234 5678 or +31 612345671 tomorrow.",
    "Ons kantoor is bereikbaar op 020 123 4567 of (020) 1234567.",
    "Vragen over uw BSN-aanvraag? Bel 0800-1234567 of +31 (0)20 123 4567.",
    "Tel. 0031 612345671, fax 020-7654321.",
    // Dates and times.
    "De vergadering is op 15 januari 2024 om 14:30 in zaal 3.",
    "The deadline moved from 2024-01-15 to 2024-02-01.",
    "Contract loopt van 01.02.2024 tot 31.01.2025.",
    // Amounts.
    "Het budget is € 123.456.789 voor het hele programma.",
    "The total comes to $1,250.00, VAT included.",
    "Omzet 2023: EUR 12.345.678,90.",
    "We propose a fee of € 4.111.111 for phase one.",
    // Company registration and tax numbers.
    "KvK 33000001, BTW NL123456782B01.",
    "Chamber of Commerce number 33000013, VAT number NL001234567B01.",
    "Ons KvK-nummer is 12345672 en ons IBAN volgt per post.",
    // Postcodes and addresses.
    "Ons adres: Keizersgracht 123, 1015 CJ Amsterdam.",
    "Please ship to 10 Downing Street, SW1A 2AA London.",
    "Postbus 12345, 1000 AB Amsterdam.",
    // Tracking and article codes.
    "Je pakket met trackingcode 3SDEVC1234567 wordt vandaag bezorgd.",
    "UPS tracking 1Z999AA10123456784 shows it in Amsterdam.",
    "EAN 8712345678906, artikelnummer 200000007.",
    "ISBN 978-90-12345-67-8 is de nieuwe druk.",
    // IT and technical.
    "The server at 192.168.1.10 runs version 2.3.1 with build 20240107.",
    "Download the diagnostic logs from ticket 123456782.",
    "Please be patient while we process the request.",
    // Health-adjacent business language.
    "HealthCo B.V. levert medical devices aan ziekenhuizen.",
    "De behandeling van uw aanvraag duurt twee weken.",
    "Customer care is open Monday to Friday.",
    "Welcome to the hospitality industry newsletter.",
    "The account has been disabled after three failed logins.",
    // Words that look like keywords.
    "Ik kan pas morgen, stuur de kaart van de regio maar alvast.",
    "Ship it in a cardboard box, 4 pieces of 1234 grams each.",
    "Visa application for the conference in 2025 is approved.",
];

/// Everyday mail of the offices abroad (German, Belgian, French, US), with numbers that pass
/// an identity number's check digits on purpose: 86095742719 (Steuer-ID), 85073003328
/// (Belgian national number), 255081416802538 (NIR), 9434765919 (NHS).
const ORDINARY_ABROAD: &[&str] = &[
    "Rechnung 86095742719 vom 01.12.2025 ist bezahlt.",
    "Ihre Mandantennummer 86095742719 bitte bei Rückfragen angeben.",
    "Steuernummer 181/815/08155, USt-IdNr. DE123456789.",
    "Die Berufsunfähigkeitsversicherung ist als Vorsorgeaufwand absetzbar.",
    "Polisnummer 85073003328 van de groepsverzekering.",
    "Ondernemingsnummer 0850.730.033, factuur 85.07.30-033.28.",
    "De premie van de arbeidsongeschiktheidsverzekering stijgt met 2%.",
    "Commande 255081416802538 expédiée le 3 décembre.",
    "Référence dossier 2 55 08 14 168 025 38.",
    "L'assurance maladie rembourse les frais de formation.",
    "Invoice 9434765919 is attached; call 415 555 0134 with questions.",
    "Our NHS trust client signed; order 9434765919 ships Monday.",
];

#[test]
fn ordinary_mail_abroad_yields_nothing() {
    for sentence in ORDINARY_ABROAD {
        assert_eq!(scan(&[sentence]), [], "{sentence}");
    }
}

#[test]
fn ordinary_business_sentences_yield_nothing() {
    assert!(ORDINARY.len() >= 30);
    for sentence in ORDINARY {
        assert_eq!(scan(&[sentence]), [], "{sentence}");
    }
    // Also as one long body: neighbouring sentences must not make each other sensitive.
    assert_eq!(scan(&[&ORDINARY.join("\n")]), []);
}

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .chars()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let d = c.to_digit(10).unwrap();
            if i % 2 == 1 {
                if d * 2 > 9 {
                    d * 2 - 9
                } else {
                    d * 2
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

fn eleven(digits: &str) -> bool {
    let d: Vec<i32> = format!("{digits:0>9}")
        .chars()
        .map(|c| c.to_digit(10).unwrap() as i32)
        .collect();
    let sum: i32 = d[..8]
        .iter()
        .zip((2..=9).rev())
        .map(|(x, w)| x * w)
        .sum::<i32>()
        - d[8];
    sum % 11 == 0
}

/// The adversarial numbers in [`ORDINARY`] really pass their checks, so the sentences test
/// the context rules and not luck.
#[test]
fn the_traps_are_real() {
    for card_like in [
        "4000123412341234",
        "9000123456789016",
        "8000123456789018",
        "6759649826438453",
    ] {
        assert!(luhn(card_like), "{card_like}");
    }
    for bsn_like in [
        "123456782",
        "612345671",
        "33000001",
        "33000013",
        "12345672",
        "200000007",
    ] {
        assert!(eleven(bsn_like), "{bsn_like}");
    }
}

fn counts(items: &[(SensitiveKind, usize)]) -> Vec<SensitiveCount> {
    items
        .iter()
        .map(|&(kind, count)| SensitiveCount { kind, count })
        .collect()
}

#[test]
fn a_mail_that_leaks_everything() {
    let subject = "Re: dossier mevrouw De Vries";
    let body = "Hoi,\n\nHierbij de gegevens. BSN: 1234.56.782, rekening NL91 ABNA 0417 1643 00.\n\
                Haar creditcard 5555 5555 5555 4444 mag worden belast.\n\
                Ze is sinds maart in behandeling bij de oncoloog en gebruikt medicatie.\n\
                Groet, Piet";
    let attachments = ["BSN_123456782.pdf", "Patiëntdossier De Vries.docx"];
    let mut texts = vec![subject, body];
    texts.extend(attachments);
    assert_eq!(
        scan(&texts),
        counts(&[
            (SensitiveKind::Bsn, 1),
            (SensitiveKind::Iban, 1),
            (SensitiveKind::Card, 1),
            (SensitiveKind::Health, 3),
        ])
    );
}

#[test]
fn english_mail_with_several_values() {
    let body = "Payments to GB29 NWBK 6016 1331 9268 19 and DE89370400440532013000, \
                or by card 378282246310005 / 6011-1111-1111-1117. His social security \
                number 111222333 is on file; he is on sick leave.";
    assert_eq!(
        scan(&[body]),
        counts(&[
            (SensitiveKind::Bsn, 1),
            (SensitiveKind::Iban, 2),
            (SensitiveKind::Card, 2),
            (SensitiveKind::Health, 1),
        ])
    );
}

proptest! {
    // No regression file: proptest cannot locate one for an integration test, and the
    // shrunk failing input is printed anyway.
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn scan_never_panics_on_arbitrary_strings(texts in prop::collection::vec(any::<String>(), 0..4)) {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let _ = scan(&refs);
    }

    /// Number-shaped noise exercises the grouping and context paths far more than `any`.
    #[test]
    fn scan_never_panics_on_number_shaped_text(text in "[0-9 .,:/()+€\\-a-zA-Z_\u{a0}\u{308}]{0,120}") {
        let _ = scan(&[&text]);
    }

    #[test]
    fn words_without_digits_are_never_numbers(
        words in prop::collection::vec("[a-zA-Zàéëïöü\u{308}]{1,12}", 0..40),
        seps in prop::collection::vec("[ ,.\\-:;\n_]{1,2}", 0..40),
    ) {
        let text: String = words
            .iter()
            .zip(seps.iter().chain(std::iter::repeat(&" ".to_string())))
            .map(|(w, s)| format!("{w}{s}"))
            .collect();
        for found in scan(&[&text]) {
            prop_assert_eq!(found.kind, SensitiveKind::Health, "{:?} in {:?}", found, text);
        }
    }

    #[test]
    fn a_valid_iban_among_random_words_is_found_once(
        before in "[a-z ]{0,40}",
        after in "[a-z ]{0,40}",
        grouped in any::<bool>(),
    ) {
        let iban = if grouped { "NL91 ABNA 0417 1643 00" } else { "NL91ABNA0417164300" };
        let text = format!("{before} {iban} {after} {iban}");
        let found = scan(&[&text]);
        prop_assert!(found.contains(&SensitiveCount { kind: SensitiveKind::Iban, count: 1 }), "{:?}", found);
    }
}
