//! `new-recipient`: first contact with an external address or organisation. On its own this
//! is information, not a warning (people write to new people all day); the tenant can raise
//! its severity. It needs a history: on a fresh install everyone would be new.

use super::{Rule, RuleFinding};
use crate::check::Ctx;
use crate::i18n::join_list;
use crate::verdict::Severity;

pub const RULE: Rule = Rule {
    id: "new-recipient",
    default_severity: Severity::Info,
    run,
};

fn run(ctx: &Ctx<'_>) -> Vec<RuleFinding> {
    if !ctx.has_history() {
        return Vec::new();
    }
    let fresh = || {
        ctx.external()
            .filter(|r| !r.is_known() && !ctx.flagged.contains(&r.address.written))
    };
    let new_orgs: Vec<String> = fresh()
        .filter(|r| !r.freemail && !r.org_is_known())
        .map(|r| r.written())
        .collect();
    let new_addresses: Vec<String> = fresh()
        .filter(|r| !r.freemail && r.org_is_known())
        .map(|r| r.written())
        .collect();
    let new_personal: Vec<String> = fresh()
        .filter(|r| r.freemail)
        .map(|r| r.written())
        .collect();
    let mut findings = Vec::new();
    for (recipients, en, nl) in [
        (
            new_orgs,
            "First mail to {}: you have never written to this organisation.",
            "Eerste mail aan {}: u hebt deze organisatie nooit eerder gemaild.",
        ),
        (
            new_addresses,
            "First mail to {}, at an organisation you do write to.",
            "Eerste mail aan {}, bij een organisatie waar u wel naar mailt.",
        ),
        (
            new_personal,
            "First mail to the personal address {}.",
            "Eerste mail aan het persoonlijke adres {}.",
        ),
    ] {
        if recipients.is_empty() {
            continue;
        }
        let list = join_list(ctx.lang, &recipients);
        let message = ctx.lang.pick(en, nl).replace("{}", &list);
        findings.push(RuleFinding::warning(recipients, message));
    }
    findings
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;
    use crate::Severity;

    #[test]
    fn first_contact_is_information_only() {
        let v = profile().check(draft(&["info@nieuwe-klant.nl"]).subject("Kennismaking"));
        let f = only(&v, "new-recipient");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Info);
        assert_eq!(v.verdict, crate::Outcome::Send);
    }

    #[test]
    fn new_address_at_a_known_organisation() {
        let v = profile().check(draft(&["directie@klantbedrijf.nl"]));
        let f = only(&v, "new-recipient");
        assert!(
            f[0].message.contains("organisation you do write to"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn new_personal_address() {
        let v = profile().check(draft(&["nieuw.iemand@gmail.com"]));
        let f = only(&v, "new-recipient");
        assert!(
            f[0].message.contains("personal address"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn the_policy_can_make_it_a_warning() {
        let mut p = profile();
        p.policy
            .severities
            .insert("new-recipient".into(), crate::policy::RuleSetting::Warn);
        let v = p.check(draft(&["info@nieuwe-klant.nl"]));
        assert_eq!(v.verdict, crate::Outcome::Warn);
    }
}
