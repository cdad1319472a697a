// The same scenario fixtures through native `leakwatch check`, the wasm package and the
// wasm2js fallback must give identical Verdicts, in both languages.

import { test } from "node:test";
import assert from "node:assert/strict";
import { fullDraft, loadFallback, loadWeb, nativeCheck, plain, readJson, readProfiles } from "../load.mjs";

const scenarios = readJson("scenarios.json");
const profiles = readProfiles();
const web = await loadWeb();
const fallbackJs = loadFallback({ withoutWebAssembly: true });
const fallbackWasm = loadFallback({ withoutWebAssembly: false });

test("the fallback picks its engine", () => {
  assert.equal(fallbackJs.engine, "wasm2js");
  assert.equal(fallbackWasm.engine, "webassembly");
});

for (const scenario of scenarios) {
  test(`parity: ${scenario.name}`, () => {
    const draft = fullDraft(scenario, profiles);
    for (const lang of ["en", "nl"]) {
      const native = nativeCheck(draft, lang);
      assert.equal(native.verdict, scenario.expect.verdict, "the fixture's expectation holds natively");
      assert.deepStrictEqual(plain(web.checkDraft(draft, lang)), native, `wasm, ${lang}`);
      assert.deepStrictEqual(plain(fallbackJs.checkDraft(draft, lang)), native, `wasm2js, ${lang}`);
      assert.deepStrictEqual(plain(fallbackWasm.checkDraft(draft, lang)), native, `fallback on WebAssembly, ${lang}`);
    }
  });
}

test("a Checker built once gives the same verdicts as checkDraft", () => {
  for (const api of [web, fallbackJs]) {
    for (const [name, profile] of Object.entries(profiles)) {
      const checker = new api.Checker({ policy: profile.policy, history: profile.history, contacts: profile.contacts });
      for (const scenario of scenarios.filter((s) => s.profile === name && !s.policy)) {
        const draft = fullDraft(scenario, profiles);
        const message = { ...scenario.draft, from: scenario.draft.from ?? profile.from };
        assert.deepStrictEqual(plain(checker.check(message, "en")), plain(api.checkDraft(draft, "en")), scenario.name);
      }
      checker.free();
    }
  }
});
