// The dashboard as the real leakwatch server serves it (dist/web, embedded in the binary),
// on SQLite and on PostgreSQL, in Debian's headless Chromium, one browser context per
// signed-in person: an admin changes the policy (with the preview and the simulator) and the
// add-ins' policy API serves the change; a sender reports a wrong recipient and sees the
// alert arrive live after a mail client fetches the pixel; a privacy officer decides, exports
// the register and prints the draft; a sender cannot decide, in the page or through the API.
// axe-core runs on every page; screenshots at desktop and 390 px: target/artifacts/web/.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ApiClient } from "../../addin/common/api.mjs";
import { startLeakwatch } from "../../addin/common/test-support/leakwatch-server.mjs";
import { launchBrowser } from "../../addin/outlook/test/support/browser.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const artifacts = path.join(root, "target/artifacts/web");
const axeSource = fs.readFileSync(path.join(root, "web/node_modules/axe-core/axe.min.js"), "utf8");
const TENANT = "boekhoudpartners";
const ADMIN = { email: "beheer@boekhoudpartners.nl", password: "admin horse battery" };
const SENDER = { email: "anna.deboer@boekhoudpartners.nl", password: "sender horse battery", role: "sender" };
const OFFICER = { email: "fg@boekhoudpartners.nl", password: "officer horse battery", role: "privacy-officer" };
const MAIL_CLIENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0";
// The server trusts 127.0.0.1 as a proxy, so X-Forwarded-For names the reader's network;
// the test's webhook receiver is on 127.0.0.1, which the operator allows here.
const CONFIG = `trusted_proxies = ["127.0.0.1/32"]\n[outbound]\nallow_private = true\n`;

let browser;
before(async () => {
  browser = await launchBrowser();
  fs.mkdirSync(artifacts, { recursive: true });
});
after(async () => {
  await browser?.close();
});

/** A page in its own context (its own cookies), in `lang`, that records what the CSP refused. */
async function openAs(server, lang) {
  const context = await browser.newContext({ locale: lang === "nl" ? "nl-NL" : "en-GB", viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.refused = [];
  page.on("console", (message) => {
    if (message.type() === "error" || /Content Security Policy|Refused to/.test(message.text())) page.refused.push(message.text());
  });
  page.on("pageerror", (error) => page.refused.push(`page error: ${error.message}`));
  await page.goto(`${server.baseUrl}/`);
  return page;
}

async function signIn(page, user) {
  await page.locator("#tenant input").fill(TENANT);
  await page.locator("#email input").fill(user.email);
  await page.locator("#password input").fill(user.password);
  await page.locator("#signin-button").click();
  await page.locator("#who").waitFor();
  // Before signing in, the page asked who is signed in and got its 401: not a fault.
  page.refused = page.refused.filter((text) => !/status of 401/.test(text));
}

/** axe-core on the page as it is: no serious or critical violation. */
/** Signs in with the keyboard only: Tab between the fields, Enter to send. */
async function signInByKeyboard(page, user) {
  await page.locator("#tenant input").focus();
  await page.keyboard.type(TENANT);
  await page.keyboard.press("Tab");
  await page.keyboard.type(user.email);
  await page.keyboard.press("Tab");
  await page.keyboard.type(user.password);
  await page.keyboard.press("Enter");
  await page.locator("#who").waitFor();
  page.refused = page.refused.filter((text) => !/status of 401/.test(text));
}

async function axe(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const outcome = await axe.run(document, { resultTypes: ["violations"] });
    return outcome.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5) }));
  });
  const bad = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad, [], `axe on ${name}`);
}

/** Screenshots at desktop width and at 390 px (a phone). */
async function shoot(page, name) {
  await page.screenshot({ path: path.join(artifacts, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(artifacts, `${name}-390.png`), fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 1, `${name} fits 390 px without sideways scrolling (${overflow} px too wide)`);
  await page.setViewportSize({ width: 1280, height: 900 });
}

async function register(server, user, message) {
  const api = new ApiClient({ baseUrl: server.baseUrl });
  await api.login(TENANT, user.email, user.password);
  return { api, registration: await api.register(message) };
}

const AT_RISK = {
  to: ["jan.jansen@klantbedrijf.nI"], cc: [], bcc: [], subject: "Jaarrekening 2025",
  findings: [{ rule: "lookalike-domain", severity: "warn", recipients: ["jan.jansen@klantbedrijf.nI"], message: "looks like klantbedrijf.nl" }],
  overridden: true, sensitive: [], has_attachments: true, lang: "nl",
};

for (const backend of ["sqlite", "postgres"]) {
  test(`the dashboard on ${backend}: admin, sender and privacy officer`, async () => {
    const server = await startLeakwatch({ tenant: TENANT, ...ADMIN, domain: "boekhoudpartners.nl", config: CONFIG, postgres: backend === "postgres", users: [SENDER, OFFICER] });
    try {
      await adminChangesThePolicy(server, backend);
      const incidentId = await senderReportsAndSeesTheAlert(server, backend);
      await officerDecidesAndPrints(server, backend, incidentId);
    } finally {
      await server.stop();
    }
  });
}

async function adminChangesThePolicy(server, backend) {
  // Mail to simulate over: the sender wrote to a client three times, then to a lookalike of
  // its domain (.nI for .nl).
  const known = { ...AT_RISK, to: ["jan.jansen@klantbedrijf.nl"], findings: [], overridden: false };
  const { api } = await register(server, SENDER, known);
  await api.register(known);
  await api.register(known);
  await api.register(AT_RISK);

  const page = await openAs(server, "en");
  const served = await page.request.get(`${server.baseUrl}/`);
  const headers = served.headers();
  assert.match(headers["content-security-policy"], /frame-ancestors 'none'/);
  assert.doesNotMatch(headers["content-security-policy"], /script-src[^;]*'unsafe-inline'/);
  assert.equal(headers["x-content-type-options"], "nosniff");
  assert.equal(headers["referrer-policy"], "no-referrer");
  await axe(page, "sign-in");
  await signIn(page, ADMIN);
  assert.match(await page.locator("#who").textContent(), /Administrator/);

  await page.goto(`${server.baseUrl}/#/policy`);
  await page.locator("#policy-form").waitFor();
  await page.locator("#organization input").fill("Boekhoudpartners BV");
  await page.locator("#blocked-domains textarea").fill("concurrent-kantoor.nl");
  // The preview renders the disclosure with the core, in both languages.
  await page.locator("#preview-nl .preview-text", { hasText: "Boekhoudpartners BV" }).waitFor();
  await page.locator("#preview-en .preview-text", { hasText: "Boekhoudpartners BV" }).waitFor();
  // A threshold outside its range is refused in words, before anything is sent.
  await page.locator("#threshold-lookalike_max_distance input").fill("9");
  await page.locator("#policy-save").click();
  await page.locator("#policy-status .error", { hasText: "Lookalike: largest edit distance must be a number from 0 to 5." }).waitFor();
  await page.locator("#threshold-lookalike_max_distance input").fill("");
  // The simulator: with lookalike warnings off, the same message is still caught, by the
  // similar-contact rule (jan.jansen at .nI is one letter from jan.jansen at .nl).
  await page.locator("#severity-lookalike-domain").click();
  await page.locator("#severity-lookalike-domain fluent-option[value=off]").click();
  await page.locator("#simulate").click();
  const summary = await page.locator("#simulation-summary").textContent();
  assert.equal(summary, "4 messages checked: with this policy 1 would get a warning, now 1.");
  const rows = await page.locator("#simulation tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
  assert.deepEqual(rows.find((r) => r[0] === "Lookalike domain"), ["Lookalike domain", "1", "0"]);
  assert.deepEqual(rows.find((r) => r[0] === "Similar to a known contact"), ["Similar to a known contact", "0", "1"]);
  await axe(page, "policy");
  await shoot(page, `policy-${backend}`);
  await page.locator("#policy-save").click();
  await page.locator("#policy-status .note").waitFor();
  // The add-ins' policy API serves the change.
  const policy = await api.request("GET", "/api/v1/tenant/policy");
  assert.deepEqual(policy.blocked_domains, ["concurrent-kantoor.nl"]);
  assert.equal(policy.severities["lookalike-domain"], "off");
  assert.equal(policy.disclosure.organization, "Boekhoudpartners BV");

  await page.goto(`${server.baseUrl}/#/settings`);
  await page.locator("#checklist li[data-item=organization].done").waitFor();
  // A webhook, saved and tested: the receiver gets the signed test; mail has no relay here.
  const hooks = [];
  const receiver = http.createServer((req, res) => { hooks.push(req.headers); res.writeHead(204).end(); });
  await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const hookUrl = `http://127.0.0.1:${receiver.address().port}/hook`;
  await page.locator("#webhooks textarea").fill(hookUrl);
  await page.locator("#alerts-save").click();
  await page.locator("#alerts-status .note", { hasText: "Saved." }).waitFor();
  await page.locator("#alerts-test").click();
  await page.locator("#alerts-status .note", { hasText: `webhook ${hookUrl}: delivered` }).waitFor();
  assert.match(await page.locator("#alerts-status").textContent(), /mail to beheer@boekhoudpartners\.nl: failed \(no usable mail relay is set\)/);
  assert.equal(hooks.length, 1);
  assert.equal(hooks[0]["x-leakwatch-event"], "test");
  receiver.close();
  // The organisation's time zone: an unknown name is refused in words; a known one is saved
  // and the add-ins and pages read it from /api/v1/me.
  await page.locator("#time-zone input").fill("Europe/Amsterdm");
  await page.locator("#privacy-save").click();
  await page.locator("#privacy-status .error", { hasText: "'Europe/Amsterdm' is not a time zone name" }).waitFor();
  await page.locator("#time-zone input").fill("Europe/Brussels");
  await page.locator("#privacy-save").click();
  await page.locator("#privacy-status .note", { hasText: "Saved." }).waitFor();
  assert.equal((await api.request("GET", "/api/v1/me")).tenant.time_zone, "Europe/Brussels");
  assert.equal(await page.locator("#checklist li[data-item=https].missing").count(), 1, "http://127.0.0.1 is not HTTPS");
  await axe(page, "settings");
  await page.goto(`${server.baseUrl}/#/users`);
  await page.locator("#invite-email input").fill("nieuw@boekhoudpartners.nl");
  await page.locator("#invite").click();
  await page.locator("#users-status .note", { hasText: "nieuw@boekhoudpartners.nl is invited" }).waitFor();
  await axe(page, "users");
  await shoot(page, `users-${backend}`);
  assert.deepEqual(page.refused, [], "nothing refused or failing on the admin's pages");
  await page.context().close();
}

async function senderReportsAndSeesTheAlert(server, backend) {
  // Sent in English, read on a Dutch dashboard: the alerts must read in Dutch.
  const { registration } = await register(server, SENDER, { ...AT_RISK, subject: "Loonstroken november", lang: "en" });
  assert.equal(registration.track, true);
  const page = await openAs(server, "nl");
  await signInByKeyboard(page, SENDER);
  // The first Tab reaches the link that skips the header and navigation.
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.className), "skip");
  assert.match(await page.locator("#who").textContent(), /Aangemeld als anna\.deboer@boekhoudpartners\.nl · Afzender/);
  await page.locator(`#report-${registration.id}`).waitFor();
  await axe(page, "messages");
  await shoot(page, `messages-${backend}`);
  await page.locator(`#report-${registration.id}`).click();
  await page.locator("#report-dialog fluent-checkbox").first().click();
  await page.locator("#report-send").click();
  await page.locator("#evidence-status").waitFor();
  const incidentId = decodeURIComponent(new URL(page.url()).hash.split("/")[2]);
  // A sender cannot decide: the page offers no decision, and the API refuses one.
  assert.equal(await page.locator("#decision").count(), 0);
  await page.locator("#decision-only-officer").waitFor();
  const refused = await page.evaluate(async (id) => {
    const session = await (await fetch("/api/v1/auth/session")).json();
    const answer = await fetch(`/api/v1/incidents/${id}`, { method: "PATCH", headers: { "Content-Type": "application/json", "X-CSRF-Token": session.csrf_token }, body: JSON.stringify({ decision: "notify" }) });
    return answer.status;
  }, incidentId);
  assert.equal(refused, 403);
  page.refused = page.refused.filter((text) => !/status of 403/.test(text)); // that refusal, asked for
  await axe(page, "incident (sender)");

  await page.goto(`${server.baseUrl}/#/alerts`);
  await page.locator("#stream-state", { hasText: "Live" }).waitFor();
  const pixel = await fetch(registration.pixel_url, { headers: { "User-Agent": MAIL_CLIENT, "X-Forwarded-For": "198.51.100.23" } });
  assert.equal(pixel.status, 200);
  await page.locator("#alert-list li[data-kind=client_open]").waitFor({ timeout: 15_000 });
  await page.locator("#live-region .toast").first().waitFor();
  const opened = await page.locator("#alert-list li[data-kind=client_open]").innerText();
  assert.match(opened, /Geopend: uw verkeerd verstuurde bericht \u201cLoonstroken november\u201d/, opened);
  assert.match(opened, /in een mailprogramma/, opened);
  assert.doesNotMatch(opened, /Opened|mail client/, "not in the message's language");
  assert.match(await page.locator("#live-region .toast").first().innerText(), /Geopend:/);
  await axe(page, "alerts");
  await shoot(page, `alerts-${backend}`);
  assert.deepEqual(page.refused, [], "nothing refused or failing on the sender's pages");
  await page.context().close();
  return incidentId;
}

async function officerDecidesAndPrints(server, backend, incidentId) {
  const page = await openAs(server, "en");
  await signIn(page, OFFICER);
  await page.locator(`a[href="#/incident/${incidentId}"]`).waitFor();
  // The register exports as CSV.
  const [download] = await Promise.all([page.waitForEvent("download"), page.locator("#export-csv").click()]);
  const csv = fs.readFileSync(await download.path(), "utf8");
  assert.match(csv, /^\uFEFF"Subject","Sent",/);
  assert.match(csv, /"Loonstroken november"/);
  await axe(page, "register");
  await shoot(page, `register-${backend}`);

  await page.locator(`a[href="#/incident/${incidentId}"]`).click();
  await page.locator("#decision").waitFor();
  assert.match(await page.locator("#countdown").textContent(), /left to notify the authority/);
  assert.match(await page.locator("#evidence-status").textContent(), /Opened in a mail client/);
  await page.locator("#decision fluent-radio[value=no_notify]").click();
  await page.locator("#decision-save").click();
  await page.locator(".error", { hasText: "Give the reason for not notifying" }).waitFor();
  await page.locator("#decision-reason textarea").fill("Opened by the accountant of the same client, who deleted it at once and confirmed so in writing.");
  await page.locator("#decision-save").click();
  await page.locator("#incident-status", { hasText: "Not notified" }).waitFor();
  await page.locator("#draft-contact-name input").waitFor();
  // The mitigation checklist writes "measures taken".
  await page.locator("#draft-asked_to_delete").click();
  await page.locator("#draft-contact-role input").fill("Privacy officer");
  await page.locator("#draft-save").click();
  await page.waitForFunction(() => document.querySelector("#draft-measures")?.value === "The wrong recipient was asked to delete the message.");
  await axe(page, "incident (officer)");
  await shoot(page, `incident-${backend}`);
  // The printable draft opens in the browser with the session, and prints.
  const [draft] = await Promise.all([page.waitForEvent("popup"), page.locator("#open-draft").click()]);
  await draft.waitForLoadState();
  assert.match(await draft.locator("body").textContent(), /Loonstroken november|notification/i);
  await draft.pdf({ path: path.join(artifacts, `notification-${backend}.pdf`) });

  await page.goto(`${server.baseUrl}/#/overview`);
  await page.locator("#chart-incidents").waitFor();
  await axe(page, "overview");
  await shoot(page, `overview-${backend}`);
  await page.goto(`${server.baseUrl}/#/audit`);
  await page.locator("td", { hasText: "Evidence viewed" }).first().waitFor();
  await axe(page, "audit");
  // The language switches in place.
  await page.locator("#language").click();
  await page.locator("#language fluent-option[value=nl]").click();
  await page.locator("h1", { hasText: "Auditlog" }).waitFor();
  assert.deepEqual(page.refused, [], "nothing refused or failing on the privacy officer's pages");
  await page.context().close();
}

test("the first page downloads less than 100 KB gzipped", async () => {
  const server = await startLeakwatch({ tenant: TENANT, ...ADMIN, domain: "boekhoudpartners.nl" });
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const responses = [];
    page.on("response", (response) => responses.push(response));
    await page.goto(`${server.baseUrl}/`, { waitUntil: "networkidle" });
    await page.locator("#signin-button").waitFor();
    let bytes = 0;
    const files = [];
    for (const response of responses) {
      const sizes = await response.request().sizes();
      bytes += sizes.responseBodySize + sizes.responseHeadersSize;
      files.push(`${new URL(response.url()).pathname} ${sizes.responseBodySize}`);
    }
    console.log(`first page: ${bytes} bytes over the wire (${files.join(", ")})`);
    assert.ok(files.some((f) => f.startsWith("/app.js")));
    assert.ok(bytes < 100_000, `${bytes} bytes`);
  } finally {
    await context.close();
    await server.stop();
  }
});
