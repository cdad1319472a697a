import { test } from "node:test";
import assert from "node:assert/strict";
import { bootstrapHistory, historyMessages, newestFirst, normaliseRecord, sentFromHeader, withFolderRead, withSent } from "../lib/history.mjs";
import { Store } from "../lib/store.mjs";
import { ANNA, POLICY, core, sentHeaders } from "../testing.mjs";

/** Thunderbird's paging: `messages.list` gives a page and a list id while more follow. */
function messagesApi(folders, pageSize = 3, { totals } = {}) {
  const lists = new Map();
  let next = 1;
  const page = (id) => {
    const rest = lists.get(id);
    const messages = rest.splice(0, pageSize);
    if (!rest.length) {
      lists.delete(id);
      return { id: null, messages };
    }
    return { id, messages };
  };
  const calls = [];
  return {
    calls,
    sentFolders: async () => folders.map(({ id }) => ({ id, specialUse: ["sent"] })),
    list: async (folderId) => {
      calls.push(["list", folderId]);
      const id = `list-${next++}`;
      lists.set(id, [...folders.find((f) => f.id === folderId).headers]);
      return page(id);
    },
    continueList: async (id) => {
      calls.push(["continueList", id]);
      return page(id);
    },
    folderInfo: async (folderId) => ({ totalMessageCount: totals?.[folderId] ?? folders.find((f) => f.id === folderId).headers.length }),
  };
}

/** storage.local as Thunderbird gives it: asynchronous, and each call a separate turn. */
function memoryArea() {
  const data = {};
  const tick = () => new Promise((r) => setTimeout(r, 1));
  return {
    data,
    async get(key) {
      await tick();
      return key in data ? { [key]: structuredClone(data[key]) } : {};
    },
    async set(values) {
      await tick();
      Object.assign(data, structuredClone(values));
    },
    async remove(keys) {
      await tick();
      for (const key of [keys].flat()) delete data[key];
    },
  };
}

test("a header becomes a SentMessage: recipients parsed, date in RFC 3339", () => {
  const [first, , third] = sentHeaders();
  assert.deepEqual(sentFromHeader(first), {
    to: [{ address: "jan.jansen@klantbedrijf.nl", name: "Jan Jansen" }],
    cc: [],
    bcc: [],
    subject: "Jaarrekening 2024",
    message_id: "m0@boekhoudpartners.nl",
    sent_at: "2026-01-05T09:00:00.000Z",
  });
  assert.deepEqual(sentFromHeader(third).to, [{ address: "piet.bakker@klantbedrijf.nl", name: "Bakker, Piet" }]);
  assert.deepEqual(sentFromHeader(third).cc, [{ address: "jan.jansen@klantbedrijf.nl" }]);
  assert.equal(sentFromHeader({ recipients: ["undisclosed-recipients:;"], ccList: [], bccList: [], date: 0 }), null);
  assert.equal(sentFromHeader({ ...first, date: "not a date" }).sent_at, undefined);
});

test("bootstrap reads every page of every Sent folder and keeps the newest, newest first", async () => {
  const headers = sentHeaders();
  const api = messagesApi([
    { id: "sent-1", headers: headers.slice(0, 5) },
    { id: "sent-2", headers: headers.slice(5) },
  ]);
  const { history, folders, headers: read, complete } = await bootstrapHistory(api, { cap: 4 });
  assert.equal(complete, true);
  assert.equal(folders, 2);
  assert.equal(read, 7);
  assert.deepEqual(history.map((m) => m.subject), ["Concept", "Facturen", "Balans", "Offerte"]);
  assert.deepEqual(api.calls.map(([op]) => op), ["list", "continueList", "list"]);
  const all = await bootstrapHistory(messagesApi([{ id: "s", headers }], 2), { cap: 100 });
  assert.equal(all.history.length, 7);
});

test("a Sent folder Thunderbird has not read yet, or none at all, is an incomplete read", async () => {
  const headers = sentHeaders();
  const lazy = await bootstrapHistory(messagesApi([{ id: "s", headers: headers.slice(0, 2) }], 3, { totals: { s: 7 } }));
  assert.equal(lazy.complete, false, "2 of 7 listed");
  assert.equal((await bootstrapHistory(messagesApi([]))).complete, false, "no Sent folder shown yet");
  const empty = await bootstrapHistory(messagesApi([{ id: "s", headers: [] }]));
  assert.equal(empty.complete, true, "an empty Sent folder is read completely");
});

test("withSent keeps the add-on's sends apart from the folder read; a later read neither loses nor doubles them", () => {
  const folderRead = { history: newestFirst(sentHeaders().map(sentFromHeader)), folders: 1, headers: 7 };
  let record = withFolderRead(null, folderRead, 1);
  const copied = { to: [{ address: "x@y.nl" }], message_id: "new-1@boekhoudpartners.nl", sent_at: "2026-03-01T00:00:00Z" };
  const noCopy = { to: [{ address: "z@y.nl" }], message_id: "new-2@boekhoudpartners.nl", sent_at: "2026-03-02T00:00:00Z" };
  record = withSent(withSent(record, copied), noCopy);
  assert.deepEqual(historyMessages(record).slice(0, 2).map((m) => m.message_id), [noCopy.message_id, copied.message_id]);
  assert.equal(historyMessages(record).length, 9);
  // The Sent folder now has a copy of the first one (Thunderbird's fcc), not of the second.
  const reread = withFolderRead(record, { ...folderRead, history: newestFirst([copied, ...folderRead.history]) }, 2);
  assert.deepEqual(reread.local.map((m) => m.message_id), [noCopy.message_id], "the copied send leaves `local`");
  assert.equal(historyMessages(reread).length, 9, "each message once");
  assert.equal(historyMessages(record, 5).length, 5, "capped");
  // The 0.1.0 record shape still reads.
  assert.equal(historyMessages({ messages: folderRead.history, builtAt: 1 }).length, 7);
  assert.equal(normaliseRecord(null).local.length, 0);
});

test("concurrent sends and a folder read through the Store lose no history entry", async () => {
  const store = new Store(memoryArea());
  const folderRead = { history: newestFirst(sentHeaders().map(sentFromHeader)), folders: 1, headers: 7 };
  const sends = Array.from({ length: 20 }, (_, i) => ({ to: [{ address: `p${i}@klant${i}.nl` }], message_id: `s${i}@x`, sent_at: new Date(Date.UTC(2026, 5, 1, 0, i)).toISOString() }));
  await Promise.all([
    ...sends.map((sent) => store.update("history", null, (record) => withSent(record, sent))),
    store.update("history", null, (record) => withFolderRead(record, folderRead)),
  ]);
  const messages = historyMessages(await store.history());
  assert.equal(messages.length, 27);
  for (const sent of sends) assert.ok(messages.some((m) => m.message_id === sent.message_id), sent.message_id);
  // Without the queue, read-modify-write on the same storage loses entries: the test can fail.
  const raw = memoryArea();
  await Promise.all(sends.map(async (sent) => {
    const record = (await raw.get("history")).history ?? null;
    await raw.set({ history: withSent(record, sent) });
  }));
  assert.ok(normaliseRecord(raw.data.history).local.length < sends.length, "the unserialised writes did race");
});

test("with the bootstrapped history the real core knows Jan and catches the slip", async () => {
  const { Checker } = await core();
  const { history } = await bootstrapHistory(messagesApi([{ id: "s", headers: sentHeaders() }]));
  const slip = { from: ANNA, to: [{ address: "jan.jansen@klantbedrjif.nl", name: "Jan Jansen" }], subject: "Jaarrekening 2025" };
  const known = new Checker({ policy: POLICY, history });
  assert.equal(known.historySize, 7);
  const verdict = known.check(slip, "en");
  assert.equal(verdict.verdict, "warn");
  assert.ok(verdict.findings.some((f) => f.rule === "lookalike-domain" && f.suggestion === "jan.jansen@klantbedrijf.nl"), JSON.stringify(verdict.findings));
  assert.equal(known.check({ ...slip, to: [{ address: "jan.jansen@klantbedrijf.nl" }] }, "en").verdict, "send");
  // Without the history there is nothing to resemble.
  const empty = new Checker({ policy: POLICY });
  assert.ok(!empty.check(slip, "en").findings.some((f) => f.rule === "lookalike-domain"));
  // addSent after a send: the new address is known from then on, without a rebuild.
  const fresh = { from: ANNA, to: [{ address: "nieuw@adviesbureau-oost.nl" }] };
  const before = known.check(fresh, "en").findings.map((f) => f.rule);
  known.addSent({ to: fresh.to, sent_at: "2026-02-01T10:00:00Z" });
  known.addSent({ to: fresh.to, sent_at: "2026-02-02T10:00:00Z" });
  assert.ok(before.includes("new-recipient"), JSON.stringify(before));
  assert.ok(!known.check(fresh, "en").findings.some((f) => f.rule === "new-recipient"));
  known.free();
  empty.free();
});
