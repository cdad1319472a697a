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
//! - [`audit_api`]: the audit log for admins, as JSON pages or a CSV export.
//! - [`record`]: the Art. 30 record of processing, generated from the tenant's policy.

pub mod audit_api;
pub mod html;
pub mod objection;
pub mod page;
pub mod record;
pub mod retention;
pub mod settings;

use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::Row;

pub use retention::{run_retention, RetentionReport};
pub use settings::PrivacySettings;

use crate::config::PrivacyConfig;
use crate::db::{now_ms, random_bytes, Db};
use crate::ratelimit::Limiter;
use crate::state::AppState;

/// The objection key's fixed id in `signing_keys`: every server of a deployment inserts the
/// same row (the first wins) and reads the winner, so all hash addresses alike.
const OBJECTION_KID: &str = "objection-v1";

/// What the privacy pages need at run time: the key that hashes objecting addresses and
/// the objection form's rate limits (per server process).
pub struct Privacy {
    hasher: AddressHasher,
    pub(crate) ip_limiter: Limiter,
    pub(crate) address_limiter: Limiter,
    pub(crate) link_ttl_ms: i64,
}

impl Privacy {
    /// Loads (or, on a fresh database, creates) the objection key.
    pub async fn load(db: &Db, config: &PrivacyConfig) -> Result<Privacy, sqlx::Error> {
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
            ip_limiter: Limiter::new(
                config.objection_ip_burst,
                Duration::from_secs(config.objection_ip_refill_seconds),
            ),
            address_limiter: Limiter::new(
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
pub fn public_router() -> Router<AppState> {
    Router::new()
        .route("/i/{id}", get(page::show))
        .route("/i/{id}/objection", post(objection::request))
        .route(
            "/i/confirm/{token}",
            get(objection::confirm_page).post(objection::confirm),
        )
        .layer(DefaultBodyLimit::max(4 * 1024))
}

/// The admins' API: audit log, privacy settings, record of processing.
pub fn api_router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/audit", get(audit_api::list))
        .route(
            "/api/v1/tenant/privacy",
            get(settings::show).put(settings::set),
        )
        .route("/api/v1/tenant/record-of-processing", get(record::show))
}

/// A Unix-millisecond time as RFC 3339 UTC (`2026-03-01T09:30:00.250Z`), clamped to the
/// years 1970 to 9999 that humantime formats.
pub fn rfc3339(ms: i64) -> String {
    const LAST: i64 = 253_402_300_799_999;
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.clamp(0, LAST) as u64);
    humantime::format_rfc3339_millis(at).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_format_as_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339(1_772_357_400_250), "2026-03-01T09:30:00.250Z");
        assert_eq!(rfc3339(-1), "1970-01-01T00:00:00.000Z");
        // Round trip through the core's parser, over many days.
        for day in (0..30_000).step_by(37) {
            let ms = day * 86_400_000 + 45_296_000;
            let text = rfc3339(ms);
            assert_eq!(
                leakwatch_core::history::parse_rfc3339(&text).map(|s| s * 1000),
                Some(ms),
                "{text}"
            );
        }
    }

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
