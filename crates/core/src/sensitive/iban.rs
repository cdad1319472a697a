//! IBAN: two letters, two check digits and a BBAN, compact ("NL91ABNA0417164300") or in the
//! paper format of groups of four ("NL91 ABNA 0417 1643 00"), in any case.
//!
//! No keyword is needed: the country's fixed length and BBAN pattern plus the mod-97 check
//! (both done by `iban_validate`) leave about one random string in a few thousand passing, and
//! an IBAN is worth a warning wherever it appears.

use std::ops::Range;

use super::text::{is_space, is_word_char};

/// Shortest (Norway, 15) and longest (34, the standard's maximum) IBAN.
const MIN_LEN: usize = 15;
const MAX_LEN: usize = 34;

/// Every valid IBAN in `chars`: its character range and its electronic form (uppercase, no
/// spaces), which is what distinct values are counted by.
pub(super) fn find(chars: &[char]) -> Vec<(Range<usize>, String)> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if starts_iban(chars, i) {
            if let Some(hit) = compact_at(chars, i).or_else(|| grouped_at(chars, i)) {
                i = hit.0.end;
                found.push(hit);
                continue;
            }
        }
        i += 1;
    }
    found
}

/// Two letters and two digits at the start of a word.
fn starts_iban(chars: &[char], i: usize) -> bool {
    (i == 0 || !is_word_char(chars[i - 1]))
        && chars.len() >= i + 4
        && chars[i].is_ascii_alphabetic()
        && chars[i + 1].is_ascii_alphabetic()
        && chars[i + 2].is_ascii_digit()
        && chars[i + 3].is_ascii_digit()
}

/// The whole word starting at `i` as one IBAN; a longer alphanumeric run is not an IBAN.
fn compact_at(chars: &[char], i: usize) -> Option<(Range<usize>, String)> {
    let end = word_end(chars, i);
    let value = validate(&chars[i..end])?;
    Some((i..end, value))
}

/// Groups of four separated by single spaces, the last group 1 to 4 long. Where the IBAN ends
/// is not marked ("NL91 ABNA 0417 1643 00 EUR" could go on), so every group count is tried,
/// longest first; the country's fixed length means at most one can be valid.
fn grouped_at(chars: &[char], i: usize) -> Option<(Range<usize>, String)> {
    let mut groups: Vec<Range<usize>> = Vec::new();
    let mut pos = i;
    loop {
        let end = word_end(chars, pos);
        let len = end - pos;
        if !(1..=4).contains(&len) || !chars[pos..end].iter().all(char::is_ascii_alphanumeric) {
            break;
        }
        if groups.is_empty() && len != 4 {
            return None;
        }
        groups.push(pos..end);
        let total: usize = groups.iter().map(|g| g.len()).sum();
        if len < 4 || total >= MAX_LEN {
            break;
        }
        // Continue only over one space into the next group.
        if chars.get(end).is_some_and(|&c| is_space(c))
            && chars.get(end + 1).is_some_and(|&c| is_word_char(c))
        {
            pos = end + 1;
        } else {
            break;
        }
    }
    (2..=groups.len()).rev().find_map(|n| {
        let compact: Vec<char> = groups[..n]
            .iter()
            .flat_map(|g| &chars[g.clone()])
            .copied()
            .collect();
        let value = validate(&compact)?;
        Some((i..groups[n - 1].end, value))
    })
}

fn word_end(chars: &[char], mut pos: usize) -> usize {
    while pos < chars.len() && is_word_char(chars[pos]) {
        pos += 1;
    }
    pos
}

fn validate(candidate: &[char]) -> Option<String> {
    if !(MIN_LEN..=MAX_LEN).contains(&candidate.len())
        || !candidate.iter().all(char::is_ascii_alphanumeric)
    {
        return None;
    }
    let upper: String = candidate.iter().map(char::to_ascii_uppercase).collect();
    upper.parse::<iban::Iban>().ok()?;
    Some(upper)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ibans(text: &str) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        find(&chars).into_iter().map(|(_, v)| v).collect()
    }

    const VALID: &[&str] = &[
        "NL91ABNA0417164300",
        "BE68539007547034",
        "DE89370400440532013000",
        "GB29NWBK60161331926819",
        "FR1420041010050500013M02606",
        "NO9386011117947",
    ];

    fn paper(iban: &str) -> String {
        let c: Vec<char> = iban.chars().collect();
        c.chunks(4)
            .map(|g| g.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn valid_ibans_of_several_countries_compact_grouped_and_lowercase() {
        for iban in VALID {
            assert_eq!(ibans(iban), [*iban], "compact");
            assert_eq!(ibans(&format!("IBAN: {iban}.")), [*iban], "in a sentence");
            assert_eq!(ibans(&paper(iban)), [*iban], "grouped {}", paper(iban));
            assert_eq!(
                ibans(&format!("naar {} graag", paper(iban))),
                [*iban],
                "grouped in text"
            );
            assert_eq!(ibans(&iban.to_lowercase()), [*iban], "lowercase");
            assert_eq!(
                ibans(&paper(&iban.to_lowercase())),
                [*iban],
                "lowercase grouped"
            );
        }
    }

    #[test]
    fn the_range_covers_the_written_iban_only() {
        let text = "Rekening NL91 ABNA 0417 1643 00 EUR 12";
        let chars: Vec<char> = text.chars().collect();
        let found = find(&chars);
        assert_eq!(found.len(), 1);
        let written: String = chars[found[0].0.clone()].iter().collect();
        assert_eq!(written, "NL91 ABNA 0417 1643 00");
        // A group count that is a multiple of four followed by more text.
        assert_eq!(
            ibans("BE68 5390 0754 7034 1234 AB Brussel"),
            ["BE68539007547034"]
        );
    }

    #[test]
    fn invalid_ibans_are_not_found() {
        for text in [
            "NL92ABNA0417164300",          // wrong check digits
            "NL91ABNA0417164301",          // wrong BBAN digit
            "NL91ABNA041716430",           // too short for NL
            "NL91ABNA04171643000",         // too long for NL
            "NL91 ABNA 0417 1643",         // grouped, truncated
            "NL91  ABNA 0417 1643 00",     // double space
            "NL91 ABN A041 7164 300",      // groups not of four
            "XNL91ABNA0417164300",         // inside a longer run
            "NL91ABNA0417164300X",         // inside a longer run
            "NL91ABNA04171643001",         // inside a longer run
            "XX91ABNA0417164300",          // no such country
            "NL00ABNA0417164300",          // 00 check digits
            "DE89 3704 0044 0532 0130 01", // wrong last digits
            "NL91\u{301}ABNA0417164300",   // a combining mark glues it
        ] {
            assert_eq!(ibans(text), Vec::<String>::new(), "{text}");
        }
    }

    #[test]
    fn several_and_repeated_ibans() {
        let text = "NL91ABNA0417164300 of BE68 5390 0754 7034, nogmaals NL91ABNA0417164300";
        assert_eq!(
            ibans(text),
            [
                "NL91ABNA0417164300",
                "BE68539007547034",
                "NL91ABNA0417164300"
            ]
        );
    }
}
