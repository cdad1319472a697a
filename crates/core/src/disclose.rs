//! Disclosure and pixel insertion (issue 3; placeholder until its own commit).

use serde::{Deserialize, Serialize};

/// The tenant's disclosure settings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DisclosurePolicy {}
