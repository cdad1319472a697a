//! The alert rules. Each fires at most once per incident (its dedupe key):
//! - `incident_summary` when the incident is created (raised by the incidents API);
//! - `client_open` (high): a mail client fetched the pixel after the incident was opened
//!   (opens before that are in the summary);
//! - `possible_forwarding` (high): more distinct opening clients than wrong recipients;
//! - `not_opened`: the tenant's `not_opened_hours` after sending pass while the incident
//!   is open and no mail program has opened the message (no direct fetch and none by
//!   Gmail's proxy; when the hours passed before the incident, the summary says so);
//! - `undecided_reminder` (high): no decision `undecided_reminder_hours` after awareness.
//!
//! The first two run when the pixel writer commits fetches of a message with an incident;
//! the time-based ones on the scheduler's tick, against the state's clock. The tick also
//! re-runs the fetch rules for recent incidents, so an evaluation lost to a restart or an
//! error is made up within `alerts.tick_seconds`.
//!
//! Titles and bodies are written in both languages (mail goes out in the sender's, the
//! message's; the views show the reader's), addressing the sender formally ("u", as
//! the add-ins do), with times in the tenant's time zone ([`Zone`]).

use std::collections::{HashMap, HashSet};

use sqlx::Row;

use leakwatch_core::Lang;

use super::{
    announced, raise, AlertEngine, AlertSettings, AlertText, AlertTexts, Kind, NewAlert, Severity,
};
use crate::kit::ids::{IncidentId, MessageId, TenantId, UserId};
use crate::kit::time::Zone;
use crate::pixel::{Evidence, Status};

/// Incidents older than this are no longer evaluated by the time-based rules.
const TICK_HORIZON_MS: i64 = 30 * 24 * 3600 * 1000;

/// An incident with what the rules need of its message and sender.
#[derive(Debug, Clone)]
pub struct Context {
    pub incident_id: IncidentId,
    pub tenant_id: TenantId,
    pub message_id: MessageId,
    pub sender_id: UserId,
    pub sender_email: String,
    pub subject: String,
    pub lang: Lang,
    pub tracked: bool,
    pub sent_at: i64,
    pub wrong_recipients: usize,
    pub aware_at: i64,
    pub deadline_at: i64,
    pub created_at: i64,
    pub decided: bool,
    /// The tenant's time zone, for the times in titles and bodies.
    pub zone: Zone,
}

impl Context {
    /// A time to read: to the minute, in the tenant's zone, in `lang`.
    fn time(&self, ms: i64, lang: Lang) -> String {
        self.zone.minute(ms, lang)
    }
}

const CONTEXT_SQL: &str = "SELECT i.id, i.tenant_id, i.message_id, i.wrong_recipients, i.aware_at, i.deadline_at, i.created_at, i.decision, \
     m.sender_id, m.subject, m.lang, m.tracked, m.created_at AS sent_at, u.email, t.time_zone \
     FROM incidents i JOIN messages m ON m.id = i.message_id JOIN users u ON u.id = m.sender_id \
     JOIN tenants t ON t.id = i.tenant_id";

fn context_from_row(row: &sqlx::any::AnyRow) -> Result<Context, sqlx::Error> {
    let wrong: String = row.try_get("wrong_recipients")?;
    let lang: String = row.try_get("lang")?;
    Ok(Context {
        incident_id: row.try_get("id")?,
        tenant_id: row.try_get("tenant_id")?,
        message_id: row.try_get("message_id")?,
        sender_id: row.try_get("sender_id")?,
        sender_email: row.try_get("email")?,
        subject: row.try_get("subject")?,
        lang: if lang == "nl" { Lang::Nl } else { Lang::En },
        tracked: row.try_get::<i64, _>("tracked")? != 0,
        sent_at: row.try_get("sent_at")?,
        wrong_recipients: serde_json::from_str::<Vec<String>>(&wrong)
            .map(|w| w.len())
            .unwrap_or(0),
        aware_at: row.try_get("aware_at")?,
        deadline_at: row.try_get("deadline_at")?,
        created_at: row.try_get("created_at")?,
        decided: row.try_get::<Option<String>, _>("decision")?.is_some(),
        zone: Zone::stored(&row.try_get::<String, _>("time_zone")?),
    })
}

pub async fn context(
    state: &AlertEngine,
    incident_id: &str,
) -> Result<Option<Context>, sqlx::Error> {
    let row = sqlx::query(&format!("{CONTEXT_SQL} WHERE i.id = $1"))
        .bind(incident_id)
        .fetch_optional(&state.db().pool)
        .await?;
    row.map(|r| context_from_row(&r)).transpose()
}

/// The most message ids one lookup of [`on_fetches`] asks for.
const FETCH_LOOKUP_MAX: usize = 512;

/// After the pixel writer committed fetches of these messages.
pub async fn on_fetches(state: &AlertEngine, messages: HashSet<String>) -> Result<(), sqlx::Error> {
    let messages: Vec<String> = messages.into_iter().collect();
    // Under a spread load the set holds hundreds of messages, of which few have an incident:
    // few, big lookups. Statements are padded to a power of two of ids (repeating the last),
    // so each connection prepares a handful.
    for chunk in messages.chunks(FETCH_LOOKUP_MAX) {
        let size = chunk.len().next_power_of_two().max(8);
        let placeholders: Vec<String> = (1..=size).map(|i| format!("${i}")).collect();
        let sql = format!(
            "{CONTEXT_SQL} WHERE i.message_id IN ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for i in 0..size {
            query = query.bind(&chunk[i.min(chunk.len() - 1)]);
        }
        let rows = query.fetch_all(&state.db().pool).await?;
        let mut settings = HashMap::new();
        for row in rows {
            let ctx = context_from_row(&row)?;
            let settings = match settings.get(&ctx.tenant_id) {
                Some(s) => s,
                None => {
                    let loaded = super::settings::load(state.db(), &ctx.tenant_id).await?;
                    settings.entry(ctx.tenant_id.clone()).or_insert(loaded)
                }
            };
            let evidence = Evidence::for_message(
                state.db(),
                ctx.message_id.as_str(),
                ctx.tracked,
                ctx.wrong_recipients,
            )
            .await?;
            for new in fetch_rules(&ctx, &evidence) {
                fire(state, &new, settings).await?;
            }
        }
    }
    Ok(())
}

/// The alerts the evidence calls for (the dedupe key keeps each to once).
pub fn fetch_rules(ctx: &Context, evidence: &Evidence) -> Vec<NewAlert> {
    let mut out = Vec::new();
    if let Some(direct) = evidence.class("direct") {
        if direct.last_at > ctx.created_at {
            out.push(alert(
                ctx,
                evidence.status,
                Kind::ClientOpen,
                Severity::High,
                |lang| AlertText {
                    title: titled(ctx, lang, "Opened: your misdirected message", "Geopend: uw verkeerd verstuurde bericht"),
                    body: match lang {
                        Lang::Nl => format!(
                            "Het bericht dat u als verkeerd verstuurd hebt gemeld, is op {} geopend in een mailprogramma. Besluit vóór {} of u het datalek meldt bij de Autoriteit Persoonsgegevens.",
                            ctx.time(direct.last_at, lang), ctx.time(ctx.deadline_at, lang)
                        ),
                        Lang::En => format!(
                            "The message you reported as sent to the wrong recipient was opened in a mail client on {}. Decide before {} whether to notify the Autoriteit Persoonsgegevens.",
                            ctx.time(direct.last_at, lang), ctx.time(ctx.deadline_at, lang)
                        ),
                    },
                },
            ));
        }
    }
    if evidence.possible_forwarding {
        out.push(alert(
            ctx,
            evidence.status,
            Kind::PossibleForwarding,
            Severity::High,
            |lang| AlertText {
                title: titled(ctx, lang, "Possibly forwarded:", "Mogelijk doorgestuurd:"),
                body: forwarded_body(lang, evidence.distinct_clients, ctx.wrong_recipients),
            },
        ));
    }
    out
}

/// The summary raised when the incident is created.
pub fn summary(ctx: &Context, evidence: &Evidence) -> NewAlert {
    alert(
        ctx,
        evidence.status,
        Kind::IncidentSummary,
        Severity::Normal,
        |lang| {
            let first_open = evidence
                .class("direct")
                .map(|d| match lang {
                    Lang::Nl => {
                        format!(" Voor het eerst geopend op {}.", ctx.time(d.first_at, lang))
                    }
                    Lang::En => format!(" First opened on {}.", ctx.time(d.first_at, lang)),
                })
                .unwrap_or_default();
            AlertText {
                // "Created", not "opened": an opened incident reads as an opened mail.
                title: titled(ctx, lang, "Incident created:", "Incident aangemaakt:"),
                body: match lang {
                    Lang::Nl => format!(
                        "Stand van zaken: {}.{first_open} Uiterste meldtermijn (AVG art. 33): {}.",
                        evidence.status.text(lang),
                        ctx.time(ctx.deadline_at, lang)
                    ),
                    Lang::En => format!(
                        "So far: {}.{first_open} Deadline for notification (GDPR Art. 33): {}.",
                        evidence.status.text(lang),
                        ctx.time(ctx.deadline_at, lang)
                    ),
                },
            }
        },
    )
}

/// The "possibly forwarded" body, with the plural each count needs (`clients` is at least
/// two: more than the wrong recipients).
fn forwarded_body(lang: Lang, clients: i64, wrong: usize) -> String {
    match (lang, wrong) {
        (Lang::Nl, 1) => format!(
            "Het bericht is geopend door {clients} verschillende mailprogramma's of netwerken, bij 1 verkeerde ontvanger. Het kan zijn doorgestuurd."
        ),
        (Lang::Nl, _) => format!(
            "Het bericht is geopend door {clients} verschillende mailprogramma's of netwerken, bij {wrong} verkeerde ontvangers. Het kan zijn doorgestuurd."
        ),
        (Lang::En, 1) => format!(
            "The message was opened by {clients} different mail clients or networks, for 1 wrong recipient. It may have been forwarded."
        ),
        (Lang::En, _) => format!(
            "The message was opened by {clients} different mail clients or networks, for {wrong} wrong recipients. It may have been forwarded."
        ),
    }
}

/// The time-based rules, for every recent incident, and a catch-up of the fetch rules (an
/// evaluation lost to a restart or a database error is made up here). Returns how many
/// alerts were raised.
pub async fn tick(state: &AlertEngine) -> Result<usize, sqlx::Error> {
    let now = state.clock().now_ms();
    let rows = sqlx::query(&format!(
        "{CONTEXT_SQL} WHERE i.created_at >= $1 AND (i.decision IS NULL OR m.tracked = 1)"
    ))
    .bind(now - TICK_HORIZON_MS)
    .fetch_all(&state.db().pool)
    .await?;
    let mut settings: HashMap<TenantId, AlertSettings> = HashMap::new();
    let mut raised = 0;
    for row in rows {
        let ctx = context_from_row(&row)?;
        if !settings.contains_key(&ctx.tenant_id) {
            let loaded = super::settings::load(state.db(), &ctx.tenant_id).await?;
            settings.insert(ctx.tenant_id.clone(), loaded);
        }
        let tenant = &settings[&ctx.tenant_id];
        let evidence = Evidence::for_message(
            state.db(),
            ctx.message_id.as_str(),
            ctx.tracked,
            ctx.wrong_recipients,
        )
        .await?;
        let mut due = if ctx.tracked {
            fetch_rules(&ctx, &evidence)
        } else {
            Vec::new()
        };
        let reminder_hours = i64::from(tenant.undecided_reminder_hours);
        if reminder_hours > 0 && !ctx.decided && now >= ctx.aware_at + reminder_hours * 3_600_000 {
            due.push(reminder(&ctx, reminder_hours, evidence.status));
        }
        let quiet_hours = i64::from(tenant.not_opened_hours);
        let mark = ctx.sent_at + quiet_hours * 3_600_000;
        // No mail program opened it: neither a direct fetch nor Gmail's proxy (which fetches
        // on opening); a scanner or Apple's prefetch does not count as opening.
        let unopened =
            evidence.class("direct").is_none() && evidence.class("google_proxy").is_none();
        if quiet_hours > 0 && ctx.tracked && now >= mark && mark > ctx.created_at && unopened {
            due.push(not_opened(&ctx, quiet_hours, evidence.status));
        }
        for new in due {
            if fire(state, &new, tenant).await? {
                raised += 1;
            }
        }
    }
    Ok(raised)
}

fn reminder(ctx: &Context, hours: i64, status: Status) -> NewAlert {
    alert(
        ctx,
        status,
        Kind::UndecidedReminder,
        Severity::High,
        |lang| {
            AlertText {
            title: titled(ctx, lang, "Decision needed: notifying", "Besluit nodig: melding van"),
            body: match lang {
                Lang::Nl => format!(
                    "Er is {hours} uur na het ontdekken nog geen besluit over het melden van dit datalek. De meldtermijn loopt af op {}. Leg het besluit vast, ook als u niet meldt.",
                    ctx.time(ctx.deadline_at, lang)
                ),
                Lang::En => format!(
                    "{hours} hours after awareness there is no decision yet about notifying this breach. The deadline is {}. Record the decision, also when you do not notify.",
                    ctx.time(ctx.deadline_at, lang)
                ),
            },
        }
        },
    )
}

fn not_opened(ctx: &Context, hours: i64, status: Status) -> NewAlert {
    alert(ctx, status, Kind::NotOpened, Severity::Normal, |lang| {
        AlertText {
            title: titled(ctx, lang, "Not opened yet:", "Nog niet geopend:"),
            body: match lang {
                Lang::Nl => format!(
                    "{hours} uur na verzending heeft geen mailprogramma het bericht geopend. Dat is geen garantie (afbeeldingen kunnen geblokkeerd zijn), maar weegt mee in het besluit."
                ),
                Lang::En => format!(
                    "{hours} hours after sending, no mail client has opened the message. That is no guarantee (images may be blocked), but it counts in the decision."
                ),
            },
        }
    })
}

/// An alert written in both languages by `text`: the sender's own (the message's) for mail,
/// both for the views, which show the reader's.
fn alert(
    ctx: &Context,
    status: Status,
    kind: Kind,
    severity: Severity,
    text: impl Fn(Lang) -> AlertText,
) -> NewAlert {
    NewAlert {
        tenant_id: ctx.tenant_id.to_string(),
        user_id: ctx.sender_id.to_string(),
        user_email: ctx.sender_email.clone(),
        incident_id: ctx.incident_id.to_string(),
        message_id: ctx.message_id.to_string(),
        kind,
        severity,
        lang: ctx.lang,
        texts: AlertTexts {
            en: text(Lang::En),
            nl: text(Lang::Nl),
        },
        evidence_status: status,
        deadline_at: ctx.deadline_at,
    }
}

/// A title naming the message: `Prefix "subject"` (curly quotes), in `lang`.
fn titled(ctx: &Context, lang: Lang, en: &str, nl: &str) -> String {
    format!("{} \u{201c}{}\u{201d}", lang.pick(en, nl), ctx.subject)
}

/// Raises one alert in its own transaction; whether it was new.
async fn fire(
    state: &AlertEngine,
    new: &NewAlert,
    settings: &AlertSettings,
) -> Result<bool, sqlx::Error> {
    let mut tx = state.db().pool.begin().await?;
    let raised = raise(&mut tx, state, new, settings).await?;
    tx.commit().await?;
    let fired = raised.is_some();
    announced(state, raised);
    Ok(fired)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forwarding_body_takes_the_plural_its_count_needs() {
        assert!(forwarded_body(Lang::En, 2, 1).contains("for 1 wrong recipient."));
        assert!(forwarded_body(Lang::En, 3, 2).contains("for 2 wrong recipients."));
        assert!(forwarded_body(Lang::Nl, 2, 1).contains("bij 1 verkeerde ontvanger."));
        assert!(forwarded_body(Lang::Nl, 3, 2).contains("bij 2 verkeerde ontvangers."));
        for lang in [Lang::En, Lang::Nl] {
            for wrong in 1..4usize {
                assert!(!forwarded_body(lang, wrong as i64 + 1, wrong).contains("(s)"));
            }
        }
    }
}
