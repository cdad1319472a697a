//! The Belgian national register number (rijksregisternummer / numéro de registre national),
//! also the social security number INSZ/NISS, and the BIS number of people not in the
//! register.
//!
//! Eleven digits `YYMMDD SSS CC`: the birth date (month 00 when unknown, plus 20 or 40 in a
//! BIS number), a sequence number (odd for men, even for women) and a check number
//! `97 - (YYMMDDSSS mod 97)`; for people born in 2000 or later the nine digits are
//! prefixed with a 2 first. Written compact or as `85.07.30-033.28`, `850730-033-28`,
//! `850730 033 28`. The check passes one random number in 97 (two in 97 with both
//! centuries), so a keyword must be near.

use super::text::{digits_value, keyword_confirmed, NumberCandidate, Term, Words, MIXED_SEP};

const KEYWORDS: &[Term] = &[
    // Also "rijksregisternummer", "rijksregistergegevens".
    Term::stem(&["rijksregister"]),
    Term::exact(&["rrn"]),
    Term::stem(&["insz"]),
    Term::exact(&["niss"]),
    Term::exact(&["registre", "national"]),
    Term::exact(&["numero", "national"]),
    Term::exact(&["national", "register"]),
    Term::exact(&["national", "number"]),
    Term::exact(&["bis", "nummer"]),
    Term::stem(&["bisnummer"]),
];

/// The national numbers in one text, as eleven digits.
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
        (None, [11])
            | (Some('.' | ' ' | MIXED_SEP), [2, 2, 2, 3, 2])
            | (Some('-' | ' '), [6, 3, 2])
    )
}

/// A plausible date and sequence, and the check number for either century. `digits` must be
/// eleven ASCII digits.
pub(super) fn is_valid(digits: &str) -> bool {
    if digits.len() != 11 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let num = |r: std::ops::Range<usize>| digits_value(&digits[r]).unwrap_or(u64::MAX);
    let (month, day, sequence) = (num(2..4), num(4..6), num(6..9));
    let month_ok = matches!(month, 0..=12 | 20..=32 | 40..=52);
    if !month_ok || day > 31 || !(1..=998).contains(&sequence) {
        return false;
    }
    let (base, check) = (num(0..9), num(9..11));
    check == 97 - base % 97 || check == 97 - (2_000_000_000 + base) % 97
}

#[cfg(test)]
mod tests {
    use super::super::text::run_detector;
    use super::*;

    fn found(text: &str) -> Vec<String> {
        run_detector(text, find)
    }

    #[test]
    fn check_number_of_both_centuries() {
        // 850730033: 97 - 850730033 mod 97 = 28.
        assert!(is_valid("85073003328"));
        // Born 2001-02-15, sequence 123: 97 - 2010215123 mod 97 = 73.
        assert!(is_valid("01021512373"));
        // The same nine digits with the 1901 check number (97 - 10215123 mod 97).
        assert!(is_valid("01021512344"));
        // BIS number: month + 40.
        assert!(is_valid("85470503388"));
        for invalid in [
            "85073003327",
            "85073003329",
            "01021512385",
            "85133003310", // month 13
            "85073200005", // day 32
            "85073000080", // sequence 000
            "8507300332",
            "850730033288",
            "8507300332a",
        ] {
            assert!(!is_valid(invalid), "{invalid}");
        }
    }

    #[test]
    fn with_a_keyword_in_all_written_forms() {
        for text in [
            "Rijksregisternummer: 85.07.30-033.28",
            "rijksregisternr. 85073003328",
            "RRN 850730-033-28",
            "INSZ 850730 033 28",
            "Numéro de registre national : 85.07.30-033.28",
            "NISS 85.07.30.033.28",
            "national register number 85 07 30 033 28",
            "attest_rijksregister_85073003328.pdf",
        ] {
            assert_eq!(found(text), ["85073003328"], "{text}");
        }
        assert_eq!(
            found("Rijksregisternummer kind: 01.02.15-123.73"),
            ["01021512373"]
        );
    }

    #[test]
    fn without_a_keyword_or_with_a_wrong_check_number_it_is_quiet() {
        for text in [
            "Dossier 85.07.30-033.28 is afgesloten.",
            "Referentie 85073003328",
            "Rijksregisternummer: 85.07.30-033.27",
            "Rijksregisternummer: 85073003329",
            "Rijksregister: zie bijlage. Tel. 85073003328",
            "Rijksregisternummer 85-07-30-033-28-1",
        ] {
            assert_eq!(found(text), Vec::<String>::new(), "{text}");
        }
    }
}
