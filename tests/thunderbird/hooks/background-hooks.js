// Test build only (addin/thunderbird/build.mjs --test-build): the end-to-end test's hold on
// the add-on's background page. Commands come from the test's driver add-on as external
// messages; what the add-on does is reported to the test's HTTP server (hooks.reportUrl):
// each send-log entry, each alert, each notification, history changes. The product package
// has none of this.

import { KEYS, Store } from "../lib/store.mjs";
import { Session } from "../lib/session.mjs";
import { historyMessages } from "../lib/history.mjs";

const DRIVER_ID = "e2e-driver@tests.leakwatch";
const HOOKS = "testHooks";
const store = new Store(browser.storage.local);

async function report(event, data) {
  const hooks = await store.get(HOOKS, {});
  if (!hooks.reportUrl) return;
  await fetch(hooks.reportUrl, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ event, ...data }),
  }).catch((err) => console.warn("test hooks: report failed", err));
}

// Notifications vanish; wrap the API object the product calls so the test sees each one.
const create = browser.notifications.create.bind(browser.notifications);
browser.notifications.create = async (id, options) => {
  await report("notification", { id, title: options.title, message: options.message });
  return create(id, options);
};

browser.storage.onChanged.addListener((changes, area) => {
  if (area !== "local") return;
  const log = changes[KEYS.sendLog];
  if (log?.newValue?.length && log.newValue[0]?.at !== log.oldValue?.[0]?.at) {
    report("send-logged", { entry: log.newValue[0] });
  }
  const alerts = changes[KEYS.recentAlerts];
  if (alerts?.newValue?.length) report("alert", { alert: alerts.newValue[0] });
  const history = changes[KEYS.history];
  if (history) report("history", { size: historyMessages(history.newValue).length, complete: Boolean(history.newValue?.complete) });
});

browser.runtime.onMessageExternal.addListener((message, sender) => {
  if (sender.id !== DRIVER_ID) return undefined;
  const run = async () => {
    switch (message?.type) {
      case "setTestHooks":
        await store.set({ [HOOKS]: message.hooks ?? {} });
        return { ok: true };
      case "openOptions":
        await browser.runtime.openOptionsPage();
        return { ok: true };
      case "openView":
        return { ok: true, tabId: (await browser.tabs.create({ url: browser.runtime.getURL("view/view.html") })).id };
      case "setServerUrl":
        // Points the signed-in add-on at another server (one that misbehaves on purpose).
        await store.update(KEYS.settings, {}, (settings) => ({ ...settings, serverUrl: message.serverUrl }));
        return { ok: true };
      case "status":
        return new Session(store, "en").status();
      case "sendLog":
        return store.sendLog();
      default:
        return { error: `unknown test command ${message?.type}` };
    }
  };
  return run().catch((err) => ({ error: String(err?.message ?? err) }));
});
