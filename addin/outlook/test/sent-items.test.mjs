// The first contact history from Sent Items: the shipped reader against a real HTTP server on
// loopback that answers as Microsoft Graph does (Graph itself cannot be reached from here):
// the query it asks, paging, conversion, the cap, throttling, consent, a stalled answer, a
// paging link to another origin, and the merge with the sends the add-in saw itself.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { readSentItems, sentFromGraph, withSentItemsRead, SentItemsError } from "../src/sent-items.mjs";
import { AddinStorage, KEYS, ROAMING_HISTORY_BYTES } from "../src/storage.mjs";

const TOKEN = "graph-token-for-anna";
let server;
let base;
/** Per test: (url, request, response) => void. */
let answer;
const seen = [];

before(async () => {
  server = http.createServer((request, response) => {
    seen.push({ url: request.url, authorization: request.headers.authorization });
    answer(new URL(request.url, base), request, response);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

function message(i, extra = {}) {
  return {
    toRecipients: [{ emailAddress: { name: `Klant ${i}`, address: `klant${i}@klant${i % 7}.nl` } }],
    ccRecipients: i % 3 ? [] : [{ emailAddress: { name: "", address: "collega@boekhoudpartners.nl" } }],
    bccRecipients: [],
    subject: `Offerte ${i}`,
    internetMessageId: `<m${i}@boekhoudpartners.nl>`,
    sentDateTime: new Date(Date.UTC(2026, 10, 30) - i * 3600_000).toISOString(),
    ...extra,
  };
}

/** Graph's shape: `value` and, while there is more, `@odata.nextLink` on Graph's origin. */
function pages(total, pageSize = 100, nextOrigin = () => base) {
  return (url, _request, response) => {
    const skip = Number(url.searchParams.get("$skip") || 0);
    const value = Array.from({ length: Math.min(pageSize, total - skip) }, (_, k) => message(skip + k));
    const body = { value };
    if (skip + pageSize < total) body["@odata.nextLink"] = `${nextOrigin()}/v1.0/me/mailFolders('sentitems')/messages?$skip=${skip + pageSize}`;
    response.writeHead(200, { "Content-Type": "application/json" });
    response.end(JSON.stringify(body));
  };
}

test("asks Graph for recipients and dates only, newest first, and follows its pages", async () => {
  seen.length = 0;
  answer = pages(250);
  const result = await readSentItems({ token: TOKEN, graph: `${base}/v1.0` });
  assert.equal(result.headers, 250);
  assert.equal(result.history.length, 250);
  assert.equal(result.complete, true);
  assert.equal(result.folders, 1);
  assert.equal(seen.length, 3);
  const first = new URL(seen[0].url, base);
  assert.equal(first.pathname, "/v1.0/me/mailFolders('sentitems')/messages");
  assert.equal(first.searchParams.get("$select"), "toRecipients,ccRecipients,bccRecipients,sentDateTime,subject,internetMessageId");
  assert.equal(first.searchParams.get("$orderby"), "sentDateTime desc");
  assert.equal(first.searchParams.get("$top"), "100");
  assert.ok(seen.every((r) => r.authorization === `Bearer ${TOKEN}`));
  assert.deepEqual(result.history[0], {
    to: [{ address: "klant0@klant0.nl", name: "Klant 0" }],
    cc: [{ address: "collega@boekhoudpartners.nl" }],
    bcc: [],
    subject: "Offerte 0",
    message_id: "<m0@boekhoudpartners.nl>",
    sent_at: "2026-11-30T00:00:00.000Z",
  });
});

test("keeps the newest `cap` messages and stops asking once it has them", async () => {
  seen.length = 0;
  answer = pages(1000);
  const result = await readSentItems({ token: TOKEN, graph: `${base}/v1.0`, cap: 150 });
  assert.equal(result.history.length, 150);
  assert.equal(seen.length, 2, "two pages hold the newest 150");
  assert.equal(result.history[0].subject, "Offerte 0");
});

test("messages without a usable recipient are left out", () => {
  assert.equal(sentFromGraph({ toRecipients: [], ccRecipients: [{ emailAddress: { address: "geen-adres" } }], sentDateTime: "2026-11-01T10:00:00Z" }), null);
  assert.deepEqual(sentFromGraph({ toRecipients: [{ emailAddress: { name: "jan@klant.nl", address: "jan@klant.nl" } }], sentDateTime: "nonsense" }), { to: [{ address: "jan@klant.nl" }], cc: [], bcc: [] });
});

test("throttling is answered by Retry-After, within the deadline", async () => {
  let calls = 0;
  const paged = pages(10);
  answer = (url, request, response) => {
    if (calls++ === 0) {
      response.writeHead(429, { "Retry-After": "1" });
      response.end("{}");
      return;
    }
    paged(url, request, response);
  };
  const started = Date.now();
  const result = await readSentItems({ token: TOKEN, graph: `${base}/v1.0` });
  assert.equal(result.history.length, 10);
  assert.ok(Date.now() - started >= 900, "waited as asked");
  // A Retry-After beyond the deadline is not waited for.
  calls = 0;
  answer = (_url, _request, response) => {
    response.writeHead(429, { "Retry-After": "120" });
    response.end("{}");
  };
  await assert.rejects(readSentItems({ token: TOKEN, graph: `${base}/v1.0`, timeoutMs: 2_000 }), (err) => err instanceof SentItemsError && err.reason === "timeout");
});

test("no permission is a consent error; a server error is unavailable; garbage is malformed", async () => {
  for (const [status, body, reason] of [[401, "{}", "consent"], [403, "{}", "consent"], [500, "{}", "unavailable"], [200, "<html>", "malformed"], [200, "{\"value\": 3}", "malformed"]]) {
    answer = (_url, _request, response) => {
      response.writeHead(status, { "Content-Type": "application/json" });
      response.end(body);
    };
    await assert.rejects(readSentItems({ token: TOKEN, graph: `${base}/v1.0` }), (err) => err instanceof SentItemsError && err.reason === reason, `${status} ${body}`);
  }
});

test("a stalled answer is cut at the deadline; pages read before it are kept", async () => {
  // Headers, then the body never ends.
  answer = (_url, _request, response) => {
    response.writeHead(200, { "Content-Type": "application/json" });
    response.write("{\"value\": [");
  };
  const started = Date.now();
  await assert.rejects(readSentItems({ token: TOKEN, graph: `${base}/v1.0`, timeoutMs: 1_500 }), (err) => err.reason === "timeout");
  const took = Date.now() - started;
  assert.ok(took >= 1_400 && took < 3_000, `bounded: ${took} ms`);

  const paged = pages(300);
  answer = (url, request, response) => {
    if (url.searchParams.get("$skip") === "200") {
      response.writeHead(200, { "Content-Type": "application/json" });
      response.write("{");
      return;
    }
    paged(url, request, response);
  };
  const partial = await readSentItems({ token: TOKEN, graph: `${base}/v1.0`, timeoutMs: 1_500 });
  assert.equal(partial.history.length, 200);
  assert.equal(partial.complete, false);
});

test("a paging link to another origin is not followed (the token stays with Graph)", async () => {
  seen.length = 0;
  answer = pages(250, 100, () => "http://127.0.0.2:9");
  const result = await readSentItems({ token: TOKEN, graph: `${base}/v1.0` });
  assert.equal(result.history.length, 100);
  assert.equal(result.complete, false);
  assert.equal(seen.length, 1);
});

test("the merge keeps the add-in's own sends that Sent Items does not hold, and drops those it does", () => {
  const fromGraph = { history: [sentFromGraph(message(1)), sentFromGraph(message(2))], folders: 1, headers: 2, complete: true };
  const copy = { to: [{ address: "KLANT1@klant1.nl" }], cc: [], bcc: [], sent_at: new Date(Date.parse(message(1).sentDateTime) - 30_000).toISOString() };
  const other = { to: [{ address: "nieuw@elders.nl" }], cc: [], bcc: [], sent_at: "2026-12-01T09:00:00.000Z" };
  const record = withSentItemsRead({ fromFolders: [], local: [copy, other], builtAt: 0 }, fromGraph, 1234);
  assert.equal(record.builtAt, 1234);
  assert.equal(record.fromFolders.length, 2);
  assert.deepEqual(record.local, [other], "the local copy of message 1 is the same send");
});

function roamingSettings() {
  const values = {};
  return {
    values,
    get: (key) => values[key],
    set: (key, value) => { values[key] = value; },
    remove: (key) => { delete values[key]; },
    saveAsync: (callback) => callback({ status: "succeeded" }),
  };
}

function fakeLocalStorage() {
  const values = new Map();
  return { getItem: (k) => (values.has(k) ? values.get(k) : null), setItem: (k, v) => values.set(k, String(v)), removeItem: (k) => values.delete(k) };
}

test("on classic Outlook on Windows the pane keeps the history where the event handler reads it", async () => {
  const roaming = roamingSettings();
  const pane = new AddinStorage({ roamingSettings: roaming, global: { localStorage: fakeLocalStorage() }, platform: "PC" });
  assert.equal(pane.historyArea, "roamingSettings", "the JavaScript-only handler has no localStorage");
  answer = pages(2000);
  await pane.storeSentItems(await readSentItems({ token: TOKEN, graph: `${base}/v1.0` }));
  assert.ok(JSON.stringify(roaming.values[KEYS.history]).length <= ROAMING_HISTORY_BYTES, "within the roaming budget");
  const handler = new AddinStorage({ roamingSettings: roaming, global: {}, platform: "PC" });
  assert.ok(handler.history().length > 100, "the handler sees what the pane read");
  assert.equal(handler.history()[0].to[0], "klant0@klant0.nl", "newest kept, reduced to addresses");

  const web = new AddinStorage({ roamingSettings: roamingSettings(), global: { localStorage: fakeLocalStorage() }, platform: "OfficeOnline" });
  assert.equal(web.historyArea, "localStorage");
});
