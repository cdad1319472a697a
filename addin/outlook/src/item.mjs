// Reading the compose item through Office.js, shared by the event handler and the task pane.

import { messageFromItem } from "./decide.mjs";

/** An Office async method as a promise (its callback is the last argument). */
export function office(method, ...args) {
  return new Promise((resolve, reject) => {
    method(...args, (result) => {
      if (result && result.status === "failed") reject(new Error((result.error && result.error.message) || "Office call failed"));
      else resolve(result ? result.value : undefined);
    });
  });
}

const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };

/**
 * The text a reader sees in an HTML body, without a DOM (the JavaScript-only runtime has
 * none): scripts, styles and comments dropped, block ends and <br> as line breaks, tags
 * removed, entities decoded. Enough for what the check reads (names, numbers, words).
 */
export function htmlToText(html) {
  return String(html || "")
    .replace(/<!--[\s\S]*?-->/g, "")
    .replace(/<(script|style|head|title|template)\b[\s\S]*?<\/\1\s*>/gi, "")
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<\/(p|div|li|tr|td|th|h[1-6]|blockquote|pre|table|ul|ol|section|article|header|footer)\s*>/gi, "\n")
    .replace(/<[^>]*>/g, "")
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name) => {
      if (name[0] === "#") {
        const code = name[1] === "x" || name[1] === "X" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
        return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : whole;
      }
      const known = ENTITIES[name.toLowerCase()];
      return known === undefined ? whole : known;
    })
    .replace(/[ \t\u00a0]+/g, " ")
    .replace(/ *\n */g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

/**
 * The core Message of the item being composed, and its body type ("html" or "text"). An
 * HTML body is read as HTML and reduced to text here: Outlook on the web and new Outlook
 * may answer an empty string to a text read of a body with tables, lists or links.
 */
export async function readItem(item) {
  const bodyType = String(await office(item.body.getTypeAsync.bind(item.body))).toLowerCase();
  const [from, to, cc, bcc, subject, body, attachments] = await Promise.all([
    office(item.from.getAsync.bind(item.from)),
    office(item.to.getAsync.bind(item.to)),
    office(item.cc.getAsync.bind(item.cc)),
    office(item.bcc.getAsync.bind(item.bcc)),
    office(item.subject.getAsync.bind(item.subject)),
    office(item.body.getAsync.bind(item.body), bodyType === "html" ? "html" : "text"),
    office(item.getAttachmentsAsync.bind(item)),
  ]);
  const text = bodyType === "html" ? htmlToText(body) : body;
  return { message: messageFromItem({ from, to, cc, bcc, subject, body: text, attachments }), bodyType };
}
