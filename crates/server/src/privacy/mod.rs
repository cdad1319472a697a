//! Privacy by design: what makes leak detection lawful rather than covert tracking (the
//! Dutch DUO case: pixels in every mail to students, nobody told, stopped by the regulator).
//! A tenant's data protection officer can show exactly what is collected, why, for how long,
//! and how a recipient says no. See `docs/privacy.md`.
//!
//! - [`page`]: the recipients' transparency page at the disclosure's link, `/i/{message_id}`,
//!   in Dutch and English; it records nothing.
//! - [`objection`]: a recipient objects (GDPR Art. 21) on that page, confirms through a
//!   mailed single-use link, and from then on mail to them is not tracked by that tenant.
//! - [`retention`]: the job that deletes fetch records and message metadata after the
//!   tenant's period, and incidents after the breach register's.
//! - [`settings`]: the tenant's retention periods and controller details.
//! - [`record`]: the Art. 30 record of processing, generated from the tenant's policy.

pub mod objection;
pub mod page;
pub mod record;
pub mod retention;
pub mod settings;

use std::time::Duration;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRef};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::Row;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use objection::unless_objected;
pub use retention::{run_retention, RetentionReport};
pub use settings::PrivacySettings;

use crate::auth::Authenticator;
use crate::kit::client::TrustedProxies;
use crate::kit::clock::Clock;
use crate::kit::config::{PrivacyConfig, PublicUrl};
use crate::kit::db::Db;
use crate::kit::ids::random_bytes;
use crate::kit::mail::Mailer;
use crate::kit::ratelimit::SharedLimiter;
use crate::kit::time::now_ms;

/// What the privacy pages, the retention job and the objection check need: the database,
/// the clock, the mailer (confirmation links), the public URL, the objection key and rate
/// limits, and the `[privacy]` settings. A cheap handle.
#[derive(Clone)]
pub struct PrivacyState(Arc<PrivacyParts>);

struct PrivacyParts {
    db: Db,
    clock: Clock,
    mailer: Mailer,
    public_url: PublicUrl,
    privacy: Privacy,
    settings: PrivacyConfig,
}

impl PrivacyState {
    /// Loads (or, on a fresh database, creates) the objection key. `limits_secret` names
    /// the form's rate-limit rows (the `limits` signing key, the same on every server).
    pub async fn load(
        db: Db,
        clock: Clock,
        mailer: Mailer,
        public_url: PublicUrl,
        settings: &PrivacyConfig,
        limits_secret: &[u8],
    ) -> Result<PrivacyState, sqlx::Error> {
        let privacy = Privacy::load(&db, settings, limits_secret).await?;
        Ok(PrivacyState(Arc::new(PrivacyParts {
            db,
            clock,
            mailer,
            public_url,
            privacy,
            settings: settings.clone(),
        })))
    }

    pub fn db(&self) -> &Db {
        &self.0.db
    }

    pub fn clock(&self) -> &Clock {
        &self.0.clock
    }

    pub fn mailer(&self) -> &Mailer {
        &self.0.mailer
    }

    pub fn public_url(&self) -> &str {
        self.0.public_url.as_str()
    }

    /// The objection key and the form's rate limits.
    pub fn privacy(&self) -> &Privacy {
        &self.0.privacy
    }

    pub fn settings(&self) -> &PrivacyConfig {
        &self.0.settings
    }
}

/// The objection key's fixed id in `signing_keys`: every server of a deployment inserts the
/// same row (the first wins) and reads the winner, so all hash addresses alike.
const OBJECTION_KID: &str = "objection-v1";

/// What the privacy pages need at run time: the key that hashes objecting addresses and
/// the objection form's rate limits (in the database, so every server on it shares them).
pub struct Privacy {
    hasher: AddressHasher,
    pub(crate) ip_limiter: SharedLimiter,
    pub(crate) address_limiter: SharedLimiter,
    pub(crate) link_ttl_ms: i64,
}

impl Privacy {
    /// Loads (or, on a fresh database, creates) the objection key.
    pub async fn load(
        db: &Db,
        config: &PrivacyConfig,
        limits_secret: &[u8],
    ) -> Result<Privacy, sqlx::Error> {
        sqlx::query(
            "INSERT INTO signing_keys (kid, purpose, secret, created_at) VALUES ($1, 'objection', $2, $3) \
             ON CONFLICT (kid) DO NOTHING",
        )
        .bind(OBJECTION_KID)
        .bind(random_bytes::<32>().to_vec())
        .bind(now_ms())
        .execute(&db.pool)
        .await?;
        let row = sqlx::query("SELECT secret FROM signing_keys WHERE kid = $1")
            .bind(OBJECTION_KID)
            .fetch_one(&db.pool)
            .await?;
        let secret: Vec<u8> = row.try_get("secret")?;
        Ok(Privacy {
            hasher: AddressHasher::new(&secret),
            ip_limiter: SharedLimiter::new(
                "objection-client",
                limits_secret,
                config.objection_ip_burst,
                Duration::from_secs(config.objection_ip_refill_seconds),
            ),
            address_limiter: SharedLimiter::new(
                "objection-address",
                limits_secret,
                config.objection_address_burst,
                Duration::from_secs(config.objection_address_refill_seconds),
            ),
            link_ttl_ms: config
                .objection_link_ttl_seconds
                .max(60)
                .saturating_mul(1000),
        })
    }

    pub fn hasher(&self) -> &AddressHasher {
        &self.hasher
    }
}

/// The keyed hash an objecting address is kept as.
pub struct AddressHasher(Hmac<Sha256>);

impl AddressHasher {
    pub fn new(secret: &[u8]) -> AddressHasher {
        AddressHasher(Hmac::new_from_slice(secret).expect("HMAC takes any key length"))
    }

    /// HMAC-SHA256 over the tenant and the canonical address (`mailbox@domain`: lower case,
    /// ASCII domain, `+tag` removed, as [`leakwatch_core::address::Address::canonical`]), as
    /// 43 characters of URL-safe base64. The tenant is part of the input, so one person's
    /// objections to two tenants cannot be linked by their hashes.
    pub fn hash(&self, tenant_id: &str, canonical: &str) -> String {
        use base64::Engine;
        let mut mac = self.0.clone();
        mac.update(b"leakwatch-objection-v1\0");
        mac.update(tenant_id.as_bytes());
        mac.update(b"\0");
        mac.update(canonical.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }
}

/// The recipients' pages: transparency page, objection, confirmation. No authentication,
/// small bodies.
pub fn public_router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    PrivacyState: FromRef<S>,
    TrustedProxies: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(page::show))
        .routes(routes!(objection::request))
        .routes(routes!(objection::confirm_page, objection::confirm))
        .layer(DefaultBodyLimit::max(4 * 1024))
}

/// The admins' API: privacy settings, record of processing.
pub fn api_router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    PrivacyState: FromRef<S>,
    Authenticator: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(settings::show, settings::set))
        .routes(routes!(record::show))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_hashes_are_keyed_and_per_tenant() {
        let a = AddressHasher::new(b"key one");
        let b = AddressHasher::new(b"key two");
        let h = a.hash("t1", "jan@klant.nl");
        assert_eq!(h.len(), 43);
        assert_eq!(h, a.hash("t1", "jan@klant.nl"));
        assert_ne!(h, a.hash("t2", "jan@klant.nl"));
        assert_ne!(h, a.hash("t1", "piet@klant.nl"));
        assert_ne!(h, b.hash("t1", "jan@klant.nl"));
        // No ambiguity between the tenant and the address.
        assert_ne!(a.hash("t1", "x@y.nl"), a.hash("t1\0x", "@y.nl"));
        assert!(!h.contains("jan"));
    }
}
