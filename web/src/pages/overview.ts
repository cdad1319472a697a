// Charts for privacy officers and admins: warnings shown and sent anyway per rule per week,
// incidents per month, and hours from report to decision. Chart.js draws; each chart has a
// table of the same figures for screen readers.

import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from "chart.js";
import { get } from "../api";
import { fill, h } from "../dom";
import { formatDate, lang, t, timeZone } from "../i18n";
import type { Page } from "../main";
import { table } from "../ui";
import { ruleName } from "./policy";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

interface Stats {
  warnings: { week_start: number; rule: string; shown: number; overridden: number }[];
  incidents: { reported_at: number; decided_at?: number | null }[];
}

/** Incidents per month of the tenant's calendar, oldest first, months without any included. */
export function perMonth(incidents: Stats["incidents"], zone: string): { month: string; incidents: number }[] {
  const key = (at: number) => {
    const parts = new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", timeZone: zone }).formatToParts(new Date(at));
    return `${parts.find((p) => p.type === "year")!.value}-${parts.find((p) => p.type === "month")!.value}`;
  };
  const counts = new Map<string, number>();
  for (const incident of incidents) counts.set(key(incident.reported_at), (counts.get(key(incident.reported_at)) ?? 0) + 1);
  const months = [...counts.keys()].sort();
  if (!months.length) return [];
  const out: { month: string; incidents: number }[] = [];
  let [year, month] = months[0].split("-").map(Number);
  const last = months[months.length - 1];
  for (;;) {
    const name = `${year}-${String(month).padStart(2, "0")}`;
    out.push({ month: name, incidents: counts.get(name) ?? 0 });
    if (name >= last) return out;
    month = month === 12 ? 1 : month + 1;
    if (month === 1) year++;
  }
}

const COLOURS = ["#0f6cbd", "#c50f1f", "#107c10", "#8764b8", "#ca5010", "#038387", "#986f0b", "#5c2e91", "#4f6bed"];

function chart(id: string, title: string, build: (canvas: HTMLCanvasElement) => void, fallback: HTMLElement): HTMLElement {
  const canvas = h("canvas", { id, role: "img", "aria-label": title });
  const figure = h("figure", { class: "chart" }, h("figcaption", {}, title), h("div", { class: "chart-box" }, canvas), h("details", {}, h("summary", {}, title), fallback));
  requestAnimationFrame(() => build(canvas));
  return figure;
}

function monthName(month: string): string {
  const [year, m] = month.split("-").map(Number);
  return new Intl.DateTimeFormat(lang() === "nl" ? "nl-NL" : "en-GB", { month: "short", year: "numeric", timeZone: "UTC" }).format(Date.UTC(year, m - 1, 15));
}

export async function renderOverview({ main }: Page): Promise<void> {
  const stats = await get<Stats>("/api/v1/tenant/stats?weeks=12&months=12");
  const months = perMonth(stats.incidents, timeZone());
  const decided = stats.incidents.filter((i) => i.decided_at).map((i) => ({ hours: (i.decided_at! - i.reported_at) / 3_600_000 }));
  const weeks = [...new Set(stats.warnings.map((w) => w.week_start))].sort((a, b) => a - b);
  const rules = [...new Set(stats.warnings.map((w) => w.rule))].sort();
  const figure = (rule: string, week: number, field: "shown" | "overridden") => stats.warnings.find((w) => w.rule === rule && w.week_start === week)?.[field] ?? 0;
  const parts: HTMLElement[] = [];
  if (!weeks.length && !months.length) parts.push(h("p", {}, t("noData")));
  if (weeks.length) {
    parts.push(chart("chart-warnings", t("chartWarnings"), (canvas) => new Chart(canvas, {
      type: "bar",
      data: {
        labels: weeks.map(formatDate),
        datasets: rules.flatMap((rule, i) => [
          { label: `${ruleName(rule)}: ${t("shown")}`, data: weeks.map((w) => figure(rule, w, "shown")), backgroundColor: COLOURS[i % COLOURS.length], stack: rule },
          { label: `${ruleName(rule)}: ${t("overridden")}`, data: weeks.map((w) => figure(rule, w, "overridden")), backgroundColor: `${COLOURS[i % COLOURS.length]}80`, stack: rule },
        ]),
      },
      options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    }), table(t("chartWarnings"), [t("rule"), ...weeks.map(formatDate)], rules.map((rule) => [ruleName(rule), ...weeks.map((w) => `${figure(rule, w, "shown")} / ${figure(rule, w, "overridden")}`)]))));
  }
  if (months.length) {
    parts.push(chart("chart-incidents", t("chartIncidents"), (canvas) => new Chart(canvas, {
      type: "bar",
      data: { labels: months.map((m) => monthName(m.month)), datasets: [{ label: t("incidents"), data: months.map((m) => m.incidents), backgroundColor: COLOURS[0] }] },
      options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    }), table(t("chartIncidents"), [t("chartIncidents"), t("incidents")], months.map((m) => [monthName(m.month), String(m.incidents)]))));
  }
  if (decided.length) {
    parts.push(chart("chart-decision", t("chartDecision"), (canvas) => new Chart(canvas, {
      type: "bar",
      data: { labels: decided.map((_, i) => String(i + 1)), datasets: [{ label: t("hours"), data: decided.map((d) => Math.round(d.hours * 10) / 10), backgroundColor: COLOURS[2] }] },
      options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true } } },
    }), table(t("chartDecision"), ["#", t("hours")], decided.map((d, i) => [String(i + 1), (Math.round(d.hours * 10) / 10).toLocaleString(lang())]))));
  }
  fill(main, h("h1", {}, t("overviewTitle")), ...parts);
}
