//! `/healthz` (the database answers), `/readyz` (ready for traffic), `/metrics` (Prometheus).

use axum::extract::{FromRef, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::kit::db::Db;
use crate::pixel::Pipeline;

/// The Prometheus recorder's handle, when one is installed.
#[derive(Clone, Default)]
pub struct Metrics(pub Option<PrometheusHandle>);

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Db: FromRef<S>,
    Pipeline: FromRef<S>,
    Metrics: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

/// 200 when the server can reach its database.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "The database answers"), (status = 503, description = "The database does not answer")))]
pub async fn healthz(State(db): State<Db>) -> Response {
    if db.ping().await {
        (StatusCode::OK, Json(json!({"status": "ok"}))).into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"error": {"code": "unavailable", "message": "the database does not answer"}}))).into_response()
    }
}

/// 200 when the database answers and the pixel pipeline is running.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, description = "Ready"), (status = 503, description = "Not ready")))]
pub async fn readyz(State(db): State<Db>, State(pixel): State<Pipeline>) -> Response {
    let database = db.ping().await;
    let pixel = pixel.is_running();
    let status = if database && pixel {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({"database": database, "pixel_pipeline": pixel})),
    )
        .into_response()
}

/// Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus metrics", content_type = "text/plain")))]
pub async fn metrics(State(Metrics(handle)): State<Metrics>) -> Response {
    let body = handle.map(|m| m.render()).unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
