// Alerts about the reader's incidents: the ones so far, and new ones as the stream brings them.

import { get } from "../api";
import { fill, h } from "../dom";
import { formatTime, t } from "../i18n";
import { Alert, ALERT, alertText, STREAM_STATE, streamOpen } from "../live";
import type { Page } from "../main";

function alertItem(alert: Alert): HTMLElement {
  const { title, body } = alertText(alert);
  return h("li", { class: `alert severity-${alert.severity}`, "data-kind": alert.kind },
    h("a", { href: `#/incident/${encodeURIComponent(alert.incident_id)}` }, h("strong", {}, title)),
    h("p", {}, body),
    h("time", { datetime: new Date(alert.created_at).toISOString() }, formatTime(alert.created_at)),
  );
}

export async function renderAlerts({ main }: Page): Promise<void> {
  const { alerts } = await get<{ alerts: Alert[] }>("/api/v1/alerts?limit=100");
  const list = h("ul", { id: "alert-list", class: "alerts" }, ...alerts.sort((a, b) => b.seq - a.seq).map(alertItem));
  const empty = h("p", { id: "no-alerts" }, t("noAlerts"));
  const state = h("p", { id: "stream-state", class: "muted" }, streamOpen() ? t("alertsLive") : t("alertsOffline"));
  const seen = new Set(alerts.map((a) => a.id));
  const onAlert = (event: Event) => {
    if (!list.isConnected) return window.removeEventListener(ALERT, onAlert);
    const alert = (event as CustomEvent<Alert>).detail;
    if (seen.has(alert.id)) return;
    seen.add(alert.id);
    empty.remove();
    list.prepend(alertItem(alert));
  };
  const onState = () => {
    if (!state.isConnected) return window.removeEventListener(STREAM_STATE, onState);
    state.textContent = streamOpen() ? t("alertsLive") : t("alertsOffline");
  };
  window.addEventListener(ALERT, onAlert);
  window.addEventListener(STREAM_STATE, onState);
  fill(main, h("h1", {}, t("alertsTitle")), h("p", { class: "muted" }, t("alertsIntro")), state, alerts.length ? null : empty, list);
}
