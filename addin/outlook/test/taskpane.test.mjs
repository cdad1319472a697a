// The task pane as the real leakwatch server serves it (dist/outlook, embedded in the binary,
// under /addin/outlook/, with its own headers), on SQLite and on PostgreSQL, with Office.js
// replaced by the host double (a test-only file, routed in by the browser, never served):
// password sign-in, the tracked messages, "I sent this to the wrong person", and the
// client_open alert that arrives live once a mail client on another network fetches the
// pixel of that message. Screenshots: target/artifacts/outlook/.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ApiClient } from "../../common/api.mjs";
import { startLeakwatch } from "../../common/test-support/leakwatch-server.mjs";
import { OFFICE_JS, root } from "../build.mjs";
import { launchChromium } from "./support/browser.mjs";

const USER = { tenant: "boekhoudpartners", email: "anna.deboer@boekhoudpartners.nl", password: "correct horse battery", domain: "boekhoudpartners.nl" };
const MAIL_CLIENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0";
const artifacts = path.join(root, "target/artifacts/outlook");
const hostDouble = fs.readFileSync(path.join(import.meta.dirname, "support/office-host-double.js"), "utf8");

// The server trusts 127.0.0.1 as a proxy, so X-Forwarded-For names the reader's network.
// The pane calls the API on its own origin: no CORS origin is configured.
const CONFIG = `trusted_proxies = ["127.0.0.1/32"]\ncors_origins = []\n`;

let leakwatch;
let site;
let browser;

before(async () => {
  leakwatch = await startLeakwatch({ ...USER, config: CONFIG });
  site = { url: `${leakwatch.baseUrl}/addin/outlook` };
  browser = await launchChromium();
  fs.mkdirSync(artifacts, { recursive: true });
});
after(async () => {
  await browser?.close();
  await leakwatch?.stop();
});

/** A page of the task pane with Office.js answered by the host double. */
async function openPane(options, { entraConfig, at = site } = {}) {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 380, height: 900 });
  if (entraConfig) await page.route(`${at.url}/config.json`, (route) => route.fulfill({ contentType: "application/json", body: JSON.stringify(entraConfig) }));
  await page.route(OFFICE_JS, (route) => route.fulfill({
    contentType: "text/javascript",
    body: `${hostDouble}\nwindow.host = createOfficeHost(${JSON.stringify(options)});\nwindow.Office = window.host.Office;\n`,
  }));
  await page.goto(`${at.url}/taskpane.html`);
  return page;
}

async function signIn(page, server = leakwatch) {
  assert.equal(await page.locator("#server input").inputValue(), server.baseUrl, "the pane knows the server that served it");
  await page.locator("#tenant input").fill(USER.tenant);
  await page.locator("#email input").fill(USER.email);
  await page.locator("#password input").fill(USER.password);
  await page.locator("#signin-button").click();
  await page.locator("#account-section").waitFor({ state: "visible" });
}

for (const backend of ["sqlite", "postgres"]) test(`served by leakwatch on ${backend}: sign in, see the tracked message, report an incident, an alert arrives after the pixel is fetched`, async () => {
  const server = backend === "sqlite" ? leakwatch : await startLeakwatch({ ...USER, config: CONFIG, postgres: true });
  try {
    await reportAndAlert(server, backend);
  } finally {
    if (server !== leakwatch) await server.stop();
  }
});

async function reportAndAlert(leakwatch, backend) {
  const site = { url: `${leakwatch.baseUrl}/addin/outlook` };
  // A message as the event handler registers it: at risk, so tracked.
  const api = new ApiClient({ baseUrl: leakwatch.baseUrl });
  await api.login(USER.tenant, USER.email, USER.password);
  const registration = await api.register({
    to: ["jan.jansen@klantbedrijf.nI"], cc: [], bcc: [], subject: "Jaarrekening 2025",
    findings: [{ rule: "lookalike-domain", severity: "warn", recipients: ["jan.jansen@klantbedrijf.nI"], message: "looks like klantbedrijf.nl" }],
    // Sent in Dutch, read in an English pane: the alert must read in English.
    overridden: true, sensitive: [], has_attachments: true, lang: "nl",
  });
  assert.equal(registration.track, true);

  const page = await openPane({ draft: { from: USER.email, to: ["jan.jansen@klantbedrijf.nI"], subject: "Jaarrekening 2025" }, displayLanguage: "en-GB" }, { at: site });
  const refused = [];
  page.on("console", (message) => { if (/Content Security Policy/.test(message.text())) refused.push(message.text()); });
  const served = await page.request.get(`${site.url}/taskpane.html`);
  assert.match(served.headers()["content-security-policy"], /frame-ancestors 'self' https:\/\/outlook\.office\.com/);
  await page.locator("#signin-section").waitFor({ state: "visible" });
  await signIn(page, leakwatch);
  assert.equal(await page.locator("#who").textContent(), `Signed in as ${USER.email}`);
  const roaming = await page.evaluate(() => window.host.roaming["leakwatch.session"]);
  assert.equal(roaming.baseUrl, leakwatch.baseUrl, "the sign-in is where the event handler reads it");
  assert.ok(roaming.token);

  const card = page.locator(`fluent-card.message[data-id="${registration.id}"]`);
  await card.waitFor();
  assert.ok((await card.textContent()).includes("Jaarrekening 2025"));
  assert.ok((await card.textContent()).includes("tracked"));
  await page.screenshot({ path: path.join(artifacts, `taskpane-signed-in-${backend}.png`), fullPage: true });

  await card.locator("fluent-button", { hasText: "I sent this to the wrong person" }).click();
  await card.locator("fluent-checkbox.wrong").first().click();
  await card.locator("fluent-button", { hasText: "Report incident" }).click();
  await page.locator("#status", { hasText: "Incident reported." }).waitFor();
  await page.locator("#incidents fluent-card.incident").first().waitFor();
  const incidents = await api.incidents();
  assert.equal(incidents.incidents.length, 1);
  assert.equal(incidents.incidents[0].message_id, registration.id);
  await page.screenshot({ path: path.join(artifacts, `taskpane-incident-${backend}.png`), fullPage: true });
  // An incident is open: a mail client fetching the pixel from another network now raises
  // a client_open alert, which the live stream brings in (docs/incidents.md).
  await page.waitForFunction(() => document.querySelector("#alerts p, #alerts ul"));
  await new Promise((resolve) => setTimeout(resolve, 500));
  const pixel = await fetch(registration.pixel_url, { headers: { "User-Agent": MAIL_CLIENT, "X-Forwarded-For": "198.51.100.23" } });
  assert.equal(pixel.status, 200);
  // The incident's summary may come first; the open is the one the pixel raised.
  await page.locator("#alerts li.alert", { hasText: "Opened: your misdirected message \u201cJaarrekening 2025\u201d" }).waitFor({ timeout: 15_000 });
  const alertsText = await page.locator("#alerts").innerText();
  assert.doesNotMatch(alertsText, /Geopend|mailprogramma|Incident aangemaakt|Stand van zaken/, `not in the message's language: ${alertsText}`);
  await page.screenshot({ path: path.join(artifacts, `taskpane-alert-${backend}.png`), fullPage: true });
  assert.deepEqual(refused, [], "the server's Content-Security-Policy refused nothing the pane does");

  await page.close();
}

test("the findings for the draft, in Dutch, from the same core and policy", async () => {
  const profile = JSON.parse(fs.readFileSync(path.join(root, "crates/core/tests/scenarios/profile-accountant.json"), "utf8"));
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 380, height: 900 });
  await page.addInitScript((history) => {
    localStorage.setItem("leakwatch.history", JSON.stringify({ fromFolders: history, local: [], builtAt: 1, folders: 1, headers: 1, complete: true }));
  }, profile.history);
  await page.route(OFFICE_JS, (route) => route.fulfill({
    contentType: "text/javascript",
    body: `${hostDouble}\nwindow.host = createOfficeHost(${JSON.stringify({
      draft: { from: USER.email, to: ["jan.jansen@klantbedrijf.nI"], subject: "Jaarrekening 2025" },
      displayLanguage: "nl-NL",
      roaming: { "leakwatch.policy": { value: profile.policy, at: Date.now() } },
    })});\nwindow.Office = window.host.Office;\n`,
  }));
  await page.goto(`${site.url}/taskpane.html`);
  const finding = page.locator("#findings fluent-card.finding.warn");
  await finding.waitFor();
  assert.ok((await finding.textContent()).includes("Bedoelt u jan.jansen@klantbedrijf.nl?"));
  assert.equal(await page.locator("#findings-title").textContent(), "Dit bericht");
  assert.equal(await page.locator("#signin-title").textContent(), "Aanmelden");
  assert.equal(await page.evaluate(() => document.documentElement.lang), "nl");
  await page.screenshot({ path: path.join(artifacts, "taskpane-findings-nl.png"), fullPage: true });
  await page.close();
});

test("Microsoft sign-in is offered only where the host has nested app authentication and the server names an Entra app", async () => {
  const entraConfig = { entra: { client_id: "00000000-0000-0000-0000-000000000001", scope: "api://leakwatch.example.nl/00000000-0000-0000-0000-000000000001/access_as_user" } };
  for (const [nestedAppAuth, config, offered] of [[true, entraConfig, true], [false, entraConfig, false], [true, undefined, false]]) {
    const page = await openPane({ draft: { from: USER.email, to: [] }, nestedAppAuth }, { entraConfig: config });
    await page.locator("#signin-section").waitFor({ state: "visible" });
    await page.waitForLoadState("networkidle");
    assert.equal(await page.locator("#naa-button").isVisible(), offered, `NestedAppAuth ${nestedAppAuth}, config ${Boolean(config)}`);
    assert.ok(await page.locator("#signin-button").isVisible(), "the password sign-in is always there");
    if (offered) {
      assert.equal((await page.locator("#naa-button").textContent()).trim(), "Sign in with Microsoft 365");
      await page.screenshot({ path: path.join(artifacts, "taskpane-sign-in.png"), fullPage: true });
    }
    await page.close();
  }
});

test("after Microsoft sign-in the pane reads Sent Items through Graph, and the check knows those contacts", async () => {
  // The Entra side is a test double of naa.js (routed in by the browser, never served): the
  // API token it hands out is a real one of this server, the Graph token is opaque. Graph is
  // answered by the browser's router; the page's own CSP still decides whether it may ask.
  const api = new ApiClient({ baseUrl: leakwatch.baseUrl });
  const { token } = await api.login(USER.tenant, USER.email, USER.password);
  const entraConfig = { entra: { client_id: "00000000-0000-0000-0000-000000000001", scope: "api://leakwatch.example.nl/00000000-0000-0000-0000-000000000001/access_as_user", authority: "https://login.microsoftonline.com/common", graph_scopes: ["Mail.ReadBasic"] } };
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 380, height: 900 });
  // A mailbox whose pane has read nothing yet (other tests left a history in this origin).
  await page.addInitScript(() => localStorage.removeItem("leakwatch.history"));
  const refused = [];
  page.on("console", (message) => { if (/Content Security Policy/.test(message.text())) refused.push(message.text()); });
  await page.route(`${site.url}/config.json`, (route) => route.fulfill({ contentType: "application/json", body: JSON.stringify(entraConfig) }));
  await page.route(`${site.url}/naa.js`, (route) => route.fulfill({
    contentType: "text/javascript",
    body: `export async function signInWithMicrosoft() { return { token: ${JSON.stringify(token)}, expires_at: Date.now() + 3600000, email: ${JSON.stringify(USER.email)} }; }
export async function graphToken(entra, options) { (window.graphTokenCalls ||= []).push({ scopes: entra.graphScopes, interactive: options.interactive }); return "graph-token"; }`,
  }));
  const graphRequests = [];
  await page.route("https://graph.microsoft.com/**", (route) => {
    graphRequests.push({ url: route.request().url(), authorization: route.request().headers().authorization });
    const value = Array.from({ length: 12 }, (_, i) => ({
      toRecipients: [{ emailAddress: { name: "Jan Jansen", address: "jan.jansen@klantbedrijf.nl" } }],
      ccRecipients: [], bccRecipients: [], subject: `Jaarrekening ${2014 + i}`,
      internetMessageId: `<j${i}@boekhoudpartners.nl>`, sentDateTime: new Date(Date.UTC(2026, 9, 1 + i)).toISOString(),
    }));
    route.fulfill({ contentType: "application/json", body: JSON.stringify({ value }) });
  });
  await page.route(OFFICE_JS, (route) => route.fulfill({
    contentType: "text/javascript",
    body: `${hostDouble}\nwindow.host = createOfficeHost(${JSON.stringify({ draft: { from: USER.email, to: ["jan.jansen@klantbedrijf.nI"], subject: "Jaarrekening 2025" }, displayLanguage: "nl-NL", nestedAppAuth: true })});\nwindow.Office = window.host.Office;\n`,
  }));
  await page.goto(`${site.url}/taskpane.html`);
  await page.locator("#naa-button").waitFor({ state: "visible" });
  assert.equal((await page.locator("#history-state").textContent()).trim(), "0 verzonden berichten die deze invoegtoepassing zag verzenden.");
  assert.ok(await page.locator("#history-hint").isVisible(), "the pane says what Microsoft sign-in adds");
  assert.equal(await page.locator("#findings fluent-card.finding.warn").count(), 0, "no known contact yet: nothing looks like one");

  await page.locator("#naa-button").click();
  await page.locator("#status", { hasText: "12 berichten gelezen uit Verzonden items." }).waitFor();
  assert.equal(graphRequests.length, 1);
  assert.equal(graphRequests[0].authorization, "Bearer graph-token");
  assert.match(graphRequests[0].url, /^https:\/\/graph\.microsoft\.com\/v1\.0\/me\/mailFolders\('sentitems'\)\/messages\?/);
  assert.deepEqual(await page.evaluate(() => window.graphTokenCalls), [{ scopes: ["Mail.ReadBasic"], interactive: true }]);
  assert.match(await page.locator("#history-state").textContent(), /^12 verzonden berichten; Verzonden items gelezen op /);
  assert.ok(await page.locator("#sent-items-button").isVisible(), "read again on request");
  // The lookalike of a contact from Sent Items is now caught.
  const finding = page.locator("#findings fluent-card.finding.warn");
  await finding.waitFor();
  assert.ok((await finding.textContent()).includes("Bedoelt u jan.jansen@klantbedrijf.nl?"));
  const stored = await page.evaluate(() => JSON.parse(localStorage.getItem("leakwatch.history")));
  assert.equal(stored.fromFolders.length, 12);
  assert.deepEqual(refused, [], "the page's CSP lets it reach Graph");
  await page.screenshot({ path: path.join(artifacts, "taskpane-sent-items-nl.png"), fullPage: true });
  await page.close();
});
