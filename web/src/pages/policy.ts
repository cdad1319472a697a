// The tenant policy for admins: domains, rule severities and thresholds, tracking, the
// disclosure with a live preview in both languages, and the simulator, which runs the
// policy in this form over the tenant's recent registered mail before it is saved.

import { api, get } from "../api";
import { loadCore } from "../core";
import { fill, h, valueOf } from "../dom";
import { has, Key, t } from "../i18n";
import type { Page } from "../main";
import { button, lines, showError, showNote, showProblem, table, textArea, textField } from "../ui";
import { simulatorSection } from "./simulator";

export interface Policy {
  internal_domains?: string[];
  trusted_domains?: string[];
  blocked_domains?: string[];
  freemail_domains?: string[];
  severities?: Record<string, string>;
  thresholds?: Record<string, number>;
  tracking?: { scope?: string; exclude_domains?: string[] };
  disclosure?: { organization?: string; dpo_contact?: string; text?: { nl?: string; en?: string } };
  [other: string]: unknown;
}

export const RULES = [
  "blocked-domain", "lookalike-domain", "similar-contact", "mixed-organizations", "new-recipient",
  "personal-address", "visible-recipients", "attachment-mismatch", "sensitive-content",
];

/** Each threshold with the range the core accepts (leakwatch_core::Thresholds::check). */
const THRESHOLDS: [string, number, number, boolean][] = [
  ["visible_recipients", 2, 10_000, true],
  ["visible_group_share", 0, 1, false],
  ["lookalike_max_distance", 0, 5, true],
  ["lookalike_min_length", 1, 63, true],
  ["similar_local_max_distance", 0, 5, true],
  ["established_messages", 1, 1_000, true],
  ["mixed_organizations_max", 2, 1_000, true],
  ["min_history", 0, 100_000, true],
];

const SCOPES: [string, Key][] = [["off", "scopeOff"], ["at_risk", "scopeAtRisk"], ["external_personal_data", "scopeExternalPersonal"], ["all_external", "scopeAllExternal"]];
const SEVERITIES: [string, Key][] = [["", "sevDefault"], ["off", "sevOff"], ["info", "sevInfo"], ["warn", "sevWarn"], ["block", "sevBlock"]];

export function ruleName(id: string): string {
  const key = `rule_${id.replace(/-/g, "_")}`;
  return has(key) ? t(key) : id;
}

const DOMAIN = /^\.?([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

function select(id: string, label: string, options: [string, Key][], current: string): HTMLElement {
  return h("label", { class: "field" }, h("span", {}, label),
    h("fluent-select", { id, "aria-label": label }, ...options.map(([value, key]) => h("fluent-option", { value, selected: value === current }, t(key)))));
}

/** The form's policy, or the first problem in words. Unknown fields of the saved policy are kept. */
function readForm(form: HTMLElement, saved: Policy): { policy?: Policy; problem?: string } {
  const domains = (id: string, allowDot = false) => {
    const list = lines((form.querySelector(`#${id}`) as HTMLTextAreaElement).value.toLowerCase());
    const bad = list.find((d) => !DOMAIN.test(d) || (!allowDot && d.startsWith(".")));
    return { list, bad };
  };
  const policy: Policy = structuredClone(saved);
  for (const [field, id] of [["internal_domains", "internal-domains"], ["trusted_domains", "trusted-domains"], ["blocked_domains", "blocked-domains"], ["freemail_domains", "freemail-domains"]] as const) {
    const { list, bad } = domains(id);
    if (bad) return { problem: t("invalidDomain", { value: bad }) };
    policy[field] = list;
  }
  policy.severities = {};
  for (const rule of RULES) {
    const value = valueOf(form.querySelector(`#severity-${rule}`));
    if (value) policy.severities[rule] = value;
  }
  policy.thresholds = { ...(saved.thresholds ?? {}) };
  for (const [name, min, max, integer] of THRESHOLDS) {
    const text = valueOf(form.querySelector(`#threshold-${name}`));
    if (text === "") {
      delete policy.thresholds[name];
      continue;
    }
    const value = Number(text.replace(",", "."));
    if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      return { problem: t("invalidNumber", { field: t(`th_${name}` as Key), min, max }) };
    }
    policy.thresholds[name] = value;
  }
  const exclude = domains("exclude-domains", true);
  if (exclude.bad) return { problem: t("invalidDomain", { value: exclude.bad }) };
  policy.tracking = { ...(saved.tracking ?? {}), scope: valueOf(form.querySelector("#tracking-scope")) || "off", exclude_domains: exclude.list };
  const text = (id: string) => (form.querySelector(`#${id}`) as HTMLTextAreaElement).value.trim();
  const disclosure: NonNullable<Policy["disclosure"]> = {};
  const organization = valueOf(form.querySelector("#organization"));
  const dpo = valueOf(form.querySelector("#dpo-contact"));
  if (organization) disclosure.organization = organization;
  if (dpo) disclosure.dpo_contact = dpo;
  const nl = text("text-nl");
  const en = text("text-en");
  if (nl || en) disclosure.text = { ...(nl ? { nl } : {}), ...(en ? { en } : {}) };
  policy.disclosure = disclosure;
  return { policy };
}

export async function renderPolicy({ main }: Page): Promise<void> {
  const saved = await get<Policy>("/api/v1/tenant/policy");
  const status = h("div", { id: "policy-status", "aria-live": "polite" });
  const previewNl = h("div", { id: "preview-nl", class: "preview" });
  const previewEn = h("div", { id: "preview-en", class: "preview" });
  const form = h("form", { id: "policy-form", class: "stack", novalidate: true },
    h("h2", {}, t("domainsTitle")),
    textArea("internal-domains", "internalDomains", (saved.internal_domains ?? []).join("\n")),
    textArea("trusted-domains", "trustedDomains", (saved.trusted_domains ?? []).join("\n")),
    textArea("blocked-domains", "blockedDomains", (saved.blocked_domains ?? []).join("\n")),
    textArea("freemail-domains", "freemailDomains", (saved.freemail_domains ?? []).join("\n")),
    h("h2", {}, t("rulesTitle")),
    table(t("rulesTitle"), [t("rule"), t("severity")], RULES.map((rule) => [
      ruleName(rule),
      h("fluent-select", { id: `severity-${rule}`, "aria-label": `${t("severity")}: ${ruleName(rule)}` },
        ...SEVERITIES.map(([value, key]) => h("fluent-option", { value, selected: (saved.severities?.[rule] ?? "") === value }, t(key)))),
    ])),
    h("h2", {}, t("thresholdsTitle")),
    h("div", { class: "grid" }, ...THRESHOLDS.map(([name, min, max]) =>
      textField(`threshold-${name}`, `th_${name}` as Key, saved.thresholds?.[name] === undefined ? "" : String(saved.thresholds[name]), { type: "number", min: String(min), max: String(max), step: name === "visible_group_share" ? "0.05" : "1" }))),
    h("h2", {}, t("trackingTitle")),
    select("tracking-scope", t("trackingScope"), SCOPES, saved.tracking?.scope ?? "off"),
    textArea("exclude-domains", "excludeDomains", (saved.tracking?.exclude_domains ?? []).join("\n")),
    h("h2", {}, t("disclosureTitle")),
    textField("organization", "organization", saved.disclosure?.organization ?? "", { maxlength: "100" }),
    textField("dpo-contact", "dpoContact", saved.disclosure?.dpo_contact ?? "", { maxlength: "200" }),
    textArea("text-nl", "textNl", saved.disclosure?.text?.nl ?? "", 3),
    textArea("text-en", "textEn", saved.disclosure?.text?.en ?? "", 3),
    h("section", { "aria-labelledby": "preview-title" },
      h("h3", { id: "preview-title" }, t("previewTitle")),
      h("div", { class: "previews" }, h("div", {}, h("h4", {}, t("previewNl")), previewNl), h("div", {}, h("h4", {}, t("previewEn")), previewEn)),
    ),
  );
  const current = () => readForm(form, saved);
  const preview = async () => {
    const { policy, problem } = current();
    if (!policy) {
      fill(previewNl, h("p", { class: "error" }, t("previewInvalid", { detail: problem ?? "" })));
      fill(previewEn);
      return;
    }
    try {
      const core = await loadCore();
      const checker = new core.Checker({ policy: policy as never });
      try {
        for (const [target, lang] of [[previewNl, "nl"], [previewEn, "en"]] as const) {
          const rendered = checker.disclosure({ info_url: `${location.origin}/i/example`, lang });
          // The core escapes what it puts in; the frame is sandboxed all the same.
          fill(target, h("iframe", { sandbox: "", title: `${t("previewTitle")}: ${lang === "nl" ? t("previewNl") : t("previewEn")}`, srcdoc: rendered.html, class: "preview-frame" }), h("p", { class: "preview-text" }, rendered.text));
        }
      } finally {
        checker.free();
      }
    } catch (error) {
      fill(previewNl, h("p", { class: "error" }, t("previewInvalid", { detail: String((error as Error).message ?? error) })));
      fill(previewEn);
    }
  };
  let pending: ReturnType<typeof setTimeout> | undefined;
  form.addEventListener("input", () => {
    clearTimeout(pending);
    pending = setTimeout(() => void preview(), 250);
  });
  form.addEventListener("change", () => void preview());
  const save = button("policy-save", "save", async () => {
    const { policy, problem } = current();
    if (!policy) {
      showProblem(status, problem ?? "");
      return;
    }
    try {
      Object.assign(saved, await api<Policy>("PUT", "/api/v1/tenant/policy", policy));
      showNote(status, t("policySaved"));
    } catch (error) {
      showError(status, error);
    }
  });
  fill(main,
    h("h1", {}, t("policyTitle")),
    h("p", { class: "muted" }, t("policyIntro")),
    form,
    h("div", { class: "row sticky-actions" }, save),
    status,
    simulatorSection(saved, () => current().policy ?? null),
  );
  void preview();
}
