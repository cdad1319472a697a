//! `visible-recipients`: many external recipients of different organisations in To/Cc, who
//! all see each other's addresses. Should have been Bcc: the mass-mail breach regulators see
//! every year. A group the sender already wrote to together (a project group) is not warned.

use std::collections::HashSet;

use super::{Rule, RuleFinding};
use crate::check::Ctx;
use crate::i18n::Lang;
use crate::verdict::Severity;

pub const RULE: Rule = Rule {
    id: "visible-recipients",
    default_severity: Severity::Warn,
    run,
};

fn run(ctx: &Ctx<'_>) -> Vec<RuleFinding> {
    let thresholds = &ctx.policy.thresholds;
    let visible: Vec<_> = ctx.external().filter(|r| r.field.is_visible()).collect();
    if visible.len() < thresholds.visible_recipients.max(2) {
        return Vec::new();
    }
    let orgs: HashSet<&str> = visible.iter().map(|r| r.org.as_str()).collect();
    if orgs.len() < 2 {
        return Vec::new();
    }
    let canonicals: Vec<String> = visible.iter().map(|r| r.address.canonical()).collect();
    let shared = ctx.model.largest_shared_message(&canonicals);
    if shared as f64 >= thresholds.visible_group_share * visible.len() as f64 {
        return Vec::new();
    }
    let (count, org_count) = (visible.len(), orgs.len());
    let message = match ctx.lang {
        Lang::En => format!(
            "{count} external recipients from {org_count} organisations are in To/Cc and will see each other's addresses. Put them in Bcc."
        ),
        Lang::Nl => format!(
            "{count} externe ontvangers van {org_count} organisaties staan in Aan/Cc en zien elkaars adressen. Zet ze in Bcc."
        ),
    };
    let recipients = visible.iter().map(|r| r.written()).collect();
    vec![RuleFinding::warning(recipients, message).with_suggestion(Some("Bcc".to_string()))]
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;

    fn parents(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                format!(
                    "ouder{i}@{}",
                    ["gmail.com", "hotmail.com", "ziggo.nl", "kpnmail.nl"][i % 4]
                )
            })
            .collect()
    }

    #[test]
    fn mass_mail_in_to_warns_and_bcc_does_not() {
        let list = parents(14);
        let refs: Vec<&str> = list.iter().map(String::as_str).collect();
        let v = profile().check(draft(&refs).subject("Nieuwsbrief"));
        let f = only(&v, "visible-recipients");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].recipients.len(), 14);
        let v = profile().check(draft(&["anna.deboer@boekhoudpartners.nl"]).bcc(&refs));
        assert!(only(&v, "visible-recipients").is_empty());
    }

    #[test]
    fn below_threshold_or_one_organisation_is_fine() {
        let list = parents(9);
        let refs: Vec<&str> = list.iter().map(String::as_str).collect();
        assert!(only(&profile().check(draft(&refs)), "visible-recipients").is_empty());
        let same_org: Vec<String> = (0..15)
            .map(|i| format!("medewerker{i}@klantbedrijf.nl"))
            .collect();
        let refs: Vec<&str> = same_org.iter().map(String::as_str).collect();
        assert!(only(&profile().check(draft(&refs)), "visible-recipients").is_empty());
    }

    #[test]
    fn an_established_group_is_fine() {
        let mut group: Vec<String> = (1..5)
            .map(|i| format!("lid{i}@projectpartner-a.nl"))
            .collect();
        group.extend((1..4).map(|i| format!("lid{i}@projectpartner-b.nl")));
        group.extend([
            "lid1@projectpartner-c.nl".to_string(),
            "lid2@projectpartner-c.nl".into(),
        ]);
        let refs: Vec<&str> = group.iter().map(String::as_str).collect();
        let v = profile().check(draft(&refs).cc(&[
            "jan.jansen@klantbedrijf.nl",
            "p.devries@bakkerij-devries.nl",
        ]));
        assert!(
            only(&v, "visible-recipients").is_empty(),
            "{:?}",
            v.findings
        );
    }
}
