//! `attachment-mismatch`: the subject or an attachment name points at a known organisation
//! that none of the recipients belongs to ("Jaarrekening_Klantbedrijf.pdf" to the bakery).
//!
//! Organisation names come from the registrable labels of the domains the sender writes to,
//! compared without case, spaces, hyphens or underscores. Names of the sender's own
//! organisation, personal mail providers and generic words are ignored: they appear in every
//! attachment.

use super::{Rule, RuleFinding};
use crate::check::Ctx;
use crate::history::{KnownDomain, KnownKind};
use crate::i18n::{join_list, Lang};
use crate::verdict::Severity;

pub const RULE: Rule = Rule {
    id: "attachment-mismatch",
    default_severity: Severity::Warn,
    run,
};

/// Labels that are words in every other file name, not organisations.
const GENERIC: &[&str] = &[
    "factuur",
    "facturen",
    "offerte",
    "invoice",
    "contract",
    "report",
    "rapport",
    "document",
    "documenten",
    "scan",
    "online",
    "service",
    "groep",
    "group",
    "holding",
    "bedrijf",
    "company",
    "jaarrekening",
    "loonstrook",
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
    "advies",
    "kantoor",
    "office",
];

/// Minimal length of an organisation name to look for in file names.
const MIN_NAME_LENGTH: usize = 5;

fn run(ctx: &Ctx<'_>) -> Vec<RuleFinding> {
    let external: Vec<_> = ctx.external().collect();
    if external.is_empty() {
        return Vec::new();
    }
    let mut texts: Vec<(&str, String)> = ctx
        .message
        .attachments
        .iter()
        .map(|a| (a.name.as_str(), fold(&a.name)))
        .collect();
    if !ctx.message.subject.is_empty() {
        texts.push((ctx.message.subject.as_str(), fold(&ctx.message.subject)));
    }
    if texts.is_empty() {
        return Vec::new();
    }
    let is_recipient_org = |known: &KnownDomain| {
        ctx.recipients
            .iter()
            .any(|r| r.address.registrable == known.registrable)
    };
    let names_a_recipient_org = texts.iter().any(|(_, folded)| {
        ctx.recipients.iter().any(|r| {
            let label = fold(r.address.org_label());
            label.chars().count() >= MIN_NAME_LENGTH && folded.contains(&label)
        })
    });
    if names_a_recipient_org {
        // "Contract Klantbedrijf - Bakkerij De Vries.pdf" to both: nothing to say.
        return Vec::new();
    }
    let mut pointed: Vec<(&KnownDomain, &str)> = Vec::new();
    for known in ctx.model.known_domains() {
        if !matches!(
            known.kind,
            KnownKind::Correspondent | KnownKind::Contact | KnownKind::Trusted
        ) || ctx.domains.internal().contains(&known.registrable)
            || is_recipient_org(known)
        {
            continue;
        }
        // Domain labels are already lower-case letters and digits (UTS 46) once hyphens go.
        let name = &known.label_plain;
        if name.chars().count() < MIN_NAME_LENGTH || GENERIC.contains(&name.as_str()) {
            continue;
        }
        if let Some((original, _)) = texts
            .iter()
            .find(|(_, folded)| folded.contains(name.as_str()))
        {
            pointed.push((known, original));
        }
    }
    if pointed.is_empty() {
        return Vec::new();
    }
    let orgs: Vec<String> = pointed
        .iter()
        .map(|(k, _)| idna::domain_to_unicode(&k.registrable).0)
        .collect();
    let mut sources: Vec<String> = pointed.iter().map(|(_, t)| format!("\"{t}\"")).collect();
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

/// Lower-case letters and digits only: `Bakkerij-De Vries_2025` -> `bakkerijdevries2025`.
fn fold(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
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
