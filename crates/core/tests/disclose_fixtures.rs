//! The disclosure on real client output (`tests/fixtures/disclose/`): Outlook desktop (Word
//! HTML), Outlook on the web, Thunderbird, Gmail, Apple Mail, a newsletter, a reply quoting
//! an older leakwatch disclosure and pixel, a fragment, broken HTML and plain text.
//!
//! For every fixture: the pixel exactly once, inside the real body (checked with html5ever,
//! a browser-grade HTML5 tree builder, not with the tokenizer under test), the disclosure
//! once, the input byte for byte outside the inserted block and the removed pixels, and a
//! second run changes nothing.
//!
//! Where the block goes is in `fixtures/disclose/placement.json`, which the Thunderbird
//! add-on's test reads too: in a reply or forward the block is the sibling just before the
//! quote (or its header line), after the sender's own text and signature, never inside the
//! quote; without a quote, or when the sender wrote below it, at the end as before.
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

/// The expectations of `placement.json` for one fixture.
struct Expected {
    placement: Placement,
    /// A simple selector the block's next element sibling matches; `None`: there is none.
    next: Option<String>,
    /// How the rendered text before the block ends (whitespace collapsed).
    after_text: Option<String>,
}

fn manifest() -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/disclose/placement.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn expected(fixture: &str) -> Expected {
    let manifest = manifest();
    let entry = &manifest["fixtures"][fixture];
    assert!(
        entry.is_object(),
        "{fixture} is not listed in placement.json"
    );
    let placement = match entry["placement"].as_str().unwrap() {
        "before-quote" => Placement::BeforeQuote,
        "before-body-end" => Placement::BeforeBodyEnd,
        "before-html-end" => Placement::BeforeHtmlEnd,
        "appended" => Placement::Appended,
        "prepended" => Placement::Prepended,
        other => panic!("{fixture}: unknown placement {other}"),
    };
    Expected {
        placement,
        next: entry["next"].as_str().map(str::to_string),
        after_text: entry["after_text"].as_str().map(str::to_string),
    }
}

#[test]
fn every_fixture_is_in_the_placement_manifest_and_back() {
    let manifest = manifest();
    let listed: Vec<String> = manifest["fixtures"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let mut files: Vec<String> = fixtures("html").iter().map(|p| name(p)).collect();
    files.sort();
    let mut listed = listed;
    listed.sort();
    assert_eq!(files, listed);
}

/// Matches the simple selectors the manifest uses: `tag`, then `#id`, `.class`,
/// `[attr="value"]` or `[attr*="value"]` (the last ASCII case-insensitive).
fn matches_selector(selector: &str, name: &str, attrs: &[(String, String)]) -> bool {
    let tag_end = selector.find(['#', '.', '[']).unwrap_or(selector.len());
    if &selector[..tag_end] != name {
        return false;
    }
    let rest = &selector[tag_end..];
    if let Some(id) = rest.strip_prefix('#') {
        return attr(attrs, "id") == Some(id);
    }
    if let Some(class) = rest.strip_prefix('.') {
        return attr(attrs, "class").is_some_and(|c| c.split_whitespace().any(|c| c == class));
    }
    if let Some(inner) = rest.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        let (key, value) = inner.split_once('=').unwrap();
        let value = value.trim_matches('"');
        return match key.strip_suffix('*') {
            Some(key) => attr(attrs, key)
                .is_some_and(|v| v.to_ascii_lowercase().contains(&value.to_ascii_lowercase())),
            None => attr(attrs, key) == Some(value),
        };
    }
    rest.is_empty()
}

/// An element's name and attributes.
type ElementView = (String, Vec<(String, String)>);

fn element_of(node: &Handle) -> Option<ElementView> {
    match &node.data {
        NodeData::Element { name, attrs, .. } => Some((
            name.local.to_string(),
            attrs
                .borrow()
                .iter()
                .map(|a| (a.name.local.to_string(), a.value.to_string()))
                .collect(),
        )),
        _ => None,
    }
}

/// The block's next element sibling, and the rendered text before the block.
fn block_context(dom: &RcDom) -> (Option<ElementView>, String) {
    let mut next = None;
    let mut before = String::new();
    let mut reached = false;
    walk(&dom.document, &mut Vec::new(), &mut |node, ancestors| {
        if reached {
            return;
        }
        if let Some((_, attrs)) = element_of(node) {
            if attr(&attrs, "data-leakwatch-info") == Some(INFO) {
                reached = true;
                return;
            }
            let children = node.children.borrow();
            if let Some(at) = children.iter().position(|c| {
                element_of(c).is_some_and(|(_, a)| attr(&a, "data-leakwatch-info") == Some(INFO))
            }) {
                next = children[at + 1..].iter().find_map(element_of);
            }
        } else if let NodeData::Text { contents } = &node.data {
            let hidden = ancestors
                .iter()
                .any(|(n, _)| matches!(n.as_str(), "head" | "script" | "style" | "template"));
            if !hidden {
                before.push(' ');
                before.push_str(&contents.borrow());
            }
        }
    });
    let before = before.split_whitespace().collect::<Vec<_>>().join(" ");
    (next, before)
}

fn check_placement(fixture: &str, html: &str, expected: &Expected) {
    let dom = parse_document(RcDom::default(), Default::default()).one(html);
    let (next, before) = block_context(&dom);
    match (&expected.next, &next) {
        (None, None) => {}
        (Some(selector), Some((name, attrs))) => assert!(
            matches_selector(selector, name, attrs),
            "{fixture}: the block is before <{name} {attrs:?}>, not {selector}"
        ),
        (want, got) => panic!("{fixture}: next sibling {got:?}, expected {want:?}"),
    }
    if let Some(text) = &expected.after_text {
        assert!(
            before.ends_with(text.as_str()),
            "{fixture}: the text before the block ends {:?}",
            &before[before.len().saturating_sub(80)..]
        );
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

/// Whether the block has an ancestor that holds a quote in one of the clients' markups.
fn ancestors_of_block_are_quotes(dom: &RcDom) -> bool {
    let mut quoted = false;
    walk(&dom.document, &mut Vec::new(), &mut |node, ancestors| {
        let Some((_, attrs)) = element_of(node) else {
            return;
        };
        if attr(&attrs, "data-leakwatch-info") == Some(INFO) {
            quoted = ancestors.iter().any(|(n, a)| {
                let class = attr(a, "class").unwrap_or_default();
                n == "blockquote"
                    || ["gmail_quote", "moz-forward-container", "moz-cite-prefix"]
                        .iter()
                        .any(|c| class.split_whitespace().any(|k| k == *c))
                    || matches!(
                        attr(a, "id"),
                        Some("divRplyFwdMsg" | "mail-editor-reference-message-container")
                    )
            });
        }
    });
    quoted
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
    assert!(
        !ancestors_of_block_are_quotes(&dom),
        "{fixture}: block inside a quote"
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
    let expected = expected(&fixture);
    assert_eq!(out.placement, expected.placement, "{fixture}");
    check_placement(&fixture, html, &expected);

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
