// The send path, from compose.onBeforeSend to onAfterSend: check the draft, ask the sender
// on a warning, register the message, put the disclosure (and the pixel, only when tracked)
// in the body, and record the send in the history.
//
// The rule of this file: whatever the server does (no answer, a slow or stalled answer, an
// error status, a malformed body, an expired token) the mail goes within a bounded time,
// without tracking, and the reason is kept in the local send log. Only the sender's own
// "go back" or a blocking finding stops a mail.
//
// Everything Thunderbird-specific comes in through `host`, so the whole path runs in Node
// tests against real misbehaving servers.

import { ApiError, registrationFor } from "../common/api.mjs";
import { disclosedBody } from "./disclose.mjs";
import { messageFromDetails, sentRecord } from "./compose.mjs";
import { KEYS } from "./store.mjs";
import { withSent } from "./history.mjs";
import { label, t } from "./i18n.mjs";

/** The longest a send waits for the server: connecting, the answer and its whole body. */
export const REGISTER_TIMEOUT_MS = 4_000;
/** A failed send's registration is reused by its retry for this long. */
const PENDING_TTL_MS = 24 * 3600 * 1000;

/** Why a mail went without tracking, as recorded in the send log (texts in lib/i18n.mjs). */
export const REASONS = Object.freeze({
  notSignedIn: "not_signed_in",
  expired: "expired",
  timeout: "timeout",
  unreachable: "unreachable",
  serverError: "server_error",
  malformed: "malformed_response",
  refused: "refused",
  discloseFailed: "disclose_failed",
  checkFailed: "check_failed",
});

/** The reason for an ApiError from `register`. */
export function reasonFor(err) {
  if (!(err instanceof ApiError)) return REASONS.unreachable;
  if (err.unauthorized) return REASONS.expired;
  if (err.code === "timeout") return REASONS.timeout;
  if (err.code === "malformed_response") return REASONS.malformed;
  if (err.status === 0) return REASONS.unreachable;
  if (err.status >= 500) return REASONS.serverError;
  return REASONS.refused;
}

/** The notification (title and text keys) for each reason. */
const NOTICES = {
  [REASONS.notSignedIn]: ["notSignedInTitle", "notSignedIn"],
  [REASONS.expired]: ["signInAgainTitle", "signInAgain"],
  [REASONS.timeout]: ["unreachableTitle", "unreachable"],
  [REASONS.unreachable]: ["unreachableTitle", "unreachable"],
  [REASONS.serverError]: ["unreachableTitle", "unreachable"],
  [REASONS.malformed]: ["unreachableTitle", "unreachable"],
  [REASONS.refused]: ["refusedTitle", "refused"],
  [REASONS.discloseFailed]: ["discloseFailedTitle", "discloseFailed"],
  [REASONS.checkFailed]: ["checkFailedTitle", "checkFailed"],
};

/** A short stable fingerprint of a JSON value (not a security measure). */
export function signature(value) {
  const text = JSON.stringify(value);
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `${text.length}:${hash}`;
}

export class SendPath {
  /**
   * @param {object} host
   * @param {import("./store.mjs").Store} host.store
   * @param {(index) => Promise<object>} host.checker  the Checker for the current policy,
   *   history and this address book index
   * @param {() => Promise<import("../common/api.mjs").ApiClient|null>} host.client  signed-in client or null
   * @param {() => Promise<boolean>} host.expired  whether a stored sign-in has expired
   * @param {(verdict, message, lang) => Promise<"send"|"back">} host.askSender
   * @param {(kind, title, text) => Promise<void>} host.notify
   * @param {typeof DOMParser} host.DOMParser
   * @param {() => number} [host.now]
   */
  constructor(host) {
    this.host = host;
    this.now = host.now ?? (() => Date.now());
    /** What each composer is sending, recorded in the history once it went: tabId -> sent. */
    this.sending = new Map();
  }

  /**
   * onBeforeSend: `{cancel: true}`, `{details}` with the disclosed body, or `{}` (as is).
   * `context` is `{lang, attachments, index, identityEmail}`.
   */
  async beforeSend(tabId, details, { lang, attachments = [], index, identityEmail }) {
    const started = this.now();
    let message;
    let checker;
    let verdict;
    try {
      message = messageFromDetails(details, { attachments, index, identityEmail, DOMParser: this.host.DOMParser });
      checker = await this.host.checker(index);
      verdict = checker.check(message, lang);
    } catch (err) {
      console.error("leakwatch: check failed", err);
      await this.untracked({ lang, subject: details.subject ?? "", started }, REASONS.checkFailed, err.message);
      return {};
    }
    const entry = {
      lang,
      started,
      subject: message.subject,
      verdict: verdict.verdict,
      rules: verdict.findings.map((f) => f.rule),
    };
    let overridden = false;
    if (verdict.verdict !== "send") {
      const answer = await this.host.askSender(verdict, message, lang);
      if (answer !== "send") {
        await this.log({ ...entry, outcome: "cancelled" });
        return { cancel: true };
      }
      overridden = true;
      // What the log measures is the wait we cause, not the sender's time in the window.
      entry.started = this.now();
    }
    this.sending.set(tabId, sentRecord(message));
    const payload = registrationFor(message, verdict, { overridden, lang });
    const { registration, replaces } = await this.registration(tabId, payload, { ...entry, overridden });
    if (!registration) return {};
    try {
      const edit = disclosedBody(details, checker, registration, lang, { DOMParser: this.host.DOMParser }, { replaces });
      await this.log({
        ...entry,
        overridden,
        outcome: registration.track ? "tracked" : "disclosed",
        messageId: registration.id,
        trackReason: registration.track_reason ?? null,
      });
      return { details: edit };
    } catch (err) {
      await this.untracked({ ...entry, overridden }, REASONS.discloseFailed, err.message);
      return {};
    }
  }

  /**
   * The registration for this send: the one an earlier, failed attempt of the same composer
   * made for the same message (a retry after an SMTP error gets no second registration and,
   * its notice being already in the body, no second notice), or a new one. When the retry
   * changed the message (other recipients), `replaces` is the earlier registration, whose
   * notice the new one replaces. `registration` is null when the mail goes untracked; the
   * reason is logged and shown.
   */
  async registration(tabId, payload, entry) {
    const key = signature(payload);
    let pending = (await this.host.store.get(KEYS.pendingSends, {}))[tabId];
    if (pending && this.now() - pending.at >= PENDING_TTL_MS) pending = undefined;
    if (pending?.key === key) return { registration: pending.registration };
    const replaces = pending?.registration;
    const client = await this.host.client();
    if (!client) {
      const reason = (await this.host.expired()) ? REASONS.expired : REASONS.notSignedIn;
      await this.untracked(entry, reason, "");
      return { registration: null };
    }
    let registration;
    try {
      registration = await client.register(payload, { timeoutMs: REGISTER_TIMEOUT_MS });
    } catch (err) {
      await this.untracked(entry, reasonFor(err), err.message);
      return { registration: null };
    }
    await this.host.store.update(KEYS.pendingSends, {}, (all) => {
      const fresh = Object.fromEntries(Object.entries(all).filter(([, p]) => this.now() - p.at < PENDING_TTL_MS));
      return { ...fresh, [tabId]: { key, registration, at: this.now() } };
    });
    return { registration, replaces };
  }

  /** onAfterSend: a sent message goes into the history; a failed one keeps its registration. */
  async afterSend(tabId, sendInfo = {}) {
    const sent = this.sending.get(tabId);
    this.sending.delete(tabId);
    if (sendInfo.error) return null;
    await this.forget(tabId);
    if (!sent) return null;
    const record = { ...sent, sent_at: new Date(this.now()).toISOString() };
    if (sendInfo.headerMessageId) record.message_id = sendInfo.headerMessageId;
    await this.host.store.update(KEYS.history, null, (history) => withSent(history, record));
    return record;
  }

  /** The composer is gone: a retry can no longer come. */
  forget(tabId) {
    return this.host.store.update(KEYS.pendingSends, {}, (all) => {
      const { [tabId]: _gone, ...rest } = all;
      return rest;
    });
  }

  async untracked(entry, reason, why) {
    const [title, text] = NOTICES[reason];
    // The notification in the sender's language; the technical reason (English) only in the log.
    await this.host.notify(reason, t(entry.lang, title), t(entry.lang, text, { why: label(entry.lang, "reason", reason) }));
    await this.log({ ...entry, outcome: "untracked", reason, detail: why || null });
  }

  log({ lang: _lang, started, ...entry }) {
    return this.host.store.logSend({ at: new Date(this.now()).toISOString(), ms: this.now() - started, ...entry });
  }
}

