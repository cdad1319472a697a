// The disclosure in the outgoing body. For a plain-text mail the core itself appends the
// notice (`discloseText`, idempotent, never a pixel). For HTML the send-time core carries no
// HTML parser (docs/adr/0003-wasm-module.md), but Thunderbird's background page has a DOM:
// the core renders the block (`disclosure().html`, the pixel inside it only when tracked)
// and this module puts it at the end of the real <body>, replaces our block for the same
// message if it is already there (so sending twice changes nothing), and removes earlier
// leakwatch pixels in quoted content (so a reply never reports opens for an older message).

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
 * The HTML body with the rendered block (`checker.disclosure(options).html`) at the end of
 * its <body>. `dom` supplies `DOMParser` (the page's own in Thunderbird; jsdom's in tests).
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
  if (own.length) {
    own.at(-1).replaceWith(fresh);
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
