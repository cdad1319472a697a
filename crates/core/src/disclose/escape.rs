//! HTML escaping for what we write, and length as Outlook counts it.
//!
//! Outlook's `appendOnSendAsync` limits the appended block to 5,000 characters of a
//! JavaScript string, i.e. UTF-16 code units, so every length the budget depends on is
//! counted that way, after escaping.

/// Escapes text content: `&`, `<`, `>`.
pub fn escape_text(s: &str) -> String {
    escape(s, false)
}

/// Escapes a double-quoted attribute value: `&`, `<`, `>`, `"`.
pub fn escape_attr(s: &str) -> String {
    escape(s, true)
}

fn escape(s: &str, attr: bool) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            _ => out.push(ch),
        }
    }
    out
}

/// The length of `s` once written into HTML, in UTF-16 code units, counting every character
/// that either escape may expand at its largest (`"` as `&quot;`). An upper bound for both
/// [`escape_text`] and [`escape_attr`].
pub fn html_len(s: &str) -> usize {
    s.chars()
        .map(|ch| match ch {
            '&' => 5,
            '<' | '>' => 4,
            '"' => 6,
            _ => ch.len_utf16(),
        })
        .sum()
}

/// Length in UTF-16 code units, as JavaScript's `String.length`.
pub fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Decodes the character references that matter when comparing attribute values we wrote
/// (or a client rewrote) with ours: the five XML ones and numeric references. Anything else
/// is kept as written.
#[cfg(feature = "html")]
pub(crate) fn decode_attr(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('&') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest.find(';').filter(|&e| e <= 10);
        let decoded = end.and_then(|e| {
            let name = &rest[1..e];
            let ch = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let num = name.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(code)
                }
            };
            ch.map(|c| (c, e + 1))
        });
        match decoded {
            Some((ch, len)) => {
                out.push(ch);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(escape_text(r#"a & <b> "c""#), r#"a &amp; &lt;b&gt; "c""#);
        assert_eq!(
            escape_attr(r#"a & <b> "c""#),
            "a &amp; &lt;b&gt; &quot;c&quot;"
        );
    }

    #[test]
    fn html_len_bounds_both_escapes() {
        for s in ["plain", "a&b", "<\"x\">", "caf\u{e9} \u{1f600}", ""] {
            assert!(utf16_len(&escape_text(s)) <= html_len(s), "{s}");
            assert_eq!(utf16_len(&escape_attr(s)), html_len(s), "{s}");
        }
        assert_eq!(html_len("\u{1f600}"), 2);
    }

    #[cfg(feature = "html")]
    #[test]
    fn decodes_references() {
        assert_eq!(decode_attr("a&amp;b&#47;c&#x2F;d&quot;"), "a&b/c/d\"");
        assert_eq!(decode_attr("a&b=1&copy;&#xZZ;&"), "a&b=1&copy;&#xZZ;&");
        assert_eq!(decode_attr("&#1114112;"), "&#1114112;");
    }
}
