//! The disclosure in a plain-text body: appended, never a pixel.
//!
//! The notice is one line that carries the message's info URL; that line is our marker. A
//! body that already has it on a line of its own (not quoted with `>`) already has our
//! disclosure for this message and is returned unchanged, so running twice adds nothing,
//! while a quoted older notice (another message, another URL) does not count.

use super::render::Disclosure;
use super::url::InfoUrl;
use crate::i18n::Lang;

/// Appends the disclosure after a blank line, in the body's own line ending (CRLF when the
/// body uses it). The body before it is kept byte for byte.
pub fn insert_text(body: &str, disclosure: &Disclosure) -> String {
    if has_text_disclosure(body, disclosure.info_url()) {
        return body.to_string();
    }
    let eol = if body.contains("\r\n") { "\r\n" } else { "\n" };
    let mut out = String::with_capacity(body.len() + disclosure.text().len() + 6);
    out.push_str(body);
    if !body.is_empty() {
        if !body.ends_with('\n') {
            out.push_str(eol);
        }
        out.push_str(eol);
    }
    out.push_str(disclosure.text());
    out.push_str(eol);
    out
}

/// Whether an unquoted line of `body` carries `info_url` as a whole URL (not as the start
/// of a longer one), as given or with the notice's language added (`?lang=nl`, `&lang=en`:
/// see `Disclosure::new_with_lang_in_link`).
pub fn has_text_disclosure(body: &str, info_url: &InfoUrl) -> bool {
    let url = info_url.as_str();
    body.lines()
        .filter(|line| !line.trim_start().starts_with('>'))
        .any(|line| {
            line.match_indices(url).any(|(at, _)| {
                let before = line[..at].chars().next_back();
                let rest = &line[at + url.len()..];
                let rest = strip_lang_param(rest, url).unwrap_or(rest);
                let after = rest.chars().next();
                !before.is_some_and(is_url_char) && !after.is_some_and(continues_url)
            })
        })
}

/// `rest` after the `lang` parameter the renderer may add to `url`, if it starts with one.
fn strip_lang_param<'a>(rest: &'a str, url: &str) -> Option<&'a str> {
    let separator = if !url.contains('?') {
        "?"
    } else if url.ends_with(['?', '&']) {
        ""
    } else {
        "&"
    };
    let value = rest.strip_prefix(separator)?.strip_prefix("lang=")?;
    Lang::ALL
        .into_iter()
        .find_map(|lang| value.strip_prefix(lang.code()))
}

fn is_url_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&()*+,;=%".contains(c)
}

/// A character after the URL that would make it a longer URL (sentence punctuation does not).
fn continues_url(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_~/?#[]@$&*+=%".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disclose::DisclosurePolicy;

    fn disclosure(url: &str) -> Disclosure {
        let info = InfoUrl::parse(url).unwrap();
        Disclosure::new(&DisclosurePolicy::default(), Lang::En, info).unwrap()
    }

    #[test]
    fn appends_after_a_blank_line() {
        let d = disclosure("https://lw.example/i/abc");
        let line = d.text();
        assert_eq!(
            insert_text("Hi,\n\nJan", &d),
            format!("Hi,\n\nJan\n\n{line}\n")
        );
        assert_eq!(insert_text("Hi\n", &d), format!("Hi\n\n{line}\n"));
        assert_eq!(
            insert_text("Hi\r\nJan\r\n", &d),
            format!("Hi\r\nJan\r\n\r\n{line}\r\n")
        );
        assert_eq!(insert_text("", &d), format!("{line}\n"));
    }

    #[test]
    fn idempotent_and_ignores_quoted_or_other_notices() {
        let d = disclosure("https://lw.example/i/abc");
        let once = insert_text("Hello", &d);
        assert_eq!(insert_text(&once, &d), once);
        // A quoted notice for the same URL is not ours: quoting makes it part of the old mail.
        let quoted = format!("Reply\n\n> {}\n", d.text());
        assert_ne!(insert_text(&quoted, &d), quoted);
        // A longer URL that starts with ours is another message.
        let other = disclosure("https://lw.example/i/abcdef");
        let with_other = insert_text("Hello", &other);
        assert!(!has_text_disclosure(&with_other, d.info_url()));
        assert!(has_text_disclosure(
            "see https://lw.example/i/abc.",
            d.info_url()
        ));
        assert!(!has_text_disclosure(
            "https://lw.example/i/abc/x",
            d.info_url()
        ));
    }

    #[test]
    fn a_notice_with_the_language_in_its_link_is_recognised() {
        for url in ["https://lw.example/i/abc", "https://lw.example/i/abc?t=1"] {
            let info = InfoUrl::parse(url).unwrap();
            let d = Disclosure::new_with_lang_in_link(&DisclosurePolicy::default(), Lang::Nl, info)
                .unwrap();
            assert!(d.text().contains(&format!(
                "{url}{}lang=nl",
                if url.contains('?') { '&' } else { '?' }
            )));
            let once = insert_text("Hoi", &d);
            assert_eq!(insert_text(&once, &d), once, "{url}");
            // The plain form of the same message counts too, and the other way round.
            let plain =
                Disclosure::new(&DisclosurePolicy::default(), Lang::Nl, d.info_url().clone())
                    .unwrap();
            assert_eq!(insert_text(&once, &plain), once);
            assert!(!has_text_disclosure(
                &format!("{url}{}lang=nlx", if url.contains('?') { '&' } else { '?' }),
                d.info_url()
            ));
        }
    }
}
