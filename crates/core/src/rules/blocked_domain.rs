//! `blocked-domain`: a recipient at a domain the policy blocks.

use super::{Rule, RuleFinding};
use crate::check::Ctx;
use crate::i18n::Lang;
use crate::verdict::Severity;

pub const RULE: Rule = Rule {
    id: "blocked-domain",
    default_severity: Severity::Block,
    run,
};

fn run(ctx: &Ctx<'_>) -> Vec<RuleFinding> {
    ctx.recipients
        .iter()
        .filter_map(|r| {
            let blocked = ctx.domains.blocked_by(&r.address)?;
            let (domain, _) = idna::domain_to_unicode(blocked);
            let message = match ctx.lang {
                Lang::En => format!(
                    "{} is at {domain}, a domain your organisation does not allow mail to.",
                    r.address.display()
                ),
                Lang::Nl => format!(
                    "{} valt onder {domain}, een domein waar uw organisatie geen mail naartoe laat gaan.",
                    r.address.display()
                ),
            };
            Some(RuleFinding::warning(vec![r.written()], message))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;

    #[test]
    fn blocks_listed_domain_and_subdomains() {
        let mut p = profile();
        p.policy.blocked_domains = vec!["concurrent.nl".into()];
        let v = p.check(draft(&[
            "a@concurrent.nl",
            "b@mail.concurrent.nl",
            "c@notconcurrent.nl",
        ]));
        let f = only(&v, "blocked-domain");
        assert_eq!(f.len(), 2);
        assert_eq!(v.verdict, crate::Outcome::Block);
        assert!(f[0].message.contains("concurrent.nl"));
    }

    #[test]
    fn quiet_without_blocked_domains() {
        let v = profile().check(draft(&["jan.jansen@klantbedrijf.nl"]));
        assert!(only(&v, "blocked-domain").is_empty());
    }
}
