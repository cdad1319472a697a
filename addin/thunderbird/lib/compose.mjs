// From what Thunderbird's composer holds to the core's Message: sender, resolved
// recipients, subject, the body as plain text, attachment names and sizes.

import { parseMailbox, resolveRecipients } from "./recipients.mjs";

const BLOCKS = new Set([
  "ADDRESS", "ARTICLE", "ASIDE", "BLOCKQUOTE", "BR", "DD", "DIV", "DL", "DT", "FIELDSET",
  "FIGCAPTION", "FIGURE", "FOOTER", "FORM", "H1", "H2", "H3", "H4", "H5", "H6", "HEADER",
  "HR", "LI", "MAIN", "NAV", "OL", "P", "PRE", "SECTION", "TABLE", "TD", "TH", "TR", "UL",
]);
const SKIP = new Set(["SCRIPT", "STYLE", "TEMPLATE", "HEAD", "TITLE"]);

/** The text a reader sees in an HTML body (block elements and <br> become line breaks). */
export function htmlToText(html, { DOMParser }) {
  const doc = new DOMParser().parseFromString(html ?? "", "text/html");
  const out = [];
  const walk = (node) => {
    if (node.nodeType === 3) {
      out.push(node.nodeValue);
      return;
    }
    if (node.nodeType !== 1 && node.nodeType !== 9) return;
    const tag = node.nodeName.toUpperCase();
    if (SKIP.has(tag)) return;
    if (tag === "IMG" && node.getAttribute("alt")) out.push(node.getAttribute("alt"));
    const block = BLOCKS.has(tag);
    if (block) out.push("\n");
    for (const child of node.childNodes) walk(child);
    if (block) out.push("\n");
  };
  walk(doc.body ?? doc);
  return out
    .join("")
    .replace(/[ \t\u00a0]+/g, " ")
    .replace(/ *\n */g, "\n")
    .replace(/\n{2,}/g, "\n")
    .trim();
}

/** The sender's address from `details.from` ("Name <addr>" or an address). */
export function senderOf(details, identityEmail) {
  const from = details.from;
  if (typeof from === "string" && from.includes("@")) return parseMailbox(from).address;
  return identityEmail ?? "";
}

/**
 * The core Message for a compose window: `details` from onBeforeSend (or
 * getComposeDetails), `attachments` from compose.listAttachments, `index` from
 * indexAddressBooks. The body is the plain-text body or the text of the HTML body.
 */
export function messageFromDetails(details, { attachments = [], index, identityEmail, DOMParser }) {
  const body = details.isPlainText
    ? details.plainTextBody ?? ""
    : htmlToText(details.body ?? "", { DOMParser });
  return {
    from: senderOf(details, identityEmail),
    to: resolveRecipients(details.to, index),
    cc: resolveRecipients(details.cc, index),
    bcc: resolveRecipients(details.bcc, index),
    subject: details.subject ?? "",
    body,
    attachments: attachments.map((a) => {
      const out = { name: a.name ?? "" };
      if (Number.isInteger(a.size) && a.size >= 0) out.size = a.size;
      return out;
    }),
  };
}

/** The message as history records it once sent. */
export function sentRecord(message, date = new Date()) {
  const sent = { to: message.to, cc: message.cc, bcc: message.bcc, sent_at: date.toISOString() };
  if (message.subject) sent.subject = message.subject;
  return sent;
}
