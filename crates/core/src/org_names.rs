//! The names an organisation goes by in subjects and file names, and how they are found there.
//!
//! A name comes from the domain (`klantbedrijf` of klantbedrijf.nl, and the distinctive parts
//! of a hyphenated label: `noordzorg` of noordzorg-ggz.nl) or from the display name of an
//! organisation's own mailbox seen in history or the address book ("Noordzorg GGZ" on
//! hr@nzg.nl, "Steuerkanzlei Weber GmbH"). Names are compared folded (lower-case letters and
//! digits only) and only at word boundaries: `noordzorg` is in "Verzuim_Noordzorg_nov.pdf"
//! and "VerzuimNoordzorg.pdf", not in "Noordzorgen.pdf". Sector, department and legal-form
//! words are never names on their own: they are in every other file name.

use std::collections::HashSet;

/// Shorter names are not looked for: too many of them are words or initials.
pub const MIN_NAME_LENGTH: usize = 5;

/// Longest run of words compared with names (a domain label has at most 63 characters).
const MAX_NAME_LENGTH: usize = 64;

/// Words that are in file names and subjects everywhere, or describe a kind of organisation
/// rather than name one: document types, sectors, departments, in Dutch, German, French and
/// English. Folded. Only words of [`MIN_NAME_LENGTH`] or more matter here.
const GENERIC: &[&str] = &[
    // Documents and office words.
    "factuur",
    "facturen",
    "offerte",
    "invoice",
    "invoices",
    "contract",
    "report",
    "rapport",
    "document",
    "documenten",
    "dokument",
    "dokumente",
    "scan",
    "online",
    "service",
    "services",
    "jaarrekening",
    "loonstrook",
    "loonstroken",
    "salaris",
    "payroll",
    "planning",
    "overzicht",
    "bijlage",
    "notulen",
    "agenda",
    "budget",
    "begroting",
    "project",
    "projekt",
    "advies",
    "kantoor",
    "office",
    "rechnung",
    "angebot",
    "vertrag",
    "bericht",
    "anlage",
    "lohnabrechnung",
    "facture",
    "devis",
    "contrat",
    "annexe",
    "proposal",
    "statement",
    "summary",
    "update",
    "newsletter",
    "nieuwsbrief",
    "mandanteninformation",
    "draft",
    "concept",
    "entwurf",
    "final",
    // Kinds of organisation.
    "groep",
    "group",
    "gruppe",
    "groupe",
    "holding",
    "bedrijf",
    "company",
    "firma",
    "partners",
    "partner",
    "consulting",
    "consultancy",
    "consult",
    "beratung",
    "conseil",
    "solutions",
    "systems",
    "software",
    "digital",
    "media",
    "design",
    "technology",
    "technologies",
    "tech",
    "international",
    "global",
    "europe",
    "nederland",
    "deutschland",
    "belgie",
    "belgique",
    "advocaten",
    "advocatuur",
    "notaris",
    "notarissen",
    "accountants",
    "accountancy",
    "kanzlei",
    "steuerberatung",
    "steuerberater",
    "steuerbuero",
    "steuerburo",
    "treuhand",
    "rechtsanwalte",
    "rechtsanwaelte",
    "avocats",
    "lawyers",
    "attorneys",
    "legal",
    "bakkerij",
    "baeckerei",
    "backerei",
    "boulangerie",
    "bakery",
    "transport",
    "logistiek",
    "logistik",
    "logistics",
    "logistique",
    "installatietechniek",
    "techniek",
    "technik",
    "bouw",
    "bouwbedrijf",
    "construction",
    "immobilien",
    "vastgoed",
    "makelaars",
    "realty",
    "verzekeringen",
    "versicherung",
    "versicherungen",
    "assurances",
    "insurance",
    "finance",
    "financial",
    "capital",
    "invest",
    "bank",
    "energie",
    "energy",
    "zorg",
    "zorggroep",
    "thuiszorg",
    "ziekenhuis",
    "kliniek",
    "klinik",
    "clinic",
    "hopital",
    "hospital",
    "praktijk",
    "praxis",
    "tandarts",
    "tandartspraktijk",
    "huisartsenpraktijk",
    "apotheek",
    "apotheke",
    "pharmacie",
    "pharmacy",
    "medical",
    "health",
    "healthcare",
    "gemeente",
    "stadt",
    "ville",
    "school",
    "schule",
    "college",
    "universiteit",
    "university",
    "stichting",
    "stiftung",
    "fondation",
    "foundation",
    "vereniging",
    "verein",
    "association",
    // Departments.
    "personeelszaken",
    "personeel",
    "personal",
    "personalabteilung",
    "ressources",
    "humaines",
    "administratie",
    "administration",
    "verwaltung",
    "boekhouding",
    "buchhaltung",
    "comptabilite",
    "accounting",
    "accounts",
    "secretariaat",
    "sekretariat",
    "secretariat",
    "management",
    "directie",
    "geschaftsfuhrung",
    "direction",
    "support",
    "sales",
    "verkoop",
    "vertrieb",
    "marketing",
    "receptie",
    "empfang",
    "reception",
    "helpdesk",
    "team",
];

/// Legal forms: part of a display name, never the name.
const LEGAL_FORMS: &[&str] = &[
    "bv", "nv", "vof", "cv", "vzw", "asbl", "bvba", "sprl", "srl", "sa", "sas", "sarl", "scs",
    "gmbh", "ag", "kg", "ohg", "ug", "gbr", "ev", "mbh", "co", "ltd", "llc", "llp", "inc", "plc",
    "corp", "lp", "pllc",
];

/// Local parts of an organisation's own mailboxes, whose display name is the organisation's.
const ROLE_MAILBOXES: &[&str] = &[
    "info",
    "office",
    "kontakt",
    "contact",
    "hr",
    "pz",
    "personeelszaken",
    "personal",
    "administratie",
    "admin",
    "administration",
    "finance",
    "financien",
    "boekhouding",
    "buchhaltung",
    "comptabilite",
    "billing",
    "accounts",
    "invoices",
    "facturen",
    "facturatie",
    "rechnungen",
    "factures",
    "secretariaat",
    "sekretariat",
    "secretariat",
    "praxis",
    "post",
    "mail",
    "team",
    "sales",
    "support",
    "hello",
    "welcome",
    "receptie",
    "empfang",
    "reception",
    "service",
    "klantenservice",
    "kundenservice",
    "zentrale",
    "algemeen",
];

/// Lower-case letters and digits only: `Bakkerij-De Vries_2025` -> `bakkerijdevries2025`.
pub fn fold(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn is_name(folded: &str) -> bool {
    folded.chars().count() >= MIN_NAME_LENGTH
        && !folded.chars().all(|c| c.is_ascii_digit())
        && !GENERIC.contains(&folded)
}

/// The names in a domain's registrable label: the whole label without hyphens, and each
/// hyphen-separated part that is a name itself (`noordzorg` of `noordzorg-ggz`, not
/// `bakkerij` of `bakkerij-devries`).
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

/// The organisation names in the display name of an organisation's mailbox: only for role
/// mailboxes (info@, hr@, ...) or names with a legal form ("Weber GmbH"), since everyone
/// else's display name is a person's. Each part between separators ("Noordzorg GGZ -
/// Personeelszaken") without its legal form is one name.
pub fn display_name_names(mailbox: &str, display_name: &str) -> Vec<String> {
    let is_legal_form = |w: &str| LEGAL_FORMS.contains(&fold(w).as_str());
    let has_legal_form = display_name
        .split(|c: char| !c.is_alphanumeric() && c != '.')
        .any(|w| !w.is_empty() && is_legal_form(w));
    let role = ROLE_MAILBOXES.contains(&fold(mailbox).as_str());
    if !role && !has_legal_form {
        return Vec::new();
    }
    let mut names = Vec::new();
    for segment in display_name.split(['-', '–', '|', ',', '(', ')', ':', '/', '@']) {
        let words: Vec<&str> = segment
            .split_whitespace()
            .filter(|w| !is_legal_form(w))
            .collect();
        let name = fold(&words.concat());
        if is_name(&name) && !names.contains(&name) {
            names.push(name);
        }
    }
    names
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
    let mut previous: Option<char> = None;
    for c in text.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            previous = None;
            continue;
        }
        let boundary = previous.is_some_and(|p| {
            (p.is_lowercase() && c.is_uppercase()) || (p.is_numeric() != c.is_numeric())
        });
        if boundary && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        current.extend(c.to_lowercase());
        previous = Some(c);
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
        assert!(!has("Jaarrekening_Organisatie12-Zorg.pdf", "organisatie1"));
    }

    #[test]
    fn generic_words_are_never_names() {
        for word in GENERIC {
            assert_eq!(fold(word), *word, "{word} is folded");
        }
        for mailbox in ROLE_MAILBOXES {
            assert_eq!(fold(mailbox), *mailbox, "{mailbox} is folded");
        }
    }
}
