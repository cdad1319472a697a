// The sender's registered messages and incidents, with "I sent this to the wrong person"
// (choose which recipients were wrong), and the latest alerts. Talks to the server
// directly with the token the background keeps.

import { ApiClient } from "../common/api.mjs";
import { errorText, label, langFor, sendOutcome, t } from "../lib/i18n.mjs";
import { KEYS, Store } from "../lib/store.mjs";
import { alertText, evidenceLines, evidenceStatus, formatTime, recipientsOf } from "../lib/view-model.mjs";

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
document.title = t(lang, "viewTitle");
/** The tenant's time zone (from /api/v1/me) once known; until then the computer's. */
let zone;
const time = (value) => formatTime(value, lang, zone);

function show(text, error = false) {
  $("#message").textContent = text;
  $("#message").className = error ? "error" : "";
}

async function renderAlerts() {
  const recentAlerts = await store.recentAlerts();
  $("#alerts").replaceChildren(
    recentAlerts.length
      ? el("ul", {}, ...recentAlerts.map((a) => {
          const { title, body } = alertText(a, lang);
          return el("li", {}, el("span", { className: `badge ${a.severity}`, textContent: label(lang, "alert", a.kind) }), " ",
            el("strong", { textContent: title }), " ", el("span", { textContent: body }), " ",
            el("span", { className: "muted", textContent: time(a.created_at) }));
        }))
      : el("p", { className: "muted", textContent: t(lang, "none") }),
  );
}

function reportForm(client, message, row) {
  const form = el("form", { className: "report" });
  form.append(el("p", { textContent: t(lang, "chooseWrong") }));
  for (const { field, address } of recipientsOf(message)) {
    const box = el("input", { type: "checkbox", value: address, name: "wrong" });
    box.style.width = "auto";
    form.append(el("label", {}, box, ` ${address} (${t(lang, `field_${field}`)})`));
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
      show(errorText(lang, err), true);
      submit.disabled = false;
    }
  });
  row.after(el("tr", {}, Object.assign(el("td", {}, form), { colSpan: 4 })));
}

/** One incident: subject, status and deadline in words, and what the evidence says. */
function incidentCard(incident) {
  const card = el("section", { className: "incident" });
  card.dataset.id = incident.id;
  card.append(
    el("h3", { textContent: incident.subject || "—" }),
    el("p", {}, el("span", { className: `badge${incident.status === "open" || incident.status === "to_notify" ? " high" : ""}`, textContent: label(lang, "incident", incident.status) }),
      " ", el("span", { className: "muted", textContent: `${t(lang, "sentOn", { when: time(incident.sent_at) })}; ${t(lang, "deadlineAt", { when: time(incident.deadline_at) })}` })),
  );
  if (incident.wrong_recipients?.length) card.append(el("p", { textContent: t(lang, "wrongRecipients", { list: incident.wrong_recipients.join(", ") }) }));
  const status = evidenceStatus(incident.evidence, lang);
  const details = el("details", { className: "evidence" }, el("summary", {}, el("strong", { textContent: `${t(lang, "evidence")}: ` }), status));
  const lines = evidenceLines(incident.evidence, lang, zone);
  details.append(el("p", { className: "muted", textContent: t(lang, "evidenceDetail") }), el("ul", {}, ...lines.map((line) => el("li", { textContent: line }))));
  card.append(details);
  return card;
}

async function load(client) {
  try {
    const me = await client.me();
    zone = me?.tenant?.time_zone || undefined;
  } catch {
    // The computer's zone, and the lists below say what failed.
  }
  if (zone) $("#zone").textContent = t(lang, "timesIn", { zone });
  await Promise.all([renderAlerts(), renderSends()]);
  const [messages, incidents] = await Promise.allSettled([client.messages({ limit: 100 }), client.incidents()]);
  if (incidents.status === "fulfilled") {
    const list = incidents.value.incidents ?? [];
    $("#incidents").replaceChildren(list.length ? el("div", {}, ...list.map(incidentCard)) : el("p", { className: "muted", textContent: t(lang, "none") }));
  } else {
    $("#incidents").replaceChildren(el("p", { className: "error", textContent: errorText(lang, incidents.reason) }));
  }
  if (messages.status === "fulfilled") {
    const list = messages.value.messages ?? [];
    const table = el("table");
    for (const message of list) {
      const badges = el("td", {}, el("span", { className: `badge${message.track ? " tracked" : ""}`, textContent: t(lang, message.track ? "tracked" : "notTracked") }));
      if (message.overridden) badges.append(" ", el("span", { className: "badge high", textContent: t(lang, "overridden") }));
      const action = el("td");
      const row = el("tr", { className: "message" }, el("td", {}, el("strong", { textContent: message.subject || "—" }), el("div", { className: "muted", textContent: recipientsOf(message).map((r) => r.address).join(", ") })),
        el("td", { className: "muted", textContent: time(message.created_at) }), badges, action);
      row.dataset.id = message.id;
      if (message.incident_id) {
        action.append(el("span", { className: "badge high", textContent: t(lang, "incidentReported") }));
      } else {
        const button = el("button", { textContent: t(lang, "wrongPerson") });
        button.addEventListener("click", () => reportForm(client, message, row));
        action.append(button);
      }
      table.append(row);
    }
    $("#messages").replaceChildren(list.length ? table : el("p", { className: "muted", textContent: t(lang, "none") }));
  } else {
    $("#messages").replaceChildren(el("p", { className: "error", textContent: errorText(lang, messages.reason) }));
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
            el("span", { className: "muted", textContent: time(entry.at) }))))
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
