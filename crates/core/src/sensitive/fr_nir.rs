//! The French social security number (NIR, "numéro de sécurité sociale", the INSEE number).
//!
//! Thirteen characters `S YY MM DD CCC OOO` (sex, birth year and month, department, commune,
//! order) and a two-digit key `97 - (NIR mod 97)`. Corsica's departments are `2A` and `2B`;
//! for the key they count as 19 and 18. Written compact or grouped as
//! `2 55 08 14 168 025 38`, seven groups, which is why it has its own scanner rather than the
//! shared number candidates (at most five groups, never letters). The key passes one random
//! number in 97, so a keyword must be near.

use std::ops::Range;

use super::text::{digits_value, find_terms, is_space, is_word_char, near, Term, Words};

const KEYWORDS: &[Term] = &[
    Term::exact(&["nir"]),
    Term::exact(&["insee"]),
    Term::stem(&["securite", "sociale"]),
    Term::exact(&["secu"]),
    Term::exact(&["numero", "ss"]),
    Term::exact(&["carte", "vitale"]),
    Term::stem(&["social", "security"]),
];

/// Significant characters of a NIR: 13 and the key.
const LENGTH: usize = 15;

/// The NIRs in one text, as 15 characters (`2A`/`2B` in capitals).
pub(super) fn find(chars: &[char], words: &Words) -> Vec<String> {
    let mut keywords = None;
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let Some((range, value)) = nir_at(chars, i) else {
            i += 1;
            continue;
        };
        let keywords = keywords.get_or_insert_with(|| {
            find_terms(chars, words, KEYWORDS)
                .into_iter()
                .map(|(_, r)| r)
                .collect::<Vec<_>>()
        });
        if near(keywords, &range) {
            found.push(value);
        }
        i = range.end;
    }
    found
}

/// A well-formed NIR with a valid key starting at `start`: where it lies and its value.
fn nir_at(chars: &[char], start: usize) -> Option<(Range<usize>, String)> {
    if !matches!(chars[start], '1'..='4' | '7' | '8') {
        return None;
    }
    if start > 0 && (is_word_char(chars[start - 1]) || joins_number(chars, start - 1, -1)) {
        return None;
    }
    let mut value = String::with_capacity(LENGTH);
    let mut groups = vec![0usize];
    let mut sep = None;
    let mut i = start;
    while value.len() < LENGTH && i < chars.len() {
        let c = chars[i];
        // The department's second character may be A or B (Corsica).
        if c.is_ascii_digit()
            || (value.len() == 6 && value.ends_with('2') && matches!(c, 'A' | 'B' | 'a' | 'b'))
        {
            value.push(c.to_ascii_uppercase());
            *groups.last_mut()? += 1;
            i += 1;
        } else if is_separator(c)
            && sep.is_none_or(|s| s == c)
            && chars.get(i + 1).is_some_and(char::is_ascii_alphanumeric)
        {
            sep = Some(c);
            groups.push(0);
            i += 1;
        } else {
            break;
        }
    }
    if value.len() != LENGTH
        || chars.get(i).is_some_and(|&c| is_word_char(c))
        || joins_number(chars, i, 1)
    {
        return None;
    }
    let shape_ok = matches!(groups.as_slice(), [15] | [13, 2] | [1, 2, 2, 2, 3, 3, 2]);
    (shape_ok && is_valid(&value)).then_some((start..i, value))
}

/// Spaces, dots and dashes between the groups, one kind per number.
fn is_separator(c: char) -> bool {
    is_space(c) || matches!(c, '.' | '-')
}

/// Whether the character at `pos` is a separator followed (in direction `step`) by a digit:
/// the candidate would be part of a longer number.
fn joins_number(chars: &[char], pos: usize, step: isize) -> bool {
    let Some(&c) = chars.get(pos) else {
        return false;
    };
    let next = pos.checked_add_signed(step).and_then(|p| chars.get(p));
    is_separator(c) && next.is_some_and(char::is_ascii_digit)
}

/// Sex, month, Corsica and the key. `nir` is 15 characters: digits, or `2A`/`2B` as the
/// department.
pub(super) fn is_valid(nir: &str) -> bool {
    let b = nir.as_bytes();
    if b.len() != LENGTH || !nir.is_ascii() || !matches!(b[0], b'1'..=b'4' | b'7' | b'8') {
        return false;
    }
    let department = match &nir[5..7] {
        "2A" => "19",
        "2B" => "18",
        digits => digits,
    };
    let body = [&nir[..5], department, &nir[7..13]].concat();
    let (Some(number), Some(key)) = (digits_value(&body), digits_value(&nir[13..])) else {
        return false;
    };
    let month = (number / 100_000_000) % 100;
    // 01-12, or 20-42 and 50-99 for people whose birth month is unknown.
    let month_ok = matches!(month, 1..=12 | 20..=42 | 50..=99);
    month_ok && key == 97 - number % 97
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        find(&chars, &Words::new(&chars))
    }

    #[test]
    fn key_and_corsica() {
        // 2550814168025: 97 - 2550814168025 mod 97 = 38.
        assert!(is_valid("255081416802538"));
        assert!(is_valid("184127645108946"));
        // Born in Corse-du-Sud (2A): the key is computed with 19 for 2A.
        assert!(is_valid("290022A12345678"));
        for invalid in [
            "255081416802539",
            "555081416802538", // sex 5
            "255131416802538", // month 13
            "290022B12345678", // 2B counts as 18: another key
            "290022C12345678",
            "25508141680253",
            "2550814168025380",
        ] {
            assert!(!is_valid(invalid), "{invalid}");
        }
    }

    #[test]
    fn with_a_keyword_in_the_written_forms() {
        for (text, want) in [
            (
                "Numéro de sécurité sociale : 2 55 08 14 168 025 38",
                "255081416802538",
            ),
            ("N° sécu 255081416802538", "255081416802538"),
            ("NIR 2550814168025 38", "255081416802538"),
            ("numéro INSEE 2.55.08.14.168.025.38", "255081416802538"),
            (
                "Sécurité sociale : 2 90 02 2A 123 456 78",
                "290022A12345678",
            ),
            ("Carte Vitale 2-90-02-2a-123-456-78", "290022A12345678"),
            (
                "French social security number 1 84 12 76 451 089 46",
                "184127645108946",
            ),
        ] {
            assert_eq!(found(text), [want], "{text}");
        }
    }

    #[test]
    fn without_a_keyword_or_with_a_wrong_key_it_is_quiet() {
        for text in [
            "Commande 2 55 08 14 168 025 38 expédiée.",
            "Référence 255081416802538",
            "Sécurité sociale : 2 55 08 14 168 025 39",
            "Sécurité sociale : 2 55 08 14 168 025 38 12",
            "Sécurité sociale : 12 55 08 14 168 025 38",
            "Sécurité sociale : X255081416802538",
            "Sécurité sociale : 2 55 08 14.168 025 38",
        ] {
            assert_eq!(found(text), Vec::<String>::new(), "{text}");
        }
    }
}
