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

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use leakwatch_core::policy::{TrackingPolicy, TrackingScope};
use leakwatch_core::{Lang, Policy};

use super::settings::{self, PrivacySettings, DEFAULT_RETENTION_DAYS};
use super::PrivacyState;
use crate::accounts::{self, AccountsError};
use crate::kit::db::Db;
use crate::kit::html::{esc, page, respond, PageLang};

/// Message ids are 22 characters; anything much longer is not one (and is not looked up).
const MAX_ID_LEN: usize = 64;

/// The controller behind a message: the tenant, as the recipient should know it.
#[derive(Debug, Clone)]
pub struct Controller {
    pub tenant_id: String,
    /// `policy.disclosure.organization`, else the tenant's name.
    pub name: String,
    pub dpo: Option<String>,
    pub policy: Policy,
    pub settings: PrivacySettings,
}

impl Controller {
    pub async fn of_tenant(db: &Db, tenant_id: &str) -> Result<Option<Controller>, AccountsError> {
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
        let tenant: Option<String> =
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
    Path(id): Path<String>,
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
    let html = render(controller.as_ref(), lang, &id, mail, None);
    respond(StatusCode::OK, lang, html)
}

/// What the objection form shows after a failed attempt.
pub struct FormState<'a> {
    pub address: &'a str,
    pub error: &'a str,
}

/// The page. `mail`: whether confirmation links can be sent (else the form is replaced by
/// whom to write to).
pub fn render(
    c: Option<&Controller>,
    lang: Lang,
    message_id: &str,
    mail: bool,
    form: Option<FormState<'_>>,
) -> String {
    let t = |en: &'static str, nl: &'static str| lang.pick(en, nl);
    let other = match lang {
        Lang::En => "?lang=nl",
        Lang::Nl => "?lang=en",
    };
    let generic = t(
        "the organisation that sent you the e-mail",
        "de organisatie die u de e-mail stuurde",
    );
    let org = c
        .map(|c| esc(&c.name))
        .unwrap_or_else(|| generic.to_string());
    let org_cap = capitalise(&org);
    let heading = match c {
        Some(_) => format!(
            "{} {org}",
            t("Leak detection in e-mail from", "Lekdetectie in e-mail van")
        ),
        None => t("Leak detection in e-mail", "Lekdetectie in e-mail").to_string(),
    };
    let lead = match c {
        Some(_) => t(
                "An e-mail from {org} links to this page from its privacy notice. Here you can read what that notice is about: what is recorded, why, for how long, and how you can say no.",
                "Een e-mail van {org} verwijst in de privacymelding naar deze pagina. Hier leest u waar die melding over gaat: wat er wordt vastgelegd, waarom, hoe lang, en hoe u nee kunt zeggen.",
            )
            .replace("{org}", &org),
        None => t(
            "An e-mail links to this page from its privacy notice. Here you can read what that notice is about: what is recorded, why, for how long, and how you can say no.",
            "Een e-mail verwijst in de privacymelding naar deze pagina. Hier leest u waar die melding over gaat: wat er wordt vastgelegd, waarom, hoe lang, en hoe u nee kunt zeggen.",
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
    let sub = |text: &str| text.replace("{org}", &org).replace("{Org}", &org_cap);

    let mut main = String::new();

    // At a glance.
    let who = match c {
        Some(c) => {
            let mut who = sub(t(
                "{Org} is responsible for it (the controller).",
                "{Org} is ervoor verantwoordelijk (de verwerkingsverantwoordelijke).",
            ));
            if let Some(dpo) = &c.dpo {
                who.push_str(&format!(
                    " {}: {}.",
                    t("Data protection officer", "Functionaris gegevensbescherming"),
                    contact_html(dpo)
                ));
            }
            who
        }
        None => sub(t(
            "{Org} is responsible for it (the controller); its notice in the e-mail names it.",
            "{Org} is ervoor verantwoordelijk (de verwerkingsverantwoordelijke); de melding in de e-mail noemt haar naam.",
        )),
    };
    let facts = [
        (t("Who", "Wie"), who),
        (
            t("Why", "Waarom"),
            t(
                "Only to notice whether an e-mail that went to the wrong person was opened, so that a data breach is handled and reported in time.",
                "Alleen om te merken of een e-mail die bij de verkeerde persoon terechtkwam is geopend, zodat een datalek op tijd wordt afgehandeld en gemeld.",
            )
            .to_string(),
        ),
        (
            t("What", "Wat"),
            t(
                "When a small image in the e-mail loads: the time, the kind of request, the kind of mail program and a daily-changing code for the network. Never your IP address.",
                "Als een klein plaatje in de e-mail laadt: het tijdstip, het soort opvraging, het soort mailprogramma en een dagelijks wisselende code voor het netwerk. Nooit uw IP-adres.",
            )
            .to_string(),
        ),
        (
            t("How long", "Hoe lang"),
            format!(
                "{} {}",
                days_text,
                t(
                    "after sending, then deleted automatically; longer only if the e-mail turns out to be a data breach.",
                    "na verzending, daarna automatisch verwijderd; langer alleen als de e-mail een datalek blijkt te zijn.",
                )
            ),
        ),
        (
            t("Your choice", "Uw keuze"),
            match c {
                Some(_) => sub(t(
                    "<a href=\"#object\">Object below</a>, and e-mail from {org} to you is no longer tracked. Or block remote images in your mail program.",
                    "<a href=\"#object\">Maak hieronder bezwaar</a>, dan wordt e-mail van {org} aan u niet meer gevolgd. Of blokkeer externe afbeeldingen in uw mailprogramma.",
                )),
                None => t(
                    "Object with the organisation, and e-mail from it to you is no longer tracked. Or block remote images in your mail program.",
                    "Maak bezwaar bij de organisatie, dan wordt e-mail van haar aan u niet meer gevolgd. Of blokkeer externe afbeeldingen in uw mailprogramma.",
                )
                .to_string(),
            },
        ),
    ];
    main.push_str(&format!(
        "<section class=\"card\"><h2>{}</h2><dl class=\"facts\">",
        t("At a glance", "In het kort")
    ));
    for (term, text) in facts {
        main.push_str(&format!("<dt>{term}</dt><dd>{text}</dd>"));
    }
    main.push_str("</dl></section>");

    // Why.
    main.push_str(&format!(
        "<section class=\"card\"><h2>{}</h2><p>{}</p><p>{}</p></section>",
        t("Why this is done", "Waarom dit gebeurt"),
        sub(t(
            "People sometimes send an e-mail to the wrong address, for instance when the mail program completes a name to the wrong contact. If that e-mail contains personal data, it is a data breach: {org} has to assess it and, where required, report it to the Dutch Data Protection Authority within 72 hours and inform the people concerned (GDPR Articles 33 and 34). Whether the e-mail was opened makes a great difference to that assessment.",
            "Iedereen stuurt wel eens een e-mail naar het verkeerde adres, bijvoorbeeld doordat het mailprogramma een naam aanvult tot het verkeerde contact. Staan er persoonsgegevens in die e-mail, dan is dat een datalek: {org} moet het beoordelen en zo nodig binnen 72 uur melden bij de Autoriteit Persoonsgegevens en de betrokkenen informeren (AVG artikelen 33 en 34). Of de e-mail is geopend, maakt voor die beoordeling veel uit.",
        )),
        t(
            "That is the only purpose. The records are not used for marketing, for profiling or as read receipts: the sender does not see when an e-mail is opened. They are looked at only when the sender reports that an e-mail went to the wrong person, and every such look is logged.",
            "Dat is het enige doel. De gegevens worden niet gebruikt voor marketing, profilering of leesbevestigingen: de afzender ziet niet wanneer een e-mail wordt geopend. Ze worden alleen bekeken als de afzender meldt dat een e-mail bij de verkeerde persoon is beland, en elke keer dat dat gebeurt wordt vastgelegd.",
        ),
    ));

    // Which e-mails.
    let which = match c {
        Some(c) => format!(
            "<p>{}</p><p>{}</p>",
            scope_html(&c.policy.tracking, &org, lang),
            sub(t(
                "Every e-mail that contains the image also contains the notice that links here.",
                "Elke e-mail met het plaatje bevat ook de melding die naar deze pagina verwijst.",
            ))
        ),
        None => format!(
            "<p>{}</p>",
            t(
                "The organisation decides which of its e-mails contain the image: by default only e-mail at risk of a leak (sent outside the organisation despite a warning about its recipients, or containing identity numbers or health information). E-mail within the organisation and e-mail to anyone who objected never does, and every e-mail that contains the image also contains the notice that links here.",
                "De organisatie bepaalt welke van haar e-mails het plaatje bevatten: standaard alleen e-mail met een risico op een datalek (buiten de organisatie verstuurd ondanks een waarschuwing over de ontvangers, of met identiteitsnummers of gezondheidsgegevens). E-mail binnen de organisatie en e-mail aan iemand die bezwaar heeft gemaakt nooit, en elke e-mail met het plaatje bevat ook de melding die naar deze pagina verwijst.",
            )
        ),
    };
    main.push_str(&format!(
        "<section class=\"card\"><h2>{}</h2>{which}</section>",
        t(
            "Which e-mails contain the image",
            "Welke e-mails het plaatje bevatten"
        )
    ));

    // What is recorded.
    main.push_str(&format!(
        "<section class=\"card\"><h2>{}</h2><p>{}</p><ul><li>{}</li><li>{}</li><li>{}</li><li>{}</li></ul><p>{}</p><p class=\"note\">{}</p></section>",
        t("What is recorded", "Wat er wordt vastgelegd"),
        t(
            "Each time the image is loaded, these four things are recorded, and nothing else:",
            "Elke keer dat het plaatje wordt geladen, worden deze vier dingen vastgelegd, en verder niets:",
        ),
        t("the date and time;", "de datum en tijd;"),
        t(
            "the kind of request: a mail program opening the e-mail, the image proxy of Gmail or Apple Mail, or a security scanner checking it;",
            "het soort opvraging: een mailprogramma dat de e-mail opent, de afbeeldingsproxy van Gmail of Apple Mail, of een beveiligingsscanner die de e-mail controleert;",
        ),
        t(
            "the family of the program, such as Outlook or Thunderbird, not the full description your program sends along;",
            "de familie van het programma, zoals Outlook of Thunderbird, niet de volledige omschrijving die uw programma meestuurt;",
        ),
        sub(t(
            "a code for the network the request came from (its first three numbers, for an IPv4 address), computed with a key that changes every day and is destroyed after three days. After that nobody can tell which network a code stands for, {org} and the server's operator included.",
            "een code voor het netwerk waar de opvraging vandaan kwam (de eerste drie getallen, bij een IPv4-adres), berekend met een sleutel die elke dag wisselt en na drie dagen wordt vernietigd. Daarna kan niemand meer zien voor welk netwerk een code staat, ook {org} en de beheerder van de server niet.",
        )),
        sub(t(
            "Not recorded: your IP address, your e-mail address, your location, your device, cookies. The records belong to the e-mail, not to a person. Besides them, {org} keeps what it knows of the e-mail itself (subject, recipients, the warning the sender saw) for the same period.",
            "Niet vastgelegd: uw IP-adres, uw e-mailadres, uw locatie, uw apparaat, cookies. De gegevens horen bij de e-mail, niet bij een persoon. Daarnaast bewaart {org} wat het van de e-mail zelf weet (onderwerp, ontvangers, de waarschuwing die de afzender zag) even lang.",
        )),
        t(
            "Opening this page is not recorded.",
            "Het openen van deze pagina wordt niet vastgelegd.",
        ),
    ));

    // How long.
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
    main.push_str(&format!(
        "<section class=\"card\"><h2>{}</h2><p>{}</p><p>{}</p></section>",
        t("How long", "Hoe lang"),
        t(
            "The records of requests and of the e-mail are deleted automatically {days} after it was sent.",
            "De gegevens over opvragingen en over de e-mail worden {days} na verzending automatisch verwijderd.",
        )
        .replace("{days}", &days_text),
        sub(t(
            "If the sender reports that the e-mail went to the wrong person, its records become part of the register of data breaches that {org} must keep by law (GDPR Article 33(5)). That register is kept for {register} after the breach was last dealt with, so that the supervisory authority can check how it was handled, and is then deleted.",
            "Meldt de afzender dat de e-mail bij de verkeerde persoon is beland, dan gaan de gegevens deel uitmaken van het register van datalekken dat {org} wettelijk moet bijhouden (AVG artikel 33, lid 5). Dat register wordt {register} na de laatste afhandeling bewaard, zodat de toezichthouder kan nagaan hoe het lek is behandeld, en daarna verwijderd.",
        ))
        .replace("{register}", &register),
    ));

    // Legal basis.
    main.push_str(&format!(
        "<section class=\"card\"><h2>{}</h2><p>{}</p></section>",
        t("Legal basis", "Grondslag"),
        sub(t(
            "{Org} relies on a legitimate interest: noticing misdirected e-mail and limiting the harm to the people whose data it contains (GDPR Article 6(1)(f)). Once an e-mail is reported as a possible data breach, keeping and using its records is needed for the legal duty to document and report data breaches (Article 6(1)(c), with Articles 33 and 34).",
            "{Org} baseert zich op een gerechtvaardigd belang: verkeerd verstuurde e-mail opmerken en de schade beperken voor de mensen van wie die e-mail gegevens bevat (AVG artikel 6, lid 1, onder f). Is een e-mail gemeld als mogelijk datalek, dan is het bewaren en gebruiken van de gegevens nodig voor de wettelijke plicht om datalekken te documenteren en te melden (artikel 6, lid 1, onder c, met de artikelen 33 en 34).",
        )),
    ));

    // Objection.
    main.push_str(&objection_card(c, lang, message_id, mail, form, &org));

    // Rights and complaints.
    let reach = match c {
        Some(c) => {
            let mut reach = Vec::new();
            if let Some(dpo) = &c.dpo {
                reach.push(format!(
                    "{} {org}: {}",
                    t("the data protection officer of", "de functionaris gegevensbescherming van"),
                    contact_html(dpo)
                ));
            }
            if let Some(contact) = c.settings.contact() {
                reach.push(format!("{org}: {}", esc(contact).replace('\n', ", ")));
            }
            if reach.is_empty() {
                sub(t(
                    "To use these rights, or with questions, contact {org}.",
                    "Wilt u deze rechten gebruiken of hebt u vragen, neem dan contact op met {org}.",
                ))
            } else {
                format!(
                    "{} {}.",
                    t(
                        "To use these rights, or with questions, write to",
                        "Wilt u deze rechten gebruiken of hebt u vragen, schrijf dan aan",
                    ),
                    reach.join(t("; or ", "; of "))
                )
            }
        }
        None => t(
            "To use these rights, or with questions, contact the organisation named in the e-mail's notice.",
            "Wilt u deze rechten gebruiken of hebt u vragen, neem dan contact op met de organisatie die de melding in de e-mail noemt.",
        )
        .to_string(),
    };
    main.push_str(&format!(
        "<section class=\"card\"><h2>{}</h2><p>{}</p><p>{}</p><p>{}</p></section>",
        t("Your rights, and complaints", "Uw rechten, en klachten"),
        sub(t(
            "You have the right to access the data about you, to have it corrected or erased, and to have its processing restricted (GDPR Articles 15 to 18). Because the records contain neither your e-mail address nor your IP address, {org} usually cannot tell which records are about you (Article 11); telling it which e-mail you mean helps.",
            "U hebt recht op inzage in de gegevens over u, op correctie of verwijdering, en op beperking van de verwerking (AVG artikelen 15 tot en met 18). Omdat de gegevens uw e-mailadres noch uw IP-adres bevatten, kan {org} meestal niet zien welke gegevens over u gaan (artikel 11); het helpt als u aangeeft om welke e-mail het gaat.",
        )),
        reach,
        t(
            "If you think your data is not handled properly, you may complain to the supervisory authority, the Dutch Data Protection Authority (Autoriteit Persoonsgegevens): <a href=\"https://autoriteitpersoonsgegevens.nl/\" rel=\"noreferrer\">autoriteitpersoonsgegevens.nl</a> (GDPR Article 77). If you live or work in another EU country, you may also complain to the authority there.",
            "Vindt u dat er niet goed met uw gegevens wordt omgegaan, dan kunt u een klacht indienen bij de toezichthouder, de Autoriteit Persoonsgegevens: <a href=\"https://autoriteitpersoonsgegevens.nl/\" rel=\"noreferrer\">autoriteitpersoonsgegevens.nl</a> (AVG artikel 77). Woont of werkt u in een ander EU-land, dan kunt u ook bij de toezichthouder daar terecht.",
        ),
    ));
    main.push_str(&format!(
        "<p class=\"foot\">{}</p>",
        match c {
            Some(_) => sub(t(
                "Provided on behalf of {org} by leakwatch, open-source leak detection for e-mail.",
                "Namens {org} aangeboden door leakwatch, opensource-lekdetectie voor e-mail.",
            )),
            None => t(
                "Provided by leakwatch, open-source leak detection for e-mail.",
                "Aangeboden door leakwatch, opensource-lekdetectie voor e-mail.",
            )
            .to_string(),
        }
    ));
    let title = match c {
        Some(c) => format!("{} · {}", t("Privacy notice", "Privacyverklaring"), c.name),
        None => t("Privacy notice", "Privacyverklaring").to_string(),
    };
    page(lang, &title, &heading, &lead, Some(other), &main)
}

fn objection_card(
    c: Option<&Controller>,
    lang: Lang,
    message_id: &str,
    mail: bool,
    form: Option<FormState<'_>>,
    org: &str,
) -> String {
    let t = |en: &'static str, nl: &'static str| lang.pick(en, nl);
    let title = t(
        "Say no: do not track e-mail to me",
        "Nee zeggen: volg e-mail aan mij niet",
    );
    let Some(c) = c else {
        return format!(
            "<section class=\"card object\" id=\"object\"><h2>{title}</h2><p>{}</p><p>{}</p></section>",
            t(
                "You may object to this processing at any time (GDPR Article 21).",
                "U mag altijd bezwaar maken tegen deze verwerking (AVG artikel 21).",
            ),
            t(
                "This link does not tell which organisation sent the e-mail: it may be incomplete, or its records may already have been deleted after the retention period. To object, write to the organisation named in the e-mail's notice; from then on it must not track e-mail to you.",
                "Aan deze link is niet te zien welke organisatie de e-mail stuurde: hij is misschien onvolledig, of de gegevens zijn na de bewaartermijn al verwijderd. Schrijf voor bezwaar aan de organisatie die de melding in de e-mail noemt; die mag daarna geen e-mail aan u meer volgen.",
            )
        );
    };
    let explain = format!(
        "<p>{}</p><ul><li>{}</li><li>{}</li></ul><p class=\"muted\">{}</p>",
        t(
            "You may object to this processing at any time (GDPR Article 21). Enter your e-mail address and we send a confirmation link to it, so that nobody can object in your name. Once you have followed the link:",
            "U mag altijd bezwaar maken tegen deze verwerking (AVG artikel 21). Vul uw e-mailadres in; we sturen er een bevestigingslink naartoe, zodat niemand namens u bezwaar kan maken. Zodra u de link hebt gevolgd:",
        ),
        t(
            "new e-mail from {org} to you contains the notice, but not the image;",
            "bevat nieuwe e-mail van {org} aan u wel de melding, maar niet het plaatje;",
        )
        .replace("{org}", org),
        t(
            "opening e-mails already sent to you is no longer recorded, unless they also went to others outside {org} who did not object (a request cannot tell who opened).",
            "wordt het openen van e-mails die al aan u zijn verstuurd niet meer vastgelegd, tenzij ze ook naar anderen buiten {org} gingen die geen bezwaar maakten (aan een opvraging is niet te zien wie opende).",
        )
        .replace("{org}", org),
        t(
            "Your address itself is not stored, only a keyed hash of it: a code from which the address cannot be read back, by which the server recognises it. The objection applies to e-mail from {org}.",
            "Uw adres zelf wordt niet bewaard, alleen een keyed hash ervan: een code waaruit het adres niet terug te halen is en waaraan de server het herkent. Het bezwaar geldt voor e-mail van {org}.",
        )
        .replace("{org}", org),
    );
    if !mail {
        let whom = match &c.dpo {
            Some(dpo) => format!(
                "{} {org}: {}",
                t(
                    "the data protection officer of",
                    "de functionaris gegevensbescherming van"
                ),
                contact_html(dpo)
            ),
            None => org.to_string(),
        };
        return format!(
            "<section class=\"card object\" id=\"object\"><h2>{title}</h2>{explain}<p class=\"note warn\">{} {whom}.</p></section>",
            t(
                "Objecting online is not available on this server right now. Write instead to",
                "Online bezwaar maken is op deze server nu niet beschikbaar. Schrijf in plaats daarvan aan",
            ),
        );
    }
    let (value, error) = match &form {
        Some(f) => (
            esc(f.address),
            format!("<p class=\"error\" role=\"alert\">{}</p>", esc(f.error)),
        ),
        None => (String::new(), String::new()),
    };
    format!(
        "<section class=\"card object\" id=\"object\"><h2>{title}</h2>{explain}\
         <form method=\"post\" action=\"{action}\">{error}\
         <label for=\"address\">{label}</label><div class=\"row\">\
         <input type=\"email\" id=\"address\" name=\"address\" required maxlength=\"320\" autocomplete=\"email\" placeholder=\"{placeholder}\" value=\"{value}\">\
         <button type=\"submit\">{button}</button></div></form></section>",
        // Relative to /i/{id}, so that it works under any path prefix of the public URL.
        action = esc(&format!("{message_id}/objection?lang={}", lang.code())),
        label = t("Your e-mail address", "Uw e-mailadres"),
        button = t("Send confirmation link", "Stuur bevestigingslink"),
        placeholder = t("name@example.org", "naam@voorbeeld.nl"),
    )
}

/// The tracking scope in words, with the exclusions.
pub fn scope_html(tracking: &TrackingPolicy, org: &str, lang: Lang) -> String {
    let t = |en: &'static str, nl: &'static str| lang.pick(en, nl);
    let scope = match tracking.scope {
        TrackingScope::Off => t(
            "{Org} has switched tracking off: its e-mails may contain the notice, never the image.",
            "{Org} heeft het volgen uitgezet: de e-mails kunnen de melding bevatten, nooit het plaatje.",
        ),
        TrackingScope::AtRisk => t(
            "Only e-mail at risk of a leak: e-mail to people outside {org} that the sender sent despite a warning about its recipients, or that contains identity numbers (such as a citizen service number) or health information.",
            "Alleen e-mail met een risico op een datalek: e-mail aan mensen buiten {org} die de afzender verstuurde ondanks een waarschuwing over de ontvangers, of waarin identiteitsnummers (zoals een burgerservicenummer) of gezondheidsgegevens staan.",
        ),
        TrackingScope::ExternalPersonalData => t(
            "E-mail to people outside {org} that contains personal data or attachments, and e-mail sent despite a warning about its recipients.",
            "E-mail aan mensen buiten {org} met persoonsgegevens of bijlagen, en e-mail die ondanks een waarschuwing over de ontvangers is verstuurd.",
        ),
        TrackingScope::AllExternal => t(
            "Every e-mail to people outside {org}.",
            "Elke e-mail aan mensen buiten {org}.",
        ),
    };
    let mut out = scope
        .replace("{org}", org)
        .replace("{Org}", &capitalise(org));
    if tracking.scope != TrackingScope::Off {
        let excluded: Vec<String> = tracking
            .exclude_domains
            .iter()
            .map(|d| d.trim())
            .filter(|d| !d.is_empty())
            .map(|d| format!("<code>{}</code>", esc(d)))
            .collect();
        out.push(' ');
        if excluded.is_empty() {
            out.push_str(
                &t(
                    "Never e-mail within {org}, nor e-mail to anyone who objected.",
                    "Nooit e-mail binnen {org}, en nooit e-mail aan iemand die bezwaar heeft gemaakt.",
                )
                .replace("{org}", org),
            );
        } else {
            out.push_str(
                &t(
                    "Never e-mail within {org}, e-mail to anyone who objected, or e-mail to addresses at {excluded}.",
                    "Nooit e-mail binnen {org}, e-mail aan iemand die bezwaar heeft gemaakt, of e-mail aan adressen bij {excluded}.",
                )
                .replace("{org}", org)
                .replace(
                    "{excluded}",
                    &leakwatch_core::i18n::join_list(lang, &excluded),
                ),
            );
        }
    }
    out
}

/// A DPO contact as HTML: a `mailto:` link when it is just an address, else text.
pub fn contact_html(contact: &str) -> String {
    let plain = contact.trim();
    if !plain.contains(char::is_whitespace)
        && leakwatch_core::address::parse_addr_spec(plain).is_ok()
        && plain.is_ascii()
    {
        format!("<a href=\"mailto:{0}\">{0}</a>", esc(plain))
    } else {
        esc(plain)
    }
}

/// The first letter in upper case (escaped HTML starts with a letter or an entity).
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
        let c = controller("<b>Acme</b> & \"Zonen\"");
        for lang in Lang::ALL {
            let html = render(Some(&c), lang, "abc", true, None);
            assert!(!html.contains("<b>Acme"), "{html}");
            assert!(html.contains("&lt;b&gt;Acme&lt;/b&gt; &amp; &quot;Zonen&quot;"));
            assert!(html.contains("mailto:fg@acme.nl"));
            assert!(html.contains("14 "), "the tenant's retention period");
            assert!(html.contains("autoriteitpersoonsgegevens.nl"));
            assert!(html.contains("<code>.de</code>"));
            assert!(html.contains("action=\"abc/objection?lang="));
            assert!(!html.contains("<script"));
            assert!(!html.contains("<img"));
        }
        let nl = render(Some(&c), Lang::Nl, "abc", true, None);
        assert!(
            nl.contains("<html lang=\"nl\">") && nl.contains("Functionaris gegevensbescherming")
        );
        assert!(nl.contains("href=\"?lang=en\""));
        let en = render(Some(&c), Lang::En, "abc", true, None);
        assert!(en.contains("<html lang=\"en\">") && en.contains("Data protection officer"));
        assert!(en.contains("href=\"?lang=nl\""));
    }

    #[test]
    fn unknown_messages_get_the_generic_page_without_a_form() {
        let html = render(None, Lang::En, "\"><script>", true, None);
        assert!(!html.contains("<form"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("the organisation that sent you the e-mail"));
    }

    #[test]
    fn without_mail_the_form_says_whom_to_write_to() {
        let html = render(Some(&controller("Acme")), Lang::En, "abc", false, None);
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
            let en = scope_html(&tracking, "Acme", Lang::En);
            let nl = scope_html(&tracking, "Acme", Lang::Nl);
            assert!(en.contains("Acme") && nl.contains("Acme"), "{en} / {nl}");
            assert_ne!(en, nl);
        }
    }
}
