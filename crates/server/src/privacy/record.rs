//! The record of processing activities (GDPR Art. 30(1)) for leak detection, generated from
//! the tenant's policy and privacy settings, so that it always says what the system does:
//! `GET /api/v1/tenant/record-of-processing?format=html|json&lang=nl|en` (admins). The HTML
//! is a printable page; the JSON has the same content, in the chosen language.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use leakwatch_core::policy::TrackingScope;
use leakwatch_core::Lang;

use super::page::{Controller, ScopeWords};
use super::PrivacyState;
use crate::auth::AuthUser;
use crate::kit::error::{ApiError, ApiResult};
use crate::kit::html::{respond, Contact, PageLang, Shell};
use crate::kit::json::ApiQuery;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ControllerDetails {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TrackingDetails {
    /// `off`, `at_risk`, `external_personal_data` or `all_external`.
    pub scope: String,
    /// The scope in words.
    pub description: String,
    pub exclude_domains: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RetentionDetails {
    pub fetch_records_and_messages_days: i64,
    pub breach_register_days: i64,
    /// Both in words.
    pub description: Vec<String>,
}

/// One entry of the record of processing activities, in one language.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecordOfProcessing {
    pub lang: String,
    /// When this record was generated (RFC 3339).
    pub generated_at: String,
    pub processing: String,
    /// Art. 30(1)(a).
    pub controller: ControllerDetails,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpo: Option<String>,
    /// Art. 30(1)(b).
    pub purposes: Vec<String>,
    pub legal_bases: Vec<String>,
    /// Art. 30(1)(c).
    pub data_subjects: Vec<String>,
    pub data_categories: Vec<String>,
    /// Art. 30(1)(d).
    pub recipients: Vec<String>,
    pub processors: Vec<String>,
    /// Art. 30(1)(e).
    pub transfers: String,
    /// Art. 30(1)(f).
    pub retention: RetentionDetails,
    /// Art. 30(1)(g).
    pub security_measures: Vec<String>,
    pub tracking: TrackingDetails,
}

/// Builds the record from the tenant's policy and settings.
/// Fails only if the scope's words do not render.
pub fn build(
    c: &Controller,
    lang: Lang,
    public_url: &str,
    now_ms: i64,
) -> Result<RecordOfProcessing, askama::Error> {
    let t = |en: &str, nl: &str| lang.pick(en, nl).to_string();
    let org = c.name.as_str();
    let s = &c.settings;
    let register = match s.register_years() {
        Some(y) => format!("{y} {}", lang.pick("years", "jaar")),
        None => format!(
            "{} {}",
            s.register_retention_days,
            lang.pick("days", "dagen")
        ),
    };
    let https = public_url.starts_with("https://");
    let mut security = vec![
        t(
            "Data minimisation in the pixel: only time, fetch class, user-agent family and a keyed hash of the client's /24 (IPv4) or /48 (IPv6) network are stored; never an IP address or user-agent string, and neither is logged.",
            "Dataminimalisatie in de pixel: alleen tijdstip, soort opvraging, familie van het programma en een met een geheime sleutel berekende code (HMAC) van het /24- (IPv4) of /48-netwerk (IPv6) van de client worden opgeslagen; nooit een IP-adres of user-agent, en die worden ook niet gelogd.",
        ),
        t(
            "The network hash uses HMAC-SHA256 with a random key per day, deleted after three days; after that the hashes can no longer be linked to networks by anyone.",
            "De netwerkhash gebruikt HMAC-SHA256 met een willekeurige sleutel per dag, die na drie dagen wordt verwijderd; daarna kan niemand de hashes nog aan netwerken koppelen.",
        ),
        t(
            "Pixel tokens carry an HMAC tag: forged or guessed tokens are rejected without touching the database.",
            "Pixeltokens dragen een HMAC-tag: vervalste of geraden tokens worden geweigerd zonder de database te raadplegen.",
        ),
        t(
            "Fetch data is shown only through an incident reported by the sender, to that sender and the tenant's administrators; every view, and every change of policy, users and settings, is written to an audit log that administrators can export.",
            "Opvraaggegevens zijn alleen zichtbaar via een incident dat de afzender meldt, voor die afzender en de beheerders van de tenant; elke inzage en elke wijziging van beleid, gebruikers en instellingen komt in een auditlog dat beheerders kunnen exporteren.",
        ),
        t(
            "Access control: signed tokens (HS256 with rotatable keys, or the organisation's Microsoft Entra ID), passwords hashed with Argon2id, failed logins rate-limited.",
            "Toegangsbeveiliging: ondertekende tokens (HS256 met roteerbare sleutels, of Microsoft Entra ID van de organisatie), wachtwoorden gehasht met Argon2id, mislukte inlogpogingen begrensd.",
        ),
        t(
            "Recipients who object are kept only as a keyed hash (HMAC-SHA256) of their address; confirmation links are single-use, expire, and are stored only as a SHA-256 hash.",
            "Van ontvangers die bezwaar maken wordt alleen een met een geheime sleutel berekende code (HMAC-SHA256) van hun adres bewaard; bevestigingslinks werken één keer, verlopen en worden alleen als SHA-256-hash opgeslagen.",
        ),
        t(
            "Automatic deletion after the retention periods below, by a scheduled job that records what it deleted in the audit log.",
            "Automatische verwijdering na de bewaartermijnen hieronder, door een geplande taak die vastlegt wat zij verwijderde in het auditlog.",
        ),
    ];
    security.push(if https {
        t(
            "Transport encryption: recipients and users reach the server over HTTPS.",
            "Versleuteld transport: ontvangers en gebruikers bereiken de server via HTTPS.",
        )
    } else {
        t(
            "Attention: the server's public URL is not HTTPS. Configure TLS (e.g. at a reverse proxy) before production use.",
            "Let op: de publieke URL van de server is geen HTTPS. Stel TLS in (bijvoorbeeld bij een reverse proxy) voordat u dit in productie gebruikt.",
        )
    });
    Ok(RecordOfProcessing {
        lang: lang.code().into(),
        generated_at: crate::kit::time::rfc3339(now_ms),
        processing: t(
            "Detection of misdirected e-mail (leak detection) with a disclosed tracking pixel, and handling of the resulting personal data breaches",
            "Detectie van verkeerd verstuurde e-mail (lekdetectie) met een aangekondigde trackingpixel, en afhandeling van de datalekken die daaruit volgen",
        ),
        controller: ControllerDetails {
            name: org.to_string(),
            contact: s.contact().map(str::to_string),
        },
        dpo: c.dpo.clone(),
        purposes: vec![
            t(
                "Detecting whether an e-mail that was sent to a wrong recipient has been opened, so that a personal data breach can be assessed in time.",
                "Vaststellen of een e-mail die naar een verkeerde ontvanger is gestuurd is geopend, zodat een datalek op tijd kan worden beoordeeld.",
            ),
            t(
                "Documenting and notifying personal data breaches to the supervisory authority within 72 hours and informing data subjects (GDPR Art. 33 and 34).",
                "Documenteren en binnen 72 uur melden van datalekken bij de toezichthouder en informeren van betrokkenen (AVG art. 33 en 34).",
            ),
            t(
                "Not: marketing, profiling, read receipts for senders or monitoring of employees.",
                "Niet: marketing, profilering, leesbevestigingen voor afzenders of het volgen van medewerkers.",
            ),
        ],
        legal_bases: vec![
            t(
                "GDPR Art. 6(1)(f), legitimate interest: noticing misdirected e-mail and limiting the harm to the people whose data it contains. Recipients are informed by a notice in every tracked e-mail and may object (Art. 21).",
                "AVG art. 6 lid 1 sub f, gerechtvaardigd belang: verkeerd verstuurde e-mail opmerken en de schade beperken voor de mensen van wie die e-mail gegevens bevat. Ontvangers worden geïnformeerd door een melding in elke gevolgde e-mail en kunnen bezwaar maken (art. 21).",
            ),
            t(
                "GDPR Art. 6(1)(c), legal obligation: once a possible breach is reported, for documenting and notifying it (Art. 33 and 34).",
                "AVG art. 6 lid 1 sub c, wettelijke plicht: zodra een mogelijk datalek is gemeld, voor het documenteren en melden ervan (art. 33 en 34).",
            ),
        ],
        data_subjects: vec![
            t(
                "Recipients of tracked e-mail outside the organisation.",
                "Ontvangers buiten de organisatie van gevolgde e-mail.",
            ),
            t(
                "Senders: the organisation's employees who use the add-in.",
                "Afzenders: medewerkers van de organisatie die de add-in gebruiken.",
            ),
            t(
                "People whose personal data is in a misdirected e-mail (in the breach register, as described by the reporter).",
                "Mensen van wie persoonsgegevens in een verkeerd verstuurde e-mail staan (in het datalekregister, zoals de melder ze omschrijft).",
            ),
        ],
        data_categories: vec![
            t(
                "Per fetch of the pixel: time, fetch class (direct, Google or Apple proxy, scanner, self-view), user-agent family, keyed daily network hash.",
                "Per opvraging van de pixel: tijdstip, soort opvraging (direct, proxy van Google of Apple, scanner, eigen weergave), familie van het programma, een met een dagelijks wisselende sleutel berekende code voor het netwerk.",
            ),
            t(
                "Per message: sender, recipients' addresses, subject, the send-time check's findings and sensitive-data counts by kind (never the values), whether it is tracked and why.",
                "Per bericht: afzender, adressen van de ontvangers, onderwerp, de bevindingen van de controle bij verzenden en aantallen gevoelige gegevens per soort (nooit de waarden), of het gevolgd wordt en waarom.",
            ),
            t(
                "Per incident: the reported wrong recipients, time of awareness, assessment, decision and notification details.",
                "Per incident: de gemelde verkeerde ontvangers, moment van kennisname, beoordeling, besluit en gegevens van de melding.",
            ),
            t(
                "Per objection: a keyed hash of the recipient's address.",
                "Per bezwaar: een met een geheime sleutel berekende code van het adres van de ontvanger.",
            ),
            t(
                "No special categories of personal data are collected by the tracking itself; a misdirected e-mail may contain them, which the incident records as a category, not as content.",
                "De tracking zelf verzamelt geen bijzondere persoonsgegevens; een verkeerd verstuurde e-mail kan ze bevatten, wat het incident vastlegt als categorie, niet als inhoud.",
            ),
        ],
        recipients: vec![
            t(
                "The sender of the message, and the organisation's privacy officers and administrators, only through an incident.",
                "De afzender van het bericht, en de privacyfunctionarissen en beheerders van de organisatie, alleen via een incident.",
            ),
            t(
                "The supervisory authority (Autoriteit Persoonsgegevens) and affected data subjects, in a breach notification.",
                "De toezichthouder (Autoriteit Persoonsgegevens) en betrokkenen, in een melding van een datalek.",
            ),
        ],
        processors: s.processors.clone(),
        transfers: t(
            "None. No personal data is transferred to third countries or international organisations by this processing.",
            "Geen. Deze verwerking geeft geen persoonsgegevens door aan derde landen of internationale organisaties.",
        ),
        retention: RetentionDetails {
            fetch_records_and_messages_days: s.retention_days,
            breach_register_days: s.register_retention_days,
            description: vec![
                lang.pick(
                    "Fetch records and message data: {days} days after sending, then deleted automatically, unless the message is part of an incident.",
                    "Opvraaggegevens en berichtgegevens: {days} dagen na verzending, daarna automatisch verwijderd, tenzij het bericht deel is van een incident.",
                )
                .replace("{days}", &s.retention_days.to_string()),
                lang.pick(
                    "Incidents (breach register, GDPR Art. 33(5)) with their message, evidence and alerts: {register} after their last change, then deleted automatically; five years by default, because the authority's power to fine lapses five years after an infringement (Awb art. 5:45).",
                    "Incidenten (datalekregister, AVG art. 33 lid 5) met hun bericht, bewijs en meldingen: {register} na de laatste wijziging, daarna automatisch verwijderd; standaard vijf jaar, omdat de bevoegdheid van de toezichthouder om te beboeten vijf jaar na een overtreding vervalt (Awb art. 5:45).",
                )
                .replace("{register}", &register),
                t(
                    "Daily network keys: three days. Objections: as long as the organisation uses the system, so that they keep being honoured. Unconfirmed objection requests: until their link expires.",
                    "Dagelijkse netwerksleutels: drie dagen. Bezwaren: zolang de organisatie het systeem gebruikt, zodat ze gerespecteerd blijven. Onbevestigde bezwaarverzoeken: tot hun link verloopt.",
                ),
            ],
        },
        security_measures: security,
        tracking: TrackingDetails {
            scope: match c.policy.tracking.scope {
                TrackingScope::Off => "off",
                TrackingScope::AtRisk => "at_risk",
                TrackingScope::ExternalPersonalData => "external_personal_data",
                TrackingScope::AllExternal => "all_external",
            }
            .into(),
            description: ScopeWords::text(&c.policy.tracking, org, lang)?,
            exclude_domains: c.policy.tracking.exclude_domains.clone(),
        },
    })
}

/// The printable page (`templates/privacy/record.html`).
#[derive(Template)]
#[template(path = "privacy/record.html")]
pub struct RecordPage<'a> {
    shell: Shell,
    en: bool,
    heading: &'static str,
    r: &'a RecordOfProcessing,
    c: &'a Controller,
    contact_lines: Vec<&'a str>,
    dpo: Option<Contact>,
    scope: ScopeWords,
}

/// The printable page.
pub fn html<'a>(r: &'a RecordOfProcessing, c: &'a Controller, lang: Lang) -> RecordPage<'a> {
    let heading = lang.pick(
        "Record of processing: leak detection",
        "Verwerkingsregister: lekdetectie",
    );
    RecordPage {
        shell: Shell {
            lang,
            brand: lang.pick(
                "Record of processing activities",
                "Register van verwerkingsactiviteiten",
            ),
            title: format!("{heading} · {}", c.name),
            switch: None,
            wide: true,
        },
        en: lang == Lang::En,
        heading,
        r,
        c,
        contact_lines: r
            .controller
            .contact
            .as_deref()
            .map(|contact| contact.split('\n').collect())
            .unwrap_or_default(),
        dpo: c.dpo.as_deref().map(Contact::new),
        scope: ScopeWords::new(&c.policy.tracking, &c.name, lang, true),
    }
}

/// The record's query: `format=json` or the printable page (`lang` is read by [`PageLang`]).
#[derive(Debug, Deserialize)]
pub struct RecordParams {
    format: Option<String>,
}

/// The tenant's record of processing for leak detection (admins).
#[utoipa::path(get, path = "/api/v1/tenant/record-of-processing", tag = "privacy", security(("bearer" = [])),
    params(("format" = Option<String>, Query, description = "html (default) or json"),
        ("lang" = Option<String>, Query, description = "nl or en; default from Accept-Language")),
    responses((status = 200, description = "The record: a printable HTML page, or JSON", body = RecordOfProcessing),
        (status = 400, description = "Unknown format"), (status = 403, description = "Not an admin")))]
pub async fn show(
    State(state): State<PrivacyState>,
    user: AuthUser,
    PageLang(lang): PageLang,
    ApiQuery(params): ApiQuery<RecordParams>,
) -> ApiResult<Response> {
    user.require_admin()?;
    let format = params.format.as_deref().unwrap_or("html");
    let controller = Controller::of_tenant(state.db(), &user.tenant_id)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    let record = build(
        &controller,
        lang,
        state.public_url(),
        state.clock().now_ms(),
    )
    .map_err(|e| ApiError::Internal(e.into()))?;
    match format {
        "json" => Ok(Json(record).into_response()),
        "html" => Ok(respond(
            StatusCode::OK,
            lang,
            &html(&record, &controller, lang),
        )),
        other => Err(ApiError::BadRequest(format!(
            "format: expected html or json, got '{}'",
            other.chars().take(20).collect::<String>()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::privacy::settings::PrivacySettings;
    use leakwatch_core::Policy;

    const HOSTILE: &str = "<script>alert('x')</script> \"Acme\" & Zonen";
    const ESCAPED: &str =
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &quot;Acme&quot; &amp; Zonen";

    #[test]
    fn the_record_escapes_the_tenant_and_its_settings() {
        let mut policy = Policy::default();
        policy.disclosure.dpo_contact = Some(HOSTILE.into());
        policy.tracking.exclude_domains = vec!["<b>.de".into()];
        let c = Controller {
            tenant_id: "t".into(),
            name: HOSTILE.into(),
            dpo: policy.disclosure.dpo_contact(),
            policy,
            settings: PrivacySettings {
                controller_contact: Some(format!("{HOSTILE}\nPostbus 1")),
                ..PrivacySettings::default()
            },
        };
        for lang in Lang::ALL {
            let record = build(&c, lang, "https://lw.example", 0).unwrap();
            let html = html(&record, &c, lang).render().unwrap();
            assert!(!html.contains("<script"), "{html}");
            assert!(!html.contains("<b>"));
            assert!(html.contains("<code>&lt;b&gt;.de</code>"));
            assert!(html.contains(&format!(
                "<title>{}",
                lang.pick("Record of processing", "Verwerkingsregister")
            )));
            assert!(
                html.contains(&format!("{ESCAPED}<br>{ESCAPED}<br>Postbus 1</td>")),
                "{html}"
            );
            // Title, lead, controller with its contact, DPO, the scope's words twice.
            assert!(html.matches(ESCAPED).count() >= 6, "{html}");
            // The JSON's words are plain text.
            assert!(record.tracking.description.contains("<b>.de"));
            assert!(!record.tracking.description.contains("<code>"));
        }
    }
}
