// The toolbar button's popup: who is signed in, and the way to the sent-messages view and
// the settings.

import { t } from "../lib/i18n.mjs";
import { MSG, ask } from "../lib/protocol.mjs";

const status = await ask(MSG.status);
const lang = status.settings.lang === "nl" ? "nl" : "en";
document.documentElement.lang = lang;
document.title = `leakwatch: ${t(lang, "openView")}`;
const line = (text) => Object.assign(document.createElement("div"), { textContent: text });
document.querySelector("#status").replaceChildren(
  line(
    status.signedIn
      ? t(lang, "signedInAs", { email: status.settings.email, tenant: status.settings.tenant, server: status.settings.serverUrl })
      : t(lang, "notSignedInShort"),
  ),
  line(t(lang, "historySize", { n: status.historySize })),
);
const view = document.querySelector("#view");
view.textContent = t(lang, "openView");
view.addEventListener("click", async () => {
  await browser.tabs.create({ url: browser.runtime.getURL("view/view.html") });
  window.close();
});
const settings = document.querySelector("#settings");
settings.textContent = t(lang, "settings");
settings.addEventListener("click", async () => {
  await browser.runtime.openOptionsPage();
  window.close();
});
