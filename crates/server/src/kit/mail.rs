//! Outgoing mail through a smarthost (lettre): alerts to senders and objection
//! confirmations to recipients. The server's `[mail]` settings give the default relay; a
//! tenant may name its own in its alert settings.

use std::time::Duration;

use lettre::message::header::{ContentType, MIME_VERSION_1_0};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::kit::config::MailConfig;

/// One message to send.
#[derive(Debug, Clone)]
pub struct OutgoingMail {
    pub to: String,
    pub subject: String,
    pub text: String,
    /// An HTML alternative to `text`.
    pub html: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("no smarthost is configured (mail.smarthost)")]
    NotConfigured,
    #[error("invalid smarthost URL: {0}")]
    BadSmarthost(String),
    #[error("invalid address '{0}': {1}")]
    BadAddress(String, String),
    #[error("cannot build the message: {0}")]
    Build(String),
    #[error("the smarthost did not accept the message: {message}")]
    Smtp { message: String, permanent: bool },
}

impl MailError {
    /// Worth trying again later (the relay may come back); the others will fail again.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            MailError::Smtp {
                permanent: false,
                ..
            }
        )
    }
}

/// A relay and the sender address of leakwatch's mail.
#[derive(Clone)]
pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
}

impl Mailer {
    /// From the server's settings; an empty smarthost gives a mailer that refuses to send.
    pub fn from_config(config: &MailConfig) -> Result<Mailer, MailError> {
        Mailer::new(&config.smarthost, &config.from, config.timeout_seconds)
    }

    pub fn new(smarthost: &str, from: &str, timeout_seconds: u64) -> Result<Mailer, MailError> {
        let from: Mailbox = from.parse().map_err(|e: lettre::address::AddressError| {
            MailError::BadAddress(from.to_string(), e.to_string())
        })?;
        let transport = if smarthost.trim().is_empty() {
            None
        } else {
            Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(smarthost.trim())
                    .map_err(|e| MailError::BadSmarthost(e.to_string()))?
                    .timeout(Some(Duration::from_secs(timeout_seconds.max(1))))
                    .build(),
            )
        };
        Ok(Mailer { transport, from })
    }

    pub fn is_configured(&self) -> bool {
        self.transport.is_some()
    }

    pub async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        let transport = self.transport.as_ref().ok_or(MailError::NotConfigured)?;
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e: lettre::address::AddressError| {
                MailError::BadAddress(mail.to.clone(), e.to_string())
            })?;
        // A Message-ID of our own domain (mail without one is scored as spam and cannot be
        // threaded), and MIME-Version on the plain-text form too, not only on multipart.
        let message_id = format!(
            "<{}@{}>",
            crate::kit::ids::random_id(),
            self.from.email.domain()
        );
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&mail.subject)
            .message_id(Some(message_id))
            .header(MIME_VERSION_1_0);
        let message = match &mail.html {
            Some(html) => builder.multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(mail.text.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(html.clone()),
                    ),
            ),
            None => builder
                .header(ContentType::TEXT_PLAIN)
                .body(mail.text.clone()),
        }
        .map_err(|e| MailError::Build(e.to_string()))?;
        transport.send(message).await.map_err(|e| MailError::Smtp {
            permanent: e.is_permanent(),
            message: e.to_string(),
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked_when_the_mailer_is_made() {
        assert!(!Mailer::new("", "leakwatch@localhost", 5)
            .unwrap()
            .is_configured());
        assert!(
            Mailer::new("smtp://127.0.0.1:2525", "leakwatch@localhost", 5)
                .unwrap()
                .is_configured()
        );
        assert!(matches!(
            Mailer::new("ftp://x", "leakwatch@localhost", 5),
            Err(MailError::BadSmarthost(_))
        ));
        assert!(matches!(
            Mailer::new("smtp://127.0.0.1:2525", "not an address", 5),
            Err(MailError::BadAddress(..))
        ));
    }

    #[tokio::test]
    async fn an_unconfigured_mailer_says_so() {
        let mailer = Mailer::new("", "leakwatch@localhost", 5).unwrap();
        let err = mailer
            .send(&OutgoingMail {
                to: "a@example.org".into(),
                subject: "s".into(),
                text: "t".into(),
                html: None,
            })
            .await
            .unwrap_err();
        assert!(matches!(err, MailError::NotConfigured));
        assert!(!err.is_transient());
    }
}
