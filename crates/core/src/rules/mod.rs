//! The rules, one module each. A rule looks at the [`Ctx`] and returns findings; the check
//! applies the policy's severity to them. Rules run in [`ALL`]'s order, and a recipient named
//! by a warning is in `ctx.flagged` for the rules after it, so one slip gives one warning.

use crate::check::Ctx;
use crate::verdict::Severity;

mod attachment_mismatch;
mod blocked_domain;
mod lookalike_domain;
mod mixed_organizations;
mod new_recipient;
mod personal_address;
mod sensitive_content;
mod similar_contact;
mod visible_recipients;

/// A rule: its check-v1 id, the severity of its findings unless the policy says otherwise,
/// and the function that runs it.
pub struct Rule {
    pub id: &'static str,
    pub default_severity: Severity,
    pub run: fn(&Ctx<'_>) -> Vec<RuleFinding>,
}

/// What a rule found, before the policy's severity is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleFinding {
    /// Always `info`, whatever the rule's configured severity (e.g. sensitive data to an
    /// established contact: worth recording, not worth interrupting the sender).
    pub informational: bool,
    pub recipients: Vec<String>,
    pub message: String,
    pub suggestion: Option<String>,
}

impl RuleFinding {
    pub fn warning(recipients: Vec<String>, message: String) -> Self {
        Self {
            informational: false,
            recipients,
            message,
            suggestion: None,
        }
    }

    pub fn info(recipients: Vec<String>, message: String) -> Self {
        Self {
            informational: true,
            ..Self::warning(recipients, message)
        }
    }

    pub fn with_suggestion(mut self, suggestion: Option<String>) -> Self {
        self.suggestion = suggestion;
        self
    }
}

/// Every rule, in the order they run.
pub const ALL: &[Rule] = &[
    blocked_domain::RULE,
    lookalike_domain::RULE,
    similar_contact::RULE,
    personal_address::RULE,
    mixed_organizations::RULE,
    attachment_mismatch::RULE,
    visible_recipients::RULE,
    sensitive_content::RULE,
    new_recipient::RULE,
];

/// The rule ids, as check-v1 lists them.
pub fn ids() -> impl Iterator<Item = &'static str> {
    ALL.iter().map(|r| r.id)
}

/// Allowed edit distance for a string of `len` characters: none below `min_len`, one below
/// twice that, then `max`.
pub(crate) fn allowed_distance(len: usize, min_len: usize, max: usize) -> usize {
    if len < min_len {
        0
    } else if len < 2 * min_len {
        max.min(1)
    } else {
        max
    }
}

/// Edit distance with adjacent transpositions (optimal string alignment). The common prefix
/// and suffix are removed first: the check compares many names that share most of their
/// letters, and this keeps it well below a millisecond.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let prefix: usize = a
        .chars()
        .zip(b.chars())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x.len_utf8())
        .sum();
    let (a, b) = (&a[prefix..], &b[prefix..]);
    let suffix: usize = a
        .chars()
        .rev()
        .zip(b.chars().rev())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x.len_utf8())
        .sum();
    strsim::osa_distance(&a[..a.len() - suffix], &b[..b.len() - suffix])
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests {
    use super::edit_distance;

    #[test]
    fn edit_distance_matches_osa_on_hard_cases() {
        for (a, b) in [
            ("klantbedrijf", "klantbedrjif"),
            ("klantbedrijf", "klantbedrijf"),
            ("aab", "aba"),
            ("ab", "ba"),
            ("", "abc"),
            ("gmail", "gmial"),
            ("bäckerei", "backerei"),
            ("organisatie12-bouw", "organisatei12-bouw"),
            ("aaaa", "aa"),
            ("abcabc", "abc"),
        ] {
            assert_eq!(edit_distance(a, b), strsim::osa_distance(a, b), "{a} {b}");
        }
    }
}
