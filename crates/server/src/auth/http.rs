//! Password login for Thunderbird and scripts (`POST /api/v1/auth/login`; the dashboard
//! signs in with a browser session instead, see [`super::session`]), who the
//! caller is (`GET /api/v1/me`), and the tenant's identity-provider settings
//! (`/api/v1/tenant/oidc`) that let the Outlook add-in sign in with Microsoft Entra ID
//! tokens (see [`super::oidc`]).
//!
//! Login answers every failure the same way (unknown tenant, unknown user, no password set,
//! wrong password: one 401, one message) and takes about the same time for each: without a
//! stored hash it verifies against a dummy one. Failed logins are limited per client address
//! and per account from that client ([`crate::kit::ratelimit::SharedLimiter`], in the database,
//! so every server on one PostgreSQL shares the budgets); a limited client gets 429 with
//! `Retry-After`, whether or not its password would have been right.

use std::time::Duration;

use axum::extract::{FromRef, State};
use axum::http::{header, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::oidc::{self, OidcSettings};
use super::{issue_token_until, AuthUser, Authenticator};
use crate::accounts::{normalise_email, tenant_by_id, Role};
use crate::kit::client::{ClientAddr, TrustedProxies};
use crate::kit::config::AuthConfig;
use crate::kit::db::Db;
use crate::kit::error::{ApiError, ApiResult};
use crate::kit::json::ApiJson;
use crate::kit::ratelimit::{ip_key, SharedLimiter};
use crate::kit::time::now_ms;

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Authenticator: FromRef<S>,
    TrustedProxies: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(super::session::routes())
        .routes(super::session::entra_routes())
        .routes(routes!(me))
        .routes(routes!(show_oidc, set_oidc, clear_oidc))
}

/// The one answer to every failed login.
pub const LOGIN_FAILED: &str = "wrong tenant, e-mail address or password";

/// The login rate limits, kept in the database so that every server on one PostgreSQL
/// shares them (ADR 0014).
pub struct LoginGuard {
    per_ip: SharedLimiter,
    per_account: SharedLimiter,
}

impl LoginGuard {
    /// `secret` names the limits' rows (the `limits` signing key, the same on every server).
    pub fn new(config: &AuthConfig, secret: &[u8]) -> LoginGuard {
        LoginGuard {
            per_ip: SharedLimiter::new(
                "login-client",
                secret,
                config.login_ip_burst,
                Duration::from_secs(config.login_ip_refill_seconds),
            ),
            per_account: SharedLimiter::new(
                "login-account",
                secret,
                config.login_account_burst,
                Duration::from_secs(config.login_account_refill_seconds),
            ),
        }
    }

    /// Takes one attempt from both the address's budget and the account's budget for that
    /// address, or refuses with 429 (and takes nothing). The account's budget is per client
    /// (ADR 0014): failures from an attacker's network never lock the user out of hers.
    async fn admit(&self, db: &Db, ip: &str, account: &str) -> ApiResult<()> {
        let refused = |wait: Duration| ApiError::TooManyRequests {
            retry_after_seconds: wait.as_secs_f64().ceil().max(1.0) as u64,
        };
        let now = now_ms();
        self.per_ip.take(db, ip, now).await?.map_err(refused)?;
        if let Err(wait) = self
            .per_account
            .take(db, &account_key(account, ip), now)
            .await?
        {
            self.per_ip.refund(db, ip, now).await?;
            return Err(refused(wait));
        }
        Ok(())
    }

    /// A successful login: its attempt does not count, and the account's failures from that
    /// client are forgotten.
    async fn succeeded(&self, db: &Db, ip: &str, account: &str) -> ApiResult<()> {
        self.per_ip.refund(db, ip, now_ms()).await?;
        self.per_account
            .reset(db, &account_key(account, ip))
            .await?;
        Ok(())
    }
}

/// The account's budget is kept per client network (the /64 for IPv6).
fn account_key(account: &str, ip: &str) -> String {
    format!("{account}\n{ip}")
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    /// The tenant's name.
    pub tenant: String,
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    /// A leakwatch bearer token (JWT).
    pub token: String,
    /// When the token expires, Unix milliseconds.
    pub expires_at: i64,
}

struct Candidate {
    user: AuthUser,
    hash: Option<String>,
}

async fn candidate(
    state: &Authenticator,
    tenant: &str,
    email: &str,
) -> ApiResult<Option<Candidate>> {
    let Ok(email) = normalise_email(email) else {
        return Ok(None);
    };
    let row = sqlx::query(
        "SELECT u.id, u.tenant_id, u.email, u.role, u.password_hash FROM users u \
         JOIN tenants t ON t.id = u.tenant_id WHERE t.name = $1 AND u.email = $2 AND u.disabled_at IS NULL",
    )
    .bind(tenant.trim())
    .bind(&email)
    .fetch_optional(&state.db().pool)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(Candidate {
        user: AuthUser {
            user_id: row.try_get("id")?,
            tenant_id: row.try_get("tenant_id")?,
            email: row.try_get("email")?,
            role: Role::parse(&row.try_get::<String, _>("role")?),
        },
        hash: row.try_get("password_hash")?,
    }))
}

/// Logs in with a password; the token is a leakwatch token like `leakwatch token issue`'s.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 400, description = "Invalid request"),
        (status = 401, description = "Wrong tenant, e-mail address or password"),
        (status = 429, description = "Too many failed logins from this address or for this account")))]
pub async fn login(
    State(state): State<Authenticator>,
    ClientAddr(client): ClientAddr,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<([(header::HeaderName, &'static str); 1], Json<LoginResponse>)> {
    let user = check_password_login(&state, client, body).await?;
    let ttl = state.settings().login_ttl_seconds.max(60);
    let (token, expires_at) = issue_token_until(&*state.fresh_keys(None).await?, &user, ttl)?;
    // A bearer token is nothing for caches to keep.
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Json(LoginResponse { token, expires_at }),
    ))
}

/// The user a password login names, after the rate limits and the password check; shared by
/// the token login and the browser session's sign-in.
pub(super) async fn check_password_login(
    state: &Authenticator,
    client: Option<std::net::IpAddr>,
    body: LoginRequest,
) -> ApiResult<AuthUser> {
    let guard = state.login();
    // Behind the configured trusted proxies, the client named by X-Forwarded-For.
    let ip = client.map(ip_key).unwrap_or_else(|| "unknown".to_string());
    let account = format!(
        "{}\n{}",
        body.tenant.trim().to_lowercase(),
        normalise_email(&body.email).unwrap_or_else(|_| body.email.trim().to_lowercase())
    );
    guard.admit(state.db(), &ip, &account).await?;
    // An overlong password is just a wrong one (no stored password is that long).
    let too_long = body.password.len() > crate::kit::password::MAX_BYTES;
    let found = if too_long {
        None
    } else {
        candidate(state, &body.tenant, &body.email).await?
    };
    let hash = found.as_ref().and_then(|c| c.hash.clone());
    let password = if too_long {
        String::new()
    } else {
        body.password
    };
    let verified = crate::kit::password::verify(password, hash).await?;
    let user = match found {
        Some(candidate) if verified => candidate.user,
        _ => {
            tracing::info!(client = %ip, "failed login");
            return Err(ApiError::Unauthorized(LOGIN_FAILED.into()));
        }
    };
    guard.succeeded(state.db(), &ip, &account).await?;
    Ok(user)
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TenantRef {
    pub id: String,
    pub name: String,
    pub domain: String,
    /// The IANA time zone the tenant's times are shown in (`Europe/Amsterdam` unless an
    /// admin set another in the privacy settings).
    #[schema(example = "Europe/Amsterdam")]
    pub time_zone: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Me {
    pub id: String,
    pub email: String,
    /// `sender`, `privacy_officer` or `admin`.
    pub role: String,
    pub tenant: TenantRef,
}

/// The authenticated user, for clients to show who is signed in.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, description = "No valid token")))]
pub async fn me(State(state): State<Authenticator>, user: AuthUser) -> ApiResult<Json<Me>> {
    Ok(Json(me_of(&state, user).await?))
}

/// What [`me`] answers for a user.
pub(super) async fn me_of(state: &Authenticator, user: AuthUser) -> ApiResult<Me> {
    let tenant = tenant_by_id(state.db(), &user.tenant_id)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("the token's tenant no longer exists".into()))?;
    Ok(Me {
        id: user.user_id.into_string(),
        email: user.email,
        role: user.role.as_str().to_string(),
        tenant: TenantRef {
            id: tenant.id.into_string(),
            name: tenant.name,
            domain: tenant.domain,
            time_zone: tenant.time_zone.name().to_string(),
        },
    })
}

/// The tenant's identity-provider settings.
#[utoipa::path(get, path = "/api/v1/tenant/oidc", tag = "tenant", security(("bearer" = [])),
    responses((status = 200, body = OidcSettings), (status = 403, description = "Not an admin"),
        (status = 404, description = "The tenant has no identity-provider settings")))]
pub async fn show_oidc(
    State(state): State<Authenticator>,
    user: AuthUser,
) -> ApiResult<Json<OidcSettings>> {
    user.require_admin()?;
    oidc::tenant_oidc(state.db(), &user.tenant_id)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound("OIDC settings"))
}

/// Sets the tenant's identity-provider settings; they apply on this server at once, on the
/// others within 30 seconds.
#[utoipa::path(put, path = "/api/v1/tenant/oidc", tag = "tenant", security(("bearer" = [])),
    request_body = OidcSettings,
    responses((status = 200, body = OidcSettings), (status = 400, description = "Invalid settings"),
        (status = 403, description = "Not an admin"),
        (status = 409, description = "The directory is configured for another tenant")))]
pub async fn set_oidc(
    State(state): State<Authenticator>,
    user: AuthUser,
    ApiJson(body): ApiJson<OidcSettings>,
) -> ApiResult<Json<OidcSettings>> {
    user.require_admin()?;
    let saved = oidc::set_tenant_oidc_by(
        state.db(),
        &user.tenant_id,
        Some(body),
        &user.actor(),
        state.oidc().outbound(),
    )
    .await?
    .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("settings were not saved")))?;
    state.oidc().invalidate_tenants();
    Ok(Json(saved))
}

/// Turns identity-provider sign-in off for the tenant.
#[utoipa::path(delete, path = "/api/v1/tenant/oidc", tag = "tenant", security(("bearer" = [])),
    responses((status = 204, description = "Turned off"), (status = 403, description = "Not an admin")))]
pub async fn clear_oidc(
    State(state): State<Authenticator>,
    user: AuthUser,
) -> ApiResult<StatusCode> {
    user.require_admin()?;
    oidc::set_tenant_oidc_by(
        state.db(),
        &user.tenant_id,
        None,
        &user.actor(),
        state.oidc().outbound(),
    )
    .await?;
    state.oidc().invalidate_tenants();
    Ok(StatusCode::NO_CONTENT)
}
