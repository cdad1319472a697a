import { test } from "node:test";
import assert from "node:assert/strict";
import { disclosedBody, disclosureOptions, insertHtmlDisclosure } from "../lib/disclose.mjs";
import { core, dom, parse } from "../testing.mjs";

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
  assert.deepEqual(srcs, ["https://lw.example.nl/logo.png", "https://other.example/p/x", PIXEL]);
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
