//! What a check returns: the check-v1 Verdict.

use serde::{Deserialize, Serialize};

use crate::sensitive::SensitiveCount;

/// How serious a finding is. Ordered: `Info < Warn < Block`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warn,
    Block,
}

/// The overall outcome: what the add-in does with the draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Send,
    Warn,
    Block,
}

impl Outcome {
    /// `info` findings alone give `send`; otherwise the most severe finding decides.
    pub fn from_findings(findings: &[Finding]) -> Self {
        match findings.iter().map(|f| f.severity).max() {
            Some(Severity::Block) => Outcome::Block,
            Some(Severity::Warn) => Outcome::Warn,
            _ => Outcome::Send,
        }
    }
}

/// One reason to look at the draft again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct Finding {
    /// The rule id, e.g. `lookalike-domain`.
    pub rule: String,
    pub severity: Severity,
    /// The recipients (addresses as written in the draft) the finding is about.
    pub recipients: Vec<String>,
    /// Human readable, in the requested language.
    pub message: String,
    /// What the sender probably meant, when there is a likely answer.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub suggestion: Option<String>,
}

/// The check-v1 Verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct Verdict {
    pub verdict: Outcome,
    pub findings: Vec<Finding>,
    /// Whether the message, sent as it is, warrants leak-detection tracking under the policy.
    pub track: bool,
    pub track_reason: String,
    pub sensitive: Vec<SensitiveCount>,
}
