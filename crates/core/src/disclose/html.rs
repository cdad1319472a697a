//! The disclosure in an HTML body, placed with a real HTML tokenizer.
//!
//! One streaming pass of lol_html over the body finds, as byte offsets into the input:
//! the end tag of the real `<body>` and `<html>` elements, our disclosure blocks, earlier
//! leakwatch pixels (also inside Outlook's conditional comments, which Outlook renders, and
//! in `<noscript>`, which mail clients render), and whether the end of the input is in the
//! tokenizer's data state. The output is then the input's own bytes with those few edits
//! spliced in, so everything we do not touch stays byte for byte as it was, whatever the
//! markup looks like.
//!
//! Where the block goes, in order:
//! 1. our block for the same message (same info URL) is already there: re-rendered in
//!    place, so a second run changes nothing ([`Placement::Replaced`]);
//! 2. in a reply or forward, before the quoted part, after the sender's own text and
//!    signature ([`Placement::BeforeQuote`], see [`QUOTE_MARKERS`]);
//! 3. before the end tag of the first `<body>` element, i.e. not a `</body>` inside a
//!    comment, a conditional comment, a script, a textarea, an attribute, nor a nested
//!    `<body>` in quoted markup ([`Placement::BeforeBodyEnd`]);
//! 4. before `</html>` when the body closes implicitly ([`Placement::BeforeHtmlEnd`]);
//! 5. appended when the input ends in the data state: a fragment, or a body never closed
//!    ([`Placement::Appended`]);
//! 6. otherwise the input ends inside an unclosed comment, tag, `<script>`, `<textarea>`
//!    or the like, where an appended block would be swallowed (and a pixel might still load
//!    with its notice hidden): at the start of the body instead, or of the message
//!    ([`Placement::Prepended`]).
//!
//! Positions where an `<svg>` or `<math>` may still be open are skipped in 2, 3, 4 and 6: the
//! block's `<div>` ends foreign content, which would change how the markup after it parses.
//!
//! Earlier leakwatch pixels are `<img>` elements with our `data-leakwatch-pixel` marker, or
//! whose `src` is a `/p/...` URL on the host of this message's info or pixel URL (also when
//! wrapped by Gmail's image proxy, which keeps the original URL after `#`). Only they are
//! removed; their old notices stay, so a reply or a forward never reports opens for the
//! older message. Other images, on the same host or with `/p/` elsewhere, are kept. So are
//! pixels after the first `<svg>`/`<math>` and in documents with a `<frameset>`, where
//! removing an `<img>` would change how a browser builds the rest.

use std::cell::RefCell;
use std::ops::Range;
use std::rc::Rc;

use lol_html::errors::RewritingError;
use lol_html::html_content::{Comment, Doctype, Element, TextChunk, TextType};
use lol_html::{doc_comments, doc_text, doctype, element, HtmlRewriter, Settings};

use super::escape::decode_attr;
use super::render::{Insertion, INFO_ATTR, MARKER_ATTR, MARKER_VALUE, PIXEL_ATTR};
use super::url::host_and_path;

/// Where [`insert_html`] put the block (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Our block for this message was already there; re-rendered in place.
    Replaced,
    /// Before the quoted part of a reply or forward (see the module documentation): after the
    /// sender's own new text and signature, so it does not read as part of the quote.
    BeforeQuote,
    /// Before the real `</body>`.
    BeforeBodyEnd,
    /// Before `</html>`: the body was closed implicitly.
    BeforeHtmlEnd,
    /// At the end of the input: a fragment, or a body that is never closed.
    Appended,
    /// At the start of the body (or after the doctype, or at the start): the input ends where
    /// an appended block would not be rendered.
    Prepended,
}

/// The rewritten body and what was done to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewritten {
    pub html: String,
    pub placement: Placement,
    /// Every change, in order; the bytes between them are the input's, copied.
    pub edits: Vec<Edit>,
}

impl Rewritten {
    /// Where our block is in [`Rewritten::html`].
    pub fn block(&self) -> Range<usize> {
        self.edits
            .iter()
            .find(|e| e.kind == EditKind::Block)
            .map(|e| e.output.clone())
            .expect("insert_html always writes the block")
    }

    /// How many earlier leakwatch pixels were removed.
    pub fn removed_pixels(&self) -> usize {
        self.edits
            .iter()
            .filter(|e| e.kind == EditKind::PixelRemoved)
            .count()
    }
}

/// One change: the input bytes `input` became the output bytes `output`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub kind: EditKind,
    pub input: Range<usize>,
    pub output: Range<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditKind {
    /// Our block: inserted (empty input range) or re-rendered over our block for the same
    /// message.
    Block,
    /// An earlier pixel's `<img>` tag, removed (or, where the bytes around it would join into
    /// markup, replaced by an empty comment `<!---->`).
    PixelRemoved,
}

/// The body cannot be rewritten safely.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HtmlError {
    /// The markup puts the tokenizer in a state it cannot resolve without a full tree
    /// builder (text-switching tags inside `<select>` or after `<frameset>`); guessing could
    /// hide the notice while the pixel loads, so nothing is inserted.
    #[error("the HTML is ambiguous to parse ({0}); no disclosure inserted")]
    Ambiguous(String),
    /// Any other failure of the HTML tokenizer.
    #[error("the HTML could not be parsed: {0}")]
    Parse(String),
}

/// Inserts the disclosure (and, when tracked, the pixel inside it) into an HTML body and
/// removes earlier leakwatch pixels. Running it again on its output returns the output.
pub fn insert_html(body: &str, insertion: &Insertion) -> Result<Rewritten, HtmlError> {
    let disclosure = insertion.disclosure();
    let mut hosts = vec![disclosure.info_url().host().to_string()];
    if let Some(pixel) = insertion.pixel_url() {
        if !hosts.iter().any(|h| h == pixel.host()) {
            hosts.push(pixel.host().to_string());
        }
    }
    let scan = scan(body, &hosts, disclosure.info_url().as_str())?;

    let len = body.len();
    let outside_foreign = |at: &usize| {
        !scan
            .foreign
            .iter()
            .any(|&(start, end)| start < *at && end.is_none_or(|e| e > *at))
    };
    let (target, placement) = if let Some(existing) = scan.own_blocks.iter().rev().find_map(|b| {
        let end = b.end?;
        Some(b.start..end)
    }) {
        (existing, Placement::Replaced)
    } else if let Some(at) = quote_start(body, &scan).filter(outside_foreign) {
        (at..at, Placement::BeforeQuote)
    } else if let Some(at) = scan.body_end.filter(outside_foreign) {
        (at..at, Placement::BeforeBodyEnd)
    } else if let Some(at) = scan
        .html_end
        .filter(|&at| scan.body_start_end.is_none_or(|b| at >= b))
        .filter(outside_foreign)
    {
        (at..at, Placement::BeforeHtmlEnd)
    } else if scan.eof_in_data {
        (len..len, Placement::Appended)
    } else {
        let bom = if body.starts_with('\u{feff}') { 3 } else { 0 };
        let at = [scan.body_start_end, scan.doctype_end]
            .into_iter()
            .flatten()
            .find(outside_foreign)
            .unwrap_or(bom);
        (at..at, Placement::Prepended)
    };

    let mut planned: Vec<(EditKind, Range<usize>, &str)> =
        Vec::with_capacity(scan.pixels.len() + 1);
    // Elements inside our block for this message do not count: the block is replaced.
    let cutoff = scan
        .cutoffs
        .iter()
        .filter(|(at, _)| !target.contains(at))
        .map(|&(_, cutoff)| cutoff)
        .min()
        .unwrap_or(usize::MAX);
    for pixel in &scan.pixels {
        if target.start <= pixel.range.start && pixel.range.end <= target.end {
            continue; // Inside our block for this message: replaced with it.
        }
        if pixel.range.start >= cutoff {
            continue; // Removing it could change how the rest is built.
        }
        let replacement = if pixel.in_comment {
            match comment_removal(body, &pixel.range) {
                Some(r) => r,
                None => continue,
            }
        } else {
            data_removal(body, &pixel.range)
        };
        planned.push((EditKind::PixelRemoved, pixel.range.clone(), replacement));
    }
    planned.push((EditKind::Block, target, insertion.html_snippet()));
    planned.sort_by_key(|(_, r, _)| (r.start, r.end));

    let added: usize = planned.iter().map(|(_, _, s)| s.len()).sum();
    let mut html = String::with_capacity(len + added);
    let mut edits = Vec::with_capacity(planned.len());
    let mut cursor = 0;
    for (kind, range, replacement) in planned {
        debug_assert!(cursor <= range.start, "edits overlap");
        html.push_str(&body[cursor..range.start]);
        let start = html.len();
        html.push_str(replacement);
        edits.push(Edit {
            kind,
            output: start..html.len(),
            input: range.clone(),
        });
        cursor = range.end;
    }
    html.push_str(&body[cursor..]);
    Ok(Rewritten {
        html,
        placement,
        edits,
    })
}

/// What replaces a pixel removed from markup: nothing, unless the bytes around it would then
/// join into something else (`<` + `b>` making a tag, `&am` + `p;` a character reference); an
/// empty comment keeps them apart.
fn data_removal(body: &str, range: &Range<usize>) -> &'static str {
    let before = &body[..range.start];
    let joins = before.ends_with('<') || {
        let tail = before
            .trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '#')
            .len();
        before[..tail].ends_with('&')
    };
    if joins {
        "<!---->"
    } else {
        ""
    }
}

/// Inside a comment a pixel is removed only when the joined text cannot end the comment.
fn comment_removal(body: &str, range: &Range<usize>) -> Option<&'static str> {
    // A few characters either side (on character boundaries: found by the fuzzer).
    let mut from = range.start.saturating_sub(4);
    while !body.is_char_boundary(from) {
        from -= 1;
    }
    let mut to = (range.end + 4).min(body.len());
    while !body.is_char_boundary(to) {
        to += 1;
    }
    let before = body.get(from..range.start)?;
    let after = body.get(range.end..to)?;
    let joined = format!("{before}{after}");
    let risky = before.ends_with(['-', '!', '<']) || after.starts_with(['-', '>', '!']);
    (!risky && !joined.contains("-->") && !joined.contains("--!>")).then_some("")
}

#[derive(Debug, Default)]
struct Scan {
    doctype_end: Option<usize>,
    /// End of the first `<body ...>` start tag.
    body_start_end: Option<usize>,
    seen_body: bool,
    /// Start of the first body element's end tag.
    body_end: Option<usize>,
    seen_html: bool,
    html_end: Option<usize>,
    /// Our blocks for this message.
    own_blocks: Vec<Block>,
    pixels: Vec<Pixel>,
    /// The content of `<noscript>` elements: raw text to lol_html (which assumes scripting),
    /// markup to mail clients (which have none).
    noscripts: Vec<Range<usize>>,
    /// Removing an `<img>` changes how a browser builds the tree after it where foreign
    /// content (`<svg>`, `<math>`: an `<img>` breaks out of it) or `<frameset>` (an `<img>`
    /// stops it from replacing the body) is involved. For each such element, the offset from
    /// which pixels are kept (see [`cutoff_for`]): rare in mail, and never worth changing
    /// how the sender's content renders.
    cutoffs: Vec<(usize, usize)>,
    /// `<svg>` and `<math>` elements: start, and end when closed by their own end tag. Our
    /// block's `<div>` ends foreign content, which would change how what follows it is
    /// parsed, so the block does not go where one may still be open.
    foreign: Vec<(usize, Option<usize>)>,
    eof_in_data: bool,
    /// Where the quoted part of a reply or forward may start.
    quotes: Quotes,
}

#[derive(Debug)]
struct Block {
    start: usize,
    end: Option<usize>,
}

#[derive(Debug)]
struct Pixel {
    range: Range<usize>,
    in_comment: bool,
}

/// Fed after the input: if the tokenizer sees it as a start tag exactly where the input ends,
/// the input ended in the data state and our block (which starts with the same bytes,
/// `<div data-leakwatch`) will be markup there too.
const EOF_PROBE: &str = "<div data-leakwatch-eof=\"\">";
const EOF_PROBE_ATTR: &str = "data-leakwatch-eof";

fn scan(body: &str, hosts: &[String], info_url: &str) -> Result<Scan, HtmlError> {
    let len = body.len();
    let state = Rc::new(RefCell::new(Scan::default()));
    let quotes = Rc::new(RefCell::new(Quotes::default()));
    let block_selector = format!(r#"div[{MARKER_ATTR}="{MARKER_VALUE}"]"#);
    let probe_selector = format!("div[{EOF_PROBE_ATTR}]");
    {
        let body_state = Rc::clone(&state);
        let html_state = Rc::clone(&state);
        let block_state = Rc::clone(&state);
        let probe_state = Rc::clone(&state);
        let doctype_state = Rc::clone(&state);
        let noscript_state = Rc::clone(&state);
        let settings = Settings::new()
            .append_element_content_handler(element!("body", move |el: &mut Element<'_, '_>| {
                // A self-closing foreign element (`<math><html/>`) has no end tag to wait for.
                if !el.can_have_content() {
                    return Ok(());
                }
                let mut s = body_state.borrow_mut();
                if s.seen_body {
                    return Ok(());
                }
                s.seen_body = true;
                s.body_start_end = Some(el.source_location().bytes().end).filter(|&e| e <= len);
                let end_state = Rc::clone(&body_state);
                drop(s);
                el.on_end_tag(Box::new(move |end| {
                    // lol_html also calls this for an ancestor's end tag that closes the body
                    // implicitly (`</html>`); that one is seen by the `html` handler.
                    let at = end.source_location().bytes().start;
                    let mut s = end_state.borrow_mut();
                    if s.body_end.is_none() && at <= len && end.name() == "body" {
                        s.body_end = Some(at);
                    }
                    Ok(())
                }))
            }))
            .append_element_content_handler(element!("html", move |el: &mut Element<'_, '_>| {
                // A self-closing foreign element (`<math><html/>`) has no end tag to wait for.
                if !el.can_have_content() {
                    return Ok(());
                }
                let mut s = html_state.borrow_mut();
                if s.seen_html {
                    return Ok(());
                }
                s.seen_html = true;
                let end_state = Rc::clone(&html_state);
                drop(s);
                el.on_end_tag(Box::new(move |end| {
                    let at = end.source_location().bytes().start;
                    let mut s = end_state.borrow_mut();
                    if s.html_end.is_none() && at <= len && end.name() == "html" {
                        s.html_end = Some(at);
                    }
                    Ok(())
                }))
            }))
            .append_element_content_handler(element!(block_selector, move |el: &mut Element<
                '_,
                '_,
            >| {
                // A self-closing foreign element (`<math><html/>`) has no end tag to wait for.
                if !el.can_have_content() {
                    return Ok(());
                }
                let start = el.source_location().bytes().start;
                let ours = el
                    .get_attribute(INFO_ATTR)
                    .is_some_and(|v| decode_attr(&v) == info_url);
                if !ours || start >= len {
                    return Ok(());
                }
                let mut s = block_state.borrow_mut();
                let index = s.own_blocks.len();
                s.own_blocks.push(Block { start, end: None });
                let end_state = Rc::clone(&block_state);
                drop(s);
                el.on_end_tag(Box::new(move |end| {
                    // Only our own `</div>`: an ancestor's end tag that closes the block
                    // implicitly is not part of it.
                    let at = end.source_location().bytes().end;
                    if at <= len && end.name() == "div" {
                        end_state.borrow_mut().own_blocks[index].end = Some(at);
                    }
                    Ok(())
                }))
            }))
            .append_element_content_handler(element!("noscript", move |el: &mut Element<
                '_,
                '_,
            >| {
                // A self-closing foreign element (`<math><html/>`) has no end tag to wait for.
                if !el.can_have_content() {
                    return Ok(());
                }
                let start = el.source_location().bytes().end;
                let end_state = Rc::clone(&noscript_state);
                el.on_end_tag(Box::new(move |end| {
                    let at = end.source_location().bytes().start;
                    if start <= at && at <= len && end.name() == "noscript" {
                        end_state.borrow_mut().noscripts.push(start..at);
                    }
                    Ok(())
                }))
            }))
            .append_element_content_handler(element!(CUTOFF_SELECTOR, |el: &mut Element<
                '_,
                '_,
            >| {
                let at = el.source_location().bytes().start;
                let mut s = state.borrow_mut();
                s.cutoffs.push((at, cutoff_for(el, at)));
                let name = el.tag_name();
                if name == "frameset" {
                    return Ok(());
                }
                if !el.can_have_content() {
                    let end = el.source_location().bytes().end;
                    s.foreign.push((at, Some(end)));
                    return Ok(());
                }
                let index = s.foreign.len();
                s.foreign.push((at, None));
                drop(s);
                let end_state = Rc::clone(&state);
                el.on_end_tag(Box::new(move |end| {
                    if end.name() == name {
                        end_state.borrow_mut().foreign[index].1 =
                            Some(end.source_location().bytes().end);
                    }
                    Ok(())
                }))
            }))
            .append_element_content_handler(element!("img", |el: &mut Element<'_, '_>| {
                let range = el.source_location().bytes();
                if range.end <= len && is_pixel(el, hosts) {
                    state.borrow_mut().pixels.push(Pixel {
                        range,
                        in_comment: false,
                    });
                }
                Ok(())
            }))
            .append_element_content_handler(element!(probe_selector, move |el: &mut Element<
                '_,
                '_,
            >| {
                if el.source_location().bytes().start == len {
                    probe_state.borrow_mut().eof_in_data = true;
                }
                Ok(())
            }))
            .append_document_content_handler(doctype!(move |d: &mut Doctype<'_>| {
                let end = d.source_location().bytes().end;
                let mut s = doctype_state.borrow_mut();
                if s.doctype_end.is_none() && end <= len {
                    s.doctype_end = Some(end);
                }
                Ok(())
            }))
            .append_document_content_handler(doc_comments!(|c: &mut Comment<'_>| {
                let range = c.source_location().bytes();
                let text_len = c.text().len();
                if let Some(found) = conditional_comment_pixels(body, range, text_len, hosts) {
                    state.borrow_mut().pixels.extend(found);
                }
                Ok(())
            }));
        let settings = with_quote_handlers(settings, &quotes, len);
        let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
        rewriter.write(body.as_bytes()).map_err(rewriting_error)?;
        rewriter
            .write(EOF_PROBE.as_bytes())
            .map_err(rewriting_error)?;
        rewriter.end().map_err(rewriting_error)?;
    }
    let mut scan = Rc::try_unwrap(state)
        .map_err(|_| HtmlError::Parse("handler state still shared".into()))?
        .into_inner();
    scan.quotes = Rc::try_unwrap(quotes)
        .map_err(|_| HtmlError::Parse("handler state still shared".into()))?
        .into_inner();
    for range in std::mem::take(&mut scan.noscripts) {
        if let Some(found) = inner_pixels(body, range, false, hosts) {
            scan.pixels.extend(found);
        }
    }
    scan.pixels.sort_by_key(|p| p.range.start);
    scan.pixels.dedup_by_key(|p| p.range.start);
    Ok(scan)
}

fn rewriting_error(err: RewritingError) -> HtmlError {
    match err {
        RewritingError::ParsingAmbiguity(e) => HtmlError::Ambiguous(e.to_string()),
        other => HtmlError::Parse(other.to_string()),
    }
}

/// Whether an `<img>` is one of our pixels.
fn is_pixel(el: &Element<'_, '_>, hosts: &[String]) -> bool {
    el.has_attribute(PIXEL_ATTR)
        || el
            .get_attribute("src")
            .is_some_and(|src| is_pixel_src(&decode_attr(&src), hosts))
}

fn is_pixel_src(src: &str, hosts: &[String]) -> bool {
    let check = |url: &str| {
        host_and_path(url.trim())
            .is_some_and(|(host, path)| path.starts_with("/p/") && hosts.contains(&host))
    };
    // Gmail's image proxy (googleusercontent.com/meips/...#https://original) keeps the
    // original address after the `#`.
    check(src)
        || src
            .split_once('#')
            .is_some_and(|(_, original)| check(original))
}

/// Pixels inside a conditional comment (`<!--[if mso]>...<![endif]-->`), whose content
/// Outlook renders: offsets into `body`.
fn conditional_comment_pixels(
    body: &str,
    range: Range<usize>,
    text_len: usize,
    hosts: &[String],
) -> Option<Vec<Pixel>> {
    let raw = body.get(range.clone())?;
    // The comment's own text, as the tokenizer ended it: a comment may also end with `--!>`
    // (found by the fuzzer: stripping only `-->` let a removal eat the terminator).
    let inner = raw.strip_prefix("<!--")?.get(..text_len)?;
    let head = inner.trim_start().get(..3)?;
    if !head.eq_ignore_ascii_case("[if") {
        return None;
    }
    let start = range.start + 4;
    inner_pixels(body, start..start + inner.len(), true, hosts)
}

/// Pixels in a stretch of `body` that the main pass saw as text but a mail client renders
/// as markup (a conditional comment, a `<noscript>`): offsets into `body`.
fn inner_pixels(
    body: &str,
    range: Range<usize>,
    in_comment: bool,
    hosts: &[String],
) -> Option<Vec<Pixel>> {
    let inner = body.get(range.clone())?;
    let base = range.start;
    let found = RefCell::new(Vec::new());
    let cutoff = std::cell::Cell::new(usize::MAX);
    let settings = Settings::new()
        .append_element_content_handler(element!(CUTOFF_SELECTOR, |el: &mut Element<'_, '_>| {
            let at = el.source_location().bytes().start;
            cutoff.set(cutoff.get().min(cutoff_for(el, at)));
            Ok(())
        }))
        .append_element_content_handler(element!("img", |el: &mut Element<'_, '_>| {
            let r = el.source_location().bytes();
            if r.end <= inner.len() && is_pixel(el, hosts) {
                found.borrow_mut().push(Pixel {
                    range: base + r.start..base + r.end,
                    in_comment,
                });
            }
            Ok(())
        }));
    let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
    // The client's own parser decides what is inside; if ours cannot, leave it alone.
    rewriter.write(inner.as_bytes()).ok()?;
    rewriter.end().ok()?;
    let cutoff = base.saturating_add(cutoff.get());
    let mut found = found.into_inner();
    found.retain(|p| p.range.start < cutoff);
    Some(found)
}

/// The quoted part of a reply or forward, as each client marks it. The notice goes before
/// the first of these in the body (extended to a header line directly before it), so that
/// it follows the sender's own text and signature instead of the other party's signature
/// at the bottom of the thread. The Thunderbird add-on places it with the same rule in the
/// DOM (`addin/thunderbird/lib/disclose.mjs`); both are checked against
/// `tests/fixtures/disclose/quote-markers.json` and the fixtures listed there.
pub(crate) const QUOTE_MARKERS: &[QuoteMarker] = &[
    // Outlook on the web and new Outlook: where appendOnSendAsync content goes, right
    // before the quote.
    QuoteMarker::new(
        "outlook-web",
        "div#appendonsend",
        Quote::RestOfBody,
        Header::None,
    ),
    QuoteMarker::new(
        "outlook-web",
        "div#divRplyFwdMsg",
        Quote::RestOfBody,
        Header::PrecedingHr,
    ),
    // Classic Outlook (Word): the header block with a grey (or blue) rule above it.
    QuoteMarker::new(
        "outlook-desktop",
        r#"div[style*="border-top:solid #E1E1E1" i]"#,
        Quote::RestOfBody,
        Header::FirstBoldIsHeaderWord,
    ),
    QuoteMarker::new(
        "outlook-desktop",
        r#"div[style*="border-top:solid #B5C4DF" i]"#,
        Quote::RestOfBody,
        Header::FirstBoldIsHeaderWord,
    ),
    QuoteMarker::new(
        "outlook",
        "div#mail-editor-reference-message-container",
        Quote::RestOfBody,
        Header::None,
    ),
    QuoteMarker::new("gmail", "div.gmail_quote", Quote::Element, Header::None),
    QuoteMarker::new("gmail", "div.gmail_attr", Quote::Element, Header::None),
    QuoteMarker::new(
        "thunderbird",
        "div.moz-cite-prefix",
        Quote::Element,
        Header::None,
    ),
    QuoteMarker::new(
        "thunderbird",
        "div.moz-forward-container",
        Quote::Element,
        Header::None,
    ),
    QuoteMarker::new(
        "apple-mail",
        r#"blockquote[type="cite"]"#,
        Quote::Element,
        Header::PrecedingDivEndingWithColon,
    ),
];

/// The first bold word of Outlook's header block ("From:" / "Van:").
pub(crate) const QUOTE_HEADER_WORDS: &[&str] = &["From:", "Van:"];

/// The sender's signature where a client puts it below the quote (Thunderbird's option,
/// Gmail's default): not text written below the quote.
pub(crate) const SIGNATURE_SELECTOR: &str =
    "div.moz-signature, .gmail_signature, .gmail_signature_prefix";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct QuoteMarker {
    /// Which client writes it (the fixtures' names).
    pub client: &'static str,
    pub selector: &'static str,
    pub quote: Quote,
    pub header: Header,
}

impl QuoteMarker {
    const fn new(
        client: &'static str,
        selector: &'static str,
        quote: Quote,
        header: Header,
    ) -> Self {
        Self {
            client,
            selector,
            quote,
            header,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Quote {
    /// The element holds the quote; text after it, outside other quotes and the signature,
    /// is the sender writing below the quote, and then the notice goes at the end as usual.
    Element,
    /// A header; the quoted message follows it to the end of the body (Outlook).
    RestOfBody,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Header {
    None,
    /// Starts at an `<hr>` directly before it (Outlook on the web).
    PrecedingHr,
    /// Starts at a `<div>` directly before it whose text ends with ':' ("On … wrote:").
    PrecedingDivEndingWithColon,
    /// Counts only when its first `<b>` says one of [`QUOTE_HEADER_WORDS`].
    FirstBoldIsHeaderWord,
}

/// What the scan learns about quotes. The main pass only records where elements are; the
/// text checks run afterwards over the few stretches that matter (a text handler on the
/// whole body would make every message slower). "Directly before" allows whitespace,
/// comments and `<br>` in between.
#[derive(Debug, Default)]
struct Quotes {
    candidates: Vec<Candidate>,
    /// The last `<hr>`, and the last closed `<div>`.
    last_hr: Option<Range<usize>>,
    last_div: Option<Range<usize>>,
    /// `<template>` elements: start and end; content there is not rendered.
    templates: Vec<(usize, Option<usize>)>,
}

#[derive(Debug)]
struct Candidate {
    start: usize,
    /// The end of its end tag, when it has one.
    end: Option<usize>,
    marker: QuoteMarker,
    /// The element it may start at, when one was right before it.
    before: Option<Range<usize>>,
}

/// Text with only whitespace (no-break spaces included).
fn is_blank(raw: &str) -> bool {
    if !raw.contains('&') {
        return raw.chars().all(char::is_whitespace);
    }
    decode_text(raw).chars().all(char::is_whitespace)
}

/// Text with the references that matter here decoded (`&nbsp;` too, as a space).
fn decode_text(raw: &str) -> String {
    decode_attr(raw).replace("&nbsp;", " ")
}

fn with_quote_handlers<'h, 's>(
    mut settings: Settings<'h, 's>,
    quotes: &Rc<RefCell<Quotes>>,
    len: usize,
) -> Settings<'h, 's> {
    for marker in QUOTE_MARKERS {
        let state = Rc::clone(quotes);
        settings = settings.append_element_content_handler(element!(
            marker.selector,
            move |el: &mut Element<'_, '_>| {
                let start = el.source_location().bytes().start;
                if start >= len {
                    return Ok(());
                }
                let mut q = state.borrow_mut();
                let before = match marker.header {
                    Header::PrecedingHr => q.last_hr.clone(),
                    Header::PrecedingDivEndingWithColon => q.last_div.clone(),
                    Header::None | Header::FirstBoldIsHeaderWord => None,
                };
                let index = q.candidates.len();
                q.candidates.push(Candidate {
                    start,
                    end: None,
                    marker: *marker,
                    before,
                });
                drop(q);
                if !el.can_have_content() {
                    return Ok(());
                }
                let end_state = Rc::clone(&state);
                el.on_end_tag(Box::new(move |end| {
                    let at = end.source_location().bytes().end;
                    if at <= len {
                        end_state.borrow_mut().candidates[index].end = Some(at);
                    }
                    Ok(())
                }))
            }
        ));
    }
    let hr_state = Rc::clone(quotes);
    let div_state = Rc::clone(quotes);
    let template_state = Rc::clone(quotes);
    settings
        .append_element_content_handler(element!("hr", move |el: &mut Element<'_, '_>| {
            let range = el.source_location().bytes();
            if range.end <= len {
                hr_state.borrow_mut().last_hr = Some(range);
            }
            Ok(())
        }))
        .append_element_content_handler(element!("div", move |el: &mut Element<'_, '_>| {
            if !el.can_have_content() {
                return Ok(());
            }
            let start = el.source_location().bytes().start;
            let end_state = Rc::clone(&div_state);
            el.on_end_tag(Box::new(move |end| {
                let at = end.source_location().bytes().end;
                if at <= len && end.name() == "div" {
                    end_state.borrow_mut().last_div = Some(start..at);
                }
                Ok(())
            }))
        }))
        .append_element_content_handler(element!("template", move |el: &mut Element<'_, '_>| {
            if !el.can_have_content() {
                return Ok(());
            }
            let start = el.source_location().bytes().start;
            let mut q = template_state.borrow_mut();
            let index = q.templates.len();
            q.templates.push((start, None));
            drop(q);
            let end_state = Rc::clone(&template_state);
            el.on_end_tag(Box::new(move |end| {
                end_state.borrow_mut().templates[index].1 = Some(end.source_location().bytes().end);
                Ok(())
            }))
        }))
}

/// Whether a candidate is a quote: classic Outlook's header block only with its header word.
fn confirmed(body: &str, candidate: &Candidate) -> bool {
    if candidate.marker.header != Header::FirstBoldIsHeaderWord {
        return true;
    }
    let end = candidate.end.unwrap_or(body.len());
    first_bold_text(&body[candidate.start..end])
        .is_some_and(|text| QUOTE_HEADER_WORDS.contains(&decode_text(&text).trim()))
}

/// Where the quoted part starts, if the body has one and the sender did not write below it.
fn quote_start(body: &str, scan: &Scan) -> Option<usize> {
    let q = &scan.quotes;
    let first = q.candidates.iter().find(|c| confirmed(body, c))?;
    let inside_body = scan.body_start_end.is_none_or(|b| first.start >= b)
        && scan.body_end.is_none_or(|e| first.start < e);
    let in_template = q
        .templates
        .iter()
        .any(|&(start, end)| start < first.start && end.is_none_or(|e| e > first.start));
    if !inside_body || in_template {
        return None;
    }
    if first.marker.quote == Quote::Element {
        // Text after the quote, outside other quotes and the signature: written below it.
        let Some(end) = first.end else {
            return header_start(body, first); // never closed: all after it is quoted
        };
        let limit = scan.body_end.filter(|&e| e >= end).unwrap_or(body.len());
        let skip = QUOTE_MARKERS
            .iter()
            .filter(|m| m.quote == Quote::Element)
            .map(|m| m.selector)
            .chain([SIGNATURE_SELECTOR])
            .collect::<Vec<_>>()
            .join(", ");
        if !is_blank(&visible_text(&body[end..limit], &skip)) {
            return None;
        }
    }
    header_start(body, first)
}

/// The candidate's start, or its header line's when one is directly before it.
fn header_start(body: &str, candidate: &Candidate) -> Option<usize> {
    let header = candidate
        .before
        .as_ref()
        .filter(|h| is_blank_gap(&body[h.end..candidate.start]));
    let counts = header.is_some_and(|h| match candidate.marker.header {
        Header::PrecedingDivEndingWithColon => {
            visible_text(&body[h.clone()], "").trim_end().ends_with(':')
        }
        _ => true,
    });
    Some(match header {
        Some(h) if counts => h.start,
        _ => candidate.start,
    })
}

/// The text a reader sees in an HTML fragment, outside elements matching `skip` (none when
/// empty), references decoded.
fn visible_text(fragment: &str, skip: &str) -> String {
    let text = Rc::new(RefCell::new(String::new()));
    let depth = Rc::new(std::cell::Cell::new(0usize));
    let mut settings = Settings::new();
    if !skip.is_empty() {
        let depth = Rc::clone(&depth);
        settings =
            settings.append_element_content_handler(element!(skip, move |el: &mut Element<
                '_,
                '_,
            >| {
                if !el.can_have_content() {
                    return Ok(());
                }
                depth.set(depth.get() + 1);
                let depth = Rc::clone(&depth);
                el.on_end_tag(Box::new(move |_| {
                    depth.set(depth.get().saturating_sub(1));
                    Ok(())
                }))
            }));
    }
    let sink = Rc::clone(&text);
    let text_depth = Rc::clone(&depth);
    settings = settings.append_document_content_handler(doc_text!(move |t: &mut TextChunk<'_>| {
        if text_depth.get() == 0 && t.text_type() == TextType::Data {
            sink.borrow_mut().push_str(t.as_str());
        }
        Ok(())
    }));
    let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
    // Inside a body lol_html already read: it parses again.
    let _ = rewriter.write(fragment.as_bytes());
    let _ = rewriter.end();
    let raw = text.borrow().clone();
    decode_text(&raw)
}

/// The text of the first `<b>` in an HTML fragment, raw.
fn first_bold_text(fragment: &str) -> Option<String> {
    let state = Rc::new(RefCell::new((false, false, String::new()))); // (seen, reading, text)
    let bold = Rc::clone(&state);
    let texts = Rc::clone(&state);
    let settings = Settings::new()
        .append_element_content_handler(element!("b", move |el: &mut Element<'_, '_>| {
            let mut s = bold.borrow_mut();
            if s.0 || !el.can_have_content() {
                return Ok(());
            }
            s.0 = true;
            s.1 = true;
            drop(s);
            let end = Rc::clone(&bold);
            el.on_end_tag(Box::new(move |_| {
                end.borrow_mut().1 = false;
                Ok(())
            }))
        }))
        .append_document_content_handler(doc_text!(move |t: &mut TextChunk<'_>| {
            let mut s = texts.borrow_mut();
            if s.1 {
                s.2.push_str(t.as_str());
            }
            Ok(())
        }));
    let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
    let _ = rewriter.write(fragment.as_bytes());
    let _ = rewriter.end();
    let s = state.borrow();
    s.0.then(|| s.2.clone())
}

/// Whether markup between two elements is only whitespace, comments and `<br>`.
fn is_blank_gap(gap: &str) -> bool {
    if gap.trim().is_empty() {
        return true;
    }
    let covered = std::cell::Cell::new(0);
    let blank = std::cell::Cell::new(true);
    let settings = Settings::new()
        .append_element_content_handler(element!("*", |el: &mut Element<'_, '_>| {
            blank.set(blank.get() && el.tag_name() == "br");
            covered.set(covered.get() + el.source_location().bytes().len());
            Ok(())
        }))
        .append_document_content_handler(doc_comments!(|c: &mut Comment<'_>| {
            covered.set(covered.get() + c.source_location().bytes().len());
            Ok(())
        }))
        .append_document_content_handler(doc_text!(|t: &mut TextChunk<'_>| {
            blank.set(blank.get() && is_blank(t.as_str()));
            covered.set(covered.get() + t.source_location().bytes().len());
            Ok(())
        }));
    let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
    let parsed = rewriter.write(gap.as_bytes()).is_ok() && rewriter.end().is_ok();
    parsed && blank.get() && covered.get() == gap.len()
}

/// Elements after which removing an `<img>` could change how the rest is built.
const CUTOFF_SELECTOR: &str = "svg, math, frameset";

/// From where on pixels are kept, given one of [`CUTOFF_SELECTOR`]'s elements at `at`:
/// after foreign content starts, and everywhere when there is a `<frameset>`.
fn cutoff_for(el: &Element<'_, '_>, at: usize) -> usize {
    if el.tag_name() == "frameset" {
        0
    } else {
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disclose::{Disclosure, DisclosurePolicy, InfoUrl, PixelUrl};
    use crate::Lang;

    const INFO: &str = "https://lw.example.nl/i/new";
    const PIXEL: &str = "https://lw.example.nl/p/new";

    fn tracked() -> Insertion {
        let info = InfoUrl::parse(INFO).unwrap();
        let d = Disclosure::new(&DisclosurePolicy::default(), Lang::Nl, info).unwrap();
        Insertion::Tracked(d.track(PixelUrl::parse(PIXEL).unwrap()))
    }

    fn untracked() -> Insertion {
        let info = InfoUrl::parse(INFO).unwrap();
        Insertion::Disclosure(
            Disclosure::new(&DisclosurePolicy::default(), Lang::En, info).unwrap(),
        )
    }

    fn run(body: &str) -> Rewritten {
        let ins = tracked();
        let out = insert_html(body, &ins).unwrap();
        let again = insert_html(&out.html, &ins).unwrap();
        assert_eq!(again.html, out.html, "not idempotent for {body:?}");
        assert_eq!(again.placement, Placement::Replaced);
        out
    }

    fn snippet() -> String {
        tracked().html_snippet().to_string()
    }

    #[test]
    fn before_the_real_body_end() {
        let body = "<html><body><p>Hoi</p></body></html>";
        let out = run(body);
        assert_eq!(out.placement, Placement::BeforeBodyEnd);
        assert_eq!(
            out.html,
            format!("<html><body><p>Hoi</p>{}</body></html>", snippet())
        );
    }

    #[test]
    fn ignores_body_end_tags_that_are_not_markup() {
        for decoy in [
            "<!-- </body> -->",
            "<!--[if mso]></body><![endif]-->",
            "<script>var s = '</body>';</script>",
            "<textarea></body></textarea>",
            "<a title=\"</body>\">x</a>",
            "<style>/* </body> */</style>",
            "<title></body></title>",
            "<xmp></body></xmp>",
        ] {
            let body = format!("<html><body><p>a</p>{decoy}<p>b</p></body></html>");
            let out = run(&body);
            assert_eq!(out.placement, Placement::BeforeBodyEnd, "{decoy}");
            assert!(
                out.html
                    .ends_with(&format!("<p>b</p>{}</body></html>", snippet())),
                "{decoy}: {}",
                out.html
            );
        }
    }

    #[test]
    fn nested_body_from_quoted_markup_is_not_the_end() {
        let body = "<body><p>reply</p><blockquote><html><body><p>old</p></body></html></blockquote><p>sig</p></body>";
        let out = run(body);
        assert!(out
            .html
            .ends_with(&format!("<p>sig</p>{}</body>", snippet())));
    }

    #[test]
    fn fragments_are_appended() {
        let out = run("<div dir=\"ltr\">Hoi<br></div>");
        assert_eq!(out.placement, Placement::Appended);
        assert_eq!(
            out.html,
            format!("<div dir=\"ltr\">Hoi<br></div>{}", snippet())
        );
        assert_eq!(run("").html, snippet());
        assert_eq!(run("plain words").html, format!("plain words{}", snippet()));
        // A lone `<` at the end is text; the block after it is still markup.
        assert_eq!(run("a <").placement, Placement::Appended);
    }

    #[test]
    fn implicit_body_end() {
        let out = run("<html><body><p>x</p></html>\n");
        assert_eq!(out.placement, Placement::BeforeHtmlEnd);
        assert_eq!(
            out.html,
            format!("<html><body><p>x</p>{}</html>\n", snippet())
        );
        let out = run("<html><body><p>x</p>");
        assert_eq!(out.placement, Placement::Appended);
    }

    #[test]
    fn unclosed_constructs_at_the_end_get_the_block_at_the_start() {
        for tail in [
            "<!-- unterminated",
            "<textarea>typing",
            "<script>var x",
            "<a href=\"x",
            "<p title='x",
            "<span",
            "</",
            "<!",
            "<title>t",
        ] {
            let body = format!("<!DOCTYPE html><html><body><p>a</p>{tail}");
            let out = run(&body);
            assert_eq!(out.placement, Placement::Prepended, "{tail}");
            assert_eq!(
                out.html,
                format!("<!DOCTYPE html><html><body>{}<p>a</p>{tail}", snippet()),
                "{tail}"
            );
            let fragment = format!("<p>a</p>{tail}");
            let out = run(&fragment);
            assert_eq!(out.html, format!("{}{fragment}", snippet()), "{tail}");
        }
        let out = run("<!doctype html><p>a<!-- x");
        assert_eq!(out.html, format!("<!doctype html>{}<p>a<!-- x", snippet()));
        let out = run("\u{feff}<p>a<!-- x");
        assert_eq!(out.html, format!("\u{feff}{}<p>a<!-- x", snippet()));
    }

    #[test]
    fn removes_earlier_pixels_only() {
        let body = concat!(
            "<body><p>new</p><blockquote>",
            r#"<div data-leakwatch="disclosure" data-leakwatch-info="https://lw.example.nl/i/old">oud <img data-leakwatch-pixel="" src="https://lw.example.nl/p/old" width="1" height="1" alt=""></div>"#,
            r#"<img src="https://LW.example.nl/p/stripped">"#,
            r#"<img src="https://ci3.googleusercontent.com/meips/AB=s0-d-e1-ft#https://lw.example.nl/p/proxied">"#,
            r#"<img data-leakwatch-pixel src="cid:image001.png@01DA">"#,
            r#"<img src="https://lw.example.nl/static/logo.png">"#,
            r#"<img src="https://cdn.example.com/p/photo.jpg">"#,
            r#"<img src="https://lw.example.nl.evil.example/p/x">"#,
            "<!--<img src=\"https://lw.example.nl/p/in-a-plain-comment\">-->",
            "<!--[if mso]><img src=\"https://lw.example.nl/p/in-mso\"><![endif]-->",
            "<noscript><p><img src=\"https://lw.example.nl/p/in-noscript\"></p></noscript>",
            "</blockquote></body>"
        );
        let out = run(body);
        assert_eq!(out.removed_pixels(), 6);
        let html = &out.html;
        for gone in [
            "/p/old",
            "/p/stripped",
            "/p/proxied",
            "cid:image001",
            "/p/in-mso",
            "/p/in-noscript",
        ] {
            assert!(!html.contains(gone), "{gone} kept");
        }
        for kept in [
            "static/logo.png",
            "cdn.example.com/p/photo.jpg",
            "evil.example/p/x",
            "in-a-plain-comment",
            "<!--[if mso]><![endif]-->",
            "<noscript><p></p></noscript>",
            "data-leakwatch-info=\"https://lw.example.nl/i/old\">oud </div>",
        ] {
            assert!(html.contains(kept), "{kept} removed: {html}");
        }
        assert_eq!(html.matches("data-leakwatch-pixel").count(), 1);
    }

    #[test]
    fn removal_never_joins_text_into_markup() {
        let out = run(
            r#"<body>a <<img src="https://lw.example.nl/p/x">b> &amp<img data-leakwatch-pixel>;</body>"#,
        );
        assert!(
            out.html.starts_with("<body>a <<!---->b> &amp<!---->;<div"),
            "{}",
            out.html
        );
        // In a conditional comment a removal that could close the comment is skipped.
        let out =
            run(r#"<!--[if mso]>-<img src="https://lw.example.nl/p/x">-><![endif]--><p>a</p>"#);
        assert_eq!(out.removed_pixels(), 0);
    }

    #[test]
    fn removal_in_a_comment_next_to_multibyte_text() {
        // Fuzzer find: the look-around sliced inside a character.
        let out = run(r#"<!--[if mso]>€€<img src="https://lw.example.nl/p/x">€€<![endif]-->"#);
        assert_eq!(out.removed_pixels(), 1);
        assert!(out.html.starts_with("<!--[if mso]>€€€€<![endif]-->"));
    }

    #[test]
    fn a_removal_never_touches_the_end_of_a_comment() {
        // Fuzzer find: `--!>` also ends a comment.
        for body in [
            "<!--[if<img data-leakwatch-pixel=--!>",
            "<!--[if mso]><img data-leakwatch-pixel>--!><p>x</p>",
        ] {
            let out = run(body);
            assert!(out.html.contains("--!>"), "{body}: {}", out.html);
        }
    }

    #[test]
    fn self_closing_foreign_elements_are_not_an_error() {
        // Fuzzer find: `on_end_tag` fails for elements that cannot have content.
        for body in [
            "<math><html/>",
            "<svg><body/></svg><p>x</p>",
            "<math><noscript/>",
            r#"<svg><div data-leakwatch="disclosure" data-leakwatch-info="https://lw.example.nl/i/new"/></svg>"#,
        ] {
            run(body);
        }
    }

    #[test]
    fn pixels_are_kept_where_removing_them_changes_the_tree() {
        // Fuzzer find: an <img> ends foreign content; without it a CDATA section swallows
        // what follows, our block included.
        let out =
            run("<p><img data-leakwatch-pixel></p><svg><img data-leakwatch-pixel><![CDATA[a>b");
        assert_eq!(out.removed_pixels(), 1);
        assert!(out.html.contains("<svg><img data-leakwatch-pixel>"));
        let out = run("<math><mi>x</mi></math><img data-leakwatch-pixel>");
        assert_eq!(out.removed_pixels(), 0);
        // Without the img, a later <frameset> would replace the body.
        let out = run("<body><img data-leakwatch-pixel><frameset>");
        assert_eq!(out.removed_pixels(), 0);
        let out = run(
            "<!--[if mso]><img data-leakwatch-pixel><svg><img data-leakwatch-pixel><![endif]-->",
        );
        assert_eq!(out.removed_pixels(), 1);
    }

    #[test]
    fn a_frameset_inside_the_replaced_block_does_not_count() {
        // Fuzzer find: the <frameset> kept the pixel on the first run, then went away with
        // the old block, and the second run removed the pixel.
        let body = format!(
            r#"<div data-leakwatch="disclosure" data-leakwatch-info="{INFO}"><frameset></div><img data-leakwatch-pixel>"#
        );
        let out = run(&body);
        assert_eq!(out.placement, Placement::Replaced);
        assert_eq!(out.removed_pixels(), 1);
    }

    #[test]
    fn the_block_does_not_go_where_foreign_content_may_be_open() {
        // Fuzzer find: the block's <div> ended the <math>, so the CDATA after </body> became
        // markup on the second run.
        let out = run("<body><math></body><![CDATA[><frameset><script ");
        assert_eq!(out.placement, Placement::Prepended);
        assert!(out.html.starts_with(&format!("<body>{}<math>", snippet())));
        let out = run("<body><math></body></html>");
        assert_eq!(out.placement, Placement::Appended);
        // Closed foreign content is no reason to move.
        let out = run("<body><svg><circle/></svg><math/></body>");
        assert_eq!(out.placement, Placement::BeforeBodyEnd);
    }

    #[test]
    fn same_message_is_not_duplicated_but_an_older_notice_is_not_ours() {
        let ins = tracked();
        let once = insert_html("<p>a</p>", &ins).unwrap().html;
        // Untracked run over a tracked output: the block is re-rendered without pixel.
        let plain = insert_html(&once, &untracked()).unwrap();
        assert_eq!(plain.placement, Placement::Replaced);
        assert!(!plain.html.contains("<img"));
        assert_eq!(
            plain.html.matches("data-leakwatch=\"disclosure\"").count(),
            1
        );
        // Quoted older notice (another info URL): a new block is added after it.
        let old = once.replace("/i/new", "/i/old").replace("/p/new", "/p/old");
        let reply = format!("<p>reply</p><blockquote>{old}</blockquote>");
        let out = insert_html(&reply, &ins).unwrap();
        assert_eq!(out.placement, Placement::Appended);
        assert_eq!(out.removed_pixels(), 1);
        assert_eq!(out.html.matches("data-leakwatch=\"disclosure\"").count(), 2);
        assert!(out.html.ends_with(&format!("</blockquote>{}", snippet())));
        // Entities in our attributes (a client re-serialised them) still match.
        let reencoded = once.replace(
            "https://lw.example.nl/i/new\"",
            "https&#58;//lw.example.nl/i/new\"",
        );
        assert_ne!(reencoded, once);
        assert_eq!(
            insert_html(&reencoded, &ins).unwrap().placement,
            Placement::Replaced
        );
    }

    #[test]
    fn a_block_closed_by_an_ancestor_is_not_replaced() {
        let ins = tracked();
        let block = snippet();
        let open = &block[..block.len() - "</div>".len()];
        // Our block, its `</div>` lost, closed by `</blockquote>`: not a complete block.
        let body = format!("<body><blockquote>{open}</blockquote><p>x</p></body>");
        let out = insert_html(&body, &ins).unwrap();
        assert_eq!(out.placement, Placement::BeforeBodyEnd);
        assert!(out.html.contains("</blockquote><p>x</p>"));
    }

    #[test]
    fn the_quote_markers_are_the_shared_ones() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/disclose/placement.json"
        );
        let manifest: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let ours: Vec<serde_json::Value> = QUOTE_MARKERS
            .iter()
            .map(|m| {
                serde_json::json!({
                    "client": m.client,
                    "selector": m.selector,
                    "quote": match m.quote {
                        Quote::Element => "element",
                        Quote::RestOfBody => "rest-of-body",
                    },
                    "header": match m.header {
                        Header::None => None,
                        Header::PrecedingHr => Some("preceding-hr"),
                        Header::PrecedingDivEndingWithColon => Some("preceding-div-ending-with-colon"),
                        Header::FirstBoldIsHeaderWord => Some("first-bold-is-header-word"),
                    },
                })
            })
            .collect();
        assert_eq!(serde_json::Value::Array(ours), manifest["markers"]);
        assert_eq!(
            serde_json::json!(QUOTE_HEADER_WORDS),
            manifest["header_words"]
        );
        assert_eq!(manifest["signatures"], SIGNATURE_SELECTOR);
    }

    fn block_before(out: &Rewritten, marker: &str) -> bool {
        out.html.contains(&format!("{}{marker}", snippet()))
    }

    #[test]
    fn before_the_quote_after_the_senders_text() {
        let out = run(r#"<body><p>new</p><div class="gmail_quote"><p>old</p></div></body>"#);
        assert_eq!(out.placement, Placement::BeforeQuote);
        assert!(block_before(&out, r#"<div class="gmail_quote">"#));
        // Outlook on the web: the rule above the header is the quote's start.
        let out = run("<p>new</p><hr style=\"display:inline-block;width:98%\">\n<!-- x --><div id=\"divRplyFwdMsg\"><b>From:</b> a</div><p>old</p>");
        assert!(block_before(&out, "<hr"), "{}", out.html);
        // Not when something else stands between.
        let out = run(r#"<p>new</p><hr><p>x</p><div id="divRplyFwdMsg"><b>From:</b> a</div>"#);
        assert!(block_before(&out, r#"<div id="divRplyFwdMsg">"#));
        // Apple Mail: the "On ... wrote:" line before the quote belongs to it.
        let out = run(
            r#"<body>Hi<div>Sam</div><div>On 1 May, Kim wrote:</div><br class="x"><blockquote type="cite">old</blockquote></body>"#,
        );
        assert!(block_before(&out, "<div>On 1 May"), "{}", out.html);
        let out =
            run(r#"<body>Hi<div>Sam</div><br><blockquote type="cite">old</blockquote></body>"#);
        assert!(block_before(&out, "<blockquote"), "{}", out.html);
        // The first quote counts, not a later (older) one.
        let out = run(
            r#"<p>a</p><div class="moz-cite-prefix">x:</div><blockquote type="cite"><div class="gmail_quote">y</div></blockquote>"#,
        );
        assert!(block_before(&out, r#"<div class="moz-cite-prefix">"#));
    }

    #[test]
    fn classic_outlook_headers_count_only_with_from_or_van() {
        let header = |word: &str| {
            format!("<p>new</p><div style='border:none;border-top:solid #e1e1e1 1.0pt'><p class=MsoNormal><b><span>{word}</span></b> Jan</p></div><p>old</p>")
        };
        for word in ["From:", "Van:", " Van:&nbsp;"] {
            let out = run(&header(word));
            assert_eq!(out.placement, Placement::BeforeQuote, "{word}");
            assert!(block_before(&out, "<div style="));
        }
        // A grey rule of the sender's own, without Outlook's header: no quote.
        let out = run(&header("Note"));
        assert_eq!(out.placement, Placement::Appended);
    }

    #[test]
    fn written_below_the_quote_keeps_the_end() {
        let bottom = r#"<div class="moz-cite-prefix">Kim wrote:</div><blockquote type="cite">old</blockquote><p>my answer</p>"#;
        assert_eq!(run(bottom).placement, Placement::Appended);
        // A signature below the quote is not writing below it.
        let sig = r#"<p>new</p><div class="moz-cite-prefix">Kim wrote:</div><blockquote type="cite">old</blockquote><br>&nbsp;<div class="moz-signature">-- <br>Sam</div>"#;
        assert_eq!(run(sig).placement, Placement::BeforeQuote);
        // Outlook quotes to the end of the body: the old message after the header is quoted.
        let outlook = r#"<p>new</p><div id="appendonsend"></div><p>old message</p>"#;
        assert_eq!(run(outlook).placement, Placement::BeforeQuote);
    }

    #[test]
    fn no_quote_placement_where_the_block_would_not_render() {
        for body in [
            r#"<body><template><div class="gmail_quote">x</div></template><p>a</p></body>"#,
            r#"<body><svg><foreignObject><div class="gmail_quote">x</div></foreignObject></svg></body>"#,
            r#"<html><head><div class="gmail_quote"></div></head><body><p>a</p></body></html>"#,
        ] {
            let out = run(body);
            assert_ne!(out.placement, Placement::BeforeQuote, "{body}");
        }
    }

    #[test]
    fn the_quote_regression_inputs_keep_the_fuzz_targets_promises() {
        // fuzz/regressions/disclose_html/quote-*: the first byte picks the insertion as the
        // fuzz target does (1: tracked Dutch, 2: untracked English).
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fuzz/regressions/disclose_html"
        );
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if !path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("quote-")
            {
                continue;
            }
            seen += 1;
            let data = std::fs::read(&path).unwrap();
            let body = String::from_utf8_lossy(&data[1..]);
            let ins = match data[0] % 4 {
                1 => tracked(),
                2 => untracked(),
                other => panic!("{path:?}: insertion {other} not used here"),
            };
            let out = insert_html(&body, &ins).unwrap();
            assert_eq!(&out.html[out.block()], ins.html_snippet());
            let again = insert_html(&out.html, &ins).unwrap();
            assert_eq!(again.placement, Placement::Replaced, "{path:?}");
            assert_eq!(again.html, out.html, "{path:?}");
        }
        assert_eq!(seen, 2);
        let apple = run("<p>a</p><div>On 1 May, Kim wrote:</div><!-- c --><br><blockquote type=\"cite\">q</blockquote>");
        assert!(block_before(&apple, "<div>On 1 May"));
    }

    #[test]
    fn ambiguous_markup_is_refused() {
        let err = insert_html("<select><xmp><script>x</script></select>", &tracked());
        assert!(matches!(err, Err(HtmlError::Ambiguous(_))), "{err:?}");
    }
}
