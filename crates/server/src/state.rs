//! The one state type every handler gets.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;

use crate::config::Config;
use crate::db::Db;
use crate::keys::Keys;
use crate::pixel::Pipeline;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub db: Db,
    pub config: Config,
    /// Base URL for pixel and info links, without a trailing slash.
    pub public_url: String,
    pub keys: Keys,
    pub pixel: Pipeline,
    pub metrics: Option<PrometheusHandle>,
    pub http: reqwest::Client,
    pub auth: crate::auth::AuthRuntime,
    pub clock: crate::clock::Clock,
    /// The server's default relay (`[mail]`).
    pub mailer: crate::mail::Mailer,
    pub alerts: crate::alerts::Alerts,
    /// The objection key and rate limits of the recipients' pages.
    pub privacy: crate::privacy::Privacy,
}

impl AppState {
    pub fn new(inner: Inner) -> Self {
        AppState(Arc::new(inner))
    }

    pub fn db(&self) -> &Db {
        &self.0.db
    }

    pub fn config(&self) -> &Config {
        &self.0.config
    }

    pub fn public_url(&self) -> &str {
        &self.0.public_url
    }

    pub fn keys(&self) -> &Keys {
        &self.0.keys
    }

    pub fn pixel(&self) -> &Pipeline {
        &self.0.pixel
    }

    pub fn metrics(&self) -> Option<&PrometheusHandle> {
        self.0.metrics.as_ref()
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.0.http
    }

    pub fn auth(&self) -> &crate::auth::AuthRuntime {
        &self.0.auth
    }

    pub fn alerts(&self) -> &crate::alerts::Alerts {
        &self.0.alerts
    }

    pub fn mailer(&self) -> &crate::mail::Mailer {
        &self.0.mailer
    }

    pub fn privacy(&self) -> &crate::privacy::Privacy {
        &self.0.privacy
    }

    /// "Now" for rules and jobs that act on time passing (manual in tests).
    pub fn clock(&self) -> &crate::clock::Clock {
        &self.0.clock
    }
}
