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
