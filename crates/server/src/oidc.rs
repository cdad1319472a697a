//! Per-tenant OpenID Connect for the Outlook add-in (Microsoft Entra ID tokens via JWKS).
//! Not configured yet: every RS256 token is refused until a tenant has OIDC settings.

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub async fn authenticate(_state: &AppState, _token: &str) -> ApiResult<AuthUser> {
    Err(ApiError::Unauthorized(
        "no tenant accepts this identity provider".into(),
    ))
}
