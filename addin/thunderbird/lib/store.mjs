// Everything the add-on keeps, in storage.local on this machine only, behind one typed
// surface: the keys live here and nowhere else, and every read-modify-write goes through one
// queue so that two sends finishing together (or a send and a history rebuild) cannot
// overwrite each other's changes.

/** The storage.local keys. Pages read them only through a Store. */
export const KEYS = Object.freeze({
  settings: "settings",
  auth: "auth",
  policy: "policy",
  history: "history",
  sendLog: "sendLog",
  recentAlerts: "recentAlerts",
  alertsPosition: "alertsPosition",
  pendingSends: "pendingSends",
});

/** How many entries the local send log keeps (newest first). */
export const SEND_LOG_CAP = 100;
/** How many alerts the view shows (newest first). */
export const RECENT_ALERTS_CAP = 50;

export class Store {
  /** @param {browser.storage.StorageArea} area  storage.local, or a stand-in in tests */
  constructor(area) {
    this.area = area;
    this.queue = Promise.resolve();
  }

  async get(key, fallback) {
    const value = (await this.area.get(key))[key];
    return value === undefined ? fallback : value;
  }

  /** Writes keys outright (use `update` when the new value depends on the old one). */
  set(values) {
    return this.serialized(() => this.area.set(values));
  }

  remove(keys) {
    return this.serialized(() => this.area.remove(keys));
  }

  /** `fn(current)` → the new value of `key`, run after every earlier write of this store. */
  update(key, fallback, fn) {
    return this.serialized(async () => {
      const next = await fn(await this.get(key, fallback));
      await this.area.set({ [key]: next });
      return next;
    });
  }

  serialized(fn) {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => {});
    return run;
  }

  /** `{serverUrl, tenant, email, lang}`; `lang` defaults to Thunderbird's language. */
  async settings(uiLang) {
    const saved = await this.get(KEYS.settings, {});
    return { lang: uiLang, ...saved };
  }

  /** `{token, expiresAt}` or null. */
  auth() {
    return this.get(KEYS.auth, null);
  }

  /** `{value, fetchedAt}` or null. */
  policy() {
    return this.get(KEYS.policy, null);
  }

  /** `{fromFolders, local, builtAt, folders, headers}` or null (see lib/history.mjs). */
  history() {
    return this.get(KEYS.history, null);
  }

  /** What happened to each recent send, newest first (shown in the view). */
  sendLog() {
    return this.get(KEYS.sendLog, []);
  }

  logSend(entry) {
    return this.update(KEYS.sendLog, [], (log) => [entry, ...log].slice(0, SEND_LOG_CAP));
  }

  recentAlerts() {
    return this.get(KEYS.recentAlerts, []);
  }

  addAlert(alert) {
    return this.update(KEYS.recentAlerts, [], (list) => [alert, ...list].slice(0, RECENT_ALERTS_CAP));
  }
}
