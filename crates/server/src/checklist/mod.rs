//! The set-up checklist (`GET /api/v1/tenant/checklist`, admins): what a tenant still lacks
//! for lawful use of leak detection. Recipients must be told who tracks them and how to reach
//! the controller and the DPO (GDPR Art. 13), alerts need a mail relay to reach senders
//! outside the add-in, and the pixel and transparency links must not travel in clear text.

use axum::extract::{FromRef, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts::tenant_by_id;
use crate::alerts::{self, AlertEngine};
use crate::auth::{AuthUser, Authenticator};
use crate::kit::config::PublicUrl;
use crate::kit::db::Db;
use crate::kit::error::{ApiError, ApiResult};
use crate::privacy;

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Db: FromRef<S>,
    PublicUrl: FromRef<S>,
    AlertEngine: FromRef<S>,
    Authenticator: FromRef<S>,
{
    OpenApiRouter::new().routes(routes!(checklist))
}

/// One thing lawful use needs, and whether it is in place.
#[derive(Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct Item {
    /// `organization`, `controller_contact`, `dpo`, `mail_relay` or `https`.
    pub item: String,
    pub done: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Checklist {
    pub items: Vec<Item>,
}

/// What is still missing for lawful use, in a fixed order.
#[utoipa::path(get, path = "/api/v1/tenant/checklist", tag = "tenant", security(("bearer" = [])),
    responses((status = 200, body = Checklist), (status = 403, description = "Not an admin")))]
pub async fn checklist(
    State(db): State<Db>,
    State(public_url): State<PublicUrl>,
    State(engine): State<AlertEngine>,
    user: AuthUser,
) -> ApiResult<Json<Checklist>> {
    user.require_admin()?;
    let tenant = tenant_by_id(&db, &user.tenant_id)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    let privacy = privacy::settings::load(&db, &user.tenant_id).await?;
    let alerting = alerts::tenant_settings(&db, &user.tenant_id).await?;
    let filled = |value: Option<&str>| value.is_some_and(|v| !v.trim().is_empty());
    let disclosure = &tenant.policy.disclosure;
    let items = [
        ("organization", filled(disclosure.organization.as_deref())),
        (
            "controller_contact",
            filled(privacy.controller_contact.as_deref()),
        ),
        ("dpo", filled(disclosure.dpo_contact.as_deref())),
        (
            "mail_relay",
            !alerting.smarthost.trim().is_empty() || engine.mailer().is_configured(),
        ),
        ("https", public_url.as_str().starts_with("https://")),
    ];
    Ok(Json(Checklist {
        items: items
            .into_iter()
            .map(|(item, done)| Item {
                item: item.into(),
                done,
            })
            .collect(),
    }))
}
