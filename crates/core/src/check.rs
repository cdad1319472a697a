//! Draft -> Verdict: parse the recipients, run every rule, apply the policy's severities and
//! decide whether the message warrants tracking.

use std::collections::HashSet;

use crate::address::{parse_mailbox, parse_recipient, Address, AddressError};
use crate::draft::{Contact, Draft, Message, Recipient, SentMessage};
use crate::history::{AddressStats, ContactModel, Domains, OrgStats, Relation};
use crate::i18n::Lang;
use crate::policy::Policy;
use crate::rules::{self, RuleFinding};
use crate::sensitive::{self, SensitiveCount};
use crate::tracking::{decide, TrackingInput};
use crate::verdict::{Finding, Outcome, Severity, Verdict};

/// Invalid input: names the field and the reason, e.g. `to[1]: 'jan' has no '@'`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct CheckError {
    pub field: String,
    pub reason: String,
}

impl CheckError {
    fn address(field: String, err: AddressError) -> Self {
        Self {
            field,
            reason: err.to_string(),
        }
    }
}

/// Which header a recipient is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    To,
    Cc,
    Bcc,
}

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::To => "to",
            Field::Cc => "cc",
            Field::Bcc => "bcc",
        }
    }

    /// To and Cc are visible to every recipient; Bcc is not.
    pub fn is_visible(self) -> bool {
        !matches!(self, Field::Bcc)
    }
}

/// A recipient of the draft with everything the rules need to know about it.
#[derive(Debug, Clone)]
pub struct Rcpt<'a> {
    pub address: Address,
    pub field: Field,
    pub relation: Relation,
    /// Organisation key (see [`Domains::org_key`]).
    pub org: String,
    pub freemail: bool,
    pub stats: Option<&'a AddressStats>,
    pub org_stats: Option<&'a OrgStats>,
}

impl Rcpt<'_> {
    pub fn is_external(&self) -> bool {
        self.relation == Relation::External
    }

    /// Written to before (or in the address book).
    pub fn is_known(&self) -> bool {
        self.stats
            .is_some_and(|s| s.messages > 0 || s.in_address_book)
    }

    /// An established relationship: in the address book or written to often enough.
    pub fn is_established(&self, policy: &Policy) -> bool {
        self.stats.is_some_and(|s| {
            s.in_address_book || s.messages >= policy.thresholds.established_messages
        })
    }

    /// The organisation was written to before (by any of its addresses).
    pub fn org_is_known(&self) -> bool {
        self.org_stats.is_some_and(|o| o.messages > 0) || self.is_known()
    }

    pub fn written(&self) -> String {
        self.address.written.clone()
    }
}

/// Everything a rule looks at.
pub struct Ctx<'a> {
    pub policy: &'a Policy,
    pub lang: Lang,
    pub model: &'a ContactModel,
    /// The policy's domains plus the sender's own organisation as internal.
    pub domains: Domains,
    pub sender: Option<Address>,
    pub message: &'a Message,
    pub recipients: Vec<Rcpt<'a>>,
    pub sensitive: Vec<SensitiveCount>,
    /// Recipients already named by a warning of an earlier rule, so later rules about the
    /// same slip stay quiet.
    pub flagged: HashSet<String>,
}

impl Ctx<'_> {
    /// Whether the history is long enough to judge relationships.
    pub fn has_history(&self) -> bool {
        self.model.message_count() as usize >= self.policy.thresholds.min_history
    }

    pub fn external(&self) -> impl Iterator<Item = &Rcpt<'_>> {
        self.recipients.iter().filter(|r| r.is_external())
    }
}

/// The send-time checker: built once from the policy, history and address book; checks many
/// drafts.
#[derive(Debug, Clone)]
pub struct Checker {
    policy: Policy,
    model: ContactModel,
}

impl Checker {
    pub fn new(policy: Policy, history: &[SentMessage], contacts: &[Contact]) -> Self {
        let model = ContactModel::build(&policy, history, contacts);
        Self { policy, model }
    }

    /// Builds a checker from a full check-v1 Draft and returns it with the message to check.
    pub fn from_draft(draft: &Draft) -> (Self, Message) {
        let checker = Checker::new(draft.policy.clone(), &draft.history, &draft.contacts);
        (checker, draft.message())
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn model(&self) -> &ContactModel {
        &self.model
    }

    /// Adds a sent message to the history without rebuilding the model.
    pub fn add_sent(&mut self, message: &SentMessage) {
        self.model.add_sent(message);
    }

    /// Checks one message.
    pub fn check(&self, message: &Message, lang: Lang) -> Result<Verdict, CheckError> {
        let sender = if message.from.trim().is_empty() {
            None
        } else {
            Some(parse_mailbox(&message.from).map_err(|e| CheckError::address("from".into(), e))?)
        };
        let domains = self.model.domains().with_sender(sender.as_ref());
        let recipients = self.resolve_recipients(message, &domains)?;

        let attachment_names: Vec<&str> = message
            .attachments
            .iter()
            .map(|a| a.name.as_str())
            .collect();
        let mut texts = vec![message.subject.as_str(), message.body.as_str()];
        texts.extend(attachment_names);
        let sensitive = sensitive::scan(&texts);

        let mut ctx = Ctx {
            policy: &self.policy,
            lang,
            model: &self.model,
            domains,
            sender,
            message,
            recipients,
            sensitive,
            flagged: HashSet::new(),
        };
        let mut findings = Vec::new();
        for rule in rules::ALL {
            let severity = configured_severity(&self.policy, rule);
            let Some(full_severity) = severity else {
                continue;
            };
            for raw in (rule.run)(&ctx) {
                let finding = raw.into_finding(rule.id, full_severity);
                if finding.severity >= Severity::Warn {
                    ctx.flagged.extend(finding.recipients.iter().cloned());
                }
                findings.push(finding);
            }
        }
        // Most severe first; rule order otherwise (stable sort).
        findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
        let verdict = Outcome::from_findings(&findings);
        let outside: Vec<&Address> = ctx
            .recipients
            .iter()
            .filter(|r| r.relation != Relation::Internal)
            .map(|r| &r.address)
            .collect();
        let (track, track_reason) = decide(
            &self.policy.tracking,
            lang,
            &TrackingInput {
                outside: &outside,
                warned: verdict == Outcome::Warn,
                blocked: verdict == Outcome::Block,
                sensitive: &ctx.sensitive,
                has_attachments: !message.attachments.is_empty(),
            },
        );
        Ok(Verdict {
            verdict,
            findings,
            track,
            track_reason,
            sensitive: ctx.sensitive,
        })
    }

    fn resolve_recipients<'a>(
        &'a self,
        message: &Message,
        domains: &Domains,
    ) -> Result<Vec<Rcpt<'a>>, CheckError> {
        let fields: [(Field, &Vec<Recipient>); 3] = [
            (Field::To, &message.to),
            (Field::Cc, &message.cc),
            (Field::Bcc, &message.bcc),
        ];
        let mut seen = HashSet::new();
        let mut recipients = Vec::new();
        for (field, list) in fields {
            for (i, recipient) in list.iter().enumerate() {
                let address = parse_recipient(recipient)
                    .map_err(|e| CheckError::address(format!("{}[{i}]", field.name()), e))?;
                if !seen.insert(address.canonical()) {
                    continue;
                }
                let org = domains.org_key(&address);
                recipients.push(Rcpt {
                    field,
                    relation: domains.relation(&address),
                    freemail: domains.is_freemail(&address),
                    stats: self.model.address(&address),
                    org_stats: self.model.org(&org),
                    org,
                    address,
                });
            }
        }
        Ok(recipients)
    }
}

/// Checks a full check-v1 Draft (builds the model for this one draft).
pub fn check_draft(draft: &Draft, lang: Lang) -> Result<Verdict, CheckError> {
    let (checker, message) = Checker::from_draft(draft);
    checker.check(&message, lang)
}

/// Whether some finding under this policy can be a `block`: a rule set to `block`, or
/// `blocked-domain` (a block by default) with domains to block. The Outlook add-in's
/// manifest asks for `softBlock` then, so that Outlook offers no "Send anyway" for a block.
pub fn policy_can_block(policy: &Policy) -> bool {
    rules::ALL.iter().any(|rule| {
        let can_fire = rule.id != "blocked-domain" || !policy.blocked_domains.is_empty();
        can_fire && configured_severity(policy, rule) == Some(Severity::Block)
    })
}

/// The severity a rule's full-strength findings get: the policy's setting, or the rule's
/// default. `None` when the policy turns the rule off.
fn configured_severity(policy: &Policy, rule: &rules::Rule) -> Option<Severity> {
    match policy.severities.get(rule.id) {
        Some(setting) => setting.severity(),
        None => Some(rule.default_severity),
    }
}

impl RuleFinding {
    fn into_finding(self, rule: &str, full_severity: Severity) -> Finding {
        Finding {
            rule: rule.to_string(),
            severity: if self.informational {
                Severity::Info
            } else {
                full_severity
            },
            recipients: self.recipients,
            message: self.message,
            suggestion: self.suggestion,
        }
    }
}

#[cfg(test)]
mod can_block_tests {
    use super::policy_can_block;
    use crate::policy::{Policy, RuleSetting};

    #[test]
    fn a_block_needs_a_rule_that_blocks_and_can_fire() {
        assert!(
            !policy_can_block(&Policy::default()),
            "no blocked domains: nothing blocks"
        );
        let mut policy = Policy {
            blocked_domains: vec!["concurrent.nl".into()],
            ..Policy::default()
        };
        assert!(
            policy_can_block(&policy),
            "blocked-domain blocks by default"
        );
        policy
            .severities
            .insert("blocked-domain".into(), RuleSetting::Warn);
        assert!(!policy_can_block(&policy), "turned down to a warning");
        policy
            .severities
            .insert("personal-address".into(), RuleSetting::Block);
        assert!(policy_can_block(&policy), "another rule set to block");
        policy
            .severities
            .insert("personal-address".into(), RuleSetting::Off);
        assert!(!policy_can_block(&policy));
    }
}
