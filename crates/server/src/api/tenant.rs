//! The caller's tenant, for its admins: the identity-provider settings (`/api/v1/tenant/oidc`)
//! that let the Outlook add-in sign in with Microsoft Entra ID tokens (see [`crate::oidc`]).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};

use super::ApiJson;
use crate::admin;
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::oidc::OidcSettings;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/v1/tenant/oidc",
        get(show_oidc).put(set_oidc).delete(clear_oidc),
    )
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
    let saved = admin::set_tenant_oidc(state.db(), &user.tenant_id, Some(body))
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
    admin::set_tenant_oidc(state.db(), &user.tenant_id, None).await?;
    state.auth().oidc.invalidate_tenants();
    Ok(StatusCode::NO_CONTENT)
}
