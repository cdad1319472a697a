//! The tenant's users for its admins (`/api/v1/users`): list, invite with a role, change the
//! role, disable and enable, reset the password. Every change is audit-logged by
//! [`crate::accounts`] in the transaction of the change.
//!
//! An invitation and a reset answer a one-time password generated here (the server never
//! keeps it, only its hash): the admin hands it over, so no weak password is ever chosen
//! for someone else. Disabling or resetting ends the user's browser sessions at once; her
//! tokens stop working because every request checks the user again. An admin cannot
//! disable or demote herself, so a tenant is never left without the one who noticed.

use axum::extract::{FromRef, State};
use axum::http::header;
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts::{self, Role, UserChange, UserEntry};
use crate::auth::{end_sessions_of, AuthUser, Authenticator};
use crate::kit::error::{ApiError, ApiResult};
use crate::kit::ids::{random_bytes, UserId};
use crate::kit::json::{ApiJson, ApiPath};

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Authenticator: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list, invite))
        .routes(routes!(change))
        .routes(routes!(reset_password))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserList {
    pub users: Vec<UserEntry>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Invitation {
    pub email: String,
    /// `sender` (default), `privacy_officer` or `admin`.
    pub role: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// `sender`, `privacy_officer` or `admin`.
    pub role: Option<String>,
    /// `true` disables the account (no sign-in, no tokens), `false` enables it again.
    pub disabled: Option<bool>,
}

/// A user with a password to hand over once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WithPassword {
    pub user: UserEntry,
    /// Shown once; the user signs in with it (only its hash is stored).
    pub one_time_password: String,
}

fn role_named(name: &str) -> ApiResult<Role> {
    Role::from_name(name.trim()).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "role: expected sender, privacy_officer or admin, got '{name}'"
        ))
    })
}

/// 24 characters from 144 random bits.
fn one_time_password() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<18>())
}

/// The tenant's users.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = UserList), (status = 403, description = "Not an admin")))]
pub async fn list(State(auth): State<Authenticator>, user: AuthUser) -> ApiResult<Json<UserList>> {
    user.require_admin()?;
    Ok(Json(UserList {
        users: accounts::list_users(auth.db(), &user.tenant_id).await?,
    }))
}

/// Invites a user with a role; answers the one-time password to hand over.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    request_body = Invitation,
    responses((status = 201, body = WithPassword), (status = 400, description = "Invalid address or role"),
        (status = 403, description = "Not an admin"), (status = 409, description = "Already a user")))]
pub async fn invite(
    State(auth): State<Authenticator>,
    user: AuthUser,
    ApiJson(body): ApiJson<Invitation>,
) -> ApiResult<(
    axum::http::StatusCode,
    [(header::HeaderName, &'static str); 1],
    Json<WithPassword>,
)> {
    user.require_admin()?;
    let role = body.role.as_deref().map(role_named).transpose()?;
    let password = one_time_password();
    let entry = accounts::invite_user_by(
        auth.db(),
        &user.tenant_id,
        &body.email,
        role.unwrap_or(Role::Sender),
        &password,
        &user.actor(),
    )
    .await?;
    Ok((
        axum::http::StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(WithPassword {
            user: entry,
            one_time_password: password,
        }),
    ))
}

/// Changes a user's role, or disables or enables the account.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")), request_body = Change,
    responses((status = 200, body = UserEntry), (status = 400, description = "Invalid role, or a change to oneself"),
        (status = 403, description = "Not an admin"), (status = 404, description = "No such user in this tenant")))]
pub async fn change(
    State(auth): State<Authenticator>,
    user: AuthUser,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(body): ApiJson<Change>,
) -> ApiResult<Json<UserEntry>> {
    user.require_admin()?;
    let role = body.role.as_deref().map(role_named).transpose()?;
    if id == user.user_id && (body.disabled == Some(true) || role.is_some_and(|r| r != Role::Admin))
    {
        return Err(ApiError::BadRequest(
            "an admin cannot disable or demote herself; ask another admin".into(),
        ));
    }
    let entry = accounts::change_user_by(
        auth.db(),
        &user.tenant_id,
        &id,
        &UserChange {
            role,
            disabled: body.disabled,
        },
        &user.actor(),
    )
    .await?;
    if body.disabled == Some(true) {
        end_sessions_of(&auth, &entry.id).await?;
    }
    Ok(Json(entry))
}

/// Gives a user a new one-time password and ends her browser sessions.
#[utoipa::path(post, path = "/api/v1/users/{id}/password", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = WithPassword), (status = 403, description = "Not an admin"),
        (status = 404, description = "No such user in this tenant")))]
pub async fn reset_password(
    State(auth): State<Authenticator>,
    user: AuthUser,
    ApiPath(id): ApiPath<UserId>,
) -> ApiResult<([(header::HeaderName, &'static str); 1], Json<WithPassword>)> {
    user.require_admin()?;
    let password = one_time_password();
    let entry =
        accounts::reset_password_by(auth.db(), &user.tenant_id, &id, &password, &user.actor())
            .await?;
    end_sessions_of(&auth, &entry.id).await?;
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Json(WithPassword {
            user: entry,
            one_time_password: password,
        }),
    ))
}
