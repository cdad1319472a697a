// Settings: the server, sign-in (tenant, e-mail, password -> a token kept in storage.local),
// the language, and rebuilding the contact history from the Sent folders.

import { hostPermissionFor } from "../common/api.mjs";
import { t } from "../lib/i18n.mjs";

const $ = (selector) => document.querySelector(selector);
const send = (message) => browser.runtime.sendMessage(message);

function show(text, error = false) {
  $("#message").textContent = text;
  $("#message").className = error ? "error" : "";
}

async function refresh() {
  const status = await send({ type: "status" });
  const { settings } = status;
  $("#server").value ||= settings.serverUrl ?? "";
  $("#tenant").value ||= settings.tenant ?? "";
  $("#email").value ||= settings.email ?? "";
  $("#lang").value = settings.lang;
  const lang = settings.lang;
  const lines = [
    status.signedIn
      ? t(lang, "signedInAs", { email: settings.email, tenant: settings.tenant, server: settings.serverUrl })
      : t(lang, "notSignedInShort"),
    t(lang, "historySize", { n: status.historySize }),
  ];
  $("#status").replaceChildren(...lines.map((line) => Object.assign(document.createElement("div"), { textContent: line })));
}

$("#signin").addEventListener("submit", (event) => {
  event.preventDefault();
  let origins;
  try {
    origins = [hostPermissionFor($("#server").value)];
  } catch (err) {
    show(err.message, true);
    return;
  }
  // First, inside the click: Thunderbird only asks for a permission during user input.
  browser.permissions
    .request({ origins })
    .then(async (granted) => {
      if (!granted) {
        show("Without access to the server leakwatch cannot sign in.", true);
        return;
      }
      show("…");
      const answer = await send({
        type: "signIn",
        serverUrl: $("#server").value,
        tenant: $("#tenant").value.trim(),
        email: $("#email").value.trim(),
        password: $("#password").value,
        lang: $("#lang").value,
      });
      $("#password").value = "";
      if (answer?.error) show(answer.error.message, true);
      else show(answer.policy === "fetched" ? "Signed in; the organisation's policy is loaded." : "Signed in.");
      await refresh();
    })
    .catch((err) => show(err.message, true));
});

$("#signout").addEventListener("click", async () => {
  await send({ type: "signOut" });
  show("Signed out.");
  await refresh();
});

$("#rebuild").addEventListener("click", async () => {
  show("…");
  const answer = await send({ type: "rebuildHistory" });
  show(answer?.error ? answer.error.message : `${answer.count} messages from ${answer.folders} Sent folder(s).`, Boolean(answer?.error));
  await refresh();
});

$("#lang").addEventListener("change", async () => {
  await send({ type: "setLang", lang: $("#lang").value });
  await refresh();
});

await refresh();

// Test profile only (hooks set by the end-to-end test's driver add-on): report what is shown.
const { testHooks: hooks } = await browser.storage.local.get("testHooks");
if (hooks?.reportUrl) {
  await fetch(hooks.reportUrl, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      event: "options-shown",
      server: $("#server").value,
      tenant: $("#tenant").value,
      email: $("#email").value,
      lang: $("#lang").value,
      status: $("#status").textContent,
    }),
  }).catch(() => {});
}
