//! The NHS number of England, Wales and the Isle of Man (the CHI number of Scotland has the
//! same check).
//!
//! Ten digits, usually written `943 476 5919`; the last is a mod-11 check digit over the
//! first nine weighted 10 down to 2, and a remainder that would need a check digit of 10
//! never occurs. The check passes one random number in eleven, so "NHS" must be near.

use super::text::{keyword_confirmed, NumberCandidate, Term, Words};

const KEYWORDS: &[Term] = &[
    Term::exact(&["nhs"]),
    Term::exact(&["chi", "number"]),
    Term::exact(&["patient", "number"]),
];

/// The NHS numbers in one text, as ten digits.
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
        (None, [10]) | (Some(' ' | '-'), [3, 3, 4])
    )
}

/// The mod-11 check digit; a number of one repeated digit is a placeholder, not a person.
/// `digits` must be ten ASCII digits.
pub(super) fn is_valid(digits: &str) -> bool {
    let d: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    if d.len() != 10 || digits.len() != 10 || d.iter().all(|&x| x == d[0]) {
        return false;
    }
    let sum: u32 = d[..9].iter().zip((2..=10).rev()).map(|(x, w)| x * w).sum();
    match 11 - sum % 11 {
        11 => d[9] == 0,
        10 => false,
        check => d[9] == check,
    }
}

#[cfg(test)]
mod tests {
    use super::super::text::run_detector;
    use super::*;

    fn found(text: &str) -> Vec<String> {
        run_detector(text, find)
    }

    #[test]
    fn mod_11_check_digit() {
        // The NHS Digital example, another, and one whose remainder 0 gives check digit 0.
        for valid in ["9434765919", "4010232137", "9876543210"] {
            assert!(is_valid(valid), "{valid}");
        }
        for invalid in [
            "9434765918",
            "9434765910",
            "1000000010", // 100000001 would need check digit 10: no such NHS number
            "1000000000",
            "0000000000",
            "943476591",
            "94347659190",
        ] {
            assert!(!is_valid(invalid), "{invalid}");
        }
    }

    #[test]
    fn with_a_keyword() {
        for text in [
            "NHS number: 943 476 5919",
            "Patient NHS No. 9434765919, DOB 02/03/1981",
            "nhs 943-476-5919",
            "Discharge_summary_NHS_9434765919.pdf",
        ] {
            assert_eq!(found(text), ["9434765919"], "{text}");
        }
    }

    #[test]
    fn without_a_keyword_or_with_a_wrong_check_digit_it_is_quiet() {
        for text in [
            "Call me on 943 476 5919 tomorrow.",
            "Order 9434765919 has shipped.",
            "NHS number: 943 476 5918",
            "The NHS trust's phone: 943 476 5919",
            "NHS contract 9434765919",
        ] {
            assert_eq!(found(text), Vec::<String>::new(), "{text}");
        }
    }
}
