// The task pane: the findings for the draft being written (the same core and policy as the
// event handler), sign-in, the sender's tracked messages and incidents with "I sent this to
// the wrong person", live alerts (AlertFeed), and the sends this mailbox recorded.

import {
  provideFluentDesignSystem,
  fluentBadge,
  fluentButton,
  fluentCard,
  fluentCheckbox,
  fluentDesignSystemProvider,
  fluentTextField,
} from "@fluentui/web-components";
import { ApiClient, normaliseBaseUrl } from "../../common/api.mjs";
import { AlertFeed } from "../../common/alerts.mjs";
import { loadCore } from "../../common/core.mjs";
import { formatTime, recipientsOf } from "../../thunderbird/lib/view-model.mjs";
import { readItem } from "../src/item.mjs";
import { langOf } from "../src/i18n.mjs";
import { AddinStorage, KEYS, expiresAt } from "../src/storage.mjs";
import { text } from "./texts.mjs";

provideFluentDesignSystem().register(fluentBadge(), fluentButton(), fluentCard(), fluentCheckbox(), fluentDesignSystemProvider(), fluentTextField());

const ALERT_SEQ_KEY = "leakwatch.alertSeq";
const $ = (selector) => document.querySelector(selector);
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};

let lang = "en";
let storage;
let feed = null;

function status(message, error = false) {
  $("#status").textContent = message;
  $("#status").className = error ? "error" : "muted";
}

function labels() {
  document.documentElement.lang = lang;
  for (const [id, key] of [
    ["findings-title", "findingsTitle"], ["signin-title", "signInTitle"], ["messages-title", "messagesTitle"],
    ["incidents-title", "incidentsTitle"], ["alerts-title", "alertsTitle"], ["sends-title", "sendsTitle"],
    ["signin-button", "signIn"], ["signout", "signOut"], ["naa-button", "signInMicrosoft"], ["password-note", "passwordNote"],
  ]) $(`#${id}`).textContent = text(lang, key);
  for (const [id, key] of [["server", "server"], ["tenant", "tenant"], ["email", "email"], ["password", "password"]]) {
    $(`#${id}`).textContent = text(lang, key);
    $(`#${id}`).setAttribute("aria-label", text(lang, key));
  }
}

async function showFindings() {
  const item = Office.context.mailbox.item;
  if (!item) return;
  $("#findings").replaceChildren(el("p", { className: "muted", textContent: text(lang, "checking") }));
  try {
    const core = await loadCore(new URL("wasm/", location.href));
    const { message } = await readItem(item);
    const checker = new core.Checker({ policy: storage.policy().value || {}, history: storage.history() });
    const verdict = checker.check(message, lang);
    checker.free();
    const cards = verdict.findings.map((f) =>
      el("fluent-card", { className: `finding ${f.severity}` },
        el("div", { textContent: f.message }),
        f.suggestion ? el("div", { className: "muted", textContent: text(lang, "suggestion", { s: f.suggestion }) }) : ""));
    $("#findings").replaceChildren(...(cards.length ? cards : [el("p", { className: "muted", textContent: text(lang, "noFindings") })]));
  } catch (err) {
    $("#findings").replaceChildren(el("p", { className: "error", textContent: err.message }));
  }
}

function showSends() {
  const log = storage.sendLog();
  $("#sends").replaceChildren(log.length
    ? el("ul", {}, ...log.slice(0, 10).map((entry) => el("li", {},
        el("strong", { textContent: entry.subject || "—" }), " ",
        el("span", { textContent: text(lang, `outcome_${entry.outcome}`) }), " ",
        el("span", { className: "muted", textContent: formatTime(entry.at, lang) }))))
    : el("p", { className: "muted", textContent: text(lang, "none") }));
}

function reportForm(client, message, card) {
  const form = el("form", { className: "report" }, el("p", { textContent: text(lang, "chooseWrong") }));
  for (const { address } of recipientsOf(message)) {
    form.append(el("fluent-checkbox", { value: address, textContent: address, className: "wrong" }));
  }
  const submit = el("fluent-button", { appearance: "accent", textContent: text(lang, "report") });
  const cancel = el("fluent-button", { textContent: text(lang, "cancel") });
  cancel.addEventListener("click", () => form.remove());
  form.append(el("div", { className: "row" }, submit, cancel));
  const send = async (event) => {
    event.preventDefault();
    const wrong = [...form.querySelectorAll("fluent-checkbox.wrong")].filter((b) => b.checked).map((b) => b.value);
    if (!wrong.length) return;
    submit.disabled = true;
    try {
      await client.reportIncident(message.id, wrong);
      status(text(lang, "reported"));
      await showAccount(client);
    } catch (err) {
      status(err.message, true);
      submit.disabled = false;
    }
  };
  form.addEventListener("submit", send);
  submit.addEventListener("click", send);
  card.append(form);
}

async function showAccount(client) {
  const [messages, incidents] = await Promise.allSettled([client.messages({ limit: 50 }), client.incidents()]);
  if (messages.status === "fulfilled") {
    const list = messages.value.messages || [];
    $("#messages").replaceChildren(...(list.length ? list.map((m) => {
      const card = el("fluent-card", { className: "message" },
        el("div", { className: "row" }, el("strong", { textContent: m.subject || "—" }),
          el("fluent-badge", { appearance: m.track ? "accent" : "neutral", textContent: text(lang, m.track ? "tracked" : "notTracked") })),
        el("div", { className: "muted", textContent: `${recipientsOf(m).map((r) => r.address).join(", ")} · ${formatTime(m.created_at, lang)}` }));
      card.dataset.id = m.id;
      if (!m.incident_id) {
        const button = el("fluent-button", { appearance: "outline", textContent: text(lang, "wrongPerson") });
        button.addEventListener("click", () => reportForm(client, m, card));
        card.append(button);
      }
      return card;
    }) : [el("p", { className: "muted", textContent: text(lang, "none") })]));
  } else {
    $("#messages").replaceChildren(el("p", { className: "error", textContent: messages.reason.message }));
  }
  if (incidents.status === "fulfilled") {
    const list = incidents.value.incidents || [];
    $("#incidents").replaceChildren(...(list.length ? list.map((i) => el("fluent-card", { className: "incident" },
      el("strong", { textContent: i.subject || i.message_id }), " ",
      el("fluent-badge", { textContent: i.status }), " ",
      el("span", { className: "muted", textContent: `${text(lang, "deadline")} ${formatTime(i.deadline_at, lang)}` })))
      : [el("p", { className: "muted", textContent: text(lang, "none") })]));
  } else {
    $("#incidents").replaceChildren(el("p", { className: "error", textContent: incidents.reason.message }));
  }
}

function startAlerts(client) {
  feed?.stop();
  const shown = [];
  const render = () => $("#alerts").replaceChildren(shown.length
    ? el("ul", {}, ...shown.map((a) => el("li", { className: "alert" }, el("strong", { textContent: a.title || a.kind }), " ",
        el("span", { textContent: a.body || "" }), " ", el("span", { className: "muted", textContent: formatTime(a.created_at, lang) }))))
    : el("p", { className: "muted", textContent: text(lang, "none") }));
  render();
  const stored = localStorage.getItem(ALERT_SEQ_KEY);
  feed = new AlertFeed({
    client,
    lastSeq: stored === null ? null : Number(stored),
    onAlert: (alert) => {
      shown.unshift(alert);
      render();
    },
    onSeq: (seq) => localStorage.setItem(ALERT_SEQ_KEY, String(seq)),
  });
  feed.start().catch((err) => status(err.message, true));
}

async function signedIn() {
  const session = storage.session();
  const expires = expiresAt(session);
  if (!session || !session.token || (expires !== null && expires <= Date.now())) {
    $("#signin-section").hidden = false;
    $("#account-section").hidden = true;
    $("#who").textContent = "";
    return;
  }
  $("#signin-section").hidden = true;
  $("#account-section").hidden = false;
  $("#who").textContent = text(lang, "signedInAs", { email: session.email });
  const client = new ApiClient({ baseUrl: session.baseUrl, token: session.token });
  startAlerts(client);
  await showAccount(client);
}

async function signIn(event) {
  event.preventDefault();
  try {
    const baseUrl = normaliseBaseUrl($("#server").value);
    const client = new ApiClient({ baseUrl });
    const email = $("#email").value.trim();
    const answer = await client.login($("#tenant").value.trim(), email, $("#password").value);
    const values = { [KEYS.session]: { baseUrl, token: answer.token, expires_at: answer.expires_at || null, email } };
    try {
      values[KEYS.policy] = { value: await client.policy(), at: Date.now() };
    } catch (_) {
      // the event handler asks again at the next compose event
    }
    await storage.setRoaming(values);
    $("#password").value = "";
    status("");
    await signedIn();
    await showFindings();
  } catch (err) {
    status(text(lang, "signInFailed", { why: err.message }), true);
  }
}

/**
 * The Entra app the server names in `config.json` next to this page (`{"entra":
 * {"client_id", "scope"}}`), when the host supports nested app authentication; else null.
 */
async function microsoftSignIn() {
  if (!Office.context.requirements.isSetSupported("NestedAppAuth", "1.1")) return null;
  try {
    const response = await fetch(new URL("config.json", location.href), { cache: "no-store" });
    if (!response.ok) return null;
    const entra = (await response.json()).entra;
    return entra && entra.client_id && entra.scope ? { clientId: entra.client_id, scope: entra.scope } : null;
  } catch (_) {
    return null;
  }
}

async function signInMicrosoft(entra) {
  try {
    const baseUrl = normaliseBaseUrl(new URL("../..", location.href).href);
    const { signInWithMicrosoft } = await import("./naa.js");
    const answer = await signInWithMicrosoft(entra);
    const client = new ApiClient({ baseUrl, token: answer.token });
    const me = await client.me();
    const values = { [KEYS.session]: { baseUrl, token: answer.token, expires_at: answer.expires_at, email: me.email || answer.email, kind: "entra" } };
    try {
      values[KEYS.policy] = { value: await client.policy(), at: Date.now() };
    } catch (_) {
      // the event handler asks again at the next compose event
    }
    await storage.setRoaming(values);
    status("");
    await signedIn();
    await showFindings();
  } catch (err) {
    status(text(lang, "signInFailed", { why: err.message }), true);
  }
}

async function signOut() {
  feed?.stop();
  await storage.setRoaming({ [KEYS.session]: null });
  await signedIn();
}

Office.onReady(async () => {
  lang = langOf(Office.context.displayLanguage);
  storage = new AddinStorage({ roamingSettings: Office.context.roamingSettings, global: window });
  labels();
  // The page is served at <base>/addin/outlook/taskpane.html: the server is two levels up.
  $("#server").value = storage.session()?.baseUrl || normaliseBaseUrl(new URL("../..", location.href).href);
  $("#signin").addEventListener("submit", signIn);
  $("#signin-button").addEventListener("click", signIn);
  $("#signout").addEventListener("click", signOut);
  showSends();
  const entra = await microsoftSignIn();
  if (entra) {
    $("#naa-button").hidden = false;
    $("#naa-button").addEventListener("click", () => signInMicrosoft(entra));
  }
  const item = Office.context.mailbox.item;
  if (item && item.addHandlerAsync) {
    for (const type of [Office.EventType.RecipientsChanged, Office.EventType.AttachmentsChanged]) {
      if (type) item.addHandlerAsync(type, () => showFindings());
    }
  }
  await Promise.all([showFindings(), signedIn()]);
});
