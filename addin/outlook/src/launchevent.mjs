// The event handler: OnNewMessageCompose, OnMessageRecipientsChanged and
// OnMessageAttachmentsChanged put the privacy notice in place (appendOnSendAsync), and
// OnMessageSend (Smart Alerts) runs the final check. Bundled by build.mjs into one ES2016
// script behind the core's fallback loader, for every Outlook runtime including the
// JavaScript-only one of classic Outlook on Windows (no DOM, no localStorage, possibly no
// WebAssembly).
//
// The server is only ever asked at compose time, within REGISTER_TIMEOUT_MS; OnMessageSend
// makes no network call at all, so whatever the server does, a send is decided locally in
// milliseconds. Why the registration happens at compose: docs/adr/0008-outlook-send-path.md.

import { ApiClient, registrationFor } from "../../common/api.mjs";
import { REASONS, REGISTER_TIMEOUT_MS, reasonFor, signature } from "../../thunderbird/lib/send.mjs";
import { sentRecord } from "../../thunderbird/lib/compose.mjs";
import { appendix, recipientKey, smartAlert } from "./decide.mjs";
import { office, readItem } from "./item.mjs";
import { langOf, t } from "./i18n.mjs";
import { AddinStorage, KEYS, expiresAt, platformOf } from "./storage.mjs";

const global = typeof globalThis !== "undefined" ? globalThis : typeof self !== "undefined" ? self : this;

/** The longest a compose-time handler runs before it completes anyway. */
export const COMPOSE_DEADLINE_MS = 10000;
/** The longest OnMessageSend runs (it makes no network call; this guards a broken core). */
export const SEND_DEADLINE_MS = 4000;
/** How old the cached tenant policy may get before a compose event asks for it again. */
const POLICY_MAX_AGE_MS = 15 * 60 * 1000;
const POLICY_TIMEOUT_MS = 3000;
const STATE_KEY = "leakwatch.state";
/** The notice is stale (recipients changed after it was made): REASONS has no word for it. */
const STALE_NOTICE = "stale_notice";

// A `fetch` that gives up when the signal aborts even where the runtime's `fetch` ignores
// signals, and an AbortController where the runtime has none: ApiClient's whole-exchange
// timeout has to hold in every runtime.
class MiniAbortSignal {
  constructor() {
    this.aborted = false;
    this.listeners = [];
  }
  addEventListener(type, listener) {
    if (type === "abort") this.listeners.push(listener);
  }
  removeEventListener() {}
}
class MiniAbortController {
  constructor() {
    this.signal = new MiniAbortSignal();
  }
  abort() {
    if (this.signal.aborted) return;
    this.signal.aborted = true;
    for (const listener of this.signal.listeners) listener();
  }
}
if (typeof global.AbortController === "undefined") global.AbortController = MiniAbortController;

function boundedFetch(url, options) {
  const signal = options && options.signal;
  if (!signal) return global.fetch(url, options);
  if (!(signal instanceof MiniAbortSignal)) return global.fetch(url, options);
  // The runtime's fetch cannot take our stand-in signal: race the exchange against it,
  // the body included (a server can send its headers and then stall).
  const aborted = new Promise((_, reject) => signal.addEventListener("abort", () => reject(new Error("aborted"))));
  return Promise.race([global.fetch(url, { ...options, signal: undefined }), aborted]).then((response) => ({
    ok: response.ok,
    status: response.status,
    headers: response.headers,
    text: () => Promise.race([response.text(), aborted]),
  }));
}

function withDeadline(promise, ms, what) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).then(
    (value) => {
      clearTimeout(timer);
      return value;
    },
    (err) => {
      clearTimeout(timer);
      throw err;
    },
  );
}

function requirement(version) {
  try {
    return global.Office.context.requirements.isSetSupported("Mailbox", version);
  } catch (_) {
    return false;
  }
}

async function readState(item) {
  try {
    const text = await office(item.sessionData.getAsync.bind(item.sessionData), STATE_KEY);
    return text ? JSON.parse(text) : null;
  } catch (_) {
    return null; // nothing stored yet for this item
  }
}

function writeState(item, state) {
  return office(item.sessionData.setAsync.bind(item.sessionData), STATE_KEY, JSON.stringify(state));
}

/** Replaces what an earlier decision appended: clear first, so calls never add up. */
async function appendOnSend(item, data, coercionType) {
  await office(item.body.appendOnSendAsync.bind(item.body), null, { coercionType: coercionType || "text" });
  if (data) await office(item.body.appendOnSendAsync.bind(item.body), data, { coercionType });
}

function notify(item, text) {
  // An informational bar in the compose window; a host without it only loses the hint.
  return office(item.notificationMessages.replaceAsync.bind(item.notificationMessages), "leakwatch", {
    type: "informationalMessage",
    message: text.length > 150 ? text.slice(0, 149) + "…" : text,
    icon: "Icon.16x16",
    persistent: false,
  }).catch(() => {});
}

let core = null;
let cachedChecker = null;

/** The core (WebAssembly or its wasm2js translation) and a Checker for today's history. */
function checkerFor(storage) {
  if (!core) core = global.leakwatchInit();
  const policy = storage.policy().value || {};
  const history = storage.history();
  const key = signature({ policy, size: history.length, newest: history[0] || null });
  if (!cachedChecker || cachedChecker.key !== key) {
    if (cachedChecker) cachedChecker.checker.free();
    cachedChecker = { key, checker: new core.Checker({ policy, history }) };
  }
  return cachedChecker.checker;
}

/** The signed-in client, or why there is none. */
function clientFor(storage, now) {
  const session = storage.session();
  if (!session || !session.token || !session.baseUrl) return { client: null, reason: REASONS.notSignedIn };
  const expires = expiresAt(session);
  if (expires !== null && expires <= now) return { client: null, reason: REASONS.expired };
  try {
    return { client: new ApiClient({ baseUrl: session.baseUrl, token: session.token, fetch: boundedFetch, timeoutMs: REGISTER_TIMEOUT_MS }) };
  } catch (_) {
    return { client: null, reason: REASONS.notSignedIn };
  }
}

async function refreshPolicy(storage, client, now) {
  const cached = storage.policy();
  if (cached.at && now - cached.at < POLICY_MAX_AGE_MS) return;
  try {
    const policy = await client.request("GET", "/api/v1/tenant/policy", { timeoutMs: POLICY_TIMEOUT_MS });
    await storage.setRoaming({ [KEYS.policy]: { value: policy, at: now } });
  } catch (_) {
    // The last known policy applies; the registration below reports the server's state.
  }
}

function newStorage() {
  return new AddinStorage({ roamingSettings: global.Office.context.roamingSettings, global, platform: platformOf(global.Office) });
}

/** Compose-time work for one item: check, register when needed, append the notice. */
async function prepareNotice() {
  const item = global.Office.context.mailbox.item;
  const storage = newStorage();
  const lang = langOf(global.Office.context.displayLanguage);
  const now = Date.now();
  const { message, bodyType } = await readItem(item);
  const key = recipientKey(message);
  const state = await readState(item);
  if (state && state.key !== key && state.tracked) {
    // The pixel must never go for recipients it was not registered for, even for the
    // moment the new registration takes: the old notice goes first.
    await appendOnSend(item, null, bodyType);
  }
  if (!message.to.length && !message.cc.length && !message.bcc.length) {
    await appendOnSend(item, null, bodyType);
    await writeState(item, { key, registration: null, tracked: false, reason: null });
    return;
  }
  let registration = state && state.key === key && state.bodyType === bodyType ? state.registration : null;
  let reason = null;
  let detail = null;
  const { client, reason: noClient } = clientFor(storage, now);
  if (client) await refreshPolicy(storage, client, now);
  const checker = checkerFor(storage);
  const verdict = checker.check(message, lang);
  if (!registration) {
    if (!client) {
      reason = noClient;
    } else {
      try {
        registration = await client.register(registrationFor(message, verdict, { overridden: false, lang }), { timeoutMs: REGISTER_TIMEOUT_MS });
      } catch (err) {
        reason = reasonFor(err);
        detail = err.message;
      }
    }
  }
  let tracked = false;
  if (registration) {
    try {
      const append = appendix(checker, registration, bodyType, lang);
      await appendOnSend(item, append.data, append.coercionType);
      tracked = append.tracked;
    } catch (err) {
      await appendOnSend(item, null, bodyType).catch(() => {});
      registration = null;
      reason = REASONS.discloseFailed;
      detail = err.message;
    }
  } else {
    await appendOnSend(item, null, bodyType);
  }
  await writeState(item, { key, bodyType, registration, tracked, reason, detail });
  await notify(item, registration ? t(lang, tracked ? "composeTracked" : "composeDisclosed") : t(lang, "composeUntracked", { why: t(lang, `reason_${reason}`) }));
}

// Compose events of one item run one after the other: a later recipients change must not
// be overtaken by an earlier, slower registration.
let composeQueue = Promise.resolve();

function onComposeChanged(event) {
  const run = composeQueue.then(() => withDeadline(prepareNotice(), COMPOSE_DEADLINE_MS, "leakwatch compose check"));
  composeQueue = run.catch(() => {});
  run.then(
    () => event.completed(),
    (err) => {
      console.error("leakwatch:", err && err.message);
      event.completed();
    },
  );
}

async function decideSend(event) {
  const item = global.Office.context.mailbox.item;
  const storage = newStorage();
  const lang = langOf(global.Office.context.displayLanguage);
  const started = Date.now();
  const { message } = await readItem(item);
  const verdict = checkerFor(storage).check(message, lang);
  const entry = { at: new Date().toISOString(), subject: message.subject, verdict: verdict.verdict, rules: verdict.findings.map((f) => f.rule) };
  const alert = smartAlert(verdict, lang, { markdown: requirement("1.15") });
  if (!alert.allowEvent) {
    await storage.logSend({ ...entry, outcome: verdict.verdict === "block" ? "blocked" : "warned", ms: Date.now() - started });
    return alert;
  }
  const state = await readState(item);
  const key = recipientKey(message);
  let outcome;
  let reason = null;
  if (state && state.key === key) {
    outcome = state.registration ? (state.tracked ? "tracked" : "disclosed") : "untracked";
    reason = state.reason || null;
  } else if (state && state.tracked && state.staleStopped !== key) {
    // A pixel registered for other recipients is in the append: stop once, while the
    // recipients handler (already running, bounded) replaces it.
    await writeState(item, { ...state, staleStopped: key });
    await storage.logSend({ ...entry, outcome: "stopped_stale", ms: Date.now() - started });
    return { allowEvent: false, errorMessage: t(lang, "staleNotice") };
  } else {
    outcome = state && state.registration ? (state.tracked ? "tracked" : "disclosed") : "untracked";
    reason = STALE_NOTICE;
  }
  await storage.addSent(sentRecord(message, new Date()));
  await storage.logSend({ ...entry, outcome, reason, messageId: state && state.registration ? state.registration.id : null, ms: Date.now() - started });
  return { allowEvent: true };
}

function onMessageSend(event) {
  let done = false;
  const complete = (options) => {
    if (done) return;
    done = true;
    event.completed(options);
  };
  withDeadline(decideSend(event), SEND_DEADLINE_MS, "leakwatch send check").then(complete, (err) => {
    // The check itself failed: the mail goes, unchecked, and the log says why.
    console.error("leakwatch:", err && err.message);
    try {
      newStorage().logSend({ at: new Date().toISOString(), outcome: "untracked", reason: REASONS.checkFailed, detail: String(err && err.message) });
    } catch (_) {
      // nothing more can be done without storage
    }
    complete({ allowEvent: true });
  });
}

global.Office.actions.associate("onNewMessageComposeHandler", onComposeChanged);
global.Office.actions.associate("onMessageRecipientsChangedHandler", onComposeChanged);
global.Office.actions.associate("onMessageAttachmentsChangedHandler", onComposeChanged);
global.Office.actions.associate("onMessageSendHandler", onMessageSend);
