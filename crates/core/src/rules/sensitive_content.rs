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
