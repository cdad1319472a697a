//! The caller's tenant, for its admins: the identity-provider settings (`/api/v1/tenant/oidc`)
//! that let the Outlook add-in sign in with Microsoft Entra ID tokens (see [`crate::oidc`]).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};

use super::ApiJson;
use crate::admin;
use crate::audit::Actor;
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::oidc::OidcSettings;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/tenant/oidc",
            get(show_oidc).put(set_oidc).delete(clear_oidc),
        )
        .route("/api/v1/tenant/policy", get(show_policy).put(set_policy))
}

/// The tenant's check policy, which the add-ins fetch, cache and check with at send time.
#[utoipa::path(get, path = "/api/v1/tenant/policy", tag = "tenant", security(("bearer" = [])),
    responses((status = 200, description = "The policy (see the README's policy table)", body = Object),
        (status = 401, description = "Not signed in")))]
pub async fn show_policy(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<Json<leakwatch_core::Policy>> {
    let tenant = admin::tenant_by_id(state.db(), &user.tenant_id)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    Ok(Json(tenant.policy))
}

/// Replaces the tenant's check policy (admins). Audit-logged with the new policy.
#[utoipa::path(put, path = "/api/v1/tenant/policy", tag = "tenant", security(("bearer" = [])),
    request_body = Object,
    responses((status = 200, description = "The policy as saved", body = Object),
        (status = 400, description = "Invalid policy"), (status = 403, description = "Not an admin")))]
pub async fn set_policy(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(policy): ApiJson<leakwatch_core::Policy>,
) -> ApiResult<Json<leakwatch_core::Policy>> {
    user.require_admin()?;
    admin::set_tenant_policy(state.db(), &user.tenant_id, &policy, &Actor::user(&user)).await?;
    Ok(Json(policy))
}

/// The tenant's identity-provider settings.
#[utoipa::path(get, path = "/api/v1/tenant/oidc", tag = "tenant", security(("bearer" = [])),
    responses((status = 200, body = OidcSettings), (status = 403, description = "Not an admin"),
        (status = 404, description = "The tenant has no identity-provider settings")))]
pub async fn show_oidc(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<Json<OidcSettings>> {
    user.require_admin()?;
    admin::tenant_oidc(state.db(), &user.tenant_id)
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
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<OidcSettings>,
) -> ApiResult<Json<OidcSettings>> {
    user.require_admin()?;
    let saved =
        admin::set_tenant_oidc_by(state.db(), &user.tenant_id, Some(body), &Actor::user(&user))
            .await?
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("settings were not saved")))?;
    state.auth().oidc.invalidate_tenants();
    Ok(Json(saved))
}

/// Turns identity-provider sign-in off for the tenant.
#[utoipa::path(delete, path = "/api/v1/tenant/oidc", tag = "tenant", security(("bearer" = [])),
    responses((status = 204, description = "Turned off"), (status = 403, description = "Not an admin")))]
pub async fn clear_oidc(State(state): State<AppState>, user: AuthUser) -> ApiResult<StatusCode> {
    user.require_admin()?;
    admin::set_tenant_oidc_by(state.db(), &user.tenant_id, None, &Actor::user(&user)).await?;
    state.auth().oidc.invalidate_tenants();
    Ok(StatusCode::NO_CONTENT)
}
