//! Payment card numbers (PAN).
//!
//! Luhn alone passes one random number in ten, so a number must also start with a known
//! issuer prefix and have a length that issuer uses. Maestro's prefixes (50, 56–69) cover a
//! tenth of all numbers and its lengths run 12–19, so a Maestro number also needs a card
//! keyword nearby.

use super::text::{find_terms, near, NumberCandidate, Term, Words};

/// Words that make a Maestro-range number a card number. Deliberately not the bare Dutch
/// "pas": it is also the everyday adverb ("pas morgen", "not until tomorrow"); the compounds
/// (betaalpas, pinpas, ...) are unambiguous. Not "card" as a stem either: cardboard, cardiology.
const KEYWORDS: &[Term] = &[
    Term::exact(&["card"]),
    Term::exact(&["cards"]),
    Term::stem(&["cardnumber"]),
    Term::stem(&["creditcard"]),
    Term::stem(&["debitcard"]),
    Term::exact(&["kaart"]),
    Term::stem(&["kaartnummer"]),
    Term::stem(&["betaalkaart"]),
    Term::stem(&["bankkaart"]),
    Term::stem(&["betaalpas"]),
    Term::stem(&["bankpas"]),
    Term::stem(&["pinpas"]),
    Term::stem(&["pasnummer"]),
    Term::exact(&["visa"]),
    Term::exact(&["mastercard"]),
    Term::exact(&["maestro"]),
    Term::exact(&["vpay"]),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Brand {
    Visa,
    Mastercard,
    Amex,
    Discover,
    Jcb,
    Diners,
    Maestro,
}

/// The card numbers in one text, as plain digits.
pub(super) fn find(chars: &[char], words: &Words, numbers: &[NumberCandidate]) -> Vec<String> {
    let mut keywords = None;
    let mut found = Vec::new();
    for number in numbers.iter().filter(|n| well_formed(n)) {
        let digits = &number.digits;
        let Some(brand) = brand(digits) else { continue };
        if !luhn(digits) || all_same(digits) {
            continue;
        }
        if brand == Brand::Maestro {
            let keywords = keywords.get_or_insert_with(|| {
                find_terms(chars, words, KEYWORDS)
                    .into_iter()
                    .map(|(_, r)| r)
                    .collect::<Vec<_>>()
            });
            if !near(keywords, &number.range) {
                continue;
            }
        }
        found.push(digits.clone());
    }
    found
}

/// Compact, or grouped by single spaces or dashes as cards are printed: fours with a shorter
/// last group (4-4-4-4, 4-4-4-4-3, 4-4-4-1), Amex 4-6-5 and Diners 4-6-4.
fn well_formed(n: &NumberCandidate) -> bool {
    match n.sep {
        None => n.groups.len() == 1,
        Some(' ' | '-') => match n.groups.as_slice() {
            [4, 6, 5] | [4, 6, 4] => true,
            [4, middle @ .., last] => {
                !middle.is_empty() && middle.iter().all(|&g| g == 4) && (1..=4).contains(last)
            }
            _ => false,
        },
        Some(_) => false,
    }
}

/// The issuer, when the prefix and the length fit one. Checked in this order because
/// Discover's 6011/644–649/65 lie inside Maestro's 56–69 range.
fn brand(digits: &str) -> Option<Brand> {
    let len = digits.len();
    let prefix = |n: usize| digits.get(..n).and_then(|p| p.parse::<u32>().ok());
    let (p1, p2, p3, p4) = (prefix(1)?, prefix(2)?, prefix(3)?, prefix(4)?);
    if p1 == 4 && matches!(len, 13 | 16 | 19) {
        Some(Brand::Visa)
    } else if ((51..=55).contains(&p2) || (2221..=2720).contains(&p4)) && len == 16 {
        Some(Brand::Mastercard)
    } else if matches!(p2, 34 | 37) && len == 15 {
        Some(Brand::Amex)
    } else if (p4 == 6011 || (644..=649).contains(&p3) || p2 == 65) && (16..=19).contains(&len) {
        Some(Brand::Discover)
    } else if (3528..=3589).contains(&p4) && (16..=19).contains(&len) {
        Some(Brand::Jcb)
    } else if ((300..=305).contains(&p3) || matches!(p2, 36 | 38 | 39)) && (14..=19).contains(&len)
    {
        Some(Brand::Diners)
    } else if (p2 == 50 || (56..=69).contains(&p2)) && (12..=19).contains(&len) {
        Some(Brand::Maestro)
    } else {
        None
    }
}

/// The Luhn (mod 10) check over ASCII digits.
pub(super) fn luhn(digits: &str) -> bool {
    let mut sum = 0;
    for (i, c) in digits.chars().rev().enumerate() {
        let Some(mut d) = c.to_digit(10) else {
            return false;
        };
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    !digits.is_empty() && sum % 10 == 0
}

/// Placeholders such as "6666666666666" (Luhn-valid, Maestro range) are not cards.
fn all_same(digits: &str) -> bool {
    let mut chars = digits.chars();
    chars.next().is_some_and(|first| chars.all(|c| c == first))
}

#[cfg(test)]
mod tests {
    use super::super::text::number_candidates;
    use super::*;

    fn cards(text: &str) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        let words = Words::new(&chars);
        let numbers = number_candidates(&chars, &words);
        find(&chars, &words, &numbers)
    }

    /// Appends the Luhn check digit to `partial`.
    fn with_check_digit(partial: &str) -> String {
        (0..10)
            .map(|d| format!("{partial}{d}"))
            .find(|s| luhn(s))
            .unwrap()
    }

    #[test]
    fn luhn_known_values() {
        for valid in ["4111111111111111", "79927398713", "378282246310005", "0"] {
            assert!(luhn(valid), "{valid}");
        }
        for invalid in ["4111111111111112", "79927398710", "", "41111x1111111111"] {
            assert!(!luhn(invalid), "{invalid}");
        }
    }

    #[test]
    fn test_cards_of_the_major_brands() {
        for (text, want, brand_) in [
            ("4111 1111 1111 1111", "4111111111111111", Brand::Visa),
            ("4111-1111-1111-1111", "4111111111111111", Brand::Visa),
            ("4111111111111111", "4111111111111111", Brand::Visa),
            ("4222222222222", "4222222222222", Brand::Visa),
            ("5555555555554444", "5555555555554444", Brand::Mastercard),
            ("5555 5555 5555 4444", "5555555555554444", Brand::Mastercard),
            ("2223003122003222", "2223003122003222", Brand::Mastercard),
            ("378282246310005", "378282246310005", Brand::Amex),
            ("3782 822463 10005", "378282246310005", Brand::Amex),
            ("6011111111111117", "6011111111111117", Brand::Discover),
            ("6011 1111 1111 1117", "6011111111111117", Brand::Discover),
            ("3530111333300000", "3530111333300000", Brand::Jcb),
            ("30569309025904", "30569309025904", Brand::Diners),
            ("3056 930902 5904", "30569309025904", Brand::Diners),
        ] {
            assert_eq!(brand(want), Some(brand_), "{want}");
            assert_eq!(cards(text), [want], "{text}");
            assert_eq!(
                cards(&format!("Mijn nummer: {text}, vervalt 12/27.")),
                [want],
                "{text} in text"
            );
        }
    }

    #[test]
    fn nineteen_digit_visa_grouped_4_4_4_4_3() {
        let n = with_check_digit("411111111111111111");
        let grouped = format!(
            "{} {} {} {} {}",
            &n[..4],
            &n[4..8],
            &n[8..12],
            &n[12..16],
            &n[16..]
        );
        assert_eq!(cards(&grouped), [n]);
    }

    #[test]
    fn maestro_needs_a_card_keyword() {
        let n = "6759649826438453";
        assert!(luhn(n) && brand(n) == Some(Brand::Maestro));
        assert_eq!(cards(&format!("Maestro {n}")), [n]);
        assert_eq!(cards(&format!("Het nummer van mijn betaalpas is {n}")), [n]);
        assert_eq!(cards(&format!("kaart: {n}")), [n]);
        assert_eq!(cards(&format!("Referentie {n}")), Vec::<String>::new());
        assert_eq!(
            cards(&format!("Ik kan pas morgen, nummer {n}")),
            Vec::<String>::new()
        );
        assert_eq!(
            cards(&format!("Dit is een stuk cardboard {n}")),
            Vec::<String>::new()
        );
        let far = format!("card{}{n}", " x".repeat(31));
        assert_eq!(cards(&far), Vec::<String>::new());
        // A 12-digit Maestro.
        let short = with_check_digit("50000000001");
        assert_eq!(cards(&short), Vec::<String>::new());
        assert_eq!(cards(&format!("Maestro-kaart {short}")), [short]);
    }

    #[test]
    fn luhn_valid_numbers_without_issuer_or_wrong_length_are_not_cards() {
        for partial in [
            "123456789012345",   // 16 digits, prefix 1
            "987654321098765",   // 16 digits, prefix 9
            "800000000000000",   // 16 digits, prefix 8
            "700012345678901",   // 16 digits, prefix 7
            "41111111111111",    // Visa prefix, 15 digits
            "41111111111111111", // Visa prefix, 18 digits
            "55555555555544",    // Mastercard prefix, 15 digits
            "378282246310000",   // Amex prefix, 16 digits
        ] {
            let n = with_check_digit(partial);
            assert!(luhn(&n));
            assert_eq!(brand(&n), None, "{n}");
            assert_eq!(cards(&n), Vec::<String>::new(), "{n}");
            assert_eq!(
                cards(&format!("creditcard {n}")),
                Vec::<String>::new(),
                "{n}"
            );
        }
    }

    #[test]
    fn invalid_or_embedded_numbers_are_not_cards() {
        for text in [
            "4111 1111 1111 1112",     // Luhn
            "4444 4444 4444 4444",     // all the same
            "0000 0000 0000 0000",     // all the same
            "Maestro 6666666666666",   // all the same, Luhn-valid, Maestro range
            "4111 1111 1111 1111 1",   // longer grouped number
            "1 4111 1111 1111 1111",   // longer grouped number
            "14111111111111111",       // longer digit run
            "41111111111111111",       // longer digit run
            "X4111111111111111",       // inside a word
            "4111111111111111EUR",     // inside a word
            "4111  1111 1111 1111",    // double space
            "4111 1111-1111 1111",     // mixed separators
            "4111.1111.1111.1111",     // dots are not a card format
            "41 11 11 11 11 11 11 11", // pairs are not a card format
            "4111111 111111111",       // odd grouping
            "Ordernummer 4111111111111111",
            "Betalingskenmerk 4111 1111 1111 1111",
            "€ 4111111111111111",
        ] {
            assert_eq!(cards(text), Vec::<String>::new(), "{text}");
        }
        assert!(luhn("6666666666666") && brand("6666666666666") == Some(Brand::Maestro));
    }
}
