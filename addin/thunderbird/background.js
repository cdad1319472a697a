// The add-on's background (an MV3 event page with a DOM): the send-time check in
// compose.onBeforeSend, the warning window, registration with the backend and the
// disclosure, the contact history, the tenant policy cache and the sender's alerts.
//
// Everything that outlives one wake-up is in storage.local (on this machine only); the
// checker is rebuilt from it when the page starts again. Listeners are registered at the top
// level so that Thunderbird can wake the page for them.

import { loadCore } from "./common/core.mjs";
import { ApiClient, ApiError, normaliseBaseUrl, registrationFor } from "./common/api.mjs";
import { AlertFeed } from "./common/alerts.mjs";
import { indexAddressBooks } from "./lib/recipients.mjs";
import { bootstrapHistory, withSent, HISTORY_CAP } from "./lib/history.mjs";
import { messageFromDetails, sentRecord } from "./lib/compose.mjs";
import { disclosedBody } from "./lib/disclose.mjs";
import { langFor, t } from "./lib/i18n.mjs";

/** The test-only driver add-on (installed only in the end-to-end test's profile). */
const TEST_DRIVER_ID = "e2e-driver@tests.leakwatch";
const ALERTS_ALARM = "leakwatch-alerts";
const POLICY_ALARM = "leakwatch-policy";

const state = {
  checker: null,
  checkerKey: null,
  /** Warning windows waiting for the sender: id -> {verdict, message, lang, resolve, windowId}. */
  warnings: new Map(),
  /** Messages checked in onBeforeSend, recorded in the history once sent: tabId -> sent. */
  sending: new Map(),
  feed: null,
  /** Sends between onBeforeSend and its answer, and checkers replaced meanwhile. */
  inFlight: 0,
  retired: [],
};

// ---------------------------------------------------------------- storage

async function load(key, fallback) {
  const value = (await browser.storage.local.get(key))[key];
  return value === undefined ? fallback : value;
}

async function settings() {
  const saved = await load("settings", {});
  return { lang: langFor(browser.i18n.getUILanguage()), ...saved };
}

async function testHooks() {
  return load("testHooks", {});
}

/** Reports an event to the end-to-end test's HTTP server (only when its hook is set). */
async function report(event, data) {
  const hooks = await testHooks();
  if (!hooks.reportUrl) return;
  try {
    await fetch(hooks.reportUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ event, ...data }),
    });
  } catch (err) {
    console.warn("leakwatch: test report failed", err);
  }
}

async function notify(kind, title, message) {
  try {
    await browser.notifications.create(`leakwatch-${kind}-${Date.now()}`, {
      type: "basic",
      title,
      message,
      iconUrl: browser.runtime.getURL("icons/leakwatch.svg"),
    });
  } catch (err) {
    console.warn("leakwatch: notification failed", err);
  }
  await report("notification", { kind, title, message });
}

/** A client for the signed-in user, or null (not signed in, or the token has expired). */
async function apiClient() {
  const [config, auth] = await Promise.all([settings(), load("auth", null)]);
  if (!config.serverUrl || !auth?.token) return null;
  if (auth.expiresAt && auth.expiresAt <= Date.now()) return null;
  return new ApiClient({ baseUrl: config.serverUrl, token: auth.token });
}

// ---------------------------------------------------------------- the checker

function signature(value) {
  const text = JSON.stringify(value);
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `${text.length}:${hash}`;
}

/** The checker for the current policy, history and address book, built once and kept. */
async function checkerFor(contacts) {
  const [policy, history] = await Promise.all([load("policy", null), load("history", null)]);
  const key = [policy?.fetchedAt ?? 0, history?.builtAt ?? 0, signature(contacts)].join("|");
  if (state.checker && state.checkerKey === key) return state.checker;
  const core = await loadCore(browser.runtime.getURL("wasm/"));
  // A send still in flight may hold the old checker: free it once none is.
  if (state.checker) state.retired.push(state.checker);
  state.checker = new core.Checker({
    policy: policy?.value ?? {},
    history: history?.messages ?? [],
    contacts,
  });
  state.checkerKey = key;
  return state.checker;
}

async function addressBookIndex() {
  try {
    return indexAddressBooks(await browser.addressBooks.list(true));
  } catch (err) {
    console.warn("leakwatch: address books unreadable", err);
    return indexAddressBooks([]);
  }
}

// ---------------------------------------------------------------- history

async function sentFolders() {
  return browser.folders.query({ specialUse: ["sent"] });
}

async function readSentFolders() {
  return bootstrapHistory(
    {
      sentFolders,
      list: (folderId) => browser.messages.list(folderId),
      continueList: (listId) => browser.messages.continueList(listId),
    },
    { cap: HISTORY_CAP },
  );
}

async function storeHistory(result) {
  const record = { messages: result.history, builtAt: Date.now(), folders: result.folders, headers: result.headers };
  await browser.storage.local.set({ history: record });
  return { count: result.history.length, folders: result.folders, headers: result.headers };
}

/** Reads the Sent folders again and replaces the stored history (options page). */
async function rebuildHistory() {
  return storeHistory(await readSentFolders());
}

/** The first history, once Thunderbird shows its Sent folders (a moment after start-up). */
async function ensureHistory() {
  if (await load("history", null)) return;
  try {
    const result = await readSentFolders();
    if (result.folders > 0) await storeHistory(result);
  } catch (err) {
    console.warn("leakwatch: cannot read the Sent folders", err);
  }
}

async function recordSent(sent) {
  const history = await load("history", { messages: [], builtAt: Date.now() });
  history.messages = withSent(history.messages ?? [], sent, HISTORY_CAP);
  await browser.storage.local.set({ history });
  // The checker already knows it (addSent), so its key stays the same.
  state.checker?.addSent(sent);
}

// ---------------------------------------------------------------- policy

async function refreshPolicy(client) {
  client ??= await apiClient();
  if (!client) return { status: "not_signed_in" };
  try {
    const value = await client.policy();
    await browser.storage.local.set({ policy: { value, fetchedAt: Date.now() } });
    return { status: "fetched" };
  } catch (err) {
    // Unreachable, or a server without the policy endpoint: the cached (or default) policy
    // stays in force.
    return { status: err instanceof ApiError ? err.code : "error", message: err.message };
  }
}

// ---------------------------------------------------------------- alerts

async function startAlerts() {
  const client = await apiClient();
  if (!client) return;
  if (state.feed && state.feed.client.token === client.token) {
    await state.feed.poll();
    state.feed.openStream();
    return;
  }
  state.feed?.stop();
  const position = await load("alertsPosition", null);
  const feed = new AlertFeed({
    client,
    lastSeq: position?.token === signature(client.token) ? position.lastSeq : null,
    onSeq: (lastSeq) => browser.storage.local.set({ alertsPosition: { lastSeq, token: signature(client.token) } }),
    onAlert: (alert, via) => showAlert(alert, via),
  });
  state.feed = feed;
  await feed.start();
}

async function showAlert(alert, via) {
  const recent = await load("recentAlerts", []);
  await browser.storage.local.set({ recentAlerts: [alert, ...recent].slice(0, 50) });
  await notify(`alert-${alert.kind}`, alert.title || "leakwatch", alert.body || "");
  await report("alert", { alert, via });
}

// ---------------------------------------------------------------- the warning window

function askSender(verdict, message, lang) {
  const id = crypto.randomUUID();
  return new Promise((resolve) => {
    state.warnings.set(id, { verdict, message, lang, resolve, windowId: null });
    browser.windows
      .create({ type: "popup", url: `warning/warning.html?id=${id}`, width: 620, height: 560 })
      .then((win) => {
        const pending = state.warnings.get(id);
        if (pending) pending.windowId = win.id;
        else browser.windows.remove(win.id).catch(() => {});
      })
      .catch((err) => {
        console.error("leakwatch: cannot open the warning", err);
        state.warnings.delete(id);
        resolve("back");
      });
  });
}

function answerWarning(id, answer) {
  const pending = state.warnings.get(id);
  if (!pending) return false;
  state.warnings.delete(id);
  pending.resolve(answer === "send" && pending.verdict.verdict !== "block" ? "send" : "back");
  if (pending.windowId !== null) browser.windows.remove(pending.windowId).catch(() => {});
  return true;
}

browser.windows.onRemoved.addListener((windowId) => {
  for (const [id, pending] of state.warnings) {
    if (pending.windowId === windowId) answerWarning(id, "back");
  }
});

// ---------------------------------------------------------------- sending

async function identityEmail(details) {
  if (!details.identityId) return undefined;
  try {
    return (await browser.identities.get(details.identityId))?.email;
  } catch {
    return undefined;
  }
}

/** Registers the message and returns the body with the disclosure, or null (sent as is). */
async function registerAndDisclose(details, message, verdict, checker, { overridden, lang }) {
  const client = await apiClient();
  if (!client) {
    const auth = await load("auth", null);
    const expired = auth?.token && auth.expiresAt && auth.expiresAt <= Date.now();
    if (expired) await notify("expired", t(lang, "signInAgainTitle"), t(lang, "signInAgain"));
    else await notify("not-signed-in", t(lang, "notSignedInTitle"), t(lang, "notSignedIn"));
    return null;
  }
  let registration;
  try {
    registration = await client.register(registrationFor(message, verdict, { overridden, lang }));
  } catch (err) {
    if (err instanceof ApiError && err.unauthorized) {
      await notify("expired", t(lang, "signInAgainTitle"), t(lang, "signInAgain"));
    } else if (err instanceof ApiError && !err.unreachable) {
      await notify("refused", t(lang, "refusedTitle"), t(lang, "refused", { why: err.message }));
    } else {
      await notify("unreachable", t(lang, "unreachableTitle"), t(lang, "unreachable", { why: err.message }));
    }
    return null;
  }
  try {
    const edit = disclosedBody(details, checker, registration, lang, { DOMParser });
    await report("registered", { registration, isPlainText: Boolean(details.isPlainText) });
    return edit;
  } catch (err) {
    await notify("disclose-failed", t(lang, "discloseFailedTitle"), t(lang, "discloseFailed", { why: err.message }));
    return null;
  }
}

async function onBeforeSend(tab, details) {
  const { lang } = await settings();
  const [index, attachments, fromIdentity] = await Promise.all([
    addressBookIndex(),
    browser.compose.listAttachments(tab.id).catch(() => []),
    identityEmail(details),
  ]);
  let message;
  let checker;
  let verdict;
  try {
    message = messageFromDetails(details, { attachments, index, identityEmail: fromIdentity, DOMParser });
    checker = await checkerFor(index.contacts);
    verdict = checker.check(message, lang);
  } catch (err) {
    console.error("leakwatch: check failed", err);
    await notify("check-failed", t(lang, "checkFailedTitle"), t(lang, "checkFailed", { why: err.message }));
    return {};
  }
  await report("checked", {
    verdict: verdict.verdict,
    rules: verdict.findings.map((f) => f.rule),
    track: verdict.track,
    recipients: [...message.to, ...message.cc, ...message.bcc].map((r) => r.address),
    attachments: message.attachments,
  });
  let overridden = false;
  if (verdict.verdict !== "send") {
    const answer = await askSender(verdict, message, lang);
    await report("answered", { answer });
    if (answer !== "send") return { cancel: true };
    overridden = true;
  }
  state.sending.set(tab.id, sentRecord(message));
  const edit = await registerAndDisclose(details, message, verdict, checker, { overridden, lang });
  return edit ? { details: edit } : {};
}

browser.compose.onBeforeSend.addListener(async (tab, details) => {
  state.inFlight++;
  try {
    return await onBeforeSend(tab, details);
  } finally {
    state.inFlight--;
    if (state.inFlight === 0) {
      for (const checker of state.retired.splice(0)) checker.free();
    }
  }
});

browser.compose.onAfterSend.addListener(async (tab, sendInfo) => {
  const sent = state.sending.get(tab.id);
  state.sending.delete(tab.id);
  if (!sent || sendInfo.error) return;
  await recordSent({ ...sent, sent_at: new Date().toISOString() });
});

// ---------------------------------------------------------------- sign-in

async function signIn({ serverUrl, tenant, email, password, lang }) {
  const baseUrl = normaliseBaseUrl(serverUrl);
  const client = new ApiClient({ baseUrl });
  const { token, expires_at } = await client.login(tenant, email, password);
  const previous = await settings();
  await browser.storage.local.set({
    settings: { ...previous, serverUrl: baseUrl, tenant, email, lang: lang ?? previous.lang },
    auth: { token, expiresAt: expires_at },
  });
  const policy = await refreshPolicy(client);
  await startAlerts();
  return { ok: true, policy: policy.status };
}

async function signOut() {
  state.feed?.stop();
  state.feed = null;
  await browser.storage.local.remove(["auth", "alertsPosition"]);
  return { ok: true };
}

async function status() {
  const [config, auth, history, policy] = await Promise.all([
    settings(),
    load("auth", null),
    load("history", null),
    load("policy", null),
  ]);
  const signedIn = Boolean(config.serverUrl && auth?.token && (!auth.expiresAt || auth.expiresAt > Date.now()));
  return {
    settings: { serverUrl: config.serverUrl, tenant: config.tenant, email: config.email, lang: config.lang },
    signedIn,
    expiresAt: auth?.expiresAt ?? null,
    historySize: history?.messages?.length ?? 0,
    historyBuiltAt: history?.builtAt ?? null,
    policyFetchedAt: policy?.fetchedAt ?? null,
    alertsLive: Boolean(state.feed?.live),
  };
}

/** The messages the add-on's own pages send. */
async function handle(message) {
  switch (message?.type) {
    case "keepalive":
      return { ok: true, waiting: state.warnings.size };
    case "warning:get": {
      const pending = state.warnings.get(message.id);
      if (!pending) return null;
      return { verdict: pending.verdict, message: pending.message, lang: pending.lang, hooks: await testHooks() };
    }
    case "warning:answer":
      return { ok: answerWarning(message.id, message.answer) };
    case "signIn":
      return signIn(message);
    case "signOut":
      return signOut();
    case "setLang": {
      const config = await settings();
      await browser.storage.local.set({ settings: { ...config, lang: message.lang === "nl" ? "nl" : "en" } });
      return { ok: true };
    }
    case "status":
      return status();
    case "rebuildHistory":
      return rebuildHistory();
    case "refreshPolicy":
      return refreshPolicy();
    default:
      return undefined;
  }
}

function respond(promise) {
  return Promise.resolve(promise).catch((err) => ({ error: { code: err.code ?? "error", message: err.message } }));
}

browser.runtime.onMessage.addListener((message) => respond(handle(message)));

// The end-to-end test drives the add-on through its test-only helper add-on: sign in (as
// the options page does), rebuild the history, and set the hooks that report events and
// answer the warning window. No other sender is listened to.
browser.runtime.onMessageExternal.addListener((message, sender) => {
  if (sender.id !== TEST_DRIVER_ID) return undefined;
  if (message?.type === "setTestHooks") {
    return respond(browser.storage.local.set({ testHooks: message.hooks ?? {} }).then(() => ({ ok: true })));
  }
  if (message?.type === "openOptions") {
    return respond(browser.runtime.openOptionsPage().then(() => ({ ok: true })));
  }
  if (message?.type === "openView") {
    return respond(browser.tabs.create({ url: browser.runtime.getURL("view/view.html") }).then((tab) => ({ ok: true, tabId: tab.id })));
  }
  if (["signIn", "status", "rebuildHistory", "refreshPolicy"].includes(message?.type)) {
    return respond(handle(message));
  }
  return undefined;
});

// ---------------------------------------------------------------- wake-ups

browser.notifications.onClicked.addListener(() => {
  browser.tabs.create({ url: browser.runtime.getURL("view/view.html") }).catch(() => {});
});

browser.alarms.onAlarm.addListener(async (alarm) => {
  if (alarm.name === ALERTS_ALARM) await startAlerts();
  if (alarm.name === POLICY_ALARM) await refreshPolicy();
});

async function ensureAlarms() {
  if (!(await browser.alarms.get(ALERTS_ALARM))) {
    browser.alarms.create(ALERTS_ALARM, { periodInMinutes: 0.5 });
  }
  if (!(await browser.alarms.get(POLICY_ALARM))) {
    browser.alarms.create(POLICY_ALARM, { periodInMinutes: 60 });
  }
}

browser.runtime.onInstalled.addListener(() => ensureHistory());
browser.runtime.onStartup.addListener(() => ensureHistory());

ensureAlarms();
ensureHistory();
startAlerts().catch((err) => console.warn("leakwatch: alerts unavailable", err));
