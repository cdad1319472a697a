//! `personal-address`: a personal (freemail or consumer ISP) address receiving attachments or
//! sensitive data, when it is not an established contact. Work documents sent to a private
//! mailbox, often picked by autocomplete, are a classic leak.

use super::{Rule, RuleFinding};
use crate::check::Ctx;
use crate::i18n::{join_list, Lang};
use crate::verdict::Severity;

pub const RULE: Rule = Rule {
    id: "personal-address",
    default_severity: Severity::Warn,
    run,
};

fn run(ctx: &Ctx<'_>) -> Vec<RuleFinding> {
    let carries_attachments = !ctx.message.attachments.is_empty();
    let carries_data = !ctx.sensitive.is_empty();
    if !carries_attachments && !carries_data {
        return Vec::new();
    }
    let personal: Vec<String> = ctx
        .external()
        .filter(|r| r.freemail && !r.is_established(ctx.policy))
        .filter(|r| !ctx.flagged.contains(&r.address.written))
        .map(|r| r.written())
        .collect();
    if personal.is_empty() {
        return Vec::new();
    }
    let what = match (carries_attachments, carries_data, ctx.lang) {
        (true, true, Lang::En) => "attachments and personal data",
        (true, true, Lang::Nl) => "bijlagen en persoonsgegevens",
        (true, false, Lang::En) => "attachments",
        (true, false, Lang::Nl) => "bijlagen",
        (false, _, Lang::En) => "personal data",
        (false, _, Lang::Nl) => "persoonsgegevens",
    };
    let list = join_list(ctx.lang, &personal);
    let message = match ctx.lang {
        Lang::En => format!("{list}: a personal mail address you rarely or never write to, and this mail carries {what}."),
        Lang::Nl => format!("{list}: een persoonlijk mailadres waar u zelden of nooit naar mailt, en deze mail bevat {what}."),
    };
    vec![RuleFinding::warning(personal, message)]
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;

    #[test]
    fn attachment_to_an_unknown_personal_address() {
        let v = profile()
            .check(draft(&["k.devries1978@hotmail.com"]).attach("Loonstrook_november.pdf"));
        assert_eq!(only(&v, "personal-address").len(), 1);
        assert_eq!(v.verdict, crate::Outcome::Warn);
    }

    #[test]
    fn quiet_for_established_personal_contacts_and_without_attachments() {
        let p = profile();
        let v = p.check(draft(&["marieke.visser@gmail.com"]).attach("Aangifte_2025.pdf"));
        assert!(only(&v, "personal-address").is_empty(), "{:?}", v.findings);
        // Gmail ignores dots: the same mailbox.
        let v = p.check(draft(&["mariekevisser@gmail.com"]).attach("Aangifte_2025.pdf"));
        assert!(only(&v, "personal-address").is_empty(), "{:?}", v.findings);
        let v = p.check(draft(&["nieuwe.klant@gmail.com"]).subject("Kennismaking"));
        assert!(only(&v, "personal-address").is_empty());
    }

    #[test]
    fn personal_providers_of_every_country() {
        let p = empty_profile();
        for to in [
            "k.schmidt@web.de",
            "k.schmidt@gmx.de",
            "k.schmidt@gmx.net",
            "k.schmidt@t-online.de",
            "k.schmidt@posteo.de",
            "j.peeters@telenet.be",
            "j.peeters@skynet.be",
            "j.peeters@proximus.be",
            "j.peeters@outlook.be",
            "j.peeters@hotmail.be",
            "m.dupont@free.fr",
            "m.dupont@orange.fr",
            "m.dupont@laposte.net",
            "m.dupont@yahoo.fr",
            "m.rossi@libero.it",
            "j.smith@comcast.net",
            "j.smith@yahoo.co.uk",
            "j.smith@outlook.de",
            "j.smith@live.fr",
        ] {
            let v = p.check(draft(&[to]).attach("Lohnabrechnung_November.pdf"));
            assert_eq!(
                only(&v, "personal-address").len(),
                1,
                "{to}: {:?}",
                v.findings
            );
        }
        // A provider's brand under a generic top-level domain is not its country domain.
        let v = p.check(draft(&["x@outlook-consulting.de"]).attach("Angebot.pdf"));
        assert!(only(&v, "personal-address").is_empty(), "{:?}", v.findings);
    }

    #[test]
    fn applies_without_history_too() {
        let v = empty_profile().check(draft(&["someone@gmail.com"]).attach("scan.pdf"));
        assert_eq!(only(&v, "personal-address").len(), 1);
    }
}
