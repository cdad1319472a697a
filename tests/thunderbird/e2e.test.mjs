// End to end, with nothing stood in for: a real headless Thunderbird on a fresh profile with
// the leakwatch add-on's test build (target/leakwatch-thunderbird-test.xpi, sideloaded: the
// product plus ./hooks, see addin/thunderbird/build.mjs), a real leakwatch server behind a
// trusted proxy address, the SMTP sink, and headless Chromium as the recipient's mail client
// on another network.
//
// A test-only driver add-on (./driver, installed only in this profile) seeds the address
// book, files the sender's earlier mail into the Sent folder (the add-on must notice and read
// it by itself), composes and sends, and relays commands to the test build's hooks,
// which use the add-on's own pages as a person would (the sign-in form, the warning window's
// buttons, "I sent this to the wrong person") and report what the add-on did to this test's
// HTTP server. The test checks what arrived over SMTP, what the server recorded, and which
// alerts came.
//
// Needs: dist/wasm/web (cargo xtask wasm), target/debug/leakwatch, $LEAKWATCH_TEST_PYTHON
// (aiosmtpd), Debian's thunderbird and chromium, `npm ci` here and in addin/thunderbird.
// `cargo xtask test` (xtask/src/thunderbird.rs) sees to all of that.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { chromium } from "playwright-core";
import {
  log,
  makeProfile,
  mimeParts,
  root,
  startLeakwatch,
  startSmtpSink,
  startTestServer,
  startThunderbird,
  stop,
  thunderbirdVersion,
  until,
} from "./lib/harness.mjs";
import { startMisbehavingServer } from "../../addin/common/test-support/misbehaving.mjs";

const PRODUCT_ID = "leakwatch-thunderbird@leakwatch";
const DRIVER_ID = "e2e-driver@tests.leakwatch";
const USER = {
  tenant: "boekhoudpartners",
  domain: "boekhoudpartners.nl",
  email: "anna@boekhoudpartners.nl",
  password: "correct horse battery",
  name: "Anna de Vries",
};
const JAN = { name: "Jan Jansen", email: "jan.jansen@klantbedrijf.nl" };
const PIET = { name: "Piet Bakker", email: "piet.bakker@klantbedrijf.nl" };
const ELS = { name: "Els Visser", email: "els.visser@bouwbedrijf-noord.nl" };
/** A transposition of Jan's domain: the slip the add-on must catch. */
const WRONG = "jan.jansen@klantbedrjif.nl";
/** The tenant's policy, set by its admin before the add-on signs in. */
const POLICY = {
  internal_domains: [USER.domain],
  blocked_domains: ["concurrent-accountants.nl"],
  disclosure: { organization: "Boekhoudpartners B.V." },
};
/** Longer than the add-on waits between keep-alive pings and the page's idle timeout. */
const ANSWER_DELAY_MS = 6_000;
const IDLE_TIMEOUT_MS = 3_000;

const timings = {};
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "leakwatch-tb-e2e-"));
let testServer;
let smtp;
let server;
let thunderbird;
let browserContext;

async function timed(name, fn) {
  const started = Date.now();
  try {
    return await fn();
  } finally {
    timings[name] = Date.now() - started;
    log(`${name}: ${timings[name]} ms`);
  }
}

/** The recipient's network, as the trusted proxy in front of leakwatch reports it. */
const RECIPIENT_NETWORK = "198.51.100.23";

/** Sent-folder messages of the seeded history, oldest first. */
function seededSent() {
  const day = 24 * 3600 * 1000;
  const now = Date.now();
  const rows = [
    [[JAN], "Jaarrekening 2024"],
    [[JAN, PIET], "Overleg btw-aangifte"],
    [[PIET], "Loonadministratie maart"],
    [[JAN], "Vragen over de balans"],
    [[ELS], "Offerte administratie"],
    [[JAN, PIET], "Planning kwartaal 2"],
    [[ELS], "Facturen april"],
    [[JAN], "Conceptjaarrekening"],
  ];
  return rows.map(([to, subject], i) => {
    const date = new Date(now - (rows.length - i) * 3 * day).toUTCString().replace("GMT", "+0000");
    return [
      `From: ${USER.name} <${USER.email}>`,
      `To: ${to.map((p) => `${p.name} <${p.email}>`).join(", ")}`,
      `Subject: ${subject}`,
      `Date: ${date}`,
      `Message-ID: <seed-${i}@boekhoudpartners.nl>`,
      "MIME-Version: 1.0",
      "Content-Type: text/plain; charset=utf-8",
      "",
      "Zie bijlage.",
      "",
    ].join("\r\n");
  });
}

function buildAddon() {
  const out = spawnSync(process.execPath, [path.join(root, "addin/thunderbird/build.mjs"), "--test-build"], { encoding: "utf8" });
  if (out.status !== 0) throw new Error(`building the add-on's test build failed:\n${out.stdout}${out.stderr}`);
  return path.join(root, "target", "leakwatch-thunderbird-test.xpi");
}

/** The pixel and notice links in a received HTML part. */
function links(html) {
  return {
    pixel: html.match(new RegExp(`src="(${server.url}/p/[^"]+)"`))?.[1] ?? null,
    info: html.match(new RegExp(`href="(${server.url}/i/[^"]+)"`))?.[1] ?? null,
  };
}

async function api(method, pathname, { token, body } = {}) {
  const response = await fetch(server.url + pathname, {
    method,
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}

/** Reads `GET /api/v1/alerts/stream` (server-sent events) into `alerts`. */
function alertStream(token) {
  const controller = new AbortController();
  const alerts = [];
  const done = (async () => {
    const response = await fetch(`${server.url}/api/v1/alerts/stream`, {
      headers: { Authorization: `Bearer ${token}`, Accept: "text/event-stream" },
      signal: controller.signal,
    });
    if (response.status !== 200) throw new Error(`alert stream: HTTP ${response.status}`);
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = {};
        for (const line of block.split("\n")) {
          const m = line.match(/^(\w+): ?(.*)$/);
          if (m) fields[m[1]] = fields[m[1]] === undefined ? m[2] : `${fields[m[1]]}\n${m[2]}`;
        }
        if (fields.event === "alert" && fields.data) alerts.push({ eventId: fields.id, ...JSON.parse(fields.data) });
      }
    }
  })().catch((err) => {
    if (!controller.signal.aborted) alerts.error = err;
  });
  return { alerts, close: () => controller.abort(), done };
}

/** Chromium's own user agent, as its normal (windowed) build sends it. */
let chromiumAgent;

/**
 * Opens the HTML in headless Chromium as a recipient's webmail would; resolves with the pixel
 * response. Two things differ from a recipient's own browser, both stated: the user agent is
 * Chromium's own without the "Headless" marker (headless browsers are, rightly, classed as
 * scanners; a person's Chromium does not say "Headless"), and the fetch carries the
 * recipient's network in X-Forwarded-For, as the reverse proxy in front of a deployed
 * leakwatch would (everything here is on 127.0.0.1, which is also the sender's network).
 */
async function renderInChromium(html, pixelUrl) {
  if (!browserContext) {
    const probe = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox", "--disable-gpu"] });
    const headlessAgent = await (await probe.newPage()).evaluate(() => navigator.userAgent);
    await probe.close();
    assert.match(headlessAgent, /HeadlessChrome\//);
    chromiumAgent = headlessAgent.replace("HeadlessChrome/", "Chrome/");
  }
  browserContext ??= await chromium.launchPersistentContext(path.join(tmp, "chromium"), {
    executablePath: "/usr/bin/chromium",
    headless: true,
    userAgent: chromiumAgent,
    extraHTTPHeaders: { "X-Forwarded-For": RECIPIENT_NETWORK },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  const page = await browserContext.newPage();
  try {
    const pixel = page.waitForResponse((r) => r.url() === pixelUrl, { timeout: 15_000 });
    await page.setContent(html, { waitUntil: "load" });
    const response = await pixel;
    const shot = path.join(tmp, `rendered-${Date.now()}.png`);
    await page.screenshot({ path: shot, fullPage: true });
    const notice = await page.locator('[data-leakwatch="disclosure"]').innerText();
    return { status: response.status(), type: response.headers()["content-type"], notice, shot };
  } finally {
    await page.close();
  }
}

before(async () => {
  log(`temporary folder ${tmp}; ${thunderbirdVersion()}`);
  const xpi = await timed("build the add-on", async () => buildAddon());
  testServer = await startTestServer();
  smtp = await startSmtpSink(path.join(tmp, "smtp"));
  // Self-view detection at its default: 127.0.0.1, where Thunderbird registers from, is the
  // trusted proxy; the recipient's fetches name another network.
  server = await timed("start leakwatch", () => startLeakwatch(path.join(tmp, "leakwatch"), USER, { trustedProxies: ["127.0.0.1/32"] }));
  log(`leakwatch at ${server.url}, SMTP sink on ${smtp.port}, test server ${testServer.base}`);

  const driver = path.join(tmp, "driver");
  fs.cpSync(path.join(import.meta.dirname, "driver"), driver, { recursive: true });
  fs.writeFileSync(path.join(driver, "config.json"), JSON.stringify({ testServer: testServer.base }));
  const profile = path.join(tmp, "profile");
  makeProfile(profile, {
    smtpPort: smtp.port,
    identity: { email: USER.email, name: USER.name },
    addons: [
      { id: PRODUCT_ID, xpi },
      { id: DRIVER_ID, unpacked: driver },
    ],
    // Event pages are put to sleep after this long without events: the warning window must
    // keep the product's background page alive while the send waits on it.
    extraPrefs: { "extensions.background.idle.timeout": IDLE_TIMEOUT_MS },
  });
  thunderbird = await timed("start Thunderbird", async () => {
    const tb = startThunderbird(profile, path.join(tmp, "home"));
    await until(() => testServer.hello || tb.child.exitCode !== null, 60_000, "the driver add-on to start");
    if (!testServer.hello) throw new Error(`Thunderbird exited:\n${tb.output.slice(-30).join("\n")}`);
    return tb;
  });
  log(`Thunderbird ${testServer.hello.version} is up`);
});

after(async () => {
  await browserContext?.close().catch(() => {});
  if (thunderbird && thunderbird.child.exitCode === null) {
    await testServer.command("quit", {}, 5_000).catch(() => {});
    const exit = await Promise.race([thunderbird.exited, new Promise((r) => setTimeout(() => r(null), 10_000))]);
    if (!exit) {
      thunderbird.child.kill("SIGKILL");
    } else {
      log(`Thunderbird exited with ${JSON.stringify(exit)}`);
    }
  }
  stop(server?.child);
  stop(smtp?.child);
  testServer?.close();
  log(`timings (ms): ${JSON.stringify(timings)}`);
  if (process.env.LEAKWATCH_E2E_KEEP) log(`kept ${tmp}`);
  else fs.rmSync(tmp, { recursive: true, force: true });
});

let reportUrl;
let listIds;
const sent = {};
const product = (message) => testServer.command("product", { message });
const hooks = (extra) => product({ type: "setTestHooks", hooks: { reportUrl, ...extra } });
/** The send-log entry the add-on wrote for the send that started after event index `from`. */
const logged = (from, what = "the add-on's send log") => testServer.waitForEvent((e) => e.event === "send-logged", 15_000, what, from);

test("the add-on reads the Sent folder by itself and signs in through its options page", async () => {
  reportUrl = `${testServer.base}/report`;
  assert.deepEqual(await hooks({}), { ok: true });
  const seed = await timed("seed the address book and the Sent folder", () =>
    testServer.command("seed", { contacts: [JAN, PIET, ELS], lists: [{ name: "Klantbedrijf team", members: [JAN.email, PIET.email] }], sent: seededSent() }),
  );
  listIds = seed.lists;
  // Nobody asks for it: the add-on reads the Sent folder once Thunderbird shows it.
  const history = await timed("history from the Sent folder", () =>
    until(async () => {
      const status = await product({ type: "status" });
      return status.historySize >= 8 && status;
    }, 60_000, "the add-on's first read of the Sent folder"),
  );
  assert.equal(history.historySize, 8, "the 8 seeded Sent messages");
  const admin = await api("POST", "/api/v1/auth/login", { body: { tenant: USER.tenant, email: USER.email, password: USER.password } });
  assert.equal(admin.status, 200);
  const put = await api("PUT", "/api/v1/tenant/policy", { token: admin.json.token, body: POLICY });
  assert.equal(put.status, 200, JSON.stringify(put.json));

  // A wrong password first, typed into the form: the page says so and nobody is signed in.
  let from = testServer.events.length;
  const form = { serverUrl: server.url, tenant: USER.tenant, email: USER.email, lang: "en" };
  await hooks({ signIn: { ...form, password: "wrong password!", nonce: 1 } });
  assert.equal((await product({ type: "openOptions" })).ok, true);
  const shown = await testServer.waitForEvent((e) => e.event === "options-shown", 15_000, "the options page", from);
  assert.deepEqual(shown.labels, ["Server URL", "Organisation", "E-mail address", "Password", "Language"], "labelled in the add-on's language");
  const refused = await testServer.waitForEvent((e) => e.event === "options-signed-in" && e.nonce === 1, 20_000, "the refused sign-in", from);
  assert.equal(refused.error, true, JSON.stringify(refused));
  assert.match(refused.status, /Not signed in/);
  // Then the right one, in the same page.
  from = testServer.events.length;
  await timed("sign in", () => hooks({ signIn: { ...form, password: USER.password, nonce: 2 } }));
  const signedIn = await testServer.waitForEvent((e) => e.event === "options-signed-in" && e.nonce === 2, 20_000, "the sign-in", from);
  assert.equal(signedIn.error, false, signedIn.message);
  assert.equal(signedIn.message, "Signed in; your organisation's policy is loaded.");
  assert.match(signedIn.status, new RegExp(`Signed in as ${USER.email}`));
  assert.match(signedIn.status, /Contact history: 8 sent messages/);
  assert.deepEqual(
    { server: signedIn.server, tenant: signedIn.tenant, email: signedIn.email, lang: signedIn.lang },
    { server: server.url, tenant: USER.tenant, email: USER.email, lang: "en" },
  );
  const status = await product({ type: "status" });
  assert.equal(status.signedIn, true);
  assert.ok(status.policyFetchedAt > 0, "the tenant policy was fetched and cached");
});

test("a normal mail to a mailing list goes without a warning and arrives with the disclosure", async () => {
  const from = testServer.events.length;
  const result = await timed("send normal mail", () =>
    testServer.command("send", {
      details: {
        to: [{ id: listIds["Klantbedrijf team"], type: "mailingList" }],
        subject: "Planning jaarafsluiting",
        body: "<!DOCTYPE html><html><head></head><body><p>Beste Jan en Piet,</p><p>Zullen we volgende week de jaarafsluiting plannen?</p><p>Groet, Anna</p></body></html>",
        isPlainText: false,
      },
      attachments: [{ name: "Planning_jaarafsluiting.pdf", text: "%PDF-1.4 planning" }],
    }),
  );
  assert.equal(result.sent, true, JSON.stringify(result));
  const { entry } = await logged(from);
  assert.ok(!testServer.events.slice(from).some((e) => e.event === "warning-shown"), "no warning window (the test build reports every one)");
  assert.equal(entry.verdict, "send", JSON.stringify(entry));
  assert.equal(entry.outcome, "disclosed", "nothing at risk: registered, not tracked");
  const admin = await api("POST", "/api/v1/auth/login", { body: { tenant: USER.tenant, email: USER.email, password: USER.password } });
  const registered = await api("GET", `/api/v1/messages/${entry.messageId}`, { token: admin.json.token });
  assert.equal(registered.status, 200);
  assert.equal(registered.json.track, false);
  const addresses = (registered.json.recipients.to ?? []).map((r) => (typeof r === "string" ? r : r.address)).sort();
  assert.deepEqual(addresses, [JAN.email, PIET.email], "the list was expanded for the check and the registration");

  const { eml, envelope } = await smtp.message(1);
  assert.deepEqual(envelope.rcpt_tos.sort(), [JAN.email, PIET.email]);
  const parts = mimeParts(smtp.python, eml);
  assert.ok(parts.html, "an HTML part");
  assert.match(parts.html, /data-leakwatch="disclosure"/);
  const { pixel, info } = links(parts.html);
  assert.ok(info?.includes(entry.messageId), "the notice links the message's info page");
  assert.equal(pixel, null, "no pixel in an untracked message");
  assert.ok(parts.html.includes("Zullen we volgende week"), "the body is kept");
  assert.match(parts.html, /Boekhoudpartners B\.V\./, "the notice names the organisation from the tenant policy");
  assert.ok(parts.text?.includes(info), "the text part carries the notice too");
  assert.match(eml.toString("latin1"), /filename="?Planning_jaarafsluiting\.pdf/, "the attachment went along");
  sent.normal = { id: entry.messageId };
});

test("a misdirected mail raises the warning; going back sends nothing", async () => {
  assert.deepEqual(await hooks({ autoAnswer: "back" }), { ok: true });
  const from = testServer.events.length;
  const before = smtp.count();
  const result = await timed("send misdirected mail, go back", () =>
    testServer.command("send", {
      details: {
        to: [`Jan Jansen <${WRONG}>`],
        subject: "Jaarrekening 2025",
        body: "<html><body><p>Beste Jan,</p><p>Hierbij de jaarrekening 2025.</p></body></html>",
        isPlainText: false,
      },
    }),
  );
  assert.equal(result.sent, false, "the send was cancelled");
  const shown = testServer.events.slice(from).find((e) => e.event === "warning-shown");
  assert.ok(shown, "the warning window was shown");
  assert.ok(shown.findings.some((f) => f.rule === "lookalike-domain"), JSON.stringify(shown.findings));
  assert.ok(shown.findings.some((f) => f.text.includes(WRONG)), "the finding names the address");
  const { entry } = await logged(from);
  assert.equal(entry.outcome, "cancelled");
  assert.equal(entry.messageId, undefined, "not registered");
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(smtp.count(), before, "nothing reached the SMTP server");
});

test("sent anyway (the warning waits longer than the idle timeout): one registration, one notice, and the pixel", async () => {
  await hooks({ autoAnswer: "send", answerDelayMs: ANSWER_DELAY_MS });
  const admin = await api("POST", "/api/v1/auth/login", { body: { tenant: USER.tenant, email: USER.email, password: USER.password } });
  const registeredBefore = (await api("GET", "/api/v1/messages?limit=500", { token: admin.json.token })).json.messages.length;
  const from = testServer.events.length;
  const result = await timed("send misdirected mail, send anyway", () =>
    testServer.command("send", {
      details: {
        to: [`Jan Jansen <${WRONG}>`],
        subject: "Jaarrekening 2025",
        body: "<html><body><p>Beste Jan,</p><p>Hierbij de jaarrekening 2025.</p></body></html>",
        isPlainText: false,
      },
    }, 60_000),
  );
  assert.equal(result.sent, true, JSON.stringify(result));
  assert.ok(result.ms >= ANSWER_DELAY_MS, "the send waited for the answer");
  const events = testServer.events.slice(from);
  assert.ok(events.find((e) => e.event === "warning-shown")?.sendAnywayShown, "the warning offers to send anyway");
  const { entry } = await logged(from);
  assert.equal(entry.outcome, "tracked", `sent despite a warning: tracked (${JSON.stringify(entry)})`);
  assert.equal(entry.overridden, true);
  const registeredAfter = (await api("GET", "/api/v1/messages?limit=500", { token: admin.json.token })).json.messages.length;
  assert.equal(registeredAfter, registeredBefore + 1, "one registration");

  const { eml, envelope } = await smtp.message(2);
  assert.deepEqual(envelope.rcpt_tos, [WRONG]);
  const parts = mimeParts(smtp.python, eml);
  assert.equal(parts.html.match(/data-leakwatch="disclosure"/g)?.length, 1, "one notice");
  const { pixel, info } = links(parts.html);
  assert.ok(pixel?.startsWith(`${server.url}/p/`), "the pixel is in the HTML");
  assert.equal(parts.html.match(/\/p\//g)?.length, 1, "one pixel");
  assert.ok(info?.includes(entry.messageId), "with its notice");
  assert.ok(!parts.text.includes(pixel), "never a pixel URL in the text part");
  sent.misdirected = { id: entry.messageId, pixel_url: pixel, html: parts.html };
});

test("a plain-text mail gets the notice as text", async () => {
  const from = testServer.events.length;
  const result = await timed("send plain-text mail", () =>
    testServer.command("send", {
      details: { to: [`${ELS.name} <${ELS.email}>`], subject: "Afspraak morgen", plainTextBody: "Hoi Els,\n\nTot morgen om tien uur.\n\nAnna\n", isPlainText: true },
    }),
  );
  assert.equal(result.sent, true, JSON.stringify(result));
  const { entry } = await logged(from);
  assert.equal(entry.outcome, "disclosed");
  const parts = mimeParts(smtp.python, (await smtp.message(3)).eml);
  assert.equal(parts.content_type, "text/plain");
  assert.ok(parts.text.includes("Tot morgen om tien uur."));
  assert.match(parts.text, /Privacy notice: /);
  assert.ok(parts.text.includes(`/i/${entry.messageId}`));
  sent.plain = { id: entry.messageId };
  // Each message sent is in the history once, whether from the add-on's own record or the
  // Sent folder's copy (fcc).
  const status = await until(async () => {
    const now = await product({ type: "status" });
    return now.historySize === 8 + 3 && now;
  }, 10_000, "the three sends in the history");
  assert.equal(status.historySize, 11);
});

test("the recipient opens it, the sender reports it misdirected, and the alert arrives", async () => {
  assert.ok(sent.misdirected, "the tracked message was sent");
  const opened = await timed("render in Chromium", () => renderInChromium(sent.misdirected.html, sent.misdirected.pixel_url));
  assert.equal(opened.status, 200);
  assert.equal(opened.type, "image/gif");
  assert.match(opened.notice, /Privacy notice/);

  const login = await api("POST", "/api/v1/auth/login", { body: { tenant: USER.tenant, email: USER.email, password: USER.password } });
  assert.equal(login.status, 200);
  const token = login.json.token;
  const alertsApi = await api("GET", "/api/v1/alerts", { token });
  assert.equal(alertsApi.status, 200, "the alerts API");
  const stream = alertStream(token);
  // "I sent this to the wrong person", in the add-on's own view page.
  await hooks({ reportWrong: { messageId: sent.misdirected.id, recipients: [WRONG] } });
  const viewFrom = testServer.events.length;
  assert.equal((await product({ type: "openView" })).ok, true);
  const shownView = await testServer.waitForEvent((e) => e.event === "view-shown", 15_000, "the view page", viewFrom);
  const listed = Object.fromEntries(shownView.messages.map((m) => [m.id, m]));
  for (const registration of [sent.normal, sent.misdirected, sent.plain]) {
    assert.ok(listed[registration.id]?.canReport, `the view lists ${registration.id} with the report button`);
  }
  assert.match(listed[sent.misdirected.id].text, /Jaarrekening 2025.*tracked.*sent despite a warning/s);
  assert.match(listed[sent.normal.id].text, /not tracked/);
  assert.ok(shownView.sends.some((line) => /Jaarrekening 2025.*not sent: you went back/.test(line)), JSON.stringify(shownView.sends));
  const reported = await timed("report in the view", () =>
    testServer.waitForEvent((e) => e.event === "view-reported", 15_000, "the view's report", viewFrom),
  );
  assert.deepEqual(reported.offered, [WRONG], "the form offers the message's recipients");
  assert.equal(reported.error, false, reported.status);
  assert.equal(reported.status, "Incident reported.");
  assert.equal(reported.messages.find((m) => m.id === sent.misdirected.id)?.canReport, false, "reported once");
  assert.ok(reported.incidents.some((row) => row.includes("Jaarrekening 2025")), "the incident is listed");
  const incidents = await api("GET", "/api/v1/incidents", { token });
  const mine = incidents.json.incidents.filter((i) => i.message_id === sent.misdirected.id);
  assert.equal(mine.length, 1);
  assert.deepEqual(mine[0].wrong_recipients, [WRONG]);
  const incidentId = mine[0].id;
  const from = testServer.events.length;
  // A second open, now that the message is known to be misdirected.
  await renderInChromium(sent.misdirected.html, sent.misdirected.pixel_url);

  const shown = await timed("incident evidence", () =>
    until(async () => {
      const view = await api("GET", `/api/v1/incidents/${incidentId}`, { token });
      return view.json?.evidence?.hits_total >= 2 && view.json;
    }, 10_000, "both opens in the incident's evidence"),
  );
  assert.equal(shown.message_id, sent.misdirected.id);
  // Identified as the recipient opening it in a mail client: Chromium, from their network.
  assert.equal(shown.evidence.status, "opened_in_mail_client", JSON.stringify(shown.evidence));
  const classes = Object.fromEntries(shown.evidence.by_class.map((c) => [c.class, c]));
  assert.deepEqual(Object.keys(classes), ["direct"], `both fetches are direct, none a self-view or scan: ${JSON.stringify(shown.evidence)}`);
  assert.equal(classes.direct.hits, 2);
  // What the server kept of each fetch: the class and the agent family, never the agent.
  const stored = spawnSync(smtp.python, ["-c", "import json, sqlite3, sys; db = sqlite3.connect(sys.argv[1]); print(json.dumps(db.execute('SELECT class, agent FROM pixel_hits WHERE message_id = ?', (sys.argv[2],)).fetchall()))", path.join(tmp, "leakwatch", "leakwatch.db"), sent.misdirected.id], { encoding: "utf8" });
  assert.equal(stored.status, 0, stored.stderr);
  const rows = JSON.parse(stored.stdout);
  assert.equal(rows.length, 2);
  for (const [fetchClass, agent] of rows) {
    assert.equal(fetchClass, "direct");
    assert.match(agent, /^chrom/i, `Chromium's own agent is recognised as such: ${agent}`);
  }

  const streamed = await timed("alerts on the stream", () =>
    until(() => {
      if (stream.alerts.error) return stream.alerts.error;
      const kinds = stream.alerts.filter((a) => a.message_id === sent.misdirected.id).map((a) => a.kind);
      return kinds.includes("incident_summary") && kinds.includes("client_open") && kinds;
    }, 30_000, "incident_summary and client_open on /api/v1/alerts/stream"),
  );
  stream.close();
  assert.ok(!(streamed instanceof Error), String(streamed));
  const open = stream.alerts.find((a) => a.kind === "client_open");
  assert.equal(open.incident_id, incidentId);
  assert.equal(open.severity, "high");
  assert.equal(open.eventId, String(open.seq), "the event id is the alert's seq");
  const notified = await timed("alert notification in Thunderbird", () =>
    testServer.waitForEvent((e) => e.event === "alert" && e.alert.kind === "client_open" && e.alert.message_id === sent.misdirected.id, 45_000, "the add-on's client_open alert", from),
  );
  assert.equal(notified.alert.seq, open.seq);
  const notification = await testServer.waitForEvent((e) => e.event === "notification" && e.title === open.title, 5_000, "the Thunderbird notification", from);
  assert.match(notification.title, /Opened: your misdirected message/);
  assert.equal(
    testServer.events.filter((e) => e.event === "alert" && e.alert.seq === open.seq).length,
    1,
    "each alert is shown once",
  );
});

test("whatever the server does (no answer, a stalled body, an error, garbage, an expired token), the mail goes within the bound", async () => {
  const bad = await startMisbehavingServer();
  const measured = {};
  try {
    await hooks({});
    const cases = { silent: "timeout", stalled: "timeout", failing: "server_error", garbled: "malformed_response", expired: "expired" };
    for (const [kind, reason] of Object.entries(cases)) {
      assert.deepEqual(await product({ type: "setServerUrl", serverUrl: bad.baseUrl(kind) }), { ok: true });
      const from = testServer.events.length;
      const before = smtp.count();
      const result = await testServer.command("send", {
        details: { to: [`${JAN.name} <${JAN.email}>`], subject: `Vraag (${kind})`, body: "<html><body><p>Heb je even?</p></body></html>", isPlainText: false },
      });
      assert.equal(result.sent, true, `${kind}: ${JSON.stringify(result)}`);
      measured[kind] = result.ms;
      assert.ok(result.ms < 6_000, `${kind}: the send took ${result.ms} ms`);
      const { entry } = await logged(from);
      assert.deepEqual([entry.outcome, entry.reason], ["untracked", reason], `${kind}: ${JSON.stringify(entry)}`);
      const body = mimeParts(smtp.python, (await smtp.message(before + 1)).eml);
      assert.ok(!(body.html ?? body.text).includes("data-leakwatch"), `${kind}: no notice`);
    }
  } finally {
    log(`send time in Thunderbird per server behaviour (ms): ${JSON.stringify(measured)}`);
    await product({ type: "setServerUrl", serverUrl: server.url });
    bad.close();
  }
});

test("with the server down: the cached policy still blocks, and mail goes without notice or tracking", async () => {
  stop(server.child);
  await until(() => server.child.exitCode !== null || server.child.signalCode !== null, 10_000, "the server to stop");
  await hooks({ autoAnswer: "send" });
  let from = testServer.events.length;
  const before = smtp.count();
  const blocked = await timed("offline: send to a blocked domain", () =>
    testServer.command("send", {
      details: { to: ["info@concurrent-accountants.nl"], subject: "Overname", body: "<html><body><p>Hallo</p></body></html>", isPlainText: false },
    }),
  );
  assert.equal(blocked.sent, false, "a blocked message cannot be sent, even when 'send' is pressed");
  const block = (await logged(from)).entry;
  assert.equal(block.verdict, "block", JSON.stringify(block));
  assert.ok(block.rules.includes("blocked-domain"), "the cached tenant policy applies offline");
  assert.equal(testServer.events.slice(from).find((e) => e.event === "warning-shown")?.sendAnywayShown, false);
  assert.equal(smtp.count(), before);

  from = testServer.events.length;
  const result = await timed("offline: send a normal mail", () =>
    testServer.command("send", {
      details: { to: [`${JAN.name} <${JAN.email}>`], subject: "Even bellen?", body: "<html><body><p>Bel je me?</p></body></html>", isPlainText: false },
    }),
  );
  assert.equal(result.sent, true, JSON.stringify(result));
  const { entry } = await logged(from);
  assert.equal(entry.verdict, "send");
  assert.deepEqual([entry.outcome, entry.reason], ["untracked", "unreachable"], JSON.stringify(entry));
  assert.ok(entry.ms < 5_000, `the send waited ${entry.ms} ms for the server`);
  const notice = testServer.events.slice(from).find((e) => e.event === "notification");
  assert.match(notice?.message ?? "", /without the privacy notice and without leak detection/);
  const parts = mimeParts(smtp.python, (await smtp.message(before + 1)).eml);
  // Without our block the body has no formatting, so Thunderbird may send it as text only.
  const body = parts.html ?? parts.text;
  assert.ok(body.includes("Bel je me?"));
  assert.ok(!body.includes("data-leakwatch") && !body.includes("Privacy notice"), "no notice, no pixel");
});

test("Thunderbird quits cleanly", async () => {
  await testServer.command("quit");
  const exit = await Promise.race([thunderbird.exited, new Promise((r) => setTimeout(() => r(null), 15_000))]);
  assert.deepEqual(exit, { code: 0, signal: null });
});
