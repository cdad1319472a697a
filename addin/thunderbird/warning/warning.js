// The warning window: lists each finding of the check and asks the sender to go back or
// send anyway (only "go back" for a blocked message). While it is open it pings the
// background page so that Thunderbird keeps it alive for the send that waits on the answer.

import { t } from "../lib/i18n.mjs";

const id = new URLSearchParams(location.search).get("id");
const $ = (selector) => document.querySelector(selector);

function answer(value) {
  for (const button of document.querySelectorAll("button")) button.disabled = true;
  return browser.runtime.sendMessage({ type: "warning:answer", id, answer: value });
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

/** Test profile only: report what is shown and press the configured button. */
async function autoAnswer(hooks) {
  if (!hooks?.autoAnswer) return;
  const shown = [...document.querySelectorAll("#findings li")].map((li) => ({
    rule: li.dataset.rule,
    text: li.textContent,
  }));
  if (hooks.reportUrl) {
    await fetch(hooks.reportUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        event: "warning-shown",
        title: $("#title").textContent,
        findings: shown,
        sendAnywayShown: !$("#send").hidden,
      }),
    }).catch(() => {});
  }
  await new Promise((resolve) => setTimeout(resolve, hooks.answerDelayMs ?? 0));
  $(hooks.autoAnswer === "send" ? "#send" : "#back").click();
}

setInterval(() => browser.runtime.sendMessage({ type: "keepalive" }).catch(() => {}), 5_000);

const pending = await browser.runtime.sendMessage({ type: "warning:get", id });
if (!pending) {
  window.close();
} else {
  render(pending);
  await autoAnswer(pending.hooks);
}
