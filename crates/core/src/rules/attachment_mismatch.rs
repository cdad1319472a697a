//! `attachment-mismatch`: the subject or an attachment name points at a known organisation
//! that none of the recipients belongs to ("Jaarrekening_Klantbedrijf.pdf" to the bakery).
//!
//! Organisation names come from the domains the sender writes to and from the display names
//! of those organisations' own mailboxes (see [`crate::org_names`]), and are found only at
//! word boundaries. Names of the sender's own organisation, personal mail providers and
//! generic words are ignored: they appear in every attachment. A part of a hyphenated domain
//! that several known organisations share ("noord" of noord-bouw.nl and noord-zorg.nl) names
//! none of them; a part that is a common surname ("schulz" of lohnbuero-schulz.de) names the
//! organisation only when someone there is called so.

use std::collections::HashSet;

use super::{Rule, RuleFinding};
use crate::check::Ctx;
use crate::history::{KnownDomain, KnownKind, NameOrigin};
use crate::i18n::{join_list, Lang};
use crate::org_names::{
    display_name_has_word, display_name_names, is_common_surname, label_names, word_runs,
};
use crate::verdict::Severity;

pub const RULE: Rule = Rule {
    id: "attachment-mismatch",
    default_severity: Severity::Warn,
    run,
};

fn run(ctx: &Ctx<'_>) -> Vec<RuleFinding> {
    let external: Vec<_> = ctx.external().collect();
    if external.is_empty() {
        return Vec::new();
    }
    let mut texts: Vec<(&str, HashSet<String>)> = ctx
        .message
        .attachments
        .iter()
        .map(|a| (a.name.as_str(), word_runs(&a.name)))
        .collect();
    if !ctx.message.subject.is_empty() {
        texts.push((
            ctx.message.subject.as_str(),
            word_runs(&ctx.message.subject),
        ));
    }
    if texts.is_empty() {
        return Vec::new();
    }
    let is_recipient_org = |registrable: &String| {
        ctx.recipients
            .iter()
            .any(|r| r.address.registrable == *registrable)
    };
    let names_a_recipient_org = ctx.recipients.iter().any(|r| {
        let names = label_names(r.address.org_label());
        texts
            .iter()
            .any(|(_, runs)| names.iter().any(|name| runs.contains(name)))
    }) || texts.iter().any(|(_, runs)| {
        runs.iter().any(|run| {
            ctx.model
                .organisations_named(run, NameOrigin::DisplayName)
                .iter()
                .any(is_recipient_org)
        })
    });
    if names_a_recipient_org {
        // "Contract Klantbedrijf - Bakkerij De Vries.pdf" to both: nothing to say.
        return Vec::new();
    }
    // Look up the words of the texts in the model's name index: the cost follows the length
    // of the subject and file names, not the number of organisations the sender knows.
    let mut pointed: Vec<(usize, &KnownDomain, &str)> = Vec::new();
    for (original, runs) in &texts {
        for run in runs {
            for origin in [
                NameOrigin::Label,
                NameOrigin::LabelPart,
                NameOrigin::DisplayName,
            ] {
                for registrable in ctx.model.organisations_named(run, origin) {
                    let Some((position, known)) = ctx.model.known_domain_at(registrable) else {
                        continue;
                    };
                    let eligible = matches!(
                        known.kind,
                        KnownKind::Correspondent | KnownKind::Contact | KnownKind::Trusted
                    ) && !ctx.domains.internal().contains(&known.registrable)
                        && !is_recipient_org(registrable);
                    let names_it = origin != NameOrigin::LabelPart
                        || (!ctx.model.is_shared_name_part(run)
                            && (!is_common_surname(run)
                                || someone_there_is_called(ctx, known, run)));
                    if eligible && names_it && !pointed.iter().any(|(p, ..)| *p == position) {
                        // In the order the sender came to know them, whatever order the words
                        // were looked up in.
                        let at = pointed.partition_point(|(p, ..)| *p < position);
                        pointed.insert(at, (position, known, original));
                    }
                }
            }
        }
    }
    if pointed.is_empty() {
        return Vec::new();
    }
    let orgs: Vec<String> = pointed
        .iter()
        .map(|(_, k, _)| idna::domain_to_unicode(&k.registrable).0)
        .collect();
    let mut sources: Vec<String> = pointed.iter().map(|(.., t)| format!("\"{t}\"")).collect();
    sources.dedup();
    let recipients: Vec<String> = external.iter().map(|r| r.written()).collect();
    let (orgs, sources) = (join_list(ctx.lang, &orgs), join_list(ctx.lang, &sources));
    let message = match ctx.lang {
        Lang::En => format!("{sources} points to {orgs}, but no recipient is from there."),
        Lang::Nl => {
            format!("{sources} verwijst naar {orgs}, maar geen van de ontvangers hoort daarbij.")
        }
    };
    vec![RuleFinding::warning(recipients, message)]
}

/// Whether a person at the organisation carries the surname `name` (Sabine Krüger of
/// krueger-immobilien.de): then a common surname in its domain is the organisation's name.
fn someone_there_is_called(ctx: &Ctx<'_>, known: &KnownDomain, name: &str) -> bool {
    ctx.model
        .addresses_at(&known.registrable)
        .iter()
        .filter_map(|canonical| ctx.model.address_by_canonical(canonical))
        .flat_map(|stats| stats.names.iter().map(move |n| (&stats.address.mailbox, n)))
        // "Lohnbüro Schulz GmbH" on lohn@ is the organisation itself, not a person there.
        .filter(|(mailbox, display_name)| display_name_names(mailbox, display_name).is_empty())
        .any(|(_, display_name)| display_name_has_word(display_name, name))
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;

    #[test]
    fn attachment_names_another_client() {
        let v = profile().check(
            draft(&["p.devries@bakkerij-devries.nl"]).attach("Jaarrekening_Klantbedrijf_2025.pdf"),
        );
        let f = only(&v, "attachment-mismatch");
        assert_eq!(f.len(), 1, "{:?}", v.findings);
        assert!(f[0].message.contains("klantbedrijf.nl"), "{}", f[0].message);
    }

    #[test]
    fn subject_names_another_client() {
        let v = profile().check(
            draft(&["jan.jansen@klantbedrijf.nl"])
                .subject("Loonstroken Bakkerij De Vries november"),
        );
        assert_eq!(only(&v, "attachment-mismatch").len(), 1, "{:?}", v.findings);
    }

    /// The accountant's profile with clients whose domains have a suffix, a hyphenated part
    /// or a display name that differs from the domain.
    fn profile_with_more_clients() -> Profile {
        let mut p = profile();
        let mut add = |to: &str| {
            let mut message = p.history[0].clone();
            message.to = vec![to.into()];
            message.cc = Vec::new();
            p.history.insert(0, message);
        };
        add("m.peters@noordzorg-ggz.nl");
        add("Zorggroep Lindenhof - Personeelszaken <pz@zglh.nl>");
        add("a.bos@noord-bouw.nl");
        add("k.visser@noord-installatie.nl");
        p
    }

    #[test]
    fn a_part_of_a_hyphenated_domain_names_the_organisation() {
        let p = profile_with_more_clients();
        let v = p.check(
            draft(&["jan.jansen@klantbedrijf.nl"]).attach("Verzuimoverzicht_Noordzorg_nov.pdf"),
        );
        let f = only(&v, "attachment-mismatch");
        assert_eq!(f.len(), 1, "{:?}", v.findings);
        assert!(
            f[0].message.contains("noordzorg-ggz.nl"),
            "{}",
            f[0].message
        );
        // To Noordzorg itself, it is their own file.
        let v = p.check(
            draft(&["m.peters@noordzorg-ggz.nl"]).attach("Verzuimoverzicht_Noordzorg_nov.pdf"),
        );
        assert!(
            only(&v, "attachment-mismatch").is_empty(),
            "{:?}",
            v.findings
        );
    }

    #[test]
    fn a_display_name_of_an_organisation_mailbox_names_the_organisation() {
        let p = profile_with_more_clients();
        let v = p.check(
            draft(&["jan.jansen@klantbedrijf.nl"]).subject("Roosters Zorggroep Lindenhof december"),
        );
        let f = only(&v, "attachment-mismatch");
        assert_eq!(f.len(), 1, "{:?}", v.findings);
        assert!(f[0].message.contains("zglh.nl"), "{}", f[0].message);
        let v = p.check(draft(&["pz@zglh.nl"]).subject("Roosters Zorggroep Lindenhof december"));
        assert!(
            only(&v, "attachment-mismatch").is_empty(),
            "{:?}",
            v.findings
        );
    }

    #[test]
    fn word_boundaries_shared_parts_and_persons_stay_quiet() {
        let p = profile_with_more_clients();
        for name in [
            // Inside a longer word.
            "Noordzorgenplan.pdf",
            // "noord" is part of two clients' domains: it names neither.
            "Planning regio Noord.pdf",
            // A person's display name is not an organisation name.
            "Notities Jan Jansen.docx",
        ] {
            let v = p.check(draft(&["p.devries@bakkerij-devries.nl"]).attach(name));
            assert!(
                only(&v, "attachment-mismatch").is_empty(),
                "{name}: {:?}",
                v.findings
            );
        }
    }

    #[test]
    fn matching_and_generic_names_are_quiet() {
        let p = profile();
        for (to, name) in [
            (
                "jan.jansen@klantbedrijf.nl",
                "Jaarrekening_Klantbedrijf_2025.pdf",
            ),
            (
                "p.devries@bakkerij-devries.nl",
                "Loonstroken Bakkerij-DeVries.xlsx",
            ),
            ("jan.jansen@klantbedrijf.nl", "Factuur 2025-118.pdf"),
            (
                "jan.jansen@klantbedrijf.nl",
                "Boekhoudpartners_voorwaarden.pdf",
            ),
            (
                "jan.jansen@klantbedrijf.nl",
                "Overzicht Klantbedrijf en Bakkerij De Vries.pdf",
            ),
        ] {
            let v = p.check(draft(&[to]).attach(name));
            assert!(
                only(&v, "attachment-mismatch").is_empty(),
                "{to} {name}: {:?}",
                v.findings
            );
        }
    }
}
