//! Outgoing mail through a smarthost (lettre): alerts to senders and objection
//! confirmations to recipients. The server's `[mail]` settings give the default relay; a
//! tenant may name its own in its alert settings, and that one is reached only under the
//! outbound rule ([`Mailer::guarded`], ADR 0011).

use std::borrow::Cow;
use std::time::Duration;

use lettre::message::header::{ContentType, MIME_VERSION_1_0};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::kit::config::MailConfig;
use crate::kit::outbound::{Outbound, OutboundError};

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
    /// The outbound rule: the relay is not connected to.
    #[error("{0}")]
    Outbound(OutboundError),
}

impl MailError {
    /// Worth trying again later (the relay may come back); the others will fail again.
    pub fn is_transient(&self) -> bool {
        match self {
            MailError::Smtp { permanent, .. } => !permanent,
            // A name that does not resolve now may later; a refused one stays refused.
            MailError::Outbound(e) => !e.is_refused(),
            _ => false,
        }
    }
}

/// A relay and the sender address of leakwatch's mail.
#[derive(Clone)]
pub struct Mailer {
    relay: Option<Relay>,
    from: Mailbox,
}

/// Where mail goes and how: parsed from the smarthost URL as lettre's `from_url` does
/// (`smtp://` plain on 25, `?tls=required` or `?tls=opportunistic` STARTTLS on 587,
/// `smtps://` on 465, `user:password@`, a path as the EHLO name), kept apart so that the
/// connection can go to a checked address while TLS verifies the relay's name.
#[derive(Clone)]
struct Relay {
    /// The host as configured (a name, or an address without brackets).
    host: String,
    port: u16,
    tls: Tls,
    credentials: Option<Credentials>,
    hello: Option<ClientId>,
    timeout: Duration,
    /// A tenant's relay: resolved and checked at every connection.
    guard: Option<Outbound>,
}

impl Relay {
    fn parse(smarthost: &str, timeout: Duration) -> Result<Relay, MailError> {
        let bad = |why: String| MailError::BadSmarthost(why);
        let url = url::Url::parse(smarthost).map_err(|e| bad(format!("'{smarthost}': {e}")))?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad(format!("'{smarthost}' names no host")))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let tls_query = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.to_string());
        let parameters =
            || TlsParameters::new(host.clone()).map_err(|e| bad(format!("TLS for '{host}': {e}")));
        let (port, tls) = match (url.scheme(), tls_query.as_deref()) {
            ("smtp", None) => (25, Tls::None),
            ("smtp", Some("required")) => (587, Tls::Required(parameters()?)),
            ("smtp", Some("opportunistic")) => (587, Tls::Opportunistic(parameters()?)),
            ("smtps", _) => (465, Tls::Wrapper(parameters()?)),
            (scheme, tls) => {
                return Err(bad(format!(
                    "'{smarthost}': unknown scheme '{scheme}' or tls parameter {tls:?} (smtp://, smtp://...?tls=required, smtps://)"
                )))
            }
        };
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(Cow::into_owned)
                .map_err(|e| bad(format!("credentials: {e}")))
        };
        let credentials = match url.password() {
            Some(password) => Some(Credentials::new(decode(url.username())?, decode(password)?)),
            None => None,
        };
        let hello = (url.path().len() > 1)
            .then(|| ClientId::Domain(url.path().trim_matches('/').to_string()));
        Ok(Relay {
            port: url.port().unwrap_or(port),
            host,
            tls,
            credentials,
            hello,
            timeout,
            guard: None,
        })
    }

    /// The addresses to connect to: the checked addresses of a tenant's relay, the name
    /// itself for the server's own (lettre resolves it).
    async fn servers(&self) -> Result<Vec<String>, MailError> {
        match &self.guard {
            None => Ok(vec![self.host.clone()]),
            Some(guard) => Ok(guard
                .addresses(&self.host, self.port)
                .await
                .map_err(MailError::Outbound)?
                .into_iter()
                .map(|a| a.ip().to_string())
                .collect()),
        }
    }

    /// A transport to `server` (an address or, for the server's own relay, the name) that
    /// verifies TLS against the configured host name: lettre keeps the TLS name
    /// (`TlsParameters`) apart from where it connects, so SNI and the certificate check
    /// stay on the name while the connection goes to the checked address.
    fn transport(&self, server: String) -> AsyncSmtpTransport<Tokio1Executor> {
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(server)
            .port(self.port)
            .tls(self.tls.clone())
            .timeout(Some(self.timeout));
        if let Some(credentials) = &self.credentials {
            builder = builder.credentials(credentials.clone());
        }
        if let Some(hello) = &self.hello {
            builder = builder.hello_name(hello.clone());
        }
        builder.build()
    }
}

impl Mailer {
    /// From the server's settings; an empty smarthost gives a mailer that refuses to send.
    pub fn from_config(config: &MailConfig) -> Result<Mailer, MailError> {
        Mailer::new(&config.smarthost, &config.from, config.timeout_seconds)
    }

    /// The operator's relay (`[mail]`), connected to as configured.
    pub fn new(smarthost: &str, from: &str, timeout_seconds: u64) -> Result<Mailer, MailError> {
        let from: Mailbox = from.parse().map_err(|e: lettre::address::AddressError| {
            MailError::BadAddress(from.to_string(), e.to_string())
        })?;
        let relay = if smarthost.trim().is_empty() {
            None
        } else {
            Some(Relay::parse(
                smarthost.trim(),
                Duration::from_secs(timeout_seconds.max(1)),
            )?)
        };
        Ok(Mailer { relay, from })
    }

    /// A relay someone other than the operator named (a tenant's): its host is resolved
    /// and checked by `outbound` at every connection, and only a checked address is
    /// connected to.
    pub fn guarded(
        smarthost: &str,
        from: &str,
        timeout_seconds: u64,
        outbound: &Outbound,
    ) -> Result<Mailer, MailError> {
        let mut mailer = Mailer::new(smarthost, from, timeout_seconds)?;
        if let Some(relay) = &mut mailer.relay {
            relay.guard = Some(outbound.clone());
        }
        Ok(mailer)
    }

    pub fn is_configured(&self) -> bool {
        self.relay.is_some()
    }

    /// For saving a tenant's relay: its host resolved and checked now. A name that does not
    /// resolve yet passes (it is checked again on every connection).
    pub async fn check_relay(&self) -> Result<(), MailError> {
        match self.relay.as_ref().map(Relay::servers) {
            Some(servers) => match servers.await {
                Err(MailError::Outbound(e)) if !e.is_refused() => Ok(()),
                other => other.map(|_| ()),
            },
            None => Ok(()),
        }
    }

    /// Whether the mailer can address mail to `to` at all: lettre's own parser, which
    /// refuses some forms the RFC allows (a quoted local part with a comma), so a caller can
    /// refuse such an address before it stores anything for it.
    pub fn can_address(to: &str) -> bool {
        to.parse::<Mailbox>().is_ok()
    }

    pub async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        let relay = self.relay.as_ref().ok_or(MailError::NotConfigured)?;
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
        let servers = tokio::time::timeout(relay.timeout, relay.servers())
            .await
            .map_err(|_| MailError::Smtp {
                message: format!("cannot resolve '{}' in time", relay.host),
                permanent: false,
            })??;
        // lettre connects to one server: the first checked address, in the resolver's order
        // of preference.
        let server = servers.into_iter().next().ok_or(MailError::NotConfigured)?;
        relay
            .transport(server)
            .send(message)
            .await
            .map_err(|e| MailError::Smtp {
                // A relay without SMTPUTF8 (or 8BITMIME) cannot take this message at all:
                // lettre says so before sending, as a client error; retrying cannot help.
                permanent: e.is_permanent()
                    || (e.is_client() && e.to_string().contains("non-ascii")),
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

    /// The relay is read as lettre's `from_url` reads it, so that the operator's and the
    /// tenants' smarthost URLs mean what they meant before.
    #[test]
    fn relay_urls_are_read_as_lettre_reads_them() {
        let relay = |url: &str| Relay::parse(url, Duration::from_secs(5)).unwrap();
        let plain = relay("smtp://relay.example");
        assert_eq!((plain.host.as_str(), plain.port), ("relay.example", 25));
        assert!(matches!(plain.tls, Tls::None) && plain.credentials.is_none());
        assert_eq!(relay("smtp://relay.example:2525").port, 2525);
        let starttls = relay("smtp://relay.example?tls=required");
        assert!(matches!(starttls.tls, Tls::Required(_)) && starttls.port == 587);
        let opportunistic = relay("smtp://relay.example:26?tls=opportunistic");
        assert!(matches!(opportunistic.tls, Tls::Opportunistic(_)) && opportunistic.port == 26);
        let wrapped = relay("smtps://us%40er:p%3Ass@relay.example/ehlo.example");
        assert!(matches!(wrapped.tls, Tls::Wrapper(_)) && wrapped.port == 465);
        assert!(wrapped.credentials.is_some());
        assert!(
            matches!(&wrapped.hello, Some(ClientId::Domain(name)) if name == "ehlo.example"),
            "the path is the EHLO name"
        );
        assert_eq!(relay("smtp://[::1]:25").host, "::1", "no brackets");
        for bad in ["smtp://relay.example?tls=bogus", "http://x", "smtp://"] {
            assert!(Relay::parse(bad, Duration::from_secs(5)).is_err(), "{bad}");
        }
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
