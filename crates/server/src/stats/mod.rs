//! Figures for the dashboard's charts (`GET /api/v1/tenant/stats`, privacy officers and
//! admins): warnings shown and sent anyway per rule per week, from the findings the add-ins
//! registered, and each incident's report and decision times, from which the dashboard
//! draws incidents per month and time to decision in the tenant's time zone. Counts only:
//! no subject, address or fetch leaves here.

use std::collections::BTreeMap;

use axum::extract::{FromRef, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use leakwatch_core::{Finding, Severity};

use crate::auth::{AuthUser, Authenticator};
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
    OpenApiRouter::new().routes(routes!(stats))
}

const WEEK_MS: i64 = 7 * 24 * 3600 * 1000;
/// 1970-01-01 was a Thursday: Monday 1970-01-05 starts the weeks.
const FIRST_MONDAY_MS: i64 = 4 * 24 * 3600 * 1000;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// Weeks of warnings, counted back from now: 1 to 104 (default 12).
    pub weeks: Option<i64>,
    /// Months of incidents, counted back from now: 1 to 36 (default 12).
    pub months: Option<i64>,
}

/// Messages of one week with a warning of one rule.
#[derive(Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct WeekWarnings {
    /// Monday 00:00 UTC of the week, Unix milliseconds.
    pub week_start: i64,
    pub rule: String,
    /// Messages that showed a warning (or block) of this rule.
    pub shown: i64,
    /// Of those, sent anyway.
    pub overridden: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IncidentTimes {
    pub reported_at: i64,
    pub decided_at: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Stats {
    pub warnings: Vec<WeekWarnings>,
    pub incidents: Vec<IncidentTimes>,
}

/// The monday 00:00 UTC on or before `at`.
pub fn week_start(at: i64) -> i64 {
    FIRST_MONDAY_MS + (at - FIRST_MONDAY_MS).div_euclid(WEEK_MS) * WEEK_MS
}

fn within(name: &str, value: Option<i64>, default: i64, max: i64) -> ApiResult<i64> {
    let value = value.unwrap_or(default);
    if (1..=max).contains(&value) {
        Ok(value)
    } else {
        Err(ApiError::BadRequest(format!(
            "{name} must be from 1 to {max}; got {value}"
        )))
    }
}

/// Warnings per rule per week and incident times, for the charts.
#[utoipa::path(get, path = "/api/v1/tenant/stats", tag = "tenant", security(("bearer" = [])),
    params(StatsQuery),
    responses((status = 200, body = Stats), (status = 400, description = "A range outside its bounds"),
        (status = 403, description = "Neither a privacy officer nor an admin")))]
pub async fn stats(
    State(db): State<Db>,
    State(clock): State<Clock>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<StatsQuery>,
) -> ApiResult<Json<Stats>> {
    if !user.role.keeps_register() {
        return Err(ApiError::Forbidden(
            "the figures are for privacy officers and admins".into(),
        ));
    }
    let weeks = within("weeks", q.weeks, 12, 104)?;
    let months = within("months", q.months, 12, 36)?;
    let now = clock.now_ms();
    let since = week_start(now) - (weeks - 1) * WEEK_MS;
    let rows = sqlx::query(
        "SELECT findings, overridden, created_at FROM messages WHERE tenant_id = $1 AND created_at >= $2",
    )
    .bind(&user.tenant_id)
    .bind(since)
    .fetch_all(&db.pool)
    .await?;
    let mut counts: BTreeMap<(i64, String), (i64, i64)> = BTreeMap::new();
    for row in &rows {
        let findings: String = row.try_get("findings")?;
        let overridden = row.try_get::<i64, _>("overridden")? != 0;
        let week = week_start(row.try_get("created_at")?);
        // Rows were written by this server from validated findings; one that no longer
        // parses (an older format) counts as none rather than failing the chart.
        let findings: Vec<Finding> = serde_json::from_str(&findings).unwrap_or_default();
        let mut rules: Vec<&str> = findings
            .iter()
            .filter(|f| f.severity >= Severity::Warn)
            .map(|f| f.rule.as_str())
            .collect();
        rules.sort_unstable();
        rules.dedup();
        for rule in rules {
            let entry = counts.entry((week, rule.to_string())).or_default();
            entry.0 += 1;
            entry.1 += i64::from(overridden);
        }
    }
    let warnings = counts
        .into_iter()
        .map(|((week_start, rule), (shown, overridden))| WeekWarnings {
            week_start,
            rule,
            shown,
            overridden,
        })
        .collect();
    let incidents = sqlx::query(
        "SELECT created_at, decided_at FROM incidents WHERE tenant_id = $1 AND created_at >= $2 ORDER BY created_at",
    )
    .bind(&user.tenant_id)
    .bind(now - months * 31 * 24 * 3600 * 1000)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|row| {
        Ok(IncidentTimes {
            reported_at: row.try_get("created_at")?,
            decided_at: row.try_get("decided_at")?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Json(Stats {
        warnings,
        incidents,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday_utc() {
        // 2026-12-02 (a Wednesday) 15:00 UTC -> Monday 2026-11-30 00:00 UTC.
        assert_eq!(week_start(1_796_223_600_000), 1_795_996_800_000);
        assert_eq!(week_start(1_795_996_800_000), 1_795_996_800_000);
        assert_eq!(week_start(1_795_996_799_999), 1_795_996_800_000 - WEEK_MS);
    }
}
