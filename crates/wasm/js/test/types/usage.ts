// Compiled with `tsc --noEmit --strict` by api.test.mjs against the generated
// leakwatch_wasm.d.ts: what an add-in writes must type-check, and each `@ts-expect-error`
// line must really be an error (tsc fails on an unused one), so wrong or missing
// declarations fail the test.
import { Checker, checkDraft } from "../../../../../dist/wasm/web/leakwatch_wasm.js";
import type { Draft, Policy, Verdict, RenderedDisclosure, Finding } from "../../../../../dist/wasm/web/leakwatch_wasm.js";

const policy: Policy = {
  internal_domains: ["boekhoudpartners.nl"],
  severities: { "new-recipient": "off", "blocked-domain": "block" },
  thresholds: { visible_recipients: 8, visible_group_share: 0.5 },
  tracking: { scope: "at_risk", exclude_domains: [".de"] },
  disclosure: { organization: "Boekhoudpartners", text: { nl: "Zie {info_url}" } },
};
const checker = new Checker({ policy, history: [{ to: ["a@b.nl"], sent_at: "2026-11-30T10:00:00Z" }] });
const verdict: Verdict = checker.check(
  { from: "anna@boekhoudpartners.nl", to: ["Jan <jan@klant.nl>", { address: "x@y.nl", name: "X" }], attachments: [{ name: "a.pdf", size: 10 }] },
  "nl",
);
const first: Finding | undefined = verdict.findings[0];
const outcome: "send" | "warn" | "block" = verdict.verdict;
const kinds: string[] = verdict.sensitive.map((s) => s.kind);
checker.addSent({ to: ["a@b.nl"], cc: [], subject: "Hallo" });
const rendered: RenderedDisclosure = checker.disclosure({ info_url: "https://lw.example/i/1", pixel_url: "https://lw.example/p/t", lang: "en" });
const tracked: boolean = rendered.tracked;
const draft: Draft = { from: "a@b.nl", to: ["c@d.nl"], policy, history: [], contacts: [{ address: "c@d.nl" }] };
const oneShot: Verdict = checkDraft(draft, "en");
void [first, outcome, kinds, tracked, oneShot];

// @ts-expect-error a severity is one of off/info/warn/block
const loud: Policy = { severities: { "new-recipient": "loud" } };
// @ts-expect-error the tracking scope is a fixed set
const everything: Policy = { tracking: { scope: "everything" } };
// @ts-expect-error a Draft needs its sender
const anonymous: Draft = { to: ["c@d.nl"] };
// @ts-expect-error the language is en or nl
checker.disclosure({ info_url: "https://lw.example/i/1", lang: "de" });
// @ts-expect-error a verdict's findings carry a rule id
const noRule: Finding = { severity: "warn", recipients: [], message: "" };
void [loud, everything, anonymous, noRule];
