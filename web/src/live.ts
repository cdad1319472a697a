// Alerts as they happen: the server's event stream over the session cookie (EventSource
// sends it by itself). Each alert is announced in the page's live region and handed to
// whatever page listens (the alerts page lists them).

import { h } from "./dom";
import { lang, t } from "./i18n";

export interface Alert {
  seq: number;
  id: string;
  kind: string;
  severity: string;
  incident_id: string;
  message_id: string;
  /** In the sender's language. */
  title: string;
  body: string;
  /** Both languages; absent on alerts raised before the server kept both. */
  texts?: { en: AlertText; nl: AlertText };
  evidence_status: string;
  deadline_at: number;
  created_at: number;
}

export interface AlertText {
  title: string;
  body: string;
}

/** The alert's title and body in the reader's language, where the server has it. */
export function alertText(alert: Alert): AlertText {
  return alert.texts?.[lang()] ?? { title: alert.title, body: alert.body };
}

export const ALERT = "leakwatch:alert";
export const STREAM_STATE = "leakwatch:stream";

let source: EventSource | null = null;

export function streamOpen(): boolean {
  return source?.readyState === EventSource.OPEN;
}

export function startLiveAlerts(): void {
  stopLiveAlerts();
  source = new EventSource("/api/v1/alerts/stream");
  source.addEventListener("alert", (event) => {
    const alert = JSON.parse((event as MessageEvent).data) as Alert;
    const region = document.getElementById("live-region");
    region?.prepend(h("div", { class: "toast" }, h("a", { href: `#/incident/${encodeURIComponent(alert.incident_id)}` }, t("alertNew", { text: alertText(alert).title }))));
    while (region && region.childElementCount > 3) region.lastElementChild?.remove();
    window.dispatchEvent(new CustomEvent(ALERT, { detail: alert }));
  });
  source.addEventListener("open", () => window.dispatchEvent(new Event(STREAM_STATE)));
  source.addEventListener("error", () => window.dispatchEvent(new Event(STREAM_STATE)));
}

export function stopLiveAlerts(): void {
  source?.close();
  source = null;
}
