import { test } from "node:test";
import assert from "node:assert/strict";
import { htmlToText, messageFromDetails, senderOf, sentRecord } from "../lib/compose.mjs";
import { bootstrapHistory } from "../lib/history.mjs";
import { indexAddressBooks } from "../lib/recipients.mjs";
import { ANNA, POLICY, addressBooks, core, dom, sentHeaders } from "../testing.mjs";

/** What onBeforeSend hands over for an HTML reply with a quote (Thunderbird 128+, MV3). */
const DETAILS = {
  identityId: "id1",
  from: `Anna de Vries <${ANNA}>`,
  to: ["Klantbedrijf team <Klantbedrijf team>"],
  cc: [{ nodeId: "c-jan", type: "contact" }],
  bcc: [],
  subject: "Re: Jaarrekening 2025",
  isPlainText: false,
  body:
    '<!DOCTYPE html><html><head><meta http-equiv="content-type" content="text/html; charset=UTF-8"><style>p{margin:0}</style></head>' +
    '<body><p>Beste Jan,</p><p>Het BSN van de werknemer is 111222333.<br>Groet, Anna</p>' +
    '<div class="moz-cite-prefix">Op 2 jan. schreef Jan:<br></div><blockquote type="cite">Kun je het sturen?</blockquote></body></html>',
  plainTextBody: "ignored for HTML",
};

test("the text of an HTML body: blocks and <br> are line breaks, styles and heads are not text", () => {
  assert.equal(
    htmlToText(DETAILS.body, dom),
    "Beste Jan,\nHet BSN van de werknemer is 111222333.\nGroet, Anna\nOp 2 jan. schreef Jan:\nKun je het sturen?",
  );
  assert.equal(htmlToText("", dom), "");
});

test("the sender comes from details.from, else from the identity", () => {
  assert.equal(senderOf(DETAILS), ANNA);
  assert.equal(senderOf({ from: undefined }, "x@y.nl"), "x@y.nl");
});

test("compose details become the core's message", () => {
  const message = messageFromDetails(DETAILS, {
    attachments: [{ id: 1, name: "Jaarrekening_2025.pdf", size: 120_000 }, { id: 2, name: "notes.txt" }],
    index: indexAddressBooks(addressBooks()),
    DOMParser: dom.DOMParser,
  });
  assert.equal(message.from, ANNA);
  assert.deepEqual(message.to.map((r) => r.address), ["jan.jansen@klantbedrijf.nl", "piet.bakker@klantbedrijf.nl"]);
  assert.deepEqual(message.cc, [{ address: "jan.jansen@klantbedrijf.nl", name: "Jan Jansen" }]);
  assert.deepEqual(message.attachments, [{ name: "Jaarrekening_2025.pdf", size: 120_000 }, { name: "notes.txt" }]);
  assert.ok(message.body.includes("111222333"));
  assert.ok(!message.body.includes("ignored"));
  const plain = messageFromDetails({ ...DETAILS, isPlainText: true }, { index: indexAddressBooks([]), DOMParser: dom.DOMParser });
  assert.equal(plain.body, "ignored for HTML");
  assert.deepEqual(plain.to, [{ address: "Klantbedrijf team", name: "Klantbedrijf team" }], "an unknown list is kept as written");
});

test("the real core judges the built message: personal data to established contacts is only info", async () => {
  const { Checker } = await core();
  const { history } = await bootstrapHistory({
    sentFolders: async () => [{ id: "s" }],
    list: async () => ({ id: null, messages: sentHeaders() }),
    continueList: async () => ({ id: null, messages: [] }),
  });
  const index = indexAddressBooks(addressBooks());
  const checker = new Checker({ policy: POLICY, history, contacts: index.contacts });
  const message = messageFromDetails(DETAILS, { attachments: [], index, DOMParser: dom.DOMParser });
  const verdict = checker.check(message, "en");
  assert.equal(verdict.verdict, "send", JSON.stringify(verdict.findings));
  assert.deepEqual(verdict.sensitive, [{ kind: "bsn", count: 1 }], "the BSN in the HTML body was seen");
  // The same body to someone new with an attachment: a warning.
  const stranger = { ...message, to: [{ address: "info@onbekend-bedrijf.nl" }], cc: [], attachments: [{ name: "loonstrook.pdf" }] };
  assert.equal(checker.check(stranger, "en").verdict, "warn");
  checker.free();
});

test("a sent record keeps recipients and subject, stamped now", () => {
  const record = sentRecord({ to: [{ address: "a@b.nl" }], cc: [], bcc: [], subject: "S" }, new Date("2026-02-03T04:05:06Z"));
  assert.deepEqual(record, { to: [{ address: "a@b.nl" }], cc: [], bcc: [], subject: "S", sent_at: "2026-02-03T04:05:06.000Z" });
});
