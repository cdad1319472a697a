//! `similar-contact`: an address the sender never wrote to that looks like a slip for one
//! they did: a near-identical local part at the same organisation (`jan.jansen` for
//! `jan.janssen`), the display name of a known contact on another address, or a known
//! person's distinctive name at another domain (the autocomplete picked the private address).

use super::{allowed_distance, Rule, RuleFinding};
use crate::address::normalise_name;
use crate::check::{Ctx, Rcpt};
use crate::history::AddressStats;
use crate::i18n::Lang;
use crate::verdict::Severity;

pub const RULE: Rule = Rule {
    id: "similar-contact",
    default_severity: Severity::Warn,
    run,
};

/// Local parts shorter than this never match by distance (`jan` and `jon` are two people).
const MIN_LOCAL_LENGTH: usize = 4;

enum Likeness<'m> {
    NearLocal(&'m AddressStats),
    SameName(&'m AddressStats, String),
    SameMailbox(&'m AddressStats),
}

fn run(ctx: &Ctx<'_>) -> Vec<RuleFinding> {
    ctx.recipients
        .iter()
        .filter(|r| !r.is_known() && !ctx.flagged.contains(&r.address.written))
        .filter_map(|r| likeness(ctx, r).map(|l| finding(ctx.lang, r, l)))
        .collect()
}

fn likeness<'m>(ctx: &Ctx<'m>, rcpt: &Rcpt<'_>) -> Option<Likeness<'m>> {
    let model = ctx.model;
    let best = |mut candidates: Vec<&'m AddressStats>| {
        candidates.sort_by_key(|s| std::cmp::Reverse((s.messages, s.last_seq)));
        candidates.into_iter().next()
    };
    let known = |canonical: &String| model.address_by_canonical(canonical);
    let mine = rcpt.address.canonical();

    // The display name of someone the sender knows, on another address.
    if let Some(name) = rcpt.address.display_name.as_deref().map(normalise_name) {
        let others: Vec<_> = model
            .addresses_named(&name)
            .iter()
            .filter(|c| **c != mine)
            .filter_map(known)
            .collect();
        if let Some(stats) = best(others) {
            return Some(Likeness::SameName(
                stats,
                rcpt.address.display_name.clone().unwrap_or(name),
            ));
        }
    }

    // A near-identical local part at the same organisation.
    let max = ctx.policy.thresholds.similar_local_max_distance;
    let local = &rcpt.address.mailbox;
    let near: Vec<_> = model
        .addresses_at(&rcpt.address.registrable)
        .iter()
        .filter(|c| **c != mine)
        .filter_map(known)
        .filter(|s| {
            let other = &s.address.mailbox;
            let shortest = local.chars().count().min(other.chars().count());
            let allowed = allowed_distance(shortest, MIN_LOCAL_LENGTH, max);
            let distance = super::edit_distance(local, other);
            distance > 0 && distance <= allowed
        })
        .collect();
    if let Some(stats) = best(near) {
        return Some(Likeness::NearLocal(stats));
    }

    // A distinctive name (`jan.jansen`) the sender knows at another organisation.
    let distinctive = rcpt.address.local.contains(['.', '_', '-']) && local.chars().count() >= 6;
    if distinctive && !rcpt.org_is_known() {
        let elsewhere: Vec<_> = model
            .addresses_with_mailbox(local)
            .iter()
            .filter_map(known)
            .filter(|s| s.address.registrable != rcpt.address.registrable)
            .collect();
        if let Some(stats) = best(elsewhere) {
            return Some(Likeness::SameMailbox(stats));
        }
    }
    None
}

fn finding(lang: Lang, rcpt: &Rcpt<'_>, likeness: Likeness<'_>) -> RuleFinding {
    let addr = &rcpt.address.written;
    let (known, message) = match likeness {
        Likeness::NearLocal(stats) => {
            let known = stats.address.display();
            let message = match lang {
                Lang::En => format!("You have never written to {addr}, but you do write to {known} at the same organisation. A slip?"),
                Lang::Nl => format!("U hebt nooit gemaild naar {addr}, wel naar {known} bij dezelfde organisatie. Een vergissing?"),
            };
            (known, message)
        }
        Likeness::SameName(stats, name) => {
            let known = stats.address.display();
            let message = match lang {
                Lang::En => format!("You know {name} as {known}, but this mail goes to {addr}, an address you have never used."),
                Lang::Nl => format!("U kent {name} als {known}, maar deze mail gaat naar {addr}, een adres dat u nooit hebt gebruikt."),
            };
            (known, message)
        }
        Likeness::SameMailbox(stats) => {
            let known = stats.address.display();
            let message = match lang {
                Lang::En => format!("You write to {known}; {addr} has the same name at another domain you have never written to."),
                Lang::Nl => format!("U mailt met {known}; {addr} heeft dezelfde naam bij een ander domein waar u nooit naar mailde."),
            };
            (known, message)
        }
    };
    RuleFinding::warning(vec![rcpt.written()], message).with_suggestion(Some(known))
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;

    fn similar(to: &str) -> Option<Option<String>> {
        let v = profile().check(draft(&[to]));
        only(&v, "similar-contact")
            .first()
            .map(|f| f.suggestion.clone())
    }

    #[test]
    fn near_identical_local_part_at_the_same_organisation() {
        assert_eq!(
            similar("jan.janssen@klantbedrijf.nl"),
            Some(Some("jan.jansen@klantbedrijf.nl".into()))
        );
        assert_eq!(
            similar("p.devris@bakkerij-devries.nl"),
            Some(Some("p.devries@bakkerij-devries.nl".into()))
        );
        // Sub-addressing of a known mailbox is the same mailbox, not a slip.
        assert_eq!(similar("jan.jansen+offerte@klantbedrijf.nl"), None);
        // Subdomain of the same organisation.
        assert!(similar("jan.jansen1@mail.klantbedrijf.nl").is_some());
    }

    #[test]
    fn short_or_different_local_parts_are_not_slips() {
        assert_eq!(similar("piet@klantbedrijf.nl"), None);
        assert_eq!(similar("directie@klantbedrijf.nl"), None);
        assert_eq!(similar("info@bakkerij-devries.nl"), None);
    }

    #[test]
    fn same_display_name_on_another_address() {
        let v = profile().check(draft(&["Jan Jansen <jan@jansen-familie.nl>"]));
        let f = only(&v, "similar-contact");
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].suggestion.as_deref(),
            Some("jan.jansen@klantbedrijf.nl")
        );
        // "Last, First" form of a known name.
        let v = profile().check(draft(&["\"Jansen, Jan\" <jjansen@hotmail.com>"]));
        assert_eq!(only(&v, "similar-contact").len(), 1);
    }

    #[test]
    fn known_person_at_a_personal_address() {
        let v = profile().check(draft(&["jan.jansen@gmail.com"]));
        let f = only(&v, "similar-contact");
        assert_eq!(f.len(), 1, "{:?}", v.findings);
        assert_eq!(
            f[0].suggestion.as_deref(),
            Some("jan.jansen@klantbedrijf.nl")
        );
    }

    #[test]
    fn known_recipients_are_never_similar() {
        assert_eq!(similar("jan.jansen@klantbedrijf.nl"), None);
        assert_eq!(similar("Jan Jansen <jan.jansen@klantbedrijf.nl>"), None);
        assert_eq!(similar("finance@klantbedrijf.nl"), None);
    }
}
