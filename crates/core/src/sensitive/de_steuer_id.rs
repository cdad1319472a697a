//! The German tax identification number (steuerliche Identifikationsnummer, Steuer-ID,
//! IdNr), given to every resident for life.
//!
//! Eleven digits, the first not 0. Of the first ten digits exactly one occurs twice or three
//! times (three times not all in a row) and every other at most once; the eleventh is an
//! ISO 7064 MOD 11,10 check digit. Written compact or as `12 345 678 901`. Not the
//! Steuernummer, which a tax office gives a business and which has no check digit.

use super::text::{keyword_confirmed, NumberCandidate, Term, Words};

const KEYWORDS: &[Term] = &[
    Term::exact(&["steuer", "id"]),
    Term::exact(&["steuerid"]),
    Term::stem(&["steueridentifikationsnummer"]),
    Term::exact(&["steuer", "identifikationsnummer"]),
    Term::stem(&["identifikationsnummer"]),
    Term::exact(&["idnr"]),
    Term::exact(&["id", "nr"]),
    Term::exact(&["tax", "id"]),
    Term::exact(&["tax", "identification", "number"]),
];

/// The tax ids in one text, as eleven digits.
pub(super) fn find(chars: &[char], words: &Words, numbers: &[NumberCandidate]) -> Vec<String> {
    keyword_confirmed(chars, words, numbers, KEYWORDS, accept)
}

/// The digits of a well-formed, valid candidate.
fn accept(n: &NumberCandidate) -> Option<String> {
    (well_formed(n) && is_valid(&n.digits)).then(|| n.digits.clone())
}

fn well_formed(n: &NumberCandidate) -> bool {
    matches!(
        (n.sep, n.groups.as_slice()),
        (None, [11]) | (Some(' '), [2, 3, 3, 3])
    )
}

/// The digit-repetition rule and the check digit. `digits` must be eleven ASCII digits.
pub(super) fn is_valid(digits: &str) -> bool {
    let d: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    if d.len() != 11 || digits.len() != 11 || d[0] == 0 {
        return false;
    }
    repetition_rule(&d[..10]) && mod_11_10_check_digit(&d[..10]) == d[10]
}

/// Exactly one digit occurs twice or three times, no digit more, and never three equal
/// digits in a row.
fn repetition_rule(first_ten: &[u32]) -> bool {
    let mut counts = [0u8; 10];
    for &x in first_ten {
        counts[x as usize] += 1;
    }
    let repeated = counts.iter().filter(|&&c| c >= 2).count();
    let too_many = counts.iter().any(|&c| c > 3);
    let three_in_a_row = first_ten.windows(3).any(|w| w[0] == w[1] && w[1] == w[2]);
    repeated == 1 && !too_many && !three_in_a_row
}

/// ISO 7064 MOD 11,10 (pure hybrid system) over the digits.
fn mod_11_10_check_digit(digits: &[u32]) -> u32 {
    let mut product = 10;
    for &x in digits {
        let mut sum = (x + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = (sum * 2) % 11;
    }
    (11 - product) % 10
}

#[cfg(test)]
mod tests {
    use super::super::text::run_detector;
    use super::*;

    fn found(text: &str) -> Vec<String> {
        run_detector(text, find)
    }

    #[test]
    fn check_digit_and_repetition_rule() {
        // Published examples: one digit twice, and one digit three times (not in a row).
        for valid in ["86095742719", "65929970489", "57549285017", "25768131411"] {
            assert!(is_valid(valid), "{valid}");
        }
        for invalid in [
            "86095742718", // check digit
            "86095742710",
            "12345678903", // check digit right, but no digit repeats
            "11123456780", // three in a row
            "02476291358", // starts with 0
            "1234567890",
            "860957427190",
            "8609574271a",
        ] {
            assert!(!is_valid(invalid), "{invalid}");
        }
        assert_eq!(mod_11_10_check_digit(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 0]), 3);
    }

    #[test]
    fn with_a_keyword() {
        for text in [
            "Steuer-ID: 86095742719",
            "Ihre Steuer-Identifikationsnummer lautet 86 095 742 719.",
            "Steueridentifikationsnummer des Ehegatten 86095742719",
            "IdNr. 86095742719",
            "Identifikationsnummer (IdNr) 86 095 742 719",
            "German tax ID 86095742719",
            "Lohnsteuer_SteuerID_86095742719.pdf",
        ] {
            assert_eq!(found(text), ["86095742719"], "{text}");
        }
    }

    #[test]
    fn without_a_keyword_or_failing_the_rules_it_is_quiet() {
        for text in [
            "Auftrag 86095742719 ist versandt.",
            "Mandantennummer 86095742719",
            "Steuer-ID: 86095742718",
            "Steuer-ID: 12345678903",
            "Steuer-ID folgt. Rechnung 86095742719",
            "Steuernummer 181/815/08155, Steuer-ID folgt",
            "Steuer-ID beantragt, Tel. 0861 9574 2719",
        ] {
            assert_eq!(found(text), Vec::<String>::new(), "{text}");
        }
    }
}
