import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import {
  disclosedBody,
  disclosureOptions,
  insertHtmlDisclosure,
  QUOTE_HEADER_WORDS,
  QUOTE_MARKERS,
  SIGNATURE_SELECTOR,
} from "../lib/disclose.mjs";
import { core, dom, parse, root } from "../testing.mjs";

// The core's fixtures and where its HTML rewriter puts the block in them: the add-on places
// it by the same rule, in the DOM.
const FIXTURES = path.join(root, "crates/core/tests/fixtures/disclose");
const MANIFEST = JSON.parse(fs.readFileSync(path.join(FIXTURES, "placement.json"), "utf8"));

const INFO = "https://lw.example.nl/i/msg-42";
const PIXEL = "https://lw.example.nl/p/tok-42";
const TRACKED = { id: "msg-42", track: true, pixel_url: PIXEL, info_url: INFO };
const UNTRACKED = { id: "msg-42", track: false, info_url: INFO };
const TB_HTML =
  '<!DOCTYPE html><html><head><meta http-equiv="content-type" content="text/html; charset=UTF-8"></head>' +
  "<body><p>Beste Jan,</p><p>Hierbij.</p></body></html>";

const checker = async () => new (await core()).Checker({ policy: { disclosure: { organization: "Boekhoudpartners" } } });

test("the pixel only for a tracked message; the notice always", () => {
  assert.deepEqual(disclosureOptions(TRACKED, "nl"), { info_url: INFO, pixel_url: PIXEL, lang: "nl" });
  assert.deepEqual(disclosureOptions(UNTRACKED, "en"), { info_url: INFO, lang: "en" });
  assert.deepEqual(disclosureOptions({ ...UNTRACKED, pixel_url: PIXEL }, "en"), { info_url: INFO, lang: "en" });
});

test("HTML mail: details.body gets the core's block at the end of <body>", async () => {
  const c = await checker();
  const edit = disclosedBody({ isPlainText: false, body: TB_HTML, plainTextBody: "x" }, c, TRACKED, "en", dom);
  assert.deepEqual(Object.keys(edit), ["body"], "only the HTML body is replaced");
  assert.ok(edit.body.startsWith("<!DOCTYPE html>"));
  const doc = parse(edit.body);
  const block = doc.body.lastElementChild;
  assert.equal(block.getAttribute("data-leakwatch"), "disclosure");
  assert.equal(block.getAttribute("data-leakwatch-info"), INFO);
  assert.match(block.textContent, /Boekhoudpartners/);
  assert.equal(block.querySelector("a").getAttribute("href"), INFO);
  assert.equal(block.querySelector("img").getAttribute("src"), PIXEL);
  assert.equal(doc.querySelectorAll("p").length, 2, "the message is kept");
  assert.ok(edit.body.includes(`src="${PIXEL}"`), "serialised as the recipient's client reads it");

  const untracked = parse(disclosedBody({ isPlainText: false, body: TB_HTML }, c, UNTRACKED, "nl", dom).body);
  assert.equal(untracked.querySelectorAll("img").length, 0, "no pixel when not tracked");
  assert.match(untracked.body.lastElementChild.textContent, /Privacymelding/);
  c.free();
});

test("HTML insertion is idempotent and removes older leakwatch pixels from quoted content", async () => {
  const c = await checker();
  const { html } = c.disclosure(disclosureOptions(TRACKED, "en"));
  const once = insertHtmlDisclosure(TB_HTML, html, disclosureOptions(TRACKED, "en"), dom);
  const twice = insertHtmlDisclosure(once, html, disclosureOptions(TRACKED, "en"), dom);
  assert.equal(twice, once, "sending twice changes nothing");

  // A reply quoting an earlier tracked message of the same server.
  const older = c.disclosure({ info_url: "https://lw.example.nl/i/old", pixel_url: "https://lw.example.nl/p/old", lang: "en" }).html;
  const reply = `<html><body><p>Thanks!</p><blockquote type="cite"><p>Earlier</p>${older}<img src="https://lw.example.nl/p/bare"><img src="https://lw.example.nl/logo.png"><img src="https://other.example/p/x"></blockquote></body></html>`;
  const out = parse(insertHtmlDisclosure(reply, html, disclosureOptions(TRACKED, "en"), dom));
  const srcs = [...out.querySelectorAll("img")].map((i) => i.getAttribute("src"));
  assert.deepEqual(srcs, [PIXEL, "https://lw.example.nl/logo.png", "https://other.example/p/x"], "the new notice before the quote");
  assert.equal(out.querySelector('[data-leakwatch-info="' + INFO + '"]').nextElementSibling.localName, "blockquote");
  assert.equal(out.querySelectorAll('[data-leakwatch="disclosure"]').length, 2, "the old notice stays, the new one is added");
  // A fragment without <body> (as some composers hand it over).
  const fragment = parse(insertHtmlDisclosure("<p>hoi</p>", html, disclosureOptions(TRACKED, "en"), dom));
  assert.equal(fragment.body.lastElementChild.getAttribute("data-leakwatch"), "disclosure");
  c.free();
});

test("plain-text mail: details.plainTextBody gets the notice as text, never a pixel", async () => {
  const c = await checker();
  const edit = disclosedBody({ isPlainText: true, plainTextBody: "Hoi Els,\n\nTot morgen.\n", body: "<p>x</p>" }, c, TRACKED, "en", dom);
  assert.deepEqual(Object.keys(edit), ["plainTextBody"]);
  assert.ok(edit.plainTextBody.startsWith("Hoi Els,\n\nTot morgen.\n"));
  assert.ok(edit.plainTextBody.includes(INFO));
  assert.ok(!edit.plainTextBody.includes(PIXEL));
  assert.match(edit.plainTextBody, /Privacy notice/);
  const again = disclosedBody({ isPlainText: true, plainTextBody: edit.plainTextBody }, c, TRACKED, "en", dom);
  assert.equal(again.plainTextBody, edit.plainTextBody, "idempotent");
  c.free();
});

test("the quote markers are the core's", () => {
  assert.deepEqual(QUOTE_MARKERS, MANIFEST.markers);
  assert.deepEqual(QUOTE_HEADER_WORDS, MANIFEST.header_words);
  assert.equal(SIGNATURE_SELECTOR, MANIFEST.signatures);
});

/** The rendered text before `block`, whitespace collapsed. */
function textBefore(doc, block) {
  const walker = doc.createTreeWalker(doc.body, 4 /* NodeFilter.SHOW_TEXT */);
  const parts = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!(block.compareDocumentPosition(node) & 2 /* PRECEDING */)) break;
    if (node.parentElement?.closest("script, style, template")) continue;
    parts.push(node.data);
  }
  return parts.join(" ").split(/\s+/).filter(Boolean).join(" ");
}

test("in every fixture the block lands where the core puts it: before the quote, after the sender's text", async () => {
  const c = await checker();
  const options = disclosureOptions(TRACKED, "nl");
  const { html } = c.disclosure(options);
  const names = fs.readdirSync(FIXTURES).filter((f) => f.endsWith(".html")).sort();
  assert.deepEqual(names, Object.keys(MANIFEST.fixtures).sort(), "every fixture is in placement.json");
  for (const name of names) {
    const expected = MANIFEST.fixtures[name];
    const input = fs.readFileSync(path.join(FIXTURES, name), "utf8");
    const out = parse(insertHtmlDisclosure(input, html, options, dom));
    const blocks = out.querySelectorAll(`[data-leakwatch-info="${INFO}"]`);
    assert.equal(blocks.length, 1, name);
    const block = blocks[0];
    assert.equal(block.parentElement.closest('blockquote, .gmail_quote, .moz-forward-container, .moz-cite-prefix, #divRplyFwdMsg'), null, `${name}: inside the quote`);
    if (expected.placement === "before-quote") {
      const next = block.nextElementSibling;
      assert.ok(next?.matches(expected.next), `${name}: before ${next?.outerHTML.slice(0, 80)}, not ${expected.next}`);
      const before = textBefore(out, block);
      assert.ok(before.endsWith(expected.after_text), `${name}: text before the block ends ${JSON.stringify(before.slice(-80))}`);
    } else {
      // Without a quote (or written below it) the add-on appends to the body: in the DOM the
      // end of the body is always rendered, where the core must find a safe byte offset
      // (and keeps text after </html> after its block).
      assert.equal(block, out.body.lastElementChild, name);
    }
    assert.equal(out.querySelectorAll(`img[src="${PIXEL}"]`).length, 1, name);
  }
  c.free();
});

test("the notice says whether the mail is tracked; a text mail never mentions an image", async () => {
  const c = await checker();
  const tracked = parse(c.disclosure(disclosureOptions(TRACKED, "en")).html);
  assert.match(tracked.body.textContent, /Privacy notice: this e-mail is tracked\. It contains a small image from Boekhoudpartners/);
  const untracked = parse(c.disclosure(disclosureOptions(UNTRACKED, "nl")).html);
  assert.match(untracked.body.textContent, /Privacymelding: deze e-mail wordt niet gevolgd\./);
  const text = c.discloseText("Hoi\n", disclosureOptions(TRACKED, "nl"));
  assert.match(text, /deze e-mail wordt niet gevolgd/);
  assert.doesNotMatch(text, /plaatje|image/);
  c.free();
});
