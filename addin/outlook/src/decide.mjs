// The decisions of the event handler, without Office: the core Message from what the
// compose item holds, what to append for a registration (the Thunderbird add-on's
// disclosureOptions: the pixel only when tracked), which recipients a notice was made for,
// and the Smart Alert for a verdict.

import { disclosureOptions } from "../../thunderbird/lib/disclose.mjs";
import { signature } from "../../thunderbird/lib/send.mjs";
import { t } from "./i18n.mjs";

/** The Smart Alerts dialog takes at most 500 characters, plain or Markdown. */
export const ALERT_LIMIT = 500;
/** The task pane's control id in both manifests; the Smart Alert's button opens it. */
export const TASKPANE_COMMAND_ID = "leakwatchOpenPane";

/** An Office EmailAddressDetails as a core recipient. */
export function recipientOf(details) {
  const address = String((details && details.emailAddress) || "").trim();
  const name = String((details && details.displayName) || "").trim();
  return name && name !== address ? { address, name } : { address };
}

/**
 * The core Message from the compose item's parts (as Office returns them). Recipients
 * without an address (an unresolved display name) are left out: the core would reject
 * the whole message for one of them, and Outlook does not send to them either.
 */
export function messageFromItem({ from, to, cc, bcc, subject, body, attachments }) {
  const list = (entries) => (entries || []).map(recipientOf).filter((r) => r.address.includes("@"));
  return {
    from: (from && from.emailAddress) || "",
    to: list(to),
    cc: list(cc),
    bcc: list(bcc),
    subject: subject || "",
    body: body || "",
    attachments: (attachments || [])
      .filter((a) => !a.isInline)
      .map((a) => (Number.isInteger(a.size) && a.size >= 0 ? { name: a.name || "", size: a.size } : { name: a.name || "" })),
  };
}

/** Which recipients a notice was made for: its registration is for exactly these. */
export function recipientKey(message) {
  const norm = (list) => list.map((r) => r.address.toLowerCase()).sort();
  return signature({ to: norm(message.to), cc: norm(message.cc), bcc: norm(message.bcc) });
}

/**
 * What `appendOnSendAsync` gets for a registration: the HTML block (the pixel inside it
 * only when tracked) for an HTML body, the text snippet (never a pixel) for plain text.
 */
export function appendix(checker, registration, bodyType, lang) {
  const rendered = checker.disclosure(disclosureOptions(registration, lang));
  const html = bodyType === "html";
  const data = html ? rendered.html : rendered.text_snippet;
  return { data, coercionType: html ? "html" : "text", tracked: html && rendered.tracked };
}

function escapeMarkdown(text) {
  return String(text).replace(/([\\`*_{}\[\]()#+\-.!|<>~])/g, "\\$1");
}

function findingLines(verdict, lang, markdown) {
  return verdict.findings
    .filter((f) => f.severity !== "info")
    .map((f) => {
      let line = markdown ? escapeMarkdown(f.message) : f.message;
      if (f.suggestion) {
        const s = t(lang, "suggestion", { s: f.suggestion });
        line += " " + (markdown ? escapeMarkdown(s) : s);
      }
      return line;
    });
}

/** Intro and as many findings as fit in `limit` characters, then "…and N more". */
function fit(intro, lines, bullet, lang, limit) {
  let text = intro;
  for (let i = 0; i < lines.length; i++) {
    const next = `${text}\n${bullet}${lines[i]}`;
    const rest = lines.length - i - 1;
    const tail = rest > 0 ? `\n${t(lang, "more", { n: rest })}` : "";
    if ((next + tail).length > limit) {
      const more = `\n${t(lang, "more", { n: lines.length - i })}`;
      return (text + more).length <= limit ? text + more : text.slice(0, limit - 1) + "…";
    }
    text = next;
  }
  return text;
}

/**
 * `event.completed` options for a verdict at send. A "send" verdict allows the send. A
 * warning stops it with the findings and `sendModeOverride: promptUser`, so Outlook offers
 * "Send anyway" whatever the manifest's send mode; a block stops it under the manifest's
 * own mode (softBlock: no way round while the add-in runs).
 */
export function smartAlert(verdict, lang, { markdown = true } = {}) {
  if (verdict.verdict === "send") return { allowEvent: true };
  const block = verdict.verdict === "block";
  const intro = t(lang, block ? "blockIntro" : "warnIntro");
  const options = {
    allowEvent: false,
    errorMessage: fit(intro, findingLines(verdict, lang, false), "• ", lang, ALERT_LIMIT),
    cancelLabel: t(lang, "openFindings"),
    commandId: TASKPANE_COMMAND_ID,
    contextData: JSON.stringify({ rules: verdict.findings.map((f) => f.rule) }),
  };
  if (markdown) {
    options.errorMessageMarkdown = fit(`**${escapeMarkdown(intro)}**\n`, findingLines(verdict, lang, true), "- ", lang, ALERT_LIMIT);
  }
  if (!block) options.sendModeOverride = "promptUser";
  return options;
}
