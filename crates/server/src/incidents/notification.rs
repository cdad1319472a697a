//! The breach notification draft (GDPR Art. 33), prefilled from the incident in the order of
//! the Autoriteit Persoonsgegevens' form: contact details, timeline, what happened, the
//! personal data involved, the number of people, consequences, measures taken, whether the
//! people are informed. Editable (`PUT` stores the edits; the prefilled parts follow the
//! evidence until edited); exported as JSON and as a printable HTML page (nl/en), whose
//! timeline is in the tenant's time zone, to the second (sending, the first fetch and
//! awareness often fall in one minute, and their order is the point).
//! Every read shows fetch evidence, so every read is audit-logged.

use askama::Template;
use axum::extract::{FromRef, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use leakwatch_core::sensitive::{DataCategory, SensitiveCount};
use leakwatch_core::Lang;

use super::{load_viewed, IncidentView, IncidentsState};
use crate::auth::{AuthUser, Authenticator};
use crate::kit::audit::{self, Action};
use crate::kit::error::{ApiError, ApiResult};
use crate::kit::json::{ApiJson, ApiPath, ApiQuery};
use crate::kit::time::Zone;
use crate::pixel::Status;

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    IncidentsState: FromRef<S>,
    Authenticator: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(show, edit))
        .routes(routes!(printable))
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct Contact {
    pub organization: String,
    pub contact_name: String,
    pub contact_role: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub dpo: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FirstFetch {
    pub class: String,
    pub at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Timeline {
    /// When the message was sent.
    pub sent_at: i64,
    /// The first fetch of each class, in time order.
    pub first_fetches: Vec<FirstFetch>,
    /// When the organisation became aware (starts the 72 hours).
    pub aware_at: i64,
    pub deadline_at: i64,
    pub notified_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PersonalData {
    /// Kinds the send-time check found (counts, never values).
    pub kinds: Vec<DataKind>,
    /// Special categories (Art. 9) are involved.
    pub special_categories: bool,
    /// Anything else the sender knows is in the message or its attachments.
    pub other: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DataKind {
    pub kind: String,
    pub label: String,
    pub count: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct People {
    pub min: u32,
    /// Unknown until filled in.
    pub max: Option<u32>,
}

/// The draft, in the order of the authority's form.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NotificationDraft {
    pub incident_id: String,
    pub lang: String,
    /// The tenant's time zone (IANA), which the printable page shows the timeline in.
    #[schema(example = "Europe/Amsterdam")]
    pub time_zone: String,
    pub contact: Contact,
    pub timeline: Timeline,
    /// "sent to the wrong recipient"
    pub what_happened: String,
    /// `new`, `follow_up` (adds to an earlier notification) or `preliminary` (filed within
    /// 72 hours before everything is known), as the authority's form asks first.
    pub notification_kind: String,
    /// What kind of breach: `confidentiality` for mail to the wrong person (data seen by
    /// someone not entitled to it); `integrity` and `availability` when they apply too.
    pub nature: Vec<String>,
    /// Who the people involved are (clients, patients, employees, ...).
    pub group_description: String,
    pub description: String,
    pub wrong_recipients: usize,
    pub evidence_status: Status,
    /// Opened by more clients than there were wrong recipients: it may have been forwarded.
    pub possible_forwarding: bool,
    /// Measures in place before the breach (encryption, a send-time check, ...).
    pub measures_before: String,
    /// People in other EU countries involved, or the mail went abroad (cross-border).
    pub international: String,
    /// What was done to limit the harm; checked items are written into `measures` as long
    /// as that was not edited.
    pub mitigation: Mitigation,
    pub personal_data: PersonalData,
    pub people: People,
    pub consequences: String,
    pub measures: String,
    /// Whether the people involved are (or will be) informed (Art. 34).
    pub data_subjects_informed: Option<bool>,
    pub data_subjects_informed_reason: String,
    /// Which fields are the sender's or DPO's edits rather than prefilled.
    pub edited: Vec<String>,
}

/// The usual steps after mail to the wrong person.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct Mitigation {
    /// The wrong recipient was asked to delete the mail.
    pub asked_to_delete: bool,
    /// ...and confirmed having done so.
    pub deletion_confirmed: bool,
    /// Recalling the mail was attempted.
    pub recall_attempted: bool,
    /// The people whose data it holds were told.
    pub people_informed: bool,
}

impl Mitigation {
    /// The checked steps as sentences for "measures taken".
    fn sentences(&self, lang: Lang) -> String {
        let steps = [
            (
                self.asked_to_delete,
                lang.pick(
                    "The wrong recipient was asked to delete the message.",
                    "De verkeerde ontvanger is gevraagd het bericht te verwijderen.",
                ),
            ),
            (
                self.deletion_confirmed,
                lang.pick(
                    "The wrong recipient confirmed deleting it.",
                    "De verkeerde ontvanger heeft bevestigd het te hebben verwijderd.",
                ),
            ),
            (
                self.recall_attempted,
                lang.pick(
                    "Recalling the message was attempted.",
                    "Er is geprobeerd het bericht terug te halen.",
                ),
            ),
            (
                self.people_informed,
                lang.pick(
                    "The people whose data it holds were informed.",
                    "De mensen van wie het gegevens bevat, zijn ingelicht.",
                ),
            ),
        ];
        steps
            .iter()
            .filter(|(done, _)| *done)
            .map(|(_, text)| *text)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The kinds of notification the authority's form offers.
pub const NOTIFICATION_KINDS: &[&str] = &["new", "follow_up", "preliminary"];
/// The kinds of breach (GDPR terms: confidentiality, integrity, availability).
pub const NATURES: &[&str] = &["confidentiality", "integrity", "availability"];

/// What can be edited; every field optional, `null` or missing keeps the current value.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationEdits {
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    /// The contact person's role (privacy officer, DPO, ...).
    pub contact_role: Option<String>,
    pub dpo: Option<String>,
    pub organization: Option<String>,
    pub notification_kind: Option<String>,
    pub nature: Option<Vec<String>>,
    pub group_description: Option<String>,
    pub measures_before: Option<String>,
    pub international: Option<String>,
    pub mitigation: Option<Mitigation>,
    pub description: Option<String>,
    pub personal_data_other: Option<String>,
    pub special_categories: Option<bool>,
    pub people_min: Option<u32>,
    pub people_max: Option<u32>,
    pub consequences: Option<String>,
    pub measures: Option<String>,
    pub data_subjects_informed: Option<bool>,
    pub data_subjects_informed_reason: Option<String>,
}

impl NotificationEdits {
    /// Later edits win, field by field.
    fn merge(mut self, newer: NotificationEdits) -> NotificationEdits {
        macro_rules! take {
            ($($f:ident),*) => { $( if newer.$f.is_some() { self.$f = newer.$f; } )* };
        }
        take!(
            contact_name,
            contact_email,
            contact_phone,
            contact_role,
            dpo,
            organization,
            notification_kind,
            nature,
            group_description,
            measures_before,
            international,
            mitigation,
            description,
            personal_data_other,
            special_categories,
            people_min,
            people_max,
            consequences,
            measures,
            data_subjects_informed,
            data_subjects_informed_reason
        );
        self
    }

    fn names(&self) -> Vec<String> {
        let value = serde_json::to_value(self).unwrap_or_default();
        value
            .as_object()
            .map(|o| {
                o.iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn check(&self) -> Result<(), String> {
        let texts = [
            ("contact_name", &self.contact_name),
            ("contact_email", &self.contact_email),
            ("contact_phone", &self.contact_phone),
            ("contact_role", &self.contact_role),
            ("group_description", &self.group_description),
            ("measures_before", &self.measures_before),
            ("international", &self.international),
            ("dpo", &self.dpo),
            ("organization", &self.organization),
            ("description", &self.description),
            ("personal_data_other", &self.personal_data_other),
            ("consequences", &self.consequences),
            ("measures", &self.measures),
            (
                "data_subjects_informed_reason",
                &self.data_subjects_informed_reason,
            ),
        ];
        for (name, text) in texts {
            if text.as_ref().is_some_and(|t| t.len() > 10_000) {
                return Err(format!("{name}: longer than 10000 bytes"));
            }
        }
        if let Some(kind) = self
            .notification_kind
            .as_deref()
            .filter(|k| !NOTIFICATION_KINDS.contains(k))
        {
            return Err(format!(
                "notification_kind: '{kind}' is not one of {}",
                NOTIFICATION_KINDS.join(", ")
            ));
        }
        if let Some(nature) = &self.nature {
            if let Some(bad) = nature.iter().find(|n| !NATURES.contains(&n.as_str())) {
                return Err(format!(
                    "nature: '{bad}' is not one of {}",
                    NATURES.join(", ")
                ));
            }
            if nature.is_empty() {
                return Err("nature: name at least one".into());
            }
        }
        if let (Some(min), Some(max)) = (self.people_min, self.people_max) {
            if max < min {
                return Err("people_max: less than people_min".into());
            }
        }
        Ok(())
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LangQuery {
    /// nl or en (default: the language the message was registered in).
    pub lang: Option<String>,
}

/// The stored edits, the message's sensitive counts and language, the organisation's name
/// and DPO contact, the tenant's time zone.
type Stored = (
    NotificationEdits,
    Vec<SensitiveCount>,
    String,
    String,
    Option<String>,
    Zone,
);

async fn stored(state: &IncidentsState, incident_id: &str) -> ApiResult<Stored> {
    let row = sqlx::query(
        "SELECT i.notification, m.sensitive, m.lang, t.name, t.policy, t.time_zone FROM incidents i JOIN messages m ON m.id = i.message_id \
         JOIN tenants t ON t.id = i.tenant_id WHERE i.id = $1",
    )
    .bind(incident_id)
    .fetch_one(&state.db().pool)
    .await?;
    let edits: Option<String> = row.try_get("notification")?;
    let sensitive: String = row.try_get("sensitive")?;
    let policy: String = row.try_get("policy")?;
    let policy: leakwatch_core::Policy = serde_json::from_str(&policy).unwrap_or_default();
    Ok((
        edits
            .and_then(|e| serde_json::from_str(&e).ok())
            .unwrap_or_default(),
        serde_json::from_str(&sensitive).unwrap_or_default(),
        row.try_get("lang")?,
        policy
            .disclosure
            .organization
            .filter(|o| !o.trim().is_empty())
            .unwrap_or(row.try_get("name")?),
        policy.disclosure.dpo_contact,
        Zone::stored(&row.try_get::<String, _>("time_zone")?),
    ))
}

/// The prefilled draft with the edits laid over it.
pub fn draft(
    incident: &IncidentView,
    edits: &NotificationEdits,
    sensitive: &[SensitiveCount],
    organization: &str,
    dpo: Option<&str>,
    lang: Lang,
    zone: &Zone,
) -> NotificationDraft {
    let mut first_fetches: Vec<FirstFetch> = incident
        .evidence
        .by_class
        .iter()
        .filter(|c| c.class != "self_view")
        .map(|c| FirstFetch {
            class: c.class.clone(),
            at: c.first_at,
        })
        .collect();
    first_fetches.sort_by_key(|f| f.at);
    let kinds: Vec<DataKind> = sensitive
        .iter()
        .map(|s| DataKind {
            kind: serde_json::to_value(s.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            label: s.kind.label(lang).to_string(),
            count: s.count,
        })
        .collect();
    let special = sensitive
        .iter()
        .any(|s| s.kind.category() == DataCategory::SpecialCategory);
    // People involved: at least one; identity numbers each name one person, and every
    // finding at most one more. An estimate, stated as such in the form.
    let identities: usize = sensitive
        .iter()
        .filter(|s| s.kind.category() == DataCategory::Identity)
        .map(|s| s.count)
        .max()
        .unwrap_or(0);
    let people_min = identities.max(1) as u32;
    let people_max = (!sensitive.is_empty()).then(|| {
        sensitive
            .iter()
            .map(|s| s.count)
            .sum::<usize>()
            .max(people_min as usize) as u32
    });
    let status = incident.evidence.status;
    let consequences = match (status, lang) {
        (Status::OpenedInMailClient, Lang::En) => "The message was opened in a mail client after it reached the wrong recipient, so the personal data in it may have been read by someone not entitled to it.",
        (Status::OpenedInMailClient, Lang::Nl) => "Het bericht is na aankomst bij de verkeerde ontvanger geopend in een mailprogramma; de persoonsgegevens erin kunnen dus zijn gelezen door iemand die daar geen recht op heeft.",
        (Status::FetchedByProxyOnly, Lang::En) => "Only an image proxy fetched the message (Gmail's proxy usually means it was opened; Apple Mail Privacy Protection fetches unopened mail too). Reading by the wrong recipient cannot be excluded.",
        (Status::FetchedByProxyOnly, Lang::Nl) => "Alleen een afbeeldingsproxy heeft het bericht opgehaald (bij Gmail betekent dat meestal dat het geopend is; Apple Mail Privacy Protection haalt ook ongeopende mail op). Dat de verkeerde ontvanger het heeft gelezen, is niet uit te sluiten.",
        (Status::OnlyScanned, Lang::En) => "Only a security scanner fetched the message; there is no sign so far that a person opened it.",
        (Status::OnlyScanned, Lang::Nl) => "Alleen een beveiligingsscanner heeft het bericht opgehaald; er is tot nu toe geen aanwijzing dat iemand het heeft geopend.",
        (Status::NotOpened, Lang::En) => "There is no sign so far that the message was opened (opens are missed when the recipient's mail program blocks images).",
        (Status::NotOpened, Lang::Nl) => "Er is tot nu toe geen aanwijzing dat het bericht is geopend (een opening wordt gemist als het mailprogramma van de ontvanger afbeeldingen blokkeert).",
        (Status::NotTracked, Lang::En) => "The message was not tracked, so whether it was opened is unknown.",
        (Status::NotTracked, Lang::Nl) => "Het bericht werd niet gevolgd; of het is geopend, is onbekend.",
    };
    let pick = |edit: &Option<String>, prefill: String| edit.clone().unwrap_or(prefill);
    NotificationDraft {
        incident_id: incident.id.clone(),
        lang: lang.code().into(),
        time_zone: zone.name().to_string(),
        contact: Contact {
            organization: pick(&edits.organization, organization.to_string()),
            contact_name: pick(&edits.contact_name, String::new()),
            contact_role: pick(&edits.contact_role, String::new()),
            contact_email: pick(&edits.contact_email, incident.reporter.clone()),
            contact_phone: pick(&edits.contact_phone, String::new()),
            dpo: pick(&edits.dpo, dpo.unwrap_or_default().to_string()),
        },
        timeline: Timeline {
            sent_at: incident.sent_at,
            first_fetches,
            aware_at: incident.aware_at,
            deadline_at: incident.deadline_at,
            notified_at: incident.notified_at,
        },
        what_happened: lang
            .pick(
                "Personal data sent to the wrong recipient (e-mail).",
                "Persoonsgegevens verstuurd naar de verkeerde ontvanger (e-mail).",
            )
            .into(),
        notification_kind: pick(&edits.notification_kind, "new".into()),
        nature: edits
            .nature
            .clone()
            .unwrap_or_else(|| vec!["confidentiality".into()]),
        group_description: pick(&edits.group_description, String::new()),
        description: pick(&edits.description, incident.description.clone()),
        wrong_recipients: incident.wrong_recipients.len(),
        evidence_status: status,
        possible_forwarding: incident.evidence.possible_forwarding,
        measures_before: pick(
            &edits.measures_before,
            lang.pick(
                "A check at sending warned about likely wrong recipients (leakwatch), and the message carried leak detection when the policy called for it.",
                "Een controle bij verzenden waarschuwde voor waarschijnlijk verkeerde ontvangers (leakwatch), en het bericht had lekdetectie als het beleid daarom vroeg.",
            )
            .into(),
        ),
        international: pick(&edits.international, String::new()),
        mitigation: edits.mitigation.unwrap_or_default(),
        personal_data: PersonalData {
            kinds,
            special_categories: edits.special_categories.unwrap_or(special),
            other: pick(&edits.personal_data_other, String::new()),
        },
        people: People {
            min: edits.people_min.unwrap_or(people_min),
            max: edits.people_max.or(people_max),
        },
        consequences: pick(&edits.consequences, consequences.to_string()),
        measures: pick(
            &edits.measures,
            edits.mitigation.unwrap_or_default().sentences(lang),
        ),
        data_subjects_informed: edits.data_subjects_informed,
        data_subjects_informed_reason: pick(&edits.data_subjects_informed_reason, String::new()),
        edited: edits.names(),
    }
}

fn lang_of(query: &LangQuery, stored: &str) -> Lang {
    match query.lang.as_deref().unwrap_or(stored) {
        "nl" => Lang::Nl,
        _ => Lang::En,
    }
}

async fn build(
    state: &IncidentsState,
    user: &AuthUser,
    id: &str,
    what: &str,
    q: &LangQuery,
) -> ApiResult<NotificationDraft> {
    let incident = load_viewed(state, user, id, what).await?;
    let (edits, sensitive, lang, organization, dpo, zone) = stored(state, id).await?;
    Ok(draft(
        &incident,
        &edits,
        &sensitive,
        &organization,
        dpo.as_deref(),
        lang_of(q, &lang),
        &zone,
    ))
}

/// The notification draft as JSON (audit-logged).
#[utoipa::path(get, path = "/api/v1/incidents/{id}/notification", tag = "incidents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Incident id"), LangQuery),
    responses((status = 200, body = NotificationDraft), (status = 404, description = "No such incident for this user")))]
pub async fn show(
    State(state): State<IncidentsState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<LangQuery>,
) -> ApiResult<Json<NotificationDraft>> {
    Ok(Json(build(&state, &user, &id, "notification", &q).await?))
}

/// Saves edits of the draft (field by field over earlier edits) and returns the draft.
#[utoipa::path(put, path = "/api/v1/incidents/{id}/notification", tag = "incidents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Incident id"), LangQuery), request_body = NotificationEdits,
    responses((status = 200, body = NotificationDraft), (status = 400, description = "Invalid edits"),
        (status = 404, description = "No such incident for this user")))]
pub async fn edit(
    State(state): State<IncidentsState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<LangQuery>,
    ApiJson(edits): ApiJson<NotificationEdits>,
) -> ApiResult<Json<NotificationDraft>> {
    // Checks access (and records the view) before anything is written.
    load_viewed(&state, &user, &id, "notification_edit").await?;
    let (current, ..) = stored(&state, &id).await?;
    let changed = edits.names();
    let merged = current.merge(edits);
    // Checked merged, so a new maximum below an earlier minimum is caught too.
    merged.check().map_err(ApiError::BadRequest)?;
    let now = state.clock().now_ms();
    let mut tx = state.db().pool.begin().await?;
    sqlx::query("UPDATE incidents SET notification = $1, updated_at = $2 WHERE id = $3")
        .bind(serde_json::to_string(&merged).map_err(anyhow::Error::from)?)
        .bind(now)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut *tx,
        &user.tenant_id,
        &user.actor(),
        Action::NotificationEdited,
        ("incident", &id),
        json!({"fields": changed}),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Json(build(&state, &user, &id, "notification", &q).await?))
}

/// The draft as a printable page (audit-logged).
#[utoipa::path(get, path = "/api/v1/incidents/{id}/notification.html", tag = "incidents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Incident id"), LangQuery),
    responses((status = 200, description = "Printable HTML", content_type = "text/html"),
        (status = 404, description = "No such incident for this user")))]
pub async fn printable(
    State(state): State<IncidentsState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<LangQuery>,
) -> ApiResult<Response> {
    let draft = build(&state, &user, &id, "notification_html", &q).await?;
    let html = render_html(&draft)
        .render()
        .map_err(|e| ApiError::Internal(e.into()))?;
    // The security headers are the HTML layer's (`kit::html::security_headers`).
    Ok(([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response())
}

fn class_name(class: &str, lang: Lang) -> &'static str {
    match class {
        "direct" => lang.pick("mail client", "mailprogramma"),
        "google_proxy" => lang.pick("Google image proxy", "afbeeldingsproxy van Google"),
        "apple_privacy" => lang.pick(
            "Apple Mail Privacy Protection",
            "Apple Mail Privacy Protection",
        ),
        "scanner" => lang.pick("security scanner", "beveiligingsscanner"),
        _ => lang.pick("other", "overig"),
    }
}

/// The printable page (`templates/incidents/notification.html`).
#[derive(Template)]
#[template(path = "incidents/notification.html")]
pub struct NotificationPage<'a> {
    draft: &'a NotificationDraft,
    lang: Lang,
    en: bool,
    /// What the fetches say, in words.
    evidence: &'static str,
    title: &'static str,
    /// What an unfilled part says.
    empty: &'static str,
    /// The timeline's rows: what, when.
    timeline: Vec<(String, String)>,
    /// The kind of notification and the nature of the breach, in words.
    kind: &'static str,
    nature: String,
    /// The mitigation steps with whether each was done, in words.
    mitigation: Vec<(&'static str, bool)>,
}

impl NotificationPage<'_> {
    fn filled<'s>(&'s self, text: &'s str) -> &'s str {
        if text.trim().is_empty() {
            self.empty
        } else {
            text
        }
    }
}

/// The printable page: one section per part of the authority's form.
pub fn render_html(d: &NotificationDraft) -> NotificationPage<'_> {
    let lang = if d.lang == "nl" { Lang::Nl } else { Lang::En };
    let t = |en: &'static str, nl: &'static str| lang.pick(en, nl);
    let kind = match d.notification_kind.as_str() {
        "follow_up" => t(
            "Follow-up to an earlier notification",
            "Vervolg op een eerdere melding",
        ),
        "preliminary" => t(
            "Preliminary notification (not everything is known yet)",
            "Voorlopige melding (nog niet alles is bekend)",
        ),
        _ => t("New notification", "Nieuwe melding"),
    };
    let nature = d
        .nature
        .iter()
        .map(|n| match n.as_str() {
            "integrity" => t(
                "integrity (data changed)",
                "integriteit (gegevens gewijzigd)",
            ),
            "availability" => t(
                "availability (data lost or unreachable)",
                "beschikbaarheid (gegevens verloren of onbereikbaar)",
            ),
            _ => t(
                "confidentiality (data seen by someone not entitled to it)",
                "vertrouwelijkheid (gegevens ingezien door iemand zonder recht daarop)",
            ),
        })
        .collect::<Vec<_>>()
        .join("; ");
    let m = d.mitigation;
    let mitigation = vec![
        (
            t(
                "Wrong recipient asked to delete the message",
                "Verkeerde ontvanger gevraagd het bericht te verwijderen",
            ),
            m.asked_to_delete,
        ),
        (
            t("Deletion confirmed", "Verwijdering bevestigd"),
            m.deletion_confirmed,
        ),
        (
            t("Recall attempted", "Terughalen geprobeerd"),
            m.recall_attempted,
        ),
        (
            t("People involved informed", "Betrokkenen ingelicht"),
            m.people_informed,
        ),
    ];
    let zone = Zone::stored(&d.time_zone);
    let at = |ms: i64| zone.second(ms, lang);
    let mut timeline = vec![(t("Sent", "Verzonden").to_string(), at(d.timeline.sent_at))];
    for f in &d.timeline.first_fetches {
        timeline.push((
            format!(
                "{} ({})",
                t("First fetch", "Eerste ophaling"),
                class_name(&f.class, lang)
            ),
            at(f.at),
        ));
    }
    timeline.push((t("Aware", "Ontdekt").to_string(), at(d.timeline.aware_at)));
    timeline.push((
        t("Deadline (72 hours)", "Uiterste meldtermijn (72 uur)").to_string(),
        at(d.timeline.deadline_at),
    ));
    if let Some(n) = d.timeline.notified_at {
        timeline.push((t("Notified", "Gemeld").to_string(), at(n)));
    }
    NotificationPage {
        draft: d,
        lang,
        en: lang == Lang::En,
        evidence: d.evidence_status.text(lang),
        kind,
        nature,
        mitigation,
        title: t(
            "Data breach notification: draft",
            "Melding datalek: concept",
        ),
        empty: t("(to be filled in)", "(nog in te vullen)"),
        timeline,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "<script>alert('x')</script> \"Acme\" & Zonen";
    const ESCAPED: &str =
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &quot;Acme&quot; &amp; Zonen";

    fn draft(lang: &str) -> NotificationDraft {
        NotificationDraft {
            incident_id: HOSTILE.into(),
            lang: lang.into(),
            time_zone: "Europe/Amsterdam".into(),
            contact: Contact {
                organization: HOSTILE.into(),
                contact_name: HOSTILE.into(),
                ..Contact::default()
            },
            timeline: Timeline {
                sent_at: 0,
                first_fetches: vec![FirstFetch {
                    class: "direct".into(),
                    at: 60_000,
                }],
                aware_at: 120_000,
                deadline_at: 120_000 + 72 * 3_600_000,
                notified_at: None,
            },
            what_happened: HOSTILE.into(),
            notification_kind: "new".into(),
            nature: vec!["confidentiality".into()],
            group_description: HOSTILE.into(),
            description: HOSTILE.into(),
            wrong_recipients: 1,
            evidence_status: Status::FetchedByProxyOnly,
            possible_forwarding: true,
            measures_before: HOSTILE.into(),
            international: HOSTILE.into(),
            mitigation: Mitigation {
                asked_to_delete: true,
                ..Mitigation::default()
            },
            personal_data: PersonalData {
                kinds: vec![DataKind {
                    kind: "bsn".into(),
                    label: HOSTILE.into(),
                    count: 2,
                }],
                special_categories: false,
                other: String::new(),
            },
            people: People { min: 1, max: None },
            consequences: HOSTILE.into(),
            measures: String::new(),
            data_subjects_informed: None,
            data_subjects_informed_reason: HOSTILE.into(),
            edited: Vec::new(),
        }
    }

    #[test]
    fn the_printable_draft_escapes_what_people_typed() {
        for lang in ["en", "nl"] {
            let html = render_html(&draft(lang)).render().unwrap();
            assert!(!html.contains("<script"), "{html}");
            assert!(!html.contains("\"Acme\""));
            // Incident, organisation, contact, what happened, international aspects,
            // description, the group, the data kind, the measures before, consequences and the
            // reason: every field that came from outside.
            assert_eq!(html.matches(ESCAPED).count(), 11, "{html}");
            assert!(html.contains(&format!("<li>2 &times; {ESCAPED}</li>")));
            assert!(
                html.contains("Gmail&#39;s image proxy")
                    || html.contains("afbeeldingsproxy van Gmail")
            );
        }
        let en = render_html(&draft("en")).render().unwrap();
        assert!(en.contains("<html lang=\"en\">") && en.contains("(to be filled in)"));
        assert!(en.contains(
            "<tr><th>First fetch (mail client)</th><td>1 January 1970, 01:01:00 (Europe/Amsterdam, UTC+1)</td></tr>"
        ));
        let nl = render_html(&draft("nl")).render().unwrap();
        assert!(nl.contains("<html lang=\"nl\">") && nl.contains("(nog in te vullen)"));
    }
}
