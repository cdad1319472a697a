// Incidents. A sender sees her own; a privacy officer or admin the tenant's breach register
// (filter, CSV export, print) and, per incident, the evidence in plain words, the 72-hour
// countdown in the tenant's time, the decision with its reason and the notification draft.

import { api, get, Me } from "../api";
import { fill, h, valueOf } from "../dom";
import { formatTime, has, Key, lang, t } from "../i18n";
import type { Page } from "../main";
import { button, isOfficer, showError, showNote, showProblem, table, textArea, textField } from "../ui";

interface ClassEvidence { class: string; hits: number; first_at: number; last_at: number; distinct_clients: number }
interface Evidence { hits_total: number; by_class: ClassEvidence[]; status: string; distinct_clients: number; possible_forwarding: boolean }
export interface IncidentView {
  id: string;
  message_id: string;
  subject: string;
  sent_at: number;
  tracked: boolean;
  wrong_recipients: string[];
  description: string;
  reporter: string;
  aware_at: number;
  deadline_at: number;
  created_at: number;
  status: string;
  decision?: "notify" | "no_notify" | null;
  decision_reason?: string | null;
  decided_at?: number | null;
  decided_by?: string | null;
  notified_at?: number | null;
  authority_reference?: string | null;
  evidence: Evidence;
}

const STATUSES: Record<string, Key> = { open: "statusOpen", to_notify: "statusToNotify", notified: "statusNotified", not_notified: "statusNotNotified" };

export function statusText(status: string): string {
  return t(STATUSES[status] ?? "statusOpen");
}

function evidenceText(evidence: Evidence): string {
  const byStatus: Record<string, Key> = {
    opened_in_mail_client: "evOpened",
    fetched_by_proxy_only: "evProxyOnly",
    only_scanned: "evScannedOnly",
    not_opened: "evNotOpened",
    not_tracked: "evNotTracked",
  };
  return t(byStatus[evidence.status] ?? "evNotTracked");
}

function className(name: string): string {
  const key = `class_${name}`;
  return has(key) ? t(key) : t("classUnknown");
}

function decisionText(decision: string | null | undefined): string {
  return decision === "notify" ? t("decidedNotify") : t("decidedNoNotify");
}

/** The 72-hour countdown, in words, in the tenant's time zone. */
export function countdownText(incident: IncidentView, now = Date.now()): string {
  if (incident.decision) return t("countdownDone");
  const left = incident.deadline_at - now;
  const time = formatTime(incident.deadline_at);
  if (left <= 0) return t("countdownPast", { time });
  const minutes = Math.floor(left / 60_000);
  return t("countdownLeft", { hours: Math.floor(minutes / 60), minutes: minutes % 60, time });
}

/** CSV with a header row, quoted as RFC 4180 wants, with a BOM so spreadsheet programs read UTF-8. */
export function registerCsv(incidents: IncidentView[]): string {
  const quote = (value: unknown) => {
    const text = value === null || value === undefined ? "" : String(value);
    // A leading =, +, - or @ would be a formula in a spreadsheet.
    const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
    return `"${safe.replace(/"/g, '""')}"`;
  };
  const header = [t("subject"), t("sentAt"), t("wrongRecipients"), t("reporter"), t("awareAt"), t("deadline"), t("status"), t("decisionReason"), t("notifiedAt"), t("authorityReference"), t("evidence")];
  const rows = incidents.map((i) => [
    i.subject, formatTime(i.sent_at), i.wrong_recipients.join("; "), i.reporter, formatTime(i.aware_at), formatTime(i.deadline_at),
    statusText(i.status), i.decision_reason ?? "", i.notified_at ? formatTime(i.notified_at) : "", i.authority_reference ?? "", evidenceText(i.evidence),
  ]);
  return "\uFEFF" + [header, ...rows].map((row) => row.map(quote).join(",")).join("\r\n") + "\r\n";
}

export async function renderIncidents({ me, main }: Page): Promise<void> {
  const officer = isOfficer(me.role);
  const filterValue = new URLSearchParams(location.hash.split("?")[1] ?? "").get("status") ?? "";
  const query = filterValue ? `&status=${encodeURIComponent(filterValue)}` : "";
  const { incidents } = await get<{ incidents: IncidentView[] }>(`/api/v1/incidents?limit=200${query}`);
  const rows = incidents.map((i) => [
    h("a", { href: `#/incident/${encodeURIComponent(i.id)}` }, i.subject || t("noSubject")),
    formatTime(i.aware_at),
    officer ? i.reporter : i.wrong_recipients.join(", "),
    statusText(i.status),
    countdownText(i),
  ]);
  const list = incidents.length
    ? table(officer ? t("registerTitle") : t("incidentsTitle"), [t("subject"), t("awareAt"), officer ? t("reporter") : t("wrongRecipients"), t("status"), t("deadline")], rows)
    : h("p", {}, t("noIncidents"));
  const tools = officer ? registerTools(filterValue, incidents) : null;
  fill(main,
    h("h1", {}, officer ? t("registerTitle") : t("incidentsTitle")),
    officer ? h("p", { class: "muted" }, t("registerIntro")) : null,
    tools,
    list,
  );
}

function registerTools(current: string, incidents: IncidentView[]): HTMLElement {
  const select = h("fluent-select", { id: "status-filter", "aria-label": t("status") },
    h("fluent-option", { value: "", selected: current === "" }, t("statusAll")),
    ...Object.keys(STATUSES).map((status) => h("fluent-option", { value: status, selected: current === status }, statusText(status))),
  );
  select.addEventListener("change", () => {
    const value = (select as HTMLSelectElement).value;
    location.hash = value ? `#/incidents?status=${value}` : "#/incidents";
  });
  const exportButton = button("export-csv", "exportCsv", () => {
    const blob = new Blob([registerCsv(incidents)], { type: "text/csv;charset=utf-8" });
    const link = h("a", { href: URL.createObjectURL(blob), download: `breach-register-${new Date().toISOString().slice(0, 10)}.csv` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  }, "outline");
  return h("div", { class: "row no-print" }, h("label", { class: "inline" }, t("filter"), " ", select), exportButton, button("print-register", "print", () => window.print(), "outline"));
}

export async function renderIncident({ me, main, params }: Page): Promise<void> {
  const id = params[0] ?? "";
  const incident = await get<IncidentView>(`/api/v1/incidents/${encodeURIComponent(id)}`);
  const countdown = h("p", { id: "countdown", class: "countdown" }, countdownText(incident));
  const timer = setInterval(() => {
    if (!countdown.isConnected) clearInterval(timer);
    else countdown.textContent = countdownText(incident);
  }, 30_000);
  fill(main,
    h("h1", {}, t("incidentTitle", { subject: incident.subject || t("noSubject") })),
    h("p", { class: "status-line" }, h("strong", {}, t("status"), ": "), h("span", { id: "incident-status" }, statusText(incident.status))),
    countdown,
    h("dl", { class: "facts" },
      h("dt", {}, t("wrongRecipients")), h("dd", {}, incident.wrong_recipients.join(", ")),
      h("dt", {}, t("reporter")), h("dd", {}, incident.reporter),
      h("dt", {}, t("description")), h("dd", {}, incident.description || t("noDescription")),
    ),
    h("h2", {}, t("evidence")),
    h("p", { id: "evidence-status" }, evidenceText(incident.evidence)),
    incident.evidence.distinct_clients > 0 ? h("p", {}, t("evClients", { n: incident.evidence.distinct_clients })) : null,
    incident.evidence.possible_forwarding ? h("p", { class: "warning" }, t("evForwarding")) : null,
    h("h2", {}, t("timeline")),
    timeline(incident),
    h("h2", {}, t("decisionTitle")),
    decisionSection(me, incident, () => renderIncident({ me, main, params })),
    isOfficer(me.role) ? draftSection(incident) : null,
  );
}

function timeline(incident: IncidentView): HTMLElement {
  const events: [number, string][] = [[incident.sent_at, t("tlSent")], [incident.aware_at, t("tlAware")]];
  for (const seen of incident.evidence.by_class) {
    if (seen.class !== "self_view") events.push([seen.first_at, t("tlFirstFetch", { class: className(seen.class) })]);
  }
  if (incident.decided_at) events.push([incident.decided_at, t("tlDecided", { decision: decisionText(incident.decision) })]);
  if (incident.notified_at) events.push([incident.notified_at, t("tlNotified")]);
  events.sort((a, b) => a[0] - b[0]);
  return h("ol", { id: "timeline", class: "timeline" }, ...events.map(([at, text]) => h("li", {}, h("time", { datetime: new Date(at).toISOString() }, formatTime(at)), " ", text)));
}

function decisionSection(me: Me, incident: IncidentView, rerender: () => Promise<void>): HTMLElement {
  const done = incident.decision
    ? h("p", { id: "decided" }, t("decidedBy", { who: incident.decided_by ?? "", time: formatTime(incident.decided_at ?? 0), decision: decisionText(incident.decision) }), incident.decision_reason ? ` ${incident.decision_reason}` : "")
    : null;
  if (!isOfficer(me.role)) return h("div", {}, done, h("p", { class: "muted", id: "decision-only-officer" }, t("decisionOnlyOfficer")));
  const status = h("div", { id: "decision-status", "aria-live": "polite" });
  const choice = h("fluent-radio-group", { id: "decision", orientation: "vertical", "aria-label": t("decisionTitle") },
    h("fluent-radio", { value: "notify", checked: incident.decision === "notify" }, t("decisionNotify")),
    h("fluent-radio", { value: "no_notify", checked: incident.decision === "no_notify" }, t("decisionNoNotify")),
  );
  const reason = textArea("decision-reason", "decisionReason", incident.decision_reason ?? "", 3);
  const notifiedAt = textField("notified-at", "notifiedAt", incident.notified_at ? new Date(incident.notified_at).toISOString().slice(0, 16) : "", { type: "datetime-local" });
  const reference = textField("authority-reference", "authorityReference", incident.authority_reference ?? "");
  return h("div", { class: "stack" }, done, choice, reason, notifiedAt, reference, status,
    button("decision-save", "decisionSave", async () => {
      const decision = (choice as HTMLInputElement).value;
      const why = (reason as HTMLTextAreaElement).value.trim();
      if (decision === "no_notify" && !why) {
        showProblem(status, t("decisionNeedReason"));
        return;
      }
      const body: Record<string, unknown> = {};
      if (decision) body.decision = decision;
      if (why) body.decision_reason = why;
      const when = valueOf(notifiedAt.shadowRoot?.querySelector("input") ?? notifiedAt);
      if (when) body.notified_at = new Date(when).getTime();
      const ref = valueOf(reference);
      if (ref) body.authority_reference = ref;
      try {
        await api("PATCH", `/api/v1/incidents/${encodeURIComponent(incident.id)}`, body);
        // The page again, with the decision, who made it and the countdown stopped.
        await rerender();
        showNote(document.getElementById("decision-status") ?? status, t("saved"));
      } catch (error) {
        showError(status, error);
      }
    }),
  );
}

interface Mitigation { asked_to_delete: boolean; deletion_confirmed: boolean; recall_attempted: boolean; people_informed: boolean }
interface Draft {
  contact: { contact_name: string; contact_role: string; contact_email: string; contact_phone: string };
  notification_kind: string;
  group_description: string;
  measures_before: string;
  international: string;
  mitigation: Mitigation;
  consequences: string;
  measures: string;
}

const KINDS: [string, Key][] = [["new", "kindNew"], ["follow_up", "kindFollowUp"], ["preliminary", "kindPreliminary"]];
const STEPS: [keyof Mitigation, Key][] = [["asked_to_delete", "stepAskedToDelete"], ["deletion_confirmed", "stepDeletionConfirmed"], ["recall_attempted", "stepRecallAttempted"], ["people_informed", "stepPeopleInformed"]];

function draftSection(incident: IncidentView): HTMLElement {
  const host = h("div", { class: "stack" }, h("p", { class: "muted" }, t("loading")));
  const base = `/api/v1/incidents/${encodeURIComponent(incident.id)}/notification`;
  void (async () => {
    try {
      const draft = await get<Draft>(`${base}?lang=${lang()}`);
      const kind = h("fluent-select", { id: "draft-kind", "aria-label": t("draftKind") },
        ...KINDS.map(([value, key]) => h("fluent-option", { value, selected: draft.notification_kind === value }, t(key))));
      const name = textField("draft-contact-name", "draftContactName", draft.contact.contact_name);
      const role = textField("draft-contact-role", "draftContactRole", draft.contact.contact_role);
      const group = textArea("draft-group", "draftGroup", draft.group_description, 2);
      const before = textArea("draft-measures-before", "draftMeasuresBefore", draft.measures_before, 3);
      const international = textArea("draft-international", "draftInternational", draft.international, 2);
      const steps = STEPS.map(([field, key]) => h("fluent-checkbox", { id: `draft-${field}`, checked: draft.mitigation[field] }, t(key)));
      const email = textField("draft-contact-email", "draftContactEmail", draft.contact.contact_email, { type: "email" });
      const phone = textField("draft-contact-phone", "draftContactPhone", draft.contact.contact_phone, { type: "tel" });
      const consequences = textArea("draft-consequences", "draftConsequences", draft.consequences, 4);
      const measures = textArea("draft-measures", "draftMeasures", draft.measures, 4);
      const status = h("div", { "aria-live": "polite" });
      fill(host,
        h("p", { class: "muted" }, t("notificationIntro")),
        h("label", { class: "field" }, h("span", {}, t("draftKind")), kind),
        name, role, email, phone, group, international, before,
        h("fieldset", { id: "draft-mitigation" }, h("legend", {}, t("draftMitigation")), ...steps),
        consequences, measures, status,
        h("div", { class: "row" },
          button("draft-save", "draftSave", async () => {
            try {
              const mitigation = Object.fromEntries(STEPS.map(([field], i) => [field, (steps[i] as HTMLInputElement).checked]));
              const measuresText = (measures as HTMLTextAreaElement).value;
              const saved = await api<Draft>("PUT", `${base}?lang=${lang()}`, {
                notification_kind: (kind as HTMLSelectElement).value,
                contact_name: valueOf(name), contact_role: valueOf(role), contact_email: valueOf(email), contact_phone: valueOf(phone),
                group_description: (group as HTMLTextAreaElement).value, international: (international as HTMLTextAreaElement).value,
                measures_before: (before as HTMLTextAreaElement).value, mitigation,
                consequences: (consequences as HTMLTextAreaElement).value,
                // Left as the checklist wrote it, "measures taken" keeps following the checklist.
                ...(measuresText !== draft.measures ? { measures: measuresText } : {}),
              });
              Object.assign(draft, saved);
              (measures as HTMLTextAreaElement).value = saved.measures;
              showNote(status, t("saved"));
            } catch (error) {
              showError(status, error);
            }
          }),
          h("a", { id: "open-draft", class: "button-link", href: `${base}.html?lang=${lang()}`, target: "_blank", rel: "noopener" }, t("openDraft")),
        ),
      );
    } catch (error) {
      showError(host, error);
    }
  })();
  return h("section", { "aria-labelledby": "draft-title" }, h("h2", { id: "draft-title" }, t("notificationTitle")), host);
}
