// Settings: the server, sign-in (organisation, e-mail, password -> a token kept in
// storage.local), the language, and reading the contact history from the Sent folders again.

import { hostPermissionFor } from "../common/api.mjs";
import { MSG, ask } from "../lib/protocol.mjs";
import { errorText, sendOutcome, t } from "../lib/i18n.mjs";
import { formatTime } from "../lib/view-model.mjs";

const $ = (selector) => document.querySelector(selector);
let lang = "en";

function show(text, error = false) {
  $("#message").textContent = text;
  $("#message").className = error ? "error" : "";
}

function label() {
  document.documentElement.lang = lang;
  document.title = `leakwatch: ${t(lang, "settings")}`;
  for (const node of document.querySelectorAll("[data-text]")) node.textContent = t(lang, node.dataset.text);
}

async function refresh() {
  const status = await ask(MSG.status);
  const { settings } = status;
  lang = settings.lang === "nl" ? "nl" : "en";
  label();
  $("#server").value ||= settings.serverUrl ?? "";
  $("#tenant").value ||= settings.tenant ?? "";
  $("#email").value ||= settings.email ?? "";
  $("#lang").value = lang;
  const lines = [
    status.signedIn
      ? t(lang, "signedInAs", { email: settings.email, tenant: settings.tenant, server: settings.serverUrl })
      : t(lang, "notSignedInShort"),
    t(lang, "historySize", { n: status.historySize }),
  ];
  if (status.lastSend) {
    lines.push(t(lang, "lastSend", { when: formatTime(status.lastSend.at, lang), outcome: sendOutcome(lang, status.lastSend) }));
  }
  $("#status").replaceChildren(...lines.map((line) => Object.assign(document.createElement("div"), { textContent: line })));
}

/** Whether the add-on may already reach this origin (built in, or granted before). */
function alreadyAllowed(origin) {
  return (browser.runtime.getManifest().host_permissions ?? []).includes(origin);
}

async function signIn() {
  show(t(lang, "working"));
  const answer = await ask(MSG.signIn, {
    serverUrl: $("#server").value,
    tenant: $("#tenant").value.trim(),
    email: $("#email").value.trim(),
    password: $("#password").value,
    lang: $("#lang").value,
  });
  $("#password").value = "";
  await refresh();
  if (answer?.error) show(errorText(lang, answer.error, "login"), true);
  else show(t(lang, answer.policy === "fetched" ? "signedInPolicy" : "signedInNoPolicy"));
}

$("#signin").addEventListener("submit", (event) => {
  event.preventDefault();
  let origin;
  try {
    origin = hostPermissionFor($("#server").value);
  } catch (err) {
    show(errorText(lang, err), true);
    return;
  }
  if (alreadyAllowed(origin)) {
    signIn().catch((err) => show(errorText(lang, err, "login"), true));
    return;
  }
  // Inside the submit event: Thunderbird only asks for a permission during user input.
  browser.permissions
    .request({ origins: [origin] })
    .then((granted) => (granted ? signIn() : show(t(lang, "needAccess"), true)))
    .catch(() => show(t(lang, "needAccess"), true));
});

$("#signout").addEventListener("click", async () => {
  await ask(MSG.signOut);
  await refresh();
  show(t(lang, "signedOut"));
});

$("#rebuild").addEventListener("click", async () => {
  show(t(lang, "working"));
  const answer = await ask(MSG.rebuildHistory);
  await refresh();
  show(answer?.error ? errorText(lang, answer.error) : t(lang, "rebuilt", { count: answer.count, folders: answer.folders }), Boolean(answer?.error));
});

$("#lang").addEventListener("change", async () => {
  await ask(MSG.setLang, { lang: $("#lang").value });
  await refresh();
});

await refresh();
