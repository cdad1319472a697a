// The shipped event handler under the Office.js host double: the notice appended at compose
// and replaced when the decision changes, the Smart Alert at send, and a mail that is never
// held up whatever the server does.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { ApiClient } from "../../common/api.mjs";
import { startLeakwatch } from "../../common/test-support/leakwatch-server.mjs";
import { startMisbehavingServer } from "../../common/test-support/misbehaving.mjs";
import { loadHandler, readScenarioJson } from "./support/load.mjs";

const USER = { tenant: "boekhoudpartners", email: "anna.deboer@boekhoudpartners.nl", password: "correct horse battery", domain: "boekhoudpartners.nl" };
const profile = readScenarioJson("profile-accountant.json");
const policy = { value: profile.policy, at: Date.now() + 3600 * 1000 };
const history = { fromFolders: profile.history, local: [], builtAt: 1, folders: 1, headers: profile.history.length, complete: true };
const FROM = "anna.deboer@boekhoudpartners.nl";

let leakwatch;
let misbehaving;
let token;

before(async () => {
  leakwatch = await startLeakwatch(USER);
  misbehaving = await startMisbehavingServer();
  const client = new ApiClient({ baseUrl: leakwatch.baseUrl });
  token = (await client.login(USER.tenant, USER.email, USER.password)).token;
});
after(() => {
  leakwatch?.stop();
  misbehaving?.close();
});

const session = (baseUrl, extra = {}) => ({ "leakwatch.session": { baseUrl, token, email: USER.email, ...extra }, "leakwatch.policy": policy });

function host({ runtime = "browser", to, bodyType = "html", baseUrl = leakwatch.baseUrl, roaming, attachments = [], lang } = {}) {
  const h = loadHandler({
    runtime,
    draft: { from: FROM, to, subject: "Jaarrekening 2025", body: "Beste Jan,\n\nBijgaand de stukken.", bodyType, attachments },
    roaming: roaming ?? session(baseUrl),
    displayLanguage: lang,
  });
  if (runtime === "browser") h.localStorage.setItem("leakwatch.history", JSON.stringify(history));
  return h;
}

const state = (h) => JSON.parse(h.session["leakwatch.state"]);
const sendLog = (h) => JSON.parse(h.localStorage?.getItem("leakwatch.sendLog") ?? "null") ?? h.roaming["leakwatch.sendLog"];

test("the shipped handler registers its four functions", () => {
  const h = host({ to: ["jan.jansen@klantbedrijf.nl"] });
  assert.deepEqual(Object.keys(h.handlers).sort(), ["onMessageAttachmentsChangedHandler", "onMessageRecipientsChangedHandler", "onMessageSendHandler", "onNewMessageComposeHandler"]);
});

test("clean path: the notice without a pixel in an HTML body, and the send goes", async () => {
  const h = host({ to: ["jan.jansen@klantbedrijf.nl"] });
  assert.deepEqual(await h.fire("onNewMessageComposeHandler"), {});
  const s = state(h);
  assert.equal(s.tracked, false, "an established client is not tracked (scope at_risk)");
  assert.ok(s.registration.info_url.startsWith(leakwatch.baseUrl));
  assert.equal(h.appended.coercionType, "html");
  assert.ok(h.appended.data.includes(`data-leakwatch-info="${s.registration.info_url}"`));
  assert.ok(!h.appended.data.includes("<img"), "no pixel when not tracked");
  const calls = h.appended.calls.length;
  const completed = await h.fire("onMessageSendHandler");
  assert.deepEqual(completed, { allowEvent: true });
  assert.equal(h.appended.calls.length, calls, "nothing appended inside OnMessageSend");
  const [entry] = sendLog(h);
  assert.equal(entry.outcome, "disclosed");
  assert.equal(entry.messageId, s.registration.id);
  const record = JSON.parse(h.localStorage.getItem("leakwatch.history"));
  assert.equal(record.local[0].to[0].address, "jan.jansen@klantbedrijf.nl", "the send is in the local history");
});

test("plain-text body: the text snippet, never a pixel, even when tracked", async () => {
  const h = host({ to: ["jan.jansen@klantbedrijf.nI"], bodyType: "text" });
  await h.fire("onNewMessageComposeHandler");
  const s = state(h);
  assert.equal(s.registration.track, true, "the server tracks a message at risk");
  assert.equal(h.appended.coercionType, "text");
  assert.ok(h.appended.data.startsWith("\n\n") && h.appended.data.includes(s.registration.info_url));
  assert.ok(!h.appended.data.includes(s.registration.pixel_url), "a text body never carries the pixel");
  assert.equal(s.tracked, false);
});

test("warning path: tracked notice at compose, a Smart Alert with the findings at send, Send anyway offered", async () => {
  const h = host({ to: ["jan.jansen@klantbedrijf.nI"], lang: "nl-NL" });
  await h.fire("onNewMessageComposeHandler");
  const s = state(h);
  assert.equal(s.tracked, true);
  assert.ok(h.appended.data.includes(`src="${s.registration.pixel_url}"`), "the pixel inside the notice");
  const alert = await h.fire("onMessageSendHandler");
  assert.equal(alert.allowEvent, false);
  assert.equal(alert.sendModeOverride, "promptUser");
  assert.equal(alert.commandId, "leakwatchOpenPane");
  assert.ok(alert.errorMessage.startsWith("leakwatch vond iets"), alert.errorMessage);
  assert.ok(alert.errorMessage.includes("jan.jansen@klantbedrijf.nl"), "the suggestion is named");
  assert.ok(alert.errorMessage.length <= 500 && alert.errorMessageMarkdown.length <= 500);
  assert.ok(alert.errorMessageMarkdown.startsWith("**"));
  assert.equal(sendLog(h)[0].outcome, "warned");
  assert.equal(JSON.parse(h.localStorage.getItem("leakwatch.history")).local.length, 0, "a stopped send is not history");
});

test("the notice says whether this mail is tracked, in the user's language, and its link opens the page in that language", async () => {
  // Dutch, tracked (a lookalike recipient is at risk): the tracked wording and ?lang=nl.
  const nl = host({ to: ["jan.jansen@klantbedrijf.nI"], lang: "nl-NL" });
  await nl.fire("onNewMessageComposeHandler");
  const tracked = state(nl);
  assert.equal(tracked.tracked, true);
  assert.ok(tracked.registration.info_url.endsWith("?lang=nl"), tracked.registration.info_url);
  assert.ok(nl.appended.data.includes("Privacymelding: deze e-mail wordt gevolgd."), nl.appended.data);
  assert.ok(nl.appended.data.includes(`href="${tracked.registration.info_url}"`), "the link carries the notice's language");
  const words = nl.appended.data.replace(/<[^>]*>/g, " ");
  assert.ok(!/\b(tracked|notice|image|object|more information)\b/i.test(words), `no English in the Dutch notice: ${words}`);
  // English, not tracked (an established client): says so, and mentions no image.
  const en = host({ to: ["jan.jansen@klantbedrijf.nl"], lang: "en-GB" });
  await en.fire("onNewMessageComposeHandler");
  const untracked = state(en);
  assert.equal(untracked.tracked, false);
  assert.ok(untracked.registration.info_url.endsWith("?lang=en"), untracked.registration.info_url);
  assert.ok(en.appended.data.includes("Privacy notice: this e-mail is not tracked."), en.appended.data);
  assert.ok(!/image|<img/i.test(en.appended.data), "an untracked notice mentions no image");
  // A plain-text body cannot carry the image: the untracked words even for a tracked registration.
  const text = host({ to: ["jan.jansen@klantbedrijf.nI"], lang: "nl-NL", bodyType: "text" });
  await text.fire("onNewMessageComposeHandler");
  assert.equal(state(text).registration.track, true);
  assert.ok(text.appended.data.includes("Privacymelding: deze e-mail wordt niet gevolgd."), text.appended.data);
  assert.ok(!/plaatje|afbeelding/.test(text.appended.data), "a text notice mentions no image");
  assert.ok(text.appended.data.includes(`${state(text).registration.info_url}`) && state(text).registration.info_url.endsWith("?lang=nl"));
});

test("an HTML body is read as HTML: an IBAN in a table is seen where a text read gives nothing", async () => {
  const h = loadHandler({
    draft: {
      from: FROM, to: ["directie@klantbedrijf.nl"], subject: "Betaalgegevens", bodyType: "html",
      html: "<html><head><style>td{color:red}</style></head><body><table><tr><td>Het rekeningnummer is</td><td>NL91&nbsp;ABNA 0417 1643 00.</td></tr></table></body></html>",
    },
    roaming: { "leakwatch.policy": policy },
  });
  h.localStorage.setItem("leakwatch.history", JSON.stringify(history));
  const alert = await h.fire("onMessageSendHandler");
  assert.equal(alert.allowEvent, false);
  assert.deepEqual(JSON.parse(alert.contextData).rules, ["sensitive-content"]);
});

test("Markdown only where the requirement set has it (Mailbox 1.15)", async () => {
  const h = loadHandler({ draft: { from: FROM, to: ["jan.jansen@klantbedrijf.nI"] }, roaming: { "leakwatch.policy": policy }, mailboxVersion: "1.14" });
  h.localStorage.setItem("leakwatch.history", JSON.stringify(history));
  const alert = await h.fire("onMessageSendHandler");
  assert.equal(alert.allowEvent, false);
  assert.equal(alert.errorMessageMarkdown, undefined);
});

test("blocked domain: stopped without Send anyway", async () => {
  const roaming = session(leakwatch.baseUrl);
  roaming["leakwatch.policy"] = { value: { ...profile.policy, blocked_domains: ["concurrent.nl"] }, at: policy.at };
  const h = host({ to: ["info@concurrent.nl"], roaming });
  const alert = await h.fire("onMessageSendHandler");
  assert.equal(alert.allowEvent, false);
  assert.equal(alert.sendModeOverride, undefined, "the manifest's send mode (softBlock) holds");
  assert.ok(alert.errorMessage.startsWith("This message cannot be sent"), alert.errorMessage);
  assert.equal(sendLog(h)[0].outcome, "blocked");
});

test("the decision changes: the tracked notice is replaced, the stale pixel never left behind", async () => {
  const h = host({ to: ["jan.jansen@klantbedrijf.nI"] });
  await h.fire("onNewMessageComposeHandler");
  const first = state(h);
  assert.equal(first.tracked, true);
  h.setRecipients("to", ["jan.jansen@klantbedrijf.nl"]);
  await h.fire("onMessageRecipientsChangedHandler");
  const second = state(h);
  assert.notEqual(second.registration.id, first.registration.id, "a new registration for the new recipients");
  assert.equal(second.tracked, false);
  assert.ok(!h.appended.data.includes("<img") && h.appended.data.includes(second.registration.info_url));
  assert.ok(!h.appended.data.includes(first.registration.info_url));
  const clears = h.appended.calls.filter((c) => c.data === null).length;
  assert.ok(clears >= 2, "each decision clears before it appends");
  assert.deepEqual(await h.fire("onMessageSendHandler"), { allowEvent: true });
});

test("an attachment change with the same recipients keeps the registration", async () => {
  const h = host({ to: ["jan.jansen@klantbedrijf.nl"] });
  await h.fire("onNewMessageComposeHandler");
  const first = state(h);
  h.setAttachments([{ name: "Jaarrekening_Klantbedrijf_2025.pdf", size: 1000 }]);
  await h.fire("onMessageAttachmentsChangedHandler");
  assert.equal(state(h).registration.id, first.registration.id);
});

test("recipients changed after the notice: a stale pixel stops the send once, then it goes", async () => {
  const h = host({ to: ["jan.jansen@klantbedrijf.nI"] });
  await h.fire("onNewMessageComposeHandler");
  h.setRecipients("to", ["jan.jansen@klantbedrijf.nl"]); // no recipients event yet
  const first = await h.fire("onMessageSendHandler");
  assert.equal(first.allowEvent, false);
  assert.ok(first.errorMessage.includes("Send again"));
  assert.deepEqual(await h.fire("onMessageSendHandler"), { allowEvent: true });
  assert.equal(sendLog(h)[0].reason, "stale_notice");
});

for (const [kind, reason] of [["down", "unreachable"], ["silent", "timeout"], ["stalled", "timeout"], ["expired", "expired"], ["failing", "server_error"], ["garbled", "malformed_response"], ["incomplete", "malformed_response"], ["refused", "refused"]]) {
  test(`backend ${kind}: no notice, the reason kept, compose done within the bound, send immediate`, async () => {
    const h = host({ to: ["jan.jansen@klantbedrijf.nl"], baseUrl: misbehaving.baseUrl(kind) });
    const started = Date.now();
    assert.deepEqual(await h.fire("onNewMessageComposeHandler"), {});
    const composeMs = Date.now() - started;
    assert.ok(composeMs < 4000 + 3000 + 1000, `compose took ${composeMs} ms`);
    const s = state(h);
    assert.equal(s.registration, null);
    assert.equal(s.reason, reason);
    assert.equal(h.appended.data, null, "nothing appended: no notice without a registration");
    assert.ok(h.notifications.at(-1).details.message.includes("without the privacy notice"));
    const sendStarted = Date.now();
    assert.deepEqual(await h.fire("onMessageSendHandler"), { allowEvent: true });
    assert.ok(Date.now() - sendStarted < 1000, "the send waits for no server");
    const [entry] = sendLog(h);
    assert.equal(entry.outcome, "untracked");
    assert.equal(entry.reason, reason);
  });
}

test("not signed in, and an expired sign-in, are reasons too", async () => {
  const signedOut = host({ to: ["jan.jansen@klantbedrijf.nl"], roaming: { "leakwatch.policy": policy } });
  await signedOut.fire("onNewMessageComposeHandler");
  assert.equal(state(signedOut).reason, "not_signed_in");
  const expired = host({ to: ["jan.jansen@klantbedrijf.nl"], roaming: session(leakwatch.baseUrl, { expires_at: "2020-01-01T00:00:00Z" }) });
  await expired.fire("onNewMessageComposeHandler");
  assert.equal(state(expired).reason, "expired");
  // The server's login answers expires_at in Unix milliseconds.
  const expiredMs = host({ to: ["jan.jansen@klantbedrijf.nl"], roaming: session(leakwatch.baseUrl, { expires_at: Date.now() - 1000 }) });
  await expiredMs.fire("onNewMessageComposeHandler");
  assert.equal(state(expiredMs).reason, "expired");
  const validMs = host({ to: ["jan.jansen@klantbedrijf.nl"], roaming: session(leakwatch.baseUrl, { expires_at: Date.now() + 3600_000 }) });
  await validMs.fire("onNewMessageComposeHandler");
  assert.ok(state(validMs).registration);
});

test("a revoked token at the real server (401): untracked, reason expired", async () => {
  const h = host({ to: ["jan.jansen@klantbedrijf.nl"], roaming: { ...session(leakwatch.baseUrl), "leakwatch.session": { baseUrl: leakwatch.baseUrl, token: "not-a-token", email: USER.email } } });
  await h.fire("onNewMessageComposeHandler");
  assert.equal(state(h).reason, "expired");
  assert.deepEqual(await h.fire("onMessageSendHandler"), { allowEvent: true });
});

test("classic Outlook on Windows: JavaScript-only runtime, wasm2js, no AbortController, history in roamingSettings", async () => {
  const h = host({ runtime: "javascript-only", to: ["jan.jansen@klantbedrijf.nl"] });
  await h.fire("onNewMessageComposeHandler");
  assert.equal(h.engine(), "wasm2js");
  assert.ok(state(h).registration, "registered through the real server without AbortController");
  assert.deepEqual(await h.fire("onMessageSendHandler"), { allowEvent: true });
  const record = h.roaming["leakwatch.history"];
  assert.deepEqual(JSON.parse(JSON.stringify(record.local[0].to)), ["jan.jansen@klantbedrijf.nl"], "compact: addresses only");
  assert.equal(h.roaming["leakwatch.sendLog"][0].outcome, "disclosed");
  assert.ok(JSON.stringify(h.roaming).length < 32 * 1024);
});

test("classic runtime with a stalled server: still bounded without AbortController", async () => {
  const h = host({ runtime: "javascript-only", to: ["jan.jansen@klantbedrijf.nl"], baseUrl: misbehaving.baseUrl("stalled") });
  const started = Date.now();
  await h.fire("onNewMessageComposeHandler");
  assert.ok(Date.now() - started < 8000);
  assert.equal(state(h).reason, "timeout");
});

test("roamingSettings history stays within its budget however many sends", async () => {
  const h = host({ runtime: "javascript-only", to: ["a@b.nl"], roaming: {} });
  const storage = h.roaming;
  // Unrelated domains, so that no send is stopped for looking like an earlier one.
  const hex = (i) => createHash("sha1").update(String(i)).digest("hex");
  const address = (i) => `${hex(i).slice(0, 20)}@${hex(i).slice(20, 36)}.nl`;
  for (let i = 0; i < 400; i++) {
    h.setRecipients("to", [address(i)]);
    assert.deepEqual(await h.fire("onMessageSendHandler"), { allowEvent: true });
  }
  assert.ok(JSON.stringify(storage["leakwatch.history"]).length <= 20 * 1024);
  assert.equal(storage["leakwatch.history"].local[0].to[0], address(399), "the newest kept");
});
