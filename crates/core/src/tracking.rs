//! Whether a message is tracked for leak detection. One function for the send-time check
//! and the server, which re-evaluates the decision when the add-in registers the message, so
//! a modified client cannot track more than the tenant's policy allows.

use crate::address::{is_same_or_subdomain, normalise_domain, Address};
use crate::i18n::Lang;
use crate::policy::{TrackingPolicy, TrackingScope};
use crate::sensitive::{DataCategory, SensitiveCount};

/// What the decision looks at.
pub struct TrackingInput<'a> {
    /// Recipients outside the tenant (external and trusted).
    pub outside: &'a [&'a Address],
    /// The check warned (so sending means the sender overrode a warning).
    pub warned: bool,
    /// The check blocked the message.
    pub blocked: bool,
    pub sensitive: &'a [SensitiveCount],
    pub has_attachments: bool,
}

/// Whether the message, sent as it is (after any warning is overridden), is tracked, and
/// why, in `lang`.
pub fn decide(policy: &TrackingPolicy, lang: Lang, input: &TrackingInput<'_>) -> (bool, String) {
    if let Some(refusal) = refusal(policy, lang, input) {
        return (false, refusal);
    }
    let high_risk_data = input.sensitive.iter().any(|s| {
        matches!(
            s.kind.category(),
            DataCategory::Identity | DataCategory::SpecialCategory
        )
    });
    let (track, en, nl) = match policy.scope {
        TrackingScope::Off => unreachable!("refused above"),
        TrackingScope::AllExternal => (
            true,
            "The policy tracks all external mail.",
            "Het beleid volgt alle externe mail.",
        ),
        _ if input.warned => (
            true,
            "Tracked to detect a leak: sent despite a warning.",
            "Gevolgd om een datalek te kunnen vaststellen: verzonden ondanks een waarschuwing.",
        ),
        _ if high_risk_data => (
            true,
            "Tracked to detect a leak: identity or special-category personal data goes outside the organisation.",
            "Gevolgd om een datalek te kunnen vaststellen: identiteits- of bijzondere persoonsgegevens gaan buiten de organisatie.",
        ),
        TrackingScope::ExternalPersonalData
            if !input.sensitive.is_empty() || input.has_attachments =>
        {
            (
                true,
                "Tracked to detect a leak: personal data or attachments go outside the organisation.",
                "Gevolgd om een datalek te kunnen vaststellen: persoonsgegevens of bijlagen gaan buiten de organisatie.",
            )
        }
        _ => (
            false,
            "Not tracked: no risk found for this external mail.",
            "Niet gevolgd: geen risico gevonden voor deze externe mail.",
        ),
    };
    (track, lang.pick(en, nl).to_string())
}

/// Why this message may not be tracked at all, whatever its risk (and whatever a client
/// asks): tracking off, nobody outside, blocked, or an excluded recipient.
pub fn refusal(policy: &TrackingPolicy, lang: Lang, input: &TrackingInput<'_>) -> Option<String> {
    let say = |en: &str, nl: &str| Some(lang.pick(en, nl).to_string());
    if policy.scope == TrackingScope::Off {
        return say(
            "Tracking is off in the policy.",
            "Tracking staat uit in het beleid.",
        );
    }
    if input.outside.is_empty() {
        return say(
            "Internal mail is not tracked.",
            "Interne mail wordt niet gevolgd.",
        );
    }
    if input.blocked {
        return say(
            "The message is blocked and cannot be sent.",
            "Het bericht is geblokkeerd en kan niet worden verzonden.",
        );
    }
    // A pixel reaches every recipient of a message, so one excluded recipient excludes it.
    let excluded = input
        .outside
        .iter()
        .find(|a| is_excluded(a, &policy.exclude_domains))?;
    Some(match lang {
        Lang::En => format!(
            "Not tracked: the policy excludes recipients at {}.",
            excluded.domain_unicode
        ),
        Lang::Nl => format!(
            "Niet gevolgd: het beleid sluit ontvangers bij {} uit.",
            excluded.domain_unicode
        ),
    })
}

/// Policy exclusions: `klant.de` (with subdomains) or a top-level domain written `.de`.
fn is_excluded(address: &Address, exclusions: &[String]) -> bool {
    exclusions.iter().any(|rule| {
        let rule = rule.trim();
        if let Some(tld) = rule.strip_prefix('.') {
            normalise_domain(tld).is_some_and(|tld| address.domain.ends_with(&format!(".{tld}")))
        } else {
            normalise_domain(rule).is_some_and(|d| is_same_or_subdomain(&address.domain, &d))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::parse_mailbox;
    use crate::sensitive::SensitiveKind;

    fn decide_for(
        scope: TrackingScope,
        warned: bool,
        sensitive: &[SensitiveKind],
        attachments: bool,
    ) -> bool {
        let jan = parse_mailbox("jan@klant.nl").unwrap();
        let outside = [&jan];
        let sensitive: Vec<SensitiveCount> = sensitive
            .iter()
            .map(|&kind| SensitiveCount { kind, count: 1 })
            .collect();
        let policy = TrackingPolicy {
            scope,
            exclude_domains: Vec::new(),
        };
        decide(
            &policy,
            Lang::En,
            &TrackingInput {
                outside: &outside,
                warned,
                blocked: false,
                sensitive: &sensitive,
                has_attachments: attachments,
            },
        )
        .0
    }

    #[test]
    fn each_mode_decides() {
        use SensitiveKind::*;
        use TrackingScope::*;
        // (scope, warned, data, attachments) -> tracked
        let table = [
            (Off, true, vec![Bsn], true, false),
            (AtRisk, false, vec![], false, false),
            (AtRisk, false, vec![], true, false),
            (AtRisk, false, vec![Iban], false, false),
            (AtRisk, false, vec![Bsn], false, true),
            (AtRisk, false, vec![Health], false, true),
            (AtRisk, false, vec![BeRrn], false, true),
            (AtRisk, false, vec![DeSteuerId], false, true),
            (AtRisk, false, vec![FrNir], false, true),
            (AtRisk, false, vec![UkNhs], false, true),
            (AtRisk, false, vec![Iban, Card], false, false),
            (AtRisk, true, vec![], false, true),
            (ExternalPersonalData, false, vec![], false, false),
            (ExternalPersonalData, false, vec![Iban], false, true),
            (ExternalPersonalData, false, vec![], true, true),
            (ExternalPersonalData, true, vec![], false, true),
            (AllExternal, false, vec![], false, true),
        ];
        for (scope, warned, data, attachments, expected) in table {
            assert_eq!(
                decide_for(scope, warned, &data, attachments),
                expected,
                "{scope:?} {warned} {data:?} {attachments}"
            );
        }
    }

    #[test]
    fn internal_blocked_and_excluded_are_never_tracked() {
        let policy = TrackingPolicy {
            scope: TrackingScope::AllExternal,
            exclude_domains: vec![".de".into(), "partner.be".into()],
        };
        let input = |outside: &[&Address], blocked| {
            decide(
                &policy,
                Lang::Nl,
                &TrackingInput {
                    outside,
                    warned: true,
                    blocked,
                    sensitive: &[],
                    has_attachments: true,
                },
            )
        };
        assert!(!input(&[], false).0);
        let nl = parse_mailbox("a@klant.nl").unwrap();
        let de = parse_mailbox("a@firma.de").unwrap();
        let be = parse_mailbox("a@mail.partner.be").unwrap();
        assert!(input(&[&nl], false).0);
        assert!(!input(&[&nl], true).0);
        let (track, reason) = input(&[&nl, &de], false);
        assert!(!track);
        assert!(reason.contains("firma.de"), "{reason}");
        assert!(!input(&[&be], false).0);
    }
}
