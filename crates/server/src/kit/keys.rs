//! Secrets kept in the database: generated on first start, so a fresh install needs no
//! configuration, and shared by every server of a PostgreSQL deployment.
//!
//! - `jwt`: HS256 keys for leakwatch-issued tokens. Each has a `kid`; the newest signs,
//!   every unretired one verifies, so rotation (`leakwatch token rotate`) logs nobody out.
//! - `pixel`: the HMAC key that tags pixel tokens, so forged tokens are rejected without a
//!   database read.
//! - `limits`: the HMAC key that turns a rate limit's key (an account, a client network) into
//!   the opaque name of its row in `rate_limits`, so the table holds no address.

use sqlx::Row;

use crate::kit::db::Db;
use crate::kit::ids::{random_bytes, random_id};
use crate::kit::time::now_ms;

#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    pub secret: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub struct Keys {
    /// Newest first; the first signs.
    pub jwt: Vec<SigningKey>,
    pub pixel: SigningKey,
    pub limits: SigningKey,
}

impl Keys {
    /// Loads the keys, creating each purpose's first key when there is none.
    pub async fn load_or_create(db: &Db) -> Result<Keys, sqlx::Error> {
        let mut jwt = load(db, "jwt").await?;
        if jwt.is_empty() {
            jwt.push(create(db, "jwt").await?);
        }
        Ok(Keys {
            jwt,
            pixel: load_or_create_one(db, "pixel").await?,
            limits: load_or_create_first(db, "limits").await?,
        })
    }

    /// The same keys with the JWT keys read again (added by `leakwatch token rotate`,
    /// retired in the database); the pixel and limits keys stay.
    pub async fn with_fresh_jwt(&self, db: &Db) -> Result<Keys, sqlx::Error> {
        let jwt = load(db, "jwt").await?;
        Ok(Keys {
            // Never none: with every key retired the old set stays until one is added.
            jwt: if jwt.is_empty() {
                self.jwt.clone()
            } else {
                jwt
            },
            pixel: self.pixel.clone(),
            limits: self.limits.clone(),
        })
    }

    pub fn signing_jwt_key(&self) -> &SigningKey {
        &self.jwt[0]
    }

    pub fn jwt_key(&self, kid: &str) -> Option<&SigningKey> {
        self.jwt.iter().find(|k| k.kid == kid)
    }
}

/// The newest key of a purpose that has one key at a time.
async fn load_or_create_one(db: &Db, purpose: &str) -> Result<SigningKey, sqlx::Error> {
    match load(db, purpose).await?.into_iter().next() {
        Some(key) => Ok(key),
        None => create(db, purpose).await,
    }
}

/// The first key of a purpose, created when there is none. Servers that start together on
/// a fresh database may each create one; all of them then use the oldest, so they agree.
async fn load_or_create_first(db: &Db, purpose: &str) -> Result<SigningKey, sqlx::Error> {
    if let Some(oldest) = load(db, purpose).await?.pop() {
        return Ok(oldest);
    }
    // Read again after creating: another server may have created one at the same time.
    create(db, purpose).await?;
    Ok(load(db, purpose)
        .await?
        .pop()
        .expect("a key was just created"))
}

async fn load(db: &Db, purpose: &str) -> Result<Vec<SigningKey>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT kid, secret FROM signing_keys WHERE purpose = $1 AND retired_at IS NULL ORDER BY created_at DESC, kid",
    )
    .bind(purpose)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(SigningKey {
                kid: row.try_get("kid")?,
                secret: row.try_get("secret")?,
            })
        })
        .collect()
}

async fn create(db: &Db, purpose: &str) -> Result<SigningKey, sqlx::Error> {
    let key = SigningKey {
        kid: random_id(),
        secret: random_bytes::<32>().to_vec(),
    };
    sqlx::query(
        "INSERT INTO signing_keys (kid, purpose, secret, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&key.kid)
    .bind(purpose)
    .bind(&key.secret)
    .bind(now_ms())
    .execute(&db.pool)
    .await?;
    Ok(key)
}

/// Adds a new JWT signing key; tokens signed with older unretired keys stay valid.
pub async fn rotate_jwt(db: &Db) -> Result<String, sqlx::Error> {
    // Created strictly later than the current newest key, so it signs from now on.
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    Ok(create(db, "jwt").await?.kid)
}
