// The policy simulator: the saved policy and the one in the form, each run by the WebAssembly
// core over the tenant's registered mail of the last days in the order it was sent, every
// sender with her own history built up as she sent, so both sides are judged alike.

import { get } from "../api";
import { loadCore } from "../core";
import { fill, h } from "../dom";
import { t } from "../i18n";
import { button, showError, table } from "../ui";
import type { Policy } from "./policy";
import { RULES, ruleName } from "./policy";

export interface SimulationMessage {
  sender: string;
  to: string[];
  cc: string[];
  bcc: string[];
  /** The rule ids the sender was shown at the time. */
  findings: string[];
  overridden: boolean;
  created_at: number;
}

interface SimulationInput { days: number; messages: SimulationMessage[] }

/** Rules that need the body or attachments, which leakwatch never keeps. */
const CONTENT_RULES = new Set(["sensitive-content", "attachment-mismatch"]);
export const DAYS = 30;

export interface Outcome { checked: number; warned: number; byRule: Record<string, number> }

/** Runs `policy` over the messages (oldest first); counts messages with a warning and findings per rule. */
export async function simulate(policy: Policy, messages: SimulationMessage[]): Promise<Outcome> {
  const core = await loadCore();
  const checkers = new Map<string, InstanceType<typeof core.Checker>>();
  const outcome: Outcome = { checked: 0, warned: 0, byRule: {} };
  try {
    for (const message of [...messages].sort((a, b) => a.created_at - b.created_at)) {
      let checker = checkers.get(message.sender);
      if (!checker) {
        checker = new core.Checker({ policy: policy as never });
        checkers.set(message.sender, checker);
      }
      const draft = { from: message.sender, to: message.to, cc: message.cc, bcc: message.bcc };
      let verdict;
      try {
        verdict = checker.check(draft, "en");
      } catch {
        continue; // An address the core refuses was refused at send time too.
      }
      outcome.checked++;
      if (verdict.verdict !== "send") outcome.warned++;
      for (const finding of verdict.findings) outcome.byRule[finding.rule] = (outcome.byRule[finding.rule] ?? 0) + 1;
      checker.addSent({ to: message.to, cc: message.cc, bcc: message.bcc, sent_at: new Date(message.created_at).toISOString() });
    }
  } finally {
    for (const checker of checkers.values()) checker.free();
  }
  return outcome;
}

export function simulatorSection(saved: Policy, proposed: () => Policy | null): HTMLElement {
  const result = h("div", { id: "simulation", "aria-live": "polite" });
  const run = button("simulate", "simRun", async () => {
    const policy = proposed();
    if (!policy) return;
    try {
      const input = await get<SimulationInput>(`/api/v1/tenant/simulation?days=${DAYS}`);
      if (!input.messages.length) {
        fill(result, h("p", {}, t("simNone")));
        return;
      }
      fill(result, h("p", {}, t("simRunning", { n: input.messages.length })));
      const [now, next] = [await simulate(saved, input.messages), await simulate(policy, input.messages)];
      const rows = RULES.map((rule) => [
        ruleName(rule),
        CONTENT_RULES.has(rule) ? "—" : String(now.byRule[rule] ?? 0),
        CONTENT_RULES.has(rule) ? "—" : String(next.byRule[rule] ?? 0),
      ]);
      fill(result,
        h("p", { id: "simulation-summary" }, t("simResult", { n: next.checked, warned: next.warned, current: now.warned })),
        table(t("simTitle"), [t("simRule"), t("simNow"), t("simProposed")], rows),
        h("p", { class: "muted" }, t("simBodyNote")),
      );
    } catch (error) {
      showError(result, error);
    }
  }, "outline");
  return h("section", { "aria-labelledby": "simulator-title", class: "stack" },
    h("h2", { id: "simulator-title" }, t("simTitle")),
    h("p", { class: "muted" }, t("simIntro", { days: DAYS })),
    run,
    result,
  );
}
