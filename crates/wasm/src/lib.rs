//! The leakwatch core for JavaScript: a thin wasm-bindgen shell, as ruff's `ruff_wasm`.
//!
//! A [`Checker`] is built once from the tenant policy, the sender's history and address book
//! (plain JS objects, read by `from_js`; results go back with serde-wasm-bindgen), then checks each draft and returns
//! the check-v1 Verdict as a plain object. All logic lives in `leakwatch-core` and is tested
//! natively there; this crate only converts values at the boundary.

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

mod from_js;

use leakwatch_core as core;
use leakwatch_core::disclose;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** A recipient: "addr", "Name <addr>", "\"Last, First\" <addr>" or an object. */
export type Recipient = string | { address: string; name?: string };
export interface Attachment { name: string; size?: number; content_type?: string }
export interface SentMessage {
  to: Recipient[]; cc?: Recipient[]; bcc?: Recipient[];
  subject?: string;
  /** RFC 3339. */
  sent_at?: string;
}
export interface Contact { address: string; name?: string }
export type Lang = "en" | "nl";
export type RuleSetting = "off" | "info" | "warn" | "block";
export type TrackingScope = "off" | "at_risk" | "external_personal_data" | "all_external";
export interface Policy {
  internal_domains?: string[];
  trusted_domains?: string[];
  blocked_domains?: string[];
  freemail_domains?: string[];
  severities?: Record<string, RuleSetting>;
  thresholds?: {
    visible_recipients?: number; visible_group_share?: number;
    lookalike_max_distance?: number; lookalike_min_length?: number;
    similar_local_max_distance?: number; established_messages?: number;
    mixed_organizations_max?: number; min_history?: number;
  };
  tracking?: { scope?: TrackingScope; exclude_domains?: string[] };
  disclosure?: Record<string, unknown>;
}
export interface CheckerOptions {
  policy?: Policy;
  /** Newest first. */
  history?: SentMessage[];
  contacts?: Contact[];
}
/** The message being sent. */
export interface Message {
  from: string;
  to?: Recipient[]; cc?: Recipient[]; bcc?: Recipient[];
  subject?: string;
  /** Plain text of the body. */
  body?: string;
  attachments?: Attachment[];
}
/** A full check-v1 Draft: the message with history, contacts and policy. */
export interface Draft extends Message, CheckerOptions {}
export type Severity = "info" | "warn" | "block";
export interface Finding {
  rule: string;
  severity: Severity;
  recipients: string[];
  message: string;
  suggestion?: string;
}
export interface DisclosureOptions {
  /** The recipients' transparency page (`info_url` from message registration). */
  info_url: string;
  /** The pixel (`pixel_url`), only for a tracked message. */
  pixel_url?: string;
  lang?: Lang;
}
/** The rendered disclosure for the add-ins to insert. */
export interface RenderedDisclosure {
  /** The notice as one line of text, URL included. */
  text: string;
  /** What to append to a plain-text body: a blank line, the notice, a line break. */
  text_snippet: string;
  /** The HTML block for appendOnSendAsync or the DOM: the notice, and the pixel when
   *  `pixel_url` was given (never the pixel without the notice). */
  html: string;
  tracked: boolean;
}
export interface Verdict {
  verdict: "send" | "warn" | "block";
  findings: Finding[];
  track: boolean;
  track_reason: string;
  sensitive: {
    kind: "bsn" | "iban" | "card" | "health" | "be-rrn" | "de-steuer-id" | "fr-nir" | "uk-nhs";
    count: number;
  }[];
}
"#;

#[derive(Deserialize, Default)]
#[serde(default)]
struct CheckerOptions {
    policy: core::Policy,
    history: Vec<core::SentMessage>,
    contacts: Vec<core::Contact>,
}

#[derive(Deserialize)]
struct DisclosureOptions {
    info_url: String,
    #[serde(default)]
    pixel_url: Option<String>,
    #[serde(default)]
    lang: Option<String>,
}

impl DisclosureOptions {
    fn insertion(
        &self,
        policy: &disclose::DisclosurePolicy,
    ) -> Result<disclose::Insertion, JsError> {
        let info_url = disclose::InfoUrl::parse(&self.info_url)
            .map_err(|e| JsError::new(&format!("info_url: {e}")))?;
        let lang = parse_lang(self.lang.clone())?;
        let pixel_url = self
            .pixel_url
            .as_deref()
            .map(disclose::PixelUrl::parse)
            .transpose()
            .map_err(|e| JsError::new(&format!("pixel_url: {e}")))?;
        disclose::Insertion::new(policy, lang, info_url, pixel_url)
            .map_err(|e| JsError::new(&e.to_string()))
    }
}

#[derive(Serialize)]
struct RenderedDisclosure<'a> {
    text: &'a str,
    text_snippet: String,
    html: &'a str,
    tracked: bool,
}

/// JS value -> Rust value, with the path-free serde message as a JS `Error`.
fn from_js<T: for<'de> Deserialize<'de>>(value: JsValue, what: &str) -> Result<T, JsError> {
    from_js::from_value(&value).map_err(|e| JsError::new(&format!("invalid {what}: {e}")))
}

/// Rust value -> plain JS object (objects, not `Map`s, so results compare as JSON).
fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&format!("cannot convert the result: {e}")))
}

fn parse_lang(lang: Option<String>) -> Result<core::Lang, JsError> {
    match lang {
        None => Ok(core::Lang::En),
        Some(code) => code
            .parse()
            .map_err(|e: core::i18n::UnknownLang| JsError::new(&e.to_string())),
    }
}

/// The send-time checker. Build it once per mailbox; keep it between sends.
#[wasm_bindgen]
pub struct Checker {
    inner: core::Checker,
}

#[wasm_bindgen]
impl Checker {
    /// Builds the contact model from `{policy, history, contacts}` (all optional).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "CheckerOptions")] options: JsValue,
    ) -> Result<Checker, JsError> {
        let options: CheckerOptions = if options.is_undefined() || options.is_null() {
            CheckerOptions::default()
        } else {
            from_js(options, "checker options")?
        };
        let inner = core::Checker::new(options.policy, &options.history, &options.contacts);
        let skipped = inner.model().skipped_recipients;
        if skipped > 0 {
            web_sys::console::info_1(
                &format!("leakwatch: skipped {skipped} unusable history recipient(s)").into(),
            );
        }
        Ok(Checker { inner })
    }

    /// Checks one message; returns the check-v1 Verdict. Throws on an invalid message, with
    /// the field named (`to[1]: 'jan' has no '@'`).
    #[wasm_bindgen(unchecked_return_type = "Verdict")]
    pub fn check(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Message")] message: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Lang | undefined")] lang: Option<String>,
    ) -> Result<JsValue, JsError> {
        let message: core::Message = from_js(message, "message")?;
        let verdict = self
            .inner
            .check(&message, parse_lang(lang)?)
            .map_err(|e| JsError::new(&e.to_string()))?;
        to_js(&verdict)
    }

    /// Adds a sent message to the history without rebuilding the model.
    #[wasm_bindgen(js_name = addSent)]
    pub fn add_sent(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "SentMessage")] message: JsValue,
    ) -> Result<(), JsError> {
        let message: core::SentMessage = from_js(message, "sent message")?;
        self.inner.add_sent(&message);
        Ok(())
    }

    /// Renders the tenant's disclosure (from the policy's `disclosure` settings) for one
    /// message. With `pixel_url` the HTML block carries the pixel too: the core cannot
    /// render a pixel without its notice.
    #[wasm_bindgen(unchecked_return_type = "RenderedDisclosure")]
    pub fn disclosure(
        &self,
        #[wasm_bindgen(unchecked_param_type = "DisclosureOptions")] options: JsValue,
    ) -> Result<JsValue, JsError> {
        let options: DisclosureOptions = from_js(options, "disclosure options")?;
        let insertion = options.insertion(&self.inner.policy().disclosure)?;
        let disclosure = insertion.disclosure();
        to_js(&RenderedDisclosure {
            text: disclosure.text(),
            text_snippet: disclosure.text_snippet(),
            html: insertion.html_snippet(),
            tracked: insertion.pixel_url().is_some(),
        })
    }

    /// Adds the disclosure to a plain-text body (never a pixel); idempotent, so running it
    /// on its own output changes nothing. HTML bodies are not rewritten in this module (it
    /// carries no HTML parser, for size): append `disclosure().html` instead.
    #[wasm_bindgen(js_name = discloseText)]
    pub fn disclose_text(
        &self,
        body: &str,
        #[wasm_bindgen(unchecked_param_type = "DisclosureOptions")] options: JsValue,
    ) -> Result<String, JsError> {
        let options: DisclosureOptions = from_js(options, "disclosure options")?;
        let insertion = options.insertion(&self.inner.policy().disclosure)?;
        Ok(disclose::insert_text(body, insertion.disclosure()))
    }

    /// Number of history messages the model holds.
    #[wasm_bindgen(getter = historySize)]
    pub fn history_size(&self) -> u32 {
        self.inner.model().message_count()
    }
}

/// Checks a full check-v1 Draft in one call, exactly as `leakwatch check` does.
#[wasm_bindgen(js_name = checkDraft, unchecked_return_type = "Verdict")]
pub fn check_draft(
    #[wasm_bindgen(unchecked_param_type = "Draft")] draft: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Lang | undefined")] lang: Option<String>,
) -> Result<JsValue, JsError> {
    let draft: core::Draft = from_js(draft, "draft")?;
    let verdict = core::check::check_draft(&draft, parse_lang(lang)?)
        .map_err(|e| JsError::new(&e.to_string()))?;
    to_js(&verdict)
}

/// The core's version, for diagnostics.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
