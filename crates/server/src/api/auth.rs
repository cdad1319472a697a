//! Password login for the dashboard and Thunderbird (`POST /api/v1/auth/login`), and who the
//! caller is (`GET /api/v1/me`).
//!
//! Login answers every failure the same way (unknown tenant, unknown user, no password set,
//! wrong password: one 401, one message) and takes about the same time for each: without a
//! stored hash it verifies against a dummy one. Failed logins are limited per client address
//! and per account ([`crate::ratelimit`]); a limited client gets 429 with `Retry-After`,
//! whether or not its password would have been right.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap};
use axum::routing::{get, post};
use axum::{Json, Router};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use super::ApiJson;
use crate::admin::{normalise_email, tenant_by_id};
use crate::auth::{issue_token_until, AuthUser, Role};
use crate::config::AuthConfig;
use crate::error::{ApiError, ApiResult};
use crate::ratelimit::{ip_key, Limiter};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/me", get(me))
}

/// The one answer to every failed login.
pub const LOGIN_FAILED: &str = "wrong tenant, e-mail address or password";

/// The login rate limits and how to find the client's address.
pub struct LoginGuard {
    per_ip: Limiter,
    per_account: Limiter,
    trusted_proxies: Vec<IpNet>,
}

impl LoginGuard {
    pub fn new(config: &AuthConfig) -> anyhow::Result<LoginGuard> {
        let trusted_proxies = config
            .trusted_proxies
            .iter()
            .map(|text| {
                let text = text.trim();
                text.parse::<IpNet>()
                    .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        anyhow::anyhow!("auth.trusted_proxies: '{text}' is not a CIDR block")
                    })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(LoginGuard {
            per_ip: Limiter::new(
                config.login_ip_burst,
                Duration::from_secs(config.login_ip_refill_seconds),
            ),
            per_account: Limiter::new(
                config.login_account_burst,
                Duration::from_secs(config.login_account_refill_seconds),
            ),
            trusted_proxies,
        })
    }

    fn trusted(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|net| net.contains(&ip))
    }

    /// The client's address: the peer's, or behind trusted proxies the last address in
    /// `X-Forwarded-For` that is not one of them (addresses before it could be forged).
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusted(peer) {
            return peer;
        }
        let parts: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect();
        let mut nearest = peer;
        for part in parts.iter().rev() {
            let Ok(ip) = part.trim().parse::<IpAddr>() else {
                break;
            };
            if !self.trusted(ip) {
                return ip;
            }
            nearest = ip;
        }
        nearest
    }

    /// Takes one attempt from both the address's and the account's budget, or refuses with
    /// 429 (and takes nothing).
    fn admit(&self, ip: &str, account: &str) -> ApiResult<()> {
        let refused = |wait: Duration| ApiError::TooManyRequests {
            retry_after_seconds: wait.as_secs().max(1),
        };
        self.per_ip.take(ip).map_err(refused)?;
        if let Err(wait) = self.per_account.take(account) {
            self.per_ip.refund(ip);
            return Err(refused(wait));
        }
        Ok(())
    }

    /// A successful login: its attempt does not count, and the account's failures are
    /// forgotten.
    fn succeeded(&self, ip: &str, account: &str) {
        self.per_ip.refund(ip);
        self.per_account.reset(account);
    }
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

async fn candidate(state: &AppState, tenant: &str, email: &str) -> ApiResult<Option<Candidate>> {
    let Ok(email) = normalise_email(email) else {
        return Ok(None);
    };
    let row = sqlx::query(
        "SELECT u.id, u.tenant_id, u.email, u.role, u.password_hash FROM users u \
         JOIN tenants t ON t.id = u.tenant_id WHERE t.name = $1 AND u.email = $2",
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
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<([(header::HeaderName, &'static str); 1], Json<LoginResponse>)> {
    let guard = &state.auth().login;
    let ip = ip_key(guard.client_ip(peer.ip(), &headers));
    let account = format!(
        "{}\n{}",
        body.tenant.trim().to_lowercase(),
        normalise_email(&body.email).unwrap_or_else(|_| body.email.trim().to_lowercase())
    );
    guard.admit(&ip, &account)?;
    // An overlong password is just a wrong one (no stored password is that long).
    let too_long = body.password.len() > crate::password::MAX_BYTES;
    let found = if too_long {
        None
    } else {
        candidate(&state, &body.tenant, &body.email).await?
    };
    let hash = found.as_ref().and_then(|c| c.hash.clone());
    let password = if too_long {
        String::new()
    } else {
        body.password
    };
    let verified = crate::password::verify(password, hash).await?;
    let user = match found {
        Some(candidate) if verified => candidate.user,
        _ => {
            tracing::info!(client = %ip, "failed login");
            return Err(ApiError::Unauthorized(LOGIN_FAILED.into()));
        }
    };
    guard.succeeded(&ip, &account);
    let ttl = state.config().auth.login_ttl_seconds.max(60);
    let (token, expires_at) = issue_token_until(state.keys(), &user, ttl)?;
    // A bearer token is nothing for caches to keep.
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Json(LoginResponse { token, expires_at }),
    ))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TenantRef {
    pub id: String,
    pub name: String,
    pub domain: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Me {
    pub id: String,
    pub email: String,
    /// `sender` or `admin`.
    pub role: String,
    pub tenant: TenantRef,
}

/// The authenticated user, for clients to show who is signed in.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, description = "No valid token")))]
pub async fn me(State(state): State<AppState>, user: AuthUser) -> ApiResult<Json<Me>> {
    let tenant = tenant_by_id(state.db(), &user.tenant_id)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("the token's tenant no longer exists".into()))?;
    Ok(Json(Me {
        id: user.user_id,
        email: user.email,
        role: user.role.as_str().to_string(),
        tenant: TenantRef {
            id: tenant.id,
            name: tenant.name,
            domain: tenant.domain,
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(trusted: &[&str]) -> LoginGuard {
        LoginGuard::new(&AuthConfig {
            trusted_proxies: trusted.iter().map(|s| s.to_string()).collect(),
            ..AuthConfig::default()
        })
        .unwrap()
    }

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", value.parse().unwrap());
        headers
    }

    #[test]
    fn forwarded_for_counts_only_behind_trusted_proxies() {
        let peer: IpAddr = "10.0.0.5".parse().unwrap();
        let client: IpAddr = "198.51.100.7".parse().unwrap();
        // Not trusted: the header is ignored.
        assert_eq!(guard(&[]).client_ip(peer, &forwarded("198.51.100.7")), peer);
        let behind = guard(&["10.0.0.0/8", "192.0.2.1"]);
        assert_eq!(behind.client_ip(peer, &forwarded("198.51.100.7")), client);
        // What the client wrote itself comes first and is skipped; proxies are skipped too.
        assert_eq!(
            behind.client_ip(peer, &forwarded("203.0.113.1, 198.51.100.7, 192.0.2.1")),
            client
        );
        assert_eq!(behind.client_ip(peer, &HeaderMap::new()), peer);
        assert_eq!(behind.client_ip(peer, &forwarded("garbage")), peer);
        assert_eq!(
            behind.client_ip(peer, &forwarded("garbage, 198.51.100.7")),
            client
        );
        assert!(LoginGuard::new(&AuthConfig {
            trusted_proxies: vec!["not a network".into()],
            ..AuthConfig::default()
        })
        .is_err());
    }
}
