import { test } from "node:test";
import assert from "node:assert/strict";
import { indexAddressBooks, parseMailbox, parseVCard, resolveRecipients, splitAddressList } from "../lib/recipients.mjs";
import { addressBooks, VCARD_PIET } from "../testing.mjs";

test("mailboxes in the forms Thunderbird writes them", () => {
  assert.deepEqual(parseMailbox("Jan Jansen <jan@klant.nl>"), { name: "Jan Jansen", address: "jan@klant.nl" });
  assert.deepEqual(parseMailbox('"Jansen, Jan" <jan@klant.nl>'), { name: "Jansen, Jan", address: "jan@klant.nl" });
  assert.deepEqual(parseMailbox('"Jan \\"JJ\\" Jansen" <jan@klant.nl>'), { name: 'Jan "JJ" Jansen', address: "jan@klant.nl" });
  assert.deepEqual(parseMailbox("  jan@klant.nl "), { name: "", address: "jan@klant.nl" });
  assert.deepEqual(parseMailbox("jan@klant.nl (Jan Jansen)"), { name: "Jan Jansen", address: "jan@klant.nl" });
  assert.deepEqual(parseMailbox("Klantbedrijf team <Klantbedrijf team>"), { name: "Klantbedrijf team", address: "Klantbedrijf team" });
});

test("address lists split at commas outside quotes and brackets", () => {
  assert.deepEqual(splitAddressList('"Jansen, Jan" <jan@klant.nl>, piet@klant.nl,, <a,b@x.nl>'), [
    '"Jansen, Jan" <jan@klant.nl>',
    "piet@klant.nl",
    "<a,b@x.nl>",
  ]);
});

test("vCards: the name and the preferred address first, folded lines and escapes", () => {
  assert.deepEqual(parseVCard(VCARD_PIET), { name: "Piet Bakker", emails: ["piet.bakker@klantbedrijf.nl", "piet.privé@example.nl"] });
  const folded = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bakker\\, Piet en\r\n  Co\r\nitem1.EMAIL;TYPE=INTERNET,pref:p@k.nl\r\nEND:VCARD";
  assert.deepEqual(parseVCard(folded), { name: "Bakker, Piet en Co", emails: ["p@k.nl"] });
  assert.deepEqual(parseVCard(""), { name: "", emails: [] });
});

test("the address book index: contacts once, lists by node and by name", () => {
  const index = indexAddressBooks(addressBooks());
  assert.deepEqual(index.contacts, [
    { address: "jan.jansen@klantbedrijf.nl", name: "Jan Jansen" },
    { address: "piet.bakker@klantbedrijf.nl", name: "Piet Bakker" },
    { address: "piet.privé@example.nl", name: "Piet Bakker" },
  ]);
  assert.equal(index.lists.get("klantbedrijf team").length, 2);
  // MV2 contact nodes carry properties instead of a vCard.
  const mv2 = indexAddressBooks([{ id: "x", contacts: [{ id: "c1", properties: { DisplayName: "Els", PrimaryEmail: "els@noord.nl" } }] }]);
  assert.deepEqual(mv2.contacts, [{ address: "els@noord.nl", name: "Els" }]);
});

test("recipients resolved: lists expanded, contact nodes replaced, duplicates dropped", () => {
  const index = indexAddressBooks(addressBooks());
  const members = [
    { address: "jan.jansen@klantbedrijf.nl", name: "Jan Jansen" },
    { address: "piet.bakker@klantbedrijf.nl", name: "Piet Bakker" },
  ];
  assert.deepEqual(resolveRecipients(["Klantbedrijf team <Klantbedrijf team>"], index), members);
  assert.deepEqual(resolveRecipients([{ nodeId: "l-team", type: "mailingList" }], index), members);
  assert.deepEqual(resolveRecipients([{ id: "c-piet", type: "contact" }], index), [members[1]]);
  assert.deepEqual(
    resolveRecipients(["Jan Jansen <Jan.Jansen@klantbedrijf.nl>", "Klantbedrijf team <Klantbedrijf team>"], index),
    [{ address: "Jan.Jansen@klantbedrijf.nl", name: "Jan Jansen" }, members[1]],
  );
  assert.deepEqual(resolveRecipients("a@x.nl, b@y.nl", index), [{ address: "a@x.nl" }, { address: "b@y.nl" }]);
  // Not a list, no "@": kept, so that the check names it instead of the add-on hiding it.
  assert.deepEqual(resolveRecipients(["jan"], index), [{ address: "jan" }]);
  assert.deepEqual(resolveRecipients(undefined, index), []);
});
