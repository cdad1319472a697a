//! BSN (burgerservicenummer), the Dutch citizen service number.
//!
//! Nine digits (eight for old numbers, which are the nine-digit form with a leading zero)
//! passing the 11-check. One random nine-digit number in eleven passes it, so a number alone
//! proves nothing: a BSN keyword must be within [`KEYWORD_WINDOW`](super::text::KEYWORD_WINDOW)
//! characters, and the shared context rules already dropped phone numbers, amounts and numbers
//! labelled as something else (KvK, order, invoice...).

use super::text::{find_terms, near, NumberCandidate, Term, Words};

/// Words that make a nearby number a BSN. `bsn` is a stem so "BSN's" and "bsnnummer" count;
/// there is no ordinary Dutch or English word starting with "bsn".
const KEYWORDS: &[Term] = &[
    Term::stem(&["bsn"]),
    Term::stem(&["burgerservicenummer"]),
    Term::stem(&["burgerservice", "nummer"]),
    Term::stem(&["sofinummer"]),
    Term::stem(&["sofi", "nummer"]),
    Term::stem(&["citizen", "service", "number"]),
    Term::stem(&["social", "security", "number"]),
    Term::stem(&["persoonsnummer"]),
];

/// The BSNs in one text, normalised to nine digits.
pub(super) fn find(chars: &[char], words: &Words, numbers: &[NumberCandidate]) -> Vec<String> {
    let mut keywords = None;
    let mut found = Vec::new();
    for number in numbers.iter().filter(|n| well_formed(n)) {
        let value = if number.digits.len() == 8 {
            format!("0{}", number.digits)
        } else {
            number.digits.clone()
        };
        if !eleven_check(&value) {
            continue;
        }
        // Keyword search is the expensive part; most texts have no 11-proof number at all.
        let keywords = keywords.get_or_insert_with(|| {
            find_terms(chars, words, KEYWORDS)
                .into_iter()
                .map(|(_, r)| r)
                .collect::<Vec<_>>()
        });
        if near(keywords, &number.range) {
            found.push(value);
        }
    }
    found
}

/// The ways a BSN is written: compact (8 or 9 digits), `1234.56.782`, `1234 56 782` and
/// `123 456 782`. Not `123.456.782`: that is how amounts are written.
fn well_formed(n: &NumberCandidate) -> bool {
    match (n.sep, n.groups.as_slice()) {
        (None, [8]) => !looks_like_date(&n.digits),
        (None, [9]) => true,
        (Some('.' | ' '), [4, 2, 3]) => true,
        (Some(' '), [3, 3, 3]) => true,
        _ => false,
    }
}

/// `20240115` or `15012024`: an eight-digit date next to "BSN" (a request date, a birth
/// date) is far more likely than a legacy sofinummer.
fn looks_like_date(digits: &str) -> bool {
    let d: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    if d.len() != 8 {
        return false;
    }
    let num = |r: std::ops::Range<usize>| d[r].iter().fold(0, |acc, x| acc * 10 + x);
    let date = |year: u32, month: u32, day: u32| {
        (1900..=2099).contains(&year) && (1..=12).contains(&month) && (1..=31).contains(&day)
    };
    date(num(0..4), num(4..6), num(6..8)) || date(num(4..8), num(2..4), num(0..2))
}

/// The BSN 11-check: 9·d1 + 8·d2 + … + 2·d8 − 1·d9 ≡ 0 (mod 11), and not all zeros.
/// `digits` must be exactly nine ASCII digits.
pub(super) fn eleven_check(digits: &str) -> bool {
    let d: Vec<i64> = digits
        .chars()
        .filter_map(|c| c.to_digit(10))
        .map(i64::from)
        .collect();
    if d.len() != 9 || digits.len() != 9 || d.iter().all(|&x| x == 0) {
        return false;
    }
    let sum: i64 = d[..8]
        .iter()
        .zip((2..=9).rev())
        .map(|(x, w)| x * w)
        .sum::<i64>()
        - d[8];
    sum.rem_euclid(11) == 0
}

#[cfg(test)]
mod tests {
    use super::super::text::number_candidates;
    use super::*;

    fn bsns(text: &str) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        let words = Words::new(&chars);
        let numbers = number_candidates(&chars, &words);
        find(&chars, &words, &numbers)
    }

    #[test]
    fn eleven_check_known_values() {
        for valid in [
            "123456782",
            "111222333",
            "999999990",
            "012345672",
            "100000009",
        ] {
            assert!(eleven_check(valid), "{valid}");
        }
        for invalid in [
            "123456781",
            "123456783",
            "111222334",
            "000000000",
            "12345678",
            "1234567820",
            "12345678a",
        ] {
            assert!(!eleven_check(invalid), "{invalid}");
        }
    }

    #[test]
    fn bsn_with_keyword_in_all_written_forms() {
        for text in [
            "Mijn BSN is 123456782.",
            "BSN: 1234.56.782",
            "bsn 1234 56 782",
            "Burgerservicenummer 123 456 782",
            "burgerservice nummer: 123456782",
            "sofinummer 12345672 (oud)",
            "Sofi-nummer: 123456782",
            "sofi nummer 123456782",
            "Citizen service number: 123456782",
            "social security number 123456782",
            "persoonsnummer 123456782",
            "123456782 is haar BSN",
            "BSN's van de kinderen: 123456782",
            "BSN van de klant: 123456782",
            "KvK 33000001, BSN 123456782",
            "bsnnummer=123456782",
            "BSN_123456782.pdf",
            "kopie-paspoort-bsn-123456782.pdf",
        ] {
            let want = if text.contains("12345672") {
                "012345672"
            } else {
                "123456782"
            };
            assert_eq!(bsns(text), [want], "{text}");
        }
    }

    #[test]
    fn several_bsns_in_a_list() {
        assert_eq!(
            bsns("BSN's: 123456782, 111222333 en 999999990"),
            ["123456782", "111222333", "999999990"]
        );
        assert_eq!(
            bsns("BSN's: 123456782 111222333"),
            ["123456782", "111222333"]
        );
    }

    #[test]
    fn wrong_check_digit_is_not_a_bsn() {
        for text in [
            "BSN 123456781",
            "BSN 1234.56.783",
            "BSN 000000000",
            "BSN 00000000",
        ] {
            assert_eq!(bsns(text), Vec::<String>::new(), "{text}");
        }
    }

    #[test]
    fn no_keyword_or_keyword_too_far_is_not_a_bsn() {
        assert_eq!(bsns("Uw nummer is 123456782."), Vec::<String>::new());
        let far = format!("BSN{}123456782", " x".repeat(31));
        assert_eq!(bsns(&far), Vec::<String>::new());
        let after = format!("123456782{}bsn", " x".repeat(31));
        assert_eq!(bsns(&after), Vec::<String>::new());
        // Just within the window, both sides.
        let near_before = format!("BSN{}123456782", " ".repeat(60));
        assert_eq!(bsns(&near_before), ["123456782"]);
        let near_after = format!("123456782{}BSN", " ".repeat(60));
        assert_eq!(bsns(&near_after), ["123456782"]);
        // "bsn" inside a longer word is not the keyword.
        assert_eq!(bsns("absnt 123456782"), Vec::<String>::new());
    }

    #[test]
    fn numbers_that_pass_the_check_but_are_something_else() {
        // Every number below passes the 11-check; only the context makes it not a BSN.
        for text in [
            "Vul uw BSN in. Bel bij vragen 06-12345672.",
            "Vul uw BSN in. Bel bij vragen +31 612345671.",
            "BSN-vragen: bel 0031 612345671",
            "Vul uw BSN in of bel +31 6 1234 5672.",
            "BSN aangevraagd op 20240107",
            "BSN aangevraagd op 18012024",
            "Uw BSN-aanvraag: KvK 12345672",
            "BSN en KvK-nummer 12345672 ontvangen",
            "BSN nodig voor factuur 123456782",
            "BSN gecontroleerd, ordernummer 123456782",
            "BSN-kosten € 123456782",
            "BSN-kosten € 123.456.782",
            "BSN-kosten EUR 123456782",
            "BSN-kosten 123456782,00",
            "bsn NL123456782B01",
            "BSN 1234567820",
            "BSN 123 456 782 123",
            "BSN 12.3456.782",
            "BSN 123-456-782",
            "BSN rekeningnummer 123456782",
            "Versie 1.2.3, build 123456782, BSN nvt",
        ] {
            assert_eq!(bsns(text), Vec::<String>::new(), "{text}");
        }
        assert!(
            eleven_check("012345672") && eleven_check("612345671") && !looks_like_date("12345672")
        );
        assert!(eleven_check("020240107") && eleven_check("018012024"));
    }

    #[test]
    fn distinct_within_text_is_left_to_the_caller() {
        // `find` reports each occurrence; `scan` deduplicates.
        assert_eq!(bsns("BSN 123456782 en nogmaals BSN 1234.56.782").len(), 2);
    }
}
