//! Secrets kept in the database: generated on first start, so a fresh install needs no
//! configuration, and shared by every server of a PostgreSQL deployment.
//!
//! - `jwt`: HS256 keys for leakwatch-issued tokens. Each has a `kid`; the newest signs,
//!   every unretired one verifies, so rotation (`leakwatch token rotate`) logs nobody out.
//! - `pixel`: the HMAC key that tags pixel tokens, so forged tokens are rejected without a
//!   database read.

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
}

impl Keys {
    /// Loads the keys, creating each purpose's first key when there is none.
    pub async fn load_or_create(db: &Db) -> Result<Keys, sqlx::Error> {
        let mut jwt = load(db, "jwt").await?;
        if jwt.is_empty() {
            jwt.push(create(db, "jwt").await?);
        }
        let mut pixel = load(db, "pixel").await?;
        if pixel.is_empty() {
            pixel.push(create(db, "pixel").await?);
        }
        Ok(Keys {
            jwt,
            pixel: pixel.swap_remove(0),
        })
    }

    /// The same keys with the JWT keys read again (added by `leakwatch token rotate`,
    /// retired in the database); the pixel key stays.
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
        })
    }

    pub fn signing_jwt_key(&self) -> &SigningKey {
        &self.jwt[0]
    }

    pub fn jwt_key(&self, kid: &str) -> Option<&SigningKey> {
        self.jwt.iter().find(|k| k.kid == kid)
    }
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
