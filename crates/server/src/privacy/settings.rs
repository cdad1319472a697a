//! A tenant's privacy settings (`tenants.privacy`, JSON): how long fetch records, message
//! metadata and the breach register are kept, and the controller details the record of
//! processing needs; with them the time zone people read the tenant's times in (its own
//! column, `tenants.time_zone`, which the accounts read for everyone). `GET/PUT
//! /api/v1/tenant/privacy` for admins; every change is audit-logged in the same transaction.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use super::PrivacyState;
use crate::accounts::AccountsError;
use crate::auth::AuthUser;
use crate::kit::audit::{self, Action, Actor};
use crate::kit::db::Db;
use crate::kit::error::ApiResult;
use crate::kit::ids::TenantId;
use crate::kit::json::ApiJson;
use crate::kit::time::{Zone, DEFAULT_TIME_ZONE};

/// Fetch records and message metadata: 30 days. Long enough for a sender to notice a
/// misdirected mail (most are noticed within hours, nearly all within a week) and report it;
/// any longer would keep every recipient's opens for nothing.
pub const DEFAULT_RETENTION_DAYS: i64 = 30;
/// The breach register: five years after an incident's last change. GDPR Art. 33(5) sets no
/// period, but the register must let the Autoriteit Persoonsgegevens verify compliance, and
/// its power to fine lapses five years after the infringement (Awb art. 5:45).
pub const DEFAULT_REGISTER_RETENTION_DAYS: i64 = 5 * 365 + 1;

pub const MAX_RETENTION_DAYS: i64 = 365;
pub const MIN_REGISTER_RETENTION_DAYS: i64 = 30;
pub const MAX_REGISTER_RETENTION_DAYS: i64 = 10 * 366;
pub const MAX_CONTACT_LEN: usize = 300;
pub const MAX_PROCESSORS: usize = 20;

/// A tenant's privacy settings; every field is optional (`{}` gives the defaults).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct PrivacySettings {
    /// Days fetch records (`pixel_hits`, `pixel_counts`) and message metadata are kept,
    /// unless the message is part of an incident. 1 to 365; default 30.
    pub retention_days: i64,
    /// Days an incident (with its message, evidence, alerts and their deliveries) is kept
    /// after its last change: the breach register. At least `retention_days` and 30, at most
    /// 3660; default 1826 (five years).
    pub register_retention_days: i64,
    /// How to reach the controller (postal address, phone, e-mail), for the record of
    /// processing and the transparency page. At most 300 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller_contact: Option<String>,
    /// Processors that handle the data for the tenant (e.g. who hosts this server), for the
    /// record of processing. At most 20, each at most 300 characters.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub processors: Vec<String>,
    /// The time zone alert mails, the notification draft and the dashboard show times in:
    /// an IANA name such as `Europe/Amsterdam` (the default), `Europe/London` or
    /// `America/New_York`, saved in its canonical spelling. Fixed offsets are refused.
    #[schema(example = "Europe/Amsterdam")]
    pub time_zone: String,
}

impl Default for PrivacySettings {
    fn default() -> Self {
        PrivacySettings {
            retention_days: DEFAULT_RETENTION_DAYS,
            register_retention_days: DEFAULT_REGISTER_RETENTION_DAYS,
            controller_contact: None,
            processors: Vec::new(),
            time_zone: DEFAULT_TIME_ZONE.to_string(),
        }
    }
}

impl PrivacySettings {
    /// From the stored column: NULL (never set) or unreadable JSON gives the defaults. The
    /// time zone is not in it ([`load`] reads it from its own column).
    pub fn from_column(text: Option<&str>) -> PrivacySettings {
        text.and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default()
    }

    /// Checks the ranges and the text fields.
    pub fn validate(&self) -> Result<(), AccountsError> {
        let invalid =
            |field: &'static str, reason: String| AccountsError::Invalid { field, reason };
        if !(1..=MAX_RETENTION_DAYS).contains(&self.retention_days) {
            return Err(invalid(
                "retention_days",
                format!("must be 1 to {MAX_RETENTION_DAYS}"),
            ));
        }
        let least = self.retention_days.max(MIN_REGISTER_RETENTION_DAYS);
        if !(least..=MAX_REGISTER_RETENTION_DAYS).contains(&self.register_retention_days) {
            return Err(invalid(
                "register_retention_days",
                format!(
                    "must be {least} to {MAX_REGISTER_RETENTION_DAYS} (at least retention_days and {MIN_REGISTER_RETENTION_DAYS})"
                ),
            ));
        }
        if let Some(contact) = &self.controller_contact {
            check_text("controller_contact", contact)?;
        }
        if self.processors.len() > MAX_PROCESSORS {
            return Err(invalid(
                "processors",
                format!("at most {MAX_PROCESSORS} entries"),
            ));
        }
        for processor in &self.processors {
            check_text("processors", processor)?;
        }
        Zone::parse(&self.time_zone).map_err(|reason| invalid("time_zone", reason))?;
        Ok(())
    }

    /// `controller_contact`, trimmed, when set and not blank.
    pub fn contact(&self) -> Option<&str> {
        self.controller_contact
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
    }

    /// The register period in whole years when it is one (1826 days reads "5 years").
    pub fn register_years(&self) -> Option<i64> {
        let years = (self.register_retention_days as f64 / 365.25).round() as i64;
        (years >= 1 && (self.register_retention_days - years * 365).abs() <= 2).then_some(years)
    }
}

fn check_text(field: &'static str, text: &str) -> Result<(), AccountsError> {
    if text.chars().count() > MAX_CONTACT_LEN {
        return Err(AccountsError::Invalid {
            field,
            reason: format!("longer than {MAX_CONTACT_LEN} characters"),
        });
    }
    // Line breaks are fine in an address; other controls and bidirectional overrides are not.
    if let Some(bad) = text.chars().find(|&c| {
        (c.is_control() && c != '\n' && c != '\r' && c != '\t')
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    }) {
        return Err(AccountsError::Invalid {
            field,
            reason: format!("contains the character U+{:04X}", bad as u32),
        });
    }
    Ok(())
}

/// A tenant's settings (the defaults when it has none).
pub async fn load(db: &Db, tenant_id: &TenantId) -> Result<PrivacySettings, AccountsError> {
    let row = sqlx::query("SELECT privacy, time_zone FROM tenants WHERE id = $1")
        .bind(tenant_id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or_else(|| AccountsError::NoTenant(tenant_id.to_string()))?;
    let text: Option<String> = row.try_get("privacy")?;
    let zone: String = row.try_get("time_zone")?;
    Ok(PrivacySettings {
        time_zone: Zone::stored(&zone).name().to_string(),
        ..PrivacySettings::from_column(text.as_deref())
    })
}

/// Settings that have passed [`PrivacySettings::validate`] at the boundary; only these
/// are saved.
#[derive(Debug, Clone)]
pub struct ValidSettings(PrivacySettings);

impl TryFrom<PrivacySettings> for ValidSettings {
    type Error = AccountsError;

    fn try_from(mut settings: PrivacySettings) -> Result<ValidSettings, AccountsError> {
        settings.validate()?;
        // Saved as the database spells it (`europe/amsterdam` is `Europe/Amsterdam`).
        settings.time_zone = Zone::stored(&settings.time_zone).name().to_string();
        Ok(ValidSettings(settings))
    }
}

impl ValidSettings {
    pub fn into_settings(self) -> PrivacySettings {
        self.0
    }
}

/// Replaces a tenant's settings and records who did it, in one transaction.
pub async fn save(
    db: &Db,
    tenant_id: &TenantId,
    settings: &ValidSettings,
    actor: &Actor,
    now_ms: i64,
) -> Result<(), AccountsError> {
    let settings = &settings.0;
    let json = serde_json::to_value(settings).expect("settings serialise");
    // The time zone has its own column (the accounts read it); the rest is the JSON.
    let mut stored = json.clone();
    if let Some(fields) = stored.as_object_mut() {
        fields.remove("time_zone");
    }
    let mut tx = db.pool.begin().await?;
    let updated = sqlx::query("UPDATE tenants SET privacy = $1, time_zone = $2 WHERE id = $3")
        .bind(stored.to_string())
        .bind(&settings.time_zone)
        .bind(tenant_id)
        .execute(&mut *tx)
        .await?;
    if updated.rows_affected() == 0 {
        return Err(AccountsError::NoTenant(tenant_id.to_string()));
    }
    audit::record(
        &mut *tx,
        tenant_id,
        actor,
        Action::PrivacySettingsChanged,
        ("tenant", tenant_id.as_str()),
        json,
        now_ms,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The tenant's privacy settings: retention periods and record-of-processing details.
#[utoipa::path(get, path = "/api/v1/tenant/privacy", tag = "privacy", security(("bearer" = [])),
    responses((status = 200, body = PrivacySettings), (status = 403, description = "Not an admin")))]
pub async fn show(
    State(state): State<PrivacyState>,
    user: AuthUser,
) -> ApiResult<Json<PrivacySettings>> {
    user.require_admin()?;
    Ok(Json(load(state.db(), &user.tenant_id).await?))
}

/// Replaces the tenant's privacy settings (fields left out take their defaults, so send
/// `time_zone` back with the rest). Audit-logged with the new settings; the retention job
/// applies them on its next run, the time zone applies to times formatted from then on.
/// An unknown time zone is refused with 400 and a message that says what to give.
#[utoipa::path(put, path = "/api/v1/tenant/privacy", tag = "privacy", security(("bearer" = [])),
    request_body = PrivacySettings,
    responses((status = 200, description = "The settings as saved", body = PrivacySettings),
        (status = 400, description = "Invalid settings"), (status = 403, description = "Not an admin")))]
pub async fn set(
    State(state): State<PrivacyState>,
    user: AuthUser,
    ApiJson(settings): ApiJson<PrivacySettings>,
) -> ApiResult<Json<PrivacySettings>> {
    user.require_admin()?;
    let settings = ValidSettings::try_from(settings)?;
    save(
        state.db(),
        &user.tenant_id,
        &settings,
        &user.actor(),
        state.clock().now_ms(),
    )
    .await?;
    Ok(Json(settings.into_settings()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_ranges() {
        let defaults: PrivacySettings = serde_json::from_str("{}").unwrap();
        assert_eq!(defaults, PrivacySettings::default());
        defaults.validate().unwrap();
        assert_eq!(defaults.register_years(), Some(5));
        assert_eq!(PrivacySettings::from_column(None), defaults);
        assert_eq!(PrivacySettings::from_column(Some("not json")), defaults);
        let bad = |s: PrivacySettings| s.validate().unwrap_err().to_string();
        assert!(bad(PrivacySettings {
            retention_days: 0,
            ..defaults.clone()
        })
        .contains("retention_days"));
        assert!(bad(PrivacySettings {
            retention_days: 366,
            ..defaults.clone()
        })
        .contains("retention_days"));
        assert!(bad(PrivacySettings {
            retention_days: 200,
            register_retention_days: 100,
            ..defaults.clone()
        })
        .contains("register_retention_days"));
        assert!(bad(PrivacySettings {
            controller_contact: Some("a\u{202e}b".into()),
            ..defaults.clone()
        })
        .contains("U+202E"));
        assert!(bad(PrivacySettings {
            processors: vec!["x".into(); 21],
            ..defaults.clone()
        })
        .contains("processors"));
        assert_eq!(defaults.time_zone, "Europe/Amsterdam");
        let zone = bad(PrivacySettings {
            time_zone: "Europe/Amsterdan".into(),
            ..defaults.clone()
        });
        assert!(
            zone.starts_with("invalid time_zone: 'Europe/Amsterdan' is not a time zone")
                && zone.contains("such as Europe/Amsterdam"),
            "{zone}"
        );
        let lower = ValidSettings::try_from(PrivacySettings {
            time_zone: "europe/london".into(),
            ..defaults.clone()
        })
        .unwrap();
        assert_eq!(lower.into_settings().time_zone, "Europe/London");
        PrivacySettings {
            retention_days: 7,
            register_retention_days: 30,
            controller_contact: Some("Postbus 1\n1000 AA Amsterdam".into()),
            processors: vec!["Hoster B.V.".into()],
            time_zone: "America/New_York".into(),
        }
        .validate()
        .unwrap();
        assert_eq!(
            PrivacySettings {
                register_retention_days: 400,
                ..defaults
            }
            .register_years(),
            None
        );
    }
}
