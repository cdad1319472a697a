// The warning window: lists each finding of the check and asks the sender to go back or
// send anyway (only "go back" for a blocked message). While it is open it pings the
// background page so that Thunderbird keeps it alive for the send that waits on the answer.

import { t } from "../lib/i18n.mjs";
import { MSG, ask } from "../lib/protocol.mjs";

const id = new URLSearchParams(location.search).get("id");
const $ = (selector) => document.querySelector(selector);

function answer(value) {
  for (const button of document.querySelectorAll("button")) button.disabled = true;
  return ask(MSG.warningAnswer, { id, answer: value });
}

function render({ verdict, message, lang }) {
  document.documentElement.lang = lang;
  const blocked = verdict.verdict === "block";
  document.title = `leakwatch: ${t(lang, "warningTitle")}`;
  $("#title").textContent = t(lang, "warningTitle");
  $("#intro").textContent = t(lang, blocked ? "blockedIntro" : "warningIntro");
  const list = $("#findings");
  for (const finding of verdict.findings) {
    if (finding.severity === "info") continue;
    const item = document.createElement("li");
    item.className = `finding ${finding.severity}`;
    item.dataset.rule = finding.rule;
    const text = document.createElement("span");
    text.textContent = finding.message;
    item.append(text);
    if (finding.suggestion) {
      const hint = document.createElement("div");
      hint.className = "suggestion";
      hint.textContent = t(lang, "suggestion", { s: finding.suggestion });
      item.append(hint);
    }
    list.append(item);
  }
  $("#recipients-label").textContent = `${t(lang, "recipients")}:`;
  $("#recipients").textContent = [...message.to, ...message.cc, ...message.bcc]
    .map((r) => (r.name ? `${r.name} <${r.address}>` : r.address))
    .join(", ");
  $("#back").textContent = t(lang, "back");
  $("#send").textContent = t(lang, "sendAnyway");
  $("#send").hidden = blocked;
  $("#back").addEventListener("click", () => answer("back"));
  $("#send").addEventListener("click", () => answer("send"));
  $("#back").focus();
}

setInterval(() => ask(MSG.keepalive).catch(() => {}), 5_000);

const pending = await ask(MSG.warningGet, { id });
if (!pending) window.close();
else render(pending);
