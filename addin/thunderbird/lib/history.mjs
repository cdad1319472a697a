// The sender's contact history: who they wrote to, with whom together, how recently. It is
// bootstrapped from the Sent folders' headers (never the bodies), kept in storage.local on
// this machine only, and extended with each message sent.

import { parseMailbox, splitAddressList } from "./recipients.mjs";

/** How many messages the history keeps: the newest. */
export const HISTORY_CAP = 2_000;

function mailboxes(list) {
  const out = [];
  for (const entry of list ?? []) {
    for (const part of splitAddressList(String(entry))) {
      const { name, address } = parseMailbox(part);
      if (!address.includes("@")) continue;
      out.push(name ? { address, name } : { address });
    }
  }
  return out;
}

/** A `messages.MessageHeader` as a core SentMessage; null when it has no usable recipient. */
export function sentFromHeader(header) {
  const to = mailboxes(header.recipients);
  const cc = mailboxes(header.ccList);
  const bcc = mailboxes(header.bccList);
  if (!to.length && !cc.length && !bcc.length) return null;
  const sent = { to, cc, bcc };
  if (header.subject) sent.subject = header.subject;
  const date = header.date instanceof Date ? header.date : new Date(header.date);
  if (!Number.isNaN(date.getTime())) sent.sent_at = date.toISOString();
  return sent;
}

const time = (sent) => (sent.sent_at ? Date.parse(sent.sent_at) : 0);

/** Newest first, at most `cap`. */
export function newestFirst(messages, cap = HISTORY_CAP) {
  return [...messages].sort((a, b) => time(b) - time(a)).slice(0, cap);
}

/**
 * Reads every Sent folder's headers through the messages API and returns the newest `cap`
 * as core SentMessages, newest first. `api` is `{sentFolders(), list(folderId),
 * continueList(listId)}` (Thunderbird's `folders.query`/`messages.list`/`continueList`).
 */
export async function bootstrapHistory(api, { cap = HISTORY_CAP } = {}) {
  let kept = [];
  let headers = 0;
  const folders = await api.sentFolders();
  for (const folder of folders) {
    let page = await api.list(folder.id);
    for (;;) {
      for (const header of page.messages ?? []) {
        headers++;
        const sent = sentFromHeader(header);
        if (sent) kept.push(sent);
      }
      // Bounded memory for very large folders: trim to the newest whenever it doubles.
      if (kept.length > 2 * cap) kept = newestFirst(kept, cap);
      if (!page.id) break;
      page = await api.continueList(page.id);
    }
  }
  return { history: newestFirst(kept, cap), folders: folders.length, headers };
}

/** The history with one more message sent now (newest first, capped). */
export function withSent(history, sent, cap = HISTORY_CAP) {
  return [sent, ...history].slice(0, cap);
}
