//! Configuration, layered: built-in defaults < a TOML file < `LEAKWATCH_*` environment
//! variables < command-line flags. Every setting is documented in `docs/configuration.md`.

use std::net::SocketAddr;
use std::path::PathBuf;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Address to listen on. Port 0 picks a free port (tests).
    pub listen: SocketAddr,
    /// `sqlite://PATH` or `postgres://...`. Empty: SQLite in `data_dir`.
    pub database_url: String,
    /// Where the embedded SQLite database lives.
    pub data_dir: PathBuf,
    /// The URL recipients' mail clients reach this server at (pixel and info links).
    /// Empty: `http://{listen}`.
    pub public_url: String,
    /// Origins allowed to call the API from a browser (the add-ins' and dashboard's).
    pub cors_origins: Vec<String>,
    /// Log as JSON lines instead of text.
    pub log_json: bool,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Reverse proxies (addresses or networks such as `10.0.0.0/8`) whose
    /// `X-Forwarded-For` is believed. Empty (the default): the header is ignored and the
    /// client is the TCP peer.
    pub trusted_proxies: Vec<IpNet>,
    pub pixel: PixelConfig,
    pub auth: AuthConfig,
    pub mail: MailConfig,
    pub alerts: AlertsConfig,
    pub privacy: PrivacyConfig,
    pub outlook: OutlookConfig,
    pub outbound: OutboundConfig,
}

/// Connections to hosts that tenants name: webhooks, a tenant's own mail relay, its
/// identity provider's keys (ADR 0011). The server's own `[mail]` relay is the operator's
/// and not under this rule.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OutboundConfig {
    /// Let them reach loopback, private, link-local and other non-public addresses (a
    /// receiver inside the operator's own network, a local identity provider in tests).
    /// Off: a tenant admin cannot make the server connect into its own network.
    pub allow_private: bool,
}

/// The Outlook add-in's "Sign in with Microsoft 365" (nested app authentication, see
/// `docs/authentication.md`). One Entra app registration serves every tenant of a
/// deployment, so this is the operator's setting, not a tenant's. Empty: the task pane offers
/// the leakwatch password sign-in only.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OutlookConfig {
    /// The registration's Application (client) id, a GUID.
    pub entra_client_id: String,
    /// The scope of leakwatch's API the task pane asks for. Empty:
    /// `api://{public host}/{entra_client_id}/access_as_user`, the form Office SSO requires.
    pub entra_scope: String,
}

/// Recipients' objections and the retention job (see `docs/privacy.md`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct PrivacyConfig {
    /// How often the retention job deletes what is past its tenant's retention period
    /// (the first run is at start). 0 turns the job off.
    pub retention_interval_seconds: u64,
    /// How long an objection's confirmation link works.
    pub objection_link_ttl_seconds: i64,
    /// Objection requests one client network may make in a burst...
    pub objection_ip_burst: u32,
    /// ...and one more per this many seconds after that.
    pub objection_ip_refill_seconds: u64,
    /// Confirmation mails one address may be sent in a burst (per tenant)...
    pub objection_address_burst: u32,
    /// ...and one more per this many seconds after that.
    pub objection_address_refill_seconds: u64,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        Self {
            retention_interval_seconds: 3_600,
            objection_link_ttl_seconds: 24 * 3_600,
            objection_ip_burst: 5,
            objection_ip_refill_seconds: 720,
            objection_address_burst: 3,
            objection_address_refill_seconds: 8 * 3_600,
        }
    }
}

/// Outgoing mail (alerts to senders, objection confirmations), through a smarthost.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct MailConfig {
    /// `smtp://host:port` (plain, for a relay on loopback), `smtp://host:587?tls=required`
    /// (STARTTLS) or `smtps://host:465`, with `user:password@` when the relay wants it.
    /// Empty: no mail is sent (a tenant may still set its own smarthost).
    pub smarthost: String,
    /// The envelope and `From:` address of leakwatch's mail.
    pub from: String,
    /// How long one SMTP delivery may take.
    pub timeout_seconds: u64,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            smarthost: String::new(),
            from: "leakwatch@localhost".into(),
            timeout_seconds: 30,
        }
    }
}

/// Alert rules and delivery (see `docs/alerts.md`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AlertsConfig {
    /// How often the time-based rules (not opened, undecided reminder) are evaluated.
    pub tick_seconds: u64,
    /// How often the outbox is polled for due deliveries when nothing woke it.
    pub outbox_poll_ms: u64,
    /// Delivery attempts per alert and channel before it is given up (and logged).
    pub max_attempts: i64,
    /// The first retry waits this long; each further one twice as long...
    pub retry_base_seconds: i64,
    /// ...up to this.
    pub retry_max_seconds: i64,
    /// How long a webhook receiver may take to answer.
    pub webhook_timeout_seconds: u64,
    /// How often a live stream re-reads the alerts table (and sends a keep-alive): the
    /// bound on how late an alert raised on another server reaches it without PostgreSQL's
    /// notifications (several servers on one SQLite file), or when one was missed.
    pub stream_reread_seconds: u64,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self {
            tick_seconds: 30,
            outbox_poll_ms: 1_000,
            max_attempts: 12,
            retry_base_seconds: 5,
            retry_max_seconds: 3_600,
            webhook_timeout_seconds: 10,
            stream_reread_seconds: 15,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct PixelConfig {
    /// Hits waiting to be committed before new fetches wait for room.
    pub queue_capacity: usize,
    /// Most hits committed in one transaction.
    pub batch_max: usize,
    /// Detail rows kept per message and class; further fetches are only counted.
    pub detail_cap_per_class: i64,
    /// A fetch from the sender's own network this soon after registration is a self-view.
    pub self_view_seconds: i64,
    /// The tenant's own networks (offices, VPN egress): fetches from there are self-views.
    pub own_networks: Vec<IpNet>,
    /// How long a fetch waits for its hit to be committed before the GIF is answered anyway
    /// (the database is slow or down; counted in `leakwatch_pixel_unconfirmed_total`).
    pub commit_timeout_ms: u64,
    /// PostgreSQL: answer a fetch only once its commit is flushed to disk (the default).
    /// `false` answers once it is committed but perhaps not yet flushed
    /// (`synchronous_commit = off` for the pixel writer only): a PostgreSQL crash can then
    /// lose the last fraction of a second of answered fetches, as SQLite's default
    /// `synchronous = NORMAL` can on an operating-system crash. It lifts the limit a slow
    /// disk puts on fetches per second.
    pub synchronous_commit: bool,
}

/// Password login and OpenID Connect (see `docs/authentication.md`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthConfig {
    /// Lifetime of the tokens that password login issues, in seconds.
    pub login_ttl_seconds: i64,
    /// How long a dashboard sign-in (the browser session's cookie) lasts, in seconds; it
    /// does not stretch with use.
    pub session_ttl_seconds: i64,
    /// Failed logins one client address may make in a burst...
    pub login_ip_burst: u32,
    /// ...and one more per this many seconds after that.
    pub login_ip_refill_seconds: u64,
    /// Failed logins one account may take in a burst from one client network (the /64 for
    /// IPv6; ADR 0014)...
    pub login_account_burst: u32,
    /// ...and one more per this many seconds after that.
    pub login_account_refill_seconds: u64,
    /// How long a tenant's fetched JWKS is used before it is fetched again.
    pub jwks_ttl_seconds: u64,
    /// The least time between two fetches of one JWKS, also when a token names an unknown
    /// key, so that forged tokens cannot make the server hammer the identity provider.
    pub jwks_min_refetch_seconds: u64,
    /// Clock skew allowed on `exp` and `nbf` of identity-provider tokens.
    pub oidc_leeway_seconds: u64,
    /// The delegated permission an Entra access token must carry in `scp` (the scope the
    /// add-in and the dashboard ask for, `.../access_as_user`): a token the user's directory
    /// issued to leakwatch's app for another permission is refused.
    pub entra_required_scope: String,
    /// How often a server reads the signing keys again (rotation and retirement take
    /// effect without a restart), in seconds...
    pub signing_keys_reload_seconds: u64,
    /// ...and the least time between two reads when a token names a key it does not know
    /// (one just rotated in), so forged key ids cannot make it read the table per request.
    pub signing_keys_min_reload_seconds: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            login_ttl_seconds: 12 * 3600,
            session_ttl_seconds: 8 * 3600,
            login_ip_burst: 30,
            login_ip_refill_seconds: 10,
            login_account_burst: 5,
            login_account_refill_seconds: 60,
            jwks_ttl_seconds: 3600,
            jwks_min_refetch_seconds: 300,
            oidc_leeway_seconds: 60,
            entra_required_scope: "access_as_user".into(),
            signing_keys_reload_seconds: 60,
            signing_keys_min_reload_seconds: 5,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".parse().expect("valid default address"),
            database_url: String::new(),
            data_dir: PathBuf::from("leakwatch-data"),
            public_url: String::new(),
            cors_origins: vec![
                "https://outlook.office.com".into(),
                "https://outlook.office365.com".into(),
                "https://outlook.live.com".into(),
            ],
            log_json: false,
            max_body_bytes: 256 * 1024,
            trusted_proxies: Vec::new(),
            pixel: PixelConfig::default(),
            auth: AuthConfig::default(),
            mail: MailConfig::default(),
            alerts: AlertsConfig::default(),
            privacy: PrivacyConfig::default(),
            outlook: OutlookConfig::default(),
            outbound: OutboundConfig::default(),
        }
    }
}

impl Default for PixelConfig {
    fn default() -> Self {
        Self {
            queue_capacity: 65_536,
            batch_max: 2_048,
            detail_cap_per_class: 50,
            self_view_seconds: 120,
            own_networks: Vec::new(),
            commit_timeout_ms: 2_000,
            synchronous_commit: true,
        }
    }
}

/// Flags given on the command line; `None` leaves the lower layers' value.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
}

impl Config {
    /// Loads the layers. `file` defaults to `leakwatch.toml` in the working directory when it
    /// exists; `LEAKWATCH_CONFIG` names another.
    pub fn load(file: Option<PathBuf>, overrides: &Overrides) -> Result<Self, Box<figment::Error>> {
        let file = file
            .or_else(|| std::env::var_os("LEAKWATCH_CONFIG").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("leakwatch.toml"));
        Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("LEAKWATCH_").split("__"))
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(Box::new)
    }

    /// The database URL, defaulting to SQLite in the data directory.
    pub fn effective_database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("leakwatch.db").display())
        } else {
            self.database_url.clone()
        }
    }

    /// The public base URL without a trailing slash.
    pub fn effective_public_url(&self, bound: SocketAddr) -> String {
        if self.public_url.is_empty() {
            format!("http://{bound}")
        } else {
            self.public_url.trim_end_matches('/').to_string()
        }
    }
}

#[cfg(test)]
// figment's Jail takes closures returning its own (large) error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    /// defaults < file < environment < flags, each layer only where it says something.
    #[test]
    fn layers_override_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "leakwatch.toml",
                r#"
                listen = "127.0.0.1:9000"
                data_dir = "from-file"
                public_url = "https://file.example"
                [pixel]
                batch_max = 10
                detail_cap_per_class = 7
                "#,
            )?;
            jail.set_env("LEAKWATCH_DATA_DIR", "from-env");
            jail.set_env("LEAKWATCH_PIXEL__BATCH_MAX", "20");
            jail.set_env("LEAKWATCH_DATABASE_URL", "postgres://env@127.0.0.1/db");
            let flags = Overrides {
                public_url: Some("https://flag.example".into()),
                ..Overrides::default()
            };
            let config = Config::load(None, &flags).map_err(|e| e.to_string())?;
            assert_eq!(
                config.listen.to_string(),
                "127.0.0.1:9000",
                "file over default"
            );
            assert_eq!(
                config.data_dir,
                PathBuf::from("from-env"),
                "environment over file"
            );
            assert_eq!(config.pixel.batch_max, 20, "nested environment variables");
            assert_eq!(
                config.pixel.detail_cap_per_class, 7,
                "file where the environment is silent"
            );
            assert_eq!(
                config.pixel.queue_capacity,
                PixelConfig::default().queue_capacity,
                "default where all are silent"
            );
            assert_eq!(
                config.public_url, "https://flag.example",
                "flags over everything"
            );
            assert_eq!(
                config.effective_database_url(),
                "postgres://env@127.0.0.1/db"
            );
            Ok(())
        });
    }

    #[test]
    fn defaults_need_no_configuration() {
        figment::Jail::expect_with(|_| {
            let config = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
            assert_eq!(
                config.effective_database_url(),
                "sqlite://leakwatch-data/leakwatch.db"
            );
            assert_eq!(
                config.effective_public_url(config.listen),
                "http://127.0.0.1:8080"
            );
            Ok(())
        });
    }

    #[test]
    fn a_bad_value_is_an_error_naming_it() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("LEAKWATCH_LISTEN", "not an address");
            let err = Config::load(None, &Overrides::default()).unwrap_err();
            assert!(err.to_string().to_lowercase().contains("listen"), "{err}");
            Ok(())
        });
    }
}

/// The server's public base URL (pixel and info links), without a trailing slash. Made once
/// at start from `public_url` or the bound address.
#[derive(Debug, Clone)]
pub struct PublicUrl(std::sync::Arc<str>);

impl PublicUrl {
    pub fn new(url: &str) -> PublicUrl {
        PublicUrl(url.trim_end_matches('/').into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
