// End to end, with nothing stood in for: a real headless Thunderbird on a fresh profile with
// the built leakwatch add-on (dist/leakwatch-thunderbird-*.xpi, sideloaded), a real
// leakwatch server, the SMTP sink, and headless Chromium as the recipient's mail client.
//
// A test-only driver add-on (./driver, installed only in this profile) seeds the address
// book and the Sent folder, signs the product add-on in the way its options page does,
// composes and sends. The product add-on reports what it did to this test's HTTP server
// (its test hooks, set by the driver) and the test checks what arrived over SMTP, what the
// server recorded and which alerts came.
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
  const out = spawnSync(process.execPath, [path.join(root, "addin/thunderbird/build.mjs")], { encoding: "utf8" });
  if (out.status !== 0) throw new Error(`building the add-on failed:\n${out.stdout}${out.stderr}`);
  const manifest = JSON.parse(fs.readFileSync(path.join(root, "addin/thunderbird/manifest.json"), "utf8"));
  return path.join(root, "dist", `leakwatch-thunderbird-${manifest.version}.xpi`);
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

/** Opens the HTML in headless Chromium as a mail client would; resolves with the pixel response. */
async function renderInChromium(html, pixelUrl) {
  browserContext ??= await chromium.launchPersistentContext(path.join(tmp, "chromium"), {
    executablePath: "/usr/bin/chromium",
    headless: true,
    // As the recipient's browser-based mail client would (headless Chromium's own agent
    // is, rightly, classified as a scanner).
    userAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36",
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
  server = await timed("start leakwatch", () => startLeakwatch(path.join(tmp, "leakwatch"), USER));
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

test("the add-on signs in, reads the Sent folder and the address book", async () => {
  reportUrl = `${testServer.base}/report`;
  const seed = await timed("seed address book and Sent folder", () =>
    testServer.command("seed", {
      contacts: [JAN, PIET, ELS],
      lists: [{ name: "Klantbedrijf team", members: [JAN.email, PIET.email] }],
      sent: seededSent(),
    }),
  );
  listIds = seed.lists;
  assert.equal(seed.listed, 8, "Thunderbird lists the 8 seeded Sent messages");
  const admin = await api("POST", "/api/v1/auth/login", { body: { tenant: USER.tenant, email: USER.email, password: USER.password } });
  assert.equal(admin.status, 200);
  const put = await api("PUT", "/api/v1/tenant/policy", { token: admin.json.token, body: POLICY });
  assert.equal(put.status, 200, JSON.stringify(put.json));
  const product = (message) => testServer.command("product", { message });
  assert.deepEqual(await product({ type: "setTestHooks", hooks: { reportUrl } }), { ok: true });
  const signIn = await timed("sign in", () =>
    product({ type: "signIn", serverUrl: server.url, tenant: USER.tenant, email: USER.email, password: USER.password, lang: "en" }),
  );
  assert.equal(signIn.error, undefined, JSON.stringify(signIn.error));
  assert.equal(signIn.ok, true);
  assert.equal(signIn.policy, "fetched", "the tenant policy was fetched and cached");
  const wrong = await product({ type: "signIn", serverUrl: server.url, tenant: USER.tenant, email: USER.email, password: "wrong password!" });
  assert.equal(wrong.error?.code, "unauthorized", `a wrong password is refused: ${JSON.stringify(wrong)}`);
  const rebuilt = await timed("history from the Sent folder", () => product({ type: "rebuildHistory" }));
  assert.deepEqual({ count: rebuilt.count, folders: rebuilt.folders }, { count: 8, folders: 1 });
  const status = await product({ type: "status" });
  assert.equal(status.signedIn, true);
  assert.equal(status.historySize, 8);
  assert.ok(status.policyFetchedAt > 0);
  // The options page, as the user opens it, shows the same.
  const from = testServer.events.length;
  assert.equal((await product({ type: "openOptions" })).ok, true);
  const options = await testServer.waitForEvent((e) => e.event === "options-shown", 15_000, "the options page", from);
  assert.deepEqual(
    { server: options.server, tenant: options.tenant, email: options.email, lang: options.lang },
    { server: server.url, tenant: USER.tenant, email: USER.email, lang: "en" },
  );
  assert.match(options.status, new RegExp(`Signed in as ${USER.email}`));
  assert.match(options.status, /Contact history: 8 sent messages/);
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
  const events = testServer.events.slice(from);
  const checked = events.find((e) => e.event === "checked");
  assert.deepEqual(checked?.attachments, [{ name: "Planning_jaarafsluiting.pdf", size: 17 }], "attachments from compose.listAttachments");
  assert.equal(checked?.verdict, "send", JSON.stringify(checked));
  assert.deepEqual(checked.recipients.sort(), [JAN.email, PIET.email], "the list was expanded for the check");
  assert.ok(!events.some((e) => e.event === "warning-shown"), "no warning window");
  const registered = events.find((e) => e.event === "registered");
  assert.ok(registered, "the message was registered");
  assert.equal(registered.registration.track, false, "nothing at risk: not tracked");

  const { eml, envelope } = await smtp.message(1);
  assert.deepEqual(envelope.rcpt_tos.sort(), [JAN.email, PIET.email]);
  const parts = mimeParts(smtp.python, eml);
  assert.ok(parts.html, "an HTML part");
  assert.match(parts.html, /data-leakwatch="disclosure"/);
  assert.ok(parts.html.includes(`href="${registered.registration.info_url}"`), "the notice links the info page");
  assert.ok(parts.html.includes("Zullen we volgende week"), "the body is kept");
  assert.match(parts.html, /Boekhoudpartners B\.V\./, "the notice names the organisation from the tenant policy");
  assert.ok(!parts.html.includes(`${server.url}/p/`), "no pixel in an untracked message");
  assert.ok(parts.text?.includes(registered.registration.info_url), "the text part carries the notice too");
  assert.match(eml.toString("latin1"), /filename="?Planning_jaarafsluiting\.pdf/, "the attachment went along");
  sent.normal = registered.registration;
});

test("a misdirected mail raises the warning; going back sends nothing", async () => {
  assert.deepEqual(
    await testServer.command("product", { message: { type: "setTestHooks", hooks: { reportUrl, autoAnswer: "back" } } }),
    { ok: true },
  );
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
  assert.ok(!testServer.events.slice(from).some((e) => e.event === "registered"), "not registered");
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(smtp.count(), before, "nothing reached the SMTP server");
});

test("sent anyway (the warning waits longer than the idle timeout): disclosure and pixel arrive", async () => {
  await testServer.command("product", {
    message: { type: "setTestHooks", hooks: { reportUrl, autoAnswer: "send", answerDelayMs: ANSWER_DELAY_MS } },
  });
  const from = testServer.events.length;
  const result = await timed("send misdirected mail, send anyway", () =>
    testServer.command("send", {
      details: {
        to: [`Jan Jansen <${WRONG}>`],
        subject: "Jaarrekening 2025",
        body: "<html><body><p>Beste Jan,</p><p>Hierbij de jaarrekening 2025.</p></body></html>",
        isPlainText: false,
      },
    }),
  );
  assert.equal(result.sent, true, JSON.stringify(result));
  assert.ok(result.ms >= ANSWER_DELAY_MS, "the send waited for the answer");
  const events = testServer.events.slice(from);
  const shown = events.find((e) => e.event === "warning-shown");
  assert.ok(shown?.sendAnywayShown, "the warning offers to send anyway");
  assert.equal(events.find((e) => e.event === "answered")?.answer, "send");
  const registered = events.find((e) => e.event === "registered");
  assert.equal(registered?.registration.track, true, `sent despite a warning: tracked (${JSON.stringify(registered)})`);
  const { pixel_url: pixelUrl, info_url: infoUrl } = registered.registration;
  assert.ok(pixelUrl.startsWith(`${server.url}/p/`));

  const { eml, envelope } = await smtp.message(2);
  assert.deepEqual(envelope.rcpt_tos, [WRONG]);
  const parts = mimeParts(smtp.python, eml);
  assert.ok(parts.html.includes(`src="${pixelUrl}"`), "the pixel is in the HTML");
  assert.ok(parts.html.includes(`href="${infoUrl}"`), "with its notice");
  assert.ok(!parts.text.includes(pixelUrl), "never a pixel URL in the text part");
  sent.misdirected = { ...registered.registration, html: parts.html };
});

test("a plain-text mail gets the notice as text", async () => {
  const from = testServer.events.length;
  const result = await timed("send plain-text mail", () =>
    testServer.command("send", {
      details: { to: [`${ELS.name} <${ELS.email}>`], subject: "Afspraak morgen", plainTextBody: "Hoi Els,\n\nTot morgen om tien uur.\n\nAnna\n", isPlainText: true },
    }),
  );
  assert.equal(result.sent, true, JSON.stringify(result));
  const registered = testServer.events.slice(from).find((e) => e.event === "registered");
  assert.equal(registered?.isPlainText, true);
  const parts = mimeParts(smtp.python, (await smtp.message(3)).eml);
  assert.equal(parts.content_type, "text/plain");
  assert.ok(parts.text.includes("Tot morgen om tien uur."));
  assert.match(parts.text, /Privacy notice: .*this e-mail may contain/s);
  assert.ok(parts.text.includes(registered.registration.info_url));
  sent.plain = registered.registration;
  const status = await testServer.command("product", { message: { type: "status" } });
  assert.equal(status.historySize, 8 + 3, "each message sent went into the history");
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
  await testServer.command("product", {
    message: { type: "setTestHooks", hooks: { reportUrl, reportWrong: { messageId: sent.misdirected.id, recipients: [WRONG] } } },
  });
  const viewFrom = testServer.events.length;
  assert.equal((await testServer.command("product", { message: { type: "openView" } })).ok, true);
  const shownView = await testServer.waitForEvent((e) => e.event === "view-shown", 15_000, "the view page", viewFrom);
  const listed = Object.fromEntries(shownView.messages.map((m) => [m.id, m]));
  for (const registration of [sent.normal, sent.misdirected, sent.plain]) {
    assert.ok(listed[registration.id]?.canReport, `the view lists ${registration.id} with the report button`);
  }
  assert.match(listed[sent.misdirected.id].text, /Jaarrekening 2025.*tracked.*sent despite a warning/s);
  assert.match(listed[sent.normal.id].text, /not tracked/);
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
  const incident = { json: { id: mine[0].id } };
  const from = testServer.events.length;
  // A second open, now that the message is known to be misdirected.
  await renderInChromium(sent.misdirected.html, sent.misdirected.pixel_url);

  const shown = await timed("incident evidence", () =>
    until(async () => {
      const view = await api("GET", `/api/v1/incidents/${incident.json.id}`, { token });
      return view.json?.evidence?.hits_total >= 2 && view.json;
    }, 10_000, "both opens in the incident's evidence"),
  );
  assert.equal(shown.message_id, sent.misdirected.id);

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
  assert.equal(open.incident_id, incident.json.id);
  assert.equal(open.severity, "high");
  assert.equal(open.eventId, String(open.seq), "the event id is the alert's seq");
  const notified = await timed("alert notification in Thunderbird", () =>
    testServer.waitForEvent((e) => e.event === "alert" && e.alert.kind === "client_open" && e.alert.message_id === sent.misdirected.id, 45_000, "the add-on's client_open alert", from),
  );
  assert.equal(notified.alert.seq, open.seq);
  log(`the add-on got the client_open alert by ${notified.via}`);
  const notification = testServer.events.slice(from).find((e) => e.event === "notification" && e.title === open.title);
  assert.ok(notification, "shown as a Thunderbird notification");
  assert.match(notification.title, /Opened: your misdirected message/);
  assert.equal(
    testServer.events.filter((e) => e.event === "alert" && e.alert.seq === open.seq).length,
    1,
    "each alert is shown once",
  );
});

test("with the server down: the cached policy still blocks, and mail goes without notice or tracking", async () => {
  stop(server.child);
  await until(() => server.child.exitCode !== null || server.child.signalCode !== null, 10_000, "the server to stop");
  await testServer.command("product", { message: { type: "setTestHooks", hooks: { reportUrl, autoAnswer: "send" } } });
  let from = testServer.events.length;
  const before = smtp.count();
  const blocked = await timed("offline: send to a blocked domain", () =>
    testServer.command("send", {
      details: { to: ["info@concurrent-accountants.nl"], subject: "Overname", body: "<html><body><p>Hallo</p></body></html>", isPlainText: false },
    }),
  );
  assert.equal(blocked.sent, false, "a blocked message cannot be sent, even when 'send' is pressed");
  let events = testServer.events.slice(from);
  const checked = events.find((e) => e.event === "checked");
  assert.equal(checked?.verdict, "block", JSON.stringify(checked));
  assert.ok(checked.rules.includes("blocked-domain"), "the cached tenant policy applies offline");
  assert.equal(events.find((e) => e.event === "warning-shown")?.sendAnywayShown, false);
  assert.equal(smtp.count(), before);

  from = testServer.events.length;
  const result = await timed("offline: send a normal mail", () =>
    testServer.command("send", {
      details: { to: [`${JAN.name} <${JAN.email}>`], subject: "Even bellen?", body: "<html><body><p>Bel je me?</p></body></html>", isPlainText: false },
    }),
  );
  assert.equal(result.sent, true, JSON.stringify(result));
  events = testServer.events.slice(from);
  assert.equal(events.find((e) => e.event === "checked")?.verdict, "send");
  assert.ok(!events.some((e) => e.event === "registered"));
  const notice = events.find((e) => e.event === "notification");
  assert.equal(notice?.kind, "unreachable", JSON.stringify(notice));
  assert.match(notice.message, /without the privacy notice and without leak detection/);
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
