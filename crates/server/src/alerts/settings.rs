//! A tenant's alert settings (`tenants.alerting`, admins edit them at
//! `/api/v1/tenant/alerts`): the time-based rules' hours, whether senders get mail and
//! through which relay, and the webhooks. They stay on the server: webhook secrets never
//! reach an add-in.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use crate::kit::db::Db;
use crate::kit::ids::TenantId;
use crate::kit::mail::Mailer;
use crate::kit::outbound::Outbound;

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
    /// `https://...` (or `http://`). It must be, and resolve to, public addresses only,
    /// unless the operator allows others (`outbound.allow_private`).
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
    /// The tenant's own relay (`smtp://...`); empty: the server's `[mail]` relay. Public
    /// addresses only, as for webhooks.
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
    /// A readable reason when the settings cannot be used (their form; where they point
    /// is [`AlertSettings::check_targets`]).
    pub fn validate(&self) -> Result<(), String> {
        if self.not_opened_hours > 720 {
            return Err("not_opened_hours: at most 720 (30 days)".into());
        }
        if self.undecided_reminder_hours >= 72 {
            return Err("undecided_reminder_hours: must be under 72 (the deadline)".into());
        }
        if !self.smarthost.is_empty() {
            Mailer::new(
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
            Mailer::new("", &self.mail_from, 5).map_err(|e| format!("mail_from: {e}"))?;
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
            if self.webhooks[..i].iter().any(|h| h.url == hook.url) {
                return Err(format!("webhooks[{i}].url: listed twice"));
            }
            if hook.secret.chars().count() < 16 {
                return Err(format!("webhooks[{i}].secret: at least 16 characters"));
            }
        }
        Ok(())
    }

    /// Where the webhooks and the relay point, under the outbound rule: resolved now, and
    /// refused when an address is not public (unless the operator allows it), so an admin
    /// hears why at once. A name that does not resolve yet passes; every delivery checks
    /// again. Call after [`AlertSettings::validate`].
    pub async fn check_targets(&self, outbound: &Outbound) -> Result<(), String> {
        for (i, hook) in self.webhooks.iter().enumerate() {
            let url =
                reqwest::Url::parse(&hook.url).map_err(|e| format!("webhooks[{i}].url: {e}"))?;
            match outbound.check_url(&url).await {
                Err(e) if e.is_refused() => return Err(format!("webhooks[{i}].url: {e}")),
                _ => {}
            }
        }
        if !self.smarthost.is_empty() {
            Mailer::guarded(&self.smarthost, "leakwatch@localhost", 5, outbound)
                .map_err(|e| format!("smarthost: {e}"))?
                .check_relay()
                .await
                .map_err(|e| format!("smarthost: {e}"))?;
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
    use crate::kit::config::OutboundConfig;
    use crate::kit::outbound::Resolver;

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
        let good = hook("https://hooks.example.org/x", "0123456789abcdef");
        s.webhooks = vec![good.clone(), good];
        assert!(s.validate().unwrap_err().contains("listed twice"));
        s.webhooks.clear();
        s.smarthost = "nonsense://".into();
        assert!(s.validate().unwrap_err().starts_with("smarthost"));
        s.smarthost.clear();
        s.undecided_reminder_hours = 80;
        assert!(s.validate().is_err());
        s.undecided_reminder_hours = 48;
        s.not_opened_hours = 721;
        assert!(s.validate().unwrap_err().contains("720"));
    }

    fn rule(allow_private: bool, names: &Resolver) -> Outbound {
        Outbound::new(&OutboundConfig { allow_private }, names.clone())
    }

    /// Every form of a non-public target the attack run found (issue 16, findings 1 and 2):
    /// refused when saved, by address or by what the name resolves to, with the reason in
    /// words; allowed by the operator's setting.
    #[tokio::test]
    async fn targets_in_private_networks_need_the_operator_s_permission() {
        let names = Resolver::table()
            .with("localhost", &["127.0.0.1", "::1"])
            .with("evil.test", &["127.0.0.1"])
            .with("mapped.test", &["::ffff:10.0.0.1"])
            .with("10.0.0.1.wildcard.test", &["10.0.0.1"])
            .with("hooks.example.org", &["8.8.8.8"]);
        for (url, words) in [
            ("http://127.0.0.1:9000/h", "127.0.0.1 is a loopback address"),
            (
                "http://localhost/h",
                "'localhost' resolves to 127.0.0.1, a loopback address",
            ),
            (
                "http://evil.test:8080/h",
                "'evil.test' resolves to 127.0.0.1, a loopback address",
            ),
            (
                "http://[::ffff:0.0.0.0]:8080/h",
                "an IPv4-mapped form of 0.0.0.0",
            ),
            (
                "http://[::ffff:169.254.169.254]/latest",
                "169.254.169.254, a link-local address",
            ),
            (
                "http://[::ffff:100.64.0.1]/h",
                "100.64.0.1, a carrier-grade NAT (shared) address",
            ),
            ("http://0.1.2.3/h", "0.1.2.3 is a 'this network' address"),
            (
                "https://mapped.test/h",
                "an IPv4-mapped form of 10.0.0.1, a private-network address",
            ),
            (
                "https://10.0.0.1.wildcard.test/h",
                "resolves to 10.0.0.1, a private-network address",
            ),
            ("http://10.1.2.3/h", "a private-network address"),
            ("http://192.168.0.10/h", "a private-network address"),
            (
                "http://169.254.169.254/latest/meta-data",
                "a link-local address",
            ),
            ("http://[::1]/h", "a loopback address"),
            ("http://[fd00::1]/h", "a unique-local (private) address"),
            ("http://[fe80::1]/h", "a link-local address"),
        ] {
            let s = AlertSettings {
                webhooks: vec![hook(url, "0123456789abcdef")],
                ..AlertSettings::default()
            };
            assert!(s.validate().is_ok(), "{url}: its form is fine");
            let err = s.check_targets(&rule(false, &names)).await.unwrap_err();
            assert!(
                err.starts_with("webhooks[0].url: ") && err.contains(words),
                "{url}: {err}"
            );
            assert!(err.contains("outbound.allow_private"), "{err}");
            assert!(s.check_targets(&rule(true, &names)).await.is_ok(), "{url}");
        }
        for (relay, words) in [
            ("smtp://127.0.0.1:2525", "127.0.0.1 is a loopback address"),
            (
                "smtp://10.0.0.1:25",
                "10.0.0.1 is a private-network address",
            ),
            ("smtp://evil.test:25", "'evil.test' resolves to 127.0.0.1"),
            ("smtps://mapped.test", "an IPv4-mapped form of 10.0.0.1"),
            ("smtp://[::ffff:127.0.0.1]:25", "a loopback address"),
        ] {
            let s = AlertSettings {
                smarthost: relay.into(),
                ..AlertSettings::default()
            };
            assert!(s.validate().is_ok(), "{relay}");
            let err = s.check_targets(&rule(false, &names)).await.unwrap_err();
            assert!(
                err.starts_with("smarthost: ") && err.contains(words),
                "{relay}: {err}"
            );
            assert!(
                s.check_targets(&rule(true, &names)).await.is_ok(),
                "{relay}"
            );
        }
        let public = AlertSettings {
            webhooks: vec![
                hook("https://8.8.8.8/h", "0123456789abcdef"),
                hook("https://hooks.example.org/h", "0123456789abcdef"),
                // Not resolvable now: checked again at every delivery.
                hook("https://not-yet.example.org/h", "0123456789abcdef"),
            ],
            smarthost: "smtp://hooks.example.org:587?tls=required".into(),
            ..AlertSettings::default()
        };
        assert!(public.check_targets(&rule(false, &names)).await.is_ok());
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
