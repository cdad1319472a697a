//! The extractors every feature uses for what a request carries: the JSON body
//! ([`ApiJson`]), the query string ([`ApiQuery`]), the path's parameters ([`ApiPath`]) and
//! a form ([`ApiForm`]). A malformed one is the API's JSON error rather than axum's
//! plain-text rejection.
//!
//! They also refuse text that no column can hold: a NUL character (U+0000), which
//! PostgreSQL's `text` cannot store (SQLite can, so the two would differ). It is refused
//! here, with a 400 that says where it was, before a handler runs and so before any query;
//! no handler has to remember it. (Everything else a request can carry is valid UTF-8 by
//! then: JSON with an unpaired surrogate or a path that is not UTF-8 does not parse, and
//! query strings and forms decode invalid bytes to U+FFFD.)

use axum::body::{Body, Bytes};
use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::extract::{Form, FromRequest, FromRequestParts, Path, Query, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::Method;
use serde::de::DeserializeOwned;

use crate::kit::error::ApiError;

/// The 400 for a NUL character in `place` ("the JSON body", "the path", ...).
fn nul_in(place: &str) -> ApiError {
    ApiError::BadRequest(format!(
        "{place} contains a NUL character (U+0000), which no text may contain"
    ))
}

/// Whether a JSON text holds a NUL: escaped (`\u0000`) in a string or a key, or raw (which
/// is not valid JSON anyway). JSON has backslashes only inside strings, so stepping over
/// each escape as a whole finds every one (`\\u0000` is a backslash and `u0000`).
pub fn json_has_nul(json: &[u8]) -> bool {
    let mut at = 0;
    while at < json.len() {
        match json[at] {
            0 => return true,
            b'\\' => {
                if json.get(at + 1..at + 6) == Some(b"u0000".as_slice()) {
                    return true;
                }
                at += 2;
            }
            _ => at += 1,
        }
    }
    false
}

/// Whether `application/x-www-form-urlencoded` text (a query string or a form body) holds a
/// NUL in a name or a value once decoded.
pub fn form_has_nul(form: &[u8]) -> bool {
    url::form_urlencoded::parse(form)
        .any(|(name, value)| name.contains('\0') || value.contains('\0'))
}

/// `Json<T>` whose rejections are the API's JSON errors (a 400 naming the problem, or 413),
/// and which refuses a NUL anywhere in the body's strings.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // Buffered once (within the body limit), so the NUL check sees what `Json` parsed.
        let (parts, body) = req.into_parts();
        let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(|_| ApiError::PayloadTooLarge)?;
        let req = Request::from_parts(parts, Body::from(bytes.clone()));
        let value = match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => value,
            Err(JsonRejection::BytesRejection(_)) => return Err(ApiError::PayloadTooLarge),
            Err(JsonRejection::MissingJsonContentType(_)) => {
                return Err(ApiError::BadRequest(
                    "expected Content-Type: application/json".into(),
                ))
            }
            Err(rejection) => return Err(ApiError::BadRequest(rejection.body_text())),
        };
        if json_has_nul(&bytes) {
            return Err(nul_in("the JSON body"));
        }
        Ok(ApiJson(value))
    }
}

/// `Query<T>` whose rejection is the API's 400 naming the problem, and which refuses a NUL
/// in a name or value.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(value) = Query::<T>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
        if form_has_nul(parts.uri.query().unwrap_or_default().as_bytes()) {
            return Err(nul_in("the query string"));
        }
        Ok(ApiQuery(value))
    }
}

/// `Path<T>` whose rejection is the API's error (a 400 naming the parameter, for one that
/// does not parse or is not UTF-8), and which refuses a NUL in a parameter
/// (`/api/v1/messages/%00`).
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let rejected = |status: axum::http::StatusCode, text: String| {
            if status.is_server_error() {
                // A route whose parameters do not fit its handler: the server's fault.
                ApiError::Internal(anyhow::anyhow!("path parameters: {text}"))
            } else {
                ApiError::BadRequest(text)
            }
        };
        let Path(value) = Path::<T>::from_request_parts(parts, state)
            .await
            .map_err(|r| rejected(r.status(), r.body_text()))?;
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|r| rejected(r.status(), r.body_text()))?;
        if raw.iter().any(|(_, value)| value.contains('\0')) {
            return Err(nul_in("the path"));
        }
        Ok(ApiPath(value))
    }
}

/// `Form<T>` whose rejection is the API's 400 naming the problem (or 413), and which
/// refuses a NUL in a field: the body's, or the query string's for GET and HEAD (where
/// `Form` reads it).
pub struct ApiForm<T>(pub T);

impl<S, T> FromRequest<S> for ApiForm<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(|_| ApiError::PayloadTooLarge)?;
        let nul = if parts.method == Method::GET || parts.method == Method::HEAD {
            form_has_nul(parts.uri.query().unwrap_or_default().as_bytes())
        } else {
            form_has_nul(&bytes)
        };
        let req = Request::from_parts(parts, Body::from(bytes));
        let value = match Form::<T>::from_request(req, state).await {
            Ok(Form(value)) => value,
            Err(FormRejection::BytesRejection(_)) => return Err(ApiError::PayloadTooLarge),
            Err(FormRejection::InvalidFormContentType(_)) => {
                return Err(ApiError::BadRequest(
                    "expected Content-Type: application/x-www-form-urlencoded".into(),
                ))
            }
            Err(rejection) => return Err(ApiError::BadRequest(rejection.body_text())),
        };
        if nul {
            return Err(nul_in("the form"));
        }
        Ok(ApiForm(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_in_json_is_found_wherever_it_is_escaped() {
        assert!(json_has_nul(br#"{"subject": "a\u0000b"}"#));
        assert!(json_has_nul(br#"{"a\u0000": 1}"#));
        assert!(json_has_nul(br#"["\\\u0000"]"#));
        assert!(json_has_nul(b"{\"a\": \"\0\"}"));
        // An escaped backslash followed by the letters, and other escapes, are not NUL.
        assert!(!json_has_nul(br#"{"subject": "a\\u0000b"}"#));
        assert!(!json_has_nul(br#"{"subject": "\u0001\n\""}"#));
        assert!(!json_has_nul(br#"{"subject": "\u1000 \\"}"#));
        assert!(!json_has_nul(br#"{"subject": "tail\"#));
    }

    #[test]
    fn nul_in_forms_is_found_once_decoded() {
        assert!(form_has_nul(b"address=a%00b"));
        assert!(form_has_nul(b"a%00=1"));
        assert!(form_has_nul(b"x=1&lang=%00"));
        assert!(form_has_nul(b"%%00"));
        assert!(!form_has_nul(b"address=a%2500b&x=%0"));
        assert!(!form_has_nul(b""));
    }
}
