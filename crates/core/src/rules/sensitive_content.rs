//! `sensitive-content`: personal data (BSN, IBAN, payment card, health information) in the
//! subject, body or attachment names, going to an external recipient who is not an
//! established contact. To established contacts it is recorded as `info` only: an accountant
//! mailing a client's own IBAN to that client is normal work.

use super::{Rule, RuleFinding};
use crate::check::Ctx;
use crate::i18n::{join_list, Lang};
use crate::verdict::Severity;

pub const RULE: Rule = Rule {
    id: "sensitive-content",
    default_severity: Severity::Warn,
    run,
};

fn run(ctx: &Ctx<'_>) -> Vec<RuleFinding> {
    if ctx.sensitive.is_empty() {
        return Vec::new();
    }
    let external: Vec<_> = ctx.external().collect();
    if external.is_empty() {
        return Vec::new();
    }
    let kinds: Vec<String> = ctx
        .sensitive
        .iter()
        .map(|s| s.kind.label(ctx.lang).to_string())
        .collect();
    let kinds = join_list(ctx.lang, &kinds);
    let unestablished: Vec<String> = external
        .iter()
        .filter(|r| !r.is_established(ctx.policy))
        .map(|r| r.written())
        .collect();
    if unestablished.is_empty() {
        let recipients = external.iter().map(|r| r.written()).collect();
        let message = match ctx.lang {
            Lang::En => format!(
                "This mail contains {kinds}; every external recipient is an established contact."
            ),
            Lang::Nl => {
                format!("Deze mail bevat {kinds}; alle externe ontvangers zijn vaste contacten.")
            }
        };
        return vec![RuleFinding::info(recipients, message)];
    }
    let list = join_list(ctx.lang, &unestablished);
    let message = match ctx.lang {
        Lang::En => format!(
            "This mail contains {kinds} and goes to {list}, whom you rarely or never write to."
        ),
        Lang::Nl => format!(
            "Deze mail bevat {kinds} en gaat naar {list}, naar wie u zelden of nooit mailt."
        ),
    };
    vec![RuleFinding::warning(unestablished, message)]
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;
    use crate::Severity;

    const IBAN_BODY: &str = "Graag overmaken naar NL91 ABNA 0417 1643 00.";

    #[test]
    fn personal_data_to_a_new_address_warns() {
        let v = profile().check(draft(&["directie@klantbedrijf.nl"]).body(IBAN_BODY));
        assert_eq!(warned_rules(&v), ["sensitive-content"]);
        let f = only(&v, "sensitive-content");
        assert!(f[0].message.contains("IBAN"), "{}", f[0].message);
        assert_eq!(f[0].recipients, ["directie@klantbedrijf.nl"]);
    }

    #[test]
    fn personal_data_to_an_established_contact_is_information() {
        let v = profile().check(draft(&["jan.jansen@klantbedrijf.nl"]).body(IBAN_BODY));
        assert!(warned_rules(&v).is_empty(), "{:?}", v.findings);
        assert_eq!(only(&v, "sensitive-content")[0].severity, Severity::Info);
        assert_eq!(v.sensitive.len(), 1);
    }

    #[test]
    fn internal_mail_has_no_finding_but_reports_the_data() {
        let v = profile().check(draft(&["kees@boekhoudpartners.nl"]).body(IBAN_BODY));
        assert!(only(&v, "sensitive-content").is_empty());
        assert_eq!(v.sensitive[0].count, 1);
    }
}
