//! The pixel: `GET /p/{token}` always answers the same 43-byte GIF with `no-store`.
//! (First stage: tokens are verified, fetches are not recorded yet.)

pub mod classify;
pub mod network;
pub mod token;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::state::AppState;

/// The smallest transparent GIF: 1x1, 43 bytes.
pub const GIF: [u8; 43] = [
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

/// The recording pipeline (group commit); a handle shared by the handlers.
#[derive(Clone, Default)]
pub struct Pipeline;

impl Pipeline {
    pub async fn start(
        _db: crate::db::Db,
        _config: &crate::config::Config,
        _keys: &crate::keys::Keys,
    ) -> anyhow::Result<Pipeline> {
        Ok(Pipeline)
    }

    pub async fn shutdown(&self) {}

    pub fn is_running(&self) -> bool {
        true
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/p/{token}", get(pixel).head(pixel))
}

pub fn gif_response() -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/gif")),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-store, no-cache, must-revalidate, max-age=0"),
            ),
            (header::PRAGMA, HeaderValue::from_static("no-cache")),
            (header::EXPIRES, HeaderValue::from_static("0")),
        ],
        GIF.as_slice(),
    )
        .into_response()
}

/// The leak-detection pixel. Always a 43-byte GIF with `no-store`, for genuine, forged and
/// unknown tokens alike, and even when the database is down.
#[utoipa::path(get, path = "/p/{token}", tag = "pixel",
    params(("token" = String, Path, description = "The pixel token from pixel_url")),
    responses((status = 200, description = "A 1x1 transparent GIF", content_type = "image/gif")))]
pub async fn pixel(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let _ = token::verify(&state.keys().pixel.secret, &token);
    gif_response()
}
