// The sender's sign-in: the server, the token and when it expires, the tenant policy cache.

import { ApiClient, ApiError, normaliseBaseUrl } from "../common/api.mjs";
import { KEYS } from "./store.mjs";
import { historyMessages } from "./history.mjs";

export class Session {
  /**
   * @param {import("./store.mjs").Store} store
   * @param {string} uiLang  the language when the user chose none ("nl" or "en")
   * @param {typeof fetch} [fetchImpl]
   */
  constructor(store, uiLang, fetchImpl) {
    this.store = store;
    this.uiLang = uiLang;
    this.fetch = fetchImpl;
  }

  settings() {
    return this.store.settings(this.uiLang);
  }

  /** A client for the signed-in user, or null (not signed in, or the token has expired). */
  async client() {
    const [config, auth] = await Promise.all([this.settings(), this.store.auth()]);
    if (!config.serverUrl || !auth?.token) return null;
    if (auth.expiresAt && auth.expiresAt <= Date.now()) return null;
    return new ApiClient({ baseUrl: config.serverUrl, token: auth.token, fetch: this.fetch });
  }

  /** Whether there is a sign-in that has expired (as opposed to none at all). */
  async expired() {
    const auth = await this.store.auth();
    return Boolean(auth?.token && auth.expiresAt && auth.expiresAt <= Date.now());
  }

  async signIn({ serverUrl, tenant, email, password, lang }) {
    const baseUrl = normaliseBaseUrl(serverUrl);
    const client = new ApiClient({ baseUrl, fetch: this.fetch });
    const { token, expires_at } = await client.login(tenant, email, password);
    const previous = await this.settings();
    await this.store.set({
      [KEYS.settings]: { ...previous, serverUrl: baseUrl, tenant, email, lang: lang === "nl" || lang === "en" ? lang : previous.lang },
      [KEYS.auth]: { token, expiresAt: expires_at },
    });
    const policy = await this.refreshPolicy(client);
    return { ok: true, policy: policy.status };
  }

  signOut() {
    return this.store.remove([KEYS.auth, KEYS.alertsPosition]);
  }

  async setLang(lang) {
    const config = await this.settings();
    await this.store.set({ [KEYS.settings]: { ...config, lang: lang === "nl" ? "nl" : "en" } });
  }

  /** Fetches and caches the tenant policy; on failure the cached (or default) one stays. */
  async refreshPolicy(client) {
    client ??= await this.client();
    if (!client) return { status: "not_signed_in" };
    try {
      const value = await client.policy();
      await this.store.set({ [KEYS.policy]: { value, fetchedAt: Date.now() } });
      return { status: "fetched" };
    } catch (err) {
      return { status: err instanceof ApiError ? err.code : "error", message: err.message };
    }
  }

  async status() {
    const [config, auth, history, policy, sendLog] = await Promise.all([
      this.settings(),
      this.store.auth(),
      this.store.history(),
      this.store.policy(),
      this.store.sendLog(),
    ]);
    const signedIn = Boolean(config.serverUrl && auth?.token && (!auth.expiresAt || auth.expiresAt > Date.now()));
    return {
      settings: { serverUrl: config.serverUrl, tenant: config.tenant, email: config.email, lang: config.lang },
      signedIn,
      expiresAt: auth?.expiresAt ?? null,
      historySize: historyMessages(history).length,
      historyBuiltAt: history?.builtAt ?? null,
      policyFetchedAt: policy?.fetchedAt ?? null,
      lastSend: sendLog[0] ?? null,
    };
  }
}
