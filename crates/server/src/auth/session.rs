//! Browser sessions for the dashboard (see ADR 0009). Signing in with a password sets an
//! HttpOnly, SameSite=Strict cookie (Secure when the public URL is https) naming a session
//! row; the row stores only the SHA-256 of the cookie's value, its user, its absolute expiry
//! and a CSRF token. Every request that may change something and comes with the cookie
//! instead of a bearer token must send that token back in `X-CSRF-Token` (checked by the
//! [`super::AuthUser`] extractor), so a form or script on another site cannot act with it.
//!
//! - `POST /api/v1/auth/session`: sign in (the login's checks and rate limits);
//! - `GET /api/v1/auth/session`: who is signed in, and the CSRF token for a reloaded page;
//! - `DELETE /api/v1/auth/session`: sign out (the row is deleted, the cookie cleared);
//! - `POST /api/v1/auth/session/entra`: sign in with an Entra ID access token (the
//!   dashboard's "Sign in with Microsoft").

use axum::extract::{FromRef, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;
use utoipa::ToSchema;

use super::http::{check_password_login, me_of, LoginRequest, Me};
use super::{AuthUser, Authenticator};
use crate::accounts::Role;
use crate::kit::client::ClientAddr;
use crate::kit::error::{ApiError, ApiResult};
use crate::kit::ids::{random_bytes, UserId};
use crate::kit::json::ApiJson;
use crate::kit::time::now_ms;

/// The cookie over plain http (local use, tests).
pub const COOKIE: &str = "leakwatch_session";
/// The cookie over https: the `__Host-` prefix makes browsers refuse it unless it is Secure,
/// for this host only and for every path.
pub const SECURE_COOKIE: &str = "__Host-leakwatch_session";
/// The header that carries the session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionView {
    /// Send this in `X-CSRF-Token` with every request that is not GET or HEAD.
    pub csrf_token: String,
    /// When the session ends, Unix milliseconds (it does not stretch with use).
    pub expires_at: i64,
    pub user: Me,
}

fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

impl Authenticator {
    fn cookie_name(&self) -> &'static str {
        if self.0.secure_cookies {
            SECURE_COOKIE
        } else {
            COOKIE
        }
    }

    fn set_cookie(&self, value: &str, max_age_seconds: i64) -> HeaderValue {
        let mut cookie = cookie::Cookie::build((self.cookie_name(), value.to_string()))
            .path("/")
            .http_only(true)
            .same_site(cookie::SameSite::Strict)
            .secure(self.0.secure_cookies)
            .max_age(cookie::time::Duration::seconds(max_age_seconds))
            .build();
        if max_age_seconds == 0 {
            cookie.make_removal();
        }
        HeaderValue::from_str(&cookie.to_string()).expect("a cookie is a header value")
    }
}

/// The session cookie's value in a request, if any.
pub fn cookie_value<'h>(auth: &Authenticator, headers: &'h HeaderMap) -> Option<&'h str> {
    let name = auth.cookie_name();
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .and_then(|c| c.value_raw())
}

struct Session {
    user: AuthUser,
    csrf_token: String,
    expires_at: i64,
}

async fn lookup(auth: &Authenticator, value: &str) -> ApiResult<Option<Session>> {
    let row = sqlx::query(
        "SELECT u.id, u.tenant_id, u.email, u.role, s.csrf_token, s.expires_at FROM sessions s \
         JOIN users u ON u.id = s.user_id AND u.tenant_id = s.tenant_id \
         WHERE s.id_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL \
         AND s.created_at >= u.tokens_valid_after * 1000",
    )
    .bind(sha256_hex(value))
    .bind(now_ms())
    .fetch_optional(&auth.db().pool)
    .await?;
    row.map(|row| {
        Ok(Session {
            user: AuthUser {
                user_id: row.try_get("id")?,
                tenant_id: row.try_get("tenant_id")?,
                email: row.try_get("email")?,
                role: Role::parse(&row.try_get::<String, _>("role")?),
            },
            csrf_token: row.try_get("csrf_token")?,
            expires_at: row.try_get("expires_at")?,
        })
    })
    .transpose()
}

/// Equal in time independent of where the two first differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The user of the request's session cookie. A request that may change something must
/// carry the session's CSRF token; GET, HEAD and OPTIONS need not (they change nothing).
pub async fn user_of_cookie(
    auth: &Authenticator,
    method: &Method,
    headers: &HeaderMap,
) -> ApiResult<Option<AuthUser>> {
    let Some(value) = cookie_value(auth, headers) else {
        return Ok(None);
    };
    let session = lookup(auth, value)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("the session has ended; sign in again".into()))?;
    if !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        let sent = headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !same_secret(sent, &session.csrf_token) {
            return Err(ApiError::Forbidden(
                "missing or wrong X-CSRF-Token for this session".into(),
            ));
        }
    }
    Ok(Some(session.user))
}

/// Ends every session of a user (disabled, password reset).
pub async fn end_sessions_of(auth: &Authenticator, user_id: &UserId) -> ApiResult<()> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&auth.db().pool)
        .await?;
    Ok(())
}

/// Signs in with a password and starts a browser session.
#[utoipa::path(post, path = "/api/v1/auth/session", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = SessionView, description = "Signed in; the session cookie is set"),
        (status = 400, description = "Invalid request"),
        (status = 401, description = "Wrong tenant, e-mail address or password"),
        (status = 429, description = "Too many failed logins from this address or for this account")))]
pub async fn sign_in(
    State(auth): State<Authenticator>,
    ClientAddr(client): ClientAddr,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let user = check_password_login(&auth, client, body).await?;
    start_session(&auth, user).await
}

/// A token of Microsoft Entra ID, as the dashboard's "Sign in with Microsoft" obtains it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntraSignIn {
    /// An access token for leakwatch's API (the scope of `GET /config.json`), issued to the
    /// signed-in user by the directory of a tenant that has set up Entra ID.
    pub access_token: String,
}

/// Signs in with Microsoft Entra ID and starts a browser session: the token is checked as
/// an Entra bearer token is (the tenant's issuer, audience and keys; ADR 0009), and the user
/// is found or provisioned as for the add-ins.
#[utoipa::path(post, path = "/api/v1/auth/session/entra", tag = "auth", request_body = EntraSignIn,
    responses((status = 200, body = SessionView, description = "Signed in; the session cookie is set"),
        (status = 400, description = "Invalid request"),
        (status = 401, description = "The token is not one of a tenant set up for Entra ID")))]
pub async fn sign_in_with_entra(
    State(auth): State<Authenticator>,
    ApiJson(body): ApiJson<EntraSignIn>,
) -> ApiResult<Response> {
    // Only Entra tokens: a leakwatch token here would turn a stolen bearer token into a
    // browser session.
    let token = body.access_token.trim();
    if token.is_empty() {
        return Err(ApiError::BadRequest("access_token is empty".into()));
    }
    let user = super::oidc::authenticate(&auth, token).await?;
    start_session(&auth, user).await
}

/// Starts a session for `user`: the row, the cookie and the CSRF token.
async fn start_session(auth: &Authenticator, user: AuthUser) -> ApiResult<Response> {
    let now = now_ms();
    let ttl = auth.settings().session_ttl_seconds.max(60);
    let value = random_token();
    let csrf_token = random_token();
    let expires_at = now + ttl * 1000;
    let mut tx = auth.db().pool.begin().await?;
    // Ended sessions are of no use to anyone; sign-in is a cheap moment to drop them.
    sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, tenant_id, csrf_token, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(sha256_hex(&value))
    .bind(&user.user_id)
    .bind(&user.tenant_id)
    .bind(&csrf_token)
    .bind(now)
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    let me = me_of(auth, user).await?;
    Ok((
        [
            (header::SET_COOKIE, auth.set_cookie(&value, ttl)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        Json(SessionView {
            csrf_token,
            expires_at,
            user: me,
        }),
    )
        .into_response())
}

/// The current browser session: who is signed in and the CSRF token to send.
#[utoipa::path(get, path = "/api/v1/auth/session", tag = "auth",
    responses((status = 200, body = SessionView), (status = 401, description = "Not signed in")))]
pub async fn current(State(auth): State<Authenticator>, headers: HeaderMap) -> ApiResult<Response> {
    let value = cookie_value(&auth, &headers)
        .ok_or_else(|| ApiError::Unauthorized("not signed in".into()))?;
    let session = lookup(&auth, value)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("the session has ended; sign in again".into()))?;
    let me = me_of(&auth, session.user).await?;
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Json(SessionView {
            csrf_token: session.csrf_token,
            expires_at: session.expires_at,
            user: me,
        }),
    )
        .into_response())
}

/// Signs out: the session ends on the server and the cookie is cleared.
#[utoipa::path(delete, path = "/api/v1/auth/session", tag = "auth",
    params(("X-CSRF-Token" = String, Header, description = "The session's CSRF token")),
    responses((status = 204, description = "Signed out"), (status = 401, description = "Not signed in"),
        (status = 403, description = "Missing or wrong CSRF token")))]
pub async fn sign_out(
    State(auth): State<Authenticator>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    user_of_cookie(&auth, &Method::DELETE, &headers)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("not signed in".into()))?;
    let value = cookie_value(&auth, &headers).unwrap_or_default();
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(sha256_hex(value))
        .execute(&auth.db().pool)
        .await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, auth.set_cookie("", 0))],
    )
        .into_response())
}

/// Routes of the session, merged by [`super::http::router`].
pub fn routes<S>() -> utoipa_axum::router::UtoipaMethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Authenticator: FromRef<S>,
    crate::kit::client::TrustedProxies: FromRef<S>,
{
    utoipa_axum::routes!(sign_in, current, sign_out)
}

pub fn entra_routes<S>() -> utoipa_axum::router::UtoipaMethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Authenticator: FromRef<S>,
{
    utoipa_axum::routes!(sign_in_with_entra)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
        assert!(!same_secret("", "a"));
    }
}
