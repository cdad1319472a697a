// The sender's registered messages and incidents, with "I sent this to the wrong person"
// (choose which recipients were wrong), and the latest alerts. Talks to the server
// directly with the token the background keeps.

import { ApiClient } from "../common/api.mjs";
import { label, langFor, sendOutcome, t } from "../lib/i18n.mjs";
import { KEYS, Store } from "../lib/store.mjs";
import { formatTime, recipientsOf } from "../lib/view-model.mjs";

const $ = (selector) => document.querySelector(selector);
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};

const store = new Store(browser.storage.local);
const [settings, auth] = await Promise.all([store.settings(langFor(browser.i18n.getUILanguage())), store.auth()]);
const lang = settings.lang === "nl" ? "nl" : "en";
document.documentElement.lang = lang;
$("#title").textContent = t(lang, "viewTitle");
$("#alerts-title").textContent = t(lang, "alerts");
$("#incidents-title").textContent = t(lang, "incidents");
$("#messages-title").textContent = t(lang, "messages");
$("#sends-title").textContent = t(lang, "recentSends");

function show(text, error = false) {
  $("#message").textContent = text;
  $("#message").className = error ? "error" : "";
}

async function renderAlerts() {
  const recentAlerts = await store.recentAlerts();
  $("#alerts").replaceChildren(
    recentAlerts.length
      ? el("ul", {}, ...recentAlerts.map((a) =>
          el("li", {}, el("span", { className: `badge ${a.severity}`, textContent: label(lang, "alert", a.kind) }), " ",
            el("strong", { textContent: a.title }), " ", el("span", { textContent: a.body }), " ",
            el("span", { className: "muted", textContent: formatTime(a.created_at, lang) }))))
      : el("p", { className: "muted", textContent: t(lang, "none") }),
  );
}

function reportForm(client, message, row) {
  const form = el("form", { className: "report" });
  form.append(el("p", { textContent: t(lang, "chooseWrong") }));
  for (const { field, address } of recipientsOf(message)) {
    const box = el("input", { type: "checkbox", value: address, name: "wrong" });
    box.style.width = "auto";
    form.append(el("label", {}, box, ` ${address} (${field})`));
  }
  const submit = el("button", { type: "submit", className: "primary", textContent: t(lang, "report") });
  const cancel = el("button", { type: "button", textContent: t(lang, "cancel") });
  cancel.addEventListener("click", () => form.remove());
  form.append(el("div", { className: "buttons" }, submit, cancel));
  form.dataset.message = message.id;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const wrong = [...form.querySelectorAll("input[name=wrong]:checked")].map((b) => b.value);
    if (!wrong.length) return;
    submit.disabled = true;
    try {
      await client.reportIncident(message.id, wrong);
      show(t(lang, "reported"));
      await load(client);
    } catch (err) {
      show(err.message, true);
      submit.disabled = false;
    }
  });
  row.after(el("tr", {}, Object.assign(el("td", {}, form), { colSpan: 4 })));
}

async function load(client) {
  const [messages, incidents] = await Promise.allSettled([client.messages({ limit: 100 }), client.incidents()]);
  if (incidents.status === "fulfilled") {
    const list = incidents.value.incidents ?? [];
    $("#incidents").replaceChildren(
      list.length
        ? el("table", {}, ...list.map((i) =>
            el("tr", {}, el("td", { textContent: i.subject ?? i.message_id }), el("td", { textContent: label(lang, "incident", i.status) }),
              el("td", { textContent: `${t(lang, "deadline")} ${formatTime(i.deadline_at, lang)}` }),
              el("td", { className: "muted", textContent: (i.evidence?.status ?? i.evidence_status) ? label(lang, "evidence", i.evidence?.status ?? i.evidence_status) : "" }))))
        : el("p", { className: "muted", textContent: t(lang, "none") }),
    );
  } else {
    $("#incidents").replaceChildren(el("p", { className: "error", textContent: incidents.reason.message }));
  }
  if (messages.status === "fulfilled") {
    const list = messages.value.messages ?? [];
    const table = el("table");
    for (const message of list) {
      const badges = el("td", {}, el("span", { className: `badge${message.track ? " tracked" : ""}`, textContent: t(lang, message.track ? "tracked" : "notTracked") }));
      if (message.overridden) badges.append(" ", el("span", { className: "badge high", textContent: t(lang, "overridden") }));
      const action = el("td");
      const row = el("tr", { className: "message" }, el("td", {}, el("strong", { textContent: message.subject || "—" }), el("div", { className: "muted", textContent: recipientsOf(message).map((r) => r.address).join(", ") })),
        el("td", { className: "muted", textContent: formatTime(message.created_at, lang) }), badges, action);
      row.dataset.id = message.id;
      if (!message.incident_id) {
        const button = el("button", { textContent: t(lang, "wrongPerson") });
        button.addEventListener("click", () => reportForm(client, message, row));
        action.append(button);
      }
      table.append(row);
    }
    $("#messages").replaceChildren(list.length ? table : el("p", { className: "muted", textContent: t(lang, "none") }));
  } else {
    $("#messages").replaceChildren(el("p", { className: "error", textContent: messages.reason.message }));
  }
}

/** What happened to the recent sends from this computer, with the reason when untracked. */
async function renderSends() {
  const log = await store.sendLog();
  $("#sends").replaceChildren(
    log.length
      ? el("ul", {}, ...log.slice(0, 20).map((entry) =>
          el("li", { className: `send ${entry.outcome}` }, el("strong", { textContent: entry.subject || "—" }), " ",
            el("span", { textContent: sendOutcome(lang, entry) }), " ",
            el("span", { className: "muted", textContent: formatTime(entry.at, lang) }))))
      : el("p", { className: "muted", textContent: t(lang, "none") }),
  );
}

await Promise.all([renderAlerts(), renderSends()]);
browser.storage.onChanged.addListener((changes) => {
  if (changes[KEYS.recentAlerts]) renderAlerts();
  if (changes[KEYS.sendLog]) renderSends();
});
if (!settings.serverUrl || !auth?.token) {
  show(t(lang, "signInFirst"), true);
} else {
  await load(new ApiClient({ baseUrl: settings.serverUrl, token: auth.token }));
}
