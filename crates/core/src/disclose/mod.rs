//! The disclosure every tracked message carries, and its insertion into the body.
//!
//! Lawful leak-detection tracking needs the recipients to be told (GDPR art. 13/14, and the
//! Dutch DUO case: a pixel nobody mentions is not lawful). So the pixel and its notice are
//! one thing here:
//!
//! - [`Disclosure`]: the notice for one message, rendered from the tenant's
//!   [`DisclosurePolicy`], a [`Lang`] and the message's [`InfoUrl`] (its transparency page).
//! - [`TrackedDisclosure`]: a `Disclosure` plus a [`PixelUrl`]; the only value that holds a
//!   pixel, and it only renders the pixel inside the notice's block.
//! - [`Insertion`]: one or the other, what `insert_html` puts into a message.
//! - [`insert_text`]: the notice at the end of a plain-text body; never a pixel.
//!
//! The snippets ([`Disclosure::html_snippet`], [`TrackedDisclosure::html_snippet`],
//! [`Disclosure::text_snippet`]) are what an add-in appends with Outlook's
//! `appendOnSendAsync`; every one fits its 5,000-character limit ([`APPEND_LIMIT`]).
//!
//! `insert_html` (feature `html`, on by default) rewrites a whole HTML body with a real
//! HTML tokenizer (lol_html): the block goes before the end of the real `<body>`, old
//! leakwatch pixels in quoted content are removed, everything else is kept byte for byte,
//! and running it again changes nothing. The send-time WebAssembly module may leave the
//! feature out and append the snippet instead.

mod escape;
#[cfg(feature = "html")]
mod html;
mod render;
mod text;
mod url;

use serde::{Deserialize, Serialize};

use crate::i18n::Lang;

pub use escape::{escape_attr, escape_text, html_len, utf16_len};
#[cfg(feature = "html")]
pub use html::{insert_html, Edit, EditKind, HtmlError, Placement, Rewritten};
pub use render::{builtin_template, Disclosure, DisclosureError, Insertion, TrackedDisclosure};
pub use text::{has_text_disclosure, insert_text};
pub use url::{InfoUrl, PixelUrl, UrlError, MAX_URL_LEN};

/// Outlook's limit for `appendOnSendAsync`: 5,000 characters (UTF-16 code units) of HTML,
/// the pixel included. Every rendered snippet fits.
pub const APPEND_LIMIT: usize = 5_000;
/// The longest `organization`, in characters as written into HTML (see [`html_len`]).
pub const MAX_ORGANIZATION_LEN: usize = 100;
/// The longest `dpo_contact`, in characters as written into HTML.
pub const MAX_DPO_CONTACT_LEN: usize = 200;
/// The longest template in `text`, in characters as written into HTML, placeholders
/// included as written (`{organization}` counts 14).
pub const MAX_TEXT_LEN: usize = 1_000;

/// The tenant's disclosure settings (`policy.disclosure`). Every field is optional; `{}`
/// gives the built-in Dutch and English notices naming "the sender's organisation".
///
/// Lengths are counted as written into the HTML, in UTF-16 code units as Outlook counts:
/// `&` counts 5 (`&amp;`), `<` and `>` 4, `"` 6, a character outside the Basic Multilingual
/// Plane (an emoji) 2, anything else 1. Line breaks and runs of whitespace become one space.
/// With these caps the largest disclosure, pixel included, stays within Outlook's 5,000.
///
/// ```json
/// {"organization": "Gemeente Voorbeeld", "dpo_contact": "fg@voorbeeld.nl",
///  "text": {"nl": "Deze e-mail van {organization} bevat een volgpixel. FG: {dpo}. Meer: {info_url}"}}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[serde(default)]
pub struct DisclosurePolicy {
    /// The tenant's name as recipients know it, for `{organization}`. Unset (or blank): "the
    /// sender's organisation" / "de organisatie van de afzender". At most
    /// [`MAX_ORGANIZATION_LEN`] (100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// How to reach the data protection officer (an address, a phone number, a URL as text),
    /// for `{dpo}`. When set, the built-in notices add a sentence naming it. At most
    /// [`MAX_DPO_CONTACT_LEN`] (200).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpo_contact: Option<String>,
    /// The tenant's own notice per language, replacing the built-in one for that language.
    /// Placeholders: `{organization}` and `{dpo}` (each at most once; `{dpo}` only when
    /// `dpo_contact` is set) and `{info_url}` (exactly once: it becomes the link to the
    /// message's transparency page). `{{` and `}}` are literal braces. At most
    /// [`MAX_TEXT_LEN`] (1,000) each.
    #[serde(skip_serializing_if = "DisclosureTexts::is_empty")]
    pub text: DisclosureTexts,
}

/// A template per language; absent ones use the built-in text.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[serde(default)]
pub struct DisclosureTexts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nl: Option<String>,
}

impl DisclosureTexts {
    /// The template for `lang`, if the tenant wrote one (blank counts as none).
    pub fn get(&self, lang: Lang) -> Option<&str> {
        match lang {
            Lang::En => self.en.as_deref(),
            Lang::Nl => self.nl.as_deref(),
        }
        .filter(|t| !t.trim().is_empty())
    }

    pub fn is_empty(&self) -> bool {
        self.en.is_none() && self.nl.is_none()
    }
}

impl DisclosurePolicy {
    /// Checks every field and every language's template, so that a policy is valid or not
    /// as a whole (an admin learns about a broken Dutch text while testing in English).
    pub fn validate(&self) -> Result<(), DisclosureError> {
        if let Some(org) = &self.organization {
            render::check_field("disclosure.organization", org, MAX_ORGANIZATION_LEN)?;
        }
        if let Some(dpo) = &self.dpo_contact {
            render::check_field("disclosure.dpo_contact", dpo, MAX_DPO_CONTACT_LEN)?;
        }
        let dpo_set = self.dpo_contact().is_some();
        for lang in Lang::ALL {
            if let Some(text) = self.text.get(lang) {
                let field = format!("disclosure.text.{}", lang.code());
                render::check_template(&field, text, dpo_set)?;
            }
        }
        Ok(())
    }

    /// `organization`, one line, or `None` when unset or blank.
    pub fn organization(&self) -> Option<String> {
        non_blank(self.organization.as_deref())
    }

    /// `dpo_contact`, one line, or `None` when unset or blank.
    pub fn dpo_contact(&self) -> Option<String> {
        non_blank(self.dpo_contact.as_deref())
    }
}

fn non_blank(s: Option<&str>) -> Option<String> {
    s.map(render::collapse_whitespace).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_policy_is_valid_and_round_trips() {
        let policy: DisclosurePolicy = serde_json::from_str("{}").unwrap();
        assert_eq!(policy, DisclosurePolicy::default());
        policy.validate().unwrap();
        assert_eq!(serde_json::to_string(&policy).unwrap(), "{}");
        let full: DisclosurePolicy = serde_json::from_str(
            r#"{"organization": "Gemeente Voorbeeld", "dpo_contact": "fg@voorbeeld.nl",
                "text": {"nl": "Van {organization}. FG: {dpo}. Meer: {info_url}", "de": "ignored"},
                "future_field": true}"#,
        )
        .unwrap();
        full.validate().unwrap();
        assert_eq!(full.text.get(Lang::En), None);
        let again: DisclosurePolicy =
            serde_json::from_str(&serde_json::to_string(&full).unwrap()).unwrap();
        assert_eq!(again, full);
    }

    #[test]
    fn policy_field_parses_inside_the_policy() {
        let policy: crate::Policy =
            serde_json::from_str(r#"{"disclosure": {"organization": "Acme"}}"#).unwrap();
        assert_eq!(policy.disclosure.organization(), Some("Acme".to_string()));
    }

    #[test]
    fn blank_values_count_as_unset() {
        let policy = DisclosurePolicy {
            organization: Some("  \n ".into()),
            dpo_contact: Some(String::new()),
            text: DisclosureTexts {
                en: Some(" ".into()),
                nl: None,
            },
        };
        policy.validate().unwrap();
        assert_eq!(policy.organization(), None);
        assert_eq!(policy.dpo_contact(), None);
        assert_eq!(policy.text.get(Lang::En), None);
    }

    #[test]
    fn caps_are_enforced() {
        let org = DisclosurePolicy {
            organization: Some("&".repeat(MAX_ORGANIZATION_LEN / 5 + 1)),
            ..Default::default()
        };
        assert!(matches!(
            org.validate(),
            Err(DisclosureError::TooLong { ref field, .. }) if field == "disclosure.organization"
        ));
        let dpo = DisclosurePolicy {
            dpo_contact: Some("x".repeat(MAX_DPO_CONTACT_LEN + 1)),
            ..Default::default()
        };
        assert!(dpo.validate().is_err());
        let text = DisclosurePolicy {
            text: DisclosureTexts {
                nl: Some(format!("{{info_url}} {}", "x".repeat(MAX_TEXT_LEN))),
                en: None,
            },
            ..Default::default()
        };
        assert!(matches!(
            text.validate(),
            Err(DisclosureError::TooLong { ref field, .. }) if field == "disclosure.text.nl"
        ));
    }
}
