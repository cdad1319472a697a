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
