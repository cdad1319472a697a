// The disclosure in the outgoing body. For a plain-text mail the core itself appends the
// notice (`discloseText`, idempotent, never a pixel). For HTML the send-time core carries no
// HTML parser (docs/adr/0003-wasm-module.md), but Thunderbird's background page has a DOM:
// the core renders the block (`disclosure().html`, the pixel inside it only when tracked)
// and this module puts it where the core's own HTML rewriter would: before the quoted part
// of a reply or forward (after the sender's text and signature), else at the end of the
// real <body>. It replaces our block for the same message if it is already there (so
// sending twice changes nothing), and removes earlier leakwatch pixels in quoted content
// (so a reply never reports opens for an older message).

/**
 * Where a reply's or forward's quote starts, per client: the same markers, in the same
 * order and with the same conditions, as the core's `QUOTE_MARKERS`
 * (crates/core/src/disclose/html.rs). Both are tested against
 * crates/core/tests/fixtures/disclose/placement.json and its fixtures.
 * quote "element": the marker holds the quote, and text after it outside quotes and
 * signatures means the sender wrote below it; "rest-of-body": all after it is quoted.
 */
export const QUOTE_MARKERS = [
  { client: "outlook-web", selector: "div#appendonsend", quote: "rest-of-body", header: null },
  { client: "outlook-web", selector: "div#divRplyFwdMsg", quote: "rest-of-body", header: "preceding-hr" },
  { client: "outlook-desktop", selector: 'div[style*="border-top:solid #E1E1E1" i]', quote: "rest-of-body", header: "first-bold-is-header-word" },
  { client: "outlook-desktop", selector: 'div[style*="border-top:solid #B5C4DF" i]', quote: "rest-of-body", header: "first-bold-is-header-word" },
  { client: "outlook", selector: "div#mail-editor-reference-message-container", quote: "rest-of-body", header: null },
  { client: "gmail", selector: "div.gmail_quote", quote: "element", header: null },
  { client: "gmail", selector: "div.gmail_attr", quote: "element", header: null },
  { client: "thunderbird", selector: "div.moz-cite-prefix", quote: "element", header: null },
  { client: "thunderbird", selector: "div.moz-forward-container", quote: "element", header: null },
  { client: "apple-mail", selector: 'blockquote[type="cite"]', quote: "element", header: "preceding-div-ending-with-colon" },
];
/** The first bold word of classic Outlook's header block. */
export const QUOTE_HEADER_WORDS = ["From:", "Van:"];
/** The sender's signature where a client puts it below the quote: not writing below it. */
export const SIGNATURE_SELECTOR = "div.moz-signature, .gmail_signature, .gmail_signature_prefix";

const ELEMENT_QUOTES = QUOTE_MARKERS.filter((m) => m.quote === "element").map((m) => m.selector);
// Text a mail client does not render as the sender's words.
const NOT_RENDERED = "script, style, template, noscript, title, textarea, xmp, iframe, noembed, noframes";

const isBlank = (node) => node.nodeType === 3 ? node.data.trim() === "" : node.nodeType === 8;

/** The sibling before `el`, past whitespace, comments and <br>. */
function previousElement(el) {
  let node = el.previousSibling;
  while (node && (isBlank(node) || node.localName === "br")) node = node.previousSibling;
  return node?.nodeType === 1 ? node : null;
}

/** Whether the sender wrote text below the quote that `el` holds. */
function writtenBelow(el, doc) {
  const skip = [...ELEMENT_QUOTES, SIGNATURE_SELECTOR, NOT_RENDERED].join(", ");
  const walker = doc.createTreeWalker(doc.body, 4 /* NodeFilter.SHOW_TEXT */);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!(el.compareDocumentPosition(node) & 4 /* FOLLOWING */) || el.contains(node)) continue;
    if (node.data.trim() === "" || node.parentElement?.closest(skip)) continue;
    return true;
  }
  return false;
}

/** The element the notice goes before: the start of the quote, or null (no quote). */
export function quoteStart(doc) {
  const all = QUOTE_MARKERS.map((m) => m.selector).join(", ");
  for (const el of doc.body?.querySelectorAll(all) ?? []) {
    const marker = QUOTE_MARKERS.find(
      (m) =>
        el.matches(m.selector) &&
        (m.header !== "first-bold-is-header-word" || QUOTE_HEADER_WORDS.includes(el.querySelector("b")?.textContent.trim())),
    );
    if (!marker) continue; // a grey rule without Outlook's header
    // The core does not put its block where it would not render or would end foreign content.
    if (el.parentElement?.closest("svg, math, noscript, template")) return null;
    if (marker.quote === "element" && writtenBelow(el, doc)) return null;
    const before = previousElement(el);
    if (marker.header === "preceding-hr" && before?.localName === "hr") return before;
    if (marker.header === "preceding-div-ending-with-colon" && before?.localName === "div" && before.textContent.trim().endsWith(":")) {
      return before;
    }
    return el;
  }
  return null;
}

/** The core's disclosure options for a registered message: the pixel only when tracked. */
export function disclosureOptions(registration, lang) {
  const options = { info_url: registration.info_url, lang };
  if (registration.track && registration.pixel_url) options.pixel_url = registration.pixel_url;
  return options;
}

function hostsOf(options) {
  return [options.info_url, options.pixel_url]
    .filter(Boolean)
    .map((u) => new URL(u).host.toLowerCase());
}

/** Whether an <img src> is a leakwatch pixel of one of `hosts` (also behind Gmail's proxy). */
function isOurPixel(img, hosts) {
  if (img.hasAttribute("data-leakwatch-pixel")) return true;
  const src = img.getAttribute("src") ?? "";
  const candidates = [src];
  const hash = src.indexOf("#");
  if (hash >= 0) candidates.push(src.slice(hash + 1));
  return candidates.some((candidate) => {
    try {
      const url = new URL(candidate);
      return hosts.includes(url.host.toLowerCase()) && url.pathname.startsWith("/p/");
    } catch {
      return false;
    }
  });
}

function serialize(doc) {
  const doctype = doc.doctype ? `<!DOCTYPE ${doc.doctype.name}>\n` : "";
  return doctype + doc.documentElement.outerHTML;
}

/**
 * The HTML body with the rendered block (`checker.disclosure(options).html`) before the
 * quoted part of a reply or forward ([`quoteStart`]), else at the end of its <body>. `dom`
 * supplies `DOMParser` (the page's own in Thunderbird; jsdom's in tests).
 */
export function insertHtmlDisclosure(html, block, options, { DOMParser }, { replaces = [] } = {}) {
  const doc = new DOMParser().parseFromString(html ?? "", "text/html");
  const hosts = hostsOf(options);
  const ours = new Set([options.info_url, ...replaces]);
  const own = [...doc.querySelectorAll('[data-leakwatch="disclosure"]')].filter((el) =>
    ours.has(el.getAttribute("data-leakwatch-info")),
  );
  // An earlier attempt's block for another registration goes; ours takes the last place.
  for (const stale of own.slice(0, -1)) stale.remove();
  for (const img of [...doc.querySelectorAll("img")]) {
    if (own.some((el) => el.contains(img))) continue; // replaced with its block
    if (isOurPixel(img, hosts)) img.remove();
  }
  const fresh = doc.createDocumentFragment();
  const parsed = new DOMParser().parseFromString(`<!DOCTYPE html><html><body>${block}</body></html>`, "text/html");
  for (const node of [...parsed.body.childNodes]) fresh.append(doc.importNode(node, true));
  const quote = own.length ? null : quoteStart(doc);
  if (own.length) {
    own.at(-1).replaceWith(fresh);
  } else if (quote) {
    quote.before(fresh);
  } else {
    doc.body.append(fresh);
  }
  return serialize(doc);
}

/**
 * What onBeforeSend returns as `details` for a registered message: `{plainTextBody}` for
 * a plain-text mail, `{body}` for HTML (Thunderbird derives the text part from it).
 * `replaces` is an earlier registration of the same composer whose notice this one replaces.
 */
export function disclosedBody(details, checker, registration, lang, dom, { replaces } = {}) {
  const options = disclosureOptions(registration, lang);
  if (details.isPlainText) {
    let text = details.plainTextBody ?? "";
    if (replaces) {
      // The core appends its notice to the end; an earlier one is the same text with the
      // earlier link.
      const earlier = checker.discloseText("", disclosureOptions(replaces, lang)).trim();
      const at = earlier ? text.lastIndexOf(earlier) : -1;
      if (at >= 0) text = (text.slice(0, at).trimEnd() + text.slice(at + earlier.length)).trimEnd() + "\n";
    }
    return { plainTextBody: checker.discloseText(text, options) };
  }
  const { html } = checker.disclosure(options);
  const stale = replaces ? [replaces.info_url] : [];
  return { body: insertHtmlDisclosure(details.body ?? "", html, options, dom, { replaces: stale }) };
}
