// Tenant settings (admins): the set-up checklist of what lawful use still needs, the alert
// channels with a test, and the privacy settings (retention, controller, processors).

import { api, get } from "../api";
import { fill, h, valueOf } from "../dom";
import { has, Key, t } from "../i18n";
import type { Page } from "../main";
import { button, lines, showError, showNote, showProblem, textArea, textField } from "../ui";

interface Checklist { items: { item: string; done: boolean }[] }
interface Webhook { url: string; secret?: string; format?: string }
interface AlertSettings { not_opened_hours: number; undecided_reminder_hours: number; mail: boolean; smarthost: string; mail_from: string; webhooks: Webhook[] }
interface PrivacySettings { retention_days: number; register_retention_days: number; controller_contact?: string | null; processors?: string[]; time_zone?: string }
interface TestResult { channel: "mail" | "webhook"; target: string; delivered: boolean; problem?: string; status?: number; detail?: string }

export async function renderSettings({ main }: Page): Promise<void> {
  const [checklist, alerts, privacy] = await Promise.all([
    get<Checklist>("/api/v1/tenant/checklist"),
    get<AlertSettings>("/api/v1/tenant/alerts"),
    get<PrivacySettings>("/api/v1/tenant/privacy"),
  ]);
  fill(main, h("h1", {}, t("settingsTitle")), checklistSection(checklist), alertsSection(alerts), privacySection(privacy));
}

function checklistSection(checklist: Checklist): HTMLElement {
  const missing = checklist.items.filter((item) => !item.done);
  return h("section", { id: "checklist", "aria-labelledby": "checklist-title" },
    h("h2", { id: "checklist-title" }, t("checklistTitle")),
    h("p", {}, missing.length ? t("checklistIntro") : t("checklistAllDone")),
    h("ul", { class: "checklist" }, ...checklist.items.map((item) =>
      h("li", { class: item.done ? "done" : "missing", "data-item": item.item },
        h("span", { class: "badge" }, item.done ? t("checkDone") : t("checkMissing")), " ", t(`check_${item.item}` as Key)))),
  );
}

function alertsSection(settings: AlertSettings): HTMLElement {
  const status = h("div", { id: "alerts-status", "aria-live": "polite" });
  const mail = h("fluent-checkbox", { id: "alert-mail", checked: settings.mail }, t("alertMail"));
  const smarthost = textField("smarthost", "smarthost", settings.smarthost);
  const from = textField("mail-from", "mailFrom", settings.mail_from, { type: "email" });
  const notOpened = textField("not-opened-hours", "notOpenedHours", String(settings.not_opened_hours), { type: "number", min: "1" });
  const undecided = textField("undecided-hours", "undecidedHours", String(settings.undecided_reminder_hours), { type: "number", min: "1" });
  const webhooks = textArea("webhooks", "webhooks", settings.webhooks.map((w) => w.url).join("\n"));
  let fresh: Webhook[] = [];
  const read = (): AlertSettings => {
    const urls = lines((webhooks as HTMLTextAreaElement).value);
    fresh = [];
    return {
      ...settings,
      mail: (mail as HTMLInputElement).checked,
      smarthost: valueOf(smarthost),
      mail_from: valueOf(from),
      not_opened_hours: Number(valueOf(notOpened)),
      undecided_reminder_hours: Number(valueOf(undecided)),
      // A webhook keeps its secret and format when its URL stays; a new one gets a secret,
      // shown once, with which its receiver checks X-Leakwatch-Signature.
      webhooks: urls.map((url) => {
        const kept = settings.webhooks.find((w) => w.url === url);
        if (kept) return kept;
        const made = { url, secret: newSecret() };
        fresh.push(made);
        return made;
      }),
    };
  };
  return h("section", { "aria-labelledby": "alert-channels-title", class: "stack" },
    h("h2", { id: "alert-channels-title" }, t("alertChannelsTitle")),
    mail, smarthost, from, notOpened, undecided, webhooks, status,
    h("div", { class: "row" },
      button("alerts-save", "save", async () => {
        try {
          Object.assign(settings, await api<AlertSettings>("PUT", "/api/v1/tenant/alerts", read()));
          showNote(status, [t("saved"), ...fresh.map((hook) => t("webhookSecret", { url: hook.url, secret: hook.secret ?? "" }))].join(" "));
        } catch (error) {
          showError(status, error);
        }
      }),
      button("alerts-test", "sendTest", async () => {
        try {
          const { results } = await api<{ results: TestResult[] }>("POST", "/api/v1/tenant/alerts/test");
          const words = results.map((r) => {
            const problem = `problem_${r.problem ?? "unreachable"}`;
            const outcome = r.delivered ? t("outcomeOk") : t("outcomeFailed", { reason: has(problem) ? t(problem, { status: r.status ?? "" }) : t("problem_unreachable") });
            return r.channel === "mail" ? t("testResultMail", { to: r.target, outcome }) : t("testResultWebhook", { url: r.target, outcome });
          });
          showNote(status, t("testSent", { result: words.join("; ") || t("none") }));
        } catch (error) {
          showError(status, error);
        }
      }, "outline"),
    ),
  );
}

/** 32 random characters (192 bits), URL-safe. */
function newSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_");
}

function privacySection(settings: PrivacySettings): HTMLElement {
  const status = h("div", { id: "privacy-status", "aria-live": "polite" });
  const retention = textField("retention-days", "retentionDays", String(settings.retention_days), { type: "number", min: "1" });
  const register = textField("register-retention-days", "registerRetentionDays", String(settings.register_retention_days), { type: "number", min: "1" });
  const contact = textField("controller-contact", "controllerContact", settings.controller_contact ?? "");
  const processors = textArea("processors", "processors", (settings.processors ?? []).join("\n"));
  const zone = textField("time-zone", "timeZone", settings.time_zone ?? "Europe/Amsterdam", { autocomplete: "off" });
  return h("section", { "aria-labelledby": "privacy-title", class: "stack" },
    h("h2", { id: "privacy-title" }, t("privacyTitle")),
    retention, register, contact, processors, zone, status,
    button("privacy-save", "save", async () => {
      const zoneName = valueOf(zone);
      // The browser knows the zone names; the server checks them again.
      const known = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
      if (known.length && !known.includes(zoneName) && zoneName !== "UTC") {
        showProblem(status, t("timeZoneUnknown", { value: zoneName }));
        return;
      }
      try {
        await api("PUT", "/api/v1/tenant/privacy", {
          ...settings,
          retention_days: Number(valueOf(retention)),
          register_retention_days: Number(valueOf(register)),
          controller_contact: valueOf(contact) || undefined,
          processors: (processors as HTMLTextAreaElement).value.split("\n").map((line) => line.trim()).filter(Boolean),
          time_zone: zoneName,
        });
        showNote(status, t("saved"));
      } catch (error) {
        showError(status, error);
      }
    }),
  );
}
