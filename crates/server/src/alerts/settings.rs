//! A tenant's alert settings (`tenants.alerting`, admins edit them at
//! `/api/v1/tenant/alerts`): the time-based rules' hours, whether senders get mail and
//! through which relay, and the webhooks. They stay on the server: webhook secrets never
//! reach an add-in.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use crate::kit::db::Db;
use crate::kit::ids::TenantId;

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
    /// A readable reason when the settings cannot be used. Webhooks to loopback, private
    /// or link-local addresses are refused unless the server allows them
    /// (`alerts.webhook_allow_private`), so a tenant admin cannot aim the server at its own
    /// network. (A public name that resolves to a private address is not caught here.)
    pub fn validate(&self, allow_private: bool) -> Result<(), String> {
        if self.not_opened_hours > 720 {
            return Err("not_opened_hours: at most 720 (30 days)".into());
        }
        if self.undecided_reminder_hours >= 72 {
            return Err("undecided_reminder_hours: must be under 72 (the deadline)".into());
        }
        if !self.smarthost.is_empty() {
            crate::kit::mail::Mailer::new(
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
            crate::kit::mail::Mailer::new("", &self.mail_from, 5)
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
            if !allow_private && is_private_host(&url) {
                return Err(format!(
                    "webhooks[{i}].url: a loopback, private or link-local address is not allowed"
                ));
            }
            if self.webhooks[..i].iter().any(|h| h.url == hook.url) {
                return Err(format!("webhooks[{i}].url: listed twice"));
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

/// A host that names this machine or a private network.
fn is_private_host(url: &reqwest::Url) -> bool {
    use std::net::IpAddr;
    use url::Host;
    let ip = match url.host() {
        Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            return name == "localhost" || name.ends_with(".localhost");
        }
        None => return true,
    };
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1]) // CGNAT
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback() || v4.is_private())
        }
    }
}

pub async fn load(db: &Db, tenant_id: &TenantId) -> Result<AlertSettings, sqlx::Error> {
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
        assert!(s.validate(false).is_ok());
        s.webhooks = vec![hook("ftp://x", "0123456789abcdef")];
        assert!(s.validate(false).unwrap_err().contains("webhooks[0].url"));
        s.webhooks = vec![hook("https://hooks.example.org/x", "short")];
        assert!(s
            .validate(false)
            .unwrap_err()
            .contains("webhooks[0].secret"));
        let good = hook("https://hooks.example.org/x", "0123456789abcdef");
        s.webhooks = vec![good.clone(), good];
        assert!(s.validate(false).unwrap_err().contains("listed twice"));
        s.webhooks.clear();
        s.smarthost = "nonsense://".into();
        assert!(s.validate(false).unwrap_err().starts_with("smarthost"));
        s.smarthost.clear();
        s.undecided_reminder_hours = 80;
        assert!(s.validate(false).is_err());
        s.undecided_reminder_hours = 48;
        s.not_opened_hours = 721;
        assert!(s.validate(false).unwrap_err().contains("720"));
    }

    #[test]
    fn webhooks_to_private_networks_need_the_server_s_permission() {
        for url in [
            "http://127.0.0.1:9000/h",
            "http://localhost/h",
            "http://10.1.2.3/h",
            "http://192.168.0.10/h",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/h",
            "http://[fd00::1]/h",
            "http://[fe80::1]/h",
            "http://100.64.0.1/h",
        ] {
            let s = AlertSettings {
                webhooks: vec![hook(url, "0123456789abcdef")],
                ..AlertSettings::default()
            };
            assert!(
                s.validate(false).unwrap_err().contains("not allowed"),
                "{url}"
            );
            assert!(s.validate(true).is_ok(), "{url}");
        }
        let public = AlertSettings {
            webhooks: vec![hook("https://8.8.8.8/h", "0123456789abcdef")],
            ..AlertSettings::default()
        };
        assert!(public.validate(false).is_ok());
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
