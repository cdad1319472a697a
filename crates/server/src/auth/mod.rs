//! Authentication. Two kinds of bearer token reach the API:
//! - leakwatch-issued JWTs (HS256 with a `kid` from [`crate::keys`]): from `leakwatch token
//!   issue`, and from password login for the dashboard and Thunderbird;
//! - Microsoft Entra ID tokens for the Outlook add-in (RS256, verified against the tenant's
//!   JWKS; see [`crate::auth::oidc`]).
//!
//! The algorithm is never taken from the token alone: leakwatch tokens are only accepted as
//! HS256 with a known `kid`, OIDC tokens only as RS256 against fetched keys, so `alg: none`
//! and HS/RS confusion fail. [`AuthUser`] is the extractor handlers use: it needs only an
//! [`Authenticator`] from the state, so every feature's router can require it.
//!
//! The dashboard uses neither: it signs in to a browser session ([`session`]), whose
//! HttpOnly cookie the same extractor accepts when a request has no Authorization header,
//! with a CSRF token on every request that may change something.
//!
//! - [`http`]: login, `me`, the tenant's identity-provider settings;
//! - [`oidc`]: Entra ID token verification and the tenants' OIDC settings;
//! - [`session`]: browser sessions (sign-in, sign-out, the cookie and its CSRF token).

pub mod http;
pub mod oidc;
pub mod session;

pub use session::{end_sessions_of, user_of_cookie, CSRF_HEADER};

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use jsonwebtoken::{
    decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::accounts::Role;
use crate::kit::audit::Actor;
use crate::kit::config::AuthConfig;
use crate::kit::db::Db;
use crate::kit::error::{ApiError, ApiResult};
use crate::kit::ids::{TenantId, UserId};
use crate::kit::keys::Keys;
use crate::kit::outbound::Outbound;

pub const ISSUER: &str = "leakwatch";
pub const AUDIENCE: &str = "leakwatch-api";

/// The claims of a leakwatch-issued token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// User id.
    pub sub: String,
    /// Tenant id.
    pub tid: String,
    pub email: String,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
}

/// An authenticated user of a tenant.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user_id: UserId,
    pub tenant_id: TenantId,
    pub email: String,
    pub role: Role,
}

impl AuthUser {
    /// A sender sees their own messages and incidents; an admin those of the whole tenant
    /// (the tenant itself is checked by every query).
    pub fn may_see(&self, owner_id: &UserId) -> bool {
        *owner_id == self.user_id || self.role == Role::Admin
    }

    /// An incident: a sender sees her own, a privacy officer or admin every one of the
    /// tenant (the breach register).
    pub fn may_see_incident(&self, owner_id: &UserId) -> bool {
        *owner_id == self.user_id || self.role.keeps_register()
    }

    /// This user as the actor of an audit entry.
    pub fn actor(&self) -> Actor {
        Actor::user(self.user_id.as_str(), &self.email)
    }

    pub fn require_admin(&self) -> ApiResult<()> {
        match self.role {
            Role::Admin => Ok(()),
            Role::Sender | Role::PrivacyOfficer => {
                Err(ApiError::Forbidden("this needs an admin".into()))
            }
        }
    }

    /// Decisions on incidents, the breach register and the audit log.
    pub fn require_privacy_officer(&self) -> ApiResult<()> {
        if self.role.keeps_register() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "this needs a privacy officer or an admin".into(),
            ))
        }
    }
}

/// What authentication needs at run time: the database (users), the signing keys, the
/// identity-provider verifier with its caches, the login rate limits and the `[auth]`
/// settings. A cheap handle.
#[derive(Clone)]
pub struct Authenticator(Arc<AuthParts>);

struct AuthParts {
    db: Db,
    /// The signing keys as last read, and when.
    keys: std::sync::RwLock<(Arc<Keys>, std::time::Instant)>,
    /// Serialises reloads, so many requests at once read the table once.
    reloading: tokio::sync::Mutex<()>,
    oidc: oidc::Oidc,
    login: http::LoginGuard,
    settings: AuthConfig,
    /// Session cookies are marked Secure (and `__Host-`) when the public URL is https.
    secure_cookies: bool,
}

impl Authenticator {
    pub fn new(
        db: Db,
        keys: Arc<Keys>,
        settings: &AuthConfig,
        public_url: &str,
        outbound: &Outbound,
    ) -> anyhow::Result<Authenticator> {
        let login = http::LoginGuard::new(settings, &keys.limits.secret);
        Ok(Authenticator(Arc::new(AuthParts {
            db,
            keys: std::sync::RwLock::new((keys, std::time::Instant::now())),
            reloading: tokio::sync::Mutex::new(()),
            oidc: oidc::Oidc::new(settings, outbound)?,
            login,
            settings: settings.clone(),
            secure_cookies: public_url.starts_with("https://"),
        })))
    }

    pub fn db(&self) -> &Db {
        &self.0.db
    }

    /// The signing keys as last read.
    pub fn keys(&self) -> Arc<Keys> {
        self.0
            .keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .clone()
    }

    /// The signing keys, read again from the database when the last read is older than
    /// `auth.signing_keys_reload_seconds`, or, when `unknown_kid` names a key they lack,
    /// older than `auth.signing_keys_min_reload_seconds`: a rotated or retired key takes
    /// effect on every server without a restart.
    pub async fn fresh_keys(&self, unknown_kid: Option<&str>) -> ApiResult<Arc<Keys>> {
        let stale = |keys: &Keys, read: std::time::Instant| {
            let age = read.elapsed().as_secs();
            age >= self.0.settings.signing_keys_reload_seconds
                || unknown_kid.is_some_and(|kid| {
                    keys.jwt_key(kid).is_none()
                        && age >= self.0.settings.signing_keys_min_reload_seconds
                })
        };
        {
            let current = self.0.keys.read().unwrap_or_else(|e| e.into_inner());
            if !stale(&current.0, current.1) {
                return Ok(current.0.clone());
            }
        }
        let _one = self.0.reloading.lock().await;
        let (keys, read) = self
            .0
            .keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if !stale(&keys, read) {
            return Ok(keys); // another request reloaded meanwhile
        }
        let fresh = Arc::new(keys.with_fresh_jwt(&self.0.db).await?);
        *self.0.keys.write().unwrap_or_else(|e| e.into_inner()) =
            (fresh.clone(), std::time::Instant::now());
        Ok(fresh)
    }

    pub fn oidc(&self) -> &oidc::Oidc {
        &self.0.oidc
    }

    pub fn login(&self) -> &http::LoginGuard {
        &self.0.login
    }

    pub fn settings(&self) -> &AuthConfig {
        &self.0.settings
    }
}

/// Bearer tokens longer than this are refused before any parsing.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Signs a leakwatch token for a user, valid for `ttl_seconds`.
pub fn issue_token(keys: &Keys, user: &AuthUser, ttl_seconds: i64) -> anyhow::Result<String> {
    Ok(issue_token_until(keys, user, ttl_seconds)?.0)
}

/// Signs a leakwatch token for a user, valid for `ttl_seconds`; also returns its expiry in
/// Unix milliseconds.
pub fn issue_token_until(
    keys: &Keys,
    user: &AuthUser,
    ttl_seconds: i64,
) -> anyhow::Result<(String, i64)> {
    let key = keys.signing_jwt_key();
    let now = crate::kit::time::now_ms() / 1000;
    let claims = Claims {
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        sub: user.user_id.to_string(),
        tid: user.tenant_id.to_string(),
        email: user.email.clone(),
        role: user.role,
        iat: now,
        exp: now + ttl_seconds,
    };
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(key.kid.clone());
    let token = encode(&header, &claims, &EncodingKey::from_secret(&key.secret))?;
    Ok((token, claims.exp.saturating_mul(1000)))
}

/// Verifies a bearer token and loads its user.
pub async fn authenticate(state: &Authenticator, token: &str) -> ApiResult<AuthUser> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(unauthorized("token too long"));
    }
    let header = decode_header(token).map_err(|_| unauthorized("malformed token"))?;
    match header.alg {
        Algorithm::HS256 => {
            let kid = header
                .kid
                .ok_or_else(|| unauthorized("token has no key id"))?;
            let keys = state.fresh_keys(Some(&kid)).await?;
            let key = keys
                .jwt_key(&kid)
                .ok_or_else(|| unauthorized("unknown signing key"))?;
            let mut validation = Validation::new(Algorithm::HS256);
            validation.algorithms = vec![Algorithm::HS256];
            validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
            validation.set_issuer(&[ISSUER]);
            validation.set_audience(&[AUDIENCE]);
            validation.leeway = 30;
            // jsonwebtoken checks `nbf` only when asked: a token not valid yet is refused.
            validation.validate_nbf = true;
            let data = decode::<Claims>(token, &DecodingKey::from_secret(&key.secret), &validation)
                .map_err(|e| unauthorized(&rejection(&e)))?;
            load_user(state, &data.claims.sub, &data.claims.tid, data.claims.iat).await
        }
        Algorithm::RS256 => {
            let user = oidc::authenticate(state, token).await?;
            let disabled: Option<i64> =
                sqlx::query_scalar("SELECT disabled_at FROM users WHERE id = $1")
                    .bind(&user.user_id)
                    .fetch_one(&state.db().pool)
                    .await?;
            if disabled.is_some() {
                return Err(unauthorized("this user has been disabled"));
            }
            Ok(user)
        }
        other => Err(unauthorized(&format!(
            "algorithm {other:?} is not accepted"
        ))),
    }
}

/// Why a token failed verification, for the 401's message: the failed check, never the
/// parser's details.
pub fn rejection(err: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match err.kind() {
        ErrorKind::ExpiredSignature => "the token has expired".into(),
        ErrorKind::ImmatureSignature => "the token is not valid yet".into(),
        ErrorKind::InvalidAudience => "the token is meant for another audience".into(),
        ErrorKind::InvalidIssuer => "the token has another issuer".into(),
        ErrorKind::InvalidSignature => "the token's signature does not verify".into(),
        ErrorKind::InvalidAlgorithm => "the token's algorithm is not accepted".into(),
        ErrorKind::MissingRequiredClaim(claim) => format!("the token has no '{claim}' claim"),
        ErrorKind::Json(_) | ErrorKind::InvalidClaimFormat(_) => {
            "the token's claims are incomplete or malformed".into()
        }
        _ => "invalid token".into(),
    }
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::Unauthorized(message.to_string())
}

/// The user behind a token, checked to still exist in the token's tenant and not to be
/// disabled.
/// The token's user, unless disabled or the token was issued (`iat`, seconds) before the
/// user's last password change.
async fn load_user(
    state: &Authenticator,
    user_id: &str,
    tenant_id: &str,
    issued_at: i64,
) -> ApiResult<AuthUser> {
    let row = sqlx::query(
        "SELECT id, tenant_id, email, role, tokens_valid_after FROM users WHERE id = $1 AND tenant_id = $2 AND disabled_at IS NULL",
    )
    .bind(user_id)
    .bind(tenant_id)
    .fetch_optional(&state.db().pool)
    .await?
    .ok_or_else(|| unauthorized("the token's user no longer exists or is disabled"))?;
    let valid_after: i64 = row.try_get("tokens_valid_after").map_err(ApiError::from)?;
    if issued_at < valid_after {
        return Err(unauthorized(
            "the token was issued before the user's password changed; sign in again",
        ));
    }
    Ok(AuthUser {
        user_id: row.try_get("id").map_err(ApiError::from)?,
        tenant_id: row.try_get("tenant_id").map_err(ApiError::from)?,
        email: row.try_get("email").map_err(ApiError::from)?,
        role: Role::parse(&row.try_get::<String, _>("role").map_err(ApiError::from)?),
    })
}

impl<S> FromRequestParts<S> for AuthUser
where
    S: Send + Sync,
    Authenticator: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = Authenticator::from_ref(state);
        let Some(header) = parts.headers.get(axum::http::header::AUTHORIZATION) else {
            // The dashboard's browser session; a bearer token, when given, always wins.
            return user_of_cookie(&auth, &parts.method, &parts.headers)
                .await?
                .ok_or_else(|| unauthorized("missing Authorization header"));
        };
        let header = header
            .to_str()
            .map_err(|_| unauthorized("expected a Bearer token"))?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or_else(|| unauthorized("expected a Bearer token"))?;
        authenticate(&auth, token.trim()).await
    }
}
