//! The disclosure as values: rendered once from the policy, then inserted or appended.
//!
//! The types carry the rule "no pixel without the disclosure": a [`PixelUrl`] can only go
//! into a [`TrackedDisclosure`], which can only be made from a [`Disclosure`] and only
//! renders both together. Nothing in this crate takes a bare pixel.

use super::escape::{escape_attr, escape_text, html_len, utf16_len};
use super::url::{InfoUrl, PixelUrl, MAX_URL_LEN};
use super::{DisclosurePolicy, APPEND_LIMIT, MAX_TEXT_LEN};
use crate::i18n::Lang;

/// Why a policy's disclosure settings cannot be rendered. Each names the policy field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DisclosureError {
    #[error("{field} is too long ({len} characters as written into HTML; at most {max})")]
    TooLong {
        field: String,
        len: usize,
        max: usize,
    },
    #[error("{field} contains a control or bidirectional-override character (U+{:04X})", *.ch as u32)]
    BadCharacter { field: String, ch: char },
    #[error("{field} uses an unknown placeholder {{{name}}} (known: {{organization}}, {{dpo}}, {{info_url}}, {{untracked}}; write {{{{ and }}}} for literal braces)")]
    UnknownPlaceholder { field: String, name: String },
    #[error("{field} uses {{{name}}} more than once")]
    RepeatedPlaceholder { field: String, name: String },
    #[error(
        "{field} must contain {{info_url}}: every disclosure links the recipient transparency page"
    )]
    MissingInfoUrl { field: String },
    #[error("{field} uses {{dpo}} but disclosure.dpo_contact is not set")]
    DpoNotSet { field: String },
    #[error(
        "{field} has an unmatched brace at character {at} (write {{{{ and }}}} for literal braces)"
    )]
    UnbalancedBrace { field: String, at: usize },
}

// The built-in notices, as templates in the tenants' own syntax: before `{untracked}` the
// notice of a tracked e-mail (it carries the pixel), after it the notice of one that does not
// (and of every plain-text e-mail, which cannot carry an image). Both say plainly whether
// this e-mail is tracked and why, in the words of the transparency page (leak detection:
// noticing whether an e-mail that reached the wrong person was opened). Dutch uses "u".
const BUILTIN_EN: &str = "Privacy notice: this e-mail is tracked. It contains a small image \
    from {organization} that records when the e-mail is opened, for leak detection only: to \
    find out whether an e-mail that reached the wrong person was opened. More information and \
    how to object: {info_url}\
    {untracked}\
    Privacy notice: this e-mail is not tracked. Other e-mail from {organization} sometimes is, \
    for leak detection only: to find out whether an e-mail that reached the wrong person was \
    opened. How that works and how to object: {info_url}";
const BUILTIN_EN_DPO: &str = "Privacy notice: this e-mail is tracked. It contains a small \
    image from {organization} that records when the e-mail is opened, for leak detection only: \
    to find out whether an e-mail that reached the wrong person was opened. Data protection \
    officer: {dpo}. More information and how to object: {info_url}\
    {untracked}\
    Privacy notice: this e-mail is not tracked. Other e-mail from {organization} sometimes is, \
    for leak detection only: to find out whether an e-mail that reached the wrong person was \
    opened. Data protection officer: {dpo}. How that works and how to object: {info_url}";
const BUILTIN_NL: &str = "Privacymelding: deze e-mail wordt gevolgd. Er zit een klein plaatje \
    van {organization} in dat vastlegt wanneer de e-mail wordt geopend, alleen voor \
    lekdetectie: om te merken of een e-mail die bij de verkeerde persoon terechtkwam is \
    geopend. Meer informatie en hoe u bezwaar maakt: {info_url}\
    {untracked}\
    Privacymelding: deze e-mail wordt niet gevolgd. Andere e-mail van {organization} soms wel, \
    alleen voor lekdetectie: om te merken of een e-mail die bij de verkeerde persoon \
    terechtkwam is geopend. Hoe dat werkt en hoe u bezwaar maakt: {info_url}";
const BUILTIN_NL_DPO: &str = "Privacymelding: deze e-mail wordt gevolgd. Er zit een klein \
    plaatje van {organization} in dat vastlegt wanneer de e-mail wordt geopend, alleen voor \
    lekdetectie: om te merken of een e-mail die bij de verkeerde persoon terechtkwam is \
    geopend. Functionaris gegevensbescherming: {dpo}. Meer informatie en hoe u bezwaar maakt: \
    {info_url}\
    {untracked}\
    Privacymelding: deze e-mail wordt niet gevolgd. Andere e-mail van {organization} soms wel, \
    alleen voor lekdetectie: om te merken of een e-mail die bij de verkeerde persoon \
    terechtkwam is geopend. Functionaris gegevensbescherming: {dpo}. Hoe dat werkt en hoe u \
    bezwaar maakt: {info_url}";

/// The built-in template for a language (with or without the DPO sentence): the tracked
/// notice, `{untracked}`, the untracked one.
pub fn builtin_template(lang: Lang, with_dpo: bool) -> &'static str {
    match (lang, with_dpo) {
        (Lang::En, false) => BUILTIN_EN,
        (Lang::En, true) => BUILTIN_EN_DPO,
        (Lang::Nl, false) => BUILTIN_NL,
        (Lang::Nl, true) => BUILTIN_NL_DPO,
    }
}

/// `{organization}` when the policy names none.
fn default_organization(lang: Lang) -> &'static str {
    lang.pick(
        "the sender's organisation",
        "de organisatie van de afzender",
    )
}

/// The wrapper's style: 12px, #444 on an explicit white background (contrast 9.7:1 whatever
/// the message around it), a thin rule above, inline so that clients that drop `<style>`
/// (Gmail, Outlook) keep it.
const WRAPPER_STYLE: &str = "margin:16px 0 0 0;padding:8px 0 0 0;border-top:1px solid #dddddd;\
background-color:#ffffff;color:#444444;font-family:Arial,Helvetica,sans-serif;font-size:12px;\
line-height:18px;text-align:left";
/// Link colour #1a5fb4 on white: contrast 6.4:1.
const LINK_STYLE: &str = "color:#1a5fb4;text-decoration:underline";
/// The pixel's attributes after `src`, in the order the contract shows them first
/// (`<img src="URL" width="1" height="1" alt="">`), then our marker: 1x1, no alt text (screen readers skip it), no border
/// (Outlook draws one around linked images), and inline CSS that keeps it from adding a line
/// or a gap in Outlook, Gmail, Apple Mail and Thunderbird. Never `display:none`: Gmail's
/// proxy then skips the fetch and the disclosure would promise tracking that does not work.
const PIXEL_ATTRS: &str = r#" width="1" height="1" alt="" border="0" style="display:block;width:1px;height:1px;border:0;margin:0;padding:0;overflow:hidden" data-leakwatch-pixel="">"#;

/// The attribute that marks our wrapper element, and its value.
pub(crate) const MARKER_ATTR: &str = "data-leakwatch";
pub(crate) const MARKER_VALUE: &str = "disclosure";
/// The attribute that records which message's disclosure this is.
pub(crate) const INFO_ATTR: &str = "data-leakwatch-info";
/// The attribute that marks our pixels.
#[cfg_attr(not(feature = "html"), allow(dead_code))]
pub(crate) const PIXEL_ATTR: &str = "data-leakwatch-pixel";

/// A rendered disclosure for one message: the visible notice with the link to the message's
/// transparency page. Built from the tenant policy, a language and the info URL.
///
/// Every `Disclosure`, with or without pixel, fits Outlook's 5,000-character
/// `appendOnSendAsync` limit ([`APPEND_LIMIT`]): [`Disclosure::new`] refuses settings that
/// would not (the documented caps on the policy fields make that impossible for valid ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disclosure {
    lang: Lang,
    info_url: InfoUrl,
    /// The URL the notice links: `info_url`, with the notice's language when asked for.
    link: String,
    /// The untracked notice (no pixel, and every plain-text e-mail) as one line of text.
    text: String,
    /// The whole untracked block.
    html: String,
    /// The notice of a tracked e-mail, as text and as the HTML inside the wrapper.
    tracked_text: String,
    tracked_inner_html: String,
}

/// A notice rendered both ways.
struct Rendered {
    text: String,
    inner_html: String,
}

impl Disclosure {
    /// Renders the disclosure for `lang` from the policy's template (the tenant's own text for
    /// that language, else the built-in one), with `{organization}`, `{dpo}` and `{info_url}`
    /// filled in: the notice of a tracked e-mail (used by [`TrackedDisclosure`]) and of one
    /// without the pixel (this value's own text and block). The link is `info_url` exactly as
    /// given (what check-v1's `leakwatch disclose` promises). Fails when the policy's
    /// disclosure settings are invalid (see [`DisclosurePolicy::validate`]).
    pub fn new(
        policy: &DisclosurePolicy,
        lang: Lang,
        info_url: InfoUrl,
    ) -> Result<Self, DisclosureError> {
        Self::render(policy, lang, info_url, false)
    }

    /// As [`Disclosure::new`], but the link carries the notice's language (`lang=nl` or
    /// `lang=en` added to the info URL's query), so that the transparency page opens in the
    /// language of the notice whatever the reader's browser asks for. An info URL that already
    /// has a `lang` parameter is linked as given. The block's `data-leakwatch-info` stays the
    /// info URL itself, so both forms recognise each other's blocks.
    pub fn new_with_lang_in_link(
        policy: &DisclosurePolicy,
        lang: Lang,
        info_url: InfoUrl,
    ) -> Result<Self, DisclosureError> {
        Self::render(policy, lang, info_url, true)
    }

    fn render(
        policy: &DisclosurePolicy,
        lang: Lang,
        info_url: InfoUrl,
        lang_in_link: bool,
    ) -> Result<Self, DisclosureError> {
        policy.validate()?;
        let organization = policy.organization();
        let dpo = policy.dpo_contact();
        let (field, template) = match policy.text.get(lang) {
            Some(text) => (format!("disclosure.text.{}", lang.code()), text.to_string()),
            None => (
                "built-in disclosure".to_string(),
                builtin_template(lang, dpo.is_some()).to_string(),
            ),
        };
        let notices = parse_template(&field, &collapse_whitespace(&template), dpo.is_some())?;
        let organization = organization.unwrap_or_else(|| default_organization(lang).into());
        let dpo = dpo.unwrap_or_default();
        let link = if lang_in_link {
            link_with_lang(info_url.as_str(), lang)
        } else {
            info_url.as_str().to_string()
        };
        let fill = |pieces: &[Piece]| {
            let mut text = String::new();
            let mut inner_html = String::new();
            for piece in pieces {
                match piece {
                    Piece::Literal(s) => {
                        text.push_str(s);
                        inner_html.push_str(&escape_text(s));
                    }
                    Piece::Organization => {
                        text.push_str(&organization);
                        inner_html.push_str(&escape_text(&organization));
                    }
                    Piece::Dpo => {
                        text.push_str(&dpo);
                        inner_html.push_str(&escape_text(&dpo));
                    }
                    Piece::InfoUrl => {
                        text.push_str(&link);
                        inner_html.push_str(&format!(
                            r#"<a href="{}" style="{LINK_STYLE}">{}</a>"#,
                            escape_attr(&link),
                            escape_text(&link),
                        ));
                    }
                }
            }
            Rendered { text, inner_html }
        };
        let tracked = fill(&notices.tracked);
        // A template without `{untracked}` is one notice for both, as before the split.
        let untracked = notices.untracked.as_deref().map_or_else(
            || Rendered {
                text: tracked.text.clone(),
                inner_html: tracked.inner_html.clone(),
            },
            fill,
        );
        let html = format!(
            "{}{}</div>",
            wrapper_open(lang, &info_url),
            untracked.inner_html
        );
        let disclosure = Self {
            lang,
            info_url,
            link,
            text: untracked.text,
            html,
            tracked_text: tracked.text,
            tracked_inner_html: tracked.inner_html,
        };
        // Room for the largest pixel a `PixelUrl` allows, so that tracking never fails later.
        let tracked_len = utf16_len(&wrapper_open(disclosure.lang, &disclosure.info_url))
            + utf16_len(&disclosure.tracked_inner_html)
            + utf16_len("</div>");
        let worst = tracked_len.max(utf16_len(&disclosure.html)) + pixel_len_bound();
        if worst > APPEND_LIMIT {
            return Err(DisclosureError::TooLong {
                field: "disclosure (rendered HTML with the pixel)".to_string(),
                len: worst,
                max: APPEND_LIMIT,
            });
        }
        Ok(disclosure)
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    pub fn info_url(&self) -> &InfoUrl {
        &self.info_url
    }

    /// The URL the notice links (the info URL, with the language when asked for).
    pub fn link(&self) -> &str {
        &self.link
    }

    /// The notice of an e-mail without the pixel as one line of plain text, the link
    /// included: what a plain-text body gets, and the text of [`Disclosure::html_snippet`].
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The block appended to a plain-text body whose end is not known (Outlook's
    /// `appendOnSendAsync` with text coercion): a blank line, the notice, a line break.
    pub fn text_snippet(&self) -> String {
        format!("\n\n{}\n", self.text)
    }

    /// The HTML block without pixel: our marked wrapper element with the untracked notice and
    /// the link.
    /// This is what `insert_html` (feature `html`) inserts for an untracked message and
    /// what an add-in appends with `appendOnSendAsync`.
    pub fn html_snippet(&self) -> &str {
        &self.html
    }

    /// Adds the pixel. The same as [`TrackedDisclosure::new`].
    pub fn track(self, pixel_url: PixelUrl) -> TrackedDisclosure {
        TrackedDisclosure::new(self, pixel_url)
    }
}

/// A disclosure together with the pixel of a tracked message. The only value in the crate
/// that holds a pixel, and it renders the pixel only inside the disclosure's block.
///
/// It can only be made from a [`Disclosure`]; there is no other constructor and its fields
/// are private:
///
/// ```compile_fail
/// use leakwatch_core::disclose::{PixelUrl, TrackedDisclosure};
/// let pixel = PixelUrl::parse("https://lw.example/p/t").unwrap();
/// let tracked = TrackedDisclosure { pixel_url: pixel }; // private fields: does not compile
/// ```
///
/// ```compile_fail
/// use leakwatch_core::disclose::{Insertion, PixelUrl};
/// let pixel = PixelUrl::parse("https://lw.example/p/t").unwrap();
/// let insertion = Insertion::Tracked(pixel); // a pixel is not a TrackedDisclosure
/// ```
///
/// ```compile_fail
/// use leakwatch_core::disclose::{PixelUrl, TrackedDisclosure};
/// let pixel = PixelUrl::parse("https://lw.example/p/t").unwrap();
/// let tracked = TrackedDisclosure::new(pixel); // needs the Disclosure too
/// ```
///
/// ```
/// use leakwatch_core::disclose::{Disclosure, DisclosurePolicy, InfoUrl, PixelUrl, TrackedDisclosure};
/// use leakwatch_core::Lang;
/// let info = InfoUrl::parse("https://lw.example/i/t").unwrap();
/// let disclosure = Disclosure::new(&DisclosurePolicy::default(), Lang::Nl, info).unwrap();
/// let pixel = PixelUrl::parse("https://lw.example/p/t").unwrap();
/// let tracked = TrackedDisclosure::new(disclosure, pixel);
/// assert!(tracked.html_snippet().contains("Privacymelding"));
/// assert!(tracked.html_snippet().contains(r#"src="https://lw.example/p/t""#));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedDisclosure {
    disclosure: Disclosure,
    pixel_url: PixelUrl,
    html: String,
}

impl TrackedDisclosure {
    pub fn new(disclosure: Disclosure, pixel_url: PixelUrl) -> Self {
        let html = format!(
            "{}{}{}</div>",
            wrapper_open(disclosure.lang, &disclosure.info_url),
            disclosure.tracked_inner_html,
            pixel_html(&pixel_url)
        );
        debug_assert!(utf16_len(&html) <= APPEND_LIMIT);
        Self {
            disclosure,
            pixel_url,
            html,
        }
    }

    pub fn disclosure(&self) -> &Disclosure {
        &self.disclosure
    }

    pub fn pixel_url(&self) -> &PixelUrl {
        &self.pixel_url
    }

    /// The notice of a tracked e-mail as one line of text (what the block says).
    pub fn text(&self) -> &str {
        self.tracked_text()
    }

    fn tracked_text(&self) -> &str {
        &self.disclosure.tracked_text
    }

    /// The HTML block: the disclosure's wrapper with the tracked notice, the link and the
    /// pixel.
    pub fn html_snippet(&self) -> &str {
        &self.html
    }
}

/// What `insert_html` (feature `html`) adds to a message: the disclosure alone, or the
/// disclosure with its pixel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Insertion {
    Disclosure(Disclosure),
    Tracked(TrackedDisclosure),
}

impl Insertion {
    /// The tenant's disclosure for a message, tracked when there is a pixel URL: what the
    /// wasm shell and `leakwatch disclose` both build from their options (each parses and
    /// names the URLs its own way first). The pixel still only exists inside the notice.
    pub fn new(
        policy: &DisclosurePolicy,
        lang: Lang,
        info_url: InfoUrl,
        pixel_url: Option<PixelUrl>,
    ) -> Result<Insertion, DisclosureError> {
        let disclosure = Disclosure::new(policy, lang, info_url)?;
        Ok(match pixel_url {
            Some(pixel) => disclosure.track(pixel).into(),
            None => disclosure.into(),
        })
    }

    pub fn disclosure(&self) -> &Disclosure {
        match self {
            Insertion::Disclosure(d) => d,
            Insertion::Tracked(t) => t.disclosure(),
        }
    }

    pub fn pixel_url(&self) -> Option<&PixelUrl> {
        match self {
            Insertion::Disclosure(_) => None,
            Insertion::Tracked(t) => Some(t.pixel_url()),
        }
    }

    /// What the block says, as one line of text (the tracked notice when tracked).
    pub fn text(&self) -> &str {
        match self {
            Insertion::Disclosure(d) => d.text(),
            Insertion::Tracked(t) => t.text(),
        }
    }

    /// The HTML block to insert or append (with the pixel when tracked).
    pub fn html_snippet(&self) -> &str {
        match self {
            Insertion::Disclosure(d) => d.html_snippet(),
            Insertion::Tracked(t) => t.html_snippet(),
        }
    }
}

impl From<Disclosure> for Insertion {
    fn from(d: Disclosure) -> Self {
        Insertion::Disclosure(d)
    }
}

impl From<TrackedDisclosure> for Insertion {
    fn from(t: TrackedDisclosure) -> Self {
        Insertion::Tracked(t)
    }
}

fn wrapper_open(lang: Lang, info_url: &InfoUrl) -> String {
    format!(
        r#"<div {MARKER_ATTR}="{MARKER_VALUE}" {INFO_ATTR}="{}" lang="{}" style="{WRAPPER_STYLE}">"#,
        escape_attr(info_url.as_str()),
        lang.code()
    )
}

/// Private on purpose: the pixel's markup is only ever written by `TrackedDisclosure::new`.
fn pixel_html(pixel_url: &PixelUrl) -> String {
    format!(
        r#"<img src="{}"{PIXEL_ATTRS}"#,
        escape_attr(pixel_url.as_str())
    )
}

/// The longest pixel markup any `PixelUrl` can produce.
fn pixel_len_bound() -> usize {
    utf16_len(r#"<img src="""#) + MAX_URL_LEN + utf16_len(PIXEL_ATTRS)
}

/// `info_url` with `lang=<code>` added to its query (before any fragment), unless the query
/// already has a `lang` parameter.
fn link_with_lang(url: &str, lang: Lang) -> String {
    let (base, fragment) = match url.find('#') {
        Some(at) => url.split_at(at),
        None => (url, ""),
    };
    let param = format!("lang={}", lang.code());
    let joined = match base.split_once('?') {
        None => format!("{base}?{param}"),
        Some((_, query)) if query.split('&').any(|pair| pair.starts_with("lang=")) => {
            return url.to_string()
        }
        Some((_, "")) => format!("{base}{param}"),
        Some(_) if base.ends_with('&') => format!("{base}{param}"),
        Some(_) => format!("{base}&{param}"),
    };
    format!("{joined}{fragment}")
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Organization,
    Dpo,
    InfoUrl,
}

/// A template's notices: the tracked one, and the untracked one when the template has
/// `{untracked}` (else the tracked one serves both, as single templates always did).
#[derive(Debug)]
struct Notices {
    tracked: Vec<Piece>,
    untracked: Option<Vec<Piece>>,
}

/// Parses a template: text with `{organization}`, `{dpo}`, `{info_url}` (each at most once,
/// `{info_url}` exactly once) and `{{` / `}}` for literal braces, optionally split by
/// `{untracked}` into a tracked and an untracked notice, each with those rules.
fn parse_template(field: &str, src: &str, dpo_set: bool) -> Result<Notices, DisclosureError> {
    let mut parts: Vec<Vec<Piece>> = vec![Vec::new()];
    let mut seen = [false; 3];
    let mut literal = String::new();
    // The second notice's errors say which part they are in.
    let part_field = |parts: &Vec<Vec<Piece>>| {
        if parts.len() > 1 {
            format!("{field} (after {{untracked}})")
        } else {
            field.to_string()
        }
    };
    let mut chars = src.char_indices().peekable();
    while let Some((at, ch)) = chars.next() {
        match ch {
            '{' if chars.peek().map(|&(_, c)| c) == Some('{') => {
                chars.next();
                literal.push('{');
            }
            '}' if chars.peek().map(|&(_, c)| c) == Some('}') => {
                chars.next();
                literal.push('}');
            }
            '{' => {
                let rest = &src[at + 1..];
                let Some(close) = rest.find('}') else {
                    return Err(DisclosureError::UnbalancedBrace {
                        field: field.to_string(),
                        at: src[..at].chars().count(),
                    });
                };
                let name = &rest[..close];
                if !literal.is_empty() {
                    let current = parts.last_mut().expect("one part at least");
                    current.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                if name == "untracked" {
                    if parts.len() > 1 {
                        return Err(DisclosureError::RepeatedPlaceholder {
                            field: field.to_string(),
                            name: name.to_string(),
                        });
                    }
                    if !seen[2] {
                        return Err(DisclosureError::MissingInfoUrl {
                            field: field.to_string(),
                        });
                    }
                    trim_end_literal(parts.last_mut().expect("one part at least"));
                    parts.push(Vec::new());
                    seen = [false; 3];
                } else {
                    let (piece, index) = match name {
                        "organization" => (Piece::Organization, 0),
                        "dpo" => (Piece::Dpo, 1),
                        "info_url" => (Piece::InfoUrl, 2),
                        _ => {
                            return Err(DisclosureError::UnknownPlaceholder {
                                field: part_field(&parts),
                                name: name.to_string(),
                            })
                        }
                    };
                    if seen[index] {
                        return Err(DisclosureError::RepeatedPlaceholder {
                            field: part_field(&parts),
                            name: name.to_string(),
                        });
                    }
                    if piece == Piece::Dpo && !dpo_set {
                        return Err(DisclosureError::DpoNotSet {
                            field: part_field(&parts),
                        });
                    }
                    seen[index] = true;
                    parts.last_mut().expect("one part at least").push(piece);
                }
                // Skip the name and the closing brace.
                for _ in 0..name.chars().count() + 1 {
                    chars.next();
                }
            }
            '}' => {
                return Err(DisclosureError::UnbalancedBrace {
                    field: field.to_string(),
                    at: src[..at].chars().count(),
                })
            }
            // Whitespace right after `{untracked}` belongs to neither notice.
            ch if ch.is_whitespace()
                && literal.is_empty()
                && parts.len() > 1
                && parts[1].is_empty() => {}
            _ => literal.push(ch),
        }
    }
    if !literal.is_empty() {
        parts
            .last_mut()
            .expect("one part at least")
            .push(Piece::Literal(literal));
    }
    if !seen[2] {
        return Err(DisclosureError::MissingInfoUrl {
            field: part_field(&parts),
        });
    }
    let mut parts = parts.into_iter();
    Ok(Notices {
        tracked: parts.next().expect("one part at least"),
        untracked: parts.next(),
    })
}

/// Drops the whitespace before `{untracked}`: it belongs to neither notice.
fn trim_end_literal(pieces: &mut Vec<Piece>) {
    if let Some(Piece::Literal(last)) = pieces.last_mut() {
        let kept = last.trim_end().len();
        last.truncate(kept);
        if last.is_empty() {
            pieces.pop();
        }
    }
}

/// One paragraph: runs of whitespace (line breaks included) become one space; trimmed.
pub(crate) fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Control characters other than whitespace, and the bidirectional overrides and isolates
/// that could make a tenant text display differently from what it says.
pub(crate) fn forbidden_char(s: &str) -> Option<char> {
    s.chars().find(|&c| {
        (c.is_control() && !c.is_whitespace())
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    })
}

/// Checks one tenant string: allowed characters and its cap.
pub(crate) fn check_field(field: &str, value: &str, max: usize) -> Result<(), DisclosureError> {
    if let Some(ch) = forbidden_char(value) {
        return Err(DisclosureError::BadCharacter {
            field: field.to_string(),
            ch,
        });
    }
    let len = html_len(&collapse_whitespace(value));
    if len > max {
        return Err(DisclosureError::TooLong {
            field: field.to_string(),
            len,
            max,
        });
    }
    Ok(())
}

/// Validates a template without rendering it (used by `DisclosurePolicy::validate`).
pub(crate) fn check_template(
    field: &str,
    template: &str,
    dpo_set: bool,
) -> Result<(), DisclosureError> {
    check_field(field, template, MAX_TEXT_LEN)?;
    parse_template(field, &collapse_whitespace(template), dpo_set).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disclose::{DisclosureTexts, MAX_DPO_CONTACT_LEN, MAX_ORGANIZATION_LEN};

    const CAPS: (usize, usize, usize) = (MAX_ORGANIZATION_LEN, MAX_DPO_CONTACT_LEN, MAX_TEXT_LEN);

    fn info() -> InfoUrl {
        InfoUrl::parse("https://lw.example.nl/i/tok123").unwrap()
    }

    fn pixel() -> PixelUrl {
        PixelUrl::parse("https://lw.example.nl/p/tok123").unwrap()
    }

    #[test]
    fn builtin_texts_render_in_both_languages() {
        for lang in Lang::ALL {
            let d = Disclosure::new(&DisclosurePolicy::default(), lang, info()).unwrap();
            assert!(
                d.text().ends_with("https://lw.example.nl/i/tok123"),
                "{}",
                d.text()
            );
            assert!(d.text().contains(default_organization(lang)));
            assert!(!d.text().contains('{'));
            assert!(d.html_snippet().contains(
                r#"<a href="https://lw.example.nl/i/tok123" style="color:#1a5fb4;text-decoration:underline">https://lw.example.nl/i/tok123</a>"#
            ));
            assert!(d
                .html_snippet()
                .contains(&format!(r#"lang="{}""#, lang.code())));
            assert!(!d.html_snippet().contains("<img"));
        }
        let nl = Disclosure::new(&DisclosurePolicy::default(), Lang::Nl, info()).unwrap();
        assert!(nl.text().starts_with("Privacymelding: deze e-mail"));
    }

    #[test]
    fn placeholders_and_escaping() {
        let policy = DisclosurePolicy {
            organization: Some("Smit & <Zonen>".into()),
            dpo_contact: Some("fg@smit.example".into()),
            text: DisclosureTexts {
                nl: Some("Van {organization}; FG {dpo};\n  info {info_url} {{x}}".into()),
                en: None,
            },
        };
        let d = Disclosure::new(&policy, Lang::Nl, info()).unwrap();
        assert_eq!(
            d.text(),
            "Van Smit & <Zonen>; FG fg@smit.example; info https://lw.example.nl/i/tok123 {x}"
        );
        assert!(d
            .html_snippet()
            .contains("Van Smit &amp; &lt;Zonen&gt;; FG fg@smit.example; info <a "));
        // A template without `{untracked}` is the notice with and without the pixel.
        assert_eq!(d.clone().track(pixel()).text(), d.text());
        // English falls back to the built-in text, with the DPO sentence.
        let en = Disclosure::new(&policy, Lang::En, info()).unwrap();
        let tracked = en.clone().track(pixel());
        assert!(tracked.text().contains("from Smit & <Zonen> that records"));
        assert!(en
            .text()
            .contains("Other e-mail from Smit & <Zonen> sometimes is"));
        for text in [en.text(), tracked.text()] {
            assert!(text.contains("Data protection officer: fg@smit.example."));
        }
    }

    #[test]
    fn the_builtin_notices_say_whether_this_e_mail_is_tracked() {
        let policy = DisclosurePolicy {
            organization: Some("Gemeente Voorbeeld".into()),
            ..Default::default()
        };
        for lang in Lang::ALL {
            let d = Disclosure::new(&policy, lang, info()).unwrap();
            let tracked = d.clone().track(pixel());
            let (is_tracked, not_tracked, image, purpose) = match lang {
                Lang::En => (
                    "this e-mail is tracked.",
                    "this e-mail is not tracked.",
                    "image",
                    "whether an e-mail that reached the wrong person was opened",
                ),
                Lang::Nl => (
                    "deze e-mail wordt gevolgd.",
                    "deze e-mail wordt niet gevolgd.",
                    "plaatje",
                    "of een e-mail die bij de verkeerde persoon terechtkwam is geopend",
                ),
            };
            assert!(tracked.text().contains(is_tracked), "{}", tracked.text());
            assert!(tracked.text().contains(image));
            assert!(tracked.html_snippet().contains(is_tracked));
            // Untracked, and every plain-text e-mail: no image is mentioned.
            assert!(d.text().contains(not_tracked), "{}", d.text());
            assert!(!d.text().contains(image), "{}", d.text());
            assert!(d.html_snippet().contains(not_tracked));
            for text in [d.text(), tracked.text()] {
                assert!(text.contains(purpose), "{text}");
                assert!(text.contains("Gemeente Voorbeeld"));
                assert!(text.starts_with(lang.pick("Privacy notice: ", "Privacymelding: ")));
            }
        }
        // One form of address: the Dutch notices say "u", never "je" or "jij".
        for with_dpo in [false, true] {
            let nl = builtin_template(Lang::Nl, with_dpo);
            let words: Vec<&str> = nl.split(|c: char| !c.is_alphanumeric()).collect();
            assert!(words.contains(&"u"));
            for informal in ["je", "jij", "jou", "jouw", "jullie"] {
                assert!(!words.contains(&informal), "{informal}");
            }
        }
    }

    #[test]
    fn a_tenant_template_may_split_tracked_and_untracked() {
        let policy = DisclosurePolicy {
            organization: Some("Acme".into()),
            dpo_contact: Some("fg@acme.example".into()),
            text: DisclosureTexts {
                nl: Some(
                    "Deze e-mail van {organization} bevat een volgpixel. Meer: {info_url}\n {untracked} \
                     Deze e-mail wordt niet gevolgd. FG: {dpo}. Meer: {info_url}"
                        .into(),
                ),
                en: None,
            },
        };
        let d = Disclosure::new(&policy, Lang::Nl, info()).unwrap();
        assert_eq!(
            d.clone().track(pixel()).text(),
            "Deze e-mail van Acme bevat een volgpixel. Meer: https://lw.example.nl/i/tok123"
        );
        assert_eq!(
            d.text(),
            "Deze e-mail wordt niet gevolgd. FG: fg@acme.example. Meer: https://lw.example.nl/i/tok123"
        );
        let err = |text: &str| {
            let policy = DisclosurePolicy {
                text: DisclosureTexts {
                    en: Some(text.into()),
                    nl: None,
                },
                ..Default::default()
            };
            Disclosure::new(&policy, Lang::En, info()).unwrap_err()
        };
        let field = "disclosure.text.en".to_string();
        assert_eq!(
            err("tracked {untracked} untracked {info_url}"),
            DisclosureError::MissingInfoUrl {
                field: field.clone()
            }
        );
        assert_eq!(
            err("tracked {info_url} {untracked} untracked"),
            DisclosureError::MissingInfoUrl {
                field: format!("{field} (after {{untracked}})")
            }
        );
        assert_eq!(
            err("a {info_url} {untracked} b {info_url} {untracked} c {info_url}"),
            DisclosureError::RepeatedPlaceholder {
                field: field.clone(),
                name: "untracked".into()
            }
        );
        assert_eq!(
            err("a {info_url} {untracked} b {info_url} {oops}"),
            DisclosureError::UnknownPlaceholder {
                field: format!("{field} (after {{untracked}})"),
                name: "oops".into()
            }
        );
        // `{{untracked}}` is literal text, as any doubled brace.
        let policy = DisclosurePolicy {
            text: DisclosureTexts {
                en: Some("a {{untracked}} {info_url}".into()),
                nl: None,
            },
            ..Default::default()
        };
        let d = Disclosure::new(&policy, Lang::En, info()).unwrap();
        assert_eq!(d.text(), "a {untracked} https://lw.example.nl/i/tok123");
        assert!(err("{info_url} {x}").to_string().contains("{untracked}"));
    }

    #[test]
    fn the_link_can_carry_the_notice_language() {
        let cases = [
            (
                "https://lw.example.nl/i/tok123",
                "https://lw.example.nl/i/tok123?lang=nl",
            ),
            (
                "https://lw.example.nl/i/t?a=1",
                "https://lw.example.nl/i/t?a=1&lang=nl",
            ),
            (
                "https://lw.example.nl/i/t?",
                "https://lw.example.nl/i/t?lang=nl",
            ),
            (
                "https://lw.example.nl/i/t?a=1&",
                "https://lw.example.nl/i/t?a=1&lang=nl",
            ),
            (
                "https://lw.example.nl/i/t#top",
                "https://lw.example.nl/i/t?lang=nl#top",
            ),
            (
                "https://lw.example.nl/i/t?a=1#x?y",
                "https://lw.example.nl/i/t?a=1&lang=nl#x?y",
            ),
            (
                "https://lw.example.nl/i/t?lang=en",
                "https://lw.example.nl/i/t?lang=en",
            ),
            (
                "https://lw.example.nl/i/t?xlang=en",
                "https://lw.example.nl/i/t?xlang=en&lang=nl",
            ),
        ];
        for (url, link) in cases {
            let info = InfoUrl::parse(url).unwrap();
            let d = Disclosure::new_with_lang_in_link(&DisclosurePolicy::default(), Lang::Nl, info)
                .unwrap();
            assert_eq!(d.link(), link);
            assert!(d.text().ends_with(link), "{}", d.text());
            let tracked = d.clone().track(pixel());
            assert!(tracked.text().ends_with(link));
            for html in [d.html_snippet(), tracked.html_snippet()] {
                let href = format!(r#"<a href="{}""#, escape_attr(link));
                assert!(html.contains(&href), "{html}");
                // The block still names the message by its info URL.
                let marker = format!(r#"data-leakwatch-info="{}""#, escape_attr(url));
                assert!(html.contains(&marker), "{html}");
            }
        }
        let en = Disclosure::new_with_lang_in_link(&DisclosurePolicy::default(), Lang::En, info())
            .unwrap();
        assert_eq!(en.link(), "https://lw.example.nl/i/tok123?lang=en");
        // The plain constructor links the info URL exactly as given (check-v1).
        let plain = Disclosure::new(&DisclosurePolicy::default(), Lang::Nl, info()).unwrap();
        assert_eq!(plain.link(), "https://lw.example.nl/i/tok123");
    }

    #[test]
    fn template_errors() {
        let with = |text: &str, dpo: Option<&str>| DisclosurePolicy {
            organization: None,
            dpo_contact: dpo.map(str::to_string),
            text: DisclosureTexts {
                en: Some(text.to_string()),
                nl: None,
            },
        };
        let err = |text: &str, dpo: Option<&str>| {
            Disclosure::new(&with(text, dpo), Lang::En, info()).unwrap_err()
        };
        let field = "disclosure.text.en".to_string();
        assert_eq!(
            err("no link", None),
            DisclosureError::MissingInfoUrl {
                field: field.clone()
            }
        );
        assert_eq!(
            err("{info_url} {name}", None),
            DisclosureError::UnknownPlaceholder {
                field: field.clone(),
                name: "name".into()
            }
        );
        assert_eq!(
            err("{info_url} {info_url}", None),
            DisclosureError::RepeatedPlaceholder {
                field: field.clone(),
                name: "info_url".into()
            }
        );
        assert_eq!(
            err("{dpo} {info_url}", None),
            DisclosureError::DpoNotSet {
                field: field.clone()
            }
        );
        assert!(Disclosure::new(&with("{dpo} {info_url}", Some("x")), Lang::En, info()).is_ok());
        assert_eq!(
            err("{info_url} {oops", None),
            DisclosureError::UnbalancedBrace {
                field: field.clone(),
                at: 11
            }
        );
        assert_eq!(
            err("{info_url} }", None),
            DisclosureError::UnbalancedBrace {
                field: field.clone(),
                at: 11
            }
        );
        assert!(matches!(
            err("{info_url} \u{202E}evil", None),
            DisclosureError::BadCharacter { .. }
        ));
        // An invalid Dutch text fails the English disclosure too: a policy is valid or not.
        let policy = DisclosurePolicy {
            text: DisclosureTexts {
                en: None,
                nl: Some("geen link".into()),
            },
            ..Default::default()
        };
        assert!(Disclosure::new(&policy, Lang::En, info()).is_err());
        for e in [err("x", None), err("{info_url} {", None)] {
            assert!(!e.to_string().contains('\n'));
        }
    }

    #[test]
    fn insertions_are_tracked_only_with_a_pixel_url() {
        let policy = DisclosurePolicy::default();
        let info = || InfoUrl::parse("https://lw.example.nl/i/m1").unwrap();
        let pixel = PixelUrl::parse("https://lw.example.nl/p/t1").unwrap();
        let plain = Insertion::new(&policy, Lang::Nl, info(), None).unwrap();
        assert!(matches!(plain, Insertion::Disclosure(_)));
        assert_eq!(plain.pixel_url(), None);
        let tracked = Insertion::new(&policy, Lang::Nl, info(), Some(pixel.clone())).unwrap();
        assert_eq!(tracked.pixel_url(), Some(&pixel));
        assert!(tracked
            .html_snippet()
            .contains("https://lw.example.nl/p/t1"));
        assert_eq!(tracked.disclosure(), plain.disclosure());
    }

    #[test]
    fn tracked_renders_pixel_inside_the_block() {
        let d = Disclosure::new(&DisclosurePolicy::default(), Lang::En, info()).unwrap();
        let plain = d.html_snippet().to_string();
        let t = d.clone().track(pixel());
        let html = t.html_snippet();
        assert!(html.starts_with(r#"<div data-leakwatch="disclosure" data-leakwatch-info="https://lw.example.nl/i/tok123" lang="en" style=""#));
        assert!(html.ends_with(
            r#"<img src="https://lw.example.nl/p/tok123" width="1" height="1" alt="" border="0" style="display:block;width:1px;height:1px;border:0;margin:0;padding:0;overflow:hidden" data-leakwatch-pixel=""></div>"#
        ));
        // The same wrapper; the tracked notice, then the pixel, inside it.
        let wrapper = wrapper_open(Lang::En, &info());
        assert!(plain.starts_with(&wrapper) && html.starts_with(&wrapper));
        assert_eq!(
            html.replacen(&pixel_html(&pixel()), "", 1),
            format!("{wrapper}{}</div>", d.tracked_inner_html),
        );
        assert!(html.contains(&escape_text(t.text().trim_end_matches(info().as_str()))));
        assert_eq!(Insertion::from(t.clone()).pixel_url(), Some(&pixel()));
        assert_eq!(Insertion::from(t.disclosure().clone()).pixel_url(), None);
    }

    #[test]
    fn urls_are_attribute_escaped() {
        let info = InfoUrl::parse("https://lw.example/i/t?a=1&b=2").unwrap();
        let d = Disclosure::new(&DisclosurePolicy::default(), Lang::En, info).unwrap();
        assert!(d
            .html_snippet()
            .contains(r#"data-leakwatch-info="https://lw.example/i/t?a=1&amp;b=2""#));
        assert!(d
            .html_snippet()
            .contains(r#"href="https://lw.example/i/t?a=1&amp;b=2""#));
        assert!(d.text().ends_with("https://lw.example/i/t?a=1&b=2"));
    }

    /// WCAG relative luminance contrast of two sRGB colours.
    fn contrast(a: u32, b: u32) -> f64 {
        fn lum(c: u32) -> f64 {
            let ch = |v: u32| {
                let s = f64::from(v & 0xff) / 255.0;
                if s <= 0.04045 {
                    s / 12.92
                } else {
                    ((s + 0.055) / 1.055).powf(2.4)
                }
            };
            0.2126 * ch(c >> 16) + 0.7152 * ch(c >> 8) + 0.0722 * ch(c)
        }
        let (x, y) = (lum(a), lum(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    #[test]
    fn readable() {
        assert!(WRAPPER_STYLE.contains("font-size:12px"));
        assert!(WRAPPER_STYLE.contains("color:#444444"));
        assert!(WRAPPER_STYLE.contains("background-color:#ffffff"));
        assert!(LINK_STYLE.contains("color:#1a5fb4"));
        assert!(contrast(0x444444, 0xffffff) >= 4.5);
        assert!(contrast(0x1a5fb4, 0xffffff) >= 4.5);
        assert!(!PIXEL_ATTRS.contains("display:none"));
        assert!(PIXEL_ATTRS.contains(&format!(r#" {PIXEL_ATTR}="">"#)));
    }

    #[test]
    fn builtin_fits_the_append_limit_with_everything_at_its_maximum() {
        let (max_org, max_dpo, _) = CAPS;
        let worst_url = |kind: &str| {
            format!("https://{kind}.example/{}", "&".repeat(100))
                .chars()
                .scan(0, |n, c| {
                    *n += html_len(&c.to_string());
                    (*n <= MAX_URL_LEN).then_some(c)
                })
                .collect::<String>()
        };
        let info = InfoUrl::parse(&worst_url("i")).unwrap();
        let pixel = PixelUrl::parse(&worst_url("p")).unwrap();
        let policy = DisclosurePolicy {
            // `"` is the most expensive character when escaped.
            organization: Some("\"".repeat(max_org / 6)),
            dpo_contact: Some("&".repeat(max_dpo / 5)),
            text: DisclosureTexts::default(),
        };
        for lang in Lang::ALL {
            let t = Disclosure::new(&policy, lang, info.clone())
                .unwrap()
                .track(pixel.clone());
            let len = utf16_len(t.html_snippet());
            assert!(len <= APPEND_LIMIT, "{lang:?}: {len}");
            assert!(utf16_len(&t.disclosure().text_snippet()) <= APPEND_LIMIT);
        }
    }

    #[test]
    fn longest_tenant_text_fits_the_append_limit() {
        let (max_org, max_dpo, max_text) = CAPS;
        let info = InfoUrl::parse(&format!("https://lw.example/i/{}", "a".repeat(235))).unwrap();
        let pixel = PixelUrl::parse(&format!("https://lw.example/p/{}", "b".repeat(235))).unwrap();
        assert_eq!(utf16_len(info.as_str()), MAX_URL_LEN);
        let placeholders = "{organization} {dpo} {info_url} ";
        // Fill the rest of the template with the most expensive characters, non-BMP ones
        // (2 UTF-16 units) and `&` (5 once escaped).
        let filler_len = max_text - html_len(placeholders);
        let filler: String = "&\u{1F512}"
            .chars()
            .cycle()
            .scan(0, |n, c| {
                *n += html_len(&c.to_string());
                (*n <= filler_len).then_some(c)
            })
            .collect();
        let template = format!("{placeholders}{filler}");
        assert!(html_len(&template) <= max_text && html_len(&template) > max_text - 5);
        for lang in Lang::ALL {
            let mut texts = DisclosureTexts::default();
            match lang {
                Lang::En => texts.en = Some(template.clone()),
                Lang::Nl => texts.nl = Some(template.clone()),
            }
            let policy = DisclosurePolicy {
                organization: Some("<".repeat(max_org / 4)),
                dpo_contact: Some("\u{1F512}".repeat(max_dpo / 2)),
                text: texts,
            };
            let d = Disclosure::new(&policy, lang, info.clone()).unwrap();
            let t = d.track(pixel.clone());
            let len = utf16_len(t.html_snippet());
            assert!(len <= APPEND_LIMIT, "{lang:?}: {len}");
        }
        // One character more in any field is refused, not truncated.
        let too_long = DisclosurePolicy {
            organization: Some("x".repeat(max_org + 1)),
            ..Default::default()
        };
        assert!(matches!(
            Disclosure::new(&too_long, Lang::En, info.clone()),
            Err(DisclosureError::TooLong { .. })
        ));
    }
}
