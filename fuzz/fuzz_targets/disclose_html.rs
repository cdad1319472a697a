//! `insert_html` on arbitrary input. Checks, besides "no panic":
//! - the only error is `Ambiguous` (markup lol_html refuses to guess about);
//! - the output is the input with only these edits, all else copied byte for byte: exactly
//!   one block, equal to the snippet, inserted or written over an earlier block of ours
//!   (`<div ...>...</div>`), and `<img ...>` tags removed (or replaced by `<!---->`);
//! - the pixel is in the output exactly once (when the input does not mention it);
//! - a second run returns the output unchanged, with the block found in place.
#![no_main]

use std::sync::OnceLock;

use leakwatch_core::disclose::{
    insert_html, Disclosure, DisclosurePolicy, EditKind, HtmlError, InfoUrl, Insertion, PixelUrl,
    Placement,
};
use leakwatch_core::Lang;
use libfuzzer_sys::fuzz_target;

const INFO: &str = "https://lw.example.nl/i/fuzztoken";
const PIXEL: &str = "https://lw.example.nl/p/fuzztoken";

fn insertions() -> &'static [Insertion; 4] {
    static INSERTIONS: OnceLock<[Insertion; 4]> = OnceLock::new();
    INSERTIONS.get_or_init(|| {
        let d = |lang| {
            Disclosure::new(
                &DisclosurePolicy::default(),
                lang,
                InfoUrl::parse(INFO).unwrap(),
            )
            .unwrap()
        };
        let p = || PixelUrl::parse(PIXEL).unwrap();
        [
            Insertion::Tracked(d(Lang::En).track(p())),
            Insertion::Tracked(d(Lang::Nl).track(p())),
            Insertion::Disclosure(d(Lang::En)),
            Insertion::Disclosure(d(Lang::Nl)),
        ]
    })
}

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len())
        .is_some_and(|h| h.eq_ignore_ascii_case(prefix))
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let body = String::from_utf8_lossy(rest);
    let insertion = &insertions()[usize::from(selector % 4)];

    let out = match insert_html(&body, insertion) {
        Ok(out) => out,
        Err(HtmlError::Ambiguous(_)) => return,
        Err(other) => panic!("unexpected error: {other}"),
    };
    let html = &out.html;

    // Only the reported edits, everything else copied.
    let mut blocks = 0;
    let (mut i, mut o) = (0, 0);
    for edit in &out.edits {
        assert_eq!(
            body[i..edit.input.start],
            html[o..edit.output.start],
            "copied part differs"
        );
        let removed = &body[edit.input.clone()];
        let written = &html[edit.output.clone()];
        match edit.kind {
            EditKind::Block => {
                blocks += 1;
                assert_eq!(written, insertion.html_snippet());
                assert!(
                    removed.is_empty()
                        || (starts_with_ci(removed, "<div") && removed.ends_with('>')),
                    "block replaced {removed:?}"
                );
            }
            EditKind::PixelRemoved => {
                assert!(
                    starts_with_ci(removed, "<img") && removed.ends_with('>'),
                    "{removed:?}"
                );
                assert!(written.is_empty() || written == "<!---->", "{written:?}");
            }
        }
        i = edit.input.end;
        o = edit.output.end;
    }
    assert_eq!(body[i..], html[o..], "copied tail differs");
    assert_eq!(blocks, 1);
    assert_eq!(&html[out.block()], insertion.html_snippet());

    // The pixel exactly once, the notice's block once.
    if !body.contains("fuzztoken") {
        let expected = usize::from(insertion.pixel_url().is_some());
        assert_eq!(html.matches(PIXEL).count(), expected, "pixel count");
        assert_eq!(
            html.matches(INFO).count(),
            3,
            "info URL: attribute, link and text"
        );
    }

    // Idempotent.
    let again = insert_html(html, insertion).expect("the output parses");
    assert_eq!(
        again.placement,
        Placement::Replaced,
        "block not found again"
    );
    assert_eq!(&again.html, html, "second run changed the output");
});
