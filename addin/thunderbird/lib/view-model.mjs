// Pure helpers of the sent-messages view.

import { STRINGS, label, t } from "./i18n.mjs";
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

/**
 * A server time (Unix milliseconds or an RFC 3339 string) for display, in `timeZone` (the
 * tenant's, from `/api/v1/me`) when given, else the computer's.
 */
export function formatTime(value, lang, timeZone) {
  if (value === null || value === undefined || value === "") return "";
  const date = new Date(typeof value === "number" ? value : String(value));
  if (Number.isNaN(date.getTime())) return String(value);
  const options = { dateStyle: "medium", timeStyle: "short" };
  if (timeZone) options.timeZone = timeZone;
  try {
    return date.toLocaleString(lang === "nl" ? "nl-NL" : "en-GB", options);
  } catch {
    // A zone name this browser does not know: the computer's zone.
    return date.toLocaleString(lang === "nl" ? "nl-NL" : "en-GB", { dateStyle: "medium", timeStyle: "short" });
  }
}

/**
 * An incident's evidence (`IncidentView.evidence`) in lines of words: what it says, every
 * fetch class with its count and its first and last fetch (in the tenant's zone), the
 * different mail clients, and whether it may have been forwarded. Never a code.
 */
export function evidenceLines(evidence, lang, timeZone) {
  if (!evidence) return [];
  const lines = [];
  const classes = [...(evidence.by_class ?? [])].sort((a, b) => a.first_at - b.first_at);
  if (!classes.length) {
    if (evidence.status !== "not_tracked") lines.push(t(lang, "noFetches"));
  } else {
    lines.push(t(lang, "fetchesTotal", { n: evidence.hits_total }));
    for (const c of classes) {
      const name = `class_${c.class}` in STRINGS.en ? t(lang, `class_${c.class}`) : t(lang, "unknownCode");
      const capital = name.charAt(0).toUpperCase() + name.slice(1);
      lines.push(t(lang, c.hits === 1 ? "classLineOnce" : "classLine", { class: capital, hits: c.hits, first: formatTime(c.first_at, lang, timeZone), last: formatTime(c.last_at, lang, timeZone) }));
    }
  }
  if (evidence.distinct_clients > 0) lines.push(t(lang, "distinctClients", { n: evidence.distinct_clients }));
  if (evidence.possible_forwarding) lines.push(t(lang, "possibleForwarding"));
  return lines;
}

/** The evidence's plain status in words (an unknown one reads "other"). */
export function evidenceStatus(evidence, lang) {
  const status = evidence?.status;
  return status ? label(lang, "evidence", status) : "";
}


/** An alert's title and body in `lang` (alerts raised before the server kept both
 * languages have only the sender's). */
export function alertText(alert, lang) {
  const text = alert?.texts?.[lang === "nl" ? "nl" : "en"];
  return text ?? { title: alert?.title ?? "", body: alert?.body ?? "" };
}
