// The shipped handler in headless Chromium, with WebAssembly and with it deleted (the wasm2js
// fallback): the core gives the native `leakwatch check` Verdicts on every scenario, and the
// handler's decision at send follows the native verdict of what it knows (no address book).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { testDir } from "../build.mjs";
import { launchChromium, serveStatic } from "./support/browser.mjs";
import { nativeCheck, readScenarioJson } from "./support/load.mjs";

const scenarios = readScenarioJson("scenarios.json");
const accountant = readScenarioJson("profile-accountant.json");
let browser;
let site;

before(async () => {
  site = await serveStatic(testDir);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await site?.close();
});

/** The scenario's full draft, as crates/wasm/js/load.mjs builds it. */
function fullDraft(scenario) {
  const draft = { ...accountant };
  if (scenario.profile === "none") {
    draft.history = [];
    draft.contacts = [];
  }
  Object.assign(draft, scenario.draft);
  if (scenario.policy) draft.policy = { ...draft.policy, ...scenario.policy };
  return draft;
}

/** "Name <addr>" as Outlook hands it over: an address and a display name. */
function officeRecipient(entry) {
  if (typeof entry !== "string") return { address: entry.address, name: entry.name };
  const m = entry.match(/^\s*(.*?)\s*<([^>]+)>\s*$/);
  if (!m) return { address: entry.trim() };
  return { address: m[2].trim(), name: m[1].replace(/^"|"$/g, "") || undefined };
}

/** What the handler sees of a scenario: the draft through Outlook, no contacts. */
function handlerView(scenario) {
  const full = fullDraft(scenario);
  const list = (field) => (full[field] ?? []).map(officeRecipient);
  const from = officeRecipient(full.from).address;
  const message = { from, to: list("to"), cc: list("cc"), bcc: list("bcc"), subject: full.subject ?? "", body: full.body ?? "", attachments: full.attachments ?? [] };
  const asCore = (r) => (r.name && r.name !== r.address ? { address: r.address, name: r.name } : { address: r.address });
  const coreDraft = { ...message, to: message.to.map(asCore), cc: message.cc.map(asCore), bcc: message.bcc.map(asCore), policy: full.policy, history: full.history, contacts: [] };
  return { message, policy: full.policy, history: full.history, coreDraft };
}

for (const engine of ["webassembly", "wasm2js"]) {
  test(`Chromium, ${engine}: the core in the shipped handler gives the native verdicts`, async () => {
    const page = await browser.context.newPage();
    await page.goto(`${site.url}/harness.html${engine === "wasm2js" ? "?nowasm" : ""}`);
    const drafts = scenarios.map(fullDraft);
    const got = await page.evaluate((all) => {
      const api = leakwatchInit();
      const out = { engine: api.engine, wasmPresent: typeof WebAssembly !== "undefined", verdicts: [] };
      for (const draft of all) for (const lang of ["en", "nl"]) out.verdicts.push(api.checkDraft(draft, lang));
      return out;
    }, drafts);
    assert.equal(got.engine, engine);
    assert.equal(got.wasmPresent, engine === "webassembly");
    let i = 0;
    for (const scenario of scenarios) {
      for (const lang of ["en", "nl"]) {
        assert.deepStrictEqual(got.verdicts[i++], nativeCheck(fullDraft(scenario), lang), `${scenario.name}, ${lang}`);
      }
    }
    await page.close();
  });

  test(`Chromium, ${engine}: OnMessageSend decides as the native check of what Outlook shows`, async () => {
    const page = await browser.context.newPage();
    await page.goto(`${site.url}/harness.html${engine === "wasm2js" ? "?nowasm" : ""}`);
    const cases = scenarios.map((s) => ({ name: s.name, ...handlerView(s) }));
    const decisions = await page.evaluate(async (all) => {
      const handlers = window.host.handlers;
      const out = [];
      for (const c of all) {
        const h = createOfficeHost({
          draft: { from: c.message.from, to: c.message.to, cc: c.message.cc, bcc: c.message.bcc, subject: c.message.subject, body: c.message.body, attachments: c.message.attachments },
          roaming: { "leakwatch.policy": { value: c.policy, at: Date.now() } },
        });
        window.Office = h.Office;
        localStorage.setItem("leakwatch.history", JSON.stringify({ fromFolders: c.history, local: [], builtAt: 1, folders: 1, headers: 1, complete: true }));
        out.push(await new Promise((resolve) => handlers.onMessageSendHandler({ completed: resolve })));
      }
      return { engine: leakwatch.engine, out };
    }, cases);
    assert.equal(decisions.engine, engine);
    cases.forEach((c, i) => {
      const native = nativeCheck(c.coreDraft, "en");
      const decision = decisions.out[i];
      if (native.verdict === "send") {
        assert.deepEqual(decision, { allowEvent: true }, c.name);
      } else {
        assert.equal(decision.allowEvent, false, c.name);
        assert.equal(decision.sendModeOverride, native.verdict === "warn" ? "promptUser" : undefined, c.name);
        const shown = native.findings.filter((f) => f.severity !== "info");
        assert.ok(decision.errorMessage.includes(shown[0].message.slice(0, 60)), `${c.name}: ${decision.errorMessage}`);
      }
    });
    const verdicts = cases.map((c) => nativeCheck(c.coreDraft, "en").verdict);
    assert.ok(verdicts.includes("send") && verdicts.includes("warn") && verdicts.includes("block"), "all three verdicts covered");
    await page.close();
  });
}
