// The send path (lib/send.mjs) with the real WebAssembly core, against a server that
// misbehaves on purpose in every way (addin/common/test-support/misbehaving.mjs) and against the real
// leakwatch server: the mail always goes within the bound, untracked, with the reason in the
// send log; a retry after an SMTP failure reuses its registration.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { ApiClient } from "../common/api.mjs";
import { startMisbehavingServer } from "../common/test-support/misbehaving.mjs";
import { startLeakwatch } from "../common/test-support/leakwatch-server.mjs";
import { REGISTER_TIMEOUT_MS, REASONS, SendPath } from "../lib/send.mjs";
import { KEYS, Store } from "../lib/store.mjs";
import { historyMessages } from "../lib/history.mjs";
import { indexAddressBooks } from "../lib/recipients.mjs";
import { ANNA, POLICY, addressBooks, core, dom, parse, sentHeaders } from "../testing.mjs";
import { sentFromHeader } from "../lib/history.mjs";

/** The bound a send may wait on the server, with room for the check and the notification. */
const BOUND_MS = REGISTER_TIMEOUT_MS + 1_000;
const USER = { tenant: "acme", email: ANNA, password: "a long enough password", domain: "boekhoudpartners.nl" };

let bad;
let leakwatch;
let Checker;
const measured = {};

before(async () => {
  ({ Checker } = await core());
  bad = await startMisbehavingServer();
  leakwatch = await startLeakwatch(USER);
});

after(() => {
  bad?.close();
  leakwatch?.stop();
  console.log(`send path, ms until the mail goes, per server behaviour: ${JSON.stringify(measured)}`);
});

function memoryArea() {
  const data = {};
  return {
    data,
    async get(key) {
      return key in data ? { [key]: structuredClone(data[key]) } : {};
    },
    async set(values) {
      Object.assign(data, structuredClone(values));
    },
    async remove(keys) {
      for (const key of [keys].flat()) delete data[key];
    },
  };
}

/** A SendPath as the background page builds it, over `client()`. */
function sendPath({ client, expired = false, answer = "send" }) {
  const store = new Store(memoryArea());
  const notices = [];
  const checker = new Checker({ policy: POLICY, history: sentHeaders().map(sentFromHeader) });
  const path = new SendPath({
    store,
    checker: async () => checker,
    client,
    expired: async () => expired,
    askSender: async () => answer,
    notify: async (kind, title, text) => notices.push({ kind, title, text }),
    DOMParser: dom.DOMParser,
  });
  return { path, store, notices };
}

const index = indexAddressBooks(addressBooks());
const context = { lang: "en", attachments: [{ name: "Jaarrekening_2025.pdf", size: 1000 }], index, identityEmail: ANNA };
/** A slip to a lookalike of Jan's domain: a warning, sent anyway, so it would be tracked. */
const SLIP = {
  from: ANNA,
  to: ["Jan Jansen <jan.jansen@klantbedrjif.nl>"],
  cc: [],
  bcc: [],
  subject: "Jaarrekening 2025",
  isPlainText: false,
  body: "<html><body><p>Beste Jan,</p><p>Hierbij de jaarrekening.</p></body></html>",
};

test("whatever the server does, the mail goes within the bound, untracked, with the reason logged", async () => {
  const cases = {
    down: REASONS.unreachable,
    silent: REASONS.timeout,
    slow: REASONS.timeout,
    stalled: REASONS.timeout,
    truncated: REASONS.unreachable,
    failing: REASONS.serverError,
    garbled: REASONS.malformed,
    incomplete: REASONS.malformed,
    refused: REASONS.refused,
    expired: REASONS.expired,
  };
  // The cases run side by side, as sends from several composers would.
  await Promise.all(
    Object.entries(cases).map(async ([kind, reason]) => {
      const { path, store, notices } = sendPath({ client: async () => new ApiClient({ baseUrl: bad.baseUrl(kind), token: "t" }) });
      const started = Date.now();
      const result = await path.beforeSend(1, SLIP, context);
      const ms = Date.now() - started;
      measured[kind] = ms;
      assert.deepEqual(result, {}, `${kind}: sent as it is (no cancel, no edited body)`);
      assert.ok(ms < BOUND_MS, `${kind}: the mail waited ${ms} ms`);
      const [entry] = await store.sendLog();
      assert.equal(entry.outcome, "untracked", kind);
      assert.equal(entry.reason, reason, `${kind}: ${entry.detail}`);
      assert.equal(entry.overridden, true);
      assert.equal(notices.length, 1, `${kind}: the sender is told once`);
      assert.match(notices[0].text, kind === "expired" ? /sign-in has expired/ : /without the privacy notice and without leak detection/);
      assert.doesNotMatch(notices[0].text, /127\.0\.0\.1|HTTP|within \d+ ms/, `${kind}: the notification says why in words, not the technical error`);
      assert.deepEqual(await store.get(KEYS.pendingSends, {}), {}, `${kind}: no registration to reuse`);
    }),
  );
});

test("signed out, or a sign-in that expired on this machine: no request at all, the mail goes", async () => {
  for (const [expired, reason] of [[false, REASONS.notSignedIn], [true, REASONS.expired]]) {
    const { path, store, notices } = sendPath({ client: async () => null, expired });
    assert.deepEqual(await path.beforeSend(1, SLIP, context), {});
    assert.equal((await store.sendLog())[0].reason, reason);
    assert.equal(notices.length, 1);
  }
});

test("going back cancels the send and registers nothing", async () => {
  let asked = 0;
  const { path, store } = sendPath({ client: async () => { asked++; return null; }, answer: "back" });
  assert.deepEqual(await path.beforeSend(1, SLIP, context), { cancel: true });
  assert.equal((await store.sendLog())[0].outcome, "cancelled");
  assert.equal(asked, 0);
});

test("with the real server: tracked, disclosed once; a retry after an SMTP failure reuses the registration", async () => {
  const client = new ApiClient({ baseUrl: leakwatch.baseUrl });
  await client.login(USER.tenant, USER.email, USER.password);
  let registrations = 0;
  const counting = new ApiClient({ baseUrl: leakwatch.baseUrl, token: client.token });
  const register = counting.register.bind(counting);
  counting.register = (...args) => {
    registrations++;
    return register(...args);
  };
  const { path, store } = sendPath({ client: async () => counting });
  const first = await path.beforeSend(7, SLIP, context);
  assert.ok(first.details?.body, "an edited body");
  const [entry] = await store.sendLog();
  assert.equal(entry.outcome, "tracked", JSON.stringify(entry));
  const html = parse(first.details.body);
  assert.equal(html.querySelectorAll('[data-leakwatch="disclosure"]').length, 1);
  assert.equal(html.querySelectorAll("img").length, 1, "the pixel");
  // SMTP refuses: Thunderbird reports the error; the composer, with our notice, stays open.
  assert.equal(await path.afterSend(7, { error: "451 try again" }), null);
  const retry = await path.beforeSend(7, { ...SLIP, body: first.details.body }, context);
  assert.equal(registrations, 1, "no second registration");
  const again = parse(retry.details.body);
  assert.equal(again.querySelectorAll('[data-leakwatch="disclosure"]').length, 1, "no second notice");
  assert.equal(again.querySelectorAll("img").length, 1, "no second pixel");
  assert.equal((await store.sendLog())[0].messageId, entry.messageId);
  // This time it goes: into the history, and the registration is done with.
  const sent = await path.afterSend(7, { headerMessageId: "retry-1@boekhoudpartners.nl" });
  assert.equal(sent.message_id, "retry-1@boekhoudpartners.nl");
  assert.equal(historyMessages(await store.history())[0].message_id, "retry-1@boekhoudpartners.nl");
  assert.deepEqual(await store.get(KEYS.pendingSends, {}), {});

  // A retry with other recipients is another message: registered anew, its notice replacing
  // the earlier one (HTML and plain text alike).
  const changed = await path.beforeSend(8, SLIP, context);
  await path.afterSend(8, { error: "451" });
  const other = await path.beforeSend(8, { ...SLIP, to: [...SLIP.to, "piet.bakker@klantbedrijf.nl"], body: changed.details.body }, context);
  assert.equal(registrations, 3);
  const replaced = parse(other.details.body);
  assert.equal(replaced.querySelectorAll('[data-leakwatch="disclosure"]').length, 1, "the earlier notice is replaced");
  const text = { ...SLIP, isPlainText: true, plainTextBody: "Beste Jan,\n\nHierbij de jaarrekening.\n" };
  const plain = await path.beforeSend(9, text, context);
  await path.afterSend(9, { error: "451" });
  const plainAgain = await path.beforeSend(9, { ...text, cc: ["piet.bakker@klantbedrijf.nl"], plainTextBody: plain.details.plainTextBody }, context);
  assert.equal((plainAgain.details.plainTextBody.match(/Privacy notice/g) ?? []).length, 1, plainAgain.details.plainTextBody);
  assert.ok(plainAgain.details.plainTextBody.startsWith("Beste Jan,"));
});
