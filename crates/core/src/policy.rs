//! The tenant policy: which domains are ours, which we trust or block, how sensitive each rule
//! is, and when a message is tracked.
//!
//! Every field has a documented default so that an empty policy (`{}`) is a sensible one. The
//! defaults are tuned against warning fatigue: a rule that fires on normal mail teaches senders
//! to click "send anyway" and then it protects no one.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::disclose::DisclosurePolicy;
use crate::verdict::Severity;

/// The tenant policy. Unknown fields are ignored so older cores accept newer policies.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
// Plain objects, not `Map`s: the shell reads and writes JSON-shaped values.
#[cfg_attr(feature = "typescript", tsify(hashmap_as_object))]
#[serde(default)]
pub struct Policy {
    /// Domains of the tenant itself. Subdomains are included. The sender's own organisation
    /// (unless it is a freemail provider) is always internal, even when this list is empty.
    pub internal_domains: Vec<String>,
    /// Partner domains mail can go to without checks for mixing or lookalikes (subdomains
    /// included). They still count as external for tracking.
    pub trusted_domains: Vec<String>,
    /// Domains no mail may go to (subdomains included); rule `blocked-domain`.
    pub blocked_domains: Vec<String>,
    /// Extra personal/freemail provider domains on top of the built-in list.
    pub freemail_domains: Vec<String>,
    /// Severity per rule id, overriding the rule's default. `off` disables a rule.
    pub severities: BTreeMap<String, RuleSetting>,
    pub thresholds: Thresholds,
    pub tracking: TrackingPolicy,
    /// The disclosure text every tracked message carries.
    pub disclosure: DisclosurePolicy,
}

/// A rule's configured severity, or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[serde(rename_all = "lowercase")]
pub enum RuleSetting {
    Off,
    Info,
    Warn,
    Block,
}

impl RuleSetting {
    pub fn severity(self) -> Option<Severity> {
        match self {
            RuleSetting::Off => None,
            RuleSetting::Info => Some(Severity::Info),
            RuleSetting::Warn => Some(Severity::Warn),
            RuleSetting::Block => Some(Severity::Block),
        }
    }
}

/// Numbers that decide when a rule fires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[serde(default)]
pub struct Thresholds {
    /// `visible-recipients`: warn when at least this many external addresses of two or more
    /// organisations are visible in To/Cc. Default 10.
    pub visible_recipients: usize,
    /// `visible-recipients`: a group is established (no warning) when one earlier message
    /// already went to at least this share of the visible external addresses. Default 0.8.
    pub visible_group_share: f64,
    /// `lookalike-domain`: the largest edit distance (with transpositions) between a
    /// recipient's organisation name and a known one. Names shorter than
    /// `lookalike_min_length` only match at distance 0 after confusable folding; names
    /// shorter than `2 * lookalike_min_length` at distance 1 at most. Default 2.
    pub lookalike_max_distance: usize,
    /// `lookalike-domain`: organisation names (the registrable label) shorter than this are
    /// compared only for homoglyphs, TLD swaps and label tricks. Default 5.
    pub lookalike_min_length: usize,
    /// `similar-contact`: the largest edit distance between an unknown local part and a known
    /// contact's local part at the same organisation. Default 2.
    pub similar_local_max_distance: usize,
    /// An address is an established contact once this many sent messages went to it (or it
    /// is in the address book). Default 2.
    pub established_messages: u32,
    /// `mixed-organizations`: above this many external organisations a message is a mailing
    /// and mixing is no longer judged (`visible-recipients` still is). Default 6.
    pub mixed_organizations_max: usize,
    /// Rules that judge relationships (`new-recipient`, `mixed-organizations`,
    /// `similar-contact`) need at least this many history messages; with less, everyone is
    /// new and their findings would only be noise. Default 5.
    pub min_history: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            visible_recipients: 10,
            visible_group_share: 0.8,
            lookalike_max_distance: 2,
            lookalike_min_length: 5,
            similar_local_max_distance: 2,
            established_messages: 2,
            mixed_organizations_max: 6,
            min_history: 5,
        }
    }
}

/// A threshold outside the range the rules are meant for.
#[derive(Debug, Clone, PartialEq)]
pub struct ThresholdOutOfRange {
    /// The field, e.g. `thresholds.lookalike_max_distance`.
    pub field: &'static str,
    /// The allowed range, e.g. `0 to 5`.
    pub range: String,
    /// The value given, as written.
    pub value: String,
}

impl ThresholdOutOfRange {
    /// What is wrong, without the field: `must be from 0 to 5; got 9`.
    pub fn reason(&self) -> String {
        format!("must be from {}; got {}", self.range, self.value)
    }
}

impl std::fmt::Display for ThresholdOutOfRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.field, self.reason())
    }
}

impl Thresholds {
    /// The ranges in which each threshold means something (a distance of 4294967295 makes
    /// every name a lookalike; a share above 1 never matches): the first one outside its
    /// range, with the range.
    pub fn check(&self) -> Result<(), ThresholdOutOfRange> {
        fn within<T: PartialOrd + std::fmt::Display>(
            field: &'static str,
            value: T,
            low: T,
            high: T,
        ) -> Result<(), ThresholdOutOfRange> {
            if value >= low && value <= high {
                Ok(())
            } else {
                Err(ThresholdOutOfRange {
                    field,
                    range: format!("{low} to {high}"),
                    value: value.to_string(),
                })
            }
        }
        within(
            "thresholds.visible_recipients",
            self.visible_recipients,
            2,
            10_000,
        )?;
        // NaN fails both comparisons, so it is refused too.
        within(
            "thresholds.visible_group_share",
            self.visible_group_share,
            0.0,
            1.0,
        )?;
        within(
            "thresholds.lookalike_max_distance",
            self.lookalike_max_distance,
            0,
            5,
        )?;
        within(
            "thresholds.lookalike_min_length",
            self.lookalike_min_length,
            1,
            63,
        )?;
        within(
            "thresholds.similar_local_max_distance",
            self.similar_local_max_distance,
            0,
            5,
        )?;
        within(
            "thresholds.established_messages",
            self.established_messages,
            1,
            1_000,
        )?;
        within(
            "thresholds.mixed_organizations_max",
            self.mixed_organizations_max,
            2,
            1_000,
        )?;
        within("thresholds.min_history", self.min_history, 0, 100_000)?;
        Ok(())
    }
}

/// When a sent message is tracked for leak detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[serde(default)]
pub struct TrackingPolicy {
    pub scope: TrackingScope,
    /// Recipient domains (with subdomains) or top-level domains written as `.de` for which
    /// messages are never tracked, e.g. jurisdictions that require consent.
    pub exclude_domains: Vec<String>,
}

impl Default for TrackingPolicy {
    fn default() -> Self {
        Self {
            scope: TrackingScope::AtRisk,
            exclude_domains: Vec::new(),
        }
    }
}

/// The tracking modes a tenant can choose from, from least to most tracking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum TrackingScope {
    /// Never track.
    Off,
    /// Only external mail at risk: a warning the sender overrode, or special-category or
    /// identity data (health, a BSN or another national identity number) going out. The
    /// default.
    AtRisk,
    /// External mail carrying any detected personal data (including financial data) or
    /// attachments, and mail at risk.
    ExternalPersonalData,
    /// Every message with an external recipient.
    AllExternal,
}
