//! The pixel, the server's hot path. `GET /p/{token}` (and any other method and path under
//! `/p/`, below): verify the token (a forged, unknown or garbled one is answered at once and
//! recorded nowhere, without touching the database) -> classify the fetch from its method and
//! headers ([`classify`]) -> cut the client's address to its network ([`network`]) -> queue
//! the hit for the writer ([`pipeline`]) -> answer the 43-byte GIF with `no-store` once the
//! hit is committed, or once that has failed or taken too long. Whatever happens, the answer
//! is the same GIF: the recipient's mail never shows a broken image, and the answer tells a
//! prober nothing.
//!
//! Every method and every path under `/p/` is answered with the same GIF: mail clients,
//! image proxies and security gateways send HEAD, OPTIONS and now and then POST, and append
//! slashes or more segments; a JSON 404 or an empty 405 would be a broken image and would
//! tell a prober which paths are special. What is recorded is what a valid token records
//! (`/p/{token}`, `/p/{token}.gif`); any other path is a token that does not verify, and
//! records nothing. A method other than GET is classed `scanner` ([`classify`]): only a GET
//! shows the image to a person.
//!
//! Only the message, the time, the class, the user-agent family and a keyed daily hash of
//! the network are stored; never an address or a user-agent string, and neither is logged.

pub mod classify;
pub mod evidence;
pub mod feed;
pub mod network;
pub mod pipeline;
pub mod token;

use axum::body::Body;
use axum::extract::{FromRef, OriginalUri, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::any;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use evidence::{ClassEvidence, Evidence, Status};
pub use feed::CommitFeed;
pub use pipeline::{Hit, Outcome, Pipeline};
pub use token::{issue as issue_token, PixelId};

use crate::kit::client;
use crate::kit::clock::Clock;

/// The smallest transparent GIF: 1x1, 43 bytes.
pub const GIF: [u8; 43] = [
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Pipeline: FromRef<S>,
    Clock: FromRef<S>,
{
    // Documented as the GET it is for, served for every method (HEAD without the body);
    // the handler sees the method. Nested at `/p/` with the same handler as the fallback,
    // so every other path under `/p/` (`/p/`, `/p/{token}/`, `/p/a/b`) is answered alike.
    let (schemas, paths, _get) = routes!(pixel);
    let pixel_paths = OpenApiRouter::new()
        .routes((schemas, paths, any(pixel)))
        .fallback(pixel);
    OpenApiRouter::new().nest("/p/", pixel_paths)
}

/// The GIF, never cached, so every view is a fetch. One header-map allocation; the body is
/// the static bytes.
pub fn gif_response() -> Response {
    let mut headers = HeaderMap::with_capacity(8);
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/gif"));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache, must-revalidate, max-age=0"),
    );
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(header::EXPIRES, HeaderValue::from_static("0"));
    let mut response = Response::new(Body::from(GIF.as_slice()));
    *response.status_mut() = StatusCode::OK;
    *response.headers_mut() = headers;
    response
}

/// The leak-detection pixel. Always a 43-byte GIF with `no-store`, for genuine, forged and
/// unknown tokens alike, for any method and any path under `/p/`, and even when the
/// database is down.
// The path is the one under the router's `/p/` nest (the document says `/p/{token}`).
#[utoipa::path(get, path = "/{token}", tag = "pixel",
    params(("token" = String, Path, description = "The pixel token from pixel_url")),
    responses((status = 200, description = "A 1x1 transparent GIF, for every method (HEAD without the body) and every path under /p/", content_type = "image/gif")))]
pub async fn pixel(
    State(pipeline): State<Pipeline>,
    State(clock): State<Clock>,
    request: Request,
) -> Response {
    // The whole path after `/p/` (the nest strips `/p` from the request's own URI) is the
    // token; the raw text is all a genuine token needs (URL-safe base64 is never
    // percent-encoded), so nothing is decoded or allocated. Any other path does not verify.
    let path = match request.extensions().get::<OriginalUri>() {
        Some(OriginalUri(uri)) => uri.path(),
        None => request.uri().path(),
    };
    let token = path.strip_prefix("/p/").unwrap_or_default();
    if let Some(pixel) = pipeline.verifier().verify(token) {
        let at = clock.now_ms();
        let headers = request.headers();
        let client = client::client_ip(
            client::peer_of(&request),
            headers,
            pipeline.trusted_proxies(),
        );
        let (class, agent) =
            classify::classify(request.method(), headers, client, pipeline.own_networks());
        let hit = Hit {
            pixel,
            at,
            class,
            agent,
            net: client.map(network::NetPrefix::of),
        };
        drop(request);
        pipeline.record(hit).await;
    }
    gif_response()
}
