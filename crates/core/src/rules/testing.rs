//! Test support for the rule modules: the accountant profile from the scenario fixtures and a
//! small draft builder.

use crate::draft::{Attachment, Contact, Message, Recipient, SentMessage};
use crate::{Checker, Finding, Lang, Policy, Verdict};

pub struct Profile {
    pub from: String,
    pub policy: Policy,
    pub history: Vec<SentMessage>,
    pub contacts: Vec<Contact>,
}

/// Anna, an accountant at boekhoudpartners.nl, with a few years of clients in her history.
pub fn profile() -> Profile {
    #[derive(serde::Deserialize)]
    struct Raw {
        from: String,
        policy: Policy,
        history: Vec<SentMessage>,
        contacts: Vec<Contact>,
    }
    let raw: Raw = serde_json::from_str(include_str!(
        "../../tests/scenarios/profile-accountant.json"
    ))
    .expect("profile parses");
    Profile {
        from: raw.from,
        policy: raw.policy,
        history: raw.history,
        contacts: raw.contacts,
    }
}

/// A profile with no history and no address book: a fresh install.
pub fn empty_profile() -> Profile {
    Profile {
        history: Vec::new(),
        contacts: Vec::new(),
        ..profile()
    }
}

impl Profile {
    pub fn check(&self, draft: DraftBuilder) -> Verdict {
        self.check_in(draft, Lang::En)
    }

    pub fn check_in(&self, draft: DraftBuilder, lang: Lang) -> Verdict {
        let checker = Checker::new(self.policy.clone(), &self.history, &self.contacts);
        let mut message = draft.message;
        if message.from.is_empty() {
            message.from = self.from.clone();
        }
        checker.check(&message, lang).expect("valid draft")
    }
}

pub struct DraftBuilder {
    pub message: Message,
}

fn recipients(list: &[&str]) -> Vec<Recipient> {
    list.iter().map(|&r| Recipient::from(r)).collect()
}

pub fn draft(to: &[&str]) -> DraftBuilder {
    DraftBuilder {
        message: Message {
            to: recipients(to),
            ..Message::default()
        },
    }
}

impl DraftBuilder {
    pub fn cc(mut self, cc: &[&str]) -> Self {
        self.message.cc = recipients(cc);
        self
    }
    pub fn bcc(mut self, bcc: &[&str]) -> Self {
        self.message.bcc = recipients(bcc);
        self
    }
    pub fn subject(mut self, subject: &str) -> Self {
        self.message.subject = subject.to_string();
        self
    }
    pub fn body(mut self, body: &str) -> Self {
        self.message.body = body.to_string();
        self
    }
    pub fn attach(mut self, name: &str) -> Self {
        self.message.attachments.push(Attachment {
            name: name.to_string(),
            size: Some(12_345),
            content_type: None,
        });
        self
    }
}

/// The findings of one rule.
pub fn only<'a>(verdict: &'a Verdict, rule: &str) -> Vec<&'a Finding> {
    verdict.findings.iter().filter(|f| f.rule == rule).collect()
}

/// The rules that gave a warning or a block.
pub fn warned_rules(verdict: &Verdict) -> Vec<&str> {
    verdict
        .findings
        .iter()
        .filter(|f| f.severity >= crate::Severity::Warn)
        .map(|f| f.rule.as_str())
        .collect()
}
