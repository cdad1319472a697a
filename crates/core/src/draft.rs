//! The check-v1 input: a Draft, with the sender's history, address book and policy.
//!
//! These are the wire types (serde). Addresses stay strings here and are parsed by
//! [`crate::address`] when the check runs, so that one bad address can be reported with the
//! field it came from.

use serde::{Deserialize, Serialize};

use crate::policy::Policy;

/// A recipient as a mail client gives it: `"addr"`, `"Name <addr>"`,
/// `"\"Last, First\" <addr>"`, or `{"address": "...", "name": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[serde(
    untagged,
    expecting = "a recipient: \"addr\", \"Name <addr>\" or {\"address\": ..., \"name\": ...}"
)]
pub enum Recipient {
    Text(String),
    Structured {
        address: String,
        #[serde(default)]
        name: Option<String>,
    },
}

impl From<&str> for Recipient {
    fn from(value: &str) -> Self {
        Recipient::Text(value.to_string())
    }
}

/// An attachment's metadata; its content never reaches the core.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct Attachment {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

/// One earlier sent message of the sender.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[serde(default)]
pub struct SentMessage {
    pub to: Vec<Recipient>,
    pub cc: Vec<Recipient>,
    pub bcc: Vec<Recipient>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// RFC 3339; used for recency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<String>,
}

/// An address book entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct Contact {
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The message being sent, without the sender's context.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[serde(default)]
pub struct Message {
    pub from: String,
    pub to: Vec<Recipient>,
    pub cc: Vec<Recipient>,
    pub bcc: Vec<Recipient>,
    pub subject: String,
    pub body: String,
    pub attachments: Vec<Attachment>,
}

/// The full check-v1 Draft: the message plus everything the check needs to judge it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct Draft {
    pub from: String,
    #[serde(default)]
    pub to: Vec<Recipient>,
    #[serde(default)]
    pub cc: Vec<Recipient>,
    #[serde(default)]
    pub bcc: Vec<Recipient>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// Newest first.
    #[serde(default)]
    pub history: Vec<SentMessage>,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    #[serde(default)]
    pub policy: Policy,
}

impl Draft {
    /// The message part, leaving history, contacts and policy to the caller.
    pub fn message(&self) -> Message {
        Message {
            from: self.from.clone(),
            to: self.to.clone(),
            cc: self.cc.clone(),
            bcc: self.bcc.clone(),
            subject: self.subject.clone().unwrap_or_default(),
            body: self.body.clone().unwrap_or_default(),
            attachments: self.attachments.clone(),
        }
    }
}
