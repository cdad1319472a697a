// Issue 18, "Show": every page a recipient or a sender gets and every mail leakwatch sends,
// rendered in headless Chromium in Dutch and in English, at desktop width and at 390 px,
// with the rendered text checked for the issue's defects (no raw code, no English line on a
// Dutch page or in a Dutch mail and vice versa, formal Dutch, times in the tenant's zone
// with the offset) and screenshots in target/artifacts/screens/.
//
// One server (target/debug/leakwatch) with the real SMTP sink (tests/support/smtp_sink.py)
// as its relay, one browser. The mails are the ones the sink received: alert mails (incident
// created, opened, possibly forwarded), the test alert, the objection confirmation mail; and
// mails with the recipient notice as the add-ins put it in (the core's block in the HTML
// body), delivered through the sink too. The pages: the transparency page, the objection
// form's answer, the confirmation page and its answer, the notification draft's printable
// page.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ApiClient } from "../../addin/common/api.mjs";
import { loadCore } from "../../addin/common/core.mjs";
import { startLeakwatch } from "../../addin/common/test-support/leakwatch-server.mjs";
import { startSmtpSink } from "../../addin/common/test-support/smtp-sink.mjs";
import { checkPageText, guessLang, sidewaysOverflow, textProblems } from "../../addin/common/test-support/visible-text.mjs";
import { launchBrowser } from "../../addin/outlook/test/support/browser.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const artifacts = path.join(root, "target/artifacts/screens");
const TENANT = "boekhoudpartners";
const ORG = "Boekhoudpartners Amsterdam B.V.";
const ADMIN = { tenant: TENANT, email: "beheer@boekhoudpartners.nl", password: "admin horse battery" };
const SENDERS = {
  nl: { email: "anna.devries@boekhoudpartners.nl", password: "anna horse battery", role: "sender" },
  en: { email: "ben.smit@boekhoudpartners.nl", password: "ben horse battery", role: "sender" },
};
const SUBJECT = { nl: "Jaarrekening 2025", en: "Annual accounts 2025" };
const ZONE = "Europe/Amsterdam";
const THUNDERBIRD = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0";
const OUTLOOK = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)";
const SIZES = { desktop: { width: 1280, height: 900 }, 390: { width: 390, height: 844 } };
/** User content shown as it is. */
const CONTENT = [ORG, TENANT, ...Object.values(SUBJECT), "leakwatch", "Jan Jansen", "Anna de Vries", "Ben Smit"];
/** A time as the alert mails write it: in the tenant's zone, with the zone and its offset. */
const MAIL_TIME = {
  nl: /\d{1,2} (januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december) \d{4} om \d{2}:\d{2} \(Europe\/Amsterdam, UTC[+-]\d{1,2}(:\d{2})?\)/,
  en: /\d{1,2} (January|February|March|April|May|June|July|August|September|October|November|December) \d{4}, \d{2}:\d{2} \(Europe\/Amsterdam, UTC[+-]\d{1,2}(:\d{2})?\)/,
};

let sink;
let leakwatch;
let browser;
let admin;
const flows = {};
const shots = [];

before(async () => {
  fs.rmSync(artifacts, { recursive: true, force: true });
  fs.mkdirSync(artifacts, { recursive: true });
  sink = await startSmtpSink();
  leakwatch = await startLeakwatch({
    ...ADMIN,
    domain: "boekhoudpartners.nl",
    users: Object.values(SENDERS),
    config: `[mail]\nsmarthost = "${sink.url}"\nfrom = "leakwatch@boekhoudpartners.nl"\n\n[pixel]\nself_view_seconds = 0\n`,
  });
  admin = new ApiClient({ baseUrl: leakwatch.baseUrl });
  await admin.login(ADMIN.tenant, ADMIN.email, ADMIN.password);
  const policy = await admin.policy();
  await admin.request("PUT", "/api/v1/tenant/policy", { body: { ...policy, disclosure: { organization: ORG, dpo_contact: "fg@boekhoudpartners.nl" }, tracking: { scope: "all_external" } } });
  for (const [lang, sender] of Object.entries(SENDERS)) flows[lang] = await misdirected(lang, sender);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await leakwatch?.stop();
  await sink?.stop();
  if (shots.length) console.log(`${shots.length} screenshots in ${path.relative(root, artifacts)}/`);
});

/** A sender's misdirected message: registered, reported, opened by two mail clients. */
async function misdirected(lang, sender) {
  const api = new ApiClient({ baseUrl: leakwatch.baseUrl });
  await api.login(TENANT, sender.email, sender.password);
  const wrong = `jan.jansen.${lang}@klantbedrjif.nl`;
  const registration = await api.register({
    to: [`Jan Jansen <${wrong}>`], cc: [], bcc: [], subject: SUBJECT[lang], findings: [], overridden: true,
    sensitive: [{ kind: "bsn", count: 2 }], has_attachments: true, lang, track: true,
  });
  assert.ok(registration.track, "tracked");
  const { id: incident } = await api.reportIncident(registration.id, [wrong]);
  for (const agent of [THUNDERBIRD, OUTLOOK]) {
    const answer = await fetch(registration.pixel_url, { headers: { "User-Agent": agent } });
    assert.equal(answer.status, 200);
    await answer.arrayBuffer();
  }
  return { api, sender, registration, incident, wrong };
}

/** A page for one size, with pixels never fetched (a mail program that blocks images). */
async function newPage(size, extra = {}) {
  const context = await browser.newContext({ viewport: SIZES[size], ...extra });
  await context.route(/\/p\/[^/]+$/, (route) => route.abort());
  const page = await context.newPage();
  return { context, page };
}

async function shoot(page, name) {
  const file = path.join(artifacts, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  shots.push(file);
}

/**
 * Renders `load(page)` at both sizes: text checked, nothing sideways at 390 px, screenshots
 * `${name}-${size}.png`. `more(page, texts)` asserts more on the desktop render.
 */
async function screens(name, lang, load, { allow = [], more, context } = {}) {
  for (const size of Object.keys(SIZES)) {
    const { context: ctx, page } = await newPage(size, context);
    try {
      await load(page, size);
      const texts = await checkPageText(page, lang, { allow: [...CONTENT, ...allow], name: `${name} ${size}` });
      if (size === "390") assert.ok((await sidewaysOverflow(page)) <= 1, `${name} scrolls sideways at 390 px`);
      await shoot(page, `${name}-${size}`);
      if (size === "desktop" && more) await more(page, texts);
    } finally {
      await ctx.close();
    }
  }
}

/** A page's HTML that still finds its style sheets when set as content elsewhere. */
const withBase = (html, url) => html.replace(/<head([^>]*)>/i, `<head$1><base href="${url}">`);

const escape = (s) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

/**
 * A received mail as a mail program shows it: the HTML part as the page, or the text part
 * (these mails have none other) line by line; the subject as the heading. `langs` marks
 * the paragraphs' languages (a bilingual mail), else the whole mail is in `lang`.
 */
function mailPage(mail, lang, { paragraphs = false } = {}) {
  if (mail.html) return mail.html;
  const blocks = paragraphs ? mail.text.split(/\r?\n\s*\r?\n/) : [mail.text];
  const body = blocks
    .filter((b) => b.trim())
    .map((block) => `<div class="p"${paragraphs ? ` lang="${guessLang(block)}"` : ""}>${block.split(/\r?\n/).map((line) => `<div class="line">${escape(line) || "&nbsp;"}</div>`).join("")}</div>`)
    .join("");
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(mail.subject)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;margin:16px;max-width:46rem;color:#1c1c1c}h1{font-size:18px;margin:0 0 4px}.meta{color:#666;font-size:13px;margin:0 0 16px;overflow-wrap:anywhere}.p{margin:0 0 14px}.line{overflow-wrap:anywhere}</style></head>
<body><h1 id="subject">${escape(mail.subject)}</h1><p class="meta">${escape(mail.from)} → ${escape(mail.to)}</p>${body}</body></html>`;
}

const alertMail = (lang, kind) => {
  const to = flows[lang].sender.email;
  const title = {
    incident_summary: { nl: "Incident aangemaakt", en: "Incident created" },
    client_open: { nl: "Geopend:", en: "Opened:" },
    possible_forwarding: { nl: "Mogelijk doorgestuurd", en: "Possibly forwarded" },
  }[kind][lang];
  return sink.waitFor((m) => m.to.includes(to) && m.subject.startsWith(`[leakwatch] ${title}`), `${kind} mail to ${to}`);
};

for (const lang of ["nl", "en"]) {
  const other = lang === "nl" ? "en" : "nl";

  test(`alert mails in ${lang}: incident created, opened, possibly forwarded; formal, one language, times in the tenant's zone with the offset`, async () => {
    for (const kind of ["incident_summary", "client_open", "possible_forwarding"]) {
      const mail = await alertMail(lang, kind);
      assert.equal(mail.html, null, "alert mails are plain text");
      const text = `${mail.subject}\n${mail.text}`;
      if (kind === "incident_summary") {
        assert.ok(!/geopend/i.test(mail.subject.split(":")[0]), `"aangemaakt", not "geopend": ${mail.subject}`);
        assert.ok(!/\bopened\b/i.test(mail.subject.split(":")[0]), `"created", not "opened": ${mail.subject}`);
      }
      if (kind !== "possible_forwarding") assert.match(mail.text, MAIL_TIME[lang], `a time in ${ZONE} with its offset: ${mail.text}`);
      assert.doesNotMatch(text, MAIL_TIME[other], "no time written the other language's way");
      await screens(`alert-${kind.replaceAll("_", "-")}-${lang}`, lang, (page) => page.setContent(mailPage(mail, lang)), { allow: [flows[lang].wrong, flows[lang].incident] });
    }
  });

  test(`the objection in ${lang}: the form's answer, the confirmation mail (a keyed hash, not "encrypted"), the confirmation page and its answer`, async () => {
    const address = `els.visser.${lang}@bouwbedrijf-noord.nl`;
    // A message to the objector, so that the form mails the link.
    const api = flows[lang].api;
    const toObjector = await api.register({ to: [address], cc: [], bcc: [], subject: SUBJECT[lang], findings: [], overridden: false, sensitive: [], has_attachments: false, lang, track: true });
    // The notice's link: the page in the message's language.
    const info = toObjector.info_url;
    assert.equal(new URL(info).searchParams.get("lang"), lang);
    // The transparency page with the form, then the answer to the form (one post per size
    // would hit the per-address limit: the answer page is shot at both sizes from one post).
    await screens(`transparency-${lang}`, lang, (page) => page.goto(info), {
      more: async (page) => {
        assert.equal(await page.evaluate(() => document.documentElement.lang), lang);
        await page.locator("#address").fill(address);
        await Promise.all([page.waitForNavigation(), page.locator("#object button[type=submit]").click()]);
        const answer = withBase(await page.content(), page.url());
        assert.equal(await page.evaluate(() => document.documentElement.lang), lang, "the answer keeps the language");
        flows[lang].objectionAnswer = answer;
        flows[lang].objectionAnswerUrl = page.url();
      },
    });
    await screens(`objection-answer-${lang}`, lang, (page) => page.setContent(flows[lang].objectionAnswer), {
      allow: [address],
      more: async (page) => {
        const text = await page.locator("body").innerText();
        assert.ok(text.includes(address), "the answer names the address the link went to");
      },
    });
    const mail = await sink.waitFor((m) => m.to.includes(address), `the confirmation mail to ${address}`);
    assert.doesNotMatch(`${mail.subject}\n${mail.text}`, /encrypt|versleutel|gecodeerd|cipher/i, "a keyed hash is not encryption");
    assert.match(mail.text, lang === "nl" ? /geheime sleutel/ : /secret key/, "what is kept: a code from a secret key");
    const link = mail.text.match(/https?:\/\/\S+\/i\/confirm\/\S+/)?.[0];
    assert.ok(link, `a confirmation link: ${mail.text}`);
    assert.equal(new URL(link).searchParams.get("lang"), lang, "the link keeps the language");
    await screens(`objection-mail-${lang}`, lang, (page) => page.setContent(mailPage(mail, lang)), { allow: [address, link] });
    // The link shows a button (a GET never confirms); the button confirms.
    await screens(`objection-confirm-${lang}`, lang, (page) => page.goto(link), {
      more: async (page) => {
        await Promise.all([page.waitForNavigation(), page.locator("form button[type=submit]").click()]);
        flows[lang].confirmed = withBase(await page.content(), page.url());
      },
    });
    await screens(`objection-confirmed-${lang}`, lang, (page) => page.setContent(flows[lang].confirmed));
    const again = await api.register({ to: [address], cc: [], bcc: [], subject: SUBJECT[lang], findings: [], overridden: false, sensitive: [], has_attachments: false, lang, track: true });
    assert.equal(again.track, false, "the objection took effect");
  });

  test(`the notification draft's printable page in ${lang}: seconds, labels apart from values, forwarding, the count of wrong recipients in a labelled row`, async () => {
    const { incident } = flows[lang];
    // The evidence must be in before the draft is read.
    for (let i = 0; i < 100; i++) {
      const view = await admin.incident(incident);
      if (view.evidence.possible_forwarding) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const url = `${leakwatch.baseUrl}/api/v1/incidents/${incident}/notification.html?lang=${lang}`;
    await screens(`notification-${lang}`, lang, (page) => page.goto(url), {
      context: { extraHTTPHeaders: { Authorization: `Bearer ${admin.token}` } },
      allow: [incident, "fg@boekhoudpartners.nl", "Autoriteit Persoonsgegevens", "Apple Mail Privacy Protection"],
      more: async (page) => {
        assert.equal(await page.evaluate(() => document.documentElement.lang), lang);
        const rows = await page.locator("tr").evaluateAll((trs) => trs.map((tr) => ({ th: [...tr.querySelectorAll("th")].map((c) => c.innerText.trim()), td: [...tr.querySelectorAll("td")].map((c) => c.innerText.trim()) })));
        for (const row of rows) {
          assert.equal(row.th.length, 1, `one label per row: ${JSON.stringify(row)}`);
          assert.equal(row.td.length, 1, `one value per row: ${JSON.stringify(row)}`);
          assert.ok(row.th[0] && !row.th[0].includes(row.td[0] || "\u0000"), `the label apart from its value: ${JSON.stringify(row)}`);
        }
        const value = (label) => rows.find((r) => r.th[0] === label)?.td[0];
        const sent = value(lang === "nl" ? "Verzonden" : "Sent");
        assert.match(sent ?? "", /\d{1,2}:\d{2}:\d{2}/, `the timeline to the second: ${sent}`);
        assert.equal(value(lang === "nl" ? "Aantal verkeerde ontvangers" : "Number of wrong recipients"), "1", "the count of wrong recipients in its own row");
        assert.match(value(lang === "nl" ? "Mogelijk doorgestuurd" : "Possibly forwarded") ?? "", lang === "nl" ? /^Ja/ : /^Yes/, "possible forwarding said");
      },
    });
  });

  test(`mails with the recipient notice in ${lang}: the core's block in the HTML body, its link with lang=${lang}, the notice in the mail's language`, async () => {
    const core = await loadCore(pathToFileURL(path.join(root, "dist/wasm/web/")), { wasm: fs.readFileSync(path.join(root, "dist/wasm/web/leakwatch_wasm_bg.wasm")) });
    const checker = new core.Checker({ policy: { disclosure: { organization: ORG, dpo_contact: "fg@boekhoudpartners.nl" } } });
    const { api, sender } = flows[lang];
    for (const tracked of [true, false]) {
      const to = `piet.bakker.${lang}.${tracked ? "t" : "u"}@klantbedrijf.nl`;
      const registration = await api.register({ to: [to], cc: [], bcc: [], subject: SUBJECT[lang], findings: [], overridden: false, sensitive: [], has_attachments: false, lang, track: tracked });
      assert.equal(registration.track, tracked);
      const options = { info_url: registration.info_url, lang, ...(registration.track ? { pixel_url: registration.pixel_url } : {}) };
      const { html: block } = checker.disclosure(options);
      const greeting = lang === "nl" ? "<p>Beste Piet,</p><p>Hierbij de stukken.</p><p>Met vriendelijke groet,<br>Anna de Vries</p>" : "<p>Dear Piet,</p><p>Please find the papers attached.</p><p>Kind regards,<br>Ben Smit</p>";
      const html = `<!DOCTYPE html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"></head><body>${greeting}${block}</body></html>`;
      const text = checker.discloseText(lang === "nl" ? "Beste Piet,\n\nHierbij de stukken.\n" : "Dear Piet,\n\nPlease find the papers attached.\n", options);
      const b64 = (s) => Buffer.from(s, "utf8").toString("base64").replace(/.{76}/g, "$&\r\n");
      const eml = [
        `From: ${sender.email}`, `To: ${to}`, `Subject: =?utf-8?B?${Buffer.from(SUBJECT[lang]).toString("base64")}?=`, "MIME-Version: 1.0",
        'Content-Type: multipart/alternative; boundary="lw-b"', "", "--lw-b", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64", "", b64(text),
        "--lw-b", "Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: base64", "", b64(html), "--lw-b--", "",
      ].join("\r\n");
      sink.send(eml, { from: sender.email, to });
      const mail = await sink.waitFor((m) => m.to.includes(to), `the mail to ${to}`);
      assert.ok(mail.html, "an HTML part");
      await screens(`notice-${tracked ? "tracked" : "untracked"}-${lang}`, lang, (page) => page.setContent(mail.html), {
        more: async (page, texts) => {
          const links = await page.locator("a[href]").evaluateAll((as) => as.map((a) => ({ href: a.href, text: a.innerText })));
          const info = links.find((l) => l.href.startsWith(registration.info_url));
          assert.ok(info, `the notice links the transparency page: ${JSON.stringify(links)}`);
          assert.equal(new URL(info.href).searchParams.get("lang"), lang, "the link carries the mail's language");
          const notice = texts.filter((x) => !/Piet|stukken|papers|groet|regards|Vries|Smit/.test(x.text));
          assert.ok(notice.length, "the notice shows text");
          for (const piece of notice) assert.equal(guessLang(piece.text, lang), lang, `the notice in ${lang}: ${piece.text}`);
          const pixel = await page.locator("img").evaluateAll((imgs) => imgs.map((i) => i.getAttribute("src")));
          assert.equal(pixel.some((src) => src?.includes("/p/")), tracked, "the pixel only in a tracked mail");
        },
      });
      // The plain-text part: the same notice, the same language.
      assert.ok(mail.text.includes(registration.info_url), "the text part links the page too");
      assert.deepEqual(textProblems([{ text: mail.text, lang, where: "text part" }], lang, { allow: CONTENT }), []);
    }
  });
}

test("the test alert (POST /api/v1/tenant/alerts/test) arrives in both languages, each part in one language", async () => {
  const answer = await admin.request("POST", "/api/v1/tenant/alerts/test");
  const mail = answer.results.find((r) => r.channel === "mail");
  assert.ok(mail?.delivered, `the test mail went: ${JSON.stringify(answer)}`);
  const received = await sink.waitFor((m) => m.to.includes(ADMIN.email), "the test alert");
  const paragraphs = received.text.split(/\r?\n\s*\r?\n/).filter((p) => p.trim());
  const langs = paragraphs.map((p) => guessLang(p));
  assert.deepEqual([...new Set(langs)].sort(), ["en", "nl"], `one part in Dutch, one in English: ${received.text}`);
  for (const [i, p] of paragraphs.entries()) assert.deepEqual(textProblems([{ text: p, lang: langs[i], where: `paragraph ${i + 1}` }], langs[i], { allow: CONTENT }), []);
  // One bilingual mail: shot once per size, each paragraph marked with its language.
  await screens("test-alert", "nl", (page) => page.setContent(mailPage(received, "nl", { paragraphs: true })), {
    allow: ["[leakwatch] Testmelding / Test alert"],
    more: async (_page, texts) => {
      assert.ok(texts.some((x) => x.lang === "nl") && texts.some((x) => x.lang === "en"), "both languages shown");
    },
  });
});
