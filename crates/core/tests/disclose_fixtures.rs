//! The disclosure on real client output (`tests/fixtures/disclose/`): Outlook desktop (Word
//! HTML), Outlook on the web, Thunderbird, Gmail, Apple Mail, a newsletter, a reply quoting
//! an older leakwatch disclosure and pixel, a fragment, broken HTML and plain text.
//!
//! For every fixture: the pixel exactly once, inside the real body (checked with html5ever,
//! a browser-grade HTML5 tree builder, not with the tokenizer under test), the disclosure
//! once, the input byte for byte outside the inserted block and the removed pixels, and a
//! second run changes nothing.
#![cfg(feature = "html")]

use std::path::{Path, PathBuf};

use html5ever::parse_document;
use html5ever::tendril::TendrilSink;
use leakwatch_core::disclose::{
    insert_html, insert_text, Disclosure, DisclosurePolicy, InfoUrl, Insertion, PixelUrl, Placement,
};
use leakwatch_core::Lang;
use markup5ever_rcdom::{Handle, NodeData, RcDom};

const INFO: &str = "https://leakwatch.gemeente-voorbeeld.nl/i/newtoken42";
const PIXEL: &str = "https://leakwatch.gemeente-voorbeeld.nl/p/newtoken42";
const OLD_PIXEL_MARK: &str = "leakwatch.gemeente-voorbeeld.nl/p/";

fn fixtures(ext: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/disclose");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    files
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

fn policy() -> DisclosurePolicy {
    DisclosurePolicy {
        organization: Some("Gemeente Voorbeeld".into()),
        dpo_contact: Some("privacy@gemeente-voorbeeld.nl".into()),
        ..Default::default()
    }
}

fn disclosure(lang: Lang) -> Disclosure {
    Disclosure::new(&policy(), lang, InfoUrl::parse(INFO).unwrap()).unwrap()
}

fn tracked(lang: Lang) -> Insertion {
    Insertion::Tracked(disclosure(lang).track(PixelUrl::parse(PIXEL).unwrap()))
}

/// The test's own idea of the earlier pixels: `<img ...>` tags that mention our pixel path
/// or marker. (The fixtures keep such tags out of plain comments and scripts.)
fn expected_without_old_pixels(input: &str) -> (String, usize) {
    let mut out = String::new();
    let mut rest = input;
    let mut removed = 0;
    while let Some(i) = rest.find("<img") {
        let end = i + rest[i..].find('>').unwrap() + 1;
        let tag = &rest[i..end];
        out.push_str(&rest[..i]);
        if tag.contains(OLD_PIXEL_MARK) || tag.contains("data-leakwatch-pixel") {
            removed += 1;
        } else {
            out.push_str(tag);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    (out, removed)
}

fn expected_placement(fixture: &str) -> Placement {
    match fixture {
        "gmail.html" | "fragment.html" => Placement::Appended,
        "unterminated.html" => Placement::Prepended,
        _ => Placement::BeforeBodyEnd,
    }
}

#[derive(Debug)]
struct Found {
    ancestors: Vec<String>,
    parent_is_block: bool,
    hidden: bool,
}

/// Walks the DOM as a browser builds it.
fn walk(
    node: &Handle,
    ancestors: &mut Vec<(String, Vec<(String, String)>)>,
    f: &mut impl FnMut(&Handle, &[(String, Vec<(String, String)>)]),
) {
    f(node, ancestors);
    let pushed = if let NodeData::Element { name, attrs, .. } = &node.data {
        let attrs = attrs
            .borrow()
            .iter()
            .map(|a| (a.name.local.to_string(), a.value.to_string()))
            .collect();
        ancestors.push((name.local.to_string(), attrs));
        true
    } else {
        false
    };
    for child in node.children.borrow().iter() {
        walk(child, ancestors, f);
    }
    if pushed {
        ancestors.pop();
    }
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn text_of(node: &Handle) -> String {
    let mut s = String::new();
    walk(node, &mut Vec::new(), &mut |n, _| {
        if let NodeData::Text { contents } = &n.data {
            s.push_str(&contents.borrow());
        }
    });
    s
}

/// Checks the output as a browser would see it: our block and pixel are rendered elements
/// in the body, outside quoted content, not hidden; no earlier pixel is left.
fn check_dom(fixture: &str, html: &str, insertion: &Insertion) {
    let dom = parse_document(RcDom::default(), Default::default()).one(html);
    let mut pixels = Vec::new();
    let mut blocks = Vec::new();
    let mut old_pixels = Vec::new();
    walk(&dom.document, &mut Vec::new(), &mut |node, ancestors| {
        let NodeData::Element { name, attrs, .. } = &node.data else {
            return;
        };
        let attrs: Vec<(String, String)> = attrs
            .borrow()
            .iter()
            .map(|a| (a.name.local.to_string(), a.value.to_string()))
            .collect();
        let names: Vec<String> = ancestors.iter().map(|(n, _)| n.clone()).collect();
        let hidden = ancestors.iter().any(|(n, a)| {
            n == "template"
                || n == "head"
                || attr(a, "style").is_some_and(|s| s.replace(' ', "").contains("display:none"))
        });
        let local = name.local.to_string();
        if local == "img" {
            let src = attr(&attrs, "src").unwrap_or_default();
            if src == PIXEL {
                let parent_is_block = ancestors.last().is_some_and(|(n, a)| {
                    n == "div" && attr(a, "data-leakwatch") == Some("disclosure")
                });
                pixels.push(Found {
                    ancestors: names,
                    parent_is_block,
                    hidden,
                });
            } else if src.contains(OLD_PIXEL_MARK) || attr(&attrs, "data-leakwatch-pixel").is_some()
            {
                old_pixels.push(src.to_string());
            }
        } else if local == "div" && attr(&attrs, "data-leakwatch-info") == Some(INFO) {
            blocks.push((names, hidden, text_of(node)));
        }
    });
    assert_eq!(blocks.len(), 1, "{fixture}: disclosure blocks {blocks:?}");
    let (names, hidden, text) = &blocks[0];
    assert!(
        names.iter().any(|n| n == "body"),
        "{fixture}: block not in body: {names:?}"
    );
    assert!(
        !names.iter().any(|n| n == "blockquote"),
        "{fixture}: block quoted: {names:?}"
    );
    assert!(!hidden, "{fixture}: block hidden: {names:?}");
    assert_eq!(text, insertion.text(), "{fixture}: rendered text");
    assert!(
        old_pixels.is_empty(),
        "{fixture}: earlier pixels left: {old_pixels:?}"
    );
    match insertion.pixel_url() {
        Some(_) => {
            assert_eq!(pixels.len(), 1, "{fixture}: pixels {pixels:?}");
            let p = &pixels[0];
            assert!(p.parent_is_block && !p.hidden, "{fixture}: {p:?}");
            assert!(p.ancestors.iter().any(|n| n == "body"), "{fixture}: {p:?}");
        }
        None => assert!(pixels.is_empty(), "{fixture}: pixel without tracking"),
    }
}

fn check_html(path: &Path, insertion: &Insertion) {
    let fixture = name(path);
    let input = std::fs::read_to_string(path).unwrap();
    let out = insert_html(&input, insertion).unwrap_or_else(|e| panic!("{fixture}: {e}"));
    let html = &out.html;
    assert_eq!(out.placement, expected_placement(&fixture), "{fixture}");

    // Pixel exactly once (as written), disclosure once.
    let pixel_count = html.matches(&format!(r#"src="{PIXEL}""#)).count();
    assert_eq!(
        pixel_count,
        usize::from(insertion.pixel_url().is_some()),
        "{fixture}"
    );
    assert_eq!(
        html.matches(OLD_PIXEL_MARK).count(),
        pixel_count,
        "{fixture}"
    );
    assert_eq!(
        html.matches(&format!(r#"data-leakwatch-info="{INFO}""#))
            .count(),
        1,
        "{fixture}"
    );

    // Byte for byte: the output without our block is the input without its earlier pixels.
    let (expected, removed) = expected_without_old_pixels(&input);
    assert_eq!(out.removed_pixels(), removed, "{fixture}");
    assert_eq!(
        html.matches(insertion.html_snippet()).count(),
        1,
        "{fixture}"
    );
    assert_eq!(&html[out.block()], insertion.html_snippet(), "{fixture}");
    assert!(
        html.replacen(insertion.html_snippet(), "", 1) == expected,
        "{fixture}: output differs from the input outside the inserted and removed parts"
    );

    // Where a browser puts it.
    check_dom(&fixture, html, insertion);

    // Idempotent.
    let again = insert_html(html, insertion).unwrap();
    assert_eq!(again.placement, Placement::Replaced, "{fixture}");
    assert_eq!(
        &again.html, html,
        "{fixture}: second run changed the output"
    );
    assert_eq!(again.removed_pixels(), 0, "{fixture}");
}

#[test]
fn every_html_fixture_tracked() {
    for path in fixtures("html") {
        for lang in Lang::ALL {
            check_html(&path, &tracked(lang));
        }
    }
}

#[test]
fn every_html_fixture_untracked_gets_no_pixel_and_loses_old_ones() {
    for path in fixtures("html") {
        check_html(&path, &Insertion::Disclosure(disclosure(Lang::En)));
    }
}

#[test]
fn quoted_older_disclosures_stay_and_the_new_one_is_added() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/disclose/reply-quoted-leakwatch.html");
    let input = std::fs::read_to_string(path).unwrap();
    let out = insert_html(&input, &tracked(Lang::En)).unwrap();
    assert_eq!(out.removed_pixels(), 2);
    assert!(out
        .html
        .contains("https://leakwatch.gemeente-voorbeeld.nl/i/oldtoken1</a></div>"));
    assert!(out.html.contains("static/team.jpg"));
    assert_eq!(
        out.html.matches(r#"data-leakwatch="disclosure""#).count(),
        2
    );
}

#[test]
fn every_text_fixture() {
    for path in fixtures("txt") {
        let fixture = name(&path);
        let input = std::fs::read_to_string(&path).unwrap();
        for lang in Lang::ALL {
            let d = disclosure(lang);
            let out = insert_text(&input, &d);
            let eol = if input.contains("\r\n") { "\r\n" } else { "\n" };
            assert!(out.starts_with(&input), "{fixture}: input not kept");
            let added = &out[input.len()..];
            let sep = if input.ends_with('\n') {
                eol.to_string()
            } else {
                format!("{eol}{eol}")
            };
            assert_eq!(added, format!("{sep}{}{eol}", d.text()), "{fixture}");
            assert!(!out.contains("<img"), "{fixture}");
            assert_eq!(out.matches(d.text()).count(), 1, "{fixture}");
            assert_eq!(insert_text(&out, &d), out, "{fixture}: not idempotent");
        }
    }
}
