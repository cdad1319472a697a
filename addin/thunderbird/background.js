// The add-on's background (an MV3 event page with a DOM): listener wiring over the modules
// in lib/ — the send path (lib/send.mjs), the warning window (lib/warnings.mjs), the sign-in
// and policy cache (lib/session.mjs), the history kept in step with the Sent folders
// (lib/history-sync.mjs) and the sender's alerts (common/alerts.mjs). Everything that
// outlives one wake-up is in storage.local (lib/store.mjs); the checker is rebuilt from it
// when the page starts again. Listeners are registered at the top level so that Thunderbird
// can wake the page for them.

import { loadCore } from "./common/core.mjs";
import { AlertFeed } from "./common/alerts.mjs";
import { indexAddressBooks } from "./lib/recipients.mjs";
import { historyMessages } from "./lib/history.mjs";
import { HistorySync } from "./lib/history-sync.mjs";
import { SendPath, signature } from "./lib/send.mjs";
import { Session } from "./lib/session.mjs";
import { Store, KEYS } from "./lib/store.mjs";
import { Warnings } from "./lib/warnings.mjs";
import { MSG } from "./lib/protocol.mjs";
import { langFor } from "./lib/i18n.mjs";
import { alertText } from "./lib/view-model.mjs";

const ALERTS_ALARM = "leakwatch-alerts";
const POLICY_ALARM = "leakwatch-policy";

const store = new Store(browser.storage.local);
const session = new Session(store, langFor(browser.i18n.getUILanguage()));
const warnings = new Warnings(browser.windows);

// ---------------------------------------------------------------- the checker

/** The checker for the current policy, history and address book, built once and kept. */
const checkers = {
  current: null,
  key: null,
  /** Sends between onBeforeSend and its answer, and checkers replaced meanwhile. */
  inFlight: 0,
  retired: [],
};

async function checkerFor(contacts) {
  const [policy, history] = await Promise.all([store.policy(), store.history()]);
  const key = [policy?.fetchedAt ?? 0, history?.builtAt ?? 0, signature(contacts)].join("|");
  if (checkers.current && checkers.key === key) return checkers.current;
  const core = await loadCore(browser.runtime.getURL("wasm/"));
  // A send still in flight may hold the old checker: free it once none is.
  if (checkers.current) checkers.retired.push(checkers.current);
  checkers.current = new core.Checker({ policy: policy?.value ?? {}, history: historyMessages(history), contacts });
  checkers.key = key;
  return checkers.current;
}

async function addressBookIndex() {
  try {
    return indexAddressBooks(await browser.addressBooks.list(true));
  } catch (err) {
    console.warn("leakwatch: address books unreadable", err);
    return indexAddressBooks([]);
  }
}

// ---------------------------------------------------------------- notifications and alerts

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
}

let feed = null;

async function startAlerts() {
  const client = await session.client();
  if (!client) return;
  if (feed && feed.client.token === client.token) {
    await feed.poll();
    feed.openStream();
    return;
  }
  feed?.stop();
  const position = await store.get(KEYS.alertsPosition, null);
  const tokenKey = signature(client.token);
  feed = new AlertFeed({
    client,
    lastSeq: position?.token === tokenKey ? position.lastSeq : null,
    onSeq: (lastSeq) => store.set({ [KEYS.alertsPosition]: { lastSeq, token: tokenKey } }),
    onAlert: async (alert) => {
      await store.addAlert(alert);
      // In the language the add-on is set to, not the one the message was sent in.
      const { title, body } = alertText(alert, (await session.settings()).lang);
      await notify(`alert-${alert.kind}`, title || "leakwatch", body);
    },
  });
  await feed.start();
}

// ---------------------------------------------------------------- history

const history = new HistorySync(store, browser);
browser.folders.onFolderInfoChanged.addListener((folder, info) => history.folderChanged(folder, info));

// ---------------------------------------------------------------- sending

const sendPath = new SendPath({
  store,
  checker: (index) => checkerFor(index.contacts),
  client: () => session.client(),
  expired: () => session.expired(),
  askSender: (verdict, message, lang) => warnings.ask(verdict, message, lang),
  notify,
  DOMParser,
});

async function identityEmail(details) {
  if (!details.identityId) return undefined;
  try {
    return (await browser.identities.get(details.identityId))?.email;
  } catch {
    return undefined;
  }
}

browser.compose.onBeforeSend.addListener(async (tab, details) => {
  checkers.inFlight++;
  try {
    const [{ lang }, index, attachments, fromIdentity] = await Promise.all([
      session.settings(),
      addressBookIndex(),
      browser.compose.listAttachments(tab.id).catch(() => []),
      identityEmail(details),
    ]);
    return await sendPath.beforeSend(tab.id, details, { lang, attachments, index, identityEmail: fromIdentity });
  } finally {
    checkers.inFlight--;
    if (checkers.inFlight === 0) {
      for (const checker of checkers.retired.splice(0)) checker.free();
    }
  }
});

browser.compose.onAfterSend.addListener(async (tab, sendInfo) => {
  const sent = await sendPath.afterSend(tab.id, sendInfo);
  // The checker learns it now; its key stays (the stored history has it too).
  if (sent) checkers.current?.addSent(sent);
});

browser.tabs.onRemoved.addListener((tabId) => {
  sendPath.forget(tabId).catch(() => {});
});

// ---------------------------------------------------------------- the pages' messages

async function handle(message) {
  switch (message?.type) {
    case MSG.keepalive:
      return { ok: true, waiting: warnings.size };
    case MSG.warningGet:
      return warnings.get(message.id);
    case MSG.warningAnswer:
      return { ok: warnings.answer(message.id, message.answer) };
    case MSG.signIn: {
      const answer = await session.signIn(message);
      await startAlerts();
      return answer;
    }
    case MSG.signOut:
      feed?.stop();
      feed = null;
      await session.signOut();
      return { ok: true };
    case MSG.setLang:
      await session.setLang(message.lang);
      return { ok: true };
    case MSG.status:
      return { ...(await session.status()), alertsLive: Boolean(feed?.live) };
    case MSG.rebuildHistory:
      return history.rebuild();
    case MSG.refreshPolicy:
      return session.refreshPolicy();
    default:
      return undefined;
  }
}

browser.runtime.onMessage.addListener((message) =>
  Promise.resolve(handle(message)).catch((err) => ({ error: { code: err.code ?? "error", status: err.status ?? null, message: err.message } })),
);

// ---------------------------------------------------------------- wake-ups

browser.notifications.onClicked.addListener(() => {
  browser.tabs.create({ url: browser.runtime.getURL("view/view.html") }).catch(() => {});
});

browser.alarms.onAlarm.addListener(async (alarm) => {
  if (alarm.name === ALERTS_ALARM) await startAlerts();
  if (alarm.name === POLICY_ALARM) await session.refreshPolicy();
});

async function ensureAlarms() {
  if (!(await browser.alarms.get(ALERTS_ALARM))) {
    browser.alarms.create(ALERTS_ALARM, { periodInMinutes: 0.5 });
  }
  if (!(await browser.alarms.get(POLICY_ALARM))) {
    browser.alarms.create(POLICY_ALARM, { periodInMinutes: 60 });
  }
}

browser.runtime.onInstalled.addListener(() => history.sync());
browser.runtime.onStartup.addListener(() => history.sync());

ensureAlarms();
history.sync();
startAlerts().catch((err) => console.warn("leakwatch: alerts unavailable", err));
