//! The caller's tenant's check policy (`/api/v1/tenant/policy`), which the add-ins fetch,
//! cache and check with at send time; admins replace it. The policy is stored with the
//! tenant ([`crate::accounts`]); this is its HTTP side, above authentication (which itself
//! stands on the account store).

use axum::extract::{FromRef, State};
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts;
use crate::auth::{AuthUser, Authenticator};
use crate::kit::db::Db;
use crate::kit::error::{ApiError, ApiResult};
use crate::kit::json::ApiJson;

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Db: FromRef<S>,
    Authenticator: FromRef<S>,
{
    OpenApiRouter::new().routes(routes!(show_policy, set_policy))
}

/// The tenant's check policy, which the add-ins fetch, cache and check with at send time.
#[utoipa::path(get, path = "/api/v1/tenant/policy", tag = "tenant", security(("bearer" = [])),
    responses((status = 200, description = "The policy (see the README's policy table)", body = Object),
        (status = 401, description = "Not signed in")))]
pub async fn show_policy(
    State(db): State<Db>,
    user: AuthUser,
) -> ApiResult<Json<leakwatch_core::Policy>> {
    let tenant = accounts::tenant_by_id(&db, &user.tenant_id)
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
    State(db): State<Db>,
    user: AuthUser,
    ApiJson(policy): ApiJson<leakwatch_core::Policy>,
) -> ApiResult<Json<leakwatch_core::Policy>> {
    user.require_admin()?;
    let policy = accounts::ValidPolicy::try_from(policy)?;
    accounts::set_tenant_policy(&db, &user.tenant_id, &policy, &user.actor()).await?;
    Ok(Json(policy.into_policy()))
}
