//! The names an organisation goes by in subjects and file names, and how they are found there.
//!
//! A name comes from the domain (`klantbedrijf` of klantbedrijf.nl, and the distinctive parts
//! of a hyphenated label: `noordzorg` of noordzorg-ggz.nl) or from the display name of an
//! organisation's own mailbox seen in history or the address book ("Noordzorg GGZ" on
//! hr@nzg.nl, "Steuerkanzlei Weber GmbH"). Names are compared folded (lower-case letters and
//! digits only, umlauts written out as domains write them) and only at word boundaries: `noordzorg` is in "Verzuim_Noordzorg_nov.pdf"
//! and "VerzuimNoordzorg.pdf", not in "Noordzorgen.pdf". Sector, department and legal-form
//! words are never names on their own: they are in every other file name.

use std::collections::HashSet;

/// Shorter names are not looked for: too many of them are words or initials.
pub const MIN_NAME_LENGTH: usize = 5;

/// Longest run of words compared with names (a domain label has at most 63 characters).
const MAX_NAME_LENGTH: usize = 64;

/// Words that are in file names and subjects everywhere, or describe a kind of organisation
/// rather than name one: document types and office words, kinds of organisation, departments,
/// in Dutch, German, French and English. Folded, separated by spaces (one string is smaller in
/// the wasm module than a slice of them). Only words of [`MIN_NAME_LENGTH`] or more matter.
const GENERIC: &str =
    "factuur facturen offerte invoice invoices contract report rapport document documenten \
    dokument dokumente scan online service services jaarrekening loonstrook loonstroken \
    salaris payroll planning overzicht bijlage notulen agenda budget begroting project \
    projekt advies kantoor office rechnung angebot vertrag bericht anlage lohnabrechnung \
    facture devis contrat annexe proposal statement summary update newsletter nieuwsbrief \
    mandanteninformation draft concept entwurf final groep group gruppe groupe holding \
    bedrijf company firma partners partner consulting consultancy consult beratung conseil \
    solutions systems software digital media design technology technologies tech \
    international global europe nederland deutschland belgie belgique advocaten advocatuur \
    notaris notarissen accountants accountancy kanzlei steuerberatung steuerberater \
    steuerbuero steuerburo treuhand rechtsanwalte rechtsanwaelte avocats lawyers attorneys \
    legal bakkerij baeckerei backerei boulangerie bakery transport logistiek logistik \
    logistics logistique installatietechniek techniek technik bouw bouwbedrijf \
    construction immobilien vastgoed makelaars realty verzekeringen versicherung \
    versicherungen assurances insurance finance financial capital invest bank energie \
    energy zorg zorggroep thuiszorg ziekenhuis kliniek klinik clinic hopital hospital \
    praktijk praxis tandarts tandartspraktijk huisartsenpraktijk apotheek apotheke \
    pharmacie pharmacy medical health healthcare gemeente stadt ville school schule \
    college universiteit university stichting stiftung fondation foundation vereniging \
    verein association personeelszaken personeel personal personalabteilung ressources \
    humaines administratie administration verwaltung boekhouding buchhaltung comptabilite \
    accounting accounts secretariaat sekretariat secretariat management directie \
    geschaeftsfuehrung direction support sales verkoop vertrieb marketing receptie empfang \
    reception helpdesk team";

/// The most common surnames of the Netherlands, Belgium, Germany, France, the UK and the US
/// (of [`MIN_NAME_LENGTH`] or more letters, folded, umlauts also as "ue"). Lohnbüro Schulz is
/// lohnbuero-schulz.de, but "AU_Schulz.pdf" is far more often about an employee called Schulz:
/// such a part of a domain names the organisation only when someone there carries the name
/// (Sabine Krüger of krueger-immobilien.de). The whole label always does.
const COMMON_SURNAMES: &str =
    "muller mueller schmidt schneider fischer weber meyer meier wagner becker schulz \
    schulze hoffmann hofmann schafer schaefer bauer richter klein schroder schroeder \
    neumann schwarz zimmermann braun kruger krueger hartmann lange schmitt werner schmitz \
    krause lehmann schmid maier mayer kohler koehler herrmann konig koenig walter huber \
    kaiser fuchs peters scholz moller moeller schubert vogel friedrich keller gunther \
    frank berger winkler lorenz baumann albrecht ludwig simon engel busch bergmann sommer \
    jansen janssen devries vandenberg vandijk bakker visser meijer deboer mulder degroot \
    hendriks vanleeuwen dekker brouwer dewit dijkstra smits degraaf vandermeer dejong \
    peeters janssens jacobs mertens willems claes goossens wouters desmet dubois lambert \
    dupont martens martin bernard thomas petit robert richard durand moreau laurent michel \
    lefebvre leroy david bertrand morel fournier girard smith johnson williams brown jones \
    miller davis garcia wilson taylor anderson moore jackson white harris clark lewis \
    robinson walker young allen wright scott green adams baker nelson carter mitchell \
    roberts turner phillips campbell parker evans edwards collins morgan";

/// Legal forms: part of a display name, never the name. Separated by spaces.
const LEGAL_FORMS: &str =
    "bv nv vof cv vzw asbl bvba sprl srl sa sas sarl scs gmbh ag kg ohg ug gbr ev mbh co \
    ltd llc llp inc plc corp lp pllc";

/// Local parts of an organisation's own mailboxes, whose display name is the organisation's.
/// Separated by spaces.
const ROLE_MAILBOXES: &str =
    "info office kontakt contact hr pz personeelszaken personal administratie admin \
    administration finance financien boekhouding buchhaltung comptabilite billing accounts \
    invoices facturen facturatie rechnungen factures secretariaat sekretariat secretariat \
    praxis post mail team sales support hello welcome receptie empfang reception service \
    klantenservice kundenservice zentrale algemeen";

/// Lower-case letters and digits only, umlauts and ß written out: `Bakkerij-De Vries_2025`
/// -> `bakkerijdevries2025`, `Krüger` -> `krueger` (as in krueger-immobilien.de).
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().filter(|c| c.is_alphanumeric()) {
        push_folded(c, &mut out);
    }
    out
}

fn push_folded(c: char, out: &mut String) {
    for l in c.to_lowercase() {
        match l {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            _ => out.push(l),
        }
    }
}

/// Whether `word` is one of the space-separated `words`.
fn listed(words: &str, word: &str) -> bool {
    words.split(' ').any(|w| w == word)
}

fn is_name(folded: &str) -> bool {
    folded.chars().count() >= MIN_NAME_LENGTH
        && !folded.chars().all(|c| c.is_ascii_digit())
        && !listed(GENERIC, folded)
}

/// The names in a domain's registrable label: the whole label without hyphens, and each
/// hyphen-separated part that is a name itself (`noordzorg` of `noordzorg-ggz`, not
/// `bakkerij` of `bakkerij-devries`). See [`is_common_surname`] for parts like `schulz`.
pub fn label_names(label: &str) -> Vec<String> {
    let mut names = Vec::new();
    let whole = fold(label);
    if is_name(&whole) {
        names.push(whole);
    }
    if label.contains('-') {
        for part in label.split('-').map(fold) {
            if is_name(&part) && !names.contains(&part) {
                names.push(part);
            }
        }
    }
    names
}

/// Whether a name is one of the most common surnames (see [`COMMON_SURNAMES`]).
pub fn is_common_surname(name: &str) -> bool {
    listed(COMMON_SURNAMES, name)
}

/// Whether a display name (normalised, words separated by spaces) has `name` as one of its
/// words, folded: "sabine krüger" has `krueger`.
pub fn display_name_has_word(display_name: &str, name: &str) -> bool {
    display_name.split(' ').any(|word| fold(word) == name)
}

/// The organisation names in the display name of an organisation's mailbox: only for role
/// mailboxes (info@, hr@, ...) or names with a legal form ("Weber GmbH"), since everyone
/// else's display name is a person's. Each part between separators ("Noordzorg GGZ -
/// Personeelszaken") without its legal form is one name.
pub fn display_name_names(mailbox: &str, display_name: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut has_legal_form = false;
    for segment in display_name.split(is_segment_break) {
        let mut name = String::new();
        for word in segment.split(' ').map(fold) {
            if listed(LEGAL_FORMS, &word) {
                has_legal_form = true;
            } else {
                name.push_str(&word);
            }
        }
        if is_name(&name) && !names.contains(&name) {
            names.push(name);
        }
    }
    if has_legal_form || listed(ROLE_MAILBOXES, &fold(mailbox)) {
        names
    } else {
        Vec::new()
    }
}

/// What separates the parts of an organisation's display name: "Noordzorg GGZ -
/// Personeelszaken", "Brightline Labs, Inc.", "Praxis Dr. Hoffmann (Empfang)".
fn is_segment_break(c: char) -> bool {
    matches!(c, '-' | '–' | '|' | ',' | '(' | ')' | ':' | '/' | '@')
}

/// Every run of consecutive words of `text`, folded and concatenated: a name is in the text
/// exactly when it is one of these. Words break at anything not a letter or digit, where a
/// lower-case letter meets a capital ("JaarrekeningNoordzorg") and where letters meet digits
/// ("Klantbedrijf2025").
pub fn word_runs(text: &str) -> HashSet<String> {
    let words = words(text);
    let mut runs = HashSet::new();
    for start in 0..words.len() {
        let mut run = String::new();
        for word in &words[start..] {
            run.push_str(word);
            if run.len() > MAX_NAME_LENGTH {
                break;
            }
            runs.insert(run.clone());
        }
    }
    runs
}

fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous: Option<(char, bool)> = None;
    for c in text.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            previous = None;
            continue;
        }
        // A capital is a letter that lower-casing changes (no separate case tables in the
        // wasm module for this).
        let capital = c.to_lowercase().next() != Some(c);
        let boundary = previous.is_some_and(|(p, p_capital)| {
            let p_small_letter = !p.is_ascii_digit() && !p_capital;
            (p_small_letter && capital) || (p.is_ascii_digit() != c.is_ascii_digit())
        });
        if boundary && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        push_folded(c, &mut current);
        previous = Some((c, capital));
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has(text: &str, name: &str) -> bool {
        word_runs(text).contains(name)
    }

    #[test]
    fn names_from_labels() {
        assert_eq!(label_names("klantbedrijf"), ["klantbedrijf"]);
        assert_eq!(label_names("noordzorg-ggz"), ["noordzorgggz", "noordzorg"]);
        assert_eq!(
            label_names("bakkerij-devries"),
            ["bakkerijdevries", "devries"]
        );
        assert_eq!(label_names("kanzlei-weber"), ["kanzleiweber", "weber"]);
        assert_eq!(label_names("acme-logistics"), ["acmelogistics"]);
        assert_eq!(
            label_names("organisatie12-zorg"),
            ["organisatie12zorg", "organisatie12"]
        );
        assert!(label_names("ggz").is_empty());
        assert!(label_names("software").is_empty());
        assert!(label_names("2025").is_empty());
    }

    #[test]
    fn common_surnames_and_the_people_who_carry_them() {
        assert!(is_common_surname("schulz") && is_common_surname("devries"));
        assert!(!is_common_surname("noordzorg") && !is_common_surname("lindenhof"));
        assert!(display_name_has_word("sabine krüger", "krueger"));
        assert_eq!(fold("Müller-Straße"), "muellerstrasse");
        assert!(display_name_has_word("piet de vries", "vries"));
        assert!(!display_name_has_word("lohnbüro schulz gmbh", "krueger"));
    }

    #[test]
    fn names_from_display_names_of_organisation_mailboxes() {
        assert_eq!(
            display_name_names("hr", "Noordzorg GGZ - Personeelszaken"),
            ["noordzorgggz"]
        );
        assert_eq!(
            display_name_names("lohn", "Steuerkanzlei Weber GmbH"),
            ["steuerkanzleiweber"]
        );
        assert_eq!(
            display_name_names("info", "Brightline Labs, Inc."),
            ["brightlinelabs"]
        );
        // A person's display name is not an organisation's.
        assert!(display_name_names("jan.jansen", "Jan Jansen").is_empty());
        assert!(display_name_names("k.weber", "Weber, Katrin").is_empty());
    }

    #[test]
    fn names_are_found_at_word_boundaries_only() {
        for text in [
            "Verzuim_Noordzorg_nov.pdf",
            "VerzuimNoordzorg.pdf",
            "Noordzorg2025.xlsx",
            "Re: rooster NOORDZORG",
            "verzuim noordzorg.pdf",
        ] {
            assert!(has(text, "noordzorg"), "{text}");
        }
        for text in ["Noordzorgen.pdf", "Tnoordzorg.pdf", "noordzorgrapport.pdf"] {
            assert!(!has(text, "noordzorg"), "{text}");
        }
        // Multi-word names span words, with or without separators between them.
        assert!(has(
            "Loonstroken Bakkerij De Vries november",
            "bakkerijdevries"
        ));
        assert!(has("Loonstroken Bakkerij-DeVries.xlsx", "bakkerijdevries"));
        assert!(has("Jaarrekening_Klantbedrijf_2025.pdf", "klantbedrijf"));
        assert!(
            has("Nebenkosten_Krüger.pdf", "krueger"),
            "umlauts as in the domain"
        );
        assert!(!has("Jaarrekening_Organisatie12-Zorg.pdf", "organisatie1"));
    }

    #[test]
    fn generic_words_are_never_names() {
        for list in [GENERIC, COMMON_SURNAMES, LEGAL_FORMS, ROLE_MAILBOXES] {
            for word in list.split(' ') {
                assert!(!word.is_empty(), "one space between words");
                assert_eq!(fold(word), word, "{word} is folded");
            }
        }
        assert!(!is_name("software") && !is_name("personeelszaken") && is_name("noordzorg"));
    }
}
