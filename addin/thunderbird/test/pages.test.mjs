// Every page of the add-on (the sent-messages view, the options page, the toolbar popup, the
// warning window) rendered in headless Chromium in Dutch and in English, with the
// WebExtension API replaced by a host double (test/support/thunderbird-host.js, added
// before the page's own scripts; never in the package) and the view talking to the real
// leakwatch server. Issue 18: the test fails when any visible text is a raw code (a
// snake_case identifier such as `to_notify`, an i18n key) or holds English on a Dutch page
// or Dutch on an English one; the view must show the evidence in words (fetches per class,
// first and last fetch in the tenant's time zone, possible forwarding). Screenshots at
// desktop width and at 390 px: target/artifacts/thunderbird/.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ApiClient } from "../../common/api.mjs";
import { startLeakwatch } from "../../common/test-support/leakwatch-server.mjs";
import { checkPageText, sidewaysOverflow } from "../../common/test-support/visible-text.mjs";
import { launchBrowser } from "../../outlook/test/support/browser.mjs";
import { STRINGS } from "../lib/i18n.mjs";
import { indexAddressBooks } from "../lib/recipients.mjs";
import { messageFromDetails } from "../lib/compose.mjs";
import { sentFromHeader } from "../lib/history.mjs";
import { ANNA, POLICY, addressBooks, core, dom, root, sentHeaders } from "../testing.mjs";

const here = path.join(root, "addin/thunderbird");
const artifacts = path.join(root, "target/artifacts/thunderbird");
const hostDouble = fs.readFileSync(path.join(import.meta.dirname, "support/thunderbird-host.js"), "utf8");
const TENANT = "boekhoudpartners";
const ADMIN = { tenant: TENANT, email: "beheer@boekhoudpartners.nl", password: "admin horse battery" };
/** One sender per language: the alerts come in the language the messages were sent in. */
const SENDERS = {
  nl: { email: ANNA, password: "anna horse battery", role: "sender" },
  en: { email: "ben.smit@boekhoudpartners.nl", password: "ben horse battery", role: "sender" },
};
const ZONE = "Europe/Amsterdam";
const THUNDERBIRD = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0";
const OUTLOOK = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)";
const GMAIL = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)";
/** User content the pages show as it is: subjects, addresses' names, the organisation. */
const CONTENT = ["Jaarrekening 2025", "Loonstroken januari", "Offerte kantoorpand", TENANT, "leakwatch"];
const KEYS = Object.keys(STRINGS.en);
const SIZES = { desktop: { width: 1280, height: 900 }, 390: { width: 390, height: 844 } };
/** The pages' own files, as the package has them (the source tree has its layout). */
const ADDON = "/__addon";

let leakwatch;
let browser;
const fixtures = {};

before(async () => {
  fs.mkdirSync(artifacts, { recursive: true });
  leakwatch = await startLeakwatch({
    ...ADMIN,
    domain: "boekhoudpartners.nl",
    users: Object.values(SENDERS),
    // Every fetch counts (no self-view window): the test's "recipients" share its network.
    config: "[pixel]\nself_view_seconds = 0\n",
  });
  for (const [lang, sender] of Object.entries(SENDERS)) fixtures[lang] = await seed(lang, sender);
  const { Checker } = await core();
  // The warning window's content, from the real core in each language.
  const checker = new Checker({ policy: POLICY, history: sentHeaders().map(sentFromHeader) });
  const index = indexAddressBooks(addressBooks());
  const details = {
    from: ANNA,
    to: ["Jan Jansen <jan.jansen@klantbedrjif.nl>"],
    cc: [],
    bcc: [],
    subject: "Jaarrekening 2025",
    isPlainText: true,
    plainTextBody: "Beste Jan, hierbij de jaarrekening. BSN 111222333.",
  };
  const message = messageFromDetails(details, { index, identityEmail: ANNA, attachments: [{ name: "Jaarrekening_2025.pdf", size: 1000 }], DOMParser: dom.DOMParser });
  for (const lang of ["nl", "en"]) {
    const verdict = checker.check(message, lang);
    assert.ok(verdict.findings.some((f) => f.severity !== "info"), "the slip gives a warning");
    fixtures[lang].warning = { verdict, message, lang };
  }
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await leakwatch?.stop();
});

/** A sender's messages, an incident with evidence from three kinds of fetch, and the alerts.
 * The messages are sent in the other language than the add-on's, so the alerts' own title
 * and body (the sender's language) differ from what the view must show. */
async function seed(lang, sender) {
  const api = new ApiClient({ baseUrl: leakwatch.baseUrl });
  const { token } = await api.login(TENANT, sender.email, sender.password);
  const sentIn = lang === "nl" ? "en" : "nl";
  const register = (subject, to, extra = {}) =>
    api.register({ to, cc: [], bcc: [], subject, findings: [], overridden: false, sensitive: [], has_attachments: true, lang: sentIn, track: true, ...extra });
  const wrong = await register("Jaarrekening 2025", ["jan.jansen@klantbedrjif.nl"], { overridden: true });
  await register("Loonstroken januari", ["piet.bakker@klantbedrijf.nl"]);
  await register("Offerte kantoorpand", ["els.visser@bouwbedrijf-noord.nl"], { track: false });
  await api.reportIncident(wrong.id, ["jan.jansen@klantbedrjif.nl"]);
  // Two mail clients (so: possibly forwarded, with one wrong recipient) and Gmail's proxy.
  for (const agent of [THUNDERBIRD, OUTLOOK, THUNDERBIRD, GMAIL]) {
    const answer = await fetch(wrong.pixel_url, { headers: { "User-Agent": agent } });
    assert.equal(answer.status, 200);
    await answer.arrayBuffer();
  }
  let incident;
  for (let i = 0; i < 100; i++) {
    incident = (await api.incidents()).incidents[0];
    if (incident.evidence.hits_total >= 4 && incident.evidence.possible_forwarding) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(incident.evidence.hits_total, 4, "every fetch is in the evidence");
  let alerts = [];
  for (let i = 0; i < 100 && !alerts.some((a) => a.kind === "possible_forwarding"); i++) {
    alerts = (await api.alerts()).alerts;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const now = Date.now();
  return {
    token,
    incident,
    storage: {
      settings: { serverUrl: leakwatch.baseUrl, tenant: TENANT, email: sender.email, lang },
      auth: { token, expiresAt: now + 3_600_000 },
      recentAlerts: [...alerts].reverse(),
      sendLog: [
        { at: new Date(now - 60_000).toISOString(), subject: "Jaarrekening 2025", outcome: "tracked" },
        { at: new Date(now - 120_000).toISOString(), subject: "Offerte kantoorpand", outcome: "disclosed" },
        { at: new Date(now - 180_000).toISOString(), subject: "Loonstroken januari", outcome: "untracked", reason: "timeout" },
        { at: new Date(now - 240_000).toISOString(), subject: "Jaarrekening 2025", outcome: "cancelled" },
        { at: new Date(now - 300_000).toISOString(), subject: "Loonstroken januari", outcome: "untracked", reason: "some_future_reason" },
      ],
    },
    status: {
      settings: { serverUrl: leakwatch.baseUrl, tenant: TENANT, email: sender.email, lang },
      signedIn: true,
      expiresAt: now + 3_600_000,
      historySize: 7,
      lastSend: { at: new Date(now - 60_000).toISOString(), subject: "Jaarrekening 2025", outcome: "untracked", reason: "timeout" },
      alertsLive: true,
    },
  };
}

/** A page of the add-on in a fresh context, with the host double in place of `browser`. */
async function open(pagePath, lang, { answers = {}, storage = {}, size = "desktop" } = {}) {
  const context = await browser.newContext({ viewport: SIZES[size], locale: lang === "nl" ? "nl-NL" : "en-GB", timezoneId: "America/New_York" });
  // The add-on's files, served at the server's own origin (as Thunderbird's host permission
  // lets the add-on reach the server without CORS).
  await context.route(`${leakwatch.baseUrl}${ADDON}/**`, (route) => {
    const rel = decodeURIComponent(new URL(route.request().url()).pathname.slice(ADDON.length + 1));
    const file = path.join(here, path.normalize(rel));
    if (!file.startsWith(here) || !fs.existsSync(file)) return route.fulfill({ status: 404, body: "" });
    const type = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml" }[path.extname(file)] ?? "application/octet-stream";
    return route.fulfill({ contentType: `${type}; charset=utf-8`, body: fs.readFileSync(file) });
  });
  const options = { uiLanguage: lang === "nl" ? "nl-NL" : "en-US", storage, answers, manifest: { host_permissions: [`${new URL(leakwatch.baseUrl).origin}/*`] } };
  await context.addInitScript(`${hostDouble}\nwindow.__host = createThunderbirdHost(${JSON.stringify(options)});\nwindow.browser = window.messenger = window.__host.browser;\nwindow.close = () => {};`);
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (err) => errors.push(err.message));
  await page.goto(`${leakwatch.baseUrl}${ADDON}/${pagePath}`);
  return { page, context, errors };
}

async function shoot(page, name) {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

/** Renders at both sizes: the text checked at each, no sideways scrolling at 390 px. */
async function eachSize(pagePath, lang, name, options, ready, more = async () => {}) {
  for (const size of Object.keys(SIZES)) {
    const { page, context, errors } = await open(pagePath, lang, { ...options, size });
    try {
      await ready(page);
      const texts = await checkPageText(page, lang, { allow: [...CONTENT, ...(options.allow ?? [])], keys: KEYS, name: `${name} ${size}` });
      await more(page, texts, size);
      if (size === "390") assert.ok((await sidewaysOverflow(page)) <= 1, `${name} at 390 px scrolls sideways`);
      await shoot(page, `${name}-${lang}-${size}`);
      assert.deepEqual(errors, [], `${name}: no script error`);
    } finally {
      await context.close();
    }
  }
}

const inZone = (ms, lang) =>
  new Date(ms).toLocaleString(lang === "nl" ? "nl-NL" : "en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: ZONE });

for (const lang of ["nl", "en"]) {
  test(`the view in ${lang}: statuses and evidence in words, times in the tenant's zone, no code`, async () => {
    const f = fixtures[lang];
    await eachSize("view/view.html", lang, "view", { storage: f.storage }, async (page) => {
      await page.locator("#incidents .incident").first().waitFor();
      await page.locator("#messages tr.message").first().waitFor();
      // Open the evidence detail as the sender would, and a report form.
      await page.locator("#incidents details summary").first().click();
      await page.locator("#messages tr.message button").first().click();
      await page.locator("form.report").waitFor();
    }, async (page, texts) => {
      const all = texts.map((x) => x.text).join("\n");
      const t = STRINGS[lang];
      const { incident } = f;
      assert.ok(all.includes(t.incident_open), `the incident's status in words: ${t.incident_open}`);
      assert.ok(all.includes(t.evidence_opened_in_mail_client), "the evidence's status in words");
      const detail = await page.locator("#incidents details").first().innerText();
      const direct = incident.evidence.by_class.find((c) => c.class === "direct");
      const proxy = incident.evidence.by_class.find((c) => c.class === "google_proxy");
      assert.ok(direct && proxy, "the evidence has mail-client and proxy fetches");
      for (const c of [direct, proxy]) {
        assert.ok(detail.includes(inZone(c.first_at, lang)), `first fetch in ${ZONE} (not the computer's zone): ${detail}`);
        assert.ok(detail.includes(inZone(c.last_at, lang)), `last fetch in ${ZONE}: ${detail}`);
      }
      assert.ok(detail.includes(lang === "nl" ? "3 keer opgehaald" : "fetched 3 times"), `fetches per class: ${detail}`);
      assert.ok(detail.toLowerCase().includes(t.class_google_proxy.toLowerCase()), "the proxy class in words");
      assert.ok(detail.includes(t.possibleForwarding), "possible forwarding said");
      assert.ok(all.includes(t.timesIn.replace("{zone}", ZONE)), "the zone is named");
      assert.ok(all.includes(lang === "nl" ? "(Aan)" : "(To)"), "the recipient's field in words");
      assert.ok(all.includes(t.incidentReported), "the reported message says so");
      assert.ok(all.includes(t.unknownCode), "an unknown send-log reason reads as 'other', not the code");
      for (const alert of f.storage.recentAlerts) {
        // In the add-on's language, though the message (and so the alert's own text) was not.
        assert.ok(alert.texts, `the server sends both languages of ${alert.kind}`);
        assert.notEqual(alert.title, alert.texts[lang].title);
        assert.ok(all.includes(alert.texts[lang].title) && all.includes(alert.texts[lang].body), `the alert ${alert.kind} is shown in ${lang}: ${alert.texts[lang].title}`);
        assert.ok(!all.includes(alert.title) && !all.includes(alert.body), `the alert ${alert.kind} is not shown in the message's language`);
      }
      const kinds = f.storage.recentAlerts.map((a) => a.kind);
      assert.ok(kinds.includes("possible_forwarding"), `the forwarding alert is among ${kinds}`);
      assert.ok(all.includes(lang === "nl" ? "bij 1 verkeerde ontvanger." : "for 1 wrong recipient."), "one wrong recipient, in the singular");
    });
  });

  test(`the options page in ${lang}: every label and status line in one language`, async () => {
    const f = fixtures[lang];
    const answers = { status: f.status, signIn: { error: { code: "invalid_credentials", status: 401, message: "invalid tenant, e-mail or password" } } };
    await eachSize("options/options.html", lang, "options", { answers, storage: f.storage, allow: [f.status.settings.email] }, async (page) => {
      await page.locator("#status div").first().waitFor();
      await page.locator("#password").fill("wrong");
      await page.locator("#signin-button").click();
      await page.locator("#message.error").waitFor();
    }, async (page) => {
      const message = await page.locator("#message").innerText();
      assert.equal(message, STRINGS[lang].error_login, "a failed sign-in in words, not the server's English message");
      const labels = await page.locator("label").allInnerTexts();
      assert.deepEqual(labels, ["serverLabel", "tenantLabel", "emailLabel", "passwordLabel", "langLabel"].map((k) => STRINGS[lang][k]));
      assert.equal(await page.evaluate(() => document.documentElement.lang), lang);
    });
  });

  test(`the popup in ${lang}`, async () => {
    const f = fixtures[lang];
    await eachSize("action/popup.html", lang, "popup", { answers: { status: f.status }, allow: [f.status.settings.email] }, async (page) => {
      await page.locator("#status div").first().waitFor();
    }, async (page) => {
      assert.equal(await page.locator("#view").innerText(), STRINGS[lang].openView);
    });
  });

  test(`the warning window in ${lang}: the core's findings and the buttons in one language`, async () => {
    const f = fixtures[lang];
    await eachSize("warning/warning.html?id=w1", lang, "warning", { answers: { "warning:get": f.warning }, allow: ["Jan Jansen", "klantbedrjif.nl", "klantbedrijf.nl"] }, async (page) => {
      await page.locator("#findings li").first().waitFor();
    }, async (page) => {
      assert.equal(await page.locator("#send").innerText(), STRINGS[lang].sendAnyway);
      assert.equal(await page.evaluate(() => document.documentElement.lang), lang);
    });
  });
}
