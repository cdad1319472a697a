//! Shared scanning machinery: words, keyword phrases and number candidates.
//!
//! Everything works on a `&[char]` of one text so that "60 characters" means characters, not
//! UTF-8 bytes, and positions can be compared across the detectors without conversions.

use std::ops::Range;

/// How far (in characters, either side) a keyword may be from the number it vouches for.
pub(super) const KEYWORD_WINDOW: usize = 60;

/// Word characters. Combining diacritics (U+0300..U+036F) count as word characters so that a
/// decomposed "patie\u{308}nt" (as macOS mail clients often send it) stays one word.
pub(super) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining(c)
}

fn is_combining(c: char) -> bool {
    ('\u{300}'..='\u{36f}').contains(&c)
}

/// Spaces that may separate the groups of a written number. Not tabs or newlines: a number
/// does not continue on the next line, and neither does the grouping logic.
pub(super) fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\u{a0}' | '\u{202f}')
}

fn is_dash(c: char) -> bool {
    matches!(c, '-' | '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}')
}

/// Lowercases `c` and strips the accents of Latin letters, so "Patiënt", "patiënt", "patient"
/// and the decomposed form all compare equal to `patient`.
fn fold_into(c: char, out: &mut String) {
    for l in c.to_lowercase() {
        if is_combining(l) {
            continue;
        }
        out.push(match l {
            'à'..='å' => 'a',
            'ç' => 'c',
            'è'..='ë' => 'e',
            'ì'..='ï' => 'i',
            'ñ' => 'n',
            'ò'..='ö' | 'ø' => 'o',
            'ù'..='ü' => 'u',
            'ý' | 'ÿ' => 'y',
            other => other,
        });
    }
}

/// One maximal run of word characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Word {
    /// Position in the text, in characters.
    pub chars: Range<usize>,
    /// Position of the folded form in [`Words::folded`], in bytes.
    folded: Range<usize>,
}

/// The words of one text, with their folded (lowercase, accent-free) forms kept in a single
/// string so that a large body does not cost one allocation per word.
#[derive(Debug, Clone, Default)]
pub(super) struct Words {
    folded: String,
    list: Vec<Word>,
}

impl Words {
    pub(super) fn new(chars: &[char]) -> Self {
        let mut words = Words::default();
        let mut i = 0;
        while i < chars.len() {
            if !is_word_char(chars[i]) {
                i += 1;
                continue;
            }
            let start = i;
            let folded_start = words.folded.len();
            while i < chars.len() && is_word_char(chars[i]) {
                fold_into(chars[i], &mut words.folded);
                i += 1;
            }
            words.list.push(Word {
                chars: start..i,
                folded: folded_start..words.folded.len(),
            });
        }
        words
    }

    #[cfg(test)]
    pub(super) fn list(&self) -> &[Word] {
        &self.list
    }

    pub(super) fn folded(&self, word: &Word) -> &str {
        &self.folded[word.folded.clone()]
    }

    /// The words that end at or before `pos`, nearest first.
    fn before(&self, pos: usize) -> impl Iterator<Item = &Word> {
        let idx = self.list.partition_point(|w| w.chars.end <= pos);
        self.list[..idx].iter().rev()
    }
}

/// A keyword or phrase, written folded (lowercase ASCII, no accents), one entry per word.
#[derive(Debug, Clone, Copy)]
pub(super) struct Term {
    words: &'static [&'static str],
    /// Whether the last word is a stem, matching any word that starts with it ("medisch
    /// dossier" then also finds "medisch dossiers"). The other words always match whole.
    stem: bool,
}

impl Term {
    /// Every word must match as a whole word.
    pub(super) const fn exact(words: &'static [&'static str]) -> Self {
        Term { words, stem: false }
    }

    /// The last word is a stem: `psychiat` finds psychiater, psychiatrie, psychiatrist.
    pub(super) const fn stem(words: &'static [&'static str]) -> Self {
        Term { words, stem: true }
    }

    #[cfg(test)]
    pub(super) fn words(&self) -> &'static [&'static str] {
        self.words
    }

    /// Whether the term starts at word `i`; returns where it ends (in characters).
    fn match_at(&self, chars: &[char], words: &Words, i: usize) -> Option<usize> {
        let n = self.words.len();
        let found = words.list.get(i..i.checked_add(n)?)?;
        for (k, (word, want)) in found.iter().zip(self.words).enumerate() {
            let got = words.folded(word);
            let ok = if self.stem && k + 1 == n {
                got.starts_with(want)
            } else {
                got == *want
            };
            if !ok {
                return None;
            }
            if k > 0 && !is_phrase_gap(&chars[found[k - 1].chars.end..word.chars.start]) {
                return None;
            }
        }
        found.last().map(|w| w.chars.end)
    }
}

/// Words of a phrase may be separated by a little white space or a hyphen ("sofi-nummer",
/// "burn-out", a line wrap in "medisch\ndossier"), but not by punctuation: "... medisch.
/// Dossier ..." is two sentences.
fn is_phrase_gap(gap: &[char]) -> bool {
    (1..=3).contains(&gap.len()) && gap.iter().all(|&c| c.is_whitespace() || is_dash(c))
}

/// Every occurrence of every term: (index into `terms`, character range).
pub(super) fn find_terms(
    chars: &[char],
    words: &Words,
    terms: &[Term],
) -> Vec<(usize, Range<usize>)> {
    let mut hits = Vec::new();
    for (i, word) in words.list.iter().enumerate() {
        for (t, term) in terms.iter().enumerate() {
            if let Some(end) = term.match_at(chars, words, i) {
                hits.push((t, word.chars.start..end));
            }
        }
    }
    hits
}

/// Whether any keyword hit lies within [`KEYWORD_WINDOW`] characters before or after `target`.
pub(super) fn near(hits: &[Range<usize>], target: &Range<usize>) -> bool {
    hits.iter().any(|h| {
        (h.end <= target.start && target.start - h.end <= KEYWORD_WINDOW)
            || (h.start >= target.end && h.start - target.end <= KEYWORD_WINDOW)
    })
}

/// The values `accept` makes of the candidates that have a keyword within
/// [`KEYWORD_WINDOW`]. For the identity numbers, whose check digits alone pass one random
/// number in ten to a hundred: the keyword says what the number is.
pub(super) fn keyword_confirmed(
    chars: &[char],
    words: &Words,
    numbers: &[NumberCandidate],
    keywords: &[Term],
    // A plain function, not a generic closure: one copy of this loop in the wasm module.
    accept: fn(&NumberCandidate) -> Option<String>,
) -> Vec<String> {
    let mut hits = None;
    let mut found = Vec::new();
    for number in numbers {
        let Some(value) = accept(number) else {
            continue;
        };
        // Keyword search is the expensive part; do it only once a number validates.
        let hits = hits.get_or_insert_with(|| {
            find_terms(chars, words, keywords)
                .into_iter()
                .map(|(_, r)| r)
                .collect::<Vec<_>>()
        });
        if near(hits, &number.range) {
            found.push(value);
        }
    }
    found
}

/// The value of a run of ASCII digits; `None` for anything else (or more than 19 digits).
pub(super) fn digits_value(digits: &str) -> Option<u64> {
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    digits.bytes().try_fold(0u64, |acc, b| {
        b.is_ascii_digit().then(|| acc * 10 + u64::from(b - b'0'))
    })
}

/// A number that could be a BSN or a card number: one compact run of digits, one token of
/// groups joined by the same punctuation ("1234.56.782", "4111-1111-1111-1111"), or several
/// compact runs joined by single spaces ("123 456 782").
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NumberCandidate {
    pub range: Range<usize>,
    pub digits: String,
    /// Digit count of each group: `[9]` for a compact number, `[4, 2, 3]` for "1234.56.782".
    pub groups: Vec<usize>,
    /// The separator between the groups: `None` for a compact number, `-` for any dash,
    /// [`MIXED_SEP`] when the groups of one token are joined by different punctuation.
    pub sep: Option<char>,
}

/// The `sep` of "85.07.30-033.28": dots and a dash in one token.
pub(super) const MIXED_SEP: char = '*';

/// No detector looks at fewer digits (a legacy BSN has 8) or more (the longest card has 19).
const MIN_DIGITS: usize = 8;
const MAX_DIGITS: usize = 19;
/// At most 5 space-separated groups make one number (4-4-4-4-3 for a 19-digit card).
const MAX_SPACED_GROUPS: usize = 5;
/// A space-separated neighbour of at most this many digits suggests the candidate is one group
/// of a longer written number: "+31 612345678", "06 12345678", a grouped account number.
const SHORT_GROUP: usize = 4;
/// How far back (in characters) the label of a number is looked for.
const LABEL_CHARS: usize = 30;

/// Words between a label and its number that say nothing themselves: "order *number is*
/// 123", "KvK-*nr*. 123". Skipped when looking for the label.
const FILLER_WORDS: &[&str] = &[
    "nr", "no", "num", "nummer", "number", "is", "are", "was", "van", "of", "de", "het", "een",
    "the", "a", "an", "uw", "je", "jouw", "ons", "onze", "your", "our", "his", "her", "zijn",
    "haar", "mijn", "my", "id",
];

/// Labels that say a number is something else. A BSN keyword 50 characters away does not make
/// "KvK-nummer 12345678" a BSN; nor is "Ordernummer 4111111111111111" a card being leaked.
/// Dutch, English, German and French; separated by spaces (smaller in the wasm module than a
/// slice).
const OTHER_LABELS: &str =
    "kvk kvknummer kvknr coc btw btwnummer vat tel telnr telefoon telefoonnummer phone \
    mobiel mobile mob fax gsm order ordernr ordernummer bestelnummer bestelnr factuur \
    factuurnr factuurnummer invoice klantnummer klantnr dossiernummer dossiernr zaaknummer \
    debiteurnummer ref referentie reference kenmerk betalingskenmerk ticket tracking \
    trackingnummer track zendingnummer pakket polis polisnummer contract contractnummer \
    artikel artikelnummer sku ean isbn postbus rekening rekeningnummer account build \
    versie version eur euro usd gbp rechnung rechnungsnummer rechnungsnr auftrag \
    auftragsnummer bestellung bestellnummer kundennummer kundennr mandantennummer mandant \
    aktenzeichen az steuernummer ustid hrb telefon handy kontonummer vertragsnummer \
    facture commande telephone portable contrat siret siren ondernemingsnummer case claim";

/// A run of punctuation-joined digit groups: "06-12345678", "1234.56.782", "123456782".
#[derive(Debug)]
struct Token {
    start: usize,
    end: usize,
    groups: Vec<Range<usize>>,
    sep: Sep,
    /// Touches a letter (or another word character): "NL123456782B01", "A12".
    glued: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sep {
    None,
    One(char),
    Mixed,
}

/// Punctuation that joins two digit groups into one token when it sits directly between them.
/// Comma, slash and colon are here not because a BSN or card is written with them, but so that
/// "123456782,50" or "12/123456782" is seen as one token that matches nothing.
fn punct_sep(c: char) -> Option<char> {
    match c {
        '.' | ',' | '/' | ':' => Some(c),
        c if is_dash(c) => Some('-'),
        _ => None,
    }
}

fn is_currency(c: char) -> bool {
    matches!(c, '€' | '$' | '£' | '¥')
}

fn digit_groups(chars: &[char]) -> Vec<Range<usize>> {
    let mut groups = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            groups.push(start..i);
        } else {
            i += 1;
        }
    }
    groups
}

fn tokens(chars: &[char]) -> Vec<Token> {
    let groups = digit_groups(chars);
    let mut tokens = Vec::new();
    let mut g = 0;
    while g < groups.len() {
        let first = g;
        let mut sep = Sep::None;
        while g + 1 < groups.len() && groups[g].end + 1 == groups[g + 1].start {
            let Some(s) = punct_sep(chars[groups[g].end]) else {
                break;
            };
            sep = match sep {
                Sep::None => Sep::One(s),
                Sep::One(c) if c == s => Sep::One(c),
                _ => Sep::Mixed,
            };
            g += 1;
        }
        let start = groups[first].start;
        let end = groups[g].end;
        let glued = (start > 0 && is_word_char(chars[start - 1]))
            || chars.get(end).is_some_and(|&c| is_word_char(c));
        tokens.push(Token {
            start,
            end,
            groups: groups[first..=g].to_vec(),
            sep,
            glued,
        });
        g += 1;
    }
    tokens
}

/// All numbers in `chars` that could be a BSN or a card, with the context rules that are the
/// same for both already applied: not glued to letters, not one group of a longer spaced
/// number, not a phone number or an amount, not labelled as some other kind of number.
/// Runs one number detector (`find(chars, words, numbers)`) over a text, as the scan does.
#[cfg(test)]
pub(super) fn run_detector(
    text: &str,
    find: fn(&[char], &Words, &[NumberCandidate]) -> Vec<String>,
) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let words = Words::new(&chars);
    let numbers = number_candidates(&chars, &words);
    find(&chars, &words, &numbers)
}

pub(super) fn number_candidates(chars: &[char], words: &Words) -> Vec<NumberCandidate> {
    let tokens = tokens(chars);
    let mut out = Vec::new();
    let mut c0 = 0;
    while c0 < tokens.len() {
        // A cluster: tokens joined by single spaces.
        let mut c1 = c0 + 1;
        while c1 < tokens.len()
            && tokens[c1 - 1].end + 1 == tokens[c1].start
            && is_space(chars[tokens[c1 - 1].end])
        {
            c1 += 1;
        }
        let cluster = &tokens[c0..c1];
        for i in 0..cluster.len() {
            for j in i..cluster.len().min(i + MAX_SPACED_GROUPS) {
                if let Some(candidate) = candidate(chars, &cluster[i..=j]) {
                    if isolated(chars, words, cluster, i, j) {
                        out.push(candidate);
                    }
                }
            }
        }
        c0 = c1;
    }
    out
}

fn candidate(chars: &[char], span: &[Token]) -> Option<NumberCandidate> {
    if span.iter().any(|t| t.glued) {
        return None;
    }
    let (groups, sep) = match span {
        [one] => match one.sep {
            Sep::None => (one.groups.clone(), None),
            Sep::One(c) => (one.groups.clone(), Some(c)),
            // Only the Belgian national number is written like this: "85.07.30-033.28".
            Sep::Mixed => (one.groups.clone(), Some(MIXED_SEP)),
        },
        _ => {
            if span.iter().any(|t| t.groups.len() != 1) {
                return None;
            }
            (
                span.iter().map(|t| t.groups[0].clone()).collect(),
                Some(' '),
            )
        }
    };
    let count: usize = groups.iter().map(|g| g.len()).sum();
    if !(MIN_DIGITS..=MAX_DIGITS).contains(&count) {
        return None;
    }
    let (first, last) = (span.first()?, span.last()?);
    Some(NumberCandidate {
        range: first.start..last.end,
        digits: groups.iter().flat_map(|g| &chars[g.clone()]).collect(),
        groups: groups.iter().map(|g| g.len()).collect(),
        sep,
    })
}

/// The context checks for `cluster[i..=j]`.
fn isolated(chars: &[char], words: &Words, cluster: &[Token], i: usize, j: usize) -> bool {
    if i > 0
        && cluster[i - 1]
            .groups
            .last()
            .is_some_and(|g| g.len() <= SHORT_GROUP)
    {
        return false;
    }
    if cluster
        .get(j + 1)
        .is_some_and(|t| t.groups[0].len() <= SHORT_GROUP)
    {
        return false;
    }
    let start = cluster[i].start;
    let end = cluster[j].end;
    // "+31612345678", "+ 612345678".
    let before = skip_spaces_back(chars, start);
    if before > 0 && (chars[before - 1] == '+' || is_currency(chars[before - 1])) {
        return false;
    }
    // "06 - 12345678", "(06) 12345678", "12345678 / 06": joined to a short number by
    // punctuation with spaces around it. Two long numbers ("378282246310005 / 6011...") are
    // a list, not one number.
    if before > 0 && (is_dash(chars[before - 1]) || matches!(chars[before - 1], '/' | ')')) {
        let b = skip_spaces_back(chars, before - 1);
        let digits = token_digits(chars[..b].iter().rev());
        if (1..=SHORT_GROUP).contains(&digits) {
            return false;
        }
    }
    let after = skip_spaces_fwd(chars, end);
    if chars.get(after).is_some_and(|&c| is_currency(c)) {
        return false;
    }
    if chars
        .get(after)
        .is_some_and(|&c| is_dash(c) || matches!(c, '/' | '('))
    {
        let a = skip_spaces_fwd(chars, after + 1);
        let digits = token_digits(chars[a..].iter());
        if (1..=SHORT_GROUP).contains(&digits) {
            return false;
        }
    }
    !labelled_as_other(words, start)
}

/// How many digits the token starting at the iterator's first char has, reading in the
/// iterator's direction: "6011-1111-1111-1117" has 16, not 4.
fn token_digits<'a>(chars: impl Iterator<Item = &'a char>) -> usize {
    let mut digits = 0;
    let mut prev_digit = false;
    for &c in chars {
        if c.is_ascii_digit() {
            digits += 1;
            prev_digit = true;
        } else if prev_digit && punct_sep(c).is_some() {
            prev_digit = false;
        } else {
            break;
        }
    }
    digits
}

fn skip_spaces_back(chars: &[char], mut pos: usize) -> usize {
    while pos > 0 && is_space(chars[pos - 1]) {
        pos -= 1;
    }
    pos
}

fn skip_spaces_fwd(chars: &[char], mut pos: usize) -> usize {
    while pos < chars.len() && is_space(chars[pos]) {
        pos += 1;
    }
    pos
}

/// Whether the nearest meaningful word before `start` labels the number as something else.
/// Only the nearest one decides: in "KvK 33000001, BSN 123456782" the BSN's label is "BSN".
fn labelled_as_other(words: &Words, start: usize) -> bool {
    words
        .before(start)
        .take_while(|w| start - w.chars.end <= LABEL_CHARS)
        .map(|w| words.folded(w))
        .find(|w| !FILLER_WORDS.contains(w))
        .is_some_and(|w| OTHER_LABELS.split(' ').any(|label| label == w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    fn folded(s: &str) -> Vec<String> {
        let c = chars(s);
        let w = Words::new(&c);
        w.list.iter().map(|x| w.folded(x).to_string()).collect()
    }

    fn numbers(s: &str) -> Vec<(String, Vec<usize>, Option<char>)> {
        let c = chars(s);
        let w = Words::new(&c);
        number_candidates(&c, &w)
            .into_iter()
            .map(|n| (n.digits, n.groups, n.sep))
            .collect()
    }

    #[test]
    fn words_fold_case_and_accents_composed_or_not() {
        assert_eq!(folded("Patiënt PATIËNT patie\u{308}nt"), ["patient"; 3]);
        assert_eq!(folded("BSN_123.pdf"), ["bsn", "123", "pdf"]);
        assert_eq!(folded("burn-out, café"), ["burn", "out", "cafe"]);
    }

    #[test]
    fn phrases_allow_spaces_and_hyphens_but_not_punctuation() {
        const T: &[Term] = &[
            Term::exact(&["sofi", "nummer"]),
            Term::stem(&["medisch", "dossier"]),
        ];
        for (text, hits) in [
            ("sofi-nummer", 1),
            ("sofi nummer", 1),
            ("Sofi\nnummer", 1),
            ("sofi. nummer", 0),
            ("sofi      nummer", 0),
            ("sofinummer", 0),
            ("medisch dossiers", 1),
            ("medische dossier", 0),
            ("medisch dossier medisch dossier", 2),
        ] {
            let c = chars(text);
            assert_eq!(find_terms(&c, &Words::new(&c), T).len(), hits, "{text}");
        }
    }

    #[test]
    fn keyword_window_is_sixty_characters_either_side() {
        let target = 100..109;
        let hit = |r: Range<usize>| near(std::slice::from_ref(&r), &target);
        assert!(hit(37..40));
        assert!(!hit(30..39));
        assert!(hit(169..172));
        assert!(!hit(170..173));
    }

    #[test]
    fn compact_dotted_and_spaced_numbers_are_candidates() {
        assert_eq!(
            numbers("nr 123456782."),
            [("123456782".into(), vec![9], None)]
        );
        assert_eq!(
            numbers("x 1234.56.782 y"),
            [("123456782".into(), vec![4, 2, 3], Some('.'))]
        );
        assert_eq!(
            numbers("x 123 456 782 y"),
            [("123456782".into(), vec![3, 3, 3], Some(' '))]
        );
        assert_eq!(
            numbers("4111\u{a0}1111\u{a0}1111\u{a0}1111"),
            [("4111111111111111".into(), vec![4, 4, 4, 4], Some(' '))]
        );
        assert_eq!(
            numbers("4111\u{2011}1111\u{2011}1111\u{2011}1111"),
            [("4111111111111111".into(), vec![4, 4, 4, 4], Some('-'))]
        );
        // Two long numbers in a row are both candidates (and so is the pair, which no format
        // accepts).
        let two: Vec<_> = numbers("123456782 111222333")
            .into_iter()
            .map(|n| n.0)
            .collect();
        assert_eq!(two, ["123456782", "123456782111222333", "111222333"]);
        // So are two long numbers separated by a spaced slash or dash.
        for list in ["123456782 / 111222333", "123456782 - 6011-1111-1111-1117"] {
            assert_eq!(numbers(list).len(), 2, "{list}");
        }
    }

    #[test]
    fn numbers_in_context_are_not_split_into_candidates() {
        for text in [
            "NL123456782B01",
            "ABC123456782",
            "123456782x",
            "06-12345678",
            "06 12345678",
            "06 - 12345678",
            "(06) 12345678",
            "+31 612345678",
            "+31612345678",
            "+ 612345678",
            "0031 612345678",
            "€ 123456782",
            "€123.456.789",
            "123456782 €",
            "123456782,50",
            "12/123456782",
            "1234 5678 9012 3456 7890",
            "KvK 12345678",
            "KvK-nr. 12345678",
            "Ordernummer: 123456782",
            "your order number is 123456782",
            "1234567",
            "12345678901234567890",
        ] {
            // At most the whole number is a candidate (which no detector's format accepts),
            // never the part that looks like a BSN or card on its own.
            let all: String = text.chars().filter(char::is_ascii_digit).collect();
            let found = numbers(text);
            assert!(found.iter().all(|(d, _, _)| *d == all), "{text}: {found:?}");
        }
    }

    #[test]
    fn only_the_nearest_label_counts() {
        assert_eq!(numbers("KvK 33000001, BSN 123456782").len(), 1);
        assert_eq!(numbers("KvK-nummer: 12345678").len(), 0);
        assert_eq!(numbers("Your order number is 123456782").len(), 0);
        assert_eq!(numbers("Order: see below. Number 123456782").len(), 1);
        assert_eq!(
            numbers("Het ordernummer staat hieronder, dit is het andere nummer 123456782").len(),
            1
        );
    }
}
