//! `lookalike-domain`: a recipient domain that resembles, but is not, a domain the sender
//! knows (internal, trusted, written to, in the address book, or a big mail provider).
//!
//! Compared at the level of the organisation (registrable domain), so `mail.klant.nl` is
//! simply `klant.nl`. The tricks recognised: homoglyphs and punycode (UTS 39 skeletons, also
//! of the domain as written so `klant.nI` with a capital i is caught), a swapped or mistyped
//! top-level domain, a missing or extra hyphen, typos (edit distance with transpositions,
//! scaled to the name's length so short names do not match everything), and a known domain
//! used as a label of another (`klant.nl.secure-mail.com`, `klant-nl.com`).

use super::{allowed_distance, Rule, RuleFinding};
use crate::address::{is_disguised_label, skeleton, Address};
use crate::check::{Ctx, Rcpt};
use crate::history::{KnownDomain, KnownKind};
use crate::i18n::Lang;
use crate::verdict::Severity;

pub const RULE: Rule = Rule {
    id: "lookalike-domain",
    default_severity: Severity::Warn,
    run,
};

/// How a domain resembles a known one, most convincing first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Resemblance {
    Homoglyph,
    TopLevelSwap,
    Hyphen,
    Typo(usize),
    EmbeddedLabel,
}

impl Resemblance {
    fn describe(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Resemblance::Homoglyph, Lang::En) => "characters that only look the same",
            (Resemblance::Homoglyph, Lang::Nl) => "tekens die er alleen hetzelfde uitzien",
            (Resemblance::TopLevelSwap, Lang::En) => "another ending",
            (Resemblance::TopLevelSwap, Lang::Nl) => "een andere extensie",
            (Resemblance::Hyphen, Lang::En) => "a hyphen more or less",
            (Resemblance::Hyphen, Lang::Nl) => "een koppelteken meer of minder",
            (Resemblance::Typo(_), Lang::En) => "a typing slip",
            (Resemblance::Typo(_), Lang::Nl) => "een tikfout",
            (Resemblance::EmbeddedLabel, Lang::En) => "the known name inside another domain",
            (Resemblance::EmbeddedLabel, Lang::Nl) => "de bekende naam binnen een ander domein",
        }
    }
}

/// Words that fraudsters and typos add around a real name: `klant-secure.nl`.
const DECORATIONS: &[&str] = &[
    "secure",
    "security",
    "mail",
    "email",
    "login",
    "signin",
    "support",
    "service",
    "services",
    "portal",
    "verify",
    "verification",
    "account",
    "accounts",
    "online",
    "web",
    "app",
    "helpdesk",
    "team",
    "info",
    "office",
    "cloud",
    "docs",
    "share",
    "file",
    "files",
    "pay",
    "payment",
    "invoice",
    "invoices",
    "factuur",
    "facturen",
    "nl",
    "be",
    "de",
    "com",
    "net",
    "org",
    "eu",
    "uk",
];

fn run(ctx: &Ctx<'_>) -> Vec<RuleFinding> {
    let mut findings = Vec::new();
    for rcpt in ctx.external() {
        // Known domains and personal mail providers are what they say they are: outlook.be
        // is Microsoft's, like outlook.com, even when outlook.com is a domain written to.
        if rcpt.freemail || ctx.model.known_domain(&rcpt.address.registrable).is_some() {
            continue;
        }
        if let Some((known, how)) = best_resemblance(ctx, &rcpt.address) {
            findings.push(lookalike_finding(ctx, rcpt, known, how));
        } else if rcpt.address.is_idn()
            && rcpt
                .address
                .domain_unicode
                .split('.')
                .any(is_disguised_label)
        {
            findings.push(mixed_script_finding(ctx.lang, rcpt));
        }
    }
    findings
}

/// The known domain the address most resembles, and how.
fn best_resemblance<'m>(
    ctx: &Ctx<'m>,
    address: &Address,
) -> Option<(&'m KnownDomain, Resemblance)> {
    let thresholds = &ctx.policy.thresholds;
    let candidate = Candidate::new(address);
    ctx.model
        .known_domains()
        .iter()
        .filter_map(|known| {
            let how = candidate.resembles(
                known,
                thresholds.lookalike_min_length,
                thresholds.lookalike_max_distance,
            )?;
            Some((known, how))
        })
        .min_by_key(|(known, how)| (*how, known.kind, known.registrable.len()))
}

/// A recipient's domain prepared once for comparison with every known domain.
struct Candidate<'a> {
    address: &'a Address,
    label: String,
    label_chars: usize,
    label_plain: String,
    skeletons: [String; 2],
    /// The labels in front of the registrable domain (`klant.nl.secure` of
    /// `klant.nl.secure.example.com`... reversed order kept as written).
    subdomain: String,
    registrable_parts: Vec<String>,
}

impl<'a> Candidate<'a> {
    fn new(address: &'a Address) -> Self {
        let (registrable_unicode, _) = idna::domain_to_unicode(&address.registrable);
        let (suffix_unicode, _) = idna::domain_to_unicode(&address.suffix);
        let label = crate::address::org_label(&registrable_unicode, &suffix_unicode).to_string();
        // The registrable part of the domain as written, with its case, for skeletons.
        let labels_in_registrable = address.registrable.split('.').count();
        let written_labels: Vec<&str> = address.domain_as_written.split('.').collect();
        let written_registrable =
            written_labels[written_labels.len().saturating_sub(labels_in_registrable)..].join(".");
        let subdomain = address
            .domain
            .strip_suffix(&address.registrable)
            .unwrap_or("")
            .trim_end_matches('.')
            .to_string();
        Candidate {
            address,
            label_chars: label.chars().count(),
            label_plain: label.replace('-', ""),
            registrable_parts: label.split('-').map(str::to_string).collect(),
            label,
            skeletons: [
                skeleton(&registrable_unicode),
                skeleton(&written_registrable),
            ],
            subdomain,
        }
    }

    fn resembles(
        &self,
        known: &KnownDomain,
        min_len: usize,
        max_distance: usize,
    ) -> Option<Resemblance> {
        if known.registrable == self.address.registrable {
            return None;
        }
        if self.skeletons.contains(&known.skeleton) {
            return Some(Resemblance::Homoglyph);
        }
        let provider = known.kind == KnownKind::Provider;
        let known_chars = known.label.chars().count();
        if self.label == known.label && !provider && known_chars >= 3 {
            return Some(Resemblance::TopLevelSwap);
        }
        let same_suffix = self.address.suffix == known.suffix;
        if same_suffix && self.label_plain == known.label_plain && known_chars >= min_len.min(4) {
            return Some(Resemblance::Hyphen);
        }
        if same_suffix && self.label_chars.abs_diff(known_chars) <= max_distance {
            let allowed =
                allowed_distance(known_chars.min(self.label_chars), min_len, max_distance);
            if allowed > 0 {
                let distance = super::edit_distance(&self.label, &known.label);
                if distance > 0 && distance <= allowed {
                    return Some(Resemblance::Typo(distance));
                }
            }
        }
        if known_chars >= min_len && self.embeds(known) {
            return Some(Resemblance::EmbeddedLabel);
        }
        None
    }

    /// `klant.nl.secure-mail.com`, `klant-nl.com`, `secure-klant.nl`.
    fn embeds(&self, known: &KnownDomain) -> bool {
        let known_label_ascii = crate::address::org_label(&known.registrable, &known.suffix);
        let in_subdomain = !self.subdomain.is_empty()
            && (self.subdomain == known.registrable
                || self.subdomain.ends_with(&format!(".{}", known.registrable))
                || self.subdomain.split('.').any(|l| l == known_label_ascii));
        if in_subdomain {
            return true;
        }
        let parts = &self.registrable_parts;
        parts.len() > 1
            && parts.contains(&known.label)
            && parts.iter().filter(|p| **p != known.label).all(|p| {
                DECORATIONS.contains(&p.as_str()) || known.suffix.split('.').any(|s| s == p)
            })
    }
}

fn lookalike_finding(
    ctx: &Ctx<'_>,
    rcpt: &Rcpt<'_>,
    known: &KnownDomain,
    how: Resemblance,
) -> RuleFinding {
    let (known_unicode, _) = idna::domain_to_unicode(&known.registrable);
    let suggestion = suggest(ctx, rcpt, known);
    let shown = rcpt.address.domain_as_written.clone();
    let whose = match (known.kind, ctx.lang) {
        (KnownKind::Internal, Lang::En) => "your own organisation's domain",
        (KnownKind::Internal, Lang::Nl) => "het domein van uw eigen organisatie",
        (KnownKind::Trusted, Lang::En) => "a trusted domain",
        (KnownKind::Trusted, Lang::Nl) => "een vertrouwd domein",
        (KnownKind::Provider, Lang::En) => "a well-known mail provider",
        (KnownKind::Provider, Lang::Nl) => "een bekende mailprovider",
        (_, Lang::En) => "a domain you write to",
        (_, Lang::Nl) => "een domein waar u naar mailt",
    };
    let idn_note = if rcpt.address.is_idn() {
        ctx.lang
            .pick(
                &format!(" (it is really {})", rcpt.address.domain),
                &format!(" (eigenlijk {})", rcpt.address.domain),
            )
            .to_string()
    } else {
        String::new()
    };
    let message = match ctx.lang {
        Lang::En => format!(
            "{}: the domain {shown}{idn_note} looks like {known_unicode}, {whose}, with {}. It is a different domain.",
            rcpt.address.written,
            how.describe(Lang::En)
        ),
        Lang::Nl => format!(
            "{}: het domein {shown}{idn_note} lijkt op {known_unicode}, {whose}, met {}. Het is een ander domein.",
            rcpt.address.written,
            how.describe(Lang::Nl)
        ),
    };
    RuleFinding::warning(vec![rcpt.written()], message).with_suggestion(Some(suggestion))
}

/// The known contact with the same mailbox at the known domain, or the same local part there.
fn suggest(ctx: &Ctx<'_>, rcpt: &Rcpt<'_>, known: &KnownDomain) -> String {
    let exact = ctx
        .model
        .addresses_at(&known.registrable)
        .iter()
        .filter_map(|c| ctx.model.address_by_canonical(c))
        .filter(|s| s.address.mailbox == rcpt.address.mailbox)
        .max_by_key(|s| (s.messages, s.last_seq));
    match exact {
        Some(stats) => stats.address.display(),
        None => format!(
            "{}@{}",
            rcpt.address.local,
            idna::domain_to_unicode(&known.registrable).0
        ),
    }
}

fn mixed_script_finding(lang: Lang, rcpt: &Rcpt<'_>) -> RuleFinding {
    let message = match lang {
        Lang::En => format!(
            "{}: the domain {} mixes alphabets (it is really {}), a common disguise.",
            rcpt.address.written, rcpt.address.domain_unicode, rcpt.address.domain
        ),
        Lang::Nl => format!(
            "{}: het domein {} mengt alfabetten (eigenlijk {}), een veelgebruikte vermomming.",
            rcpt.address.written, rcpt.address.domain_unicode, rcpt.address.domain
        ),
    };
    RuleFinding::warning(vec![rcpt.written()], message)
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;
    use crate::Lang;

    fn lookalike(to: &str) -> Option<(String, Option<String>)> {
        let v = profile().check(draft(&[to]));
        only(&v, "lookalike-domain")
            .first()
            .map(|f| (f.message.clone(), f.suggestion.clone()))
    }

    #[test]
    fn homoglyph_capital_i_for_l_in_the_tld() {
        let (message, suggestion) = lookalike("jan.jansen@klantbedrijf.nI").expect("caught");
        assert_eq!(suggestion.as_deref(), Some("jan.jansen@klantbedrijf.nl"));
        assert!(message.contains("klantbedrijf.nI"), "{message}");
    }

    #[test]
    fn homoglyph_in_the_name_and_cyrillic_and_punycode() {
        assert!(lookalike("jan.jansen@kIantbedrijf.nl").is_some());
        // Cyrillic а.
        let (message, suggestion) = lookalike("jan.jansen@klаntbedrijf.nl").expect("caught");
        assert!(message.contains("xn--"), "{message}");
        assert_eq!(suggestion.as_deref(), Some("jan.jansen@klantbedrijf.nl"));
        // The same, written as punycode.
        let puny = crate::address::parse_mailbox("x@klаntbedrijf.nl")
            .unwrap()
            .domain;
        assert!(lookalike(&format!("jan.jansen@{puny}")).is_some());
    }

    #[test]
    fn tld_swap_typo_transposition_hyphen() {
        assert!(lookalike("jan.jansen@klantbedrijf.com").is_some());
        assert!(lookalike("jan.jansen@klantbedrijf.nll").is_some());
        assert!(
            lookalike("jan.jansen@klantbedrjif.nl").is_some(),
            "transposition"
        );
        assert!(
            lookalike("jan.jansen@klantbedrif.nl").is_some(),
            "missing letter"
        );
        assert!(
            lookalike("p.devries@bakkerijdevries.nl").is_some(),
            "missing hyphen"
        );
        assert!(
            lookalike("p.devries@bakkerij-de-vries.nl").is_some(),
            "extra hyphen"
        );
        assert!(
            lookalike("s.khan@acme-logistic.co.uk").is_some(),
            "multi-label suffix"
        );
        assert!(
            lookalike("s.khan@acme-logistics.uk").is_some(),
            "suffix swap of co.uk"
        );
    }

    #[test]
    fn own_domain_and_providers() {
        let (message, _) = lookalike("kees@boekhoudpartner.nl").expect("caught");
        assert!(message.contains("your own organisation"), "{message}");
        let (_, suggestion) = lookalike("marieke.visser@gmial.com").expect("caught");
        assert_eq!(suggestion.as_deref(), Some("marieke.visser@gmail.com"));
        assert!(lookalike("someone@hotmial.com").is_some());
        // Providers' brands under other endings are often genuine.
        assert!(lookalike("someone@gmx.ch").is_none());
        assert!(lookalike("someone@outlook.be").is_none());
    }

    #[test]
    fn country_domains_of_a_provider_written_to_are_not_lookalikes() {
        let mut p = profile();
        let mut to_outlook = p.history[0].clone();
        to_outlook.to = vec!["Sophie Claes <sophie.claes@outlook.com>".into()];
        p.history.insert(0, to_outlook.clone());
        to_outlook.to = vec!["j.wagner@hotmail.com".into(), "k.lee@yahoo.com".into()];
        p.history.insert(0, to_outlook);
        for to in [
            "sophie.claes@outlook.be",
            "x@outlook.de",
            "j.wagner@hotmail.de",
            "k.lee@yahoo.co.uk",
            "x@live.be",
            "x@gmx.at",
        ] {
            let v = p.check(draft(&[to]));
            assert!(
                only(&v, "lookalike-domain").is_empty(),
                "{to}: {:?}",
                v.findings
            );
        }
        // A brand under a non-country ending is anyone's domain, and typos still count.
        assert_eq!(
            only(&p.check(draft(&["x@outlook.xyz"])), "lookalike-domain").len(),
            1
        );
        assert_eq!(
            only(&p.check(draft(&["x@outlok.com"])), "lookalike-domain").len(),
            1
        );
    }

    #[test]
    fn known_domain_used_as_a_label() {
        assert!(lookalike("jan.jansen@klantbedrijf.nl.securemail.com").is_some());
        assert!(lookalike("jan.jansen@klantbedrijf-nl.com").is_some());
        assert!(lookalike("jan.jansen@secure-klantbedrijf.nl").is_some());
        assert!(lookalike("jan@klantbedrijf.mailbox-secure.com").is_some());
    }

    #[test]
    fn mixed_script_idn_without_a_known_match() {
        // Latin with a Cyrillic о, resembling nothing the sender knows.
        let v = profile().check(draft(&["x@vоlkomen-onbekend.nl"]));
        assert_eq!(only(&v, "lookalike-domain").len(), 1);
        // All-Cyrillic letters that read as Latin "paypal".
        let v = profile().check(draft(&["x@раураl.com"]));
        assert_eq!(only(&v, "lookalike-domain").len(), 1);
        // Genuine internationalised domains are fine.
        for to in ["x@bäckerei-schmidt.de", "x@пример.рф", "x@müller-bau.de"] {
            let v = profile().check(draft(&[to]));
            assert!(only(&v, "lookalike-domain").is_empty(), "{to}");
        }
    }

    #[test]
    fn genuine_domains_are_quiet() {
        for to in [
            "jan.jansen@klantbedrijf.nl",
            "iemand@mail.klantbedrijf.nl",
            "info@totaalanderbedrijf.nl",
            "a@kpn.com",
            "info@bakkerij-jansen.nl",
            "x@klant.nl",
            "x@utrechtseweg.nl",
            "x@acme.com",
            "x@gmail.com",
            "x@outlook.com",
            "x@salarisverwerker.nl",
            "x@tandartspraktijk-smits-en-co.nl",
        ] {
            assert!(lookalike(to).is_none(), "{to}: {:?}", lookalike(to));
        }
    }

    #[test]
    fn dutch_message() {
        let v = profile().check_in(draft(&["jan.jansen@klantbedrijf.nI"]), Lang::Nl);
        let f = only(&v, "lookalike-domain");
        assert!(
            f[0].message.contains("lijkt op klantbedrijf.nl"),
            "{}",
            f[0].message
        );
    }
}
