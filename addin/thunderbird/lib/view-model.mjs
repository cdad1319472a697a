// Pure helpers of the sent-messages view.

import { parseMailbox } from "./recipients.mjs";

/** Every recipient address of a registered message (`recipients: {to, cc, bcc}`), once. */
export function recipientsOf(message) {
  const out = [];
  const seen = new Set();
  for (const field of ["to", "cc", "bcc"]) {
    for (const entry of message?.recipients?.[field] ?? []) {
      const address = typeof entry === "string" ? parseMailbox(entry).address : entry?.address;
      if (!address || seen.has(address.toLowerCase())) continue;
      seen.add(address.toLowerCase());
      out.push({ field, address });
    }
  }
  return out;
}

/** A server time (Unix milliseconds or an RFC 3339 string) for display. */
export function formatTime(value, lang) {
  if (value === null || value === undefined || value === "") return "";
  const date = new Date(typeof value === "number" ? value : String(value));
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString(lang === "nl" ? "nl-NL" : "en-GB", { dateStyle: "medium", timeStyle: "short" });
}
