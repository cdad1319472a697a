//! A tenant's alert settings (`tenants.alerting`, admins edit them at
//! `/api/v1/tenant/alerts`): the time-based rules' hours, whether senders get mail and
//! through which relay, and the webhooks. They stay on the server: webhook secrets never
//! reach an add-in.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use crate::db::Db;

/// What a webhook receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    /// The alert as JSON (see `docs/alerts.md`).
    #[default]
    Json,
    /// `{"text": "..."}`, which Slack and Microsoft Teams incoming webhooks accept.
    Chat,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Webhook {
    /// `https://...` (or `http://` for a receiver on the same host or network).
    pub url: String,
    /// Key of the HMAC-SHA256 signature in `X-Leakwatch-Signature`; at least 16 characters.
    /// Shown as `"********"` when read back; writing `"********"` keeps the stored one.
    pub secret: String,
    #[serde(default)]
    pub format: WebhookFormat,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct AlertSettings {
    /// "Not opened after N hours": fired when a reported message has had no client open
    /// this long after it was sent. 0 turns the rule off.
    pub not_opened_hours: u32,
    /// The reminder when an incident is still undecided this long after awareness (the
    /// deadline is at 72). 0 turns it off.
    pub undecided_reminder_hours: u32,
    /// Mail alerts to the sender.
    pub mail: bool,
    /// The tenant's own relay (`smtp://...`); empty: the server's `[mail]` relay.
    pub smarthost: String,
    /// `From:` of the tenant's alert mail; empty: the server's `mail.from`.
    pub mail_from: String,
    pub webhooks: Vec<Webhook>,
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            not_opened_hours: 24,
            undecided_reminder_hours: 48,
            mail: true,
            smarthost: String::new(),
            mail_from: String::new(),
            webhooks: Vec::new(),
        }
    }
}

pub const MASK: &str = "********";

impl AlertSettings {
    /// A readable reason when the settings cannot be used.
    pub fn validate(&self) -> Result<(), String> {
        if self.undecided_reminder_hours >= 72 {
            return Err("undecided_reminder_hours: must be under 72 (the deadline)".into());
        }
        if !self.smarthost.is_empty() {
            crate::mail::Mailer::new(
                &self.smarthost,
                if self.mail_from.is_empty() {
                    "leakwatch@localhost"
                } else {
                    &self.mail_from
                },
                5,
            )
            .map_err(|e| format!("smarthost: {e}"))?;
        } else if !self.mail_from.is_empty() {
            crate::mail::Mailer::new("", &self.mail_from, 5)
                .map_err(|e| format!("mail_from: {e}"))?;
        }
        if self.webhooks.len() > 10 {
            return Err("webhooks: at most 10".into());
        }
        for (i, hook) in self.webhooks.iter().enumerate() {
            let url =
                reqwest::Url::parse(&hook.url).map_err(|e| format!("webhooks[{i}].url: {e}"))?;
            if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                return Err(format!("webhooks[{i}].url: must be an http(s) URL"));
            }
            if hook.secret.chars().count() < 16 {
                return Err(format!("webhooks[{i}].secret: at least 16 characters"));
            }
        }
        Ok(())
    }

    /// The settings as an admin reads them: secrets masked.
    pub fn masked(mut self) -> AlertSettings {
        for hook in &mut self.webhooks {
            hook.secret = MASK.into();
        }
        self
    }

    /// Puts back the stored secret where the new settings say "keep" (the mask) for the
    /// same URL.
    pub fn unmask(mut self, stored: &AlertSettings) -> AlertSettings {
        for hook in &mut self.webhooks {
            if hook.secret == MASK {
                if let Some(old) = stored.webhooks.iter().find(|h| h.url == hook.url) {
                    hook.secret = old.secret.clone();
                }
            }
        }
        self
    }

    pub fn webhook(&self, url: &str) -> Option<&Webhook> {
        self.webhooks.iter().find(|h| h.url == url)
    }
}

pub async fn load(db: &Db, tenant_id: &str) -> Result<AlertSettings, sqlx::Error> {
    let row = sqlx::query("SELECT alerting FROM tenants WHERE id = $1")
        .bind(tenant_id)
        .fetch_optional(&db.pool)
        .await?;
    let text: Option<String> = match row {
        Some(row) => row.try_get("alerting")?,
        None => None,
    };
    // Settings written by a newer version still parse: unknown fields are ignored.
    Ok(text
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(url: &str, secret: &str) -> Webhook {
        Webhook {
            url: url.into(),
            secret: secret.into(),
            format: WebhookFormat::Json,
        }
    }

    #[test]
    fn invalid_settings_are_named() {
        let mut s = AlertSettings::default();
        assert!(s.validate().is_ok());
        s.webhooks = vec![hook("ftp://x", "0123456789abcdef")];
        assert!(s.validate().unwrap_err().contains("webhooks[0].url"));
        s.webhooks = vec![hook("https://hooks.example.org/x", "short")];
        assert!(s.validate().unwrap_err().contains("webhooks[0].secret"));
        s.webhooks.clear();
        s.smarthost = "nonsense://".into();
        assert!(s.validate().unwrap_err().starts_with("smarthost"));
        s.smarthost.clear();
        s.undecided_reminder_hours = 80;
        assert!(s.validate().is_err());
    }

    #[test]
    fn secrets_are_masked_on_read_and_kept_on_write() {
        let stored = AlertSettings {
            webhooks: vec![hook("https://a.example/h", "secret-secret-secret")],
            ..AlertSettings::default()
        };
        let read = stored.clone().masked();
        assert_eq!(read.webhooks[0].secret, MASK);
        let written = read.unmask(&stored);
        assert_eq!(written.webhooks[0].secret, "secret-secret-secret");
    }
}
