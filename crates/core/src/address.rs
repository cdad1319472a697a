//! Recipient addresses: parse the forms mail clients hand us, normalise for comparison, and
//! find the organisation (registrable domain) behind a domain.
//!
//! We parse the narrow set of forms check-v1 allows (`addr`, `Name <addr>`,
//! `"Last, First" <addr>`, structured objects) ourselves instead of pulling a full RFC 5322
//! parser: those crates bring character-set decoding tables that would land in the
//! send-time WebAssembly module (see docs/adr/0001). The hard parts are delegated: IDNA via
//! `idna` (UTS 46), the Public Suffix List via `publicsuffix` with the list embedded as data,
//! confusable skeletons via `unicode-security` (UTS 39).

use std::fmt;
use std::sync::OnceLock;

use publicsuffix::{List, Psl};

use crate::draft::Recipient;

/// Why a string is not a usable recipient address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("is empty")]
    Empty,
    #[error("'{0}' has no '@'")]
    NoAt(String),
    #[error("'{0}' has an empty local part")]
    EmptyLocal(String),
    #[error("'{0}' has an invalid local part")]
    InvalidLocal(String),
    #[error("'{0}' has an invalid domain")]
    InvalidDomain(String),
    #[error("'{0}' has an unclosed '<' or quote")]
    Unbalanced(String),
}

/// A parsed, normalised mail address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// The address as the draft wrote it (without display name), for messages.
    pub written: String,
    pub display_name: Option<String>,
    /// Local part, lower-cased, with any `+tag`.
    pub local: String,
    /// Local part without `+tag` (and without dots at Gmail): the mailbox's identity.
    pub mailbox: String,
    /// Domain in ASCII (punycode), lower-case, no trailing dot.
    pub domain: String,
    /// Domain in Unicode, lower-case.
    pub domain_unicode: String,
    /// Domain exactly as written, decoded from punycode when it was (case kept), so that
    /// `klantbedrijf.nI` can be recognised as a homoglyph of `klantbedrijf.nl`.
    pub domain_as_written: String,
    /// The organisation's domain: registrable domain per the Public Suffix List, in ASCII.
    pub registrable: String,
    /// The public suffix of the domain, in ASCII (`nl`, `co.uk`).
    pub suffix: String,
}

impl Address {
    /// The identity used to recognise the same mailbox across messages.
    pub fn canonical(&self) -> String {
        format!("{}@{}", self.mailbox, self.domain)
    }

    /// The address in Unicode form for people to read.
    pub fn display(&self) -> String {
        format!("{}@{}", self.local, self.domain_unicode)
    }

    /// The registrable domain without its public suffix: `klant-bedrijf` for
    /// `mail.klant-bedrijf.co.uk`.
    pub fn org_label(&self) -> &str {
        org_label(&self.registrable, &self.suffix)
    }

    /// Whether the domain was written in a non-ASCII or punycode form.
    pub fn is_idn(&self) -> bool {
        self.domain
            .split('.')
            .any(|label| label.starts_with("xn--"))
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.written)
    }
}

/// The registrable label: `registrable` minus `.suffix`.
pub fn org_label<'a>(registrable: &'a str, suffix: &str) -> &'a str {
    registrable
        .strip_suffix(suffix)
        .and_then(|rest| rest.strip_suffix('.'))
        .filter(|label| !label.is_empty())
        .unwrap_or(registrable)
}

/// Parses a check-v1 Recipient.
pub fn parse_recipient(recipient: &Recipient) -> Result<Address, AddressError> {
    match recipient {
        Recipient::Text(text) => parse_mailbox(text),
        Recipient::Structured { address, name } => {
            let mut parsed = parse_mailbox(address)?;
            if let Some(name) = name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
                parsed.display_name = Some(name.to_string());
            }
            Ok(parsed)
        }
    }
}

/// Parses `addr`, `<addr>`, `Name <addr>` or `"Last, First" <addr>`.
pub fn parse_mailbox(text: &str) -> Result<Address, AddressError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AddressError::Empty);
    }
    let (name, addr) = split_display_name(text)?;
    let mut address = parse_addr_spec(addr)?;
    address.display_name = name.filter(|n| !n.is_empty());
    Ok(address)
}

/// Splits `Name <addr>` into its parts; a bare address has no name.
fn split_display_name(text: &str) -> Result<(Option<String>, &str), AddressError> {
    if !text.ends_with('>') {
        if text.contains('<') {
            return Err(AddressError::Unbalanced(text.to_string()));
        }
        return Ok((None, strip_matching(text, '\'', '\'')));
    }
    // The angle bracket that opens the address is the last '<' outside a quoted name.
    let mut in_quotes = false;
    let mut escaped = false;
    let mut open = None;
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            '<' if !in_quotes => open = Some(i),
            _ => {}
        }
    }
    let open = open.ok_or_else(|| AddressError::Unbalanced(text.to_string()))?;
    let addr = text[open + 1..text.len() - 1].trim();
    let name = unquote_display_name(text[..open].trim())?;
    Ok((Some(name), addr))
}

fn strip_matching(text: &str, open: char, close: char) -> &str {
    text.strip_prefix(open)
        .and_then(|t| t.strip_suffix(close))
        .unwrap_or(text)
}

/// `"Jansen, Jan"` -> `Jansen, Jan`; `Jan Jansen` stays; `\"` and `\\` are unescaped;
/// runs of whitespace become one space.
fn unquote_display_name(raw: &str) -> Result<String, AddressError> {
    let mut out = String::with_capacity(raw.len());
    let mut in_quotes = false;
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => in_quotes = !in_quotes,
            '\\' if in_quotes => {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            _ => out.push(c),
        }
    }
    if in_quotes {
        return Err(AddressError::Unbalanced(raw.to_string()));
    }
    let name = out
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_matches('\'')
        .to_string();
    Ok(name)
}

/// Parses and normalises `local@domain`.
pub fn parse_addr_spec(addr: &str) -> Result<Address, AddressError> {
    let addr = addr.trim();
    if addr.is_empty() {
        return Err(AddressError::Empty);
    }
    let at = addr
        .rfind('@')
        .ok_or_else(|| AddressError::NoAt(addr.to_string()))?;
    let (local_raw, domain_raw) = (&addr[..at], &addr[at + 1..]);
    if local_raw.is_empty() {
        return Err(AddressError::EmptyLocal(addr.to_string()));
    }
    let local =
        normalise_local(local_raw).ok_or_else(|| AddressError::InvalidLocal(addr.into()))?;
    let domain_as_written = domain_raw.trim_end_matches('.');
    let domain = domain_to_ascii(domain_as_written)
        .ok_or_else(|| AddressError::InvalidDomain(addr.to_string()))?;
    let (domain_unicode, _) = idna::domain_to_unicode(&domain);
    let (registrable, suffix) = registrable_domain(&domain);
    let domain_as_written = if domain_as_written.is_ascii() && domain_as_written.contains("xn--") {
        // Show punycode as what it renders as, keeping the written case elsewhere.
        domain_unicode.clone()
    } else {
        domain_as_written.to_string()
    };
    let mailbox = mailbox_identity(&local, &registrable);
    Ok(Address {
        written: addr.to_string(),
        display_name: None,
        local,
        mailbox,
        domain,
        domain_unicode,
        domain_as_written,
        registrable,
        suffix,
    })
}

/// Lower-cases the local part and rejects what no mail client can send to.
fn normalise_local(local: &str) -> Option<String> {
    let quoted = local.len() >= 2 && local.starts_with('"') && local.ends_with('"');
    if local.chars().count() > 64 && !quoted {
        return None;
    }
    let forbidden = |c: char| c.is_whitespace() || c.is_control() || "<>()[]\\,;:@\"".contains(c);
    if !quoted && local.chars().any(forbidden) {
        return None;
    }
    if !quoted && (local.starts_with('.') || local.ends_with('.') || local.contains("..")) {
        return None;
    }
    Some(local.to_lowercase())
}

/// The mailbox behind a local part: `+tag` sub-addressing removed, and dots removed where the
/// provider ignores them (Gmail).
fn mailbox_identity(local: &str, registrable: &str) -> String {
    if local.starts_with('"') {
        return local.to_string();
    }
    let base = match local.split_once('+') {
        // `jan.+tag` is mailbox `jan`: a dot cannot end a local part.
        Some((base, _tag)) if !base.trim_end_matches('.').is_empty() => base.trim_end_matches('.'),
        _ => local,
    };
    if matches!(registrable, "gmail.com" | "googlemail.com") {
        base.replace('.', "")
    } else {
        base.to_string()
    }
}

/// UTS 46 to ASCII, then a strict hostname check (LDH labels, at least two labels, or an
/// address literal).
pub fn domain_to_ascii(domain: &str) -> Option<String> {
    if let Some(inner) = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
        // An RFC 5321 address literal holds dtext only: printable ASCII but `[`, `\`, `]`.
        let dtext = |b: u8| (33..=90).contains(&b) || (94..=126).contains(&b);
        return (!inner.is_empty() && inner.bytes().all(dtext))
            .then(|| domain.to_ascii_lowercase());
    }
    let ascii = idna::domain_to_ascii(domain).ok()?;
    let ascii = ascii.trim_end_matches('.');
    if ascii.is_empty() || ascii.len() > 253 || !ascii.contains('.') {
        return None;
    }
    let valid_label = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    ascii.split('.').all(valid_label).then(|| ascii.to_string())
}

/// The embedded Public Suffix List, front-coded (see [`decode_suffix_rules`]): 10 KB smaller
/// gzipped than the plain list in the WebAssembly module. `tests/public_suffix_data.rs`
/// regenerates it from `data/public_suffix_list.txt` and fails when they differ.
pub const PUBLIC_SUFFIX_DATA: &str = include_str!("../data/public_suffix_list.fc");

/// Decodes the front-coded list: one rule a line, labels reversed (`uk.co`), sorted, each
/// line starting with one character `'0' + n` meaning "the first n characters of the
/// previous line", then the rest.
pub fn decode_suffix_rules(data: &str) -> Vec<String> {
    let mut rules = Vec::new();
    let mut previous = String::new();
    for line in data.lines() {
        let mut chars = line.chars();
        let Some(shared) = chars.next() else { continue };
        let shared = (shared as usize)
            .saturating_sub('0' as usize)
            .min(previous.len());
        let mut reversed = previous[..shared].to_string();
        reversed.push_str(chars.as_str());
        rules.push(reversed.split('.').rev().collect::<Vec<_>>().join("."));
        previous = reversed;
    }
    rules
}

/// The Public Suffix List, parsed once from the embedded copy.
fn public_suffix_list() -> &'static List {
    static LIST: OnceLock<List> = OnceLock::new();
    LIST.get_or_init(|| {
        let mut text = String::from("// ===BEGIN ICANN DOMAINS===\n");
        for rule in decode_suffix_rules(PUBLIC_SUFFIX_DATA) {
            text.push_str(&rule);
            text.push('\n');
        }
        text.parse()
            .expect("the embedded public suffix list parses")
    })
}

/// `(registrable domain, public suffix)` of an ASCII domain. A domain that is itself a
/// public suffix (or an address literal) is its own organisation.
pub fn registrable_domain(ascii_domain: &str) -> (String, String) {
    let list = public_suffix_list();
    let bytes = ascii_domain.as_bytes();
    let suffix = list
        .suffix(bytes)
        .and_then(|s| std::str::from_utf8(s.as_bytes()).ok())
        .unwrap_or(ascii_domain)
        .to_string();
    let registrable = list
        .domain(bytes)
        .and_then(|d| std::str::from_utf8(d.as_bytes()).ok())
        .unwrap_or(ascii_domain)
        .to_string();
    (registrable, suffix)
}

/// Whether `domain` is `parent` or one of its subdomains (both ASCII, lower-case).
pub fn is_same_or_subdomain(domain: &str, parent: &str) -> bool {
    domain == parent
        || (domain.len() > parent.len()
            && domain.ends_with(parent)
            && domain.as_bytes()[domain.len() - parent.len() - 1] == b'.')
}

/// Code point ranges whose confusable skeletons the core knows: the scripts that can pass for
/// Latin letters and digits in a domain name (Latin with its extensions and IPA, Greek,
/// Cyrillic, Armenian, Cherokee, letter-like symbols, full-width forms). Other scripts keep
/// their characters, which is harmless: they cannot look like the ASCII domains senders know.
pub const SKELETON_RANGES: &[(u32, u32)] = &[
    (0x0000, 0x058F),
    (0x13A0, 0x13FF),
    (0x1D00, 0x1FFF),
    (0x2100, 0x218F),
    (0x2C60, 0x2C7F),
    (0x2DE0, 0x2DFF),
    (0xA640, 0xA69F),
    (0xA720, 0xA7FF),
    (0xAB30, 0xABBF),
    (0xFF00, 0xFFEF),
];

/// The UTS 39 confusable skeleton: two strings that look alike have the same skeleton.
/// Per character from the generated table (see `tests/confusables_table.rs`).
pub fn skeleton(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match crate::confusables_table::SKELETONS.binary_search_by_key(&c, |&(k, _)| k) {
            Ok(i) => out.push_str(crate::confusables_table::SKELETONS[i].1),
            Err(_) => out.push(c),
        }
    }
    out
}

/// A label that hides non-Latin lookalikes: it mixes ASCII letters with characters that
/// pass for ASCII (`vоlkomen` with a Cyrillic о), or consists only of such characters
/// (`раураl`, all Cyrillic). `bäckerei` and `пример` are genuine.
pub fn is_disguised_label(label: &str) -> bool {
    let passes_for_ascii = |c: char| {
        !c.is_ascii() && {
            let s = skeleton(c.encode_utf8(&mut [0; 4]));
            s.chars().all(|k| k.is_ascii_alphanumeric())
        }
    };
    let ascii_letters = label.chars().filter(char::is_ascii_alphabetic).count();
    let lookalikes = label.chars().filter(|&c| passes_for_ascii(c)).count();
    let letters = label.chars().filter(|c| c.is_alphabetic()).count();
    lookalikes > 0 && (ascii_letters > 0 || lookalikes == letters)
}

/// A policy-supplied domain in the normal form (ASCII, lower-case, no dots around).
pub fn normalise_domain(domain: &str) -> Option<String> {
    let trimmed = domain.trim().trim_start_matches("*.").trim_matches('.');
    idna::domain_to_ascii(trimmed)
        .ok()
        .filter(|d| !d.is_empty())
}

/// Normalises a person's display name for comparison: case and spacing folded, and
/// `Last, First` turned into `first last`.
pub fn normalise_name(name: &str) -> String {
    let name = name.trim().trim_matches(|c| c == '"' || c == '\'');
    let ordered = match name.split_once(',') {
        Some((last, first)) if !first.trim().is_empty() && !last.trim().is_empty() => {
            format!("{} {}", first.trim(), last.trim())
        }
        _ => name.to_string(),
    };
    ordered
        .split(|c: char| c.is_whitespace() || c == '.')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Address {
        parse_mailbox(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn bare_address_is_lower_cased() {
        let a = parse("Jan.Jansen@KlantBedrijf.NL");
        assert_eq!(a.local, "jan.jansen");
        assert_eq!(a.domain, "klantbedrijf.nl");
        assert_eq!(a.registrable, "klantbedrijf.nl");
        assert_eq!(a.display_name, None);
        assert_eq!(a.written, "Jan.Jansen@KlantBedrijf.NL");
    }

    /// Found by the `address` fuzz target: a literal with other than dtext inside was kept,
    /// so the domain was not ASCII.
    #[test]
    fn address_literals_hold_dtext_only() {
        assert_eq!(parse("a@[192.0.2.1]").domain, "[192.0.2.1]");
        assert_eq!(parse("a@[IPv6:2001:DB8::1]").domain, "[ipv6:2001:db8::1]");
        for literal in ["a@[\u{fffd}nche\u{fffd}1]", "a@[]", "a@[a\\b]", "a@[a b]"] {
            assert!(parse_mailbox(literal).is_err(), "{literal}");
        }
        assert!(
            parse_mailbox("; <-pie\u{fffd}m@[\u{fffd}nche\u{fffd}\u{fffd}e\u{fffd}1]>").is_err()
        );
    }

    #[test]
    fn display_name_forms() {
        let a = parse("Jan Jansen <jan@klant.nl>");
        assert_eq!(a.display_name.as_deref(), Some("Jan Jansen"));
        assert_eq!(a.canonical(), "jan@klant.nl");

        let b = parse("\"Jansen, Jan\" <jan@klant.nl>");
        assert_eq!(b.display_name.as_deref(), Some("Jansen, Jan"));
        assert_eq!(
            normalise_name(b.display_name.as_deref().unwrap()),
            "jan jansen"
        );

        let c = parse("\"Jan \\\"JJ\\\" Jansen\" <jan@klant.nl>");
        assert_eq!(c.display_name.as_deref(), Some("Jan \"JJ\" Jansen"));

        let d = parse("\"weird <name>\" <jan@klant.nl>");
        assert_eq!(d.display_name.as_deref(), Some("weird <name>"));
        assert_eq!(d.domain, "klant.nl");

        let e = parse("<jan@klant.nl>");
        assert_eq!(e.display_name, None);

        let f = parse("'jan@klant.nl'");
        assert_eq!(f.domain, "klant.nl");
    }

    #[test]
    fn structured_recipient_takes_name() {
        let r = Recipient::Structured {
            address: "JAN@klant.nl".into(),
            name: Some("Jan".into()),
        };
        let a = parse_recipient(&r).unwrap();
        assert_eq!(a.display_name.as_deref(), Some("Jan"));
        assert_eq!(a.local, "jan");
    }

    #[test]
    fn plus_addressing_keeps_mailbox() {
        let a = parse("jan+offerte@klant.nl");
        assert_eq!(a.local, "jan+offerte");
        assert_eq!(a.mailbox, "jan");
        assert_eq!(a.canonical(), "jan@klant.nl");
    }

    #[test]
    fn gmail_ignores_dots() {
        assert_eq!(
            parse("Jan.Jansen+x@gmail.com").canonical(),
            "janjansen@gmail.com"
        );
        assert_eq!(
            parse("jan.jansen@klant.nl").canonical(),
            "jan.jansen@klant.nl"
        );
    }

    #[test]
    fn registrable_domain_uses_the_public_suffix_list() {
        assert_eq!(parse("a@mail.klant.nl").registrable, "klant.nl");
        assert_eq!(parse("a@klant.co.uk").registrable, "klant.co.uk");
        assert_eq!(parse("a@klant.co.uk").suffix, "co.uk");
        assert_eq!(parse("a@x.y.klant.co.uk").registrable, "klant.co.uk");
        assert_eq!(
            parse("a@gemeente.amsterdam").registrable,
            "gemeente.amsterdam"
        );
        assert_eq!(parse("a@klant.nl").org_label(), "klant");
        assert_eq!(
            parse("a@mail.klant-bedrijf.co.uk").org_label(),
            "klant-bedrijf"
        );
        // An unlisted top-level domain is its own suffix (the implicit `*` rule).
        assert_eq!(parse("a@klant.invalidtld").registrable, "klant.invalidtld");
    }

    #[test]
    fn idna_both_ways() {
        let a = parse("jan@bäckerei.de");
        assert_eq!(a.domain, "xn--bckerei-5wa.de");
        assert_eq!(a.domain_unicode, "bäckerei.de");
        assert!(a.is_idn());
        let b = parse("jan@xn--bckerei-5wa.de");
        assert_eq!(b.domain_unicode, "bäckerei.de");
        assert_eq!(b.domain_as_written, "bäckerei.de");
        assert_eq!(a.canonical(), b.canonical());
        // Full-width and upper-case forms map to the same ASCII domain (UTS 46).
        assert_eq!(parse("jan@ＫＬＡＮＴ.nl").domain, "klant.nl");
    }

    #[test]
    fn homoglyph_skeletons_match() {
        assert_eq!(skeleton("klantbedrijf.nI"), skeleton("klantbedrijf.nl"));
        assert_eq!(skeleton("kIantbedrijf.nl"), skeleton("klantbedrijf.nl"));
        assert_eq!(skeleton("rnicrosoft.com"), skeleton("microsoft.com"));
        // Cyrillic а (U+0430) in place of Latin a.
        assert_eq!(skeleton("klаnt.nl"), skeleton("klant.nl"));
        assert_ne!(skeleton("klant.nl"), skeleton("kant.nl"));
    }

    #[test]
    fn invalid_addresses() {
        assert_eq!(parse_mailbox(""), Err(AddressError::Empty));
        assert!(matches!(parse_mailbox("jan"), Err(AddressError::NoAt(_))));
        assert!(matches!(
            parse_mailbox("@klant.nl"),
            Err(AddressError::EmptyLocal(_))
        ));
        assert!(matches!(
            parse_mailbox("jan@"),
            Err(AddressError::InvalidDomain(_))
        ));
        assert!(matches!(
            parse_mailbox("jan@localhost"),
            Err(AddressError::InvalidDomain(_))
        ));
        assert!(matches!(
            parse_mailbox("jan@kl ant.nl"),
            Err(AddressError::InvalidDomain(_))
        ));
        assert!(matches!(
            parse_mailbox("jan jansen@klant.nl"),
            Err(AddressError::InvalidLocal(_))
        ));
        assert!(matches!(
            parse_mailbox("Jan <jan@klant.nl"),
            Err(AddressError::Unbalanced(_))
        ));
        assert!(matches!(
            parse_mailbox("\"Jan <jan@klant.nl>"),
            Err(AddressError::Unbalanced(_))
        ));
        assert!(matches!(
            parse_mailbox("jan..x@klant.nl"),
            Err(AddressError::InvalidLocal(_))
        ));
    }

    #[test]
    fn subdomain_matching() {
        assert!(is_same_or_subdomain("klant.nl", "klant.nl"));
        assert!(is_same_or_subdomain("mail.klant.nl", "klant.nl"));
        assert!(!is_same_or_subdomain("myklant.nl", "klant.nl"));
        assert!(!is_same_or_subdomain("klant.nl", "mail.klant.nl"));
    }

    #[test]
    fn policy_domains_normalise() {
        assert_eq!(
            normalise_domain(" *.Klant.NL. ").as_deref(),
            Some("klant.nl")
        );
        assert_eq!(
            normalise_domain("bäckerei.de").as_deref(),
            Some("xn--bckerei-5wa.de")
        );
        assert_eq!(normalise_domain(""), None);
    }
}
