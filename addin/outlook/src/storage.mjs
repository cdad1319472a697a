// Where the add-in keeps things. Two places, because the runtimes differ:
//
// - `Office.context.roamingSettings` exists in every runtime, the JavaScript-only one of
//   classic Outlook on Windows included, and is shared by the event handler and the task
//   pane (it lives in the mailbox). It holds at most 32 KB in all, so it keeps the small
//   things: the sign-in, the tenant policy, and, only where there is no localStorage, a
//   compact capped history and a short send log.
// - `localStorage` exists in the browser runtimes (Outlook on the web, new Outlook on
//   Windows, Outlook on Mac), not in the JavaScript-only runtime. Where it exists it keeps
//   the full history and the send log, on this machine only.

import { historyMessages, normaliseRecord, withSent, HISTORY_CAP } from "../../thunderbird/lib/history.mjs";
import { withSentItemsRead } from "./sent-items.mjs";

export const KEYS = Object.freeze({
  session: "leakwatch.session",
  policy: "leakwatch.policy",
  history: "leakwatch.history",
  sendLog: "leakwatch.sendLog",
});

/** Budget for the history when it has to live in roamingSettings (of 32 KB for all). */
export const ROAMING_HISTORY_BYTES = 20 * 1024;
export const SEND_LOG_CAP = { local: 100, roaming: 10 };

function usableLocalStorage(global) {
  try {
    const ls = global.localStorage;
    if (!ls) return null;
    ls.setItem("leakwatch.probe", "1");
    ls.removeItem("leakwatch.probe");
    return ls;
  } catch (_) {
    return null;
  }
}

/** A sent message reduced to what the check learns from (addresses and time). */
function compact(sent) {
  const addresses = (list) => (list || []).map((r) => (typeof r === "string" ? r : r.address));
  const out = { to: addresses(sent.to), cc: addresses(sent.cc), bcc: addresses(sent.bcc) };
  if (sent.sent_at) out.sent_at = sent.sent_at;
  return out;
}

/**
 * When a stored sign-in expires, in Unix ms (the server's login answers Unix ms; an RFC 3339
 * string is read too); null when it does not say.
 */
export function expiresAt(session) {
  if (!session || session.expires_at === null || session.expires_at === undefined) return null;
  const at = typeof session.expires_at === "number" ? session.expires_at : Date.parse(session.expires_at);
  return Number.isNaN(at) ? null : at;
}

/** `Office.context.diagnostics.platform`, where the runtime tells. */
export function platformOf(office) {
  try {
    return (office && office.context && office.context.diagnostics && office.context.diagnostics.platform) || null;
  } catch (_) {
    return null;
  }
}

export class AddinStorage {
  /**
   * @param {{roamingSettings: object, global: object, platform?: string|null}} options
   * `platform` is Office's: on "PC" (classic Outlook on Windows) the event handler runs in
   * the JavaScript-only runtime without localStorage while the task pane (a web view) has
   * one, so both keep everything in roamingSettings there to read the same history.
   */
  constructor({ roamingSettings, global, platform = null }) {
    this.roaming = roamingSettings;
    this.local = platform === "PC" ? null : usableLocalStorage(global);
  }

  /** "localStorage" or "roamingSettings": where the history lives in this runtime. */
  get historyArea() {
    return this.local ? "localStorage" : "roamingSettings";
  }

  getRoaming(key, fallback) {
    const value = this.roaming.get(key);
    return value === undefined || value === null ? fallback : value;
  }

  setRoaming(values) {
    for (const key of Object.keys(values)) {
      if (values[key] === null) this.roaming.remove(key);
      else this.roaming.set(key, values[key]);
    }
    return new Promise((resolve, reject) =>
      this.roaming.saveAsync((r) => (r.status === "failed" ? reject(new Error(r.error && r.error.message)) : resolve())),
    );
  }

  getLocal(key, fallback) {
    if (!this.local) return this.getRoaming(key, fallback);
    const text = this.local.getItem(key);
    if (text === null) return fallback;
    try {
      return JSON.parse(text);
    } catch (_) {
      return fallback;
    }
  }

  setLocal(key, value) {
    if (!this.local) return this.setRoaming({ [key]: value });
    this.local.setItem(key, JSON.stringify(value));
    return Promise.resolve();
  }

  session() {
    return this.getRoaming(KEYS.session, null);
  }

  policy() {
    return this.getRoaming(KEYS.policy, {});
  }

  /** The history as the core takes it, newest first. */
  history() {
    return historyMessages(this.getLocal(KEYS.history, null));
  }

  /** The stored history record (both parts and when Sent Items was last read). */
  historyRecord() {
    return normaliseRecord(this.getLocal(KEYS.history, null));
  }

  /** One more sent message; in roamingSettings only addresses, within the byte budget. */
  addSent(sent) {
    return this.setLocal(KEYS.history, this.fitted(withSent(this.getLocal(KEYS.history, null), sent, HISTORY_CAP)));
  }

  /** A read of Sent Items (`readSentItems`) in place of the earlier one. */
  storeSentItems(result, now = Date.now()) {
    return this.setLocal(KEYS.history, this.fitted(withSentItemsRead(this.getLocal(KEYS.history, null), result, now)));
  }

  /** In roamingSettings: addresses and times only, the oldest dropped until it fits. */
  fitted(record) {
    if (this.local) return record;
    const out = { ...record, fromFolders: record.fromFolders.map(compact), local: record.local.map(compact) };
    while (JSON.stringify(out).length > ROAMING_HISTORY_BYTES && (out.local.length || out.fromFolders.length)) {
      if (out.fromFolders.length) out.fromFolders = out.fromFolders.slice(0, -1);
      else out.local = out.local.slice(0, -1);
    }
    return out;
  }

  sendLog() {
    return this.getLocal(KEYS.sendLog, []);
  }

  logSend(entry) {
    const cap = this.local ? SEND_LOG_CAP.local : SEND_LOG_CAP.roaming;
    return this.setLocal(KEYS.sendLog, [entry, ...this.sendLog()].slice(0, cap));
  }
}
