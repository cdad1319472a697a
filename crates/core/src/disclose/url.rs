//! The two URLs a disclosure carries, parsed once at the boundary.
//!
//! Both end up inside HTML attributes and in plain text that recipients copy, so the rules
//! are stricter than a browser's: an absolute `http` or `https` URL with a host, only the
//! characters RFC 3986 allows (non-ASCII must be percent-encoded), no whitespace, no quotes,
//! no user info (`https://good@evil`), and at most [`MAX_URL_LEN`] characters as written
//! into HTML (an `&` is written `&amp;` and counts five). Inside the core an [`InfoUrl`] or a
//! [`PixelUrl`] is always valid; the only way to get one is [`InfoUrl::parse`] /
//! [`PixelUrl::parse`] (or `str::parse`).

use std::fmt;
use std::str::FromStr;

use super::escape::html_len;

/// The longest URL accepted, in characters as written into HTML (`&` counts five).
pub const MAX_URL_LEN: usize = 256;

/// Why a URL was refused. The messages name the URL's role (`--info-url`, `--pixel-url`)
/// through the caller; here they say what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("the URL is empty")]
    Empty,
    #[error("the URL must be absolute and start with http:// or https://")]
    NotHttp,
    #[error("the URL has no host")]
    NoHost,
    #[error("the URL must not contain user info (`user@` before the host)")]
    UserInfo,
    #[error("the URL has an invalid port")]
    BadPort,
    #[error("the URL contains {} at byte {at}; whitespace, quotes and characters outside RFC 3986 are not allowed (percent-encode them)", describe(*.ch))]
    BadChar { ch: char, at: usize },
    #[error("the URL has a malformed percent-escape at byte {at}")]
    BadPercent { at: usize },
    #[error("the URL is too long ({len} characters as written into HTML; at most {max})")]
    TooLong { len: usize, max: usize },
}

fn describe(ch: char) -> String {
    if ch.is_whitespace() {
        "whitespace".to_string()
    } else if ch.is_control() {
        format!("a control character (U+{:04X})", ch as u32)
    } else {
        format!("'{ch}'")
    }
}

/// The link to the recipient transparency page of this message (what is recorded, by whom,
/// how to object). Every disclosure links it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InfoUrl(ValidUrl);

/// The pixel's address (`https://leakwatch.example/p/{token}`). Only a
/// [`TrackedDisclosure`](super::TrackedDisclosure) takes one: a pixel never goes out alone.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PixelUrl(ValidUrl);

macro_rules! url_newtype {
    ($ty:ident) => {
        impl $ty {
            /// Parses and validates a URL (see the module documentation for the rules).
            pub fn parse(s: &str) -> Result<Self, UrlError> {
                ValidUrl::parse(s).map(Self)
            }

            /// The URL as given.
            pub fn as_str(&self) -> &str {
                &self.0.url
            }

            /// The host, lowercased, without port.
            pub fn host(&self) -> &str {
                &self.0.host
            }
        }

        impl FromStr for $ty {
            type Err = UrlError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }
    };
}

url_newtype!(InfoUrl);
url_newtype!(PixelUrl);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ValidUrl {
    url: String,
    host: String,
}

impl ValidUrl {
    fn parse(s: &str) -> Result<Self, UrlError> {
        if s.is_empty() {
            return Err(UrlError::Empty);
        }
        // Characters first, so that a stray space or quote gets the precise message.
        let bytes = s.as_bytes();
        for (at, ch) in s.char_indices() {
            let ok = ch.is_ascii_alphanumeric() || "-._~:/?#[]@!$&()*+,;=%".contains(ch);
            if !ok {
                return Err(UrlError::BadChar { ch, at });
            }
            if ch == '%'
                && !(bytes.len() > at + 2
                    && bytes[at + 1].is_ascii_hexdigit()
                    && bytes[at + 2].is_ascii_hexdigit())
            {
                return Err(UrlError::BadPercent { at });
            }
        }
        let len = html_len(s);
        if len > MAX_URL_LEN {
            return Err(UrlError::TooLong {
                len,
                max: MAX_URL_LEN,
            });
        }
        let rest = strip_prefix_ci(s, "https://")
            .or_else(|| strip_prefix_ci(s, "http://"))
            .ok_or(UrlError::NotHttp)?;
        let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
        if authority.contains('@') {
            return Err(UrlError::UserInfo);
        }
        let (host, port) = split_port(authority);
        if let Some(port) = port {
            if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) || port.len() > 5 {
                return Err(UrlError::BadPort);
            }
        }
        let host_ok = if let Some(inner) = host.strip_prefix('[') {
            // An IPv6 literal.
            inner.len() > 1
                && inner.ends_with(']')
                && inner[..inner.len() - 1]
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        } else {
            !host.is_empty()
                && !host.starts_with('.')
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b))
        };
        if !host_ok {
            return Err(UrlError::NoHost);
        }
        Ok(Self {
            url: s.to_string(),
            host: host.to_ascii_lowercase(),
        })
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Splits `host:port` (IPv6 literals keep their colons).
fn split_port(authority: &str) -> (&str, Option<&str>) {
    let search_from = if authority.starts_with('[') {
        match authority.find(']') {
            Some(i) => i,
            None => return (authority, None),
        }
    } else {
        0
    };
    match authority[search_from..].rfind(':') {
        Some(i) => (
            &authority[..search_from + i],
            Some(&authority[search_from + i + 1..]),
        ),
        None => (authority, None),
    }
}

/// The host of an absolute http(s) URL found in a message (lenient: it is only compared,
/// never written), lowercased, and the rest after the authority.
#[cfg(feature = "html")]
pub(crate) fn host_and_path(url: &str) -> Option<(String, &str)> {
    let rest = strip_prefix_ci(url, "https://").or_else(|| strip_prefix_ci(url, "http://"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let (host, _) = split_port(host_port);
    if host.is_empty() {
        return None;
    }
    Some((host.to_ascii_lowercase(), &rest[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_urls() {
        for ok in [
            "https://leakwatch.example.nl/i/abc123",
            "http://localhost:8080/p/x",
            "HTTPS://Leakwatch.Example/i/a?b=c&d=e#f",
            "https://[::1]:8443/p/t",
            "https://example.org/%C3%A9",
        ] {
            let url = InfoUrl::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert_eq!(url.as_str(), ok);
        }
        assert_eq!(
            PixelUrl::parse("https://LW.Example:443/p/t")
                .unwrap()
                .host(),
            "lw.example"
        );
    }

    #[test]
    fn refuses_bad_urls() {
        let cases: &[(&str, UrlError)] = &[
            ("", UrlError::Empty),
            ("leakwatch.example/i/x", UrlError::NotHttp),
            ("/i/x", UrlError::NotHttp),
            ("javascript:alert(1)", UrlError::NotHttp),
            ("mailto:dpo@example.org", UrlError::NotHttp),
            ("ftp://example.org/", UrlError::NotHttp),
            ("https:///i/x", UrlError::NoHost),
            ("https://", UrlError::NoHost),
            ("https://good.example@evil.example/", UrlError::UserInfo),
            ("https://example.org:http/", UrlError::BadPort),
            (
                "https://example.org/a b",
                UrlError::BadChar { ch: ' ', at: 21 },
            ),
            (
                " https://example.org/",
                UrlError::BadChar { ch: ' ', at: 0 },
            ),
            (
                "https://example.org/\"x",
                UrlError::BadChar { ch: '"', at: 20 },
            ),
            (
                "https://example.org/'x",
                UrlError::BadChar { ch: '\'', at: 20 },
            ),
            (
                "https://example.org/<x>",
                UrlError::BadChar { ch: '<', at: 20 },
            ),
            (
                "https://example.org/\u{e9}",
                UrlError::BadChar {
                    ch: '\u{e9}',
                    at: 20,
                },
            ),
            (
                "https://example.org/\n",
                UrlError::BadChar { ch: '\n', at: 20 },
            ),
            ("https://example.org/%zz", UrlError::BadPercent { at: 20 }),
            ("https://example.org/%4", UrlError::BadPercent { at: 20 }),
        ];
        for (input, expected) in cases {
            assert_eq!(InfoUrl::parse(input).as_ref(), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn length_counts_as_written_into_html() {
        let base = "https://example.org/";
        let ok = format!("{base}{}", "a".repeat(MAX_URL_LEN - base.len()));
        assert!(PixelUrl::parse(&ok).is_ok());
        let long = format!("{ok}a");
        assert!(matches!(
            PixelUrl::parse(&long),
            Err(UrlError::TooLong { .. })
        ));
        // Each `&` is written `&amp;`.
        let amps = format!("{base}?{}", "&".repeat(50));
        assert!(matches!(
            PixelUrl::parse(&amps),
            Err(UrlError::TooLong { .. })
        ));
    }

    #[test]
    fn messages_are_one_line() {
        let err = InfoUrl::parse("https://example.org/a\tb").unwrap_err();
        assert!(!err.to_string().contains('\n'));
        assert!(err.to_string().contains("whitespace"), "{err}");
    }

    #[cfg(feature = "html")]
    #[test]
    fn host_and_path_is_lenient() {
        assert_eq!(
            host_and_path("HTTPS://u@LW.example:8443/p/abc?x"),
            Some(("lw.example".to_string(), "/p/abc?x"))
        );
        assert_eq!(host_and_path("cid:image001.png"), None);
        assert_eq!(host_and_path("https:///p/x"), None);
    }
}
