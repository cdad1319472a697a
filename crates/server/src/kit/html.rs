//! What the recipients' pages share: escaping, the language choice, one page shell with
//! inline CSS (no scripts, no images, no outside resources), and the security headers.

use std::convert::Infallible;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use leakwatch_core::Lang;

/// Nothing may load but inline style; forms go only to this server; no framing, no `<base>`.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
                       frame-ancestors 'none'; base-uri 'none'";

/// Escapes text for HTML element content and double- or single-quoted attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
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

/// The frame of a page: the band at the top and how wide the content may be.
pub struct Shell<'a> {
    pub lang: Lang,
    /// The small caps line above the heading.
    pub brand: &'a str,
    /// Plain text.
    pub title: &'a str,
    /// HTML.
    pub heading: &'a str,
    /// HTML.
    pub lead: &'a str,
    /// The URL of the other language's page, for the language switch.
    pub switch: Option<&'a str>,
    /// Wider content (tables).
    pub wide: bool,
}

/// A recipients' page: `title` (plain text), a header band with `heading` and `lead`
/// (HTML), the language switch when `switch` gives the URL of the other language's page,
/// and `main` (HTML).
pub fn page(
    lang: Lang,
    title: &str,
    heading: &str,
    lead: &str,
    switch: Option<&str>,
    main: &str,
) -> String {
    document(
        &Shell {
            lang,
            brand: lang.pick("Privacy notice", "Privacyverklaring"),
            title,
            heading,
            lead,
            switch,
            wide: false,
        },
        main,
    )
}

/// A whole HTML document in the shared style.
pub fn document(shell: &Shell<'_>, main: &str) -> String {
    let lang = shell.lang;
    let langs = match shell.switch {
        Some(other) => {
            let (nl, en) = match lang {
                Lang::Nl => (
                    "<a href=\"?lang=nl\" lang=\"nl\" hreflang=\"nl\" aria-current=\"true\">Nederlands</a>".to_string(),
                    format!("<a href=\"{}\" lang=\"en\" hreflang=\"en\">English</a>", esc(other)),
                ),
                Lang::En => (
                    format!("<a href=\"{}\" lang=\"nl\" hreflang=\"nl\">Nederlands</a>", esc(other)),
                    "<a href=\"?lang=en\" lang=\"en\" hreflang=\"en\" aria-current=\"true\">English</a>".to_string(),
                ),
            };
            format!(
                "<nav class=\"langs\" aria-label=\"{}\">{nl}{en}</nav>",
                lang.pick("Language", "Taal")
            )
        }
        None => String::new(),
    };
    format!(
        "<!doctype html>\n<html lang=\"{code}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex, nofollow\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>{title}</title><style>{STYLE}</style></head><body{class}>\
         <header class=\"top\"><div class=\"in\"><div class=\"bar\"><span class=\"brand\">{brand}</span>{langs}</div>\
         <h1>{heading}</h1><p class=\"lead\">{lead}</p></div></header>\
         <main>{main}</main></body></html>\n",
        code = lang.code(),
        title = esc(shell.title),
        class = if shell.wide { " class=\"wide\"" } else { "" },
        brand = esc(shell.brand),
        heading = shell.heading,
        lead = shell.lead,
    )
}

/// An HTML answer with the recipients' pages' headers: the CSP, no caching (a page may name
/// the tenant), no referrer (links out must not carry the message id), no framing, no
/// sniffing.
pub fn respond(status: StatusCode, lang: Lang, html: String) -> Response {
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name: HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(headers, header::CONTENT_TYPE, "text/html; charset=utf-8");
    set(headers, header::CONTENT_SECURITY_POLICY, CSP);
    set(headers, header::CACHE_CONTROL, "no-store");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::VARY, "Accept-Language");
    set(headers, header::CONTENT_LANGUAGE, lang.code());
    response
}

/// Print-friendly, calm, readable: a dark blue band, white cards, system fonts, 4.5:1
/// contrast or better everywhere.
const STYLE: &str = "\
*{box-sizing:border-box}\
html{-webkit-text-size-adjust:100%}\
body{margin:0;background:#eef2f6;color:#1c2733;font:16px/1.6 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\",Arial,sans-serif}\
a{color:#0a58a8}\
.top{background:#12385a;background:linear-gradient(135deg,#12385a 0%,#1d5585 100%);color:#fff;padding:1.1rem 1.25rem 4.75rem}\
.top a{color:#fff}\
.in{max-width:46rem;margin:0 auto}\
.wide .in{max-width:62rem}\
.bar{display:flex;justify-content:space-between;align-items:center;gap:1rem;font-size:.875rem}\
.brand{letter-spacing:.08em;text-transform:uppercase;font-weight:600;opacity:.9}\
.langs a{display:inline-block;text-decoration:none;border:1px solid rgba(255,255,255,.55);border-radius:999px;padding:.1rem .75rem;margin-left:.4rem}\
.langs a[aria-current]{background:#fff;color:#12385a;font-weight:600}\
h1{font-size:1.9rem;line-height:1.25;margin:1.6rem 0 .6rem;font-weight:700}\
.lead{font-size:1.06rem;margin:0;color:#e3ecf5}\
main{max-width:48rem;margin:-3.5rem auto 1.5rem;padding:0 1rem}\
.wide main{max-width:64rem}\
.card{background:#fff;border-radius:12px;box-shadow:0 1px 2px rgba(16,24,40,.06),0 2px 6px rgba(16,24,40,.08);padding:1.4rem 1.75rem;margin:0 0 1rem}\
h2{font-size:1.15rem;line-height:1.3;margin:0 0 .6rem;color:#12385a}\
h3{font-size:1rem;margin:1rem 0 .3rem}\
p{margin:.5rem 0}\
ul{padding-left:1.25rem;margin:.5rem 0}li{margin:.3rem 0}\
.facts{display:grid;grid-template-columns:8.5rem 1fr;gap:.7rem 1.25rem;margin:.25rem 0 0}\
.facts dt{font-weight:600;color:#3d5166}\
.facts dd{margin:0}\
.muted{color:#566678;font-size:.92rem}\
.note{background:#f1f6fb;border-left:4px solid #2f78bd;border-radius:6px;padding:.7rem 1rem;margin:.75rem 0}\
.ok{background:#eef8f1;border-left-color:#2e8b57}\
.warn{background:#fdf4ec;border-left-color:#c26a1b}\
.object{border:2px solid #c7d7e7}\
label{display:block;font-weight:600;margin:.75rem 0 .35rem}\
.row{display:flex;gap:.6rem;flex-wrap:wrap}\
input[type=email]{flex:1 1 16rem;font:inherit;padding:.6rem .8rem;border:1px solid #9fb1c3;border-radius:8px;background:#fff;color:#1c2733}\
button{font:inherit;font-weight:600;background:#12385a;color:#fff;border:0;border-radius:8px;padding:.6rem 1.3rem;cursor:pointer}\
.error{color:#a11d1d;font-weight:600}\
code{font-family:inherit;font-weight:600;background:#e8eef5;border-radius:4px;padding:0 .35rem;white-space:nowrap}\
table{border-collapse:collapse;width:100%}\
th,td{text-align:left;vertical-align:top;padding:.55rem .6rem;border-bottom:1px solid #dfe6ee}\
th{width:14rem;color:#3d5166}\
.foot{color:#566678;font-size:.85rem;text-align:center;margin:1.5rem 0 2.5rem}\
@media (max-width:560px){.facts{grid-template-columns:1fr;gap:.15rem}.facts dd{margin-bottom:.6rem}h1{font-size:1.5rem}th{width:auto}}\
@media print{body{background:#fff}.top{background:none;color:#000;padding:0 0 1rem}.top a,.lead{color:#000}.langs{display:none}main{margin:0;max-width:none}.card{box-shadow:none;border:1px solid #ccc;break-inside:avoid}}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_can_break_out() {
        assert_eq!(
            esc("<script>\"a\" & 'b'</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
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
