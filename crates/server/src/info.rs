//! The page the disclosure links to (`info_url`): what this tracking is, for recipients.
//! A short, honest page in Dutch and English; the full transparency page with objection
//! follows the tenant's policy (issue 8).

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sqlx::Row;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/i/{id}", get(info))
}

async fn info(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    // The tenant's name when the message is known; the page is useful without it too.
    let tenant: Option<String> = sqlx::query(
        "SELECT t.name FROM messages m JOIN tenants t ON t.id = m.tenant_id WHERE m.id = $1",
    )
    .bind(&id)
    .fetch_optional(&state.db().pool)
    .await
    .ok()
    .flatten()
    .and_then(|row| row.try_get("name").ok());
    let who = tenant
        .map(|t| t.replace('&', "&amp;").replace('<', "&lt;"))
        .unwrap_or_else(|| "the sender's organisation / de organisatie van de afzender".into());
    let body = format!(
        "<!doctype html><html lang=\"nl\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>leakwatch</title><style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}}</style></head><body>\
         <h1>Lekdetectie in deze e-mail</h1>\
         <p>{who} gebruikt leakwatch om te kunnen vaststellen of een e-mail die per ongeluk bij de verkeerde ontvanger terechtkwam, is geopend. \
         Alleen daarvoor: zo kan een datalek op tijd worden gemeld (AVG artikel 33). Bewaard worden alleen het tijdstip, het soort programma \
         en een versleutelde, dagelijks wisselende aanduiding van het netwerk, nooit uw IP-adres of volledige browsergegevens.</p>\
         <h2 lang=\"en\">Leak detection in this e-mail</h2>\
         <p lang=\"en\">{who} uses leakwatch to detect whether an e-mail that reached the wrong recipient by mistake was opened, and only for that: \
         so that a data breach can be reported in time (GDPR Article 33). Only the time, the kind of program and an encrypted, daily changing \
         network marker are kept, never your IP address or full browser details.</p></body></html>"
    );
    ([(header::CACHE_CONTROL, "no-store")], Html(body)).into_response()
}
