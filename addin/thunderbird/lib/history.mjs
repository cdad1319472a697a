// The sender's contact history: who they wrote to, with whom together, how recently. It is
// built from the Sent folders' headers (never the bodies), kept in storage.local on this
// machine only, and extended with each message sent.
//
// The stored record has two parts so that neither can undo the other: `fromFolders`, replaced
// whole by each read of the Sent folders, and `local`, the sends this add-on saw, kept until a
// folder read contains them (matched by Message-ID; without a Sent copy they stay local).

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
  if (header.headerMessageId) sent.message_id = header.headerMessageId;
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
  let complete = true;
  const folders = await api.sentFolders();
  for (const folder of folders) {
    let listed = 0;
    let page = await api.list(folder.id);
    for (;;) {
      for (const header of page.messages ?? []) {
        headers++;
        listed++;
        const sent = sentFromHeader(header);
        if (sent) kept.push(sent);
      }
      // Bounded memory for very large folders: trim to the newest whenever it doubles.
      if (kept.length > 2 * cap) kept = newestFirst(kept, cap);
      if (!page.id) break;
      page = await api.continueList(page.id);
    }
    // Thunderbird lists a folder it has not read yet as (partly) empty: compare with the
    // count it keeps for the folder, when it tells.
    const total = api.folderInfo ? (await api.folderInfo(folder.id).catch(() => null))?.totalMessageCount : undefined;
    if (Number.isInteger(total) && listed < total) complete = false;
  }
  if (!folders.length) complete = false;
  return { history: newestFirst(kept, cap), folders: folders.length, headers, complete };
}

/** The stored record in its current shape (records of version 0.1.0 had one `messages` list). */
export function normaliseRecord(record) {
  if (!record) return { fromFolders: [], local: [], builtAt: 0, folders: 0, headers: 0, complete: false };
  const common = { builtAt: record.builtAt ?? 0, folders: record.folders ?? 0, headers: record.headers ?? 0, complete: Boolean(record.complete) };
  if (Array.isArray(record.messages)) return { ...common, fromFolders: record.messages, local: [], complete: true };
  return { ...common, fromFolders: record.fromFolders ?? [], local: record.local ?? [] };
}

/** What the checker learns from: both parts, each message once, newest first, capped. */
export function historyMessages(record, cap = HISTORY_CAP) {
  const { fromFolders, local } = normaliseRecord(record);
  const inFolders = new Set(fromFolders.map((m) => m.message_id).filter(Boolean));
  const onlyLocal = local.filter((m) => !m.message_id || !inFolders.has(m.message_id));
  return newestFirst([...onlyLocal, ...fromFolders], cap);
}

/** The record with one more message this add-on sent (kept in `local`). */
export function withSent(record, sent, cap = HISTORY_CAP) {
  const current = normaliseRecord(record);
  return { ...current, local: [sent, ...current.local].slice(0, cap) };
}

/**
 * The record after a read of the Sent folders (`bootstrapHistory`'s result): `fromFolders`
 * replaced, local sends the folders now hold dropped, the others kept.
 */
export function withFolderRead(record, result, now = Date.now()) {
  const current = normaliseRecord(record);
  const inFolders = new Set(result.history.map((m) => m.message_id).filter(Boolean));
  return {
    fromFolders: result.history,
    local: current.local.filter((m) => !m.message_id || !inFolders.has(m.message_id)),
    builtAt: now,
    folders: result.folders,
    headers: result.headers,
    // Once Thunderbird has shown complete Sent folders, later reads only keep up with them.
    complete: current.complete || Boolean(result.complete),
  };
}
