//! Writing the audit log: who did what, when, to which object. Nearly every feature records
//! here (policy, users, incidents, evidence views, objections, retention), often in the
//! transaction of the change, so writing is in the kit; reading it is the `audit` feature.

use crate::kit::ids::TenantId;
use serde::{Deserialize, Serialize};
use sqlx::{Any, Executor};
use utoipa::ToSchema;

/// What was done. Stored as its snake_case name; new actions may be added, never renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Fetch evidence of an incident was shown (incident view, notification draft, export).
    EvidenceViewed,
    IncidentOpened,
    IncidentUpdated,
    NotificationEdited,
    PolicyChanged,
    AlertSettingsChanged,
    UserAdded,
    UserChanged,
    OidcChanged,
    AuditExported,
    /// A tenant-wide alert stream was opened by an admin.
    AlertStreamOpened,
    /// The tenant's retention periods or record-of-processing details were changed.
    PrivacySettingsChanged,
    /// A recipient confirmed an objection (GDPR Art. 21); the detail never holds the address.
    ObjectionConfirmed,
    /// The retention job deleted records past their period (the detail has the counts).
    RetentionApplied,
    /// An admin read the tenant's registered mail (recipients and findings) for the policy
    /// simulator.
    RegisteredMailRead,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::EvidenceViewed => "evidence_viewed",
            Action::IncidentOpened => "incident_opened",
            Action::IncidentUpdated => "incident_updated",
            Action::NotificationEdited => "notification_edited",
            Action::PolicyChanged => "policy_changed",
            Action::AlertSettingsChanged => "alert_settings_changed",
            Action::UserAdded => "user_added",
            Action::UserChanged => "user_changed",
            Action::OidcChanged => "oidc_changed",
            Action::AuditExported => "audit_exported",
            Action::AlertStreamOpened => "alert_stream_opened",
            Action::PrivacySettingsChanged => "privacy_settings_changed",
            Action::ObjectionConfirmed => "objection_confirmed",
            Action::RetentionApplied => "retention_applied",
            Action::RegisteredMailRead => "registered_mail_read",
        }
    }
}

/// Who acted: a signed-in user, or the system itself (command line, scheduled jobs).
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<String>,
    pub label: String,
}

impl Actor {
    /// A signed-in user, by id and e-mail address.
    pub fn user(user_id: &str, email: &str) -> Actor {
        Actor {
            user_id: Some(user_id.to_string()),
            label: email.to_string(),
        }
    }

    /// The command line or a job, named (`cli`, `retention`, ...).
    pub fn system(label: &str) -> Actor {
        Actor {
            user_id: None,
            label: label.to_string(),
        }
    }
}

/// Appends one entry. Takes any executor, so an entry can share the transaction of the
/// change it records (then both are kept or neither is).
pub async fn record<'e, E>(
    executor: E,
    tenant_id: &TenantId,
    actor: &Actor,
    action: Action,
    target: (&str, &str),
    detail: serde_json::Value,
    at_ms: i64,
) -> Result<(), sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    sqlx::query(
        "INSERT INTO audit_log (tenant_id, at, actor_id, actor, action, target_type, target_id, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(tenant_id)
    .bind(at_ms)
    .bind(actor.user_id.as_deref())
    .bind(&actor.label)
    .bind(action.as_str())
    .bind(target.0)
    .bind(target.1)
    .bind(detail.to_string())
    .execute(executor)
    .await?;
    Ok(())
}
