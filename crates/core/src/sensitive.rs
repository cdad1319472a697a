//! Sensitive data detectors (placeholder API; filled in by the detectors' own commit).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SensitiveKind {
    Bsn,
    Iban,
    Card,
    Health,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SensitiveCount {
    pub kind: SensitiveKind,
    pub count: usize,
}

/// GDPR-relevant category of a kind (placeholder until the detectors land).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataCategory {
    Identity,
    Financial,
    SpecialCategory,
}

impl SensitiveKind {
    pub fn category(self) -> DataCategory {
        match self {
            SensitiveKind::Bsn => DataCategory::Identity,
            SensitiveKind::Iban | SensitiveKind::Card => DataCategory::Financial,
            SensitiveKind::Health => DataCategory::SpecialCategory,
        }
    }

    pub fn label(self, lang: crate::i18n::Lang) -> &'static str {
        match self {
            SensitiveKind::Bsn => {
                lang.pick("BSN (citizen service number)", "BSN (burgerservicenummer)")
            }
            SensitiveKind::Iban => lang.pick("IBAN (bank account)", "IBAN (bankrekening)"),
            SensitiveKind::Card => lang.pick("payment card number", "betaalkaartnummer"),
            SensitiveKind::Health => lang.pick("health information", "gezondheidsgegevens"),
        }
    }
}

pub fn scan(_texts: &[&str]) -> Vec<SensitiveCount> {
    Vec::new()
}
