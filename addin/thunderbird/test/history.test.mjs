import { test } from "node:test";
import assert from "node:assert/strict";
import { bootstrapHistory, newestFirst, sentFromHeader, withSent } from "../lib/history.mjs";
import { ANNA, POLICY, core, sentHeaders } from "../testing.mjs";

/** Thunderbird's paging: `messages.list` gives a page and a list id while more follow. */
function messagesApi(folders, pageSize = 3) {
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
  };
}

test("a header becomes a SentMessage: recipients parsed, date in RFC 3339", () => {
  const [first, , third] = sentHeaders();
  assert.deepEqual(sentFromHeader(first), {
    to: [{ address: "jan.jansen@klantbedrijf.nl", name: "Jan Jansen" }],
    cc: [],
    bcc: [],
    subject: "Jaarrekening 2024",
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
  const { history, folders, headers: read } = await bootstrapHistory(api, { cap: 4 });
  assert.equal(folders, 2);
  assert.equal(read, 7);
  assert.deepEqual(history.map((m) => m.subject), ["Concept", "Facturen", "Balans", "Offerte"]);
  assert.deepEqual(api.calls.map(([op]) => op), ["list", "continueList", "list"]);
  const all = await bootstrapHistory(messagesApi([{ id: "s", headers }], 2), { cap: 100 });
  assert.equal(all.history.length, 7);
});

test("withSent puts the new message first and keeps the cap", () => {
  const history = newestFirst(sentHeaders().map(sentFromHeader));
  const next = withSent(history, { to: [{ address: "x@y.nl" }], sent_at: "2026-03-01T00:00:00Z" }, 5);
  assert.equal(next.length, 5);
  assert.equal(next[0].to[0].address, "x@y.nl");
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
