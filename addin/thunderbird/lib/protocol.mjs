// The messages the add-on's pages send to its background page: one list of types, used by
// both sides, so that a renamed or missing type fails in the tests instead of silently.

export const MSG = Object.freeze({
  /** The warning window pings while open, so the background stays awake for its send. */
  keepalive: "keepalive",
  /** `{id}` → `{verdict, message, lang}` of a warning window, or null. */
  warningGet: "warning:get",
  /** `{id, answer: "send"|"back"}`. */
  warningAnswer: "warning:answer",
  /** `{serverUrl, tenant, email, password, lang}` → `{ok, policy}`. */
  signIn: "signIn",
  signOut: "signOut",
  /** `{lang: "nl"|"en"}`. */
  setLang: "setLang",
  /** → sign-in, history and policy state for the options page and the popup. */
  status: "status",
  /** → `{count, folders, headers}` after reading the Sent folders again. */
  rebuildHistory: "rebuildHistory",
  refreshPolicy: "refreshPolicy",
});

/** Sends one message to the background page (from a page of the add-on). */
export function ask(type, payload = {}) {
  return browser.runtime.sendMessage({ ...payload, type });
}
