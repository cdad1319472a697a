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
import { alertText, formatTime, recipientsOf } from "../../thunderbird/lib/view-model.mjs";
import { readItem } from "../src/item.mjs";
import { langOf } from "../src/i18n.mjs";
import { AddinStorage, KEYS, expiresAt, platformOf } from "../src/storage.mjs";
import { readSentItems, SentItemsError } from "../src/sent-items.mjs";
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
/** The Entra app from config.json, when Microsoft sign-in is possible here. */
let entra = null;
/** Sent Items is read again on opening the pane when the last read is older than this. */
const SENT_ITEMS_REFRESH_MS = 24 * 3600 * 1000;

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
    ["history-title", "historyTitle"], ["history-hint", "historyHint"], ["sent-items-button", "readSentItems"],
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

/** How many messages the check learns from, and whether Sent Items was read. */
function showHistory(note = "") {
  const record = storage.historyRecord();
  const count = storage.history().length;
  const session = storage.session();
  const microsoft = Boolean(entra && session && session.kind === "entra");
  $("#history-state").textContent = note || (record.builtAt
    ? text(lang, "historyFromSentItems", { count, time: formatTime(new Date(record.builtAt).toISOString(), lang) })
    : text(lang, "historyLocalOnly", { count }));
  $("#history-hint").hidden = Boolean(record.builtAt) || !entra || microsoft;
  $("#sent-items-button").hidden = !microsoft;
}

/**
 * Reads Sent Items through Microsoft Graph and replaces the history's folder part (the
 * add-in's own sends are kept). `interactive`: the user asked, so a consent dialog may open.
 */
async function syncSentItems({ interactive }) {
  if (!entra) return;
  const button = $("#sent-items-button");
  button.disabled = true;
  showHistory(text(lang, "readingSentItems"));
  try {
    const { graphToken } = await import("./naa.js");
    const token = await graphToken(entra, { interactive });
    const result = await readSentItems({ token });
    await storage.storeSentItems(result);
    showHistory();
    status(text(lang, "sentItemsRead", { count: result.history.length }) + (result.complete ? "" : ` ${text(lang, "sentItemsIncomplete")}`));
    await showFindings();
  } catch (err) {
    showHistory();
    const reason = err instanceof SentItemsError ? err.reason : "consent";
    // Silent attempts on opening the pane stay quiet; only an asked-for read reports.
    if (interactive) status(text(lang, `sentItems_${reason}`), true);
  } finally {
    button.disabled = false;
  }
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
      el("fluent-badge", { textContent: text(lang, `status_${i.status}`) }), " ",
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
    ? el("ul", {}, ...shown.map((a) => {
        // In the task pane's language, not the one the message was sent in.
        const { title, body } = alertText(a, lang);
        return el("li", { className: "alert" }, el("strong", { textContent: title || a.kind }), " ",
          el("span", { textContent: body || "" }), " ", el("span", { className: "muted", textContent: formatTime(a.created_at, lang) }));
      }))
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
  showHistory();
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
    const app = (await response.json()).entra;
    return app && app.client_id && app.scope
      ? { clientId: app.client_id, scope: app.scope, authority: app.authority, graphScopes: Array.isArray(app.graph_scopes) ? app.graph_scopes : [] }
      : null;
  } catch (_) {
    return null;
  }
}

async function signInMicrosoft() {
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
    return;
  }
  // The first contact history, right after the sign-in the user just gave.
  if (entra.graphScopes.length) await syncSentItems({ interactive: true });
}

async function signOut() {
  feed?.stop();
  await storage.setRoaming({ [KEYS.session]: null });
  await signedIn();
}

Office.onReady(async () => {
  lang = langOf(Office.context.displayLanguage);
  storage = new AddinStorage({ roamingSettings: Office.context.roamingSettings, global: window, platform: platformOf(Office) });
  labels();
  // The page is served at <base>/addin/outlook/taskpane.html: the server is two levels up.
  $("#server").value = storage.session()?.baseUrl || normaliseBaseUrl(new URL("../..", location.href).href);
  $("#signin").addEventListener("submit", signIn);
  $("#signin-button").addEventListener("click", signIn);
  $("#signout").addEventListener("click", signOut);
  showSends();
  entra = await microsoftSignIn();
  if (entra) {
    $("#naa-button").hidden = false;
    $("#naa-button").addEventListener("click", () => signInMicrosoft());
    $("#sent-items-button").addEventListener("click", () => syncSentItems({ interactive: true }));
  }
  showHistory();
  const session = storage.session();
  if (entra && entra.graphScopes.length && session && session.kind === "entra" && Date.now() - storage.historyRecord().builtAt > SENT_ITEMS_REFRESH_MS) {
    syncSentItems({ interactive: false });
  }
  const item = Office.context.mailbox.item;
  if (item && item.addHandlerAsync) {
    for (const type of [Office.EventType.RecipientsChanged, Office.EventType.AttachmentsChanged]) {
      if (type) item.addHandlerAsync(type, () => showFindings());
    }
  }
  await Promise.all([showFindings(), signedIn()]);
});
