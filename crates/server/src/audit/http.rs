//! `GET /api/v1/audit` (admins): the tenant's audit log, oldest first, filtered by time,
//! action and target, paged by `seq`; as JSON pages or, with `?format=csv`, a CSV export.
//! An export is itself recorded in the log (`audit_exported`), with its filters and size.

use axum::extract::{FromRef, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Entry;
use crate::auth::{AuthUser, Authenticator};
use crate::kit::audit::{self, Action};
use crate::kit::clock::Clock;
use crate::kit::db::Db;
use crate::kit::error::{ApiError, ApiResult};
use crate::kit::json::ApiQuery;

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Db: FromRef<S>,
    Clock: FromRef<S>,
    Authenticator: FromRef<S>,
{
    OpenApiRouter::new().routes(routes!(list))
}

/// Entries per JSON page by default, and at most.
pub const PAGE_DEFAULT: i64 = 100;
pub const PAGE_MAX: i64 = 1_000;
/// Entries per CSV export at most (page on with `after` for more).
pub const EXPORT_MAX: i64 = 100_000;

/// One page of the log.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    pub entries: Vec<Entry>,
    /// The `seq` to pass as `after` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_after: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    since: Option<String>,
    until: Option<String>,
    action: Option<String>,
    target: Option<String>,
    after: Option<String>,
    limit: Option<String>,
    format: Option<String>,
}

/// A time parameter: Unix milliseconds, or RFC 3339.
fn time(name: &str, text: &str) -> ApiResult<i64> {
    let text = text.trim();
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    leakwatch_core::history::parse_rfc3339(text)
        .map(|s| s * 1000)
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "{name}: expected Unix milliseconds or an RFC 3339 time, got '{text}'"
            ))
        })
}

fn number(name: &str, text: &str) -> ApiResult<i64> {
    text.trim()
        .parse::<i64>()
        .map_err(|_| ApiError::BadRequest(format!("{name}: expected a whole number")))
}

/// The tenant's audit log (admins).
#[utoipa::path(get, path = "/api/v1/audit", tag = "privacy", security(("bearer" = [])),
    params(
        ("since" = Option<String>, Query, description = "Entries at or after this time (Unix ms or RFC 3339)"),
        ("until" = Option<String>, Query, description = "Entries at or before this time (Unix ms or RFC 3339)"),
        ("action" = Option<String>, Query, description = "Only this action, e.g. policy_changed, evidence_viewed"),
        ("target" = Option<String>, Query, description = "Only entries about this object id"),
        ("after" = Option<i64>, Query, description = "Only entries with a greater seq (paging)"),
        ("limit" = Option<i64>, Query, description = "Entries per page: JSON 1..1000 (default 100), CSV up to 100000"),
        ("format" = Option<String>, Query, description = "json (default) or csv (an export, itself audit-logged)"),
    ),
    responses((status = 200, description = "A page of entries, or the CSV export", body = AuditPage),
        (status = 400, description = "Invalid filter"), (status = 403, description = "Neither a privacy officer nor an admin")))]
pub async fn list(
    State(db): State<Db>,
    State(clock): State<Clock>,
    user: AuthUser,
    ApiQuery(params): ApiQuery<Params>,
) -> ApiResult<Response> {
    user.require_privacy_officer()?;
    let csv = match params.format.as_deref().map(str::trim) {
        None | Some("") | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "format: expected json or csv, got '{other}'"
            )))
        }
    };
    let (default, max) = if csv {
        (EXPORT_MAX, EXPORT_MAX)
    } else {
        (PAGE_DEFAULT, PAGE_MAX)
    };
    let limit = match &params.limit {
        Some(l) => number("limit", l)?,
        None => default,
    };
    if !(1..=max).contains(&limit) {
        return Err(ApiError::BadRequest(format!("limit: must be 1 to {max}")));
    }
    let filter = super::Query {
        after: params
            .after
            .as_deref()
            .map(|a| number("after", a))
            .transpose()?,
        since_ms: params
            .since
            .as_deref()
            .map(|t| time("since", t))
            .transpose()?,
        until_ms: params
            .until
            .as_deref()
            .map(|t| time("until", t))
            .transpose()?,
        action: params.action.clone().filter(|a| !a.trim().is_empty()),
        target_id: params.target.clone().filter(|t| !t.trim().is_empty()),
        limit: Some(limit),
    };
    let entries = super::list(&db, &user.tenant_id, &filter).await?;
    let next_after = (entries.len() as i64 == limit)
        .then(|| entries.last().map(|e| e.seq))
        .flatten();
    if !csv {
        return Ok(Json(AuditPage {
            entries,
            next_after,
        })
        .into_response());
    }
    let now = clock.now_ms();
    audit::record(
        &db.pool,
        &user.tenant_id,
        &user.actor(),
        Action::AuditExported,
        ("audit_log", user.tenant_id.as_str()),
        serde_json::json!({
            "rows": entries.len(),
            "since": filter.since_ms, "until": filter.until_ms,
            "action": filter.action, "target": filter.target_id, "after": filter.after,
        }),
        now,
    )
    .await?;
    let body = to_csv(&entries);
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    let date = &crate::kit::time::rfc3339(now)[..10];
    if let Ok(value) = HeaderValue::from_str(&format!(
        "attachment; filename=\"leakwatch-audit-{date}.csv\""
    )) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(next) = next_after {
        headers.insert("x-next-after", HeaderValue::from(next));
    }
    Ok(response)
}

/// RFC 4180 CSV with a header row, CRLF line ends. Cells that a spreadsheet would take for
/// a formula (`=`, `+`, `-`, `@`, tab, CR first) get a leading `'`.
pub fn to_csv(entries: &[Entry]) -> String {
    let mut out = String::from("seq,at,actor,actor_id,action,target_type,target_id,detail\r\n");
    for e in entries {
        let cells = [
            e.seq.to_string(),
            crate::kit::time::rfc3339(e.at),
            e.actor.clone(),
            e.actor_id.clone().unwrap_or_default(),
            e.action.clone(),
            e.target_type.clone(),
            e.target_id.clone(),
            e.detail.to_string(),
        ];
        let line: Vec<String> = cells.iter().map(|c| cell(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

fn cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let entry = Entry {
            seq: 7,
            at: 0,
            actor_id: None,
            actor: "=HYPERLINK(\"x\")".into(),
            action: "policy_changed".into(),
            target_type: "tenant".into(),
            target_id: "t,1".into(),
            detail: serde_json::json!({"a": "b\"c"}),
        };
        let csv = to_csv(&[entry]);
        let mut lines = csv.split("\r\n");
        assert_eq!(
            lines.next(),
            Some("seq,at,actor,actor_id,action,target_type,target_id,detail")
        );
        assert_eq!(
            lines.next(),
            Some(
                "7,1970-01-01T00:00:00.000Z,\"'=HYPERLINK(\"\"x\"\")\",,policy_changed,tenant,\"t,1\",\"{\"\"a\"\":\"\"b\\\"\"c\"\"}\""
            )
        );
    }

    #[test]
    fn query_strings_decode() {
        let uri: axum::http::Uri =
            "/api/v1/audit?since=2026-01-01T00%3A00%3A00Z&action=policy_changed&x=1&limit=5"
                .parse()
                .unwrap();
        let axum::extract::Query(p) = axum::extract::Query::<Params>::try_from_uri(&uri).unwrap();
        assert_eq!(p.since.as_deref(), Some("2026-01-01T00:00:00Z"));
        assert_eq!(p.action.as_deref(), Some("policy_changed"));
        assert_eq!(p.limit.as_deref(), Some("5"));
        // A malformed escape is kept as written, so the time check refuses it.
        let uri: axum::http::Uri = "/api/v1/audit?since=%zz".parse().unwrap();
        let axum::extract::Query(p) = axum::extract::Query::<Params>::try_from_uri(&uri).unwrap();
        assert!(time("since", p.since.as_deref().unwrap()).is_err());
        assert_eq!(
            time("since", "2026-01-01T00:00:00Z").unwrap(),
            1_767_225_600_000
        );
        assert_eq!(time("since", "123").unwrap(), 123);
        assert!(time("since", "yesterday").is_err());
    }
}
