//! The recipients' transparency page, `GET /i/{message_id}` (the disclosure's `info_url`):
//! who tracks, why, what is stored, for how long, the recipient's rights, how to complain,
//! and the objection form. Dutch and English (`?lang=`, else `Accept-Language`).
//!
//! The page records nothing: no row is written, nothing about the request is logged. It
//! never shows anything about the message itself (subject, sender, recipients, whether it
//! was tracked or opened). An id of no message (mistyped, or deleted after the retention
//! period) gets the generic version of the page, with the same status and headers; only
//! someone holding a real link, who has the e-mail and its notice naming the organisation
//! anyway, sees the organisation's own details.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use leakwatch_core::policy::{TrackingPolicy, TrackingScope};
use leakwatch_core::{Lang, Policy};

use super::settings::{self, PrivacySettings, DEFAULT_RETENTION_DAYS};
use super::PrivacyState;
use crate::accounts::{self, AccountsError};
use crate::kit::db::Db;
use crate::kit::html::{respond, Contact, PageLang, Shell};
use crate::kit::ids::TenantId;
use crate::kit::json::ApiPath;

/// Message ids are 22 characters; anything much longer is not one (and is not looked up).
const MAX_ID_LEN: usize = 64;

/// The controller behind a message: the tenant, as the recipient should know it.
#[derive(Debug, Clone)]
pub struct Controller {
    pub tenant_id: TenantId,
    /// `policy.disclosure.organization`, else the tenant's name.
    pub name: String,
    pub dpo: Option<String>,
    pub policy: Policy,
    pub settings: PrivacySettings,
}

impl Controller {
    pub async fn of_tenant(
        db: &Db,
        tenant_id: &TenantId,
    ) -> Result<Option<Controller>, AccountsError> {
        let Some(tenant) = accounts::tenant_by_id(db, tenant_id).await? else {
            return Ok(None);
        };
        let settings = settings::load(db, tenant_id).await?;
        Ok(Some(Controller {
            tenant_id: tenant.id,
            name: tenant
                .policy
                .disclosure
                .organization()
                .unwrap_or_else(|| tenant.name.clone()),
            dpo: tenant.policy.disclosure.dpo_contact(),
            policy: tenant.policy,
            settings,
        }))
    }

    /// The controller of a message, or `None` when there is no such message.
    pub async fn of_message(
        db: &Db,
        message_id: &str,
    ) -> Result<Option<Controller>, AccountsError> {
        if message_id.is_empty() || message_id.len() > MAX_ID_LEN {
            return Ok(None);
        }
        let tenant: Option<TenantId> =
            sqlx::query_scalar("SELECT tenant_id FROM messages WHERE id = $1")
                .bind(message_id)
                .fetch_optional(&db.pool)
                .await?;
        match tenant {
            Some(tenant) => Controller::of_tenant(db, &tenant).await,
            None => Ok(None),
        }
    }
}

/// The transparency page for the recipients of a message.
#[utoipa::path(get, path = "/i/{id}", tag = "privacy",
    params(("id" = String, Path, description = "Message id (from the disclosure's link)"),
        ("lang" = Option<String>, Query, description = "nl or en; default from Accept-Language")),
    responses((status = 200, description = "The transparency page (HTML); a generic one for unknown ids", content_type = "text/html")))]
pub async fn show(
    State(state): State<PrivacyState>,
    ApiPath(id): ApiPath<String>,
    PageLang(lang): PageLang,
) -> Response {
    let controller = match Controller::of_message(state.db(), &id).await {
        Ok(c) => c,
        Err(e) => {
            // Still useful without the organisation's details.
            tracing::warn!(error = %e, "transparency page without its controller");
            None
        }
    };
    let mail = state.mailer().is_configured();
    let page = render(controller.as_ref(), lang, &id, mail, None);
    respond(StatusCode::OK, lang, &page)
}

/// What the objection form shows after a failed attempt.
pub struct FormState<'a> {
    pub address: &'a str,
    pub error: &'a str,
}

/// The transparency page (`templates/privacy/transparency.html`). `org` is the
/// organisation's name, or words for it on the generic page (`c` is `None`).
#[derive(Template)]
#[template(path = "privacy/transparency.html")]
pub struct TransparencyPage<'a> {
    shell: Shell,
    en: bool,
    c: Option<ControllerDetails>,
    org: String,
    org_cap: String,
    /// `org` closing a sentence: one full stop, also after "B.V.".
    org_end: String,
    days_text: String,
    register: String,
    message_id: &'a str,
    mail: bool,
    form: Option<FormState<'a>>,
}

/// What the page says of a known organisation besides its name.
struct ControllerDetails {
    dpo: Option<Contact>,
    /// The organisation's privacy contact, its lines joined, without the organisation's
    /// name when it starts with it (the page names it just before) and without a closing
    /// full stop (the sentence has its own).
    contact: Option<String>,
    /// Who processes the data on the organisation's behalf (privacy settings).
    processors: Vec<String>,
    scope: ScopeWords,
}

/// `text` as the end of a sentence: with one full stop.
pub fn sentence_end(text: &str) -> String {
    let text = text.trim_end();
    if text.ends_with(['.', '!', '?']) {
        text.to_string()
    } else {
        format!("{text}.")
    }
}

/// The contact details as the page shows them after the organisation's name.
fn contact_after_name(contact: &str, name: &str) -> String {
    let joined = contact
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    let rest = match joined.get(..name.len()) {
        Some(head) if !name.is_empty() && head.eq_ignore_ascii_case(name) => joined[name.len()..]
            .trim_start_matches([',', ':', ';', ' '])
            .to_string(),
        _ => joined,
    };
    rest.trim_end_matches(['.', ' ']).to_string()
}

/// The page. `mail`: whether confirmation links can be sent (else the form is replaced by
/// whom to write to).
pub fn render<'a>(
    c: Option<&Controller>,
    lang: Lang,
    message_id: &'a str,
    mail: bool,
    form: Option<FormState<'a>>,
) -> TransparencyPage<'a> {
    let t = |en: &'static str, nl: &'static str| lang.pick(en, nl);
    let other = match lang {
        Lang::En => "?lang=nl",
        Lang::Nl => "?lang=en",
    };
    let org = match c {
        Some(c) => c.name.clone(),
        None => t(
            "the organisation that sent you the e-mail",
            "de organisatie die u de e-mail stuurde",
        )
        .to_string(),
    };
    let days = c
        .map(|c| c.settings.retention_days)
        .unwrap_or(DEFAULT_RETENTION_DAYS);
    let days_text = match (c, lang) {
        (Some(_), Lang::En) => format!("{days} days"),
        (Some(_), Lang::Nl) => format!("{days} dagen"),
        (None, Lang::En) => format!("{days} days (unless the organisation chose another period)"),
        (None, Lang::Nl) => format!("{days} dagen (tenzij de organisatie een andere termijn koos)"),
    };
    let register = match c.map(|c| {
        (
            c.settings.register_years(),
            c.settings.register_retention_days,
        )
    }) {
        Some((Some(years), _)) => format!("{years} {}", t("years", "jaar")),
        Some((None, d)) => format!("{d} {}", t("days", "dagen")),
        None => t(
            "five years (unless the organisation chose another period)",
            "vijf jaar (tenzij de organisatie een andere termijn koos)",
        )
        .to_string(),
    };
    let title = match c {
        Some(c) => format!("{} · {}", t("Privacy notice", "Privacyverklaring"), c.name),
        None => t("Privacy notice", "Privacyverklaring").to_string(),
    };
    TransparencyPage {
        shell: Shell::privacy(lang, title, Some(other)),
        en: lang == Lang::En,
        c: c.map(|c| ControllerDetails {
            dpo: c.dpo.as_deref().map(Contact::new),
            contact: c
                .settings
                .contact()
                .map(|contact| contact_after_name(contact, &c.name))
                .filter(|contact| !contact.is_empty()),
            processors: c.settings.processors.clone(),
            scope: ScopeWords::new(&c.policy.tracking, &c.name, lang, true),
        }),
        org_cap: capitalise(&org),
        org_end: sentence_end(&org),
        org,
        days_text,
        register,
        message_id,
        mail,
        form,
    }
}

/// Which e-mails a tenant tracks, in words, with the exclusions
/// (`templates/privacy/scope.html`). With `markup` the excluded domains are `<code>`.
pub struct ScopeWords {
    pub(super) scope: TrackingScope,
    pub(super) excluded: Vec<String>,
    pub(super) org: String,
    pub(super) org_cap: String,
    /// `org` closing a sentence (one full stop, also after "B.V.").
    pub(super) org_end: String,
    pub(super) en: bool,
    pub(super) markup: bool,
}

impl ScopeWords {
    pub fn new(tracking: &TrackingPolicy, org: &str, lang: Lang, markup: bool) -> ScopeWords {
        ScopeWords {
            scope: tracking.scope,
            excluded: tracking
                .exclude_domains
                .iter()
                .map(|d| d.trim())
                .filter(|d| !d.is_empty())
                .map(str::to_string)
                .collect(),
            org: org.to_string(),
            org_cap: capitalise(org),
            org_end: sentence_end(org),
            en: lang == Lang::En,
            markup,
        }
    }

    /// The words as plain text (for JSON).
    pub fn text(tracking: &TrackingPolicy, org: &str, lang: Lang) -> Result<String, askama::Error> {
        ScopeText {
            scope: ScopeWords::new(tracking, org, lang, false),
        }
        .render()
    }
}

#[derive(Template)]
#[template(
    source = "{%- import \"privacy/scope.html\" as scope -%}{% call scope::scope_words(scope) %}",
    ext = "txt"
)]
struct ScopeText {
    scope: ScopeWords,
}

/// The first letter in upper case.
fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn controller(name: &str) -> Controller {
        let mut policy = Policy::default();
        policy.disclosure.dpo_contact = Some("fg@acme.nl".into());
        policy.tracking.exclude_domains = vec![".de".into(), "partner.be".into()];
        Controller {
            tenant_id: "t".into(),
            name: name.into(),
            dpo: policy.disclosure.dpo_contact(),
            policy,
            settings: PrivacySettings {
                retention_days: 14,
                ..PrivacySettings::default()
            },
        }
    }

    #[test]
    fn the_page_escapes_the_organisation_and_says_what_it_must() {
        let c = controller("<b>Acme</b> & \"Zonen\" <script>'x'");
        for lang in Lang::ALL {
            let html = render(Some(&c), lang, "abc", true, None).render().unwrap();
            assert!(!html.contains("<b>Acme"), "{html}");
            assert!(html.contains(
                "&lt;b&gt;Acme&lt;/b&gt; &amp; &quot;Zonen&quot; &lt;script&gt;&#39;x&#39;"
            ));
            assert!(html.contains("mailto:fg@acme.nl"));
            assert!(html.contains("14 "), "the tenant's retention period");
            assert!(html.contains("autoriteitpersoonsgegevens.nl"));
            assert!(html.contains("<code>.de</code>"));
            assert!(html.contains("action=\"abc/objection?lang="));
            assert!(!html.contains("<script"));
            assert!(!html.contains("<img"));
        }
        let nl = render(Some(&c), Lang::Nl, "abc", true, None)
            .render()
            .unwrap();
        assert!(
            nl.contains("<html lang=\"nl\">") && nl.contains("Functionaris gegevensbescherming")
        );
        assert!(nl.contains("href=\"?lang=en\""));
        let en = render(Some(&c), Lang::En, "abc", true, None)
            .render()
            .unwrap();
        assert!(en.contains("<html lang=\"en\">") && en.contains("Data protection officer"));
        assert!(en.contains("href=\"?lang=nl\""));
    }

    #[test]
    fn unknown_messages_get_the_generic_page_without_a_form() {
        let html = render(None, Lang::En, "\"><script>", true, None)
            .render()
            .unwrap();
        assert!(!html.contains("<form"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("the organisation that sent you the e-mail"));
    }

    #[test]
    fn without_mail_the_form_says_whom_to_write_to() {
        let html = render(Some(&controller("Acme")), Lang::En, "abc", false, None)
            .render()
            .unwrap();
        assert!(!html.contains("<form"));
        assert!(html.contains("not available"));
        assert!(html.contains("mailto:fg@acme.nl"));
    }

    #[test]
    fn every_scope_has_words() {
        for scope in [
            TrackingScope::Off,
            TrackingScope::AtRisk,
            TrackingScope::ExternalPersonalData,
            TrackingScope::AllExternal,
        ] {
            let tracking = TrackingPolicy {
                scope,
                exclude_domains: vec![],
            };
            let en = ScopeWords::text(&tracking, "Acme", Lang::En).unwrap();
            let nl = ScopeWords::text(&tracking, "Acme", Lang::Nl).unwrap();
            assert!(en.contains("Acme") && nl.contains("Acme"), "{en} / {nl}");
            assert_ne!(en, nl);
        }
    }
}
