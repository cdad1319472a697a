// The first build of the contact history from the mailbox's Sent Items (ADR 0008).
//
// What the APIs allow: Office.js itself cannot list a folder (Exchange Online has turned off
// the EWS and REST callback tokens that `makeEwsRequestAsync` and the REST API needed), so
// the list comes from Microsoft Graph, `GET /me/mailFolders('sentitems')/messages`, with a
// delegated token for `Mail.ReadBasic` from nested app authentication: recipients, subject,
// time and Message-ID of the user's own sent mail, never bodies or attachments. Where the
// host has no nested app authentication, or the deployment names no Entra app, there is no
// token and the history grows from the sends the add-in sees (as before).
//
// Bounded: one deadline over the whole read (every page, body included), a page-size and
// message cap, Graph's throttling answered by its Retry-After only while the deadline
// allows, and links followed only on Graph's own origin.

import { HISTORY_CAP, newestFirst, withFolderRead, normaliseRecord } from "../../thunderbird/lib/history.mjs";

export const GRAPH = "https://graph.microsoft.com/v1.0";
const SELECT = "toRecipients,ccRecipients,bccRecipients,sentDateTime,subject,internetMessageId";
const PAGE_SIZE = 100;
/** Longest the whole read may take. */
export const READ_TIMEOUT_MS = 60_000;
/** A local send and a Sent Items copy with the same recipients this close are one message. */
const SAME_SEND_MS = 10 * 60_000;

/** Why a read stopped early, for the pane to say in words. */
export class SentItemsError extends Error {
  /** @param {"consent"|"timeout"|"unavailable"|"malformed"} reason */
  constructor(reason, detail) {
    super(detail ? `${reason}: ${detail}` : reason);
    this.reason = reason;
  }
}

function mailboxes(list) {
  const out = [];
  for (const entry of Array.isArray(list) ? list : []) {
    const email = entry && entry.emailAddress;
    const address = email && typeof email.address === "string" ? email.address.trim() : "";
    if (!address.includes("@")) continue;
    const name = typeof email.name === "string" ? email.name.trim() : "";
    out.push(name && name !== address ? { address, name } : { address });
  }
  return out;
}

/** A Graph message as a core SentMessage; null when it has no usable recipient. */
export function sentFromGraph(message) {
  const to = mailboxes(message.toRecipients);
  const cc = mailboxes(message.ccRecipients);
  const bcc = mailboxes(message.bccRecipients);
  if (!to.length && !cc.length && !bcc.length) return null;
  const sent = { to, cc, bcc };
  if (typeof message.subject === "string" && message.subject) sent.subject = message.subject;
  if (typeof message.internetMessageId === "string" && message.internetMessageId) sent.message_id = message.internetMessageId;
  const at = Date.parse(message.sentDateTime);
  if (!Number.isNaN(at)) sent.sent_at = new Date(at).toISOString();
  return sent;
}

export function firstPageUrl(graph = GRAPH) {
  const query = new URLSearchParams({ $select: SELECT, $orderby: "sentDateTime desc", $top: String(PAGE_SIZE) });
  return `${graph}/me/mailFolders('sentitems')/messages?${query}`;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Reads the newest `cap` messages of Sent Items. → `{history, folders: 1, headers, complete}`
 * in the shape `withFolderRead` takes; throws a SentItemsError when nothing could be read.
 * A read cut short after some pages returns what it has with `complete: false`.
 */
export async function readSentItems({ token, fetch: fetchImpl = globalThis.fetch, graph = GRAPH, cap = HISTORY_CAP, timeoutMs = READ_TIMEOUT_MS }) {
  const deadline = Date.now() + timeoutMs;
  const origin = new URL(graph).origin;
  const kept = [];
  let headers = 0;
  let url = firstPageUrl(graph);
  let complete = true;
  while (url) {
    let page;
    try {
      page = await fetchPage(fetchImpl, url, token, deadline);
    } catch (err) {
      if (!headers) throw err;
      complete = false;
      break;
    }
    if (!Array.isArray(page.value)) {
      if (!headers) throw new SentItemsError("malformed", "no value list");
      complete = false;
      break;
    }
    for (const message of page.value) {
      headers++;
      const sent = message && typeof message === "object" ? sentFromGraph(message) : null;
      if (sent) kept.push(sent);
    }
    const next = page["@odata.nextLink"];
    if (kept.length >= cap || typeof next !== "string") break;
    // Only Graph's own paging links: a changed answer must not send the token elsewhere.
    if (new URL(next).origin !== origin) {
      complete = false;
      break;
    }
    url = next;
  }
  return { history: newestFirst(kept, cap), folders: 1, headers, complete };
}

async function fetchPage(fetchImpl, url, token, deadline) {
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw new SentItemsError("timeout");
    // The task pane runs in a web view, which has AbortController: aborting also ends a
    // body that stalls after the headers.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), left);
    let response;
    let body;
    try {
      response = await fetchImpl(url, {
        headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
        signal: controller.signal,
      });
      body = await response.text();
    } catch (err) {
      throw controller.signal.aborted ? new SentItemsError("timeout") : new SentItemsError("unavailable", err && err.message);
    } finally {
      clearTimeout(timer);
    }
    if (response.status === 429 || response.status === 503) {
      // Throttled: wait as Graph asks, if the deadline leaves room for it.
      const wait = Number(response.headers.get("retry-after")) * 1000 || 2_000;
      if (Date.now() + wait >= deadline) throw new SentItemsError("timeout", `throttled (${response.status})`);
      await sleep(wait);
      continue;
    }
    if (response.status === 401 || response.status === 403) throw new SentItemsError("consent", String(response.status));
    if (!response.ok) throw new SentItemsError("unavailable", String(response.status));
    try {
      return JSON.parse(body);
    } catch (_) {
      throw new SentItemsError("malformed", "not JSON");
    }
  }
}

const recipientsKey = (sent) =>
  [...(sent.to || []), ...(sent.cc || []), ...(sent.bcc || [])]
    .map((r) => (typeof r === "string" ? r : r.address).toLowerCase())
    .sort()
    .join(",");

/**
 * The stored record after a read of Sent Items: `fromFolders` replaced, and the add-in's own
 * sends that Sent Items now holds dropped. Outlook gives the handler no Message-ID before
 * the send, so a local send is matched by its recipients and a time within ten minutes.
 */
export function withSentItemsRead(record, result, now = Date.now()) {
  const merged = withFolderRead(normaliseRecord(record), result, now);
  const copies = new Map();
  for (const sent of result.history) {
    const key = recipientsKey(sent);
    if (!copies.has(key)) copies.set(key, []);
    copies.get(key).push(Date.parse(sent.sent_at || "") || 0);
  }
  merged.local = merged.local.filter((sent) => {
    const times = copies.get(recipientsKey(sent));
    const at = Date.parse(sent.sent_at || "") || 0;
    return !(times && times.some((t) => Math.abs(t - at) <= SAME_SEND_MS));
  });
  return merged;
}
