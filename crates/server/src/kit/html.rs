//! What the server's pages share: the language choice, the frame every recipients' page's
//! template extends (`templates/base.html`: inline CSS, no scripts, no images, no outside
//! resources), contacts as links, and the security headers that [`security_headers`] puts
//! on every HTML response. The templates are askama's, checked at compile time and escaping
//! every value unless it is marked `safe`.

use std::convert::Infallible;
use std::fmt;

use askama::Template;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use leakwatch_core::Lang;

/// The pages' policy: nothing may load but inline style; forms go only to this server; no
/// framing, no `<base>`. All that the server's own pages need (the recipients' pages, the
/// record of processing, the printable notification draft, `/docs`): HTML with an inline
/// `<style>`, links and forms to this server, and no script, image or outside resource.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
                       frame-ancestors 'none'; base-uri 'none'";

/// A page's own Content-Security-Policy in place of [`CSP`], put in the response's
/// extensions by the handler: for a page that needs more, which says what it needs (the
/// Outlook add-in's pages load scripts and are framed by Outlook). [`security_headers`]
/// writes it; a `Content-Security-Policy` header set by a handler is replaced.
#[derive(Debug, Clone)]
pub struct PagePolicy(pub HeaderValue);

/// The security headers of every HTML response, as one layer over the whole router
/// (`axum::middleware::map_response(security_headers)`), so that no page can go without
/// them: the page's [`PagePolicy`] or else [`CSP`] (and then `X-Frame-Options: DENY` for
/// browsers without `frame-ancestors`), `X-Content-Type-Options: nosniff`, and
/// `Referrer-Policy: no-referrer` (a page's URL may hold a message id or a token; links out
/// must not carry it). Other responses pass as they are.
pub async fn security_headers(mut response: Response) -> Response {
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("text/html"))
        });
    if !html {
        return response;
    }
    let policy = response.extensions_mut().remove::<PagePolicy>();
    let headers = response.headers_mut();
    match policy {
        Some(PagePolicy(own)) => {
            // X-Frame-Options has no allow-list: it is for pages no one may frame (for
            // browsers without frame-ancestors); pages Outlook frames must go without it.
            let unframed = own
                .to_str()
                .is_ok_and(|p| p.contains("frame-ancestors 'none'"));
            headers.insert(header::CONTENT_SECURITY_POLICY, own);
            if unframed {
                headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            } else {
                headers.remove(header::X_FRAME_OPTIONS);
            }
        }
        None => {
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            );
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        }
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// How every value in an `.html` template is escaped (`askama.toml`): `&`, `<`, `>`, `"`
/// and `'`, as askama's own `Html` does, but as the named entities (`&amp;`, `&quot;`) that
/// the pages and their readers have always had rather than numeric ones.
#[derive(Debug, Clone, Copy, Default)]
pub struct PageEscaper;

impl askama::filters::Escaper for PageEscaper {
    fn write_escaped_str<W: fmt::Write>(&self, mut dest: W, text: &str) -> fmt::Result {
        let mut done = 0;
        for (at, byte) in text.bytes().enumerate() {
            let entity = match byte {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                b'\'' => "&#39;",
                _ => continue,
            };
            dest.write_str(&text[done..at])?;
            dest.write_str(entity)?;
            done = at + 1;
        }
        dest.write_str(&text[done..])
    }
}

/// The page's language: `?lang=` when it names one, else the best of `Accept-Language`
/// (by q-value, then order), else English.
pub fn negotiate(query: Option<&str>, headers: &HeaderMap) -> Lang {
    if let Some(lang) = query.and_then(|q| q.parse::<Lang>().ok()) {
        return lang;
    }
    let Some(accept) = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    else {
        return Lang::En;
    };
    // Best quality first, ties in the header's order; `q=0` means "not this one".
    accept_language::parse_with_quality(accept)
        .into_iter()
        .filter(|(_, quality)| *quality > 0.0)
        .find_map(|(tag, _)| tag.split('-').next()?.parse::<Lang>().ok())
        .unwrap_or(Lang::En)
}

#[derive(serde::Deserialize)]
struct LangParam {
    lang: Option<String>,
}

/// The language of a recipients' page, for handlers: [`negotiate`] over `?lang=` and
/// `Accept-Language`. A query string that does not parse is as good as none.
#[derive(Debug, Clone, Copy)]
pub struct PageLang(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for PageLang {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let param = Query::<LangParam>::from_request_parts(parts, state)
            .await
            .ok()
            .and_then(|Query(p)| p.lang);
        Ok(PageLang(negotiate(param.as_deref(), &parts.headers)))
    }
}

/// The frame of a recipients' page (`templates/base.html`); a page's template holds it
/// as `shell` and fills the blocks `heading`, `lead` and `main`.
pub struct Shell {
    pub lang: Lang,
    /// The small caps line above the heading.
    pub brand: &'static str,
    pub title: String,
    /// The URL of the other language's page, for the language switch.
    pub switch: Option<&'static str>,
    /// Wider content (tables).
    pub wide: bool,
}

impl Shell {
    /// The frame of the privacy pages: "Privacy notice" above the heading, normal width.
    pub fn privacy(lang: Lang, title: impl Into<String>, switch: Option<&'static str>) -> Shell {
        Shell {
            lang,
            brand: lang.pick("Privacy notice", "Privacyverklaring"),
            title: title.into(),
            switch,
            wide: false,
        }
    }

    /// Whether the page is in English (templates hold both languages' words).
    pub fn en(&self) -> bool {
        self.lang == Lang::En
    }
}

/// A contact as a page shows it (`templates/macros.html`, `contact`): a `mailto:` link
/// when it is just an address, else its text.
#[derive(Debug, Clone)]
pub struct Contact {
    pub text: String,
    pub mailto: bool,
}

impl Contact {
    pub fn new(contact: &str) -> Contact {
        let plain = contact.trim();
        Contact {
            mailto: !plain.contains(char::is_whitespace)
                && leakwatch_core::address::parse_addr_spec(plain).is_ok()
                && plain.is_ascii(),
            text: plain.to_string(),
        }
    }
}

/// A rendered page with the recipients' pages' headers: no caching (a page may name the
/// tenant), its language (the security headers are [`security_headers`]'s). A template that
/// fails to render (only a failing `Display` can) is a 500.
pub fn respond(status: StatusCode, lang: Lang, page: &impl Template) -> Response {
    let html = match page.render() {
        Ok(html) => html,
        Err(e) => {
            tracing::error!(error = %e, "a page did not render");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name: HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(headers, header::CONTENT_TYPE, "text/html; charset=utf-8");
    set(headers, header::CACHE_CONTROL, "no-store");
    set(headers, header::VARY, "Accept-Language");
    set(headers, header::CONTENT_LANGUAGE, lang.code());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Template)]
    #[template(source = "<p title=\"{{ text }}\">{{ text }}</p>", ext = "html")]
    struct Escaped<'a> {
        text: &'a str,
    }

    #[test]
    fn templates_escape_everything_that_can_break_out() {
        let html = Escaped {
            text: "<script>\"a\" & 'b'</script>",
        }
        .render()
        .unwrap();
        let escaped = "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;";
        assert_eq!(html, format!("<p title=\"{escaped}\">{escaped}</p>"));
    }

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_str(value).unwrap(),
        );
        headers
    }

    #[test]
    fn language_from_query_then_header() {
        assert_eq!(negotiate(Some("nl"), &accept("en")), Lang::Nl);
        assert_eq!(negotiate(Some("de"), &accept("nl-NL,nl;q=0.9")), Lang::Nl);
        assert_eq!(negotiate(None, &accept("nl-BE")), Lang::Nl);
        assert_eq!(
            negotiate(None, &accept("de-DE,en;q=0.5,nl;q=0.8")),
            Lang::Nl
        );
        assert_eq!(negotiate(None, &accept("fr, en-GB;q=0.7")), Lang::En);
        assert_eq!(negotiate(None, &accept("nl;q=0, en;q=0.1")), Lang::En);
        assert_eq!(negotiate(None, &accept("de")), Lang::En);
        // Equal quality: the header's order.
        assert_eq!(negotiate(None, &accept("en, nl")), Lang::En);
        assert_eq!(negotiate(None, &accept("nl;q=0.5, en;q=0.5")), Lang::Nl);
        assert_eq!(negotiate(None, &HeaderMap::new()), Lang::En);
    }
}
