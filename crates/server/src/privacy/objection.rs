//! Objection (GDPR Art. 21): a recipient says "do not track e-mail to me" on the
//! transparency page, and confirms through a link mailed to that address, so that nobody
//! can object in someone else's name.
//!
//! - `POST /i/{id}/objection` (the page's form): rate-limited per client network and per
//!   address; stores a request (the SHA-256 of a random token, the tenant, the address's
//!   keyed hash, an expiry) and mails the link `/i/confirm/{token}`. The address itself is
//!   never stored, only used to send that one mail.
//! - `GET /i/confirm/{token}` shows a button; `POST` confirms. A GET alone never confirms:
//!   mail security scanners open links in mail by themselves.
//! - Confirming (once, before the link expires) stores the objection for the tenant (the
//!   controller). From then on, registering a message to that recipient gives
//!   `track: false` ([`unless_objected`]): the add-in inserts the disclosure without the
//!   pixel.
//! - Mail already sent to the recipient stays recorded until its retention period ends
//!   (ADR 0013): the one who objects may be the wrong recipient of a misdirected mail, and
//!   stopping its recording would end the leak investigation before anyone reported it
//!   (Art. 21(1): compelling legitimate grounds). Its records are looked at only if the
//!   e-mail is reported as misdirected, and deleted with the rest otherwise.

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use leakwatch_core::address::{parse_addr_spec, Address};
use leakwatch_core::Lang;

use super::page::{render, Controller, FormState};
use super::PrivacyState;
use crate::kit::audit::{self, Action, Actor};
use crate::kit::client::ClientAddr;
use crate::kit::error::ApiError;
use crate::kit::html::{respond, PageLang, Shell};
use crate::kit::ids::random_bytes;
use crate::kit::ids::TenantId;
use crate::kit::json::{ApiForm, ApiPath};
use crate::kit::mail::{Mailer, OutgoingMail};
use crate::kit::ratelimit::{ip_key, SharedLimiter};
use crate::kit::time::now_ms;

/// The longest address accepted (RFC 5321 path limit).
const MAX_ADDRESS_LEN: usize = 320;
/// Rows per `IN (...)` list.
const CHUNK: usize = 100;

#[derive(Debug, Default, Deserialize)]
pub struct ObjectionForm {
    #[serde(default)]
    pub address: String,
}

/// The keyed hash of an address for a tenant.
fn address_hash(state: &PrivacyState, tenant_id: &TenantId, address: &Address) -> String {
    state
        .privacy()
        .hasher()
        .hash(tenant_id.as_str(), &address.canonical())
}

fn token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// At registration: `decision` (the policy's), unless a recipient objected; then no pixel,
/// and a reason that says so without naming who.
pub async fn unless_objected(
    state: &PrivacyState,
    tenant_id: &TenantId,
    recipients: &[Address],
    lang: Lang,
    decision: (bool, String),
) -> Result<(bool, String), ApiError> {
    if !decision.0 {
        return Ok(decision);
    }
    let mut hashes: Vec<String> = recipients
        .iter()
        .map(|a| address_hash(state, tenant_id, a))
        .collect();
    hashes.sort_unstable();
    hashes.dedup();
    for chunk in hashes.chunks(CHUNK) {
        let sql = format!(
            "SELECT COUNT(*) FROM objections WHERE tenant_id = $1 AND address_hash IN ({})",
            (2..chunk.len() + 2)
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut query = sqlx::query_scalar::<_, i64>(&sql).bind(tenant_id);
        for hash in chunk {
            query = query.bind(hash);
        }
        if query.fetch_one(&state.db().pool).await? > 0 {
            return Ok((
                false,
                lang.pick(
                    "Not tracked: a recipient has objected to tracking (GDPR Art. 21). Add the disclosure without a pixel.",
                    "Niet gevolgd: een ontvanger heeft bezwaar gemaakt tegen volgen (AVG art. 21). Voeg de melding toe zonder pixel.",
                )
                .to_string(),
            ));
        }
    }
    Ok(decision)
}

/// The form on the transparency page.
#[utoipa::path(post, path = "/i/{id}/objection", tag = "privacy",
    params(("id" = String, Path, description = "Message id"), ("lang" = Option<String>, Query, description = "nl or en")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "address=the recipient's e-mail address"),
    responses((status = 200, description = "A confirmation link was sent (HTML)", content_type = "text/html"),
        (status = 400, description = "Not an e-mail address (the form again); a body that is not the form, or a NUL character: the API's JSON error"),
        (status = 429, description = "Too many requests from this network or for this address"),
        (status = 503, description = "No mail can be sent now")))]
pub async fn request(
    State(state): State<PrivacyState>,
    ApiPath(id): ApiPath<String>,
    PageLang(lang): PageLang,
    ClientAddr(client): ClientAddr,
    ApiForm(form): ApiForm<ObjectionForm>,
) -> Response {
    let privacy = state.privacy();
    let client_key = client.map(ip_key).unwrap_or_else(|| "unknown".into());
    if let Err(refused) = admit(&privacy.ip_limiter, &state, &client_key, lang).await {
        return refused;
    }
    let controller = match Controller::of_message(state.db(), &id).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "objection: cannot look up the message");
            return unavailable(lang);
        }
    };
    let typed = form.address.trim();
    // The core's parser (as recipients are matched) and the mailer's own: an address the
    // mailer cannot write to is refused here, before anything is stored for it.
    let address = (typed.len() <= MAX_ADDRESS_LEN
        && !typed.contains(char::is_whitespace)
        && Mailer::can_address(typed))
    .then(|| parse_addr_spec(typed).ok())
    .flatten();
    let Some(address) = address else {
        let error = lang.pick(
            "That is not an e-mail address. Enter it as name@example.org.",
            "Dat is geen e-mailadres. Vul het in als naam@voorbeeld.nl.",
        );
        let page = render(
            controller.as_ref(),
            lang,
            controller.as_ref().map(|_| id.as_str()).unwrap_or(""),
            state.mailer().is_configured(),
            Some(FormState {
                address: typed,
                error,
            }),
        );
        return respond(StatusCode::BAD_REQUEST, lang, &page);
    };
    let Some(controller) = controller else {
        // No such message: the same answer as for a real one, and no mail.
        return sent(lang, typed, &id, hours(privacy.link_ttl_ms));
    };
    if !state.mailer().is_configured() {
        let page = render(Some(&controller), lang, &id, false, None);
        return respond(StatusCode::SERVICE_UNAVAILABLE, lang, &page);
    }
    let hash = address_hash(&state, &controller.tenant_id, &address);
    match was_recipient(&state, &controller.tenant_id, &id, &hash).await {
        Ok(true) => {}
        // Not a recipient of this message: the same answer as for one, and no mail, so the
        // form cannot be used to mail anyone, nor to learn who received the message.
        Ok(false) => return sent(lang, typed, &id, hours(privacy.link_ttl_ms)),
        Err(e) => {
            tracing::error!(error = %e, "objection: cannot read the message's recipients");
            return unavailable(lang);
        }
    }
    let address_key = format!("{}:{hash}", controller.tenant_id);
    if let Err(refused) = admit(&privacy.address_limiter, &state, &address_key, lang).await {
        return refused;
    }
    let token = URL_SAFE_NO_PAD.encode(random_bytes::<32>());
    let now = state.clock().now_ms();
    let stored = sqlx::query(
        "INSERT INTO objection_requests (token_hash, tenant_id, address_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash(&token))
    .bind(&controller.tenant_id)
    .bind(&hash)
    .bind(now)
    .bind(now + privacy.link_ttl_ms)
    .execute(&state.db().pool)
    .await;
    if let Err(e) = stored {
        tracing::error!(error = %e, "objection: cannot store the request");
        return unavailable(lang);
    }
    let link = format!(
        "{}/i/confirm/{token}?lang={}",
        state.public_url(),
        lang.code()
    );
    let mail = confirmation_mail(
        lang,
        &controller.name,
        typed,
        &link,
        hours(privacy.link_ttl_ms),
    );
    if let Err(e) = state.mailer().send(&mail).await {
        // Not the address: it is the recipient's, and it is not kept anywhere.
        tracing::warn!(error = %e, tenant = %controller.tenant_id, "objection: the confirmation mail was not sent");
        // The request's link never left: the row goes, so nothing is left of the attempt.
        let dropped = sqlx::query("DELETE FROM objection_requests WHERE token_hash = $1")
            .bind(token_hash(&token))
            .execute(&state.db().pool)
            .await;
        if let Err(e) = dropped {
            tracing::error!(error = %e, "objection: cannot remove the request of an unsent link");
        }
        return if e.is_transient() {
            mail_failed(lang)
        } else {
            mail_refused(lang, &id)
        };
    }
    sent(lang, typed, &id, hours(privacy.link_ttl_ms))
}

fn hours(ms: i64) -> i64 {
    (ms / 3_600_000).max(1)
}

/// One line of plain text (for a subject).
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn confirmation_mail(lang: Lang, org: &str, to: &str, link: &str, hours: i64) -> OutgoingMail {
    let org = one_line(org);
    let subject = lang
        .pick(
            "Confirm your objection to tracking by {org}",
            "Bevestig uw bezwaar tegen volgen door {org}",
        )
        .replace("{org}", &org);
    let text = lang
        .pick(
            "Someone, probably you, asked on the privacy page of {org} that e-mail from {org} to this address is no longer tracked for leak detection.\r\n\r\n\
             To confirm, open this link within {hours} hours and press the button:\r\n\r\n{link}\r\n\r\n\
             If you did not ask for this, ignore this e-mail: nothing changes.\r\n\r\n\
             Your address is not stored, only a code computed from it with a secret key, from which it cannot be read back.\r\n",
            "Iemand, waarschijnlijk u, heeft op de privacypagina van {org} gevraagd om e-mail van {org} aan dit adres niet meer te volgen voor lekdetectie.\r\n\r\n\
             Open ter bevestiging binnen {hours} uur deze link en druk op de knop:\r\n\r\n{link}\r\n\r\n\
             Hebt u dit niet gevraagd? Negeer dan deze e-mail; er verandert niets.\r\n\r\n\
             Uw adres wordt niet bewaard, alleen een code die er met een geheime sleutel uit is berekend en waaruit het niet terug te halen is.\r\n",
        )
        .replace("{org}", &org)
        .replace("{hours}", &hours.to_string())
        .replace("{link}", link);
    OutgoingMail {
        to: to.to_string(),
        subject,
        text,
        html: None,
    }
}

/// The objection's short pages (`templates/privacy/notice.html`): the heading is the
/// title; the lead and the card follow the kind.
#[derive(Template)]
#[template(path = "privacy/notice.html")]
struct Notice {
    shell: Shell,
    kind: NoticeKind,
}

enum NoticeKind {
    Sent {
        address: String,
        message_id: String,
        hours: i64,
    },
    TooMany,
    Unavailable,
    MailFailed,
    /// Mail to the address is refused for good; `page` is the privacy page to go back to.
    MailRefused {
        page: String,
    },
    InvalidLink,
    Confirm {
        org: String,
    },
    Confirmed {
        org: String,
    },
}

fn notice(status: StatusCode, lang: Lang, heading: &str, kind: NoticeKind) -> Response {
    let page = Notice {
        shell: Shell::privacy(lang, heading, None),
        kind,
    };
    respond(status, lang, &page)
}

fn sent(lang: Lang, address: &str, message_id: &str, hours: i64) -> Response {
    notice(
        StatusCode::OK,
        lang,
        lang.pick("Check your mailbox", "Kijk in uw mailbox"),
        NoticeKind::Sent {
            address: address.to_string(),
            message_id: message_id.to_string(),
            hours,
        },
    )
}

/// Takes a token of `limiter` for `key`, or the page that refuses the request: 429 when the
/// budget is spent, 503 when the limit cannot be checked (never unlimited).
async fn admit(
    limiter: &SharedLimiter,
    state: &PrivacyState,
    key: &str,
    lang: Lang,
) -> Result<(), Response> {
    match limiter.take(state.db(), key, now_ms()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(wait)) => Err(too_many(lang, wait.as_secs())),
        Err(e) => {
            tracing::error!(error = %e, "objection: cannot check the rate limit");
            Err(unavailable(lang))
        }
    }
}

fn too_many(lang: Lang, retry_after: u64) -> Response {
    let mut response = notice(
        StatusCode::TOO_MANY_REQUESTS,
        lang,
        lang.pick("Too many requests", "Te veel verzoeken"),
        NoticeKind::TooMany,
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after.max(1)));
    response
}

fn unavailable(lang: Lang) -> Response {
    notice(
        StatusCode::SERVICE_UNAVAILABLE,
        lang,
        lang.pick("Not available right now", "Nu niet beschikbaar"),
        NoticeKind::Unavailable,
    )
}

fn mail_failed(lang: Lang) -> Response {
    notice(
        StatusCode::SERVICE_UNAVAILABLE,
        lang,
        lang.pick(
            "The e-mail could not be sent",
            "De e-mail kon niet worden verstuurd",
        ),
        NoticeKind::MailFailed,
    )
}

/// The relay will not take mail for the address, now or later (an address with letters
/// outside ASCII before the @ needs a relay with SMTPUTF8, say): trying again cannot help.
fn mail_refused(lang: Lang, message_id: &str) -> Response {
    notice(
        StatusCode::UNPROCESSABLE_ENTITY,
        lang,
        lang.pick(
            "This address cannot receive the confirmation link",
            "Dit adres kan de bevestigingslink niet ontvangen",
        ),
        NoticeKind::MailRefused {
            page: format!("/i/{message_id}?lang={}", lang.code()),
        },
    )
}

/// Whether an address (its keyed hash) is one of the message's recipients (to, cc or bcc).
async fn was_recipient(
    state: &PrivacyState,
    tenant_id: &TenantId,
    message_id: &str,
    hash: &str,
) -> Result<bool, sqlx::Error> {
    let recipients: Option<String> =
        sqlx::query_scalar("SELECT recipients FROM messages WHERE id = $1 AND tenant_id = $2")
            .bind(message_id)
            .bind(tenant_id)
            .fetch_optional(&state.db().pool)
            .await?;
    let value: serde_json::Value = recipients
        .and_then(|r| serde_json::from_str(&r).ok())
        .unwrap_or_default();
    Ok(["to", "cc", "bcc"]
        .iter()
        .flat_map(|field| value[field].as_array().cloned().unwrap_or_default())
        .filter_map(|r| serde_json::from_value::<leakwatch_core::Recipient>(r).ok())
        .filter_map(|r| leakwatch_core::address::parse_recipient(&r).ok())
        .any(|a| address_hash(state, tenant_id, &a) == hash))
}

/// A pending request, found by its token.
struct Pending {
    tenant_id: TenantId,
    address_hash: String,
    expires_at: i64,
    confirmed_at: Option<i64>,
}

async fn pending(state: &PrivacyState, token: &str) -> Result<Option<Pending>, sqlx::Error> {
    if token.is_empty() || token.len() > 64 {
        return Ok(None);
    }
    let row = sqlx::query(
        "SELECT tenant_id, address_hash, expires_at, confirmed_at FROM objection_requests WHERE token_hash = $1",
    )
    .bind(token_hash(token))
    .fetch_optional(&state.db().pool)
    .await?;
    row.map(|row| {
        Ok(Pending {
            tenant_id: row.try_get("tenant_id")?,
            address_hash: row.try_get("address_hash")?,
            expires_at: row.try_get("expires_at")?,
            confirmed_at: row.try_get("confirmed_at")?,
        })
    })
    .transpose()
}

fn invalid_link(lang: Lang, status: StatusCode) -> Response {
    notice(
        status,
        lang,
        lang.pick(
            "This link is not valid any more",
            "Deze link is niet meer geldig",
        ),
        NoticeKind::InvalidLink,
    )
}

/// The confirmation link: a page with the button that confirms.
#[utoipa::path(get, path = "/i/confirm/{token}", tag = "privacy",
    params(("token" = String, Path, description = "The token of the mailed link"), ("lang" = Option<String>, Query, description = "nl or en")),
    responses((status = 200, description = "A page with the button that confirms (HTML)", content_type = "text/html"),
        (status = 404, description = "No such link"), (status = 410, description = "Expired or already used")))]
pub async fn confirm_page(
    State(state): State<PrivacyState>,
    ApiPath(token): ApiPath<String>,
    PageLang(lang): PageLang,
) -> Response {
    let found = match pending(&state, &token).await {
        Ok(found) => found,
        Err(e) => {
            tracing::error!(error = %e, "objection: cannot look up a confirmation link");
            return unavailable(lang);
        }
    };
    let Some(request) = found else {
        return invalid_link(lang, StatusCode::NOT_FOUND);
    };
    if request.confirmed_at.is_some() || request.expires_at <= state.clock().now_ms() {
        return invalid_link(lang, StatusCode::GONE);
    }
    let org = organisation(&state, &request.tenant_id, lang).await;
    notice(
        StatusCode::OK,
        lang,
        lang.pick("Confirm your objection", "Bevestig uw bezwaar"),
        NoticeKind::Confirm { org },
    )
}

async fn organisation(state: &PrivacyState, tenant_id: &TenantId, lang: Lang) -> String {
    match Controller::of_tenant(state.db(), tenant_id).await {
        Ok(Some(c)) => c.name,
        _ => lang.pick("the organisation", "de organisatie").to_string(),
    }
}

/// Confirms an objection: once, before the link expires.
#[utoipa::path(post, path = "/i/confirm/{token}", tag = "privacy",
    params(("token" = String, Path, description = "The token of the mailed link"), ("lang" = Option<String>, Query, description = "nl or en")),
    responses((status = 200, description = "The objection is stored (HTML)", content_type = "text/html"),
        (status = 404, description = "No such link"), (status = 410, description = "Expired or already used")))]
pub async fn confirm(
    State(state): State<PrivacyState>,
    ApiPath(token): ApiPath<String>,
    PageLang(lang): PageLang,
) -> Response {
    match confirm_token(&state, &token).await {
        Ok(Confirmed::Done { tenant_id, .. }) => {
            let org = organisation(&state, &tenant_id, lang).await;
            notice(
                StatusCode::OK,
                lang,
                lang.pick("Your objection is recorded", "Uw bezwaar is vastgelegd"),
                NoticeKind::Confirmed { org },
            )
        }
        Ok(Confirmed::Unknown) => invalid_link(lang, StatusCode::NOT_FOUND),
        Ok(Confirmed::Spent) => invalid_link(lang, StatusCode::GONE),
        Err(e) => {
            tracing::error!(error = %e, "objection: confirming failed");
            unavailable(lang)
        }
    }
}

/// What confirming a token did.
#[derive(Debug, PartialEq, Eq)]
pub enum Confirmed {
    /// Stored: the tenant's future mail to the address is not tracked.
    Done {
        tenant_id: TenantId,
    },
    Unknown,
    /// Expired or used already.
    Spent,
}

/// Uses a token: stores the objection, stops the tenant's messages that went to nobody
/// outside it but objectors, and records it in the audit log, all in one transaction.
pub async fn confirm_token(state: &PrivacyState, token: &str) -> Result<Confirmed, sqlx::Error> {
    let Some(request) = pending(state, token).await? else {
        return Ok(Confirmed::Unknown);
    };
    let now = state.clock().now_ms();
    if request.confirmed_at.is_some() || request.expires_at <= now {
        return Ok(Confirmed::Spent);
    }
    let mut tx = state.db().pool.begin().await?;
    let used = sqlx::query(
        "UPDATE objection_requests SET confirmed_at = $1 WHERE token_hash = $2 AND confirmed_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(token_hash(token))
    .execute(&mut *tx)
    .await?;
    if used.rows_affected() != 1 {
        // Used concurrently.
        return Ok(Confirmed::Spent);
    }
    let new = sqlx::query(
        "INSERT INTO objections (tenant_id, address_hash, created_at) VALUES ($1, $2, $3) ON CONFLICT (tenant_id, address_hash) DO NOTHING",
    )
    .bind(&request.tenant_id)
    .bind(&request.address_hash)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    audit::record(
        &mut *tx,
        &request.tenant_id,
        &Actor::system("recipient"),
        Action::ObjectionConfirmed,
        // The hash's start is enough to tell entries apart; never the address.
        (
            "objection",
            &request.address_hash[..12.min(request.address_hash.len())],
        ),
        serde_json::json!({"new": new}),
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(tenant = %request.tenant_id, "objection confirmed");
    Ok(Confirmed::Done {
        tenant_id: request.tenant_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "<script>alert('x')</script> \"Acme\" & Zonen";
    const ESCAPED: &str =
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &quot;Acme&quot; &amp; Zonen";

    fn page(lang: Lang, kind: NoticeKind) -> String {
        Notice {
            shell: Shell::privacy(lang, HOSTILE, None),
            kind,
        }
        .render()
        .unwrap()
    }

    #[test]
    fn the_objection_pages_escape_the_organisation_and_the_address() {
        for lang in Lang::ALL {
            for kind in [
                NoticeKind::Confirm {
                    org: HOSTILE.into(),
                },
                NoticeKind::Confirmed {
                    org: HOSTILE.into(),
                },
            ] {
                let html = page(lang, kind);
                assert!(!html.contains("<script"), "{html}");
                // The title, the heading and the organisation in the lead.
                assert_eq!(html.matches(ESCAPED).count(), 3, "{html}");
            }
            let html = page(
                lang,
                NoticeKind::Sent {
                    address: HOSTILE.into(),
                    message_id: "\"><script>".into(),
                    hours: 24,
                },
            );
            assert!(!html.contains("<script"), "{html}");
            assert!(html.contains(&format!("<strong>{ESCAPED}</strong>")));
            assert!(html.contains("href=\"../&quot;&gt;&lt;script&gt;?lang="));
            assert!(html.contains("24 "));
        }
    }
}
