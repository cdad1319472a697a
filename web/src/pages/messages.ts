// A sender's messages: what was sent with leakwatch and whether leak detection was on (never
// the fetches: those are evidence, shown only in an incident), and "I sent this to the wrong
// person", which turns a message into an incident.

import { api, get } from "../api";
import { fill, h } from "../dom";
import { formatTime, t } from "../i18n";
import type { Page } from "../main";
import { button, showError, showNote, showProblem, table, textArea } from "../ui";

interface MessageView {
  id: string;
  subject: string;
  track: boolean;
  recipients: { to?: Recipient[]; cc?: Recipient[]; bcc?: Recipient[] };
  overridden: boolean;
  created_at: number;
  incident_id?: string | null;
}

type Recipient = string | { address: string; name?: string };

export function allRecipients(message: MessageView): string[] {
  const r = message.recipients ?? {};
  return [...(r.to ?? []), ...(r.cc ?? []), ...(r.bcc ?? [])].map((one) => (typeof one === "string" ? one : one.address));
}

export async function renderMessages({ main }: Page): Promise<void> {
  const { messages } = await get<{ messages: MessageView[] }>("/api/v1/messages?limit=100");
  const dialogHost = h("div");
  const rows = messages.map((message) => [
    message.subject || t("noSubject"),
    allRecipients(message).join(", "),
    formatTime(message.created_at),
    message.track ? t("tracked") : t("notTracked"),
    message.incident_id
      ? h("a", { href: `#/incident/${encodeURIComponent(message.incident_id)}` }, t("openIncident"))
      : button(`report-${message.id}`, "reportWrong", () => openReport(dialogHost, message), "outline"),
  ]);
  fill(main,
    h("h1", {}, t("messagesTitle")),
    h("p", { class: "muted" }, t("messagesIntro")),
    messages.length ? table(t("messagesTitle"), [t("subject"), t("recipients"), t("sentAt"), t("tracking"), ""], rows) : h("p", {}, t("noMessages")),
    dialogHost,
  );
}

function openReport(host: HTMLElement, message: MessageView): void {
  const status = h("div", { "aria-live": "polite" });
  const boxes = allRecipients(message).map((address, i) => h("fluent-checkbox", { id: `wrong-${i}`, value: address }, address));
  const description = textArea("report-description", "reportWhat", "", 3);
  const dialog: HTMLElement = h("fluent-dialog", { id: "report-dialog", "aria-labelledby": "report-title", modal: true, "trap-focus": true },
    h("div", { class: "dialog-body stack" },
      h("h2", { id: "report-title" }, t("reportTitle"), ": ", message.subject || t("noSubject")),
      h("fieldset", {}, h("legend", {}, t("reportWho")), ...boxes),
      description,
      status,
      h("div", { class: "row" },
        button("report-send", "reportSend", async () => {
          const wrong = boxes.filter((box) => (box as HTMLInputElement).checked).map((box) => box.getAttribute("value")!);
          if (!wrong.length) {
            showProblem(status, t("reportNeedOne"));
            return;
          }
          try {
            const created = await api<{ id: string }>("POST", "/api/v1/incidents", {
              message_id: message.id,
              wrong_recipients: wrong,
              description: (description as HTMLTextAreaElement).value.trim(),
            });
            showNote(status, t("reportDone"));
            location.hash = `#/incident/${encodeURIComponent(created.id)}`;
          } catch (error) {
            showError(status, error);
          }
        }),
        button("report-cancel", "cancel", () => dialog.remove(), "outline"),
      ),
    ),
  );
  dialog.addEventListener("keydown", (event) => {
    if ((event as KeyboardEvent).key === "Escape") dialog.remove();
  });
  fill(host, dialog);
  (boxes[0] as HTMLElement | undefined)?.focus();
}
