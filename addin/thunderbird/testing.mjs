// Shared by the unit tests: the real WebAssembly core (dist/wasm/web, through the add-ons'
// own loader) and a DOM (jsdom) standing in for the background page's.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { JSDOM } from "jsdom";
import { loadCore } from "../common/core.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, "../..");
const web = path.join(root, "dist/wasm/web");

export async function core() {
  if (!fs.existsSync(path.join(web, "leakwatch_wasm_bg.wasm"))) {
    throw new Error("dist/wasm/web is missing: run `cargo xtask wasm` first");
  }
  return loadCore(pathToFileURL(web), { wasm: fs.readFileSync(path.join(web, "leakwatch_wasm_bg.wasm")) });
}

export const dom = { DOMParser: new JSDOM("").window.DOMParser };

/** A parsed document, to look at what the add-on produced. */
export const parse = (html) => new dom.DOMParser().parseFromString(html, "text/html");

/** The accountant's mailbox: an address book and Sent-folder headers as Thunderbird gives them. */
export const ANNA = "anna@boekhoudpartners.nl";
export const POLICY = { internal_domains: ["boekhoudpartners.nl"] };

export function sentHeaders() {
  const rows = [
    [["Jan Jansen <jan.jansen@klantbedrijf.nl>"], [], "Jaarrekening 2024"],
    [["Jan Jansen <jan.jansen@klantbedrijf.nl>", "Piet Bakker <piet.bakker@klantbedrijf.nl>"], [], "Overleg btw"],
    [["\"Bakker, Piet\" <piet.bakker@klantbedrijf.nl>"], ["jan.jansen@klantbedrijf.nl"], "Loonadministratie"],
    [["Els Visser <els.visser@bouwbedrijf-noord.nl>"], [], "Offerte"],
    [["Jan Jansen <jan.jansen@klantbedrijf.nl>"], [], "Balans"],
    [["Els Visser <els.visser@bouwbedrijf-noord.nl>"], [], "Facturen"],
    [["Jan Jansen <jan.jansen@klantbedrijf.nl>"], [], "Concept"],
  ];
  const start = Date.UTC(2026, 0, 5, 9, 0, 0);
  return rows.map(([recipients, ccList, subject], i) => ({
    id: i + 1,
    author: `Anna de Vries <${ANNA}>`,
    recipients,
    ccList,
    bccList: [],
    subject,
    date: new Date(start + i * 86_400_000),
    headerMessageId: `m${i}@boekhoudpartners.nl`,
  }));
}

export const VCARD_JAN = "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Jan Jansen\r\nEMAIL;PREF=1:jan.jansen@klantbedrijf.nl\r\nEND:VCARD\r\n";
export const VCARD_PIET = "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Piet Bakker\r\nEMAIL:piet.privé@example.nl\r\nEMAIL;PREF=1:piet.bakker@klantbedrijf.nl\r\nEND:VCARD\r\n";

/** `addressBooks.list(true)` of a personal address book with two contacts and a list. */
export function addressBooks() {
  const jan = { id: "c-jan", parentId: "ab1", type: "contact", vCard: VCARD_JAN };
  const piet = { id: "c-piet", parentId: "ab1", type: "contact", vCard: VCARD_PIET };
  return [
    {
      id: "ab1",
      type: "addressBook",
      name: "Personal Address Book",
      contacts: [jan, piet],
      mailingLists: [{ id: "l-team", parentId: "ab1", type: "mailingList", name: "Klantbedrijf team", nickName: "", description: "", contacts: [jan, piet] }],
    },
  ];
}
